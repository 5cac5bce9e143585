"""Build a network edge by edge: :class:`Network`, a ``networkx.DiGraph`` of neurons.

A neuron is a node with a ``role`` (``input``, ``hidden`` or ``output``), an
``activation`` name and a ``bias``; a connection is an edge with a ``weight``.
Layers are not declared: :meth:`Network.layers` reads them off the topology.

>>> import edgenet as en
>>> net = en.Network()
>>> net.add_input("x0"); net.add_input("x1")
>>> net.add_neuron("h", activation="tanh", bias=0.1)
>>> net.add_output("y")
>>> net.connect(["x0", "x1"], ["h"], weight=0.5)
>>> net.add_edge("h", "y", weight=2.0)
>>> net.add_edge("x0", "y", weight=-1.0)       # a skip connection
>>> net.layers()
[['x0', 'x1'], ['h'], ['y']]
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np

from ..errors import EdgenetError
from .validate import generations, refuse_complex, resolve_roles

if TYPE_CHECKING:
    from ..model.dag import CompiledNetwork
    from ..model.recurrent import RecurrentNetwork


class Network(nx.DiGraph):
    """A directed acyclic graph of single neurons; a subclass of ``networkx.DiGraph``.

    Everything NetworkX does works on it. Node attributes: ``role``, ``activation``
    (hidden default ``relu``, output default ``identity``), ``bias`` (default 0).
    Edge attribute: ``weight`` (a missing weight is initialised by :func:`edgenet.compile`).

    >>> import edgenet as en
    >>> net = en.Network()
    >>> net.add_input("x"); net.add_output("y", activation="sigmoid")
    >>> net.add_edge("x", "y", weight=1.5)
    >>> net.inputs, net.outputs
    (['x'], ['y'])
    """

    def add_input(self, node: Hashable, **attr: Any) -> None:
        """Add an input neuron (``role="input"``); its value comes from the input tensor.

        ``node`` is its id (any hashable, as in NetworkX); the keyword arguments ``attr``
        become further node attributes, as in ``add_node``.

        >>> import edgenet as en
        >>> net = en.Network(); net.add_input("x")
        >>> net.nodes["x"]["role"]
        'input'
        """
        self.add_node(node, **attr, role="input")

    def add_neuron(
        self, node: Hashable, activation: str = "relu", bias: float = 0.0, **attr: Any
    ) -> None:
        """Add a hidden neuron computing ``activation(bias + sum of weighted inputs)``.

        ``node`` is its id (any hashable, as in NetworkX); ``activation`` is a registered
        activation name (:func:`edgenet.activation_names`) and ``bias`` a real number; the
        keyword arguments ``attr`` become further node attributes (``tau``, labels, ...).

        >>> import edgenet as en
        >>> net = en.Network(); net.add_neuron("h", activation="tanh", bias=0.5)
        >>> net.nodes["h"]
        {'role': 'hidden', 'activation': 'tanh', 'bias': 0.5}
        """
        self.add_node(node, role="hidden", activation=activation, bias=bias, **attr)

    def add_output(
        self, node: Hashable, activation: str = "identity", bias: float = 0.0, **attr: Any
    ) -> None:
        """Add an output neuron; outputs are returned in the order they were added.

        ``node`` is its id (any hashable, as in NetworkX); ``activation`` is a registered
        activation name and ``bias`` a real number, as for :meth:`add_neuron`; the
        keyword arguments ``attr`` become further node attributes. An output may also
        feed other neurons.

        >>> import edgenet as en
        >>> net = en.Network(); net.add_output("y", activation="sigmoid")
        >>> net.nodes["y"]["activation"]
        'sigmoid'
        """
        self.add_node(node, role="output", activation=activation, bias=bias, **attr)

    def connect(
        self,
        sources: Sequence[Hashable],
        targets: Sequence[Hashable],
        mask: Any = None,
        weight: Any = None,
    ) -> None:
        """Connect a bipartite block: ``sources[i] -> targets[j]`` wherever ``mask[i, j] != 0``.

        ``mask`` is a ``(len(sources), len(targets))`` array (NumPy, torch or nested
        lists) as in a connection-matrix layer; ``None`` connects every pair.
        ``weight`` is a scalar, an array of the same shape, or ``None`` to let
        :func:`edgenet.compile` initialise the new weights. Nodes not yet in the
        graph are added without a role, as ``add_edge`` does.

        >>> import edgenet as en
        >>> net = en.Network()
        >>> net.connect(["a", "b"], ["c", "d"], mask=[[1, 0], [1, 1]], weight=[[1, 2], [3, 4]])
        >>> sorted(net.edges(data="weight"))
        [('a', 'c', 1.0), ('b', 'c', 3.0), ('b', 'd', 4.0)]
        """
        sources = _node_list(sources, "sources")
        targets = _node_list(targets, "targets")
        shape = (len(sources), len(targets))
        keep = np.ones(shape, dtype=bool) if mask is None else _array(mask, shape, "mask") != 0
        if weight is None:
            values = None
        elif np.ndim(_array(weight, None, "weight")) == 0:
            values = np.full(shape, _array(weight, None, "weight"), dtype=np.float64)
        else:
            values = _array(weight, shape, "weight").astype(np.float64)
        rows, cols = np.nonzero(keep)
        if values is None:
            self.add_edges_from((sources[i], targets[j]) for i, j in zip(rows, cols))
        else:
            self.add_edges_from(
                (sources[i], targets[j], {"weight": float(values[i, j])})
                for i, j in zip(rows, cols)
            )

    @property
    def inputs(self) -> list[Hashable]:
        """Input nodes in order (explicit roles, or inferred sources for role-less graphs).

        >>> import edgenet as en
        >>> net = en.Network(); net.add_input("b"); net.add_input("a")
        >>> net.inputs
        ['b', 'a']
        """
        return resolve_roles(self, strict=False)[0]

    @property
    def outputs(self) -> list[Hashable]:
        """Output nodes in order (explicit roles, or inferred sinks for role-less graphs).

        >>> import edgenet as en
        >>> net = en.Network(); net.add_input("x"); net.add_output("y"); net.add_output("z")
        >>> net.outputs
        ['y', 'z']
        """
        return resolve_roles(self, strict=False)[1]

    def layers(self) -> list[list[Hashable]]:
        """Topological generations: layer ``k`` holds the nodes whose longest path from a
        source has ``k`` edges. An edge spanning more than one layer is a skip connection.

        >>> import edgenet as en
        >>> net = en.Network()
        >>> net.add_edges_from([("x", "h"), ("h", "y"), ("x", "y")])
        >>> net.layers()
        [['x'], ['h'], ['y']]
        """
        return generations(self)

    def compile(self, **kwargs: Any) -> CompiledNetwork | RecurrentNetwork:
        """Compile to a ``torch.nn.Module``; the same as ``edgenet.compile(self, **kwargs)``.

        >>> import torch, edgenet as en
        >>> net = en.Network(); net.add_input("x"); net.add_output("y")
        >>> net.add_edge("x", "y", weight=2.0)
        >>> net.compile()(torch.tensor([[3.0]])).tolist()
        [[6.0]]
        """
        from ..model.compile import compile

        return compile(self, **kwargs)


def _node_list(nodes: Sequence[Hashable], what: str) -> list[Hashable]:
    if isinstance(nodes, (str, bytes)) or not hasattr(nodes, "__iter__"):
        raise EdgenetError(f"{what} must be a list of nodes (got {nodes!r})")
    return list(nodes)


def _array(value: Any, shape: tuple[int, int] | None, what: str) -> np.ndarray:
    refuse_complex(value, what)
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise EdgenetError(f"{what} must be numeric (got {value!r})") from None
    if shape is not None and arr.shape != shape:
        raise EdgenetError(
            f"{what} has shape {arr.shape}; expected {shape} = (len(sources), len(targets))"
        )
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        where = tuple(int(i) for i in bad)
        raise EdgenetError(
            f"{what} has the non-finite value {float(arr[tuple(bad)])!r} at {where}; "
            "expected finite numbers"
        )
    return arr


def as_network(G: nx.DiGraph) -> Network:
    """A :class:`Network` copy of any ``networkx.DiGraph`` ``G``, every attribute kept
    (graph, node and edge attributes; ``G`` itself is not changed).

    >>> import networkx as nx, edgenet as en
    >>> type(en.as_network(nx.DiGraph([(0, 1)]))).__name__
    'Network'
    """
    net = Network()
    net.graph.update(G.graph)
    net.add_nodes_from(G.nodes(data=True))
    net.add_edges_from(G.edges(data=True))
    return net
