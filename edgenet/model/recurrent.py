r"""Recurrent networks: any directed graph, cycles and self-loops included, run over time.

Input neurons are clamped to the stimulus ``x_t`` at step ``t``; every other neuron
``v`` updates synchronously from the previous state,

.. math::

    s_{u,t} = \begin{cases} x_{u,t} & u \text{ an input} \\ h_{u,t-1} & \text{otherwise}
    \end{cases}, \qquad
    z_{v,t} = b_v + \sum_u w_{uv} s_{u,t}, \qquad
    h_{v,t} = (1 - a_v) h_{v,t-1} + a_v \sigma_v(z_{v,t})

with ``a_v = dt / tau_v`` (node attribute ``tau``, default 1: a plain RNN) and
``h_0 = 0`` unless given. A fully connected graph of ``tanh`` neurons is
``torch.nn.RNN``. Per step this is one sparse product over all edges, ``Z_t = b + A S_t``
with ``A`` the ``(neurons, nodes)`` CSR matrix of weights and ``S_t`` the node-major
``(nodes, batch)`` state.

The walk through time, forward and backward (with ``checkpoint=k``), runs in
:mod:`edgenet.kernels.recurrent` on the sparse products a backend registers: the numba
CSR kernels on the CPU, torch's CSR ops on CUDA. This module lays the graph out
(:func:`lower_recurrent`) and holds the model.

>>> import networkx as nx, torch, edgenet as en
>>> G = nx.DiGraph([("x", "a", {"weight": 1.0}), ("a", "a", {"weight": 0.5})])
>>> rnn = en.compile(G, recurrent=True, inputs=["x"], outputs=["a"])
>>> rnn(torch.ones(1, 1), steps=3)[0, :, 0].tolist()   # relu(1), relu(1 + 0.5), ...
[1.0, 1.5, 1.75]
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import torch
from torch import nn

from ..errors import EdgenetError, InputError
from ..graph.validate import (
    check_fits,
    edge_weights,
    neuron_attributes,
    real,
    resolve_roles,
    time_constant,
    warn_unweighted,
)
from ..kernels import backends
from ..kernels.recurrent import BPTT, Pass, Structure
from .base import CompiledModel, check_arguments
from .rewire import Edit, already_exists, carried, into_input, not_an_edge, unknown_node
from .source import Source, canonical_order
from .tensors import initial_weights

#: The plan's arrays a model keeps as buffers on its device.
_STRUCTURE = ("crow", "col", "tcrow", "tcol", "perm", "out")


@dataclass(frozen=True)
class RecurrentPlan:
    """The tensor layout of a recurrent network (arrays are NumPy int64).

    Rows of the state ``S[N, B]`` are ``nodes``: the inputs first, then the neurons, grouped
    by activation (``runs`` lists ``(first, end, activation)`` in neuron indices, i.e. rows
    minus ``n_inputs``). ``crow``/``col`` is the CSR structure of the incoming edges of
    every neuron (``col`` a row of ``S``), ordered by target then source, the order of the
    flat weights. ``tcrow``/``tcol`` is the transposed structure over all ``N`` rows
    (``tcol`` a neuron index) and ``perm`` maps each transposed entry to its edge.
    ``out`` holds the neuron index of each output, ``order`` the plan edges in ``G.edges``
    order, ``tau`` every neuron's time constant.
    """

    nodes: list[Hashable]
    inputs: list[Hashable]
    outputs: list[Hashable]
    out: np.ndarray
    crow: np.ndarray
    col: np.ndarray
    tcrow: np.ndarray
    tcol: np.ndarray
    perm: np.ndarray
    runs: list[tuple[int, int, str]]
    order: np.ndarray
    tau: np.ndarray

    @property
    def n_inputs(self) -> int:
        return len(self.inputs)

    @property
    def n_nodes(self) -> int:
        return len(self.nodes)

    @property
    def n_edges(self) -> int:
        return len(self.col)


def _check_digraph(G: Any) -> None:
    if not isinstance(G, nx.Graph) or not G.is_directed() or G.is_multigraph():
        raise EdgenetError(
            f"compile(recurrent=True) expects a networkx.DiGraph or edgenet.Network (got "
            f"{type(G).__name__}); orient an undirected graph first and merge parallel edges "
            "into one edge whose weight is their sum"
        )


def lower_recurrent(
    G: nx.DiGraph,
    inputs: Sequence[Hashable] | None = None,
    outputs: Sequence[Hashable] | None = None,
) -> tuple[RecurrentPlan, np.ndarray, np.ndarray, list[str]]:
    """Validate ``G`` (cycles allowed) and lay it out as a :class:`RecurrentPlan`.

    Returns the plan, the edge weights (float64, NaN where missing) and biases in plan
    order, and the activation of every neuron.

    >>> import networkx as nx
    >>> from edgenet.model.recurrent import lower_recurrent
    >>> plan, w, b, acts = lower_recurrent(nx.DiGraph([("x", "a"), ("a", "a", {"weight": 2.0})]),
    ...                                    inputs=["x"], outputs=["a"])
    >>> plan.nodes, w.tolist(), acts
    (['x', 'a'], [nan, 2.0], ['identity'])
    """
    _check_digraph(G)
    inputs, outputs = resolve_roles(G, inputs, outputs)
    input_set, output_set = set(inputs), set(outputs)
    nodes = list(G)
    index = {n: i for i, n in enumerate(nodes)}
    acts = [""] * len(nodes)
    bias = np.zeros(len(nodes))
    tau = np.ones(len(nodes))
    for i, n in enumerate(nodes):
        if n in input_set:
            continue
        role = G.nodes[n].get("role") or ("output" if n in output_set else "hidden")
        acts[i], bias[i] = neuron_attributes(G, n, role)
        tau[i] = time_constant(G.nodes[n].get("tau"), f"tau of node {n!r}")
    triples = list(G.edges(data="weight"))
    weights = edge_weights(G, triples)
    warn_unweighted(G, triples, weights)
    src = np.fromiter(map(index.__getitem__, [t[0] for t in triples]), np.int64, len(triples))
    dst = np.fromiter(map(index.__getitem__, [t[1] for t in triples]), np.int64, len(triples))
    return lower_recurrent_arrays(
        nodes, np.array([index[n] for n in inputs], dtype=np.int64),
        np.array([index[n] for n in outputs], dtype=np.int64), src, dst, weights, acts, bias, tau)


def lower_recurrent_arrays(
    nodes: Sequence[Hashable],
    inputs: np.ndarray,
    outputs: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    weights: np.ndarray,
    activations: Sequence[str] | np.ndarray,
    bias: np.ndarray,
    tau: np.ndarray,
) -> tuple[RecurrentPlan, np.ndarray, np.ndarray, list[str]]:
    """Lay out a validated recurrent network given as arrays over node indices
    ``0 .. n - 1`` (``nodes[i]`` names index ``i``): ``inputs``/``outputs`` are indices in
    column order, ``src``/``dst`` the edges (``(E,)`` integer arrays, no repeated pair),
    ``weights`` theirs (float64, NaN where missing); ``activations``, ``bias`` and ``tau``
    hold every node's values (ignored for inputs). Vectorised: sorts and counts over the
    edges, nothing per edge in Python. Returns what :func:`lower_recurrent` returns.

    >>> import numpy as np
    >>> from edgenet.model.recurrent import lower_recurrent_arrays
    >>> plan, w, b, acts = lower_recurrent_arrays(
    ...     ["x", "a"], np.array([0]), np.array([1]), np.array([1, 0]), np.array([1, 1]),
    ...     np.array([2.0, np.nan]), ["", "identity"], np.zeros(2), np.ones(2))
    >>> plan.nodes, plan.col.tolist(), w.tolist(), acts
    (['x', 'a'], [0, 1], [nan, 2.0], ['identity'])
    """
    n = len(nodes)
    n_in = len(inputs)
    is_input = np.zeros(n, dtype=bool)
    is_input[inputs] = True
    computed = np.flatnonzero(~is_input)  # (M,) in node order
    names, act_id = np.unique(np.asarray([activations[i] for i in computed.tolist()], dtype=str)
                              if isinstance(activations, list) else
                              np.asarray(activations)[computed].astype(str), return_inverse=True)
    by_act = np.argsort(act_id.reshape(-1), kind="stable")  # node order within an activation
    neurons = computed[by_act]  # (M,)
    row_act = act_id.reshape(-1)[by_act]  # (M,) activation of every neuron row
    starts = np.flatnonzero(np.diff(row_act, prepend=-1)) if len(row_act) else row_act
    ends = np.append(starts[1:], len(row_act))
    runs = [(int(r0), int(r1), str(names[row_act[r0]])) for r0, r1 in zip(starts, ends)]
    row_node = np.concatenate((np.asarray(inputs, dtype=np.int64), neurons))  # (N,)
    row_of = np.empty(n, dtype=np.int64)
    row_of[row_node] = np.arange(n)
    M = n - n_in

    s = row_of[src]  # (E,) state row of each source
    d = row_of[dst]  # (E,) state row of each target
    d -= n_in  # neuron index
    by_target = np.argsort(d * n + s)  # (E,) pairs are distinct: any sort gives one order
    s, d = s[by_target], d[by_target]
    weights = np.asarray(weights, dtype=np.float64)[by_target]
    crow = np.concatenate(([0], np.cumsum(np.bincount(d, minlength=M)))).astype(np.int64)
    perm = np.argsort(s * max(M, 1) + d).astype(np.int64)  # (E,) by source, then target
    tcrow = np.concatenate(([0], np.cumsum(np.bincount(s, minlength=n)))).astype(np.int64)
    order = np.empty(len(by_target), dtype=np.int64)
    order[by_target] = np.arange(len(by_target))  # plan edge of every input edge
    del by_target
    node_list = list(nodes)
    plan = RecurrentPlan(
        nodes=[node_list[i] for i in row_node.tolist()],
        inputs=[node_list[i] for i in np.asarray(inputs).tolist()],
        outputs=[node_list[i] for i in np.asarray(outputs).tolist()],
        out=row_of[np.asarray(outputs, dtype=np.int64)] - n_in,
        crow=crow,
        col=s,
        tcrow=tcrow,
        tcol=d[perm],
        perm=perm,
        runs=runs,
        order=order,
        tau=np.asarray(tau, dtype=np.float64)[neurons],
    )
    return plan, weights, np.asarray(bias, dtype=np.float64)[neurons], \
        [str(names[i]) for i in row_act.tolist()]


def compile_recurrent(G: nx.DiGraph, inputs: Sequence[Hashable] | None,
                      outputs: Sequence[Hashable] | None, dtype: torch.dtype,
                      device: torch.device | str | None, seed: int | None,
                      engine: str) -> RecurrentNetwork:
    """The model ``edgenet.compile(G, recurrent=True, ...)`` returns, from the same
    arguments: any directed graph, cycles and self-loops allowed, run over time.

    Roles, activations, biases and missing weights follow :func:`edgenet.compile`; node
    attribute ``tau`` (default 1.0) sets each neuron's time constant. As there, a finite
    weight or bias that ``dtype`` cannot hold (``1e300`` in float32) is refused.

    >>> import networkx as nx, torch
    >>> G = nx.DiGraph([("x", "a"), ("a", "b"), ("b", "a")])
    >>> rnn = compile_recurrent(G, ["x"], ["b"], torch.float64, None, 0, "auto")
    >>> rnn(torch.zeros(2, 5, 1, dtype=torch.float64)).shape
    torch.Size([2, 5, 1])
    """
    check_arguments(dtype=dtype, device=device, seed=seed, engine=engine, recurrent=True)
    plan, weights, bias, acts = lower_recurrent(G, inputs, outputs)
    return build(G, plan, weights, bias, acts, dtype, device, seed, engine)


def build(source: nx.DiGraph | Source, plan: RecurrentPlan, weights: np.ndarray,
          bias: np.ndarray, activations: list[str], dtype: torch.dtype,
          device: torch.device | str | None, seed: int | None, engine: str) -> RecurrentNetwork:
    """The model of a laid-out ``plan`` (from a graph or a table): weights (NaN where
    missing, then drawn from ``seed``), biases and time constants checked against
    ``dtype``, parameters on ``device``.

    >>> import networkx as nx, torch
    >>> G = nx.DiGraph([("x", "a", {"weight": 2.0})])
    >>> plan, w, b, acts = lower_recurrent(G, ["x"], ["a"])
    >>> build(G, plan, w, b, acts, torch.float64, None, None, "auto").weight.tolist()
    [2.0]
    """
    n_in = plan.n_inputs

    def edge(i: int) -> tuple[Hashable, Hashable]:
        target = int(np.searchsorted(plan.crow, i, side="right")) - 1
        return plan.nodes[int(plan.col[i])], plan.nodes[n_in + target]

    check_fits(dtype, weights, bias, edge, lambda i: plan.nodes[n_in + i], plan.tau)
    weight = initial_weights(plan.crow, weights, dtype, seed)
    model = RecurrentNetwork(source, plan, weight, torch.as_tensor(bias).to(dtype), activations,
                             engine)
    return model.to(device) if device is not None else model


class RecurrentNetwork(CompiledModel):
    """A directed graph, cycles allowed, compiled to run over time; build it with
    ``edgenet.compile(G, recurrent=True)``.

    Parameters: ``weight`` (one per edge, :attr:`edges` order) and ``bias`` (one per
    non-input neuron, :attr:`neurons` order); buffer ``tau`` (per neuron). Call it as
    ``model(x, steps=T, dt=1.0, h0=None, checkpoint=None)``: ``x`` is ``(B, n_in)`` (held
    for every step) or ``(B, T, n_in)``; ``h0`` is ``(B, n_neurons)`` in :attr:`neurons`
    order (default zeros); the result is ``(B, T, n_out)``, the outputs after every step.
    ``checkpoint=k`` keeps the state only every ``k`` steps and recomputes in backward
    (same gradients, less memory; see :mod:`edgenet.kernels.recurrent`). Everything else
    (:attr:`edges`, :meth:`to_network`, :meth:`rewire`, ...) is the surface every compiled
    model shares (:class:`~edgenet.model.base.CompiledModel`).

    >>> import networkx as nx, torch, edgenet as en
    >>> G = nx.cycle_graph(3, create_using=nx.DiGraph); G.add_edge("x", 0)
    >>> rnn = en.compile(G, recurrent=True, inputs=["x"], outputs=[2], seed=0)
    >>> rnn.neurons, rnn(torch.ones(4, 1), steps=6).shape   # grouped by activation
    ([2, 0, 1], torch.Size([4, 6, 1]))
    """

    def __init__(self, graph: nx.DiGraph | Source, plan: RecurrentPlan, weight: torch.Tensor,
                 bias: torch.Tensor, activations: list[str], engine: str = "auto"):
        """Built by ``edgenet.compile(G, recurrent=True)``: ``graph`` is the source graph,
        ``plan`` its :class:`RecurrentPlan`, ``weight`` and ``bias`` the initial parameters
        in plan order, ``activations`` every neuron's activation name and ``engine`` the
        initial :attr:`engine`."""
        super().__init__()
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(bias)
        self.crow: torch.Tensor
        self.col: torch.Tensor
        self.tcrow: torch.Tensor
        self.tcol: torch.Tensor
        self.perm: torch.Tensor
        self.out: torch.Tensor
        self.tau: torch.Tensor
        source = graph if isinstance(graph, Source) else Source.of(graph, plan.inputs,
                                                                    plan.outputs)
        self._set_structure(plan, source, activations)
        self.engine = engine

    def _set_structure(self, plan: RecurrentPlan, source: Source,
                       activations: list[str]) -> None:
        """Adopt a plan (its arrays moved to the parameters' device) and its source graph."""
        self.plan, self._source, self.activations = plan, source, activations
        self._nodes = list(plan.nodes)
        device = self.weight.device
        for name in _STRUCTURE:
            self.register_buffer(name, torch.as_tensor(getattr(plan, name)).to(device),
                                 persistent=False)
        self.register_buffer("tau", torch.as_tensor(plan.tau).to(self.weight), persistent=False)

    @property
    def engine(self) -> str:
        """How the steps run: ``"auto"`` or a backend that registers recurrent products
        (``"sparse"``: the numba CSR kernels on the CPU, torch's CSR ops on CUDA); see
        :func:`edgenet.kernels.backends.engines`.

        >>> import networkx as nx, edgenet as en
        >>> en.compile(nx.DiGraph([("x", "a")]), recurrent=True, inputs=["x"]).engine
        'auto'
        """
        return self._engine

    @engine.setter
    def engine(self, value: str) -> None:
        self._engine = backends.check_engine(value, recurrent=True)

    def structure(self) -> tuple[np.ndarray, np.ndarray]:
        return self.plan.crow, self.plan.col

    def _edge_order(self) -> np.ndarray:
        return self.plan.order

    def _rewire(self, edit: Edit, optimizer: torch.optim.Optimizer | None) -> None:
        """Apply a checked edit on the arrays of the plan (cycles and self-loops allowed),
        as the DAG's rewire does: the kept and added edges are laid out again by
        :func:`lower_recurrent_arrays`, and parameters and optimizer state carried over."""
        source, gone = self._source, set(edit.gone)
        nodes = canonical_order([n for n in source.nodes if n not in gone] + list(edit.specs),
                                source.inputs, source.outputs)
        index = {n: i for i, n in enumerate(nodes)}
        n_new = len(nodes)
        # Old edges in source order, as canonical ids of the new node list (-1: removed).
        canon = np.array([index.get(n, -1) for n in self._nodes], dtype=np.int64)  # by row
        src_rows, dst_rows = self.edge_rows()
        old = self.plan.order  # (E,) plan edge of every edge in source order
        u, v = canon[src_rows[old]], canon[dst_rows[old]]  # (E,)
        keys = np.where((u >= 0) & (v >= 0), v * n_new + u, -1)  # (E,)

        def ids(edges: list[tuple[Hashable, Hashable]], what: str) -> np.ndarray:
            """``v * n + u`` of every edge, or an error naming the first unknown node."""
            out = np.empty(len(edges), dtype=np.int64)
            for k, (a, b) in enumerate(edges):
                for n in (a, b):
                    if n not in index:
                        raise unknown_node(what, (a, b), n, gone)
                out[k] = index[b] * n_new + index[a]
            return out

        drop = np.zeros(len(keys), dtype=bool)
        if edit.remove:
            want = ids(edit.remove, "remove")
            order = np.argsort(keys, kind="stable")
            at = np.searchsorted(keys, want, sorter=order).clip(max=max(len(keys) - 1, 0))
            hit = order[at] if len(keys) else at
            missing = np.flatnonzero(keys[hit] != want) if len(keys) else np.arange(len(want))
            if missing.size:
                raise not_an_edge(edit.remove[int(missing[0])])
            drop[hit] = True
        drop |= keys < 0  # edges of removed neurons
        added = ids(edit.add, "add")
        inputs = set(source.inputs)
        present = set(keys[~drop].tolist())
        for (a, b), key in zip(edit.add, added.tolist()):
            if b in inputs:
                raise into_input((a, b))
            if key in present:
                raise already_exists((a, b))
        keep = np.flatnonzero(~drop)  # source-order positions of the kept edges
        src = np.concatenate((u[keep], added % n_new))
        dst = np.concatenate((v[keep], added // n_new))
        weights = np.concatenate((self.weight.detach().cpu().double().numpy()[old[keep]],
                                  edit.weights))
        acts = [""] * n_new
        bias = np.zeros(n_new)
        tau = np.ones(n_new)
        for n, act, b, a in zip(self.neurons, self.activations, self.bias.detach().cpu().tolist(),
                                self.plan.tau.tolist()):
            if n not in gone:
                acts[index[n]], bias[index[n]], tau[index[n]] = act, b, a
        for n, spec in edit.specs.items():
            acts[index[n]], bias[index[n]] = spec["activation"], spec["bias"]
            tau[index[n]] = time_constant(spec.get("tau"), f"tau of new neuron {n!r}")
        plan, w, b_new, names = lower_recurrent_arrays(
            nodes, np.array([index[n] for n in source.inputs], dtype=np.int64),
            np.array([index[n] for n in source.outputs], dtype=np.int64), src, dst, weights,
            acts, bias, tau)
        rows = self._nodes
        dropped = {(rows[a], rows[b]) for a, b in zip(src_rows[old[drop]].tolist(),
                                                       dst_rows[old[drop]].tolist())}
        new_source = Source(source.graph, nodes,
                            {**{n: a for n, a in source.node_attrs.items() if n not in gone},
                             **{n: copy.deepcopy(s) for n, s in edit.specs.items()}},
                            {e: a for e, a in source.edge_attrs.items() if e not in dropped},
                            list(source.inputs), list(source.outputs))
        new = build(new_source, plan, w, b_new, names, self.weight.dtype, self.weight.device,
                    None, self._engine)
        origin = np.concatenate((old[keep], np.full(len(edit.add), -1, np.int64)))
        edge_from = np.empty(len(origin), dtype=np.int64)
        edge_from[plan.order] = origin  # plan edge -> old weight position, or -1 when new
        old_neuron = {n: i for i, n in enumerate(self.neurons)}
        bias_from = np.array([old_neuron.get(n, -1) for n in new.neurons], dtype=np.int64)
        commit = carried([(self.weight, edge_from, new.weight.detach()),
                          (self.bias, bias_from, new.bias.detach())], optimizer)
        # Nothing can fail from here on.
        commit()
        self._set_structure(new.plan, new._source, new.activations)

    def leak(self, dt: float = 1.0, update: str = "euler") -> np.ndarray:
        """Each neuron's leak per step ``a`` (float64, :attr:`neurons` order), checked:
        ``dt / tau`` for the explicit ``"euler"`` update, which overshoots its target
        where ``dt > tau`` (a warning naming the neuron) and diverges where
        ``dt >= 2 tau`` (an error naming it); ``1 - exp(-dt / tau)`` for the exact
        ``"exponential"`` update of a leaky integrator, stable for any ``dt``.

        >>> import networkx as nx, edgenet as en
        >>> G = nx.DiGraph([("x", "a")]); G.nodes["a"]["tau"] = 0.02
        >>> rnn = en.compile(G, recurrent=True, inputs=["x"], outputs=["a"])
        >>> rnn.leak(dt=0.01).tolist(), rnn.leak(dt=1.0, update="exponential").tolist()
        ([0.5], [1.0])
        """
        dt = real(dt, "dt")
        if dt <= 0:
            raise EdgenetError(f"dt is {dt!r}; expected a positive time step")
        tau = self.plan.tau
        if update == "exponential":
            return -np.expm1(-dt / tau)
        if update != "euler":
            raise EdgenetError(f"update must be 'euler' (h += dt/tau (act - h)) or "
                               f"'exponential' (h += (1 - exp(-dt/tau)) (act - h)) (got "
                               f"{update!r})")
        a = dt / tau
        if len(a) and a.max() > 1:
            i = int(np.argmax(a))
            what = (f"neuron {self.neurons[i]!r} has tau={float(tau[i])!r}, and dt={dt!r} is "
                    f"{a[i]:.4g} times it: the explicit update h += dt/tau (act - h)")
            fix = (f"use dt <= {float(tau.min())!r} (the smallest tau), or "
                   "update='exponential', which is stable for any dt")
            if a[i] >= 2:
                raise EdgenetError(f"{what} diverges (it is stable only for dt < 2 tau); {fix}")
            warnings.warn(f"{what} overshoots its target every step (dt > tau); {fix}",
                          RuntimeWarning, stacklevel=3)
        return a

    def _pass(self, device: torch.device, dt: float, update: str = "euler") -> Pass:
        """The structure, products and leaks one call on ``device`` with step ``dt`` walks."""
        engine = "sparse" if self._engine == "auto" else self._engine
        backend = backends.get(backends.backend_of(engine))
        if device.type not in backend.devices or backend.recurrent is None:
            raise EdgenetError(f"engine={self._engine!r} does not run recurrent networks on "
                               f"{device.type}; use engine='auto'")
        a = torch.as_tensor(self.leak(dt, update)).to(self.weight)[:, None]  # (M, 1)
        S = Structure(self.crow, self.col, self.tcrow, self.tcol, self.perm, self.out,
                      tuple(self.plan.runs), self.plan.n_inputs)
        return Pass(S, backend.recurrent(device.type), a, 1 - a, bool((a != 1).any()))

    def forward(self, x: torch.Tensor, steps: int | None = None, dt: float = 1.0,
                h0: torch.Tensor | None = None, checkpoint: int | None = None,
                update: str = "euler") -> torch.Tensor:
        """Run the network over time: ``(B, n_in)`` held for ``steps`` steps, or
        ``(B, T, n_in)``, to the outputs after every step, ``(B, T, n_out)``.

        Parameters
        ----------
        x : torch.Tensor
            The stimulus of the input neurons, ``(B, n_in)`` or ``(B, T, n_in)``.
        steps : int, optional
            How many steps to hold a ``(B, n_in)`` input (must agree with ``T``, if given
            with a ``(B, T, n_in)`` one).
        dt : float
            The time step: each neuron moves ``dt / tau`` of the way to its new value.
        h0 : torch.Tensor, optional
            The initial state ``(B, n_neurons)`` in :attr:`neurons` order (default zeros).
        checkpoint : int, optional
            Keep the state only every ``checkpoint`` steps and recompute in backward
            (the same gradients up to rounding: the sums over steps are grouped by
            segment, so ``dL/dw`` and ``dL/db`` may differ in the last bits).
        update : str
            ``"euler"`` (default): ``h += (dt / tau) (act - h)``, refused where
            ``dt >= 2 tau`` (it diverges) and warned of where ``dt > tau``;
            ``"exponential"``: ``h += (1 - exp(-dt / tau)) (act - h)``, the exact update of
            a leaky integrator over ``dt``, stable for any ``dt`` (see :meth:`leak`).

        >>> import networkx as nx, torch, edgenet as en
        >>> rnn = en.compile(nx.DiGraph([("x", "a", {"weight": 2.0})]), recurrent=True,
        ...                  inputs=["x"], outputs=["a"])
        >>> rnn(torch.ones(1, 1), steps=2, dt=0.5)[0, :, 0].tolist()
        [1.0, 1.5]
        """
        x = self._input(x, steps)
        B, T, _ = x.shape
        M = self.bias.shape[0]
        P = self._pass(x.device, dt, update)
        if checkpoint is not None and (isinstance(checkpoint, bool) or not isinstance(
                checkpoint, int) or checkpoint < 1):
            raise EdgenetError(
                f"checkpoint is {checkpoint!r}; expected None (keep every step) or a whole "
                "number of steps >= 1 between stored states"
            )
        if h0 is None:
            h0 = x.new_zeros(B, M)
        elif not isinstance(h0, torch.Tensor) or tuple(h0.shape) != (B, M) \
                or h0.dtype != x.dtype or h0.device != x.device:
            got = (f"{tuple(h0.shape)} {h0.dtype} on {h0.device}"
                   if isinstance(h0, torch.Tensor) else type(h0).__name__)
            raise InputError(
                f"h0 must be a tensor of shape (batch, neurons) = ({B}, {M}), {x.dtype} on "
                f"{x.device}, one column per neuron in model.neurons order (got {got})"
            )
        return BPTT.apply(x, self.weight, self.bias, h0, P, checkpoint)  # (B, T, n_out)

    def _input(self, x: torch.Tensor, steps: int | None) -> torch.Tensor:
        n = self.n_inputs
        self._check_tensor(x, f"(batch, {n}) with steps=T, or (batch, T, {n})", (2, 3))
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int)
                                  or steps < 1):
            raise InputError(f"steps is {steps!r}; expected a whole number >= 1")
        if x.dim() == 2:
            if steps is None:
                raise InputError(f"x has shape {tuple(x.shape)}, one input per sequence: say "
                                 "for how many steps to hold it with steps=T")
            x = x[:, None, :].expand(x.shape[0], steps, n)
        elif x.shape[1] == 0:
            raise InputError(f"x has shape {tuple(x.shape)}, no time steps; expected at "
                             "least one")
        elif steps is not None and steps != x.shape[1]:
            raise InputError(f"x has {x.shape[1]} steps (shape {tuple(x.shape)}) but "
                             f"steps={steps}; pass one or make them agree")
        return x

    def summary(self) -> str:
        """A printable description: sizes, self-loops, strongly connected components,
        activations and time constants.

        >>> import networkx as nx, edgenet as en
        >>> G = nx.DiGraph([("x", "a"), ("a", "b"), ("b", "a"), ("b", "b")])
        >>> print(en.compile(G, recurrent=True, inputs=["x"], outputs=["b"]).summary())
        RecurrentNetwork: 1 inputs, 1 outputs, 2 neurons, 4 edges (1 self-loops)
          recurrent core: 2 neurons in 1 strongly connected components (largest 2)
          activations: identity 1, relu 1
          tau: 1 to 1 (dt / tau is each neuron's leak per step)
        """
        p = self.plan
        targets = np.repeat(np.arange(len(p.crow) - 1), np.diff(p.crow)) + p.n_inputs
        loops = int(np.count_nonzero(p.col == targets))
        G = nx.DiGraph()
        G.add_nodes_from(range(p.n_nodes))
        G.add_edges_from(zip(p.col.tolist(), targets.tolist()))
        sccs = [len(c) for c in nx.strongly_connected_components(G) if len(c) > 1]
        counts: dict[str, int] = {}
        for r0, r1, name in p.runs:
            counts[name] = counts.get(name, 0) + r1 - r0
        tau = p.tau if len(p.tau) else np.ones(1)
        return "\n".join([
            f"RecurrentNetwork: {p.n_inputs} inputs, {len(p.outputs)} outputs, "
            f"{p.n_nodes - p.n_inputs} neurons, {p.n_edges} edges ({loops} self-loops)",
            f"  recurrent core: {sum(sccs)} neurons in {len(sccs)} strongly connected "
            f"components (largest {max(sccs, default=0)})",
            "  activations: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
            f"  tau: {tau.min():g} to {tau.max():g} (dt / tau is each neuron's leak per step)",
        ])

    def to_torch(self, **options: Any) -> torch.fx.GraphModule:
        """A plain-torch module computing this network, loadable without edgenet:
        ``edgenet.to_torch(self, **options)`` (see there).

        >>> import torch, networkx as nx, edgenet as en
        >>> G = nx.DiGraph([("x", "a"), ("a", "a")])
        >>> rnn = en.compile(G, recurrent=True, inputs=["x"], outputs=["a"], seed=0)
        >>> x = torch.randn(2, 5, 1)
        >>> torch.allclose(rnn.to_torch(steps=5)(x), rnn(x))
        True
        """
        from ..io.export import to_torch

        return to_torch(self, **options)

    def export_onnx(self, path: Any, **options: Any) -> None:
        """Write this network as an ONNX graph: ``edgenet.export_onnx(self, path, **options)``
        (see there).

        >>> import importlib.util, os, tempfile, networkx as nx, edgenet as en
        >>> model = en.compile(nx.DiGraph([("x", "a"), ("a", "a")]), recurrent=True,
        ...                    inputs=["x"], outputs=["a"], seed=0)
        >>> path = os.path.join(tempfile.mkdtemp(), "model.onnx")
        >>> if importlib.util.find_spec("onnx"):  # the optional onnx package
        ...     model.export_onnx(path, steps=3)
        ... else:
        ...     _ = open(path, "wb").write(b"onnx")
        >>> os.path.getsize(path) > 0
        True
        """
        from ..io.export import export_onnx

        export_onnx(self, path, **options)
