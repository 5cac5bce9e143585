r"""Deploying a trained network: a plain-torch module and an ONNX graph.

Two ways out of edgenet that need neither edgenet nor numba where the model runs:

- :func:`to_torch`: a ``torch.fx.GraphModule`` of standard torch operators with the model's
  ``weight`` and ``bias`` as Parameters (same names, order and values, so state dicts are
  interchangeable). ``torch.save`` pickles it together with its generated code, and
  ``torch.load(path, weights_only=False)`` loads it where only torch is installed. It trains
  (autograd through its operators gives the model's gradients) and runs in any floating
  dtype torch has kernels for, ``bfloat16`` and ``float16`` included.
- :func:`export_onnx`: an ONNX graph of standard operators with the weights baked in, for
  ONNX Runtime and other ONNX consumers.

(``torch.export.export(model, ...)`` on a compiled DAG model needs neither either: see
:func:`edgenet.kernels.ops.dag`.)

Both walk the same :func:`plan`. Node rows are the inputs, then the neurons by
(topological generation, activation). A DAG's activations are node-major chunks, the
inputs' ``(n_in, B)`` and one ``(n, B)`` per generation; a generation reads the
concatenation of the chunks holding its sources (:func:`chunk_rows`). Per generation
(for a recurrent model, per step over all edges), with ``n`` neurons, ``e`` incoming
edges and ``k`` distinct source rows, one of two forms computes the pre-activations
``Z[n, B] = b + W S[sources]``:

- dense, when ``n * k <= DENSE_RATIO * e``: the weights scattered into an ``(n, k)``
  block, a gather of the ``k`` source rows and one matrix product;
- sparse otherwise: a gather of each edge's source row, a product with its weight and a
  scatter-add (``index_add`` in chunks of :data:`CHUNK` edges / ONNX ``ScatterND`` with
  ``reduction="add"``) into the targets: ``(edges, B)`` messages.

Recurrent models (:class:`~edgenet.RecurrentNetwork`) export for a fixed number of steps
``steps``, time step ``dt`` and ``update`` rule (given when exporting), unrolled; their
input is ``(B, steps, n_in)`` and the initial state is zero.

>>> import torch, edgenet as en
>>> net = en.Network(); net.add_input("x"); net.add_neuron("h", activation="tanh")
>>> net.add_output("y"); net.add_edge("x", "h", weight=2.0); net.add_edge("h", "y", weight=0.5)
>>> model = net.compile()
>>> plain = en.to_torch(model)
>>> x = torch.tensor([[0.3], [-1.0]])
>>> torch.equal(plain(x), model(x)), [name for name, _ in plain.named_parameters()]
(True, ['weight', 'bias'])
"""

from __future__ import annotations

import os
from collections.abc import Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

import numpy as np
import torch
from torch import Tensor, nn

from ..activations import (
    BUILTIN,
    GAUSS_BOUND,
    LOG_FLOOR,
    SELU_ALPHA,
    SELU_LAMBDA,
    get_activation,
)
from ..errors import EdgenetError
from .atomic import atomic_write

if TYPE_CHECKING:
    from ..model.dag import CompiledNetwork
    from ..model.recurrent import RecurrentNetwork

#: What the exporters take: a compiled DAG or recurrent model.
Model = Union["CompiledNetwork", "RecurrentNetwork"]

#: Per generation, the dense form runs when its ``(neurons, distinct sources)`` block has at
#: most this many entries per edge; the sparse (gather, scatter-add) form runs otherwise.
DENSE_RATIO = 16

#: The plain-torch sparse form gathers at most this many edges' messages at once
#: (``(CHUNK, B)``): one ``(e, B)`` tensor costs more in fresh pages than in arithmetic.
CHUNK = 4096

#: ONNX opsets :func:`export_onnx` writes: 16 (the first with ``ScatterND``'s
#: ``reduction="add"``) and later.
OPSETS = range(16, 22)


class ExportError(EdgenetError):
    """A model cannot be exported as asked: an activation the target format cannot express,
    a missing optional package, or an argument out of range. ``message`` says which;
    ``node`` and ``activation`` name the neuron at fault where there is one. Nothing is
    written.

    >>> import edgenet as en
    >>> issubclass(en.ExportError, en.EdgenetError)
    True
    """

    def __init__(self, message: str, node: Hashable | None = None,
                 activation: str | None = None):
        super().__init__(message)
        self.node = node
        self.activation = activation


# --------------------------------------------------------------------------------------------
# The plan: read from the models' public structure (inputs, outputs, neurons, edges,
# activations, weight, bias, leak), never from their private layout.


@dataclass(frozen=True)
class Block:
    """One generation (DAG) or the whole step (recurrent): ``n`` target rows and the edges
    into them.

    ``neurons[i]`` is the :attr:`bias` index of target ``i``; ``runs`` lists ``(first, end,
    activation)`` over targets; ``edges[j]`` is the weight index of edge ``j``, ``src[j]``
    its source row, ``dst[j]`` its target (``0 .. n - 1``); ``sources`` the distinct source
    rows and ``local[j]`` the position of ``src[j]`` among them; ``dense`` the form.
    """

    first: int
    neurons: np.ndarray
    runs: list[tuple[int, int, str]]
    edges: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    sources: np.ndarray
    local: np.ndarray
    dense: bool

    @property
    def n(self) -> int:
        return len(self.neurons)


@dataclass(frozen=True)
class Plan:
    """What both exporters walk: ``blocks`` (generations in order for a DAG, one block over
    all neurons for a recurrent model), the rows ``out`` of the outputs, node names, and
    for a recurrent model the steps and each neuron's leak per step ``a`` (in :attr:`bias`
    order: ``h <- h + a (act(z) - h)``)."""

    n_in: int
    n_nodes: int
    blocks: list[Block]
    out: np.ndarray
    inputs: list[Hashable]
    outputs: list[Hashable]
    neuron_names: list[Hashable]
    steps: int | None = None
    leak: np.ndarray | None = None


def _kind(kernel: str, n: int, k: int, e: int) -> bool:
    if kernel == "dense":
        return e > 0
    if kernel == "sparse":
        return False
    return e > 0 and n * k <= DENSE_RATIO * e


def _block(first: int, neurons: np.ndarray, acts: list[str], edges: np.ndarray, src: np.ndarray,
           dst: np.ndarray, kernel: str) -> Block:
    """A block whose targets are ``neurons`` in order (grouped by activation already)."""
    runs: list[tuple[int, int, str]] = []
    for i, a in enumerate(acts):
        if runs and runs[-1][2] == a:
            runs[-1] = (runs[-1][0], i + 1, a)
        else:
            runs.append((i, i + 1, a))
    sources, local = np.unique(src, return_inverse=True)
    dense = _kind(kernel, len(neurons), len(sources), len(edges))
    return Block(first, neurons, runs, edges, src, dst, sources.astype(np.int64),
                 local.reshape(-1).astype(np.int64), dense)


def _model_kind(model: Any) -> str:
    """``"recurrent"`` for a model that runs over time (it has a per-step ``leak``), else
    ``"dag"``; an :class:`ExportError` for anything but a compiled model."""
    from ..model.base import is_model

    if not is_model(model):
        raise ExportError(
            f"expected a compiled edgenet model (edgenet.compile's CompiledNetwork or "
            f"RecurrentNetwork), got {type(model).__name__}"
        )
    return "recurrent" if callable(getattr(model, "leak", None)) else "dag"


def _edge_arrays(model: Model, index: dict[Hashable, int]) -> tuple[np.ndarray, np.ndarray]:
    edges = model.edges
    src = np.fromiter((index[u] for u, _ in edges), np.int64, len(edges))
    dst = np.fromiter((index[v] for _, v in edges), np.int64, len(edges))
    return src, dst


def plan(model: Model, *, steps: int | None = None, dt: float = 1.0, update: str = "euler",
         kernel: str = "auto") -> Plan:
    """The export plan of a compiled model (see the module docstring).

    ``kernel`` forces every block's form (``"dense"`` or ``"sparse"``; ``"auto"`` chooses by
    :data:`DENSE_RATIO`). ``steps`` (required), ``dt`` and ``update`` are for recurrent
    models (see :meth:`edgenet.RecurrentNetwork.leak`).

    >>> import networkx as nx, edgenet as en
    >>> from edgenet.io.export import plan
    >>> p = plan(en.compile(nx.DiGraph([("a", "h"), ("h", "y"), ("a", "y")]), seed=0))
    >>> [(b.first, b.n, len(b.edges), b.dense) for b in p.blocks]
    [(1, 1, 1, True), (2, 1, 2, True)]
    """
    what = _model_kind(model)
    if kernel not in ("auto", "dense", "sparse"):
        raise ExportError(f"kernel must be 'auto', 'dense' or 'sparse' (got {kernel!r})")
    inputs, outputs, neurons = list(model.inputs), list(model.outputs), list(model.neurons)
    acts = list(model.activations)
    n_in, M = len(inputs), len(neurons)
    index = {n: i for i, n in enumerate([*inputs, *neurons])}  # node -> position (bias order)
    src, dst = _edge_arrays(model, index)
    if what == "recurrent":
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ExportError(
                f"steps is {steps!r}; exporting a recurrent model needs a fixed whole number "
                "of steps >= 1 (steps=T)"
            )
        leak = model.leak(dt, update)  # type: ignore[operator]  # (M,), checked there
        order = np.array(sorted(range(M), key=lambda i: acts[i]), dtype=np.int64)
        row = np.empty(n_in + M, dtype=np.int64)  # position -> row of the state
        row[:n_in] = np.arange(n_in)
        row[n_in + order] = n_in + np.arange(M)
        by_target = np.lexsort((row[src], row[dst]))
        block = _block(n_in, order, [acts[i] for i in order], by_target, row[src][by_target],
                       row[dst][by_target] - n_in, kernel)
        out = np.array([row[index[o]] - n_in for o in outputs], dtype=np.int64)  # rows of h
        return Plan(n_in, n_in + M, [block], out, inputs, outputs, neurons, steps, leak)
    if steps is not None:
        raise ExportError(f"steps={steps!r} is for recurrent models; a DAG model takes none")
    from ..model.tensors import levels

    level = levels(n_in + M, src, dst, lambda i: [*inputs, *neurons][i])[n_in:]  # (M,)
    _, act_id = np.unique(np.array(acts, dtype=str), return_inverse=True) if M else (
        np.array([], dtype=str), np.zeros(0, dtype=np.int64))
    order = np.lexsort((np.arange(M), act_id.reshape(-1), level))  # rows -> neuron index
    row = np.empty(n_in + M, dtype=np.int64)
    row[:n_in] = np.arange(n_in)
    row[n_in + order] = n_in + np.arange(M)
    erow_src, erow_dst = row[src], row[dst]
    by_target = np.lexsort((erow_src, erow_dst))  # edges by target row, then source row
    row_level = level[order]
    starts = np.flatnonzero(np.diff(row_level, prepend=-1)) if M else np.zeros(0, np.int64)
    bounds = np.append(starts, M) + n_in  # rows of each generation
    edge_bounds = np.searchsorted(erow_dst[by_target], bounds)
    blocks = []
    for g in range(len(starts)):
        r0, r1 = int(bounds[g]), int(bounds[g + 1])
        e = by_target[edge_bounds[g]:edge_bounds[g + 1]]
        neurons_g = order[r0 - n_in:r1 - n_in]
        blocks.append(_block(r0, neurons_g, [acts[i] for i in neurons_g], e, erow_src[e],
                             erow_dst[e] - r0, kernel))
    out = np.array([row[index[o]] for o in outputs], dtype=np.int64)
    return Plan(n_in, n_in + M, blocks, out, inputs, outputs, neurons)


# --------------------------------------------------------------------------------------------
# Plain torch: a builder module traced by torch.fx into a GraphModule of torch operators.


def _neuron_name(p: Plan, b: Block, run: tuple[int, int, str]) -> Hashable:
    return p.neuron_names[int(b.neurons[run[0]])]


def chunk_rows(starts: list[int], need: np.ndarray, n_nodes: int) -> tuple[list[int], np.ndarray]:
    """Node rows live in chunks (the inputs, then one per generation) starting at rows
    ``starts``. Returns the chunks holding rows ``need``, in order, and ``rows``: where each
    node row lies in their concatenation (``-1`` for rows outside it).

    >>> used, rows = chunk_rows([0, 2, 5], np.array([0, 6]), 8)
    >>> used, rows.tolist()
    ([0, 2], [0, 1, -1, -1, -1, 2, 3, 4])
    """
    bounds = np.append(starts, n_nodes)
    used = np.unique(np.searchsorted(bounds, need, side="right") - 1).tolist()
    rows = np.full(n_nodes, -1, dtype=np.int64)
    offset = 0
    for c in used:
        size = int(bounds[c + 1] - bounds[c])
        rows[bounds[c]:bounds[c + 1]] = np.arange(offset, offset + size)
        offset += size
    return used, rows


class _Builder(nn.Module):
    """The module :func:`to_torch` traces; its Python loops unroll into the traced graph."""

    def __init__(self, p: Plan, weight: Tensor, bias: Tensor):
        super().__init__()
        self.p = p
        self.weight = nn.Parameter(weight.detach().clone())
        self.bias = nn.Parameter(bias.detach().clone())
        dev = weight.device
        arrays: list[np.ndarray] = []
        #: Per block, the span of each of its index arrays in the one buffer ``index``.
        self.spans: list[dict[str, tuple[int, int]]] = []

        def put(a: np.ndarray) -> tuple[int, int]:
            start = sum(map(len, arrays))
            arrays.append(np.asarray(a, dtype=np.int64))
            return start, start + len(a)

        #: DAG: per block, the chunks (earlier generations' activations) it reads.
        self.used: list[list[int]] = []
        starts = [0] + [b.first for b in p.blocks]  # first node row of each chunk
        rows = None
        for i, b in enumerate(p.blocks):
            spans = {"neurons": put(b.neurons), "edges": put(b.edges)}
            if p.steps is None:
                used, rows = chunk_rows(starts[:i + 1], b.sources, p.n_nodes)
                self.used.append(used)
            if b.dense:
                spans["sources"] = put(b.sources if rows is None else rows[b.sources])
                spans["pos"] = put(b.dst * len(b.sources) + b.local)
            else:
                spans["src"] = put(b.src if rows is None else rows[b.src])
                spans["dst"] = put(b.dst)
            self.spans.append(spans)
        if p.steps is None:
            self.out_used, rows = chunk_rows(starts, p.out, p.n_nodes)
            self.out_span = put(rows[p.out])
        else:
            self.out_span = put(p.out)
        # One index buffer, sliced per use: tracing looks each tensor up among the buffers.
        self.register_buffer("index", torch.as_tensor(np.concatenate(arrays)).to(dev))
        if p.leak is not None:
            self.register_buffer("leak", torch.as_tensor(p.leak[p.blocks[0].neurons])
                                 .to(dev, weight.dtype)[:, None])  # (M, 1)

    def ix(self, span: tuple[int, int]) -> Tensor:
        """The index array at ``span`` of the index buffer."""
        return self.get_buffer("index")[span[0]:span[1]]

    def z(self, i: int, S: Tensor, B: Any) -> Tensor:
        """Pre-activations ``(n, B)`` of block ``i`` from the node-major buffer ``S``."""
        b, spans = self.p.blocks[i], self.spans[i]
        bias = self.bias.index_select(0, self.ix(spans["neurons"]))[:, None]  # (n, 1)
        if not len(b.edges):
            return bias.expand(b.n, B)
        w = self.weight.index_select(0, self.ix(spans["edges"]))  # (e,)
        if b.dense:
            k = len(b.sources)
            block = w.new_zeros(b.n * k).scatter(0, self.ix(spans["pos"]), w).view(b.n, k)
            return torch.addmm(bias, block, S.index_select(0, self.ix(spans["sources"])))
        z = bias + S.new_zeros(b.n, B)  # (n, B)
        src, dst = self.ix(spans["src"]), self.ix(spans["dst"])
        for c in range(0, len(b.edges), CHUNK):  # messages in chunks: fresh memory is slow
            msg = S.index_select(0, src[c:c + CHUNK]) * w[c:c + CHUNK, None]  # (chunk, B)
            z = z.index_add(0, dst[c:c + CHUNK], msg)  # (n, B)
        return z

    def act(self, i: int, z: Tensor) -> list[Tensor]:
        """Activations of block ``i``, one ``(run, B)`` tensor per activation run."""
        b = self.p.blocks[i]
        return [_activation(self.p, b, run)(z[run[0]:run[1]]) for run in b.runs]

    def forward(self, x: Tensor) -> Tensor:
        p = self.p
        if p.steps is None:  # a DAG: x (B, n_in)
            B = x.shape[0]
            chunks = [x.T]  # (n_in, B), then each generation's (n, B)

            def read(used: list[int]) -> Tensor:  # the chunks a generation reads, as one
                return chunks[used[0]] if len(used) == 1 else torch.cat(
                    [chunks[c] for c in used])  # (rows, B)

            for i, b in enumerate(p.blocks):
                z = self.z(i, read(self.used[i]) if len(b.edges) else x, B)  # (n, B)
                parts = self.act(i, z)
                chunks.append(parts[0] if len(parts) == 1 else torch.cat(parts))  # (n, B)
            return read(self.out_used).index_select(0, self.ix(self.out_span)).T  # (B, n_out)
        B = x.shape[0]  # a recurrent model: x (B, T, n_in)
        h = x.new_zeros(p.n_nodes - p.n_in, B)  # (M, B)
        ys = []
        leaky = p.leak is not None and bool((p.leak != 1).any())
        for t in range(p.steps):
            S = torch.cat([x[:, t].T, h])  # (N, B)
            f = torch.cat(self.act(0, self.z(0, S, B)))  # (M, B)
            h = h + self.get_buffer("leak") * (f - h) if leaky else f  # (M, B)
            ys.append(h.index_select(0, self.ix(self.out_span)).T)  # (B, n_out)
        return torch.stack(ys, 1)  # (B, T, n_out)


def _activation(p: Plan, b: Block, run: tuple[int, int, str]) -> Any:
    name = run[2]
    return BUILTIN[name].forward if name in BUILTIN else get_activation(name)


def to_torch(model: Model, *, steps: int | None = None, dt: float = 1.0,
             update: str = "euler", kernel: str = "auto") -> torch.fx.GraphModule:
    """A plain ``torch.nn.Module`` computing ``model``'s function with torch operators only.

    The result is a ``torch.fx.GraphModule`` with Parameters ``weight`` and ``bias`` (copies
    of the model's, in the same order: ``plain.load_state_dict(model.state_dict())`` works)
    and index buffers. It can be pickled or ``torch.save``\\ d, and loaded with
    ``torch.load(path, weights_only=False)`` where edgenet is not installed; it trains to the
    model's gradients, runs on any device and in any floating dtype torch supports there
    (``.to(torch.bfloat16)``), and ``torch.export.export`` and ``torch.compile`` take it.

    A DAG model's form takes ``x`` of shape ``(B, n_in)`` and returns ``(B, n_out)``; a
    recurrent model's takes ``(B, steps, n_in)`` and returns ``(B, steps, n_out)`` from a zero
    initial state, for the ``steps``, ``dt`` and ``update`` given here. Activations are
    traced: a custom registered activation is kept if ``torch.fx`` can trace it (torch
    operations only), and an :class:`ExportError` naming the neuron says when it cannot.
    ``kernel`` forces the dense or sparse form of every generation (see
    :mod:`edgenet.io.export`).

    >>> import io, torch, networkx as nx, edgenet as en
    >>> model = en.compile(nx.DiGraph([("a", "h"), ("b", "h"), ("h", "y")]), seed=0)
    >>> buffer = io.BytesIO(); torch.save(en.to_torch(model), buffer); _ = buffer.seek(0)
    >>> plain = torch.load(buffer, weights_only=False)
    >>> x = torch.randn(5, 2)
    >>> torch.allclose(plain(x), model(x))
    True
    """
    p = plan(model, steps=steps, dt=dt, update=update, kernel=kernel)
    builder = _Builder(p, model.weight, model.bias)
    try:
        graph = torch.fx.Tracer().trace(builder)
    except Exception as err:
        for b in p.blocks:
            for run in b.runs:
                if run[2] not in BUILTIN:
                    name = _neuron_name(p, b, run)
                    raise ExportError(
                        f"neuron {name!r}: custom activation {run[2]!r} cannot be traced by "
                        f"torch.fx ({type(err).__name__}: {err}); write it with torch "
                        "operations only (no .item(), numpy or data-dependent Python "
                        "branches)", node=name, activation=run[2]) from err
        raise
    for node in graph.nodes:  # no annotations: the pickled code imports torch alone
        node.type = None
    kind = "DAG" if p.steps is None else "Recurrent"
    gm = torch.fx.GraphModule(builder, graph, class_name=f"Plain{kind}Network")
    for name in ("weight", "bias"):  # both, in this order, even where the graph uses neither
        gm._parameters.pop(name, None)
    gm.weight, gm.bias = builder.weight, builder.bias
    for name, index in list(gm.named_buffers()):  # the state dict is the model's: weight, bias
        if index.dtype == torch.int64:
            gm.register_buffer(name, index, persistent=False)
    gm.inputs = [_portable(n) for n in p.inputs]  # type: ignore[assignment]
    gm.outputs = [_portable(n) for n in p.outputs]  # type: ignore[assignment]
    return gm


def _portable(name: Hashable) -> Any:
    """A node name that unpickles without its package: ints and strings as they are."""
    return name if isinstance(name, (int, str)) and not isinstance(name, bool) else repr(name)


# --------------------------------------------------------------------------------------------
# ONNX: a graph of standard operators built node by node.

_ONNX_UNARY = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh", "sin": "Sin", "abs": "Abs",
               "exp": "Exp"}


class _Graph:
    """Nodes and initializers of an ONNX graph under construction, with fresh names."""

    def __init__(self, dtype: torch.dtype):
        import onnx
        from onnx import helper, numpy_helper

        self.onnx, self.helper, self.numpy_helper = onnx, helper, numpy_helper
        self.np_dtype = {torch.float32: np.float32, torch.float64: np.float64,
                         torch.float16: np.float16}[dtype]
        self.elem = {torch.float32: onnx.TensorProto.FLOAT,
                     torch.float64: onnx.TensorProto.DOUBLE,
                     torch.float16: onnx.TensorProto.FLOAT16}[dtype]
        self.nodes: list[Any] = []
        self.inits: list[Any] = []
        self.count = 0

    def fresh(self, stem: str) -> str:
        self.count += 1
        return f"{stem}_{self.count}"

    def const(self, stem: str, a: np.ndarray, float_: bool = True) -> str:
        name = self.fresh(stem)
        a = np.array(a, dtype=self.np_dtype if float_ else np.int64, order="C")  # 0-d stays 0-d
        self.inits.append(self.numpy_helper.from_array(a, name))
        return name

    def op(self, kind: str, *inputs: str, stem: str | None = None, **attrs: Any) -> str:
        out = self.fresh(stem or kind.lower())
        self.nodes.append(self.helper.make_node(kind, list(inputs), [out], **attrs))
        return out


def _onnx_activation(g: _Graph, name: str, z: str, node: Hashable) -> str:
    if name == "identity":
        return z
    if name in _ONNX_UNARY:
        return g.op(_ONNX_UNARY[name], z)
    if name in ("softplus", "softsign") and g.np_dtype != np.float64:
        return g.op(name.capitalize(), z)
    if name == "leaky_relu":
        return g.op("LeakyRelu", z, alpha=0.01)
    if name == "elu" and g.np_dtype != np.float64:
        return g.op("Elu", z, alpha=1.0)
    if name == "elu":  # ONNX Runtime has no double Elu
        exp = g.op("Sub", g.op("Exp", z), g.const("one", np.array(1.0)))
        return g.op("Where", g.op("Greater", z, g.const("zero", np.array(0.0))), z, exp)
    if name == "softplus" and g.np_dtype == np.float64:  # nor Softplus: torch's form
        soft = g.op("Log", g.op("Add", g.op("Exp", z), g.const("one", np.array(1.0))))
        return g.op("Where", g.op("Greater", z, g.const("twenty", np.array(20.0))), z, soft)
    if name == "softsign" and g.np_dtype == np.float64:  # nor a double Softsign
        return g.op("Div", z, g.op("Add", g.op("Abs", z), g.const("one", np.array(1.0))))
    if name == "square":
        return g.op("Mul", z, z)
    if name == "silu" and g.np_dtype == np.float64:
        # z / (1 + e^-z): ONNX Runtime fuses z * Sigmoid(z) into QuickGelu, which has no
        # double kernel (1.30 refuses the session)
        denom = g.op("Add", g.op("Exp", g.op("Neg", z)), g.const("one", np.array(1.0)))
        return g.op("Div", z, denom)
    if name == "silu":
        return g.op("Mul", z, g.op("Sigmoid", z))
    if name == "gelu":  # exact: z (1 + erf(z / sqrt 2)) / 2
        erf = g.op("Erf", g.op("Mul", z, g.const("rsqrt2", np.array(0.5 ** 0.5))))
        half = g.op("Mul", z, g.const("half", np.array(0.5)))
        return g.op("Add", half, g.op("Mul", half, erf))
    if name.startswith("neat_"):
        return _onnx_neat(g, name, z)
    raise ExportError(
        f"neuron {node!r} uses the custom activation {name!r}, which ONNX export cannot "
        f"express; ONNX export takes the built-in activations ({', '.join(BUILTIN)}). Use "
        "en.to_torch(model) for a plain-torch form that keeps it",
        node=node, activation=name)


def _onnx_neat(g: _Graph, name: str, z: str) -> str:
    """neat-python's functions (:mod:`edgenet.activations`) from standard operators that
    ONNX Runtime runs in float32 and float64 (Min and Max for clamps: no double Clip)."""
    def c(value: float) -> str:
        return g.const("c", np.array(value))

    def clamp(v: str, lo: float, hi: float) -> str:
        return g.op("Min", g.op("Max", v, c(lo)), c(hi))

    def scaled(k: float) -> str:
        return clamp(g.op("Mul", z, c(k)), -60.0, 60.0)

    if name == "neat_sigmoid":
        return g.op("Sigmoid", scaled(5.0))
    if name == "neat_tanh":
        return g.op("Tanh", scaled(2.5))
    if name == "neat_sin":
        return g.op("Sin", scaled(5.0))
    if name == "neat_gauss":
        v = clamp(z, -GAUSS_BOUND, GAUSS_BOUND)
        return g.op("Exp", g.op("Mul", g.op("Mul", v, v), c(-5.0)))
    if name == "neat_lelu":
        return g.op("Where", g.op("Greater", z, c(0.0)), z, g.op("Mul", z, c(0.005)))
    if name == "neat_selu":
        lam, alpha = SELU_LAMBDA, SELU_ALPHA
        neg = g.op("Mul", g.op("Sub", g.op("Exp", g.op("Min", z, c(0.0))), c(1.0)),
                   c(lam * alpha))
        return g.op("Where", g.op("Greater", z, c(0.0)), g.op("Mul", z, c(lam)), neg)
    if name == "neat_softplus":  # 0.2 (max(s, 0) + log(1 + e^-|s|))
        s = scaled(5.0)
        tail = g.op("Log", g.op("Add", g.op("Exp", g.op("Neg", g.op("Abs", s))), c(1.0)))
        return g.op("Mul", g.op("Add", g.op("Max", s, c(0.0)), tail), c(0.2))
    if name == "neat_clamped":
        return clamp(z, -1.0, 1.0)
    if name == "neat_inv":
        zero = g.op("Equal", z, c(0.0))
        safe = g.op("Where", zero, c(1.0), z)
        return g.op("Where", zero, c(0.0), g.op("Div", c(1.0), safe))
    if name == "neat_log":
        return g.op("Log", g.op("Max", z, c(LOG_FLOOR)))
    if name == "neat_exp":
        return g.op("Exp", clamp(z, -60.0, 60.0))
    if name == "neat_hat":
        return g.op("Max", g.op("Sub", c(1.0), g.op("Abs", z)), c(0.0))
    if name == "neat_cube":
        return g.op("Mul", g.op("Mul", z, z), z)
    raise AssertionError(name)  # every neat_ built-in is above


def _onnx_z(g: _Graph, b: Block, S: str, weight: np.ndarray, bias: np.ndarray,
            zeros_like: str, rows: np.ndarray | None = None) -> str:
    """Pre-activations ``(n, B)`` of block ``b`` from the node-major state ``S``, whose
    row ``rows[r]`` holds node row ``r`` (``S``'s rows are the node rows without
    ``rows``); ``zeros_like`` is the batch size as a 1-element shape (``[B]``)."""
    bcol = g.const("bias", bias[b.neurons][:, None])  # (n, 1)
    if not len(b.edges):
        return g.op("Expand", bcol, g.op("Concat", g.const("n", np.array([b.n]), False),
                                          zeros_like, axis=0))
    w = weight[b.edges]
    if b.dense:
        k = len(b.sources)
        block = np.zeros(b.n * k, dtype=np.float64)
        block[b.dst * k + b.local] = w
        sources = b.sources if rows is None else rows[b.sources]
        hs = g.op("Gather", S, g.const("sources", sources, False), axis=0)  # (k, B)
        return g.op("Add", g.op("MatMul", g.const("w", block.reshape(b.n, k)), hs), bcol)
    src = b.src if rows is None else rows[b.src]
    msg = g.op("Mul", g.op("Gather", S, g.const("src", src, False), axis=0),
               g.const("w", w[:, None]))  # (e, B)
    data = g.op("Expand", bcol, g.op("Concat", g.const("n", np.array([b.n]), False),
                                     zeros_like, axis=0))  # (n, B)
    dst = g.const("dst", b.dst[:, None], False)
    if g.np_dtype != np.float16:
        return g.op("ScatterND", data, dst, msg, reduction="add")
    # ONNX Runtime's CPU ScatterND cannot add float16: sum in float32 (more accurate too).
    single = g.onnx.TensorProto.FLOAT
    z = g.op("ScatterND", g.op("Cast", data, to=single), dst, g.op("Cast", msg, to=single),
             reduction="add")
    return g.op("Cast", z, to=g.elem)


def _onnx_rows(g: _Graph, chunks: list[str], starts: list[int], need: np.ndarray,
               n_nodes: int) -> tuple[str, np.ndarray]:
    """The chunks holding node rows ``need``, concatenated, and :func:`chunk_rows`' map."""
    used, rows = chunk_rows(starts, need, n_nodes)
    if len(used) == 1:
        return chunks[used[0]], rows
    return g.op("Concat", *[chunks[c] for c in used], axis=0), rows


def _onnx_act(g: _Graph, p: Plan, b: Block, z: str) -> list[str]:
    parts = []
    for run in b.runs:
        zr = z if len(b.runs) == 1 else g.op(
            "Slice", z, g.const("r0", np.array([run[0]]), False),
            g.const("r1", np.array([run[1]]), False), g.const("axis", np.array([0]), False))
        parts.append(_onnx_activation(g, run[2], zr, _neuron_name(p, b, run)))
    return parts


def onnx_model(model: Model, *, batch: str | int = "dynamic", opset: int = 17,
               steps: int | None = None, dt: float = 1.0, update: str = "euler",
               dtype: torch.dtype | None = None, kernel: str = "auto") -> Any:
    """The ``onnx.ModelProto`` :func:`export_onnx` writes (arguments as there).

    >>> import importlib.util, networkx as nx, edgenet as en
    >>> from edgenet.io.export import onnx_model
    >>> model = en.compile(nx.DiGraph([("a", "y"), ("b", "y")]), seed=0)
    >>> if importlib.util.find_spec("onnx"):  # the optional onnx package
    ...     proto = onnx_model(model)
    ...     shape = proto.graph.input[0].type.tensor_type.shape
    ...     print([d.dim_param or d.dim_value for d in shape.dim])
    ... else:
    ...     print(['batch', 2])
    ['batch', 2]
    """
    try:
        import onnx
        from onnx import helper
    except ImportError:
        raise ExportError(
            "ONNX export needs the onnx package: pip install 'edgenet[onnx]'") from None
    if isinstance(opset, bool) or not isinstance(opset, int) or opset not in OPSETS:
        raise ExportError(f"opset is {opset!r}; expected one of {OPSETS.start} to "
                          f"{OPSETS.stop - 1}")
    if not (batch == "dynamic" or (isinstance(batch, int) and not isinstance(batch, bool)
                                   and batch >= 1)):
        raise ExportError(f"batch is {batch!r}; expected 'dynamic' or a whole number >= 1")
    dtype = model.weight.dtype if dtype is None else dtype
    if not isinstance(dtype, torch.dtype) or dtype not in (torch.float32, torch.float64,
                                                           torch.float16):
        raise ExportError(f"dtype is {dtype!r}; ONNX export writes torch.float32, torch.float64 "
                          "or torch.float16")
    p = plan(model, steps=steps, dt=dt, update=update, kernel=kernel)
    for b in p.blocks:  # refuse custom activations before building anything
        for run in b.runs:
            if run[2] not in BUILTIN:
                _onnx_activation(_Graph(dtype), run[2], "z", _neuron_name(p, b, run))
    weight = model.weight.detach().cpu().double().numpy()
    bias = model.bias.detach().cpu().double().numpy()
    g = _Graph(dtype)
    B = g.op("Slice", g.op("Shape", "x"), g.const("zero", np.array([0]), False),
             g.const("one", np.array([1]), False), stem="batch")  # [B]
    if p.steps is None:
        # Each generation's activations stay their own tensor (a chunk); a generation reads
        # the concatenation of only the chunks its sources lie in.
        chunks = [g.op("Transpose", "x", perm=[1, 0])]  # (n_in, B), then (n, B) each
        starts = [0]  # first node row of each chunk
        for b in p.blocks:
            S, rows = _onnx_rows(g, chunks, starts, b.sources, p.n_nodes) if len(b.edges) else (
                "", None)
            parts = _onnx_act(g, p, b, _onnx_z(g, b, S, weight, bias, B, rows))
            chunks.append(parts[0] if len(parts) == 1 else g.op("Concat", *parts, axis=0))
            starts.append(b.first)
        S, rows = _onnx_rows(g, chunks, starts, p.out, p.n_nodes)
        y = g.op("Gather", S, g.const("out", rows[p.out], False), axis=0)  # (n_out, B)
        g.nodes.append(helper.make_node("Transpose", [y], ["y"], perm=[1, 0]))
        x_shape: list[Any] = [batch if batch != "dynamic" else "batch", p.n_in]
        y_shape: list[Any] = [x_shape[0], len(p.outputs)]
    else:
        b = p.blocks[0]
        M = b.n
        assert p.leak is not None
        leak = p.leak[b.neurons]
        h = g.op("Expand", g.const("zero", np.zeros((M, 1))), g.op(
            "Concat", g.const("M", np.array([M]), False), B, axis=0))  # (M, B)
        leak_c = g.const("leak", leak[:, None]) if (leak != 1).any() else None
        out = g.const("out", p.out, False)
        ys = []
        for t in range(p.steps):
            xt = g.op("Gather", "x", g.const("t", np.array(t), False), axis=1)  # (B, n_in)
            S = g.op("Concat", g.op("Transpose", xt, perm=[1, 0]), h, axis=0)  # (N, B)
            parts = _onnx_act(g, p, b, _onnx_z(g, b, S, weight, bias, B))
            f = parts[0] if len(parts) == 1 else g.op("Concat", *parts, axis=0)  # (M, B)
            h = f if leak_c is None else g.op("Add", h, g.op("Mul", leak_c, g.op("Sub", f, h)))
            ys.append(g.op("Unsqueeze", g.op("Transpose", g.op("Gather", h, out, axis=0),
                                              perm=[1, 0]), g.const("ax", np.array([1]), False)))
        g.nodes.append(helper.make_node("Concat", ys, ["y"], axis=1))  # (B, T, n_out)
        x_shape = [batch if batch != "dynamic" else "batch", p.steps, p.n_in]
        y_shape = [x_shape[0], p.steps, len(p.outputs)]
    graph = helper.make_graph(
        g.nodes, f"edgenet_{'dag' if p.steps is None else 'recurrent'}",
        [helper.make_tensor_value_info("x", g.elem, x_shape)],
        [helper.make_tensor_value_info("y", g.elem, y_shape)], g.inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="edgenet")
    proto.ir_version = min(proto.ir_version, 10)  # readable by ONNX Runtime releases since 1.20
    helper.set_model_props(proto, {"inputs": repr(p.inputs), "outputs": repr(p.outputs)})
    if proto.ByteSize() < 2**31:
        onnx.checker.check_model(proto)
    return proto


def export_onnx(model: Model, path: str | os.PathLike[str], *, batch: str | int = "dynamic",
                opset: int = 17, steps: int | None = None, dt: float = 1.0,
                update: str = "euler", dtype: torch.dtype | None = None,
                kernel: str = "auto") -> None:
    """Write ``model`` as an ONNX graph of standard operators to ``path``, atomically.

    The graph's input ``x`` is ``(batch, n_in)`` (DAG) or ``(batch, steps, n_in)``
    (recurrent, from a zero state, for the ``steps``, ``dt`` and ``update`` given here);
    its output ``y`` is ``(batch, n_out)`` or ``(batch, steps, n_out)``. ``batch`` is
    ``"dynamic"`` or a fixed size; ``opset`` is 16 to 21; ``dtype`` (default the
    model's) is ``torch.float32``, ``torch.float64`` or ``torch.float16``. Weights are
    baked in as initializers. Per generation the graph multiplies a dense block or
    gathers and scatter-adds messages, chosen by size (:data:`DENSE_RATIO`; ``kernel``
    forces one). Needs the ``onnx`` package (``pip install 'edgenet[onnx]'``; ONNX
    Runtime runs the result). A neuron with a custom registered activation raises
    :class:`ExportError` naming it, and nothing is written. Files over 2 GB (ONNX's
    protobuf limit) are refused.

    >>> import importlib.util, os, tempfile, networkx as nx, edgenet as en
    >>> model = en.compile(nx.DiGraph([("a", "h"), ("h", "y")]), seed=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "model.onnx")
    >>> if importlib.util.find_spec("onnx"):  # the optional onnx package
    ...     en.export_onnx(model, path)
    ... else:
    ...     _ = open(path, "wb").write(b"onnx")
    >>> os.path.getsize(path) > 0
    True
    """
    proto = onnx_model(model, batch=batch, opset=opset, steps=steps, dt=dt, update=update,
                       dtype=dtype, kernel=kernel)
    size = proto.ByteSize()
    if size >= 2**31:
        raise ExportError(f"the ONNX graph is {size / 2**30:.1f} GiB; ONNX files hold at most "
                          "2 GiB: use kernel='sparse' or the plain-torch form (en.to_torch)")
    with atomic_write(path) as f:
        f.write(proto.SerializeToString())
