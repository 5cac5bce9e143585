"""A RigL rewiring step against the dense product its exact scores are, in one process.

Measures, on a random DAG of 100k edges (float32, CPU, batch 32) at 5k, 10k and 20k
nodes, the median time of ``RigL.step()`` (replay of the captured pass, scoring, top-k,
rewire; ``fraction=0.3``, so 30k edges move) for each candidate mode:

- ``layers`` (the default): pairs of the initial layer structure, exact;
- ``forward``: every forward pair, exact;
- ``layers, sample=m`` and ``forward, sample=m``: ``m`` candidates drawn at random
  (``m = 4 * k``), the opt-in cost-``O((edges + m) x batch)`` scoring;

against the baseline of one dense ``(nodes x batch) @ (batch x nodes)`` torch matmul,
the arithmetic exact scoring cannot avoid, timed in the same process, once whole (with
its ``nodes x nodes`` allocation) and once in blocks of 4M entries into one buffer.
``--modes layers forward`` times only the exact modes (a tree without ``sample=``).

Run: ``python benchmarks/rigl.py`` (``--quick`` for 5k nodes only, ``--sizes 5000 10000``,
``--threads 1`` for steadier figures on a shared machine).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

import edgenet as en


def random_dag(n_nodes: int, n_edges: int, n_in: int = 64, n_out: int = 16,
               seed: int = 0) -> en.Network:
    """``n_nodes`` nodes in a random order, ``n_edges`` distinct forward edges, uniform."""
    rng = np.random.default_rng(seed)
    keys: set[tuple[int, int]] = set()
    while len(keys) < n_edges:
        u = rng.integers(0, n_nodes - n_out, 2 * n_edges)  # (2E,)
        v = rng.integers(n_in, n_nodes, 2 * n_edges)
        ok = u < v
        for a, b in zip(u[ok].tolist(), v[ok].tolist()):
            if len(keys) == n_edges:
                break
            keys.add((a, b))
    net = en.Network()
    for i in range(n_nodes):
        if i < n_in:
            net.add_input(i)
        elif i >= n_nodes - n_out:
            net.add_output(i)
        else:
            net.add_neuron(i, activation="tanh")
    w = rng.normal(0, 0.2, n_edges)
    for (a, b), wi in zip(sorted(keys), w.tolist()):
        net.add_edge(a, b, weight=wi)
    return net


def rigl_step(net: en.Network, batch: int, repeat: int, **kwargs) -> float:
    """Median seconds of one rewiring ``RigL.step()`` (a training pass before each)."""
    model = en.compile(net, seed=0)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    sched = en.RigL(model, opt, fraction=0.3, every=1, **kwargs)
    x = torch.randn(batch, model.n_inputs, generator=torch.Generator().manual_seed(0))
    times = []
    for _ in range(repeat + 1):
        opt.zero_grad()
        model(x).square().mean().backward()
        opt.step()
        t0 = time.perf_counter()
        sched.step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times[1:])  # the first pays for kernel compilation


def dense_product(n: int, batch: int, repeat: int) -> float:
    """Median seconds of ``D @ H.T``, ``(n, batch) @ (batch, n)``, float32."""
    g = torch.Generator().manual_seed(0)
    D, H = torch.randn(n, batch, generator=g), torch.randn(n, batch, generator=g)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        S = D @ H.T  # (n, n)
        times.append(time.perf_counter() - t0)
        del S
    return statistics.median(times)


def blocked_product(n: int, batch: int, repeat: int, block: int = 1 << 22) -> float:
    """Median seconds of the same product in blocks of ``block`` entries written into one
    reused buffer: the arithmetic alone, without allocating ``n x n``."""
    g = torch.Generator().manual_seed(0)
    D, H = torch.randn(n, batch, generator=g), torch.randn(n, batch, generator=g)
    rows = max(1, block // n)
    out = torch.empty(rows, n)  # (rows, n)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for r0 in range(0, n, rows):
            r1 = min(n, r0 + rows)
            torch.mm(D[r0:r1], H.T, out=out[: r1 - r0])
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 10000, 20000])
    parser.add_argument("--edges", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--modes", nargs="+", default=["layers", "forward", "layers+sample",
                                                       "forward+sample"])
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's own choice)")
    parser.add_argument("--quick", action="store_true", help="5k nodes only")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    sizes = [5000] if args.quick else args.sizes
    k = round(0.3 * args.edges)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; {args.edges:,} "
          f"edges, batch {args.batch}, k = {k:,} regrown per step, median of {args.repeat}")
    for n in sizes:
        net = random_dag(n, args.edges)
        dense = dense_product(n, args.batch, args.repeat)
        blocked = blocked_product(n, args.batch, args.repeat)
        print(f"\n{n:,} nodes: dense ({n}x{args.batch}) @ ({args.batch}x{n}): "
              f"{dense * 1e3:8.1f} ms; in blocks of 4M into one buffer: "
              f"{blocked * 1e3:8.1f} ms")
        for mode in args.modes:
            candidates, _, sample = mode.partition("+")
            kwargs = {"candidates": candidates}
            if sample:
                kwargs["sample"] = 4 * k
            t = rigl_step(net, args.batch, args.repeat, **kwargs)
            print(f"  RigL step, {mode:<15} {t * 1e3:8.1f} ms  {t / dense:6.2f}x dense  "
                  f"{t / blocked:6.2f}x blocked")


if __name__ == "__main__":
    main()
