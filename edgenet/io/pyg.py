"""PyTorch Geometric in and out: a network as a ``torch_geometric.data.Data`` graph.

``to_pyg`` numbers the nodes in ``G``'s order and returns ``edge_index`` (2, E),
``edge_weight`` (E,) and per-node fields: ``bias`` (N,), ``role`` and ``activation``
(lists of str or None) and ``node_ids`` (the original node ids). Missing weights
and biases are NaN. ``from_pyg`` reads them back, so the round trip is lossless.
``torch_geometric`` is imported only when these functions are called.

>>> import edgenet as en
>>> net = en.Network(); net.add_input("x"); net.add_output("y", bias=0.5)
>>> net.add_edge("x", "y", weight=2.0)
>>> data = en.to_pyg(net)
>>> data.edge_index.tolist(), data.edge_weight.tolist(), data.node_ids
([[0], [1]], [2.0], ['x', 'y'])
>>> list(en.from_pyg(data).edges(data=True))
[('x', 'y', {'weight': 2.0})]
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from typing import Any

import networkx as nx
import numpy as np
import torch

from ..errors import CycleError, EdgenetError
from ..graph.network import Network
from ..graph.validate import check_fits, edge_weights, host_tensor, real, refuse_complex

_NODE_FIELDS = ("role", "activation")


def to_pyg(G: nx.DiGraph, *, dtype: torch.dtype = torch.float64) -> Any:
    """A ``torch_geometric.data.Data`` holding ``G``'s edges, weights and neuron fields.

    ``dtype`` is the dtype of ``edge_weight`` and ``bias`` (float64 by default, which
    keeps every weight exactly).

    >>> import networkx as nx, edgenet as en
    >>> data = en.to_pyg(nx.DiGraph([(0, 1), (1, 2)]))
    >>> data.num_nodes, data.edge_index.tolist()
    (3, [[0, 1], [1, 2]])
    """
    from torch_geometric.data import Data

    from ..model.base import check_arguments

    check_arguments(dtype=dtype, device=None, seed=None, engine="auto", recurrent=False)
    if not isinstance(G, nx.Graph) or not G.is_directed() or G.is_multigraph():
        raise EdgenetError(
            f"to_pyg expects a networkx.DiGraph or edgenet.Network (got {type(G).__name__})"
        )
    nodes = list(G)
    index = {n: i for i, n in enumerate(nodes)}
    triples = list(G.edges(data="weight"))
    src = np.fromiter((index[u] for u, _, _ in triples), dtype=np.int64, count=len(triples))
    dst = np.fromiter((index[v] for _, v, _ in triples), dtype=np.int64, count=len(triples))
    weight = edge_weights(G, triples)  # (E,), NaN where missing
    bias = np.array(
        [math.nan if d.get("bias") is None else real(d["bias"], f"bias of node {n!r}")
         for n, d in G.nodes(data=True)],
        dtype=np.float64,
    )
    check_fits(dtype, weight, bias, lambda i: triples[i][:2], nodes.__getitem__)
    return Data(
        edge_index=torch.from_numpy(np.stack([src, dst])),  # (2, E)
        edge_weight=torch.from_numpy(weight).to(dtype),  # (E,)
        bias=torch.from_numpy(bias).to(dtype),  # (N,)
        role=[d.get("role") for d in G.nodes.values()],
        activation=[d.get("activation") for d in G.nodes.values()],
        node_ids=nodes,
        num_nodes=len(nodes),
    )


def from_pyg(
    data: Any,
    *,
    node_ids: Sequence[Hashable] | None = None,
    weight: str | None = None,
    column: int | None = None,
    undirected: str = "refuse",
) -> Network:
    """A :class:`~edgenet.Network` from a ``torch_geometric.data.Data`` graph.

    Edges come from ``edge_index`` (2, E). The weight is the field named ``weight``,
    or else ``edge_weight``, or else ``edge_attr`` (refused when both are present:
    choose one with ``weight=``); NaN means missing. A field of several columns, such as
    an ``edge_attr`` of shape (E, 4), needs ``column=k``, the column to read.
    Node ids are ``node_ids``, else ``data.node_ids``, else ``0 .. num_nodes-1``.
    ``bias`` (N,), ``role`` and ``activation`` (length-N lists) are used when present.

    An undirected graph (PyG stores each edge both ways) is a graph of 2-cycles: it is
    refused with a :class:`~edgenet.CycleError` naming some, unless ``undirected="both"``
    keeps both directions (a cyclic network; add input neurons that feed it and compile
    it with ``edgenet.compile(net, recurrent=True, inputs=..., outputs=...)``). A
    ``Batch`` (``Batch.from_data_list``) is read as one network of its members side by
    side, node ``n`` of member ``k`` named ``(k, n)`` (given ``node_ids``, one per node
    of the whole batch, it is read as one ``Data`` instead);
    ``batch.to_data_list()`` gives the members one by one. ``HeteroData`` is refused
    (convert it with ``data.to_homogeneous()``). Tensors may be on any device; meta and
    sparse tensors are refused; bfloat16 and float16 values are read exactly.

    >>> import torch, edgenet as en
    >>> from torch_geometric.data import Data
    >>> data = Data(edge_index=torch.tensor([[0, 1], [2, 2]]),
    ...             edge_attr=torch.tensor([[0.5], [1.5]]))
    >>> list(en.from_pyg(data).edges(data="weight"))
    [(0, 2, 0.5), (1, 2, 1.5)]
    >>> data = Data(edge_index=torch.tensor([[0], [1]]), edge_attr=torch.tensor([[7.0, 0.5]]))
    >>> list(en.from_pyg(data, column=1).edges(data="weight"))
    [(0, 1, 0.5)]
    """
    if undirected not in ("refuse", "both"):
        raise EdgenetError(f"undirected={undirected!r}; accepted: 'refuse' or 'both'")
    _check_kind(data)
    if _is_batch(data) and node_ids is None:
        members = [from_pyg(d, weight=weight, column=column, undirected=undirected)
                   for d in data.to_data_list()]
        net = Network()
        for k, member in enumerate(members):
            net.update(nx.relabel_nodes(member, {n: (k, n) for n in member}, copy=True))
        return net
    edge_index = getattr(data, "edge_index", None)
    refuse_complex(edge_index, "data.edge_index")
    if not isinstance(edge_index, torch.Tensor) or edge_index.dim() != 2 or (
        edge_index.shape[0] != 2) or edge_index.dtype.is_floating_point:
        got = tuple(edge_index.shape) if isinstance(edge_index, torch.Tensor) else edge_index
        raise EdgenetError(
            f"data.edge_index must be an integer tensor of shape (2, E) (got {got!r})"
        )
    if edge_index.dtype == torch.bool:  # it would read as the node ids 0 and 1
        raise EdgenetError(
            "data.edge_index holds bools (torch.bool); expected integer node indices of shape "
            "(2, E) (a boolean adjacency mask converts with mask.nonzero().t())"
        )
    edge_index = host_tensor(edge_index, "data.edge_index")
    n_edges = edge_index.shape[1]
    keys = data.keys() if callable(data.keys) else data.keys
    given = node_ids if node_ids is not None else getattr(data, "node_ids", None)
    if "num_nodes" in keys:
        num_nodes = int(data.num_nodes)
    elif isinstance(getattr(data, "x", None), torch.Tensor):
        num_nodes = int(data.x.shape[0])
    elif given is not None:
        num_nodes = len(given)
    else:
        num_nodes = int(edge_index.max()) + 1 if n_edges else 0
    ids = list(given if given is not None else range(num_nodes))
    if len(ids) != num_nodes:
        raise EdgenetError(
            f"node_ids has {len(ids)} entries but the graph has {num_nodes} nodes; give one id "
            "per node"
        )
    if len(set(ids)) != len(ids):
        raise EdgenetError("node_ids lists a node id twice; ids must be unique")
    ei = edge_index.detach().cpu().numpy()  # (2, E)
    if n_edges and (ei.min() < 0 or ei.max() >= num_nodes):
        k = int(np.flatnonzero((ei < 0).any(0) | (ei >= num_nodes).any(0))[0])
        raise EdgenetError(
            f"edge {k} of data.edge_index is ({ei[0, k]}, {ei[1, k]}), outside the "
            f"{num_nodes} nodes 0..{num_nodes - 1}"
        )
    w = _edge_weights(data, weight, column, n_edges)
    if undirected == "refuse":
        _refuse_undirected(ei, ids)
    net = Network()
    bias = _node_values(data, "bias", num_nodes)
    fields = {f: _node_values(data, f, num_nodes) for f in _NODE_FIELDS}
    for i, n in enumerate(ids):
        attrs: dict[str, Any] = {}
        for f in _NODE_FIELDS:
            if fields[f] is not None and fields[f][i] is not None:
                attrs[f] = fields[f][i]
        if bias is not None and not math.isnan(bias[i]):
            attrs["bias"] = float(bias[i])
        net.add_node(n, **attrs)
    us = [ids[i] for i in ei[0].tolist()]
    vs = [ids[i] for i in ei[1].tolist()]
    if w is None:
        net.add_edges_from(zip(us, vs, strict=True))
    else:
        net.add_edges_from(
            (u, v, {} if math.isnan(x) else {"weight": x})
            for u, v, x in zip(us, vs, w.tolist(), strict=True)
        )
    if net.number_of_edges() != n_edges:
        seen: set[tuple[Hashable, Hashable]] = set()
        for u, v in zip(us, vs, strict=True):
            if (u, v) in seen:
                raise EdgenetError(
                    f"edge ({u!r}, {v!r}) appears more than once in data.edge_index; merge "
                    "duplicates first (torch_geometric.utils.coalesce sums their weights)"
                )
            seen.add((u, v))
    return net


def _edge_weights(
    data: Any, weight: str | None, column: int | None, n_edges: int
) -> np.ndarray | None:
    """The chosen field's weights, float64 (E,), NaN where missing; ``None`` without one."""
    fields = [f for f in ("edge_weight", "edge_attr") if getattr(data, f, None) is not None]
    if weight is not None:
        if getattr(data, weight, None) is None:
            raise EdgenetError(f"data has no field {weight!r} to read the edge weights from")
        name = weight
    elif len(fields) == 2:
        raise EdgenetError(
            "data has both edge_weight and edge_attr; say which holds the weights: "
            "from_pyg(data, weight='edge_weight') or from_pyg(data, weight='edge_attr', "
            "column=k)"
        )
    elif fields:
        name = fields[0]
    elif column is not None:
        raise EdgenetError(f"column={column!r} given, but data has no edge_weight or "
                           "edge_attr field; name the field with weight='field'")
    else:
        return None
    value = getattr(data, name)
    refuse_complex(value, f"data.{name}")
    t = host_tensor(torch.as_tensor(value), f"data.{name}")
    if column is not None:
        if isinstance(column, bool) or not isinstance(column, int):
            raise EdgenetError(f"column={column!r}; expected the int index of a column of "
                               f"data.{name}")
        if t.dim() != 2 or not -t.shape[1] <= column < t.shape[1]:
            raise EdgenetError(
                f"column={column} but data.{name} has shape {tuple(t.shape)}; expected a "
                f"column index from 0 to {t.shape[1] - 1 if t.dim() == 2 else 0} of an "
                f"({n_edges}, F) field (omit column= for a field of shape ({n_edges},))"
            )
        t = t[:, column]
    elif t.dim() == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.dim() == 2 and t.shape[0] == n_edges:
        raise EdgenetError(
            f"data.{name} has shape {tuple(t.shape)}: {t.shape[1]} features per edge; choose "
            f"the one that holds the weights with from_pyg(data, weight={name!r}, column=k), "
            f"k from 0 to {t.shape[1] - 1}"
        )
    if t.shape != (n_edges,):
        raise EdgenetError(
            f"data.{name} has shape {tuple(t.shape)}; expected ({n_edges},) or ({n_edges}, 1), "
            f"one weight per edge (or ({n_edges}, F) features with column=k)"
        )
    w = t.double().numpy()
    if np.isinf(w).any():
        k = int(np.flatnonzero(np.isinf(w))[0])
        raise EdgenetError(f"data.{name}[{k}] is {float(w[k])!r}; expected a finite number (or NaN "
                           "for a missing weight)")
    return w


def _refuse_undirected(ei: np.ndarray, ids: list[Hashable]) -> None:
    """A :class:`CycleError` naming a few 2-cycles when every edge of ``ei`` (2, E) has
    its reverse: PyG's way of storing an undirected graph."""
    n = len(ids)
    codes = ei[0] * n + ei[1]  # (E,) one int per edge
    if not len(codes) or not np.isin(ei[1] * n + ei[0], codes).all():
        return
    forward = ei[:, ei[0] < ei[1]]  # one edge of each 2-cycle (self-loops are not listed)
    loops = sorted(set(zip(forward[0].tolist(), forward[1].tolist(), strict=True)))
    err = CycleError([ids[loops[0][0]], ids[loops[0][1]]] if loops else [ids[int(ei[0, 0])]])
    named = ", ".join(f"{ids[u]!r} <-> {ids[v]!r}" for u, v in loops[:3])
    more = f" and {len(loops) - 3:,} more" if len(loops) > 3 else ""
    err.args = (
        f"data is an undirected graph: each of its {len(codes):,} edges also runs the other "
        f"way, so it is {len(loops):,} 2-cycles ({named}{more}), not a feed-forward network. "
        "Keep both directions with from_pyg(data, undirected='both') and run it as a "
        "recurrent network (add input neurons that feed it, then edgenet.compile(net, "
        "recurrent=True, inputs=..., outputs=...)), or keep one "
        "direction per edge first (e.g. data.edge_index[:, data.edge_index[0] < "
        "data.edge_index[1]])",
    )
    raise err


def _is_batch(data: Any) -> bool:
    return callable(getattr(data, "to_data_list", None)) and hasattr(data, "ptr")


def _check_kind(data: Any) -> None:
    """Refuse PyG's heterogeneous graphs by name: from_pyg reads one node and edge type."""
    if type(data).__name__ in ("HeteroData", "HeteroDataBatch") or callable(
            getattr(data, "metadata", None)) and hasattr(data, "node_types"):
        node_types, edge_types = data.metadata()
        raise EdgenetError(
            f"from_pyg reads a homogeneous torch_geometric Data graph (got {type(data).__name__} "
            f"with node types {node_types!r} and edge types {edge_types!r}); convert it with "
            "data.to_homogeneous(), or read one edge type as "
            "Data(edge_index=data[edge_type].edge_index)"
        )


def _node_values(data: Any, field: str, num_nodes: int) -> Any:
    value = getattr(data, field, None)
    if value is None:
        return None
    refuse_complex(value, f"data.{field}")
    if isinstance(value, torch.Tensor):
        if value.ndim == 2 and value.shape[1] == 1:  # (N, 1), as node features often are
            value = value[:, 0]
        if value.ndim != 1:
            raise EdgenetError(
                f"data.{field} has shape {tuple(value.shape)}; expected ({num_nodes},) or "
                f"({num_nodes}, 1), one value per node"
            )
        value = host_tensor(value, f"data.{field}").double().tolist()
    if len(value) != num_nodes:
        raise EdgenetError(
            f"data.{field} has {len(value)} entries; expected {num_nodes}, one per node"
        )
    return list(value)
