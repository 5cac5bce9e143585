"""compile(): the compiled function equals the per-neuron reference, gradients are right,
initialisation is reproducible and the graph is never touched."""

from __future__ import annotations

import copy

import networkx as nx
import numpy as np
import pytest
import torch
from dags import SMOOTH, networks, plain_dags
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from reference import OutOfRange, evaluate

import edgenet as en


def default_activation(net, outputs):
    outs = set(outputs)
    return lambda v: net.nodes[v].get("activation") or ("identity" if v in outs else "relu")


def assert_close(got, want, rtol=1e-10):
    got = torch.as_tensor(got, dtype=torch.float64)
    want = torch.as_tensor(want, dtype=torch.float64)
    assert got.shape == want.shape
    err = (got - want).abs() / (1.0 + want.abs())
    worst = float(err.max()) if err.numel() else 0.0
    assert worst <= rtol, worst


@given(net=networks(), batch=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_matches_reference_evaluator(net, batch, seed):
    model = en.compile(net, dtype=torch.float64)
    x = torch.randn(batch, len(net.inputs), generator=torch.Generator().manual_seed(seed),
                    dtype=torch.float64)
    try:
        want = evaluate(net, net.inputs, net.outputs, x.tolist(), default_activation(net, net.outputs))
    except OutOfRange:  # values past 1e100 (chains of squares): nothing to compare
        assume(False)
    assert_close(model(x).detach(), want)


@given(G=plain_dags())
def test_plain_digraph_roles_are_inferred(G):
    model = en.compile(G, dtype=torch.float64)
    sources = [v for v in G if G.in_degree(v) == 0]
    sinks = [v for v in G if G.out_degree(v) == 0]
    assert model.inputs == sources and model.outputs == sinks
    x = torch.randn(3, len(sources), dtype=torch.float64)
    try:
        want = evaluate(G, sources, sinks, x.tolist(), default_activation(G, sinks))
    except OutOfRange:
        assume(False)
    assert_close(model(x).detach(), want)


@settings(max_examples=25)
@given(net=networks(activations=SMOOTH, max_nodes=14))
def test_gradcheck_weights_biases_inputs(net):
    model = en.compile(net, dtype=torch.float64, seed=0)
    x = torch.randn(3, len(model.inputs), dtype=torch.float64, requires_grad=True)
    w = model.weight.detach().clone().requires_grad_(True)
    b = model.bias.detach().clone().requires_grad_(True)

    def f(x, w, b):
        return torch.func.functional_call(model, {"weight": w, "bias": b}, (x,))

    assert torch.autograd.gradcheck(f, (x, w, b))


def test_gradients_match_autograd_through_reference_ops():
    # The same network written with dense torch ops per neuron, differentiated by autograd.
    net = en.Network()
    for i in range(3):
        net.add_input(i)
    net.add_neuron("a", activation="gelu", bias=0.1)
    net.add_neuron("b", activation="softplus", bias=-0.2)
    net.add_output("y", activation="tanh", bias=0.3)
    net.add_output("z", activation="identity")
    edges = [(0, "a", 0.5), (1, "a", -1.0), (2, "b", 0.7), ("a", "b", 0.4), ("b", "y", 1.2),
             (0, "y", -0.3), ("y", "z", 2.0), (1, "z", 0.25)]
    for u, v, w in edges:
        net.add_edge(u, v, weight=w)
    model = en.compile(net, dtype=torch.float64)
    x = torch.randn(5, 3, dtype=torch.float64)
    model(x).square().sum().backward()

    ws = {(u, v): torch.tensor(w, dtype=torch.float64, requires_grad=True) for u, v, w in edges}
    bs = {n: torch.tensor(float(net.nodes[n]["bias"]), dtype=torch.float64, requires_grad=True)
          for n in ("a", "b", "y", "z")}
    h = {i: x[:, i] for i in range(3)}
    for n in ("a", "b", "y", "z"):
        z = bs[n] + sum(ws[u, v] * h[u] for (u, v) in ws if v == n)
        h[n] = en.get_activation(net.nodes[n]["activation"])(z)
    (h["y"].square().sum() + h["z"].square().sum()).backward()
    for (u, v), w in zip(model.edges, model.weight.grad):
        assert torch.allclose(w, ws[u, v].grad, rtol=1e-12, atol=1e-12), (u, v)
    for n, g in zip(model.neurons, model.bias.grad):
        assert torch.allclose(g, bs[n].grad, rtol=1e-12, atol=1e-12), n


def test_neuron_without_inputs_outputs_activation_of_bias():
    net = en.Network()
    net.add_input("x")
    net.add_neuron("c", activation="sigmoid", bias=0.7)   # no incoming edges
    net.add_neuron("isolated", bias=3.0)                   # no edges at all
    net.add_output("y")
    net.add_output("k", activation="tanh", bias=-0.4)      # an output without inputs
    net.add_edge("x", "y", weight=1.0)
    net.add_edge("c", "y", weight=2.0)
    y = net.compile(dtype=torch.float64)(torch.tensor([[1.0], [2.0]], dtype=torch.float64))
    s = 1.0 / (1.0 + np.exp(-0.7))
    assert_close(y.detach(), [[1.0 + 2 * s, np.tanh(-0.4)], [2.0 + 2 * s, np.tanh(-0.4)]])


def test_outputs_may_feed_other_neurons_and_keep_order():
    net = en.Network()
    net.add_input("x")
    net.add_output("second")
    net.add_output("first", activation="relu")
    net.add_edge("x", "first", weight=-1.0)
    net.add_edge("first", "second", weight=3.0)
    model = net.compile()
    assert model.outputs == ["second", "first"]
    assert model(torch.tensor([[-2.0]])).tolist() == [[6.0, 2.0]]


def test_explicit_inputs_and_outputs_reorder_columns():
    G = nx.DiGraph([("a", "y", {"weight": 1.0}), ("b", "y", {"weight": 10.0}),
                    ("a", "z", {"weight": 100.0})])
    model = en.compile(G, inputs=["b", "a"], outputs=["z", "y"])
    assert model(torch.tensor([[1.0, 2.0]])).tolist() == [[200.0, 12.0]]


def test_different_activations_in_one_generation():
    net = en.Network()
    net.add_input("x")
    for act in ("relu", "identity", "tanh", "relu", "sigmoid", "identity"):
        net.add_output(f"{act}{len(net)}", activation=act)
    for v in list(net)[1:]:
        net.add_edge("x", v, weight=1.0)
    x = torch.tensor([[-1.5], [0.5]], dtype=torch.float64)
    y = net.compile(dtype=torch.float64)(x).detach()
    want = evaluate(net, ["x"], net.outputs, x.tolist(), lambda v: "identity")
    assert_close(y, want)


def test_missing_weights_fan_in_uniform_and_reproducible():
    net = en.Network()
    net.connect(range(50), ["a", "b"])                   # fan-in 50
    net.connect(["a", "b"], ["y"])                       # fan-in 2
    m1, m2, m3 = (en.compile(net, seed=s) for s in (7, 7, 8))
    assert torch.equal(m1.weight, m2.weight)
    assert not torch.equal(m1.weight, m3.weight)
    w = dict(zip(m1.edges, m1.weight.tolist()))
    wide = torch.tensor([w[i, t] for i in range(50) for t in ("a", "b")])
    assert wide.abs().max() <= 50 ** -0.5 and wide.abs().max() > 0.5 * 50 ** -0.5
    assert abs(w["a", "y"]) <= 2 ** -0.5 and abs(w["b", "y"]) <= 2 ** -0.5
    torch.manual_seed(3)
    g1 = en.compile(net).weight
    torch.manual_seed(3)
    assert torch.equal(g1, en.compile(net).weight)


def test_given_weights_are_kept_exactly_and_missing_ones_filled():
    G = nx.DiGraph()
    G.add_edge("a", "y", weight=0.1)
    G.add_edge("b", "y")
    model = en.compile(G, dtype=torch.float64, seed=0)
    w = dict(zip(model.edges, model.weight.tolist()))
    assert w["a", "y"] == 0.1 and w["b", "y"] != 0.0


@given(net=networks())
def test_compile_never_mutates_the_graph(net):
    for u, v in list(net.edges)[::2]:
        del net.edges[u, v]["weight"]
    before = (copy.deepcopy(list(net.nodes(data=True))), copy.deepcopy(list(net.edges(data=True))))
    en.compile(net, seed=0)
    assert (list(net.nodes(data=True)), list(net.edges(data=True))) == before


def test_parameters_scale_with_edges_never_a_dense_matrix():
    net = en.Network()
    net.connect(range(300), [f"h{j}" for j in range(300)], mask=np.eye(300))
    net.connect([f"h{j}" for j in range(300)], ["y"])
    model = en.compile(net, seed=0)
    shapes = [tuple(p.shape) for p in model.parameters()]
    assert shapes == [(600,), (301,)]
    assert all(b.numel() <= 2 * 600 + 301 for b in model.buffers())


def test_integer_and_numpy_weights_are_accepted():
    G = nx.DiGraph()
    G.add_edge("a", "y", weight=3)
    G.add_edge("b", "y", weight=np.float32(0.5))
    G.nodes["y"]["bias"] = np.int64(1)
    assert en.compile(G)(torch.tensor([[1.0, 2.0]])).tolist() == [[5.0]]


def test_dtype_must_be_floating():
    with pytest.raises(en.EdgenetError, match=r"dtype must be a floating torch dtype .*got torch.int64"):
        en.compile(nx.DiGraph([("a", "b")]), dtype=torch.int64)


def test_empty_batch():
    model = en.compile(nx.DiGraph([("a", "b")]), seed=0)
    assert model(torch.zeros(0, 1)).shape == (0, 1)
