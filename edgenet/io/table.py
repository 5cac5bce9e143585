"""Connectomes as columns: an edge table that compiles without ever building a NetworkX graph.

A whole-brain connectome (FlyWire: about 140,000 neurons and 15 million weighted
connections) is a table, and NetworkX spends about 400 bytes on every edge of it. An
:class:`EdgeTable` keeps the table as arrays: the distinct node ids once (``ids``, exact
64-bit integers or text), every edge as two integer codes into them and a float weight,
and optional per-node columns (``role``, ``activation``, ``bias``, ``tau`` and any other
attribute). ``en.read_edgelist(..., as_graph=False)`` returns one, ``en.compile(table,
recurrent=True)`` (or the DAG compile) lowers it with sorts and counts over the arrays,
and :func:`edgenet.to_table` / :func:`edgenet.write_edgelist` put trained weights back into a table
(Parquet, CSV/TSV or Feather, written atomically) that compiles to the same model.

>>> import numpy as np, torch, edgenet as en
>>> table = en.EdgeTable([7, 8, 9, 9], [8, 9, 8, 9], weight=[1.0, 2.0, 0.5, 0.25])
>>> table
EdgeTable(3 nodes, 4 edges)
>>> rnn = en.compile(table, recurrent=True, inputs=[7], outputs=[9])
>>> rnn(torch.ones(1, 1), steps=3)[0, :, 0].tolist()
[0.0, 2.0, 2.5]
>>> back = en.to_table(rnn)
>>> back.source.tolist(), back.target.tolist(), back.weight.tolist()
([7, 8, 9, 9], [8, 9, 8, 9], [1.0, 2.0, 0.5, 0.25])
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import EdgenetError
from ..graph.validate import weight_error

#: Node columns a compile reads; every other node column is an attribute kept as it is.
NODE_FIELDS = ("role", "activation", "bias", "tau")


class EdgeTable:
    """A directed, weighted graph as columns (see the module docstring).

    Parameters
    ----------
    source, target
        ``(E,)`` node ids of every edge's endpoints: integers (kept exact, 64-bit ids
        included) or strings (or other hashable objects). NaN is refused (it equals no
        id, not even itself, so two NaN rows could not name one node), and so are
        datetime64/timedelta64 arrays (their ids would become integer nanoseconds).
    weight
        ``(E,)`` numbers (finite), or None: every weight is drawn at compile time.
    nodes
        Optional node table: a mapping of equally long columns, one of them ``node_id``
        (the ids, each once); the others are node attributes, read by the compile where
        they are ``role``, ``activation``, ``bias`` and ``tau`` (a missing value, None,
        takes the default, as an absent attribute does on a graph). With a node table,
        nodes come in its order and every edge endpoint must be in it; without one, in
        order of first appearance (source before target within a row).
    parallel
        Rows repeating a ``(source, target)`` pair: ``"refuse"`` (default) or ``"sum"``
        (weights and numeric ``columns`` summed; integers exactly, in a wider type when
        the sum needs it).
    columns
        Extra ``(E,)`` edge columns kept with the table (``neuropil``, ...).
    name
        What the table is called in error messages (a file name).
    unsummable
        With ``parallel="sum"``, a column that cannot be summed (text, such as a neuropil
        name) when pairs repeat: ``"refuse"`` (an error) or ``"drop"`` (left out).

    Attributes: ``ids`` ``(n,)``, ``src``/``dst`` ``(E,)`` integer codes into ``ids``,
    ``weight`` ``(E,)`` float64 or None, ``node_columns`` and ``edge_columns``.

    >>> import edgenet as en
    >>> t = en.EdgeTable(["a", "a", "b"], ["b", "b", "a"], weight=[1, 2, 3], parallel="sum")
    >>> t.source.tolist(), t.target.tolist(), t.weight.tolist()
    (['a', 'b'], ['b', 'a'], [3.0, 3.0])
    """

    ids: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray | None
    node_columns: dict[str, np.ndarray]
    edge_columns: dict[str, np.ndarray]
    name: str

    def __init__(
        self,
        source: Any,
        target: Any,
        weight: Any = None,
        *,
        nodes: Mapping[str, Any] | None = None,
        node_id: str = "id",
        parallel: str = "refuse",
        columns: Mapping[str, Any] | None = None,
        name: str = "edge table",
        unsummable: str = "refuse",
    ):
        if parallel not in ("refuse", "sum"):
            raise EdgenetError(f"parallel must be 'refuse' or 'sum' (got {parallel!r})")
        src, dst = _column(source, "source", name), _column(target, "target", name)
        _check_ids(src, "source", name)
        _check_ids(dst, "target", name)
        if len(src) != len(dst):
            raise EdgenetError(f"{name}: source has {len(src)} rows but target {len(dst)}; "
                               "give one source and one target per edge")
        edge_columns = {k: _column(v, k, name) for k, v in (columns or {}).items()}
        w = None
        if weight is not None:
            w = _column(weight, "weight", name)
            if w.dtype.kind not in "iuf":
                raise EdgenetError(f"{name}: weight holds {w.dtype} values; expected numbers")
            w = w.astype(np.float64)
        for col, values in [("weight", w), *edge_columns.items()]:
            if values is not None and len(values) != len(src):
                raise EdgenetError(f"{name}: column {col!r} has {len(values)} rows but the "
                                   f"table {len(src)}; give one value per edge")
        node_columns: dict[str, np.ndarray] = {}
        if nodes is None:
            ids, codes = _factorize(src, dst)
        else:
            if node_id not in nodes:
                raise EdgenetError(f"{name}: the node table has no column {node_id!r}; its "
                                   f"columns are {list(nodes)!r} (node_id= names the ids)")
            node_columns = {k: _column(v, k, f"{name} node table") for k, v in nodes.items()}
            ids = node_columns.pop(node_id)
            _check_ids(ids, "node", f"{name} node table")
            for col, values in node_columns.items():
                if len(values) != len(ids):
                    raise EdgenetError(f"{name}: node column {col!r} has {len(values)} rows "
                                       f"but the node ids {len(ids)}")
            ids, codes = _lookup(ids, src, dst, name)
        del src, dst
        E = len(codes) // 2
        if w is not None:
            check_weights(w, ids, codes[:E], codes[E:], name)
        index = np.int32 if len(ids) < 2**31 else np.int64
        us, vs = codes[:E].astype(index), codes[E:].astype(index)
        del codes
        merged = _merge(us, vs, len(ids), parallel, ids, name)
        if merged is not None:
            first, group = merged
            us, vs = us[first], vs[first]
            if w is not None:
                w = np.bincount(group, weights=w, minlength=len(first))
            for col in list(edge_columns):
                if unsummable == "drop" and edge_columns[col].dtype.kind not in "iufb":
                    del edge_columns[col]
                    continue
                edge_columns[col] = summed(edge_columns[col], group, len(first), col, name,
                                           ids, us, vs)
        self.ids, self.src, self.dst, self.weight = ids, us, vs, w
        self.node_columns, self.edge_columns, self.name = node_columns, edge_columns, name

    @classmethod
    def _of(cls, ids: np.ndarray, src: np.ndarray, dst: np.ndarray, weight: np.ndarray | None,
            node_columns: dict[str, np.ndarray], name: str) -> EdgeTable:
        """A table from checked arrays (no copy, no check)."""
        table = cls.__new__(cls)
        table.ids, table.src, table.dst, table.weight = ids, src, dst, weight
        table.node_columns, table.edge_columns, table.name = node_columns, {}, name
        return table

    @property
    def source(self) -> np.ndarray:
        """``(E,)`` the source id of every edge."""
        return self.ids[self.src]

    @property
    def target(self) -> np.ndarray:
        """``(E,)`` the target id of every edge."""
        return self.ids[self.dst]

    @property
    def n_nodes(self) -> int:
        return len(self.ids)

    @property
    def n_edges(self) -> int:
        return len(self.src)

    def __len__(self) -> int:
        return self.n_edges

    def __repr__(self) -> str:
        return f"EdgeTable({self.n_nodes} nodes, {self.n_edges} edges)"

    def node_attributes(self) -> Mapping[Hashable, dict[str, Any]]:
        """Every node's attributes as a read-only mapping ``id -> dict`` (absent values
        left out), built per node when asked for.

        >>> import edgenet as en
        >>> t = en.EdgeTable([1], [2], nodes={"id": [1, 2], "tau": [None, 2.0]})
        >>> dict(t.node_attributes())
        {1: {}, 2: {'tau': 2.0}}
        """
        return _NodeAttributes(self)

    def to_network(self) -> Any:
        """The table as an :class:`~edgenet.Network` (nodes in table order with their
        attributes, edges in row order with ``weight`` and the extra columns).

        >>> import edgenet as en
        >>> list(en.EdgeTable([1, 2], [2, 3], weight=[0.5, 1]).to_network().edges(data=True))
        [(1, 2, {'weight': 0.5}), (2, 3, {'weight': 1.0})]
        """
        from .bulk import bulk_graph

        nodes = self.ids.tolist()
        attrs = self.node_attributes()
        table = np.empty(len(nodes), dtype=object)  # (n,) node objects by code
        table[:] = nodes
        G, _ = bulk_graph([(n, attrs[n]) for n in nodes], table[self.src].tolist(),
                          table[self.dst].tolist(), edge_dicts(self.n_edges, self.weight,
                                                               self.edge_columns))
        return G


class _NodeAttributes(Mapping[Hashable, dict[str, Any]]):
    """``id -> dict`` of a table's node columns, made per node on request."""

    def __init__(self, table: EdgeTable):
        self._ids = table.ids
        self._columns = table.node_columns
        self._position: dict[Hashable, int] | None = None
        self._lists: dict[str, list[Any]] = {}

    def __getitem__(self, node: Hashable) -> dict[str, Any]:
        if self._position is None:
            self._position = {n: i for i, n in enumerate(self._ids.tolist())}
        i = self._position[node]
        out = {}
        for col, values in self._columns.items():
            if col not in self._lists:
                self._lists[col] = values.tolist()
            value = self._lists[col][i]
            if value is not None:
                out[col] = value
        return out

    def __iter__(self) -> Iterator[Hashable]:
        return iter(self._ids.tolist())

    def __len__(self) -> int:
        return len(self._ids)


def check_weights(w: np.ndarray, ids: np.ndarray, src: np.ndarray, dst: np.ndarray,
                  name: str) -> None:
    """Refuse a weight that is not a finite number, naming its row and edge with the
    graph path's words (:func:`~edgenet.graph.validate.weight_error`).

    >>> import numpy as np
    >>> try:
    ...     check_weights(np.array([1.0, np.inf]), np.array([5, 6]), np.array([0, 1]),
    ...                   np.array([1, 0]), "t")
    ... except Exception as err:
    ...     print(err)
    t, data row 2: edge (6, 5) has weight inf; expected a finite real number
    """
    bad = np.flatnonzero(~np.isfinite(w))
    if len(bad):
        i = int(bad[0])
        err = weight_error(at(ids, src[i]), at(ids, dst[i]), w[i])
        raise EdgenetError(f"{name}, data row {i + 1}: {err}")


def _check_ids(ids: np.ndarray, what: str, name: str) -> None:
    """Refuse NaN ids and timestamp arrays, naming the row.

    >>> import numpy as np
    >>> try:
    ...     _check_ids(np.array([1.0, np.nan]), "source", "t")
    ... except Exception as err:
    ...     print(str(err)[:35])
    t, data row 2: source id is NaN; Na
    """
    if ids.dtype.kind in "mM":
        raise EdgenetError(f"{name}: {what} ids are {ids.dtype} values; timestamps are no node "
                           "ids (they would become integer nanoseconds): convert them to "
                           "integers or text first")
    if ids.dtype.kind in "fc":
        bad = np.flatnonzero(np.isnan(ids))
    elif ids.dtype == object:
        bad = np.flatnonzero([isinstance(x, float) and x != x for x in ids.tolist()])
    else:
        return
    if len(bad):
        raise EdgenetError(f"{name}, data row {int(bad[0]) + 1}: {what} id is NaN; NaN equals "
                           "no id (not even itself), so it cannot name a node; give every row "
                           "a real id")


def at(values: np.ndarray, i: Any) -> Any:
    """Entry ``i`` of ``values`` as a plain Python value (exact ints, str)."""
    i = int(i)
    return values[i:i + 1].tolist()[0]


def _column(values: Any, what: str, name: str) -> np.ndarray:
    """``values`` as a 1-D array (a list of ints and None becomes an object array)."""
    arr = values if isinstance(values, np.ndarray) else np.asarray(values)
    if arr.dtype.kind == "f" and not isinstance(values, np.ndarray) and any(
            v is None for v in values):  # [1.0, None]: None is a missing value, not NaN
        arr = np.empty(len(values), dtype=object)
        arr[:] = list(values)
    if arr.ndim != 1:
        raise EdgenetError(f"{name}: column {what!r} has shape {arr.shape}; expected one "
                           "value per row (a 1-D array)")
    return arr


def _lookup(ids: np.ndarray, src: np.ndarray, dst: np.ndarray,
            name: str) -> tuple[np.ndarray, np.ndarray]:
    """Node-table ids (each once) and the codes of ``concat(src, dst)`` into them."""
    n = len(ids)
    both = np.concatenate((src, dst)) if len(src) else np.empty(0, dtype=ids.dtype)
    ids, both = _common(ids, both)
    if ids.dtype == object:
        index: dict[Any, int] = {}
        for i, x in enumerate(ids.tolist()):
            if index.setdefault(x, i) != i:
                raise EdgenetError(f"{name}: node id {x!r} appears twice in the node table "
                                   f"(rows {index[x] + 1} and {i + 1}); list each node once")
        codes = np.fromiter((index.get(x, -1) for x in both.tolist()), np.int64, len(both))
    else:
        order = np.argsort(ids, kind="stable")
        sorted_ids = ids[order]
        dup = np.flatnonzero(sorted_ids[1:] == sorted_ids[:-1])
        if len(dup):
            a, b = sorted(order[dup[0]:dup[0] + 2].tolist())
            raise EdgenetError(f"{name}: node id {at(ids, a)!r} appears twice in the node "
                               f"table (rows {a + 1} and {b + 1}); list each node once")
        try:
            import pyarrow as pa
            import pyarrow.compute as pc
        except ImportError:  # pragma: no cover - the optional extra is missing
            pa = None
        if pa is not None and ids.dtype.kind in "iu":  # a hash lookup: 3x a binary search
            found = pc.index_in(pa.array(both), value_set=pa.array(ids))
            codes = found.fill_null(-1).to_numpy().astype(np.int64)
        else:
            pos = np.minimum(np.searchsorted(sorted_ids, both), max(n - 1, 0))  # (2E,)
            hit = sorted_ids[pos] == both if n else np.zeros(len(both), dtype=bool)
            codes = np.where(hit, order[pos] if n else pos, -1)
    missing = np.flatnonzero(codes < 0)
    if len(missing):
        i = int(missing[0])
        E = len(both) // 2
        row, end = (i, "source") if i < E else (i - E, "target")
        raise EdgenetError(f"{name}, data row {row + 1}: {end} id {both[i:i + 1].tolist()[0]!r} is "
                           "not in the node table; list every node of an edge there")
    return ids, codes


def summed(values: np.ndarray, group: np.ndarray, m: int, col: str, name: str,
           ids: np.ndarray, us: np.ndarray, vs: np.ndarray) -> np.ndarray:
    """Column ``values`` summed over the rows of each of ``m`` groups (``group[i]`` is
    row ``i``'s). Floats sum in float64. Integers sum exactly: in the column's own type
    when every sum fits, else in the narrowest wider type of the same kind that holds
    them; a sum beyond 64 bits is refused naming the pair (``us``/``vs`` codes into
    ``ids``, by group). Other columns cannot be summed: an error.

    >>> import numpy as np
    >>> summed(np.array([100, 100, 100], np.int8), np.zeros(3, np.int64), 1, "n", "t",
    ...        np.array([0, 1]), np.array([0]), np.array([1]))
    array([300], dtype=int16)
    """
    kind = values.dtype.kind
    if kind == "b":
        values, kind = values.astype(np.int64), "i"
    if kind == "f":
        return np.bincount(group, weights=values.astype(np.float64), minlength=m)
    if kind not in "iu":
        raise EdgenetError(
            f"{name}: column {col!r} holds {values.dtype} values, which cannot be summed over "
            "repeated pairs (parallel='sum'); leave it out of attributes="
        )
    order = np.argsort(group, kind="stable")
    starts = np.searchsorted(group[order], np.arange(m))
    wide = values.astype(np.int64 if kind == "i" else np.uint64)[order]
    lo = (wide & np.array(0xFFFFFFFF, dtype=wide.dtype)).astype(np.int64)  # [0, 2**32)
    hi = (wide >> np.array(32, dtype=wide.dtype)).astype(np.int64)  # signed or [0, 2**32)
    lo_sum = np.add.reduceat(lo, starts) if len(lo) else lo  # < 2**63: < 2**31 rows a group
    hi_sum = np.add.reduceat(hi, starts) + (lo_sum >> 32) if len(hi) else hi
    lo_sum &= 0xFFFFFFFF
    bound = (-(2**31), 2**31) if kind == "i" else (0, 2**32)
    over = np.flatnonzero((hi_sum < bound[0]) | (hi_sum >= bound[1]))
    if len(over):
        g = int(over[0])
        exact = int(hi_sum[g]) * 2**32 + int(lo_sum[g])
        raise EdgenetError(
            f"{name}: column {col!r} sums to {exact} for the pair ({at(ids, us[g])!r}, "
            f"{at(ids, vs[g])!r}) (parallel='sum'), beyond the 64-bit integers "
            f"({'int64' if kind == 'i' else 'uint64'}); scale the column down or leave it out "
            "of attributes="
        )
    total: np.ndarray
    if kind == "i":
        total = (hi_sum << 32) | lo_sum  # two's complement: exact in int64
    else:
        total = (hi_sum.astype(np.uint64) << np.uint64(32)) | lo_sum.astype(np.uint64)
    for dtype in (np.dtype(f"{kind}{b}") for b in (1, 2, 4, 8)):
        if dtype.itemsize < values.dtype.itemsize:
            continue
        info = np.iinfo(dtype)
        if not len(total) or (total.min() >= info.min and total.max() <= info.max):
            return total.astype(dtype)
    return total  # pragma: no cover - 64 bits always hold it after the check above


def edge_dicts(m: int, w: np.ndarray | None, data: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """One attribute dict per edge: ``weight`` (when given), then the extra columns."""
    columns = ([("weight", w.tolist())] if w is not None else []) + \
        [(c, v.tolist()) for c, v in data.items()]
    if not columns:
        return [{} for _ in range(m)]
    keys = [c for c, _ in columns]
    return [dict(zip(keys, values)) for values in zip(*(v for _, v in columns))]


def _id_array(nodes: Sequence[Hashable]) -> np.ndarray:
    """Node ids as an array Arrow writes exactly: int64/uint64 for integers, str for text,
    objects otherwise."""
    if nodes and all(type(n) is int for n in nodes):
        for dtype in (np.int64, np.uint64):
            try:
                return np.array(nodes, dtype=dtype)
            except OverflowError:
                pass
    if nodes and all(type(n) is str for n in nodes):
        return np.array(nodes, dtype=str)
    out = np.empty(len(nodes), dtype=object)
    out[:] = list(nodes)
    return out


def _factorize(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct ids in order of first appearance (source before target within a row) and
    the codes of ``concat(src, dst)``."""
    src, dst = _common(src, dst)
    both = np.empty(2 * len(src), dtype=src.dtype)
    both[0::2], both[1::2] = src, dst  # row order, source first
    if both.dtype == object:  # ids of several Python types need not be ordered: hash them
        index: dict[Any, int] = {}
        codes = np.fromiter((index.setdefault(x, len(index)) for x in both.tolist()),
                            dtype=np.int64, count=len(both))
        uniq = np.empty(len(index), dtype=object)
        uniq[:] = list(index)
        return uniq, np.concatenate((codes[0::2], codes[1::2]))
    uniq, first, inverse = np.unique(both, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # by first appearance
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    codes = rank[inverse.reshape(-1)]
    return uniq[order], np.concatenate((codes[0::2], codes[1::2]))


def _common(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The two id columns as arrays of one dtype that holds every id exactly as read.

    NumPy promotes int64 with uint64 (and an integer with a float) to float64, which
    rounds 64-bit ids and merges distinct neurons; such pairs become uint64 (no negative
    id), int64 (no id above 2**63 - 1) or Python objects (ints and floats as read)."""
    dtype = np.result_type(src.dtype, dst.dtype)
    kinds = src.dtype.kind + dst.dtype.kind
    if dtype.kind in "iub" or src.dtype == dst.dtype or not {"i", "u"} & set(kinds):
        return src.astype(dtype, copy=False), dst.astype(dtype, copy=False)
    if set(kinds) == {"i", "u"}:  # a signed and an unsigned 64-bit column
        if not any(a.dtype.kind == "i" and len(a) and a.min() < 0 for a in (src, dst)):
            return src.astype(np.uint64), dst.astype(np.uint64)
        if not any(a.dtype.kind == "u" and len(a) and a.max() > np.iinfo(np.int64).max
                   for a in (src, dst)):
            return src.astype(np.int64), dst.astype(np.int64)
    objects = (np.empty(len(src), dtype=object), np.empty(len(dst), dtype=object))
    objects[0][:], objects[1][:] = src.tolist(), dst.tolist()  # exact Python ints, floats, str
    return objects


def _merge(us: np.ndarray, vs: np.ndarray, n: int, parallel: str, ids: np.ndarray,
           name: str) -> tuple[np.ndarray, np.ndarray] | None:
    """None when every pair is distinct; else the error (``"refuse"``) or, for ``"sum"``,
    the first row of each distinct pair (in file order) and every row's group."""
    key = us.astype(np.int64) * n + vs
    order = np.argsort(key)  # not stable (several times faster): file order is restored below
    sk = key[order]
    new = np.ones(len(sk), dtype=bool)
    new[1:] = sk[1:] != sk[:-1]
    if new.all():
        return None
    starts = np.flatnonzero(new)
    firsts = np.minimum.reduceat(order, starts)  # first row (file order) of each pair
    if parallel == "refuse":
        size = np.diff(np.append(starts, len(sk)))
        first_of = np.repeat(firsts, size)  # (E,) by sorted position
        repeats = order[order != first_of]  # every row repeating an earlier one
        i = int(repeats.min())
        first = int(first_of[np.flatnonzero(order == i)[0]])
        u, v = at(ids, us[i]), at(ids, vs[i])
        raise EdgenetError(
            f"{name}: the pair ({u!r}, {v!r}) appears more than once (data rows {first + 1} "
            f"and {i + 1}); pass parallel='sum' to merge repeated pairs, summing weights"
        )
    group_sorted = np.cumsum(new) - 1  # group of each sorted row
    by_file = np.argsort(firsts)  # firsts are distinct rows: any sort gives one order
    relabel = np.empty(len(by_file), dtype=np.int64)
    relabel[by_file] = np.arange(len(by_file))
    group = np.empty(len(key), dtype=np.int64)
    group[order] = relabel[group_sorted]
    return firsts[by_file], group
