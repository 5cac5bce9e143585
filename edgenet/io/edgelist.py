"""Read a connectome from an edge-list table: CSV/TSV, Parquet or Feather.

Connectome releases ship tables, one row per connection (FlyWire's Feather files, the
Parquet/CSV of whole-brain models with ``pre``, ``post``, ``neuropil``, ``syn_count``
columns). :func:`read_edgelist` streams such a table in record batches through pyarrow
(the optional extra ``edgenet[edgelist]``), keeps only NumPy columns while reading,
merges or refuses repeated pairs with vectorised sorts, and builds the
:class:`~edgenet.Network` through the bulk path of :mod:`edgenet.io.bulk`: memory is the
columns (a few tens of bytes per row) plus the graph NetworkX needs in the end.

>>> import os, tempfile, edgenet as en
>>> path = os.path.join(tempfile.mkdtemp(), "c.csv")
>>> with open(path, "w") as f:
...     _ = f.write("pre,post,syn\\n720575940629970489,7,3\\n7,720575940629970489,1\\n")
>>> G = en.read_edgelist(path, source="pre", target="post", weight="syn")
>>> list(G.edges(data="weight"))
[(720575940629970489, 7, 3.0), (7, 720575940629970489, 1.0)]
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import EdgenetError

#: File suffixes by format.
SUFFIXES = {
    ".csv": "csv", ".csv.gz": "csv", ".tsv": "tsv", ".tsv.gz": "tsv", ".txt": "tsv",
    ".parquet": "parquet", ".pq": "parquet", ".feather": "feather", ".arrow": "feather",
}
BATCH_ROWS = 1 << 20
#: Bytes of CSV text parsed at a time.
CSV_BLOCK = 64 << 20
#: What each format must hold, for error messages.
ACCEPTED = {
    "csv": "UTF-8 text (optionally gzip-compressed), a header row of column names, then one "
           "comma-separated row per edge with as many fields as the header",
    "tsv": "UTF-8 text (optionally gzip-compressed), a header row of column names, then one "
           "tab-separated row per edge with as many fields as the header",
    "parquet": "a Parquet file",
    "feather": "a Feather (v1 or v2) / Arrow IPC file",
}


def read_edgelist(
    path: str | bytes | os.PathLike[str] | Any,
    *,
    source: str,
    target: str,
    weight: str | None = None,
    parallel: str = "refuse",
    node_type: Callable[[Any], Hashable] | None = None,
    attributes: bool | Sequence[str] = True,
    as_graph: bool = True,
    nodes: str | os.PathLike[str] | None = None,
    node_id: str = "id",
) -> Any:
    """A :class:`~edgenet.Network` with one edge per row of an edge-list table, or with
    ``as_graph=False`` the same as an :class:`~edgenet.EdgeTable` of arrays, which
    :func:`edgenet.compile` takes directly (no NetworkX graph is ever built).

    Parameters
    ----------
    path
        ``.csv``, ``.tsv`` (or ``.txt``, tab-separated; either may end in ``.gz``, and gzip
        bytes are read whatever the name), ``.parquet``/``.pq`` or ``.feather``/``.arrow``
        (Feather v1 or v2); a ``str``, ``bytes`` or path-like path, or a binary file object
        (``io.BytesIO``, ``open(..., "rb")``), whose format is told from its first bytes.
    source, target
        Columns holding each edge's endpoints. Integer ids (64-bit neuron ids included)
        stay exact Python ints, whatever integer types the two columns have; other ids are
        kept as read. In a CSV/TSV table the ids are integers when every id in both
        columns is a decimal integer (of at most 4,300 digits), else the text of each id
        (``"1"`` in either column is then one node). Id columns must hold integers, floats
        (NaN refused: it equals no id, not even itself), text or bytes; timestamps, bools,
        decimals, lists and structs are refused (cast the column first).
    weight
        Column copied to the edge attribute ``weight`` (as float64; a decimal column is
        rounded to the nearest float64); None: no weights.
    parallel
        Rows repeating a (source, target) pair: ``"refuse"`` (default) raises an error
        naming the pair; ``"sum"`` merges them into one edge, summing ``weight`` and every
        numeric extra column (integers exactly, in a wider integer type where the sum
        needs it; a sum beyond 64 bits is refused), while a non-numeric extra column,
        such as a neuropil name, differs between the merged rows and is dropped unless
        listed in ``attributes``, which is then an error.
    node_type
        Applied to every node id (e.g. ``str``); None keeps ids as read (graphs only).
    attributes
        Extra columns kept as edge attributes: True (all, default), False (none), or a list.
    as_graph
        False: return an :class:`~edgenet.EdgeTable` (ids once, edges as integer codes,
        float64 weights, extra columns as arrays) instead of a graph.
    nodes
        Optional node table (same formats): one row per node, its id in column
        ``node_id``; the other columns are node attributes (``role``, ``activation``,
        ``bias``, ``tau``, ...; an empty cell is an absent attribute). Nodes then come in
        its order, and an edge whose endpoint it lacks is refused naming the row.

    Nodes come in order of first appearance (sources before targets within a row).

    >>> import os, tempfile, edgenet as en
    >>> path = os.path.join(tempfile.mkdtemp(), "c.tsv")
    >>> with open(path, "w") as f:
    ...     _ = f.write("pre\\tpost\\tn\\tw\\na\\tb\\tAL\\t2\\na\\tb\\tMB\\t3\\nb\\ta\\tAL\\t1\\n")
    >>> G = en.read_edgelist(path, source="pre", target="post", weight="w", parallel="sum")
    >>> list(G.edges(data=True))
    [('a', 'b', {'weight': 5.0}), ('b', 'a', {'weight': 1.0})]
    >>> en.read_edgelist(path, source="pre", target="post", weight="w", parallel="sum",
    ...                  as_graph=False).weight.tolist()
    [5.0, 1.0]
    """
    from .table import EdgeTable

    name, kind, opener = _locate(path)
    if source == target:
        raise EdgenetError(f"cannot read {name!r}: source and target both name column "
                           f"{source!r}; give the column of each edge's target as target=")
    if parallel not in ("refuse", "sum"):
        raise EdgenetError(f"parallel must be 'refuse' or 'sum' (got {parallel!r})")
    if node_type is not None and not as_graph:
        raise EdgenetError(
            "node_type= renames the nodes of a graph; with as_graph=False the ids stay as "
            "read (map table.ids yourself, or pass as_graph=True)"
        )
    wanted = [source, target] + ([weight] if weight is not None else [])
    columns, batches = _open(name, kind, opener, floats=[weight] if weight is not None else [])
    for col in wanted:
        if col not in columns:
            raise EdgenetError(
                f"cannot read {name!r}: no column {col!r}; its columns are {columns!r}"
            )
    if attributes is True:
        extra = [c for c in columns if c not in wanted]
    elif attributes is False:
        extra = []
    else:
        extra = list(attributes)
        for col in extra:
            if col not in columns or col in wanted:
                raise EdgenetError(
                    f"attributes= names column {col!r}, which is not an extra column of "
                    f"{name!r}; extra columns: {[c for c in columns if c not in wanted]!r}"
                )
    text = kind in ("csv", "tsv")
    data, raw = _read_all(name, kind, batches, [*wanted, *extra], [source, target])
    node_data: dict[str, np.ndarray] | None = None
    node_raw: list[Any] = []
    if nodes is not None:
        node_name, node_kind, node_opener = _locate(nodes)
        node_columns, node_batches = _open(node_name, node_kind, node_opener,
                                           empty_is_null=True)
        if node_id not in node_columns:
            raise EdgenetError(f"cannot read {node_name!r}: no column {node_id!r} (node_id=); "
                               f"its columns are {node_columns!r}")
        node_data, node_ids = _read_all(node_name, node_kind, node_batches, node_columns,
                                            [node_id], absent=True)
        node_raw = node_ids.get(node_id, [])
        if node_kind in ("csv", "tsv") and not text:
            node_data[node_id] = np.concatenate(_text_ids(node_raw, [], node_name)[0]) \
                if node_raw \
                else np.empty(0, dtype=np.int64)
            node_raw = []
    if text:
        parsed_src, parsed_dst = _text_ids(raw[source] + node_raw, raw[target], name)
        data[source] = _joined(parsed_src[:len(raw[source])])
        data[target] = _joined(parsed_dst)
        if node_raw and node_data is not None:
            node_data[node_id] = _joined(parsed_src[len(raw[source]):])
    del raw
    src, dst = data.pop(source), data.pop(target)
    w = data.pop(weight) if weight is not None else None
    if w is not None and w.dtype.kind not in "iuf":
        raise EdgenetError(
            f"{name!r}: weight column {weight!r} holds {w.dtype} values; expected numbers"
        )
    table = EdgeTable(src, dst, w, nodes=node_data, node_id=node_id, parallel=parallel,
                      columns=data, name=repr(name),
                      unsummable="drop" if attributes is True else "refuse")
    del src, dst, w, data
    if not as_graph:
        return table
    if node_type is None:
        return table.to_network()
    G = table.to_network()
    renamed = {n: node_type(n) for n in G}
    if len(set(renamed.values())) < len(renamed):  # node_type mapped distinct ids to one
        raise EdgenetError(
            f"{name!r}: node_type={node_type!r} maps distinct ids to the same node; choose a "
            "node_type that keeps ids apart"
        )
    import networkx as nx

    out = nx.relabel_nodes(G, renamed, copy=True)
    return out


def _joined(chunks: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(chunks) if chunks else np.empty(0, dtype=np.int64)


class _Retype(EdgenetError):
    """A CSV column's inferred type failed on a later block; read it again retyped."""


def _read_all(
    name: str, kind: str, batches: Callable[[list[str], list[str]], Iterator[Any]],
    cols: list[str], ids: list[str], absent: bool = False,
) -> tuple[dict[str, np.ndarray], dict[str, list[Any]]]:
    """:func:`_read_columns`, read again while a column turns out to need a wider type
    than Arrow inferred from the first block (at most twice a column: float64, text)."""
    for _ in range(2 * len(cols)):
        try:
            return _read_columns(name, kind, batches, cols, ids, absent)
        except _Retype:
            continue
    return _read_columns(name, kind, batches, cols, ids, absent)


def _read_columns(
    name: str, kind: str, batches: Callable[[list[str], list[str]], Iterator[Any]],
    cols: list[str], ids: list[str], absent: bool = False,
) -> tuple[dict[str, np.ndarray], dict[str, list[Any]]]:
    """Every column of ``cols`` as one NumPy array, streamed in record batches; the id
    columns ``ids`` must have no empty cell, and a text table hands them back as Arrow
    chunks of text (second dict) for :func:`_text_ids`. With ``absent``, a column with
    empty cells becomes an object array with None there (else NumPy's NaN or None)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    parts: dict[str, list[Any]] = {c: [] for c in cols}
    text: dict[str, list[Any]] = {c: [] for c in ids} if kind in ("csv", "tsv") else {}
    rows = 0
    for batch in batches(cols, ids):
        for col in cols:
            arr = batch.column(col)
            if pa.types.is_dictionary(arr.type):
                arr = arr.dictionary_decode()
            if col not in ids and pa.types.is_decimal(arr.type):
                arr = _decimal_floats(arr, name, col, rows)
            if col in ids:
                _check_id_column(arr, name, col, rows, kind)
                empty = arr.is_null()
                if kind in ("csv", "tsv"):
                    empty = pc.or_(empty, pc.equal(arr, ""))
                if pc.any(empty).as_py():
                    row = rows + int(np.flatnonzero(empty.to_numpy(zero_copy_only=False))[0])
                    raise EdgenetError(
                        f"{name!r}, data row {row + 1}: column {col!r} is empty; every row "
                        "needs a source and a target" if len(ids) == 2 else
                        f"{name!r}, data row {row + 1}: column {col!r} is empty; every node "
                        "needs an id"
                    )
                if kind in ("csv", "tsv"):
                    text[col].append(arr)
                    continue
            parts[col].append(arr)
        rows += batch.num_rows
    data: dict[str, np.ndarray] = {}
    for col, chunks in parts.items():
        if col in text:
            continue
        nulls = any(c.null_count for c in chunks)
        if absent and nulls and col not in ids:  # an absent value: None, not NaN or an error
            values = np.empty(rows, dtype=object)
            values[:] = [v for c in chunks for v in c.to_pylist()]
            data[col] = values
        else:
            data[col] = (np.concatenate([c.to_numpy(zero_copy_only=False) for c in chunks])
                         if chunks else np.empty(0))
    return data, text


def _arrow() -> Any:
    """pyarrow, or the error saying how to install it."""
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - the optional extra is missing
        raise EdgenetError(
            "edge tables need pyarrow: pip install 'edgenet[edgelist]'"
        ) from None
    return pa


def _format(name: str) -> str:
    low = name.lower()
    for suffix, kind in sorted(SUFFIXES.items(), key=lambda s: -len(s[0])):
        if low.endswith(suffix):
            if not os.path.exists(name):
                raise EdgenetError(f"cannot read {name!r}: no such file")
            return kind
    raise EdgenetError(
        f"cannot read {name!r}: unknown table type; expected one of {', '.join(SUFFIXES)}"
    )


GZIP = b"\x1f\x8b"


def _sniff(head: bytes) -> str:
    """The format of a file object from its first bytes (text: comma unless the header
    has tabs and no comma)."""
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith((b"ARROW1", b"FEA1")):
        return "feather"
    line = head.split(b"\n", 1)[0]
    return "tsv" if b"\t" in line and b"," not in line else "csv"


def _locate(path: Any) -> tuple[str, str, Callable[[], Any]]:
    """The name errors use, the format, and a function opening a fresh input of ``path``
    (a str/bytes/path-like path or a binary file object) for pyarrow; gzip bytes are
    decompressed whatever the name."""
    pa = _arrow()
    if hasattr(path, "read"):  # a file object: read it once, sniff its format
        label = getattr(path, "name", None)
        name = os.fsdecode(label) if isinstance(label, (str, bytes)) else \
            f"<{type(path).__name__}>"
        data = path.read()
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise EdgenetError(f"cannot read {name!r}: it is a text file object; open it in "
                               "binary mode ('rb') or pass io.BytesIO")
        buf = pa.py_buffer(bytes(data))
        if bytes(data[:2]) == GZIP:
            def unzipped() -> Any:
                return pa.CompressedInputStream(pa.BufferReader(buf), "gzip")
            with unzipped() as f:
                head = f.read(1 << 16)
            return name, _sniff(head), unzipped
        return name, _sniff(bytes(data[:1 << 16])), lambda: pa.BufferReader(buf)
    try:
        name = os.fsdecode(path)
    except TypeError:
        raise EdgenetError(f"cannot read {path!r}: expected a path (str, bytes or "
                           "os.PathLike) or a binary file object such as io.BytesIO") from None
    kind = _format(name)
    try:
        with open(name, "rb") as f:
            magic = f.read(2)
    except OSError as err:
        raise EdgenetError(f"cannot read {name!r}: {err.strerror or err}") from None
    if kind in ("csv", "tsv"):
        compression = "gzip" if magic == GZIP else None
        return name, kind, lambda: pa.input_stream(name, compression=compression)
    return name, kind, lambda: name


def _decimal_floats(arr: Any, name: str, col: str, rows: int) -> Any:
    """A decimal column as float64, each value the nearest float64 (``float(Decimal)``
    rounds correctly; Arrow's cast may not); one beyond float64 is refused by row."""
    import pyarrow as pa

    values = np.array([np.nan if v is None else float(v) for v in arr.to_pylist()],
                      dtype=np.float64)  # (rows,)
    bad = np.flatnonzero(np.isinf(values))
    if len(bad):
        raise EdgenetError(f"{name!r}, data row {rows + int(bad[0]) + 1}: column {col!r} "
                           f"holds {arr[int(bad[0])].as_py()}, beyond float64; expected "
                           "numbers within +-1.8e308")
    return pa.array(values, mask=arr.is_null().to_numpy(zero_copy_only=False))


def _check_id_column(arr: Any, name: str, col: str, rows: int, kind: str) -> None:
    """Refuse an id column of a type that is no node id (timestamps, bools, nested
    values, ...) and NaN ids, naming the column (and the row of a NaN)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    t = arr.type
    if not (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_string(t)
            or pa.types.is_large_string(t) or pa.types.is_binary(t)
            or pa.types.is_large_binary(t)):
        hint = " (timestamps are no node ids: cast the column to integers or text first)" \
            if pa.types.is_temporal(t) else ""
        raise EdgenetError(f"{name!r}: id column {col!r} holds {t} values; expected integers, "
                           f"floats or text (or bytes){hint}")
    if pa.types.is_floating(t):
        nan = pc.fill_null(pc.is_nan(arr), False)
        if pc.any(nan).as_py():
            row = rows + int(np.flatnonzero(nan.to_numpy(zero_copy_only=False))[0])
            raise EdgenetError(f"{name!r}, data row {row + 1}: column {col!r} holds NaN, which "
                               "is no node id (NaN equals no id, not even itself); give every "
                               "row a real id")


def _open(
    name: str, kind: str, opener: Callable[[], Any], empty_is_null: bool = False,
    floats: Sequence[str] = (),
) -> tuple[list[str], Callable[[list[str], list[str]], Iterator[Any]]]:
    """The table's column names and a function streaming record batches of some columns
    (the second list: id columns, which a text table hands over as text). In a text
    table the ``floats`` columns are read as float64 (Arrow infers types from the first
    block only, and an integer column turning fractional later would be refused)."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pcsv
        import pyarrow.feather as pf_
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - the optional extra is missing
        raise EdgenetError(
            "read_edgelist needs pyarrow: pip install 'edgenet[edgelist]'"
        ) from None

    def failed(err: BaseException, where: str = "") -> EdgenetError:
        text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        if isinstance(err, UnicodeDecodeError) or "UTF8" in text or "UTF-8" in text:
            text = f"not valid UTF-8 ({text})"
        return EdgenetError(f"cannot read {name!r} as {kind}{where}: {text}; expected "
                            f"{ACCEPTED[kind]}")

    names: list[str] = []
    fixed: dict[str, Any] = {c: pa.float64() for c in floats}  # CSV column types

    def retype(err: BaseException) -> bool:
        """After Arrow's type, inferred from the first block, fails on a later value of
        a non-id column: read that column as float64 (a number) or text, and say so."""
        found = re.match(r"In CSV column #(\d+): CSV conversion error to (\w+): invalid "
                         r"value '(.*)'", str(err), re.S)
        if kind not in ("csv", "tsv") or not found or int(found[1]) >= len(names):
            return False
        col, value = names[int(found[1])], found[3]
        try:
            float(value)
            number = found[2].startswith(("int", "uint"))
        except ValueError:
            number = False
        if fixed.get(col) == pa.string() or (number and fixed.get(col) == pa.float64()):
            return False
        fixed[col] = pa.float64() if number else pa.string()
        return True

    def guarded(batches: Callable[[list[str], list[str]], Iterator[Any]]
                ) -> Callable[[list[str], list[str]], Iterator[Any]]:
        def run(cols: list[str], ids: list[str]) -> Iterator[Any]:
            rows = 0
            try:
                for batch in batches(cols, ids):
                    yield batch
                    rows += batch.num_rows
            except (pa.ArrowException, OSError, UnicodeDecodeError) as err:
                if retype(err):
                    raise _Retype() from None
                raise failed(err, f" after data row {rows}" if rows else "") from None
        return run

    try:
        if kind == "parquet":
            pf = pq.ParquetFile(opener())

            def parquet(cols: list[str], ids: list[str]) -> Iterator[Any]:
                yield from pf.iter_batches(batch_size=BATCH_ROWS, columns=cols)

            return list(pf.schema_arrow.names), guarded(parquet)
        if kind == "feather":
            source = opener()
            if isinstance(source, str):
                source = pa.memory_map(source)
            if source.read(4) == b"FEA1":  # Feather v1: no IPC file; read it whole
                source.seek(0)
                whole = pf_.read_table(source)

                def feather1(cols: list[str], ids: list[str]) -> Iterator[Any]:
                    yield from whole.select(cols).to_batches()

                return list(whole.schema.names), guarded(feather1)
            source.seek(0)
            reader = pa.ipc.open_file(source)

            def feather(cols: list[str], ids: list[str]) -> Iterator[Any]:
                for i in range(reader.num_record_batches):
                    yield reader.get_batch(i).select(cols)

            return list(reader.schema.names), guarded(feather)
        opts = pcsv.ParseOptions(delimiter="," if kind == "csv" else "\t")
        head = pcsv.open_csv(opener(), parse_options=opts)
        names[:] = head.schema.names

        def csv(cols: list[str], ids: list[str]) -> Iterator[Any]:
            types = {c: t for c, t in fixed.items() if c in cols}
            types.update({c: pa.string() for c in ids})
            conv = pcsv.ConvertOptions(include_columns=cols, strings_can_be_null=empty_is_null,
                                       column_types=types)
            read = pcsv.ReadOptions(block_size=CSV_BLOCK)
            yield from pcsv.open_csv(opener(), parse_options=opts, convert_options=conv,
                                     read_options=read)

        return names, guarded(csv)
    except (pa.ArrowException, OSError, UnicodeDecodeError) as err:
        raise failed(err) from None


def _text_ids(src: list[Any], dst: list[Any], name: str = "table"
              ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The id columns of a text table, given as chunks of text: integers (int64, else
    uint64, else Python ints) when every id of both columns is a decimal integer, else the
    text of each id. Parsing them as numbers by column would turn ids of 2**63 and more
    into rounded floats, and an id spelled alike in both columns into two nodes."""
    import pyarrow as pa
    import pyarrow.compute as pc

    for dtype in (pa.int64(), pa.uint64()):
        try:
            return ([c.cast(dtype).to_numpy() for c in src],
                    [c.cast(dtype).to_numpy() for c in dst])
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            pass
    if all(pc.all(pc.match_substring_regex(c, r"^[+-]?[0-9]+$")).as_py() is not False
           for c in [*src, *dst]):  # integers beyond 64 bits
        def parse(c: Any) -> np.ndarray:
            return np.array([_integer(x, name) for x in c.to_pylist()], dtype=object)
    else:
        def parse(c: Any) -> np.ndarray:
            return c.to_numpy(zero_copy_only=False)
    return [parse(c) for c in src], [parse(c) for c in dst]


def _integer(text: str, name: str) -> int:
    """A decimal id as an int; one beyond Python's conversion limit (4,300 digits by
    default) is refused."""
    try:
        return int(text)
    except ValueError:
        digits = len(text.lstrip("+-"))
        raise EdgenetError(f"{name!r}: id {text[:12]}... has {digits} digits; ids are "
                           "accepted as integers of at most "
                           f"{getattr(sys, 'get_int_max_str_digits', lambda: 4300)()} digits, "
                           "or as text holding a non-digit character") from None


def write_edgelist(
    what: Any,
    path: str | os.PathLike[str],
    *,
    nodes: str | os.PathLike[str] | None = None,
    source: str = "source",
    target: str = "target",
    weight: str = "weight",
    node_id: str = "id",
) -> tuple[str, str]:
    """Write ``what``, a compiled model's trained weights (or an :class:`EdgeTable`), as an
    edge table at ``path`` and its node table at ``nodes`` (default: ``path`` with
    ``.nodes`` before the suffix), each atomically (a failed write leaves the old file).

    The format follows the suffix: ``.parquet``/``.pq``, ``.feather``/``.arrow``,
    ``.csv`` or ``.tsv``. Edges: columns ``source``, ``target``, ``weight`` (float64;
    every value round-trips exactly). Nodes: ``node_id``, then ``role``, ``activation``,
    ``bias``, ``tau`` and the other node attributes (nulls where absent).
    ``en.read_edgelist(path, source=..., target=..., weight=..., nodes=..., as_graph=False)``
    reads both back. Returns the two paths.

    >>> import os, tempfile, networkx as nx, torch, edgenet as en
    >>> rnn = en.compile(nx.DiGraph([("x", "a"), ("a", "a")]), recurrent=True,
    ...                  inputs=["x"], outputs=["a"], seed=0)
    >>> path = os.path.join(tempfile.mkdtemp(), "trained.parquet")
    >>> edges, nodes = en.write_edgelist(rnn, path)
    >>> t = en.read_edgelist(edges, source="source", target="target", weight="weight",
    ...                      nodes=nodes, as_graph=False)
    >>> again = en.compile(t, recurrent=True)
    >>> torch.equal(again.weight, rnn.weight), again.inputs, again.outputs
    (True, ['x'], ['a'])
    """
    from ..model.columns import to_table
    from .atomic import atomic_write
    from .table import EdgeTable

    table = what if isinstance(what, EdgeTable) else to_table(what)
    name = os.fspath(path)
    kind = _kind(name, SUFFIXES)
    if nodes is None:
        low = name.lower()
        suffix = max((s for s in SUFFIXES if low.endswith(s)), key=len)
        nodes = name[: len(name) - len(suffix)] + ".nodes" + name[len(name) - len(suffix):]
    node_name = os.fspath(nodes)
    node_kind = _kind(node_name, SUFFIXES)
    pa = _arrow()
    edge_cols = {source: table.source, target: table.target}
    if table.weight is not None:
        edge_cols[weight] = table.weight
    edge_cols.update({k: v for k, v in table.edge_columns.items() if k not in edge_cols})
    node_cols = {node_id: table.ids, **table.node_columns}
    for file, kind_, cols in ((name, kind, edge_cols), (node_name, node_kind, node_cols)):
        arrays = {k: _arrow_array(pa, v) for k, v in cols.items()}
        data = pa.table(arrays)
        with atomic_write(file) as f:
            _write(data, f, kind_)
    return name, node_name


def _kind(name: str, suffixes: Mapping[str, str]) -> str:
    low = name.lower()
    for suffix, kind in sorted(suffixes.items(), key=lambda s: -len(s[0])):
        if low.endswith(suffix):
            if suffix.endswith(".gz"):
                break
            return kind
    raise EdgenetError(
        f"cannot write {name!r}: unknown table type; expected a name ending in .parquet, "
        ".pq, .feather, .arrow, .csv or .tsv"
    )


def _arrow_array(pa: Any, values: np.ndarray) -> Any:
    if values.dtype != object:
        return pa.array(values)
    items = values.tolist()
    present = [v for v in items if v is not None]
    if present and all(isinstance(v, float) for v in present):
        return pa.array(items, type=pa.float64())
    return pa.array(items)


def _write(data: Any, f: Any, kind: str) -> None:
    if kind == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(data, f)
    elif kind == "feather":
        import pyarrow.feather as feather

        feather.write_feather(data, f)
    else:
        import pyarrow.csv as pcsv

        pcsv.write_csv(data, f, write_options=pcsv.WriteOptions(
            delimiter="," if kind == "csv" else "\t"))
