r"""A population of networks as one module: one batched pass over their disjoint union.

Neuroevolution evaluates many networks of different topologies on the same task. Compiling
and running each costs a fixed Python and dispatch overhead per network that dwarfs the
arithmetic of a small one. :func:`compile_population` instead relabels member ``i``'s
nodes ``(i, node)``, takes the disjoint union of the ``P`` members (a block-diagonal
graph) and compiles it once: every topological generation of the union holds that
generation of every member, so one pass of any engine (the fused or the per-generation
engine on the CPU, CUDA) runs all of them, forward and backward, with no loop over
members and no padding to the largest one. Member ``i`` reads input columns
``i * n_in .. (i + 1) * n_in - 1`` of the union and writes its outputs likewise.

>>> import networkx as nx, torch, edgenet as en
>>> a = nx.DiGraph([("x", "y", {"weight": 2.0})])
>>> b = nx.DiGraph([("x", "h", {"weight": 1.0}), ("h", "y", {"weight": -1.0})])
>>> pop = en.compile_population([a, b])
>>> pop(torch.tensor([[1.0], [3.0]])).squeeze(-1).tolist()  # (P, B, n_out)
[[2.0, 6.0], [-1.0, -3.0]]
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any

import networkx as nx
import torch
from torch import nn

from ..errors import EdgenetError, InputError
from ..graph.network import Network
from ..graph.validate import aggregation, check_graph, resolve_roles
from ..kernels import backends, cost, workspace
from .aggregate import AggregateNetwork
from .compile import compile
from .dag import CompiledNetwork

Rules = dict[Hashable, tuple[str, float]]


def _in_member(i: int, err: EdgenetError) -> EdgenetError:
    """``err`` (same type) with its message saying that it concerns graph ``i``."""
    err.args = (f"graph {i}: {err.args[0] if err.args else err}", *err.args[1:])
    return err


def _stripped(G: nx.DiGraph, i: int | None,
              inputs: Iterable[Hashable]) -> tuple[list[tuple[Any, dict]], Rules]:
    """``G``'s nodes (relabelled ``(i, node)`` unless ``i`` is None) with their attributes,
    less ``aggregation`` and ``response`` where a neuron (not one of the ``inputs``) does
    anything but sum with response 1, and those neurons' ``(aggregation, response)``."""
    nodes, rules = [], {}
    skip = set(inputs)
    for n, d in G.nodes(data=True):
        key = n if i is None else (i, n)
        if ("aggregation" in d or "response" in d) and n not in skip:
            rule = aggregation(G, n)
            if rule != ("sum", 1.0):
                rules[key] = rule
                d = {k: v for k, v in d.items() if k not in ("aggregation", "response")}
        nodes.append((key, d))
    return nodes, rules


def _join(union: nx.DiGraph, i: int, nodes: list[tuple[Any, dict]], G: nx.DiGraph) -> None:
    """Add member ``G`` (its ``nodes`` from :func:`_stripped`) to ``union`` as ``(i, node)``.

    The union exists only for one compile, which reads it and never changes it (what the
    model keeps, :class:`~edgenet.model.source.Source` copies): so it shares the members'
    attribute dicts and is filled through NetworkX's adjacency dicts directly, in the
    members' node and edge order, at a third of ``add_edges_from``'s cost.
    """
    node, succ, pred = union._node, union._succ, union._pred
    for key, d in nodes:
        node[key] = d
        succ[key] = {}
        pred[key] = {}
    for u, nbrs in G.adj.items():
        out = succ[i, u]
        for v, d in nbrs.items():
            out[i, v] = d
            pred[i, v][i, u] = d


def _compiled(G: nx.DiGraph, rules: Rules, **options: Any) -> CompiledNetwork:
    """``G`` (without the attributes ``rules`` holds) compiled, as an
    :class:`~edgenet.model.aggregate.AggregateNetwork` when ``rules`` is not empty."""
    if not rules:
        return compile(G, **options)
    engine = options.pop("engine")
    if engine not in ("auto", "aggregate"):
        node, (agg, response) = next(iter(rules.items()))
        raise EdgenetError(
            f"engine={engine!r} sums every neuron's weighted inputs with response 1; node "
            f"{node!r} has aggregation {agg!r} and response {response!r}: use engine='auto'"
        )
    return AggregateNetwork.adopt(compile(G, **options), rules)


class Population(nn.Module):
    """``P`` networks with the same numbers of inputs and outputs, compiled as one module;
    build it with :func:`compile_population`.

    ``pop(x)`` maps ``x`` of shape ``(B, n_in)`` (the same inputs for every member) or
    ``(P, B, n_in)`` (each member its own) to ``(P, B, n_out)``. The parameters are the
    union's ``weight`` and ``bias`` (:attr:`union`, a :class:`~edgenet.CompiledNetwork`):
    train the whole population with one optimizer, or read :meth:`to_networks`.

    The constructor takes what :func:`compile_population` prepares: ``union`` the compiled
    union, ``graphs`` each member's graph attributes, ``n_in`` and ``n_out`` the members'
    input and output counts, ``options`` the ``dtype`` and ``engine`` :meth:`member` uses.

    >>> import networkx as nx, torch, edgenet as en
    >>> pop = en.compile_population([nx.DiGraph([("x", "y")])] * 3, seed=0)
    >>> len(pop), pop(torch.zeros(5, 1)).shape
    (3, torch.Size([3, 5, 1]))
    """

    def __init__(self, union: CompiledNetwork, graphs: list[dict[str, Any]], n_in: int,
                 n_out: int, options: dict[str, Any]):
        super().__init__()
        #: The compiled disjoint union; node ``(i, n)`` is node ``n`` of member ``i``.
        self.union = union
        self._graphs = graphs
        self.n_in, self.n_out = n_in, n_out
        self._options = options

    def __len__(self) -> int:
        return len(self._graphs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, n_in)`` or ``(P, B, n_in)`` -> ``(P, B, n_out)``."""
        P, n_in = len(self), self.n_in
        expected = f"(batch, {n_in}) or ({P}, batch, {n_in})"
        if not isinstance(x, torch.Tensor):
            raise InputError(f"expected a torch.Tensor of shape {expected} (got "
                             f"{type(x).__name__})")
        if x.dim() == 2 and x.shape[1] == n_in:
            # (B, P * n_in): every member reads the same columns; reused host memory
            flat = workspace.new_empty(x, (x.shape[0], P * n_in))
            flat.view(x.shape[0], P, n_in).copy_(x.unsqueeze(1))
        elif x.dim() == 3 and x.shape[0] == P and x.shape[2] == n_in:
            flat = x.transpose(0, 1).reshape(x.shape[1], P * n_in)  # (B, P * n_in)
        else:
            raise InputError(f"expected a tensor of shape {expected} (got {tuple(x.shape)})")
        self._choose_engine(x.device)
        y = self.union(flat)  # (B, P * n_out)
        return y.view(y.shape[0], P, self.n_out).transpose(0, 1)  # (P, B, n_out)

    def _choose_engine(self, device: torch.device) -> None:
        """With ``engine="auto"``, run the union on the fused engine on the CPU when its
        members are narrow DAGs (:func:`edgenet.kernels.cost.use_fused` of the mean member),
        whatever the union's own width: one pass of the fused engine over the union costs
        what its members cost, while the generation engine's wide but sparse generations of
        a union run several times slower (see ``benchmarks/RESULTS.md``)."""
        if (self._options["engine"] != "auto" or isinstance(self.union, AggregateNetwork)
                or self.union.engine not in ("auto", "fused")):
            return  # an engine chosen by the user
        L, P = self.union.layout, len(self)
        fused = (device.type == "cpu" and L.builtin and "fused" in backends.names()
                 and cost.use_fused((L.n_nodes - L.n_in) // P, L.n_edges // P, L.depth))
        want = "fused" if fused else "auto"
        if self.union.engine != want:
            self.union.engine = want

    def to_networks(self) -> list[Network]:
        """The ``P`` member networks with the current weights and biases, their original node
        names and every user attribute (see :meth:`edgenet.CompiledNetwork.to_network`).

        >>> import networkx as nx, edgenet as en
        >>> pop = en.compile_population([nx.DiGraph([("x", "y", {"weight": 1.5})])])
        >>> pop.to_networks()[0].edges["x", "y"]["weight"]
        1.5
        """
        union = self.union.to_network()
        nets = [Network() for _ in self._graphs]
        for net, graph in zip(nets, self._graphs):
            net.graph.update(graph)
        for (i, n), d in union.nodes(data=True):
            nets[i].add_node(n, **d)
        for (i, u), (_, v), d in union.edges(data=True):
            nets[i].add_edge(u, v, **d)
        return nets

    def member(self, i: int) -> CompiledNetwork:
        """Member ``i`` compiled alone with its current weights (same dtype, device and
        engine as the population), a new module that shares no parameter with it.

        >>> import networkx as nx, torch, edgenet as en
        >>> pop = en.compile_population([nx.DiGraph([("x", "y", {"weight": 2.0})])] * 2)
        >>> pop.member(1)(torch.ones(1, 1)).item()
        2.0
        """
        if not isinstance(i, int) or not -len(self) <= i < len(self):
            raise EdgenetError(f"member index {i!r} out of range for a population of {len(self)}")
        G = self.to_networks()[i]
        nodes, rules = _stripped(G, None, resolve_roles(G)[0])
        bare = Network()
        bare.graph.update(G.graph)
        bare.add_nodes_from(nodes)
        bare.add_edges_from(G.edges(data=True))
        return _compiled(bare, rules, **self._options, device=self.union.weight.device)

    def extra_repr(self) -> str:
        return f"members={len(self)}, inputs={self.n_in}, outputs={self.n_out}"


def compile_population(
    graphs: Iterable[nx.DiGraph],
    *,
    seed: int | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    engine: str = "auto",
) -> Population:
    """Compile ``P`` networks with the same numbers of inputs and outputs (any topologies,
    any sizes) into one :class:`Population` module, one pass over their disjoint union.

    Each of the ``graphs`` (a list of ``networkx.DiGraph`` or :class:`edgenet.Network`) is
    read as :func:`edgenet.compile` reads it (roles, or sources and sinks; inputs and
    outputs in their order). Missing weights are drawn for the union from ``seed``.
    ``dtype`` and ``device`` are the module's; ``engine`` is the union's (see
    :attr:`edgenet.CompiledNetwork.engine`).
    Neurons with an ``aggregation`` other than ``"sum"`` or a ``response`` other than 1
    (see :mod:`edgenet.model.aggregate`) make the union an aggregate network, whose
    plain-torch pass runs them; a compiled ``engine`` named explicitly then refuses them.

    >>> import networkx as nx, torch, edgenet as en
    >>> graphs = [nx.DiGraph([("a", "y"), ("b", "y")]), nx.DiGraph([("a", "h"), ("b", "y"),
    ...           ("h", "y")])]
    >>> pop = en.compile_population(graphs, seed=0)
    >>> pop(torch.ones(4, 2)).shape, pop(torch.ones(2, 4, 2)).shape
    (torch.Size([2, 4, 1]), torch.Size([2, 4, 1]))
    """
    if isinstance(graphs, nx.Graph):
        raise EdgenetError("compile_population takes a list of graphs (got one graph); for one "
                           "network write compile_population([G]) or use edgenet.compile")
    graphs = list(graphs)
    if not graphs:
        raise EdgenetError("compile_population needs at least one graph (got none)")
    union = nx.DiGraph()
    inputs: list[Hashable] = []
    outputs: list[Hashable] = []
    rules: Rules = {}
    attrs = []
    n_in = n_out = 0
    for i, G in enumerate(graphs):
        try:
            check_graph(G)
            ins, outs = resolve_roles(G)
            nodes, member_rules = _stripped(G, i, ins)
        except EdgenetError as err:
            raise _in_member(i, err) from None
        if i and (len(ins), len(outs)) != (n_in, n_out):
            raise EdgenetError(
                f"graph {i} has {len(ins)} inputs and {len(outs)} outputs, graph 0 {n_in} "
                f"and {n_out}; every member of a population needs the same numbers"
            )
        n_in, n_out = len(ins), len(outs)
        inputs += [(i, n) for n in ins]
        outputs += [(i, n) for n in outs]
        rules.update(member_rules)
        attrs.append(dict(G.graph))
        _join(union, i, nodes, G)
    options = {"dtype": dtype, "seed": seed, "engine": engine}
    model = _compiled(union, rules, inputs=inputs, outputs=outputs, device=device, **options)
    return Population(model, attrs, n_in, n_out, {"dtype": dtype, "engine": engine})
