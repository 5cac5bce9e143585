r"""The compiled layout: where every neuron and edge lives in the tensors one pass walks.

:func:`arrange` builds a :class:`Layout` from edge arrays (never from NetworkX), so
:func:`edgenet.compile` and :meth:`~edgenet.CompiledNetwork.rewire` share it:

- rows: activations are node-major, ``H[N, B]``; inputs take rows ``0 .. n_in - 1`` in
  input order, then every topological generation is one contiguous block of rows,
  ordered within by activation name, then by the node's rank (its position in the
  source graph, with outputs in output order);
- edges: one flat weight vector in CSR order over target rows, ordered by target row,
  then source row;
- per generation ``g``: rows ``rows[g]:rows[g+1]``, edges ``edges[g]:edges[g+1]``, the
  distinct source rows ``sources[spans[g]:spans[g+1]]`` with the transposed block over
  them (for backward), and each edge's position ``dpos`` in the generation's dense
  ``(neurons, distinct sources)`` block.

A generation's level is the length of the longest path from a source to its neurons
(inputs are level 0). Neurons without any edge that are outputs run with the last
generation, so the output rows stay one block when they can.

>>> import numpy as np
>>> from edgenet.model.tensors import arrange
>>> a = arrange(3, inputs=np.array([0]), outputs=np.array([2]), src=np.array([0, 1, 0]),
...             dst=np.array([1, 2, 2]), activations=["", "relu", "identity"],
...             rank=np.arange(3))
>>> a.layout.rows.tolist(), a.layout.crow.tolist(), a.layout.col.tolist()
([1, 2, 3], [0, 1, 3], [0, 0, 1])
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from ..activations import CODES
from ..errors import CycleError


@dataclass(frozen=True)
class Layout:
    """Everything one forward/backward pass walks, as named tensors.

    Device tensors (they follow the module with ``.to``) are indexed by computed row
    (``N - n_in`` of them), edge (``E``) or distinct source (``S``); CPU tensors hold the
    per-generation bounds (``depth`` generations) that Python-side loops read.
    ``kinds[g]`` is the generation kernel (0 bias only, 1 sparse, 2 dense), chosen by the
    module (cost model or engine) with :meth:`with_kinds`; ``runs`` lists ``(first_row, end_row,
    activation index)`` blocks, indices into the comma-joined names ``acts``; ``codes``
    is every computed row's activation code (:data:`edgenet.activations.CODES`, -1 for a
    registered one); ``out_lo`` the first output row when the output rows are
    consecutive and in order (else -1).
    """

    n_in: int
    out_lo: int
    acts: str
    crow: torch.Tensor  # (N - n_in + 1,) CSR row pointer over computed rows
    col: torch.Tensor  # (E,) source row of each edge
    sources: torch.Tensor  # (S,) distinct source rows, generation by generation
    tcrow: torch.Tensor  # (S + depth,) transposed row pointers, relative per generation
    tcol: torch.Tensor  # (E,) target column of each transposed entry, relative per generation
    perm: torch.Tensor  # (E,) edge index of each transposed entry
    dpos: torch.Tensor  # (E,) flat position of each edge in its generation's dense block
    out_rows: torch.Tensor  # (n_out,) rows of H returned as outputs
    codes: torch.Tensor  # (N - n_in,) activation code of each computed row
    rows: torch.Tensor  # (depth + 1,) CPU: first row of each generation, then N
    edges: torch.Tensor  # (depth + 1,) CPU: first edge of each generation, then E
    spans: torch.Tensor  # (depth + 1,) CPU: first distinct source of each generation, then S
    lo: torch.Tensor  # (depth,) CPU: first source row when the sources are contiguous, else -1
    kinds: torch.Tensor  # (depth,) CPU: 0 bias, 1 sparse, 2 dense
    levels: torch.Tensor  # (depth,) CPU: topological generation (layer) of each generation
    runs: torch.Tensor  # (R, 3) CPU: (first_row, end_row, activation index)

    @property
    def depth(self) -> int:
        return self.rows.shape[0] - 1

    @property
    def n_nodes(self) -> int:
        return self.n_in + self.codes.shape[0]

    @property
    def n_edges(self) -> int:
        return self.col.shape[0]

    @property
    def builtin(self) -> bool:
        """Whether every computed neuron's activation is built in (has a code in
        :data:`edgenet.activations.CODES`): the compiled engines run only those. Read from
        the distinct names ``acts``, so it costs the same for ten neurons or a million."""
        return all(a in CODES for a in self.acts.split(",") if a)

    def flatten(self) -> tuple[list[torch.Tensor], list[int], str]:
        """``(tensors, ints, acts)``: the fields as a custom op's arguments take them."""
        tensors = [getattr(self, f) for f in TENSOR_FIELDS]
        return tensors, [self.n_in, self.out_lo], self.acts

    @classmethod
    def unflatten(cls, tensors: Sequence[torch.Tensor], ints: Sequence[int], acts: str) -> Layout:
        """The inverse of :meth:`flatten`."""
        n_in, out_lo = ints
        return cls(n_in, out_lo, acts, **dict(zip(TENSOR_FIELDS, tensors, strict=True)))

    def to(self, device: torch.device | str) -> Layout:
        """This layout with its device tensors on ``device`` (CPU bounds stay on the CPU)."""
        moved = {f: getattr(self, f).to(device) for f in DEVICE_FIELDS}
        return dataclasses.replace(self, **moved)

    def with_kinds(self, kinds: np.ndarray | torch.Tensor) -> Layout:
        """This layout with other generation kernels (0 bias, 1 sparse, 2 dense)."""
        return dataclasses.replace(self, kinds=torch.as_tensor(kinds, dtype=torch.int64))


TENSOR_FIELDS = tuple(f.name for f in dataclasses.fields(Layout) if f.type == "torch.Tensor")
DEVICE_FIELDS = TENSOR_FIELDS[: TENSOR_FIELDS.index("rows")]


@dataclass(frozen=True)
class Arrangement:
    """A :class:`Layout` and how it maps back to the arrays it was built from:
    ``row_node[r]`` is the node id in row ``r``, ``edge_index[e]`` the input edge that
    layout edge ``e`` is."""

    layout: Layout
    row_node: np.ndarray
    edge_index: np.ndarray


def levels(n_nodes: int, src: np.ndarray, dst: np.ndarray,
           name: Callable[[int], Hashable] = int) -> np.ndarray:
    """The topological generation of every node (0 for nodes without incoming edges), or a
    :class:`~edgenet.CycleError` naming one cycle (node ids through ``name``).

    Kahn's algorithm one generation at a time, vectorised: ``O(E log E)`` in all.

    >>> levels(4, np.array([0, 1, 0]), np.array([1, 2, 2])).tolist()
    [0, 1, 2, 0]
    """
    level = np.zeros(n_nodes, dtype=np.int64)
    indeg = np.bincount(dst, minlength=n_nodes)
    by_src = np.argsort(src)
    out_start = np.concatenate(([0], np.cumsum(np.bincount(src, minlength=n_nodes))))
    out_dst = dst[by_src]
    frontier = np.flatnonzero(indeg == 0)
    done, depth = 0, 0
    while frontier.size:
        level[frontier] = depth
        done += frontier.size
        starts, ends = out_start[frontier], out_start[frontier + 1]
        counts = ends - starts
        if not counts.sum():
            break
        offsets = np.repeat(ends - np.cumsum(counts), counts) + np.arange(counts.sum())
        reached = out_dst[offsets]
        if 8 * len(reached) > n_nodes:  # a wide generation: one pass over all nodes
            hits = np.bincount(reached, minlength=n_nodes)
            targets = np.flatnonzero(hits)
            hits = hits[targets]
        else:
            targets, hits = np.unique(reached, return_counts=True)
        indeg[targets] -= hits
        frontier = targets[indeg[targets] == 0]
        depth += 1
    if done < n_nodes:
        raise CycleError([name(i) for i in _one_cycle(np.flatnonzero(indeg > 0), src, dst)])
    return level


def _one_cycle(stuck: np.ndarray, src: np.ndarray, dst: np.ndarray) -> list[int]:
    """A cycle among the ``stuck`` nodes (every one of them has a stuck predecessor)."""
    alive = np.zeros(max(int(src.max()), int(dst.max())) + 1, dtype=bool)
    alive[stuck] = True
    keep = alive[src] & alive[dst]
    pred = dict(zip(dst[keep].tolist(), src[keep].tolist()))
    seen: dict[int, int] = {}
    node = int(stuck[0])
    while node not in seen:
        seen[node] = len(seen)
        node = pred[node]
    path = list(seen)[seen[node]:][::-1]  # along the edges
    first = path.index(min(path))
    return path[first:] + path[:first]


def arrange(
    n_nodes: int,
    *,
    inputs: np.ndarray,
    outputs: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    activations: Sequence[str],
    rank: np.ndarray,
    name: Callable[[int], Hashable] = int,
    nearly_sorted: bool = False,
) -> Arrangement:
    """Lay out a DAG given as arrays over node ids ``0 .. n_nodes - 1``.

    ``inputs`` and ``outputs`` are node ids in column order; ``src``/``dst`` the edges
    (no duplicates); ``activations[i]`` the activation name of node ``i`` (ignored for
    inputs); ``rank[i]`` orders nodes within a generation after their activation.
    ``name`` turns an id into the node named in a :class:`~edgenet.CycleError`.
    ``nearly_sorted`` says the edges mostly come in layout order already (a rewiring
    keeps the old order), so a merge-based sort, fast on runs, orders them.
    """
    src = np.asarray(src, dtype=np.int64)
    dst = np.asarray(dst, dtype=np.int64)
    n_in = len(inputs)
    level = levels(n_nodes, src, dst, name)
    is_input = np.zeros(n_nodes, dtype=bool)
    is_input[inputs] = True
    degree = np.bincount(src, minlength=n_nodes) + np.bincount(dst, minlength=n_nodes)
    top = int(level.max()) if n_nodes else 0
    if top >= 1:  # outputs without any edge run with the last generation
        alone = np.zeros(n_nodes, dtype=bool)
        alone[outputs] = True
        level[alone & ~is_input & (degree == 0)] = top

    # Rows: inputs in order, then computed nodes by (level, activation name, rank).
    computed = np.flatnonzero(~is_input)
    computed_acts = np.array([activations[int(i)] for i in computed], dtype=str)
    names, act_id = np.unique(computed_acts, return_inverse=True)
    act_id = act_id.reshape(-1)
    by_row = np.lexsort((rank[computed], act_id, level[computed]))
    row_node = np.concatenate((np.asarray(inputs, dtype=np.int64), computed[by_row]))
    row_of = np.empty(n_nodes, dtype=np.int64)
    row_of[row_node] = np.arange(n_nodes)
    row_act = act_id[by_row]  # (N - n_in,) activation index of every computed row
    row_level = level[computed][by_row]
    starts = np.flatnonzero(np.diff(row_level, prepend=-1)) if len(row_level) else row_level
    rows = np.append(starts, len(row_level)) + n_in  # (depth + 1,)
    gen_levels = row_level[starts]

    # Edges: CSR over target rows, by target then source.
    s, d = row_of[src], row_of[dst]
    # Keys are distinct (no duplicate edges): any sort gives the same order.
    edge_index = np.argsort(d * n_nodes + s, kind="stable" if nearly_sorted else "quicksort")
    s, d = s[edge_index], d[edge_index]
    counts = np.bincount(d - n_in, minlength=n_nodes - n_in)
    crow = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    edges = crow[rows - n_in]

    # Transposed blocks: per generation, the distinct sources and their out-edges.
    depth = len(rows) - 1
    gen_of_edge = np.repeat(np.arange(depth), np.diff(edges))  # edges are sorted by target
    if depth * n_nodes * n_nodes < 2**62:  # one key (generation, source, target) fits
        perm = np.argsort((gen_of_edge * n_nodes + s) * n_nodes + d)
    else:  # a stable sort keeps targets in order: d is sorted
        perm = np.argsort(gen_of_edge * n_nodes + s, kind="stable")
    key_gen, key_src = gen_of_edge[perm], s[perm]
    new = np.ones(len(perm), dtype=bool)
    new[1:] = (key_gen[1:] != key_gen[:-1]) | (key_src[1:] != key_src[:-1])
    first = np.flatnonzero(new)
    sources = key_src[first]
    spans = np.searchsorted(key_gen[first], np.arange(depth + 1), side="left")
    # Generation g owns transposed row pointers spans[g] + g .. spans[g+1] + g, relative
    # to its first edge (one extra entry each, its edge count).
    local_start = first - edges[key_gen[first]] if len(first) else first
    tcrow = np.empty(len(first) + depth, dtype=np.int64)
    slot = np.arange(len(first)) + np.repeat(np.arange(depth), np.diff(spans))
    tcrow[slot] = local_start
    tcrow[spans[1:] + np.arange(depth)] = np.diff(edges)
    tcol = d[perm] - rows[key_gen]

    # Dense-block positions: (target within generation) * k_g + (source among distinct ones).
    k = np.diff(spans)
    local = np.empty(len(perm), dtype=np.int64)  # each edge's source among distinct ones
    local[perm] = np.cumsum(new) - 1 - spans[key_gen] if len(perm) else local
    dpos = (d - rows[gen_of_edge]) * k[gen_of_edge] + local
    if len(sources):
        lo_first = sources[np.minimum(spans[:-1], len(sources) - 1)]
        lo_last = sources[np.maximum(spans[1:] - 1, 0)]
        lo = np.where((k > 0) & (lo_last - lo_first + 1 == k), lo_first, -1)
    else:
        lo = np.full(depth, -1)

    # Runs of one activation within a generation, and the kernels' activation codes.
    breaks = np.zeros(len(row_act), dtype=bool)
    breaks[starts] = True
    breaks[1:] |= row_act[1:] != row_act[:-1]
    run_start = np.flatnonzero(breaks)
    run_end = np.append(run_start[1:], len(row_act))
    runs = np.stack([run_start + n_in, run_end + n_in, row_act[run_start]], axis=1)
    code_of = np.array([CODES.get(str(a), -1) for a in names], dtype=np.int64)
    out_rows = row_of[np.asarray(outputs, dtype=np.int64)]
    consecutive = len(out_rows) and np.array_equal(
        out_rows, np.arange(out_rows[0], out_rows[0] + len(out_rows)))

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(np.ascontiguousarray(a, dtype=np.int64))

    # CSR indices as int32 where they fit: MKL's sparse kernels take them without a copy.
    index = torch.int32 if len(s) < 2**31 - 1 else torch.int64
    layout = Layout(
        n_in=n_in,
        out_lo=int(out_rows[0]) if consecutive else -1,
        acts=",".join(map(str, names)),
        crow=t(crow).to(index),
        col=t(s).to(index),
        sources=t(sources),
        tcrow=t(tcrow).to(index),
        tcol=t(tcol).to(index),
        perm=t(perm),
        dpos=t(dpos),
        out_rows=t(out_rows),
        codes=t(code_of[row_act] if len(row_act) else row_act),
        rows=t(rows),
        edges=t(edges),
        spans=t(spans),
        lo=t(lo),
        kinds=t(np.where(np.diff(edges) == 0, 0, 1)),  # sparse; the module picks per engine
        levels=t(gen_levels),
        runs=t(runs.reshape(-1, 3)),
    )
    return Arrangement(layout, row_node, edge_index)


def initial_weights(
    crow: np.ndarray, weights: np.ndarray, dtype: torch.dtype, seed: int | None
) -> torch.Tensor:
    """Fill missing (NaN) weights with ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``.

    ``crow`` is the layout's CSR row pointer (it gives each edge's target fan-in). Draws
    come from ``torch.Generator().manual_seed(seed)``, or from the global torch generator
    when ``seed`` is None, one per edge in layout order, so the same graph and seed
    always give the same weights.

    >>> import numpy as np, torch
    >>> from edgenet.model.tensors import initial_weights
    >>> w0 = initial_weights(np.array([0, 2]), np.array([np.nan, np.nan]), torch.float64, 1)
    >>> bool((w0.abs() <= 2 ** -0.5).all())
    True
    """
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    draws = torch.rand(len(weights), generator=gen, dtype=torch.float64).numpy()
    fan_in = np.repeat(np.diff(crow), np.diff(crow))
    bound = 1.0 / np.sqrt(np.maximum(fan_in, 1))
    missing = np.isnan(weights)
    out = np.where(missing, (2.0 * draws - 1.0) * bound, weights)
    return torch.as_tensor(out).to(dtype)
