"""Where each neuron goes in a picture: a column per layer, an order within each layer.

Layered graph drawing in three steps (Sugiyama, Tagawa and Toda, 1981):

1. **Cycles.** A cyclic graph (a recurrent connectome) loses a small set of feedback
   edges, chosen by :func:`edgenet.graph.cycles.break_cycles`; they are kept and drawn apart.
2. **Layers.** A neuron's column is its topological generation in what is left
   (inputs on the left); outputs that feed nothing line up in the last column.
3. **Order.** Within each column, neurons are ordered to shorten and uncross edges by
   barycentre sweeps: each neuron moves to the mean height of its inputs (sweeping left
   to right) or of its outputs (right to left); the order with the least total edge
   height is kept. Columns holding only inputs, or only outputs, keep the network's
   own order.

Heights lie in [-0.5, 0.5]; neighbours in a column are at least ``1 / widest`` apart,
where ``widest`` is the largest column, so a picture that gives each of the widest
column's neurons room gives every neuron room.

>>> import networkx as nx
>>> from edgenet.views.layout import place
>>> pos = place(nx.DiGraph([("a", "b"), ("b", "c"), ("c", "b")]))
>>> pos.nodes, pos.x.tolist(), pos.feedback.tolist()
(['a', 'b', 'c'], [0, 1, 2], [False, False, True])
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import networkx as nx
import numpy as np

from ..graph.cycles import break_cycles
from ..graph.validate import check_graph, edge_weights, generations, resolve_roles

#: Barycentre sweeps (each one right to left, then left to right) tried by default.
SWEEPS = 4


@dataclass(frozen=True)
class Placement:
    """Where each neuron of a network is drawn, as arrays over ``nodes``.

    ``level[i]`` is the topological generation of ``nodes[i]`` once the feedback edges
    are removed, ``x[i]`` the column it is drawn in (its level, except that outputs
    feeding nothing are drawn in the last column) and ``y[i]`` its height in
    [-0.5, 0.5]. ``src``/``dst`` index the edges and ``weight`` holds their weights
    (NaN where missing), in ``G.edges`` order; ``feedback`` marks the edges removed
    to break cycles (self-loops included).
    """

    nodes: list[Hashable]
    roles: list[str]
    activations: list[str]
    level: np.ndarray
    x: np.ndarray
    y: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    feedback: np.ndarray

    @property
    def skip(self) -> np.ndarray:
        """Boolean mask of skip connections: forward edges spanning more than one generation."""
        return ((self.level[self.dst] - self.level[self.src]) > 1) & ~self.feedback

    @property
    def columns(self) -> int:
        """Number of columns (1 for an empty graph)."""
        return int(self.x.max()) + 1 if len(self.nodes) else 1

    @property
    def widest(self) -> int:
        """Neurons in the fullest column (1 for an empty graph)."""
        return int(np.bincount(self.x).max()) if len(self.nodes) else 1


def place(G: nx.DiGraph, *, sweeps: int = SWEEPS) -> Placement:
    """Place every neuron of a directed graph, cyclic or not (see the module docstring).

    >>> import networkx as nx
    >>> from edgenet.views.layout import place
    >>> pos = place(nx.DiGraph([("a", "h"), ("h", "y"), ("a", "y")]))
    >>> pos.nodes, pos.level.tolist()
    (['a', 'h', 'y'], [0, 1, 2])
    >>> [(pos.nodes[u], pos.nodes[v]) for u, v in zip(pos.src[pos.skip], pos.dst[pos.skip])]
    [('a', 'y')]
    """
    dag, removed = acyclic(G)
    gens = generations(dag)
    inputs, outputs = resolve_roles(G, strict=False)
    input_set, output_set = set(inputs), set(outputs)
    nodes = [n for gen in gens for n in gen]
    index = {n: i for i, n in enumerate(nodes)}
    level = np.repeat(np.arange(len(gens)), [len(g) for g in gens]).astype(np.int64)  # (N,)

    roles: list[str] = []
    activations: list[str] = []
    for n in nodes:
        role = "input" if n in input_set else "output" if n in output_set else "hidden"
        roles.append(role)
        act = G.nodes[n].get("activation")
        if role == "input":
            activations.append("input")
        else:
            activations.append(
                str(act) if act is not None else ("identity" if role == "output" else "relu")
            )

    triples = list(G.edges(data="weight"))
    weight = edge_weights(G, triples)  # (E,) NaN where missing
    src = np.fromiter((index[u] for u, _, _ in triples), dtype=np.int64, count=len(triples))
    dst = np.fromiter((index[v] for _, v, _ in triples), dtype=np.int64, count=len(triples))
    cut = set(removed)
    feedback = np.fromiter(((u, v) in cut for u, v, _ in triples), dtype=bool,
                           count=len(triples))  # (E,)

    # Outputs that feed nothing (feedback aside) line up in the last column.
    x = level.copy()
    role_arr = np.asarray(roles)
    if len(nodes):
        sinks = np.ones(len(nodes), dtype=bool)
        sinks[src[~feedback]] = False
        x[sinks & (role_arr == "output")] = level.max()
    fixed = _interface_columns(x, role_arr)
    y = order(x, src[~feedback], dst[~feedback], fixed=fixed, sweeps=sweeps)
    return Placement(nodes, roles, activations, level, x, y, src, dst, weight, feedback)


def acyclic(G: nx.DiGraph) -> tuple[nx.DiGraph, list[tuple[Hashable, Hashable]]]:
    """``G`` itself when it is a DAG, else a DAG copy and the feedback edges removed.

    >>> import networkx as nx
    >>> from edgenet.views.layout import acyclic
    >>> acyclic(nx.DiGraph([(0, 1), (1, 1)]))[1]
    [(1, 1)]
    """
    if isinstance(G, nx.DiGraph) and not G.is_multigraph() and not nx.is_directed_acyclic_graph(G):
        return break_cycles(G)
    check_graph(G)
    return G, []


def _interface_columns(x: np.ndarray, roles: np.ndarray) -> np.ndarray:
    """(columns,) True where a column holds only inputs or only outputs: keep their order."""
    columns = int(x.max()) + 1 if len(x) else 0
    size = np.bincount(x, minlength=columns)
    inputs = np.bincount(x, weights=roles == "input", minlength=columns)
    outputs = np.bincount(x, weights=roles == "output", minlength=columns)
    return (inputs == size) | (outputs == size)


def slots(k: int, widest: int) -> np.ndarray:
    """Heights of ``k`` neurons in a column, top down: evenly spaced, at least ``1/widest`` apart.

    >>> slots(2, 4).tolist()
    [0.2125, -0.2125]
    """
    extent = 1.0 if k == 1 else max(k / widest, 0.85)
    return (0.5 - (np.arange(k) + 0.5) / k) * extent  # (k,)


def order(
    x: np.ndarray, src: np.ndarray, dst: np.ndarray, *, fixed: np.ndarray, sweeps: int = SWEEPS
) -> np.ndarray:
    """Heights ordering each column by barycentre sweeps; edges go from lower to higher ``x``.

    Starts from insertion order, then sweeps left to right once, then ``sweeps`` times
    right to left and left to right, keeping the heights with the least total
    ``|y[src] - y[dst]|``. Columns where ``fixed`` is True keep insertion order. Ties
    keep the current order, so the result is deterministic.

    >>> import numpy as np
    >>> x = np.array([0, 0, 1, 1])
    >>> order(x, np.array([0, 1]), np.array([3, 2]), fixed=np.array([True, False])).tolist()
    [0.25, -0.25, -0.25, 0.25]
    """
    n = len(x)
    y = np.zeros(n)
    if n == 0:
        return y
    columns = int(x.max()) + 1
    members = np.argsort(x, kind="stable")  # (N,) column by column, insertion order within
    bounds = np.searchsorted(x[members], np.arange(columns + 1))
    widest = int(np.diff(bounds).max())
    local = np.empty(n, dtype=np.int64)
    for c in range(columns):
        col = members[bounds[c] : bounds[c + 1]]
        local[col] = np.arange(len(col))
        y[col] = slots(len(col), widest)
    into = np.argsort(x[dst], kind="stable")  # edges grouped by the column they enter
    into_bounds = np.searchsorted(x[dst][into], np.arange(columns + 1))
    out = np.argsort(x[src], kind="stable")  # edges grouped by the column they leave
    out_bounds = np.searchsorted(x[src][out], np.arange(columns + 1))

    def sweep(cols: range, edges: np.ndarray, ebounds: np.ndarray, here: np.ndarray,
              there: np.ndarray) -> None:
        for c in cols:
            if fixed[c]:
                continue
            col = members[bounds[c] : bounds[c + 1]]  # (k,)
            k = len(col)
            group = edges[ebounds[c] : ebounds[c + 1]]
            if k < 2 or not len(group):
                continue
            at = local[here[group]]  # (m,) position of each edge's end in this column
            total = np.bincount(at, weights=y[there[group]], minlength=k)
            count = np.bincount(at, minlength=k)
            key = np.where(count > 0, total / np.maximum(count, 1), y[col])  # (k,)
            y[col[np.lexsort((-y[col], -key))]] = slots(k, widest)

    def cost() -> float:
        return float(np.abs(y[src] - y[dst]).sum())

    sweep(range(1, columns), into, into_bounds, dst, src)
    best, best_cost = y.copy(), cost()
    for _ in range(sweeps):
        sweep(range(columns - 2, -1, -1), out, out_bounds, src, dst)
        sweep(range(1, columns), into, into_bounds, dst, src)
        now = cost()
        if now < best_cost - 1e-12:
            best, best_cost = y.copy(), now
        else:
            break
    return best


def curves(
    start: np.ndarray, end: np.ndarray, bend: np.ndarray, points: int = 16
) -> np.ndarray:
    """Quadratic Bezier curves from ``start`` to ``end`` (both ``(k, 2)``), ``(k, P, 2)``.

    The control point sits ``bend[i]`` above the midpoint (below when negative); where
    start and end coincide (a self-loop) the curve is a small loop above the point, of
    height ``bend[i]``.

    >>> import numpy as np
    >>> c = curves(np.array([[0.0, 0.0]]), np.array([[2.0, 0.0]]), np.array([0.5]), points=3)
    >>> c[0].tolist()
    [[0.0, 0.0], [1.0, 0.25], [2.0, 0.0]]
    """
    t = np.linspace(0.0, 1.0, points)[None, :, None]  # (1, P, 1)
    control = 0.5 * (start + end)  # (k, 2)
    control[:, 1] += bend
    a, b, c = start[:, None, :], control[:, None, :], end[:, None, :]  # (k, 1, 2)
    path = (1 - t) ** 2 * a + 2 * (1 - t) * t * b + t**2 * c  # (k, P, 2)
    loop = np.all(start == end, axis=1)  # (k,)
    if loop.any():
        angle = np.linspace(0.0, 2 * np.pi, points)[None, :]  # (1, P)
        h = np.abs(bend[loop])[:, None]  # (l, 1)
        across = np.broadcast_to(0.18 * np.sin(angle), (len(h), points))  # (l, P)
        ring = np.stack([across, 0.5 * h * (1 - np.cos(angle))], axis=-1)  # (l, P, 2)
        path[loop] = start[loop][:, None, :] + ring  # (l, P, 2)
    return path


def bends(pos: Placement, edges: np.ndarray) -> np.ndarray:
    """How far the curve of each of ``edges`` (indices) bulges: away from the centre line.

    Skip connections bulge a little, more the further they reach (bounded, so deep
    graphs do not fill with arcs); feedback edges bulge further, so that an edge
    running backwards never hides under the forward ones; self-loops get a small loop.

    >>> import networkx as nx
    >>> from edgenet.views.layout import place, bends
    >>> pos = place(nx.DiGraph([(0, 1), (1, 2), (0, 2)]))
    >>> float(bends(pos, pos.skip.nonzero()[0])[0]) > 0
    True
    """
    s, d = pos.src[edges], pos.dst[edges]
    span = np.abs(pos.x[d] - pos.x[s]).astype(np.float64)  # (k,)
    mid = 0.5 * (pos.y[s] + pos.y[d])
    side = np.where(mid >= 0, 1.0, -1.0)  # (k,) away from the centre line
    gap = 1.0 / pos.widest  # the closest two neurons of a column can be
    bend = side * np.minimum(0.05 * span, 0.12)
    back = pos.feedback[edges]
    bend = np.where(back, side * np.minimum(0.04 + 0.06 * span, 0.3), bend)
    return np.where(s == d, max(min(0.8 * gap, 0.12), 0.03), bend)  # (k,)


def strongest(weight: np.ndarray, max_edges: int | None) -> np.ndarray:
    """Indices of the edges to draw, weakest first: the ``max_edges`` largest ``|weight|``.

    Edges without a weight (NaN) come last; ties keep edge order.

    >>> strongest(np.array([0.1, -3.0, float("nan"), 2.0]), 2).tolist()
    [3, 1]
    """
    magnitude = np.abs(weight)
    keyed = np.where(np.isnan(magnitude), -1.0, magnitude)
    chosen = np.argsort(-keyed, kind="stable")
    if max_edges is not None:
        chosen = chosen[:max_edges]
    return chosen[::-1]  # weakest first, so the strongest are drawn on top


def summary(pos: Placement) -> str:
    """A one-line description of the drawn network: the default title of a picture.

    >>> import networkx as nx
    >>> from edgenet.views.layout import place, summary
    >>> summary(place(nx.DiGraph([(0, 1), (1, 2), (2, 1)])))
    '1 inputs · 2 neurons · 3 edges (0 skip, 1 feedback) · 3 layers · 5 parameters'
    """
    n_nodes, n_edges = len(pos.nodes), len(pos.src)
    n_inputs = pos.roles.count("input")
    n_back = int(pos.feedback.sum())
    cycles = f", {n_back:,} feedback" if n_back else ""
    layers = int(pos.level.max()) + 1 if n_nodes else 0
    return (
        f"{n_inputs:,} inputs · {n_nodes - n_inputs:,} neurons · {n_edges:,} edges "
        f"({int(pos.skip.sum()):,} skip{cycles}) · {layers} layers · "
        f"{n_edges + n_nodes - n_inputs:,} parameters"
    )
