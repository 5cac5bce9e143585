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

from collections.abc import Hashable
from typing import Any

import networkx as nx
import numpy as np
import torch
from torch import nn

from .compile import Plan
from .errors import EdgenetError, InputError
from .kernels import cost, fused
from .kernels.sparse import KERNELS, Layout, run
from .network import Network


class CompiledNetwork(nn.Module):
    """A neuron DAG compiled to tensors; build it with :func:`edgenet.compile`.

    Parameters: ``weight`` (one per edge, in :attr:`edges` order) and ``bias`` (one per
    non-input neuron, in :attr:`neurons` order). Call it on ``(batch, n_inputs)`` (or
    ``(n_inputs,)``) tensors of its dtype and device.

    >>> import networkx as nx, torch, edgenet as en
    >>> model = en.compile(nx.DiGraph([("a", "y"), ("b", "y")]), seed=0)
    >>> model.inputs, model.outputs, model.weight.shape
    (['a', 'b'], ['y'], torch.Size([2]))
    """

    def __init__(
        self,
        graph: nx.DiGraph,
        plan: Plan,
        weight: torch.Tensor,
        bias: torch.Tensor,
        activations: list[str],
        engine: str = "auto",
    ):
        super().__init__()
        self.plan = plan
        self.activations = activations
        # What to_network needs of the source graph, without copying its adjacency (a full
        # graph.copy() costs more than compiling): graph and node attributes, the attributes
        # of edges that carry more than a weight, and the source order of the edges.
        self._graph_attrs = dict(graph.graph)
        self._node_attrs = {n: dict(d) for n, d in graph.nodes(data=True)}
        self._edge_attrs = {
            (u, v): {k: x for k, x in d.items() if k != "weight"}
            for u, nbrs in graph.adjacency()
            for v, d in nbrs.items()
            if len(d) > 1 or (d and "weight" not in d)
        }
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(bias)
        # CSR indices as int32 where they fit: MKL's sparse kernels take them without a copy.
        small = plan.n_edges < 2**31 - 1
        self.crow: torch.Tensor
        self.col: torch.Tensor
        self.sources: torch.Tensor
        self.tcrow: torch.Tensor
        self.tcol: torch.Tensor
        self.perm: torch.Tensor
        self.dpos: torch.Tensor
        self.out_rows: torch.Tensor
        for name in ("crow", "col", "tcrow", "tcol", "sources", "perm", "dpos", "out_rows"):
            value = torch.as_tensor(getattr(plan, name))
            if small and name in ("crow", "col", "tcrow", "tcol"):
                value = value.to(torch.int32)
            self.register_buffer(name, value, persistent=False)
        # Python-side structure, kept on the CPU whatever the device.
        names = sorted(set(activations))
        index = {a: i for i, a in enumerate(names)}
        self._acts = ",".join(names)
        self._runs = torch.tensor(
            [(a, b, index[act]) for gen in plan.runs for a, b, act in gen], dtype=torch.int64
        ).reshape(-1, 3)
        self._codes = torch.tensor(
            [fused.CODES.get(a, -1) for a in activations], dtype=torch.int64
        )
        self._fusable = fused.supports(activations)
        p = plan
        n, e, k = np.diff(p.rows), np.diff(p.edges), np.diff(p.spans)
        lo = np.append(p.lo if p.lo is not None else np.full(p.depth, -1), -1)
        out = p.out_rows
        consecutive = len(out) and np.array_equal(out, np.arange(out[0], out[0] + len(out)))
        extra = np.zeros(p.depth + 1, dtype=np.int64)
        extra[0] = out[0] if consecutive else -1
        self._kinds: dict[str, torch.Tensor] = {}
        for name, kinds in (("auto", cost.block_kernels(n, k, e)),
                            ("sparse", np.where(e == 0, 0, 1)), ("dense", np.where(e == 0, 0, 2))):
            meta = np.stack([p.rows, p.edges, p.spans, np.append(kinds, 0), lo, extra])
            self._kinds[name] = torch.as_tensor(meta.astype(np.int64))
        self.engine = engine

    @property
    def engine(self) -> str:
        """How the DAG runs: ``"auto"``, ``"sparse"``, ``"dense"`` or ``"fused"``.

        ``"auto"`` runs the fused whole-DAG kernel on deep, narrow DAGs on CPU (see
        :func:`edgenet.kernels.cost.use_fused`) and otherwise picks a sparse or dense
        kernel per generation (:func:`edgenet.kernels.cost.block_kernel`). The others
        force one path. ``"fused"`` needs the CPU and built-in activations only.

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
        if value == "fused" and not self._fusable:
            custom = sorted(a for a in set(self.activations) if a not in fused.CODES)
            raise EdgenetError(
                f"engine='fused' runs built-in activations only; this network uses {custom!r}: "
                "use engine='auto' or 'sparse'"
            )
        self._engine = value

    def _resolved(self, device: torch.device) -> str:
        """The engine a call on ``device`` runs: ``"fused"`` or a per-generation one."""
        engine = self._engine
        if engine == "fused" and device.type != "cpu":
            raise EdgenetError(
                f"engine='fused' runs on the CPU only (the model is on {device}); use "
                "engine='auto' or 'sparse' there"
            )
        if engine == "auto":
            p = self.plan
            fits = self._fusable and device.type == "cpu"
            return "fused" if fits and cost.use_fused(p.n_nodes - p.n_inputs, p.n_edges,
                                                       p.depth) else "auto"
        return engine

    def _meta(self, engine: str) -> torch.Tensor:
        """Per-generation bounds and kernel codes (CPU, int64, ``(6, depth + 1)``)."""
        return self._kinds[engine if engine in ("sparse", "dense") else "auto"]

    @property
    def inputs(self) -> list[Hashable]:
        """Input nodes, in the order of the input tensor's columns."""
        return list(self.plan.inputs)

    @property
    def outputs(self) -> list[Hashable]:
        """Output nodes, in the order of the output tensor's columns."""
        return list(self.plan.outputs)

    @property
    def neurons(self) -> list[Hashable]:
        """Non-input nodes in the order of :attr:`bias`."""
        return self.plan.nodes[self.plan.n_inputs :]

    @property
    def edges(self) -> list[tuple[Hashable, Hashable]]:
        """Edges ``(u, v)`` in the order of :attr:`weight`.

        >>> import networkx as nx, edgenet as en
        >>> en.compile(nx.DiGraph([("a", "y"), ("b", "y")]), seed=0).edges
        [('a', 'y'), ('b', 'y')]
        """
        nodes = self.plan.nodes
        targets = np.repeat(np.arange(len(self.plan.crow) - 1), np.diff(self.plan.crow))
        n_in = self.plan.n_inputs
        return [(nodes[u], nodes[n_in + v]) for u, v in zip(self.plan.col, targets)]

    def layout(self, device: torch.device | None = None) -> Layout:
        """The structure one pass walks, with tensors on this module's device.

        ``device`` (default: the module's) decides the engine when :attr:`engine` is
        ``"auto"``.
        """
        engine = self._resolved(device or self.weight.device)
        return Layout(
            crow=self.crow,
            col=self.col,
            sources=self.sources,
            tcrow=self.tcrow,
            tcol=self.tcol,
            perm=self.perm,
            dpos=self.dpos,
            out_rows=self.out_rows,
            meta=self._meta(engine),
            runs=self._runs,
            codes=self._codes,
            acts=self._acts,
            engine="fused" if engine == "fused" else "sparse",
        )

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
        return run(x, self.weight, self.bias, self.layout(x.device))  # (B, n_out)

    def _check(self, x: torch.Tensor) -> None:
        n = self.plan.n_inputs
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
                f"(shape {tuple(x.shape)}) for inputs {self.plan.inputs!r}"
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
        p = self.plan
        nodes = self._node_attrs
        roles = {n: "input" for n in p.inputs}
        roles.update({n: "output" for n in p.outputs})
        # Keep the node order, but put inputs and outputs in their compiled order.
        order = list(nodes)
        for chosen in (p.inputs, p.outputs):
            members = set(chosen)
            slots = [i for i, n in enumerate(order) if n in members]
            for i, n in zip(slots, chosen):
                order[i] = n
        net = Network()
        net.graph.update(self._graph_attrs)
        for n in order:
            net.add_node(n, **nodes[n])
        weight = self.weight.detach().cpu().double().tolist()
        bias = self.bias.detach().cpu().double().tolist()
        for n, act, b in zip(self.neurons, self.activations, bias):
            data = net.nodes[n]
            role = data.get("role")
            data["role"] = roles.get(n, "hidden" if role in (None, "input") else role)
            data["activation"] = act
            data["bias"] = b
        for n in p.inputs:
            net.nodes[n]["role"] = "input"
        for n in nodes:
            if n not in roles and net.nodes[n].get("role") == "output":
                net.nodes[n]["role"] = "hidden"
        # Edges in the source graph's order, each with its attributes and learned weight.
        edges = self.edges
        extra = self._edge_attrs
        source_order = p.order if p.order is not None else range(len(edges))
        for i in source_order:
            u, v = edges[i]
            net.add_edge(u, v, **extra.get((u, v), {}), weight=weight[i])
        return net

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
        p = self.plan
        engine = self._resolved(self.weight.device)
        kinds = self._meta(engine)[3].tolist()
        stats = []
        for g in range(p.depth):
            neurons = int(p.rows[g + 1] - p.rows[g])
            edges = int(p.edges[g + 1] - p.edges[g])
            sources = int(p.spans[g + 1] - p.spans[g])
            stats.append(
                {
                    "generation": int(p.levels[g]),
                    "neurons": neurons,
                    "edges": edges,
                    "sources": sources,
                    "density": edges / (neurons * sources) if sources else 0.0,
                    "kernel": "fused" if engine == "fused" else KERNELS[kinds[g]],
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
        p = self.plan
        lines = [
            f"CompiledNetwork: {p.n_inputs} inputs, {len(p.outputs)} outputs, "
            f"{p.n_nodes - p.n_inputs} neurons, {p.n_edges} edges, {p.depth} generations, "
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
        p = self.plan
        return (
            f"inputs={p.n_inputs}, outputs={len(p.outputs)}, neurons={p.n_nodes - p.n_inputs}, "
            f"edges={p.n_edges}, generations={p.depth}"
        )
