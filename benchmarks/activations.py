"""The fused engine's row activations, one long row at a time: the vectorised closed forms
against torch's own and, for gelu, against the per-element libm ``erf`` loop it replaced.

Run from the repository root::

    python benchmarks/activations.py              # 1M-value rows, float32 and float64
    python benchmarks/activations.py --size 4096  # a row in L1

Every kernel runs in this process, interleaved, on one thread (numba's activation loops
are serial; torch is set to one thread); the table gives the median ns per value and,
for gelu, the ratio ``erf loop / vectorised`` (above 1: the vector form is faster).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from numba import njit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import measure  # noqa: E402

from edgenet.kernels import _fused_kernels as k  # noqa: E402


@njit(cache=True, error_model="numpy", fastmath=False)
def erf_gelu(z, h):  # pragma: no cover - compiled
    """The gelu row loop before the vector form: libm ``erf`` per value."""
    for i in range(len(z)):
        v = z[i]
        h[i] = v * (0.5 * (1.0 + math.erf(v * 0.7071067811865476)))


@njit(cache=True, error_model="numpy", fastmath=False)
def erf_gelu_grad(d, z):  # pragma: no cover - compiled
    """Its derivative loop (``Phi(z) + z phi(z)``, ``erf`` per value)."""
    for i in range(len(z)):
        v = z[i]
        cdf = 0.5 * (1.0 + math.erf(v * 0.7071067811865476))
        d[i] = d[i] * (cdf + v * k.vexp(-0.5 * v * v) * 0.3989422804014327)


def kernels(z: np.ndarray) -> dict[str, Callable[[], object]]:
    """One call of each kernel on the row ``z`` (outputs into scratch rows)."""
    h, d, n = np.empty_like(z), np.ones_like(z), len(z)
    zt = torch.from_numpy(z)
    ht = torch.empty_like(zt)
    return {
        "tanh": lambda: k.activate(k.TANH, z, h, 0, n),
        "gelu": lambda: k.activate(k.GELU, z, h, 0, n),
        "gelu erf": lambda: erf_gelu(z, h),
        "gelu grad": lambda: k.deactivate(k.GELU, d, z, h, 0, n),
        "erf grad": lambda: erf_gelu_grad(d, z),
        "torch tanh": lambda: torch.tanh(zt, out=ht),
        "torch gelu": lambda: F.gelu(zt),  # no out=: includes an allocation
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1 << 20, help="values per row")
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    print(f"row of {args.size} values (3 N(0, 1)), one thread, median of {args.rounds} "
          "rounds, ns/value")
    print(f"{'dtype':8} {'tanh':>6} {'gelu':>6} {'gelu erf':>9} {'ratio':>6} | "
          f"{'gelu grad':>9} {'erf grad':>9} {'ratio':>6} | {'torch tanh':>10} {'torch gelu':>10}")
    for dtype in (np.float32, np.float64):
        z = (rng.standard_normal(args.size) * 3).astype(dtype)
        ns = {name: s * 1e9 / args.size for name, s in measure(kernels(z), args.rounds).items()}
        print(f"{np.dtype(dtype).name:8} {ns['tanh']:6.2f} {ns['gelu']:6.2f} "
              f"{ns['gelu erf']:9.2f} {ns['gelu erf'] / ns['gelu']:5.1f}x | "
              f"{ns['gelu grad']:9.2f} {ns['erf grad']:9.2f} "
              f"{ns['erf grad'] / ns['gelu grad']:5.1f}x | "
              f"{ns['torch tanh']:10.2f} {ns['torch gelu']:10.2f}")


if __name__ == "__main__":
    main()
