"""Compile an :class:`~edgenet.EdgeTable` without building a graph: the graph path's rules
on arrays, then the same lowering.

Every rule of the graph path holds, through the same functions of
:mod:`edgenet.graph.validate` (roles, activations, biases, time constants, weights,
self-loops) and the same array lowering (:func:`~edgenet.model.tensors.arrange` for a DAG,
:func:`~edgenet.model.recurrent.lower_recurrent_arrays` for a recurrent network), so a
table and the graph ``read_edgelist`` would have built compile to the same model, bitwise.
Work over the edges is vectorised (bincounts, sorts, fancy indexing); Python loops run
over the distinct values of a node column at most. Beyond the table, a recurrent compile
keeps four int64 indices and one weight per edge (36 bytes in float32).

>>> import torch, edgenet as en
>>> t = en.EdgeTable(["x", "h"], ["h", "y"], weight=[2.0, 3.0],
...                  nodes={"id": ["x", "h", "y"], "activation": [None, "tanh", None]})
>>> model = en.compile(t)
>>> model(torch.zeros(1, 1)).tolist(), model.activations
([[0.0]], ['tanh', 'identity'])
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from typing import Any

import numpy as np
import torch

from ..graph.validate import (
    DEFAULT_ACTIVATION,
    activation_of,
    aggregation_of,
    bias_of,
    checked_role,
    roles_by_index,
    self_loop_error,
    summing,
    time_constant,
)
from ..io.table import EdgeTable, at, check_weights
from .source import Source, canonical_order
from .tensors import arrange


class TableSource(Source):
    """A :class:`Source` over a table: node attributes read from its columns on demand,
    and the table's node ids (``table_ids``, in table order) for :func:`edgenet.to_table`."""

    table_ids: np.ndarray


def _source(table: EdgeTable, nodes: list[Hashable], inputs: list[Hashable],
            outputs: list[Hashable]) -> TableSource:
    src = TableSource(graph={}, nodes=canonical_order(nodes, inputs, outputs),
                      node_attrs=table.node_attributes(),  # type: ignore[arg-type]
                      edge_attrs={}, inputs=list(inputs), outputs=list(outputs))
    src.table_ids = table.ids
    return src


def _checked(table: EdgeTable, inputs: Sequence[Hashable] | None,
             outputs: Sequence[Hashable] | None, recurrent: bool) -> tuple[
                 list[Hashable], np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
                 np.ndarray, np.ndarray]:
    """The table's nodes, input and output indices, and every node's activation, bias and
    tau (inputs: ignored), checked by the graph path's rules."""
    nodes = table.ids.tolist()
    n = len(nodes)
    position: dict[Hashable, int] = {x: i for i, x in enumerate(nodes)}
    src, dst = table.src, table.dst
    if not recurrent:
        loops = np.flatnonzero(src == dst)
        if len(loops):
            i = int(loops[0])
            err = self_loop_error(nodes[src[i]])
            err.add_note(f"{table.name}, data row {i + 1}")
            raise err
    cols = table.node_columns
    role_col = cols.get("role")
    roles: list[Any] = [None] * n if role_col is None else role_col.tolist()
    if role_col is not None:
        for value, i in _distinct(roles):
            checked_role(value, nodes[i])
    indeg = np.bincount(dst, minlength=n)
    outdeg = np.bincount(src, minlength=n)

    def incoming(x: Hashable) -> str:
        i = int(np.flatnonzero(dst == position[x])[0])
        return f"({nodes[src[i]]!r} -> {x!r}, {table.name} data row {i + 1})"

    ins, outs = roles_by_index(nodes, roles, indeg, outdeg, inputs, outputs, known=position,
                               position=position.__getitem__, incoming=incoming)
    in_idx = np.array([position[x] for x in ins], dtype=np.int64)
    out_idx = np.array([position[x] for x in outs], dtype=np.int64)
    neuron = np.ones(n, dtype=bool)
    neuron[in_idx] = False
    is_output = np.zeros(n, dtype=bool)
    is_output[out_idx] = True

    # Roles of neurons as the graph path reads them: explicit, else output or hidden.
    role = np.where(is_output, "output", "hidden").astype(object)
    if role_col is not None:
        given = np.array([r is not None for r in roles], dtype=bool)
        role[given] = role_col[given]
    acts = np.empty(n, dtype=object)
    for r in ("hidden", "output"):
        acts[role == r] = DEFAULT_ACTIVATION[r]
    act_col = cols.get("activation")
    if act_col is not None:
        values = act_col.tolist()
        for value, i in _distinct([v if neuron[j] else None for j, v in enumerate(values)]):
            if value is not None:
                activation_of(value, nodes[i], str(role[i]))
        present = np.array([v is not None for v in values], dtype=bool) & neuron
        acts[present] = act_col[present]
    acts[~neuron] = ""
    aggs, responses = cols.get("aggregation"), cols.get("response")
    if aggs is not None or responses is not None:  # compile's engines only sum
        for j in np.flatnonzero(neuron).tolist():
            summing(*aggregation_of(None if aggs is None else aggs[j],
                                    None if responses is None else responses[j], nodes[j]),
                    nodes[j])
    bias = _reals(cols.get("bias"), neuron, nodes, 0.0, bias_of)
    tau = np.ones(n)
    if recurrent:
        tau = _reals(cols.get("tau"), neuron, nodes, 1.0,
                     lambda v, x: time_constant(v, f"tau of node {x!r}"),
                     lambda a: a > 0)
    return nodes, in_idx, out_idx, acts, bias, tau, src, dst


def _distinct(values: list[Any]) -> list[tuple[Any, int]]:
    """Each distinct value and the index of its first occurrence (an unhashable value,
    which no rule accepts, counts as distinct)."""
    first: dict[Any, int] = {}
    odd: list[tuple[Any, int]] = []
    for i, v in enumerate(values):
        try:
            first.setdefault(v, i)
        except TypeError:
            odd.append((v, i))
    return sorted([*((v, i) for v, i in first.items()), *odd], key=lambda t: t[1])


def _reals(column: np.ndarray | None, neuron: np.ndarray, nodes: list[Hashable],
           default: float, rule: Callable[[Any, Hashable], float],
           valid: Callable[[np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """A numeric node column for the neurons, checked by ``rule`` (the graph path's rule
    for one value); vectorised for a float column: the rule runs on the first bad entry
    only, to raise its error."""
    out = np.full(len(nodes), default)
    if column is None:
        return out
    if column.dtype.kind in "iuf" and column.dtype.kind != "b":
        values = column.astype(np.float64)
        ok = np.isfinite(values) & (valid(values) if valid is not None else True)
        bad = np.flatnonzero(~ok & neuron)
        if len(bad):
            i = int(bad[0])
            rule(at(column, i), nodes[i])  # raises the graph path's error
        out[neuron] = values[neuron]
        return out
    values_list = column.tolist()
    for i in np.flatnonzero(neuron).tolist():
        out[i] = rule(values_list[i], nodes[i]) if values_list[i] is not None else default
    return out


def compile_table(table: EdgeTable, recurrent: bool, inputs: Sequence[Hashable] | None,
                  outputs: Sequence[Hashable] | None, dtype: torch.dtype,
                  device: torch.device | str | None, seed: int | None, engine: str) -> Any:
    """Compile an :class:`~edgenet.EdgeTable`; ``en.compile(table, ...)`` calls this.

    The same arguments (checked by :func:`edgenet.compile` before it calls this), rules,
    errors and result as compiling the graph ``table.to_network()``; nothing of the table
    changes.

    >>> import torch, edgenet as en
    >>> t = en.EdgeTable([0, 1, 1], [1, 1, 2], weight=[1.0, 0.5, 1.0])
    >>> rnn = compile_table(t, True, None, None, torch.float32, None, None, "auto")
    >>> rnn.inputs, rnn.outputs, rnn(torch.ones(1, 1), steps=3)[0, :, 0].tolist()
    ([0], [2], [0.0, 1.0, 1.5])
    """
    from .dag import Lowered
    from .dag import build as build_dag
    from .recurrent import build, lower_recurrent_arrays

    nodes, ins, outs, acts, bias, tau, src, dst = _checked(table, inputs, outputs, recurrent)
    if table.weight is not None:  # the columns are public: checked again, as a graph's are
        check_weights(table.weight, table.ids, src, dst, table.name)
    weights = table.weight if table.weight is not None else np.full(table.n_edges, np.nan)
    inputs_, outputs_ = [nodes[i] for i in ins.tolist()], [nodes[i] for i in outs.tolist()]
    source = _source(table, nodes, inputs_, outputs_)
    if recurrent:
        plan, w, b, names = lower_recurrent_arrays(nodes, ins, outs, src, dst, weights, acts,
                                                   bias, tau)
        return build(source, plan, w, b, names, dtype, device, seed, engine)
    # The DAG: node ids in canonical order, as lower() numbers a graph's nodes.
    rank = np.empty(len(nodes), dtype=np.int64)  # canonical position of every table node
    position = {x: i for i, x in enumerate(nodes)}
    rank[[position[x] for x in source.nodes]] = np.arange(len(nodes))
    canon_acts = acts[np.argsort(rank)].tolist()
    arr = arrange(len(nodes), inputs=rank[ins], outputs=rank[outs], src=rank[src],
                  dst=rank[dst], activations=canon_acts, rank=np.arange(len(nodes)),
                  name=source.nodes.__getitem__)
    computed = arr.row_node[len(ins):]
    low = Lowered(arr, weights[arr.edge_index], bias[np.argsort(rank)][computed],
                  [canon_acts[i] for i in computed], source.reordered(arr))
    return build_dag(low, dtype, device, seed, engine)
