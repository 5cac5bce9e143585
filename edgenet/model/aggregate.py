r"""Neurons that combine their inputs other than by summing: a plain-torch pass.

Every neuron computes

.. math::

    h_v = \mathrm{act}_v\big(b_v + r_v \cdot \mathrm{agg}_v(\{w_{uv} h_u\}_{u \to v})\big)

where ``agg_v`` is its node attribute ``aggregation`` (one of
:data:`~edgenet.graph.validate.AGGREGATIONS`: neat-python's ``sum``, ``product``,
``max``, ``min``, ``maxabs``, ``median``, ``mean``) and ``r_v`` its ``response``. An
empty input set aggregates to 1 for ``product`` and to 0 otherwise, as neat-python's
functions do. The compiled engines run ``sum`` with response 1 only (and
:func:`edgenet.compile` refuses anything else, naming the neuron);
:class:`AggregateNetwork` runs the rest, generation by generation, with torch
operations that autograd differentiates. It gathers each generation's messages
``w_uv h_u``, so a training step keeps ``O(E x B)`` of them for backward, and it is much
slower than the compiled engines: only networks with such neurons take it.
:func:`edgenet.compile_population` builds it (``.member(i)`` for one network).

>>> import networkx as nx, torch, edgenet as en
>>> G = nx.DiGraph([("a", "y", {"weight": 1.0}), ("b", "y", {"weight": 1.0})])
>>> G.nodes["y"]["aggregation"] = "max"
>>> model = en.compile_population([G]).member(0)
>>> model(torch.tensor([[1.0, 3.0], [-2.0, -5.0]])).flatten().tolist()
[3.0, -2.0]
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping

import torch
from torch import Tensor

from ..activations import get_activation
from ..errors import EdgenetError
from ..graph.network import Network
from ..graph.validate import AGGREGATIONS
from .dag import CompiledNetwork
from .tensors import Layout

#: Index of each aggregation in the per-row code tensor.
CODE = {name: i for i, name in enumerate(AGGREGATIONS)}


def _scatter(m: Tensor, t: Tensor, n: int, how: str, base: float) -> Tensor:
    """``(n, B)`` reduction ``how`` of the rows of ``m[e, B]`` into targets ``t[e]``;
    rows without messages hold ``base``."""
    out = m.new_full((n, m.shape[1]), base)
    return out.scatter_reduce(0, t[:, None].expand_as(m), m, how, include_self=how == "prod")


def _sum(m: Tensor, t: Tensor, n: int) -> Tensor:
    return m.new_zeros(n, m.shape[1]).index_add(0, t, m)  # (n, B)


def _mean(m: Tensor, t: Tensor, n: int) -> Tensor:
    count = torch.bincount(t, minlength=n).clamp(min=1).to(m.dtype)  # (n,)
    return _sum(m, t, n) / count[:, None]  # (n, B)


def _maxabs(m: Tensor, t: Tensor, n: int) -> Tensor:
    """The message of largest magnitude (the first in edge order among equals)."""
    e, B = m.shape
    top = _scatter(m.abs(), t, n, "amax", 0.0)  # (n, B)
    pos = torch.arange(e, device=m.device)[:, None].expand(e, B)  # (e, B)
    pos = torch.where(m.abs() == top[t], pos, e)
    first = torch.full((n, B), e, device=m.device).scatter_reduce(
        0, t[:, None].expand(e, B), pos, "amin")  # (n, B); e where no message
    return torch.cat([m, m.new_zeros(1, B)]).gather(0, first)  # (n, B)


def _median(m: Tensor, t: Tensor, n: int) -> Tensor:
    """neat-python's ``median2``: the middle message, or the mean of the two middle ones."""
    e, B = m.shape
    count = torch.bincount(t, minlength=n)  # (n,)
    width = int(count.max()) if n else 0
    start = torch.cumsum(count, 0) - count  # messages are grouped by target
    slot = torch.arange(e, device=m.device) - start[t]  # (e,)
    padded = m.new_full((n, max(width, 1), B), float("inf")).index_put((t, slot), m)
    ordered = padded.sort(dim=1).values  # (n, width, B), padding last
    lo = ((count - 1).clamp(min=0) // 2)[:, None, None].expand(n, 1, B)
    hi = (count // 2).clamp(max=max(width - 1, 0))[:, None, None].expand(n, 1, B)
    mid = (ordered.gather(1, lo) + ordered.gather(1, hi))[:, 0] / 2  # (n, B)
    return torch.where((count > 0)[:, None], mid, torch.zeros_like(mid))


REDUCE: dict[str, Callable[[Tensor, Tensor, int], Tensor]] = {
    "sum": _sum,
    "product": lambda m, t, n: _scatter(m, t, n, "prod", 1.0),
    "max": lambda m, t, n: _scatter(m, t, n, "amax", 0.0),
    "min": lambda m, t, n: _scatter(m, t, n, "amin", 0.0),
    "maxabs": _maxabs,
    "median": _median,
    "mean": _mean,
}


def aggregate(m: Tensor, t: Tensor, codes: Tensor) -> Tensor:
    """``(n, B)`` aggregates of messages ``m[e, B]`` sent to local targets ``t[e]`` (sorted),
    target ``i`` reducing by ``AGGREGATIONS[codes[i]]``.

    >>> m = torch.tensor([[1.0], [-4.0], [2.0], [3.0]])
    >>> aggregate(m, torch.tensor([0, 0, 1, 1]), torch.tensor([CODE["maxabs"], CODE["product"]]))
    tensor([[-4.],
            [ 6.]])
    """
    n = codes.shape[0]
    out = m.new_zeros(n, m.shape[1])  # (n, B)
    edge_code = codes[t]  # (e,)
    for code in torch.unique(codes).tolist():
        rows = torch.nonzero(codes == code)[:, 0]  # (k,) targets reducing this way
        local = torch.full((n,), -1, dtype=torch.long, device=m.device)
        local[rows] = torch.arange(rows.shape[0], device=m.device)
        mine = edge_code == code  # (e,)
        value = REDUCE[AGGREGATIONS[code]](m[mine], local[t[mine]], rows.shape[0])  # (k, B)
        out = out.index_copy(0, rows, value)
    return out


def forward(x: Tensor, weight: Tensor, bias: Tensor, L: Layout, codes: Tensor,
            response: Tensor) -> Tensor:
    """``(x[B, n_in], weight[E], bias[N - n_in]) -> y[B, n_out]`` with each computed row's
    aggregation ``codes`` and ``response`` (both ``(N - n_in,)``), by torch operations."""
    n_in = L.n_in
    rows, edges, runs = L.rows.tolist(), L.edges.tolist(), L.runs.tolist()
    names = L.acts.split(",")
    crow, col = L.crow.long(), L.col.long()
    fan_in = crow[1:] - crow[:-1]  # (N - n_in,)
    H = x.T  # (n_in, B) rows computed so far
    r = 0
    for g in range(len(rows) - 1):
        c0, c1, e0, e1 = rows[g] - n_in, rows[g + 1] - n_in, edges[g], edges[g + 1]
        t = torch.repeat_interleave(torch.arange(c1 - c0, device=x.device), fan_in[c0:c1])
        m = weight[e0:e1, None] * H.index_select(0, col[e0:e1])  # (e, B) messages
        z = bias[c0:c1, None] + response[c0:c1, None] * aggregate(m, t, codes[c0:c1])  # (n, B)
        parts = []
        while r < len(runs) and runs[r][0] < rows[g + 1]:
            a, b, i = runs[r]
            parts.append(get_activation(names[i])(z[a - rows[g] : b - rows[g]]))  # (b - a, B)
            r += 1
        H = torch.cat([H, *parts])  # (rows[g + 1], B)
    return H.index_select(0, L.out_rows).T  # (B, n_out)


class AggregateNetwork(CompiledNetwork):
    """A :class:`~edgenet.CompiledNetwork` some of whose neurons aggregate other than by
    summing (see the module docstring); it runs the plain-torch pass :func:`forward`.

    Build it with :func:`edgenet.compile_population` (``.member(i)``). ``to_network``
    writes each neuron's ``aggregation`` and ``response`` back.
    """

    _rules: dict[Hashable, tuple[str, float]]
    _row_rules: tuple[Layout, Tensor, Tensor] | None

    @classmethod
    def adopt(cls, model: CompiledNetwork,
              rules: Mapping[Hashable, tuple[str, float]]) -> AggregateNetwork:
        """``model`` (compiled from its graph without the ``aggregation`` and ``response``
        attributes that ``rules`` maps its neurons to) turned into an aggregate network
        in place: same parameters, same layout."""
        model.__class__ = cls
        assert isinstance(model, AggregateNetwork)
        model._rules = dict(rules)
        model._row_rules = None
        return model

    @property
    def engine(self) -> str:
        """``"aggregate"``: the plain-torch pass; the compiled engines cannot run it."""
        return "aggregate"

    @engine.setter
    def engine(self, value: str) -> None:
        if value in ("auto", "aggregate"):
            return
        node, (agg, response) = next(iter(self._rules.items()))
        raise EdgenetError(
            f"engine={value!r} sums every neuron's weighted inputs with response 1; node "
            f"{node!r} has aggregation {agg!r} and response {response!r}: use engine='auto'"
        )

    def _rows(self) -> tuple[Tensor, Tensor]:
        """Every computed row's aggregation code and response, for the current layout."""
        cached = self._row_rules
        if cached is None or cached[0] is not self._layout:
            rules = [self._rules.get(n, ("sum", 1.0)) for n in self.neurons]
            device = self.weight.device
            codes = torch.tensor([CODE[a] for a, _ in rules], dtype=torch.long, device=device)
            response = torch.tensor([r for _, r in rules], dtype=self.weight.dtype,
                                    device=device)
            cached = self._row_rules = (self._layout, codes, response)
        return cached[1], cached[2].to(self.weight.dtype)

    def forward(self, x: Tensor) -> Tensor:
        """``(batch, n_inputs) -> (batch, n_outputs)``; ``(n_inputs,)`` gives ``(n_outputs,)``."""
        n = self.n_inputs
        self._check_tensor(x, f"(batch, {n}) or ({n},)", (1, 2))
        if x.dim() == 1:
            return self.forward(x[None])[0]
        codes, response = self._rows()
        return forward(x, self.weight, self.bias, self._layout, codes, response)  # (B, n_out)

    def to_network(self) -> Network:
        """The network with current weights, each neuron's ``aggregation`` and ``response``
        written back (see :meth:`edgenet.CompiledNetwork.to_network`)."""
        net = super().to_network()
        for n, (agg, response) in self._rules.items():
            if n in net:
                net.nodes[n].update(aggregation=agg, response=response)
        return net
