"""Lower a validated graph to tensors: node numbering, CSR structure and initial parameters.

Nodes are renumbered so that activations can live in one node-major buffer
``H[N, B]``: inputs first, then each topological generation as a contiguous
block of rows (within a generation, neurons sharing an activation are adjacent).
Edges are stored once, as a CSR structure over target rows, ordered by
generation, then target, then source; the flat weight vector follows that order.
For the backward pass each generation also gets the transpose of its block,
restricted to the distinct source rows it reads.

Missing weights are drawn from ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` where
``fan_in`` is the in-degree of the target neuron (the default of
``torch.nn.Linear``); missing biases are 0.

>>> import networkx as nx, torch, edgenet as en
>>> model = en.compile(nx.DiGraph([("x", "h"), ("h", "y"), ("x", "y")]), seed=0)
>>> model(torch.ones(4, 1)).shape
torch.Size([4, 1])
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import networkx as nx
import numpy as np
import torch

from ..graph.validate import (
    check_graph,
    edge_weights,
    neuron_attributes,
    resolve_roles,
    warn_unweighted,
)
from ..io.table import EdgeTable
from ..shell.progress import THRESHOLD, progress
from .base import check_arguments
from .columnar import compile_table
from .dag import Lowered, Source, build
from .recurrent import compile_recurrent
from .tensors import arrange


def lower(
    G: nx.DiGraph,
    inputs: Sequence[Hashable] | None = None,
    outputs: Sequence[Hashable] | None = None,
) -> Lowered:
    """Validate ``G`` and lay it out with one pass over its edges.

    >>> import networkx as nx
    >>> from edgenet.model.compile import lower
    >>> low = lower(nx.DiGraph([("a", "c", {"weight": 2.0}), ("b", "c")]))
    >>> low.source.nodes_in_rows(low.arrangement.row_node), low.weights.tolist()
    (['a', 'b', 'c'], [2.0, nan])
    """
    check_graph(G)
    inputs, outputs = resolve_roles(G, inputs, outputs)
    source = Source.of(G, inputs, outputs)
    index = {n: i for i, n in enumerate(source.nodes)}  # ids: the canonical node order
    input_set, output_set = set(inputs), set(outputs)
    acts: list[str] = []
    bias = np.zeros(len(index))
    for n, i in index.items():
        if n in input_set:
            acts.append("")
            continue
        role = G.nodes[n].get("role") or ("output" if n in output_set else "hidden")
        act, bias[i] = neuron_attributes(G, n, role)
        acts.append(act)

    # One pass over the edges into arrays; everything after is vectorised.
    edge_view = G.edges(data="weight")
    triples = list(progress(edge_view, total=len(edge_view), desc="compiling", unit="edge",
                            threshold=THRESHOLD))
    weights = edge_weights(G, triples)
    warn_unweighted(G, triples, weights)
    src = np.fromiter(map(index.__getitem__, [t[0] for t in triples]), np.int64, len(triples))
    dst = np.fromiter(map(index.__getitem__, [t[1] for t in triples]), np.int64, len(triples))
    ids = np.arange(len(index))
    arr = arrange(len(index), inputs=np.array([index[n] for n in inputs], dtype=np.int64),
                  outputs=np.array([index[n] for n in outputs], dtype=np.int64), src=src,
                  dst=dst, activations=acts, rank=ids, name=source.nodes.__getitem__)
    computed = arr.row_node[len(inputs):]
    return Lowered(arr, weights[arr.edge_index], bias[computed],
                   [acts[i] for i in computed], source.reordered(arr))


def compile(
    G: nx.DiGraph,
    *,
    inputs: Sequence[Hashable] | None = None,
    outputs: Sequence[Hashable] | None = None,
    dtype: torch.dtype = torch.float32,
    device: torch.device | str | None = None,
    seed: int | None = None,
    engine: str = "auto",
    recurrent: bool = False,
):
    """Compile a neuron graph into a ``torch.nn.Module``: a DAG into a
    :class:`~edgenet.CompiledNetwork` mapping ``(batch, n_inputs)`` to ``(batch, n_outputs)``,
    or, with ``recurrent=True``, any directed graph into a :class:`~edgenet.RecurrentNetwork`
    run over time steps.

    Each neuron computes ``h_v = act_v(b_v + sum_u w_uv * h_u)``. Parameters are one weight
    per edge and one bias per non-input neuron. The graph is never modified. Every argument
    is checked before the graph is read, the same way for both models.

    Parameters
    ----------
    G : edgenet.Network, networkx.DiGraph or edgenet.EdgeTable
        The graph, or a table of its edges compiled from its arrays without building a
        graph (:mod:`edgenet.model.columnar`; node attributes from its node table). Roles
        come from node attribute ``role``; without any, sources are inputs and sinks are
        outputs. Node attributes ``activation``, ``bias`` and (for
        recurrent networks) ``tau``; edge attribute ``weight`` (missing weights are drawn
        from ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``).
    inputs, outputs : sequences of nodes, optional
        The input and output nodes in tensor order (default: by role, in insertion order).
    dtype : torch.dtype
        A floating dtype (default float32; the CPU engines run float32 and float64).
    device : torch.device or str, optional
        Where the parameters live (``"cpu"``, ``"cuda:0"``, ...).
    seed : int, optional
        Seeds the draw of missing weights (a Python int from -2**63 to 2**64 - 1).
    engine : str
        How the model runs (settable later as ``model.engine``; names from
        :func:`edgenet.kernels.backends.engines`): ``"auto"`` (default) lets the cost model
        of :mod:`edgenet.kernels.cost` pick the fused whole-DAG kernel for deep, narrow
        DAGs on CPU and, otherwise, a sparse (CSR) or dense block per generation;
        ``"sparse"``, ``"dense"``, ``"fused"`` and ``"triton"`` force one path. A
        recurrent network takes ``"auto"`` or ``"sparse"``.
    recurrent : bool
        Accept any directed graph, cycles and self-loops included, and return a
        :class:`~edgenet.RecurrentNetwork`.

    >>> import torch, edgenet as en
    >>> net = en.Network()
    >>> net.add_input("x"); net.add_neuron("h", activation="relu"); net.add_output("y")
    >>> net.add_edge("x", "h", weight=1.0); net.add_edge("h", "y", weight=2.0)
    >>> model = en.compile(net)
    >>> model(torch.tensor([[1.0], [-1.0]])).tolist()
    [[2.0], [0.0]]
    """
    check_arguments(dtype=dtype, device=device, seed=seed, engine=engine, recurrent=recurrent)
    if isinstance(G, EdgeTable):  # columns, no graph: see edgenet.model.columnar
        return compile_table(G, recurrent, inputs, outputs, dtype, device, seed, engine)
    if recurrent:  # any directed graph, cycles allowed: see edgenet.model.recurrent
        return compile_recurrent(G, inputs, outputs, dtype, device, seed, engine)
    return build(lower(G, inputs, outputs), dtype, device, seed, engine)
