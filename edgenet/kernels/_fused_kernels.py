r"""The fused engine's DAG walk: numba kernels that run the rows in topological order,
forward and backward (imported on first use, so ``import edgenet`` stays free of numba).
Module-level functions, so numba's on-disk cache (``cache=True``) finds them again in
later processes.

Threads split the batch: the columns ``0:B`` are cut into chunks (a multiple of 16
columns each, one per thread, see :func:`chunks`) and every thread walks the whole DAG
for its own columns, forward and backward, with no synchronisation between rows. Each
element of ``H``, ``Z`` and of the gradients ``G`` is computed by one thread in a fixed
order, so they are bitwise the same whatever the thread count. The weight and bias
gradients are sums over the batch: each chunk writes its partial sums into its own
scratch row, and the partials are added in chunk order afterwards. They are bitwise
repeatable for a given chunk count, which follows the thread limit
(``EDGENET_NUM_THREADS``, else torch's thread count), not the threads that ran (fewer
beside busy processes); a different limit changes them by rounding only.

Each row's activation and its slope are :func:`~edgenet.kernels._vector_math.activate`
and :func:`~edgenet.kernels._vector_math.deactivate`: the vector maths, their accuracy
and the activation codes live in :mod:`edgenet.kernels._vector_math` (re-exported here).

>>> import numpy as np
>>> from edgenet.kernels import _fused_kernels as k
>>> H = np.array([[2.0], [0.0]]); Z = np.zeros((1, 1))
>>> k.forward(H, Z, np.array([0.5]), np.array([0.25]), np.array([0, 1]), np.array([0]),
...           np.array([0]), 1, np.array([0]))
>>> H.tolist()
[[2.0], [1.25]]
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from . import threads
from ._vector_math import (
    ABS,
    ELU,
    EXP,
    GELU,
    IDENTITY,
    LEAKY_RELU,
    RELU,
    SIGMOID,
    SILU,
    SIN,
    SOFTPLUS,
    SOFTSIGN,
    SQUARE,
    TANH,
    activate,
    deactivate,
    vexp,
    vexpm1,
    vgelu,
    vgelu_grad,
    vnormal_cdf,
    vsigmoid,
    vsoftplus,
    vtanh,
)

__all__ = [
    # The walk
    "FAST", "COLUMN_QUANTUM", "PARALLEL_WORK", "chunks", "walk_order", "forward", "backward",
    "row_spmm",
    "row_sddmm", "row_axpy",
    # Re-exported from _vector_math: the activation codes, the row activations and the
    # vector forms they use, as its tests and benchmarks reach them
    "IDENTITY", "RELU", "SIGMOID", "TANH", "LEAKY_RELU", "GELU", "SOFTPLUS", "ELU", "SILU",
    "SIN", "ABS", "SQUARE", "EXP", "SOFTSIGN", "activate", "deactivate", "vexp", "vexpm1",
    "vgelu", "vgelu_grad", "vnormal_cdf", "vsigmoid", "vsoftplus", "vtanh",
]

#: Reassociation lets LLVM vectorise the batch sums; no NaN/inf assumptions are made.
#: The activation functions of :mod:`~edgenet.kernels._vector_math` say
#: ``fastmath=False`` explicitly (numba would otherwise compile them with their caller's
#: flags): their range reductions and rounding corrections rely on the order of operations.
FAST = {"reassoc", "contract", "nsz", "arcp"}


#: Columns per thread come in multiples of this (64 bytes of float32: no two threads
#: write one cache line).
COLUMN_QUANTUM = 16
#: Below this many multiply-adds (edges x batch) a pass runs on one thread: waking the
#: others costs more than it saves.
PARALLEL_WORK = 200_000

# ---------------------------------------------------------------------------------------
# Sparse rows, shared with the per-generation CSR kernels of csr.py. Column loops count
# in unsigned integers: numba then drops its negative-index test and LLVM vectorises them
# (a signed range starting at a variable runs ~3x slower).


@njit(cache=True, error_model="numpy", inline="always")
def row_spmm(z, bias, w, H, col, e, end, k0, k1):
    """``z[k0:k1] = bias + sum over edges e:end of w[e] * H[col[e], k0:k1]``, one row.

    Edges are taken four at a time: one pass over the output row per four source rows
    (the row stays in registers/L1), which is what bounds these kernels. Shared by the
    fused engine and the per-generation CSR kernels.
    """
    for k in range(np.uint64(k0), np.uint64(k1)):
        z[k] = bias
    while e + 4 <= end:
        w0, w1, w2, w3 = w[e], w[e + 1], w[e + 2], w[e + 3]
        h0, h1, h2, h3 = H[col[e]], H[col[e + 1]], H[col[e + 2]], H[col[e + 3]]
        for k in range(np.uint64(k0), np.uint64(k1)):
            z[k] += w0 * h0[k] + w1 * h1[k] + w2 * h2[k] + w3 * h3[k]
        e += 4
    while e < end:
        we = w[e]
        h = H[col[e]]
        for k in range(np.uint64(k0), np.uint64(k1)):
            z[k] += we * h[k]
        e += 1


@njit(cache=True, error_model="numpy", inline="always")
def row_sddmm(dw, d, H, col, e, end, zero, k0, k1, add=False):
    """``dw[e] = d[k0:k1] . H[col[e], k0:k1]`` (``+=`` with ``add``) for the edges
    ``e:end`` of one row.

    Four edges per pass over ``d``; ``zero`` carries the accumulator dtype (float32
    sums vectorise wider). Shared by the fused backward and the CSR SDDMM.
    """
    while e + 4 <= end:
        h0, h1, h2, h3 = H[col[e]], H[col[e + 1]], H[col[e + 2]], H[col[e + 3]]
        a0 = a1 = a2 = a3 = zero
        for k in range(np.uint64(k0), np.uint64(k1)):
            dk = d[k]
            a0 += dk * h0[k]
            a1 += dk * h1[k]
            a2 += dk * h2[k]
            a3 += dk * h3[k]
        if add:
            dw[e], dw[e + 1], dw[e + 2], dw[e + 3] = (dw[e] + a0, dw[e + 1] + a1,
                                                      dw[e + 2] + a2, dw[e + 3] + a3)
        else:
            dw[e], dw[e + 1], dw[e + 2], dw[e + 3] = a0, a1, a2, a3
        e += 4
    while e < end:
        hu = H[col[e]]
        acc = zero
        for k in range(np.uint64(k0), np.uint64(k1)):
            acc += d[k] * hu[k]
        dw[e] = dw[e] + acc if add else acc
        e += 1


@njit(cache=True, error_model="numpy", inline="always")
def row_axpy(G, w, d, col, e, end, floor, k0, k1):
    """``G[col[e], k0:k1] += w[e] * d[k0:k1]`` for the edges ``e:end`` whose source row is
    at least ``floor`` (the input gradient of one row)."""
    for i in range(e, end):
        u = col[i]
        if u >= floor:
            gu = G[u]
            we = w[i]
            for k in range(np.uint64(k0), np.uint64(k1)):
                gu[k] += we * d[k]


# ---------------------------------------------------------------------------------------
# The whole DAG


def chunks(batch: int, work: int, n_threads: int | None = None) -> int:
    """How many column chunks a pass over ``batch`` columns is cut into: one per thread,
    each a multiple of :data:`COLUMN_QUANTUM` columns, and one alone below
    :data:`PARALLEL_WORK` multiply-adds. The threads are ``n_threads``, by default the
    thread limit (:func:`edgenet.kernels.threads.limit`): backward sums its weight and
    bias gradients chunk by chunk, so its chunks follow the limit, never the threads
    that run them (fewer beside busy processes), and the sums do not depend on the load;
    forward, whose every value is one column's, takes the threads that run.

    >>> chunks(64, 10**9) <= 4, chunks(64, 10), chunks(8, 10**9)
    (True, 1, 1)
    """
    if work < PARALLEL_WORK:
        return 1
    n = threads.limit() if n_threads is None else n_threads
    return max(1, min(n, -(-batch // COLUMN_QUANTUM)))


def _width(batch: int, n: int) -> int:
    per = -(-batch // n)
    return -(-per // COLUMN_QUANTUM) * COLUMN_QUANTUM if n > 1 else batch


@njit(cache=True, error_model="numpy")
def walk_order(crow, col, n_in):
    """A topological order of the computed rows that takes the weakly connected parts of
    the DAG (over computed rows: inputs are only read) one after the other, each in row
    order: ``(N - n_in,)`` row indices. A union of many networks (a population) is then
    walked network by network, each touching only its own rows of ``H`` (cache- and
    TLB-friendly), where row order, generation by generation, sweeps every member's rows
    at each generation. Within a part the order is row order, so every sum is taken in
    the same order as a walk in row order: results are bitwise the same.

    >>> import numpy as np
    >>> crow, col = np.array([0, 1, 2, 3, 4]), np.array([0, 1, 2, 3])  # 2 inputs, 4 rows
    >>> walk_order(crow, col, 2).tolist()  # rows 2 and 3 read rows 0 and 1
    [0, 2, 1, 3]
    """
    n = len(crow) - 1
    root = np.arange(n)
    for r in range(n):
        for e in range(crow[r], crow[r + 1]):
            u = col[e] - n_in
            if u < 0:
                continue
            a, b = r, u  # union by the smaller root, with path halving
            while root[a] != a:
                root[a] = root[root[a]]
                a = root[a]
            while root[b] != b:
                root[b] = root[root[b]]
                b = root[b]
            if a < b:
                root[b] = a
            elif b < a:
                root[a] = b
    part = np.empty(n, np.int64)  # part of each row, numbered by first row
    count = np.zeros(n + 1, np.int64)
    parts = 0
    label = np.full(n, -1, np.int64)
    for r in range(n):
        a = r
        while root[a] != a:
            a = root[a]
        if label[a] < 0:
            label[a] = parts
            parts += 1
        part[r] = label[a]
        count[part[r] + 1] += 1
    for p in range(parts):
        count[p + 1] += count[p]
    order = np.empty(n, np.int64)
    for r in range(n):  # a stable counting sort: row order within each part
        order[count[part[r]]] = r
        count[part[r]] += 1
    return order


@njit(cache=True, error_model="numpy", fastmath=FAST)
def _forward_columns(H, Z, w, b, crow, col, code, n_in, walk, k0, k1):
    for i in range(Z.shape[0]):
        r = walk[i]
        if code[r] == IDENTITY:  # the sum is the output; backward never reads its Z
            row_spmm(H[n_in + r], b[r], w, H, col, crow[r], crow[r + 1], k0, k1)
            continue
        z = Z[r]
        row_spmm(z, b[r], w, H, col, crow[r], crow[r + 1], k0, k1)
        activate(code[r], z, H[n_in + r], k0, k1)


@njit(cache=True, error_model="numpy", fastmath=FAST)
def _backward_columns(G, H, Z, w, crow, col, code, n_in, walk, dw, db, need_w, floor, zero,
                      k0, k1):
    for i in range(Z.shape[0] - 1, -1, -1):
        r = walk[i]
        d = G[n_in + r]  # becomes dL/dz in place
        deactivate(code[r], d, Z[r], H[n_in + r], k0, k1)
        total = zero
        for k in range(np.uint64(k0), np.uint64(k1)):
            total += d[k]
        db[r] = total
        if need_w:
            row_sddmm(dw, d, H, col, crow[r], crow[r + 1], zero, k0, k1)
        row_axpy(G, w, d, col, crow[r], crow[r + 1], floor, k0, k1)


@njit(cache=True, error_model="numpy")
def _forward_serial(H, Z, w, b, crow, col, code, n_in, walk):  # pragma: no cover
    _forward_columns(H, Z, w, b, crow, col, code, n_in, walk, 0, H.shape[1])


@njit(cache=True, error_model="numpy", parallel=True)
def _forward_parallel(H, Z, w, b, crow, col, code, n_in, walk, n_chunks,
                      width):  # pragma: no cover
    B = H.shape[1]
    for t in prange(n_chunks):
        _forward_columns(H, Z, w, b, crow, col, code, n_in, walk, t * width,
                         min(B, t * width + width))


@njit(cache=True, error_model="numpy")
def _backward_serial(G, H, Z, w, crow, col, code, n_in, walk, dw, db, need_w, floor,
                     zero):  # pragma: no cover
    _backward_columns(G, H, Z, w, crow, col, code, n_in, walk, dw, db, need_w, floor, zero,
                      0, H.shape[1])


@njit(cache=True, error_model="numpy", parallel=True)
def _backward_parallel(G, H, Z, w, crow, col, code, n_in, walk, dwp, dbp, need_w, floor, zero,
                       n_chunks, width):  # pragma: no cover
    B = H.shape[1]
    for t in prange(n_chunks):
        _backward_columns(G, H, Z, w, crow, col, code, n_in, walk, dwp[t], dbp[t], need_w,
                          floor, zero, t * width, min(B, t * width + width))


@njit(cache=True, error_model="numpy", parallel=True)
def _sum_rows(out, parts):  # pragma: no cover
    """``out[i] = parts[0, i] + parts[1, i] + ...``, always in that order."""
    n_parts, n = parts.shape
    for i in prange(n):
        acc = parts[0, i]
        for p in range(1, n_parts):
            acc += parts[p, i]
        out[i] = acc


def forward(H: np.ndarray, Z: np.ndarray, w: np.ndarray, b: np.ndarray, crow: np.ndarray,
            col: np.ndarray, code: np.ndarray, n_in: int, walk: np.ndarray) -> None:
    """``Z[r] = b[r] + sum_e w[e] H[col[e]]``, ``H[n_in + r] = act(Z[r])`` for every computed
    row ``r`` in the order ``walk`` (a topological order: :func:`walk_order`); ``H[:n_in]``
    holds the inputs (node-major, ``(N, B)``). Rows whose activation is the identity write
    their sum straight into ``H`` and leave ``Z[r]`` unwritten (their derivative needs no
    pre-activation)."""
    B = H.shape[1]
    n = chunks(B, len(col) * B, numba.get_num_threads())
    if n == 1:
        _forward_serial(H, Z, w, b, crow, col, code, n_in, walk)
    else:
        width = _width(B, n)
        _forward_parallel(H, Z, w, b, crow, col, code, n_in, walk, -(-B // width), width)


def backward(G: np.ndarray, H: np.ndarray, Z: np.ndarray, w: np.ndarray, crow: np.ndarray,
             col: np.ndarray, code: np.ndarray, n_in: int, walk: np.ndarray, dw: np.ndarray,
             db: np.ndarray, need_w: bool, floor: int, zero: np.floating) -> None:
    """Walk the rows in reverse ``walk`` order: ``G[n_in + r]`` (``dL/dh``) becomes
    ``dL/dz`` in place, ``db[r] = sum(dL/dz)``, ``dw[e] = dL/dz . H[col[e]]`` (with
    ``need_w``) and ``G[col[e]] += w[e] dL/dz`` for sources ``col[e] >= floor``."""
    B = H.shape[1]
    n = chunks(B, len(col) * B)
    if n == 1:  # one chunk: its partial sums are the result
        _backward_serial(G, H, Z, w, crow, col, code, n_in, walk, dw, db, need_w, floor, zero)
        return
    width = _width(B, n)
    n = -(-B // width)
    dwp = np.empty((n, len(dw) if need_w else 0), dtype=dw.dtype)  # (chunks, E)
    dbp = np.empty((n, len(db)), dtype=db.dtype)  # (chunks, N - n_in)
    _backward_parallel(G, H, Z, w, crow, col, code, n_in, walk, dwp, dbp, need_w, floor, zero,
                       n, width)
    if need_w:
        _sum_rows(dw, dwp)
    _sum_rows(db, dbp)
