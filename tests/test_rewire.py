"""Rewiring a compiled network in place: equal to a fresh compile of its graph, optimizer
state carried over, atomic refusals, and the seed's masked dense layer trained with torch's
Adam as the oracle for a mask that changes mid-training."""

from __future__ import annotations

import dataclasses

import networkx as nx
import numpy as np
import pytest
import torch
from dags import SMOOTH, networks
from hypothesis import given, settings
from hypothesis import strategies as st

import edgenet as en
from edgenet.model import schedulers
from edgenet.model.tensors import TENSOR_FIELDS


def fresh(model: en.CompiledNetwork) -> en.CompiledNetwork:
    return en.compile(model.to_network(), inputs=model.inputs, outputs=model.outputs,
                      dtype=model.weight.dtype, engine=model.engine)


def assert_same_as_fresh(model: en.CompiledNetwork, x: torch.Tensor) -> None:
    """The rewired model is bitwise what compiling its graph afresh gives."""
    other = fresh(model)
    assert model.nodes == other.nodes and model.edges == other.edges
    assert model.activations == other.activations
    for f in dataclasses.fields(model.layout):
        a, b = getattr(model.layout, f.name), getattr(other.layout, f.name)
        assert torch.equal(a, b) if f.name in TENSOR_FIELDS else a == b, f.name
    assert torch.equal(model.weight, other.weight) and torch.equal(model.bias, other.bias)
    for m in (model, other):
        m.zero_grad()
        m(x).square().sum().backward()
    assert torch.equal(model(x), other(x))
    assert torch.equal(model.weight.grad, other.weight.grad)
    assert torch.equal(model.bias.grad, other.bias.grad)
    assert model.summary() == other.summary()


def xor_net() -> en.Network:
    net = en.Network()
    net.add_input("a")
    net.add_input("b")
    net.add_neuron("h", activation="tanh", bias=0.1)
    net.add_output("y", activation="sigmoid")
    net.add_weighted_edges_from([("a", "h", 0.5), ("b", "h", -0.4), ("h", "y", 1.5),
                                 ("a", "y", 0.3)])
    return net


@settings(max_examples=30)
@given(net=networks(activations=SMOOTH, max_nodes=14), data=st.data())
def test_random_rewires_equal_a_fresh_compile(net, data):
    model = en.compile(net, dtype=torch.float64, seed=0)
    x = torch.randn(3, len(model.inputs), dtype=torch.float64,
                    generator=torch.Generator().manual_seed(1))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for step in range(data.draw(st.integers(1, 4))):
        model.zero_grad()
        model(x).sum().backward()
        opt.step()
        edges, nodes = model.edges, model.nodes
        n_in = len(model.inputs)
        remove = data.draw(st.lists(st.sampled_from(edges), unique=True, max_size=3)) \
            if edges else []
        # Forward pairs in the current row order cannot close a cycle.
        pairs = [(nodes[i], nodes[j]) for j in range(n_in, len(nodes)) for i in range(j)]
        free = [e for e in pairs if e not in set(edges) or e in remove]
        add = data.draw(st.lists(st.sampled_from(free), unique=True, max_size=3)) if free else []
        neurons, remove_neurons = {}, []
        if data.draw(st.booleans()) and edges:
            u, v = data.draw(st.sampled_from(edges))
            if (u, v) not in remove:
                name = f"new{step}"
                neurons[name] = {"activation": data.draw(st.sampled_from(SMOOTH)), "bias": 0.5}
                add = [e for e in add if e not in ((u, name), (name, v))] + [(u, name), (name, v)]
        hidden = [n for n in model.neurons if n not in model.outputs]
        if hidden and data.draw(st.booleans()):
            gone = data.draw(st.sampled_from(hidden))
            remove_neurons = [gone]
            remove = [e for e in remove if gone not in e]
            add = [e for e in add if gone not in e]
        weights = data.draw(st.lists(st.floats(-1, 1), min_size=len(add), max_size=len(add)))
        model.rewire(remove=remove, add=add, neurons=neurons, remove_neurons=remove_neurons,
                     weights=weights, optimizer=opt)
        assert_same_as_fresh(model, x)
        assert set(opt.state[model.weight]) <= {"step", "exp_avg", "exp_avg_sq"}
        assert opt.state[model.weight]["exp_avg"].shape == model.weight.shape


def test_neat_add_node_keeps_the_function():
    model = en.compile(xor_net(), dtype=torch.float64)
    x = torch.randn(8, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    before = model(x).detach()
    w = model.weight[model.edges.index(("h", "y"))].item()
    model.rewire(remove=[("h", "y")], add=[("h", "n"), ("n", "y")],
                 neurons={"n": {"activation": "identity"}}, weights=[1.0, w])
    torch.testing.assert_close(model(x), before, rtol=0, atol=1e-15)
    assert model.layout.depth == 3


def test_parameters_and_optimizer_state_follow_their_edges():
    model = en.compile(xor_net(), dtype=torch.float64)
    weight, bias = model.weight, model.bias
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    x = torch.randn(4, 2, dtype=torch.float64)
    model(x).sum().backward()
    opt.step()
    state = {e: (opt.state[weight]["exp_avg"][i].item(), weight[i].item())
             for i, e in enumerate(model.edges)}
    step = opt.state[weight]["step"].clone()
    model.rewire(remove=[("a", "y")], add=[("b", "y")], weights=[0.25], optimizer=opt)
    assert model.weight is weight and model.bias is bias  # the optimizer keeps working
    for i, e in enumerate(model.edges):
        moment, value = opt.state[weight]["exp_avg"][i].item(), weight[i].item()
        if e == ("b", "y"):
            assert (moment, value) == (0.0, 0.25)
            assert opt.state[weight]["exp_avg_sq"][i].item() == 0.0
        else:
            assert (moment, value) == state[e]
    assert torch.equal(opt.state[weight]["step"], step)
    assert weight.grad.shape == weight.shape
    model(x).sum().backward()
    opt.step()  # Adam runs on the new shapes
    assert model.state_dict()["weight"].shape == (4,)


def test_training_goes_on_while_the_last_loss_is_still_held():
    """A training loop keeps its last loss (and its graph) alive across the rewiring."""
    model = en.compile(xor_net())
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    x = torch.randn(4, 2)
    loss = model(x).square().sum()
    loss.backward()
    opt.step()
    model.rewire(add=[("b", "y")], optimizer=opt)
    loss = model(x).square().sum()  # the previous loss is alive while this graph is built
    loss.backward()
    opt.step()
    assert model.weight.grad.shape == (5,)


def test_new_neuron_bias_and_removed_neuron():
    model = en.compile(xor_net(), dtype=torch.float64)
    model.rewire(add=[("a", "n"), ("n", "y")], neurons={"n": {"activation": "tanh",
                                                              "bias": 0.7, "color": "red"}})
    i = model.neurons.index("n")
    assert model.bias[i].item() == 0.7 and model.activations[i] == "tanh"
    assert model.to_network().nodes["n"]["color"] == "red"
    model.rewire(remove_neurons=["h"])
    assert "h" not in model.nodes and all("h" not in e for e in model.edges)
    assert sorted(model.edges) == [("a", "n"), ("a", "y"), ("n", "y")]


def snapshot(model, opt):
    state = {k: v.clone() for k, v in opt.state[model.weight].items()}
    return (model.weight.detach().clone(), model.bias.detach().clone(), model.edges,
            model.nodes, model.summary(), state)


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(remove=[("a", "b")]), en.EdgenetError, r"remove= edge \('a', 'b'\) is not an edge"),
    (dict(remove=[("a", "zz")]), en.EdgenetError,
     r"remove= edge \('a', 'zz'\): node 'zz' is not a node of the network"),
    (dict(add=[("a", "h")]), en.EdgenetError, r"add= edge \('a', 'h'\) already exists"),
    (dict(add=[("h", "a")]), en.EdgenetError, r"add= edge \('h', 'a'\) goes into input 'a'"),
    (dict(add=[("h", "h")]), en.CycleError, r"cycle: 'h' -> 'h'"),
    (dict(add=[("q", "y")]), en.EdgenetError, r"node 'q' is not a node of the network"),
    (dict(add=[("y", "h")]), en.CycleError, r"'h' -> 'y' -> 'h'"),
    (dict(add=[("b", "y")], weights=[float("nan")]), en.EdgenetError,
     r"the weight of added edge \('b', 'y'\) is nan; expected a finite real number"),
    (dict(add=[("b", "y")], weights=[1.0, 2.0]), en.EdgenetError,
     r"weights= has 2 values for 1 added edges"),
    (dict(add=[("b", "y")], weights=[1e300]), en.EdgenetError,
     r"edge \('b', 'y'\) has weight 1e\+300, which torch.float32 cannot hold"),
    (dict(neurons={"h": {}}), en.EdgenetError, r"neurons= adds 'h', which is already a node"),
    (dict(neurons={"n": {"activation": "nope"}}), en.EdgenetError, r"unknown activation 'nope'"),
    (dict(neurons={"n": {"role": "output"}}), en.EdgenetError,
     r"neurons= gives 'n' role 'output'; new neurons are hidden"),
    (dict(neurons={"n": {"bias": "x"}}), en.EdgenetError,
     r"the bias of new neuron 'n' is 'x' of type str"),
    (dict(remove_neurons=["y"]), en.EdgenetError, r"remove_neurons= names output 'y'; only hidden"),
    (dict(remove_neurons=["a"]), en.EdgenetError, r"remove_neurons= names input 'a'"),
    (dict(remove_neurons=["zz"]), en.EdgenetError, r"remove_neurons= names 'zz', which is not"),
    (dict(remove_neurons=["h"], add=[("h", "y")]), en.EdgenetError,
     r"add= edge \('h', 'y'\): node 'h' is being removed"),
    (dict(add=[("b", "y"), ("b", "y")]), en.EdgenetError, r"add= lists edge \('b', 'y'\) twice"),
    (dict(add=["by"]), en.EdgenetError, r"add= must hold \(source, target\) pairs; got 'by'"),
])
def test_refused_rewires_change_nothing(kwargs, error, message):
    model = en.compile(xor_net())
    opt = torch.optim.Adam(model.parameters(), lr=0.1)
    model(torch.ones(2, 2)).sum().backward()
    opt.step()
    before = snapshot(model, opt)
    with pytest.raises(error, match=message):
        model.rewire(optimizer=opt, **kwargs)
    after = snapshot(model, opt)
    assert all(torch.equal(a, b) if isinstance(a, torch.Tensor) else a == b
               for a, b in zip(before[:5], after[:5]))
    assert all(torch.equal(before[5][k], after[5][k]) for k in before[5])


def test_rewire_on_a_custom_activation_engine_is_refused():
    model = en.compile(xor_net(), engine="fused")
    en.register_activation("rewire_cube", lambda z: z**3, overwrite=True)
    with pytest.raises(en.EdgenetError, match=r"engine='fused' runs built-in activations only; "
                       r"new neurons use \['rewire_cube'\]"):
        model.rewire(neurons={"n": {"activation": "rewire_cube"}}, add=[("a", "n")])


def test_save_and_load_follow_the_new_topology(tmp_path):
    model = en.compile(xor_net(), dtype=torch.float64)
    model.rewire(remove=[("a", "y")], add=[("b", "y")], weights=[0.5])
    path = tmp_path / "net.graphml"
    en.write_graphml(model.to_network(), path)
    again = en.compile(en.read_graphml(path), dtype=torch.float64)
    x = torch.randn(3, 2, dtype=torch.float64)
    assert torch.equal(again(x), model(x))
    en.save(model, tmp_path / "net.npz")
    loaded = en.compile(en.load(tmp_path / "net.npz"), dtype=torch.float64)
    assert torch.equal(loaded(x), model(x)) and set(loaded.edges) == set(model.edges)


# The seed's masked dense layer, trained with torch's Adam, as the oracle.

def masked_reference(W0, b0, M, x, t, steps, change_at, new_mask):
    W = torch.nn.Parameter(W0.clone())
    b = torch.nn.Parameter(b0.clone())
    opt = torch.optim.Adam([W, b], lr=0.05)
    for step in range(steps):
        if step == change_at:
            grown = (new_mask > 0) & (M == 0)
            with torch.no_grad():
                W[grown] = 0.0
                for k in ("exp_avg", "exp_avg_sq"):
                    opt.state[W][k][grown] = 0.0
            M = new_mask
        opt.zero_grad()
        torch.nn.functional.mse_loss(x @ (W * M) + b, t).backward()
        opt.step()
    return W.detach() * M, b.detach()


def test_adam_and_a_mid_training_rewire_equal_the_masked_dense_layer():
    gen = torch.Generator().manual_seed(0)
    n_in, n_out, steps, change_at = 6, 4, 12, 6
    x = torch.randn(16, n_in, dtype=torch.float64, generator=gen)
    t = torch.randn(16, n_out, dtype=torch.float64, generator=gen)
    W0 = torch.randn(n_in, n_out, dtype=torch.float64, generator=gen)
    b0 = torch.randn(n_out, dtype=torch.float64, generator=gen)
    M0 = (torch.rand(n_in, n_out, generator=gen) < 0.5).double()
    M1 = M0.clone()
    on, off = M0.nonzero().tolist(), (M0 == 0).nonzero().tolist()
    for i, j in on[:3]:
        M1[i, j] = 0
    for i, j in off[:3]:
        M1[i, j] = 1
    net = en.Network()
    for i in range(n_in):
        net.add_input(f"x{i}")
    for j in range(n_out):
        net.add_output(f"y{j}", bias=b0[j].item())
    for i, j in on:
        net.add_edge(f"x{i}", f"y{j}", weight=W0[i, j].item())
    model = en.compile(net, dtype=torch.float64)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for step in range(steps):
        if step == change_at:
            model.rewire(remove=[(f"x{i}", f"y{j}") for i, j in on[:3]],
                         add=[(f"x{i}", f"y{j}") for i, j in off[:3]], optimizer=opt)
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), t).backward()
        opt.step()
    W_ref, b_ref = masked_reference(W0, b0, M0, x, t, steps, change_at, M1)
    W = torch.zeros(n_in, n_out, dtype=torch.float64)
    for (u, v), w in zip(model.edges, model.weight.detach()):
        W[int(u[1:]), int(v[1:])] = w
    assert (W != 0).double().sum() == M1.sum()
    torch.testing.assert_close(W, W_ref, rtol=0, atol=1e-9)
    torch.testing.assert_close(model.bias.detach(), b_ref, rtol=0, atol=1e-9)


def test_rigl_regrows_the_top_of_the_dense_gradient():
    gen = torch.Generator().manual_seed(3)
    n_in, n_out = 8, 5
    x = torch.randn(32, n_in, dtype=torch.float64, generator=gen)
    t = torch.randn(32, n_out, dtype=torch.float64, generator=gen)
    M = (torch.rand(n_in, n_out, generator=gen) < 0.4).double()
    W = torch.randn(n_in, n_out, dtype=torch.float64, generator=gen) * M
    net = en.Network()
    for i in range(n_in):
        net.add_input(f"x{i}")
    for j in range(n_out):
        net.add_output(f"y{j}")
    for i, j in M.nonzero().tolist():
        net.add_edge(f"x{i}", f"y{j}", weight=W[i, j].item())
    model = en.compile(net, dtype=torch.float64)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)  # weights unchanged by the step
    block = ([f"x{i}" for i in range(n_in)], [f"y{j}" for j in range(n_out)])
    sched = en.RigL(model, opt, fraction=0.25, every=1, candidates=[block])
    Wd = W.clone().requires_grad_(True)
    torch.nn.functional.mse_loss(x @ Wd, t).backward()  # the dense gradient
    torch.nn.functional.mse_loss(model(x), t).backward()
    opt.step()
    k = round(0.25 * int(M.sum()))
    drop = set(sorted(((abs(W[i, j].item()), i * n_out + j) for i, j in M.nonzero().tolist()))[:k])
    dropped = {(key // n_out, key % n_out) for _, key in drop}
    kept = {tuple(e) for e in M.nonzero().tolist()} - dropped
    free = [(i, j) for i in range(n_in) for j in range(n_out) if (i, j) not in kept]
    want = sorted(free, key=lambda e: -abs(Wd.grad[e].item()))[:k]
    sched.step()
    got = {(int(u[1:]), int(v[1:])) for u, v in model.edges} - kept
    assert got == set(want)
    assert len(model.edges) == int(M.sum())


def test_rigl_forward_candidates_match_a_dense_score():
    """Every forward pair scored in blocks equals the top of a full dense score matrix."""
    net = nx.DiGraph([(u, v) for u, v in nx.gnp_random_graph(40, 0.15, seed=2).edges()])
    model = en.compile(net, dtype=torch.float64, seed=0)
    sched = en.RigL(model, None, fraction=0.2, every=1, candidates="forward")
    x = torch.randn(8, len(model.inputs), dtype=torch.float64)
    model(x).square().sum().backward()
    H, D = sched.gradients()
    n_in, n = len(model.inputs), len(model.nodes)
    S = torch.zeros(n, n, dtype=torch.float64)
    S[:, n_in:] = (H @ D.T).abs()  # S[u, v] = |dL/dw_uv|
    src, dst = model.edge_rows()
    k = round(0.2 * len(src))
    drop = np.argsort(model.weight.detach().abs().numpy(), kind="stable")[:k]
    keep = np.setdiff1d(np.arange(len(src)), drop)
    S[src[keep], dst[keep]] = -1
    S = torch.triu(S, diagonal=1) - torch.tril(torch.ones(n, n, dtype=torch.float64))
    nodes = model.nodes
    want = {(nodes[i // n], nodes[i % n]) for i in S.flatten().topk(k).indices.tolist()}
    kept = {model.edges[i] for i in keep}
    old = schedulers.SCORE_BLOCK
    schedulers.SCORE_BLOCK = 3 * n  # several blocks of target rows
    try:
        sched.step()
    finally:
        schedulers.SCORE_BLOCK = old
    assert set(model.edges) - kept == want


def test_set_keeps_the_edge_count_and_decays():
    dag = nx.DiGraph([(u, v) for u, v in nx.gnp_random_graph(30, 0.2, seed=1).edges()])
    model = en.compile(dag, seed=0)
    opt = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    sched = en.SET(model, opt, fraction=0.3, every=2, until=10, seed=0)
    E = model.layout.n_edges
    changes = []
    for _ in range(12):
        x = torch.randn(4, len(model.inputs))
        model(x).sum().backward()
        opt.step()
        opt.zero_grad()
        sched.step()
        assert model.layout.n_edges == E
        removed, added = sched.last
        changes.append(len(removed) if sched.t % 2 == 0 and sched.t < 10 else 0)
        assert len(removed) == len(added)
        sched.last = ([], [])
    assert changes[1] == round(0.3 * E * (1 + np.cos(np.pi * 2 / 10)) / 2)
    assert changes[0] == 0 and changes[9:] == [0, 0, 0]  # only every 2nd step; none after 10
    assert_same_as_fresh(model, torch.randn(3, len(model.inputs)))


def test_candidates_as_blocks_and_edges():
    net = en.Network()
    for i in range(4):
        net.add_input(f"x{i}")
    for j in range(3):
        net.add_neuron(f"h{j}")
    net.add_output("y")
    net.connect([f"x{i}" for i in range(4)], [f"h{j}" for j in range(3)],
                mask=np.eye(4, 3), weight=1.0)
    net.connect([f"h{j}" for j in range(3)], ["y"], weight=1.0)
    model = en.compile(net, seed=0)
    block = ([f"x{i}" for i in range(4)], [f"h{j}" for j in range(3)])
    sched = en.SET(model, None, fraction=0.5, every=1, seed=0, candidates=[block])
    for _ in range(5):
        sched.step()
        assert all(u.startswith("x") and v.startswith("h") for u, v in model.edges
                   if v != "y") and sum(v == "y" for _, v in model.edges) >= 0
    with pytest.raises(en.EdgenetError, match=r"candidates= edge \('x0', 'q'\) names 'q'"):
        en.SET(model, None, candidates=[("x0", "q")])
    with pytest.raises(en.EdgenetError, match=r"fraction must be a number in \[0, 1\] \(got 2\)"):
        en.SET(model, None, fraction=2)


def test_rigl_needs_a_captured_pass():
    model = en.compile(xor_net())
    sched = en.RigL(model, None, fraction=0.5, every=1)
    with pytest.raises(en.EdgenetError, match=r"RigL needs a forward and backward pass"):
        sched.step()


def overlap_net() -> en.Network:
    net = en.Network()
    for i in range(3):
        net.add_input(f"x{i}")
    net.add_neuron("h", activation="tanh")
    net.add_output("y")
    net.add_weighted_edges_from([("x0", "h", 0.01), ("x1", "h", 0.9), ("h", "y", 5.0)])
    return net


def test_candidates_listed_twice_count_once_in_first_listed_order():
    model = en.compile(overlap_net())
    nodes = model.nodes

    def pairs(candidates):
        u, v = schedulers._row_pairs(model, schedulers._candidates(model, candidates))
        return [(nodes[a], nodes[b]) for a, b in zip(u.tolist(), v.tolist())]

    assert pairs([("x2", "y"), ("x0", "y"), ("x2", "y"), ("x0", "y")]) == [("x2", "y"),
                                                                            ("x0", "y")]
    blocks = [(["x2"], ["h"]), (["x2", "x0", "x2"], ["h", "y"])]  # overlapping, and a repeat
    assert pairs(blocks) == [("x2", "h"), ("x2", "y"), ("x0", "h"), ("x0", "y")]


@pytest.mark.parametrize("cls", [en.SET, en.RigL])
def test_overlapping_candidate_blocks_regrow_distinct_edges(cls):
    blocks = [(["x2"], ["h"]), (["x2", "x0"], ["h", "y"])]  # both hold (x2, h)
    for seed in range(40 if cls is en.SET else 1):  # seeds 30, 35, 36 drew (x2, h) twice
        model = en.compile(overlap_net())
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        kw = {"seed": seed} if cls is en.SET else {}
        sched = cls(model, opt, fraction=0.67, every=1, candidates=blocks, **kw)
        model(torch.tensor([[1.0, 1.0, 3.0]])).sum().backward()
        opt.step()
        sched.step()
        removed, added = sched.last
        assert len(removed) == len(added) == 2 and len(set(added)) == 2
        assert len(model.edges) == 3 and len(set(model.edges)) == 3
    if cls is en.RigL:  # |dL/dw| = |dL/dz| * 3 for x2, 1 for x0: both from x2
        assert sorted(added) == [("x2", "h"), ("x2", "y")]


def few_free_net() -> en.Network:
    net = en.Network()
    for i in range(4):
        net.add_input(f"x{i}")
    for j in range(3):
        net.add_output(f"y{j}")
    net.add_weighted_edges_from([("x0", "y0", 0.01), ("x1", "y1", 0.02), ("x2", "y2", 0.9),
                                 ("x3", "y0", 0.8)])
    return net


@pytest.mark.parametrize("cls", [en.SET, en.RigL])
def test_too_few_free_candidates_are_refused_and_change_nothing(cls):
    model = en.compile(few_free_net())
    opt = torch.optim.SGD(model.parameters(), lr=0.0, momentum=0.9)  # momentum, same weights
    kw = {"seed": 0} if cls is en.SET else {}
    sched = cls(model, opt, fraction=0.5, every=1, candidates=[("x0", "y1")], **kw)
    model(torch.ones(2, 4)).sum().backward()
    opt.step()
    before, grad = snapshot(model, opt), model.weight.grad.clone()
    with pytest.raises(en.EdgenetError,
                       match=rf"{cls.__name__} step 1 drops 2 edges but only 1 of the candidates= pairs "
                             r"is free to regrow them .*the edge count stays constant, so give "
                             r"more candidates or a smaller fraction"):
        sched.step()
    after = snapshot(model, opt)
    assert all(torch.equal(a, b) if isinstance(a, torch.Tensor) else a == b
               for a, b in zip(before[:5], after[:5]))
    assert all(torch.equal(before[5][k], after[5][k]) for k in before[5]) and before[5]
    assert torch.equal(model.weight.grad, grad)
    assert sched.t == 0 and sched.last == ([], []) and len(model.edges) == 4
    sched.fraction = 0.25  # one edge: (x0, y0) dropped, (x0, y1) regrown
    sched.step()
    assert sched.t == 1 and sched.last == ([("x0", "y0")], [("x0", "y1")])
    assert len(model.edges) == 4
