"""Turn a cyclic graph (a recurrent connectome, say) into a DAG by removing few edges.

Finding the fewest edges whose removal leaves a DAG (a minimum feedback arc set) is
NP-hard; :func:`break_cycles` uses the greedy ordering of Eades, Lin and Smyth
(1993), which removes at most ``m/2 - n/6`` of ``m`` edges on ``n`` nodes and is
usually far better. It orders the nodes by repeatedly taking sinks to the back,
sources to the front, and otherwise the node with the largest out-degree minus
in-degree to the front; every edge pointing backwards in that order is a feedback
edge. A second pass puts back every removed edge that does not close a cycle, so
the removed set is minimal: re-adding any one of them creates a cycle. Ties are
broken by node insertion order, so the result is the same on every run.

>>> import networkx as nx, edgenet as en
>>> G = nx.DiGraph([("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])
>>> dag, removed = en.break_cycles(G)
>>> removed, nx.is_directed_acyclic_graph(dag)
([('c', 'a')], True)
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Hashable
from typing import TypeVar

import networkx as nx

from .errors import EdgenetError

Graph = TypeVar("Graph", bound=nx.DiGraph)


def break_cycles(
    G: Graph, *, reinsert: bool = True
) -> tuple[Graph, list[tuple[Hashable, Hashable]]]:
    """A DAG copy of ``G`` and the edges removed to make it, in ``G.edges`` order.

    Self-loops are always removed. Nodes with ``role="input"`` are placed first, so an
    edge into an input neuron (which a network cannot run) is removed too. The copy
    has the same class and keeps every attribute. ``reinsert=False`` skips the
    pass that puts back edges closing no cycle; that pass costs
    ``O(removed x edges)``, so skip it for graphs with millions of edges.

    >>> import networkx as nx, edgenet as en
    >>> ring = nx.DiGraph([(i, (i + 1) % 5) for i in range(5)])
    >>> dag, removed = en.break_cycles(ring)
    >>> removed, list(nx.topological_sort(dag))
    ([(4, 0)], [0, 1, 2, 3, 4])
    """
    if not isinstance(G, nx.Graph) or not G.is_directed() or G.is_multigraph():
        raise EdgenetError(
            f"break_cycles expects a networkx.DiGraph or edgenet.Network (got "
            f"{type(G).__name__}); orient an undirected graph first and merge parallel edges"
        )
    pos = {n: i for i, n in enumerate(feedback_order(G))}
    removed = [(u, v) for u, v in G.edges if pos[u] >= pos[v]]
    dag = G.copy()
    dag.remove_edges_from(removed)
    if reinsert and removed:
        kept = []
        for u, v in removed:
            if u != v and G.nodes[v].get("role") != "input" and not nx.has_path(dag, v, u):
                dag.add_edge(u, v, **G.edges[u, v])
            else:
                kept.append((u, v))
        if len(kept) < len(removed):  # restore G's edge order in the copy
            dag = G.copy()
            dag.remove_edges_from(kept)
        removed = kept
    return dag, removed


def feedback_order(G: nx.DiGraph) -> list[Hashable]:
    """The Eades-Lin-Smyth node order of ``G``: few edges point backwards in it.

    Inputs (``role="input"``) come first. Ties go to the node inserted first.

    >>> import networkx as nx
    >>> from edgenet.cycles import feedback_order
    >>> feedback_order(nx.DiGraph([(3, 1), (1, 2), (2, 3), (2, 4)]))
    [3, 1, 2, 4]
    """
    rank = {n: i for i, n in enumerate(G)}
    succ = {n: [v for v in G.succ[n] if v != n] for n in G}
    pred = {n: [u for u in G.pred[n] if u != n] for n in G}
    out_deg = {n: len(s) for n, s in succ.items()}
    in_deg = {n: len(p) for n, p in pred.items()}
    alive = dict.fromkeys(G)
    front: list[Hashable] = [n for n in G if G.nodes[n].get("role") == "input"]
    back: list[Hashable] = []
    sinks: deque[Hashable] = deque()
    sources: deque[Hashable] = deque()
    heap: list[tuple[int, int, Hashable]] = []

    def remove(n: Hashable) -> None:
        del alive[n]
        for v in succ[n]:
            if v in alive:
                in_deg[v] -= 1
                if in_deg[v] == 0:
                    sources.append(v)
                else:
                    heapq.heappush(heap, (in_deg[v] - out_deg[v], rank[v], v))
        for u in pred[n]:
            if u in alive:
                out_deg[u] -= 1
                if out_deg[u] == 0:
                    sinks.append(u)
                else:
                    heapq.heappush(heap, (in_deg[u] - out_deg[u], rank[u], u))

    for n in front:
        remove(n)
    for n in alive:
        if out_deg[n] == 0:
            sinks.append(n)
        elif in_deg[n] == 0:
            sources.append(n)
    heap.extend((in_deg[n] - out_deg[n], rank[n], n) for n in alive)
    heapq.heapify(heap)
    while alive:
        if sinks:
            n = sinks.popleft()
            if n in alive:
                remove(n)
                back.append(n)
            continue
        if sources:
            n = sources.popleft()
            if n in alive:
                remove(n)
                front.append(n)
            continue
        key, _, n = heapq.heappop(heap)
        if n in alive and key == in_deg[n] - out_deg[n]:
            remove(n)
            front.append(n)
    return front + back[::-1]
