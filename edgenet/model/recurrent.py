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

Backward through time, with ``G_t = dL/dh_t`` (gradients of the outputs added at each step):

.. math::

    \Delta_t = a \odot G_t \odot \sigma'(Z_t), \qquad
    G_{t-1} = (1 - a) \odot G_t + [A^T \Delta_t]_{\text{neurons}}, \qquad
    \frac{\partial L}{\partial x_t} = [A^T \Delta_t]_{\text{inputs}}, \qquad
    \frac{\partial L}{\partial w_{uv}} = \sum_t \Delta_{v,t} \cdot s_{u,t}

On the CPU, ``A S_t`` and ``A^T \Delta_t`` are the row-parallel numba SpMM of
:mod:`edgenet.kernels.csr` (the transpose kept as a second CSR structure built at compile
time), and the weight gradient is one SDDMM over all steps at once (the steps laid side by
side as a ``(nodes, T * batch)`` operand). On CUDA they are torch's CSR ops.

Memory: the forward pass keeps the states ``S`` (``(T + 1) x nodes x batch``), the
pre-activations ``Z`` and, when some neuron leaks (``tau != dt``), the activations
``act(Z)`` (``T x neurons x batch`` each) for the backward pass, which adds
``Delta`` and node-major copies of both for the SDDMM: ``O(T * N * B)`` in all, plus
``O(E)`` for the weights, their gradient and the index arrays. Nothing is
``edges x batch``. With ``checkpoint=k`` the forward pass keeps only the state at the
start of every ``k`` steps and the backward pass recomputes each segment before going
back through it: memory ``O((T / k + k) * N * B)`` for about one more forward pass of
compute (``k ~ sqrt(T)`` minimises memory).

>>> import networkx as nx, torch, edgenet as en
>>> G = nx.DiGraph([("x", "a", {"weight": 1.0}), ("a", "a", {"weight": 0.5})])
>>> rnn = en.compile(G, recurrent=True, inputs=["x"], outputs=["a"])
>>> rnn(torch.ones(1, 1), steps=3)[0, :, 0].tolist()   # relu(1), relu(1 + 0.5), ...
[1.0, 1.5, 1.75]
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
import torch
from torch import nn

from ..activations import backward as act_backward
from ..activations import get_activation
from ..errors import EdgenetError, InputError
from ..graph.network import Network
from ..graph.validate import (
    check_fits,
    edge_weights,
    neuron_attributes,
    real,
    resolve_roles,
    time_constant,
)
from ..kernels import csr
from ..kernels import sparse as engine
from .rewire import (
    added_weights,
    carried,
    edge_list,
    edge_origins,
    new_neurons,
    removed_neurons,
)
from .source import Source
from .tensors import initial_weights


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
    neurons = []
    for n in G:
        if n in input_set:
            continue
        role = G.nodes[n].get("role") or ("output" if n in output_set else "hidden")
        act, b = neuron_attributes(G, n, role)
        neurons.append((act, n, b, time_constant(G.nodes[n].get("tau"),
                                                          f"tau of node {n!r}")))
    neurons.sort(key=lambda t: t[0])  # stable: insertion order within an activation
    runs: list[tuple[int, int, str]] = []
    for i, (act, *_) in enumerate(neurons):
        if runs and runs[-1][2] == act:
            runs[-1] = (runs[-1][0], i + 1, act)
        else:
            runs.append((i, i + 1, act))
    nodes = [*inputs, *(t[1] for t in neurons)]
    index = {n: i for i, n in enumerate(nodes)}
    n_in, N = len(inputs), len(nodes)

    triples = list(G.edges(data="weight"))
    weights = edge_weights(G, triples)
    src = np.fromiter(map(index.__getitem__, [t[0] for t in triples]), np.int64, len(triples))
    dst = np.fromiter(map(index.__getitem__, [t[1] for t in triples]), np.int64, len(triples))
    by_target = np.lexsort((src, dst))
    src, dst, weights = src[by_target], dst[by_target] - n_in, weights[by_target]
    crow = np.concatenate(([0], np.cumsum(np.bincount(dst, minlength=N - n_in)))).astype(np.int64)
    perm = np.lexsort((dst, src)).astype(np.int64)
    tcrow = np.concatenate(([0], np.cumsum(np.bincount(src, minlength=N)))).astype(np.int64)
    plan = RecurrentPlan(
        nodes=nodes,
        inputs=list(inputs),
        outputs=list(outputs),
        out=np.asarray([index[n] - n_in for n in outputs], dtype=np.int64),
        crow=crow,
        col=src,
        tcrow=tcrow,
        tcol=dst[perm],
        perm=perm,
        runs=runs,
        order=np.argsort(by_target, kind="stable"),
        tau=np.asarray([t[3] for t in neurons], dtype=np.float64),
    )
    return plan, weights, np.asarray([t[2] for t in neurons], dtype=np.float64), \
        [t[0] for t in neurons]


def compile_recurrent(
    G: nx.DiGraph,
    *,
    inputs: Sequence[Hashable] | None = None,
    outputs: Sequence[Hashable] | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    seed: int | None = None,
) -> RecurrentNetwork:
    """Compile any directed graph (cycles and self-loops allowed) into a
    :class:`RecurrentNetwork`; ``en.compile(G, recurrent=True, ...)`` calls this.

    Roles, activations, biases and missing weights follow :func:`edgenet.compile`; node
    attribute ``tau`` (default 1.0) sets each neuron's time constant. As there, a finite
    weight or bias that ``dtype`` cannot hold (``1e300`` in float32) is refused.

    >>> import networkx as nx, torch
    >>> from edgenet.model.recurrent import compile_recurrent
    >>> G = nx.DiGraph([("x", "a"), ("a", "b"), ("b", "a")])
    >>> rnn = compile_recurrent(G, inputs=["x"], outputs=["b"], seed=0)
    >>> rnn(torch.zeros(2, 5, 1)).shape
    torch.Size([2, 5, 1])
    """
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise EdgenetError(
            f"dtype must be a floating torch dtype such as torch.float32 (got {dtype!r})"
        )
    plan, weights, bias, acts = lower_recurrent(G, inputs, outputs)
    n_in = plan.n_inputs

    def edge(i: int) -> tuple[Hashable, Hashable]:
        target = int(np.searchsorted(plan.crow, i, side="right")) - 1
        return plan.nodes[int(plan.col[i])], plan.nodes[n_in + target]

    check_fits(dtype, weights, bias, edge, lambda i: plan.nodes[n_in + i])
    weight = initial_weights(plan.crow, weights, dtype, seed)
    model = RecurrentNetwork(G, plan, weight, torch.as_tensor(bias).to(dtype), acts)
    return model.to(device) if device is not None else model


@dataclass
class _Pass:
    """What one forward or backward call walks: structure on the call's device, the
    weights, the leak ``a`` and, on the CPU, NumPy views for the numba kernels."""

    plan: RecurrentPlan
    weight: torch.Tensor  # (E,)
    bias: torch.Tensor  # (M,)
    a: torch.Tensor  # (M, 1) dt / tau
    keep: torch.Tensor  # (M, 1) 1 - dt / tau
    leaky: bool
    crow: torch.Tensor
    col: torch.Tensor
    tcrow: torch.Tensor
    tcol: torch.Tensor
    perm: torch.Tensor
    out: torch.Tensor
    cpu: bool

    @property
    def n_in(self) -> int:
        return self.plan.n_inputs

    def matrix(self) -> torch.Tensor:
        """``A`` as a torch CSR tensor ``(M, N)`` (the CUDA path)."""
        M, N = self.bias.shape[0], self.plan.n_nodes
        return torch.sparse_csr_tensor(self.crow, self.col, self.weight, size=(M, N),
                                       check_invariants=False)


def _step(P: _Pass, S: torch.Tensor, Z: torch.Tensor, F: torch.Tensor | None, j: int,
          A: Any) -> None:
    """One step: ``Z[j] = b + A S[j]``, ``F[j] = act(Z[j])``,
    ``S[j + 1, n_in:] = lerp(S[j, n_in:], F[j], a)`` (without leaks ``F[j]`` is that row)."""
    n_in = P.n_in
    z = Z[j]  # (M, B)
    if P.cpu:
        csr.spmm(z.numpy(), S[j].numpy(), A[0], A[1], A[2], A[3], 0)
    else:
        z.copy_(P.bias[:, None].expand_as(z))
        z.addmm_(A, S[j])
    h = S[j + 1, n_in:]  # (M, B)
    f = F[j] if F is not None else h  # (M, B)
    for r0, r1, name in P.plan.runs:
        f[r0:r1] = get_activation(name)(z[r0:r1])
    if F is not None:
        torch.lerp(S[j, n_in:], f, P.a, out=h)


Trace = tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]


def _segment(P: _Pass, xs: torch.Tensor, h: torch.Tensor) -> Trace:
    """Run ``k`` steps from state ``h[M, B]`` on inputs ``xs[B, k, n_in]``: returns
    ``S[k + 1, N, B]`` (``S[j] = [x_{j+1}; h_j]``), ``Z[k, M, B]`` and, when some neuron
    leaks, ``F[k, M, B] = act(Z)`` (else None: ``F[j]`` is ``S[j + 1, n_in:]``)."""
    B, k, n_in = xs.shape
    M = P.bias.shape[0]
    S = h.new_empty(k + 1, n_in + M, B)  # (k + 1, N, B)
    S[:k, :n_in] = xs.permute(1, 2, 0)  # (k, n_in, B)
    S[k, :n_in] = 0
    S[0, n_in:] = h
    Z = h.new_empty(k, M, B)  # (k, M, B)
    F = h.new_empty(k, M, B) if P.leaky else None  # (k, M, B)
    if P.cpu:
        A: Any = (P.weight.detach().contiguous().numpy(), P.bias.detach().contiguous().numpy(),
                  P.crow.numpy(), P.col.numpy())
    else:
        A = P.matrix()
    for j in range(k):
        _step(P, S, Z, F, j, A)
    return S, Z, F


def _back_segment(P: _Pass, trace: Trace, gh: torch.Tensor, gy: torch.Tensor,
                  need_x: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Backward through one segment. ``gh[M, B]`` is ``dL/dh`` after its last step and
    ``gy[B, k, n_out]`` the output gradients of its steps. Returns ``dL/dh`` before its
    first step, ``dL/dx[B, k, n_in]``, and this segment's ``dL/dw[E]`` and ``dL/db[M]``."""
    S, Z, F = trace
    k, M, B = Z.shape
    n_in = P.n_in
    N = n_in + M
    D = Z.new_empty(k, M, B)  # (k, M, B) dL/dZ
    dx = Z.new_zeros(B, k, n_in) if need_x else Z.new_empty(0)
    first = 0 if need_x else n_in  # rows of A^T Delta needed
    bufs = (Z.new_empty(N, B), Z.new_empty(N, B))  # (N, B) A^T Delta, alternating
    if P.cpu:
        wt = P.weight.detach().contiguous()[P.perm].numpy()  # (E,) weights in transposed order
        zero = np.zeros(N, dtype=wt.dtype)
        tcrow, tcol = P.tcrow.numpy(), P.tcol.numpy()
    else:
        At = torch.sparse_csr_tensor(P.tcrow, P.tcol, P.weight.detach()[P.perm], size=(N, M),
                                     check_invariants=False)
    gh = gh.clone()
    for j in reversed(range(k)):
        gh.index_add_(0, P.out, gy[:, j].T)  # (n_out, B) into the output neurons
        g = gh * P.a if P.leaky else gh  # (M, B) dL/d act(Z)
        z, d = Z[j], D[j]
        f = F[j] if F is not None else S[j + 1, n_in:]  # (M, B) act(Z[j])
        for r0, r1, name in P.plan.runs:
            d[r0:r1] = act_backward(name, g[r0:r1], z[r0:r1], f[r0:r1])
        G = bufs[j % 2]
        if P.cpu:
            csr.spmm(G[first:].numpy(), d.numpy(), wt, zero, tcrow, tcol, first)
        else:
            torch.mm(At, d, out=G)
        if need_x:
            dx[:, j] = G[:n_in].T
        if P.leaky:
            G[n_in:].addcmul_(gh, P.keep)
        gh = G[n_in:]
    Dn = D.permute(1, 0, 2).reshape(M, k * B)  # (M, k * B) every step side by side
    Sn = S[:k].permute(1, 0, 2).reshape(N, k * B)  # (N, k * B)
    if P.cpu:
        dw = P.weight.new_empty(P.weight.shape)  # (E,)
        db = P.bias.new_empty(M)  # (M,)
        csr.sddmm(dw.numpy(), Dn.numpy(), Sn.numpy(), P.crow.numpy(), P.col.numpy(), 0,
                  db.numpy())
    else:
        mask = P.matrix()
        dw = torch.sparse.sampled_addmm(mask, Dn, Sn.T, beta=0.0).values()
        db = Dn.sum(1)
    return gh.clone(), dx, dw, db


def _bounds(T: int, checkpoint: int | None) -> list[tuple[int, int]]:
    k = T if checkpoint is None else checkpoint
    return [(t, min(T, t + k)) for t in range(0, T, k)]


class _BPTT(torch.autograd.Function):
    """``(x[B, T, n_in], weight, bias, h0[B, M]) -> y[B, T, n_out]`` with a hand-written
    backward through time."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                h0: torch.Tensor, P: _Pass, checkpoint: int | None) -> torch.Tensor:
        B, T, _ = x.shape
        out = P.out
        y = x.new_empty(B, T, out.shape[0])  # (B, T, n_out)
        segments = _bounds(T, checkpoint)
        starts = []
        h = h0.T  # (M, B)
        trace = None
        for t0, t1 in segments:
            starts.append(h.contiguous())
            trace = _segment(P, x[:, t0:t1], h)
            S = trace[0]
            y[:, t0:t1] = S[1:, P.n_in + out].permute(2, 0, 1)  # (B, k, n_out)
            h = S[-1, P.n_in:]
        ctx.save_for_backward(x, weight, bias)
        ctx.P, ctx.segments, ctx.starts, ctx.last = P, segments, starts, trace
        return y

    @staticmethod
    def backward(ctx: Any, gy: torch.Tensor) -> tuple[Any, ...]:
        x, weight, bias = ctx.saved_tensors
        P: _Pass = ctx.P
        need_x = ctx.needs_input_grad[0]
        B, T, n_in = x.shape
        M = bias.shape[0]
        gy = gy.contiguous()
        gh = gy.new_zeros(M, B)  # (M, B) dL/dh_T
        dx = gy.new_zeros(B, T, n_in) if need_x else None
        dw = db = None
        for i in reversed(range(len(ctx.segments))):
            t0, t1 = ctx.segments[i]
            if i == len(ctx.segments) - 1:
                trace = ctx.last
            else:  # a checkpointed segment: run it again from its first state
                trace = _segment(P, x[:, t0:t1], ctx.starts[i])
            gh, gx, w_i, b_i = _back_segment(P, trace, gh, gy[:, t0:t1], need_x)
            del trace
            if dx is not None:
                dx[:, t0:t1] = gx
            dw = w_i if dw is None else dw.add_(w_i)
            db = b_i if db is None else db.add_(b_i)
        return dx, dw, db, gh.T, None, None


class RecurrentNetwork(nn.Module):
    """A directed graph, cycles allowed, compiled to run over time; build it with
    ``edgenet.compile(G, recurrent=True)``.

    Parameters: ``weight`` (one per edge, :attr:`edges` order) and ``bias`` (one per
    non-input neuron, :attr:`neurons` order); buffer ``tau`` (per neuron). Call it as
    ``model(x, steps=T, dt=1.0, h0=None, checkpoint=None)``: ``x`` is ``(B, n_in)`` (held
    for every step) or ``(B, T, n_in)``; ``h0`` is ``(B, n_neurons)`` in :attr:`neurons`
    order (default zeros); the result is ``(B, T, n_out)``, the outputs after every step.
    ``checkpoint=k`` keeps the state only every ``k`` steps and recomputes in backward
    (same gradients, less memory; see :mod:`edgenet.model.recurrent`).

    >>> import networkx as nx, torch, edgenet as en
    >>> G = nx.cycle_graph(3, create_using=nx.DiGraph); G.add_edge("x", 0)
    >>> rnn = en.compile(G, recurrent=True, inputs=["x"], outputs=[2], seed=0)
    >>> rnn.neurons, rnn(torch.ones(4, 1), steps=6).shape   # grouped by activation
    ([2, 0, 1], torch.Size([4, 6, 1]))
    """

    def __init__(self, graph: nx.DiGraph, plan: RecurrentPlan, weight: torch.Tensor,
                 bias: torch.Tensor, activations: list[str]):
        super().__init__()
        self.plan = plan
        self.activations = activations
        self._source = Source.of(graph, plan.inputs, plan.outputs)
        self.weight = nn.Parameter(weight)
        self.bias = nn.Parameter(bias)
        self.crow: torch.Tensor
        self.col: torch.Tensor
        self.tcrow: torch.Tensor
        self.tcol: torch.Tensor
        self.perm: torch.Tensor
        self.out: torch.Tensor
        self.tau: torch.Tensor
        for name in ("crow", "col", "tcrow", "tcol", "perm", "out"):
            self.register_buffer(name, torch.as_tensor(getattr(plan, name)), persistent=False)
        self.register_buffer("tau", torch.as_tensor(plan.tau).to(weight.dtype), persistent=False)

    @property
    def inputs(self) -> list[Hashable]:
        """Input nodes, in the order of the input tensor's last axis."""
        return list(self.plan.inputs)

    @property
    def outputs(self) -> list[Hashable]:
        """Output nodes, in the order of the output tensor's last axis."""
        return list(self.plan.outputs)

    @property
    def neurons(self) -> list[Hashable]:
        """Non-input nodes in the order of :attr:`bias`, ``tau`` and ``h0``'s columns."""
        return self.plan.nodes[self.plan.n_inputs:]

    @property
    def edges(self) -> list[tuple[Hashable, Hashable]]:
        """Edges ``(u, v)`` in the order of :attr:`weight`."""
        nodes, n_in = self.plan.nodes, self.plan.n_inputs
        targets = np.repeat(np.arange(len(self.plan.crow) - 1), np.diff(self.plan.crow))
        return [(nodes[u], nodes[n_in + v]) for u, v in zip(self.plan.col, targets)]

    @property
    def nodes(self) -> list[Hashable]:
        """Every node in the order of the state's rows: inputs, then :attr:`neurons`."""
        return list(self.plan.nodes)

    def rewire(
        self,
        remove: Iterable[tuple[Hashable, Hashable]] = (),
        add: Iterable[tuple[Hashable, Hashable]] = (),
        neurons: Mapping[Hashable, Mapping[str, Any]] | None = None,
        remove_neurons: Iterable[Hashable] = (),
        weights: Sequence[float] | None = None,
        optimizer: torch.optim.Optimizer | None = None,
    ) -> None:
        """Change the graph in place, as :meth:`edgenet.CompiledNetwork.rewire` does, with
        cycles and self-loops allowed: the same arguments, checks (an edge into an input,
        an unknown node or edge, a non-finite weight ... change nothing), the same
        ``Parameter`` objects, and optimizer state carried over and zeroed for new edges
        and neurons (an edge both removed and added is new, as there). Afterwards the
        model is what compiling ``to_network()`` gives.

        >>> import networkx as nx, torch, edgenet as en
        >>> rnn = en.compile(nx.DiGraph([("x", "a", {"weight": 1.0})]), recurrent=True,
        ...                  inputs=["x"], outputs=["a"])
        >>> rnn.rewire(add=[("a", "a")], weights=[0.5])   # a self-loop: a leaky memory
        >>> rnn(torch.ones(1, 1), steps=3)[0, :, 0].tolist()
        [1.0, 1.5, 1.75]
        """
        remove = edge_list(remove, "remove")
        add = edge_list(add, "add")
        gone = removed_neurons(remove_neurons, self._source.nodes, self.inputs, self.outputs)
        specs = new_neurons(set(self._source.nodes), neurons, set(gone))
        new_w = added_weights(weights, add)
        names = list(specs)
        check_fits(self.weight.dtype, new_w,
                   np.array([s["bias"] for s in specs.values()], dtype=np.float64),
                   add.__getitem__, names.__getitem__)
        G = self.to_network()  # a copy: nothing of the model changes until the commit
        inputs = set(self.inputs)
        G.remove_nodes_from(gone)
        for n, spec in specs.items():
            G.add_node(n, **spec)
        for what, edges in (("remove", remove), ("add", add)):
            for e in edges:
                for n in e:
                    if n not in G:
                        why = "is being removed" if n in gone else "is not a node of the network"
                        raise EdgenetError(f"{what}= edge {e!r}: node {n!r} {why}")
        for e in remove:
            if not G.has_edge(*e):
                raise EdgenetError(f"remove= edge {e!r} is not an edge of the network")
        G.remove_edges_from(remove)
        for (u, v), w in zip(add, new_w.tolist()):
            if v in inputs:
                raise EdgenetError(f"add= edge {(u, v)!r} goes into input {v!r}; inputs take no "
                                   "edges")
            if G.has_edge(u, v):
                raise EdgenetError(f"add= edge {(u, v)!r} already exists")
            G.add_edge(u, v, weight=w)
        new = compile_recurrent(G, inputs=self.inputs, outputs=self.outputs,
                                dtype=self.weight.dtype, device=self.weight.device)
        old_edges, dropped, gone_set = self.edges, set(remove), set(gone)
        keep = [i for i, (u, v) in enumerate(old_edges)
                if (u, v) not in dropped and u not in gone_set and v not in gone_set]
        position = {e: i for i, e in enumerate(new.edges)}
        listed = [old_edges[i] for i in keep] + add  # every new edge, in edge_origins' order
        edge_from = np.empty(len(listed), dtype=np.int64)
        edge_from[[position[e] for e in listed]] = edge_origins(np.array(keep, np.int64), len(add))
        old_neuron = {n: i for i, n in enumerate(self.neurons)}
        bias_from = np.array([old_neuron.get(n, -1) for n in new.neurons], dtype=np.int64)
        commit = carried([(self.weight, edge_from, new.weight.detach()),
                          (self.bias, bias_from, new.bias.detach())], optimizer)
        # Nothing can fail from here on.
        commit()
        self.plan, self.activations = new.plan, new.activations
        self._source = new._source
        for name in ("crow", "col", "tcrow", "tcol", "perm", "out", "tau"):
            self._buffers[name] = getattr(new, name)

    def forward(self, x: torch.Tensor, steps: int | None = None, dt: float = 1.0,
                h0: torch.Tensor | None = None, checkpoint: int | None = None) -> torch.Tensor:
        """``(B, n_in)`` held for ``steps`` steps, or ``(B, T, n_in)``, to ``(B, T, n_out)``."""
        x = self._input(x, steps)
        B, T, _ = x.shape
        M = self.bias.shape[0]
        dt = real(dt, "dt")
        if dt <= 0:
            raise EdgenetError(f"dt is {dt!r}; expected a positive time step")
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
        a = (dt / self.tau)[:, None]  # (M, 1)
        cpu = x.device.type == "cpu" and not engine.TORCH_OPS_ON_CPU
        P = _Pass(self.plan, self.weight, self.bias, a, 1 - a, bool((a != 1).any()), self.crow,
                  self.col, self.tcrow, self.tcol, self.perm, self.out, cpu)
        return _BPTT.apply(x, self.weight, self.bias, h0, P, checkpoint)

    def _input(self, x: torch.Tensor, steps: int | None) -> torch.Tensor:
        n = self.plan.n_inputs
        expected = f"(batch, {n}) with steps=T, or (batch, T, {n})"
        if not isinstance(x, torch.Tensor):
            raise InputError(f"expected a torch.Tensor of shape {expected} (got "
                             f"{type(x).__name__})")
        if x.dim() not in (2, 3) or x.shape[-1] != n:
            raise InputError(f"expected a tensor of shape {expected} for inputs "
                             f"{self.plan.inputs!r} (got shape {tuple(x.shape)})")
        if steps is not None and (isinstance(steps, bool) or not isinstance(steps, int)
                                  or steps < 1):
            raise InputError(f"steps is {steps!r}; expected a whole number >= 1")
        if x.dim() == 2:
            if steps is None:
                raise InputError(f"x has shape {tuple(x.shape)}, one input per sequence: say "
                                 "for how many steps to hold it with steps=T")
            x = x[:, None, :].expand(x.shape[0], steps, n)
        elif steps is not None and steps != x.shape[1]:
            raise InputError(f"x has {x.shape[1]} steps (shape {tuple(x.shape)}) but "
                             f"steps={steps}; pass one or make them agree")
        if x.dtype != self.weight.dtype or x.device != self.weight.device:
            raise InputError(
                f"expected {self.weight.dtype} on {self.weight.device} (got {x.dtype} on "
                f"{x.device}); convert the input with x.to(...) or the model with model.to(...)"
            )
        if x.device.type == "cpu" and x.dtype not in (torch.float32, torch.float64):
            raise EdgenetError(
                f"the CPU engine runs float32 and float64 (the model is {x.dtype}); convert "
                "it with model.float() or model.double(), or run it on CUDA"
            )
        return x

    def to_network(self) -> Network:
        """A :class:`Network` copy of the source graph with the current weights and biases;
        ``role`` and ``activation`` made explicit, every other attribute (``tau``) kept.

        >>> import networkx as nx, torch, edgenet as en
        >>> G = nx.DiGraph([("x", "a", {"weight": 1.0}), ("a", "a", {"weight": 0.5})])
        >>> rnn = en.compile(G, recurrent=True, inputs=["x"], outputs=["a"])
        >>> with torch.no_grad():
        ...     _ = rnn.weight.mul_(2)
        >>> sorted(rnn.to_network().edges(data="weight"))
        [('a', 'a', 1.0), ('x', 'a', 2.0)]
        """
        return self._source.write(Network(), self.neurons, self.activations,
                                  self.bias.detach().cpu().double().tolist(), self.edges,
                                  self.weight.detach().cpu().double().tolist(),
                                  self.plan.order.tolist())

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

    def extra_repr(self) -> str:
        p = self.plan
        return (f"inputs={p.n_inputs}, outputs={len(p.outputs)}, "
                f"neurons={p.n_nodes - p.n_inputs}, edges={p.n_edges}")

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
