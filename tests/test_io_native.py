"""The native save format: bit-exact, never unpickles, refuses mismatched topologies."""

from __future__ import annotations

import io
import json
import os
import pickle
import time

import networkx as nx
import numpy as np
import pytest
import torch
from dags import bits, saved_networks
from hypothesis import given, settings

import edgenet as en
from edgenet.io import native


@settings(max_examples=60, deadline=None)
@given(saved_networks())
def test_round_trip_is_bit_exact(tmp_path_factory, net):
    path = tmp_path_factory.mktemp("n") / "net.npz"
    en.save(net, path)
    back = en.load(path)
    assert list(back.nodes) == list(net.nodes)
    assert [type(n) for n in back] == [type(n) for n in net]
    assert list(back.edges) == list(net.edges)
    for u, v, data in net.edges(data=True):
        assert back.edges[u, v].keys() == data.keys()
        if "weight" in data:
            assert bits(back.edges[u, v]["weight"]) == bits(data["weight"])
    for n, data in net.nodes(data=True):
        assert back.nodes[n].keys() == data.keys()
        assert bits(back.nodes[n].get("bias", 0.0)) == bits(data.get("bias", 0.0))


def test_trained_model_saves_and_loads_into_a_fresh_model(tmp_path):
    net = en.Network()
    net.add_input("a")
    net.add_input("b")
    net.add_neuron("h", activation="tanh")
    net.add_output("y")
    net.add_edges_from([("a", "h"), ("b", "h"), ("h", "y"), ("a", "y")])
    model = net.compile(dtype=torch.float64, seed=1)
    with torch.no_grad():
        model.bias.fill_(-0.0)
        model.weight[0] = 5e-324
    en.save(model, tmp_path / "m.npz")
    fresh = net.compile(dtype=torch.float64, seed=2)
    assert en.load(tmp_path / "m.npz", into=fresh) is fresh
    assert torch.equal(fresh.weight, model.weight)
    assert fresh.bias.view(torch.int64).tolist() == model.bias.view(torch.int64).tolist()
    x = torch.randn(3, 2, dtype=torch.float64)
    assert torch.equal(fresh(x), model(x))
    rebuilt = en.load(tmp_path / "m.npz").compile(dtype=torch.float64)
    assert torch.equal(rebuilt(x), model(x))


def test_load_into_a_network_updates_it_in_place(tmp_path):
    a = nx.DiGraph([(0, 1, {"weight": 1.0}), (1, 2, {"weight": 2.0})])
    b = nx.DiGraph([(0, 1, {"weight": 9.0}), (1, 2, {"weight": 9.0, "note": "kept"})])
    b.nodes[1]["bias"] = 3.0
    en.save(a, tmp_path / "a.npz")
    assert en.load(tmp_path / "a.npz", into=b) is b
    assert list(b.edges(data=True)) == [(0, 1, {"weight": 1.0}),
                                        (1, 2, {"weight": 2.0, "note": "kept"})]
    assert b.nodes[1] == {"bias": 3.0}  # the file has no bias for node 1: nothing to overwrite


@pytest.mark.parametrize("other, message", [
    (nx.DiGraph([(0, 1), (1, 2), (0, 2)]), r"edge \(0, 2\) is in the network but not in the file"),
    (nx.DiGraph([(0, 1)]), r"node 2 is in the file but not in the network"),
    (nx.DiGraph([(0, 1), (2, 1)]), r"edge \(1, 2\) is in the file but not in the network"),
    (nx.DiGraph([(0, 1), (1, 2), (2, 3)]), r"node 3 is in the network but not in the file"),
])
def test_mismatched_topology_is_refused_and_nothing_changes(tmp_path, other, message):
    en.save(nx.DiGraph([(0, 1, {"weight": 1.0}), (1, 2, {"weight": 2.0})]), tmp_path / "a.npz")
    before = nx.node_link_data(other, edges="links")
    with pytest.raises(en.EdgenetError, match=r"a\.npz does not match the network: " + message):
        en.load(tmp_path / "a.npz", into=other)
    assert nx.node_link_data(other, edges="links") == before


def test_mismatched_compiled_network_is_refused(tmp_path):
    net = nx.DiGraph([("x", "h"), ("h", "y")])
    en.save(net, tmp_path / "a.npz")
    model = en.compile(nx.DiGraph([("x", "h"), ("h", "y"), ("x", "y")]), seed=0)
    before = model.weight.detach().clone()
    with pytest.raises(en.EdgenetError, match=r"does not match the compiled network: edge "
                                              r"\('x', 'y'\) is in the compiled network"):
        en.load(tmp_path / "a.npz", into=model)
    assert torch.equal(model.weight, before)
    other = en.Network()
    other.add_input("x")
    other.add_neuron("h", activation="tanh")
    other.add_output("y")
    other.add_edges_from([("x", "h"), ("h", "y")])
    net2 = en.Network()
    net2.add_input("x")
    net2.add_neuron("h", activation="relu")
    net2.add_output("y")
    net2.add_edges_from([("x", "h", {"weight": 1.0}), ("h", "y", {"weight": 1.0})])
    en.save(net2, tmp_path / "b.npz")
    with pytest.raises(en.EdgenetError, match=r"node 'h' has activation 'relu' in the file and "
                                              r"'tanh' in the network"):
        en.load(tmp_path / "b.npz", into=other.compile(seed=0))


def test_a_recurrent_model_refuses_a_file_with_other_time_constants(tmp_path):
    # the same weights with another tau are another function: loading must not mix them
    def rnn(weight, **taus):
        G = nx.DiGraph([("x", "a", {"weight": weight}), ("a", "b", {"weight": weight}),
                        ("b", "a", {"weight": 0.5})])
        for n, tau in taus.items():
            G.nodes[n]["tau"] = tau
        return en.compile(G, recurrent=True, inputs=["x"], outputs=["b"], dtype=torch.float64)

    en.save(rnn(1.0, a=5, b=0.1), tmp_path / "r.npz")
    same = en.load(tmp_path / "r.npz", into=rnn(2.0, a=5.0, b=0.1))  # 5 == 5.0: accepted
    assert torch.equal(same.weight, torch.tensor([1.0, 1.0, 0.5], dtype=torch.float64))
    for model, node, in_file, in_model in [(rnn(2.0, b=0.1), "a", "5", "1.0"),
                                           (rnn(2.0, a=5, b=0.2), "b", "0.1", "0.2")]:
        weight, bias = model.weight.clone(), model.bias.clone()
        x = torch.ones(2, 1, dtype=torch.float64)
        y = model(x, steps=3, dt=0.05)  # dt below every tau: a stable update
        with pytest.raises(en.EdgenetError, match=rf"r.npz does not match the compiled network: "
                           rf"node '{node}' has tau {in_file} in the file and {in_model} in the "
                           r"network; compile the loaded network instead"):
            en.load(tmp_path / "r.npz", into=model)
        assert torch.equal(model.weight, weight) and torch.equal(model.bias, bias)
        assert torch.equal(model(x, steps=3, dt=0.05), y)
    en.save(rnn(1.0), tmp_path / "plain.npz")  # no tau in the file: 1
    with pytest.raises(en.EdgenetError, match=r"node 'a' has tau 1.0 in the file and 5.0 in"):
        en.load(tmp_path / "plain.npz", into=rnn(2.0, a=5))


def test_into_must_be_a_graph_or_model(tmp_path):
    en.save(nx.DiGraph([(0, 1)]), tmp_path / "a.npz")
    with pytest.raises(en.EdgenetError, match=r"into= must be a networkx.DiGraph.*\(got dict\)"):
        en.load(tmp_path / "a.npz", into={})


def test_extra_attributes_round_trip(tmp_path):
    G = nx.DiGraph(name="demo", meta={"epochs": 3, "lr": [0.1, 0.01]})
    G.add_node("a", pos=[1.5, -2.0], flag=True)
    G.add_edge("a", "b", weight=0.5, kind="exc", delay=None)
    en.save(G, tmp_path / "g.npz")
    back = en.load(tmp_path / "g.npz")
    assert back.graph == G.graph
    assert dict(back.nodes(data=True)) == dict(G.nodes(data=True))
    assert list(back.edges(data=True)) == list(G.edges(data=True))


@pytest.mark.parametrize("graph, message", [
    (nx.DiGraph([((0, 1), 2)]), r"node \(0, 1\) has an id of type tuple; saved node ids must be"),
    (nx.DiGraph([(0, 1, {"tags": {1, 2}})]),
     r"attribute 'tags' of edge \(0, 1\) holds \{1, 2\} of type set"),
    (nx.DiGraph([(0, 1, {"weight": "x"})]), r"weight of edge \(0, 1\) is 'x'"),
    (nx.DiGraph([(0, 1, {"weight": float("nan")})]), r"edge \(0, 1\) has weight nan"),
    (nx.Graph([(0, 1)]), r"save expects an edgenet.Network.*\(got Graph\)"),
])
def test_unsaveable_graphs_are_refused(tmp_path, graph, message):
    with pytest.raises(en.EdgenetError, match=message):
        en.save(graph, tmp_path / "x.npz")
    assert os.listdir(tmp_path) == []


def test_bad_node_fields_are_refused(tmp_path):
    G = nx.DiGraph()
    G.add_node("h", role="middle")
    with pytest.raises(en.EdgenetError, match=r"node 'h' has role 'middle'; accepted roles"):
        en.save(G, tmp_path / "x.npz")
    G.nodes["h"]["role"] = "hidden"
    G.nodes["h"]["activation"] = 3
    with pytest.raises(en.EdgenetError, match=r"node 'h' has activation 3 of type int"):
        en.save(G, tmp_path / "x.npz")
    G.nodes["h"]["activation"] = "relu"
    G.nodes["h"]["bias"] = float("inf")
    with pytest.raises(en.EdgenetError, match=r"bias of node 'h' is inf"):
        en.save(G, tmp_path / "x.npz")
    G.nodes["h"]["bias"] = 0.0
    G.nodes["h"]["d"] = {1: 2}
    with pytest.raises(en.EdgenetError, match=r"attribute 1 of node 'h' has a key of type int"):
        en.save(G, tmp_path / "x.npz")


def test_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "a.npz"
    en.save(nx.DiGraph([(0, 1, {"weight": 1.0})]), path)
    before = path.read_bytes()

    def broken(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="No space left"):
        en.save(nx.DiGraph([(0, 1, {"weight": 2.0})]), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["a.npz"]


# --------------------------------------------------------------------------- hostile files


class Boom:
    def __reduce__(self):
        return (os.mkdir, (os.path.join(os.environ["EDGENET_TEST_DIR"], "pwned"),))


def valid_arrays():
    G = nx.DiGraph([(0, 1, {"weight": 1.0}), (1, 2, {"weight": 2.0})])
    path = os.path.join(os.environ["EDGENET_TEST_DIR"], "ok.npz")
    en.save(G, path)
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    os.unlink(path)
    return arrays


def write_npz(path, arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def header(arrays, **changes):
    h = json.loads(arrays["header"].tobytes())
    h.update(changes)
    return np.frombuffer(json.dumps(h).encode(), dtype=np.uint8)


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGENET_TEST_DIR", str(tmp_path))
    return tmp_path


def test_pickles_are_never_loaded(workdir):
    (workdir / "evil.npz").write_bytes(pickle.dumps(Boom()))
    with pytest.raises(en.FormatError, match=r"evil\.npz: not an edgenet save file"):
        en.load(workdir / "evil.npz")
    arrays = valid_arrays()
    arrays["src"] = np.array([Boom()], dtype=object)
    write_npz(workdir / "evil2.npz", arrays)
    with pytest.raises(en.FormatError, match=r"evil2\.npz: the array 'src' holds Python "
                                             r"objects \(a pickle\), which edgenet never loads") as err:
        en.load(workdir / "evil2.npz")
    assert "allow_pickle" not in str(err.value)
    assert not (workdir / "pwned").exists()


def corrupt(arrays, **changes):
    out = dict(arrays)
    for k, v in changes.items():
        if v is None:
            del out[k]
        else:
            out[k] = v
    return out


@pytest.mark.parametrize("make, message", [
    (lambda a: corrupt(a, weight=None), r"the array 'weight' is missing"),
    (lambda a: corrupt(a, src=a["src"].astype(np.float64)), r"the array 'src' has dtype float64"),
    (lambda a: corrupt(a, dst=a["dst"][:1]), r"the array 'dst' has 1 entries; expected 2"),
    (lambda a: corrupt(a, dst=np.array([1, 7])), r"the array 'dst' holds an index out of range"),
    (lambda a: corrupt(a, activation=np.array([0, 0, 0], dtype=np.int32)),
     r"the array 'activation' holds an index out of range"),
    (lambda a: corrupt(a, header=np.frombuffer(b"{not json", dtype=np.uint8)),
     r"the header is not valid JSON"),
    (lambda a: corrupt(a, header=header(a, format="other")), r"does not describe an edgenet"),
    (lambda a: corrupt(a, header=header(a, version=99)), r"format version 99; this edgenet reads"),
    (lambda a: corrupt(a, header=header(a, nodes=[0, 1, 1])), r"holds a node id twice"),
    (lambda a: corrupt(a, header=header(a, nodes=[0, 1, [2]])), r"must hold int and str ids"),
    (lambda a: corrupt(a, header=header(a, activations=[1])), r"activation list must hold names"),
    (lambda a: corrupt(a, header=header(a, edge_attributes=[[5, {}]])),
     r"the header's edge_attributes are malformed"),
    (lambda a: corrupt(a, header=header(a, graph=[])), r"graph attributes are malformed"),
    (lambda a: corrupt(a, dst=np.array([1, 1]), src=np.array([0, 0])),
     r"the edge list holds edge \(0, 1\) twice"),
    (lambda a: corrupt(a, dst=np.array([2, 2]), src=np.array([1, 1])),
     r"the edge list holds edge \(1, 2\) twice"),
    *[(lambda a, x=x: corrupt(a, weight=np.array([1.0, x])), r"edge \(1, 2\) has weight " + r)
      for x, r in ((np.nan, "nan"), (np.inf, "inf"), (-np.inf, "-inf"))],
    *[(lambda a, x=x: corrupt(a, bias=np.array([np.nan, x, 0.0]),
                              has_bias=np.array([False, True, False])),
       r"node 1 has bias " + r) for x, r in ((np.nan, "nan"), (np.inf, "inf"))],
    *[(lambda a, k=k, v=v: corrupt(a, header=header(a, node_attributes=[[1, {k: v}]])),
       rf"node_attributes give entry 1 a '{k}'")
      for k, v in (("role", "junk"), ("bias", "x"), ("activation", 3), ("role", None))],
    (lambda a: corrupt(a, header=header(a, edge_attributes=[[0, {"weight": "junk"}]])),
     r"edge_attributes give entry 0 a 'weight' \('junk'\)"),
])
def test_damaged_files_are_refused(workdir, make, message):
    write_npz(workdir / "bad.npz", make(valid_arrays()))
    start = time.perf_counter()
    with pytest.raises(en.FormatError, match=r"bad\.npz: .*" + message):
        en.load(workdir / "bad.npz")
    assert time.perf_counter() - start < 2.0


def test_a_damaged_file_is_refused_when_loaded_into_a_model_too(workdir):
    write_npz(workdir / "dup.npz", corrupt(valid_arrays(), src=np.array([0, 0]),
                                           dst=np.array([1, 1])))
    model = nx.DiGraph([(0, 1), (1, 2)])
    with pytest.raises(en.FormatError, match=r"edge \(0, 1\) twice"):
        en.load(workdir / "dup.npz", into=en.compile(model, seed=0))


def test_unused_members_are_never_inflated(workdir, monkeypatch):
    import zipfile
    arrays = valid_arrays()
    path = workdir / "extra.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for k, v in arrays.items():
            with z.open(k + ".npy", "w") as f:
                np.lib.format.write_array(f, v)
        with z.open("unused.npy", "w") as f:  # 64 MiB of zeros, about 64 KiB on disk
            np.lib.format.write_array(f, np.zeros(8 << 20))
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open",
                        lambda self, name, *a, **k: opened.append(str(getattr(name, "filename", name))) or real_open(self, name, *a, **k))
    assert list(en.load(path).edges) == [(0, 1), (1, 2)]
    assert "unused.npy" not in opened and "src.npy" in opened


def test_arrays_inflating_past_the_ceiling_are_refused_before_inflating(workdir, monkeypatch):
    import zipfile
    arrays = valid_arrays()
    arrays["src"] = np.zeros(4 << 20, dtype=np.int64)  # 32 MiB, about 32 KiB deflated
    path = workdir / "bomb.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for k, v in arrays.items():
            with z.open(k + ".npy", "w") as f:
                np.lib.format.write_array(f, v)
    monkeypatch.setattr(native, "INFLATE_FLOOR", 1 << 20)  # the ratio decides, not the floor
    monkeypatch.setattr(np.lib.npyio.NpzFile, "__getitem__",
                        lambda self, key: pytest.fail("inflated"))
    with pytest.raises(en.FormatError, match=r"bomb\.npz: its arrays would inflate to [\d,]+ "
                       r"bytes, more than 64 times the file's [\d,]+ bytes"):
        en.load(path)


@pytest.mark.parametrize("flip", [0.3, 0.5, 0.7, 0.9])
def test_a_corrupt_compressed_member_is_a_format_error(workdir, flip):
    import zipfile
    arrays = valid_arrays()
    arrays["weight"] = np.linspace(0, 1, 4000)[:2]
    path = workdir / "z.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for k, v in arrays.items():
            with z.open(k + ".npy", "w") as f:
                np.lib.format.write_array(f, v)
    data = bytearray(path.read_bytes())
    at = data.find(b"header.npy") + 40
    for i in range(at, at + 20):
        data[i] ^= 0xA5
    path.write_bytes(bytes(data))
    with pytest.raises(en.FormatError, match=r"z\.npz: "):
        en.load(path)


@pytest.mark.parametrize("content, message", [
    (b"", r"not an edgenet save file"),
    (b"<graphml/>", r"not an edgenet save file"),
    (b"PK\x03\x04garbage", r"not an edgenet save file"),
])
def test_wrong_typed_files_are_refused(workdir, content, message):
    (workdir / "bad.npz").write_bytes(content)
    with pytest.raises(en.FormatError, match=r"bad\.npz: " + message):
        en.load(workdir / "bad.npz")


def test_truncated_and_single_array_files_are_refused(workdir):
    en.save(nx.DiGraph([(i, i + 1, {"weight": 1.0}) for i in range(500)]), workdir / "a.npz")
    data = (workdir / "a.npz").read_bytes()
    (workdir / "cut.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(en.FormatError, match=r"cut\.npz: not an edgenet save file"):
        en.load(workdir / "cut.npz")
    np.save(workdir / "one.npy", np.arange(3))
    with pytest.raises(en.FormatError, match=r"one\.npy: holds a single array"):
        en.load(workdir / "one.npy")


def test_streams_are_read(tmp_path):
    en.save(nx.DiGraph([("a", "b", {"weight": 0.5})]), tmp_path / "a.npz")
    back = en.load(io.BytesIO((tmp_path / "a.npz").read_bytes()))
    assert list(back.edges(data="weight")) == [("a", "b", 0.5)]
    with pytest.raises(en.FormatError, match=r"<stream>: not an edgenet save file"):
        en.load(io.BytesIO(b"nope"))
    assert native.FORMAT == "edgenet-network"


def test_float32_model_round_trip(tmp_path):
    net = en.from_connection_matrices([[[1, 1], [0, 1]], [[1], [1]]], activation="tanh")
    model = net.compile(seed=3)  # float32
    en.save(model, tmp_path / "m.npz")
    fresh = en.load(tmp_path / "m.npz", into=net.compile(seed=4))
    assert fresh.weight.dtype == torch.float32
    assert torch.equal(fresh.weight, model.weight) and torch.equal(fresh.bias, model.bias)


# --------------------------------------------------------------------------- odd values


@pytest.mark.parametrize("where", ["id", "node", "edge", "graph", "dict-key"])
@pytest.mark.parametrize("char", ["\ud800", "\udfff", "\udc80"])
def test_lone_surrogates_are_refused_by_owner(tmp_path, where, char):
    G = nx.DiGraph([("a", "b")])
    if where == "id":
        G.add_edge("x" + char, "b")
        owner = r"node id 'x\\ud[89a-f]\w\w'"
    elif where == "node":
        G.nodes["a"]["note"] = "t" + char
        owner = r"an attribute of node 'a'"
    elif where == "edge":
        G.edges["a", "b"]["note"] = ["t" + char]
        owner = r"an attribute of edge \('a', 'b'\)"
    elif where == "graph":
        G.graph["note"] = char
        owner = r"a graph attribute"
    else:
        G.nodes["b"]["note"] = {char: 1}
        owner = r"an attribute of node 'b'"
    with pytest.raises(en.EdgenetError, match=rf"cannot save {owner}: it holds '\\ud[89a-f]\w\w', "
                       "a lone surrogate"):
        en.save(G, tmp_path / "s.npz")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("kind", [list, dict])
def test_attributes_nested_too_deeply_are_refused(tmp_path, kind):
    value: object = 1
    for _ in range(native.MAX_NESTING + 1):
        value = [value] if kind is list else {"k": value}
    G = nx.DiGraph([("a", "b", {"deep": value})])
    with pytest.raises(en.EdgenetError, match=r"attribute 'deep' of edge \('a', 'b'\) nests "
                       r"lists or dicts more than 100 deep"):
        en.save(G, tmp_path / "d.npz")
    value = value[0] if kind is list else value["k"]  # exactly the limit: saved and read back
    G.edges["a", "b"]["deep"] = value
    en.save(G, tmp_path / "d.npz")
    assert en.load(tmp_path / "d.npz").edges["a", "b"]["deep"] == value


def test_a_deeply_nested_header_is_a_format_error(workdir):
    arrays = valid_arrays()
    text = json.loads(arrays["header"].tobytes())
    raw = json.dumps(text)[:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    write_npz(workdir / "deep.npz", corrupt(arrays, header=np.frombuffer(raw.encode(), np.uint8)))
    with pytest.raises(en.FormatError, match=r"deep\.npz: the header nests too deeply"):
        en.load(workdir / "deep.npz")


def test_save_to_and_load_from_a_binary_stream():
    G = nx.DiGraph([(0, 1, {"weight": 0.25})])
    buffer = io.BytesIO()
    en.save(G, buffer)
    buffer.seek(0)
    assert list(en.load(buffer).edges(data=True)) == [(0, 1, {"weight": 0.25})]


def test_bytes_paths_are_paths(tmp_path):
    path = os.fsencode(tmp_path / "b.npz")
    en.save(nx.DiGraph([(0, 1)]), path)
    assert list(en.load(path).edges) == [(0, 1)]


@pytest.mark.parametrize("target", ["sub/", "sub" + os.sep, "existing"])
def test_save_refuses_a_directory_path_and_writes_nothing(tmp_path, target):
    (tmp_path / "existing").mkdir()
    path = str(tmp_path / "dir") + os.sep + target if target != "existing" else str(
        tmp_path / "existing")
    os.makedirs(os.path.dirname(path.rstrip("/" + os.sep)), exist_ok=True)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    with pytest.raises(en.EdgenetError, match=r"cannot save to .*: it names a directory; "
                       r"expected a file path, such as .*net\.npz"):
        en.save(nx.DiGraph([(0, 1)]), path)
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before


def test_save_refuses_a_path_that_is_not_one():
    with pytest.raises(en.EdgenetError, match=r"save expects a file path or a binary stream "
                       r"with write\(\) \(got 3 of type int\)"):
        en.save(nx.DiGraph([(0, 1)]), 3)
