r"""The generation engine: one sparse (CSR) or dense block per topological generation.

Activations are node-major, ``H[N, B]``; generation ``g`` owns rows ``r0:r1`` and
edges ``e0:e1``. With ``A_g`` the ``(r1 - r0, r0)`` block of its incoming weights (any
earlier row may be a source, so skip connections cost nothing extra):

.. math::

    Z_g = b_g \mathbf{1}^T + A_g H_{:r_0}, \qquad H_{r_0:r_1} = \sigma(Z_g)

Backward, walking generations in reverse with ``G = dL/dH``:

.. math::

    \Delta_g = G_{r_0:r_1} \odot \sigma'(Z_g), \quad
    \frac{\partial L}{\partial b_g} = \Delta_g \mathbf{1}, \quad
    \frac{\partial L}{\partial w_g} = \mathrm{SDDMM}(A_g, \Delta_g, H_{:r_0}^T), \quad
    G_{S_g} \mathrel{+}= A_g^{T}[S_g] \, \Delta_g

where ``S_g`` are the distinct source rows of generation ``g`` and ``A_g^T[S_g]`` is
its transposed block restricted to them (prepared at compile time). A generation
marked ``dense`` (see :mod:`edgenet.kernels.cost`) instead scatters its weights into a
``(n_g, k_g)`` matrix over its ``k_g`` distinct sources and runs GEMMs; its weight
gradient is that block's gradient gathered back to the edges.

On the CPU the sparse products are the row-parallel numba kernels of :mod:`.csr`; on
CUDA they are torch's cuSPARSE-backed CSR ``addmm`` and ``sampled_addmm``, and the
scatter into distinct source rows is an ``index_put_`` (no two writes to one element,
so the result does not depend on scheduling).

Memory: the pass keeps ``H``, the pre-activations ``Z`` and, in backward, ``G``: three
``(N, B)`` buffers, plus ``O(E)`` for weights and their gradient and, for a dense
generation, one ``n_g x k_g`` block at a time. Nothing of size ``edges x batch`` or
``depth x neurons x batch`` is allocated: the SpMM and SDDMM kernels reduce over edges
in place. So memory grows as ``O(E + N * B)``: linearly in edges, and in neurons times
batch. (Rows of ``Z`` that belong to all-identity generations are never written: those
sums go straight into ``H``, and identity needs no pre-activation in backward.)

>>> import torch, edgenet as en
>>> net = en.Network(); net.add_input("x"); net.add_output("y"); net.add_edge("x", "y", weight=3.0)
>>> net.compile()(torch.tensor([[2.0]])).item()
6.0
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np
import torch

from ..activations import backward as act_backward
from ..activations import get_activation
from . import csr, workspace
from .backends import Backend, register
from .recurrent import NUMBA, TORCH, Products, sddmm

if TYPE_CHECKING:
    from ..model.tensors import Layout

BIAS, SPARSE, DENSE = 0, 1, 2
#: Run sparse generations with torch's CSR ops on the CPU too (as on CUDA) instead of the
#: numba kernels of :mod:`.csr`; the tests use it to check the CUDA code path on any machine.
TORCH_OPS_ON_CPU = False
KERNELS = {BIAS: "bias", SPARSE: "sparse", DENSE: "dense"}


def _csr(crow: torch.Tensor, col: torch.Tensor, val: torch.Tensor, size: tuple[int, int]):
    return torch.sparse_csr_tensor(crow, col, val, size=size, check_invariants=False)


def _runs(L: Layout) -> list[list[tuple[int, int, str]]]:
    """Per generation, its ``(first_row, end_row, activation name)`` blocks."""
    names = L.acts.split(",")
    rows = L.rows.tolist()
    out: list[list[tuple[int, int, str]]] = [[] for _ in range(len(rows) - 1)]
    g = 0
    for a, b, i in L.runs.tolist():
        while a >= rows[g + 1]:
            g += 1
        out[g].append((a, b, names[i]))
    return out


def _np(t: torch.Tensor) -> np.ndarray:
    """A NumPy view of a CPU tensor, for the numba kernels of :mod:`.csr`."""
    return t.detach().numpy()


_SCRATCH = threading.local()


def scratch(name: str, like: torch.Tensor, n: int, k: int) -> torch.Tensor:
    """A CPU ``(n, k)`` buffer kept between calls (per thread, name, shape and dtype).

    Dense blocks and their gradients are scratch: written, used and dropped within one
    pass. Reusing their memory spares the page faults of a fresh multi-megabyte
    allocation on every call, which cost as much as filling the block. At most a few
    buffers are kept: memory stays ``O(largest dense block)``.
    """
    cache = getattr(_SCRATCH, "buffers", None)
    if cache is None:
        cache = _SCRATCH.buffers = {}
    key = (name, n, k, like.dtype)
    buf = cache.get(key)
    if buf is None:
        if len(cache) >= 4:
            cache.clear()
        buf = cache[key] = like.new_empty(n, k)
    return buf


def _dense_block(L: Layout, weight: torch.Tensor, n: int, k: int, e0: int, e1: int,
                 cpu: bool, c0: int):
    """The ``(n, k)`` dense weight block of a generation, scattered from the flat weights."""
    if cpu:
        out = scratch("block", weight, n, k)  # (n, k)
        csr.densify(out.numpy(), _np(weight), _np(L.dpos), _np(L.crow), c0)
        return out
    block = weight.new_zeros(n * k)  # (n * k,)
    if block.is_cuda:  # index_put_ has a deterministic CUDA kernel
        block[L.dpos[e0:e1]] = weight[e0:e1]
    else:  # positions are distinct: a plain scatter, the fastest write on the CPU
        block.scatter_(0, L.dpos[e0:e1], weight[e0:e1])
    return block.view(n, k)  # (n, k)


def _gathered(H: torch.Tensor, L: Layout, s0: int, s1: int, lo: int) -> torch.Tensor:
    """Rows of ``H`` at the generation's distinct sources: a slice when contiguous."""
    if lo >= 0:
        return H[lo : lo + (s1 - s0)]  # (k, B) view
    return H.index_select(0, L.sources[s0:s1])  # (k, B)


def _scatter_add(G: torch.Tensor, L: Layout, s0: int, s1: int, lo: int, M: torch.Tensor):
    """``G[sources] += M``; the sources are distinct, so this is deterministic everywhere."""
    if lo >= 0:
        G[lo : lo + (s1 - s0)] += M
    elif G.is_cuda:
        idx = L.sources[s0:s1]
        G.index_put_((idx,), M, accumulate=True)
    else:
        G.index_add_(0, L.sources[s0:s1], M)


def transposed(dst: torch.Tensor, src: torch.Tensor) -> torch.Tensor:
    """``dst[:] = src.T`` for a 2-D ``dst`` with contiguous rows; returns ``dst``."""
    if (dst.device.type == "cpu" and not TORCH_OPS_ON_CPU and dst.numel() >= 1 << 16
            and dst.is_contiguous() and dst.dtype in (torch.float32, torch.float64)):
        csr.transpose(dst.numpy(), src.detach().contiguous().numpy())  # vector blocks, parallel
    else:
        dst.copy_(src.T)
    return dst


def outputs(H: torch.Tensor, out_rows: torch.Tensor, out_lo: int) -> torch.Tensor:
    """``y[B, n_out]``: the output rows of ``H``, transposed in one pass."""
    if out_lo >= 0:  # a copy even when the transpose is already contiguous (B or n_out 1)
        rows = H[out_lo : out_lo + out_rows.shape[0]]  # (n_out, B)
        return transposed(rows.new_empty(rows.shape[1], rows.shape[0]), rows)  # (B, n_out)
    return H.index_select(0, out_rows).T.contiguous()  # (n_out, B) rows, then (B, n_out)


def gradient_buffer(H: torch.Tensor, grad_y: torch.Tensor, out_rows: torch.Tensor, out_lo: int,
                    floor: int) -> torch.Tensor:
    """``G[N, B]``: ``dL/dy`` in the output rows, zeros in the other rows from ``floor`` on
    (rows below ``floor`` are left unset: nothing reads them)."""
    G = workspace.empty_like(H)  # (N, B), reused host memory on the CPU
    if out_lo >= 0:  # zero around the output block only: it is overwritten anyway
        out_hi = out_lo + out_rows.shape[0]
        G[floor:max(floor, out_lo)].zero_()
        G[max(floor, out_hi):].zero_()
    else:
        G[floor:].zero_()
    seed_grad(G, grad_y, out_rows, out_lo)
    return G


def seed_grad(G: torch.Tensor, grad_y: torch.Tensor, out_rows: torch.Tensor, out_lo: int):
    """``G[out_rows] = grad_y.T`` (the output rows are distinct)."""
    if out_lo >= 0:
        transposed(G[out_lo : out_lo + out_rows.shape[0]], grad_y)
    elif G.is_cuda:
        G[out_rows] = grad_y.T.contiguous()
    else:  # a transposed copy, then whole rows: far faster than a strided scatter
        G.index_copy_(0, out_rows, grad_y.T.contiguous())


def _finite(t: torch.Tensor) -> bool:
    """Whether the dense kernel may run on ``t`` (never while a CUDA graph is being
    captured: the check reads a value back to the host, which capture forbids, and the
    sparse kernel is exact on every input): a dense block multiplies absent edges
    (zeros) by every source, and ``0 * inf`` would carry a non-finite value along an
    absent edge. Any inf or nan makes the sum inf or nan, so a finite sum proves every
    element finite, in one reduction (a tenth of ``isfinite(t).all()``'s time); a finite
    tensor whose sum overflows only sends its generation to the sparse kernel, which
    gives the same result."""
    if t.is_cuda and torch.cuda.is_current_stream_capturing():
        return False
    return bool(torch.isfinite(t.sum()))


def forward(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, L: Layout
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(x[B, n_in], weight[E], bias[N - n_in]) -> (y[B, n_out], H[N, B], Z[N - n_in, B])``."""
    B, n_in = x.shape
    rows, edges, spans = L.rows.tolist(), L.edges.tolist(), L.spans.tolist()
    kinds, los, runs = L.kinds.tolist(), L.lo.tolist(), _runs(L)
    N = n_in + bias.shape[0]
    H = workspace.new_empty(x, (N, B))  # (N, B) every neuron's output
    Z = workspace.new_empty(x, (N - n_in, B))  # (N - n_in, B) pre-activations
    transposed(H[:n_in], x)
    cpu = x.device.type == "cpu" and not TORCH_OPS_ON_CPU
    if cpu:
        w, b, crow, col = _np(weight.contiguous()), _np(bias.contiguous()), _np(L.crow), _np(L.col)
    for g in range(len(rows) - 1):
        r0, r1, e0, e1 = rows[g], rows[g + 1], edges[g], edges[g + 1]
        c0, c1 = r0 - n_in, r1 - n_in
        # An all-identity generation needs no pre-activations (its derivative is 1): its
        # sums go straight into H and its rows of Z stay unwritten.
        linear = all(name == "identity" for _, _, name in runs[g])
        z = H[r0:r1] if linear else Z[c0:c1]  # (n_g, B)
        kind = kinds[g]
        hs = None
        if kind == DENSE:
            hs = _gathered(H, L, spans[g], spans[g + 1], los[g])  # (k, B)
            if not _finite(hs):
                kind = SPARSE  # a sparse product carries nothing along absent edges
        if kind == SPARSE and cpu:
            csr.spmm(_np(z), _np(H), w, b, crow, col, c0)  # b + A H
        elif kind == SPARSE:
            z.copy_(bias[c0:c1, None].expand(-1, B))
            crow_g = L.crow[c0 : c1 + 1] - e0  # (n_g + 1,)
            z.addmm_(_csr(crow_g, L.col[e0:e1], weight[e0:e1], (r1 - r0, r0)), H[:r0])
        elif kind == DENSE:
            k = spans[g + 1] - spans[g]
            block = _dense_block(L, weight, r1 - r0, k, e0, e1, cpu, c0)  # (n_g, k)
            assert hs is not None  # gathered above for every dense generation
            torch.addmm(bias[c0:c1, None], block, hs, out=z)  # (n_g, k) @ (k, B)
        else:
            z.copy_(bias[c0:c1, None].expand(-1, B))
        if not linear:
            for a, b_, name in runs[g]:
                H[a:b_] = get_activation(name)(Z[a - n_in : b_ - n_in])
    return outputs(H, L.out_rows, L.out_lo), H, Z


def backward(
    grad_y: torch.Tensor,
    weight: torch.Tensor,
    H: torch.Tensor,
    Z: torch.Tensor,
    L: Layout,
    need_w: bool = True,
    need_x: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``dL/dy[B, n_out] -> (dL/dx[B, n_in], dL/dweight[E], dL/dbias[N - n_in],
    dL/dZ[N - n_in, B])``.

    Without ``need_x`` the input rows get no gradient and ``dL/dx`` is ``(0, n_in)``.
    """
    n_in = H.shape[0] - Z.shape[0]
    rows, edges, spans = L.rows.tolist(), L.edges.tolist(), L.spans.tolist()
    kinds, los, runs = L.kinds.tolist(), L.lo.tolist(), _runs(L)
    cpu = H.device.type == "cpu" and not TORCH_OPS_ON_CPU
    floor = 0 if need_x or not cpu else n_in  # rows below it need no gradient
    # dL/dH (N, B), turned into dL/dZ in place, generation by generation
    G = gradient_buffer(H, grad_y, L.out_rows, L.out_lo, floor)
    # Every edge's gradient is written by its generation's kernel, so no zero fill is needed.
    dw = torch.empty_like(weight) if need_w else torch.zeros_like(weight)  # (E,)
    # dL/dbias: row sums of each generation's dL/dZ, written generation by generation
    # (fused into the SDDMM pass of a sparse CPU generation).
    db = weight.new_empty(Z.shape[0])  # (N - n_in,)
    if cpu:
        w, crow, col = _np(weight.contiguous()), _np(L.crow), _np(L.col)
        sources, tcrow, tcol, perm = _np(L.sources), _np(L.tcrow), _np(L.tcol), _np(L.perm)
        Gn, Hn, dwn = _np(G), _np(H), _np(dw)
    for g in reversed(range(len(rows) - 1)):
        r0, r1, e0, e1 = rows[g], rows[g + 1], edges[g], edges[g + 1]
        c0, c1 = r0 - n_in, r1 - n_in
        for a, b, name in runs[g]:
            if name != "identity":
                G[a:b] = act_backward(name, G[a:b], Z[a - n_in : b - n_in], H[a:b])
        kind = kinds[g]
        d = G[r0:r1]  # (n_g, B) dL/dZ of this generation: final, later ones are done
        s0, s1, lo = spans[g], spans[g + 1], los[g]
        if kind == DENSE and not _finite(d):
            kind = SPARSE  # a dense block would carry 0 * inf along absent edges
        fused_db = kind == SPARSE and cpu and need_w
        if not fused_db:
            torch.sum(d, 1, out=db[c0:c1])
        if kind == BIAS:
            continue
        if kind == SPARSE and cpu:
            if need_w:
                csr.sddmm(dwn, Gn[r0:r1], Hn, crow, col, c0, _np(db))
            j = int(sources[s0:s1].searchsorted(floor)) if floor else 0
            csr.spmm_t(Gn, Gn[r0:r1], w, sources[s0 + j : s1], tcrow, tcol, perm, s0 + g + j, e0)
            continue
        if kind == SPARSE:
            if need_w:
                crow_g = L.crow[c0 : c1 + 1] - e0  # (n_g + 1,)
                mask = _csr(crow_g, L.col[e0:e1], weight[e0:e1], (r1 - r0, r0))
                dw[e0:e1] = sddmm(mask, d, H[:r0].T)  # (e_g,)
            tcrow_g = L.tcrow[s0 + g : s1 + g + 1]  # (k + 1,)
            at = _csr(tcrow_g, L.tcol[e0:e1], weight[L.perm[e0:e1]], (s1 - s0, r1 - r0))
            M = at @ d  # (k, n_g) @ (n_g, B) -> (k, B)
        else:
            if need_w:
                hs = _gathered(H, L, s0, s1, lo)  # (k, B)
                if cpu:  # (n_g, k) the block's gradient, into reused memory
                    grad = torch.mm(d, hs.T, out=scratch("grad", d, r1 - r0, s1 - s0))
                    csr.sparsify(dwn, grad.numpy(), _np(L.dpos), crow, c0)  # to the edges
                else:
                    grad = (d @ hs.T).view(-1)  # (n_g * k,) the block's gradient
                    dw[e0:e1] = grad.index_select(0, L.dpos[e0:e1])  # gathered to the edges
            if lo >= 0 and lo + (s1 - s0) <= floor:
                continue  # every source is an input and x needs no gradient
            block = _dense_block(L, weight, r1 - r0, s1 - s0, e0, e1, cpu, c0)  # (n_g, k)
            M = block.T @ d  # (k, n_g) @ (n_g, B) -> (k, B)
        _scatter_add(G, L, s0, s1, lo, M)
    dx = G[:n_in].T.contiguous() if need_x else H.new_empty(0, n_in)  # (B, n_in)
    return dx, dw, db, G[n_in:]


def _recurrent(device: str) -> Products:
    """The recurrent step's products: the numba kernels on the CPU, torch's CSR ops on
    CUDA (and on the CPU under :data:`TORCH_OPS_ON_CPU`)."""
    return NUMBA if device == "cpu" and not TORCH_OPS_ON_CPU else TORCH


register(Backend("generations", ("cpu", "cuda"), forward, backward, builtin_only=False,
                 recurrent=_recurrent))
