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

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from ..activations import CODES
from ..errors import EdgenetError, InputError
from ..graph.network import Network
from ..kernels import backends, cost, ops
from ..kernels.sparse import KERNELS
from .rewire import rewire
from .source import Source
from .tensors import Layout


class CompiledNetwork(nn.Module):
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
        if value not in cost.ENGINES:
            raise EdgenetError(
                f"engine must be one of {', '.join(map(repr, cost.ENGINES))} (got {value!r})"
            )
        if value not in ("auto", "sparse", "dense"):
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
        if self._engine in ("sparse", "dense"):
            variant = self._variants.get(self._engine)
            if variant is None:
                forced = 1 if self._engine == "sparse" else 2
                edges = np.diff(L.edges.numpy())
                variant = L.with_kinds(np.where(edges == 0, 0, forced))
                self._variants[self._engine] = variant
            L = variant
        return backend, L

    @property
    def inputs(self) -> list[Hashable]:
        """Input nodes, in the order of the input tensor's columns."""
        return list(self._source.inputs)

    @property
    def outputs(self) -> list[Hashable]:
        """Output nodes, in the order of the output tensor's columns."""
        return list(self._source.outputs)

    @property
    def nodes(self) -> list[Hashable]:
        """Every node in the order of the rows of the activation buffer ``H``: inputs, then
        the neurons in :attr:`bias` order."""
        return list(self._nodes)

    @property
    def neurons(self) -> list[Hashable]:
        """Non-input nodes in the order of :attr:`bias`."""
        return self._nodes[self._layout.n_in :]

    @property
    def edges(self) -> list[tuple[Hashable, Hashable]]:
        """Edges ``(u, v)`` in the order of :attr:`weight`.

        >>> import networkx as nx, edgenet as en
        >>> en.compile(nx.DiGraph([("a", "y"), ("b", "y")]), seed=0).edges
        [('a', 'y'), ('b', 'y')]
        """
        src, dst = self.edge_rows()
        nodes = self._nodes
        return [(nodes[u], nodes[v]) for u, v in zip(src.tolist(), dst.tolist())]

    def edge_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """``(source rows, target rows)`` of every edge, in :attr:`weight` order (int64)."""
        L = self._layout
        crow = L.crow.cpu().numpy().astype(np.int64)
        dst = np.repeat(np.arange(L.n_in, L.n_nodes), np.diff(crow))
        return L.col.cpu().numpy().astype(np.int64), dst

    def rewire(
        self,
        remove: Iterable[tuple[Hashable, Hashable]] = (),
        add: Iterable[tuple[Hashable, Hashable]] = (),
        neurons: Mapping[Hashable, Mapping[str, Any]] | None = None,
        remove_neurons: Iterable[Hashable] = (),
        weights: Sequence[float] | None = None,
        optimizer: torch.optim.Optimizer | None = None,
    ) -> None:
        """Change the graph in place: see :func:`edgenet.model.rewire.rewire`.

        >>> import torch, edgenet as en
        >>> net = en.Network(); net.add_input("x"); net.add_output("y")
        >>> net.add_edge("x", "y", weight=2.0)
        >>> model = net.compile()
        >>> model.rewire(remove=[("x", "y")], add=[("x", "h"), ("h", "y")],
        ...              neurons={"h": {"activation": "identity"}}, weights=[1.0, 3.0])
        >>> model(torch.tensor([[1.0]])).item(), model.edges
        (3.0, [('x', 'h'), ('h', 'y')])
        """
        rewire(self, remove=remove, add=add, neurons=neurons, remove_neurons=remove_neurons,
               weights=weights, optimizer=optimizer)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, n_inputs) -> (batch, n_outputs)``; ``(n_inputs,)`` gives ``(n_outputs,)``."""
        self._check(x)
        if x.device.type == "cpu" and x.dtype not in (torch.float32, torch.float64):
            raise EdgenetError(
                f"the CPU engine runs float32 and float64 (the model is {x.dtype}); convert "
                "it with model.float() or model.double(), or run it on CUDA"
            )
        if x.dim() == 1:
            return self.forward(x[None])[0]
        backend, L = self._pass(x.device)
        return ops.dag(x, self.weight, self.bias, L, backend)  # (B, n_out)

    def _check(self, x: torch.Tensor) -> None:
        n = self._layout.n_in
        expected = f"(batch, {n}) or ({n},)"
        if not isinstance(x, torch.Tensor):
            raise InputError(
                f"expected a torch.Tensor of shape {expected} (got {type(x).__name__})"
            )
        if x.dim() not in (1, 2):
            raise InputError(
                f"expected a tensor of shape {expected}; got rank {x.dim()} with shape "
                f"{tuple(x.shape)}"
            )
        if x.shape[-1] != n:
            raise InputError(
                f"expected a tensor of shape {expected}; got width {x.shape[-1]} "
                f"(shape {tuple(x.shape)}) for inputs {self.inputs!r}"
            )
        if x.dtype != self.weight.dtype:
            raise InputError(
                f"expected dtype {self.weight.dtype} (got {x.dtype}); convert the input with "
                f"x.to({self.weight.dtype}) or the model with model.to({x.dtype})"
            )
        if x.device != self.weight.device:
            raise InputError(
                f"expected the input on {self.weight.device} (got {x.device}); move one of "
                "them with .to(device)"
            )

    def to_network(self) -> Network:
        """A :class:`Network` copy of the source graph carrying the current weights and biases.

        Every other node and edge attribute is kept; ``role`` and ``activation`` are made
        explicit so the copy compiles back to the same function.

        >>> import torch, edgenet as en
        >>> net = en.Network(); net.add_input("x"); net.add_output("y", color="red")
        >>> net.add_edge("x", "y", weight=1.0)
        >>> model = net.compile()
        >>> with torch.no_grad():
        ...     _ = model.weight.fill_(4.0)
        >>> trained = model.to_network()
        >>> trained.edges["x", "y"]["weight"], trained.nodes["y"]["color"]
        (4.0, 'red')
        >>> net.edges["x", "y"]["weight"]
        1.0
        """
        src = self._source
        return src.write(Network(), self.neurons, self.activations,
                         self.bias.detach().cpu().double().tolist(), self.edges,
                         self.weight.detach().cpu().double().tolist(),
                         np.argsort(src.seq, kind="stable").tolist())

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
