"""Connectivity patterns people ask for, as masks, blocks added to a network, or whole networks.

* :func:`local_mask` / :func:`locally_connected`: each target sees a window of
  consecutive sources, moved by ``stride`` (a 1-D locally connected layer: a
  convolution without weight sharing).
* :func:`random_mask` / :func:`random_sparse`: each source-target pair connected
  with probability ``density``, reproducibly from a seed.
* :func:`orient`, :func:`small_world`, :func:`scale_free`: undirected NetworkX
  wirings (Watts-Strogatz, Barabasi-Albert, or your own) made acyclic by pointing
  every edge from the earlier to the later node of an order; sources become
  inputs and sinks outputs.

>>> import edgenet as en
>>> en.local_mask(5, 2, window=3, stride=2).astype(int).tolist()
[[1, 0], [1, 0], [1, 1], [0, 1], [0, 1]]
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from itertools import pairwise
from typing import Any

import networkx as nx
import numpy as np

from ..errors import EdgenetError
from .network import Network


def local_mask(n_sources: int, n_targets: int, window: int, stride: int = 1) -> np.ndarray:
    """The ``(n_sources, n_targets)`` boolean mask where target ``j`` sees sources
    ``j*stride .. j*stride + window - 1``.

    >>> import edgenet as en
    >>> en.local_mask(4, 3, window=2).astype(int).tolist()
    [[1, 0, 0], [1, 1, 0], [0, 1, 1], [0, 0, 1]]
    """
    for name, value in (("window", window), ("stride", stride), ("n_targets", n_targets)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise EdgenetError(f"{name} must be a positive integer (got {value!r})")
    need = (n_targets - 1) * stride + window
    if need > n_sources:
        raise EdgenetError(
            f"{n_targets} targets with window {window} and stride {stride} need {need} sources "
            f"(got {n_sources}); use fewer targets, a smaller window or stride, or more sources"
        )
    starts = np.arange(n_targets) * stride  # (T,)
    rows = np.arange(n_sources)[:, None]  # (S, 1)
    return (rows >= starts) & (rows < starts + window)  # (S, T)


def locally_connected(
    net: Network,
    sources: Sequence[Hashable],
    targets: Sequence[Hashable],
    window: int,
    stride: int = 1,
    weight: Any = None,
) -> None:
    """Connect ``sources`` to ``targets`` of ``net`` through :func:`local_mask`: target
    ``j`` sees a ``window`` of consecutive sources starting at ``j * stride`` (see
    :meth:`Network.connect` for ``weight``).

    >>> import edgenet as en
    >>> net = en.Network()
    >>> en.locally_connected(net, ["a", "b", "c"], ["p", "q"], window=2)
    >>> sorted(net.edges)
    [('a', 'p'), ('b', 'p'), ('b', 'q'), ('c', 'q')]
    """
    net.connect(sources, targets, mask=local_mask(len(sources), len(targets), window, stride),
                weight=weight)


def random_mask(n_sources: int, n_targets: int, density: float, seed: int) -> np.ndarray:
    """A ``(n_sources, n_targets)`` boolean mask, each entry True with probability
    ``density``, drawn from ``numpy.random.default_rng(seed)``.

    >>> import edgenet as en
    >>> m = en.random_mask(100, 100, density=0.1, seed=0)
    >>> m.shape, bool(0.08 < m.mean() < 0.12), bool((m == en.random_mask(100, 100, 0.1, 0)).all())
    ((100, 100), True, True)
    """
    if not isinstance(density, (int, float, np.floating)) or not 0.0 <= density <= 1.0:
        raise EdgenetError(f"density must be a number in [0, 1] (got {density!r})")
    return np.random.default_rng(seed).random((n_sources, n_targets)) < density


def random_sparse(
    net: Network,
    sources: Sequence[Hashable],
    targets: Sequence[Hashable],
    density: float,
    seed: int,
    weight: Any = None,
) -> None:
    """Connect each pair of a node of ``sources`` and a node of ``targets`` in ``net``
    with probability ``density`` (reproducible by ``seed``, as :func:`random_mask`; see
    :meth:`Network.connect` for ``weight``).

    >>> import edgenet as en
    >>> net = en.Network()
    >>> en.random_sparse(net, range(50), range(50, 100), density=0.2, seed=1)
    >>> 400 < net.number_of_edges() < 600
    True
    """
    net.connect(sources, targets, mask=random_mask(len(sources), len(targets), density, seed),
                weight=weight)


def orient(
    G: nx.Graph,
    order: Sequence[Hashable] | None = None,
    *,
    activation: str = "relu",
    output_activation: str = "identity",
) -> Network:
    """A DAG :class:`~edgenet.Network` from an undirected graph: each edge points from the
    node earlier in ``order`` (default: ``G``'s node order) to the later one.

    Nodes with no incoming edge become inputs, nodes with no outgoing edge outputs
    with ``output_activation``, the rest hidden neurons with ``activation``; isolated
    nodes are left out.
    Weights are left unset, for :func:`edgenet.compile` to initialise.

    >>> import networkx as nx, edgenet as en
    >>> net = en.orient(nx.cycle_graph(4))
    >>> sorted(net.edges), net.inputs, net.outputs
    ([(0, 1), (0, 3), (1, 2), (2, 3)], [0], [3])
    """
    nodes = list(G) if order is None else list(order)
    if set(nodes) != set(G) or len(nodes) != len(G):
        raise EdgenetError(
            f"order must list every node of the graph once ({len(G)} nodes, got {len(nodes)} "
            "entries)"
        )
    rank = {n: i for i, n in enumerate(nodes)}
    edges = [(u, v) if rank[u] < rank[v] else (v, u) for u, v in G.edges() if u != v]
    dag = nx.DiGraph()
    dag.add_nodes_from(n for n in nodes if G.degree(n) - 2 * G.has_edge(n, n) > 0)
    dag.add_edges_from(edges)
    net = Network()
    for n in dag:
        if dag.in_degree(n) == 0:
            net.add_input(n)
        elif dag.out_degree(n) == 0:
            net.add_output(n, activation=output_activation)
        else:
            net.add_neuron(n, activation=activation)
    net.add_edges_from(sorted(edges, key=lambda e: (rank[e[0]], rank[e[1]])))
    return net


def small_world(
    n: int, k: int, p: float, seed: int, *, activation: str = "relu",
    output_activation: str = "identity",
) -> Network:
    """A Watts-Strogatz small world (``networkx.watts_strogatz_graph(n, k, p, seed)``) made
    acyclic by :func:`orient` in node order, with its ``activation`` and
    ``output_activation``.

    >>> import networkx as nx, edgenet as en
    >>> net = en.small_world(100, 6, 0.1, seed=0)
    >>> nx.is_directed_acyclic_graph(net), net.number_of_edges()
    (True, 300)
    """
    return orient(nx.watts_strogatz_graph(n, k, p, seed=seed), activation=activation,
                  output_activation=output_activation)


def scale_free(
    n: int, m: int, seed: int, *, activation: str = "relu", output_activation: str = "identity"
) -> Network:
    """A Barabasi-Albert scale-free graph (``networkx.barabasi_albert_graph(n, m, seed)``)
    made acyclic by :func:`orient` in node order (older nodes feed newer ones), with its
    ``activation`` and ``output_activation``.

    >>> import networkx as nx, edgenet as en
    >>> net = en.scale_free(200, 3, seed=0)
    >>> nx.is_directed_acyclic_graph(net), net.number_of_edges()
    (True, 591)
    """
    return orient(nx.barabasi_albert_graph(n, m, seed=seed), activation=activation,
                  output_activation=output_activation)


#: The per-layer density allocations :func:`layer_densities` knows.
ALLOCATIONS = ("uniform", "er", "erk")


def layer_densities(shapes: Sequence[Sequence[int]], density: float,
                    allocation: str = "erk") -> list[float]:
    r"""The density of each layer of a sparse network whose edges are a ``density`` share
    of the dense one's, allocated by ``allocation``.

    ``shapes`` lists each layer's ``(n_in, n_out)``, optionally followed by kernel sizes
    ``(n_in, n_out, k1, k2, ...)``. Allocations (Evci et al. 2020, "Rigging the Lottery"):

    * ``"uniform"``: every layer at ``density``;
    * ``"er"`` (Erdős–Rényi, Mocanu et al. 2018): density proportional to
      :math:`\frac{n_{in} + n_{out}}{n_{in} n_{out}}`, kernel sizes ignored;
    * ``"erk"`` (Erdős–Rényi-kernel): proportional to
      :math:`\frac{\sum_i s_i}{\prod_i s_i}` over the whole shape, kernel included; for
      layers without kernels (every layer of a graph of single neurons) it equals ER.

    ER and ERK are scaled so that the total edge count is ``density`` times the dense
    one; a layer whose density would exceed 1 is made dense and the rest rescaled, as
    the RigL paper's code does (``sparse_utils.get_sparsities``).

    >>> import edgenet as en
    >>> [round(d, 4) for d in en.layer_densities([(64, 128), (128, 10)], 0.05, "erk")]
    [0.0336, 0.1547]
    >>> [round(d, 4) for d in en.layer_densities([(4, 4), (4, 1000)], 0.6, "er")]
    [1.0, 0.5984]
    """
    if allocation not in ALLOCATIONS:
        raise EdgenetError(f"allocation must be one of {', '.join(map(repr, ALLOCATIONS))} "
                           f"(got {allocation!r})")
    if isinstance(density, bool) or not isinstance(density, (int, float, np.integer,
                                                              np.floating)) \
            or not 0.0 <= float(density) <= 1.0:
        raise EdgenetError(f"density must be a number in [0, 1] (got {density!r})")
    dims = []
    for i, shape in enumerate(shapes):
        s = tuple(shape) if isinstance(shape, (tuple, list)) else ()
        if len(s) < 2 or not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool)
                                 and d >= 1 for d in s):
            raise EdgenetError(f"layer {i} has shape {shape!r}; expected (n_in, n_out) or "
                               "(n_in, n_out, *kernel) of positive ints")
        dims.append([int(d) for d in s])
    if not dims:
        raise EdgenetError("layer_densities needs at least one layer shape (got none)")
    size = np.array([float(np.prod(s)) for s in dims])  # edges of each dense layer
    if allocation == "uniform":
        return [float(density)] * len(dims)
    if allocation == "er":
        raw = np.array([(s[0] + s[1]) / (s[0] * s[1]) for s in dims])
    else:
        raw = np.array([sum(s) / np.prod(np.array(s, dtype=float)) for s in dims])
    dense = np.zeros(len(dims), dtype=bool)
    while True:  # cap at 1, rescale the others: the RigL code's loop
        budget = density * size.sum() - size[dense].sum()  # edges left for the sparse layers
        scale = budget / (raw[~dense] * size[~dense]).sum() if (~dense).any() else 0.0
        over = ~dense & (raw * scale > 1.0)
        if not over.any():
            break
        dense |= ~dense & (raw == raw[~dense].max())
    return [1.0 if d else float(min(1.0, r * scale)) for d, r in zip(dense, raw)]


def sparse_mlp(
    sizes: Sequence[int],
    density: float,
    *,
    allocation: str = "erk",
    seed: int = 0,
    activation: str = "relu",
    output_activation: str = "identity",
) -> Network:
    """A multilayer perceptron of ``sizes[0]`` inputs, hidden layers ``sizes[1:-1]`` and
    ``sizes[-1]`` outputs, with ``density`` of the dense MLP's edges spread over its
    layers by ``allocation`` (``"uniform"``, ``"er"`` or ``"erk"``; see
    :func:`layer_densities`).

    Each layer gets exactly ``round(density_l * n_in * n_out)`` edges at positions drawn
    without replacement from ``numpy.random.default_rng(seed)``. Nodes are named
    ``"x{i}"`` (inputs), ``"h{layer}_{j}"`` (hidden, layer from 1) and ``"y{k}"``
    (outputs); hidden neurons get ``activation``, outputs ``output_activation``, and
    weights are left for :func:`edgenet.compile` to initialise.

    >>> import edgenet as en
    >>> net = en.sparse_mlp([64, 128, 10], density=0.05, allocation="erk", seed=0)
    >>> net.number_of_edges(), len(net.inputs), len(net.outputs)
    (474, 64, 10)
    >>> sum(1 for u, v in net.edges if v.startswith("y"))  # ERK: the small layer is denser
    198
    """
    sizes = list(sizes)
    if len(sizes) < 2 or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool)
                                 and n >= 1 for n in sizes):
        raise EdgenetError(f"sizes must list at least two positive ints, inputs first and "
                           f"outputs last (got {sizes!r})")
    densities = layer_densities(list(pairwise(sizes)), density, allocation)
    rng = np.random.default_rng(seed)
    names = [[f"x{i}" for i in range(sizes[0])]]
    names += [[f"h{k}_{j}" for j in range(n)] for k, n in enumerate(sizes[1:-1], start=1)]
    names.append([f"y{k}" for k in range(sizes[-1])])
    net = Network()
    for n in names[0]:
        net.add_input(n)
    for layer in names[1:-1]:
        for n in layer:
            net.add_neuron(n, activation=activation)
    for n in names[-1]:
        net.add_output(n, activation=output_activation)
    for (sources, targets), d in zip(pairwise(names), densities):
        mask = np.zeros(len(sources) * len(targets), dtype=bool)
        mask[rng.choice(mask.size, size=int(round(d * mask.size)), replace=False)] = True
        net.connect(sources, targets, mask=mask.reshape(len(sources), len(targets)))
    return net
