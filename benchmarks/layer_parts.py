"""Where a sparse layer's training step goes, and how far any engine could take it.

Run from the repository root::

    python benchmarks/layer_parts.py                  # 4096 x 4096 at 0.1%, batch 256
    python benchmarks/layer_parts.py --density 0.01

Times, in one process and interleaved (median over rounds), ``benchmarks/run.py``'s
training step (forward, ``loss = mean(y^2)``, backward) of edgenet and of the
gather/scatter baseline, its ``floor`` step (the loss, one copy of ``x`` into ``y``, one
read of ``dL/dy`` and ``x``: what any engine's step must do), and the parts of edgenet's
step on arrays of the step's shapes: the three transposes between the caller's
batch-major ``(B, n)`` tensors and the kernels' node-major ``(n, B)`` rows (input,
output, gradient seed), the SpMM and the SDDMM. It then prints two ceilings on the
ratio ``gather / edgenet``: ``gather / floor`` (no engine could do better), and
``gather / (floor + SpMM + SDDMM)``, an engine that did nothing but the floor and the
two sparse products, at the speed edgenet's kernels run them here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import bipartite_steps, measure  # noqa: E402

import edgenet as en  # noqa: E402
from edgenet.kernels import csr  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=4096, help="inputs and outputs")
    parser.add_argument("--density", type=float, default=0.001)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    n, B = args.n, args.batch
    models: list[en.CompiledNetwork] = []
    steps = bipartite_steps(n, n, args.density, B, models)
    steps = {name: steps[name] for name in ("edgenet", "gather", "floor")}
    model = models[0]
    L = model.layout
    w, b = model.weight.detach().numpy(), model.bias.detach().numpy()
    crow, col = L.crow.numpy(), L.col.numpy()
    x = np.random.default_rng(0).standard_normal((B, n)).astype(np.float32)  # (B, n_in)
    H = np.empty((2 * n, B), np.float32)  # (N, B): inputs, then outputs
    y = np.empty((B, n), np.float32)  # (B, n_out)
    dw, db = np.empty_like(w), np.empty_like(b)
    csr.transpose(H[:n], x)
    csr.spmm(H[n:], H, w, b, crow, col, 0)
    parts = {
        "transpose in": lambda: csr.transpose(H[:n], x),
        "SpMM": lambda: csr.spmm(H[n:], H, w, b, crow, col, 0),
        "transpose out": lambda: csr.transpose(y, H[n:]),
        "transpose seed": lambda: csr.transpose(H[n:], y),
        "SDDMM": lambda: csr.sddmm(dw, H[n:], H, crow, col, 0, db),
    }
    times = measure({**steps, **parts}, args.rounds)
    print(f"{n} x {n} at {args.density:g}, batch {B}, {torch.get_num_threads()} threads, "
          f"float32; medians of {args.rounds} interleaved rounds")
    for name, t in times.items():
        print(f"  {name:15s} {t * 1e3:7.3f} ms")
    kernels = times["SpMM"] + times["SDDMM"]
    print(f"gather / edgenet:                  {times['gather'] / times['edgenet']:5.2f}x")
    print(f"gather / floor:                    {times['gather'] / times['floor']:5.2f}x  "
          "(the most any engine could reach)")
    print(f"gather / (floor + SpMM + SDDMM):   {times['gather'] / (times['floor'] + kernels):5.2f}x"
          "  (an engine with no cost beyond the floor and its two products)")
    rest = times["edgenet"] - times["floor"] - kernels
    transposes = sum(times[k] for k in parts if k.startswith("transpose"))
    print(f"edgenet's step beyond floor and products: {rest * 1e3:.3f} ms, of which the "
          f"three transposes {transposes * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
