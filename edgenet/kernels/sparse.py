r"""Generation-by-generation sparse message passing with a hand-written backward.

Activations are node-major, ``H[N, B]``; generation ``g`` owns rows ``r0:r1`` and
edges ``e0:e1``. With ``A_g`` the ``(r1 - r0, r0)`` CSR block of its incoming
weights (any earlier row may be a source, so skip connections cost nothing extra):

.. math::

    Z_g = b_g \mathbf{1}^T + A_g H_{:r_0}, \qquad H_{r_0:r_1} = \sigma(Z_g)

Backward, walking generations in reverse with ``G = dL/dH``:

.. math::

    \Delta_g = G_{r_0:r_1} \odot \sigma'(Z_g), \quad
    \frac{\partial L}{\partial b_g} = \Delta_g \mathbf{1}, \quad
    \frac{\partial L}{\partial w_g} = \mathrm{SDDMM}(A_g, \Delta_g, H_{:r_0}^T), \quad
    G_{S_g} \mathrel{+}= A_g^{T}[S_g] \, \Delta_g

where ``S_g`` are the distinct source rows of generation ``g`` and ``A_g^T[S_g]`` is
its transposed block restricted to them (prepared at compile time). Nothing of size
``edges x batch`` is ever allocated: the SpMM and SDDMM kernels reduce over edges
in place. Memory is ``O(E + N * B)``: ``H``, the pre-activations ``Z`` and ``G``.

>>> import torch, edgenet as en
>>> net = en.Network(); net.add_input("x"); net.add_output("y"); net.add_edge("x", "y", weight=3.0)
>>> net.compile()(torch.tensor([[2.0]])).item()
6.0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from ..activations import get_activation


@dataclass
class Layout:
    """Device tensors and Python bounds that one forward/backward pass walks."""

    n_inputs: int
    n_nodes: int
    rows: list[int]
    edges: list[int]
    spans: list[int]
    runs: list[list[tuple[int, int, str]]]
    crow: torch.Tensor  # (N - n_inputs + 1,) CSR row pointer over computed rows
    col: torch.Tensor  # (E,) source row of each edge
    sources: torch.Tensor  # (S,) distinct source rows, generation by generation
    tcrow: torch.Tensor  # (S + depth,) transposed row pointers, relative per generation
    tcol: torch.Tensor  # (E,) target column of each transposed entry, relative per generation
    perm: torch.Tensor  # (E,) edge index of each transposed entry
    out_rows: torch.Tensor  # (n_out,) rows of H returned as outputs


def _csr(crow: torch.Tensor, col: torch.Tensor, val: torch.Tensor, size: tuple[int, int]):
    return torch.sparse_csr_tensor(crow, col, val, size=size, check_invariants=False)


def _block(L: Layout, g: int, weight: torch.Tensor) -> torch.Tensor:
    """CSR block ``A_g`` of shape ``(rows in g, rows before g)``."""
    r0, r1, e0, e1 = L.rows[g], L.rows[g + 1], L.edges[g], L.edges[g + 1]
    c0 = r0 - L.n_inputs
    crow = L.crow[c0 : c0 + (r1 - r0) + 1] - e0  # (r1 - r0 + 1,)
    return _csr(crow, L.col[e0:e1], weight[e0:e1], (r1 - r0, r0))


def _block_t(L: Layout, g: int, weight: torch.Tensor) -> torch.Tensor:
    """Transposed block ``A_g^T[S_g]`` of shape ``(distinct sources of g, rows in g)``."""
    r0, r1, e0, e1 = L.rows[g], L.rows[g + 1], L.edges[g], L.edges[g + 1]
    s0, s1 = L.spans[g], L.spans[g + 1]
    tcrow = L.tcrow[s0 + g : s1 + g + 1]  # (k + 1,)
    val = weight[L.perm[e0:e1]]  # (e1 - e0,)
    return _csr(tcrow, L.tcol[e0:e1], val, (s1 - s0, r1 - r0))


# Derivatives expressed through the output h = act(z), so no autograd is needed.
_FAST_GRAD: dict[str, Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "identity": lambda g, z, h: g,
    "relu": lambda g, z, h: g * (z > 0),
    "sigmoid": lambda g, z, h: g * h * (1 - h),
    "tanh": lambda g, z, h: g * (1 - h * h),
}


def _act_grad(name: str, grad: torch.Tensor, z: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    fast = _FAST_GRAD.get(name)
    if fast is not None:
        return fast(grad, z, h)
    with torch.enable_grad():
        z = z.detach().requires_grad_(True)
        (dz,) = torch.autograd.grad(get_activation(name)(z), z, grad)
    return dz


class DagFunction(torch.autograd.Function):
    """``(x[B, n_in], weight[E], bias[N - n_in]) -> y[B, n_out]`` over a :class:`Layout`."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, L: Layout):
        B = x.shape[0]
        H = x.new_empty(L.n_nodes, B)  # (N, B) every neuron's output
        Z = x.new_empty(L.n_nodes - L.n_inputs, B)  # (N - n_in, B) pre-activations
        H[: L.n_inputs] = x.T
        for g in range(len(L.rows) - 1):
            r0, r1 = L.rows[g], L.rows[g + 1]
            c0, c1 = r0 - L.n_inputs, r1 - L.n_inputs
            z = Z[c0:c1]  # (n_g, B)
            z.copy_(bias[c0:c1, None].expand(-1, B))
            if L.edges[g + 1] > L.edges[g]:
                z.addmm_(_block(L, g, weight), H[:r0])  # (n_g, r0) @ (r0, B)
            for a, b, name in L.runs[g]:
                H[a:b] = get_activation(name)(Z[a - L.n_inputs : b - L.n_inputs])
        ctx.layout = L
        ctx.save_for_backward(weight, H, Z)
        return H[L.out_rows].T  # (B, n_out)

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor):
        L: Layout = ctx.layout
        weight, H, Z = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        G = torch.zeros_like(H)  # (N, B) dL/dH
        G.index_add_(0, L.out_rows, grad_out.T)
        dw = torch.zeros_like(weight) if need_w else None  # (E,)
        D = torch.empty_like(Z)  # (N - n_in, B) dL/dZ
        for g in reversed(range(len(L.rows) - 1)):
            r0, r1, e0, e1 = L.rows[g], L.rows[g + 1], L.edges[g], L.edges[g + 1]
            c0, c1 = r0 - L.n_inputs, r1 - L.n_inputs
            for a, b, name in L.runs[g]:
                ca, cb = a - L.n_inputs, b - L.n_inputs
                D[ca:cb] = _act_grad(name, G[a:b], Z[ca:cb], H[a:b])
            if e1 == e0:
                continue
            d = D[c0:c1]  # (n_g, B)
            if dw is not None:
                mask = _block(L, g, weight)
                dw[e0:e1] = torch.sparse.sampled_addmm(mask, d, H[:r0].T, beta=0.0).values()
            s0, s1 = L.spans[g], L.spans[g + 1]
            # (k, n_g) @ (n_g, B) -> (k, B), scattered to the k distinct source rows
            G.index_add_(0, L.sources[s0:s1], _block_t(L, g, weight) @ d)
        dx = G[: L.n_inputs].T if need_x else None  # (B, n_in)
        db = D.sum(1) if need_b else None  # (N - n_in,)
        return dx, dw, db, None


def run(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, L: Layout) -> torch.Tensor:
    """Forward pass of a compiled DAG: ``(B, n_in) -> (B, n_out)``, differentiable.

    >>> import torch, edgenet as en
    >>> net = en.Network(); net.add_input("x"); net.add_output("y", bias=1.0)
    >>> net.add_edge("x", "y", weight=2.0)
    >>> model = net.compile()
    >>> en.kernels.sparse.run(torch.ones(1, 1), model.weight, model.bias, model.layout()).item()
    3.0
    """
    return DagFunction.apply(x, weight, bias, L)
