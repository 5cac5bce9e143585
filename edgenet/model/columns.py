"""A compiled model's structure and trained weights as columns: :func:`to_table`.

The inverse of compiling an :class:`~edgenet.EdgeTable`: every edge with its current
weight, in the order of the source table or graph, and a node table with what the
compile read (``role``, ``activation``, ``bias``, ``tau``) and the other node
attributes. ``en.write_edgelist`` writes it to a file.

>>> import torch, edgenet as en
>>> rnn = en.compile(en.EdgeTable([7, 8], [8, 8], weight=[1.0, 0.5]), recurrent=True,
...                  outputs=[8])
>>> t = to_table(rnn)
>>> t.source.tolist(), t.target.tolist(), t.weight.tolist(), t.node_columns["tau"].tolist()
([7, 8], [8, 8], [1.0, 0.5], [None, 1.0])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import EdgenetError
from ..io.table import EdgeTable, _id_array


def to_table(model: Any) -> EdgeTable:
    """The trained network ``model`` (a compiled DAG or recurrent model) as an
    :class:`EdgeTable`: one row per edge with its current weight (float64, in the source
    table's or graph's edge order) and a node table with every node's ``role``,
    ``activation``, ``bias`` (None for inputs), ``tau`` (recurrent models) and the other
    attributes it came with. A source table's extra edge columns (``neuropil``, ...) are
    not kept by the model and are not written back. Compiling it again (same dtype) gives
    the same model bitwise. Vectorised over the edges.

    >>> import networkx as nx, edgenet as en
    >>> model = en.compile(nx.DiGraph([("x", "y", {"weight": 2.0})]))
    >>> t = en.to_table(model)
    >>> t.weight.tolist(), t.node_columns["role"].tolist(), t.node_columns["bias"].tolist()
    ([2.0], ['input', 'output'], [None, 0.0])
    """
    source: Any = getattr(model, "_source", None)
    if source is None or not hasattr(model, "_edge_order"):
        raise EdgenetError(f"to_table expects a compiled model (edgenet.compile) (got "
                           f"{type(model).__name__})")
    src, dst = model.edge_rows()  # (E,) each, in weight order
    order = model._edge_order()  # (E,) weight positions in the source's edge order
    rows = (src[order], dst[order])
    weight = model.weight.detach().cpu().double().numpy()[order]
    plan = getattr(model, "plan", None)  # a recurrent model: its float64 time constants
    tau = np.asarray(plan.tau, dtype=np.float64) if plan is not None else None
    table_ids = getattr(source, "table_ids", None)
    nodes = source.nodes if table_ids is None else table_ids.tolist()
    ids = _id_array(nodes) if table_ids is None else table_ids
    position = {n: i for i, n in enumerate(nodes)}
    where = np.fromiter((position[n] for n in model.nodes), np.int64, len(position))  # row->i
    n, n_in = len(nodes), len(model.inputs)
    neuron = where[n_in:]  # (M,) table position of every neuron row
    role = np.full(n, "hidden", dtype=object)
    role[[position[x] for x in model.outputs]] = "output"
    role[where[:n_in]] = "input"
    act = np.full(n, None, dtype=object)
    act[neuron] = model.activations
    bias = np.full(n, None, dtype=object)
    bias[neuron] = model.bias.detach().cpu().double().numpy().tolist()
    columns: dict[str, np.ndarray] = {"role": role, "activation": act, "bias": bias}
    if tau is not None:
        taus = np.full(n, None, dtype=object)
        taus[neuron] = tau.tolist()
        columns["tau"] = taus
    attrs = source.node_attrs
    extra = getattr(attrs, "_columns", None)
    if extra is not None:  # a table's node columns
        columns.update({k: v for k, v in extra.items() if k not in columns})
    else:
        for i, x in enumerate(nodes):
            for k, v in attrs[x].items():
                if k not in columns:
                    columns[k] = np.full(n, None, dtype=object)
                columns[k][i] = v
    index = np.int32 if n < 2**31 else np.int64
    return EdgeTable._of(ids, where[rows[0]].astype(index), where[rows[1]].astype(index),
                         weight, columns, "model table")
