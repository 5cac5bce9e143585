"""GraphML in and out: standard files that NetworkX, igraph, Gephi and yEd read.

Neurons are ``<node>`` elements and connections ``<edge>`` elements of one directed
``<graph>``. Attributes are typed GraphML keys: ``weight`` and ``bias`` are
``double``, ``role`` and ``activation`` are ``string``; any other attribute is
written as ``boolean``, ``long``, ``double`` or ``string`` after its Python type, and
read back as that type (an attribute whose values have several types, such as ints on
some nodes and floats on others, is refused before anything is written).
Floats are written with ``repr``, which reads back to the same 64 bits, so a
written-then-read network compiles to a bitwise-identical function. The type of
the node ids (``int`` or ``str``) is recorded in the graph attribute
``edgenet.node_ids`` and restored on read.

Reading is a streaming expat parse that refuses document type declarations
(and with them entity expansion and external entities) before anything is
expanded; files in the writer's own one-element-per-line layout take a faster
lane (:mod:`edgenet.io.canonical`) to the same result. Foreign files are welcome:
integer or string weights and biases are converted to float, or refused with the
edge, the value and the line.

>>> import os, tempfile, edgenet as en
>>> net = en.Network()
>>> net.add_input(0); net.add_output(1, activation="tanh", bias=-0.0)
>>> net.add_edge(0, 1, weight=5e-324)
>>> path = os.path.join(tempfile.mkdtemp(), "net.graphml")
>>> en.write_graphml(net, path)
>>> back = en.read_graphml(path)
>>> list(back.edges(data="weight")), back.nodes[1]
([(0, 1, 5e-324)], {'role': 'output', 'activation': 'tanh', 'bias': -0.0})
"""

from __future__ import annotations

import contextlib
import gzip
import math
import numbers
import os
import re
import zlib
from collections.abc import Callable, Hashable, Mapping
from typing import IO, Any, Literal
from xml.parsers import expat

import networkx as nx
import numpy as np

from ..errors import GraphMLError
from ..graph.network import Network
from ..shell.progress import THRESHOLD, bar, progress
from .atomic import atomic_write
from .bulk import bulk_graph, paused_gc
from .canonical import HEADER as _HEADER
from .canonical import CanonicalStream

ID_TYPE = "edgenet.node_ids"
NODE_ID_TYPE = "edgenet.id_type"
FIXED = {("node", "role"): "string", ("node", "activation"): "string",
         ("node", "bias"): "double", ("node", "tau"): "double", ("edge", "weight"): "double"}
#: Graph attributes networkx.read_graphml adds, each a dict of the file's key defaults.
NX_BOOKKEEPING = ("node_default", "edge_default")
CHUNK = 1 << 16
NAMESPACE = "http://graphml.graphdrawing.org/xmlns"
#: The longest single XML token (a tag, comment, attribute value or text of one ``<data>``)
#: the reader accepts: expat rescans an unfinished token on every block it is fed, so a
#: longer one would cost time quadratic in its length (and as much memory).
MAX_TOKEN = 16 << 20
#: Elements whose content the reader skips: GraphML descriptions, ports and locators.
_SKIPPED = frozenset(("desc", "port", "locator", "endpoint"))
_INTEGER = re.compile(r"[ \t\r\n]*[+-]?[0-9]+[ \t\r\n]*")  # XML Schema's, ASCII digits
#: XML Schema's double (``1``, ``-.5``, ``1.e3``, ``INF``, ``-INF``, ``NaN``), and the
#: spellings of infinity and NaN that C and Python write (``inf``, ``-nan``, ``Infinity``).
_DOUBLE = re.compile(
    r"[ \t\r\n]*(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    r"|[+-]?(?:INF|NaN|(?i:inf|infinity|nan)))[ \t\r\n]*"
)

NEWLINE = b"\n"
#: A reference to an entity other than XML's five (character references are fine).
_ENTITY_REF = re.compile(rb"&(?!(?:amp|lt|gt|quot|apos);)([^\s&;<>#\"']+);")
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ATTR_SPECIAL = re.compile('[&<>"\r\n\t]')
_TEXT_SPECIAL = re.compile("[&<>\r\n]")  # \n too: every element stays on one line
_ATTR_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                 "\r": "&#13;", "\n": "&#10;", "\t": "&#9;"}


# --------------------------------------------------------------------------- writing


def write_graphml(G: nx.DiGraph, path: str | os.PathLike[str] | IO[bytes]) -> None:
    """Write ``G``, a directed graph of neurons (or a compiled network, with its current
    weights), to ``path`` as GraphML, atomically.

    Node ids must be ``int`` or ``str``; attribute values ``bool``, ``int``, ``float``
    or ``str`` (``None`` values are skipped). ``weight`` and ``bias`` must be finite
    real numbers. A path ending in ``.gz`` (any case) is gzip-compressed; an open binary
    stream is written uncompressed, as it is. (igraph reads these files
    but refuses subnormal numbers, below 2.2250738585072014e-308 in magnitude, and
    writes only 15 significant digits back; NetworkX keeps every bit.) The file is written
    beside ``path`` and renamed over it only when complete: a failed write leaves any
    old file untouched.

    >>> import os, tempfile, networkx as nx, edgenet as en
    >>> path = os.path.join(tempfile.mkdtemp(), "g.graphml")
    >>> en.write_graphml(nx.DiGraph([("a", "b", {"weight": 0.1})]), path)
    >>> nx.read_graphml(path).edges["a", "b"]["weight"]
    0.1
    """
    from ..model.base import as_graph

    G = as_graph(G)  # a compiled model (DAG or recurrent): its current weights
    if not isinstance(G, nx.Graph) or not G.is_directed() or G.is_multigraph():
        kind = type(G).__name__
        raise GraphMLError(
            f"write_graphml expects a networkx.DiGraph or edgenet.Network (got {kind}); "
            "orient an undirected graph first and merge parallel edges"
        )
    graph_data = {k: v for k, v in G.graph.items()  # skip NetworkX's dicts of key defaults
                  if v is not None and k != ID_TYPE
                  and not (k in NX_BOOKKEEPING and isinstance(v, dict))}
    ids, id_kind = _node_ids(G)
    keys: list[tuple[str, str, str, str]] = []  # (id, for, name, type)
    node_types = _attribute_types(G.nodes(data=True), "node")
    edge_types = _attribute_types(((u, v, d) for u, v, d in G.edges(data=True)), "edge")
    graph_types = {k: _value_type(v, f"graph attribute {k!r}") for k, v in graph_data.items()}
    graph_types[ID_TYPE] = "string"
    if id_kind == "mixed":
        node_types[NODE_ID_TYPE] = "string"
    key_of: dict[tuple[str, str], str] = {}
    for domain, types in (("graph", graph_types), ("node", node_types), ("edge", edge_types)):
        for name, typ in types.items():
            key = f"d{len(keys)}"
            key_of[domain, name] = key
            keys.append((key, domain, name, typ))

    if hasattr(path, "write"):  # an open binary stream: written as it is, not atomically
        target: Any = contextlib.nullcontext(path)
        opener: Any = _PlainWriter
    else:
        target = atomic_write(path)
        opener = _gzip_writer if os.fsdecode(path).lower().endswith(".gz") else _PlainWriter
    with target as raw, opener(raw) as out:
        write = out.write
        parts = [_HEADER]
        for key, domain, name, typ in keys:
            parts.append(
                f'<key id="{key}" for="{domain}" attr.name="{_attr(name)}" attr.type="{typ}"/>\n'
            )
        parts.append('<graph edgedefault="directed">\n')
        graph_data[ID_TYPE] = id_kind
        for name, value in graph_data.items():
            parts.append(_data(key_of["graph", name], graph_types[name], value) + "\n")
        write("".join(parts).encode())

        lines: list[str] = []
        for n, data in G.nodes(data=True):
            if data or id_kind == "mixed":
                cells = "".join(
                    _data(key_of["node", k], node_types[k], v, f"node {n!r}", k)
                    for k, v in data.items()
                    if v is not None
                )
                if id_kind == "mixed" and type(n) is not str:
                    cells += _data(key_of["node", NODE_ID_TYPE], "string", "int")
                lines.append(f'<node id="{ids[n]}">{cells}</node>\n')
            else:
                lines.append(f'<node id="{ids[n]}"/>\n')
            if len(lines) >= CHUNK:
                write("".join(lines).encode())
                lines.clear()

        wkey = key_of.get(("edge", "weight"))
        head = f'"><data key="{wkey}">'
        edge_view = G.edges(data=True)
        for u, v, data in progress(edge_view, total=len(edge_view), desc="writing GraphML",
                                   unit="edge", threshold=THRESHOLD):
            w = data.get("weight")
            if len(data) == 1 and type(w) is float and w - w == 0.0:  # finite float, the usual
                lines.append(f'<edge source="{ids[u]}" target="{ids[v]}{head}{w!r}</data></edge>\n')
            else:
                cells = "".join(
                    _data(key_of["edge", k], edge_types[k], x, f"edge ({u!r}, {v!r})", k)
                    for k, x in data.items()
                    if x is not None
                )
                lines.append(f'<edge source="{ids[u]}" target="{ids[v]}">{cells}</edge>\n')
            if len(lines) >= CHUNK:
                write("".join(lines).encode())
                lines.clear()
        lines.append("</graph>\n</graphml>\n")
        write("".join(lines).encode())


class _PlainWriter:
    def __init__(self, raw: IO[bytes]):
        self.raw = raw

    def __enter__(self) -> IO[bytes]:
        return self.raw

    def __exit__(self, *exc: object) -> None:
        pass


def _gzip_writer(raw: IO[bytes]) -> gzip.GzipFile:
    return gzip.GzipFile(fileobj=raw, mode="wb", mtime=0)


def _node_ids(G: nx.DiGraph) -> tuple[dict[Hashable, str], str]:
    ids: dict[Hashable, str] = {}
    kinds = set()
    for n in G:
        if type(n) is str:
            ids[n] = _attr(n, f"node id {n!r}")
            kinds.add("str")
        elif isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_)):
            ids[n] = str(int(n))
            kinds.add("int")
        else:
            raise GraphMLError(
                f"node {n!r} has an id of type {type(n).__name__}; GraphML stores ids as text and "
                "edgenet restores int and str ids only: relabel the nodes first "
                "(networkx.relabel_nodes(G, str))"
            )
    if len(set(ids.values())) < len(ids):
        seen: dict[str, Hashable] = {}
        for n, text in ids.items():
            if text in seen:
                raise GraphMLError(
                    f"nodes {seen[text]!r} and {n!r} would both be written with id {text!r}; "
                    "GraphML ids must be unique: relabel one of them"
                )
            seen[text] = n
    kind = kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else "str")
    return ids, kind


def _attribute_types(items: Any, domain: str) -> dict[str, str]:
    found: dict[str, dict[str, Any]] = {}  # attribute -> GraphML type -> its first item
    for item in items:
        data = item[-1]
        for k, v in data.items():
            if v is None:
                continue
            t = found.get(k)
            if t is None:
                found[k] = t = {}
            vt = type(v)
            typ = "double" if vt is float else "string" if vt is str else _value_type(
                v, f"attribute {k!r} of {_owner(item, domain)}")
            if typ not in t:
                t[typ] = item
    types: dict[str, str] = {}
    for k, first in found.items():
        seen = set(first)
        if not isinstance(k, str):
            raise GraphMLError(
                f"{domain} attribute name {k!r} is a {type(k).__name__}; GraphML attribute names "
                "are strings"
            )
        fixed = FIXED.get((domain, k))
        if fixed is not None:
            if fixed == "string" and seen != {"string"}:
                raise GraphMLError(
                    f"{domain} attribute {k!r} must be a string on every {domain} "
                    f"(found values of type {', '.join(sorted(seen))})"
                )
            types[k] = fixed
        elif len(seen) == 1:
            types[k] = seen.pop()
        else:  # ints written as double would come back as floats, above 2**53 changed
            examples = " and ".join(f"{first[t][-1][k]!r} on {_owner(first[t], domain)}"
                                    for t in sorted(seen))
            raise GraphMLError(
                f"{domain} attribute {k!r} mixes values of types {', '.join(sorted(seen))} "
                f"(e.g. {examples}); GraphML gives each attribute one type and edgenet reads "
                "back each value as that type: make them all the same type (all float, or "
                "all int)"
            )
    return types


def _owner(item: tuple[Any, ...], domain: str) -> str:
    return f"{domain} {item[0]!r}" if domain == "node" else f"edge {item[:2]!r}"


def _value_type(v: Any, what: str) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "boolean"
    if isinstance(v, str):
        return "string"
    if isinstance(v, (int, np.integer)):
        return "long"
    if isinstance(v, (float, np.floating)):
        return "double"
    raise GraphMLError(
        f"{what} is {v!r} of type {type(v).__name__}; GraphML attributes hold bool, int, float "
        "or str values: convert it or remove it before writing"
    )


def _data(key: str, typ: str, v: Any, owner: str = "", name: str = "") -> str:
    if typ == "double":
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real):
            raise GraphMLError(
                f"{name} of {owner} is {v!r} of type {type(v).__name__}; expected a real number"
            )
        f = float(v)
        if owner and name in ("weight", "bias") and not math.isfinite(f):
            raise GraphMLError(f"{name} of {owner} is {f!r}; expected a finite real number")
        text = repr(f)
    elif typ == "long":
        text = str(int(v))
    elif typ == "boolean":
        text = "true" if v else "false"
    else:
        text = _text(v, f"{name} of {owner}" if owner else "a graph attribute")
    return f'<data key="{key}">{text}</data>'


def _attr(s: str, what: str = "an attribute name") -> str:
    if _ILLEGAL.search(s):
        raise GraphMLError(
            f"{what} contains the character {_ILLEGAL.search(s).group()!r}, which XML 1.0 "  # type: ignore[union-attr]
            "cannot hold; remove it"
        )
    return _ATTR_SPECIAL.sub(lambda m: _ATTR_ESCAPES[m.group()], s)


def _text(s: str, what: str) -> str:
    if _ILLEGAL.search(s):
        raise GraphMLError(
            f"{what} contains the character {_ILLEGAL.search(s).group()!r}, which XML 1.0 "  # type: ignore[union-attr]
            "cannot hold; remove it"
        )
    return _TEXT_SPECIAL.sub(lambda m: _ATTR_ESCAPES[m.group()], s)


# --------------------------------------------------------------------------- reading

Undirected = Literal["refuse", "as-written", "both"]
Parallel = Literal["refuse", "sum"]
Nested = Literal["refuse", "flatten"]
#: yEd's namespace, whose ``<y:NodeLabel>`` text becomes the ``label`` node attribute.
YED_NAMESPACE = "http://www.yworks.com/xml/graphml"


def read_graphml(
    path: str | os.PathLike[str] | IO[bytes],
    *,
    undirected: Undirected = "refuse",
    parallel: Parallel = "refuse",
    weight: str = "weight",
    node_type: Callable[[str], Hashable] | None = None,
    rename: Mapping[str, str] | None = None,
    nested: Nested = "refuse",
) -> Network:
    """Read a GraphML file into a :class:`~edgenet.Network`.

    ``weight`` names the edge attribute that holds the connection weight (foreign
    files may call it ``count`` or ``synapses``); its values, and the ``bias`` of
    nodes, are converted to float whatever their declared type, and a value that is
    not a finite number is refused naming the edge and the line. Node ids come back
    as ``int`` or ``str`` as written by :func:`write_graphml`; ids of foreign files
    are strings unless ``node_type`` (e.g. ``int``) converts them. ``rename`` maps
    attribute names of the file to the names to use, for files whose ``role`` or
    ``activation`` mean something else: ``rename={"role": "cell_role"}``.

    Undirected graphs and undirected edges are refused unless ``undirected`` is
    ``"as-written"`` (orient each edge source -> target as the file lists it) or
    ``"both"`` (one edge each way; the result is cyclic, see
    :func:`edgenet.break_cycles`). Parallel edges are refused unless ``parallel`` is
    ``"sum"`` (one edge whose weight is their sum). Files with an internal DTD subset,
    entity declarations or entity references are refused before anything is expanded; a
    ``<!DOCTYPE>`` that only names an external DTD (as old yFiles files do) is accepted
    and never fetched. A path ending in ``.gz`` is read as gzip.

    yEd's node labels (the text of the first ``<y:NodeLabel>`` in a node's graphics) are
    kept, exactly, as the ``label`` node attribute (a ``label`` of the file's own keys
    wins). Nested graphs (yEd groups and folders) are refused unless ``nested`` is
    ``"flatten"``: then the nodes inside a group are nodes of the one network, each with
    the id of its innermost group as the ``group`` attribute (and that group's label, if
    any, as ``group_label``); group nodes are not neurons, their other attributes are
    dropped, and an edge to or from a group node is refused naming it.

    >>> import io, edgenet as en
    >>> text = b'''<graphml><key id="w" for="edge" attr.name="weight" attr.type="int"/>
    ... <graph edgedefault="directed"><node id="a"/><node id="b"/>
    ... <edge source="a" target="b"><data key="w">12</data></edge></graph></graphml>'''
    >>> list(en.read_graphml(io.BytesIO(text)).edges(data=True))
    [('a', 'b', {'weight': 12.0})]
    >>> grouped = b'''<graphml><graph edgedefault="directed"><node id="a"/>
    ... <node id="g"><graph edgedefault="directed"><node id="g::b"/></graph></node>
    ... <edge source="a" target="g::b"/></graph></graphml>'''
    >>> dict(en.read_graphml(io.BytesIO(grouped), nested="flatten").nodes(data=True))
    {'a': {}, 'g::b': {'group': 'g'}}
    """
    if undirected not in ("refuse", "as-written", "both"):
        raise GraphMLError(
            f"undirected={undirected!r}; accepted: 'refuse', 'as-written' or 'both'"
        )
    if parallel not in ("refuse", "sum"):
        raise GraphMLError(f"parallel={parallel!r}; accepted: 'refuse' or 'sum'")
    if nested not in ("refuse", "flatten"):
        raise GraphMLError(f"nested={nested!r}; accepted: 'refuse' or 'flatten'")
    if hasattr(path, "read"):
        name = str(getattr(path, "name", "<stream>"))
        reader = _Reader(name, undirected, parallel, weight, node_type, rename, nested)
        return _read(path, reader)  # type: ignore[arg-type]
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise GraphMLError(
            f"read_graphml expects a path or a binary file object (got {path!r} of type "
            f"{type(path).__name__})"
        )
    name = os.fsdecode(path)
    reader = _Reader(name, undirected, parallel, weight, node_type, rename, nested)
    with open(name, "rb") as raw:
        if name.lower().endswith(".gz"):
            return _read(_Gunzip(raw, name), reader)  # type: ignore[arg-type]
        reader.size = os.fstat(raw.fileno()).st_size
        return _read(raw, reader)


class _Gunzip:
    """A gzip stream whose damage is a :class:`GraphMLError` naming the file.

    It inflates only what the parser asks for (1 MiB at a time), so a compressed
    file never occupies more memory than its longest token.
    """

    def __init__(self, raw: IO[bytes], name: str):
        self.f = gzip.GzipFile(fileobj=raw, mode="rb")
        self.name = name

    def read(self, size: int = -1) -> bytes:
        try:
            return self.f.read(size)
        except (OSError, EOFError, zlib.error) as err:
            raise GraphMLError(
                f"{self.name}: damaged or not gzip-compressed ({err}); a file whose name ends "
                "in .gz is read as gzip: rename it if it is plain GraphML"
            ) from None

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.f.tell()

    def seek(self, offset: int) -> int:
        try:
            return self.f.seek(offset)
        except (OSError, EOFError, zlib.error) as err:
            raise GraphMLError(f"{self.name}: damaged gzip data ({err})") from None


def _read(f: IO[bytes], reader: _Reader) -> Network:
    """Read through the canonical fast lane when the file allows it, else the ordinary way."""
    seekable = getattr(f, "seekable", lambda: False)()
    if seekable:
        start = f.tell()
        stream = CanonicalStream(f)
        if stream.accepted:
            try:
                return reader.run(stream, canonical=stream)  # type: ignore[arg-type]
            except Exception:  # any surprise: the ordinary reader gives the definitive answer
                pass
        f.seek(start)
    return reader.run(f)


_BOOLEAN = {"true": True, "false": False, "1": True, "0": False}


#: Marks the converter of ``weight`` and ``bias``: their text must be a finite number.
_NUMBER: Any = object()


class _Reader:
    """One streaming parse: expat calls the ``start_*`` and ``end_*`` steps below, which
    fill plain lists; :meth:`build` makes the graph at the end.

    The parse state, reset by :meth:`run`: ``keys`` (key id -> (for, name, type)),
    ``defaults`` (key id -> default text), ``graph`` (graph attributes), ``nodes``
    (``(id, attributes)`` in file order), ``src``, ``dst`` and ``edata`` (one entry per
    edge), ``undirected_edges`` (indices of undirected edges), ``text`` (the pieces of the
    value being read); ``owner`` is the attribute dict that ``<data>`` fills (``where``
    names it: ``"graph"``, ``"node"`` or ``"edge"``), ``graphs`` is 0 before the first
    ``<graph>``, 1 inside it, 2 after it; ``depth`` > 0 inside a ``<data>`` or
    ``<default>``; ``skip`` > 0 inside an element whose content is skipped (foreign,
    ``<desc>``, ``<port>``).
    """

    def __init__(
        self,
        name: str,
        undirected: str,
        parallel: str,
        weight: str,
        node_type: Callable[[str], Hashable] | None,
        rename: Mapping[str, str] | None = None,
        nested: str = "refuse",
    ):
        self.rename = dict(rename or {})
        self.flatten = nested == "flatten"
        self.label = self.rename.get("label", "label")
        self.name = name
        self.size = 0  # bytes of the file when known: large files get a progress bar
        self.undirected = undirected
        self.parallel = parallel
        self.weight = weight
        self.node_type = node_type
        self.starts: dict[str, Callable[[dict[str, str]], None]] = {
            "edge": self.start_edge, "data": self.start_data, "node": self.start_node,
            "key": self.start_key, "default": self.start_default, "graph": self.start_graph,
            "hyperedge": self.start_hyperedge,
        }
        self.starts.update(dict.fromkeys(_SKIPPED, self.start_skipped))
        self.ends: dict[str, Callable[[], None]] = {
            "edge": self.end_owner, "node": self.end_owner, "key": self.end_key,
            "graph": self.end_graph,
        }

    def fail(self, message: str) -> GraphMLError:
        p = self.parser
        return GraphMLError(
            f"{self.name}, line {p.CurrentLineNumber}, column {p.CurrentColumnNumber}: {message}"
        )

    def run(self, f: IO[bytes], canonical: CanonicalStream | None = None) -> Network:
        """Parse ``f`` (with the edges the fast lane ``canonical`` took out of it) and
        build the network."""
        p = self.parser = self.new_parser()
        self.reset()
        p.StartElementHandler = self.start_root
        p.EndElementHandler = self.end
        with paused_gc():
            self.parse(p, f)
            if canonical is not None:  # the edges the fast lane took out of the stream
                self.src += canonical.src
                self.dst += canonical.dst
                self.edata += canonical.data(lambda k: self.converter(k, "edge"), _NUMBER)
        if not self.graphs:
            raise GraphMLError(f"{self.name}: no <graph> element; expected a GraphML file")
        if self.groups:
            self.join_groups()
        return self.build(self.keys, self.defaults, self.graph, self.nodes, self.src, self.dst,
                          self.edata, self.undirected_edges)

    def new_parser(self) -> Any:
        """An expat parser that refuses document type declarations and entities."""
        p = expat.ParserCreate(namespace_separator="}")
        p.buffer_text = True
        p.buffer_size = 1 << 16
        p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        p.StartDoctypeDeclHandler = self.doctype
        p.EntityDeclHandler = self.refuse_dtd
        p.SkippedEntityHandler = self.refuse_skipped
        p.UnparsedEntityDeclHandler = self.refuse_dtd
        p.ExternalEntityRefHandler = self.refuse_dtd  # type: ignore[assignment]
        return p

    def doctype(self, name: str, system_id: str | None, public_id: str | None,
                has_internal_subset: int) -> None:
        """A ``<!DOCTYPE>``: accepted when it only names an external DTD, which is never
        read (nothing is expanded); one with an internal subset is refused."""
        if has_internal_subset:
            self.refuse_dtd()
        self.external_dtd = True

    def refuse_entities(self, text: bytes, lines: int) -> None:
        """Refuse a reference to an entity other than XML's own in ``text`` (which
        follows ``lines`` newlines): with an external DTD, which edgenet never reads,
        expat would silently read it as nothing."""
        m = _ENTITY_REF.search(text)
        if m is not None:
            line = lines + text.count(NEWLINE, 0, m.start()) + 1
            raise GraphMLError(f"{self.name}, line {line}: "
                               + _undefined(m.group(1).decode("utf-8", "replace")))

    def refuse_skipped(self, name: str, is_parameter_entity: bool) -> None:
        raise self.fail(_undefined(name))

    def refuse_dtd(self, *_: object) -> None:
        raise self.fail(
            "the file declares a DTD or an entity; refused, because entity expansion can "
            "grow without bound (billion laughs) or read other files. GraphML needs no DTD: "
            "remove the <!DOCTYPE ...> declaration"
        )

    def reset(self) -> None:
        """Empty parse state (see the class docstring)."""
        self.keys: dict[str, tuple[str, str, str]] = {}  # id -> (for, name, type)
        self.defaults: dict[str, str] = {}
        self.graph: dict[str, Any] = {}
        self.nodes: list[tuple[str, dict[str, Any]]] = []
        self.src: list[str] = []
        self.dst: list[str] = []
        self.edata: list[dict[str, Any]] = []
        self.undirected_edges: list[int] = []
        self.text: list[str] = []
        # Per domain: key id -> (attribute name, parser); _NUMBER marks weight and bias.
        self.convs: dict[str, dict[str, tuple[str, Any]]] = {"node": {}, "edge": {}, "graph": {}}
        self.graphs = 0
        self.depth = 0
        self.nested = False  # an element inside the current <data> (yEd graphics)
        self.owner: dict[str, Any] | None = None
        self.where = ""
        self.key: str | None = None  # the key of the current <data>
        self.in_key: str | None = None  # the id of the <key> being read
        self.node_id: str | None = None  # the id of the last <node>
        self.undirected_default = False
        self.skip = 0
        self.external_dtd = False  # a <!DOCTYPE> naming an external DTD (never read)
        self.graphics: set[str] = set()  # ids of yEd nodegraphics keys
        self.yed_label: int | None = None  # depth of the <y:NodeLabel> being read
        self.label_done = False  # the current value's label is read
        self.realizers: tuple[int, int, int] | None = None  # depth, active, child index
        # With nested="flatten": the open groups (innermost last), every group's
        # attributes by id, and (node id, attributes, group id) of each node in a group.
        self.open_groups: list[tuple[str, dict[str, Any], bool]] = []
        self.groups: dict[str, dict[str, Any]] = {}
        self.members: list[tuple[str, dict[str, Any], str]] = []

    def pending(self) -> int:
        """Characters of the value being read (0 outside a value)."""
        return sum(map(len, self.text)) if self.depth else 0

    def converter(self, kid: str, domain: str) -> tuple[str, Any]:
        """``(attribute name, parser)`` for values of key ``kid`` on a ``domain`` element."""
        found = self.keys.get(kid)
        if found is None:
            raise self.fail(
                f"a <data> element of a {domain} uses key {kid!r}, which no <key> declares "
                "before it; declare the key (a misspelt key would otherwise lose its values)"
            )
        name, typ = found[1], found[2]
        name = self.rename.get(name, name)
        if domain == "edge" and name == self.weight:
            return "weight", _NUMBER
        if domain == "node" and name == "bias":
            return "bias", _NUMBER
        return name, _PARSERS.get(typ, _string)

    # ----------------------------------------------------------------- element starts

    def start_root(self, tag: str, attrs: dict[str, str]) -> None:
        if tag.rsplit("}", 1)[-1] != "graphml" or tag.count("}") and not tag.startswith(
                NAMESPACE + "}"):
            raise self.fail(f"the root element is <{tag}>; a GraphML file starts with <graphml>")
        self.parser.StartElementHandler = self.start

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        """Any element inside the root: skipped, refused, or handed to its ``start_*``."""
        if self.depth:  # structured content inside <data> (yEd graphics): skipped
            self.depth += 1
            if not self.nested:
                self.nested = True
                self.parser.CharacterDataHandler = None
            if self.key in self.graphics and self.where == "node":
                self.start_graphics(tag, attrs)
            return
        if self.skip:
            self.skip += 1
            return
        if "}" in tag:
            space, tag = tag.rsplit("}", 1)
            if space != NAMESPACE:  # another vocabulary (yEd, ...): skipped
                self.skip = 1
                return
        if self.where == "group" and tag in ("node", "edge", "graph"):
            raise self.fail(f"group node {self.node_id!r} holds a <{tag}> after its nested "
                            "graph; GraphML gives a node one nested graph, last")
        if self.where in ("node", "edge") and tag in ("node", "edge", "graph"):
            if tag == "graph" and self.where == "node" and self.flatten:
                self.open_group(attrs)
                return
            self.refuse_nesting(tag)
        step = self.starts.get(tag)
        if step is not None:
            step(attrs)

    def refuse_nesting(self, tag: str) -> None:
        """Refuse a ``<node>``, ``<edge>`` or ``<graph>`` inside a node or an edge."""
        inside = f"node {self.node_id!r}" if self.where == "node" else (
            f"edge ({self.src[-1]!r}, {self.dst[-1]!r})")
        if tag == "graph":
            raise self.fail(
                f"{inside} holds a nested graph (a yEd group or folder); edgenet reads flat "
                "graphs: pass read_graphml(..., nested=\"flatten\") to read the nodes inside "
                "groups as nodes of one network, each with its group as a 'group' attribute"
            )
        raise self.fail(f"{inside} holds a <{tag}>; GraphML nests {tag}s only in a <graph>")

    def start_graphics(self, tag: str, attrs: dict[str, str]) -> None:
        """An element inside a yEd ``nodegraphics`` value: the text of the first
        ``<y:NodeLabel>`` (of the active realizer of a group) becomes the label."""
        space, _, local = tag.rpartition("}")
        if self.yed_label is not None:  # an element inside the label ends its text
            self.parser.CharacterDataHandler = None
            return
        if space != YED_NAMESPACE or self.label_done:
            return
        realizers = self.realizers
        if local == "Realizers":
            try:
                active = int(attrs.get("active", "0"))
            except ValueError:
                active = 0
            self.realizers = (self.depth, active, -1)
        elif realizers is not None and self.depth == realizers[0] + 1:
            self.realizers = (realizers[0], realizers[1], realizers[2] + 1)
        elif local == "NodeLabel" and (realizers is None or realizers[1] == realizers[2]):
            self.yed_label = self.depth
            self.text.clear()
            self.parser.CharacterDataHandler = self.text.append

    def end_graphics(self) -> None:
        """The end of an element inside a yEd ``nodegraphics`` value."""
        label = self.yed_label
        if label is not None and self.depth == label:
            text = "".join(self.text)
            self.yed_label = None
            self.label_done = True
            self.parser.CharacterDataHandler = None
            if text and self.owner is not None:
                self.owner.setdefault(self.label, text)
        elif self.realizers is not None and self.depth == self.realizers[0]:
            self.realizers = None

    def open_group(self, attrs: dict[str, str]) -> None:
        """A ``<graph>`` inside a node, with ``nested="flatten"``: that node is a group."""
        nid, d = self.nodes.pop()
        if self.members and self.members[-1][1] is d:
            self.members.pop()
        if nid in self.groups:
            raise self.fail(f"group node id {nid!r} appears twice")
        self.groups[nid] = d
        self.open_groups.append((nid, d, self.undirected_default))
        self.undirected_default = self.edge_default(attrs, f"the nested graph of node {nid!r}")
        self.owner = None  # the nested graph's own <data> are not kept
        self.where = ""

    def start_edge(self, attrs: dict[str, str]) -> None:
        if self.graphs != 1:
            return
        try:
            s, t = attrs["source"], attrs["target"]
        except KeyError:
            raise self.fail("an <edge> lacks its source or target attribute") from None
        d: dict[str, Any] = {}
        undirected_default = self.undirected_default
        if undirected_default or "directed" in attrs:
            if attrs.get("directed", "false" if undirected_default else "true") not in (
                "true", "1"
            ):
                if self.undirected == "refuse":
                    raise self.fail(
                        f"edge ({s!r}, {t!r}) is undirected; edgenet networks are "
                        "directed. Pass read_graphml(..., undirected='as-written') to "
                        "orient it as listed, or undirected='both' for one edge each way"
                    )
                self.undirected_edges.append(len(self.src))
        self.src.append(s)
        self.dst.append(t)
        self.edata.append(d)
        self.owner = d
        self.where = "edge"

    def start_node(self, attrs: dict[str, str]) -> None:
        if self.graphs != 1:
            return
        try:
            node_id = self.node_id = attrs["id"]
        except KeyError:
            raise self.fail("a <node> lacks its id attribute") from None
        d: dict[str, Any] = {}
        self.nodes.append((node_id, d))
        if self.open_groups:
            self.members.append((node_id, d, self.open_groups[-1][0]))
        self.owner = d
        self.where = "node"

    def start_data(self, attrs: dict[str, str]) -> None:
        key = attrs.get("key")
        if key is None and self.owner is not None:
            raise self.fail("a <data> element lacks its key attribute")
        self.start_value(key)

    def start_default(self, attrs: dict[str, str]) -> None:
        if self.in_key is not None:
            self.start_value(None)

    def start_value(self, key: str | None) -> None:
        """Collect the text of a ``<data>`` (of key ``key``) or of a ``<default>``."""
        self.depth = 1
        self.nested = False
        self.label_done = False
        self.yed_label = None
        self.realizers = None
        self.key = key
        self.text.clear()
        self.parser.CharacterDataHandler = self.text.append

    def start_key(self, attrs: dict[str, str]) -> None:
        kid = attrs.get("id")
        if kid is None:
            raise self.fail("a <key> lacks its id attribute")
        self.keys[kid] = (attrs.get("for", "all"), attrs.get("attr.name", kid),
                          attrs.get("attr.type", "string"))
        if attrs.get("yfiles.type") == "nodegraphics":
            self.graphics.add(kid)
        self.in_key = kid

    def start_graph(self, attrs: dict[str, str]) -> None:
        if self.graphs:
            raise self.fail(
                "the file holds more than one <graph>; edgenet reads one graph per "
                "file: split the file, one <graph> each"
            )
        self.graphs = 1
        self.undirected_default = self.edge_default(attrs, "the graph")
        self.owner = self.graph
        self.where = "graph"

    def edge_default(self, attrs: dict[str, str], graph: str) -> bool:
        """Whether the edges of a ``<graph>`` (``graph`` names it) are undirected unless
        said otherwise; refused unless ``undirected`` allows it."""
        default = attrs.get("edgedefault")
        if default not in ("directed", "undirected", None):
            raise self.fail(
                f"edgedefault={default!r}; GraphML accepts 'directed' or 'undirected'"
            )
        if default != "directed" and self.undirected == "refuse":
            said = ("has no edgedefault attribute, which GraphML (and NetworkX and "
                    "igraph) read as undirected" if default is None else
                    'is undirected (edgedefault="undirected")')
            raise self.fail(
                f"{graph} {said}; edgenet networks are directed. Write "
                '<graph edgedefault="directed"> if its edges are directed, or pass '
                "read_graphml(..., undirected='as-written') to orient each edge as "
                "listed, or undirected='both' for one edge each way"
            )
        return default != "directed"

    def start_hyperedge(self, attrs: dict[str, str]) -> None:
        raise self.fail("the file holds a <hyperedge>; edgenet reads simple directed graphs")

    def start_skipped(self, attrs: dict[str, str]) -> None:
        self.skip = 1

    # ------------------------------------------------------------------- element ends

    def end(self, tag: str) -> None:
        """Any element's end: a skipped one, a value, or its ``end_*``."""
        if self.skip:
            self.skip -= 1
            return
        if self.depth:
            if self.depth > 1:
                if self.key in self.graphics:
                    self.end_graphics()
                self.depth -= 1
                return
            self.end_value(tag)
            return
        step = self.ends.get(tag.rsplit("}", 1)[-1])
        if step is not None:
            step()

    def end_value(self, tag: str) -> None:
        """The end of a ``<data>`` or ``<default>``: store its text."""
        self.depth = 0
        self.parser.CharacterDataHandler = None
        if self.nested:
            return
        text = self.text
        value = text[0] if len(text) == 1 else "".join(text)
        if tag.endswith("default"):
            self.defaults[self.in_key] = value  # type: ignore[index]
            return
        if self.key is None or self.owner is None:
            return
        self.decode_data(self.key, value)

    def decode_data(self, key: str, value: str) -> None:
        """Store the text ``value`` of a ``<data key=key>`` on its owner, converted to the
        key's type (weights and biases to finite floats)."""
        where = self.where
        conv = self.convs[where].get(key)
        if conv is None:
            conv = self.convs[where][key] = self.converter(key, where)
        name, parse = conv
        owner: dict[str, Any] = self.owner  # type: ignore[assignment]
        if parse is _NUMBER:
            owner[name] = self.finite(value)
            return
        try:
            owner[name] = parse(value, where)
        except ValueError:
            typ = self.keys.get(key, ("", "", "string"))[2]
            raise self.fail(
                f"{where} attribute {name!r} has the value {value!r}, which is not a "
                f"valid {typ} (the type its <key id={key!r}> declares)"
            ) from None

    def finite(self, value: str) -> float:
        """The weight or bias ``value`` as a float, refused unless a finite number."""
        try:
            x = _double(value, self.where)
        except ValueError:
            x = math.nan
        if x - x != 0.0:  # not finite
            if self.where == "edge":
                what = f"edge ({self.src[-1]!r}, {self.dst[-1]!r}) has weight"
            else:
                what = f"node {self.node_id!r} has bias"
            raise self.fail(f"{what} {value!r}; expected a finite number")
        return x

    def end_owner(self) -> None:
        """The end of a ``<node>`` or ``<edge>``: ``<data>`` is the graph's again (or
        nobody's, inside a group)."""
        if self.open_groups:
            self.owner = None
            self.where = ""
        elif self.graphs == 1:
            self.owner = self.graph
            self.where = "graph"

    def end_key(self) -> None:
        self.in_key = None

    def end_graph(self) -> None:
        if self.open_groups:  # a group's nested graph: back in the group node
            nid, d, self.undirected_default = self.open_groups.pop()
            self.owner = None
            self.where = "group"
            self.node_id = nid
            return
        if self.graphs == 1:
            self.owner = None
            self.where = ""
            self.graphs = 2

    def join_groups(self) -> None:
        """With ``nested="flatten"``: give each node in a group its ``group`` (and
        ``group_label``); refuse edges to or from group nodes."""
        for nid, d, gid in self.members:
            for name in ("group", "group_label"):
                if name in d:
                    raise GraphMLError(
                        f"{self.name}: node {nid!r} in group {gid!r} has its own {name!r} "
                        f"attribute ({d[name]!r}), which nested='flatten' would overwrite: "
                        f"pass rename={{{name!r}: ...}} to read it under another name"
                    )
            d["group"] = gid
            label = self.groups[gid].get(self.label)
            if label is not None:
                d["group_label"] = label
        for nid, _ in self.nodes:
            if nid in self.groups:
                raise GraphMLError(f"{self.name}: node id {nid!r} appears twice (once as a "
                                   "group)")
        for s, t in zip(self.src, self.dst, strict=True):
            for end in (s, t):
                if end in self.groups:
                    raise GraphMLError(
                        f"{self.name}: edge ({s!r}, {t!r}) ends at group node {end!r}; with "
                        "nested='flatten' groups are not neurons: connect the edge to a node "
                        "inside the group"
                    )

    def parse(self, p: Any, f: IO[bytes]) -> None:
        # About 100 bytes per edge: files of a million edges or more show a progress bar.
        big = self.size >= 100 * THRESHOLD
        fed = 0
        lines = 0  # newlines before the current block
        tail = b""  # the end of the last block: an entity reference may span two
        try:
            with bar(self.size if big else 0, desc="reading GraphML", unit="B",
                     unit_scale=True, disable=not big) as shown:
                while True:
                    try:
                        block = f.read(1 << 20)
                    except (OSError, EOFError) as err:
                        raise GraphMLError(f"{self.name}: cannot read the file: {err}") from None
                    if not block:
                        break
                    p.Parse(block, False)
                    if self.external_dtd:  # expat drops undefined entities it may not read
                        self.refuse_entities(tail + block, lines - tail.count(b"\n"))
                        cut = block.rfind(b"&")  # an unfinished reference, if any
                        tail = block[cut:] if cut >= 0 and b";" not in block[cut:] else b""
                    lines += block.count(b"\n")
                    fed += len(block)
                    # After a block, the parser's position is the start of the token it
                    # could not finish: everything fed since belongs to that one token.
                    if fed - p.CurrentByteIndex > MAX_TOKEN or self.pending() > MAX_TOKEN:
                        raise self.fail(
                            f"one XML token (a tag, comment or value) is longer than "
                            f"{MAX_TOKEN >> 20} MiB; refused, because reading it would take "
                            "time quadratic in its length (the most edgenet reads is "
                            "edgenet.io.graphml.MAX_TOKEN bytes)"
                        )
                    shown.update(len(block))
                p.Parse(b"", True)
        except expat.ExpatError as err:
            raise GraphMLError(
                f"{self.name}, line {err.lineno}, column {err.offset}: malformed XML: "
                f"{expat.ErrorString(err.code)} (is the file truncated or not GraphML?)"
            ) from None
        except GraphMLError:
            raise
        except (LookupError, ValueError) as err:  # an encoding Python does not know
            raise GraphMLError(
                f"{self.name}: cannot decode the file ({err}); GraphML files are UTF-8, or "
                "declare an encoding Python knows"
            ) from None

    def build(
        self,
        keys: dict[str, tuple[str, str, str]],
        defaults: dict[str, str],
        graph: dict[str, Any],
        nodes: list[tuple[str, dict[str, Any]]],
        src: list[str],
        dst: list[str],
        edata: list[dict[str, Any]],
        undirected_edges: list[int],
    ) -> Network:
        """The network of what the parse collected: node ids converted, key defaults
        filled in, undirected edges oriented, parallel edges merged or refused."""
        id_kind = graph.pop(ID_TYPE, None)
        mapping = self.node_ids(id_kind, nodes, src, dst)
        self.fill_defaults(keys, defaults, nodes, edata)
        final: list[tuple[Hashable, dict[str, Any]]] = list(nodes)
        if mapping is not None:
            final = [(mapping[nid], d) for nid, d in nodes]
            us: list[Hashable] = list(map(mapping.__getitem__, src))
            vs: list[Hashable] = list(map(mapping.__getitem__, dst))
        else:
            us, vs = src, dst  # type: ignore[assignment]
        if undirected_edges:
            us, vs, edata = self.orient(us, vs, edata, undirected_edges)
        G, repeated = bulk_graph(final, us, vs, edata)
        G.graph.update(graph)
        if repeated:
            seen: set[Hashable] = set()
            for (raw, _), (key, _) in zip(nodes, final, strict=True):
                if key in seen:
                    same = "" if raw == key else f" (read as {key!r})"
                    raise GraphMLError(f"{self.name}: node id {raw!r}{same} appears twice")
                seen.add(key)
            self.merge_parallel(G, us, vs, edata)
        return G

    def node_ids(
        self, id_kind: str | None, nodes: list[tuple[str, dict[str, Any]]], src: list[str],
        dst: list[str],
    ) -> dict[str, Hashable] | None:
        """The node of each id text, or ``None`` where ids stay the strings of the file:
        converted with ``node_type``, or as the writer recorded them (``id_kind``, the
        graph attribute ``edgenet.node_ids``: ``int``, ``str`` or ``mixed``)."""
        if self.node_type is not None and self.node_type is not int:
            cast: Callable[[str], Hashable] = self.node_type
        elif id_kind == "int" or self.node_type is int:
            cast = _integer_id
        else:
            cast = str
        if cast is str and id_kind != "mixed":
            return None
        mapping: dict[str, Hashable] = {}
        nid = ""
        try:
            if id_kind == "mixed" and self.node_type is None:
                for nid, d in nodes:
                    mapping[nid] = _integer_id(nid) if d.pop(NODE_ID_TYPE, None) == "int" else nid
                cast = str
            elif cast is not str:
                for nid, _ in nodes:
                    mapping[nid] = cast(nid)
            for nid in _undeclared(mapping, src, dst):
                mapping[nid] = cast(nid)
        except (TypeError, ValueError) as err:
            raise GraphMLError(
                f"{self.name}: node id {nid!r} cannot be converted with {cast!r}: {err}"
            ) from None
        return mapping

    def fill_defaults(
        self, keys: dict[str, tuple[str, str, str]], defaults: dict[str, str],
        nodes: list[tuple[str, dict[str, Any]]], edata: list[dict[str, Any]],
    ) -> None:
        """Give every node and edge without a value of a key that has a ``<default>`` that
        default."""
        for kid, raw in defaults.items():
            domain, name, typ = keys[kid]
            name = self.rename.get(name, name)
            targets = [d for _, d in nodes] if domain in ("node", "all") else []
            if domain in ("edge", "all"):
                targets += edata
            if name == self.weight and domain in ("edge", "all"):
                name = "weight"
            number = name == "weight" if domain == "edge" else name == "bias" if (
                domain == "node") else name in ("weight", "bias")
            try:
                value = _double(raw, "") if number else _PARSERS.get(typ, _string)(raw, "")
            except (TypeError, ValueError):
                raise GraphMLError(
                    f"{self.name}: key {kid!r} has default {raw!r}, not a valid {typ}"
                ) from None
            if number and not math.isfinite(value):
                raise GraphMLError(
                    f"{self.name}: key {kid!r} gives {name} the default {raw!r}; expected a "
                    "finite number"
                )
            for d in targets:
                d.setdefault(name, value)

    def orient(
        self, us: list[Hashable], vs: list[Hashable], edata: list[dict[str, Any]],
        undirected_edges: list[int],
    ) -> tuple[list[Hashable], list[Hashable], list[dict[str, Any]]]:
        """Endpoints and data with the undirected edges oriented alike (and, with
        ``undirected="both"``, each also added the other way, a self-loop once)."""
        us, vs = list(us), list(vs)
        # Undirected edges joining the same two neurons are parallel, whichever way
        # each is written: orient them alike so that ``parallel`` decides.
        first: set[tuple[Hashable, Hashable]] = set()
        for i in undirected_edges:
            if (vs[i], us[i]) in first and us[i] != vs[i]:
                us[i], vs[i] = vs[i], us[i]
            first.add((us[i], vs[i]))
        if self.undirected == "both":
            loops = [i for i in undirected_edges if us[i] != vs[i]]  # a self-loop once
            us = us + [vs[i] for i in loops]
            vs = vs + [us[i] for i in loops]
            edata = edata + [dict(edata[i]) for i in loops]
        return us, vs, edata

    def merge_parallel(
        self, G: Network, us: list[Hashable], vs: list[Hashable], edata: list[dict[str, Any]]
    ) -> None:
        seen: dict[tuple[Hashable, Hashable], dict[str, Any]] = {}
        for u, v, d in zip(us, vs, edata, strict=True):
            first = seen.get((u, v))
            if first is None:
                seen[u, v] = dict(d)
                continue
            if self.parallel == "refuse":
                raise GraphMLError(
                    f"{self.name}: edge ({u!r}, {v!r}) appears more than once (parallel edges); "
                    "pass read_graphml(..., parallel='sum') to merge them into one edge whose "
                    "weight is the sum"
                )
            if "weight" in d or "weight" in first:
                first["weight"] = first.get("weight", 0.0) + d.get("weight", 0.0)
        for (u, v), d in seen.items():
            G.edges[u, v].clear()
            G.edges[u, v].update(d)


def _undefined(entity: str) -> str:
    return (f"the file refers to the entity &{entity}; which only its external DTD could "
            "define; refused, because edgenet reads no DTD and expands no entities: write "
            "the text itself")


def _undeclared(mapping: dict[str, Hashable], src: list[str], dst: list[str]) -> list[str]:
    """Edge endpoints without a ``<node>`` element, in order of first appearance."""
    found: dict[str, None] = {}
    for ids in (src, dst):
        if not all(map(mapping.__contains__, ids)):
            found.update((nid, None) for nid in ids if nid not in mapping)
    return list(found)


def _string(value: str, where: str) -> str:
    return value


def _boolean(value: str, where: str) -> bool:
    try:
        return _BOOLEAN[value.strip().lower()]
    except KeyError:
        raise ValueError(f"{value!r} is not a GraphML boolean") from None


def _integer(value: str, where: str) -> int:
    if not _INTEGER.fullmatch(value):  # int() would also take "1_0" and other digits
        raise ValueError(f"{value!r} is not a GraphML integer")
    return int(value)


def _integer_id(value: str) -> int:
    return _integer(value, "")


def _double(value: str, where: str) -> float:
    if not _DOUBLE.fullmatch(value):  # float() would also read "1_0", "\uff11\uff12", ...
        raise ValueError(f"{value!r} is not a GraphML double")
    return float(value)


_PARSERS: dict[str, Callable[[str, str], Any]] = {
    "string": _string, "boolean": _boolean, "int": _integer, "long": _integer,
    "float": _double, "double": _double,
}
