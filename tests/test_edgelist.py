"""read_edgelist: CSV/TSV/Parquet/Feather, exact 64-bit ids, repeated pairs, extra columns."""

from __future__ import annotations

import os
import warnings

import networkx as nx
import numpy as np
import pytest

import edgenet as en

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
feather = pytest.importorskip("pyarrow.feather")

BIG = [720575940629970489, 720575940629970490, 2**63 - 1, 7]  # float64 cannot tell 1st/2nd apart

ROWS = {
    "pre": [BIG[0], BIG[1], BIG[2], BIG[0], BIG[3]],
    "post": [BIG[1], BIG[0], BIG[0], BIG[3], BIG[3]],
    "neuropil": ["AL_L", "AL_R", "MB_L", "AL_L", "LO_R"],
    "syn_count": [5, 3, 2, 1, 9],
}


def write(tmp_path, kind, rows=ROWS):
    table = pa.table(rows)
    path = tmp_path / f"edges.{kind}"
    if kind == "parquet":
        pq.write_table(table, path, row_group_size=2)  # several batches
    elif kind == "feather":
        feather.write_feather(table, path, chunksize=2)
    else:
        sep = "," if kind == "csv" else "\t"
        lines = [sep.join(rows)] + [sep.join(str(v) for v in r) for r in zip(*rows.values())]
        path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("kind", ["csv", "tsv", "parquet", "feather"])
def test_every_format_gives_the_same_graph_with_exact_64_bit_ids(tmp_path, kind):
    G = en.read_edgelist(write(tmp_path, kind), source="pre", target="post", weight="syn_count")
    assert isinstance(G, en.Network)
    assert list(G.nodes) == [BIG[0], BIG[1], BIG[2], BIG[3]]
    assert all(type(n) is int for n in G)
    assert list(G.edges(data=True)) == [
        (BIG[0], BIG[1], {"weight": 5.0, "neuropil": "AL_L"}),
        (BIG[0], BIG[3], {"weight": 1.0, "neuropil": "AL_L"}),
        (BIG[1], BIG[0], {"weight": 3.0, "neuropil": "AL_R"}),
        (BIG[2], BIG[0], {"weight": 2.0, "neuropil": "MB_L"}),
        (BIG[3], BIG[3], {"weight": 9.0, "neuropil": "LO_R"}),
    ]


def test_repeated_pairs_are_refused_naming_the_pair_and_rows(tmp_path):
    rows = {k: [*v, v[0]] for k, v in ROWS.items()}  # row 6 repeats row 1's pair
    path = write(tmp_path, "parquet", rows)
    with pytest.raises(en.EdgenetError, match=rf"the pair \({BIG[0]}, {BIG[1]}\) appears more "
                                              r"than once \(data rows 1 and 6\); pass "
                                              r"parallel='sum'"):
        en.read_edgelist(path, source="pre", target="post", weight="syn_count")


def test_sum_merges_repeated_pairs_and_drops_the_neuropil(tmp_path):
    rows = {"pre": [1, 2, 1, 1, 2], "post": [2, 1, 2, 3, 1], "neuropil": list("ABCDE"),
            "syn_count": [5, 3, 2, 1, 4], "n_sites": [1, 1, 1, 1, 1]}
    G = en.read_edgelist(write(tmp_path, "csv", rows), source="pre", target="post",
                         weight="syn_count", parallel="sum")
    assert list(G.edges(data=True)) == [
        (1, 2, {"weight": 7.0, "n_sites": 2}), (1, 3, {"weight": 1.0, "n_sites": 1}),
        (2, 1, {"weight": 7.0, "n_sites": 2}),
    ]
    with pytest.raises(en.EdgenetError, match=r"column 'neuropil' holds object values, which "
                                              r"cannot be summed over repeated pairs"):
        en.read_edgelist(write(tmp_path, "csv", rows), source="pre", target="post",
                         weight="syn_count", parallel="sum", attributes=["neuropil"])


def test_extra_columns_can_be_dropped_or_chosen_and_ids_typed(tmp_path):
    path = write(tmp_path, "feather")
    G = en.read_edgelist(path, source="pre", target="post", attributes=False)
    assert all(d == {} for *_, d in G.edges(data=True))
    G = en.read_edgelist(path, source="pre", target="post", attributes=["neuropil"],
                         node_type=str)
    assert G.edges[str(BIG[0]), str(BIG[1])] == {"neuropil": "AL_L"}


def test_a_cyclic_connectome_compiles_recurrently(tmp_path):
    G = en.read_edgelist(write(tmp_path, "csv"), source="pre", target="post",
                         weight="syn_count", attributes=False)
    assert not nx.is_directed_acyclic_graph(G)
    G.add_edge("stimulus", BIG[0], weight=1.0)
    import torch

    model = en.compile(G, recurrent=True, inputs=["stimulus"], outputs=[BIG[3]])
    assert model(torch.ones(2, 1), steps=3).shape == (2, 3, 1)


@pytest.mark.parametrize("kwargs, message", [
    ({"source": "from"}, r"no column 'from'; its columns are \['pre', 'post', 'neuropil', "
                         r"'syn_count'\]"),
    ({"weight": "neuropil"}, r"weight column 'neuropil' holds object values; expected numbers"),
    ({"parallel": "max"}, r"parallel must be 'refuse' or 'sum' \(got 'max'\)"),
    ({"attributes": ["colour"]}, r"attributes= names column 'colour', which is not an extra "
                                 r"column"),
    ({"node_type": lambda x: 0}, r"maps distinct ids to the same node"),
])
def test_bad_arguments_are_named(tmp_path, kwargs, message):
    args = {"source": "pre", "target": "post", **kwargs}
    with pytest.raises(en.EdgenetError, match=message):
        en.read_edgelist(write(tmp_path, "parquet"), **args)


def test_bad_files_are_named(tmp_path):
    with pytest.raises(en.EdgenetError, match=r"unknown table type; expected one of \.csv"):
        en.read_edgelist(tmp_path / "edges.xlsx", source="a", target="b")
    with pytest.raises(en.EdgenetError, match=r"no such file"):
        en.read_edgelist(tmp_path / "none.csv", source="a", target="b")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(en.EdgenetError, match=r"cannot read .*bad.parquet' as parquet"):
        en.read_edgelist(bad, source="a", target="b")
    holes = tmp_path / "holes.csv"
    holes.write_text("a,b,w\n1,2,1.0\n3,,2.0\n")
    with pytest.raises(en.EdgenetError, match=r"data row 2: column 'b' is empty"):
        en.read_edgelist(holes, source="a", target="b")
    holes.write_text("a,b,w\n1,2,1.0\n3,4,\n")
    with pytest.raises(en.EdgenetError, match=r"data row 2: edge \(3, 4\) has weight nan"):
        en.read_edgelist(holes, source="a", target="b", weight="w")


@pytest.mark.parametrize("sign", [1, -1])
def test_signed_and_unsigned_id_columns_keep_every_64_bit_id(tmp_path, sign):
    # NumPy promotes int64 with uint64 to float64, where BIG[0] and BIG[1] are one number
    high = 2**64 - 1 if sign < 0 else BIG[1]  # a negative id beside one above 2**63 - 1
    path = tmp_path / "mixed.parquet"
    pq.write_table(pa.table({"pre": pa.array([BIG[0], sign * BIG[1]], pa.int64()),
                             "post": pa.array([high, BIG[0]], pa.uint64()),
                             "syn": [3, 4]}), path)
    G = en.read_edgelist(path, source="pre", target="post", weight="syn", parallel="sum")
    assert list(G.edges(data="weight")) == [(BIG[0], high, 3.0), (sign * BIG[1], BIG[0], 4.0)]
    assert all(type(n) is int for n in G)


def test_text_ids_of_two_to_the_63_and_more_stay_exact_ints(tmp_path):
    # a text reader infers float64 for a column of such ids, rounding 2**64 - 1 and 2**64 - 2
    path = tmp_path / "big.csv"
    path.write_text(f"pre,post\n1,{2**64 - 1}\n-2,{2**64 - 2}\n{2**70},1\n")
    G = en.read_edgelist(path, source="pre", target="post")
    assert list(G.edges) == [(1, 2**64 - 1), (-2, 2**64 - 2), (2**70, 1)]
    assert all(type(n) is int for n in G)


def test_text_ids_spelled_alike_in_both_columns_are_one_node(tmp_path):
    # one column all digits, the other not: the ids are text in both, "1" is one node
    path = tmp_path / "ids.csv"
    path.write_text("pre,post\na,1\n1,2\n")
    G = en.read_edgelist(path, source="pre", target="post")
    assert list(G.edges) == [("a", "1"), ("1", "2")]


def test_id_columns_of_different_types_are_kept_as_the_file_types_them(tmp_path):
    path = tmp_path / "types.parquet"
    pq.write_table(pa.table({"pre": ["a", "b"], "post": pa.array([BIG[0], BIG[1]], pa.int64()),
                             "w": [1.0, 2.0]}), path)
    G = en.read_edgelist(path, source="pre", target="post", weight="w")
    assert list(G.edges(data="weight")) == [("a", BIG[0], 1.0), ("b", BIG[1], 2.0)]
    path = tmp_path / "floats.parquet"
    pq.write_table(pa.table({"pre": pa.array([BIG[0], BIG[1]], pa.int64()),
                             "post": [0.5, 1.5]}), path)
    G = en.read_edgelist(path, source="pre", target="post")
    assert list(G.edges) == [(BIG[0], 0.5), (BIG[1], 1.5)]


# --- odd ids and files pyarrow cannot read: typed errors naming the file ---


def edges_of(G):
    return list(G.edges())


def test_nan_ids_are_refused_naming_column_and_row(tmp_path):
    path = tmp_path / "e.parquet"
    pq.write_table(pa.table({"a": [1.0, float("nan"), float("nan")], "b": [2.0, 3.0, 4.0]}),
                   path)
    with pytest.raises(en.EdgenetError, match=r"e.parquet.*data row 2: column 'a' holds NaN"):
        en.read_edgelist(path, source="a", target="b")
    with pytest.raises(en.EdgenetError, match=r"data row 1: target id is NaN"):
        en.EdgeTable([1.0], [float("nan")])


def test_timestamp_list_and_struct_id_columns_are_refused_by_name(tmp_path):
    import datetime

    path = tmp_path / "e.parquet"
    day = datetime.datetime(2020, 1, 1)
    pq.write_table(pa.table({"t": [day, day], "b": [1, 2], "l": [[1], [2]],
                             "s": [{"x": 1}, {"x": 2}]}), path)
    for col in "tls":
        with pytest.raises(en.EdgenetError, match=rf"e.parquet.*column '{col}' holds .* "
                           "values.*expected integers, floats or text"):
            en.read_edgelist(path, source=col, target="b")
    with pytest.raises(en.EdgenetError, match="source ids are datetime64"):
        en.EdgeTable(np.array(["2020-01-01"], "datetime64[ns]"), [1])


def test_source_column_as_target_is_refused(tmp_path):
    path = write(tmp_path, "csv")
    with pytest.raises(en.EdgenetError, match="source and target both name column 'pre'"):
        en.read_edgelist(path, source="pre", target="pre")


def test_bytes_paths_and_binary_file_objects_are_read(tmp_path):
    import io

    want = edges_of(en.read_edgelist(write(tmp_path, "csv"), source="pre", target="post"))
    for kind in ("csv", "parquet", "feather"):
        path = write(tmp_path, kind)
        got = en.read_edgelist(os.fsencode(path), source="pre", target="post")
        assert edges_of(got) == want
        got = en.read_edgelist(io.BytesIO(path.read_bytes()), source="pre", target="post")
        assert edges_of(got) == want
    with pytest.raises(en.EdgenetError, match="binary mode"):
        en.read_edgelist(io.StringIO("a,b\n1,2\n"), source="a", target="b")
    with pytest.raises(en.EdgenetError, match="expected a path"):
        en.read_edgelist(3, source="a", target="b")


def test_gzip_bytes_named_csv_are_read(tmp_path):
    import gzip

    path = tmp_path / "e.csv"
    path.write_bytes(gzip.compress(b"a,b\n1,2\n2,3\n"))
    assert edges_of(en.read_edgelist(path, source="a", target="b")) == [(1, 2), (2, 3)]
    path.rename(tmp_path / "e.tsv.gz")
    (tmp_path / "e.tsv.gz").write_bytes(gzip.compress(b"a\tb\n1\t2\n"))
    assert edges_of(en.read_edgelist(tmp_path / "e.tsv.gz", source="a", target="b")) == [(1, 2)]


@pytest.mark.parametrize("content, message", [
    (b"a,b\n1,2\n\xff\xfe,3\n", r"e.csv.*not valid UTF-8.*expected UTF-8 text"),
    ("\u00e9a,b\n1,2\n".encode("latin-1"), r"e.csv.*expected UTF-8 text"),
    (b"a,b\n" + b"1" * 4400 + b",2\n", r"e.csv': id 1+\.\.\. has 4400 digits; ids are accepted"),
])
def test_undecodable_csv_is_a_typed_error_naming_the_file(tmp_path, content, message):
    path = tmp_path / "e.csv"
    path.write_bytes(content)
    with pytest.raises(en.EdgenetError, match=message):
        en.read_edgelist(path, source="a", target="b")


def test_a_malformed_row_after_the_first_block_is_a_typed_error(tmp_path, monkeypatch):
    from edgenet.io import edgelist

    monkeypatch.setattr(edgelist, "CSV_BLOCK", 1 << 12)
    path = tmp_path / "e.csv"
    path.write_text("a,b,w\n" + "".join(f"{i},{i + 1},1\n" for i in range(2000)) + "5,6\n")
    with pytest.raises(en.EdgenetError, match=r"e.csv.*Expected 3 columns, got 2: 5,6; expected"):
        en.read_edgelist(path, source="a", target="b", weight="w")


def test_an_integer_weight_column_that_turns_fractional_after_the_first_block(tmp_path,
                                                                              monkeypatch):
    from edgenet.io import edgelist

    monkeypatch.setattr(edgelist, "CSV_BLOCK", 1 << 12)
    path = tmp_path / "e.csv"
    path.write_text("a,b,w\n" + "".join(f"{i},{i + 1},1\n" for i in range(2000)) + "0,5,1.5\n")
    t = en.read_edgelist(path, source="a", target="b", weight="w", as_graph=False)
    assert t.weight[-1] == 1.5 and t.n_edges == 2001


def test_extra_columns_that_change_type_after_the_first_block_are_read_again(tmp_path,
                                                                              monkeypatch):
    from edgenet.io import edgelist

    monkeypatch.setattr(edgelist, "CSV_BLOCK", 1 << 12)
    path = tmp_path / "e.tsv"
    path.write_text("a\tb\tx\tn\n" + "".join(f"{i}\t{i + 1}\t2\t3\n" for i in range(2000))
                    + "0\t5\t1.5\tAL\n")
    t = en.read_edgelist(path, source="a", target="b", as_graph=False)
    assert t.edge_columns["x"].tolist()[-2:] == [2.0, 1.5]
    assert t.edge_columns["n"].tolist()[-2:] == ["3", "AL"]


def test_feather_v1_and_decimal128_weights_are_read(tmp_path):
    import decimal

    table = pa.table({"a": [1, 2], "b": [2, 3],
                      "w": pa.array([decimal.Decimal("0.1"), decimal.Decimal("12345678901234567.89")],
                                    pa.decimal128(20, 2))})
    for version in (1, 2):
        path = tmp_path / f"e{version}.feather"
        with warnings.catch_warnings():  # pyarrow >= 25 deprecates writing version 1
            warnings.simplefilter("ignore", DeprecationWarning)
            feather.write_feather(table.set_column(2, "w", table["w"].cast(pa.float64()))
                                  if version == 1 else table, path, version=version)
        with warnings.catch_warnings():  # and reading it (a warning that reaches the user)
            warnings.simplefilter("ignore", DeprecationWarning)
            t = en.read_edgelist(path, source="a", target="b", weight="w", as_graph=False)
        assert t.weight.tolist() == [0.1, 12345678901234567.89]
