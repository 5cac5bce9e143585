"""Recurrent benchmark: a training step of a flyvis-size cyclic network over time.

Run from the repository root::

    python benchmarks/recurrent.py            # 45,000 neurons, 1.5M edges, T = 10, batch 8
    python benchmarks/recurrent.py --quick    # a smoke run on a small graph

A random cyclic graph (self-loops included), tanh neurons with mixed time constants,
inputs wired to a share of the neurons. One training step is the forward pass over ``T``
steps, ``loss = mean(y^2)`` and the backward pass. Both methods run in this process,
interleaved, on the same graph and weights; the script prints the median of each and
the ratio ``flyvis-style / edgenet`` (above 1: edgenet is faster).

- ``edgenet``: ``en.compile(G, recurrent=True)`` (CSR SpMM per step, hand-written BPTT,
  one SDDMM over all steps for the weight gradient), with and without checkpointing;
- ``flyvis-style``: the dynamics as flyvis writes them in plain torch: each step gathers
  ``h[src] * w`` (an ``edges x batch`` message tensor), ``index_add_`` into the targets,
  applies the activation and the leak; autograd does the backward.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import networkx as nx
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import edgenet as en  # noqa: E402


def graph(n: int, m: int, n_in: int, seed: int = 0) -> tuple[nx.DiGraph, list, list]:
    """``n`` tanh neurons with about ``m`` random edges (cycles, self-loops), ``n_in``
    inputs each driving 4 neurons, and ``n // 20`` outputs."""
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n, m)
    key = np.unique(src * n + dst)
    G = nx.DiGraph()
    G.add_nodes_from((f"in{k}", {"role": "input"}) for k in range(n_in))
    tau = rng.choice([1.0, 2.0, 5.0], size=n)
    G.add_nodes_from((v, {"activation": "tanh", "tau": float(tau[v])}) for v in range(n))
    w = rng.normal(0, 1 / np.sqrt(m / n), len(key))
    G.add_weighted_edges_from(zip((key // n).tolist(), (key % n).tolist(), w.tolist()))
    G.add_weighted_edges_from((f"in{k}", int(v), 1.0) for k in range(n_in)
                              for v in rng.choice(n, 4, replace=False))
    outputs = [int(v) for v in rng.choice(n, n // 20, replace=False)]
    return G, [f"in{k}" for k in range(n_in)], outputs


class Flyvis(torch.nn.Module):
    """flyvis-style dynamics in plain torch, on the same edges and weights."""

    def __init__(self, model: en.RecurrentNetwork):
        super().__init__()
        p = model.plan
        targets = np.repeat(np.arange(len(p.crow) - 1), np.diff(p.crow))
        self.n_in = p.n_inputs
        self.register_buffer("src", torch.as_tensor(p.col))  # (E,) node index
        self.register_buffer("dst", torch.as_tensor(targets))  # (E,) neuron index
        self.register_buffer("out", torch.as_tensor(p.out))
        self.register_buffer("a", (1.0 / model.tau)[None])  # (1, M)
        self.weight = torch.nn.Parameter(model.weight.detach().clone())
        self.bias = torch.nn.Parameter(model.bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, _ = x.shape
        M = self.bias.shape[0]
        h = x.new_zeros(B, M)  # (B, M)
        ys = []
        for t in range(T):
            s = torch.cat([x[:, t], h], 1)  # (B, N)
            msg = s[:, self.src] * self.weight  # (B, E) gathered messages
            z = self.bias.expand(B, M).index_add(1, self.dst, msg)  # (B, M)
            h = h + self.a * (torch.tanh(z) - h)
            ys.append(h[:, self.out])
        return torch.stack(ys, 1)  # (B, T, n_out)


def step(model: torch.nn.Module, x: torch.Tensor, **kw: object) -> None:
    model.zero_grad(set_to_none=True)
    y = model(x, **kw)
    (y * y).mean().backward()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a small graph, few rounds")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None, help="torch and numba threads")
    args = ap.parse_args()
    if args.threads:
        import numba

        torch.set_num_threads(args.threads)
        numba.set_num_threads(args.threads)
    n, m, n_in, T, B = (2000, 60_000, 50, 10, 8) if args.quick else \
        (45_000, 1_500_000, 1_000, 10, 8)
    t0 = time.perf_counter()
    G, inputs, outputs = graph(n, m, n_in)
    t1 = time.perf_counter()
    model = en.compile(G, recurrent=True, inputs=inputs, outputs=outputs, seed=0)
    t2 = time.perf_counter()
    print(f"graph: {n:,} neurons, {G.number_of_edges():,} edges "
          f"({nx.number_of_selfloops(G):,} self-loops), {n_in} inputs, {len(outputs)} outputs; "
          f"T = {T}, batch {B}, float32, {torch.get_num_threads()} torch threads")
    print(f"built in {t1 - t0:.1f} s, compiled (recurrent) in {t2 - t1:.1f} s")
    base = Flyvis(model)
    x = torch.randn(B, T, n_in)
    with torch.no_grad():  # same function
        assert torch.allclose(model(x), base(x), atol=1e-4)
    methods = {
        "edgenet": lambda: step(model, x),
        "edgenet, checkpoint=3": lambda: step(model, x, checkpoint=3),
        "flyvis-style": lambda: step(base, x),
    }
    times: dict[str, list[float]] = {k: [] for k in methods}
    for fn in methods.values():
        fn()  # warm-up
    rounds = 2 if args.quick else args.rounds
    for _ in range(rounds):
        for name, fn in methods.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    med = {k: statistics.median(v) for k, v in times.items()}
    for name, s in med.items():
        print(f"{name:<24} {s * 1e3:9.1f} ms  (median of {rounds})")
    print(f"ratio flyvis-style / edgenet: {med['flyvis-style'] / med['edgenet']:.1f}x "
          f"(checkpoint=3: {med['flyvis-style'] / med['edgenet, checkpoint=3']:.1f}x)")


if __name__ == "__main__":
    main()
