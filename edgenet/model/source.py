"""What a compiled network keeps of its source graph, so ``to_network`` can write it back.

Graph and node attributes, the attributes of edges that carry more than a weight, and
the order of nodes and edges, without copying the graph's adjacency (a full
``graph.copy()`` costs more than compiling). Nodes are kept in their *canonical*
order: the graph's order, with the inputs and the outputs each put into their
compiled order among the places they hold. Compiling the written-back graph again
therefore lays every neuron in the same row.

>>> import networkx as nx
>>> from edgenet.model.source import Source
>>> src = Source.of(nx.DiGraph([("a", "y"), ("b", "y")]), ["b", "a"], ["y"])
>>> src.nodes
['b', 'y', 'a']
"""

from __future__ import annotations

import copy
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import networkx as nx
import numpy as np

if TYPE_CHECKING:
    from .tensors import Arrangement


def canonical_order(nodes: Sequence[Hashable], *chosen: Sequence[Hashable]) -> list[Hashable]:
    """``nodes`` with each list in ``chosen`` put in its own order among its places.

    >>> canonical_order(["y", "a", "h", "b"], ["b", "a"])
    ['y', 'b', 'h', 'a']
    """
    order = list(nodes)
    for members in chosen:
        wanted = set(members)
        slots = [i for i, n in enumerate(order) if n in wanted]
        for i, n in zip(slots, members):
            order[i] = n
    return order


#: Attribute values that need no copy: nothing can change them in place.
_IMMUTABLE = (str, int, float, bool, type(None))


def _owned(attrs: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``attrs`` that shares no mutable value with it (scalars are shared,
    anything else deep-copied), so later changes to the user's graph never reach a model.

    >>> tag = [1]; kept = _owned({"tag": tag, "w": 1.0}); tag.append(2); kept
    {'tag': [1], 'w': 1.0}
    """
    return {k: v if type(v) in _IMMUTABLE else copy.deepcopy(v) for k, v in attrs.items()}


@dataclass
class Source:
    """The source graph's attributes and orders (see the module docstring).

    ``seq[e]`` is the position of layout edge ``e`` in the source graph's edge order.
    """

    graph: dict[str, Any]
    nodes: list[Hashable]
    node_attrs: dict[Hashable, dict[str, Any]]
    edge_attrs: dict[tuple[Hashable, Hashable], dict[str, Any]]
    inputs: list[Hashable]
    outputs: list[Hashable]
    seq: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @classmethod
    def of(cls, G: nx.DiGraph, inputs: Sequence[Hashable],
           outputs: Sequence[Hashable]) -> Source:
        """What ``to_network`` needs of ``G`` compiled with these inputs and outputs."""
        nodes = canonical_order(list(G), inputs, outputs)
        return cls(
            graph=_owned(G.graph),
            nodes=nodes,
            node_attrs={n: _owned(G.nodes[n]) for n in nodes},
            edge_attrs={
                (u, v): _owned({k: x for k, x in d.items() if k != "weight"})
                for u, nbrs in G.adjacency()
                for v, d in nbrs.items()
                if len(d) > 1 or (d and "weight" not in d)
            },
            inputs=list(inputs),
            outputs=list(outputs),
        )

    def reordered(self, arr: Arrangement) -> Source:
        """This source with ``seq`` set for a layout built from its edges in source order."""
        self.seq = np.asarray(arr.edge_index, dtype=np.int64)
        return self

    def nodes_in_rows(self, row_node: np.ndarray) -> list[Hashable]:
        """The node in every row, for ``row_node`` from an arrangement over :attr:`nodes`."""
        return [self.nodes[i] for i in row_node.tolist()]

    def write(self, net: nx.DiGraph, neurons: Sequence[Hashable], activations: Sequence[str],
              bias: Sequence[float], edges: Sequence[tuple[Hashable, Hashable]],
              weight: Sequence[float], order: Sequence[int]) -> nx.DiGraph:
        """Fill the empty graph ``net`` with the source graph as it now is: graph, node and
        edge attributes copied by :func:`_owned` (nothing the copy's user changes reaches
        the model),
        nodes in canonical order, every neuron's ``role``, ``activation`` and ``bias`` made
        explicit, and ``edges[i]`` with ``weight[i]`` for ``i`` in ``order`` (the source
        graph's edge order). The DAG and the recurrent model both write back through it.

        >>> src = Source.of(nx.DiGraph([("x", "y", {"weight": 1.0, "tag": [1]})]), ["x"], ["y"])
        >>> G = src.write(nx.DiGraph(), ["y"], ["tanh"], [0.5], [("x", "y")], [2.0], [0])
        >>> G.nodes["y"], G.edges["x", "y"]
        ({'role': 'output', 'activation': 'tanh', 'bias': 0.5}, {'tag': [1], 'weight': 2.0})
        """
        roles = {n: "input" for n in self.inputs}
        roles.update({n: "output" for n in self.outputs})
        net.graph.update(_owned(self.graph))
        for n in self.nodes:  # canonical order: compiling the copy lays out the same rows
            net.add_node(n, **_owned(self.node_attrs[n]))
        for n, act, b in zip(neurons, activations, bias, strict=True):
            data = net.nodes[n]
            role = data.get("role")
            data["role"] = roles.get(n, "hidden" if role in (None, "input", "output") else role)
            data["activation"] = act
            data["bias"] = b
        for n in self.inputs:
            net.nodes[n]["role"] = "input"
        for i in order:
            u, v = edges[i]
            net.add_edge(u, v, **_owned(self.edge_attrs.get((u, v), {})), weight=weight[i])
        return net
