"""Validate a graph before it is lowered to tensors, and resolve its roles.

Every check raises an :class:`~edgenet.errors.EdgenetError` (or a subclass) that
names the node or edge at fault, shows the value and says what is accepted.
Nothing here mutates the graph.

>>> import networkx as nx, edgenet as en
>>> en.resolve_roles(nx.DiGraph([("a", "h"), ("b", "h"), ("h", "y")]))
(['a', 'b'], ['y'])
"""

from __future__ import annotations

import math
import numbers
import sys
import warnings
from collections.abc import Callable, Container, Hashable, Iterable, Sequence
from typing import Any

import networkx as nx
import numpy as np
import torch

from ..activations import get_activation
from ..errors import CycleError, EdgenetError

ROLES = ("input", "hidden", "output")
#: Role codes of :func:`roles_by_index` (0: no role given).
ROLE_CODE: dict[str | None, int] = {None: 0, "input": 1, "hidden": 2, "output": 3}
DEFAULT_ACTIVATION = {"hidden": "relu", "output": "identity"}


def check_graph(G: Any) -> None:
    """Refuse anything that is not a simple directed graph without self-loops (a
    self-loop is a :class:`~edgenet.CycleError` of one node, like any other cycle).

    >>> import networkx as nx, edgenet as en
    >>> try:
    ...     en.graph.validate.check_graph(nx.Graph([(0, 1)]))
    ... except en.EdgenetError as err:
    ...     print(str(err)[:43])
    expected a directed graph (networkx.DiGraph
    """
    if not isinstance(G, nx.Graph):
        raise EdgenetError(
            f"expected a networkx.DiGraph or edgenet.Network (got {type(G).__name__})"
        )
    if not G.is_directed():
        raise EdgenetError(
            "expected a directed graph (networkx.DiGraph or edgenet.Network), got an undirected "
            f"{type(G).__name__}; convert it with G.to_directed() or orient its edges first"
        )
    if G.is_multigraph():
        raise EdgenetError(
            f"expected a simple DiGraph (got {type(G).__name__}); parallel edges are not "
            "supported: merge them into one edge whose weight is their sum"
        )
    for u, _ in nx.selfloop_edges(G):
        raise self_loop_error(u)


def self_loop_error(u: Hashable) -> CycleError:
    """The error for a self-loop on ``u`` in a feed-forward network: a cycle of one node.

    >>> from edgenet.graph.validate import self_loop_error
    >>> self_loop_error("h").cycle
    ['h']
    """
    return CycleError([u])


def generations(G: nx.DiGraph) -> list[list[Hashable]]:
    """Topological generations of ``G`` in node-insertion order, or a :class:`CycleError`.

    >>> import networkx as nx, edgenet as en
    >>> en.graph.validate.generations(nx.DiGraph([("x", "h"), ("h", "y"), ("x", "y")]))
    [['x'], ['h'], ['y']]
    """
    try:
        gens = list(nx.topological_generations(G))
    except nx.NetworkXUnfeasible:
        cycle = [u for u, _ in nx.find_cycle(G)]
        raise CycleError(cycle) from None
    if len(gens) > 1 or (gens and len(gens[0]) > 1):
        rank = {n: i for i, n in enumerate(G)}
        gens = [sorted(gen, key=rank.__getitem__) for gen in gens]
    return gens


def role_of(G: nx.DiGraph, node: Hashable) -> str | None:
    """The explicit ``role`` attribute of ``node``, checked, or ``None`` when absent."""
    return checked_role(G.nodes[node].get("role"), node)


def checked_role(role: Any, node: Hashable) -> str | None:
    """``role`` (a node's ``role`` attribute, None when absent) if it is an accepted role.

    >>> import edgenet as en
    >>> en.graph.validate.checked_role("input", "x") is None
    False
    """
    if role is not None and role not in ROLES:
        raise EdgenetError(
            f"node {node!r} has role {role!r}; accepted roles: 'input', 'hidden', 'output' "
            "(where a file's 'role' attribute means something else, read it under another "
            "name: read_graphml(path, rename={'role': 'cell_class'}), or --rename "
            "role=cell_class on the command line)"
        )
    return role


def _listed(known: Container[Hashable], nodes: Iterable[Hashable], what: str) -> list[Hashable]:
    if isinstance(nodes, (str, bytes)):
        raise EdgenetError(f"{what}= must be a list of nodes (got the string {nodes!r})")
    if not isinstance(nodes, Iterable):
        raise EdgenetError(
            f"{what}= must be a list of nodes (got {nodes!r} of type {type(nodes).__name__}); "
            f"for one node write {what}=[{nodes!r}]"
        )
    nodes = list(nodes)
    seen: set[Hashable] = set()
    for n in nodes:
        try:
            present = n in known
        except TypeError:  # unhashable
            present = False
        if not present:
            raise EdgenetError(f"{what}= names node {n!r}, which is not in the graph")
        if n in seen:
            raise EdgenetError(f"{what}= lists node {n!r} twice; each node may appear once")
        seen.add(n)
    return nodes


def resolve_roles(
    G: nx.DiGraph,
    inputs: Sequence[Hashable] | None = None,
    outputs: Sequence[Hashable] | None = None,
    *,
    strict: bool = True,
) -> tuple[list[Hashable], list[Hashable]]:
    """The ordered input and output nodes of ``G``.

    Explicit lists win. Otherwise nodes with ``role="input"`` (``"output"``) are used in
    insertion order; a graph with no such node infers them: sources without a role are
    inputs, sinks without a role are outputs. ``strict`` (the default) also refuses an
    empty input or output set, a node that is both, and inputs with incoming edges.

    >>> import edgenet as en
    >>> net = en.Network()
    >>> net.add_input("x"); net.add_output("y"); net.add_edge("x", "y", weight=1.0)
    >>> en.resolve_roles(net)
    (['x'], ['y'])
    """
    nodes = list(G)
    roles = [role_of(G, n) for n in nodes]
    indeg = np.fromiter((d for _, d in G.in_degree(nodes)), np.int64, len(nodes))
    outdeg = np.fromiter((d for _, d in G.out_degree(nodes)), np.int64, len(nodes))

    def incoming(n: Hashable) -> str:
        return f"({next(iter(G.pred[n]))!r} -> {n!r})"

    return roles_by_index(nodes, roles, indeg, outdeg, inputs, outputs, known=G,
                          position=None, incoming=incoming, strict=strict)


def roles_by_index(
    nodes: Sequence[Hashable],
    roles: Sequence[str | None],
    indeg: np.ndarray,
    outdeg: np.ndarray,
    inputs: Sequence[Hashable] | None,
    outputs: Sequence[Hashable] | None,
    *,
    known: Container[Hashable],
    position: Callable[[Hashable], int] | None,
    incoming: Callable[[Hashable], str],
    strict: bool = True,
) -> tuple[list[Hashable], list[Hashable]]:
    """The rules of :func:`resolve_roles` over arrays: ``nodes`` in order, each node's
    checked ``role`` (None when absent), in- and out-degrees (``(n,)`` arrays), ``known``
    answering ``node in known``, ``position(node)`` its index (None: ``nodes.index``) and
    ``incoming(node)`` one incoming edge of a node, as written in an error. Edge tables
    and graphs share it, so both refuse the same things with the same words.

    >>> import numpy as np
    >>> from edgenet.graph.validate import roles_by_index
    >>> roles_by_index(["a", "b"], [None, None], np.array([0, 1]), np.array([1, 0]), None,
    ...                None, known={"a", "b"}, position=None, incoming=str)
    (['a'], ['b'])
    """
    where: Callable[[Hashable], int]
    if position is None:
        lookup = {n: i for i, n in enumerate(nodes)}
        where = lookup.__getitem__
    else:
        where = position
    code = np.fromiter((ROLE_CODE[r] for r in roles), np.int8, len(nodes))  # (n,)
    if inputs is not None:
        inputs = _listed(known, inputs, "inputs")
        chosen = np.zeros(len(nodes), dtype=bool)
        chosen[[where(n) for n in inputs]] = True
        stray = np.flatnonzero((code == ROLE_CODE["input"]) & ~chosen)
        if len(stray):
            raise EdgenetError(
                f"node {nodes[int(stray[0])]!r} has role 'input' but is not in "
                f"inputs={inputs!r}; list every input node, or change its role"
            )
    elif (code == ROLE_CODE["input"]).any():
        inputs = [nodes[i] for i in np.flatnonzero(code == ROLE_CODE["input"]).tolist()]
    else:
        inputs = [nodes[i] for i in np.flatnonzero((code == 0) & (indeg == 0)).tolist()]
    if outputs is not None:
        outputs = _listed(known, outputs, "outputs")
    elif (code == ROLE_CODE["output"]).any():
        outputs = [nodes[i] for i in np.flatnonzero(code == ROLE_CODE["output"]).tolist()]
    else:
        taken = np.zeros(len(nodes), dtype=bool)
        taken[[where(n) for n in inputs]] = True
        outputs = [nodes[i] for i in
                   np.flatnonzero((code == 0) & (outdeg == 0) & ~taken).tolist()]
    if not strict:
        return inputs, outputs
    if not inputs:
        raise EdgenetError(
            "the network has no inputs: add one with Network.add_input(node), give a node "
            "role='input', or pass compile(inputs=[...])"
        )
    if not outputs:
        raise EdgenetError(
            "the network has no outputs: add one with Network.add_output(node), give a node "
            "role='output', or pass compile(outputs=[...])"
        )
    both = set(inputs) & set(outputs)
    isolated = [n for n in inputs if n in both and not indeg[where(n)] + outdeg[where(n)]]
    if isolated:
        listed = ", ".join(shown(n) for n in isolated[:5])
        more = f" and {len(isolated) - 5:,} more" if len(isolated) > 5 else ""
        raise EdgenetError(
            f"{len(isolated):,} neurons have no edges ({listed}{more}), so each would be both "
            "an input and an output of the network; connect them, or remove them with "
            "G.remove_nodes_from(list(nx.isolates(G)))"
        )
    if both:
        n = next(iter(both))
        raise EdgenetError(
            f"node {n!r} is both an input and an output; route it through an output neuron "
            "(an 'identity' neuron with weight 1) instead"
        )
    for n in inputs:
        if indeg[where(n)]:
            raise EdgenetError(
                f"input node {n!r} has an incoming edge {incoming(n)}; inputs take their "
                "value from the input tensor, so they cannot have predecessors"
            )
    return inputs, outputs


def real(value: Any, what: str) -> float:
    """``value`` as a finite float, or an error naming ``what`` and showing the value.

    >>> import edgenet as en
    >>> en.graph.validate.real(3, "bias of node 'h'")
    3.0
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        if isinstance(value, (bool, np.bool_)) or getattr(value, "ndim", 1) != 0:
            raise EdgenetError(
                f"{what} is {value!r} of type {type(value).__name__}; expected a finite real number"
            )
        return real(value.item(), what)
    try:
        out = float(value)
    except OverflowError:
        raise EdgenetError(
            f"{what} is {shown(value)}, beyond the largest float ({sys.float_info.max!r}); "
            "expected a finite real number"
        ) from None
    if not math.isfinite(out):
        raise EdgenetError(f"{what} is {out!r}; expected a finite real number")
    return out


def refuse_complex(value: Any, what: str) -> None:
    """Raise an error naming ``what`` when ``value`` (a NumPy array, a torch tensor or a
    nested list of numbers) holds complex numbers: a cast to real would drop their
    imaginary parts. Anything else passes (the caller converts and checks it).

    >>> import numpy as np, edgenet as en
    >>> en.graph.validate.refuse_complex([[1, 0]], "mask")
    >>> try:
    ...     en.graph.validate.refuse_complex(np.array([[1, 1j]]), "mask")
    ... except en.EdgenetError as err:
    ...     print(str(err)[:62])
    mask holds complex numbers (complex128): mask[0, 1] is 1j; exp
    """
    if isinstance(value, torch.Tensor):
        if not value.is_complex():
            return
        value = value.detach().cpu().numpy()
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):  # ragged or not numeric: the caller's conversion says so
        return
    if arr.dtype.kind == "c":
        imaginary = np.argwhere(arr.imag != 0)
        at = tuple(int(i) for i in (imaginary[0] if len(imaginary) else np.zeros(arr.ndim, int)))
    elif arr.dtype.kind == "O":  # mixed Python objects: the first complex one
        found = [i for i in np.ndindex(arr.shape)
                 if isinstance(arr[i], (complex, np.complexfloating))]
        if not found:
            return
        at = found[0]
    else:
        return
    index = f"[{', '.join(map(str, at))}]" if at else ""
    entry = f"{what} is empty"
    if arr.size:
        v = arr[at]
        entry = f"{what}{index} is {v.item() if isinstance(v, np.generic) else v!r}"
    raise EdgenetError(
        f"{what} holds complex numbers ({arr.dtype}): {entry}; expected real numbers (take "
        "the real part first if that is what you mean)"
    )


def time_constant(value: Any, what: str) -> float:
    """A neuron's time constant ``tau`` from its attribute ``value``: 1.0 where absent,
    else a finite positive real (an error naming ``what`` otherwise).

    >>> from edgenet.graph.validate import time_constant
    >>> time_constant(None, "tau of node 'a'"), time_constant(5, "tau of node 'b'")
    (1.0, 5.0)
    """
    if value is None:
        return 1.0
    tau = real(value, what)
    if tau <= 0:
        raise EdgenetError(f"{what} is {tau!r}; expected a positive time constant")
    return tau


def shown(value: Any, limit: int = 40) -> str:
    """``repr(value)`` cut to ``limit`` characters (huge numbers included).

    >>> import edgenet as en
    >>> en.graph.validate.shown(-(2**100000))
    '-(an integer of 100001 bits)'
    """
    try:
        text = repr(value)
    except ValueError:  # an int too long to print
        return f"{'-' if value < 0 else ''}(an integer of {abs(value).bit_length()} bits)"
    return text if len(text) <= limit else f"{text[:limit - 3]}..."


_PLAIN_NUMBERS = {float, int, np.float64, np.float32, np.int64, np.int32}


def edge_weights(G: nx.DiGraph, edges: list[tuple[Any, Any, Any]]) -> np.ndarray:
    """Weights of ``edges`` (``(u, v, weight)`` triples) as float64; NaN marks a missing one.

    >>> import networkx as nx, edgenet as en
    >>> en.graph.validate.edge_weights(nx.DiGraph(), [("a", "b", 0.5), ("a", "c", None)])
    array([0.5, nan])
    """
    raw = [t[2] for t in edges]
    plain = bool(raw) and set(map(type, raw)) <= _PLAIN_NUMBERS
    if plain:
        try:
            out = np.asarray(raw, dtype=np.float64)
        except OverflowError:  # an int beyond float: the slow path names it
            plain = False
    if plain:
        bad = ~np.isfinite(out)
        if bad.any():
            raise weight_error(*edges[int(np.flatnonzero(bad)[0])])
        return out
    out = np.empty(len(raw), dtype=np.float64)
    for i, (u, v, w) in enumerate(edges):
        out[i] = np.nan if w is None else real(w, f"weight of edge ({u!r}, {v!r})")
    return out


def neuron_attributes(
    G: nx.DiGraph, node: Hashable, role: str
) -> tuple[str, float]:
    """The checked ``(activation, bias)`` of a non-input neuron, defaults applied."""
    data = G.nodes[node]
    summing(*aggregation(G, node), node)
    return activation_of(data.get("activation"), node, role), bias_of(data.get("bias"), node)


def summing(agg: str, response: float, node: Hashable) -> None:
    """Refuse a neuron whose checked ``agg`` and ``response`` (see :func:`aggregation`) the
    compiled engines cannot run: they compute ``act(bias + sum of weighted inputs)``.

    >>> import edgenet as en
    >>> en.graph.validate.summing("sum", 1.0, "h")
    """
    if agg != "sum":
        raise EdgenetError(
            f"node {node!r} has aggregation {agg!r}; compile's engines sum a neuron's weighted "
            "inputs: evaluate the graph with edgenet.compile_population([G]) (or its "
            ".member(0)), whose aggregation path runs every aggregation"
        )
    if response != 1.0:
        raise EdgenetError(
            f"node {node!r} has response {response!r}; compile's engines compute "
            "act(bias + sum of weighted inputs): multiply its incoming weights by the response "
            "(edgenet.from_neat does), or use edgenet.compile_population([G])"
        )


def activation_of(act: Any, node: Hashable, role: str) -> str:
    """A neuron's checked activation name from its attribute ``act`` (None: the default of
    its ``role``).

    >>> import edgenet as en
    >>> en.graph.validate.activation_of(None, "h", "hidden")
    'relu'
    """
    if act is None:
        act = DEFAULT_ACTIVATION[role]
    if not isinstance(act, str):
        raise EdgenetError(
            f"node {node!r} has activation {act!r} of type {type(act).__name__}; expected the "
            "name of a registered activation (see edgenet.activation_names())"
        )
    try:
        get_activation(act)
    except EdgenetError as err:
        raise EdgenetError(f"node {node!r}: {err}") from None
    return act


def bias_of(value: Any, node: Hashable) -> float:
    """A neuron's checked bias from its attribute ``value`` (None: 0).

    >>> import edgenet as en
    >>> en.graph.validate.bias_of(None, "h"), en.graph.validate.bias_of(2, "h")
    (0.0, 2.0)
    """
    return 0.0 if value is None else real(value, f"bias of node {node!r}")


def weight_error(u: Hashable, v: Hashable, w: Any) -> EdgenetError:
    """The error for edge ``(u, v)`` whose weight ``w`` is not a finite real number.

    >>> from edgenet.graph.validate import weight_error
    >>> str(weight_error("a", "b", float("nan")))
    "edge ('a', 'b') has weight nan; expected a finite real number"
    """
    return EdgenetError(
        f"edge ({u!r}, {v!r}) has weight {float(w)!r}; expected a finite real number"
    )


#: How a neuron may combine its weighted inputs (node attribute ``aggregation``, default
#: ``"sum"``): neat-python's built-in aggregations.
AGGREGATIONS = ("sum", "product", "max", "min", "maxabs", "median", "mean")


def aggregation(G: nx.DiGraph, node: Hashable) -> tuple[str, float]:
    """The checked ``(aggregation, response)`` of a neuron, which computes
    ``act(bias + response * aggregation(w_u * h_u for its inputs u))``: ``aggregation``
    is one of :data:`AGGREGATIONS` (absent: ``"sum"``), ``response`` a finite real
    (absent: 1). :func:`edgenet.compile` runs ``("sum", 1.0)`` only.

    >>> import networkx as nx, edgenet as en
    >>> G = nx.DiGraph([("x", "y")]); G.nodes["y"].update(aggregation="max", response=2)
    >>> en.graph.validate.aggregation(G, "y"), en.graph.validate.aggregation(G, "x")
    (('max', 2.0), ('sum', 1.0))
    """
    data = G.nodes[node]
    return aggregation_of(data.get("aggregation"), data.get("response"), node)


def aggregation_of(agg: Any, response: Any, node: Hashable) -> tuple[str, float]:
    """:func:`aggregation` from the attribute values ``agg`` and ``response`` of ``node``.

    >>> import edgenet as en
    >>> en.graph.validate.aggregation_of(None, 0.5, "h")
    ('sum', 0.5)
    """
    if agg is None and response is None:
        return "sum", 1.0
    agg = "sum" if agg is None else agg
    if not isinstance(agg, str) or agg not in AGGREGATIONS:
        raise EdgenetError(
            f"node {node!r} has aggregation {shown(agg)}; expected one of "
            f"{', '.join(map(repr, AGGREGATIONS))}"
        )
    return agg, 1.0 if response is None else real(response, f"response of node {node!r}")


#: The seeds ``torch.Generator.manual_seed`` takes.
SEEDS = (-(2**63), 2**64 - 1)


def check_seed(seed: Any) -> None:
    """Refuse a ``seed`` that is neither ``None`` nor an integer torch can seed with.

    >>> import edgenet as en
    >>> try:
    ...     en.graph.validate.check_seed("abc")
    ... except en.EdgenetError as err:
    ...     print(str(err)[:25])
    seed='abc' of type str; e
    """
    if seed is None:
        return
    if not isinstance(seed, int) or isinstance(seed, bool) or not (
            SEEDS[0] <= seed <= SEEDS[1]):
        raise EdgenetError(
            f"seed={shown(seed)} of type {type(seed).__name__}; expected None or a Python int from "
            f"-2**63 to 2**64 - 1"
        )


def check_fits(
    dtype: torch.dtype,
    weights: np.ndarray,
    biases: np.ndarray,
    edge: Callable[[int], Any],
    neuron: Callable[[int], Any],
    taus: np.ndarray | None = None,
) -> None:
    """Refuse finite weights, biases or time constants ``taus`` (float64 arrays; NaN marks
    a missing value) that ``dtype`` cannot hold: they would become infinite. ``edge(i)``
    and ``neuron(i)`` name the owner of entry ``i``; they are called only to write the
    message.

    >>> import numpy as np, torch, edgenet as en
    >>> try:
    ...     en.graph.validate.check_fits(torch.float32, np.array([0.5, 1e300]), np.array([0.0]),
    ...                            lambda i: ("a", "b"), lambda i: "b")
    ... except en.EdgenetError as err:
    ...     print(str(err)[:57])
    edge ('a', 'b') has weight 1e+300, which torch.float32 ca
    """
    for values, what, plural, owner in ((weights, "weight", "weights", edge),
                                        (biases, "bias", "biases", neuron),
                                        (taus if taus is not None else biases[:0], "tau",
                                         "time constants", neuron)):
        if not len(values):
            continue
        top = float(np.nanmax(np.abs(values))) if not np.isnan(values).all() else 0.0
        if top <= torch.finfo(dtype).max:
            continue
        cast = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float64)).to(dtype)
        bad = torch.isinf(cast) & torch.from_numpy(np.isfinite(values))
        if not bool(bad.any()):
            continue
        i = int(torch.nonzero(bad)[0])
        value = float(values[i])
        wider = [t for t in (torch.float32, torch.float64)
                 if torch.finfo(t).max >= torch.finfo(dtype).max and not torch.isinf(
                     torch.tensor(value, dtype=torch.float64).to(t))]
        name = f"edge {tuple(owner(i))!r}" if what == "weight" else f"node {owner(i)!r}"
        raise EdgenetError(
            f"{name} has {what} {value!r}, which {dtype} cannot hold (its largest value is "
            f"{torch.finfo(dtype).max!r}); use dtype={wider[0]} or scale the {plural} down"
        )


def host_tensor(t: torch.Tensor, what: str) -> torch.Tensor:
    """``t`` detached on the CPU with values NumPy can hold (bfloat16 and float16 are
    widened to float64, which holds each of their values exactly), or an error naming
    ``what`` for a tensor whose values cannot be read: a meta tensor (a shape without
    values) or a sparse one.

    >>> import torch, edgenet as en
    >>> en.graph.validate.host_tensor(torch.tensor([0.1], dtype=torch.bfloat16), "w").tolist()
    [0.10009765625]
    >>> try:
    ...     en.graph.validate.host_tensor(torch.ones(2, device="meta"), "data.edge_weight")
    ... except en.EdgenetError as err:
    ...     print(str(err)[:47])
    data.edge_weight is a meta tensor: it has a sha
    """
    if t.is_meta:
        raise EdgenetError(
            f"{what} is a meta tensor: it has a shape {tuple(t.shape)} but no values to read; "
            "expected a tensor on the CPU or a GPU (materialise a meta module with "
            "module.to_empty(device='cpu') and load its weights first)"
        )
    if t.layout != torch.strided:
        raise EdgenetError(
            f"{what} is a sparse tensor (layout {t.layout}); expected a dense one: pass "
            "it as t.to_dense()"
        )
    t = t.detach().cpu()
    return t.double() if t.dtype in (torch.bfloat16, torch.float16) else t


def _numeric(value: Any) -> bool:
    """A real number (not a bool), or a one-element list of one (PyG's ``(E, 1)`` fields)."""
    if isinstance(value, (list, tuple)) and len(value) == 1:
        value = value[0]
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def warn_unweighted(G: nx.DiGraph, edges: list[tuple[Any, Any, Any]], weights: np.ndarray,
                    looked: int = 1000) -> None:
    """Warn when edges without a ``weight`` (NaN in ``weights``, one per ``(u, v, weight)``
    triple of ``edges``) carry another numeric attribute: their weights were probably
    stored under another name (PyG's ``to_networkx(data, edge_attrs=["edge_weight"])``
    does this), and compile would draw random ones in their place. The first ``looked``
    edges without a weight are looked at.

    >>> import warnings, networkx as nx, numpy as np, edgenet as en
    >>> G = nx.DiGraph([("a", "b", {"edge_weight": 0.5})])
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     en.graph.validate.warn_unweighted(G, [("a", "b", None)], np.array([np.nan]))
    >>> print(str(caught[0].message)[:63])
    1 of 1 edges have no 'weight' but carry the numeric attribute '
    """
    missing = np.flatnonzero(np.isnan(weights))
    for i in missing[:looked].tolist():
        u, v, _ = edges[i]
        for key, value in G.succ[u][v].items():
            if _numeric(value):
                warnings.warn(
                    f"{len(missing):,} of {len(edges):,} edges have no 'weight' but carry the "
                    f"numeric attribute {key!r} (edge ({u!r}, {v!r}) has {key}={shown(value)}); "
                    f"compile draws random initial weights for them. If {key!r} holds the "
                    "weights, copy it first: nx.set_edge_attributes(G, nx.get_edge_attributes("
                    f"G, {key!r}), 'weight') (from PyG data, edgenet.from_pyg(data) reads the "
                    "weights itself); delete or rename the attribute to silence this",
                    stacklevel=4,
                )
                return
