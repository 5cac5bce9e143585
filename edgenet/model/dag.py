"""The compiled network: a ``torch.nn.Module`` with one weight per edge and one bias per neuron.

>>> import torch, edgenet as en
>>> net = en.Network()
>>> net.add_input("x"); net.add_output("y", bias=0.5); net.add_edge("x", "y", weight=2.0)
>>> model = net.compile()
>>> [name for name, _ in model.named_parameters()]
['weight', 'bias']
>>> model.to_network().edges["x", "y"]["weight"]
2.0
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ..activations import CODES
from ..errors import EdgenetError
from ..graph.validate import check_fits
from ..kernels import backends, cost, ops
from ..kernels.sparse import KERNELS
from .base import CompiledModel
from .rewire import Edit, rewire
from .source import Source
from .tensors import Arrangement, Layout, initial_weights


class CompiledNetwork(CompiledModel):
    """A neuron DAG compiled to tensors; build it with :func:`edgenet.compile`.

    Parameters: ``weight`` (one per edge, in :attr:`edges` order) and ``bias`` (one per
    non-input neuron, in :attr:`neurons` order). Call it on ``(batch, n_inputs)`` (or
    ``(n_inputs,)``) tensors of its dtype and device. The structure is one
    :class:`~edgenet.model.tensors.Layout` (:attr:`layout`); :meth:`rewire` changes it in place.

    >>> import networkx as nx, torch, edgenet as en
    >>> model = en.compile(nx.DiGraph([("a", "y"), ("b", "y")]), seed=0)
    >>> model.inputs, model.outputs, model.weight.shape
    (['a', 'b'], ['y'], torch.Size([2]))
    """

    def __init__(
        self,
        layout: Layout,
        source: Source,
        weight: torch.Tensor,
        bias: torch.Tensor,
        activations: list[str],
        row_node: np.ndarray,
        engine: str = "auto",
    ):
        """Built by :func:`edgenet.compile`, which lowers the graph first: ``layout`` is the
        compiled structure (:class:`~edgenet.model.tensors.Layout`), ``source`` what
        ``to_network`` keeps of the graph, ``weight`` and ``bias`` the initial parameters
        in layout order, ``activations`` every neuron's activation name, ``row_node[r]``
        the index in ``source.nodes`` of the node in row ``r``, and ``engine`` the initial
        :attr:`engine`."""
        super().__init__()
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(bias)
        self._engine = "auto"
        self._set_structure(layout, source, activations, row_node)
        self.engine = engine

    def _set_structure(self, layout: Layout, source: Source, activations: list[str],
                       row_node: np.ndarray) -> None:
        """Adopt a layout (moved to the parameters' device) and its node bookkeeping:
        ``row_node[r]`` is the index in ``source.nodes`` of the node in row ``r``."""
        sizes = [np.diff(t.numpy()) for t in (layout.rows, layout.spans, layout.edges)]
        self._layout = layout.with_kinds(cost.block_kernels(*sizes)).to(self.weight.device)
        self._source = source
        #: Activation name of every neuron, in :attr:`bias` order.
        self.activations = activations
        self._nodes: list[Hashable] = source.nodes_in_rows(row_node)
        self._variants: dict[str, Layout] = {}

    def _apply(self, fn: Callable[[torch.Tensor], torch.Tensor], recurse: bool = True):
        super()._apply(fn, recurse)
        self._layout = self._layout.to(self.weight.device)
        self._variants = {}
        return self

    @property
    def layout(self) -> Layout:
        """The compiled structure (:class:`~edgenet.model.tensors.Layout`) on this module's device,
        with the cost model's kernel per generation."""
        return self._layout

    @property
    def engine(self) -> str:
        """How the DAG runs: ``"auto"``, ``"sparse"``, ``"dense"``, ``"fused"`` or ``"triton"``.

        ``"auto"`` runs the fused whole-DAG kernel on deep, narrow DAGs on CPU (see
        :func:`edgenet.kernels.cost.choose`) and otherwise picks a sparse or dense
        kernel per generation (:func:`edgenet.kernels.cost.block_kernel`). The others
        force one path. ``"fused"`` needs the CPU and built-in activations only;
        ``"triton"`` CUDA (or Triton's interpreter) and built-in activations only.

        >>> import networkx as nx, edgenet as en
        >>> model = en.compile(nx.DiGraph([("a", "y")]), seed=0)
        >>> model.engine = "sparse"; model.generation_stats()[0]["kernel"]
        'sparse'
        """
        return self._engine

    @engine.setter
    def engine(self, value: str) -> None:
        backends.check_engine(value)
        if value not in ("auto", *backends.FORCED):
            if value not in backends.names():
                raise EdgenetError(
                    f"engine={value!r} needs what is not installed here (for 'triton': the "
                    "triton package, Linux)"
                )
            if not self._layout.builtin:
                custom = sorted(a for a in set(self.activations) if a not in CODES)
                raise EdgenetError(
                    f"engine={value!r} runs built-in activations only; this network uses "
                    f"{custom!r}: use engine='auto' or 'sparse'"
                )
        self._engine = value

    def _pass(self, device: torch.device) -> tuple[str, Layout]:
        """The backend a call on ``device`` runs, and the layout it walks."""
        L = self._layout
        backend = cost.choose(self._engine, device.type, L.builtin, L.n_nodes - L.n_in,
                              L.n_edges, L.depth, backends.names())
        if device.type not in backends.get(backend).devices:
            raise EdgenetError(
                f"engine={self._engine!r} does not run on {device.type} (the model is on "
                f"{device}); use engine='auto' or 'sparse' there"
            )
        if self._engine in backends.FORCED:
            variant = self._variants.get(self._engine)
            if variant is None:
                forced = 1 if self._engine == "sparse" else 2
                edges = np.diff(L.edges.numpy())
                variant = L.with_kinds(np.where(edges == 0, 0, forced))
                self._variants[self._engine] = variant
            L = variant
        return backend, L

    def structure(self) -> tuple[np.ndarray, np.ndarray]:
        L = self._layout
        return L.crow.cpu().numpy().astype(np.int64), L.col.cpu().numpy().astype(np.int64)

    def _edge_order(self) -> np.ndarray:
        return np.argsort(self._source.seq, kind="stable")

    def _rewire(self, edit: Edit, optimizer: torch.optim.Optimizer | None) -> None:
        rewire(self, edit, optimizer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run the DAG on ``x`` of shape ``(batch, n_inputs)`` (one column per input, in
        :attr:`inputs` order) to ``(batch, n_outputs)``; ``(n_inputs,)`` gives ``(n_outputs,)``.

        >>> import networkx as nx, torch, edgenet as en
        >>> model = en.compile(nx.DiGraph([("x", "y", {"weight": 3.0})]))
        >>> model(torch.tensor([2.0])).tolist()
        [6.0]
        """
        n = self.n_inputs
        self._check_tensor(x, f"(batch, {n}) or ({n},)", (1, 2))
        if x.dim() == 1:
            return self.forward(x[None])[0]
        backend, L = self._pass(x.device)
        return ops.dag(x, self.weight, self.bias, L, backend)  # (B, n_out)

    def generation_stats(self) -> list[dict[str, Any]]:
        """Per generation: neurons, edges, distinct sources, density and the kernel that runs it.

        Density is edges over ``neurons x distinct sources``, the share of the generation's
        dense block that exists. The kernel is ``"sparse"`` (CSR), ``"dense"`` (a dense
        block over the distinct sources), ``"bias"`` (no incoming edges) or ``"fused"``
        when the whole DAG runs in one fused call (see :attr:`engine`).

        >>> import networkx as nx, edgenet as en
        >>> model = en.compile(nx.DiGraph([("a", "y"), ("b", "y")]), seed=0, engine="sparse")
        >>> stats = model.generation_stats()
        >>> stats[0]["neurons"], stats[0]["edges"], stats[0]["density"], stats[0]["kernel"]
        (1, 2, 1.0, 'sparse')
        """
        backend, L = self._pass(self.weight.device)
        rows, edges, spans = (np.diff(t.numpy()).tolist() for t in (L.rows, L.edges, L.spans))
        stats = []
        for g, (level, kind) in enumerate(zip(L.levels.tolist(), L.kinds.tolist())):
            stats.append(
                {
                    "generation": level,
                    "neurons": rows[g],
                    "edges": edges[g],
                    "sources": spans[g],
                    "density": edges[g] / (rows[g] * spans[g]) if spans[g] else 0.0,
                    "kernel": KERNELS[kind] if backend == "generations" else backend,
                }
            )
        return stats

    def summary(self) -> str:
        """A printable table of the compiled plan, one line per generation.

        >>> import networkx as nx, edgenet as en
        >>> print(en.compile(nx.DiGraph([("a", "y"), ("b", "y")]), seed=0).summary())
        CompiledNetwork: 2 inputs, 1 outputs, 1 neurons, 2 edges, 1 generations, engine auto
          gen  neurons    edges  sources  density  kernel
            1        1        2        2   1.0000  fused
        """
        L = self._layout
        lines = [
            f"CompiledNetwork: {L.n_in} inputs, {len(self.outputs)} outputs, "
            f"{L.n_nodes - L.n_in} neurons, {L.n_edges} edges, {L.depth} generations, "
            f"engine {self.engine}",
            f"  {'gen':>3}  {'neurons':>7}  {'edges':>7}  {'sources':>7}  {'density':>7}  kernel",
        ]
        for s in self.generation_stats():
            lines.append(
                f"  {s['generation']:>3}  {s['neurons']:>7}  {s['edges']:>7}  {s['sources']:>7}  "
                f"{s['density']:>7.4f}  {s['kernel']}"
            )
        return "\n".join(lines)

    def extra_repr(self) -> str:
        L = self._layout
        return (
            f"inputs={L.n_in}, outputs={len(self.outputs)}, neurons={L.n_nodes - L.n_in}, "
            f"edges={L.n_edges}, generations={L.depth}"
        )

    def to_torch(self, **options: Any) -> torch.fx.GraphModule:
        """A plain-torch module computing this network, loadable without edgenet:
        ``edgenet.to_torch(self, **options)`` (see there).

        >>> import torch, networkx as nx, edgenet as en
        >>> model = en.compile(nx.DiGraph([("a", "y"), ("b", "y")]), seed=0)
        >>> x = torch.randn(3, 2)
        >>> torch.allclose(model.to_torch()(x), model(x))
        True
        """
        from ..io.export import to_torch

        return to_torch(self, **options)

    def export_onnx(self, path: Any, **options: Any) -> None:
        """Write this network as an ONNX graph: ``edgenet.export_onnx(self, path, **options)``
        (see there).

        >>> import importlib.util, os, tempfile, networkx as nx, edgenet as en
        >>> model = en.compile(nx.DiGraph([("a", "y")]), seed=0)
        >>> path = os.path.join(tempfile.mkdtemp(), "model.onnx")
        >>> if importlib.util.find_spec("onnx"):  # the optional onnx package
        ...     model.export_onnx(path)
        ... else:
        ...     _ = open(path, "wb").write(b"onnx")
        >>> os.path.getsize(path) > 0
        True
        """
        from ..io.export import export_onnx

        export_onnx(self, path, **options)


@dataclass(frozen=True)
class Lowered:
    """A validated graph as arrays: the :class:`~edgenet.model.tensors.Arrangement` of its nodes
    and edges, the weights (float64, NaN where missing) and biases (float64) in layout
    order, every computed row's activation name, and what ``to_network`` keeps of the
    graph."""

    arrangement: Arrangement
    weights: np.ndarray
    bias: np.ndarray
    activations: list[str]
    source: Source


def build(low: Lowered, dtype: torch.dtype, device: torch.device | str | None, seed: int | None,
          engine: str) -> CompiledNetwork:
    """The model of a lowered DAG (from a graph or a table): missing weights drawn from
    ``seed``, weights and biases checked against ``dtype``, parameters on ``device``.

    >>> import networkx as nx, torch
    >>> from edgenet.model.compile import lower
    >>> low = lower(nx.DiGraph([("x", "y", {"weight": 2.0})]))
    >>> build(low, torch.float64, None, None, "auto").weight.tolist()
    [2.0]
    """
    layout = low.arrangement.layout
    weight = initial_weights(layout.crow.numpy(), low.weights, dtype, seed)
    model = CompiledNetwork(layout, low.source, weight, torch.as_tensor(low.bias).to(dtype),
                            low.activations, low.arrangement.row_node, engine=engine)
    check_fits(dtype, low.weights, low.bias, lambda i: model.edges[i],
               lambda i: model.neurons[i])
    return model.to(device) if device is not None else model
