"""A connectome as a recurrent network: stimulate its sensory neurons, train a readout.

    python examples/connectome.py                       # a generated stand-in connectome
    python examples/connectome.py celegans.graphml      # the C. elegans GraphML (279 neurons)
    python examples/connectome.py connections.parquet pre_root_id post_root_id syn_count

edgenet ships no data. Given a GraphML path (for instance the C. elegans connectome of
the public neuroloops repository: 279 neurons, 2,194 synapse-count edges, cyclic) it
reads that; otherwise it generates a stand-in of the same size: neurons on a
sensory -> inter -> motor axis, heavy-tailed degrees, a quarter of the connections
reciprocated, synapse counts as weights.

An edge table (Parquet, CSV/TSV or Feather: FlyWire's connections file, with the names
of its source, target and weight columns) is read as columns with
``en.read_edgelist(..., as_graph=False)``; the model is built as an
:class:`edgenet.EdgeTable` (stimuli and readouts added with NumPy) and compiled from it,
so no NetworkX graph is built on that path, and the trained weights go back to a Parquet
table with ``en.write_edgelist``, read again to the same model.

The connectome runs as it is, cycles and all, with ``en.compile(table, recurrent=True)``:
leaky tanh neurons (``tau = 2``), synapse counts turned into signed, normalised weights.
Four stimulus inputs are wired to disjoint groups of sensory neurons; every trial pulses
one of them for 4 of 12 steps (inputs are noisy throughout). Four readout neurons listen
to every non-sensory neuron, and only their weights are trained (the connectome's own
weights stay fixed), to tell from the network's activity over the last 4 steps, after
the pulse, which stimulus it was: the answer survives only in the recurrent dynamics.
``EDGENET_FAST=1`` runs a short version.
"""

from __future__ import annotations

import os
import sys
import tempfile

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


def columns(G: nx.DiGraph) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list]:
    """A graph as the columns a connectome table has: ids, pre, post (codes), counts."""
    ids = list(G)
    index = {n: i for i, n in enumerate(ids)}
    pre = np.array([index[u] for u, _ in G.edges], dtype=np.int64)
    post = np.array([index[v] for _, v in G.edges], dtype=np.int64)
    count = np.array([float(w or 1.0) for _, _, w in G.edges(data="weight")])
    sensory = [index[n] for n in sensory_neurons(G)]
    return np.array(ids, dtype=object), pre, post, count, sensory


def table_columns(table: en.EdgeTable) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                 np.ndarray, list]:
    """The same from an edge table: sensory = the fifth that sends most, receives least."""
    n = table.n_nodes
    pre, post = table.src.astype(np.int64), table.dst.astype(np.int64)
    count = table.weight if table.weight is not None else np.ones(len(pre))
    score = (np.bincount(pre, minlength=n) + 1) / (np.bincount(post, minlength=n) + 1)
    sensory = np.argsort(-score, kind="stable")[: max(STIMULI, n // 5)].tolist()
    return table.ids, pre, post, count, sensory


def network(ids: np.ndarray, pre: np.ndarray, post: np.ndarray, count: np.ndarray,
            sensory: list, rng: np.random.Generator) -> tuple[en.EdgeTable, list, list]:
    """The model as columns, never a graph: synapse counts -> signed weights (a fifth of
    the neurons inhibitory), each neuron's input normalised; leaky tanh neurons; stimuli
    into disjoint groups of sensory neurons; readouts listening to every other neuron."""
    n = len(ids)
    sign = np.where(rng.random(n) < 0.2, -1.0, 1.0)
    strength = np.log1p(count)
    total = np.bincount(post, weights=strength, minlength=n)  # (n,) input per neuron
    weight = 1.5 * sign[pre] * strength / total[post]
    inputs = [f"stimulus{i}" for i in range(STIMULI)]
    readouts = [f"readout{i}" for i in range(STIMULI)]
    names = np.array([str(x) for x in ids.tolist()] + inputs + readouts, dtype=object)
    groups = np.array_split(rng.permutation(len(sensory)), STIMULI)
    stim_pre = np.concatenate([np.full(len(g), n + i) for i, g in enumerate(groups)])
    stim_post = np.asarray(sensory)[np.concatenate(groups)]
    listened = np.setdiff1d(np.arange(n), sensory)
    read_pre = np.tile(listened, STIMULI)
    read_post = np.repeat(np.arange(STIMULI) + n + STIMULI, len(listened))
    src = np.concatenate((pre, stim_pre, read_pre))
    dst = np.concatenate((post, stim_post, read_post))
    w = np.concatenate((weight, np.ones(len(stim_pre)), np.zeros(len(read_pre))))
    role = np.array(["hidden"] * n + ["input"] * STIMULI + ["output"] * STIMULI, dtype=object)
    act = np.array(["tanh"] * n + [None] * STIMULI + ["identity"] * STIMULI, dtype=object)
    tau = np.array([2.0] * n + [1.0] * (2 * STIMULI))
    table = en.EdgeTable(names[src], names[dst], weight=w,
                         nodes={"id": names, "role": role, "activation": act, "tau": tau})
    return table, inputs, readouts


def main(path: str | None = None, pre: str = "pre", post: str = "post", weight: str = "syn_count"
         ) -> None:
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    if path and path.endswith((".graphml", ".xml")):
        G = nx.DiGraph(en.read_graphml(path, parallel="sum"))
        print(f"connectome: {path}")
        cols = columns(G)
    elif path:  # an edge table, read as columns: no NetworkX graph at any point
        table = en.read_edgelist(path, source=pre, target=post, weight=weight, parallel="sum",
                                 attributes=False, as_graph=False)
        print(f"connectome: {path} ({table.n_nodes} neurons, {table.n_edges} connections)")
        cols = table_columns(table)
    else:
        G = stand_in()
        print("connectome: a generated stand-in of C. elegans' size (pass a GraphML path "
              "or an edge table for a real one)")
        cols = columns(G)
    if path is None or path.endswith((".graphml", ".xml")):
        sccs = [c for c in nx.strongly_connected_components(G) if len(c) > 1]
        print(f"{G.number_of_nodes()} neurons, {G.number_of_edges()} synapse-count edges, "
              f"{nx.number_of_selfloops(G)} self-loops, largest strongly connected component "
              f"{max(map(len, sccs), default=0)} neurons")
    table, inputs, readouts = network(*cols, rng)
    model = en.compile(table, recurrent=True, inputs=inputs, outputs=readouts, seed=0)
    print(model.summary())

    # Only the readout weights and biases learn.
    is_readout = np.isin(table.ids, readouts)
    trainable = torch.from_numpy(is_readout[table.dst][model.plan.order.argsort()])
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

    # The trained weights back to a table (Parquet), read again: the same model.
    with tempfile.TemporaryDirectory() as folder:
        edges, nodes = en.write_edgelist(model, os.path.join(folder, "trained.parquet"))
        again = en.compile(en.read_edgelist(edges, source="source", target="target",
                                            weight="weight", nodes=nodes, as_graph=False),
                           recurrent=True)
        same = torch.equal(again.weight, model.weight) and torch.equal(again(x_test),
                                                                       model(x_test))
    print(f"trained weights written to a Parquet edge table and read back: "
          f"{'the same model, bitwise' if same else 'a DIFFERENT model'}")


if __name__ == "__main__":
    main(*sys.argv[1:5])
