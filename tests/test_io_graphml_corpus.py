"""Every GraphML document of NetworkX's own GraphML tests, and files NetworkX and igraph
write, read by edgenet and by NetworkX: each is read identically or refused by name.

The documents are taken at test time from the installed ``networkx`` package
(``networkx/readwrite/tests/test_graphml.py``, BSD licensed), so the corpus follows
the NetworkX release in use.
"""

from __future__ import annotations

import ast
import importlib.util
import io
import math
import re
import tempfile
from pathlib import Path
from xml.etree import ElementTree

import networkx as nx
import pytest

import edgenet as en

# The reasons edgenet may refuse a document NetworkX reads: each names a structure
# edgenet networks cannot be (undirected, parallel, nested, hyper) or bad data.
JUSTIFIED = ("undirected", "parallel edges", "nested graph", "hyperedge", "no <key> declares",
             "expected a finite number", "the root element", "more than one <graph>")


NS = "http://graphml.graphdrawing.org/xmlns"
YED = ("x", "y", "shape_type")


def networkx_documents() -> list[tuple[str, bytes]]:
    spec = importlib.util.find_spec("networkx.readwrite.tests.test_graphml")
    if spec is None or spec.origin is None:
        return []
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, (str, bytes)):
            raw = node.value if isinstance(node.value, bytes) else node.value.encode()
            if b"<graphml" in raw and b"</graphml>" in raw:
                found.append((f"test_graphml.py:{node.lineno}", raw))
    return sorted(found)


def written_documents() -> list[tuple[str, bytes]]:
    weighted = nx.DiGraph()
    weighted.add_node("x", role="input")
    weighted.add_node("y", role="output", bias=-0.25, activation="tanh")
    weighted.add_edge("x", "y", weight=0.5, label="syn")
    graphs = {
        "nx-digraph": weighted,
        "nx-int-ids": nx.gn_graph(12, seed=1),
        "nx-path": nx.path_graph(4),  # undirected
        "nx-multi": nx.MultiDiGraph([(0, 1), (0, 1)]),
        "nx-selfloop": nx.DiGraph([(0, 0), (0, 1)]),
        "nx-bool-int": nx.DiGraph([(0, 1, {"flag": True, "count": 3})]),
    }
    docs = []
    for name, G in graphs.items():
        for infer in (False, True):
            out = io.BytesIO()
            nx.write_graphml(G, out, infer_numeric_types=infer)
            docs.append((f"{name}-infer{infer}", out.getvalue()))
    try:
        import igraph
    except ImportError:
        return docs
    for name, g in {
        "igraph-directed": igraph.Graph(n=4, edges=[(0, 1), (1, 2), (0, 3)], directed=True),
        "igraph-undirected": igraph.Graph(n=3, edges=[(0, 1), (1, 2)]),
    }.items():
        g.es["weight"] = [0.5 + i for i in range(g.ecount())]
        g.vs["name"] = [f"v{i}" for i in range(g.vcount())]
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "g.graphml"
            g.write_graphml(str(path))
            docs.append((name, path.read_bytes()))
    return docs


DOCUMENTS = networkx_documents() + written_documents()


def expected(G: nx.Graph) -> tuple[dict, dict]:
    """What edgenet should read from what NetworkX read: defaults applied, edge ids and
    yEd graphics dropped, weights and biases as floats."""
    node_default = G.graph.get("node_default", {})
    edge_default = G.graph.get("edge_default", {})
    nodes = {}
    for n, d in G.nodes(data=True):
        d = {**node_default, **d}
        nodes[n] = {k: (float(v) if k == "bias" else v) for k, v in d.items()}
    edges = {}
    for u, v, d in G.edges(data=True):
        d = {**edge_default, **d}
        d.pop("id", None)
        edges[u, v] = {k: (float(x) if k == "weight" else x) for k, x in d.items()}
    return nodes, edges


def test_the_corpus_is_there():
    assert len(DOCUMENTS) >= 30, [name for name, _ in DOCUMENTS]


@pytest.mark.parametrize("name, text", DOCUMENTS, ids=[name for name, _ in DOCUMENTS])
@pytest.mark.parametrize("undirected", ["refuse", "as-written"])
def test_read_like_networkx_or_refused_by_name(name, text, undirected):
    try:
        theirs = nx.read_graphml(io.BytesIO(text), node_type=str)
    except (nx.NetworkXError, ValueError, KeyError):
        theirs = None
    try:
        ours = en.read_graphml(io.BytesIO(text), undirected=undirected)
    except en.GraphMLError as err:
        assert any(reason in str(err) for reason in JUSTIFIED), str(err)
        if undirected == "refuse" and theirs is not None and not theirs.is_directed():
            assert "undirected" in str(err)
        return
    if theirs is None:  # valid GraphML NetworkX refuses: edges each as written
        assert b" directed=" in text and undirected == "as-written", name
        root = ElementTree.fromstring(text)
        written = [(e.get("source"), e.get("target")) for e in root.iter(f"{{{NS}}}edge")]
        assert list(ours.edges()) == written
        return
    assert not theirs.is_multigraph() or theirs.number_of_edges() == len(set(theirs.edges()))
    nodes, edges = expected(theirs)
    if b"yfiles.type" in text:  # yEd graphics: NetworkX reads some, edgenet only labels
        for d in nodes.values():
            for k in YED:
                d.pop(k, None)
            if not d.get("label"):  # an empty yEd label is no label
                d.pop("label", None)
    ours_nodes = {str(n): d for n, d in ours.nodes(data=True)}
    ours_edges = {(str(u), str(v)): d for u, v, d in ours.edges(data=True)}
    if not theirs.is_directed():
        assert undirected == "as-written"
        edges = {frozenset(e): d for e, d in edges.items()}
        ours_edges = {frozenset(e): d for e, d in ours_edges.items()}
    assert list(ours_nodes) == list(nodes)
    for n, d in nodes.items():
        assert _same(ours_nodes[n], d), (n, ours_nodes[n], d)
    assert ours_edges.keys() == edges.keys()
    for e, d in edges.items():
        assert _same(ours_edges[e], d), (e, ours_edges[e], d)


def _same(ours: dict, theirs: dict) -> bool:
    if ours.keys() != theirs.keys():
        return False
    return all(ours[k] == theirs[k] or (isinstance(ours[k], float) and math.isnan(ours[k])
                                        and math.isnan(theirs[k])) for k in ours)


NESTED = [(name, text) for name, text in DOCUMENTS  # yEd files with groups
          if b"yfiles.foldertype" in text and len(re.findall(rb"<graph[\s>]", text)) > 1]


def test_the_corpus_has_yed_groups():
    assert NESTED


@pytest.mark.parametrize("name, text", NESTED, ids=[name for name, _ in NESTED])
def test_yed_groups_flatten_like_networkx_reads_them(name, text):
    """NetworkX reads a yEd group as a node and its members as nodes: with
    nested="flatten", edgenet has the same members and edges, without the group nodes,
    and each member names its group."""
    try:
        theirs = nx.read_graphml(io.BytesIO(text), node_type=str)
    except (nx.NetworkXError, ValueError, KeyError):
        pytest.skip("NetworkX refuses it")
    try:
        ours = en.read_graphml(io.BytesIO(text), nested="flatten")
    except en.GraphMLError as err:
        assert any(reason in str(err) for reason in JUSTIFIED + ("group node",)), str(err)
        return
    groups = {d["group"] for _, d in ours.nodes(data=True) if "group" in d}
    assert groups and groups <= set(theirs)
    assert set(ours) == set(theirs) - groups - {g for g in theirs if any(
        str(n).startswith(f"{g}::") for n in theirs)}
    for n, d in ours.nodes(data=True):
        if "group" in d:
            assert str(n).startswith(d["group"] + "::")
        assert d.get("label") == (theirs.nodes[n].get("label") or None)
    assert set(ours.edges) == set(theirs.edges)
