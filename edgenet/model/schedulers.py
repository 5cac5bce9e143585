r"""Sparse training schedulers: the edge count stays constant while the wiring changes.

Every ``every`` optimizer steps a scheduler removes the ``fraction`` of edges with the
smallest ``|weight|`` and regrows as many among the candidate edges: uniformly at
random (:class:`SET`, Mocanu et al. 2018) or where the loss gradient of an absent edge
would be largest (:class:`RigL`, Evci et al. 2020). The fraction decays on a cosine
to 0 at ``until`` (RigL's schedule):

.. math::

    f_t = \frac{f}{2} \left(1 + \cos \frac{\pi t}{T}\right)

Regrown edges start at weight 0 with zeroed optimizer state, through
:meth:`~edgenet.CompiledNetwork.rewire`: a removed edge has no parameter and no state,
so nothing (momentum, weight decay) can revive it. An edge just dropped may be regrown
in the same step (when it is a candidate); it is then a new edge at weight 0.

Exactly as many edges are regrown as are dropped: when fewer candidate pairs are free
(absent once the weakest are dropped), ``step()`` raises :class:`~edgenet.EdgenetError`
naming both counts and changes nothing (model, optimizer state, step count), rather than
let the edge count shrink. Listing a pair twice (repeated edges, overlapping blocks)
counts it once.

Candidates (where edges may grow):

* ``"layers"`` (the default on a DAG, as in the SET and RigL papers): the pairs of the
  initial layer structure. At construction every node gets a layer (its topological
  generation: inputs 0, a neuron without incoming edges 1, an output without any edge
  the last layer), and the candidates are every ``(u, v)`` whose ``(layer of u, layer of
  v)`` is the layer pair of some edge at that moment: a 2-layer MLP stays a 2-layer MLP.
  Nodes added later by a rewire of your own have no layer and are not candidates.
* ``"forward"``: every ``(u, v)`` with ``u`` before ``v`` in the current topological order
  (the layout's rows) and ``v`` not an input, so no cycle can form (hidden-to-hidden
  edges within a layer and skip connections included).
* ``"any"`` (the default, and the only built-in set, on a
  :class:`~edgenet.RecurrentNetwork`): every ``(u, v)`` with ``v`` not an input,
  self-loops and cycles included. Refused on a DAG.
* an iterable of edges, or bipartite blocks ``[(sources, targets), ...]`` with
  ``sources`` and ``targets`` lists of nodes (the seed's masked layers: only those blocks).

On a DAG a candidate pair is grown only while it is forward in the current row order (a
backward pair could close a cycle, and the row order changes as the wiring does): a
:class:`UserWarning` at construction says how many listed pairs are not forward then.
(``"layers"`` pairs are forward but where a node of a later layer has no path from
the earlier one, such as an output fed only by inputs; they are not warned about.)
Listed pairs whose node a later ``rewire(remove_neurons=...)`` removed are skipped.

>>> import torch, edgenet as en
>>> net = en.Network(); net.add_input("a"); net.add_input("b"); net.add_output("y")
>>> net.add_edge("a", "y", weight=0.1)
>>> model = en.compile(net)
>>> opt = torch.optim.SGD(model.parameters(), lr=0.1)
>>> sched = en.SET(model, opt, fraction=1.0, every=1, seed=0, candidates=[("b", "y")])
>>> sched.step()
>>> model.edges, model.weight.tolist(), sched.last
([('b', 'y')], [0.0], ([('a', 'y')], [('b', 'y')]))
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..errors import EdgenetError
from ..kernels import backends

if TYPE_CHECKING:
    from .base import CompiledModel
    from .dag import CompiledNetwork
    from .tensors import Layout

Edge = tuple[Hashable, Hashable]
#: Elements of one block of candidate scores (``targets x sources``) RigL holds at a time.
SCORE_BLOCK = 1 << 22


class _Schedule:
    """Drop the weakest edges every ``every`` steps and regrow as many (see module docs)."""

    def __init__(self, model: CompiledModel, optimizer: torch.optim.Optimizer | None,
                 fraction: float = 0.3, every: int = 100, until: int | None = None,
                 candidates: str | Iterable[Edge] | Sequence[tuple[Sequence[Hashable],
                                                                   Sequence[Hashable]]]
                 | None = None):
        """The arguments of :class:`SET` and :class:`RigL`.

        Parameters
        ----------
        model : CompiledNetwork or RecurrentNetwork
            The model whose edges are rewired, in place (:class:`RigL`: a DAG only).
        optimizer : torch.optim.Optimizer or None
            The optimizer of ``model``'s parameters: its state of every regrown edge is
            zeroed (:meth:`~edgenet.CompiledNetwork.rewire`); ``None`` when there is no
            optimizer state to keep in step.
        fraction : float
            The fraction of the edges dropped and regrown at a rewiring step, in
            ``[0, 1]``, before the cosine decay.
        every : int
            Rewire at every ``every``-th call of :meth:`step` (a positive int).
        until : int or None
            The step at which the fraction has decayed to 0 (a positive int); ``None``
            keeps it constant.
        candidates : "layers", "forward", "any", edges, ``(sources, targets)`` blocks or None
            Where edges may grow (see the module docstring); ``None``: ``"layers"`` on a
            DAG, ``"any"`` on a recurrent network.
        """
        real = (int, float, np.integer, np.floating)
        if isinstance(fraction, bool) or not isinstance(fraction, real) \
                or not 0 <= float(fraction) <= 1:
            kind = f" of type {type(fraction).__name__}" if isinstance(fraction, bool) else ""
            raise EdgenetError(f"fraction must be a number in [0, 1] (got {fraction!r}{kind})")
        _check_model(model, type(self).__name__)
        self.model, self.optimizer = model, optimizer
        self.fraction = float(fraction)
        self.every = _count(every, "every", "a positive int")
        self.until = None if until is None else _count(until, "until", "a positive int or None")
        self.candidates = _candidates(model, candidates)
        self.t = 0  # optimizer steps seen
        #: ``(removed, added)`` edges of the last rewiring step.
        self.last: tuple[list[Edge], list[Edge]] = ([], [])

    def current_fraction(self, t: int | None = None) -> float:
        """The fraction rewired at step ``t`` (default: the current step).

        >>> import networkx as nx, edgenet as en
        >>> s = en.SET(en.compile(nx.DiGraph([("a", "y")])), None, fraction=0.4, until=100)
        >>> s.current_fraction(0), round(s.current_fraction(50), 3), s.current_fraction(100)
        (0.4, 0.2, 0.0)
        """
        t = self.t if t is None else t
        if self.until is None:
            return self.fraction
        if t >= self.until:
            return 0.0
        return self.fraction / 2 * (1 + math.cos(math.pi * t / self.until))

    def step(self) -> None:
        """Call after ``optimizer.step()``: rewires when the step count is a multiple of
        ``every`` (and below ``until``).

        Raises :class:`~edgenet.EdgenetError`, and changes nothing (the model, the
        optimizer state, the step count), when fewer candidate pairs are free than edges
        are to be dropped: the edge count never shrinks."""
        t = self.t + 1
        k = int(round(self.current_fraction(t) * self.model.weight.numel()))
        if t % self.every or k == 0:
            self.t = t
            return
        model = self.model
        weight = model.weight.detach().abs().cpu().double().numpy()
        drop = np.argsort(weight, kind="stable")[:k]  # the k smallest |w|, ties by position
        src, dst = model.edge_rows()
        kept = np.ones(len(src), dtype=bool)
        kept[drop] = False
        free, pairs = self._free_count(src[kept], dst[kept])
        if free < k:
            which = {"forward": "forward pairs", "any": "pairs into a neuron",
                     "layers": "pairs of the initial layer structure"}.get(
                         self.candidates[0], "candidates= pairs")
            raise EdgenetError(
                f"{type(self).__name__} step {t} drops {k} edges but only {free} of the "
                f"{which} {'is' if free == 1 else 'are'} free to regrow them (absent after the "
                "drop, forward in the node order on a DAG, not into an input); the edge count "
                "stays constant, so give more candidates or a smaller fraction. Nothing was "
                "changed"
            )
        grow = self._grow(k, src[kept], dst[kept], pairs)
        nodes = model.nodes
        remove = [(nodes[src[i]], nodes[dst[i]]) for i in drop.tolist()]
        add = [(nodes[u], nodes[v]) for u, v in grow]
        model.rewire(remove=remove, add=add, optimizer=self.optimizer)
        self.t = t
        self.last = (remove, add)

    def _free_count(self, src: np.ndarray, dst: np.ndarray) -> tuple[int, Any]:
        """How many candidate pairs are absent from the kept edges ``(src, dst)``, and
        what :meth:`_grow` needs to choose among them: the free pairs (listed candidates),
        or None (every forward pair, every pair into a neuron)."""
        if self.candidates[0] not in ("forward", "any"):
            pairs = self._free(src, dst)
            return len(pairs[0]), pairs
        n, n_in = len(self.model._nodes), self.model.n_inputs
        if self.candidates[0] == "forward":
            return n * (n - 1) // 2 - n_in * (n_in - 1) // 2 - len(src), None
        return n * (n - n_in) - len(src), None  # any pair into a neuron

    def _free(self, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The candidate pairs (source rows, target rows) absent from the edges
        ``(src, dst)``."""
        u, v = _row_pairs(self.model, self.candidates)
        free = _absent(u, v, src, dst, len(self.model._nodes))
        return u[free], v[free]

    def _grow(self, k: int, src: np.ndarray, dst: np.ndarray,
              pairs: Any) -> list[tuple[int, int]]:
        """``k`` pairs to add, among ``pairs`` (from :meth:`_free_count`: the free
        candidates, at least ``k``) or, when None, among every forward pair (``"any"``:
        every pair into a neuron) absent from the kept edges ``(src, dst)``."""
        raise NotImplementedError


def _count(value: Any, name: str, accepted: str) -> int:
    """``value`` as an int >= 1, or :class:`~edgenet.EdgenetError` saying what is accepted
    (a bool is refused although Python counts it as an int)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        kind = f" of type {type(value).__name__}" if isinstance(value, bool) else ""
        raise EdgenetError(f"{name} must be {accepted} (got {value!r}{kind})")
    return int(value)


def _check_model(model: Any, who: str) -> None:
    """Refuse a ``model`` that is not a compiled model."""
    from .base import is_model

    if not is_model(model):
        raise EdgenetError(f"{who} rewires a compiled model (edgenet.compile(...)); got "
                           f"{type(model).__name__}")


def _recurrent(model: CompiledModel) -> bool:
    """Whether ``model`` is a :class:`~edgenet.RecurrentNetwork` (cycles allowed)."""
    from .recurrent import RecurrentNetwork

    return isinstance(model, RecurrentNetwork)


def node_layers(model: CompiledModel) -> dict[Hashable, int]:
    """The layer of every node of a DAG model now: its topological generation, with
    inputs at 0, a neuron without incoming edges at 1 and an output without any edge at
    the last layer (where the layout runs it).

    >>> import networkx as nx, edgenet as en
    >>> model = en.compile(nx.DiGraph([("x", "h"), ("h", "y"), ("x", "y")]))
    >>> node_layers(model)
    {'x': 0, 'h': 1, 'y': 2}
    """
    from .tensors import levels

    src, dst = model.edge_rows()
    nodes = model._nodes
    n, n_in = len(nodes), model.n_inputs
    level = levels(n, src, dst)  # (N,) 0 for nodes without incoming edges
    level[n_in:] = np.maximum(level[n_in:], 1)
    degree = np.bincount(src, minlength=n) + np.bincount(dst, minlength=n)
    row = {u: r for r, u in enumerate(nodes)}
    top = int(level.max()) if n else 0
    for o in model.outputs:
        if degree[row[o]] == 0 and row[o] >= n_in:
            level[row[o]] = top
    return dict(zip(nodes, level.tolist()))


def _layer_blocks(model: CompiledModel) -> list[tuple[list[Hashable], list[Hashable]]]:
    """The initial layer structure as blocks: for every ``(a, b)`` layer pair that some
    edge joins now, ``(nodes of layer a, nodes of layer b)``."""
    layer = node_layers(model)
    src, dst = model.edge_rows()
    lv = np.array([layer[u] for u in model._nodes], dtype=np.int64)
    members: dict[int, list[Hashable]] = {}
    for u, g in layer.items():
        members.setdefault(g, []).append(u)
    pairs = sorted(set(zip(lv[src].tolist(), lv[dst].tolist())))
    return [(members[a], members[b]) for a, b in pairs]


def _is_node(n: Any, known: set[Hashable]) -> bool:
    """Whether ``n`` is one of the ``known`` nodes; False for an unhashable value."""
    try:
        return n in known
    except TypeError:
        return False


#: The named candidate sets of :class:`SET` and :class:`RigL`.
CANDIDATE_SETS = ("layers", "forward", "any")


def _candidates(model: CompiledModel, candidates: Any) -> tuple[str, Any]:
    """``("forward", None)``, ``("any", None)``, ``("edges", [...])`` or ``("blocks",
    [...])`` (``"layers"`` becomes the blocks of the initial layer structure), checked
    against the model's nodes."""
    recurrent = _recurrent(model)
    if candidates is None:
        candidates = "any" if recurrent else "layers"
    if isinstance(candidates, str):
        if candidates not in CANDIDATE_SETS:
            raise EdgenetError(f"candidates= must be one of {', '.join(map(repr, CANDIDATE_SETS))}"
                               f", a list of edges or a list of (sources, targets) blocks (got "
                               f"{candidates!r})")
        if recurrent and candidates != "any":
            raise EdgenetError(f"candidates={candidates!r} needs a layer order, which a "
                               "recurrent network does not have; use 'any' (every pair into a "
                               "neuron, the default) or a list of edges or blocks")
        if not recurrent and candidates == "any":
            raise EdgenetError("candidates='any' could close a cycle in a DAG; use 'layers' (the "
                               "default), 'forward', or a list of edges or blocks")
        if candidates == "layers":
            return ("blocks", _layer_blocks(model))
        return (candidates, None)
    if isinstance(candidates, bytes) or not isinstance(candidates, Iterable):
        raise EdgenetError(f"candidates= must be None, a list of (source, target) edges, a "
                           f"list of (sources, targets) blocks or one of 'layers', 'forward', "
                           f"'any' (got {candidates!r})")
    items = list(candidates)
    known = set(model.nodes)
    group = (list, set, frozenset, range, np.ndarray)  # node ids may be tuples: not a group
    is_block = [isinstance(c, (tuple, list)) and len(c) == 2 and isinstance(c[0], group)
                and isinstance(c[1], group) for c in items]
    if any(is_block) and not all(is_block):
        i = is_block.index(not is_block[0])  # the first entry unlike the first one
        what = "a (sources, targets) block" if is_block[i] else "not a (sources, targets) block"
        raise EdgenetError(f"candidates= entry {i}, {items[i]!r}, is {what}, unlike entry 0, "
                           f"{items[0]!r}; give either (source, target) edges or (sources, "
                           "targets) blocks of node lists, not both")
    result: tuple[str, Any]
    if items and all(is_block):
        out = []
        for sources, targets in items:
            sources, targets = list(sources), list(targets)
            for n in [*sources, *targets]:
                if not _is_node(n, known):
                    raise EdgenetError(f"candidates= names {n!r}, which is not a node of the "
                                       "network")
            out.append((sources, targets))
        result = ("blocks", out)
    else:
        edges = []
        for c in items:
            if not isinstance(c, (tuple, list)) or len(c) != 2:
                raise EdgenetError(f"candidates= must hold (source, target) edges or (sources, "
                                   f"targets) blocks; got {c!r}")
            for n in c:
                if not _is_node(n, known):
                    raise EdgenetError(f"candidates= edge {tuple(c)!r} names {n!r}, which is not "
                                       "a node of the network")
            edges.append((c[0], c[1]))
        result = ("edges", edges)
    if not recurrent:
        _warn_backward(model, result)
    return result


def _warn_backward(model: CompiledModel, kind_items: tuple[str, Any]) -> None:
    """Warn when listed candidate pairs are not forward in the current row order: they
    are not grown while they stay so."""
    u, v = _row_pairs(model, kind_items, forward_only=False)
    back = np.flatnonzero((u >= v) & (v >= model.n_inputs))
    if back.size:
        nodes = model._nodes
        first = (nodes[int(u[back[0]])], nodes[int(v[back[0]])])
        warnings.warn(
            f"{back.size} of the {len(u)} candidate pairs into a neuron are not forward in the "
            f"current node order (such as {first!r}); they are not grown while they stay so, "
            "since a backward edge could close a cycle", UserWarning, stacklevel=5)


def _row_pairs(model: CompiledModel, kind_items: tuple[str, Any],
               forward_only: bool | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Candidate edges as (source rows, target rows), each pair once, in the order of its
    first listing; pairs into an input and pairs naming a node the model no longer has
    are left out, and on a DAG (or with ``forward_only``) pairs that are not forward in
    the current row order."""
    row = {n: r for r, n in enumerate(model._nodes)}
    n_in, n = model.n_inputs, len(model._nodes)
    kind, items = kind_items
    if kind == "edges":
        live = [(row[a], row[b]) for a, b in items if a in row and b in row]
        u = np.array([a for a, _ in live], dtype=np.int64)
        v = np.array([b for _, b in live], dtype=np.int64)
    else:
        us, vs = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
        for sources, targets in items:
            s = np.array([row[x] for x in sources if x in row], dtype=np.int64)
            t = np.array([row[x] for x in targets if x in row], dtype=np.int64)
            us.append(np.repeat(s, len(t)))
            vs.append(np.tile(t, len(s)))
        u, v = np.concatenate(us), np.concatenate(vs)
    if forward_only is None:
        forward_only = not _recurrent(model)
    ok = (v >= n_in) & ((u < v) if forward_only else True)
    u, v = u[ok], v[ok]
    _, first = np.unique(v * n + u, return_index=True)
    first.sort()  # each pair once, where it is first listed: overlapping blocks, repeats
    return u[first], v[first]


def _absent(u: np.ndarray, v: np.ndarray, src: np.ndarray, dst: np.ndarray,
            n: int) -> np.ndarray:
    """Mask of the pairs ``(u, v)`` that are not among the edges ``(src, dst)``."""
    present = np.sort(dst * n + src)
    key = v * n + u
    i = np.minimum(np.searchsorted(present, key), max(len(present) - 1, 0))
    return ~(present[i] == key) if len(present) else np.ones(len(key), dtype=bool)


class SET(_Schedule):
    """Sparse Evolutionary Training: regrow uniformly at random among the candidates.

    ``model``, ``optimizer``, ``fraction``, ``every``, ``until`` and ``candidates`` are
    those of every scheduler (see ``help(SET.__init__)``); ``seed`` makes the draws
    repeatable (a NumPy generator of its own). Works on a DAG and on a
    :class:`~edgenet.RecurrentNetwork`.

    >>> import torch, edgenet as en
    >>> net = en.Network(); net.add_input("x"); net.add_neuron("h"); net.add_output("y")
    >>> net.add_edge("x", "h", weight=1.0); net.add_edge("h", "y", weight=0.01)
    >>> model = net.compile()
    >>> sched = en.SET(model, None, fraction=0.5, every=1, seed=0, candidates="forward")
    >>> sched.step(); sorted(model.edges)
    [('x', 'h'), ('x', 'y')]
    """

    def __init__(self, model: CompiledModel, optimizer: torch.optim.Optimizer | None,
                 fraction: float = 0.3, every: int = 100, until: int | None = None,
                 seed: int | None = None, candidates: Any = None):
        super().__init__(model, optimizer, fraction, every, until, candidates)
        self.rng = np.random.default_rng(seed)

    def _grow(self, k: int, src: np.ndarray, dst: np.ndarray,
              pairs: tuple[np.ndarray, np.ndarray] | None) -> list[tuple[int, int]]:
        n = len(self.model._nodes)
        if pairs is not None:
            u, v = pairs
            pick = self.rng.choice(len(u), size=k, replace=False)
            return list(zip(u[pick].tolist(), v[pick].tolist()))
        n_in = self.model.n_inputs
        forward = self.candidates[0] == "forward"
        present = set((dst * n + src).tolist())
        chosen: dict[int, tuple[int, int]] = {}
        rows = np.arange(n_in, n)
        p = rows / rows.sum() if forward else None  # row v has v forward sources
        while len(chosen) < k:
            v = self.rng.choice(rows, size=2 * (k - len(chosen)), p=p)
            u = (self.rng.random(len(v)) * (v if forward else n)).astype(np.int64)
            for a, b in zip(u.tolist(), v.tolist()):
                key = b * n + a
                if key not in present and key not in chosen and len(chosen) < k:
                    chosen[key] = (a, b)
        return list(chosen.values())


class RigL(_Schedule):
    """Rigged Lottery: regrow the candidates with the largest ``|dL/dw|``, the gradient an
    absent edge would have had in the backward passes before the rewiring step.

    That gradient is ``dL/dw_uv = sum_b dL/dz_v[b] h_u[b]``: the scheduler keeps the
    input, parameters, structure and output gradient of every pass since the last
    ``step()`` call before a rewiring step (hooks on the model), replays them, and scores
    the candidates. Under gradient accumulation
    (several forward and backward passes per ``optimizer.step()``) the scores sum over
    all of them, as the accumulated gradient does; a pass begun while the weight gradient
    is None or zero (after ``zero_grad()``) starts the sum anew. A pass that no backward
    reached (a forward for logging between ``backward()`` and ``step()``) is not counted.
    ``model``, ``optimizer``, ``fraction``, ``every``, ``until`` and ``candidates`` are
    those of every scheduler (see ``help(RigL.__init__)``). A DAG only: a
    :class:`~edgenet.RecurrentNetwork` is refused (use :class:`SET`).

    Cost of a rewiring step, for ``E`` edges, batch ``B`` and ``k`` edges regrown, besides
    the replay (a forward and backward pass, ``O(E x B)``):

    * exact (``sample=None``), ``"layers"``, ``"forward"`` or blocks: ``C x B``
      multiply-adds for the ``C`` candidate pairs (about ``N**2 / 2`` for ``"forward"``,
      and for ``"layers"`` on a deep random DAG whose layers are many), as one matrix
      product ``D[targets] @ H[sources].T`` per block of target rows (at most
      :data:`SCORE_BLOCK` scores at a time) of which only entries that can still be
      among the ``k`` best are kept; the candidates are never listed one by one. Memory
      ``O(SCORE_BLOCK + k + E + N)``. This is the dense gradient, which exact RigL needs.
    * a list of edges: ``O(listed x B)``.
    * ``sample=m``: ``m`` free candidates drawn uniformly without replacement (the
      generator seeded by ``seed``; :attr:`scored` lists them), scored one by one, the best
      ``k`` regrown: ``O((E + m) x B)`` whatever ``N`` is (``O(E + m)`` for the draw
      itself). With ``m`` at least the free candidates it is exact RigL.

    Ties are broken by the listing order of the candidates (``"forward"``: the smaller
    target row, then source row), whatever the blocks.

    ``step()`` refuses (:class:`~edgenet.EdgenetError`, nothing changed) when the model
    was rewired after a captured pass (its scores describe another network: run a
    forward and backward pass again), and when a score is NaN (a NaN input, weight or
    loss gradient in that pass: candidates cannot be ranked).

    >>> import torch, edgenet as en
    >>> net = en.Network(); net.add_input("a"); net.add_input("b"); net.add_output("y")
    >>> net.add_edge("a", "y", weight=0.1)
    >>> model = en.compile(net, dtype=torch.float64)
    >>> opt = torch.optim.SGD(model.parameters(), lr=0.0)
    >>> sched = en.RigL(model, opt, fraction=1.0, every=1)
    >>> x = torch.tensor([[1.0, 3.0]], dtype=torch.float64)
    >>> model(x).sum().backward(); opt.step(); sched.step()
    >>> model.edges
    [('b', 'y')]
    >>> sched.remove()  # now score a sample of one of the two free candidates
    >>> sampled = en.RigL(model, opt, fraction=1.0, every=1, sample=1, seed=0)
    >>> model(x).sum().backward(); opt.step(); sampled.step()
    >>> len(sampled.scored), sampled.last[1] == sampled.scored
    (1, True)
    """

    model: CompiledNetwork

    def __init__(self, model: CompiledNetwork, optimizer: torch.optim.Optimizer | None,
                 fraction: float = 0.3, every: int = 100, until: int | None = None,
                 candidates: Any = None, *, sample: int | None = None,
                 seed: int | None = None):
        """The arguments of every scheduler (see :meth:`_Schedule.__init__`), and:

        Parameters
        ----------
        sample : int or None
            Score only this many free candidates, drawn uniformly at random without
            replacement at each rewiring step, and regrow the best among them (at least
            the number of edges regrown; all candidates when fewer are free). ``None``
            (the default): score every candidate, exact RigL.
        seed : int or None
            Seed of the draws of ``sample`` (a NumPy generator of its own).
        """
        _check_model(model, "RigL")
        if _recurrent(model):
            raise EdgenetError(
                "RigL scores candidates by replaying a feed-forward pass, which a "
                "RecurrentNetwork does not have; use SET (random regrowth, any pair) or "
                "GradualPruning on a recurrent network"
            )
        super().__init__(model, optimizer, fraction, every, until, candidates)
        if sample is not None:
            sample = _count(sample, "sample", "a positive int (the candidates scored at "
                            "each rewiring step, at least the edges regrown) or None")
            k = int(round(self.fraction * model.weight.numel()))
            if sample < k:
                raise EdgenetError(
                    f"sample={sample} is fewer than the {k} edges a rewiring step regrows "
                    f"(fraction={fraction!r} of {model.weight.numel()} edges); give sample >= "
                    f"{k}, a smaller fraction, or sample=None to score every candidate")
        self.sample = sample
        self.rng = np.random.default_rng(seed)
        #: With ``sample``: the candidate edges scored at the last rewiring step.
        self.scored: list[Edge] | None = None
        self._passes: list[_Capture] = []
        self._hook = model.register_forward_hook(self._capture)

    def _capture(self, module: torch.nn.Module, args: tuple, y: torch.Tensor) -> None:
        if (self.t + 1) % self.every or not torch.is_grad_enabled() or not y.requires_grad:
            return
        x = args[0]
        backend, L = self.model._pass(x.device)  # the structure this pass walked
        captured = _Capture((x[None] if x.dim() == 1 else x).detach().clone(),
                            self.model.weight.detach().clone(),
                            self.model.bias.detach().clone(), L, backend, self.model.nodes)
        # Passes add up (micro-batches of one accumulated gradient), except that a pass
        # begun with no weight gradient (after zero_grad()) starts anew, and passes
        # before a rewire of the model (another network) are replaced.
        grad = self.model.weight.grad
        if grad is None or not bool(grad.any()):
            self._passes = []
        self._passes = [p for p in self._passes if self._same(p)]
        self._passes.append(captured)

        def keep(grad: torch.Tensor) -> None:
            g = (grad[None] if grad.dim() == 1 else grad).detach()
            captured.grad_y = g if captured.grad_y is None else captured.grad_y + g

        y.register_hook(keep)

    def step(self) -> None:
        """Call after ``optimizer.step()`` (see :meth:`_Schedule.step`); a rewiring step
        scores candidates by every pass captured since the last call, then forgets them."""
        super().step()
        self._passes = []

    def remove(self) -> None:
        """Detach the scheduler's hook from the model."""
        self._hook.remove()

    def gradients(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(H[N, B], D[N - n_in, B])``: every neuron's output and ``dL/dz`` in the
        captured passes (those since the last :meth:`step` that a backward reached, their
        batches side by side), each replayed on the structure, weights and engine it used;
        refused when the model's structure has changed since."""
        passes = [(p, p.grad_y) for p in self._passes if p.grad_y is not None]
        if not passes:
            raise EdgenetError("RigL needs a forward and backward pass through the model before "
                               "each rewiring step; call step() after optimizer.step()")
        Hs, Ds = [], []
        for p, grad_y in passes:
            self._check_structure(p)
            impl = backends.get(p.backend)
            _, H, Z = impl.forward(p.x, p.weight, p.bias, p.layout)
            _, _, _, D = impl.backward(grad_y, p.weight, H, Z, p.layout, False, False)
            Hs.append(H)  # (N, B_i)
            Ds.append(D)  # (N - n_in, B_i)
        if len(Hs) == 1:
            return Hs[0], Ds[0]
        # sum_i D_i @ H_i.T == [D_1 .. D_k] @ [H_1 .. H_k].T: the batches side by side
        return torch.cat(Hs, 1), torch.cat(Ds, 1)  # (N, sum B_i), (N - n_in, sum B_i)

    def _same(self, p: _Capture) -> bool:
        """Whether the capture ``p`` ran on the model's structure now."""
        now, L = self.model.layout, p.layout
        return now is L or (self.model.nodes == p.nodes and all(
            torch.equal(getattr(now, f).cpu(), getattr(L, f).cpu()) for f in ("crow", "col")))

    def _check_structure(self, p: _Capture) -> None:
        """Refuse a capture taken on another structure than the model's now (a rewire
        between the captured pass and :meth:`step`): its rows are not the model's rows."""
        model, L = self.model, p.layout
        now = model.layout
        if not self._same(p):
            raise EdgenetError(
                f"RigL step {self.t + 1}: the model was rewired after the forward pass RigL "
                f"captured for this step ({L.n_edges} edges, {L.n_nodes} nodes then; "
                f"{now.n_edges} edges, {now.n_nodes} nodes now), so that pass's gradients "
                "do not score this network's candidates. Run a forward and backward pass "
                "through the model again, then call step(); nothing was changed"
            )

    def _free_count(self, src: np.ndarray, dst: np.ndarray) -> tuple[int, Any]:
        """Listed edges as for every scheduler; blocks (``"layers"``) and ``"forward"``
        as :class:`_Group`\\ s, counted without listing their pairs."""
        kind, items = self.candidates
        if kind == "edges":
            return super()._free_count(src, dst)
        model = self.model
        n, n_in = len(model._nodes), model.n_inputs
        if kind == "forward":
            rows = np.arange(n, dtype=np.int64)

            def key(r: np.ndarray, c: np.ndarray) -> np.ndarray:
                return (r + n_in) * n + c  # ties: the smaller target, then source row

            groups = [_Group(rows[n_in:], rows, key, by_row=True)]
        else:
            groups = _block_groups(model, items)
        by_target = _ByTarget(src, dst, n)
        return sum(g.count_free(by_target) for g in groups), groups

    def _grow(self, k: int, src: np.ndarray, dst: np.ndarray,
              pairs: Any) -> list[tuple[int, int]]:
        if self.sample is not None and self.sample < k:
            raise EdgenetError(
                f"RigL step {self.t + 1} regrows {k} edges but sample={self.sample} scores "
                f"only {self.sample} candidates; give sample >= {k} (or None: every "
                "candidate). Nothing was changed")
        H, D = self.gradients()
        if self.candidates[0] == "edges":
            u, v = pairs
            if self.sample is not None and self.sample < len(u):
                pick = np.sort(self.rng.choice(len(u), size=self.sample, replace=False))
                u, v = u[pick], v[pick]
                self._scored(u, v)
            scores = _pair_scores(H, D, u, v, self.model.n_inputs)  # (P,) float64
            self._check_scores(scores, u, v)
            top = _top(scores, np.arange(len(u)), k)  # ties: the first listed
            return list(zip(u[top].tolist(), v[top].tolist()))
        groups: list[_Group] = pairs
        free = sum(g.free for g in groups)
        if self.sample is not None and self.sample < free:
            return self._grow_sampled(k, H, D, groups, len(src))
        return self._grow_exact(k, H, D, groups)

    def _grow_exact(self, k: int, H: torch.Tensor, D: torch.Tensor,
                    groups: list[_Group]) -> list[tuple[int, int]]:
        """The ``k`` best free pairs of ``groups``: one product of ``D[targets]`` and
        ``H[sources]`` per block of target rows, only each block's entries that can still
        be among the ``k`` best kept (ties by key)."""
        n, n_in = len(self.model._nodes), self.model.n_inputs
        best = _Best(k)
        for g in groups:
            if not g.free:
                continue
            whole = len(g.sources) == n  # every row, in order ("forward"): no gather
            Hs = H if whole else H[torch.as_tensor(g.sources, device=H.device)]  # (S, B)
            width = int(g.reach.max()) if g.by_row else len(g.sources)
            rows_per = max(1, SCORE_BLOCK // max(width, 1))
            for r0 in range(0, len(g.targets), rows_per):
                r1 = min(len(g.targets), r0 + rows_per)
                t = g.targets[r0:r1]  # (tb,)
                Dt = D[torch.as_tensor(t - n_in, device=D.device)]  # (tb, B)
                if g.by_row:  # (tb, w): sources are every row, ascending; w the last reach
                    reach = g.reach[r0:r1]
                    w = int(reach[-1])
                    if not w:
                        continue
                    a = _numpy(Dt @ Hs[:w].T)  # (tb, w) |dL/dw| of every pair
                    lo = int(reach[0])
                    if lo < w:  # a row's own row and later ones are not forward
                        tail = a[:, lo:]
                        tail[np.arange(lo, w)[None, :] >= reach[:, None]] = -1.0
                    i0, i1 = np.searchsorted(g.present_r, (r0, r1))
                    a[g.present_r[i0:i1] - r0, g.present_c[i0:i1]] = -1.0  # kept edges
                else:  # (S, tb): keys ascend down the columns
                    w = len(t)
                    a = _numpy(Hs @ Dt.T)  # (S, tb)
                    late = np.flatnonzero(g.sources >= t.min())  # sources not before all
                    if len(late):
                        sub = a[late]
                        sub[g.sources[late, None] >= t[None, :]] = -1.0
                        a[late] = sub
                    i0, i1 = np.searchsorted(g.present_r, (r0, r1))
                    a[g.present_c[i0:i1], g.present_r[i0:i1] - r0] = -1.0
                bad = np.flatnonzero(np.isnan(a))
                if bad.size:
                    i, j = np.divmod(bad[0], w)
                    r, c = (i, j) if g.by_row else (j, i)
                    self._nan_error(int(g.sources[c]), int(g.targets[r0 + r]), bad.size)
                best.add(a.ravel(), g, r0, w)
        return best.pairs(k, f"RigL step {self.t + 1}")

    def _grow_sampled(self, k: int, H: torch.Tensor, D: torch.Tensor, groups: list[_Group],
                      n_edges: int) -> list[tuple[int, int]]:
        """The ``k`` best of ``sample`` free pairs of ``groups`` drawn uniformly without
        replacement: ``O((edges + sample) x batch)``, never a block product."""
        m, n = int(self.sample), len(self.model._nodes)  # type: ignore[arg-type]
        sizes = np.array([int(g.reach.sum()) for g in groups], dtype=np.int64)
        start = np.concatenate(([0], np.cumsum(sizes)))  # (G + 1,) forward pairs before each
        total = int(start[-1])
        if total <= 4 * (m + n_edges):  # few candidates: list them, pick among the free
            x = np.arange(total, dtype=np.int64)
            x = x[_locate(groups, start, x, n)[3]]
            x = x[self.rng.choice(len(x), size=m, replace=False)]
        else:  # most forward pairs are free: draw, drop kept edges and repeats, again
            x = np.empty(0, dtype=np.int64)
            while len(x) < m:
                more = self.rng.integers(0, total, size=2 * (m - len(x)) + 16)
                more = more[_locate(groups, start, more, n)[3]]
                both = np.concatenate((x, more))
                _, first = np.unique(both, return_index=True)
                x = both[np.sort(first)][:m]  # the first m distinct, in draw order
        u, v, key, _ = _locate(groups, start, x, n)
        self._scored(u, v)
        scores = _pair_scores(H, D, u, v, self.model.n_inputs)  # (m,) float64
        self._check_scores(scores, u, v)
        top = _top(scores, key, k)
        return list(zip(u[top].tolist(), v[top].tolist()))

    def _scored(self, u: np.ndarray, v: np.ndarray) -> None:
        nodes = self.model.nodes
        self.scored = [(nodes[a], nodes[b]) for a, b in zip(u.tolist(), v.tolist())]

    def _check_scores(self, scores: np.ndarray, u: np.ndarray, v: np.ndarray) -> None:
        """Refuse NaN scores (of candidate pairs ``(u, v)``, rows): they cannot be ranked,
        and dropping them would regrow fewer edges than were removed."""
        bad = np.flatnonzero(np.isnan(scores))
        if bad.size:
            self._nan_error(int(u[bad[0]]), int(v[bad[0]]), bad.size)

    def _nan_error(self, u: int, v: int, count: int) -> None:
        nodes = self.model.nodes
        edge = (nodes[int(u)], nodes[int(v)])
        raise EdgenetError(
            f"RigL step {self.t + 1}: the score |dL/dw| of candidate edge {edge!r} is NaN "
            f"({count} NaN scores in this block): the captured pass has a NaN input, "
            "weight or gradient, so candidates cannot be ranked and the edge count could "
            "not stay constant. Nothing was changed; find the NaN, then run a forward and "
            "backward pass again before step()"
        )


@dataclass
class _Group:
    """Candidate pairs ``(sources[c], targets[r])`` with ``sources[c] < targets[r]``:
    target rows (none an input) and the source rows each may grow from. Groups partition
    the candidates; ``key(r, c)`` (int64, vectorised) orders ties as the candidates are
    listed. ``by_row``: the sources are every row in order and the targets ascend, so
    the keys ascend along rows of a ``(targets, sources)`` block; otherwise they ascend
    down the columns of a ``(sources, targets)`` block when ``ordered``."""

    targets: np.ndarray  # (T,) rows
    sources: np.ndarray  # (S,) rows
    key: Callable[[np.ndarray, np.ndarray], np.ndarray]
    by_row: bool = False
    ordered: bool = True
    free: int = 0
    present_r: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    present_c: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))

    def __post_init__(self) -> None:
        self.order = np.argsort(self.sources, kind="stable")  # (S,) columns by row
        self.reach = np.searchsorted(self.sources[self.order], self.targets)  # (T,)

    def count_free(self, by_target: _ByTarget) -> int:
        """The free pairs (forward, not a kept edge); remembers where the kept ones are."""
        r, s = by_target.into(self.targets)  # (e,) kept edges into the targets, r ascending
        rows = self.sources[self.order]
        p = np.minimum(np.searchsorted(rows, s), max(len(rows) - 1, 0))
        hit = (rows[p] == s) & (p < self.reach[r]) if len(rows) else r < 0
        self.present_r, self.present_c = r[hit], self.order[p[hit]]
        self.free = int(self.reach.sum()) - int(hit.sum())
        return self.free


class _ByTarget:
    """Kept edges ``(src, dst)`` (rows) by target row, as CSR."""

    def __init__(self, src: np.ndarray, dst: np.ndarray, n: int):
        order = np.lexsort((src, dst))
        self.src = src[order]
        self.ptr = np.searchsorted(dst[order], np.arange(n + 1))  # (n + 1,)

    def into(self, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(i, s)``: every kept edge ``s -> targets[i]``, ``i`` ascending."""
        a, b = self.ptr[targets], self.ptr[targets + 1]
        count = b - a
        i = np.repeat(np.arange(len(targets)), count)
        at = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
        return i, self.src[np.repeat(a, count) + at]


def _block_groups(model: CompiledNetwork,
                  blocks: list[tuple[list[Hashable], list[Hashable]]]) -> list[_Group]:
    """``(sources, targets)`` blocks as groups: targets that the same blocks list grow from
    the union of those blocks' sources (``O(nodes + sum of block sides)``, no pair
    listed). Ties are keyed by the pair's position in the listing ``for s in sources: for
    t in targets`` of the first block that holds it, as :func:`_row_pairs` lists them."""
    row = {x: r for r, x in enumerate(model._nodes)}
    n_in = model.n_inputs
    memo: dict[int, tuple[np.ndarray, np.ndarray, int]] = {}

    def rows(nodes: list[Hashable]) -> tuple[np.ndarray, np.ndarray, int]:
        """Distinct rows (ascending), the first position of each, the listed count."""
        if id(nodes) not in memo:  # layer blocks share their node lists
            r = np.array([row[x] for x in nodes if x in row], dtype=np.int64)
            distinct, first = np.unique(r, return_index=True)
            memo[id(nodes)] = (distinct, first, len(r))
        return memo[id(nodes)]

    src = [rows(s) for s, _ in blocks]
    dst = [rows(t) for _, t in blocks]
    length = np.array([t[2] for t in dst], dtype=np.int64)  # (blocks,)
    offset = np.concatenate(([0], np.cumsum([s[2] * t[2] for s, t in zip(src, dst)])))
    into = [t[0][t[0] >= n_in] for t in dst]
    inc_t = np.concatenate([np.empty(0, np.int64), *into])  # (incidences,) target rows
    inc_b = np.repeat(np.arange(len(blocks)), [len(t) for t in into])  # their blocks
    order = np.lexsort((inc_b, inc_t))
    inc_t, inc_b = inc_t[order], inc_b[order]
    cut = np.flatnonzero(np.diff(inc_t)) + 1
    signatures: dict[bytes, list[int]] = {}  # blocks holding a target -> its targets
    for at, end in zip(np.r_[0, cut].tolist(), np.r_[cut, len(inc_t)].tolist()):
        if at < end:
            signatures.setdefault(inc_b[at:end].tobytes(), []).append(int(inc_t[at]))
    groups = []
    for sig, members in signatures.items():
        held = np.frombuffer(sig, dtype=np.int64)  # (h,) blocks, in listing order
        targets = np.array(members, dtype=np.int64)
        sources = np.unique(np.concatenate([src[b][0] for b in held]))
        if not len(sources):
            continue
        first = np.empty(len(sources), dtype=np.int64)  # the first block holding a source
        spos = np.empty(len(sources), dtype=np.int64)  # its position there
        for j in range(len(held) - 1, -1, -1):
            distinct, pos, _ = src[held[j]]
            at = np.searchsorted(sources, distinct)
            first[at], spos[at] = j, pos
        tpos = np.stack([dst[b][1][np.searchsorted(dst[b][0], targets)] for b in held])
        # Columns by key: block, then position in its sources; rows by position in the
        # targets when every block lists them alike (layers): keys ascend down columns.
        cols = np.argsort(offset[held[first]] + spos * length[held[first]], kind="stable")
        sources, first, spos = sources[cols], first[cols], spos[cols]
        ordered = bool((tpos == tpos[:1]).all())
        if ordered:
            by_pos = np.argsort(tpos[0], kind="stable")
            targets, tpos = targets[by_pos], tpos[:, by_pos]

        def key(r: np.ndarray, c: np.ndarray, first: np.ndarray = first,
                spos: np.ndarray = spos, tpos: np.ndarray = tpos,
                held: np.ndarray = held) -> np.ndarray:
            j = first[c]
            b = held[j]
            return offset[b] + spos[c] * length[b] + tpos[j, r]

        groups.append(_Group(targets, sources, key, ordered=ordered))
    return groups


def _locate(groups: list[_Group], start: np.ndarray, x: np.ndarray,
            n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The forward pairs numbered ``x`` (``start[g]`` + the pair's place in group ``g``:
    targets in group order, then sources by row): source rows, target rows, tie keys,
    and whether each is free (not a kept edge)."""
    u, v, key = (np.empty(len(x), dtype=np.int64) for _ in range(3))
    free = np.ones(len(x), dtype=bool)
    which = np.searchsorted(start, x, "right") - 1  # (m,) group of each pair
    for gi in np.unique(which).tolist():
        g = groups[gi]
        at = np.flatnonzero(which == gi)
        y = x[at] - start[gi]
        before = np.concatenate(([0], np.cumsum(g.reach)))  # (T + 1,)
        r = np.searchsorted(before, y, "right") - 1
        c = g.order[y - before[r]]
        u[at], v[at], key[at] = g.sources[c], g.targets[r], g.key(r, c)
        kept = np.sort(g.present_r * n + g.present_c)
        hit = np.minimum(np.searchsorted(kept, r * n + c), max(len(kept) - 1, 0))
        if len(kept):
            free[at] = kept[hit] != r * n + c
    return u, v, key, free


class _Best:
    """The ``k`` best scores seen, ties by the smaller key, fed block by block: a block
    gives only its entries that can still be among the ``k`` best."""

    def __init__(self, k: int):
        self.k, self.cut, self.size = k, 0.0, 0  # scores are >= 0; -1 marks a non-candidate
        self.parts: list[tuple[np.ndarray, ...]] = []

    def add(self, flat: np.ndarray, g: _Group, r0: int, w: int) -> None:
        """The block ``flat`` (raveled ``(rows, w)`` when ``g.by_row``, else ``(sources,
        w)``) of group ``g``, from its target ``r0``."""
        k = self.k
        above = np.flatnonzero(flat > self.cut)
        if len(above) > k:  # the block's k-th best beats the cut: ties at it compete
            score = flat[above]
            kth = score[np.argpartition(score, len(above) - k)[len(above) - k]]
            tied, above = above[score == kth], above[score > kth]
        else:  # ties at the cut compete (all zero scores, say)
            tied = np.flatnonzero(flat == self.cut)
        need = k - len(above)
        if len(tied) > need:  # keep the smallest keys: the first in block order if sorted
            if g.by_row or g.ordered:
                tied = tied[:need]
            else:
                tied = tied[np.argpartition(self._keys(tied, g, r0, w), need - 1)[:need]]
        at = np.concatenate((above, tied))
        if not len(at):
            return
        self.parts.append((flat[at].astype(np.float64), self._keys(at, g, r0, w),
                           *self._pairs(at, g, r0, w)))
        self.size += len(at)
        if self.size > 4 * k:
            self._reduce()

    @staticmethod
    def _where(at: np.ndarray, g: _Group, r0: int, w: int) -> tuple[np.ndarray, np.ndarray]:
        i, j = np.divmod(at, w)
        return (i + r0, j) if g.by_row else (j + r0, i)  # (r, c)

    def _keys(self, at: np.ndarray, g: _Group, r0: int, w: int) -> np.ndarray:
        return g.key(*self._where(at, g, r0, w))

    def _pairs(self, at: np.ndarray, g: _Group, r0: int,
               w: int) -> tuple[np.ndarray, np.ndarray]:
        r, c = self._where(at, g, r0, w)
        return g.sources[c], g.targets[r]

    def _reduce(self) -> None:
        score, key, u, v = (np.concatenate(p) for p in zip(*self.parts))
        keep = _best(score, key, self.k)
        self.parts = [(score[keep], key[keep], u[keep], v[keep])]
        self.size = len(keep)
        if self.size == self.k:
            self.cut = float(score[keep].min())

    def pairs(self, k: int, who: str) -> list[tuple[int, int]]:
        """The best ``k`` pairs ``(u, v)``, best first."""
        if self.parts:
            self._reduce()
        if self.size < k:  # cannot happen: step() counted at least k free pairs
            raise EdgenetError(f"{who} found {self.size} of the {k} free candidate pairs "
                               "it needs; nothing was changed")
        score, key, u, v = self.parts[0]
        order = np.lexsort((key, -score))
        return list(zip(u[order].tolist(), v[order].tolist()))


def _best(score: np.ndarray, key: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest scores, ties broken by the smaller key, unordered
    (``O(len)``; keys distinct)."""
    if len(score) <= k:
        return np.arange(len(score))
    kth = np.partition(score, len(score) - k)[len(score) - k]
    above = np.flatnonzero(score > kth)
    tied = np.flatnonzero(score == kth)
    need = k - len(above)
    if len(tied) > need:
        tied = tied[np.argpartition(key[tied], need - 1)[:need]]
    return np.concatenate((above, tied))


def _numpy(S: torch.Tensor) -> np.ndarray:
    """``|S|`` as a writable NumPy array (float32 or float64), in place where it can."""
    if S.dtype not in (torch.float32, torch.float64):
        S = S.float()
    a = S.cpu().numpy()
    return np.abs(a, out=a)


def _pair_scores(H: torch.Tensor, D: torch.Tensor, u: np.ndarray, v: np.ndarray,
                 n_in: int) -> np.ndarray:
    """``|dL/dw_uv| = |sum_b D[v - n_in, b] H[u, b]|`` of the pairs ``(u, v)`` (rows),
    float64, in blocks of :data:`SCORE_BLOCK` elements: ``O(pairs x batch)``."""
    scores = np.empty(len(u))
    step = max(1, SCORE_BLOCK // max(H.shape[1], 1))
    for i in range(0, len(u), step):
        a = torch.as_tensor(u[i : i + step], device=H.device)
        b = torch.as_tensor(v[i : i + step] - n_in, device=H.device)
        scores[i : i + step] = (H[a] * D[b]).sum(1).abs().double().cpu().numpy()  # (p,)
    return scores


@dataclass
class _Capture:
    """The pass RigL scores a rewiring step by: input ``x[B, n_in]``, the parameters, the
    layout and backend it ran on, the node of every row, and (once backward reached the
    output) ``grad_y[B, n_out] = dL/dy``."""

    x: torch.Tensor
    weight: torch.Tensor
    bias: torch.Tensor
    layout: Layout
    backend: str
    nodes: list[Hashable]
    grad_y: torch.Tensor | None = None


def _top(scores: np.ndarray, keys: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest scores, ties broken by the smaller key."""
    order = np.lexsort((keys, -scores))
    return order[:k]


class GradualPruning:
    r"""Gradual magnitude pruning to a target sparsity (Zhu & Gupta 2017, "To prune, or not
    to prune"): every ``every`` steps from ``begin`` to ``end`` it removes the edges of
    smallest ``|weight|`` until the sparsity reaches

    .. math::

        s_t = s_f + (s_i - s_f) \left(1 - \frac{t - t_0}{n \Delta t}\right)^3

    with :math:`s_i` = ``initial_sparsity``, :math:`s_f` = ``sparsity``, :math:`t_0` =
    ``begin``, :math:`n \Delta t` = ``end - begin`` and :math:`\Delta t` = ``every``:
    pruning is fast at first and slows down as the network settles.

    Sparsity is the share of the edges the model had when the scheduler was made (a dense
    network, typically) that are gone. ``scope="layer"`` (the paper's, the default on a
    DAG) prunes each layer pair (see :func:`node_layers`: the ``(layer of u, layer of v)``
    of an edge at construction) to that sparsity on its own; ``scope="global"`` ranks all
    edges together (the only choice on a :class:`~edgenet.RecurrentNetwork`). Edges are
    removed through :meth:`~edgenet.CompiledNetwork.rewire`, with their parameters and
    optimizer state: nothing revives them. Call :meth:`step` after ``optimizer.step()``.

    >>> import torch, edgenet as en
    >>> model = en.compile(en.sparse_mlp([8, 8, 2], density=1.0), seed=0)
    >>> prune = en.GradualPruning(model, None, sparsity=0.75, begin=0, end=10, every=5)
    >>> [round(prune.current_sparsity(t), 3) for t in (0, 5, 10, 20)]
    [0.0, 0.656, 0.75, 0.75]
    >>> for _ in range(10):
    ...     prune.step()
    >>> model.weight.numel(), 80 // 4
    (20, 20)
    """

    def __init__(self, model: CompiledModel, optimizer: torch.optim.Optimizer | None,
                 sparsity: float, *, begin: int = 0, end: int, every: int = 100,
                 initial_sparsity: float = 0.0, scope: str | None = None):
        """Parameters
        ----------
        model : CompiledNetwork or RecurrentNetwork
            The model whose edges are pruned, in place.
        optimizer : torch.optim.Optimizer or None
            Its state of the removed edges goes with them.
        sparsity : float
            The final sparsity :math:`s_f` in ``[0, 1)``, reached at ``end``.
        begin, end : int
            The steps of the first and the last pruning (``0 <= begin <= end``).
        every : int
            Steps between prunings (a positive int).
        initial_sparsity : float
            :math:`s_i`, the sparsity reached at ``begin`` (``<= sparsity``).
        scope : "layer", "global" or None
            Per layer pair or over all edges; ``None``: ``"layer"`` on a DAG, ``"global"``
            on a recurrent network.
        """
        _check_model(model, "GradualPruning")
        for name, value in (("sparsity", sparsity), ("initial_sparsity", initial_sparsity)):
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer,
                                                                  np.floating)) \
                    or not 0 <= float(value) < 1:
                raise EdgenetError(f"{name} must be a number in [0, 1) (got {value!r})")
        if initial_sparsity > sparsity:
            raise EdgenetError(f"initial_sparsity ({initial_sparsity!r}) must not exceed "
                               f"sparsity ({sparsity!r}): pruning only removes edges")
        for name, value in (("begin", begin), ("end", end)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
                raise EdgenetError(f"{name} must be an int >= 0 (got {value!r})")
        if end < begin:
            raise EdgenetError(f"end ({end!r}) must not come before begin ({begin!r})")
        recurrent = _recurrent(model)
        scope = ("global" if recurrent else "layer") if scope is None else scope
        if scope not in ("layer", "global"):
            raise EdgenetError(f"scope must be 'layer', 'global' or None (got {scope!r})")
        if scope == "layer" and recurrent:
            raise EdgenetError("scope='layer' needs layers, which a recurrent network does not "
                               "have; use scope='global'")
        self.model, self.optimizer = model, optimizer
        self.sparsity, self.initial_sparsity = float(sparsity), float(initial_sparsity)
        self.begin, self.end = int(begin), int(end)
        self.every = _count(every, "every", "a positive int")
        self.scope = scope
        self.t = 0  # optimizer steps seen
        #: The layer of every node at construction (``scope="layer"``).
        self.layers = node_layers(model) if scope == "layer" else {}
        self._width = max(self.layers.values(), default=0) + 2  # layer ids -1 .. max
        groups = self._groups()
        #: Edges of each group (a layer pair; one group for ``"global"``) at construction.
        self.initial = dict(zip(*np.unique(groups, return_counts=True)))
        #: The edges removed at the last pruning step.
        self.last: list[Edge] = []

    def current_sparsity(self, t: int | None = None) -> float:
        """The sparsity targeted at step ``t`` (default: the current step): 0 before
        ``begin``, then the cubic schedule, ``sparsity`` from ``end`` on."""
        t = self.t if t is None else t
        if t < self.begin:
            return 0.0
        if t >= self.end:
            return self.sparsity
        span = self.end - self.begin
        return self.sparsity + (self.initial_sparsity - self.sparsity) * (
            1 - (t - self.begin) / span) ** 3

    def _groups(self) -> np.ndarray:
        """The group of every edge in :attr:`weight` order (int64): its layer pair, or 0."""
        src, dst = self.model.edge_rows()
        if self.scope == "global":
            return np.zeros(len(src), dtype=np.int64)
        nodes = self.model._nodes
        lv = np.array([self.layers.get(u, -1) for u in nodes], dtype=np.int64) + 1
        return lv[src] * self._width + lv[dst]  # (E,) one id per (layer of u, layer of v)

    def step(self) -> None:
        """Call after ``optimizer.step()``: at ``begin``, every ``every`` steps after it
        and at ``end``, remove the smallest-``|w|`` edges of each group down to
        ``round(edges at construction * (1 - s_t))``."""
        t = self.t + 1
        self.t = t
        if t < self.begin or t > self.end or ((t - self.begin) % self.every
                                              and t != self.end):
            return
        keep_share = 1.0 - self.current_sparsity(t)
        weight = self.model.weight.detach().abs().cpu().double().numpy()  # (E,)
        groups = self._groups()
        drop = []
        for g, count in self.initial.items():
            members = np.flatnonzero(groups == g)
            excess = len(members) - int(round(count * keep_share))
            if excess > 0:
                order = np.argsort(weight[members], kind="stable")[:excess]
                drop.append(members[order])
        if not drop:
            self.last = []
            return
        drop_at = np.sort(np.concatenate(drop))
        src, dst = self.model.edge_rows()
        nodes = self.model._nodes
        remove = [(nodes[src[i]], nodes[dst[i]]) for i in drop_at.tolist()]
        self.model.rewire(remove=remove, optimizer=self.optimizer)
        self.last = remove
