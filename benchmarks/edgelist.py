"""Edge-list benchmark: read a whole-brain connection table the size of Shiu et al.'s.

Run from the repository root::

    python benchmarks/edgelist.py                       # 15M rows, Parquet (needs ~10 GiB)
    python benchmarks/edgelist.py --rows 1000000 --csv  # smaller, and the CSV path too

The table is made up with the shape of the published one: one row per (pre, post,
neuropil) with 64-bit FlyWire-style neuron ids over 139,255 neurons, a neuropil name
(78 of them) and a synapse count; about one row in seven repeats a (pre, post) pair in
another neuropil. It is written once by a child process (so its memory is not counted),
then read with ``en.read_edgelist(..., parallel="sum")``, which merges the repeated pairs,
sums ``syn_count`` into ``weight`` and drops the neuropil. The script prints the read time
(median of ``--rounds``, each in a fresh process) and that process's peak resident memory,
per edge and in all, next to the memory of the graph NetworkX needs in the end.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
NEURONS = 139_255
NEUROPILS = 78


def generate(path: str, rows: int, seed: int = 0) -> None:
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    ids = 720575940600000000 + np.sort(rng.choice(10**9, NEURONS, replace=False))
    pairs = rows * 6 // 7
    pre = rng.integers(0, NEURONS, pairs)
    post = rng.integers(0, NEURONS, pairs)
    again = rng.integers(0, pairs, rows - pairs)  # the same pair in another neuropil
    pre, post = np.concatenate((pre, pre[again])), np.concatenate((post, post[again]))
    order = np.argsort(pre, kind="stable")  # tables come sorted by the presynaptic neuron
    names = np.array([f"NP{k:02d}_{'LR'[k % 2]}" for k in range(NEUROPILS)])
    table = pa.table({
        "pre": ids[pre[order]],
        "post": ids[post[order]],
        "neuropil": pa.array(names[rng.integers(0, NEUROPILS, rows)]).dictionary_encode(),
        "syn_count": rng.geometric(0.15, rows).astype(np.int32) + 4,
    })
    if path.endswith(".csv"):
        pcsv.write_csv(table.cast(table.schema.set(2, table.schema.field(2).with_type(
            pa.string()))), path)
    else:
        pq.write_table(table, path, row_group_size=1 << 20)


def read(path: str) -> dict[str, float]:
    import resource

    sys.path.insert(0, str(ROOT))
    import edgenet as en

    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    G = en.read_edgelist(path, source="pre", target="post", weight="syn_count",
                         parallel="sum")
    seconds = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "peak_kib": peak, "base_kib": base,
            "nodes": G.number_of_nodes(), "edges": G.number_of_edges()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=15_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--csv", action="store_true", help="also time the CSV path")
    ap.add_argument("--child", nargs=2, metavar=("ACTION", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        action, path = args.child
        if action == "generate":
            generate(path, args.rows)
        else:
            print(json.dumps(read(path)))
        return
    kinds = ["parquet", "csv"] if args.csv else ["parquet"]
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            path = os.path.join(tmp, f"connections.{kind}")
            t = time.perf_counter()
            subprocess.run([sys.executable, __file__, "--rows", str(args.rows), "--child",
                            "generate", path], check=True)
            size = os.path.getsize(path) / 2**20
            print(f"{kind}: {args.rows:,} rows, {size:,.0f} MiB, written in "
                  f"{time.perf_counter() - t:.1f} s")
            runs = []
            for _ in range(args.rounds):
                out = subprocess.run([sys.executable, __file__, "--child", "read", path],
                                     check=True, capture_output=True, text=True).stdout
                runs.append(json.loads(out.strip().splitlines()[-1]))
            r = runs[-1]
            seconds = statistics.median(x["seconds"] for x in runs)
            peak = max(x["peak_kib"] for x in runs) / 2**20
            base = r["base_kib"] / 2**20
            print(f"  read_edgelist(parallel='sum'): {seconds:.1f} s (median of {args.rounds}), "
                  f"{r['nodes']:,} neurons, {r['edges']:,} edges")
            print(f"  peak resident memory {peak:.2f} GiB ({base:.2f} GiB before reading), "
                  f"{(peak - base) * 2**30 / r['edges']:.0f} B per edge")


if __name__ == "__main__":
    main()
