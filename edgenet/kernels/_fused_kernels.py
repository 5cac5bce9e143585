"""The fused engine's numba kernels (imported on first use, so ``import edgenet`` stays
free of numba). Module-level functions, so numba's on-disk cache (``cache=True``) finds
them again in later processes.

>>> import numpy as np
>>> from edgenet.kernels import _fused_kernels as k
>>> H = np.array([[2.0], [0.0]]); Z = np.zeros((1, 1))
>>> k.forward(H, Z, np.array([0.5]), np.array([0.25]), np.array([0, 1]), np.array([0]),
...           np.array([0]), 1)
>>> H.tolist()
[[2.0], [1.25]]
"""

from __future__ import annotations

import math

from numba import njit

#: Reassociation lets LLVM vectorise the batch sums; no NaN/inf assumptions are made.
FAST = {"reassoc", "contract", "nsz", "arcp"}


@njit(cache=True, inline="always")
def row_spmm(z, bias, w, H, col, e, end):
    """``z[:] = bias + sum over edges e:end of w[e] * H[col[e]]``, one output row.

    Edges are taken four at a time: one pass over the output row per four source rows
    (the row stays in registers/L1), which is what bounds these kernels. Shared by the
    fused engine and the per-generation CSR kernels.
    """
    B = z.shape[0]
    for k in range(B):
        z[k] = bias
    while e + 4 <= end:
        w0, w1, w2, w3 = w[e], w[e + 1], w[e + 2], w[e + 3]
        h0, h1, h2, h3 = H[col[e]], H[col[e + 1]], H[col[e + 2]], H[col[e + 3]]
        for k in range(B):
            z[k] += w0 * h0[k] + w1 * h1[k] + w2 * h2[k] + w3 * h3[k]
        e += 4
    while e < end:
        we = w[e]
        h = H[col[e]]
        for k in range(B):
            z[k] += we * h[k]
        e += 1


@njit(cache=True, inline="always")
def row_sddmm(dw, d, H, col, e, end, zero):
    """``dw[e] = d . H[col[e]]`` for the edges ``e:end`` of one row (weight gradients).

    Four edges per pass over ``d``; ``zero`` carries the accumulator dtype (float32
    sums vectorise wider). Shared by the fused backward and the CSR SDDMM.
    """
    B = d.shape[0]
    while e + 4 <= end:
        h0, h1, h2, h3 = H[col[e]], H[col[e + 1]], H[col[e + 2]], H[col[e + 3]]
        a0 = a1 = a2 = a3 = zero
        for k in range(B):
            dk = d[k]
            a0 += dk * h0[k]
            a1 += dk * h1[k]
            a2 += dk * h2[k]
            a3 += dk * h3[k]
        dw[e], dw[e + 1], dw[e + 2], dw[e + 3] = a0, a1, a2, a3
        e += 4
    while e < end:
        hu = H[col[e]]
        acc = zero
        for k in range(B):
            acc += d[k] * hu[k]
        dw[e] = acc
        e += 1


@njit(cache=True, inline="always")
def act(c, z):
    if c == 0:
        return z
    if c == 1:
        return z if z > 0 else 0.0 * z
    if c == 2:
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)
    if c == 3:
        return math.tanh(z)
    if c == 4:
        return z if z >= 0 else 0.01 * z
    if c == 5:
        return 0.5 * z * (1.0 + math.erf(z * 0.7071067811865476))
    if c == 6:
        return z if z > 20.0 else math.log1p(math.exp(z))
    if c == 7:
        return z if z > 0 else math.expm1(z)
    if c == 8:
        if z >= 0:
            return z / (1.0 + math.exp(-z))
        e = math.exp(z)
        return z * e / (1.0 + e)
    if c == 9:
        return math.sin(z)
    if c == 10:
        return abs(z)
    if c == 11:
        return z * z
    if c == 12:
        return math.exp(z)
    return z / (1.0 + abs(z))


@njit(cache=True, inline="always")
def slope(c, z, h):
    """d act / dz at z, given h = act(z)."""
    if c == 0:
        return 1.0
    if c == 1:
        return 1.0 if z > 0 else 0.0
    if c == 2:
        return h * (1.0 - h)
    if c == 3:
        return 1.0 - h * h
    if c == 4:
        return 1.0 if z > 0 else 0.01
    if c == 5:
        return 0.5 * (1.0 + math.erf(z * 0.7071067811865476)) + z * math.exp(
            -0.5 * z * z
        ) * 0.3989422804014327
    if c == 6:
        if z > 20.0:
            return 1.0
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)
    if c == 7:
        return 1.0 if z > 0 else math.exp(z)
    if c == 8:
        if z >= 0:
            s = 1.0 / (1.0 + math.exp(-z))
        else:
            e = math.exp(z)
            s = e / (1.0 + e)
        return s * (1.0 + z * (1.0 - s))
    if c == 9:
        return math.cos(z)
    if c == 10:
        return 1.0 if z > 0 else (-1.0 if z < 0 else 0.0)
    if c == 11:
        return 2.0 * z
    if c == 12:
        return h
    a = 1.0 + abs(z)
    return 1.0 / (a * a)


@njit(cache=True, fastmath=FAST)
def forward(H, Z, w, b, crow, col, code, n_in):
    B = H.shape[1]
    for r in range(Z.shape[0]):
        z = Z[r]
        row_spmm(z, b[r], w, H, col, crow[r], crow[r + 1])
        h = H[n_in + r]
        c = code[r]
        for k in range(B):
            h[k] = act(c, z[k])


@njit(cache=True, fastmath=FAST)
def backward(G, H, Z, w, crow, col, code, n_in, dw, db, need_w, floor, zero):
    B = H.shape[1]
    for r in range(Z.shape[0] - 1, -1, -1):
        d = G[n_in + r]  # becomes dL/dz in place
        z = Z[r]
        h = H[n_in + r]
        c = code[r]
        total = 0.0
        for k in range(B):
            d[k] = d[k] * slope(c, z[k], h[k])
            total += d[k]
        db[r] = total
        if need_w:
            row_sddmm(dw, d, H, col, crow[r], crow[r + 1], zero)
        for e in range(crow[r], crow[r + 1]):
            u = col[e]
            if u >= floor:
                gu = G[u]
                we = w[e]
                for k in range(B):
                    gu[k] += we * d[k]
