"""A connectome as a recurrent network: stimulate its sensory neurons, train a readout.

    python examples/connectome.py                       # a generated stand-in connectome
    python examples/connectome.py celegans.graphml      # the C. elegans GraphML (279 neurons)

edgenet ships no data. Given a GraphML path (for instance the C. elegans connectome of
the public neuroloops repository: 279 neurons, 2,194 synapse-count edges, cyclic) it
reads that; otherwise it generates a stand-in of the same size: neurons on a
sensory -> inter -> motor axis, heavy-tailed degrees, a quarter of the connections
reciprocated, synapse counts as weights.

The connectome runs as it is, cycles and all, with ``en.compile(G, recurrent=True)``:
leaky tanh neurons (``tau = 2``), synapse counts turned into signed, normalised weights.
Four stimulus inputs are wired to disjoint groups of sensory neurons; every trial pulses
one of them for 4 of 12 steps (inputs are noisy throughout). Four readout neurons listen
to every non-sensory neuron, and only their weights are trained (the connectome's own
weights stay fixed), to tell from the network's activity over the last 4 steps, after
the pulse, which stimulus it was: the answer survives only in the recurrent dynamics.
``EDGENET_FAST=1`` runs a short version.
"""

from __future__ import annotations

import math
import os
import sys

import networkx as nx
import numpy as np
import torch

import edgenet as en

FAST = os.environ.get("EDGENET_FAST") == "1"
STIMULI, STEPS, PULSE = 4, 12, 4


def stand_in(seed: int = 0, n: int = 279, m: int = 2194, reciprocal: float = 0.25) -> nx.DiGraph:
    """A generated connectome the size of C. elegans' (nodes carry ``kind``)."""
    rng = np.random.default_rng(seed)
    level = np.sort(rng.random(n))  # sensory (low) -> inter -> motor (high)
    out_w, in_w = rng.lognormal(0, 1, n), rng.lognormal(0, 1, n)
    P = out_w[:, None] * in_w[None, :] / (1 + np.exp(-5.0 * (level[None, :] - level[:, None])))
    np.fill_diagonal(P, 0)
    k = int(reciprocal * m / 2)
    picks = rng.choice(n * n, size=m - k, replace=False, p=(P / P.sum()).ravel())
    G = nx.DiGraph()
    kinds = np.where(level < 0.3, "sensory", np.where(level < 0.6, "inter", "motor"))
    G.add_nodes_from((f"N{i:03d}", {"kind": str(kinds[i])}) for i in range(n))
    G.add_edges_from((f"N{e // n:03d}", f"N{e % n:03d}") for e in picks.tolist())
    for e in rng.permutation(picks).tolist():  # reciprocate some, up to m edges
        if G.number_of_edges() >= m:
            break
        u, v = f"N{e // n:03d}", f"N{e % n:03d}"
        if not G.has_edge(v, u):
            G.add_edge(v, u)
    for (u, v), count in zip(G.edges, rng.geometric(0.3, size=m).tolist()):
        G.edges[u, v]["weight"] = float(count)  # synapse counts
    return G


def sensory_neurons(G: nx.DiGraph) -> list:
    """Neurons marked sensory by any attribute; else the fifth that sends most, receives least."""
    marked = [n for n, d in G.nodes(data=True)
              if any(isinstance(x, str) and "sensory" in x.lower() for x in d.values())]
    if marked:
        return marked
    score = {n: (G.out_degree(n) + 1) / (G.in_degree(n) + 1) for n in G}
    return sorted(G, key=lambda n: -score[n])[: max(STIMULI, len(G) // 5)]


def main(path: str | None) -> None:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    if path:
        G = nx.DiGraph(en.read_graphml(path, parallel="sum"))
        print(f"connectome: {path}")
    else:
        G = stand_in()
        print("connectome: a generated stand-in of C. elegans' size (pass a GraphML path "
              "for the real one)")
    sccs = [c for c in nx.strongly_connected_components(G) if len(c) > 1]
    print(f"{G.number_of_nodes()} neurons, {G.number_of_edges()} synapse-count edges, "
          f"{nx.number_of_selfloops(G)} self-loops, largest strongly connected component "
          f"{max(map(len, sccs), default=0)} neurons")
    sensory = sensory_neurons(G)

    # The network: synapse counts -> signed weights (a fifth inhibitory), each neuron's
    # input normalised; leaky tanh neurons.
    net = en.Network()
    for n, d in G.nodes(data=True):
        net.add_neuron(n, activation="tanh", tau=2.0, **{k: v for k, v in d.items()
                                                         if k not in ("role", "activation")})
    sign = {n: -1.0 if rng.random() < 0.2 else 1.0 for n in G}
    for v in G:
        total = sum(math.log1p(float(G.edges[u, v].get("weight") or 1.0)) for u in G.pred[v])
        for u in G.pred[v]:
            w = math.log1p(float(G.edges[u, v].get("weight") or 1.0))
            net.add_edge(u, v, weight=1.5 * sign[u] * w / total)
    groups = np.array_split(rng.permutation(len(sensory)), STIMULI)
    inputs = [f"stimulus{i}" for i in range(STIMULI)]
    for i, group in enumerate(groups):
        net.add_input(inputs[i])
        for j in group:
            net.add_edge(inputs[i], sensory[j], weight=1.0)
    readouts = [f"readout{i}" for i in range(STIMULI)]
    listened = [n for n in G if n not in set(sensory)]
    for r in readouts:
        net.add_output(r, activation="identity")
        for n in listened:
            net.add_edge(n, r, weight=0.0)
    model = en.compile(net, recurrent=True, inputs=inputs, outputs=readouts, seed=0)
    print(model.summary())

    # Only the readout weights and biases learn.
    trainable = torch.tensor([v in set(readouts) for _, v in model.edges])
    trainable_bias = torch.tensor([n in set(readouts) for n in model.neurons])
    opt = torch.optim.Adam(model.parameters(), lr=0.05)

    def trials(count: int) -> tuple[torch.Tensor, torch.Tensor]:
        label = torch.randint(0, STIMULI, (count,))
        x = 0.3 * torch.randn(count, STEPS, STIMULI)
        x[torch.arange(count), :PULSE, label] += 1.0  # a brief pulse, then noise only
        return x, label

    def predict(x: torch.Tensor) -> torch.Tensor:
        return model(x)[:, -4:].mean(1)  # (B, STIMULI): the readouts over the last steps

    x_test, y_test = trials(400)
    for step in range(40 if FAST else 300):
        x, y = trials(32 if FAST else 64)
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(predict(x), y)
        loss.backward()
        model.weight.grad[~trainable] = 0
        model.bias.grad[~trainable_bias] = 0
        opt.step()
        if step % 20 == 0:
            print(f"step {step:3d}  loss {loss.item():.3f}")
    with torch.no_grad():
        accuracy = (predict(x_test).argmax(1) == y_test).float().mean().item()
    chance = 1 / STIMULI
    verdict = "better than chance" if accuracy > chance + 0.15 else "no better than chance"
    print(f"readout trained: accuracy {accuracy:.0%} on 400 held-out trials "
          f"(chance {chance:.0%}): {verdict}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
