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
compiled by numba on first use and cached on disk (``cache=True``, next to the package):
the very first call after installing costs a few seconds per dtype (float32, float64);
after that, the first call in a process costs about 1.5 s (numba's start-up and the cache
load), and every later call nothing extra.

>>> import torch, edgenet as en
>>> net = en.Network(); net.add_input("x"); net.add_output("y", activation="tanh")
>>> net.add_edge("x", "y", weight=1.0)
>>> model = en.compile(net, dtype=torch.float64, engine="fused")
>>> round(model(torch.tensor([[0.5]], dtype=torch.float64)).item(), 6)
0.462117
"""

from __future__ import annotations

import numpy as np
import torch

from .sparse import gradient_buffer, outputs, transposed

#: Activation name -> code understood by the fused kernels.
CODES = {
    name: i
    for i, name in enumerate(
        ["identity", "relu", "sigmoid", "tanh", "leaky_relu", "gelu", "softplus", "elu",
         "silu", "sin", "abs", "square", "exp", "softsign"]
    )
}

def _kernels():
    """The compiled forward and backward (numba, imported and loaded on first use)."""
    from . import _fused_kernels

    return _fused_kernels.forward, _fused_kernels.backward


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
    transposed(H[:n_in], x)
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
    G = gradient_buffer(H, grad_y, out_rows, out_lo, floor)  # (N, B)
    dw = torch.zeros_like(weight)  # (E,)
    db = weight.new_empty(Z.shape[0])  # (N - n_in,)
    _, bwd = _kernels()
    with _flush_denormals():
        bwd(_np(G), _np(H), _np(Z), _np(weight.contiguous()), _np(crow), _np(col),
            _np(codes), n_in, _np(dw), _np(db), need_w, floor, _np(H).dtype.type(0))
    dx = G[:n_in].T.contiguous() if need_x else H.new_empty(0, n_in)  # (B, n_in)
    return dx, dw, db
