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

Candidates: by default every ``(u, v)`` with ``u`` before ``v`` in the current
topological order (the layout's rows) and ``v`` not an input, so no cycle can form;
or an iterable of edges; or bipartite blocks ``[(sources, targets), ...]`` with ``sources`` and
``targets`` lists of nodes (the seed's masked layers: only those blocks).

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
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from ..errors import EdgenetError
from ..kernels import backends

if TYPE_CHECKING:
    from .dag import CompiledNetwork
    from .tensors import Layout

Edge = tuple[Hashable, Hashable]
#: Elements of one block of candidate scores (``targets x sources``) RigL holds at a time.
SCORE_BLOCK = 1 << 22


class _Schedule:
    """Drop the weakest edges every ``every`` steps and regrow as many (see module docs)."""

    def __init__(self, model: CompiledNetwork, optimizer: torch.optim.Optimizer | None,
                 fraction: float = 0.3, every: int = 100, until: int | None = None,
                 candidates: Iterable[Edge] | Sequence[tuple[Sequence[Hashable],
                                                             Sequence[Hashable]]] | None = None):
        """The arguments of :class:`SET` and :class:`RigL`.

        Parameters
        ----------
        model : CompiledNetwork
            The model whose edges are rewired, in place.
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
        candidates : iterable of edges, list of ``(sources, targets)`` blocks, or None
            Where edges may grow (see the module docstring); ``None``: every pair
            ``(u, v)`` with ``u`` before ``v`` in the current topological order and ``v``
            not an input.
        """
        real = (int, float, np.integer, np.floating)
        if isinstance(fraction, bool) or not isinstance(fraction, real) \
                or not 0 <= float(fraction) <= 1:
            kind = f" of type {type(fraction).__name__}" if isinstance(fraction, bool) else ""
            raise EdgenetError(f"fraction must be a number in [0, 1] (got {fraction!r}{kind})")
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
        k = int(round(self.current_fraction(t) * self.model.layout.n_edges))
        if t % self.every or k == 0:
            self.t = t
            return
        model = self.model
        weight = model.weight.detach().abs().cpu().double().numpy()
        drop = np.argsort(weight, kind="stable")[:k]  # the k smallest |w|, ties by position
        src, dst = model.edge_rows()
        kept = np.ones(len(src), dtype=bool)
        kept[drop] = False
        pairs = None if self.candidates is None else self._free(src[kept], dst[kept])
        if pairs is None:
            n, n_in = model.layout.n_nodes, model.layout.n_in
            free = n * (n - 1) // 2 - n_in * (n_in - 1) // 2 - int(kept.sum())  # forward pairs
        else:
            free = len(pairs[0])
        if free < k:
            which = "forward pairs" if pairs is None else "candidates= pairs"
            raise EdgenetError(
                f"{type(self).__name__} step {t} drops {k} edges but only {free} of the "
                f"{which} {'is' if free == 1 else 'are'} free to regrow them (absent after the "
                "drop, forward in the node order, not into an input); the edge count stays "
                "constant, so give more candidates or a smaller fraction. Nothing was changed"
            )
        grow = self._grow(k, src[kept], dst[kept], pairs)
        nodes = model.nodes
        remove = [(nodes[src[i]], nodes[dst[i]]) for i in drop.tolist()]
        add = [(nodes[u], nodes[v]) for u, v in grow]
        model.rewire(remove=remove, add=add, optimizer=self.optimizer)
        self.t = t
        self.last = (remove, add)

    def _free(self, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The candidate pairs (source rows, target rows) absent from the edges
        ``(src, dst)``."""
        u, v = _row_pairs(self.model, self.candidates)
        free = _absent(u, v, src, dst, self.model.layout.n_nodes)
        return u[free], v[free]

    def _grow(self, k: int, src: np.ndarray, dst: np.ndarray,
              pairs: tuple[np.ndarray, np.ndarray] | None) -> list[tuple[int, int]]:
        """``k`` pairs to add, among ``pairs`` (the free candidates, at least ``k``) or,
        when None, among every forward pair absent from the kept edges ``(src, dst)``."""
        raise NotImplementedError


def _count(value: Any, name: str, accepted: str) -> int:
    """``value`` as an int >= 1, or :class:`~edgenet.EdgenetError` saying what is accepted
    (a bool is refused although Python counts it as an int)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        kind = f" of type {type(value).__name__}" if isinstance(value, bool) else ""
        raise EdgenetError(f"{name} must be {accepted} (got {value!r}{kind})")
    return int(value)


def _is_node(n: Any, known: set[Hashable]) -> bool:
    """Whether ``n`` is one of the ``known`` nodes; False for an unhashable value."""
    try:
        return n in known
    except TypeError:
        return False


def _candidates(model: CompiledNetwork, candidates: Any) -> Any:
    """``None`` (every forward pair), a list of edges, or a list of ``(sources, targets)``
    blocks, checked against the model's nodes."""
    if candidates is None:
        return None
    if isinstance(candidates, (str, bytes)) or not isinstance(candidates, Iterable):
        raise EdgenetError(f"candidates= must be None, a list of (source, target) edges or a "
                           f"list of (sources, targets) blocks (got {candidates!r})")
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
    if items and all(is_block):
        out = []
        for sources, targets in items:
            sources, targets = list(sources), list(targets)
            for n in [*sources, *targets]:
                if not _is_node(n, known):
                    raise EdgenetError(f"candidates= names {n!r}, which is not a node of the "
                                       "network")
            out.append((sources, targets))
        return ("blocks", out)
    edges = []
    for c in items:
        if not isinstance(c, (tuple, list)) or len(c) != 2:
            raise EdgenetError(f"candidates= must hold (source, target) edges or (sources, "
                               f"targets) blocks; got {c!r}")
        for n in c:
            if not _is_node(n, known):
                raise EdgenetError(f"candidates= edge {tuple(c)!r} names {n!r}, which is not a "
                                   "node of the network")
        edges.append((c[0], c[1]))
    return ("edges", edges)


def _row_pairs(model: CompiledNetwork, kind_items: Any) -> tuple[np.ndarray, np.ndarray]:
    """Candidate edges as (source rows, target rows), forward in the current row order,
    each pair once, in the order of its first listing."""
    row = {n: r for r, n in enumerate(model.nodes)}
    kind, items = kind_items
    if kind == "edges":
        u = np.array([row[a] for a, _ in items], dtype=np.int64)
        v = np.array([row[b] for _, b in items], dtype=np.int64)
    else:
        us, vs = [], []
        for sources, targets in items:
            s = np.array([row[n] for n in sources], dtype=np.int64)
            t = np.array([row[n] for n in targets], dtype=np.int64)
            us.append(np.repeat(s, len(t)))
            vs.append(np.tile(t, len(s)))
        u, v = np.concatenate(us), np.concatenate(vs)
    ok = (u < v) & (v >= model.layout.n_in)
    u, v = u[ok], v[ok]
    _, first = np.unique(v * model.layout.n_nodes + u, return_index=True)
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
    repeatable (a NumPy generator of its own).

    >>> import torch, edgenet as en
    >>> net = en.Network(); net.add_input("x"); net.add_neuron("h"); net.add_output("y")
    >>> net.add_edge("x", "h", weight=1.0); net.add_edge("h", "y", weight=0.01)
    >>> model = net.compile()
    >>> sched = en.SET(model, None, fraction=0.5, every=1, seed=0)
    >>> sched.step(); sorted(model.edges)
    [('x', 'h'), ('x', 'y')]
    """

    def __init__(self, model: CompiledNetwork, optimizer: torch.optim.Optimizer | None,
                 fraction: float = 0.3, every: int = 100, until: int | None = None,
                 seed: int | None = None, candidates: Any = None):
        super().__init__(model, optimizer, fraction, every, until, candidates)
        self.rng = np.random.default_rng(seed)

    def _grow(self, k: int, src: np.ndarray, dst: np.ndarray,
              pairs: tuple[np.ndarray, np.ndarray] | None) -> list[tuple[int, int]]:
        n = self.model.layout.n_nodes
        if pairs is not None:
            u, v = pairs
            pick = self.rng.choice(len(u), size=k, replace=False)
            return list(zip(u[pick].tolist(), v[pick].tolist()))
        n_in = self.model.layout.n_in
        present = set((dst * n + src).tolist())
        chosen: dict[int, tuple[int, int]] = {}
        rows = np.arange(n_in, n)
        p = rows / rows.sum()  # row v has v possible sources: pairs are uniform
        while len(chosen) < k:
            v = self.rng.choice(rows, size=2 * (k - len(chosen)), p=p)
            u = (self.rng.random(len(v)) * v).astype(np.int64)
            for a, b in zip(u.tolist(), v.tolist()):
                key = b * n + a
                if key not in present and key not in chosen and len(chosen) < k:
                    chosen[key] = (a, b)
        return list(chosen.values())


class RigL(_Schedule):
    """Rigged Lottery: regrow the candidates with the largest ``|dL/dw|``, the gradient an
    absent edge would have had in the last backward pass before the rewiring step.

    That gradient is ``dL/dw_uv = sum_b dL/dz_v[b] h_u[b]``: the scheduler keeps the
    input, parameters, structure and output gradient of the pass before each rewiring
    step (hooks on the model), replays it, and scores candidates in blocks of target rows
    against all source rows, never an ``N x N`` matrix (at most :data:`SCORE_BLOCK`
    scores at a time). ``model``, ``optimizer``, ``fraction``, ``every``, ``until`` and
    ``candidates`` are those of every scheduler (see ``help(RigL.__init__)``).

    ``step()`` refuses (:class:`~edgenet.EdgenetError`, nothing changed) when the model
    was rewired after the captured pass (its scores describe another network: run a
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
    """

    def __init__(self, model: CompiledNetwork, optimizer: torch.optim.Optimizer | None,
                 fraction: float = 0.3, every: int = 100, until: int | None = None,
                 candidates: Any = None):
        super().__init__(model, optimizer, fraction, every, until, candidates)
        self._pass: _Capture | None = None
        self._hook = model.register_forward_hook(self._capture)

    def _capture(self, module: torch.nn.Module, args: tuple, y: torch.Tensor) -> None:
        if (self.t + 1) % self.every or not torch.is_grad_enabled() or not y.requires_grad:
            return
        x = args[0]
        backend, L = self.model._pass(x.device)  # the structure this pass walked
        captured = _Capture((x[None] if x.dim() == 1 else x).detach().clone(),
                            self.model.weight.detach().clone(),
                            self.model.bias.detach().clone(), L, backend, self.model.nodes)
        self._pass = captured

        def keep(grad: torch.Tensor) -> None:
            captured.grad_y = (grad[None] if grad.dim() == 1 else grad).detach()

        y.register_hook(keep)

    def remove(self) -> None:
        """Detach the scheduler's hook from the model."""
        self._hook.remove()

    def gradients(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(H[N, B], D[N - n_in, B])``: every neuron's output and ``dL/dz`` in the last
        captured pass (the one before a rewiring step), replayed on the structure, weights
        and engine that pass used; refused when the model's structure has changed since."""
        p = self._pass
        if p is None or p.grad_y is None:
            raise EdgenetError("RigL needs a forward and backward pass through the model before "
                               "each rewiring step; call step() after optimizer.step()")
        self._check_structure(p)
        L = p.layout
        impl = backends.get(p.backend)
        _, H, Z = impl.forward(p.x, p.weight, p.bias, L)
        _, _, _, D = impl.backward(p.grad_y, p.weight, H, Z, L, False, False)
        return H, D

    def _check_structure(self, p: _Capture) -> None:
        """Refuse a capture taken on another structure than the model's now (a rewire
        between the captured pass and :meth:`step`): its rows are not the model's rows."""
        model, L = self.model, p.layout
        now = model.layout
        same = now is L or (model.nodes == p.nodes and all(
            torch.equal(getattr(now, f).cpu(), getattr(L, f).cpu()) for f in ("crow", "col")))
        if not same:
            raise EdgenetError(
                f"RigL step {self.t + 1}: the model was rewired after the forward pass RigL "
                f"captured for this step ({L.n_edges} edges, {L.n_nodes} nodes then; "
                f"{now.n_edges} edges, {now.n_nodes} nodes now), so that pass's gradients "
                "do not score this network's candidates. Run a forward and backward pass "
                "through the model again, then call step(); nothing was changed"
            )

    def _grow(self, k: int, src: np.ndarray, dst: np.ndarray,
              pairs: tuple[np.ndarray, np.ndarray] | None) -> list[tuple[int, int]]:
        H, D = self.gradients()
        n_in, n = self.model.layout.n_in, self.model.layout.n_nodes
        if pairs is not None:
            u, v = pairs
            scores = np.empty(len(u))
            step = max(1, SCORE_BLOCK // max(H.shape[1], 1))
            for i in range(0, len(u), step):
                a = torch.as_tensor(u[i : i + step], device=H.device)
                b = torch.as_tensor(v[i : i + step] - n_in, device=H.device)
                scores[i : i + step] = (H[a] * D[b]).sum(1).abs().double().cpu().numpy()
            self._check_scores(scores, u, v)
            top = _top(scores, np.arange(len(u)), k)
            self._pass = None
            return list(zip(u[top].tolist(), v[top].tolist()))
        # Every forward pair: blocks of target rows against all earlier rows.
        present = np.sort(dst * n + src)
        best_s, best_key = np.empty(0), np.empty(0, dtype=np.int64)
        rows_per = max(1, SCORE_BLOCK // n)
        for t0 in range(n_in, n, rows_per):
            t1 = min(n, t0 + rows_per)
            S = (D[t0 - n_in : t1 - n_in] @ H[:t1].T).abs().double().cpu().numpy()  # (nb, t1)
            tt, uu = np.meshgrid(np.arange(t0, t1), np.arange(t1), indexing="ij")
            S[uu >= tt] = -1.0  # only u before v
            key = tt * n + uu
            hit = np.searchsorted(present, key.ravel())
            hit = np.minimum(hit, max(len(present) - 1, 0))
            if len(present):
                S.ravel()[present[hit] == key.ravel()] = -1.0
            self._check_scores(S.ravel(), uu.ravel(), tt.ravel())
            flat_s, flat_k = S.ravel(), key.ravel()
            keep = _top(flat_s, np.arange(flat_s.size), k)
            keep = keep[flat_s[keep] >= 0]
            best_s = np.concatenate((best_s, flat_s[keep]))
            best_key = np.concatenate((best_key, flat_k[keep]))
            sel = _top(best_s, best_key, k)
            best_s, best_key = best_s[sel], best_key[sel]
        order = np.lexsort((best_key, -best_s))[:k]
        if len(order) < k:  # cannot happen: step() counted at least k free forward pairs
            raise EdgenetError(f"RigL step {self.t + 1} found {len(order)} of the {k} free "
                               "forward pairs it needs; nothing was changed")
        self._pass = None
        return [(int(key % n), int(key // n)) for key in best_key[order].tolist()]

    def _check_scores(self, scores: np.ndarray, u: np.ndarray, v: np.ndarray) -> None:
        """Refuse NaN scores (of candidate pairs ``(u, v)``, rows): they cannot be ranked,
        and dropping them would regrow fewer edges than were removed."""
        bad = np.flatnonzero(np.isnan(scores))
        if bad.size:
            nodes = self.model.nodes
            edge = (nodes[int(u[bad[0]])], nodes[int(v[bad[0]])])
            raise EdgenetError(
                f"RigL step {self.t + 1}: the score |dL/dw| of candidate edge {edge!r} is NaN "
                f"({bad.size} NaN scores in this block): the captured pass has a NaN input, "
                "weight or gradient, so candidates cannot be ranked and the edge count could "
                "not stay constant. Nothing was changed; find the NaN, then run a forward and "
                "backward pass again before step()"
            )


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
