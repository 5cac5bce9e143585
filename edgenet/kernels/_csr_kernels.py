"""The per-generation CSR kernels of :mod:`.csr`, compiled by numba (imported on first
use, so ``import edgenet`` stays free of numba). Module-level functions, so numba's
on-disk cache finds them again in later processes (functions defined inside another
function were compiled afresh in every process: seconds per kernel).
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic

from ._fused_kernels import FAST, row_sddmm, row_spmm


@njit(parallel=True, cache=True, fastmath=FAST, error_model="numpy")
def spmm(z, H, w, b, crow, col, c0, rows, tile):
    n, B = z.shape
    for blk in prange((n + rows - 1) // rows):
        r0, r1 = blk * rows, min(n, blk * rows + rows)
        for k0 in range(0, B, tile):  # the block's rows share this tile of sources
            k1 = min(B, k0 + tile)
            for r in range(r0, r1):
                row_spmm(z[r], b[c0 + r], w, H, col, crow[c0 + r], crow[c0 + r + 1], k0, k1)


@njit(parallel=True, cache=True, fastmath=FAST, error_model="numpy")
def sddmm(dw, db, D, H, crow, col, c0, zero, rows, tile):
    n, B = D.shape
    for blk in prange((n + rows - 1) // rows):
        r0, r1 = blk * rows, min(n, blk * rows + rows)
        for k0 in range(0, B, tile):  # tile partials added in tile order
            k1 = min(B, k0 + tile)
            for r in range(r0, r1):
                row_sddmm(dw, D[r], H, col, crow[c0 + r], crow[c0 + r + 1], zero, k0, k1,
                          k0 > 0)
        if db.shape[0] > 0:  # the bias gradient
            for r in range(r0, r1):
                d = D[r]
                s = zero
                for k in range(B):
                    s += d[k]
                db[c0 + r] = s


@njit(parallel=True, cache=True, fastmath=FAST, error_model="numpy")
def spmm_t(G, D, w, sources, tcrow, tcol, perm, t0, e0, rows,
           tile):
    n, B = sources.shape[0], D.shape[1]
    for blk in prange((n + rows - 1) // rows):
        j0, j1 = blk * rows, min(n, blk * rows + rows)
        for k0 in range(0, B, tile):
            k1 = min(B, k0 + tile)
            for j in range(j0, j1):
                g = G[sources[j]]
                i, end = e0 + tcrow[t0 + j], e0 + tcrow[t0 + j + 1]
                while i + 4 <= end:
                    w0, w1, w2, w3 = w[perm[i]], w[perm[i + 1]], w[perm[i + 2]], w[perm[i + 3]]
                    d0, d1, d2, d3 = D[tcol[i]], D[tcol[i + 1]], D[tcol[i + 2]], D[tcol[i + 3]]
                    for k in range(np.uint64(k0), np.uint64(k1)):
                        g[k] += w0 * d0[k] + w1 * d1[k] + w2 * d2[k] + w3 * d3[k]
                    i += 4
                while i < end:
                    we = w[perm[i]]
                    d = D[tcol[i]]
                    for k in range(np.uint64(k0), np.uint64(k1)):
                        g[k] += we * d[k]
                    i += 1


@njit(parallel=True, cache=True)
def densify(block, w, dpos, crow, c0):
    n, k = block.shape
    for r in prange(n):
        row = block[r]
        for j in range(k):
            row[j] = 0
        for e in range(crow[c0 + r], crow[c0 + r + 1]):
            row[dpos[e] - r * k] = w[e]


@njit(parallel=True, cache=True)
def sparsify(dw, grad, dpos, crow, c0):
    n, k = grad.shape
    for r in prange(n):
        row = grad[r]
        for e in range(crow[c0 + r], crow[c0 + r + 1]):
            dw[e] = row[dpos[e] - r * k]


def _butterfly(lanes: int, h: int, upper: bool) -> list[int]:
    """Shuffle mask of one transpose stage: rows ``r`` and ``r + h`` (``r & h == 0``)
    trade their off-diagonal ``h``-blocks; ``upper`` gives row ``r + h``'s mask. Indices
    ``>= lanes`` pick from the second row. After the stages ``h = lanes/2, ..., 1`` (in
    any order: each swaps one bit of the row index with the same bit of the column
    index), the rows are transposed.

    >>> _butterfly(4, 1, False), _butterfly(4, 1, True)
    ([0, 4, 2, 6], [1, 5, 3, 7])
    """
    if upper:
        return [c + h if c & h == 0 else lanes + c for c in range(lanes)]
    return [c if c & h == 0 else lanes + c - h for c in range(lanes)]


@intrinsic
def _block_transpose(typingctx, dst, src, dstride, sstride, zero):  # pragma: no cover
    """Transpose one ``W x W`` block, ``W`` elements to 32 bytes (8 float32, 4 float64):
    ``dst[a * dstride + b] = src[b * sstride + a]`` for ``a, b < W``, where ``dst`` and
    ``src`` are addresses and the strides count elements; ``zero`` gives the dtype.
    ``W`` vector loads, ``W log2 W`` shuffles, ``W`` vector stores."""
    if zero not in (types.float32, types.float64):
        return None
    scalar = ir.FloatType() if zero == types.float32 else ir.DoubleType()
    size = 4 if zero == types.float32 else 8
    lanes = 32 // size
    vector = ir.VectorType(scalar, lanes)
    mask_type = ir.VectorType(ir.IntType(32), lanes)

    def codegen(context, builder, signature, args):
        d, s, ds, ss, _ = args
        step = ir.Constant(ir.IntType(64), size)

        def at(base, stride, r):
            offset = builder.mul(builder.mul(stride, step), ir.Constant(ir.IntType(64), r))
            return builder.inttoptr(builder.add(base, offset), vector.as_pointer())

        rows = [builder.load(at(s, ss, r), align=size) for r in range(lanes)]
        h = lanes // 2
        while h:
            lower, upper = ir.Constant(mask_type, _butterfly(lanes, h, False)), \
                ir.Constant(mask_type, _butterfly(lanes, h, True))
            for r in range(lanes):
                if r & h == 0:
                    a, b = rows[r], rows[r + h]
                    rows[r] = builder.shuffle_vector(a, b, lower)
                    rows[r + h] = builder.shuffle_vector(a, b, upper)
            h //= 2
        for r in range(lanes):
            builder.store(rows[r], at(d, ds, r), align=size)
        return context.get_dummy_value()

    return types.void(types.intp, types.intp, types.intp, types.intp, zero), codegen


@njit(parallel=True, cache=True)
def transpose(dst, src, zero):
    """``dst[:] = src.T`` (rows contiguous, any row strides) in 32-byte square blocks moved
    by vector shuffles; each task takes 16 destination rows, so every source row is read
    a whole cache line (float32) or two (float64) at a time. (8, 32 and 64 rows were
    each slower on some shapes of benchmarks/RESULTS.md's machine.)"""
    n, m = dst.shape
    size = dst.itemsize
    W = 32 // size  # elements per block side
    S = 16
    ds, ss = dst.strides[0] // size, src.strides[0] // size
    dp, sp = dst.ctypes.data, src.ctypes.data
    m_full = m - m % W
    for t in prange((n + S - 1) // S):
        i0 = t * S
        i1 = min(n, i0 + S)
        if i1 - i0 == S:
            for j0 in range(0, m_full, W):
                for h in range(0, S, W):
                    _block_transpose(dp + size * ((i0 + h) * ds + j0),
                                     sp + size * (j0 * ss + i0 + h), ds, ss, zero)
            tail = m_full
        else:
            tail = 0
        for i in range(i0, i1):  # the last columns, and the last partial strip
            d = dst[i]
            for j in range(tail, m):
                d[j] = src[j, i]
