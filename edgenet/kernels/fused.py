r"""The fused engine: one compiled call walks the whole DAG, forward and backward.

Deep, narrow DAGs (NEAT genomes, random wirings: thousands of generations of a few
neurons) spend almost all their time in per-generation Python and dispatch overhead
on the generation engine. Here a numba kernel walks the computed rows in order (rows
are numbered by generation, so row order is a topological order), each row vectorised
over the batch:

.. math::

    z_v = b_v + \sum_{u \to v} w_{uv} h_u, \qquad h_v = \sigma_v(z_v)

and backward walks the rows in reverse, turning ``g_v = dL/dh_v`` into
``d_v = g_v \sigma_v'(z_v)``, ``dL/db_v = \sum_b d_v``,
``dL/dw_{uv} = d_v \cdot h_u`` and ``g_u \mathrel{+}= w_{uv} d_v``. The order of every
sum is fixed, so results are bitwise repeatable.

Memory: ``H`` and ``Z`` (``(N, B)`` each) from forward, ``G`` (``(N, B)``) in backward,
``O(E)`` for the weight gradient; nothing per edge and batch.

Subnormal numbers are flushed to zero while the kernels run (deep DAGs push signals
and gradients into that range, where x86 arithmetic is 10-100x slower); the caller's
floating-point mode is restored afterwards.

Only the built-in activations have compiled forms (:data:`CODES`); a network using a
custom registered activation runs on the generation engine instead. The kernels are
compiled by numba on first use and cached on disk (``cache=True``): the first call in a
fresh environment costs a few seconds per dtype (float32, float64), later processes
load the cache in well under a second.

>>> import torch, edgenet as en
>>> net = en.Network(); net.add_input("x"); net.add_output("y", activation="tanh")
>>> net.add_edge("x", "y", weight=1.0)
>>> model = en.compile(net, dtype=torch.float64, engine="fused")
>>> round(model(torch.tensor([[0.5]], dtype=torch.float64)).item(), 6)
0.462117
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .sparse import outputs, seed_grad

#: Activation name -> code understood by the fused kernels.
CODES = {
    name: i
    for i, name in enumerate(
        ["identity", "relu", "sigmoid", "tanh", "leaky_relu", "gelu", "softplus", "elu",
         "silu", "sin", "abs", "square", "exp", "softsign"]
    )
}

_numba = None


def _kernels():
    """Compile (or load from cache) the numba kernels on first use."""
    global _numba
    if _numba is None:
        _numba = _build()
    return _numba


def _build():
    from numba import njit

    fast = {"reassoc", "contract", "nsz", "arcp"}

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

    @njit(cache=True, fastmath=fast)
    def forward(H, Z, w, b, crow, col, code, n_in):  # pragma: no cover - compiled
        B = H.shape[1]
        for r in range(Z.shape[0]):
            z = Z[r]
            bias = b[r]
            for k in range(B):
                z[k] = bias
            for e in range(crow[r], crow[r + 1]):
                we = w[e]
                h = H[col[e]]
                for k in range(B):
                    z[k] += we * h[k]
            h = H[n_in + r]
            c = code[r]
            for k in range(B):
                h[k] = act(c, z[k])

    @njit(cache=True, fastmath=fast)
    def backward(G, H, Z, w, crow, col, code, n_in, dw, db, need_w, floor, zero):  # noqa: E501
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
            for e in range(crow[r], crow[r + 1]):
                u = col[e]
                if need_w:
                    hu = H[u]
                    acc = zero  # in the dtype of H: float32 sums vectorise twice as wide
                    for k in range(B):
                        acc += d[k] * hu[k]
                    dw[e] = acc
                if u >= floor:
                    gu = G[u]
                    we = w[e]
                    for k in range(B):
                        gu[k] += we * d[k]

    return forward, backward


def supports(activations: list[str]) -> bool:
    """Whether every activation has a fused form.

    >>> supports(["relu", "tanh"]), supports(["relu", "my_custom"])
    (True, False)
    """
    return all(a in CODES for a in activations)


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy()


class _flush_denormals:
    """Flush subnormal floats to zero while a kernel runs, then restore the caller's mode.

    Signals through thousands of generations shrink into the subnormal range, where x86
    arithmetic runs one to two orders of magnitude slower; their contribution is below
    the dtype's resolution anyway.
    """

    def __enter__(self) -> None:
        tiny = np.float32(1e-39)  # subnormal in float32
        self.was = bool(tiny * np.float32(1.0) == 0)  # already flushing?
        if not self.was:
            torch.set_flush_denormal(True)

    def __exit__(self, *exc: object) -> None:
        if not self.was:
            torch.set_flush_denormal(False)


def forward(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, crow: torch.Tensor,
    col: torch.Tensor, codes: torch.Tensor, out_rows: torch.Tensor, out_lo: int = -1,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(x[B, n_in], weight[E], bias[N - n_in]) -> (y[B, n_out], H[N, B], Z[N - n_in, B])``."""
    B, n_in = x.shape
    H = x.new_empty(n_in + bias.shape[0], B)  # (N, B)
    Z = x.new_empty(bias.shape[0], B)  # (N - n_in, B)
    H[:n_in] = x.T
    fwd, _ = _kernels()
    with _flush_denormals():
        fwd(_np(H), _np(Z), _np(weight.contiguous()), _np(bias.contiguous()), _np(crow),
            _np(col), _np(codes), n_in)
    return outputs(H, out_rows, out_lo), H, Z


def backward(
    grad_y: torch.Tensor, weight: torch.Tensor, H: torch.Tensor, Z: torch.Tensor,
    crow: torch.Tensor, col: torch.Tensor, codes: torch.Tensor, out_rows: torch.Tensor,
    out_lo: int = -1, need_w: bool = True, need_x: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``dL/dy[B, n_out] -> (dL/dx[B, n_in], dL/dweight[E], dL/dbias[N - n_in])``;
    ``dL/dx`` is ``(0, n_in)`` without ``need_x``."""
    n_in = H.shape[0] - Z.shape[0]
    floor = 0 if need_x else n_in  # rows below it need no gradient
    G = torch.empty_like(H)  # (N, B)
    G[floor:].zero_()
    seed_grad(G, grad_y, out_rows, out_lo)
    dw = torch.zeros_like(weight)  # (E,)
    db = weight.new_empty(Z.shape[0])  # (N - n_in,)
    _, bwd = _kernels()
    with _flush_denormals():
        bwd(_np(G), _np(H), _np(Z), _np(weight.contiguous()), _np(crow), _np(col),
            _np(codes), n_in, _np(dw), _np(db), need_w, floor, _np(H).dtype.type(0))
    dx = G[:n_in].T.contiguous() if need_x else H.new_empty(0, n_in)  # (B, n_in)
    return dx, dw, db
