"""Interchange benchmark: GraphML read/write and native save/load against NetworkX.

Builds a layered random DAG of neurons with float64 weights and biases, then times,
interleaved in one process, ``edgenet.write_graphml`` against ``networkx.write_graphml``,
``edgenet.read_graphml`` against ``networkx.read_graphml`` on the same file, and
``edgenet.save`` / ``edgenet.load``. Prints medians and ratios (edgenet / NetworkX).

    python benchmarks/io.py                 # 1M edges, 3 repeats
    python benchmarks/io.py --edges 100000 --repeat 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

import networkx as nx
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import edgenet as en  # noqa: E402


def network(n_edges: int, seed: int = 0) -> en.Network:
    """About ``n_edges`` edges over 10 layers of ``n_edges / 1000`` neurons (fan-in ~100)."""
    rng = np.random.default_rng(seed)
    width = max(n_edges // 1000, 2)
    layers = 10
    net = en.Network()
    for i in range(width):
        net.add_input(i)
    for k in range(1, layers):
        for i in range(k * width, (k + 1) * width):
            if k == layers - 1:
                net.add_output(i, bias=float(rng.standard_normal()))
            else:
                net.add_neuron(i, activation="tanh", bias=float(rng.standard_normal()))
    per_layer = n_edges // (layers - 1)
    for k in range(1, layers):
        src = rng.integers(0, k * width, per_layer)  # skips allowed: any earlier layer
        dst = rng.integers(k * width, (k + 1) * width, per_layer)
        pairs = np.unique(np.stack([src, dst], 1), axis=0)
        w = rng.standard_normal(len(pairs))
        net.add_weighted_edges_from(zip(pairs[:, 0].tolist(), pairs[:, 1].tolist(), w.tolist(),
                                        strict=True))
    return net


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return time.perf_counter() - start, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    net = network(args.edges)
    print(f"network: {net.number_of_nodes()} nodes, {net.number_of_edges()} edges")
    folder = tempfile.mkdtemp()
    ours = os.path.join(folder, "edgenet.graphml")
    theirs = os.path.join(folder, "networkx.graphml")
    native = os.path.join(folder, "net.npz")
    times: dict[str, list[float]] = {k: [] for k in (
        "write edgenet", "write networkx", "read edgenet", "read networkx",
        "read edgenet (networkx file)", "read networkx (networkx file)", "save", "load")}
    for _ in range(args.repeat):
        times["write edgenet"].append(timed(en.write_graphml, net, ours)[0])
        times["write networkx"].append(timed(nx.write_graphml, net, theirs)[0])
        t, back = timed(en.read_graphml, ours)
        times["read edgenet"].append(t)
        assert list(back.edges(data="weight")) == list(net.edges(data="weight"))
        del back
        times["read networkx"].append(timed(nx.read_graphml, ours)[0])
        times["read edgenet (networkx file)"].append(timed(en.read_graphml, theirs,
                                                           node_type=int)[0])
        times["read networkx (networkx file)"].append(timed(nx.read_graphml, theirs)[0])
        times["save"].append(timed(en.save, net, native)[0])
        t, back = timed(en.load, native)
        times["load"].append(t)
        assert list(back.edges(data="weight")) == list(net.edges(data="weight"))
        del back
    med = {k: statistics.median(v) for k, v in times.items()}
    mib = {k: os.path.getsize(p) / 2**20 for k, p in
           (("ours", ours), ("theirs", theirs), ("native", native))}
    print(f"files: edgenet GraphML {mib['ours']:.0f} MiB, NetworkX GraphML {mib['theirs']:.0f} "
          f"MiB, native {mib['native']:.0f} MiB; medians of {args.repeat}")
    print(f"{'operation':<32}{'median s':>10}{'vs networkx':>14}")
    rows = [
        ("write_graphml", "write edgenet", "write networkx"),
        ("write_graphml (networkx)", "write networkx", None),
        ("read_graphml", "read edgenet", "read networkx"),
        ("read_graphml (networkx)", "read networkx", None),
        ("read_graphml, networkx's file", "read edgenet (networkx file)",
         "read networkx (networkx file)"),
        ("networkx, networkx's file", "read networkx (networkx file)", None),
        ("save (native)", "save", "write networkx"),
        ("load (native)", "load", "read networkx"),
    ]
    for label, key, base in rows:
        ratio = f"{med[key] / med[base]:.3f}" if base else ""
        print(f"{label:<32}{med[key]:>10.2f}{ratio:>14}")
    for path in (ours, theirs, native):
        os.unlink(path)
    os.rmdir(folder)


if __name__ == "__main__":
    main()
