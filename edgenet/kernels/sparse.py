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
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from ..activations import get_activation
from . import csr

BIAS, SPARSE, DENSE = 0, 1, 2
#: Run sparse generations with torch's CSR ops on the CPU too (as on CUDA) instead of the
#: numba kernels of :mod:`.csr`; the tests use it to check the CUDA code path on any machine.
TORCH_OPS_ON_CPU = False
KERNELS = {BIAS: "bias", SPARSE: "sparse", DENSE: "dense"}


@dataclass
class Layout:
    """Everything one forward/backward pass walks.

    ``meta`` (CPU, int64, ``(6, depth + 1)``) holds per generation: first row, first
    edge, first distinct source, kernel (0 bias, 1 sparse, 2 dense) and the first source
    row when the sources are one contiguous range of rows (else -1); ``meta[5, 0]`` is
    the first output row when the outputs are consecutive rows in order (else -1).
    ``runs`` (CPU, int64, ``(R, 3)``) lists ``(first_row, end_row, activation index)``
    blocks, indices into the comma-joined ``acts``; ``codes`` (CPU, int64) the fused
    activation code of every computed row (-1 where none exists). ``engine`` is
    ``"sparse"`` (generation by generation) or ``"fused"``.
    """

    crow: torch.Tensor  # (N - n_in + 1,) CSR row pointer over computed rows
    col: torch.Tensor  # (E,) source row of each edge
    sources: torch.Tensor  # (S,) distinct source rows, generation by generation
    tcrow: torch.Tensor  # (S + depth,) transposed row pointers, relative per generation
    tcol: torch.Tensor  # (E,) target column of each transposed entry, relative per generation
    perm: torch.Tensor  # (E,) edge index of each transposed entry
    dpos: torch.Tensor  # (E,) flat position of each edge in its generation's dense block
    out_rows: torch.Tensor  # (n_out,) rows of H returned as outputs
    meta: torch.Tensor  # (6, depth + 1) CPU
    runs: torch.Tensor  # (R, 3) CPU
    codes: torch.Tensor  # (N - n_in,) CPU
    acts: str
    engine: str = "sparse"

    def tensors(self) -> tuple[torch.Tensor, ...]:
        return (self.crow, self.col, self.sources, self.tcrow, self.tcol, self.perm,
                self.dpos, self.out_rows, self.meta, self.runs, self.codes)


def _csr(crow: torch.Tensor, col: torch.Tensor, val: torch.Tensor, size: tuple[int, int]):
    return torch.sparse_csr_tensor(crow, col, val, size=size, check_invariants=False)


def _silu_grad(g: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    s = torch.sigmoid(z)
    return g * s * (1 + z * (1 - s))


# dL/dz of every built-in activation from dL/dh = g, z and h = act(z), in closed form (the
# same derivatives torch's autograd uses, e.g. relu'(0) = 0), so backward needs no autograd.
_GRAD: dict[str, Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "identity": lambda g, z, h: g,
    "relu": lambda g, z, h: g * (z > 0),
    "sigmoid": lambda g, z, h: g * h * (1 - h),
    "tanh": lambda g, z, h: g * (1 - h * h),
    "leaky_relu": lambda g, z, h: torch.where(z > 0, g, 0.01 * g),
    "gelu": lambda g, z, h: g * (0.5 * (1 + torch.erf(z * 0.7071067811865476))
                                 + z * torch.exp(-0.5 * z * z) * 0.3989422804014327),
    "softplus": lambda g, z, h: torch.where(z > 20, g, g * torch.sigmoid(z)),
    "elu": lambda g, z, h: torch.where(z > 0, g, g * torch.exp(z)),
    "silu": lambda g, z, h: _silu_grad(g, z),
    "sin": lambda g, z, h: g * torch.cos(z),
    "abs": lambda g, z, h: g * torch.sign(z),
    "square": lambda g, z, h: 2 * z * g,
    "exp": lambda g, z, h: g * h,
    "softsign": lambda g, z, h: g / (1 + z.abs()) ** 2,
}


def builtin(acts: str) -> bool:
    """Whether every activation named in the comma-joined ``acts`` has a closed-form grad."""
    return all(name in _GRAD for name in acts.split(","))


def _act_grad(name: str, grad: torch.Tensor, z: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    closed = _GRAD.get(name)
    if closed is not None:
        return closed(grad, z, h)
    with torch.enable_grad():  # custom activations: only on the autograd.Function path
        z = z.detach().requires_grad_(True)
        (dz,) = torch.autograd.grad(get_activation(name)(z), z, grad)
    return dz


class _Walk:
    """Python-side bounds of a layout, read once per call."""

    def __init__(self, L: Layout, n_in: int):
        self.rows, self.edges, self.spans, self.kinds, self.lo, extra = L.meta.tolist()
        self.out_lo = extra[0]
        names = L.acts.split(",")
        self.runs: list[list[tuple[int, int, str]]] = [[] for _ in range(len(self.rows) - 1)]
        g = 0
        for a, b, i in L.runs.tolist():
            while a >= self.rows[g + 1]:
                g += 1
            self.runs[g].append((a, b, names[i]))
        self.n_in = n_in

    def __len__(self) -> int:
        return len(self.rows) - 1


class _Numpy:
    """NumPy views of a CPU pass's tensors, for the numba kernels of :mod:`.csr`.

    ``Z`` (alias ``G``) is the buffer the kernels write into: pre-activations in forward,
    ``dL/dH`` in backward.
    """

    def __init__(self, L: Layout, weight: torch.Tensor, H: torch.Tensor, Z: torch.Tensor,
                 bias: torch.Tensor | None = None, dw: torch.Tensor | None = None):
        self.w = weight.detach().contiguous().numpy()
        none = np.empty(0, dtype=self.w.dtype)
        self.b = bias.detach().contiguous().numpy() if bias is not None else none
        self.H, self.Z, self.G = H.numpy(), Z.numpy(), Z.numpy()
        self.dw = dw.numpy() if dw is not None else none
        self.crow, self.col = L.crow.numpy(), L.col.numpy()
        self.sources, self.tcrow = L.sources.numpy(), L.tcrow.numpy()
        self.tcol, self.perm = L.tcol.numpy(), L.perm.numpy()
        self.dpos = L.dpos.numpy()


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
                 cpu: _Numpy | None = None, c0: int = 0):
    """The ``(n, k)`` dense weight block of a generation, scattered from the flat weights."""
    if cpu is not None:
        out = scratch("block", weight, n, k)  # (n, k)
        csr.densify(out.numpy(), cpu.w, cpu.dpos, cpu.crow, c0)
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
            and dst.is_contiguous()):
        csr.transpose(dst.numpy(), src.detach().contiguous().numpy())  # tiled, parallel
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
    G = torch.empty_like(H)  # (N, B)
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


def forward(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, L: Layout
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(x[B, n_in], weight[E], bias[N - n_in]) -> (y[B, n_out], H[N, B], Z[N - n_in, B])``."""
    B, n_in = x.shape
    W = _Walk(L, n_in)
    N = n_in + bias.shape[0]
    H = x.new_empty(N, B)  # (N, B) every neuron's output
    Z = x.new_empty(N - n_in, B)  # (N - n_in, B) pre-activations
    transposed(H[:n_in], x)
    cpu_pass = x.device.type == "cpu" and not TORCH_OPS_ON_CPU
    cpu = _Numpy(L, weight, H, Z, bias=bias) if cpu_pass else None
    for g in range(len(W)):
        r0, r1, e0, e1 = W.rows[g], W.rows[g + 1], W.edges[g], W.edges[g + 1]
        c0, c1 = r0 - n_in, r1 - n_in
        # An all-identity generation needs no pre-activations (its derivative is 1): its
        # sums go straight into H and its rows of Z stay unwritten.
        linear = all(name == "identity" for _, _, name in W.runs[g])
        z = H[r0:r1] if linear else Z[c0:c1]  # (n_g, B)
        kind = W.kinds[g]
        if kind == SPARSE and cpu is not None:
            out = cpu.H[r0:r1] if linear else cpu.Z[c0:c1]
            csr.spmm(out, cpu.H, cpu.w, cpu.b, cpu.crow, cpu.col, c0)  # b + A H
        elif kind == SPARSE:
            z.copy_(bias[c0:c1, None].expand(-1, B))
            crow = L.crow[c0 : c1 + 1] - e0  # (n_g + 1,)
            z.addmm_(_csr(crow, L.col[e0:e1], weight[e0:e1], (r1 - r0, r0)), H[:r0])
        elif kind == DENSE:
            s0, s1 = W.spans[g], W.spans[g + 1]
            block = _dense_block(L, weight, r1 - r0, s1 - s0, e0, e1, cpu, c0)  # (n_g, k)
            hs = _gathered(H, L, s0, s1, W.lo[g])  # (k, B)
            torch.addmm(bias[c0:c1, None], block, hs, out=z)  # (n_g, k) @ (k, B)
        else:
            z.copy_(bias[c0:c1, None].expand(-1, B))
        for a, b, name in W.runs[g]:
            if not linear:
                H[a:b] = get_activation(name)(Z[a - n_in : b - n_in])
    return outputs(H, L.out_rows, W.out_lo), H, Z


def backward(
    grad_y: torch.Tensor,
    weight: torch.Tensor,
    H: torch.Tensor,
    Z: torch.Tensor,
    L: Layout,
    need_w: bool = True,
    need_x: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``dL/dy[B, n_out] -> (dL/dx[B, n_in], dL/dweight[E], dL/dbias[N - n_in])``.

    Without ``need_x`` the input rows get no gradient and ``dL/dx`` is ``(0, n_in)``.
    """
    n_in = H.shape[0] - Z.shape[0]
    W = _Walk(L, n_in)
    cpu_pass = H.device.type == "cpu" and not TORCH_OPS_ON_CPU
    floor = 0 if need_x or not cpu_pass else n_in  # rows below it need no gradient
    # dL/dH (N, B), turned into dL/dZ in place, generation by generation
    G = gradient_buffer(H, grad_y, L.out_rows, W.out_lo, floor)
    # Every edge's gradient is written by its generation's kernel, so no zero fill is needed.
    dw = torch.empty_like(weight) if need_w else torch.zeros_like(weight)  # (E,)
    # dL/dbias: row sums of each generation's dL/dZ, written generation by generation
    # (fused into the SDDMM pass of a sparse CPU generation).
    db = weight.new_empty(Z.shape[0])  # (N - n_in,)
    cpu = _Numpy(L, weight, H, G, dw=dw) if cpu_pass else None
    for g in reversed(range(len(W))):
        r0, r1, e0, e1 = W.rows[g], W.rows[g + 1], W.edges[g], W.edges[g + 1]
        c0, c1 = r0 - n_in, r1 - n_in
        for a, b, name in W.runs[g]:
            if name != "identity":
                G[a:b] = _act_grad(name, G[a:b], Z[a - n_in : b - n_in], H[a:b])
        kind = W.kinds[g]
        d = G[r0:r1]  # (n_g, B) dL/dZ of this generation: final, later ones are done
        fused_db = kind == SPARSE and cpu is not None and need_w
        if not fused_db:
            torch.sum(d, 1, out=db[c0:c1])
        if kind == BIAS:
            continue
        s0, s1, lo = W.spans[g], W.spans[g + 1], W.lo[g]
        if kind == SPARSE and cpu is not None:
            if need_w:
                csr.sddmm(cpu.dw, cpu.G[r0:r1], cpu.H, cpu.crow, cpu.col, c0, db.numpy())
            j = int(cpu.sources[s0:s1].searchsorted(floor)) if floor else 0
            csr.spmm_t(cpu.G, cpu.G[r0:r1], cpu.w, cpu.sources[s0 + j : s1], cpu.tcrow,
                       cpu.tcol, cpu.perm, s0 + g + j, e0)
            continue
        if kind == SPARSE:
            if need_w:
                crow = L.crow[c0 : c1 + 1] - e0  # (n_g + 1,)
                mask = _csr(crow, L.col[e0:e1], weight[e0:e1], (r1 - r0, r0))
                dw[e0:e1] = torch.sparse.sampled_addmm(mask, d, H[:r0].T, beta=0.0).values()
            tcrow = L.tcrow[s0 + g : s1 + g + 1]  # (k + 1,)
            at = _csr(tcrow, L.tcol[e0:e1], weight[L.perm[e0:e1]], (s1 - s0, r1 - r0))
            M = at @ d  # (k, n_g) @ (n_g, B) -> (k, B)
        else:
            if need_w:
                hs = _gathered(H, L, s0, s1, lo)  # (k, B)
                if cpu is not None:  # (n_g, k) the block's gradient, into reused memory
                    grad = torch.mm(d, hs.T, out=scratch("grad", d, r1 - r0, s1 - s0))
                    csr.sparsify(cpu.dw, grad.numpy(), cpu.dpos, cpu.crow, c0)  # to the edges
                else:
                    grad = (d @ hs.T).view(-1)  # (n_g * k,) the block's gradient
                    dw[e0:e1] = grad.index_select(0, L.dpos[e0:e1])  # gathered to the edges
            if lo >= 0 and lo + (s1 - s0) <= floor:
                continue  # every source is an input and x needs no gradient
            block = _dense_block(L, weight, r1 - r0, s1 - s0, e0, e1, cpu, c0)  # (n_g, k)
            M = block.T @ d  # (k, n_g) @ (n_g, B) -> (k, B)
        _scatter_add(G, L, s0, s1, lo, M)
    dx = G[:n_in].T.contiguous() if need_x else H.new_empty(0, n_in)  # (B, n_in)
    return dx, dw, db


def run(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, L: Layout) -> torch.Tensor:
    """Forward pass of a compiled DAG: ``(B, n_in) -> (B, n_out)``, differentiable.

    Runs the engine named by ``L.engine`` through the ``edgenet::dag`` custom op, so
    ``torch.compile`` sees one node per call.

    >>> import torch, edgenet as en
    >>> net = en.Network(); net.add_input("x"); net.add_output("y", bias=1.0)
    >>> net.add_edge("x", "y", weight=2.0)
    >>> model = net.compile()
    >>> en.kernels.sparse.run(torch.ones(1, 1), model.weight, model.bias, model.layout()).item()
    3.0
    """
    from .ops import dag

    return dag(x, weight, bias, L)
