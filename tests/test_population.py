"""compile_population: one pass over the disjoint union equals compiling each member alone."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch

import edgenet as en

ACTS = ["identity", "sigmoid", "tanh", "relu", "softplus", "sin", "neat_sigmoid", "neat_gauss",
        "pop_custom"]
BUILTIN = ["identity", "sigmoid", "tanh", "relu", "softplus", "sin", "neat_sigmoid", "neat_gauss"]
# A registered (not built-in) activation: only the generation engine runs it.
en.register_activation("pop_custom", lambda z: z / torch.sqrt(1 + z * z), overwrite=True)
AGGS = ["sum", "product", "max", "min", "maxabs", "median", "mean"]


def member(rng: np.random.Generator, n_in: int, n_out: int, acts=ACTS, aggs=("sum",),
           names: str = "int") -> en.Network:
    """A random DAG of 0-30 hidden neurons with skip edges, bias-only neurons and outputs
    that feed other neurons
    node names are ints or strings."""
    hidden = int(rng.integers(0, 30))
    name = (lambda i: i) if names == "int" else (lambda i: f"n{i}")
    net = en.Network(tag=int(rng.integers(100)))
    for i in range(n_in):
        net.add_input(name(i))
    order = list(range(n_in, n_in + hidden + n_out))
    outs = set(rng.choice(order, n_out, replace=False).tolist())
    p = float(rng.uniform(0.1, 0.5))
    for j in order:
        attrs = {"activation": str(rng.choice(acts)), "bias": float(rng.normal()), "colour": j}
        agg = str(rng.choice(aggs))
        if agg != "sum" or len(aggs) > 1:
            attrs.update(aggregation=agg, response=float(rng.uniform(-1.5, 1.5)))
        (net.add_output if j in outs else net.add_neuron)(name(j), **attrs)
        for i in range(j):
            if rng.random() < p and (i >= n_in or rng.random() < 0.7):
                net.add_edge(name(i), name(j), weight=float(rng.normal()))
    return net


def population(seed: int, P: int, **kw) -> list[en.Network]:
    rng = np.random.default_rng(seed)
    return [member(rng, 3, 2, **kw) for _ in range(P)]


def member_models(graphs, engine="auto"):
    return [en.compile_population([g], dtype=torch.float64, engine=engine).member(0)
            for g in graphs]


@pytest.mark.parametrize("engine", ["auto", "sparse", "dense", "fused"])
def test_outputs_and_gradients_equal_the_members(engine):
    acts = BUILTIN if engine == "fused" else ACTS
    graphs = population(1, 12, acts=acts) + population(2, 3, acts=acts, names="str")
    pop = en.compile_population(graphs, dtype=torch.float64, engine=engine)
    members = [en.compile(g, dtype=torch.float64, engine=engine) for g in graphs]
    x = torch.randn(15, 7, 3, dtype=torch.float64)  # (P, B, n_in), each member its own
    for shared in (False, True):
        xs = x[0] if shared else x
        xp = xs.clone().requires_grad_(True)
        y = pop(xp)
        assert y.shape == (15, 7, 2)
        gy = torch.randn_like(y)
        (y * gy).sum().backward()
        for i, m in enumerate(members):
            m.zero_grad()
            xi = (xs if shared else xs[i]).clone().requires_grad_(True)
            yi = m(xi)
            torch.testing.assert_close(y[i], yi, rtol=0, atol=1e-12)
            (yi * gy[i]).sum().backward()
            if not shared:
                torch.testing.assert_close(xp.grad[i], xi.grad, rtol=0, atol=1e-12)
            grads = dict(zip(m.edges, m.weight.grad.tolist()))
            biases = dict(zip(m.neurons, m.bias.grad.tolist()))
            for (u, v), gw in zip(pop.union.edges, pop.union.weight.grad.tolist()):
                if u[0] == i:
                    assert abs(gw - grads[u[1], v[1]]) <= 1e-12
            for n, gb in zip(pop.union.neurons, pop.union.bias.grad.tolist()):
                if n[0] == i:
                    assert abs(gb - biases[n[1]]) <= 1e-12
        pop.zero_grad()


def test_aggregations_run_exactly_in_a_population():
    graphs = population(3, 10, aggs=AGGS)
    assert {d.get("aggregation") for g in graphs for _, d in g.nodes(data=True)} >= set(AGGS)
    pop = en.compile_population(graphs, dtype=torch.float64)
    assert pop.union.engine == "aggregate"
    x = torch.randn(9, 3, dtype=torch.float64)
    y = pop(x)
    for i, m in enumerate(member_models(graphs)):
        torch.testing.assert_close(y[i], m(x), rtol=0, atol=1e-12)
    weight = pop.union.weight
    (g,) = torch.autograd.grad(y.sum(), weight)
    assert torch.isfinite(g).all()


def test_aggregate_gradients_pass_gradcheck():
    rng = np.random.default_rng(4)
    graphs = [g for g in (member(rng, 3, 2, aggs=AGGS, acts=["identity", "tanh", "neat_sigmoid"])
                          for _ in range(40)) if g.number_of_edges() <= 25][:3]
    pop = en.compile_population(graphs, dtype=torch.float64)
    x = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda x, w, b: pop(x), (x, pop.union.weight, pop.union.bias))


def test_forced_engine_refuses_aggregation_naming_the_neuron():
    graphs = population(5, 2, aggs=("max",))
    with pytest.raises(en.EdgenetError, match=r"engine='fused' sums .*node \(0, \d+\) has aggregation 'max'"):
        en.compile_population(graphs, engine="fused")
    pop = en.compile_population(graphs)
    with pytest.raises(en.EdgenetError, match=r"engine='sparse' sums"):
        pop.union.engine = "sparse"


def test_to_networks_keeps_names_attributes_and_current_weights():
    graphs = population(6, 4, aggs=("sum", "max")) + population(7, 2, names="str")
    pop = en.compile_population(graphs, dtype=torch.float64)
    with torch.no_grad():
        pop.union.weight.mul_(2.0)
        pop.union.bias.add_(1.0)
    nets = pop.to_networks()
    for g, net in zip(graphs, nets):
        assert list(net) == list(g) and list(net.edges) == list(g.edges)
        assert net.graph == g.graph
        for n, d in g.nodes(data=True):
            if "colour" in d:
                assert net.nodes[n]["colour"] == d["colour"]
            assert net.nodes[n].get("aggregation") == d.get("aggregation")
            if "bias" in d:
                assert net.nodes[n]["bias"] == d["bias"] + 1.0
        for u, v, w in g.edges(data="weight"):
            assert net.edges[u, v]["weight"] == 2.0 * w
    again = en.compile_population(nets, dtype=torch.float64)
    x = torch.randn(5, 3, dtype=torch.float64)
    torch.testing.assert_close(again(x), pop(x), rtol=0, atol=0)
    for i in range(len(graphs)):
        torch.testing.assert_close(pop.member(i)(x), pop(x)[i], rtol=0, atol=1e-12)


def test_union_is_as_deep_as_the_deepest_member():
    """One generation of the union holds that generation of every member: no loop."""
    graphs = population(8, 20)
    pop = en.compile_population(graphs)
    # (+1: a member's bias-only neurons make a generation of their own at level 0)
    assert pop.union.layout.depth <= 1 + max(en.compile(g).layout.depth for g in graphs)


def test_bad_members_are_refused_and_nothing_is_built():
    graphs = population(9, 3)
    odd = en.Network()
    odd.add_input("a")
    odd.add_output("y")
    odd.add_edge("a", "y")
    with pytest.raises(en.EdgenetError, match="graph 3 has 1 inputs and 1 outputs, graph 0 3 and 2"):
        en.compile_population(graphs + [odd])
    with pytest.raises(en.EdgenetError, match="at least one graph"):
        en.compile_population([])
    with pytest.raises(en.EdgenetError, match="list of graphs"):
        en.compile_population(graphs[0])
    cyclic = nx.DiGraph([("x", "a"), ("a", "b"), ("b", "a"), ("b", "y")])
    with pytest.raises(en.CycleError, match="cycle"):
        en.compile_population([nx.DiGraph([("x", "y")]), cyclic])
    with pytest.raises(en.EdgenetError, match="graph 1: .*undirected"):
        en.compile_population([nx.DiGraph([("x", "y")]), nx.Graph([("x", "y")])])
    bad = graphs[1].copy()
    bad.nodes[3]["activation"] = "nope"
    with pytest.raises(en.EdgenetError, match=r"node \(1, 3\).*unknown activation 'nope'"):
        en.compile_population([graphs[0], bad])
    pop = en.compile_population(graphs)
    with pytest.raises(en.InputError, match=r"\(batch, 3\) or \(3, batch, 3\) \(got \(2, 4, 3\)\)"):
        pop(torch.zeros(2, 4, 3))
    with pytest.raises(en.EdgenetError, match="member index 3 out of range"):
        pop.member(3)


def test_population_trains_with_one_optimizer():
    graphs = population(10, 6, acts=BUILTIN)
    pop = en.compile_population(graphs, seed=0)
    x, y = torch.randn(32, 3), torch.randn(32, 2)
    opt = torch.optim.Adam(pop.parameters(), lr=0.01)
    losses = []
    for _ in range(20):
        opt.zero_grad()
        loss = ((pop(x) - y) ** 2).mean(dim=(1, 2))  # (P,) one loss per member
        loss.sum().backward()
        opt.step()
        losses.append(loss.detach())
    assert (losses[-1] < losses[0]).all()


@pytest.mark.cuda
@pytest.mark.parametrize("aggs", [("sum",), tuple(AGGS)])
def test_cuda_population_equals_the_members_on_cpu(aggs):
    graphs = population(11, 10, aggs=aggs)
    pop = en.compile_population(graphs, dtype=torch.float64, device="cuda")
    x = torch.randn(10, 6, 3, dtype=torch.float64)
    xc = x.cuda().requires_grad_(True)
    y = pop(xc)
    y.sum().backward()
    for i, m in enumerate(member_models(graphs)):
        xi = x[i].clone().requires_grad_(True)
        yi = m(xi)
        yi.sum().backward()
        torch.testing.assert_close(y[i].cpu(), yi.detach(), rtol=0, atol=1e-12)
        torch.testing.assert_close(xc.grad[i].cpu(), xi.grad, rtol=0, atol=1e-12)


def test_population_refuses_a_non_tensor():
    pop = en.compile_population(population(12, 2))
    with pytest.raises(en.InputError, match=r"expected a torch.Tensor of shape \(batch, 3\) or \(2, batch, 3\) \(got list\)"):
        pop([[0.0, 0.0, 0.0]])


def test_auto_runs_a_population_of_narrow_members_fused_on_the_cpu():
    graphs = population(13, 40, acts=BUILTIN)
    pop = en.compile_population(graphs, dtype=torch.float64)
    x = torch.randn(5, 3, dtype=torch.float64)
    y = pop(x)
    assert pop.union.engine == "fused"
    for i, m in enumerate(member_models(graphs[:5])):
        torch.testing.assert_close(y[i], m(x), rtol=0, atol=1e-12)
    pop.union.engine = "sparse"  # a choice of the user's stays
    torch.testing.assert_close(pop(x), y, rtol=0, atol=1e-12)
    assert pop.union.engine == "sparse"
    custom = en.compile_population(population(13, 3), dtype=torch.float64)
    custom(x)
    assert custom.union.engine == "auto"  # registered activations: the generation engine
