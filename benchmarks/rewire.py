"""Rewiring a compiled network against compiling it afresh, in one process.

Measures, on a layered random DAG of about a million edges (float32, CPU):

- ``rewire``: removing 1% of the edges (the smallest |w|) and adding as many new forward
  edges with ``model.rewire``, median of several runs, against ``en.compile`` of the same
  network from NetworkX (target: rewire <= 0.2x compile);
- the training step (forward + backward, batch 64) after rewiring against a fresh compile
  of the same topology (target: ratio about 1).

Run: ``python benchmarks/rewire.py`` (``--quick`` for a 100k-edge graph).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from graphs import layered  # noqa: E402

import edgenet as en  # noqa: E402


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def step_time(model: en.CompiledNetwork, x: torch.Tensor, repeat: int) -> float:
    def step():
        model.zero_grad()
        model(x).square().mean().backward()

    step()  # warm-up (kernels compiled and cached)
    return median_time(step, repeat)


def moves(model: en.CompiledNetwork, fraction: float, rng: np.random.Generator):
    """The weakest ``fraction`` of edges, and as many new forward edges."""
    k = int(fraction * model.layout.n_edges)
    src, dst = model.edge_rows()
    drop = np.argsort(model.weight.detach().abs().numpy(), kind="stable")[:k]
    present = set((dst * len(model.nodes) + src).tolist())
    n_in, n = len(model.inputs), len(model.nodes)
    add: dict[int, tuple[int, int]] = {}
    while len(add) < k:
        v = int(rng.integers(n_in, n))
        u = int(rng.integers(0, v))
        if v * n + u not in present:
            add[v * n + u] = (u, v)
    nodes = model.nodes
    return ([(nodes[src[i]], nodes[dst[i]]) for i in drop.tolist()],
            [(nodes[u], nodes[v]) for u, v in add.values()])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a 100k-edge graph")
    args = parser.parse_args()
    torch.manual_seed(0)
    width, layers = (1000, 10) if args.quick else (3200, 10)
    net = layered(layers, width, fan_in=32, seed=0)
    compile_s = median_time(lambda: en.compile(net, seed=0), 3)
    model = en.compile(net, seed=0)
    E = model.layout.n_edges
    print(f"network: {len(net)} neurons, {E:,} edges, {model.layout.depth} generations")
    rng = np.random.default_rng(0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(64, len(model.inputs))
    model(x).square().mean().backward()
    opt.step()
    rewire_times = []
    for _ in range(3):
        remove, add = moves(model, 0.01, rng)
        t0 = time.perf_counter()
        model.rewire(remove=remove, add=add, optimizer=opt)
        rewire_times.append(time.perf_counter() - t0)
    rewire_s = statistics.median(rewire_times)
    print(f"compile from NetworkX  {compile_s * 1e3:9.1f} ms  (median of 3)")
    print(f"rewire 1% of edges     {rewire_s * 1e3:9.1f} ms  (median of 3)  "
          f"ratio {rewire_s / compile_s:.3f}x compile (target <= 0.2x)")
    fresh = en.compile(model.to_network(), inputs=model.inputs, outputs=model.outputs)
    pairs = [(step_time(model, x, 3), step_time(fresh, x, 3)) for _ in range(3)]
    rewired_step = statistics.median(a for a, _ in pairs)
    fresh_step = statistics.median(b for _, b in pairs)
    print(f"train step, rewired    {rewired_step * 1e3:9.1f} ms  (median, batch 64)")
    print(f"train step, fresh      {fresh_step * 1e3:9.1f} ms  "
          f"ratio {rewired_step / fresh_step:.2f}x (target about 1)")


if __name__ == "__main__":
    main()
