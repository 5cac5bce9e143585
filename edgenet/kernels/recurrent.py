r"""The recurrent engine: a graph with cycles run over time, forward and backward through
time, behind the same backend seam as the DAG engines.

Input rows of the state are clamped to the stimulus ``x_t`` at step ``t``; every neuron
``v`` updates synchronously from the previous state,

.. math::

    z_{v,t} = b_v + \sum_u w_{uv} s_{u,t}, \qquad
    h_{v,t} = (1 - a_v) h_{v,t-1} + a_v \sigma_v(z_{v,t})

with ``a_v = dt / tau_v``. Per step this is one sparse product over all edges,
``Z_t = b + A S_t`` with ``A`` the ``(neurons, nodes)`` CSR matrix of weights and ``S_t``
the node-major ``(nodes, batch)`` state. Backward through time, with ``G_t = dL/dh_t``
(gradients of the outputs added at each step):

.. math::

    \Delta_t = a \odot G_t \odot \sigma'(Z_t), \qquad
    G_{t-1} = (1 - a) \odot G_t + [A^T \Delta_t]_{\text{neurons}}, \qquad
    \frac{\partial L}{\partial x_t} = [A^T \Delta_t]_{\text{inputs}}, \qquad
    \frac{\partial L}{\partial w_{uv}} = \sum_t \Delta_{v,t} \cdot s_{u,t}

The three sparse products (``A S``, ``A^T \Delta`` and the SDDMM for ``dL/dw``) are a
:class:`Products` set that a backend registers (:attr:`~edgenet.kernels.backends.Backend.
recurrent`): the generation backend serves the CPU with the row-parallel numba kernels of
:mod:`.csr` (the transpose kept as a second CSR structure built at compile time; the
weight gradient one SDDMM over all steps at once, the steps laid side by side as a
``(nodes, T * batch)`` operand) and CUDA with torch's CSR ops. This module owns the walk
over time that every backend shares.

Memory: the forward pass keeps the states ``S`` (``(T + 1) x nodes x batch``), the
pre-activations ``Z`` and, when some neuron leaks (``tau != dt``), the activations
``act(Z)`` (``T x neurons x batch`` each) for the backward pass, which adds ``Delta`` and
node-major copies of both for the SDDMM: ``O(T * N * B)`` in all, plus ``O(E)`` for the
weights, their gradient and the index arrays. Nothing is ``edges x batch``. With
``checkpoint=k`` the forward pass keeps only the state at the start of every ``k`` steps
and the backward pass recomputes each segment before going back through it: memory
``O((T / k + k) * N * B)`` for about one more forward pass of compute.

Second derivatives (``create_graph=True``) are exact: the backward pass then recomputes
the steps with :func:`reference`, plain torch operations that autograd differentiates
(time and memory ``O(T * E * B)``: this path runs only for higher-order derivatives).

>>> import networkx as nx, torch, edgenet as en
>>> G = nx.DiGraph([("x", "a", {"weight": 1.0}), ("a", "a", {"weight": 0.5})])
>>> rnn = en.compile(G, recurrent=True, inputs=["x"], outputs=["a"])
>>> rnn(torch.ones(1, 1), steps=3)[0, :, 0].tolist()   # relu(1), relu(1 + 0.5), ...
[1.0, 1.5, 1.75]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..activations import backward as act_backward
from ..activations import get_activation
from ..errors import EdgenetError
from . import csr, threads
from .ops import check_unchanged, stamp


@dataclass(frozen=True)
class Structure:
    """A recurrent network's structure on one device (int64 tensors): ``crow``/``col`` the
    CSR structure of the incoming edges of every neuron (``col`` a row of the state),
    ``tcrow``/``tcol`` its transpose over all ``N`` rows (``tcol`` a neuron index) and
    ``perm`` each transposed entry's edge; ``out`` the neuron index of each output;
    ``runs`` ``(first, end, activation)`` in neuron indices; ``n_in`` the input rows."""

    crow: Tensor
    col: Tensor
    tcrow: Tensor
    tcol: Tensor
    perm: Tensor
    out: Tensor
    runs: tuple[tuple[int, int, str], ...]
    n_in: int

    @property
    def n_nodes(self) -> int:
        return self.tcrow.shape[0] - 1


@dataclass(frozen=True)
class Products:
    """The three sparse products of a recurrent step, as one backend runs them.

    - ``matrix(S, weight, bias) -> A``: whatever ``product`` needs of the weights, made
      once per segment;
    - ``product(A, z, s)``: ``z[M, B] = b + A s`` for ``s[N, B]``, written into ``z``;
    - ``transposed_matrix(S, weight) -> At``;
    - ``transposed(At, out, d, first)``: ``out[first:] = (A^T d)[first:]`` for ``d[M, B]``
      and ``out[N, B]``;
    - ``sddmm(S, weight, D, X) -> (dw[E], db[M])``: ``dw_e = D[v_e] . X[u_e]`` and
      ``db = D 1`` for ``D[M, K]``, ``X[N, K]``.
    """

    matrix: Callable[[Structure, Tensor, Tensor], Any]
    product: Callable[[Any, Tensor, Tensor], None]
    transposed_matrix: Callable[[Structure, Tensor], Any]
    transposed: Callable[[Any, Tensor, Tensor, int], None]
    sddmm: Callable[[Structure, Tensor, Tensor, Tensor], tuple[Tensor, Tensor]]


def _np(t: Tensor) -> np.ndarray:
    return t.detach().contiguous().numpy()


def _numba_product(A: Any, z: Tensor, s: Tensor) -> None:
    w, b, crow, col = A
    csr.spmm(z.numpy(), s.numpy(), w, b, crow, col, 0)


def _numba_transposed(At: Any, out: Tensor, d: Tensor, first: int) -> None:
    wt, zero, tcrow, tcol = At
    csr.spmm(out[first:].numpy(), d.numpy(), wt, zero, tcrow, tcol, first)


def _numba_sddmm(S: Structure, weight: Tensor, D: Tensor, X: Tensor) -> tuple[Tensor, Tensor]:
    dw = weight.new_empty(weight.shape)  # (E,)
    db = weight.new_empty(D.shape[0])  # (M,)
    csr.sddmm(dw.numpy(), D.numpy(), X.numpy(), S.crow.numpy(), S.col.numpy(), 0, db.numpy())
    return dw, db


#: The CPU's products: the numba CSR kernels of :mod:`.csr`.
NUMBA = Products(
    matrix=lambda S, w, b: (_np(w), _np(b), S.crow.numpy(), S.col.numpy()),
    product=_numba_product,
    transposed_matrix=lambda S, w: (_np(w)[S.perm.numpy()], np.zeros(S.n_nodes, _np(w).dtype),
                                    S.tcrow.numpy(), S.tcol.numpy()),
    transposed=_numba_transposed,
    sddmm=_numba_sddmm,
)


def _csr(crow: Tensor, col: Tensor, values: Tensor, size: tuple[int, int]) -> Tensor:
    return torch.sparse_csr_tensor(crow, col, values, size=size, check_invariants=False)


def _torch_product(A: Any, z: Tensor, s: Tensor) -> None:
    matrix, bias = A
    z.copy_(bias[:, None].expand_as(z))
    z.addmm_(matrix, s)


def _torch_transposed(At: Tensor, out: Tensor, d: Tensor, first: int) -> None:
    torch.mm(At, d, out=out)


def sddmm(mask: Tensor, a: Tensor, b: Tensor) -> Tensor:
    """The values of ``(a @ b)`` at ``mask``'s entries (torch's CSR ``sampled_addmm``),
    computed in float32 for half types, which torch's kernel does not take.

    >>> m = torch.sparse_csr_tensor([0, 1], [1], [0.0], size=(1, 2))
    >>> sddmm(m, torch.ones(1, 3), torch.ones(3, 2)).tolist()
    [3.0]
    """
    if a.dtype in (torch.float16, torch.bfloat16):
        wide = torch.sparse_csr_tensor(mask.crow_indices(), mask.col_indices(),
                                       mask.values().float(), size=mask.shape)
        return sddmm(wide, a.float(), b.float()).to(a.dtype)
    return torch.sparse.sampled_addmm(mask, a, b, beta=0.0).values()


def _torch_sddmm(S: Structure, weight: Tensor, D: Tensor, X: Tensor) -> tuple[Tensor, Tensor]:
    mask = _csr(S.crow, S.col, weight.detach(), (D.shape[0], X.shape[0]))
    return sddmm(mask, D, X.T), D.sum(1)


#: Torch's CSR ops (cuSPARSE on CUDA).
TORCH = Products(
    matrix=lambda S, w, b: (_csr(S.crow, S.col, w.detach(), (b.shape[0], S.n_nodes)),
                            b.detach()),
    product=_torch_product,
    transposed_matrix=lambda S, w: _csr(S.tcrow, S.tcol, w.detach()[S.perm],
                                        (S.n_nodes, S.crow.shape[0] - 1)),
    transposed=_torch_transposed,
    sddmm=_torch_sddmm,
)


@dataclass(frozen=True)
class Pass:
    """What one forward or backward call walks: the structure, the products that run it,
    the leak ``a = dt / tau`` (``(M, 1)``), ``1 - a`` and whether any neuron leaks."""

    S: Structure
    kernels: Products
    a: Tensor  # (M, 1)
    keep: Tensor  # (M, 1)
    leaky: bool


Trace = tuple[Tensor, Tensor, Tensor | None]


def _step(P: Pass, A: Any, S: Tensor, Z: Tensor, F: Tensor | None, j: int) -> None:
    """One step: ``Z[j] = b + A S[j]``, ``F[j] = act(Z[j])``,
    ``S[j + 1, n_in:] = lerp(S[j, n_in:], F[j], a)`` (without leaks ``F[j]`` is that row)."""
    n_in = P.S.n_in
    z = Z[j]  # (M, B)
    P.kernels.product(A, z, S[j])
    h = S[j + 1, n_in:]  # (M, B)
    f = F[j] if F is not None else h  # (M, B)
    for r0, r1, name in P.S.runs:
        f[r0:r1] = get_activation(name)(z[r0:r1])
    if F is not None:
        torch.lerp(S[j, n_in:], f, P.a, out=h)


def _segment(P: Pass, weight: Tensor, bias: Tensor, xs: Tensor, h: Tensor) -> Trace:
    """Run ``k`` steps from state ``h[M, B]`` on inputs ``xs[B, k, n_in]``: returns
    ``S[k + 1, N, B]`` (``S[j] = [x_{j+1}; h_j]``), ``Z[k, M, B]`` and, when some neuron
    leaks, ``F[k, M, B] = act(Z)`` (else None: ``F[j]`` is ``S[j + 1, n_in:]``)."""
    B, k, n_in = xs.shape
    M = bias.shape[0]
    S = h.new_empty(k + 1, n_in + M, B)  # (k + 1, N, B)
    S[:k, :n_in] = xs.permute(1, 2, 0)  # (k, n_in, B)
    S[k, :n_in] = 0
    S[0, n_in:] = h
    Z = h.new_empty(k, M, B)  # (k, M, B)
    F = h.new_empty(k, M, B) if P.leaky else None  # (k, M, B)
    A = P.kernels.matrix(P.S, weight, bias)
    for j in range(k):
        _step(P, A, S, Z, F, j)
    return S, Z, F


def _back_segment(P: Pass, weight: Tensor, trace: Trace, gh: Tensor, gy: Tensor,
                  need_x: bool) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Backward through one segment. ``gh[M, B]`` is ``dL/dh`` after its last step and
    ``gy[B, k, n_out]`` the output gradients of its steps. Returns ``dL/dh`` before its
    first step, ``dL/dx[B, k, n_in]``, and this segment's ``dL/dw[E]`` and ``dL/db[M]``."""
    S, Z, F = trace
    k, M, B = Z.shape
    n_in = P.S.n_in
    N = n_in + M
    D = Z.new_empty(k, M, B)  # (k, M, B) dL/dZ
    dx = Z.new_zeros(B, k, n_in) if need_x else Z.new_empty(0)
    first = 0 if need_x else n_in  # rows of A^T Delta needed
    bufs = (Z.new_empty(N, B), Z.new_empty(N, B))  # (N, B) A^T Delta, alternating
    At = P.kernels.transposed_matrix(P.S, weight)
    gh = gh.clone()
    for j in reversed(range(k)):
        gh.index_add_(0, P.S.out, gy[:, j].T)  # (n_out, B) into the output neurons
        g = gh * P.a if P.leaky else gh  # (M, B) dL/d act(Z)
        z, d = Z[j], D[j]
        f = F[j] if F is not None else S[j + 1, n_in:]  # (M, B) act(Z[j])
        for r0, r1, name in P.S.runs:
            d[r0:r1] = act_backward(name, g[r0:r1], z[r0:r1], f[r0:r1])
        G = bufs[j % 2]
        P.kernels.transposed(At, G, d, first)
        if need_x:
            dx[:, j] = G[:n_in].T
        if P.leaky:
            G[n_in:].addcmul_(gh, P.keep)
        gh = G[n_in:]
    Dn = D.permute(1, 0, 2).reshape(M, k * B)  # (M, k * B) every step side by side
    Sn = S[:k].permute(1, 0, 2).reshape(N, k * B)  # (N, k * B)
    dw, db = P.kernels.sddmm(P.S, weight, Dn, Sn)
    return gh.clone(), dx, dw, db


def _bounds(T: int, checkpoint: int | None) -> list[tuple[int, int]]:
    k = T if checkpoint is None else checkpoint
    return [(t, min(T, t + k)) for t in range(0, T, k)]


def reference(P: Pass, x: Tensor, weight: Tensor, bias: Tensor, h0: Tensor) -> Tensor:
    """``(x[B, T, n_in], weight[E], bias[M], h0[B, M]) -> y[B, T, n_out]`` by torch
    operations only, differentiable any number of times (the path for second
    derivatives: time and memory ``O(T * E * B)``).

    >>> import networkx as nx, torch, edgenet as en
    >>> G = nx.DiGraph([("x", "a", {"weight": 1.0}), ("a", "a", {"weight": 0.5})])
    >>> rnn = en.compile(G, recurrent=True, inputs=["x"], outputs=["a"])
    >>> P = rnn._pass(torch.device("cpu"), 1.0)
    >>> x = torch.ones(1, 3, 1)
    >>> reference(P, x, rnn.weight, rnn.bias, torch.zeros(1, 1))[0, :, 0].tolist()
    [1.0, 1.5, 1.75]
    """
    B, T, n_in = x.shape
    M = bias.shape[0]
    S = P.S
    target = torch.repeat_interleave(torch.arange(M, device=x.device), S.crow.diff())  # (E,)
    h = h0.T  # (M, B)
    ys = []
    for t in range(T):
        s = torch.cat((x[:, t].T, h))  # (N, B)
        z = bias[:, None] + torch.zeros_like(h).index_add(
            0, target, weight[:, None] * s.index_select(0, S.col))  # (M, B)
        f = torch.cat([get_activation(name)(z[r0:r1]) for r0, r1, name in S.runs]) \
            if S.runs else z  # (M, B)
        h = torch.lerp(h, f, P.a) if P.leaky else f  # (M, B)
        ys.append(h.index_select(0, S.out).T)  # (B, n_out)
    return torch.stack(ys, 1)  # (B, T, n_out)


class BPTT(torch.autograd.Function):
    """``(x[B, T, n_in], weight, bias, h0[B, M]) -> y[B, T, n_out]`` with a hand-written
    backward through time."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor, bias: Tensor, h0: Tensor, P: Pass,
                checkpoint: int | None) -> Tensor:
        if torch.jit.is_tracing():
            raise EdgenetError(
                "torch.jit.trace cannot record a recurrent network's pass (numba kernels "
                "inside a custom autograd function); export a plain-torch form instead: "
                "torch.export.export(edgenet.to_torch(model, steps=T), (x,)), or trace that"
            )
        B, T, _ = x.shape
        out = P.S.out
        n_in = P.S.n_in
        y = x.new_empty(B, T, out.shape[0])  # (B, T, n_out)
        segments = _bounds(T, checkpoint)
        starts = []
        h = h0.T  # (M, B)
        trace = None
        threads.adapt_torch(x.device)  # beside busy processes, fewer torch threads
        for t0, t1 in segments:
            starts.append(h.contiguous())
            trace = _segment(P, weight, bias, x[:, t0:t1], h)
            S = trace[0]
            y[:, t0:t1] = S[1:, n_in + out].permute(2, 0, 1)  # (B, k, n_out)
            h = S[-1, n_in:]
        ctx.save_for_backward(x, weight, bias, h0)
        ctx.stamp = stamp(weight=weight, bias=bias)  # a rewire after this refuses backward
        ctx.P, ctx.segments, ctx.starts, ctx.last = P, segments, starts, trace
        return y

    @staticmethod
    def backward(ctx: Any, gy: Tensor) -> tuple[Any, ...]:
        check_unchanged(ctx.stamp)
        x, weight, bias, h0 = ctx.saved_tensors
        P: Pass = ctx.P
        if torch.is_grad_enabled():  # create_graph=True: a differentiable backward
            return (*_reference_vjp(P, x, weight, bias, h0, gy, ctx.needs_input_grad[:4]),
                    None, None)
        need_x = ctx.needs_input_grad[0]
        B, T, n_in = x.shape
        M = bias.shape[0]
        gy = gy.contiguous()
        gh = gy.new_zeros(M, B)  # (M, B) dL/dh_T
        dx = gy.new_zeros(B, T, n_in) if need_x else None
        dw = db = None
        threads.adapt_torch(x.device)  # beside busy processes, fewer torch threads
        for i in reversed(range(len(ctx.segments))):
            t0, t1 = ctx.segments[i]
            if i == len(ctx.segments) - 1:
                trace = ctx.last
            else:  # a checkpointed segment: run it again from its first state
                trace = _segment(P, weight, bias, x[:, t0:t1], ctx.starts[i])
            gh, gx, w_i, b_i = _back_segment(P, weight, trace, gh, gy[:, t0:t1], need_x)
            del trace
            if dx is not None:
                dx[:, t0:t1] = gx
            dw = w_i if dw is None else dw.add_(w_i)
            db = b_i if db is None else db.add_(b_i)
        return dx, dw, db, gh.T, None, None


def _reference_vjp(P: Pass, x: Tensor, weight: Tensor, bias: Tensor, h0: Tensor, gy: Tensor,
                   need: tuple[bool, ...]) -> list[Tensor | None]:
    """The vector-Jacobian product of :func:`reference`, itself differentiable."""
    with torch.enable_grad():
        leaves = [t if t.requires_grad else t.detach().requires_grad_(n)
                  for t, n in zip((x, weight, bias, h0), need)]
        y = reference(P, *leaves)
        wanted = [t for t, n in zip(leaves, need) if n]
        grads = iter(torch.autograd.grad(y, wanted, gy, create_graph=True, allow_unused=True))
    return [next(grads) if n else None for n in need]
