"""Change a compiled network's graph while it trains: remove and add edges and neurons.

Rewiring works on the arrays of the compiled layout, never through NetworkX: the kept
edges and neurons are renumbered, the new ones appended, and the layout is rebuilt by
the same function :func:`edgenet.compile` uses (:func:`edgenet.model.tensors.arrange`). The
model's ``weight`` and ``bias`` stay the same ``Parameter`` objects (their data changes
size), so an optimizer built before keeps working; with ``optimizer=`` every state
tensor shaped like a parameter (momentum, Adam's moments, ...) follows its edge or
neuron, and is zero for new ones. An absent edge has no parameter and no state at all:
nothing can revive it.

Afterwards the model is exactly what compiling ``model.to_network()`` afresh would give.

>>> import torch, edgenet as en
>>> net = en.Network(); net.add_input("a"); net.add_input("b"); net.add_output("y")
>>> net.add_edge("a", "y", weight=1.0)
>>> model = net.compile()
>>> opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
>>> model.rewire(remove=[("a", "y")], add=[("b", "y")], weights=[2.0], optimizer=opt)
>>> model.edges, model.weight.tolist()
([('b', 'y')], [2.0])
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..activations import CODES, get_activation
from ..errors import CycleError, EdgenetError
from ..graph.validate import check_fits, real
from .source import Source
from .tensors import arrange

if TYPE_CHECKING:
    from .base import CompiledModel
    from .dag import CompiledNetwork

Edge = tuple[Hashable, Hashable]


def listed(values: Any, what: str, expected: str) -> list[Any]:
    """``values`` as a list, or an error naming ``what`` and saying what is ``expected``
    (a string is not taken as a list of its characters).

    >>> listed((1, 2), "weights=", "a list of numbers")
    [1, 2]
    """
    if isinstance(values, (str, bytes, Mapping)):
        raise EdgenetError(f"{what} must be {expected} (got {values!r})")
    try:
        return list(values)
    except TypeError:
        raise EdgenetError(f"{what} must be {expected} (got {values!r} of type "
                           f"{type(values).__name__})") from None


def node(n: Any, what: str) -> Hashable:
    """``n`` if it can be a node (hashable), else an error naming where it came from."""
    try:
        hash(n)
    except TypeError:
        raise EdgenetError(f"{what} names {n!r} of type {type(n).__name__}, which cannot be a "
                           "node: nodes are hashable values such as str, int or tuple") from None
    return n


def edge_list(edges: Iterable[Edge], what: str) -> list[Edge]:
    """``edges`` as a list of ``(source, target)`` pairs, each listed once."""
    out = []
    for e in listed(edges, f"{what}=", "a list of (source, target) pairs"):
        if not isinstance(e, (tuple, list)) or len(e) != 2:
            raise EdgenetError(
                f"{what}= must hold (source, target) pairs; got {e!r}"
            )
        out.append((node(e[0], f"{what}= edge {e!r}"), node(e[1], f"{what}= edge {e!r}")))
    if len(set(out)) < len(out):  # name the first edge listed twice
        seen: set[Edge] = set()
        for e in out:
            if e in seen:
                raise EdgenetError(f"{what}= lists edge {e!r} twice; each edge may appear once")
            seen.add(e)
    return out


def removed_neurons(remove_neurons: Iterable[Hashable], known: Iterable[Hashable],
                    inputs: Iterable[Hashable], outputs: Iterable[Hashable]) -> list[Hashable]:
    """``remove_neurons`` as a list without repeats, each a hidden neuron among ``known``."""
    gone = list(dict.fromkeys(node(n, "remove_neurons=") for n in listed(
        remove_neurons, "remove_neurons=", "a list of nodes")))
    known, inputs, outputs = set(known), set(inputs), set(outputs)
    for n in gone:
        if n not in known:
            raise EdgenetError(f"remove_neurons= names {n!r}, which is not a node of the network")
        if n in inputs or n in outputs:
            raise EdgenetError(f"remove_neurons= names {'input' if n in inputs else 'output'} "
                               f"{n!r}; only hidden neurons can be removed (inputs and outputs "
                               "fix the model's shape)")
    return gone


def new_neurons(known: set[Hashable], neurons: Mapping[Hashable, Mapping[str, Any]] | None,
                removing: set[Hashable]) -> dict[Hashable, dict[str, Any]]:
    """The checked attributes of the neurons ``neurons=`` adds to a network of ``known``
    nodes (defaults applied), none of them among those ``removing``."""
    specs: dict[Hashable, dict[str, Any]] = {}
    if neurons is not None and not isinstance(neurons, Mapping):
        raise EdgenetError(f"neurons= must be a dict of new neurons and their attributes, such "
                           f"as {{'n': {{'activation': 'relu', 'bias': 0.0}}}} (got {neurons!r})")
    for n, spec in dict(neurons or {}).items():
        if n in known:
            raise EdgenetError(f"neurons= adds {n!r}, which is already a node of the network")
        if not isinstance(spec, Mapping):
            raise EdgenetError(f"neurons= gives {n!r} the attributes {spec!r}; expected a dict "
                               "such as {'activation': 'relu', 'bias': 0.0}")
        attrs = dict(spec)
        role = attrs.get("role", "hidden")
        if role != "hidden":
            raise EdgenetError(f"neurons= gives {n!r} role {role!r}; new neurons are hidden "
                               "(inputs and outputs are fixed by the model's shape)")
        act = attrs.get("activation", "relu")
        if not isinstance(act, str):
            raise EdgenetError(f"neurons= gives {n!r} activation {act!r}; expected the name of a "
                               "registered activation (see edgenet.activation_names())")
        get_activation(act)
        attrs["role"], attrs["activation"] = "hidden", act
        attrs["bias"] = real(attrs.get("bias", 0.0), f"the bias of new neuron {n!r}")
        specs[n] = attrs
    both = removing & set(specs)
    if both:
        raise EdgenetError(f"neuron {sorted(both, key=repr)[0]!r} is both in neurons= and "
                           "remove_neurons=")
    return specs


def added_weights(weights: Sequence[float] | None, add: list[Edge]) -> np.ndarray:
    """The initial weights of the edges in ``add`` (float64; 0.0 when ``weights`` is None)."""
    if weights is None:
        return np.zeros(len(add))
    weights = listed(weights, "weights=", "a list of numbers, one per edge in add=")
    if len(weights) != len(add):
        raise EdgenetError(f"weights= has {len(weights)} values for {len(add)} added edges; "
                           "give one weight per edge in add=, or none for 0.0")
    return np.array([real(w, f"the weight of added edge {e!r}") for w, e in zip(weights, add)],
                    dtype=np.float64)


def edge_origins(keep: np.ndarray, n_added: int) -> np.ndarray:
    """Where each edge of a rewired network comes from, for its edges listed as the kept
    ones (their old positions ``keep``) and then the ``n_added`` added ones: the old
    position, or -1 for an added edge. An added edge is new even when the same
    ``(u, v)`` is removed in the same call: it starts at the weight given in ``weights=``
    with zero gradient and optimizer state, and nothing of the removed edge carries over.

    >>> edge_origins(np.array([0, 2]), 1).tolist()
    [0, 2, -1]
    """
    return np.concatenate((np.asarray(keep, dtype=np.int64), np.full(n_added, -1, np.int64)))


def unknown_node(what: str, edge: Edge, n: Hashable, gone: set[Hashable]) -> EdgenetError:
    """The refusal of an edge in ``what=`` whose node ``n`` is not (or no longer) there;
    every model's rewire raises its edge refusals from these four functions.

    >>> str(unknown_node("add", ("a", "b"), "b", set()))
    "add= edge ('a', 'b'): node 'b' is not a node of the network"
    """
    why = "is being removed" if n in gone else "is not a node of the network"
    return EdgenetError(f"{what}= edge {edge!r}: node {n!r} {why}")


def not_an_edge(edge: Edge) -> EdgenetError:
    """The refusal of a ``remove=`` edge the network does not have."""
    return EdgenetError(f"remove= edge {edge!r} is not an edge of the network")


def into_input(edge: Edge) -> EdgenetError:
    """The refusal of an ``add=`` edge into an input."""
    return EdgenetError(f"add= edge {edge!r} goes into input {edge[1]!r}; inputs take no edges")


def already_exists(edge: Edge) -> EdgenetError:
    """The refusal of an ``add=`` edge the network already has."""
    return EdgenetError(f"add= edge {edge!r} already exists")


def check_optimizer(optimizer: Any) -> None:
    """Refuse an ``optimizer=`` that is not a ``torch.optim.Optimizer`` whose state can
    follow the edges (LBFGS keeps a history of whole flattened parameter vectors, which no
    longer line up once the edges change).

    >>> check_optimizer(None)
    """
    if optimizer is None:
        return
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise EdgenetError(f"optimizer= must be a torch.optim.Optimizer built on the model's "
                           f"parameters, or None (got {optimizer!r})")
    if isinstance(optimizer, torch.optim.LBFGS):
        raise EdgenetError("optimizer= is LBFGS, whose history holds whole flattened "
                           "parameter vectors that no longer line up with the edges after a "
                           "rewire; build a new LBFGS after rewiring instead")


#: Per-entry optimizer state that a fresh parameter does not start at zero: the value a
#: new edge or neuron gets, from its parameter group (every other state tensor starts at
#: zero, as torch's optimizers start it). Rprop's step size starts at the learning rate
#: (at zero a new edge would never move); Adagrad's sum at its initial accumulator.
FRESH_STATE: dict[tuple[type, str], Callable[[dict[str, Any]], float]] = {
    (torch.optim.Rprop, "step_size"): lambda group: float(group["lr"]),
    (torch.optim.Adagrad, "sum"): lambda group: float(group["initial_accumulator_value"]),
}


def fresh(optimizer: torch.optim.Optimizer, p: torch.nn.Parameter, key: str) -> float:
    """The value optimizer state ``key`` of a new entry of ``p`` starts at (see
    :data:`FRESH_STATE`).

    >>> w = torch.nn.Parameter(torch.zeros(2))
    >>> fresh(torch.optim.Rprop([w], lr=0.05), w, "step_size")
    0.05
    >>> fresh(torch.optim.Adam([w]), w, "exp_avg")
    0.0
    """
    for (kind, name), value in FRESH_STATE.items():
        if isinstance(optimizer, kind) and key == name:
            group = next(g for g in optimizer.param_groups if any(q is p for q in g["params"]))
            return value(group)
    return 0.0


def carried(moves: list[tuple[torch.nn.Parameter, np.ndarray, torch.Tensor]],
            optimizer: torch.optim.Optimizer | None) -> Callable[[], None]:
    """Prepare new data, gradients and optimizer state for parameters whose entries move:
    ``(p, source, init)`` says entry ``i`` comes from ``p[source[i]]``, or is ``init[i]``
    where ``source[i] < 0`` (its gradient starts at zero, its optimizer state where a
    fresh parameter's would: :func:`fresh`). Returns the commit, which cannot fail."""
    check_optimizer(optimizer)
    sources = [where_from(f, p.device) for p, f, _ in moves]
    new_data = [moved(p.detach(), at, init) for (p, _, init), at in zip(moves, sources)]
    new_grads = [None if p.grad is None else moved(p.grad, at)
                 for (p, _, _), at in zip(moves, sources)]
    new_state: list[tuple[dict[str, Any], str, torch.Tensor]] = []
    if optimizer is not None:
        for (p, _, _), at in zip(moves, sources):
            state = optimizer.state.get(p, {})
            for key, value in state.items():
                if isinstance(value, torch.Tensor) and value.shape == p.shape and value.dim():
                    start = torch.full(at[0].shape, fresh(optimizer, p, key), dtype=value.dtype,
                                       device=value.device)  # (n,) the new entries' state
                    new_state.append((state, key, moved(value, at, start)))

    def commit() -> None:
        for (p, _, _), data, grad in zip(moves, new_data, new_grads):
            resize(p, data)
            p.grad = grad
        for state, key, value in new_state:
            state[key] = value

    return commit


@dataclass(frozen=True)
class Edit:
    """One checked rewiring request: what :meth:`~edgenet.model.base.CompiledModel.rewire`
    reads from its arguments, the same way for the DAG and the recurrent model, before
    either touches its structure. ``specs`` maps each new neuron to its attributes
    (defaults applied), ``weights`` holds the initial weight of each edge in ``add``."""

    remove: list[Edge]
    add: list[Edge]
    specs: dict[Hashable, dict[str, Any]]
    gone: list[Hashable]
    weights: np.ndarray

    @classmethod
    def checked(cls, model: CompiledModel, remove: Iterable[Edge], add: Iterable[Edge],
                neurons: Mapping[Hashable, Mapping[str, Any]] | None,
                remove_neurons: Iterable[Hashable], weights: Sequence[float] | None) -> Edit:
        """Check the arguments of ``model.rewire`` against the model (nodes known, inputs
        and outputs kept, weights and biases finite and within the model's dtype, built-in
        activations where the engine needs them) and return them as an :class:`Edit`.

        >>> import edgenet as en
        >>> net = en.Network(); net.add_input("x"); net.add_output("y"); net.add_edge("x", "y")
        >>> Edit.checked(net.compile(), [("x", "y")], [], None, [], None).remove
        [('x', 'y')]
        """
        remove = edge_list(remove, "remove")
        add = edge_list(add, "add")
        known = model._source.nodes
        gone = removed_neurons(remove_neurons, known, model.inputs, model.outputs)
        specs = new_neurons(set(known), neurons, set(gone))
        new_w = added_weights(weights, add)
        names = list(specs)
        check_fits(model.weight.dtype, new_w,
                   np.array([s["bias"] for s in specs.values()], dtype=np.float64),
                   add.__getitem__, names.__getitem__)
        engine = getattr(model, "engine", "auto")
        if engine not in ("auto", "sparse", "dense"):
            custom = sorted({s["activation"] for s in specs.values()} - set(CODES))
            if custom:
                raise EdgenetError(f"engine={engine!r} runs built-in activations only; new "
                                   f"neurons use {custom!r}: set model.engine = 'auto' first")
        return cls(remove, add, specs, gone, new_w)


def rewire(model: CompiledNetwork, edit: Edit,
           optimizer: torch.optim.Optimizer | None = None) -> None:
    """Apply a checked :class:`Edit` to a DAG model in place (see
    :meth:`~edgenet.model.base.CompiledModel.rewire`), on the arrays of its layout.

    >>> import torch, edgenet as en
    >>> net = en.Network(); net.add_input("x"); net.add_output("y"); net.add_edge("x", "y")
    >>> model = net.compile()
    >>> edit = Edit.checked(model, [], [("x", "n"), ("n", "y")],
    ...                     {"n": {"activation": "identity"}}, [], [1.0, 0.5])
    >>> rewire(model, edit); model.layout.depth  # a skip connection past the new neuron
    2
    """
    remove, add, specs, gone, new_w = edit.remove, edit.add, edit.specs, edit.gone, edit.weights
    dtype = model.weight.dtype

    # Rows of the current layout, and the canonical node order of the new graph.
    L = model.layout
    rows = model._nodes
    row_of = {n: r for r, n in enumerate(rows)}
    inputs = set(model.inputs)
    gone_set = set(gone)
    source = model._source
    nodes = [n for n in source.nodes if n not in gone_set] + list(specs)
    index = {n: i for i, n in enumerate(nodes)}

    # Edges in row space (old rows; new neurons take the rows after them).
    N = len(rows)
    new_row = {n: N + i for i, n in enumerate(specs)}
    src, dst = model.edge_rows()
    keys = dst * (N + len(specs)) + src  # sorted: the layout orders edges by target, source
    M = N + len(specs)

    live = {**row_of, **new_row}
    for n in gone_set:
        live.pop(n, None)

    def rows_of(edges: list[Edge], what: str) -> tuple[np.ndarray, np.ndarray]:
        """Source and target rows of ``edges``, or an error naming the first unknown node."""
        u = np.array([live.get(a, -1) for a, _ in edges], dtype=np.int64)
        v = np.array([live.get(b, -1) for _, b in edges], dtype=np.int64)
        bad = np.flatnonzero((u < 0) | (v < 0))
        if bad.size:
            edge = edges[int(bad[0])]
            raise unknown_node(what, edge, edge[0] if u[bad[0]] < 0 else edge[1], gone_set)
        return u, v

    drop = np.zeros(len(keys), dtype=bool)
    if remove:
        rem_u, rem_v = rows_of(remove, "remove")
        want = rem_v * M + rem_u
        at = np.minimum(np.searchsorted(keys, want), max(len(keys) - 1, 0))
        missing = np.flatnonzero(keys[at] != want) if len(keys) else np.arange(len(want))
        if missing.size:
            raise not_an_edge(remove[int(missing[0])])
        drop[at] = True
    if gone:
        dead = np.zeros(M, dtype=bool)
        dead[[row_of[n] for n in gone]] = True
        drop |= dead[src] | dead[dst]
    add_src, add_dst = rows_of(add, "add")
    bad = np.flatnonzero((add_src == add_dst) | (add_dst < len(inputs)))  # inputs: rows 0..
    if bad.size:
        e = add[int(bad[0])]
        if add_src[bad[0]] == add_dst[bad[0]]:
            raise CycleError([e[0]])  # a self-loop is a cycle of one node
        raise into_input(e)
    if len(keys) and add:
        want = add_dst * M + add_src
        at = np.minimum(np.searchsorted(keys, want), len(keys) - 1)
        exists = np.flatnonzero((keys[at] == want) & ~drop[at])
        if exists.size:
            raise already_exists(add[int(exists[0])])
    keep = np.flatnonzero(~drop)

    # The new layout, over canonical node ids.
    canon = np.array([index.get(n, -1) for n in rows] + [index[n] for n in specs],
                     dtype=np.int64)  # row (old or new) -> canonical id (-1: removed)
    acts = [""] * len(nodes)
    for n, act in zip(model.neurons, model.activations):
        if n not in gone_set:
            acts[index[n]] = act
    for n, s in specs.items():
        acts[index[n]] = s["activation"]
    arr = arrange(
        len(nodes),
        inputs=np.array([index[n] for n in model.inputs], dtype=np.int64),
        outputs=np.array([index[n] for n in model.outputs], dtype=np.int64),
        src=np.concatenate((canon[src[keep]], canon[add_src])),
        dst=np.concatenate((canon[dst[keep]], canon[add_dst])),
        activations=acts,
        rank=np.arange(len(nodes)),
        name=nodes.__getitem__,
        nearly_sorted=True,
    )

    # Where every new edge and neuron comes from: an old position, or -1 when new.
    edge_from = edge_origins(keep, len(add))[arr.edge_index]
    old_of_id = np.full(len(nodes), -1, dtype=np.int64)
    alive = canon[:N] >= 0
    old_of_id[canon[:N][alive]] = np.flatnonzero(alive)
    bias_from = old_of_id[arr.row_node[L.n_in:]] - L.n_in  # old bias index, < 0 when new
    bias_from[bias_from < 0] = -1

    device = model.weight.device
    w_init = torch.as_tensor(np.concatenate((np.zeros(len(keep)), new_w))[arr.edge_index],
                             dtype=dtype, device=device)
    b_new = np.zeros(len(bias_from))
    for r in np.flatnonzero(bias_from < 0).tolist():
        b_new[r] = specs[nodes[arr.row_node[L.n_in + r]]]["bias"]
    b_init = torch.as_tensor(b_new, dtype=dtype, device=device)
    moves = [(model.weight, edge_from, w_init), (model.bias, bias_from, b_init)]
    commit = carried(moves, optimizer)

    # Nothing can fail from here on: commit.
    old_seq = source.seq
    next_seq = int(old_seq.max()) + 1 if len(old_seq) else 0
    seq = np.concatenate((old_seq[keep], next_seq + np.arange(len(add))))[arr.edge_index]
    node_attrs = {n: source.node_attrs[n] for n in nodes if n in source.node_attrs}
    node_attrs.update({n: copy.deepcopy(s) for n, s in specs.items()})
    dropped = {(rows[u], rows[v]) for u, v in zip(src[drop].tolist(), dst[drop].tolist())}
    edge_attrs = {e: a for e, a in source.edge_attrs.items() if e not in dropped}
    new_source = Source(source.graph, nodes, node_attrs, edge_attrs, list(source.inputs),
                        list(source.outputs), seq)
    commit()
    activations = [acts[i] for i in arr.row_node[L.n_in:].tolist()]
    model._set_structure(arr.layout, new_source, activations, arr.row_node)


def resize(p: torch.nn.Parameter, data: torch.Tensor) -> None:
    """``p.data = data`` for data of another shape, keeping ``p`` the same object.

    Autograd caches a parameter's gradient accumulator, with the shape it had, for as
    long as any graph that used it is alive (a loss tensor the training loop still holds);
    a graph built after a change of shape would reuse it and refuse the new gradient.
    Torch resets the accumulator when the data changes dtype, so the data passes through
    an empty tensor of another dtype first.

    Assigning ``.data`` leaves the version counter alone, so a graph recorded before the
    change (a loss computed before :func:`rewire`, backpropagated after it) would run its
    backward on the new data through the old structure: native kernels writing outside
    their arrays, or gradients of edges absent from the forward pass. The version is
    bumped, as an in-place edit bumps it, so every backward that saved ``p`` refuses.

    >>> p = torch.nn.Parameter(torch.ones(3)); loss = (p * p).sum()
    >>> resize(p, torch.ones(2))
    >>> try:
    ...     loss.backward()
    ... except RuntimeError as err:
    ...     print("modified by an inplace operation" in str(err))
    True
    """
    other = torch.float32 if data.dtype == torch.float64 else torch.float64
    p.data = data.new_empty(0, dtype=other)
    p.data = data
    torch.autograd.graph.increment_version(p)


def where_from(source: np.ndarray, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """``(index, kept)`` for :func:`moved`: ``source`` with new entries (``< 0``) pointed at
    0, and which entries are kept; made once per parameter, used for its data, gradient and
    every optimizer state."""
    index = torch.as_tensor(source, device=device)  # (n,)
    return index.clamp(min=0), index >= 0


def moved(old: torch.Tensor, at: tuple[torch.Tensor, torch.Tensor],
          init: torch.Tensor | None = None) -> torch.Tensor:
    """``out[i] = old[source[i]]`` where ``source[i] >= 0``, else ``init[i]`` (0 without
    ``init``), for ``at = where_from(source, ...)``.

    >>> old = torch.tensor([1.0, 2.0]); at = where_from(np.array([1, -1, 0]), old.device)
    >>> moved(old, at).tolist(), moved(old, at, torch.full((3,), 9.0)).tolist()
    ([2.0, 0.0, 1.0], [2.0, 9.0, 1.0])
    """
    index, kept = at
    if old.numel() == 0:  # nothing to carry (and nothing to gather from)
        return init.clone() if init is not None else old.new_zeros(index.shape)
    # A gather and a select: far faster than an indexed write (index_put_) on the CPU.
    picked = old.index_select(0, index.to(old.device))  # (n,)
    if init is None:
        return picked.masked_fill_(~kept.to(old.device), 0)
    return torch.where(kept, picked.to(init.dtype), init)
