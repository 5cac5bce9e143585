"""Parity with real peers nobody on this project wrote: torch.nn.Sequential and neat-python."""

from __future__ import annotations

import random

import networkx as nx
import pytest
import torch

import edgenet as en

neat = pytest.importorskip("neat")
from neat.activations import (  # noqa: E402
    clamped_activation,
    gauss_activation,
    relu_activation,
    sigmoid_activation,
    tanh_activation,
)
from neat.aggregations import sum_aggregation  # noqa: E402
from neat.nn import FeedForwardNetwork  # noqa: E402


def mlp_network(seq: torch.nn.Sequential) -> en.Network:
    """Build the MLP edge by edge, one add_edge per weight."""
    acts = {torch.nn.ReLU: "relu", torch.nn.Tanh: "tanh", torch.nn.Sigmoid: "sigmoid"}
    linears = [m for m in seq if isinstance(m, torch.nn.Linear)]
    net = en.Network()
    prev = [f"in{i}" for i in range(linears[0].in_features)]
    for n in prev:
        net.add_input(n)
    for k, lin in enumerate(linears):
        idx = list(seq).index(lin)
        last = k == len(linears) - 1
        act = "identity" if last else acts[type(seq[idx + 1])]
        layer = [f"l{k}n{j}" for j in range(lin.out_features)]
        for j, n in enumerate(layer):
            add = net.add_output if last else net.add_neuron
            add(n, activation=act, bias=lin.bias[j].item())
            for i, u in enumerate(prev):
                net.add_edge(u, n, weight=lin.weight[j, i].item())
        prev = layer
    return net


def test_sequential_mlp_parity_forward_and_gradients():
    torch.manual_seed(0)
    seq = torch.nn.Sequential(
        torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 6), torch.nn.ReLU(),
        torch.nn.Linear(6, 4), torch.nn.Sigmoid(), torch.nn.Linear(4, 3),
    ).double()
    net = mlp_network(seq)
    assert len(net.layers()) == 5
    model = en.compile(net, dtype=torch.float64)
    x = torch.randn(32, 5, dtype=torch.float64)
    torch.testing.assert_close(model(x), seq(x), rtol=1e-12, atol=1e-12)

    model(x).square().sum().backward()
    seq(x).square().sum().backward()
    grads = dict(zip(model.edges, model.weight.grad.tolist()))
    for k, lin in enumerate(m for m in seq if isinstance(m, torch.nn.Linear)):
        src = [f"in{i}" for i in range(lin.in_features)] if k == 0 else [
            f"l{k - 1}n{i}" for i in range(lin.in_features)]
        for j in range(lin.out_features):
            for i, u in enumerate(src):
                assert grads[u, f"l{k}n{j}"] == pytest.approx(lin.weight.grad[j, i].item(), rel=1e-10, abs=1e-12)


def test_sequential_float32_training_parity():
    torch.manual_seed(1)
    seq = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 2))
    model = en.compile(mlp_network(seq))
    x, t = torch.randn(64, 4), torch.randn(64, 2)
    opts = [torch.optim.Adam(m.parameters(), lr=1e-2) for m in (seq, model)]
    for _ in range(25):
        for m, opt in zip((seq, model), opts):
            opt.zero_grad()
            torch.nn.functional.mse_loss(m(x), t).backward()
            opt.step()
    torch.testing.assert_close(model(x), seq(x), rtol=1e-4, atol=1e-5)


# neat-python's activations and edgenet's built-ins of the same functions.
NEAT = {
    "neat_sigmoid": (sigmoid_activation,),
    "neat_tanh": (tanh_activation,),
    "relu": (relu_activation,),
    "neat_clamped": (clamped_activation,),
    "neat_gauss": (gauss_activation,),
}


def evolved_genome(seed: int, n_in: int = 4, n_out: int = 2, n_hidden: int = 30):
    """An evolved-looking DAG: int node keys as neat uses them (inputs negative, outputs
    0..n_out-1, hidden above), sparse random connections, skip connections, dead ends."""
    rng = random.Random(seed)
    inputs = [-(i + 1) for i in range(n_in)]
    outputs = list(range(n_out))
    hidden = list(range(10, 10 + n_hidden))
    order = inputs + hidden + outputs                  # a topological order for the genome
    G = nx.DiGraph()
    for k in inputs:
        G.add_node(k, role="input")
    for k in hidden + outputs:
        G.add_node(k, role="output" if k in outputs else "hidden",
                   activation=rng.choice(sorted(NEAT)), bias=rng.gauss(0, 1))
    for j, v in enumerate(order):
        if v in inputs:
            continue
        for u in order[:j]:
            if u not in outputs and rng.random() < 0.15:
                G.add_edge(u, v, weight=rng.gauss(0, 1.5))
    return G, inputs, outputs


@pytest.mark.parametrize("seed", range(6))
def test_neat_feed_forward_network_parity(seed):
    G, inputs, outputs = evolved_genome(seed)
    node_evals = []
    for v in nx.topological_sort(G):
        if v in inputs:
            continue
        data = G.nodes[v]
        links = [(u, G.edges[u, v]["weight"]) for u in G.predecessors(v)]
        node_evals.append((v, NEAT[data["activation"]][0], sum_aggregation, data["bias"], 1.0, links))
    ffn = FeedForwardNetwork(inputs, outputs, node_evals)

    model = en.compile(G, dtype=torch.float64)
    assert model.inputs == inputs and model.outputs == outputs
    rng = random.Random(100 + seed)
    xs = [[rng.uniform(-2, 2) for _ in inputs] for _ in range(20)]
    got = model(torch.tensor(xs, dtype=torch.float64)).tolist()
    for x, row in zip(xs, got):
        assert row == pytest.approx(ffn.activate(x), rel=1e-12, abs=1e-12)
