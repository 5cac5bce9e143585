"""Sparse training as the papers do it (issue 23) and schedulers on every model (issue 24):
candidates that keep the initial layer structure, RigL scores summed over micro-batches,
no false error from a logging forward, gradual magnitude pruning on Zhu & Gupta's cubic
schedule, SET and pruning on a recurrent network, candidates whose node was removed."""

from __future__ import annotations

import warnings

import networkx as nx
import pytest
import torch

import edgenet as en

LAYER = {"x": 0, "h": 1, "y": 2}


def layer(node: str) -> int:
    return LAYER[node[0]]


def mlp_model(density: float = 0.3, seed: int = 0, dtype=torch.float32):
    return en.compile(en.sparse_mlp([8, 16, 4], density, seed=seed), seed=seed, dtype=dtype)


def train_step(model, opt, x, micro: int = 1):
    opt.zero_grad()
    for part in x.chunk(micro):
        model(part).square().mean().backward()
    opt.step()


# --------------------------------------------------------------- candidates: layer structure

@pytest.mark.parametrize("cls", [en.SET, en.RigL])
def test_default_candidates_keep_the_initial_layer_pairs(cls):
    """Before the fix any forward pair grew: hidden->hidden and input->output edges, and
    the 2-layer MLP gained generations."""
    model = mlp_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    extra = {"seed": 0} if cls is en.SET else {}
    sched = cls(model, opt, fraction=0.5, every=1, **extra)
    x = torch.randn(32, 8, generator=torch.Generator().manual_seed(0))
    edges = len(model.edges)
    grown = set()
    for _ in range(15):
        train_step(model, opt, x)
        sched.step()
        grown |= set(sched.last[1])
        assert {(layer(u), layer(v)) for u, v in model.edges} <= {(0, 1), (1, 2)}
        assert len(model.edges) == edges
    assert len(grown) > 20  # it did rewire
    assert len(model.to_network().layers()) == 3


def test_forward_candidates_are_the_old_behaviour():
    model = mlp_model()
    sched = en.SET(model, None, fraction=0.5, every=1, seed=0, candidates="forward")
    for _ in range(5):
        sched.step()
    pairs = {(layer(u), layer(v)) for u, v in model.edges}
    assert pairs - {(0, 1), (1, 2)}  # skip connections or edges within a layer grew


def test_layers_are_those_at_construction():
    """A neuron without incoming edges is in layer 1, an output without edges in the last
    layer; the candidates are every pair of the joined layer pairs."""
    net = en.Network()
    for n in ("x0", "x1"):
        net.add_input(n)
    for n in ("h0", "h1", "h2"):
        net.add_neuron(n)
    for n in ("y0", "y1"):
        net.add_output(n)
    net.add_edges_from([("x0", "h0"), ("h0", "y0"), ("h2", "y0")])  # h2 unfed, y1 alone
    model = en.compile(net, seed=0)
    from edgenet.model.schedulers import node_layers

    assert node_layers(model) == {"x0": 0, "x1": 0, "h0": 1, "h1": 1, "h2": 1, "y0": 2,
                                  "y1": 2}
    sched = en.SET(model, None, fraction=1.0, every=1, seed=0)
    sched.step()
    assert {(layer(u), layer(v)) for u, v in model.edges} <= {(0, 1), (1, 2)}


def test_named_candidate_sets_are_checked():
    model = mlp_model()
    with pytest.raises(en.EdgenetError, match=r"candidates='any' could close a cycle in a DAG"):
        en.SET(model, None, candidates="any")
    with pytest.raises(en.EdgenetError, match=r"must be one of 'layers', 'forward', 'any', a list of edges "
                       r"or a list of \(sources, targets\) blocks \(got 'all'\)"):
        en.RigL(model, None, candidates="all")


def test_listed_backward_candidates_are_warned_about():
    """Pairs that are not forward in the row order were dropped without a word."""
    model = mlp_model()
    with pytest.warns(UserWarning, match=r"2 of the 3 candidate pairs into a neuron are not "
                      r"forward in the current node order \(such as \('y0', 'h1_0'\)\)"):
        en.SET(model, None, candidates=[("y0", "h1_0"), ("x0", "y1"), ("h1_3", "h1_1")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        en.SET(model, None, candidates=[("x0", "y1")])


@pytest.mark.parametrize("blocks", [False, True])
def test_candidates_whose_node_was_removed_are_skipped(blocks):
    """Before the fix the step raised a raw KeyError for the removed neuron."""
    net = en.Network()
    net.add_input("x")
    for n in ("a", "b"):
        net.add_neuron(n)
    net.add_output("y")
    net.add_edges_from([("x", "a"), ("a", "y"), ("x", "b"), ("b", "y")])
    model = en.compile(net, seed=0)
    cands = [(["x", "b"], ["y"])] if blocks else [("x", "y"), ("b", "y")]
    sched = en.SET(model, None, fraction=0.5, every=1, seed=0, candidates=cands)
    model.rewire(remove_neurons=["b"])
    sched.step()
    assert sched.last[1] == [("x", "y")]


# ------------------------------------------------------------- RigL: accumulation, logging

def rigl_pick(micro: int, log: bool = False):
    model = mlp_model(dtype=torch.float64)
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    sched = en.RigL(model, opt, fraction=0.3, every=1)
    x = torch.randn(16, 8, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    opt.zero_grad()
    for part in x.chunk(micro):
        model(part).square().sum().backward()
    if log:
        model(x).sum()  # a logging forward with grad enabled, never backpropagated
    H, D = sched.gradients()
    opt.step()
    sched.step()
    return (D @ H.T), sched.last


def test_rigl_sums_scores_over_micro_batches():
    """Before the fix only the last micro-batch counted (its 4 samples of 16)."""
    full, picked = rigl_pick(1)
    accumulated, picked_micro = rigl_pick(4)
    torch.testing.assert_close(accumulated, full)
    assert picked_micro == picked


def test_a_logging_forward_before_step_is_no_error():
    """Before the fix the logging pass replaced the captured one and step() said to run a
    forward and backward pass, which the user had done."""
    full, picked = rigl_pick(1)
    logged, picked_logged = rigl_pick(2, log=True)
    torch.testing.assert_close(logged, full)
    assert picked_logged == picked


def test_rigl_without_any_backward_is_still_refused():
    model = mlp_model()
    sched = en.RigL(model, None, fraction=0.3, every=1)
    model(torch.randn(4, 8)).sum()  # forward only
    with pytest.raises(en.EdgenetError, match=r"RigL needs a forward and backward pass"):
        sched.step()


# ---------------------------------------------------------------------- recurrent networks

def recurrent():
    G = nx.DiGraph()
    G.add_edges_from([("x", "a"), ("a", "b"), ("b", "a"), ("b", "b"), ("a", "out")])
    for u, v in G.edges:
        G.edges[u, v]["weight"] = 0.5
    return en.compile(G, recurrent=True, inputs=["x"], outputs=["out"], seed=0)


def test_set_rewires_a_recurrent_network():
    """Before the fix any scheduler on a RecurrentNetwork raised AttributeError."""
    rnn = recurrent()
    opt = torch.optim.Adam(rnn.parameters(), lr=0.01)
    sched = en.SET(rnn, opt, fraction=0.4, every=1, seed=0)
    grown = set()
    for _ in range(10):
        loss = rnn(torch.randn(2, 1), steps=3).square().sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        grown |= set(sched.last[1])
        assert len(rnn.edges) == 5
        assert all(v != "x" for _, v in rnn.edges)
    assert any(u == v for u, v in grown) or any(
        rnn.nodes.index(u) >= rnn.nodes.index(v) for u, v in grown)  # "any": cycles too
    fresh = en.compile(rnn.to_network(), recurrent=True, inputs=["x"], outputs=["out"])
    x = torch.randn(3, 1)
    torch.testing.assert_close(rnn(x, steps=4), fresh(x, steps=4))


def test_schedulers_refuse_what_a_recurrent_network_cannot_do():
    rnn = recurrent()
    with pytest.raises(en.EdgenetError, match=r"RigL scores candidates by replaying a "
                       r"feed-forward pass, which a RecurrentNetwork does not have; use SET"):
        en.RigL(rnn, None)
    with pytest.raises(en.EdgenetError, match=r"candidates='layers' needs a layer order"):
        en.SET(rnn, None, candidates="layers")
    with pytest.raises(en.EdgenetError, match=r"scope='layer' needs layers"):
        en.GradualPruning(rnn, None, 0.5, end=4, scope="layer")
    with pytest.raises(en.EdgenetError, match=r"SET rewires a compiled model"):
        en.SET(nx.DiGraph([("x", "y")]), None)


def test_set_on_a_recurrent_network_skips_removed_candidates():
    rnn = recurrent()
    sched = en.SET(rnn, None, fraction=0.5, every=1, seed=0,
                   candidates=[("b", "out"), ("x", "out")])
    rnn.rewire(remove_neurons=["b"])
    sched.step()
    assert sched.last[1] == [("x", "out")]


# ------------------------------------------------------------------------- gradual pruning

def test_cubic_schedule_is_zhu_and_gupta():
    model = mlp_model(1.0)
    prune = en.GradualPruning(model, None, 0.9, begin=10, end=110, every=10,
                              initial_sparsity=0.2)
    for t in range(0, 130):
        s = prune.current_sparsity(t)
        if t < 10:
            assert s == 0.0
        elif t >= 110:
            assert s == 0.9
        else:
            assert s == pytest.approx(0.9 + (0.2 - 0.9) * (1 - (t - 10) / 100) ** 3)


@pytest.mark.parametrize("scope", ["layer", "global"])
def test_pruning_removes_the_smallest_edges_down_to_the_schedule(scope):
    model = mlp_model(1.0)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    prune = en.GradualPruning(model, opt, 0.9, begin=2, end=20, every=3, scope=scope)
    x = torch.randn(32, 8, generator=torch.Generator().manual_seed(0))
    initial = {(0, 1): 128, (1, 2): 64} if scope == "layer" else {None: 192}
    group = (lambda e: (layer(e[0]), layer(e[1]))) if scope == "layer" else (lambda e: None)
    for t in range(1, 26):
        train_step(model, opt, x)
        w = dict(zip(model.edges, model.weight.detach().abs().tolist()))
        prune.step()
        pruning = 2 <= t <= 20 and ((t - 2) % 3 == 0 or t == 20)
        s = prune.current_sparsity(t)
        for g, n0 in initial.items():
            have = [e for e in model.edges if group(e) == g]
            if pruning:
                assert len(have) == round(n0 * (1 - s))
                gone = [e for e in w if group(e) == g and e not in set(have)]
                if gone:  # the removed ones are the weakest of their group
                    assert max(w[e] for e in gone) <= min(w[e] for e in have)
        if not pruning:
            assert len(model.edges) == len(w)  # no pruning between the scheduled steps
    assert len(model.edges) == (round(128 * 0.1) + round(64 * 0.1) if scope == "layer"
                                else round(192 * 0.1))
    assert opt.state[model.weight]["exp_avg"].shape == model.weight.shape


def test_pruning_a_recurrent_network_globally():
    rnn = recurrent()
    prune = en.GradualPruning(rnn, None, 0.6, end=2, every=1)
    prune.step()
    prune.step()
    assert len(rnn.edges) == 2  # round(5 * 0.4)
    assert rnn(torch.randn(1, 1), steps=2).shape == (1, 2, 1)


@pytest.mark.parametrize("kwargs, message", [
    ({"sparsity": 1.0}, r"sparsity must be a number in \[0, 1\) \(got 1.0\)"),
    ({"initial_sparsity": 0.95}, r"initial_sparsity \(0.95\) must not exceed sparsity \(0.9\)"),
    ({"begin": 5, "end": 2}, r"end \(2\) must not come before begin \(5\)"),
    ({"end": -1}, r"end must be an int >= 0 \(got -1\)"),
    ({"every": 0}, r"every must be a positive int \(got 0\)"),
    ({"scope": "neuron"}, r"scope must be 'layer', 'global' or None \(got 'neuron'\)"),
])
def test_pruning_arguments_get_typed_errors(kwargs, message):
    args = {"sparsity": 0.9, "end": 10, **kwargs}
    with pytest.raises(en.EdgenetError, match=message):
        en.GradualPruning(mlp_model(), None, **args)


# --------------------------------------------------------------------------- the demo

def test_demo_rewire_prints_the_five_methods(capsys):
    """``edgenet demo --rewire --quick``: the five runs side by side, same edge count."""
    pytest.importorskip("sklearn")
    from edgenet.shell.cli import main

    assert main(["demo", "--rewire", "--quick"]) == 0
    out = capsys.readouterr().out
    lines = [line.strip() for line in out.splitlines()[1:]]
    assert [line.split(":")[0] for line in lines] == ["static uniform", "static ERK", "SET",
                                                      "RigL", "pruning"]
    assert all(line.endswith(", 474 edges") for line in lines)


def test_pruning_groups_survive_a_removed_neuron():
    """Layer-pair groups are fixed at construction: removing the neuron of the highest
    layer must not renumber them."""
    net = en.Network()
    net.add_input("x")
    net.add_neuron("h0")
    net.add_neuron("h1")
    net.add_neuron("g")
    net.add_neuron("d")
    net.add_output("y")
    net.add_edges_from([("x", "h0"), ("x", "h1"), ("h0", "g"), ("h1", "g"), ("g", "d"),
                        ("h0", "y"), ("x", "y")])  # d, a sink, is the highest layer
    model = en.compile(net, seed=0)
    prune = en.GradualPruning(model, None, 0.5, end=1, every=1)
    before = dict(zip(model.edges, prune._groups().tolist()))
    model.rewire(remove_neurons=["d"])
    after = dict(zip(model.edges, prune._groups().tolist()))
    assert all(after[e] == before[e] for e in after)
