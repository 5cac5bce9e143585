"""Graphs the benchmarks run on: bipartite blocks, deep narrow DAGs, layered DAGs, NEAT-sized DAGs.

Every builder is seeded and returns an :class:`edgenet.Network` (weights set, so every
method sees the same function).
"""

from __future__ import annotations

import numpy as np

import edgenet as en


def bipartite(
    n_in: int, n_out: int, density: float, seed: int = 0
) -> tuple[en.Network, np.ndarray]:
    """``n_in -> n_out`` block with each edge present with probability ``density``.

    Returns the network and the float32 weight matrix ``W`` (zero where no edge).
    """
    rng = np.random.default_rng(seed)
    mask = rng.random((n_in, n_out)) < density
    weight = np.where(mask, rng.uniform(-1, 1, (n_in, n_out)) / np.sqrt(density * n_in), 0.0)
    net = en.Network()
    xs = [f"x{i}" for i in range(n_in)]
    ys = [f"y{j}" for j in range(n_out)]
    for x in xs:
        net.add_input(x)
    for y in ys:
        net.add_output(y)
    net.connect(xs, ys, mask=mask, weight=weight)
    return net, weight.astype(np.float32)


def deep(n_neurons: int, n_edges: int, depth: int, n_in: int = 16, seed: int = 0) -> en.Network:
    """A random DAG with ``depth`` generations of ``n_neurons / depth`` neurons each.

    Every neuron reads one neuron of the previous generation (which fixes the depth)
    and ``fan_in - 1`` random neurons of the 20 generations before it, as deep random
    wirings and evolved genomes do. Hidden neurons are tanh, outputs are the last
    generation.
    """
    rng = np.random.default_rng(seed)
    width = n_neurons // depth
    fan_in = max(1, round(n_edges / (width * depth)))
    net = en.Network()
    for i in range(n_in):
        net.add_input(i)
    gens = [list(range(n_in))]
    node = n_in
    edges = []
    for g in range(depth):
        gen = list(range(node, node + width))
        node += width
        last = g == depth - 1
        for v in gen:
            if last:
                net.add_output(v)
            else:
                net.add_neuron(v, activation="tanh")
        window = [u for prev in gens[-20:] for u in prev]
        prev = gens[-1]
        for v in gen:
            chosen = {prev[rng.integers(len(prev))]}
            extra = rng.choice(len(window), size=min(fan_in - 1, len(window)), replace=False)
            chosen.update(window[i] for i in extra)
            scale = 1.0 / np.sqrt(len(chosen))
            edges.extend((u, v, float(rng.uniform(-scale, scale))) for u in chosen)
        gens.append(gen)
    net.add_weighted_edges_from(edges)
    return net


def layered(n_layers: int, width: int, fan_in: int, n_in: int = 16, seed: int = 0) -> en.Network:
    """``n_layers`` tanh layers of ``width`` neurons, each reading ``fan_in`` random neurons
    of the layer before (the first layer reads all inputs)."""
    rng = np.random.default_rng(seed)
    net = en.Network()
    prev = list(range(n_in))
    for i in prev:
        net.add_input(i)
    node = n_in
    edges = []
    for layer in range(n_layers):
        gen = list(range(node, node + width))
        node += width
        for v in gen:
            if layer == n_layers - 1:
                net.add_output(v)
            else:
                net.add_neuron(v, activation="tanh")
            picks = rng.choice(len(prev), size=min(fan_in, len(prev)), replace=False)
            scale = 1.0 / np.sqrt(len(picks))
            edges.extend((prev[i], v, float(rng.uniform(-scale, scale))) for i in picks)
        prev = gen
    net.add_weighted_edges_from(edges)
    return net


def genome(n_in: int, n_hidden: int, n_out: int, n_edges: int, seed: int = 0) -> en.Network:
    """A NEAT-sized random DAG: ``n_hidden`` sigmoid hidden neurons in a random order,
    ``n_edges`` forward edges among inputs, hidden and outputs."""
    rng = np.random.default_rng(seed)
    net = en.Network()
    order = [f"i{k}" for k in range(n_in)] + [f"h{k}" for k in range(n_hidden)]
    outs = [f"o{k}" for k in range(n_out)]
    for n in order[:n_in]:
        net.add_input(n)
    for n in order[n_in:]:
        net.add_neuron(n, activation="sigmoid", bias=float(rng.normal()))
    for n in outs:
        net.add_output(n, activation="sigmoid", bias=float(rng.normal()))
    everything = order + outs
    pairs = set()
    for v in outs:  # every output is reachable from some input
        pairs.add((order[rng.integers(n_in)], v))
    while len(pairs) < n_edges:
        i, j = sorted(rng.integers(len(everything), size=2))
        if i == j or j < n_in or i >= len(order):
            continue
        pairs.add((everything[i], everything[j]))
    net.add_weighted_edges_from((u, v, float(rng.normal())) for u, v in sorted(pairs))
    return net
