"""Lower a validated graph to tensors: node numbering, CSR structure and initial parameters.

Nodes are renumbered so that activations can live in one node-major buffer
``H[N, B]``: inputs first, then each topological generation as a contiguous
block of rows (within a generation, neurons sharing an activation are adjacent).
Edges are stored once, as a CSR structure over target rows, ordered by
generation, then target, then source; the flat weight vector follows that order.
For the backward pass each generation also gets the transpose of its block,
restricted to the distinct source rows it reads.

Missing weights are drawn from ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` where
``fan_in`` is the in-degree of the target neuron (the default of
``torch.nn.Linear``); missing biases are 0.

>>> import networkx as nx, torch, edgenet as en
>>> model = en.compile(nx.DiGraph([("x", "h"), ("h", "y"), ("x", "y")]), seed=0)
>>> model(torch.ones(4, 1)).shape
torch.Size([4, 1])
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import networkx as nx
import numpy as np
import torch

from .progress import THRESHOLD, progress
from .recurrent import compile_recurrent
from .validate import check_graph, edge_weights, generations, neuron_attributes, resolve_roles


@dataclass(frozen=True)
class Plan:
    """The tensor layout of one compiled network (all arrays are NumPy, int64).

    ``nodes[i]`` is the graph node held in row ``i`` of ``H``. Generation ``g``
    computes rows ``rows[g]:rows[g+1]`` from edges ``edges[g]:edges[g+1]``;
    ``crow`` is the CSR row pointer over computed rows (row ``r`` is node
    ``n_inputs + r``) and ``col`` the source row of each edge. ``runs`` lists
    ``(first_row, end_row, activation)`` blocks. For generation ``g`` the
    transposed block covers source rows ``sources[spans[g]:spans[g+1]]``, with
    row pointer ``tcrow[spans[g] + g : spans[g+1] + g + 1]`` (relative to
    ``edges[g]``), target column ``tcol`` (relative to ``rows[g]``) and
    ``perm`` mapping each transposed entry back to its edge. ``levels[g]`` is the
    topological generation (layer) that plan generation ``g`` computes.
    ``dpos`` is each edge's flat position in its generation's dense
    ``(neurons, distinct sources)`` block, and ``lo[g]`` the first source row of
    generation ``g`` when its sources are one contiguous range of rows (else -1).
    ``order`` lists the plan's edges in the order ``G.edges`` gave them.
    """

    nodes: list[Hashable]
    inputs: list[Hashable]
    outputs: list[Hashable]
    out_rows: np.ndarray
    rows: np.ndarray
    edges: np.ndarray
    crow: np.ndarray
    col: np.ndarray
    runs: list[list[tuple[int, int, str]]]
    sources: np.ndarray
    spans: np.ndarray
    tcrow: np.ndarray
    tcol: np.ndarray
    perm: np.ndarray
    levels: np.ndarray
    dpos: np.ndarray | None = None
    lo: np.ndarray | None = None
    order: np.ndarray | None = None

    @property
    def n_inputs(self) -> int:
        return len(self.inputs)

    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def n_edges(self) -> int:
        return len(self.col)

    @property
    def depth(self) -> int:
        return len(self.rows) - 1


def lower(
    G: nx.DiGraph,
    inputs: Sequence[Hashable] | None = None,
    outputs: Sequence[Hashable] | None = None,
) -> tuple[Plan, np.ndarray, np.ndarray, list[str]]:
    """Validate ``G`` and lay it out as a :class:`Plan`.

    Returns the plan, the edge weights (float64, NaN where missing) and the biases
    (float64) in plan order, and the activation name of every computed row.

    >>> import networkx as nx
    >>> from edgenet.compile import lower
    >>> plan, w, b, acts = lower(nx.DiGraph([("a", "c", {"weight": 2.0}), ("b", "c")]))
    >>> plan.nodes, w.tolist(), acts
    (['a', 'b', 'c'], [2.0, nan], ['identity'])
    """
    check_graph(G)
    inputs, outputs = resolve_roles(G, inputs, outputs)
    gens = generations(G)
    input_set = set(inputs)
    output_set = set(outputs)
    if len(gens) >= 2:
        # Outputs without any edge (bias only) may run in any generation: run them with the
        # last one, so that the output rows stay one consecutive block when they can.
        alone = [n for n in gens[0] if n in output_set and n not in input_set and G.degree(n) == 0]
        if alone:
            rank = {n: i for i, n in enumerate(G)}
            moved = set(alone)
            gens = [[n for n in gens[0] if n not in moved], *gens[1:-1],
                    sorted(gens[-1] + alone, key=rank.__getitem__)]

    # Number the nodes: inputs, then generation by generation, grouped by activation.
    nodes: list[Hashable] = list(inputs)
    acts: list[str] = []
    bias: list[float] = []
    rows = [len(nodes)]
    runs: list[list[tuple[int, int, str]]] = []
    levels: list[int] = []
    for level, gen in enumerate(gens):
        computed = []
        for n in gen:
            if n in input_set:
                continue
            role = G.nodes[n].get("role") or ("output" if n in output_set else "hidden")
            act, b = neuron_attributes(G, n, role)
            computed.append((act, n, b))
        if not computed:
            continue
        by_act = sorted(range(len(computed)), key=lambda i: computed[i][0])
        gen_runs: list[tuple[int, int, str]] = []
        for i in by_act:
            act, n, b = computed[i]
            if gen_runs and gen_runs[-1][2] == act:
                gen_runs[-1] = (gen_runs[-1][0], len(nodes) + 1, act)
            else:
                gen_runs.append((len(nodes), len(nodes) + 1, act))
            nodes.append(n)
            acts.append(act)
            bias.append(b)
        runs.append(gen_runs)
        rows.append(len(nodes))
        levels.append(level)
    index = {n: i for i, n in enumerate(nodes)}
    n_in = len(inputs)

    # One pass over the edges into arrays; everything after is vectorised.
    edge_view = G.edges(data="weight")
    triples = list(progress(edge_view, total=len(edge_view), desc="compiling", unit="edge",
                            threshold=THRESHOLD))
    weights = edge_weights(G, triples)
    src = np.fromiter(map(index.__getitem__, [t[0] for t in triples]), np.int64, len(triples))
    dst = np.fromiter(map(index.__getitem__, [t[1] for t in triples]), np.int64, len(triples))
    by_target = np.lexsort((src, dst))
    src, dst, weights = src[by_target], dst[by_target], weights[by_target]
    rows_arr = np.asarray(rows, dtype=np.int64)
    counts = np.bincount(dst - n_in, minlength=len(nodes) - n_in)
    crow = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    edges = crow[rows_arr - n_in]

    # Transposed blocks: per generation, the distinct sources and their out-edges.
    gen_of_edge = np.searchsorted(rows_arr, dst, side="right") - 1
    perm = np.lexsort((dst, src, gen_of_edge))
    key_gen, key_src = gen_of_edge[perm], src[perm]
    new = np.ones(len(perm), dtype=bool)
    new[1:] = (key_gen[1:] != key_gen[:-1]) | (key_src[1:] != key_src[:-1])
    starts = np.flatnonzero(new)
    sources = key_src[starts]
    spans = np.searchsorted(gen_of_edge[perm][starts], np.arange(len(rows)), side="left")
    # Row pointer of each generation's transposed block, relative to its first edge:
    # generation g owns entries spans[g] + g .. spans[g+1] + g (one extra each).
    local_start = starts - edges[key_gen[starts]] if len(starts) else starts
    tcrow = np.empty(len(starts) + len(rows) - 1, dtype=np.int64)
    for g in range(len(rows) - 1):
        a, b = spans[g], spans[g + 1]
        tcrow[a + g : b + g] = local_start[a:b]
        tcrow[b + g] = edges[g + 1] - edges[g]
    tcol = dst[perm] - rows_arr[gen_of_edge[perm]]

    # Dense-block positions: (target within generation) * k_g + (source among distinct ones).
    n_nodes = len(nodes)
    k = np.diff(spans)
    gen_of_source = np.repeat(np.arange(len(rows) - 1), k)
    local = np.searchsorted(gen_of_source * n_nodes + sources, gen_of_edge * n_nodes + src)
    local -= spans[gen_of_edge]
    dpos = (dst - rows_arr[gen_of_edge]) * k[gen_of_edge] + local
    if len(sources):
        first = sources[np.minimum(spans[:-1], len(sources) - 1)]
        last = sources[np.maximum(spans[1:] - 1, 0)]
        lo = np.where((k > 0) & (last - first + 1 == k), first, -1)
    else:
        lo = np.full(len(k), -1)

    plan = Plan(
        nodes=nodes,
        inputs=list(inputs),
        outputs=list(outputs),
        out_rows=np.asarray([index[n] for n in outputs], dtype=np.int64),
        rows=rows_arr,
        edges=edges.astype(np.int64),
        crow=crow,
        col=src,
        runs=runs,
        sources=sources.astype(np.int64),
        spans=spans.astype(np.int64),
        tcrow=tcrow,
        tcol=tcol.astype(np.int64),
        perm=perm.astype(np.int64),
        levels=np.asarray(levels, dtype=np.int64),
        dpos=dpos.astype(np.int64),
        lo=lo.astype(np.int64),
        order=np.argsort(by_target, kind="stable"),
    )
    return plan, weights, np.asarray(bias, dtype=np.float64), acts


def initial_weights(
    plan: Plan, weights: np.ndarray, dtype: torch.dtype, seed: int | None
) -> torch.Tensor:
    """Fill missing (NaN) weights with ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.

    Draws come from ``torch.Generator().manual_seed(seed)``, or from the global torch
    generator when ``seed`` is None, one per edge in plan order, so the same graph
    and seed always give the same weights.

    >>> import networkx as nx, torch
    >>> from edgenet.compile import initial_weights, lower
    >>> plan, w, _, _ = lower(nx.DiGraph([("a", "c"), ("b", "c")]))
    >>> w0 = initial_weights(plan, w, torch.float64, seed=1)
    >>> bool((w0.abs() <= 2 ** -0.5).all())
    True
    """
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    draws = torch.rand(len(weights), generator=gen, dtype=torch.float64).numpy()
    fan_in = np.diff(plan.crow)[_edge_rows(plan)]
    bound = 1.0 / np.sqrt(np.maximum(fan_in, 1))
    missing = np.isnan(weights)
    out = np.where(missing, (2.0 * draws - 1.0) * bound, weights)
    return torch.as_tensor(out).to(dtype)


def _edge_rows(plan: Plan) -> np.ndarray:
    """The computed row (target) of every edge, in plan order."""
    return np.repeat(np.arange(len(plan.crow) - 1), np.diff(plan.crow))


def compile(
    G: nx.DiGraph,
    *,
    inputs: Sequence[Hashable] | None = None,
    outputs: Sequence[Hashable] | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    seed: int | None = None,
    engine: str = "auto",
    recurrent: bool = False,
):
    """Compile a neuron DAG into a ``torch.nn.Module`` mapping ``(batch, n_inputs)`` to
    ``(batch, n_outputs)``.

    Accepts an :class:`edgenet.Network` or any ``networkx.DiGraph`` (roles inferred:
    sources are inputs, sinks are outputs). Each neuron computes
    ``h_v = act_v(b_v + sum_u w_uv * h_u)``. Parameters are one weight per edge and one
    bias per non-input neuron. The graph is never modified.

    ``engine`` chooses how the DAG runs (it can be changed later through
    ``model.engine``): ``"auto"`` (default) lets the cost model of
    :mod:`edgenet.kernels.cost` pick the fused whole-DAG kernel for deep, narrow DAGs on
    CPU and, otherwise, a sparse (CSR) or dense block per generation; ``"sparse"``,
    ``"dense"`` and ``"fused"`` force one path everywhere (for tests and benchmarks).

    ``recurrent=True`` accepts any directed graph, cycles and self-loops included, and
    returns a :class:`edgenet.recurrent.RecurrentNetwork` run over time steps.

    >>> import torch, edgenet as en
    >>> net = en.Network()
    >>> net.add_input("x"); net.add_neuron("h", activation="relu"); net.add_output("y")
    >>> net.add_edge("x", "h", weight=1.0); net.add_edge("h", "y", weight=2.0)
    >>> model = en.compile(net)
    >>> model(torch.tensor([[1.0], [-1.0]])).tolist()
    [[2.0], [0.0]]
    """
    from .module import CompiledNetwork

    if recurrent:  # any directed graph, cycles allowed: see edgenet.recurrent
        return compile_recurrent(G, inputs=inputs, outputs=outputs, dtype=dtype, device=device,
                                 seed=seed)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        from .errors import EdgenetError

        raise EdgenetError(
            f"dtype must be a floating torch dtype such as torch.float32 (got {dtype!r})"
        )
    plan, weights, bias, acts = lower(G, inputs, outputs)
    weight = initial_weights(plan, weights, dtype, seed)
    model = CompiledNetwork(G, plan, weight, torch.as_tensor(bias).to(dtype), acts, engine=engine)
    return model.to(device) if device is not None else model
