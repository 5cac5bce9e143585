"""The ``edgenet::dag_forward`` custom op: a whole DAG pass as one opaque node for autograd
and ``torch.compile``, with a hand-written backward (``edgenet::dag_backward``) and fake
(meta) implementations so ``torch.compile(model, fullgraph=True)`` traces it without
graph breaks. The ops take the :class:`~edgenet.model.tensors.Layout` flattened into its fields
(:meth:`~edgenet.model.tensors.Layout.flatten`) and the name of the registered backend
(:mod:`.backends`) that runs the pass.

Eager calls on ordinary tensors take a shorter road to the same backend functions: a
plain ``torch.autograd.Function`` (``_Eager``), because the custom op's dispatch costs
more than a small network's whole pass (a 200-edge NEAT-sized training step, batch 64:
see ``benchmarks/RESULTS.md``). Under ``torch.compile`` (and for fake or other tensor
subclasses) the custom op runs. Networks using a custom registered activation always run
the generation engine through ``_Eager`` (their derivative comes from autograd, which a
custom op's backward cannot call); ``torch.compile`` still works on them, with graph
breaks.

Under ``torch.export`` the pass is traced as :func:`edgenet.kernels.reference.forward`,
plain torch operators, instead of the custom op: the exported program then runs, saved
and loaded, where edgenet and numba are not installed (the custom op would tie it to
edgenet's kernels).

Second derivatives (``create_graph=True``: Hessians, Hessian-vector products, gradient
penalties) are exact: when autograd asks for a differentiable backward, the pass is
recomputed by :func:`edgenet.kernels.reference.forward`, a plain-torch form of the same
function, and differentiated by autograd. That path costs more time and memory (see
its docs) and runs only for higher-order derivatives.

A backward pass runs on the structure its forward pass walked, or not at all: a graph
recorded before :meth:`~edgenet.CompiledNetwork.rewire` (or an in-place edit of
``weight`` or ``bias``) is refused with :class:`~edgenet.EdgenetError` (:func:`stamp`,
:func:`check_unchanged`, used by the recurrent model's backward too; on the custom op's
path, torch's own in-place modification error), and the native kernels never see a
weight, bias or saved pass whose size is not the layout's (:func:`check_sizes`).

>>> import torch, edgenet as en
>>> net = en.Network(); net.add_input("x"); net.add_output("y"); net.add_edge("x", "y", weight=2.0)
>>> model = net.compile()
>>> x = torch.ones(3, 1, requires_grad=True)
>>> model(x).sum().backward()
>>> x.grad.flatten().tolist(), model.weight.grad.tolist()
([2.0, 2.0, 2.0], [3.0])
"""

from __future__ import annotations

import weakref
from typing import Any

import torch
from torch import Tensor

from ..errors import EdgenetError
from ..model.tensors import TENSOR_FIELDS, Layout
from . import backends, reference


@torch.library.custom_op("edgenet::dag_forward", mutates_args=())
def dag_forward(
    x: Tensor, weight: Tensor, bias: Tensor, layout: list[Tensor], sizes: list[int], acts: str,
    backend: str,
) -> tuple[Tensor, Tensor, Tensor]:
    """``(y[B, n_out], H[N, B], Z[N - n_in, B])`` of one forward pass."""
    L = Layout.unflatten(layout, sizes, acts)
    return backends.get(backend).forward(x, weight, bias, L)


@dag_forward.register_fake
def _(x, weight, bias, layout, sizes, acts, backend):
    B, n_in = x.shape
    N = n_in + bias.shape[0]
    n_out = layout[TENSOR_FIELDS.index("out_rows")].shape[0]
    return x.new_empty(B, n_out), x.new_empty(N, B), x.new_empty(N - n_in, B)


@torch.library.custom_op("edgenet::dag_backward", mutates_args=())
def dag_backward(
    grad_y: Tensor, weight: Tensor, H: Tensor, Z: Tensor, layout: list[Tensor], sizes: list[int],
    acts: str, backend: str, need_w: bool, need_x: bool,
) -> tuple[Tensor, Tensor, Tensor]:
    """``(dx[B, n_in], dweight[E], dbias[N - n_in])`` from ``dL/dy`` and the saved pass;
    ``dx`` is ``(0, n_in)`` without ``need_x``."""
    L = Layout.unflatten(layout, sizes, acts)
    check_sizes(L, weight, H=H, Z=Z)
    dx, dw, db, _ = backends.get(backend).backward(grad_y, weight, H, Z, L, need_w, need_x)
    return dx, dw, db


@dag_backward.register_fake
def _(grad_y, weight, H, Z, layout, sizes, acts, backend, need_w, need_x):
    n_in = H.shape[0] - Z.shape[0]
    dx = H.new_empty(grad_y.shape[0] if need_x else 0, n_in)
    return dx, weight.new_empty(weight.shape), Z.new_empty(Z.shape[0])


def _setup(ctx: Any, inputs: tuple, output: tuple) -> None:
    x, weight, bias, layout, sizes, acts, backend = inputs
    _, H, Z = output
    ctx.sizes, ctx.acts, ctx.backend, ctx.n_layout = sizes, acts, backend, len(layout)
    ctx.mark_non_differentiable(H, Z)
    # H and Z never receive gradients: without this, autograd would fill two (N, B)
    # buffers with zeros on every backward call only for them to be ignored.
    ctx.set_materialize_grads(False)
    ctx.save_for_backward(x, weight, bias, H, Z, *layout)


def _backward(ctx: Any, grad_y: Tensor, grad_H: Tensor | None, grad_Z: Tensor | None):
    x, weight, bias, H, Z, *layout = ctx.saved_tensors
    rest = ([None] * ctx.n_layout, None, None, None)  # the layout, sizes, acts, backend
    if grad_y is None:  # y has no gradient (grads are not materialised): nothing flows back
        return (None, None, None, *rest)
    need_x, need_w, need_b = ctx.needs_input_grad[:3]
    if torch.is_grad_enabled():  # create_graph=True: a differentiable backward
        L = Layout.unflatten(layout, ctx.sizes, ctx.acts)
        return (*reference.vjp(x, weight, bias, L, grad_y, (need_x, need_w, need_b)), *rest)
    dx, dw, db = dag_backward(grad_y, weight, H, Z, layout, ctx.sizes, ctx.acts, ctx.backend,
                              need_w, need_x)
    return (dx if need_x else None, dw if need_w else None, db if need_b else None, *rest)


dag_forward.register_autograd(_backward, setup_context=_setup)


class _Eager(torch.autograd.Function):
    """The same pass as ``edgenet::dag_forward`` as a plain autograd function, for eager
    calls: the custom op's dispatch (argument checks, pytree walks over the layout's
    tensors) costs more than a whole small network's pass, so outside ``torch.compile``
    and tensor subclasses the backend is called through this instead. It is also the only
    path for networks with custom activations, whose derivatives come from autograd,
    which a custom op's backward cannot call."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, weight: Tensor, bias: Tensor, L: Layout,
                backend: str) -> Tensor:
        y, H, Z = backends.get(backend).forward(x, weight, bias, L)
        ctx.layout, ctx.backend = L, backend
        ctx.stamp = stamp(weight=weight, bias=bias)
        ctx.save_for_backward(x, weight, bias, H, Z)
        return y

    @staticmethod
    def backward(ctx: Any, grad_y: Tensor):
        check_unchanged(ctx.stamp)
        x, weight, bias, H, Z = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        if torch.is_grad_enabled():  # create_graph=True: a differentiable backward
            return (*reference.vjp(x, weight, bias, ctx.layout, grad_y, (need_x, need_w, need_b)),
                    None, None)
        check_sizes(ctx.layout, weight, bias, H, Z)
        dx, dw, db, _ = backends.get(ctx.backend).backward(grad_y.contiguous(), weight, H, Z,
                                                           ctx.layout, need_w, need_x)
        return dx if need_x else None, dw if need_w else None, db if need_b else None, None, None


Stamp = dict[str, tuple["weakref.ref[Tensor]", int]]


def stamp(**params: Tensor) -> Stamp:
    """Each parameter a pass read, by name, with its version counter now: what
    :func:`check_unchanged` compares when the pass's backward runs. Held weakly, so a
    graph does not keep a parameter alive."""
    return {name: (weakref.ref(p), p._version) for name, p in params.items()}


def check_unchanged(stamped: Stamp) -> None:
    """Refuse a backward pass whose forward read a parameter that has changed since:
    :meth:`~edgenet.CompiledNetwork.rewire` swaps ``weight`` and ``bias`` for arrays of
    the new structure (and bumps their versions), so the graph describes a network that
    no longer exists; an in-place edit changes the values its gradients depend on.

    >>> w = torch.ones(2)
    >>> s = stamp(weight=w)
    >>> check_unchanged(s)
    >>> _ = w.mul_(2)
    >>> try:
    ...     check_unchanged(s)
    ... except EdgenetError as err:
    ...     print(str(err)[:54])
    the model's weight changed after the forward pass that
    """
    for name, (ref, version) in stamped.items():
        p = ref()
        if p is not None and p._version != version:
            raise EdgenetError(
                f"the model's {name} changed after the forward pass that recorded this graph "
                f"(version {version}, now {p._version}: model.rewire(...) or an in-place edit); "
                "the graph describes the network as it was, so its backward is refused. Run "
                "the forward pass again after changing the model, then backward"
            )


def check_sizes(L: Layout, weight: Tensor, bias: Tensor | None = None, H: Tensor | None = None,
                Z: Tensor | None = None) -> None:
    """Refuse to run a kernel on arrays that do not fit the layout ``L`` (``weight[E]``,
    ``bias[N - n_in]``, ``H[N, B]``, ``Z[N - n_in, B]``): the native kernels index them
    by the layout without bounds checks.

    >>> import networkx as nx, edgenet as en
    >>> model = en.compile(nx.DiGraph([("a", "y")]), seed=0)
    >>> check_sizes(model.layout, model.weight, model.bias)
    >>> try:
    ...     check_sizes(model.layout, torch.ones(3))
    ... except EdgenetError as err:
    ...     print(str(err)[:40])
    weight has 3 entries where the layout ha
    """
    n_rows = L.codes.shape[0]  # N - n_in
    if weight.shape[0] == L.col.shape[0] and (bias is None or bias.shape[0] == n_rows) and (
            H is None or H.shape[0] == L.n_in + n_rows) and (Z is None or Z.shape[0] == n_rows):
        return  # the common case, checked without building anything
    want = {"weight": (weight, L.n_edges), "bias": (bias, n_rows), "H": (H, L.n_nodes),
            "Z": (Z, n_rows)}
    for name, (t, n) in want.items():
        if t is not None and t.shape[0] != n:
            raise EdgenetError(
                f"{name} has {t.shape[0]} entries where the layout has {n} "
                f"({L.n_edges} edges, {L.n_nodes} nodes): it belongs to another structure, "
                "so the kernels do not run on it"
            )


def _plain(*tensors: Tensor) -> bool:
    """Whether these are ordinary tensors (not fake, functional or traced subclasses)."""
    return all(type(t) in (Tensor, torch.nn.Parameter) for t in tensors)


def dag(x: Tensor, weight: Tensor, bias: Tensor, L: Layout, backend: str) -> Tensor:
    """``(B, n_in) -> (B, n_out)`` through ``edgenet::dag_forward`` on ``backend``.

    >>> import torch, edgenet as en
    >>> net = en.Network(); net.add_input("x"); net.add_output("y", bias=1.0)
    >>> net.add_edge("x", "y", weight=2.0)
    >>> model = net.compile()
    >>> y = dag(torch.ones(2, 1), model.weight, model.bias, model.layout, "generations")
    >>> y.flatten().tolist()
    [3.0, 3.0]
    """
    # torch.export and torch.jit.trace record a program of torch operators only; under
    # dynamo (torch.compile, strict export) the custom op below is what it traces, whatever
    # those flags say there (some torch releases set them while dynamo traces)
    if (torch.compiler.is_exporting() or torch.jit.is_tracing()) \
            and not torch.compiler.is_dynamo_compiling():
        return reference.forward(x, weight, bias, L)  # (B, n_out)
    if not L.builtin and not backends.get(backend).builtin_only:
        return _Eager.apply(x, weight, bias, L, "generations")  # (B, n_out)
    if not torch.compiler.is_compiling() and _plain(x, weight, bias):
        return _Eager.apply(x, weight, bias, L, backend)  # (B, n_out)
    y, _, _ = dag_forward(x, weight, bias, *L.flatten(), backend)
    return y  # (B, n_out)
