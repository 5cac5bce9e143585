"""Build a large :class:`~edgenet.Network` from lists in one pass.

``networkx.DiGraph.add_edges_from`` copies and merges an attribute dict per edge;
for a million edges read from a file that is most of the load time. A NetworkX
DiGraph is documented as dicts of dicts (``G._node``, ``G._succ``, ``G._pred``,
sharing one attribute dict per edge); :func:`bulk_graph` fills them directly,
exactly as ``add_nodes_from`` and ``add_edges_from`` would.

>>> from edgenet.io.bulk import bulk_graph
>>> G, repeated = bulk_graph([("a", {"bias": 1.0})], ["a", "b"], ["b", "c"], [{}, {"weight": 2.0}])
>>> list(G.edges(data=True)), repeated
([('a', 'b', {}), ('b', 'c', {'weight': 2.0})], 0)
"""

from __future__ import annotations

import gc
from collections.abc import Hashable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import networkx as nx

from ..graph.network import Network


def bulk_graph(
    nodes: Sequence[tuple[Hashable, dict[str, Any]]],
    us: Sequence[Hashable],
    vs: Sequence[Hashable],
    data: Sequence[dict[str, Any]],
) -> tuple[Network, int]:
    """A Network with ``nodes`` (in order, their dicts adopted), then the edges
    ``us[i] -> vs[i]`` carrying ``data[i]`` (adopted, not copied); endpoints not
    listed are added as attribute-less nodes. A repeated node id or edge keeps its
    first occurrence; the count of repeats is returned with the graph.

    >>> from edgenet.io.bulk import bulk_graph
    >>> G, repeated = bulk_graph([], [0, 0], [1, 1], [{"weight": 1.0}, {"weight": 2.0}])
    >>> list(G.edges(data="weight")), repeated
    ([(0, 1, 1.0)], 1)
    """
    G = Network()
    node, succ, pred = G._node, G._succ, G._pred
    repeated = 0
    with paused_gc():
        for n, d in nodes:
            if n in node:
                repeated += 1
                continue
            node[n] = d
            succ[n] = {}
            pred[n] = {}
        for u, v, d in zip(us, vs, data, strict=True):
            su = succ.get(u)
            if su is None:
                node[u] = {}
                su = succ[u] = {}
                pred[u] = {}
            pv = pred.get(v)
            if pv is None:
                node[v] = {}
                succ[v] = {}
                pv = pred[v] = {}
            if v in su:
                repeated += 1
                continue
            su[v] = d
            pv[u] = d
    clear = getattr(nx, "_clear_cache", None)
    if clear is not None:
        clear(G)
    return G, repeated


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of acyclic containers are made.

    Each collection walks every live container, so building a large graph with the
    collector on costs time quadratic in the number of collections.

    >>> import gc
    >>> from edgenet.io.bulk import paused_gc
    >>> with paused_gc():
    ...     gc.isenabled()
    False
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
