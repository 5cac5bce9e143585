"""Fuzzing the file readers: a damaged GraphML, .graphml.gz or .npz file gives a typed error
or exactly the right network, never another exception, and in bounded time.

"Exactly right" has an oracle in each case: the GraphML fast lane must agree with the
ordinary reader on the same bytes; a .gz must read as its decompressed bytes do; an .npz
whose bytes were damaged must be refused (zip checksums) or read as the original; an .npz
whose arrays were changed must be refused or read as a plain decoding of those arrays
says. Sizes are small and examples few (``EDGENET_FUZZ`` raises their number).
"""

from __future__ import annotations

import gzip
import io
import json
import math
import os
import warnings
import zlib

import networkx as nx
import numpy as np
import pytest
from dags import bits
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import edgenet as en

EXAMPLES = int(os.environ.get("EDGENET_FUZZ", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=10_000,  # per example, on a loaded machine
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

FRAGMENTS = [b"<", b">", b'"', b"'", b"&", b"&amp;", b"&#0;", b"<!--", b"-->", b"<![CDATA[",
             b"<!DOCTYPE g>", b"<graph>", b"</graph>", b"<node id='z'/>", b"</node>",
             b"<edge source='a' target='z'/>", b' directed="false"', b"<data key='d9'>1</data>",
             b"_", b"nan", b"inf", b"1e400", b"-0", b"\x00", b"\xff", b"\xc3", b"\n", b"\r",
             b"<hyperedge/>", b"xmlns:q='urn:q'", b"<q:node id='y'/>", b"</graphml>"]


def network() -> en.Network:
    net = en.Network()
    net.add_input("a")
    net.add_input(" b&<")
    net.add_neuron("h", activation="tanh", bias=-0.25)
    net.add_output("y", bias=5e-324)
    net.add_edge("a", "h", weight=0.5)
    net.add_edge(" b&<", "h", weight=-1e300)
    net.add_edge("h", "y", weight=1 / 3)
    net.add_edge("a", "y")
    net.nodes["h"]["note"] = "x\ty"
    return net


def graphml_bytes(G) -> bytes:
    out = io.BytesIO()
    en.write_graphml(G, out)
    return out.getvalue()


CANONICAL = graphml_bytes(network())
FOREIGN = "\n".join(nx.generate_graphml(network())).encode()


@st.composite
def mutated(draw, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["flip", "delete", "insert", "repeat", "truncate"]))
        if kind == "flip" and at < len(data):
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "delete":
            del data[at:at + draw(st.integers(1, 40))]
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from(FRAGMENTS))
        elif kind == "repeat":
            data[at:at] = data[at:at + draw(st.integers(1, 80))]
        else:
            del data[at:]
    return bytes(data)


class Unseekable(io.RawIOBase):
    """A stream the fast lane cannot rewind: always the ordinary reader."""

    def __init__(self, data: bytes):
        self.f = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        chunk = self.f.read(len(b))
        b[: len(chunk)] = chunk
        return len(chunk)


def outcome(read):
    try:
        G = read()
    except en.GraphMLError as err:
        return ("error", str(err).split(": ", 1)[-1].split(",")[0][:40])
    return ("graph", list(G.nodes(data=True)),
            [(u, v, {k: bits(x) if isinstance(x, float) else x for k, x in d.items()})
             for u, v, d in G.edges(data=True)], dict(G.graph))


@FUZZ
@given(st.sampled_from([CANONICAL, FOREIGN]).flatmap(mutated))
def test_damaged_graphml_is_a_typed_error_or_what_the_ordinary_reader_reads(data):
    fast = outcome(lambda: en.read_graphml(io.BytesIO(data)))
    ordinary = outcome(lambda: en.read_graphml(Unseekable(data)))
    assert fast[0] == ordinary[0]
    if fast[0] == "graph":
        assert fast == ordinary
        for _, _, w in fast[2]:
            assert all(not isinstance(x, bytes) or math.isfinite(
                np.frombuffer(x, "<f8")[0]) for k, x in w.items() if k == "weight")


@FUZZ
@given(st.sampled_from([CANONICAL, FOREIGN]).flatmap(mutated), st.booleans())
def test_damaged_gz_is_a_typed_error_or_what_its_bytes_read_as(tmp_path_factory, data, packed):
    path = tmp_path_factory.mktemp("gz") / "net.graphml.gz"
    if packed:  # damage the compressed bytes instead
        data = bytes(mutated_once(gzip.compress(CANONICAL, mtime=0), data))
        path.write_bytes(data)
    else:
        path.write_bytes(gzip.compress(data, mtime=0))
    got = outcome(lambda: en.read_graphml(path))
    try:
        plain = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error):
        assert got[0] == "error"
        return
    assert got == outcome(lambda: en.read_graphml(io.BytesIO(plain)))


def mutated_once(original: bytes, seed: bytes) -> bytes:
    data = bytearray(original)
    rng = np.random.default_rng(list(seed[:8]) or [0])
    at = int(rng.integers(0, len(data)))
    data[at] ^= int(rng.integers(1, 256))
    return bytes(data)


# --------------------------------------------------------------------------- .npz


def npz_bytes(G) -> bytes:
    out = io.BytesIO()
    en.save(G, out)
    return out.getvalue()


SAVED = npz_bytes(network())


def same_network(G, H) -> bool:
    if list(G.nodes(data=True)) != list(H.nodes(data=True)) or list(G.edges) != list(H.edges):
        return False
    return all(bits(d.get("weight", 0.0)) == bits(H.edges[u, v].get("weight", 0.0))
               for u, v, d in G.edges(data=True))


@FUZZ
@given(mutated(SAVED))
def test_damaged_npz_bytes_are_a_format_error_or_the_original(data):
    try:
        G = en.load(io.BytesIO(data))
    except en.FormatError:
        return
    assert same_network(G, network())


def arrays_of(data: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(data)) as npz:
        return {k: npz[k] for k in npz.files}


BASE = arrays_of(SAVED)
HEADER = json.loads(BASE["header"].tobytes())
ODD_VALUES = st.one_of(st.integers(-3, 5), st.floats(), st.sampled_from(
    [None, True, "x", "role", [], {}, {"weight": 1}, {"role": "input"}, -1, 2**63, "\ud800"]))


@st.composite
def changed_arrays(draw):
    arrays = dict(BASE)
    header = json.loads(json.dumps(HEADER))
    for _ in range(draw(st.integers(1, 3))):
        key = draw(st.sampled_from(sorted(arrays)))
        if key == "header":
            field = draw(st.sampled_from(["nodes", "activations", "node_attributes",
                                          "edge_attributes", "graph", "version", "format"]))
            value = header.get(field)
            if isinstance(value, list) and value and draw(st.booleans()):
                value = list(value)
                value[draw(st.integers(0, len(value) - 1))] = draw(ODD_VALUES)
            else:
                value = draw(st.one_of(ODD_VALUES, st.lists(ODD_VALUES, max_size=3)))
            header[field] = value
            continue
        a = arrays[key].copy()
        how = draw(st.sampled_from(["value", "shorter", "longer", "dtype"]))
        if how == "value" and len(a):
            i = draw(st.integers(0, len(a) - 1))
            if a.dtype.kind == "f":
                with warnings.catch_warnings():  # 1e308 into an array made float32 above
                    warnings.simplefilter("ignore")
                    a[i] = draw(st.sampled_from([np.nan, np.inf, -np.inf, 1e308, -0.0, 5e-324]))
            elif a.dtype.kind == "b":
                a[i] = not a[i]
            else:
                a[i] = draw(st.integers(int(np.iinfo(a.dtype).min), int(np.iinfo(a.dtype).max)))
        elif how == "shorter":
            a = a[:-1]
        elif how == "longer":
            a = np.concatenate([a, a[:1]])
        else:
            with warnings.catch_warnings():  # NaN to int and the like: whatever numpy makes
                warnings.simplefilter("ignore")
                a = a.astype(draw(st.sampled_from([np.float32, np.int8, np.uint64, np.bool_])))
        arrays[key] = a
    try:
        text = json.dumps(header).encode()
    except UnicodeEncodeError:
        text = json.dumps(header, ensure_ascii=True).encode()
    arrays["header"] = np.frombuffer(text, dtype=np.uint8)
    return arrays


def decode(arrays) -> nx.DiGraph:
    """A plain decoding of valid arrays: what load must return when it accepts them."""
    header = json.loads(arrays["header"].tobytes())
    ids = header["nodes"]
    G = nx.DiGraph()
    for i, n in enumerate(ids):
        d = {}
        if arrays["role"][i] >= 0:
            d["role"] = ("input", "hidden", "output")[arrays["role"][i]]
        if arrays["activation"][i] >= 0:
            d["activation"] = header["activations"][arrays["activation"][i]]
        if arrays["has_bias"][i]:
            d["bias"] = float(arrays["bias"][i])
        G.add_node(n, **d)
    for i, extra in header.get("node_attributes", []):
        G.nodes[ids[i]].update(extra)
    edges = list(zip(arrays["src"].tolist(), arrays["dst"].tolist(), strict=True))
    for k, (u, v) in enumerate(edges):
        d = {"weight": float(arrays["weight"][k])} if arrays["has_weight"][k] else {}
        G.add_edge(ids[u], ids[v], **d)
    for k, extra in header.get("edge_attributes", []):
        u, v = edges[k]
        G.edges[ids[u], ids[v]].update(extra)
    G.graph.update(header.get("graph", {}))
    return G


@FUZZ
@given(changed_arrays())
def test_changed_npz_arrays_are_a_format_error_or_read_as_they_say(arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    buffer.seek(0)
    try:
        G = en.load(buffer)
    except en.FormatError:
        return
    want = decode(arrays)
    assert same_network(G, want) and G.graph == want.graph
    for _, _, w in G.edges(data="weight"):
        assert w is None or math.isfinite(w)
    for _, d in G.nodes(data=True):
        assert d.get("role", "input") in ("input", "hidden", "output")
        assert d.get("bias") is None or math.isfinite(d["bias"])
    assert G.number_of_edges() == len(arrays["src"])


@pytest.mark.parametrize("original", [CANONICAL, FOREIGN, SAVED], ids=["canonical", "foreign",
                                                                          "npz"])
def test_the_fuzz_starts_from_files_that_read(original):
    reader = en.load if original is SAVED else en.read_graphml
    assert same_network(reader(io.BytesIO(original)), network())
