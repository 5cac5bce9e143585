"""The per-generation CSR kernels of :mod:`.csr`, compiled by numba (imported on first
use, so ``import edgenet`` stays free of numba). Module-level functions, so numba's
on-disk cache finds them again in later processes (functions defined inside another
function were compiled afresh in every process: seconds per kernel).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

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


@njit(parallel=True, cache=True)
def transpose(dst, src):
    n, m = dst.shape
    # 64 x 16 tiles: 16 source rows at a time (rows of a power-of-two stride share
    # cache sets, so fewer of them stay resident), 64 destination rows per task.
    TI, TJ = 64, 16
    for t in prange((n + TI - 1) // TI):
        i0 = t * TI
        i1 = min(n, i0 + TI)
        for j0 in range(0, m, TJ):
            if j0 + TJ <= m:
                for i in range(i0, i1):
                    d = dst[i]
                    for jj in range(TJ):  # a fixed trip count: unrolled
                        d[j0 + jj] = src[j0 + jj, i]
            else:
                for i in range(i0, i1):
                    for j in range(j0, m):
                        dst[i, j] = src[j, i]


@njit(parallel=True, cache=True)
def transpose_blocks(dst, src):
    n, m = dst.shape
    # 16 x 16 blocks through a small buffer: 16 source rows read 16 elements each, then 16
    # destination rows written 16 each, every access a whole cache line's worth.
    T = 16
    m_full = m - m % T
    for t in prange((n + T - 1) // T):
        i0 = t * T
        if i0 + T > n:  # the last, partial strip
            for i in range(i0, n):
                for j in range(m):
                    dst[i, j] = src[j, i]
            continue
        buf = np.empty((T, T), dst.dtype)
        for j0 in range(0, m_full, T):
            for b in range(T):
                s = src[j0 + b]
                for a in range(T):
                    buf[a, b] = s[i0 + a]
            for a in range(T):
                d = dst[i0 + a]
                for b in range(T):
                    d[j0 + b] = buf[a, b]
        for i in range(i0, i0 + T):
            for j in range(m_full, m):
                dst[i, j] = src[j, i]
