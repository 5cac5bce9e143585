"""edgenet.model.base: the DAG and the recurrent model share one surface, one argument
check in compile, one "is this a model" predicate and one engine seam."""

import dataclasses

import networkx as nx
import numpy as np
import pytest
import torch

import edgenet as en
from edgenet.kernels import backends
from edgenet.kernels.recurrent import NUMBA, TORCH
from edgenet.model.base import CompiledModel, is_model


def _graph():
    G = nx.DiGraph()
    G.add_edge("x0", "h", weight=0.5)
    G.add_edge("x1", "h", weight=-0.25)
    G.add_edge("h", "y", weight=1.5)
    G.add_edge("x0", "y", weight=0.75)
    return G


def _models():
    G = _graph()
    dag = en.compile(G, inputs=["x0", "x1"], outputs=["y"], dtype=torch.float64)
    rnn = en.compile(G, recurrent=True, inputs=["x0", "x1"], outputs=["y"], dtype=torch.float64)
    return dag, rnn


def test_both_models_share_one_surface_and_agree_on_a_dag():
    dag, rnn = _models()
    assert isinstance(dag, CompiledModel) and isinstance(rnn, CompiledModel)
    assert dag.inputs == rnn.inputs == ["x0", "x1"] and dag.outputs == rnn.outputs == ["y"]
    assert sorted(dag.edges) == sorted(rnn.edges) and sorted(dag.neurons) == sorted(rnn.neurons)
    a, b = dag.to_network(), rnn.to_network()
    assert list(a.edges(data="weight")) == list(b.edges(data="weight"))
    x = torch.randn(5, 2, dtype=torch.float64)
    # a DAG of depth 2 settles after 2 steps of the recurrent model
    assert torch.allclose(rnn(x, steps=2)[:, -1], dag(x), rtol=0, atol=1e-14)


@pytest.mark.parametrize("kwargs", [dict(seed="abc"), dict(seed=2**70), dict(seed=True),
                                    dict(engine="nonsense"), dict(dtype=torch.int64),
                                    dict(dtype="float32"), dict(device="gpu9")])
def test_compile_checks_every_argument_the_same_way_for_both_models(kwargs):
    messages = []
    for recurrent in (False, True):
        with pytest.raises(en.EdgenetError) as err:
            en.compile(_graph(), inputs=["x0", "x1"], outputs=["y"], recurrent=recurrent,
                       **kwargs)
        messages.append(str(err.value).replace("a recurrent network's engine", "engine"))
    shown = repr(next(iter(kwargs.values())))[:12]
    assert shown in messages[0]
    if "engine" not in kwargs:  # the engines differ: see the next test
        assert messages[0] == messages[1]


def test_recurrent_must_be_a_bool():
    with pytest.raises(en.EdgenetError, match=r"recurrent must be True or False \(got 'yes'\)"):
        en.compile(_graph(), recurrent="yes")


def test_a_recurrent_network_names_the_engines_it_has():
    with pytest.raises(en.EdgenetError, match=r"recurrent network's engine must be one of "
                                              r"'auto', 'sparse' \(got 'fused'\)"):
        en.compile(_graph(), recurrent=True, inputs=["x0", "x1"], outputs=["y"], engine="fused")
    _, rnn = _models()
    with pytest.raises(en.EdgenetError, match="got 'dense'"):
        rnn.engine = "dense"
    rnn.engine = "sparse"
    assert rnn.engine == "sparse"


def test_no_cuda_is_a_typed_error_naming_the_device(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for recurrent in (False, True):
        with pytest.raises(en.EdgenetError, match=r"device='cuda', but no CUDA device"):
            en.compile(_graph(), inputs=["x0", "x1"], outputs=["y"], device="cuda",
                       recurrent=recurrent)


def test_every_function_that_takes_a_model_takes_both(tmp_path):
    for model in _models():
        assert is_model(model)
        kind = type(model).__name__
        en.write_graphml(model, tmp_path / f"{kind}.graphml")
        en.save(model, tmp_path / f"{kind}.npz")
        G = en.read_graphml(tmp_path / f"{kind}.graphml")
        assert sorted(G.edges(data="weight")) == sorted(model.to_network().edges(data="weight"))
        assert sorted(en.load(tmp_path / f"{kind}.npz").edges(data="weight")) == \
            sorted(G.edges(data="weight"))
    assert not is_model(_graph()) and not is_model(torch.nn.Linear(2, 1))


def test_rewire_reads_numbers_by_the_same_rule_as_compile():
    # validate.real takes a 0-d array as a bias, and so does rewire now
    for model in _models():
        model.rewire(neurons={"n": {"activation": "identity", "bias": np.array(0.5)}},
                     add=[("x0", "n"), ("n", "y")], weights=[np.float64(1.0), np.array(2.0)])
        assert model.to_network().nodes["n"]["bias"] == 0.5
        with pytest.raises(en.EdgenetError, match=r"expected a finite real number"):
            model.rewire(add=[("x1", "n")], weights=[np.array([1.0, 2.0])])
        with pytest.raises(en.EdgenetError, match=r"True of type bool"):
            model.rewire(add=[("x1", "n")], weights=[True])


def test_a_registered_backend_can_be_selected_by_name():
    generations = backends.get("generations")
    mine = dataclasses.replace(generations, name="mine", recurrent=lambda device: TORCH)
    backends.register(mine)
    try:
        assert "mine" in backends.engines() and "mine" in backends.engines(recurrent=True)
        dag, rnn = _models()
        x = torch.randn(4, 2, dtype=torch.float64)
        want_dag, want_rnn = dag(x), rnn(x, steps=3)
        dag.engine = "mine"
        rnn.engine = "mine"
        assert torch.equal(dag(x), want_dag)
        assert torch.allclose(rnn(x, steps=3), want_rnn, rtol=1e-15, atol=0)
        assert dag.generation_stats()[0]["kernel"] == "mine"
    finally:
        del backends._REGISTRY["mine"]


def test_the_recurrent_step_runs_on_the_products_its_backend_registers(monkeypatch):
    calls = []

    def counting(products):
        def product(A, z, s):
            calls.append("product")
            products.product(A, z, s)
        return dataclasses.replace(products, product=product)

    generations = backends.get("generations")
    monkeypatch.setitem(backends._REGISTRY, "generations", dataclasses.replace(
        generations, recurrent=lambda device: counting(NUMBA)))
    _, rnn = _models()
    rnn(torch.ones(2, 2, dtype=torch.float64), steps=4)
    assert calls == ["product"] * 4


def test_a_self_loop_is_a_cycle_error_and_the_error_points_at_recurrent():
    G = _graph()
    G.add_edge("h", "h", weight=0.1)
    with pytest.raises(en.CycleError, match=r"'h' -> 'h'.*recurrent=True") as err:
        en.compile(G, inputs=["x0", "x1"], outputs=["y"])
    assert err.value.cycle == ["h"]
    dag, _ = _models()
    with pytest.raises(en.CycleError, match=r"'h' -> 'h'"):
        dag.rewire(add=[("h", "h")])
    G.add_edge("y", "h")
    with pytest.raises(en.CycleError) as err:
        en.compile(G, inputs=["x0", "x1"], outputs=["y"])
    assert "acyclic graphs only" not in str(err.value)


def test_recurrent_second_derivatives_are_exact():
    G = nx.DiGraph([("x", "a", {"weight": 0.7}), ("a", "a", {"weight": -0.4}),
                    ("a", "b", {"weight": 0.9}), ("b", "a", {"weight": 0.3})])
    G.nodes["a"]["activation"] = "tanh"
    G.nodes["b"]["activation"] = "sigmoid"
    G.nodes["b"]["tau"] = 2.0
    rnn = en.compile(G, recurrent=True, inputs=["x"], outputs=["b"], dtype=torch.float64)
    x = torch.randn(3, 4, 1, dtype=torch.float64, requires_grad=True)
    h0 = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)

    w = rnn.weight.detach().clone().requires_grad_(True)
    b = rnn.bias.detach().clone().requires_grad_(True)
    from edgenet.kernels.recurrent import BPTT

    P = rnn._pass(x.device, 1.0)

    def g(x, w, b, h0):
        return BPTT.apply(x, w, b, h0, P, None)

    assert torch.autograd.gradcheck(g, (x, w, b, h0))
    assert torch.autograd.gradgradcheck(g, (x, w, b, h0))
    # the case: a gradient penalty's derivative in the weights
    (gx,) = torch.autograd.grad(rnn(x).sum(), x, create_graph=True)
    assert gx.requires_grad
    (gw,) = torch.autograd.grad((gx ** 2).sum(), rnn.weight)
    eps = 1e-6
    fd = []
    for i in range(rnn.weight.numel()):
        vals = []
        for s in (eps, -eps):
            with torch.no_grad():
                rnn.weight[i] += s
            (gxi,) = torch.autograd.grad(rnn(x).sum(), x)
            vals.append((gxi ** 2).sum().item())
            with torch.no_grad():
                rnn.weight[i] -= s
        fd.append((vals[0] - vals[1]) / (2 * eps))
    assert np.allclose(gw.numpy(), fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("kwargs, message", [
    (dict(neurons=["n"]), r"neurons= must be a dict of new neurons .*\(got \['n'\]\)"),
    (dict(add=[(["a"], "y")]), r"add= edge \(\['a'\], 'y'\) names \['a'\] of type list, which "
                               r"cannot be a node"),
    (dict(remove_neurons=[["h"]]), r"remove_neurons= names \['h'\] of type list"),
    (dict(remove_neurons="h"), r"remove_neurons= must be a list of nodes \(got 'h'\)"),
    (dict(optimizer="adam"), r"optimizer= must be a torch.optim.Optimizer .*\(got 'adam'\)"),
    (dict(add=[("x0", "n")], neurons={"n": {}}, weights=5),
     r"weights= must be a list of numbers, one per edge in add= \(got 5 of type int\)"),
])
def test_rewire_refuses_malformed_arguments_by_name_on_both_models(kwargs, message):
    for model in _models():
        before = (model.edges, model.weight.detach().clone())
        with pytest.raises(en.EdgenetError, match=message):
            model.rewire(**kwargs)
        assert model.edges == before[0] and torch.equal(model.weight.detach(), before[1])


def test_rewire_refuses_lbfgs_whose_history_cannot_follow_the_edges():
    for model in _models():
        opt = torch.optim.LBFGS(model.parameters())
        with pytest.raises(en.EdgenetError, match=r"optimizer= is LBFGS"):
            model.rewire(add=[("x1", "y")], optimizer=opt)
        assert ("x1", "y") not in model.edges


def test_a_rewire_under_inference_mode_leaves_the_model_trainable():
    for model in _models():
        with torch.inference_mode():
            model.rewire(add=[("x1", "y")], weights=[0.5])
        x = torch.ones(3, 2, dtype=torch.float64)
        y = model(x) if model.__class__.__name__ == "CompiledNetwork" else model(x, steps=2)
        y.sum().backward()
        assert model.weight.grad is not None and model.weight.grad.shape == model.weight.shape


def test_new_edges_start_with_the_optimizer_state_a_fresh_parameter_gets():
    """Rprop's step size starts at lr (at 0 a new edge never moves); Adagrad's sum at its
    initial accumulator; moments and momenta at 0, as torch starts them."""
    for model in _models():
        x = torch.ones(4, 2, dtype=torch.float64)
        steps = {} if model.__class__.__name__ == "CompiledNetwork" else {"steps": 2}
        for opt, key, want in [(torch.optim.Rprop(model.parameters(), lr=0.05), "step_size",
                                0.05),
                               (torch.optim.Adagrad(model.parameters(),
                                                    initial_accumulator_value=0.3), "sum", 0.3)]:
            model(x, **steps).square().sum().backward()
            opt.step()
            model.rewire(add=[("x1", "y")], weights=[0.5], optimizer=opt)
            new = model.edges.index(("x1", "y"))
            assert opt.state[model.weight][key][new].item() == want
            before = model.weight[new].item()
            for _ in range(3):
                opt.zero_grad()
                model(x, **steps).square().sum().backward()
                opt.step()
            assert model.weight[new].item() != before  # the new edge trains
            model.rewire(remove=[("x1", "y")], optimizer=opt)
