"""Feedback arc sets: how many edges break_cycles removes, against the exact minimum.

Run from the repository root::

    python benchmarks/cycles.py            # the C. elegans-size stand-in, exact minimum too
    python benchmarks/cycles.py --no-exact # heuristics only (seconds)

The stand-in is the generated connectome of ``examples/connectome.py`` (279 neurons, 2,194
edges, the size of C. elegans', which is not available offline). For each seed it prints
the edges removed by the Eades-Lin-Smyth order plus the minimality pass (``break_cycles``
without sifting), by ``break_cycles`` as shipped (with sifting), and the exact minimum
from an integer program over cycle constraints added lazily (scipy's HiGHS; minutes).
It also times ``break_cycles`` on a flyvis-size random graph (45,000 nodes, 1.5M edges).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "examples"))

from connectome import stand_in  # noqa: E402

from edgenet import cycles  # noqa: E402


def exact(G: nx.DiGraph, limit: float) -> tuple[int, bool]:
    """The minimum feedback arc set size (and whether it was proven within ``limit`` s)."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix

    edges = list(G.edges)
    index = {e: i for i, e in enumerate(edges)}
    rows: list[list[int]] = []
    chosen = np.zeros(len(edges))
    start = time.perf_counter()
    while True:
        left = nx.DiGraph(e for e, x in zip(edges, chosen) if x < 0.5)
        found = []
        for c in nx.strongly_connected_components(left):
            if len(c) < 2:
                continue
            sub = left.subgraph(c)
            for u, v in list(sub.edges)[:400]:  # a shortest cycle through each edge
                path = nx.shortest_path(sub, v, u)
                found.append([index[u, v]] + [index[a, b] for a, b in zip(path, path[1:])])
        if not found:
            return int(round(chosen.sum())), True
        rows += found
        data = np.ones(sum(map(len, rows)))
        A = csr_matrix((data, np.concatenate(rows), np.cumsum([0] + [len(r) for r in rows])),
                       shape=(len(rows), len(edges)))
        remaining = limit - (time.perf_counter() - start)
        if remaining <= 0:
            return int(round(chosen.sum())), False
        res = milp(np.ones(len(edges)), constraints=LinearConstraint(A, lb=1),
                   integrality=np.ones(len(edges)), bounds=Bounds(0, 1),
                   options={"time_limit": remaining})
        if res.x is None:
            return int(round(chosen.sum())), False
        chosen = res.x


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--no-exact", action="store_true")
    ap.add_argument("--limit", type=float, default=1800, help="seconds for the exact solver")
    args = ap.parse_args()
    for seed in range(args.seeds):
        G = stand_in(seed)
        sweeps = cycles.SIFT_SWEEPS
        cycles.SIFT_SWEEPS = 0
        plain = len(cycles.break_cycles(G)[1])
        cycles.SIFT_SWEEPS = sweeps
        t = time.perf_counter()
        sifted = len(cycles.break_cycles(G)[1])
        took = time.perf_counter() - t
        line = (f"stand-in seed {seed}: {G.number_of_edges()} edges; Eades-Lin-Smyth + minimal "
                f"{plain}, with sifting {sifted} ({took:.2f} s)")
        if not args.no_exact:
            best, proven = exact(G, args.limit)
            line += (f"; exact minimum {best}" if proven else f"; exact: >= {best} (time out)")
            line += f" -> {plain / best - 1:+.1%} and {sifted / best - 1:+.1%}"
        print(line, flush=True)
    rng = np.random.default_rng(0)
    n, m = 45_000, 1_500_000
    big = nx.DiGraph()
    big.add_nodes_from(range(n))
    big.add_edges_from(zip(rng.integers(0, n, m).tolist(), rng.integers(0, n, m).tolist()))
    t = time.perf_counter()
    removed = cycles.break_cycles(big)[1]
    print(f"random graph, {n:,} nodes, {big.number_of_edges():,} edges: break_cycles removed "
          f"{len(removed):,} in {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
