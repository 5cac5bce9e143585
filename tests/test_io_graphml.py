"""GraphML: bit-exact round trips, interoperability with NetworkX, hostile and broken files."""

from __future__ import annotations

import gzip
import io
import math
import os
import re
import time

import networkx as nx
import pytest
import torch
from dags import bits, graphml_networks
from hypothesis import given, settings
from hypothesis import strategies as st

import edgenet as en
from edgenet.io import graphml


def roundtrip(G, tmp_path, name="net.graphml", **kw):
    path = tmp_path / name
    en.write_graphml(G, path)
    return en.read_graphml(path, **kw)


@settings(max_examples=60, deadline=None)
@given(graphml_networks())
def test_round_trip_is_bit_exact(tmp_path_factory, net):
    back = roundtrip(net, tmp_path_factory.mktemp("rt"))
    assert type(back) is en.Network
    assert list(back.nodes) == list(net.nodes)
    assert [type(n) for n in back] == [type(n) for n in net]
    assert list(back.edges) == list(net.edges)
    for u, v, w in net.edges(data="weight"):
        assert bits(back.edges[u, v]["weight"]) == bits(w)
    for n, data in net.nodes(data=True):
        got = back.nodes[n]
        assert got.keys() == data.keys()
        for k, v in data.items():
            assert type(got[k]) is type(v)
            assert bits(got[k]) == bits(v) if isinstance(v, float) else got[k] == v


@settings(max_examples=25, deadline=None)
@given(graphml_networks(), st.integers(0, 2**31 - 1))
def test_written_then_read_network_compiles_to_a_bitwise_identical_function(
    tmp_path_factory, net, seed
):
    for u, v in net.edges:  # tame extreme weights so the outputs are finite numbers
        w = net.edges[u, v]["weight"]
        net.edges[u, v]["weight"] = w if abs(w) < 1e3 else 1e3 / w
    for n in net:
        b = net.nodes[n].get("bias")
        if b is not None and abs(b) >= 1e3:
            net.nodes[n]["bias"] = 1e3 / b
    back = roundtrip(net, tmp_path_factory.mktemp("fn"))
    x = torch.randn(5, len(net.inputs), generator=torch.Generator().manual_seed(seed),
                    dtype=torch.float64)
    a = en.compile(net, dtype=torch.float64, seed=1)
    b = en.compile(back, dtype=torch.float64, seed=1)
    assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
    assert torch.equal(a(x), b(x))


def test_trained_model_round_trip(tmp_path):
    net = en.Network()
    net.add_input("x0")
    net.add_input("x1")
    net.add_neuron("h", activation="tanh")
    net.add_output("y")
    net.add_edges_from([("x0", "h"), ("x1", "h"), ("h", "y"), ("x0", "y")])
    model = net.compile(dtype=torch.float64, seed=3)
    back = roundtrip(model.to_network(), tmp_path)
    x = torch.randn(4, 2, dtype=torch.float64)
    assert torch.equal(en.compile(back, dtype=torch.float64)(x), model(x))


def test_networkx_reads_what_we_write_and_we_read_what_networkx_writes(tmp_path):
    net = en.Network()
    net.add_input("a")
    net.add_neuron("h & <b>", activation="tanh", bias=-0.0, color="red", size=3, seen=True)
    net.add_output("y", bias=1e-310)
    net.add_edge("a", "h & <b>", weight=0.1, label="first")
    net.add_edge("h & <b>", "y", weight=-2.5)
    en.write_graphml(net, tmp_path / "ours.graphml")
    theirs = nx.read_graphml(tmp_path / "ours.graphml")
    assert list(theirs.edges(data="weight")) == list(net.edges(data="weight"))
    assert theirs.nodes["h & <b>"]["size"] == 3 and theirs.nodes["h & <b>"]["seen"] is True
    nx.write_graphml(net, tmp_path / "theirs.graphml")
    back = en.read_graphml(tmp_path / "theirs.graphml")
    assert list(back.edges(data="weight")) == list(net.edges(data="weight"))
    assert dict(back.nodes(data=True)) == dict(net.nodes(data=True))


def test_attribute_types_survive(tmp_path):
    G = nx.DiGraph(name="demo", version=2)
    G.add_node(0, flag=False, count=7, score=0.5, tag="t")
    G.add_node(1, count=2**62, score=3.0)
    G.add_edge(0, 1, weight=1, kind="exc", delay=2.0)
    back = roundtrip(G, tmp_path)
    assert back.graph == {"name": "demo", "version": 2}
    assert back.nodes[0] == {"flag": False, "count": 7, "score": 0.5, "tag": "t"}
    assert back.nodes[1] == {"count": 2**62, "score": 3.0}
    assert type(back.nodes[1]["count"]) is int and type(back.nodes[1]["score"]) is float
    assert back.edges[0, 1] == {"weight": 1.0, "kind": "exc", "delay": 2.0}


@pytest.mark.parametrize("domain", ["node", "edge"])
def test_an_attribute_mixing_ints_and_floats_is_refused_before_anything_is_written(tmp_path,
                                                                                   domain):
    # written as double, 2**53 + 1 would read back as 2**53 (and every int as a float)
    path = tmp_path / "net.graphml"
    path.write_bytes(b"old")
    G = nx.DiGraph([("a", "b"), ("b", "c")])
    owners = (G.nodes["a"], G.nodes["b"]) if domain == "node" else (G.edges["a", "b"],
                                                                     G.edges["b", "c"])
    owners[0]["count"], owners[1]["count"] = 2**53 + 1, 0.5
    first = "node 'a'" if domain == "node" else r"edge \('a', 'b'\)"
    second = "node 'b'" if domain == "node" else r"edge \('b', 'c'\)"
    with pytest.raises(en.GraphMLError, match=rf"{domain} attribute 'count' mixes values of "
                       rf"types double, long \(e.g. 0.5 on {second} and 9007199254740993 on "
                       rf"{first}\); GraphML gives each attribute one type .* make them all "
                       r"the same type \(all float, or all int\)"):
        en.write_graphml(G, path)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["net.graphml"]
    owners[0]["count"] = float(owners[0]["count"])  # all float: written, read as written
    back = roundtrip(G, tmp_path)
    assert list(back.nodes(data=True)) == list(G.nodes(data=True))
    assert list(back.edges(data=True)) == list(G.edges(data=True))


def test_edgenets_own_numbers_may_mix_ints_and_floats(tmp_path):
    """weight, bias and tau are always written as double: ints among floats there are
    numbers of one kind, read back as floats of the same value (the refusal above is for
    attributes edgenet does not know)."""
    G = nx.DiGraph()
    G.add_node("a", role="input")
    G.add_node("b", tau=2, bias=1)
    G.add_node("c", role="output", tau=2.5, bias=0.25)
    G.add_edge("a", "b", weight=1)
    G.add_edge("b", "c", weight=0.5)
    back = roundtrip(G, tmp_path)
    assert back.nodes["b"] == {"tau": 2.0, "bias": 1.0} and type(back.nodes["b"]["tau"]) is float
    assert back.nodes["c"] == {"role": "output", "tau": 2.5, "bias": 0.25}
    assert back.edges["a", "b"] == {"weight": 1.0} and back.edges["b", "c"] == {"weight": 0.5}


@pytest.mark.parametrize("name", ["node_default", "edge_default"])
def test_a_graph_attribute_named_as_networkx_bookkeeping_is_written(tmp_path, name):
    G = nx.DiGraph([("a", "b")], **{name: "mine"})
    assert roundtrip(G, tmp_path).graph == {name: "mine"}
    assert nx.read_graphml(tmp_path / "net.graphml").graph[name] == "mine"


def test_string_ids_with_markup_whitespace_and_unicode(tmp_path):
    ids = ["a&b", "<tag>", 'say "hi"', "tab\there", "line\nbreak", "cr\rret", " pad ", "ñ→🙂", ""]
    G = nx.DiGraph()
    G.add_nodes_from((n, {"label": n}) for n in ids)
    G.add_edges_from(zip(ids, ids[1:], strict=False))
    back = roundtrip(G, tmp_path)
    assert list(back.nodes) == ids
    assert [back.nodes[n]["label"] for n in back] == ids


def test_mixed_int_and_str_ids_keep_their_types(tmp_path):
    G = nx.DiGraph([(1, "1x"), ("a", 2)])
    back = roundtrip(G, tmp_path)
    assert list(back.nodes) == [1, "1x", "a", 2]
    assert dict(back.nodes(data=True)) == {1: {}, "1x": {}, "a": {}, 2: {}}


def test_gzip_round_trip(tmp_path):
    G = nx.DiGraph([(0, 1, {"weight": 0.25})])
    back = roundtrip(G, tmp_path, "g.graphml.gz")
    with gzip.open(tmp_path / "g.graphml.gz") as f:
        assert f.read(5) == b"<?xml"
    assert list(back.edges(data="weight")) == [(0, 1, 0.25)]


# --------------------------------------------------------------------------- foreign files

KEYS = """<graphml xmlns="http://graphml.graphdrawing.org/xmlns">
<key id="w" for="edge" attr.name="weight" attr.type="{wtype}"/>
<key id="b" for="node" attr.name="bias" attr.type="{btype}"/>
<graph edgedefault="{default}">
<node id="n0"/><node id="n1"><data key="b">{bias}</data></node>
<edge source="n0" target="n1"><data key="w">{weight}</data></edge>
</graph></graphml>"""


def foreign(tmp_path, name="f.graphml", wtype="double", btype="double", default="directed",
            bias="0", weight="1"):
    path = tmp_path / name
    path.write_text(KEYS.format(wtype=wtype, btype=btype, default=default, bias=bias,
                                weight=weight))
    return path


@pytest.mark.parametrize("wtype, weight, expected", [
    ("int", "12", 12.0), ("long", "-3", -3.0), ("string", " 2.5 ", 2.5), ("float", "1e-3", 1e-3),
    ("string", "7", 7.0),
])
def test_foreign_weights_are_converted_to_float(tmp_path, wtype, weight, expected):
    G = en.read_graphml(foreign(tmp_path, wtype=wtype, weight=weight, btype="int", bias="4"))
    w = G.edges["n0", "n1"]["weight"]
    assert type(w) is float and w == expected
    assert G.nodes["n1"]["bias"] == 4.0 and type(G.nodes["n1"]["bias"]) is float


@pytest.mark.parametrize("weight", ["strong", "nan", "inf", ""])
def test_non_numeric_weight_is_refused_naming_the_edge(tmp_path, weight):
    path = foreign(tmp_path, wtype="string", weight=weight)
    with pytest.raises(en.GraphMLError,
                       match=rf"f\.graphml, line 6, .*edge \('n0', 'n1'\) has weight '{weight}'; "
                             "expected a finite number"):
        en.read_graphml(path)


def test_non_numeric_bias_is_refused_naming_the_node(tmp_path):
    with pytest.raises(en.GraphMLError, match=r"node 'n1' has bias 'high'; expected a finite"):
        en.read_graphml(foreign(tmp_path, btype="string", bias="high"))


def test_badly_typed_other_attribute_is_refused_naming_the_line(tmp_path):
    path = tmp_path / "t.graphml"
    path.write_text('<graphml><key id="k" for="node" attr.name="count" attr.type="int"/>'
                    '<graph edgedefault="directed"><node id="a"><data key="k">many</data></node>'
                    "</graph></graphml>")
    with pytest.raises(en.GraphMLError,
                       match=r"line 1, .*attribute 'count' has the value 'many', which is not a "
                             r"valid int"):
        en.read_graphml(path)


def test_weight_key_option_reads_another_attribute(tmp_path):
    path = tmp_path / "c.graphml"
    path.write_text('<graphml><key id="s" for="edge" attr.name="synapses" attr.type="int"/>'
                    '<graph edgedefault="directed"><edge source="1" target="2">'
                    '<data key="s">5</data></edge></graph></graphml>')
    G = en.read_graphml(path, weight="synapses", node_type=int)
    assert list(G.edges(data=True)) == [(1, 2, {"weight": 5.0})]


def test_key_defaults_and_structured_yed_data(tmp_path):
    path = tmp_path / "y.graphml"
    path.write_text(
        '<graphml xmlns:y="http://www.yworks.com/xml/graphml">'
        '<key id="w" for="edge" attr.name="weight" attr.type="double"><default>0.5</default></key>'
        '<key id="g" for="node" yfiles.type="nodegraphics"/>'
        '<graph edgedefault="directed"><node id="a"><data key="g"><y:ShapeNode>'
        "<y:Fill/></y:ShapeNode></data></node><node id=\"b\"/>"
        '<edge source="a" target="b"/></graph></graphml>')
    G = en.read_graphml(path)
    assert dict(G.nodes(data=True)) == {"a": {}, "b": {}}
    assert G.edges["a", "b"] == {"weight": 0.5}


def test_undirected_graph_is_refused_unless_asked(tmp_path):
    path = foreign(tmp_path, default="undirected")
    with pytest.raises(en.GraphMLError, match=r"line 4, .*the graph is undirected.*"
                                              r"undirected='as-written'"):
        en.read_graphml(path)
    assert list(en.read_graphml(path, undirected="as-written").edges) == [("n0", "n1")]
    assert sorted(en.read_graphml(path, undirected="both").edges) == [("n0", "n1"), ("n1", "n0")]


def test_undirected_edge_in_directed_graph_is_refused(tmp_path):
    path = tmp_path / "u.graphml"
    path.write_text('<graphml><graph edgedefault="directed">'
                    '<edge source="a" target="b" directed="false"/></graph></graphml>')
    with pytest.raises(en.GraphMLError, match=r"edge \('a', 'b'\) is undirected"):
        en.read_graphml(path)


def test_parallel_edges_refused_or_summed(tmp_path):
    path = tmp_path / "p.graphml"
    path.write_text('<graphml><key id="w" for="edge" attr.name="weight" attr.type="int"/>'
                    '<graph edgedefault="directed">'
                    '<edge source="a" target="b"><data key="w">2</data></edge>'
                    '<edge source="a" target="b"><data key="w">3</data></edge>'
                    "</graph></graphml>")
    with pytest.raises(en.GraphMLError, match=r"edge \('a', 'b'\) appears more than once"):
        en.read_graphml(path)
    assert en.read_graphml(path, parallel="sum").edges["a", "b"]["weight"] == 5.0


def test_bad_options_are_refused(tmp_path):
    path = foreign(tmp_path)
    with pytest.raises(en.GraphMLError, match="undirected='yes'; accepted"):
        en.read_graphml(path, undirected="yes")
    with pytest.raises(en.GraphMLError, match="parallel='max'; accepted"):
        en.read_graphml(path, parallel="max")


def test_node_type_conversion_failure_names_the_node(tmp_path):
    with pytest.raises(en.GraphMLError, match=r"node id 'n0' cannot be converted"):
        en.read_graphml(foreign(tmp_path), node_type=int)


# --------------------------------------------------------------------------- hostile files

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<graphml><graph edgedefault="directed"><node id="&lol9;"/></graph></graphml>"""

EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE graphml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<graphml><graph edgedefault="directed"><node id="&xxe;"/></graph></graphml>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE graphml SYSTEM "http://example.com/graphml.dtd">
<graphml><graph edgedefault="directed"><node id="a"/></graph></graphml>"""

UNDEFINED_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE graphml SYSTEM "http://example.com/graphml.dtd">
<graphml><graph edgedefault="directed"><node id="&xxe;"/></graph></graphml>"""

PARAMETER = b"""<?xml version="1.0"?>
<!DOCTYPE graphml [<!ENTITY % p SYSTEM "http://example.com/x.dtd"> %p;]>
<graphml/>"""


@pytest.mark.parametrize("content", [BILLION_LAUGHS, EXTERNAL, PARAMETER],
                         ids=["billion-laughs", "external-entity", "parameter"])
def test_hostile_files_are_refused_quickly(tmp_path, content):
    path = tmp_path / "evil.graphml"
    path.write_bytes(content)
    start = time.perf_counter()
    with pytest.raises(en.GraphMLError, match=r"evil\.graphml, line 2, .*declares a DTD or an "
                                              r"entity; refused"):
        en.read_graphml(path)
    assert time.perf_counter() - start < 2.0


def test_undeclared_entity_is_malformed(tmp_path):
    path = tmp_path / "e.graphml"
    path.write_bytes(b'<graphml><graph edgedefault="directed"><node id="&nope;"/></graph></graphml>')
    with pytest.raises(en.GraphMLError, match=r"line 1, column \d+: malformed XML: undefined "
                                              "entity"):
        en.read_graphml(path)


def big_file(tmp_path):
    G = nx.DiGraph()
    G.add_weighted_edges_from((i, i + 1, i / 7) for i in range(2000))
    path = tmp_path / "big.graphml"
    en.write_graphml(G, path)
    return path


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.99])
def test_truncated_file_names_file_and_place(tmp_path, keep):
    path = big_file(tmp_path)
    data = path.read_bytes()
    cut = tmp_path / "cut.graphml"
    cut.write_bytes(data[: int(len(data) * keep)])
    start = time.perf_counter()
    with pytest.raises(en.GraphMLError, match=r"cut\.graphml, line \d+, column \d+: malformed XML"
                                              r".*truncated"):
        en.read_graphml(cut)
    assert time.perf_counter() - start < 2.0


def test_truncated_gzip_is_refused(tmp_path):
    G = nx.DiGraph([(i, i + 1) for i in range(3000)])
    en.write_graphml(G, tmp_path / "g.graphml.gz")
    data = (tmp_path / "g.graphml.gz").read_bytes()
    (tmp_path / "cut.graphml.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(en.GraphMLError, match=r"cut\.graphml\.gz: damaged or not gzip-compressed"):
        en.read_graphml(tmp_path / "cut.graphml.gz")


@pytest.mark.parametrize("content, message", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", r"line 1, column \d+: malformed XML"),
    (b'{"nodes": [], "edges": []}', r"line 1, column 0: malformed XML: not well-formed"),
    (b"", r"line 1, column 0: malformed XML: no element found"),
    (b"<html><body>hi</body></html>", r"the root element is <html>; a GraphML file starts"),
    (b"<graphml><key for='node'/></graphml>", r"a <key> lacks its id"),
    (b"<graphml></graphml>", r"no <graph> element"),
    (b"<graphml><graph edgedefault='directed'><node/></graph></graphml>", r"a <node> lacks its id"),
    (b"<graphml><graph edgedefault='directed'><edge source='a'/></graph></graphml>", r"an <edge> lacks its source"),
    (b"<graphml><graph edgedefault='directed'><hyperedge/></graph></graphml>", r"holds a <hyperedge>"),
    (b"<graphml><graph edgedefault='directed'><node id='a'><graph/></node></graph></graphml>", r"node 'a' holds a nested"),
    (b"<graphml><graph edgedefault='sideways'/></graphml>", r"edgedefault='sideways'"),
    (b"<graphml><graph edgedefault='directed'><node id='a'/><node id='a'/></graph></graphml>",
     r"node id 'a' appears twice"),
])
def test_wrong_typed_and_broken_files(tmp_path, content, message):
    path = tmp_path / "bad.graphml"
    path.write_bytes(content)
    start = time.perf_counter()
    with pytest.raises(en.GraphMLError, match=r"bad\.graphml.*" + message):
        en.read_graphml(path)
    assert time.perf_counter() - start < 2.0


def test_missing_file_is_an_os_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        en.read_graphml(tmp_path / "absent.graphml")


# --------------------------------------------------------------------------- writing


def test_write_is_atomic_when_the_graph_fails_mid_write(tmp_path):
    path = big_file(tmp_path)
    before = path.read_bytes()
    G = nx.DiGraph()
    G.add_weighted_edges_from((i, i + 1, 0.5) for i in range(100_000))
    G.edges[99_000, 99_001]["weight"] = float("nan")  # found only after most lines are written
    with pytest.raises(en.GraphMLError, match=r"weight of edge \(99000, 99001\) is nan"):
        en.write_graphml(G, path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["big.graphml"]


def test_write_is_atomic_when_the_disk_fails(tmp_path, monkeypatch):
    path = big_file(tmp_path)
    before = path.read_bytes()

    def broken(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", broken)
    with pytest.raises(OSError, match="No space left"):
        en.write_graphml(nx.DiGraph([(0, 1)]), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["big.graphml"]


def test_write_replaces_an_existing_file_keeping_its_permissions(tmp_path):
    path = big_file(tmp_path)
    os.chmod(path, 0o640)
    en.write_graphml(nx.DiGraph([(0, 1)]), path)
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert list(en.read_graphml(path).edges) == [(0, 1)]


@pytest.mark.parametrize("graph, message", [
    (nx.Graph([(0, 1)]), r"expects a networkx.DiGraph or edgenet.Network \(got Graph\)"),
    (nx.MultiDiGraph([(0, 1)]), r"\(got MultiDiGraph\)"),
    (nx.DiGraph([((0, 1), 2)]), r"node \(0, 1\) has an id of type tuple"),
    (nx.DiGraph([(1, "1")]), r"nodes 1 and '1' would both be written with id '1'"),
    (nx.DiGraph([(True, 1)]), r"node True has an id of type bool"),
    (nx.DiGraph([("a\x00", "b")]), r"node id 'a\\x00' contains the character '\\x00'"),
    (nx.DiGraph([(0, 1, {"weight": "heavy"})]),
     r"weight of edge \(0, 1\) is 'heavy' of type str; expected a real number"),
    (nx.DiGraph([(0, 1, {"weight": float("inf")})]), r"weight of edge \(0, 1\) is inf"),
    (nx.DiGraph([(0, 1, {"tags": [1, 2]})]),
     r"attribute 'tags' of edge \(0, 1\) is \[1, 2\] of type list; GraphML attributes hold"),
    (nx.DiGraph([(0, 1, {"k": 1}), (1, 2, {"k": "x"})]),
     r"edge attribute 'k' mixes values of types long, string"),
])
def test_unwritable_graphs_are_refused(tmp_path, graph, message):
    with pytest.raises(en.GraphMLError, match=message):
        en.write_graphml(graph, tmp_path / "x.graphml")
    assert os.listdir(tmp_path) == []


def test_bias_and_role_types_are_checked(tmp_path):
    G = nx.DiGraph()
    G.add_node("h", bias="0.5")
    with pytest.raises(en.GraphMLError, match=r"bias of node 'h' is '0.5' of type str"):
        en.write_graphml(G, tmp_path / "x.graphml")
    assert os.listdir(tmp_path) == []
    G = nx.DiGraph()
    G.add_node("h", role=1)
    with pytest.raises(en.GraphMLError, match=r"node attribute 'role' must be a string"):
        graphml._attribute_types(G.nodes(data=True), "node")


def test_numpy_values_are_written_as_python_numbers(tmp_path):
    import numpy as np

    G = nx.DiGraph()
    G.add_node(np.int64(3), bias=np.float32(0.1))
    G.add_edge(np.int64(3), 4, weight=np.float64(1e-300), n=np.int32(2))
    back = roundtrip(G, tmp_path)
    assert back.nodes[3]["bias"] == float(np.float32(0.1))
    assert back.edges[3, 4] == {"weight": 1e-300, "n": 2}


def test_a_compiled_network_and_a_networkx_read_graph_can_be_written(tmp_path):
    net = en.Network()
    net.add_input("x")
    net.add_output("y")
    net.add_edge("x", "y")
    model = net.compile(dtype=torch.float64, seed=0)
    en.write_graphml(model, tmp_path / "m.graphml")
    back = en.read_graphml(tmp_path / "m.graphml")
    assert back.edges["x", "y"]["weight"] == model.weight.item()
    theirs = nx.read_graphml(tmp_path / "m.graphml")  # G.graph gains node_default/edge_default
    en.write_graphml(theirs, tmp_path / "again.graphml")
    assert en.read_graphml(tmp_path / "again.graphml").graph == {}


IGRAPH_STYLE = """\ufeff<?xml version="1.0" encoding="UTF-8"?>\r
<!-- written by another tool -->\r
<?some-instruction keep?>\r
<graphml xmlns="http://graphml.graphdrawing.org/xmlns"\r
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"\r
         xmlns:y="http://www.yworks.com/xml/graphml"\r
         xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns\r
         http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\r
  <key id="g_info" for="graph" attr.name="info" attr.type="string"/>\r
  <key id="v_name" for="node" attr.name="name" attr.type="string"/>\r
  <key id="v_somapos" for="node" attr.name="somapos" attr.type="double"/>\r
  <key id="v_gfx" for="node" yfiles.type="nodegraphics"/>\r
  <key id="e_count" for="edge" attr.name="count" attr.type="long"/>\r
  <key id="e_type" for="edge" attr.name="synapse_type" attr.type="string"/>\r
  <graph id="G" edgedefault="directed" parse.nodes="3">\r
    <desc>pharynx</desc>\r
    <data key="g_info">weight = count of synapses</data>\r
    <node id="n0"><data key="v_name">ADAL</data><data key="v_somapos">0.21</data>\r
      <data key="v_gfx"><y:ShapeNode><y:Geometry x="1" y="2"/></y:ShapeNode></data></node>\r
    <node id="n1"><data key="v_name">ADAR</data><data key="v_somapos">2.1e-1</data></node>\r
    <node id="n2"><port name="p"/><data key="v_name">ADEL</data></node>\r
    <edge id="e0" source="n0" target="n1"><data key="e_count">3</data>\r
      <data key="e_type">C</data></edge>\r
    <edge id="e1" source="n1" target="n2"><data key="e_count">1</data></edge>\r
    <edge id="e2" source="n2" target="n0"><data key="e_count">12</data></edge>\r
    <edge id="e3" source="n1" target="n2"><data key="e_count">2</data></edge>\r
  </graph>\r
</graphml>\r
"""


def test_a_foreign_connectome_file(tmp_path):
    path = tmp_path / "pharynx.graphml"
    path.write_bytes(IGRAPH_STYLE.encode("utf-8"))
    with pytest.raises(en.GraphMLError, match=r"edge \('n1', 'n2'\) appears more than once"):
        en.read_graphml(path, weight="count")
    G = en.read_graphml(path, weight="count", parallel="sum")
    assert G.graph == {"info": "weight = count of synapses"}
    assert dict(G.nodes(data=True)) == {"n0": {"name": "ADAL", "somapos": 0.21},
                                        "n1": {"name": "ADAR", "somapos": 0.21},
                                        "n2": {"name": "ADEL"}}
    assert list(G.edges(data=True)) == [("n0", "n1", {"weight": 3.0, "synapse_type": "C"}),
                                        ("n1", "n2", {"weight": 3.0}),
                                        ("n2", "n0", {"weight": 12.0})]
    dag, removed = en.break_cycles(G)
    assert removed == [("n2", "n0")]
    model = en.compile(dag, dtype=torch.float64)
    assert model.inputs == ["n0"] and model.outputs == ["n2"]
    x = torch.tensor([[2.0]], dtype=torch.float64)
    assert model(x).item() == 3.0 * 3.0 * 2.0  # identity outputs, relu hidden: 2 * 3 * 3
    latin = IGRAPH_STYLE.replace("\ufeff", "").replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
    path.write_bytes(latin.replace("ADEL", "ADÉL").encode("latin-1"))
    assert en.read_graphml(path, weight="count", parallel="sum").nodes["n2"]["name"] == "ADÉL"


def test_ids_that_collide_after_conversion_are_refused(tmp_path):
    path = tmp_path / "ids.graphml"
    path.write_text('<graphml><graph edgedefault="directed"><node id="1"/><node id="01"/>'
                    "</graph></graphml>")
    with pytest.raises(en.GraphMLError, match=r"node id '01' \(read as 1\) appears twice"):
        en.read_graphml(path, node_type=int)


# --------------------------------------------------------------------------- the fast lane


class OneWay:
    """A stream that cannot seek, so read_graphml takes the ordinary expat path."""

    def __init__(self, data: bytes):
        import io

        self.inner = io.BytesIO(data)
        self.name = "oneway"

    def read(self, n=-1):
        return self.inner.read(n)

    def seekable(self):
        return False


def same_graph(a, b):
    assert list(a.nodes(data=True)) == list(b.nodes(data=True))
    assert list(a.edges(data=True)) == list(b.edges(data=True))
    assert [type(n) for n in a] == [type(n) for n in b]
    assert a.graph == b.graph


@settings(max_examples=40, deadline=None)
@given(graphml_networks())
def test_the_fast_lane_reads_what_the_ordinary_reader_reads(tmp_path_factory, net):
    from edgenet.io import canonical

    path = tmp_path_factory.mktemp("fast") / "net.graphml"
    en.write_graphml(net, path)
    calls = []
    original = canonical.CanonicalStream.data

    def spy(self, *args):
        calls.append(1)
        return original(self, *args)

    canonical.CanonicalStream.data = spy
    try:
        fast = en.read_graphml(path)
    finally:
        canonical.CanonicalStream.data = original
    slow = en.read_graphml(OneWay(path.read_bytes()))
    same_graph(fast, slow)
    plain = all(type(n) is int or re.fullmatch(r"[A-Za-z0-9_ .-]*", n) for n in net)
    if plain:  # ids with markup or control characters take the ordinary path on purpose
        assert calls == [1]


def edited(tmp_path, old, new):
    G = nx.DiGraph()
    G.add_node("a", bias=0.5)
    G.add_weighted_edges_from([("a", "b", 0.25), ("b", "c", -1.0), ("a", "c", 2.0)])
    path = tmp_path / "g.graphml"
    en.write_graphml(G, path)
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.parametrize("old, new", [
    ('<edge source="b"', '<!-- a comment -->\n<edge source="b"'),
    ('<edge source="b" target="c">', '<edge source="b" target="c" directed="true">'),
    ('<edge source="b"', '<edge source="b" target="c"><data key="d2">9</data></edge>\n'
                         '<edge source="x"'),
    ("</data></edge>\n", "</data></edge>\r\n"),
    ('<node id="a"><data key="d1">0.5</data>',
     '<node id="a"><data key="d1">0.5\n<edge source="a" target="z"></edge>\n</data>'),
    ('source="a" target="b"', 'source="a&amp;" target="b"'),
    ("</graph>\n</graphml>\n", "</graph>\n</graphml>\n<!-- trailing -->\n"),
    ("0.25", "  0.25  "),
])
def test_unusual_layouts_fall_back_to_the_ordinary_reader(tmp_path, old, new):
    path = edited(tmp_path, old, new)
    expected = en.read_graphml(OneWay(path.read_bytes()))
    same_graph(en.read_graphml(path), expected)


@pytest.mark.parametrize("old, new, message", [
    ("0.25", "heavy", r"edge \('a', 'b'\) has weight 'heavy'"),
    ("0.25", "inf", r"edge \('a', 'b'\) has weight 'inf'"),
    ('<edge source="b"', '<edge source="b\x01"', r"malformed XML: not well-formed"),
    ("</graph>\n</graphml>\n", "</graph>\n", r"malformed XML: no element found"),
])
def test_errors_in_files_of_the_writer_layout_come_from_the_ordinary_reader(
    tmp_path, old, new, message
):
    path = edited(tmp_path, old, new)
    with pytest.raises(en.GraphMLError, match=r"g\.graphml, line \d+, column \d+: .*" + message):
        en.read_graphml(path)


def test_rename_moves_foreign_attributes_out_of_the_way(tmp_path):
    path = tmp_path / "cells.graphml"
    path.write_text(
        '<graphml><key id="r" for="node" attr.name="role" attr.type="string"/>'
        '<key id="c" for="edge" attr.name="count" attr.type="int"><default>1</default></key>'
        '<graph edgedefault="directed"><node id="a"><data key="r">S</data></node>'
        '<node id="b"><data key="r">M</data></node><edge source="a" target="b"/>'
        "</graph></graphml>")
    G = en.read_graphml(path, rename={"role": "cell_role", "count": "weight"})
    assert dict(G.nodes(data=True)) == {"a": {"cell_role": "S"}, "b": {"cell_role": "M"}}
    assert G.edges["a", "b"] == {"weight": 1.0}
    model = en.compile(G, dtype=torch.float64)
    assert model(torch.tensor([[3.0]], dtype=torch.float64)).item() == 3.0


def test_igraph_reads_what_we_write_and_we_read_what_igraph_writes(tmp_path):
    ig = pytest.importorskip("igraph")
    net = en.Network()
    net.add_input("x")
    net.add_neuron("h", activation="tanh", bias=-0.5, flag=True)
    net.add_output("y", bias=1e-300)
    net.add_edge("x", "h", weight=0.1)
    net.add_edge("h", "y", weight=-0.0)
    net.add_edge("x", "y", weight=-1.2345678901234567e300)
    en.write_graphml(net, tmp_path / "ours.graphml")
    g = ig.Graph.Read_GraphML(str(tmp_path / "ours.graphml"))
    assert g.is_directed()
    assert g.vs["id"] == ["x", "h", "y"] and g.vs["activation"] == ["", "tanh", "identity"]
    assert [bits(w) for w in g.es["weight"]] == [bits(w) for _, _, w in net.edges(data="weight")]
    g.write_graphml(str(tmp_path / "theirs.graphml"))
    back = en.read_graphml(tmp_path / "theirs.graphml")
    assert [back.nodes[n]["id"] for n in back] == ["x", "h", "y"]
    # igraph writes 15 significant digits (lossy; the largest doubles even overflow)
    assert [bits(w) for _, _, w in back.edges(data="weight")] == [
        bits(float(f"{w:.15g}")) for _, _, w in net.edges(data="weight")]


# --------------------------------------------------------------------------- structure


def _doc(body: str, keys: str = "", graph: str = 'edgedefault="directed"') -> io.BytesIO:
    return io.BytesIO(
        f'<graphml xmlns="http://graphml.graphdrawing.org/xmlns">{keys}<graph {graph}>'
        f"{body}</graph></graphml>".encode()
    )


@pytest.mark.parametrize("holder", ["<node id='a'>", "<edge source='a' target='b'>"])
@pytest.mark.parametrize("inner", ["<graph edgedefault='directed'><node id='z'/></graph>",
                                   "<node id='z'/>", "<edge source='a' target='z'/>"])
def test_structures_inside_a_node_or_edge_are_refused_by_name(holder, inner):
    end = "</node>" if holder.startswith("<node") else "</edge>"
    who = r"node 'a'" if holder.startswith("<node") else r"edge \('a', 'b'\)"
    with pytest.raises(en.GraphMLError, match=who + " holds a"):
        en.read_graphml(_doc(holder + inner + end + "<node id='c'/>"))


def test_a_second_graph_is_refused():
    text = (b'<graphml><graph edgedefault="directed"><node id="a"/></graph>'
            b'<graph edgedefault="directed"><node id="b"/></graph></graphml>')
    with pytest.raises(en.GraphMLError, match="more than one <graph>"):
        en.read_graphml(io.BytesIO(text))


@pytest.mark.parametrize("prefix", ["g", "graphml", "x1"])
def test_prefixed_graphml_reads_as_unprefixed(prefix):
    p = prefix
    text = (f'<{p}:graphml xmlns:{p}="http://graphml.graphdrawing.org/xmlns">'
            f'<{p}:key id="w" for="edge" attr.name="weight" attr.type="double"/>'
            f'<{p}:graph edgedefault="directed"><{p}:node id="a"/><{p}:node id="b"/>'
            f'<{p}:edge source="a" target="b"><{p}:data key="w">0.25</{p}:data></{p}:edge>'
            f"</{p}:graph></{p}:graphml>").encode()
    G = en.read_graphml(io.BytesIO(text))
    assert list(G.edges(data=True)) == [("a", "b", {"weight": 0.25})]
    assert list(G.edges(data=True)) == list(nx.read_graphml(io.BytesIO(text)).edges(data=True))


def test_elements_of_other_namespaces_are_skipped_with_their_content():
    body = ('<node id="a"/><y:extra xmlns:y="urn:other"><node id="ghost"/></y:extra>'
            '<node id="b"/><edge source="a" target="b"/>')
    G = en.read_graphml(_doc(body))
    assert list(G) == ["a", "b"] and list(G.edges) == [("a", "b")]


@pytest.mark.parametrize("graph", ["", 'edgedefault="undirected"'])
def test_a_graph_without_edgedefault_is_undirected(graph):
    body = '<node id="a"/><node id="b"/><edge source="a" target="b"/>'
    with pytest.raises(en.GraphMLError, match="undirected"):
        en.read_graphml(_doc(body, graph=graph))
    assert list(en.read_graphml(_doc(body, graph=graph), undirected="as-written").edges) == [
        ("a", "b")]
    assert not nx.read_graphml(_doc(body, graph=graph)).is_directed()


@pytest.mark.parametrize("graph", ["", 'edgedefault="undirected"'])
def test_undirected_parallel_pairs_are_parallel_edges(graph):
    keys = '<key id="w" for="edge" attr.name="weight" attr.type="double"/>'
    body = ('<edge source="a" target="b"><data key="w">1.5</data></edge>'
            '<edge source="b" target="a"><data key="w">2.0</data></edge>')
    for mode in ("as-written", "both"):
        with pytest.raises(en.GraphMLError, match=r"edge \('a', 'b'\) appears more than once"):
            en.read_graphml(_doc(body, keys, graph), undirected=mode)
    G = en.read_graphml(_doc(body, keys, graph), undirected="as-written", parallel="sum")
    assert list(G.edges(data="weight")) == [("a", "b", 3.5)]
    G = en.read_graphml(_doc(body, keys, graph), undirected="both", parallel="sum")
    assert sorted(G.edges(data="weight")) == [("a", "b", 3.5), ("b", "a", 3.5)]


def test_both_keeps_an_undirected_self_loop_once():
    keys = '<key id="w" for="edge" attr.name="weight" attr.type="double"/>'
    body = ('<edge source="a" target="a"><data key="w">0.5</data></edge>'
            '<edge source="a" target="b"><data key="w">1.0</data></edge>')
    G = en.read_graphml(_doc(body, keys, graph=""), undirected="both")
    assert sorted(G.edges(data="weight")) == [("a", "a", 0.5), ("a", "b", 1.0), ("b", "a", 1.0)]


@pytest.mark.parametrize("where", ["edge", "node"])
def test_undeclared_data_keys_are_refused(where):
    keys = '<key id="weight" for="edge" attr.name="weight" attr.type="double"/>'
    body = ('<node id="a"><data key="wieght">1</data></node>' if where == "node" else
            '<edge source="a" target="b"><data key="wieght">1</data></edge>')
    with pytest.raises(en.GraphMLError, match=f"a <data> element of a {where} uses key 'wieght', "
                       "which no <key> declares"):
        en.read_graphml(_doc(body, keys))
    with pytest.raises(en.GraphMLError, match="lacks its key attribute"):
        en.read_graphml(_doc(body.replace(' key="wieght"', ""), keys))


@pytest.mark.parametrize("name, domain", [("weight", "edge"), ("bias", "node"), ("weight", "all")])
@pytest.mark.parametrize("value", ["nan", "inf", "-INF", "1_0"])
def test_non_finite_number_defaults_are_refused(name, domain, value):
    keys = (f'<key id="k" for="{domain}" attr.name="{name}" attr.type="double">'
            f"<default>{value}</default></key>")
    with pytest.raises(en.GraphMLError, match=f"key 'k' (gives {name} the default|has default) "
                       f"'{value}'"):
        en.read_graphml(_doc('<node id="a"/><node id="b"/><edge source="a" target="b"/>', keys))


@pytest.mark.parametrize("value", ["1_0", "1_000.5", "0x10", "\uff11\uff12", "\u0661", "1\u00a0",
                                   "\u30001", "1.5f", "+-1", "1e", "e5", "."])
def test_numbers_python_reads_but_xml_does_not_are_refused(value):
    # float() and int() read "1_0", other scripts' digits and Unicode spaces; XML Schema does not
    keys = ('<key id="w" for="edge" attr.name="weight" attr.type="double"/>'
            '<key id="n" for="node" attr.name="count" attr.type="long"/>'
            '<key id="s" for="node" attr.name="score" attr.type="double"/>')
    shown = re.escape(repr(value))
    with pytest.raises(en.GraphMLError, match=f"has weight {shown}"):
        en.read_graphml(_doc(f'<edge source="a" target="b"><data key="w">{value}</data></edge>',
                             keys))
    for name, key in (("count", "n"), ("score", "s")):
        with pytest.raises(en.GraphMLError, match=f"'{name}' has the value {shown}"):
            en.read_graphml(_doc(f'<node id="a"><data key="{key}">{value}</data></node>', keys))
    with pytest.raises(en.GraphMLError, match=f"node id {shown} cannot be converted"):
        en.read_graphml(_doc(f'<node id="{value}"/>'), node_type=int)


def test_every_xml_schema_double_and_the_usual_infinities_are_read():
    keys = '<key id="s" for="node" attr.name="score" attr.type="double"/>'
    spellings = {"1": 1.0, " -.5 ": -0.5, "1.": 1.0, "+1.5E-3": 1.5e-3, "007": 7.0, "INF": math.inf,
                 "-INF": -math.inf, "inf": math.inf, "-Infinity": -math.inf}
    for text, value in spellings.items():
        G = en.read_graphml(_doc(f'<node id="a"><data key="s">{text}</data></node>', keys))
        assert G.nodes["a"]["score"] == value
    G = en.read_graphml(_doc('<node id="a"><data key="s">NaN</data></node>', keys))
    assert math.isnan(G.nodes["a"]["score"])


def test_the_fast_lane_refuses_weights_in_other_digits_as_the_ordinary_reader_does(tmp_path):
    path = tmp_path / "net.graphml"
    en.write_graphml(nx.DiGraph([("a", "b", {"weight": 12.0})]), path)
    text = path.read_text(encoding="utf-8")
    assert ">12.0</data>" in text  # the writer's layout: the fast lane reads it
    path.write_text(text.replace(">12.0</data>", ">\uff11\uff12</data>"), encoding="utf-8")
    with pytest.raises(en.GraphMLError, match="edge \\('a', 'b'\\) has weight '\uff11\uff12'"):
        en.read_graphml(path)


def test_write_to_and_read_from_a_binary_stream_and_bytes_paths(tmp_path):
    G = nx.DiGraph([("a", "b", {"weight": 0.5})])
    buffer = io.BytesIO()
    en.write_graphml(G, buffer)
    buffer.seek(0)
    assert list(en.read_graphml(buffer).edges(data=True)) == [("a", "b", {"weight": 0.5})]
    path = os.fsencode(tmp_path / "b.graphml")
    en.write_graphml(G, path)
    assert list(en.read_graphml(path).edges(data=True)) == [("a", "b", {"weight": 0.5})]
    with pytest.raises(en.GraphMLError, match=r"expects a path or a binary file object \(got 5"):
        en.read_graphml(5)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["NET.GRAPHML.GZ", "net.GraphML.Gz", "net.xml.gz"])
def test_gz_suffixes_are_gzip_whatever_their_case(tmp_path, name):
    G = nx.DiGraph([("a", "b", {"weight": 0.5})])
    en.write_graphml(G, tmp_path / name)
    assert (tmp_path / name).read_bytes()[:2] == b"\x1f\x8b"
    assert list(en.read_graphml(tmp_path / name).edges(data=True)) == [("a", "b", {"weight": 0.5})]


# --------------------------------------------------------------------------- bounded reading

HEAD = (b'<?xml version="1.0" encoding="utf-8"?>\n<graphml xmlns="http://graphml.graphdrawing.org/'
        b'xmlns"><key id="k" for="node" attr.name="note" attr.type="string"/>'
        b'<graph edgedefault="directed"><node id="a"/>\n')
TAIL = b'<node id="b"/><edge source="a" target="b"/></graph></graphml>\n'
LONG = {
    "comment": lambda n: b"<!--" + b"x" * n + b"-->",
    "attribute": lambda n: b'<node id="' + b"y" * n + b'"/>',
    "tag name": lambda n: b"<" + b"t" * n + b"/>",
    "data text": lambda n: b'<node id="c"><data key="k">' + b"q" * n + b"</data></node>",
    "cdata": lambda n: b'<node id="c"><data key="k"><![CDATA[' + b"q" * n + b"]]></data></node>",
    "instruction": lambda n: b"<?pi " + b"p" * n + b"?>",
}


def _write(path, body: bytes) -> None:
    if str(path).endswith(".gz"):
        with gzip.open(path, "wb", compresslevel=1) as f:
            f.write(body)
    else:
        path.write_bytes(body)


@pytest.mark.parametrize("suffix", [".graphml", ".graphml.gz"])
@pytest.mark.parametrize("kind", LONG)
def test_a_token_longer_than_the_ceiling_is_refused_and_one_within_it_read(
        tmp_path, monkeypatch, kind, suffix):
    monkeypatch.setattr(graphml, "MAX_TOKEN", 1 << 20)  # the rule, at a size tests afford
    path = tmp_path / ("long" + suffix)
    _write(path, HEAD + LONG[kind](3 << 20) + TAIL)
    with pytest.raises(en.GraphMLError, match=r"long\.graphml(\.gz)?, line \d+, column \d+: one "
                       r"XML token \(a tag, comment or value\) is longer than 1 MiB"):
        en.read_graphml(path)
    _write(path, HEAD + LONG[kind](1 << 19) + TAIL)
    assert ("a", "b") in en.read_graphml(path).edges


@pytest.mark.parametrize("filler", [b" ", b"\n", b"text "])
def test_long_text_between_elements_is_not_a_token(tmp_path, monkeypatch, filler):
    monkeypatch.setattr(graphml, "MAX_TOKEN", 1 << 20)
    path = tmp_path / "spaced.graphml"
    path.write_bytes(HEAD + filler * ((4 << 20) // len(filler)) + TAIL)
    assert ("a", "b") in en.read_graphml(path).edges


def test_the_real_ceiling_bounds_a_128_mib_comment_in_a_small_gz(tmp_path):
    path = tmp_path / "bomb.graphml.gz"
    with gzip.open(path, "wb", compresslevel=1) as f:
        f.write(HEAD + b"<!--")
        for _ in range(128):
            f.write(b"x" * (1 << 20))
        f.write(b"-->" + TAIL)
    assert path.stat().st_size < 1 << 20
    start = time.perf_counter()
    with pytest.raises(en.GraphMLError, match=r"longer than 16 MiB"):
        en.read_graphml(path)
    assert time.perf_counter() - start < 2.0


def test_a_dtd_behind_a_long_comment_is_refused_in_bounded_time(tmp_path):
    path = tmp_path / "dtd.graphml"
    path.write_bytes(b"<!--" + b"x" * (24 << 20) + b"--><!DOCTYPE g [<!ENTITY e 'f'>]>"
                     + HEAD + TAIL)
    start = time.perf_counter()
    with pytest.raises(en.GraphMLError, match=r"dtd\.graphml, line 1, column \d+: (one XML token|"
                       "the file declares a DTD)"):
        en.read_graphml(path)
    assert time.perf_counter() - start < 2.0


@pytest.mark.parametrize("encoding", ["klingon", "utf-7x", "x-unknown"])
def test_an_unknown_encoding_is_refused_naming_the_file(tmp_path, encoding):
    path = tmp_path / "enc.graphml"
    path.write_bytes(HEAD.replace(b"utf-8", encoding.encode()) + TAIL)
    with pytest.raises(en.GraphMLError, match=rf"enc\.graphml: cannot decode the file .*"
                       rf"{encoding}"):
        en.read_graphml(path)


@pytest.mark.parametrize("content", [b"no gzip here", b"\x1f\x8b\x08\x00broken", b"",
                                     b"\x1f\x8b" + b"\x00" * 40])
def test_a_damaged_gz_is_refused_naming_the_file(tmp_path, content):
    path = tmp_path / "net.graphml.gz"
    path.write_bytes(content)
    with pytest.raises(en.GraphMLError, match=r"net\.graphml\.gz(: damaged or not gzip-compressed"
                       r"|, line 1, column 0: malformed XML: no element found)"):
        en.read_graphml(path)


# --------------------------------------------------------------------------- yEd and yFiles

def test_external_dtd_reference_alone_is_accepted_and_not_fetched(tmp_path):
    # Old yFiles files name the GraphML DTD; nothing is read or expanded from it.
    path = tmp_path / "old.graphml"
    path.write_bytes(EXTERNAL_DTD)
    G = en.read_graphml(path)
    assert list(G.nodes) == ["a"]
    path.write_bytes(EXTERNAL_DTD.replace(b'"a"', b'"&lt;&#65;&amp;"'))
    assert list(en.read_graphml(path).nodes) == ["<A&"]


@pytest.mark.parametrize("where", ["attribute", "text", "split"])
def test_entities_only_an_external_dtd_could_define_are_refused(tmp_path, where):
    # expat reads an entity it cannot resolve as nothing; that must not pass silently.
    text = UNDEFINED_ENTITY
    if where == "text":
        text = text.replace(b'<node id="&xxe;"/>', b'<node id="a"><data key="k">x&xxe;</data>'
                            b"</node>").replace(b"<graph ", b'<key id="k" for="node"/><graph ')
    elif where == "split":  # the reference spans two 1 MiB blocks, with a long name
        text = text.replace(b"<graphml>", b"<graphml><!--" + b"x" * ((1 << 20) - 170) + b"-->")
        text = text.replace(b"&xxe;", b"&xxe" + b"e" * 100 + b";")
    path = tmp_path / "e.graphml"
    path.write_bytes(text)
    with pytest.raises(en.GraphMLError, match=r"e\.graphml, line 3.*entity &xxe+; which only its "
                                              r"external DTD"):
        en.read_graphml(path)


YED_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
            '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
            'xmlns:y="http://www.yworks.com/xml/graphml" '
            'xmlns:yed="http://www.yworks.com/xml/yed/3">\n'
            '<key for="node" id="d5" attr.name="description" attr.type="string"/>\n'
            '<key for="node" id="d6" yfiles.type="nodegraphics"/>\n'
            '<key for="edge" id="d10" yfiles.type="edgegraphics"/>\n'
            '<graph id="G" edgedefault="directed">\n')


def yed_node(nid, label, inner=""):
    text = ("" if label is None else
            f'<y:NodeLabel alignment="center" hasText="true">{label}<y:LabelModel>\n'
            '  <y:SmartNodeLabelModel distance="4.0"/>\n</y:LabelModel>\n'
            '<y:ModelParameter><y:SmartNodeLabelModelParameter/></y:ModelParameter>\n'
            '</y:NodeLabel>\n')
    return (f'<node id="{nid}"><data key="d6"><y:ShapeNode>\n'
            f'<y:Geometry height="30.0" width="30.0" x="0.0" y="0.0"/>\n'
            f'<y:Fill color="#FFCC00" transparent="false"/>\n{text}'
            f'<y:Shape type="rectangle"/></y:ShapeNode></data>{inner}</node>\n')


def yed_group(nid, label, body):
    labels = "".join(
        f'<y:GroupNode><y:Geometry height="80.0" width="80.0" x="0.0" y="0.0"/>'
        f'<y:NodeLabel modelName="internal" modelPosition="t">{text}</y:NodeLabel>'
        '<y:State closed="false"/></y:GroupNode>'
        for text in (label, "Folder " + label))
    return (f'<node id="{nid}" yfiles.foldertype="group">'
            f'<data key="d6"><y:ProxyAutoBoundsNode><y:Realizers active="0">{labels}'
            f'</y:Realizers></y:ProxyAutoBoundsNode></data>\n'
            f'<graph edgedefault="directed" id="{nid}:">\n{body}</graph>\n</node>\n')


def yed_edge(eid, s, t):
    return (f'<edge id="{eid}" source="{s}" target="{t}"><data key="d10"><y:PolyLineEdge>'
            '<y:Arrows source="none" target="standard"/><y:EdgeLabel>x</y:EdgeLabel>'
            '</y:PolyLineEdge></data></edge>\n')


def yed_file(tmp_path, body, name="yed.graphml"):
    path = tmp_path / name
    path.write_text(YED_HEAD + body + '</graph>\n<data key="d7"><y:Resources/></data>\n'
                    "</graphml>\n", encoding="utf-8")
    return path


def test_yed_node_labels_are_kept_exactly(tmp_path):
    path = yed_file(tmp_path, yed_node("n0", "in &amp; out \u00e9") + yed_node("n1", None)
                    + '<node id="n2"><data key="d5">seen</data>'
                    + yed_node("x", "Two\nlines ")[len('<node id="x">'):]
                    + yed_edge("e0", "n0", "n1"))
    G = en.read_graphml(path)
    assert dict(G.nodes(data=True)) == {
        "n0": {"label": "in & out \u00e9"}, "n1": {},
        "n2": {"description": "seen", "label": "Two\nlines "}}
    assert G.edges["n0", "n1"] == {}
    assert dict(en.read_graphml(path, rename={"label": "text"}).nodes(data=True))["n0"] == {
        "text": "in & out \u00e9"}


def test_a_file_label_attribute_wins_over_the_yed_label(tmp_path):
    path = yed_file(tmp_path, '<node id="n0"><data key="lab">mine</data>'
                    + yed_node("x", "yEd's")[len('<node id="x">'):])
    path.write_text(path.read_text().replace(
        '<key for="edge"', '<key for="node" id="lab" attr.name="label" attr.type="string"/>\n'
        '<key for="edge"'))
    assert en.read_graphml(path).nodes["n0"] == {"label": "mine"}


GROUPED = (yed_node("n0", "in")
           + yed_group("n1", "Hidden", yed_node("n1::n0", "h1") + yed_node("n1::n1", "h2")
                       + yed_group("n1::n2", "Deep", yed_node("n1::n2::n0", None))
                       + yed_edge("n1::e0", "n1::n0", "n1::n1")
                       + yed_edge("n1::e1", "n1::n0", "n1::n2::n0"))
           + yed_node("n2", "out")
           + yed_edge("e0", "n0", "n1::n0") + yed_edge("e1", "n1::n1", "n2")
           + yed_edge("e2", "n1::n2::n0", "n2"))


def test_yed_groups_are_refused_by_default_naming_flatten(tmp_path):
    path = yed_file(tmp_path, GROUPED)
    with pytest.raises(en.GraphMLError, match=r"node 'n1' holds a nested graph \(a yEd group.*"
                                              r'nested="flatten"'):
        en.read_graphml(path)
    with pytest.raises(en.GraphMLError, match=r"nested='deep'; accepted: 'refuse' or 'flatten'"):
        en.read_graphml(path, nested="deep")


def test_yed_groups_flatten_into_one_network_with_group_attributes(tmp_path):
    G = en.read_graphml(yed_file(tmp_path, GROUPED), nested="flatten")
    assert dict(G.nodes(data=True)) == {
        "n0": {"label": "in"},
        "n1::n0": {"label": "h1", "group": "n1", "group_label": "Hidden"},
        "n1::n1": {"label": "h2", "group": "n1", "group_label": "Hidden"},
        "n1::n2::n0": {"group": "n1::n2", "group_label": "Deep"},
        "n2": {"label": "out"}}
    assert sorted(G.edges) == [("n0", "n1::n0"), ("n1::n0", "n1::n1"), ("n1::n0", "n1::n2::n0"),
                               ("n1::n1", "n2"), ("n1::n2::n0", "n2")]
    model = en.compile(G)  # group nodes are not neurons
    assert model.inputs == ["n0"] and model.outputs == ["n2"]


def test_flatten_refuses_edges_to_group_nodes_and_clashing_group_attributes(tmp_path):
    path = yed_file(tmp_path, GROUPED + yed_edge("e3", "n0", "n1"))
    with pytest.raises(en.GraphMLError, match=r"edge \('n0', 'n1'\) ends at group node 'n1'"):
        en.read_graphml(path, nested="flatten")
    clash = GROUPED.replace('<node id="n1::n0">', '<node id="n1::n0"><data key="g">7</data>')
    path = yed_file(tmp_path, clash, "clash.graphml")
    path.write_text(path.read_text().replace(
        '<key for="edge"', '<key for="node" id="g" attr.name="group" attr.type="int"/>\n'
        '<key for="edge"'))
    with pytest.raises(en.GraphMLError, match=r"node 'n1::n0' in group 'n1' has its own "
                                              r"'group' attribute \(7\).*rename="):
        en.read_graphml(path, nested="flatten")
    assert en.read_graphml(path, nested="flatten", rename={"group": "mine"}).nodes[
        "n1::n0"]["mine"] == 7
    path = yed_file(tmp_path, GROUPED + yed_node("n1", "again"), "twice.graphml")
    with pytest.raises(en.GraphMLError, match=r"node id 'n1' appears twice \(once as a group"):
        en.read_graphml(path, nested="flatten")
