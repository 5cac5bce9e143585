"""The surface every compiled model shares: its nodes and edges, writing it back as a
graph, input checks and rewiring's arguments.

A compiled model, DAG (:class:`~edgenet.CompiledNetwork`) or recurrent
(:class:`~edgenet.RecurrentNetwork`), lays its nodes out in rows: the inputs first, then
the neurons in :attr:`~CompiledModel.bias` order. Its edges are one CSR structure over the
neuron rows (``crow``, one entry per neuron) whose columns are source rows (``col``), in
:attr:`~CompiledModel.weight` order. Everything here derives from those two arrays and
the graph the model came from (:class:`~edgenet.model.source.Source`); the two models
differ only in how they are laid out and run.

>>> import networkx as nx, torch, edgenet as en
>>> from edgenet.model.base import is_model
>>> G = nx.DiGraph([("x", "a", {"weight": 2.0}), ("a", "y", {"weight": 1.0})])
>>> dag, rnn = en.compile(G), en.compile(G, recurrent=True, inputs=["x"], outputs=["y"])
>>> is_model(dag), is_model(rnn), is_model(G)
(True, True, False)
>>> sorted(dag.edges) == sorted(rnn.edges), sorted(dag.neurons) == sorted(rnn.neurons)
(True, True)
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Any, TypeGuard

import numpy as np
import torch
from torch import nn

from ..errors import EdgenetError, InputError
from ..graph.network import Network
from ..graph.validate import check_seed
from ..kernels import backends
from .columns import to_table
from .source import Source

#: The dtypes the CPU kernels run; CUDA runs every floating dtype.
CPU_DTYPES = (torch.float32, torch.float64)


def is_model(obj: Any) -> TypeGuard[CompiledModel]:
    """Whether ``obj`` is a compiled model (DAG or recurrent): the one test io, the views
    and the command line use before calling ``obj.to_network()``.

    >>> import networkx as nx, edgenet as en
    >>> is_model(en.compile(nx.DiGraph([("x", "y")]))), is_model(nx.DiGraph())
    (True, False)
    """
    return isinstance(obj, CompiledModel)


def as_graph(obj: Any) -> Any:
    """``obj.to_network()`` for a compiled model (its current weights), else ``obj``.

    >>> import networkx as nx, edgenet as en
    >>> G = nx.DiGraph([("x", "y")])
    >>> as_graph(G) is G, type(as_graph(en.compile(G))).__name__
    (True, 'Network')
    """
    return obj.to_network() if is_model(obj) else obj


def check_arguments(*, dtype: object, device: object, seed: object, engine: object,
                    recurrent: object) -> None:
    """The checks :func:`compile` makes of its arguments before it reads the graph, the
    same for the DAG and the recurrent model (``inputs`` and ``outputs`` are checked
    against the graph, by :func:`~edgenet.resolve_roles` for both).

    >>> check_arguments(dtype=torch.float64, device="cpu", seed=0, engine="auto",
    ...                 recurrent=False)
    >>> try:
    ...     check_arguments(dtype=torch.float64, device="cpu", seed=0, engine="fused",
    ...                     recurrent=True)
    ... except EdgenetError as err:
    ...     print(err)
    a recurrent network's engine must be one of 'auto', 'sparse' (got 'fused')
    """
    if not isinstance(recurrent, bool):
        raise EdgenetError(f"recurrent must be True or False (got {recurrent!r})")
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise EdgenetError(
            f"dtype must be a floating torch dtype such as torch.float32 (got {dtype!r})"
        )
    check_seed(seed)
    backends.check_engine(engine, recurrent=recurrent)
    if device is None:
        return
    try:
        where = torch.device(device)  # type: ignore[call-overload]
    except (RuntimeError, TypeError):
        raise EdgenetError(f"device must be a torch.device or a name such as 'cpu' or "
                           f"'cuda:0' (got {device!r})") from None
    if where.type == "cuda" and not torch.cuda.is_available():
        raise EdgenetError(f"device={device!r}, but no CUDA device is available here; use "
                           "'cpu'")


class CompiledModel(nn.Module):
    """What the DAG and recurrent models have in common (see the module docstring).

    Subclasses hold ``weight`` and ``bias`` parameters, the source graph (``_source``), the
    node of every row (``_nodes``), the activation of every neuron (:attr:`activations`)
    and implement :meth:`structure`, :meth:`_edge_order` and :meth:`_rewire`.
    """

    weight: nn.Parameter
    bias: nn.Parameter
    activations: list[str]
    _source: Source
    _nodes: list[Hashable]

    # -- structure ---------------------------------------------------------------------

    def structure(self) -> tuple[np.ndarray, np.ndarray]:
        """``(crow, col)``: the CSR structure of the edges over the neuron rows (int64,
        ``crow`` of length ``neurons + 1``), columns the source rows, in :attr:`weight`
        order."""
        raise NotImplementedError

    def _edge_order(self) -> np.ndarray:
        """Positions in :attr:`weight` of the edges in the source graph's edge order."""
        raise NotImplementedError

    @property
    def n_inputs(self) -> int:
        """Number of input nodes (the width of the input tensor's last axis)."""
        return len(self._source.inputs)

    @property
    def inputs(self) -> list[Hashable]:
        """Input nodes, in the order of the input tensor's last axis."""
        return list(self._source.inputs)

    @property
    def outputs(self) -> list[Hashable]:
        """Output nodes, in the order of the output tensor's last axis."""
        return list(self._source.outputs)

    @property
    def nodes(self) -> list[Hashable]:
        """Every node in row order: the inputs, then the neurons in :attr:`bias` order."""
        return list(self._nodes)

    @property
    def neurons(self) -> list[Hashable]:
        """Non-input nodes in the order of :attr:`bias` (and of a recurrent state's
        columns)."""
        return self._nodes[self.n_inputs :]

    def edge_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """``(source rows, target rows)`` of every edge, in :attr:`weight` order (int64).

        >>> import networkx as nx, edgenet as en
        >>> [r.tolist() for r in en.compile(nx.DiGraph([("a", "y"), ("b", "y")])).edge_rows()]
        [[0, 1], [2, 2]]
        """
        crow, col = self.structure()
        dst = np.repeat(np.arange(self.n_inputs, self.n_inputs + len(crow) - 1), np.diff(crow))
        return col, dst

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

    # -- back to a graph -----------------------------------------------------------------

    def to_network(self) -> Network:
        """A :class:`~edgenet.Network` copy of the source graph carrying the current
        weights and biases.

        Every other node and edge attribute (``tau`` included) is kept; ``role`` and
        ``activation`` are made explicit so the copy compiles back to the same function.

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
        return self._source.write(Network(), self.neurons, self.activations,
                                  self.bias.detach().cpu().double().tolist(), self.edges,
                                  self.weight.detach().cpu().double().tolist(),
                                  self._edge_order().tolist())

    def to_table(self) -> Any:
        """The trained weights as an :class:`~edgenet.EdgeTable` (edges in the source's
        order, a node table with roles, activations, biases, time constants and the other
        attributes): see :func:`edgenet.to_table`."""
        return to_table(self)

    # -- inputs --------------------------------------------------------------------------

    def _check_tensor(self, x: Any, expected: str, ranks: tuple[int, ...]) -> None:
        """Refuse an ``x`` that is not a tensor of one of ``ranks``, of this model's dtype
        and device, with one value per input on its last axis (``expected`` describes the
        shapes taken)."""
        if not isinstance(x, torch.Tensor):
            raise InputError(f"expected a torch.Tensor of shape {expected} (got "
                             f"{type(x).__name__})")
        if x.dim() not in ranks:
            raise InputError(f"expected a tensor of shape {expected}; got rank {x.dim()} with "
                             f"shape {tuple(x.shape)}")
        if x.shape[-1] != self.n_inputs:
            raise InputError(
                f"expected a tensor of shape {expected} for inputs {self.inputs!r} (got shape "
                f"{tuple(x.shape)}): each input neuron takes one value per sample, so the last "
                f"axis holds {self.n_inputs}, in this order (a node-feature matrix such as PyG's "
                "data.x, (nodes, features), is not an input: see the README's PyG section)"
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
        if x.device.type == "cpu" and x.dtype not in CPU_DTYPES:
            raise EdgenetError(
                f"the CPU engine runs float32 and float64 (the model is {x.dtype}); convert "
                "it with model.float() or model.double(), or run it on CUDA"
            )

    # -- rewiring ------------------------------------------------------------------------

    def rewire(
        self,
        remove: Iterable[tuple[Hashable, Hashable]] = (),
        add: Iterable[tuple[Hashable, Hashable]] = (),
        neurons: Mapping[Hashable, Mapping[str, Any]] | None = None,
        remove_neurons: Iterable[Hashable] = (),
        weights: Sequence[float] | None = None,
        optimizer: torch.optim.Optimizer | None = None,
    ) -> None:
        """Change the graph in place, atomically, keeping the same ``Parameter`` objects.

        Parameters
        ----------
        remove : pairs ``(u, v)``
            Existing edges to take away.
        add : pairs ``(u, v)``
            Edges to create (they may touch the new ``neurons``).
        neurons : dict, optional
            ``{node: {"activation": ..., "bias": ..., ...}}``: hidden neurons to create
            first; further attributes are kept on the node.
        remove_neurons : nodes
            Hidden neurons to take away with all their edges.
        weights : floats, optional
            The initial weight of every edge in ``add``, in order (default 0.0, so the
            function is unchanged at the moment of rewiring).
        optimizer : torch.optim.Optimizer, optional
            Every per-parameter state tensor shaped like ``weight`` or ``bias`` follows
            its edge or neuron and is zero for new ones; scalar state is kept. Gradients
            in ``.grad`` follow the same way.

        Everything is checked first: an unknown node or edge, an edge added twice or into
        an input, a non-finite weight, and on a DAG an edge that closes a cycle
        (:class:`~edgenet.CycleError`) raise, and then nothing has changed. An edge both
        removed and added is new: it takes its weight from ``weights`` and starts with
        zero gradient and optimizer state. Afterwards the model is what compiling
        ``to_network()`` afresh gives.

        >>> import torch, edgenet as en
        >>> net = en.Network(); net.add_input("x"); net.add_output("y")
        >>> net.add_edge("x", "y", weight=2.0)
        >>> model = net.compile()
        >>> model.rewire(remove=[("x", "y")], add=[("x", "h"), ("h", "y")],
        ...              neurons={"h": {"activation": "identity"}}, weights=[1.0, 3.0])
        >>> model(torch.tensor([[1.0]])).item(), model.edges
        (3.0, [('x', 'h'), ('h', 'y')])
        """
        from .rewire import Edit

        # Outside inference mode whatever the caller's: new parameter data made as
        # inference tensors could never take part in training again.
        with torch.inference_mode(False), torch.no_grad():
            edit = Edit.checked(self, remove, add, neurons, remove_neurons, weights)
            self._rewire(edit, optimizer)

    def _rewire(self, edit: Any, optimizer: torch.optim.Optimizer | None) -> None:
        raise NotImplementedError

    def extra_repr(self) -> str:
        return (f"inputs={self.n_inputs}, outputs={len(self._source.outputs)}, "
                f"neurons={len(self._nodes) - self.n_inputs}, edges={self.weight.numel()}")
