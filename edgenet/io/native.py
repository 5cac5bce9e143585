"""The native save format: a NumPy ``.npz`` of flat arrays plus a JSON header.

One file holds a whole network: node ids (``int`` or ``str``, in order), roles,
activations, biases, the edge list as two index arrays and the float64 weights,
plus any other attribute that JSON can hold. Loading uses
``numpy.load(allow_pickle=False)`` and ``json``: nothing is ever unpickled.
Writes are atomic, as for GraphML.

=============  =======  ====================================================
array          dtype    meaning
=============  =======  ====================================================
``header``     uint8    UTF-8 JSON: format, version, node ids, names, extras
``src, dst``   int64    edge endpoints as indices into the node list
``weight``     float64  one per edge; NaN where ``has_weight`` is False
``bias``       float64  one per node; NaN where ``has_bias`` is False
``role``       int8     -1 none, 0 input, 1 hidden, 2 output
``activation`` int32    index into the header's activation names, -1 none
=============  =======  ====================================================

>>> import os, tempfile, edgenet as en
>>> net = en.Network(); net.add_input("x"); net.add_output("y", bias=0.5)
>>> net.add_edge("x", "y", weight=-0.0)
>>> path = os.path.join(tempfile.mkdtemp(), "net.npz")
>>> en.save(net, path)
>>> back = en.load(path)
>>> list(back.edges(data="weight")), back.nodes["y"]
([('x', 'y', -0.0)], {'role': 'output', 'activation': 'identity', 'bias': 0.5})
"""

from __future__ import annotations

import json
import os
import struct
import zipfile
import zlib
from collections.abc import Hashable
from typing import IO, Any, NoReturn, TypeVar

import networkx as nx
import numpy as np

from ..errors import EdgenetError, FormatError
from ..graph.network import Network
from ..graph.validate import edge_weights, real, time_constant
from .atomic import atomic_write
from .bulk import bulk_graph, paused_gc

FORMAT = "edgenet-network"
VERSION = 1
ROLES = ("input", "hidden", "output")
_ROLE_CODE = {r: i for i, r in enumerate(ROLES)}
_NODE_FIELDS = ("role", "activation", "bias")

Target = TypeVar("Target")


def _check_target(path: Any) -> None:
    """Refuse a ``path`` that names a directory (one that exists, or any path ending in a
    separator): saving there would write a file named like the folder, or fail late."""
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise EdgenetError(
            f"save expects a file path or a binary stream with write() (got {path!r} of type "
            f"{type(path).__name__})"
        )
    name = os.fsdecode(path)
    seps = tuple(s for s in (os.sep, os.altsep) if s)
    if name.endswith(seps) or os.path.isdir(name):
        raise EdgenetError(
            f"cannot save to {name!r}: it names a directory; expected a file path, such as "
            f"{os.path.join(name, 'net.npz')!r}"
        )


def save(network: Any, path: str | os.PathLike[str] | IO[bytes]) -> None:
    """Save ``network`` (a :class:`~edgenet.Network`, any ``networkx.DiGraph`` or a
    compiled model, whose current weights are saved) to ``path``, atomically.

    ``path`` may also be an open binary stream (e.g. ``io.BytesIO``), written as it is.
    Node ids must be ``int`` or ``str``; attributes other than ``role``,
    ``activation``, ``bias`` and ``weight`` must be JSON values (``None``, bool, int,
    float, str, lists and str-keyed dicts of them).

    >>> import os, tempfile, torch, edgenet as en
    >>> net = en.Network(); net.add_input(0); net.add_output(1); net.add_edge(0, 1)
    >>> model = net.compile(seed=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
    >>> en.save(model, path)
    >>> en.load(path).edges[0, 1]["weight"] == model.weight.item()
    True
    """
    from ..model.base import is_model

    if not hasattr(path, "write"):
        _check_target(path)
    compiled = is_model(network)
    G = network.to_network() if compiled else network
    if not isinstance(G, nx.Graph) or not G.is_directed() or G.is_multigraph():
        raise EdgenetError(
            f"save expects an edgenet.Network, a networkx.DiGraph or a compiled network "
            f"(got {type(network).__name__})"
        )
    nodes = list(G)
    for n in nodes:
        if type(n) is not str and (not isinstance(n, (int, np.integer)) or isinstance(
                n, (bool, np.bool_))):
            raise EdgenetError(
                f"node {n!r} has an id of type {type(n).__name__}; saved node ids must be int or "
                "str: relabel the nodes first (networkx.relabel_nodes)"
            )
    index = {n: i for i, n in enumerate(nodes)}
    activations: dict[str, int] = {}
    role = np.full(len(nodes), -1, dtype=np.int8)
    act = np.full(len(nodes), -1, dtype=np.int32)
    bias = np.full(len(nodes), np.nan, dtype=np.float64)
    node_extra = []
    for i, (n, data) in enumerate(G.nodes(data=True)):
        r = data.get("role")
        if r is not None:
            if r not in _ROLE_CODE:
                raise EdgenetError(
                    f"node {n!r} has role {r!r}; accepted roles: 'input', 'hidden', 'output'"
                )
            role[i] = _ROLE_CODE[r]
        a = data.get("activation")
        if a is not None:
            if not isinstance(a, str):
                raise EdgenetError(
                    f"node {n!r} has activation {a!r} of type {type(a).__name__}; expected a name"
                )
            act[i] = activations.setdefault(a, len(activations))
        b = data.get("bias")
        if b is not None:
            bias[i] = real(b, f"bias of node {n!r}")
        extra = {k: v for k, v in data.items() if k not in _NODE_FIELDS}
        if extra:
            node_extra.append([i, _jsonable(extra, f"node {n!r}")])

    triples = list(G.edges(data="weight"))
    weight = edge_weights(G, triples)
    src = np.fromiter((index[u] for u, _, _ in triples), dtype=np.int64, count=len(triples))
    dst = np.fromiter((index[v] for _, v, _ in triples), dtype=np.int64, count=len(triples))
    edge_extra = []
    for i, (u, v, data) in enumerate(G.edges(data=True)):
        if len(data) > ("weight" in data):
            extra = {k: x for k, x in data.items() if k != "weight"}
            edge_extra.append([i, _jsonable(extra, f"edge ({u!r}, {v!r})")])

    header = {
        "format": FORMAT,
        "version": VERSION,
        "nodes": [int(n) if type(n) is not str else n for n in nodes],
        "activations": list(activations),
        "graph": _jsonable(dict(G.graph), "the graph"),
        "node_attributes": node_extra,
        "edge_attributes": edge_extra,
    }
    try:
        text = json.dumps(header, ensure_ascii=False, allow_nan=True).encode()
    except UnicodeEncodeError as err:
        raise EdgenetError(
            f"cannot save {_unencodable(G)}: it holds {err.object[err.start:err.end]!r}, a lone "
            "surrogate that UTF-8 cannot store; remove it"
        ) from None
    arrays = {
        "header": np.frombuffer(text, dtype=np.uint8),
        "src": src,
        "dst": dst,
        "weight": weight,
        "has_weight": ~np.isnan(weight),
        "bias": bias,
        "has_bias": ~np.isnan(bias),
        "role": role,
        "activation": act,
    }
    if hasattr(path, "write"):  # an open binary stream: written as it is, not atomically
        np.savez(path, **arrays)
        return
    with atomic_write(path) as f:
        np.savez(f, **arrays)


def _unencodable(G: nx.DiGraph) -> str:
    """The first node id, or attribute of a node, edge or the graph, UTF-8 cannot store."""
    def bad(value: Any) -> bool:
        try:
            json.dumps(value, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            return True
        return False

    for n, data in G.nodes(data=True):
        if bad(n):
            return f"node id {n!r}"
        if bad(data):
            return f"an attribute of node {n!r}"
    for u, v, data in G.edges(data=True):
        if bad(data):
            return f"an attribute of edge ({u!r}, {v!r})"
    return "a graph attribute"


#: How deeply lists and dicts in saved attributes may nest.
MAX_NESTING = 100


def _jsonable(value: Any, owner: str, name: str = "", depth: int = 0) -> Any:
    if depth > MAX_NESTING and isinstance(value, (list, dict)):
        raise EdgenetError(
            f"attribute {name!r} of {owner} nests lists or dicts more than {MAX_NESTING} deep; "
            "saved attributes must be flatter"
        )
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, list):
        return [_jsonable(v, owner, name, depth + 1) for v in value]
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise EdgenetError(
                    f"attribute {k!r} of {owner} has a key of type {type(k).__name__}; saved "
                    "attribute names and dict keys must be strings"
                )
            out[k] = _jsonable(v, owner, name or k, depth + 1)
        return out
    raise EdgenetError(
        f"attribute {name!r} of {owner} holds {value!r} of type {type(value).__name__}; saved "
        "attributes must be None, bool, int, float, str, or lists and str-keyed dicts of them"
    )


def load(path: str | os.PathLike[str] | IO[bytes], into: Target | None = None) -> Any:
    """Load the file ``path`` written by :func:`save` (a path, or an open binary stream).

    With ``into=None`` a new :class:`~edgenet.Network` is returned. With ``into`` a
    network (``networkx.DiGraph``) the file's weights, biases, activations and roles
    are written onto it in place; with ``into`` a compiled network its ``weight`` and
    ``bias`` parameters are overwritten (no gradient is recorded), and the file's
    activations (and, for a recurrent network, time constants ``tau``, 1 where absent)
    must be the network's. Either way the file's nodes and edges must be exactly those
    of ``into``, or nothing is changed and an :class:`~edgenet.EdgenetError` names the
    first difference. ``into`` is returned.

    >>> import os, tempfile, torch, edgenet as en
    >>> net = en.Network(); net.add_input("x"); net.add_output("y"); net.add_edge("x", "y")
    >>> model = net.compile(seed=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "m.npz")
    >>> en.save(model, path)
    >>> fresh = net.compile(seed=1)
    >>> en.load(path, into=fresh) is fresh and torch.equal(fresh.weight, model.weight)
    True
    """
    if hasattr(path, "read"):
        name = str(getattr(path, "name", "<stream>"))
    else:
        name = os.fspath(path)
    header, arrays = _read(path, name)
    ids = header["nodes"]
    src, dst = arrays["src"], arrays["dst"]
    from ..model.base import is_model

    if into is None:
        return _build(name, header, arrays)
    if is_model(into):
        _into_model(name, header, arrays, into)
        return into
    if not isinstance(into, nx.Graph) or not into.is_directed() or into.is_multigraph():
        raise EdgenetError(
            f"into= must be a networkx.DiGraph, an edgenet.Network or a compiled network "
            f"(got {type(into).__name__})"
        )
    _same_topology(name, ids, src, dst, set(into.nodes), set(into.edges), "network")
    for i, n in enumerate(ids):
        data = into.nodes[n]
        for k, v in _node_fields(header, arrays, i).items():
            data[k] = v
    weight, has = arrays["weight"], arrays["has_weight"]
    for u, v, w, h in zip(src.tolist(), dst.tolist(), weight.tolist(), has.tolist(), strict=True):
        if h:
            into.edges[ids[u], ids[v]]["weight"] = w
    return into


def _read(path: Any, name: str) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    if hasattr(path, "read"):
        return _check(_arrays(path, name), name)
    with open(path, "rb") as f:
        return _check(_arrays(f, name), name)


#: What a damaged or foreign file can make numpy and zipfile raise.
_DAMAGE = (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError, AttributeError,
           zlib.error, NotImplementedError, RuntimeError, struct.error, IndexError, TypeError)
#: The most the arrays of a file may inflate to: this many times the file's size (and
#: at least :data:`INFLATE_FLOOR` bytes). edgenet writes its arrays uncompressed.
INFLATE_RATIO = 64
INFLATE_FLOOR = 64 << 20


def _arrays(f: IO[bytes], name: str) -> dict[str, np.ndarray]:
    try:
        npz = np.load(f, allow_pickle=False)
    except _DAMAGE as err:
        raise FormatError(
            f"{name}: not an edgenet save file (expected a .npz written by edgenet.save): {err}"
        ) from None
    if not isinstance(npz, np.lib.npyio.NpzFile):
        raise FormatError(
            f"{name}: holds a single array, not an edgenet save file (a .npz written by "
            "edgenet.save)"
        )
    with npz:
        infos = {i.filename: i for i in npz.zip.infolist()}  # type: ignore[union-attr]
        size = f.seek(0, os.SEEK_END)
        ceiling = max(INFLATE_FLOOR, INFLATE_RATIO * size)
        total = 0
        for key in _REQUIRED:  # only these are ever inflated; other members are ignored
            info = infos.get(key + ".npy")
            if info is None:
                raise FormatError(
                    f"{name}: the array {key!r} is missing; not an edgenet save file")
            total += info.file_size
        if total > ceiling:
            raise FormatError(
                f"{name}: its arrays would inflate to {total:,} bytes, more than "
                f"{INFLATE_RATIO} times the file's {size:,} bytes; refused (edgenet writes "
                "its arrays uncompressed)"
            )
        out = {}
        for key in _REQUIRED:
            try:
                out[key] = npz[key]
            except ValueError as err:
                if "allow_pickle" in str(err):
                    raise FormatError(
                        f"{name}: the array {key!r} holds Python objects (a pickle), which "
                        "edgenet never loads; not an edgenet save file"
                    ) from None
                raise FormatError(f"{name}: the array {key!r} is damaged: {err}") from None
            except _DAMAGE as err:
                raise FormatError(f"{name}: the array {key!r} is damaged: {err}") from None
        return out


_REQUIRED = {"header": "u", "src": "i", "dst": "i", "weight": "f", "has_weight": "b",
             "bias": "f", "has_bias": "b", "role": "i", "activation": "i"}


def _check(
    arrays: dict[str, np.ndarray], name: str
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    for key, kind in _REQUIRED.items():
        if key not in arrays:
            raise FormatError(f"{name}: the array {key!r} is missing; not an edgenet save file")
        if arrays[key].dtype.kind != kind or arrays[key].ndim != 1:
            raise FormatError(
                f"{name}: the array {key!r} has dtype {arrays[key].dtype} and shape "
                f"{arrays[key].shape}; expected a 1-D array of kind {kind!r}"
            )
    try:
        header = json.loads(arrays["header"].tobytes().decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise FormatError(f"{name}: the header is not valid JSON: {err}") from None
    except RecursionError:
        raise FormatError(f"{name}: the header nests too deeply to be an edgenet header") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise FormatError(f"{name}: the header does not describe an edgenet network")
    if header.get("version") != VERSION:
        raise FormatError(
            f"{name}: format version {header.get('version')!r}; this edgenet reads version "
            f"{VERSION}"
        )
    ids = header.get("nodes")
    acts = header.get("activations")
    if not isinstance(ids, list) or not all(type(n) in (int, str) for n in ids):
        raise FormatError(f"{name}: the node list must hold int and str ids")
    if len(set(ids)) != len(ids):
        raise FormatError(f"{name}: the node list holds a node id twice")
    if not isinstance(acts, list) or not all(isinstance(a, str) for a in acts):
        raise FormatError(f"{name}: the activation list must hold names")
    n, e = len(ids), len(arrays["src"])
    for key, size in (("dst", e), ("weight", e), ("has_weight", e), ("bias", n),
                      ("has_bias", n), ("role", n), ("activation", n)):
        if len(arrays[key]) != size:
            raise FormatError(
                f"{name}: the array {key!r} has {len(arrays[key])} entries; expected {size}"
            )
    for key, hi in (("src", n), ("dst", n), ("activation", len(acts)), ("role", len(ROLES))):
        a = arrays[key]
        if len(a) and (a.min() < (0 if key in ("src", "dst") else -1) or a.max() >= hi):
            raise FormatError(f"{name}: the array {key!r} holds an index out of range")
    for key, values, has in (("weight", "weight", "has_weight"), ("bias", "bias", "has_bias")):
        bad = arrays[has] & ~np.isfinite(arrays[values])
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            owner = (f"edge ({ids[arrays['src'][i]]!r}, {ids[arrays['dst'][i]]!r})"
                     if key == "weight" else f"node {ids[i]!r}")
            raise FormatError(
                f"{name}: {owner} has {key} {float(arrays[values][i])!r}; expected a finite "
                "number (the file is damaged or was not written by edgenet.save)"
            )
    if e:
        pairs = arrays["src"].astype(np.int64) * max(n, 1) + arrays["dst"]
        unique, first, counts = np.unique(pairs, return_index=True, return_counts=True)
        if len(unique) < e:
            i = int(first[np.flatnonzero(counts > 1)[0]])
            u, v = ids[arrays["src"][i]], ids[arrays["dst"][i]]
            raise FormatError(f"{name}: the edge list holds edge ({u!r}, {v!r}) twice")
    for key, fields in (("node_attributes", _NODE_FIELDS), ("edge_attributes", ("weight",))):
        extra = header.get(key, [])
        size = n if key == "node_attributes" else e
        if not isinstance(extra, list) or not all(
            isinstance(x, list) and len(x) == 2 and type(x[0]) is int and 0 <= x[0] < size
            and isinstance(x[1], dict) for x in extra
        ):
            raise FormatError(f"{name}: the header's {key} are malformed")
        for i, attrs in extra:
            taken = next((k for k in fields if k in attrs), None)
            if taken is not None:
                raise FormatError(
                    f"{name}: the header's {key} give entry {i} a {taken!r} "
                    f"({attrs[taken]!r}), which only the {taken!r} array may hold"
                )
    if not isinstance(header.get("graph", {}), dict):
        raise FormatError(f"{name}: the header's graph attributes are malformed")
    return header, arrays


def _node_fields(header: dict[str, Any], arrays: dict[str, np.ndarray], i: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    r = int(arrays["role"][i])
    if r >= 0:
        out["role"] = ROLES[r]
    a = int(arrays["activation"][i])
    if a >= 0:
        out["activation"] = header["activations"][a]
    if arrays["has_bias"][i]:
        out["bias"] = float(arrays["bias"][i])
    return out


def _build(name: str, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> Network:
    ids = header["nodes"]
    acts = header["activations"]
    roles = arrays["role"].tolist()
    codes = arrays["activation"].tolist()
    bias = arrays["bias"].tolist()
    has_bias = arrays["has_bias"].tolist()
    with paused_gc():
        node_data: list[dict[str, Any]] = []
        for r, a, b, hb in zip(roles, codes, bias, has_bias, strict=True):
            d: dict[str, Any] = {}
            if r >= 0:
                d["role"] = ROLES[r]
            if a >= 0:
                d["activation"] = acts[a]
            if hb:
                d["bias"] = b
            node_data.append(d)
        for i, extra in header.get("node_attributes", []):
            node_data[i].update(extra)
        us = [ids[i] for i in arrays["src"].tolist()]
        vs = [ids[i] for i in arrays["dst"].tolist()]
        has = arrays["has_weight"]
        if has.all():
            data = [{"weight": w} for w in arrays["weight"].tolist()]
        else:
            data = [{"weight": w} if h else {} for w, h in
                    zip(arrays["weight"].tolist(), has.tolist(), strict=True)]
        for i, extra in header.get("edge_attributes", []):
            data[i].update(extra)
    G, repeated = bulk_graph(list(zip(ids, node_data, strict=True)), us, vs, data)
    if repeated:
        raise FormatError(f"{name}: the edge list holds an edge twice")
    G.graph.update(header.get("graph", {}))
    return G


def _same_topology(
    name: str,
    ids: list[Hashable],
    src: np.ndarray,
    dst: np.ndarray,
    nodes: set[Hashable],
    edges: set[tuple[Hashable, Hashable]],
    what: str,
) -> None:
    if set(ids) != nodes:
        _mismatch(name, what, "node", ids, nodes)
    file_edges = list(zip([ids[i] for i in src.tolist()], [ids[i] for i in dst.tolist()],
                          strict=True))
    if len(file_edges) != len(edges) or not edges.issuperset(file_edges):
        _mismatch(name, what, "edge", file_edges, edges)


def _mismatch(name: str, what: str, kind: str, in_file: list[Any], expected: set[Any]) -> NoReturn:
    """Raise naming the first ``kind`` (node or edge) that only one side has."""
    counts = f"({len(in_file)} {kind}s in the file, {len(expected)} in the {what})"
    for item in in_file:
        if item not in expected:
            raise EdgenetError(
                f"{name} does not match the {what}: {kind} {item!r} is in the file but not in "
                f"the {what} {counts}"
            )
    missing = next(iter(expected - set(in_file)))
    raise EdgenetError(
        f"{name} does not match the {what}: {kind} {missing!r} is in the {what} but not in "
        f"the file {counts}"
    )


def _into_model(
    name: str, header: dict[str, Any], arrays: dict[str, np.ndarray], model: Any
) -> None:
    import torch

    ids = header["nodes"]
    src, dst = arrays["src"], arrays["dst"]
    _same_topology(name, ids, src, dst, set(model.nodes), set(model.edges), "compiled network")
    index = {n: i for i, n in enumerate(ids)}
    acts = header["activations"]
    codes = arrays["activation"]
    for n, act in zip(model.neurons, model.activations, strict=True):
        code = int(codes[index[n]])
        if code >= 0 and acts[code] != act:
            raise EdgenetError(
                f"{name} does not match the compiled network: node {n!r} has activation "
                f"{acts[code]!r} in the file and {act!r} in the network; compile the loaded "
                "network instead (edgenet.load(path).compile())"
            )
    plan_tau = getattr(getattr(model, "plan", None), "tau", None)  # a recurrent network's
    if plan_tau is not None:
        extra = dict(header.get("node_attributes", []))  # node index -> other attributes
        for n, tau in zip(model.neurons, plan_tau.tolist(), strict=True):
            raw = extra.get(index[n], {}).get("tau")
            stored = time_constant(raw, f"{name}: tau of node {n!r}")
            if stored != tau:
                raise EdgenetError(
                    f"{name} does not match the compiled network: node {n!r} has tau "
                    f"{stored if raw is None else raw!r} in the file and {tau!r} in the "
                    "network; compile the loaded network instead "
                    "(edgenet.load(path).compile(recurrent=True, ...))"
                )
    position = {(u, v): k for k, (u, v) in enumerate(zip(src.tolist(), dst.tolist(),
                                                         strict=True))}
    order = np.fromiter((position[index[u], index[v]] for u, v in model.edges), dtype=np.int64,
                        count=len(position))
    weight = arrays["weight"][order]  # (E,) in the model's edge order
    keep_w = arrays["has_weight"][order]
    rows = np.asarray([index[n] for n in model.neurons], dtype=np.int64)
    bias = arrays["bias"][rows]  # (N - n_inputs,)
    keep_b = arrays["has_bias"][rows]
    with torch.no_grad():
        w = model.weight.detach().cpu().double().numpy().copy()
        b = model.bias.detach().cpu().double().numpy().copy()
        w[keep_w] = weight[keep_w]
        b[keep_b] = bias[keep_b]
        model.weight.copy_(torch.as_tensor(w).to(model.weight))
        model.bias.copy_(torch.as_tensor(b).to(model.bias))
