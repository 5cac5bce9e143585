"""Recurrent networks: torch.nn.RNN parity, a per-neuron float64 reference of the
recurrence, gradcheck, checkpointing, the torch-ops (CUDA) path, errors, write-back."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import ACTIVATIONS

import edgenet as en
from edgenet.kernels import sparse

ROOT = Path(__file__).resolve().parents[1]


def rnn_graph(rnn: torch.nn.RNN) -> en.Network:
    """The fully connected graph (self-loops included) of a one-layer tanh ``nn.RNN``."""
    W_ih, W_hh = rnn.weight_ih_l0.detach(), rnn.weight_hh_l0.detach()
    b = (rnn.bias_ih_l0 + rnn.bias_hh_l0).detach()
    H, n_in = W_ih.shape
    net = en.Network()
    for k in range(n_in):
        net.add_input(("x", k))
    for j in range(H):
        net.add_output(("h", j), activation="tanh", bias=float(b[j]))
    for j in range(H):
        for k in range(n_in):
            net.add_edge(("x", k), ("h", j), weight=float(W_ih[j, k]))
        for k in range(H):
            net.add_edge(("h", k), ("h", j), weight=float(W_hh[j, k]))
    return net


@pytest.mark.parametrize("checkpoint", [None, 2])
@pytest.mark.parametrize("torch_ops", [False, True])
def test_matches_torch_rnn_in_outputs_and_weight_gradients(checkpoint, torch_ops, monkeypatch):
    monkeypatch.setattr(sparse, "TORCH_OPS_ON_CPU", torch_ops)
    torch.manual_seed(0)
    rnn = torch.nn.RNN(3, 5, batch_first=True).double()
    model = en.compile(rnn_graph(rnn), recurrent=True, dtype=torch.float64)
    x = torch.randn(4, 7, 3, dtype=torch.float64)
    h0 = torch.randn(4, 5, dtype=torch.float64)
    ours = model(x, h0=h0, checkpoint=checkpoint)
    theirs, _ = rnn(x, h0[None])
    assert ours.shape == (4, 7, 5)
    assert torch.allclose(ours, theirs, rtol=0, atol=1e-10)
    probe = torch.randn_like(theirs)
    (ours * probe).sum().backward()
    (theirs * probe).sum().backward()
    index = {e: i for i, e in enumerate(model.edges)}
    g = model.weight.grad
    for j in range(5):
        for k in range(3):
            assert abs(g[index[("x", k), ("h", j)]] - rnn.weight_ih_l0.grad[j, k]) < 1e-10
        for k in range(5):
            assert abs(g[index[("h", k), ("h", j)]] - rnn.weight_hh_l0.grad[j, k]) < 1e-10
    assert torch.allclose(model.bias.grad, rnn.bias_hh_l0.grad, rtol=0, atol=1e-10)


def reference(G, inputs, outputs, xs, h0, dt):
    """Per-neuron float64 recurrence, one Python float at a time (the oracle)."""
    neurons = [n for n in G if n not in set(inputs)]
    out = []
    for b in range(len(xs)):
        h = {n: float(h0[b][i]) for i, n in enumerate(neurons)}
        seq = []
        for t in range(len(xs[b])):
            s = dict(h)
            s.update({u: float(xs[b][t][k]) for k, u in enumerate(inputs)})
            new = {}
            for v in neurons:
                d = G.nodes[v]
                z = d.get("bias", 0.0) + sum(G.edges[u, v]["weight"] * s[u] for u in G.pred[v])
                a = dt / d.get("tau", 1.0)
                new[v] = (1 - a) * h[v] + a * ACTIVATIONS[d["activation"]](z)
            h = new
            seq.append([h[o] for o in outputs])
        out.append(seq)
    return out


ACTS = ["tanh", "sigmoid", "relu", "identity", "softsign", "sin", "elu", "gelu"]


def random_cyclic(seed: int, n: int = 12, m: int = 40, n_in: int = 3) -> tuple[nx.DiGraph, list, list]:
    rng = np.random.default_rng(seed)
    G = nx.DiGraph()
    inputs = [f"in{k}" for k in range(n_in)]
    G.add_nodes_from(inputs)
    for v in range(n):
        G.add_node(v, activation=ACTS[rng.integers(len(ACTS))], bias=float(rng.normal(0, 0.3)),
                   tau=float(rng.choice([1.0, 2.0, 4.0, 1.5])))
    while G.number_of_edges() < m:
        u, v = int(rng.integers(n)), int(rng.integers(n))  # self-loops included
        G.add_edge(u, v, weight=float(rng.normal(0, 0.6)))
    for x in inputs:
        for v in rng.choice(n, size=2, replace=False):
            G.add_edge(x, int(v), weight=float(rng.normal()))
    outputs = [int(v) for v in rng.choice(n, size=3, replace=False)]
    return G, inputs, outputs


@settings(max_examples=15)
@given(seed=st.integers(0, 10_000), dt=st.sampled_from([1.0, 0.5, 0.25]))
def test_matches_the_per_neuron_reference_on_random_cyclic_graphs(seed, dt):
    G, inputs, outputs = random_cyclic(seed)
    assert not nx.is_directed_acyclic_graph(G) and nx.number_of_selfloops(G) >= 0
    model = en.compile(G, recurrent=True, inputs=inputs, outputs=outputs, dtype=torch.float64)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 5, 3, generator=gen, dtype=torch.float64)
    h0 = torch.randn(2, 12, generator=gen, dtype=torch.float64)
    ours = model(x, dt=dt, h0=h0)
    # h0's columns follow model.neurons; the reference takes them in graph order
    col = {n: i for i, n in enumerate(model.neurons)}
    h0_graph = h0[:, [col[n] for n in G if n not in set(inputs)]].tolist()
    expected = reference(G, inputs, outputs, x.tolist(), h0_graph, dt)
    assert np.allclose(ours.detach().numpy(), expected, rtol=1e-12, atol=1e-12)


def test_a_self_loop_with_a_leak_by_hand():
    G = nx.DiGraph([("x", "a", {"weight": 1.0}), ("a", "a", {"weight": 0.5})])
    G.nodes["a"].update(activation="identity", tau=2.0)
    model = en.compile(G, recurrent=True, inputs=["x"], outputs=["a"], dtype=torch.float64)
    y = model(torch.ones(1, 1, dtype=torch.float64), steps=3)[0, :, 0].tolist()
    h, want = 0.0, []
    for _ in range(3):  # h = (1 - 1/2) h + 1/2 (1 + 0.5 h)
        h = 0.5 * h + 0.5 * (1.0 + 0.5 * h)
        want.append(h)
    assert y == pytest.approx(want, abs=1e-15)


@pytest.mark.parametrize("torch_ops", [False, True])
def test_gradcheck_in_float64(torch_ops, monkeypatch):
    monkeypatch.setattr(sparse, "TORCH_OPS_ON_CPU", torch_ops)
    G, inputs, outputs = random_cyclic(3, n=6, m=16)
    for v in range(6):  # smooth activations only: gradcheck needs derivatives everywhere
        G.nodes[v]["activation"] = ["tanh", "sigmoid", "softsign", "sin", "identity", "gelu"][v]
    model = en.compile(G, recurrent=True, inputs=inputs, outputs=outputs, dtype=torch.float64)
    x = torch.randn(2, 4, 3, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(2, 6, dtype=torch.float64, requires_grad=True)
    w = model.weight.detach().clone().requires_grad_(True)
    b = model.bias.detach().clone().requires_grad_(True)

    def f(x, w, b, h0):
        return torch.func.functional_call(model, {"weight": w, "bias": b}, (x,),
                                          {"dt": 0.5, "h0": h0})

    # the torch-ops path is slow per call on the CPU: gradcheck's fast mode there
    assert torch.autograd.gradcheck(f, (x, w, b, h0), eps=1e-6, atol=1e-8, fast_mode=torch_ops)


def test_custom_activation_gradients_come_from_autograd():
    en.register_activation("cube_rec", lambda z: z * z * z / 10, overwrite=True)
    G, inputs, outputs = random_cyclic(5, n=5, m=12)
    for v in range(5):
        G.nodes[v]["activation"] = "cube_rec" if v % 2 else "tanh"
    model = en.compile(G, recurrent=True, inputs=inputs, outputs=outputs, dtype=torch.float64)
    x = torch.randn(2, 3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x: model(x), (x,))


def test_checkpointing_gives_the_same_gradients():
    G, inputs, outputs = random_cyclic(7, n=20, m=80)
    model = en.compile(G, recurrent=True, inputs=inputs, outputs=outputs, dtype=torch.float64)
    x = torch.randn(3, 10, 3, dtype=torch.float64, requires_grad=True)
    grads = []
    for k in (None, 1, 3, 4, 10):
        model.zero_grad()
        x.grad = None
        y = model(x, dt=0.5, checkpoint=k)
        (y.sin().sum()).backward()
        grads.append((y.detach(), model.weight.grad.clone(), model.bias.grad.clone(),
                      x.grad.clone()))
    for other in grads[1:]:
        for a, b in zip(grads[0], other):
            assert torch.allclose(a, b, rtol=1e-12, atol=1e-12)


def test_held_input_equals_the_repeated_sequence_and_gets_summed_gradients():
    G, inputs, outputs = random_cyclic(2)
    model = en.compile(G, recurrent=True, inputs=inputs, outputs=outputs, dtype=torch.float64)
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    y = model(x, steps=4)
    seq = x.detach()[:, None].repeat(1, 4, 1).requires_grad_(True)
    assert torch.equal(y, model(seq))
    y.sum().backward()
    model(seq).sum().backward()
    assert torch.allclose(x.grad, seq.grad.sum(1))


def test_float32_runs_and_trains():
    G, inputs, outputs = random_cyclic(4, n=20, m=80)
    for v in range(20):  # float32 gelu is slow on some CPUs, and not what this tests
        G.nodes[v]["activation"] = ["tanh", "relu", "sigmoid"][v % 3]
    model = en.compile(G, recurrent=True, inputs=inputs, outputs=outputs, seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    x = torch.randn(16, 6, 3)
    target = torch.randn(16, 6, 3) * 0.1
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = ((model(x) - target) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_to_network_keeps_tau_and_recompiles_to_the_same_function(tmp_path):
    G, inputs, outputs = random_cyclic(8)
    model = en.compile(G, recurrent=True, inputs=inputs, outputs=outputs, dtype=torch.float64,
                       seed=0)
    with torch.no_grad():
        model.weight.mul_(1.5)
        model.bias.add_(0.1)
    net = model.to_network()
    assert [net.nodes[n]["tau"] for n in G if "tau" in G.nodes[n]] == \
        [G.nodes[n]["tau"] for n in G if "tau" in G.nodes[n]]
    assert set(net.edges) == set(G.edges)
    assert all(net.edges[e]["weight"] == 1.5 * G.edges[e]["weight"] for e in G.edges)
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    again = en.compile(net, recurrent=True, dtype=torch.float64)
    assert torch.equal(again(x), model(x))
    en.save(net, tmp_path / "rnn.npz")  # the native format holds cyclic graphs and tau
    loaded = en.compile(en.load(tmp_path / "rnn.npz"), recurrent=True, dtype=torch.float64)
    assert torch.equal(loaded(x), model(x))


def test_summary_counts_cycles_and_self_loops():
    G = nx.DiGraph([("x", 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 3), (3, 2)])
    text = en.compile(G, recurrent=True, inputs=["x"], outputs=[3]).summary()
    assert "4 neurons, 7 edges (1 self-loops)" in text
    assert "4 neurons in 2 strongly connected components (largest 2)" in text


@pytest.mark.parametrize("call, message", [
    (lambda m: m(torch.zeros(2, 3)), r"say for how many steps to hold it with steps=T"),
    (lambda m: m(torch.zeros(2, 4, 2)), r"expected a tensor of shape \(batch, 3\) with steps=T, "
                                        r"or \(batch, T, 3\) for inputs \['in0', 'in1', 'in2'\] "
                                        r"\(got shape \(2, 4, 2\)\)"),
    (lambda m: m(torch.zeros(2, 4, 3), steps=5), r"x has 4 steps .* but steps=5"),
    (lambda m: m(torch.zeros(2, 3), steps=0), r"steps is 0; expected a whole number >= 1"),
    (lambda m: m(torch.zeros(2, 3), steps=2, dt=-1.0), r"dt is -1.0; expected a positive"),
    (lambda m: m(torch.zeros(2, 3), steps=2, checkpoint=0), r"checkpoint is 0; expected None"),
    (lambda m: m(torch.zeros(2, 3), steps=2, h0=torch.zeros(2, 5)),
     r"h0 must be a tensor of shape \(batch, neurons\) = \(2, 12\).*got \(2, 5\)"),
    (lambda m: m(torch.zeros(2, 3, dtype=torch.float64), steps=2),
     r"expected dtype torch.float32 \(got torch.float64\)"),
])
def test_bad_calls_are_named(call, message):
    G, inputs, outputs = random_cyclic(1)
    model = en.compile(G, recurrent=True, inputs=inputs, outputs=outputs)
    with pytest.raises(en.InputError if "dt" not in message and "checkpoint" not in message
                       else en.EdgenetError, match=message):
        call(model)


def test_non_tensors_and_half_precision_on_the_cpu_are_refused():
    G, inputs, outputs = random_cyclic(1)
    model = en.compile(G, recurrent=True, inputs=inputs, outputs=outputs)
    with pytest.raises(en.InputError, match=r"expected a torch.Tensor of shape \(batch, 3\) "
                                            r"with steps=T, or \(batch, T, 3\) \(got list\)"):
        model([[0.0, 0.0, 0.0]], steps=2)
    half = en.compile(G, recurrent=True, inputs=inputs, outputs=outputs, dtype=torch.float16)
    with pytest.raises(en.EdgenetError, match=r"the CPU engine runs float32 and float64 \(the "
                                              r"model is torch.float16\)"):
        half(torch.zeros(2, 3, dtype=torch.float16), steps=2)


def test_bad_graphs_are_named():
    G = nx.DiGraph([("x", "a"), ("a", "a")])
    G.nodes["a"]["tau"] = 0.0
    with pytest.raises(en.EdgenetError, match=r"tau of node 'a' is 0.0; expected a positive"):
        en.compile(G, recurrent=True, inputs=["x"], outputs=["a"])
    G.nodes["a"]["tau"] = "slow"
    with pytest.raises(en.EdgenetError, match=r"tau of node 'a' is 'slow' of type str"):
        en.compile(G, recurrent=True, inputs=["x"], outputs=["a"])
    with pytest.raises(en.EdgenetError, match=r"compile\(recurrent=True\) expects a networkx."
                                              r"DiGraph .*\(got MultiDiGraph\)"):
        en.compile(nx.MultiDiGraph([(0, 1)]), recurrent=True)
    with pytest.raises(en.EdgenetError, match=r"input node 'x' has an incoming edge \('a' -> 'x'\)"):
        en.compile(nx.DiGraph([("x", "a"), ("a", "x")]), recurrent=True, inputs=["x"],
                   outputs=["a"])
    with pytest.raises(en.EdgenetError, match=r"dtype must be a floating torch dtype"):
        en.compile(nx.DiGraph([("x", "a")]), recurrent=True, dtype=torch.int32)


def test_memory_stays_linear_in_steps_not_edges_times_batch():
    """The saved tensors of a pass are (T + 1) x N x B and T x M x B: nothing E x B."""
    G = nx.gnm_random_graph(200, 8000, seed=0, directed=True)
    G.add_edges_from(("x", v) for v in range(10))
    model = en.compile(G, recurrent=True, inputs=["x"], outputs=[0, 1], seed=0)
    y = model(torch.randn(4, 1), steps=6)
    node = y.grad_fn
    S, Z, F = node.last
    assert S.shape == (7, 201, 4) and Z.shape == (6, 200, 4) and F is None  # no leaks
    y = model(torch.randn(4, 1), steps=6, checkpoint=2)
    S, Z, F = y.grad_fn.last
    assert S.shape == (3, 201, 4) and len(y.grad_fn.starts) == 3


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    G, inputs, outputs = random_cyclic(9, n=40, m=200)
    model = en.compile(G, recurrent=True, inputs=inputs, outputs=outputs, dtype=torch.float64)
    x = torch.randn(3, 5, 3, dtype=torch.float64)
    y = model(x)
    y.square().sum().backward()
    w = model.weight.grad.clone()
    model.zero_grad()
    gpu = model.to("cuda")
    yg = gpu(x.cuda())
    yg.square().sum().backward()
    assert torch.allclose(yg.cpu(), y, atol=1e-12)
    assert torch.allclose(gpu.weight.grad.cpu(), w, atol=1e-10)


def ring() -> nx.DiGraph:
    G = nx.DiGraph()
    G.add_node("x", role="input")
    for n in ("a", "b", "c"):
        G.add_node(n, activation="tanh", tau=2.0)
    G.nodes["c"]["role"] = "output"
    G.add_weighted_edges_from([("x", "a", 1.0), ("a", "b", 0.5), ("b", "c", -0.7),
                               ("c", "a", 0.3), ("b", "b", 0.2)])
    return G


def test_rewire_a_recurrent_network_keeps_parameters_and_optimizer_state():
    rnn = en.compile(ring(), recurrent=True, dtype=torch.float64, seed=0)
    weight, bias = rnn.weight, rnn.bias
    opt = torch.optim.Adam(rnn.parameters(), lr=0.01)
    x = torch.randn(3, 1, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    loss = rnn(x, steps=5).square().sum()
    loss.backward()
    opt.step()
    before = {e: (weight[i].item(), opt.state[weight]["exp_avg"][i].item())
              for i, e in enumerate(rnn.edges)}
    rnn.rewire(remove=[("b", "b")], add=[("c", "c"), ("a", "n"), ("n", "c")],
               neurons={"n": {"activation": "sigmoid", "tau": 3.0}}, weights=[0.1, 0.2, 0.3],
               optimizer=opt)
    assert rnn.weight is weight and rnn.bias is bias
    for i, e in enumerate(rnn.edges):
        value, moment = weight[i].item(), opt.state[weight]["exp_avg"][i].item()
        assert (value, moment) == before[e] if e in before else moment == 0.0
    fresh = en.compile(rnn.to_network(), recurrent=True, inputs=rnn.inputs, outputs=rnn.outputs,
                       dtype=torch.float64)
    assert torch.equal(rnn(x, steps=5), fresh(x, steps=5))
    assert rnn.to_network().nodes["n"]["tau"] == 3.0
    loss = rnn(x, steps=5).square().sum()  # training goes on with the old loss alive
    loss.backward()
    opt.step()


def test_an_edge_removed_and_added_in_one_rewire_is_new_as_in_the_dag():
    G = nx.DiGraph([("x", "a", {"weight": 1.0}), ("a", "y", {"weight": 2.0}),
                    ("x", "y", {"weight": 0.5})])
    dag = en.compile(G, inputs=["x"], outputs=["y"], dtype=torch.float64)
    rnn = en.compile(G, recurrent=True, inputs=["x"], outputs=["y"], dtype=torch.float64)
    seen = {}
    for name, model in (("dag", dag), ("rnn", rnn)):
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        x = torch.ones(1, 1, dtype=torch.float64)
        (model(x) if name == "dag" else model(x, steps=2)).sum().backward()
        opt.step()
        kept = model.weight[model.edges.index(("x", "y"))].item()
        assert opt.state[model.weight]["momentum_buffer"].ne(0).all()
        model.rewire(remove=[("a", "y")], add=[("a", "y")], weights=[5.0], optimizer=opt)
        i, j = model.edges.index(("a", "y")), model.edges.index(("x", "y"))
        momentum = opt.state[model.weight]["momentum_buffer"]
        seen[name] = (model.weight[i].item(), momentum[i].item(), model.weight.grad[i].item())
        assert model.weight[j].item() == kept and momentum[j].item() != 0  # kept edge kept
    assert seen["rnn"] == seen["dag"] == (5.0, 0.0, 0.0)


@pytest.mark.parametrize("kwargs, message", [
    (dict(add=[("a", "x")]), r"add= edge \('a', 'x'\) goes into input 'x'"),
    (dict(add=[("a", "b")]), r"add= edge \('a', 'b'\) already exists"),
    (dict(remove=[("a", "c")]), r"remove= edge \('a', 'c'\) is not an edge of the network"),
    (dict(remove_neurons=["c"]), r"remove_neurons= names output 'c'"),
    (dict(add=[("q", "a")]), r"add= edge \('q', 'a'\): node 'q' is not a node of the network"),
    (dict(add=[("a", "c")], weights=[float("inf")]), r"is inf; expected a finite real number"),
    (dict(add=[("a", "c")], weights=[1e300]),
     r"edge \('a', 'c'\) has weight 1e\+300, which torch.float32 cannot hold .*use "
     r"dtype=torch.float64"),
    (dict(neurons={"n": {"bias": -1e300}}, add=[("a", "n")]),
     r"node 'n' has bias -1e\+300, which torch.float32 cannot hold .*scale the biases down"),
])
def test_refused_recurrent_rewires_change_nothing(kwargs, message):
    rnn = en.compile(ring(), recurrent=True, seed=0)
    opt = torch.optim.Adam(rnn.parameters(), lr=0.1)
    rnn(torch.ones(2, 1), steps=3).sum().backward()
    opt.step()

    def snapshot():
        tensors = [rnn.weight, rnn.bias, rnn.weight.grad, rnn.bias.grad,
                   *(v for p in (rnn.weight, rnn.bias) for v in opt.state[p].values())]
        return [t.detach().clone() for t in tensors], rnn.edges, rnn.neurons

    before = snapshot()
    with pytest.raises(en.EdgenetError, match=message):
        rnn.rewire(optimizer=opt, **kwargs)
    after = snapshot()
    assert all(torch.equal(a, b) for a, b in zip(before[0], after[0]))
    assert before[1:] == after[1:]


@pytest.mark.parametrize("where", ["weight", "bias"])
def test_compile_refuses_a_finite_value_float32_cannot_hold(where):
    G = ring()
    if where == "weight":
        G.edges["c", "a"]["weight"] = -1e300
        message = r"edge \('c', 'a'\) has weight -1e\+300, which torch.float32 cannot hold"
    else:
        G.nodes["b"]["bias"] = 1e39
        message = r"node 'b' has bias 1e\+39, which torch.float32 cannot hold"
    with pytest.raises(en.EdgenetError, match=message + r" \(its largest value is 3.40"):
        en.compile(G, recurrent=True)
    rnn = en.compile(G, recurrent=True, dtype=torch.float64)  # float64 holds it
    assert torch.isfinite(rnn.weight).all() and torch.isfinite(rnn.bias).all()
    assert -1e300 in rnn.weight.tolist() or 1e39 in rnn.bias.tolist()


def test_save_and_load_a_recurrent_model(tmp_path):
    rnn = en.compile(ring(), recurrent=True, dtype=torch.float64, seed=0)
    en.save(rnn, tmp_path / "rnn.npz")
    other = en.compile(ring(), recurrent=True, dtype=torch.float64, seed=1)
    en.load(tmp_path / "rnn.npz", into=other)
    x = torch.randn(2, 1, dtype=torch.float64)
    assert torch.equal(other(x, steps=4), rnn(x, steps=4))


def test_an_empty_batch_gives_zero_gradients():
    """No sample, no gradient: exact zeros, every time (the CSR SDDMM runs no column of an
    empty batch, and once left the weight gradient as uninitialised memory)."""
    G = nx.DiGraph([("x", "a", {"weight": 1.0}), ("a", "a", {"weight": 0.5}),
                    ("a", "b", {"weight": 2.0})])
    rnn = en.compile(G, recurrent=True, inputs=["x"], outputs=["b"])
    for _ in range(3):
        rnn.zero_grad(set_to_none=True)
        y = rnn(torch.randn(0, 5, 1))
        assert y.shape == (0, 5, 1)
        (y * y).sum().backward()
        assert torch.equal(rnn.weight.grad, torch.zeros(3))
        assert torch.equal(rnn.bias.grad, torch.zeros(2))


@pytest.mark.parametrize("tau, message", [
    (0.0, r"tau of node 'a' is 0.0; expected a positive time constant"),
    (-2, r"tau of node 'a' is -2.0; expected a positive time constant"),
    ("fast", r"tau of node 'a' is 'fast' of type str; expected a finite real number"),
])
def test_a_time_constant_must_be_a_positive_real(tau, message):
    G = nx.DiGraph([("x", "a", {"weight": 1.0})])
    G.nodes["a"]["tau"] = tau
    with pytest.raises(en.EdgenetError, match=message):
        en.compile(G, recurrent=True, inputs=["x"], outputs=["a"])


def _cpg(tau=0.02):
    """farms_network's four-neuron CPG shape: two mutually inhibiting pairs, tau in seconds."""
    G = nx.DiGraph()
    G.add_node("drive", role="input")
    for n in ("f1", "e1", "f2", "e2"):
        G.add_node(n, role="output", activation="tanh", tau=tau)
        G.add_edge("drive", n, weight=1.0)
    for u, v in (("f1", "e1"), ("e1", "f1"), ("f2", "e2"), ("e2", "f2"), ("f1", "f2"),
                 ("f2", "f1")):
        G.add_edge(u, v, weight=-2.0)
    return G


def test_a_time_constant_the_explicit_update_cannot_follow_is_refused_by_name():
    rnn = en.compile(_cpg(), recurrent=True, dtype=torch.float64)
    x = torch.ones(1, 1, dtype=torch.float64)
    with pytest.raises(en.EdgenetError, match=r"neuron 'f1' has tau=0.02, and dt=1.0 is 50 "
                                              r"times it: .* diverges .*update='exponential'"):
        rnn(x, steps=40)
    with pytest.warns(RuntimeWarning, match=r"neuron 'f1' has tau=0.02.*overshoots"):
        rnn(x, steps=5, dt=0.03)
    y = rnn(x, steps=40, update="exponential")  # the exact update: stable for any dt
    assert torch.isfinite(y).all()
    small = rnn(x, steps=4000, dt=0.0005)  # with dt << tau both settle on the same state
    exact = rnn(x, steps=4000, dt=0.0005, update="exponential")
    assert torch.allclose(small[:, -1], exact[:, -1], atol=1e-6)
    with pytest.raises(en.EdgenetError, match=r"update must be 'euler'.*\(got 'rk4'\)"):
        rnn(x, steps=2, update="rk4")


def test_the_exponential_update_is_the_exact_leaky_integrator():
    G = nx.DiGraph([("x", "a", {"weight": 1.0})])
    G.nodes["a"]["tau"] = 3.0
    rnn = en.compile(G, recurrent=True, inputs=["x"], outputs=["a"], dtype=torch.float64)
    y = rnn(torch.ones(1, 1, dtype=torch.float64), steps=5, dt=0.7, update="exponential")
    t = 0.7 * torch.arange(1, 6, dtype=torch.float64)
    assert torch.allclose(y[0, :, 0], 1 - torch.exp(-t / 3.0), rtol=1e-14, atol=0)


def test_a_time_constant_the_dtype_cannot_hold_is_refused():
    G = nx.DiGraph([("x", "a")])
    G.nodes["a"]["tau"] = 1e300
    with pytest.raises(en.EdgenetError, match=r"node 'a' has tau 1e\+300, which torch.float32 "
                                              r"cannot hold"):
        en.compile(G, recurrent=True, inputs=["x"], outputs=["a"])
    G.nodes["a"]["tau"] = 1e-300  # an explicit update this fast diverges; the exact one is 1
    rnn = en.compile(G, recurrent=True, inputs=["x"], outputs=["a"])
    with pytest.raises(en.EdgenetError, match="diverges"):
        rnn(torch.ones(1, 1), steps=1)
    assert rnn.leak(update="exponential").tolist() == [1.0]


def test_an_input_with_no_steps_is_a_typed_error():
    G = nx.DiGraph([("x", "a")])
    rnn = en.compile(G, recurrent=True, inputs=["x"], outputs=["a"])
    with pytest.raises(en.InputError, match=r"x has shape \(2, 0, 1\), no time steps"):
        rnn(torch.zeros(2, 0, 1))


@settings(deadline=None)
@given(seed=st.integers(0, 10_000))
def test_a_recurrent_rewire_gives_what_compiling_the_edited_graph_gives(seed):
    """The rewire works on the plan's arrays; the oracle edits the graph in NetworkX and
    compiles it afresh: same nodes, edges, parameters and outputs, bitwise."""
    G, inputs, outputs = random_cyclic(seed)
    rng = np.random.default_rng(seed)
    model = en.compile(G, recurrent=True, inputs=inputs, outputs=outputs, dtype=torch.float64,
                       seed=seed)
    edges = model.edges
    remove = [edges[int(i)] for i in rng.choice(len(edges), size=5, replace=False)]
    hidden = [n for n in model.neurons if n not in outputs]
    gone = [hidden[int(rng.integers(len(hidden)))]] if hidden else []
    nodes = [n for n in model.nodes if n not in gone] + ["new"]
    add, seen = [], set(edges)
    while len(add) < 6:
        u = nodes[int(rng.integers(len(nodes)))]
        v = nodes[int(rng.integers(len(nodes)))]
        if v in inputs or (u, v) in seen or (u, v) in remove or u in gone or v in gone:
            continue
        seen.add((u, v))
        add.append((u, v))
    weights = rng.normal(size=len(add)).tolist()
    spec = {"activation": "tanh", "bias": 0.25, "tau": 3.0}
    remove = [e for e in remove if e[0] not in gone and e[1] not in gone]
    expected = model.to_network()
    expected.remove_nodes_from(gone)
    expected.add_node("new", role="hidden", **spec)
    expected.remove_edges_from(remove)
    for (u, v), w in zip(add, weights):
        expected.add_edge(u, v, weight=w)
    model.rewire(remove=remove, add=add, neurons={"new": spec}, remove_neurons=gone,
                 weights=weights)
    fresh = en.compile(expected, recurrent=True, inputs=inputs, outputs=outputs,
                       dtype=torch.float64)
    assert model.nodes == fresh.nodes and model.edges == fresh.edges
    assert model.activations == fresh.activations
    assert torch.equal(model.weight, fresh.weight) and torch.equal(model.bias, fresh.bias)
    assert torch.equal(model.tau, fresh.tau)
    x = torch.randn(2, 4, len(inputs), dtype=torch.float64)
    assert torch.equal(model(x), fresh(x))
    assert sorted(model.to_network().edges(data="weight"), key=repr) == \
        sorted(expected.edges(data="weight"), key=repr)
