"""The ``edgenet::dag_forward`` custom op: a whole DAG forward as one opaque node for
autograd and ``torch.compile``, with a hand-written backward (``edgenet::dag_backward``)
and fake (meta) implementations so ``torch.compile(model, fullgraph=True)`` traces it
without graph breaks. Networks using a custom registered activation run the same
generation engine through a plain ``torch.autograd.Function`` instead (their derivative
comes from autograd); ``torch.compile`` still works on them, with graph breaks.

>>> import torch, edgenet as en
>>> net = en.Network(); net.add_input("x"); net.add_output("y"); net.add_edge("x", "y", weight=2.0)
>>> model = net.compile()
>>> x = torch.ones(3, 1, requires_grad=True)
>>> model(x).sum().backward()
>>> x.grad.flatten().tolist(), model.weight.grad.tolist()
([2.0, 2.0, 2.0], [3.0])
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from . import fused, sparse
from .sparse import Layout

_STRUCTURE = ("crow", "col", "sources", "tcrow", "tcol", "perm", "dpos", "out_rows", "meta",
              "runs", "codes")


def _layout(structure: tuple[Tensor, ...], acts: str, engine: str) -> Layout:
    return Layout(**dict(zip(_STRUCTURE, structure, strict=True)), acts=acts, engine=engine)


@torch.library.custom_op("edgenet::dag_forward", mutates_args=())
def dag_forward(
    x: Tensor, weight: Tensor, bias: Tensor, crow: Tensor, col: Tensor, sources: Tensor,
    tcrow: Tensor, tcol: Tensor, perm: Tensor, dpos: Tensor, out_rows: Tensor, meta: Tensor,
    runs: Tensor, codes: Tensor, acts: str, engine: str,
) -> tuple[Tensor, Tensor, Tensor]:
    """``(y[B, n_out], H[N, B], Z[N - n_in, B])`` of one forward pass."""
    if engine == "fused":
        return fused.forward(x, weight, bias, crow, col, codes, out_rows, int(meta[5, 0]))
    L = _layout((crow, col, sources, tcrow, tcol, perm, dpos, out_rows, meta, runs, codes),
                acts, engine)
    return sparse.forward(x, weight, bias, L)


@dag_forward.register_fake
def _(x, weight, bias, crow, col, sources, tcrow, tcol, perm, dpos, out_rows, meta, runs,
      codes, acts, engine):
    B, n_in = x.shape
    N = n_in + bias.shape[0]
    return x.new_empty(B, out_rows.shape[0]), x.new_empty(N, B), x.new_empty(N - n_in, B)


@torch.library.custom_op("edgenet::dag_backward", mutates_args=())
def dag_backward(
    grad_y: Tensor, weight: Tensor, H: Tensor, Z: Tensor, crow: Tensor, col: Tensor,
    sources: Tensor, tcrow: Tensor, tcol: Tensor, perm: Tensor, dpos: Tensor, out_rows: Tensor,
    meta: Tensor, runs: Tensor, codes: Tensor, acts: str, engine: str, need_w: bool,
    need_x: bool,
) -> tuple[Tensor, Tensor, Tensor]:
    """``(dx[B, n_in], dweight[E], dbias[N - n_in])`` from ``dL/dy`` and the saved pass;
    ``dx`` is ``(0, n_in)`` without ``need_x``."""
    if engine == "fused":
        out_lo = int(meta[5, 0])
        return fused.backward(grad_y, weight, H, Z, crow, col, codes, out_rows, out_lo,
                              need_w, need_x)
    L = _layout((crow, col, sources, tcrow, tcol, perm, dpos, out_rows, meta, runs, codes),
                acts, engine)
    return sparse.backward(grad_y, weight, H, Z, L, need_w, need_x)


@dag_backward.register_fake
def _(grad_y, weight, H, Z, crow, col, sources, tcrow, tcol, perm, dpos, out_rows, meta, runs,
      codes, acts, engine, need_w, need_x):
    n_in = H.shape[0] - Z.shape[0]
    dx = H.new_empty(grad_y.shape[0] if need_x else 0, n_in)
    return dx, weight.new_empty(weight.shape), Z.new_empty(Z.shape[0])


def _setup(ctx: Any, inputs: tuple, output: tuple) -> None:
    _, weight, _, *structure = inputs
    *tensors, acts, engine = structure
    _, H, Z = output
    ctx.acts, ctx.engine = acts, engine
    ctx.mark_non_differentiable(H, Z)
    # H and Z never receive gradients: without this, autograd would fill two (N, B)
    # buffers with zeros on every backward call only for them to be ignored.
    ctx.set_materialize_grads(False)
    ctx.save_for_backward(weight, H, Z, *tensors)


def _backward(ctx: Any, grad_y: Tensor, grad_H: Tensor | None, grad_Z: Tensor | None):
    weight, H, Z, *tensors = ctx.saved_tensors
    if grad_y is None:  # y has no gradient (grads are not materialised): nothing flows back
        return (None,) * (len(tensors) + 5)
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    dx, dw, db = dag_backward(grad_y, weight, H, Z, *tensors, ctx.acts, ctx.engine, need_w,
                              need_x)
    rest = [None] * (len(tensors) + 2)
    return (dx if need_x else None, dw if need_w else None, db if need_b else None, *rest)


dag_forward.register_autograd(_backward, setup_context=_setup)


class _Generations(torch.autograd.Function):
    """The generation engine as a plain autograd function, for networks with custom
    activations: their derivatives come from autograd, which a custom op's backward
    cannot call."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor, bias: Tensor, L: Layout) -> Tensor:
        y, H, Z = sparse.forward(x, weight, bias, L)
        ctx.layout = L
        ctx.save_for_backward(weight, H, Z)
        return y

    @staticmethod
    def backward(ctx: Any, grad_y: Tensor):
        weight, H, Z = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        dx, dw, db = sparse.backward(grad_y, weight, H, Z, ctx.layout, need_w, need_x)
        return dx if need_x else None, dw if need_w else None, db if need_b else None, None


def dag(x: Tensor, weight: Tensor, bias: Tensor, L: Layout) -> Tensor:
    """``(B, n_in) -> (B, n_out)`` through ``edgenet::dag_forward``.

    >>> import torch, edgenet as en
    >>> net = en.Network(); net.add_input("x"); net.add_output("y", bias=1.0)
    >>> net.add_edge("x", "y", weight=2.0)
    >>> model = net.compile()
    >>> dag(torch.ones(2, 1), model.weight, model.bias, model.layout()).flatten().tolist()
    [3.0, 3.0]
    """
    if L.engine != "fused" and not sparse.builtin(L.acts):
        return _Generations.apply(x, weight, bias, L)  # (B, n_out)
    y, _, _ = dag_forward(x, weight, bias, *L.tensors(), L.acts, L.engine)
    return y  # (B, n_out)
