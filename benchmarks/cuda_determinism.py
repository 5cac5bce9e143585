"""Which CUDA operation of the generation engine repeats bitwise: each run twice, compared.

    python benchmarks/cuda_determinism.py        # on a machine with a CUDA device
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import edgenet as en  # noqa: E402
from test_cuda import skip_dag  # noqa: E402


def same(f, n=4):
    outs = [f() for _ in range(n)]
    return all(torch.equal(outs[0], o) for o in outs[1:])


def main() -> None:
    torch.use_deterministic_algorithms(True)
    dev = "cuda"
    for dtype in (torch.float32, torch.float64):
        g = torch.Generator(device=dev).manual_seed(0)
        n, k, B, E = 300, 400, 64, 6000
        rows = torch.randint(0, n, (E,), generator=g, device=dev)
        cols = torch.randint(0, k, (E,), generator=g, device=dev)
        A = torch.sparse_coo_tensor(torch.stack([rows, cols]), torch.randn(E, generator=g, device=dev, dtype=dtype),
                                    (n, k)).coalesce().to_sparse_csr()
        X = torch.randn(k, B, generator=g, device=dev, dtype=dtype)
        D = torch.randn(n, B, generator=g, device=dev, dtype=dtype)
        print(dtype, "csr @ dense:", same(lambda: A @ X))
        print(dtype, "addmm(csr):", same(lambda: torch.addmm(torch.zeros(n, B, device=dev, dtype=dtype), A, X)))
        At = A.t().to_sparse_csr()
        print(dtype, "csr.T(csr) @ dense:", same(lambda: At @ D))
        print(dtype, "sampled_addmm:", same(lambda: torch.sparse.sampled_addmm(A, D, X.T, beta=0.0).values()))
        model = en.compile(skip_dag(), dtype=dtype, seed=0, engine="sparse", device=dev)
        x = torch.randn(33, 64, dtype=dtype, device=dev, generator=g)

        def part(i):
            def f():
                model.zero_grad()
                y = model(x)
                y.square().mean().backward()
                return (y.detach(), model.weight.grad, model.bias.grad)[i].clone()
            return f
        print(dtype, "model y / dw / db:", [same(part(i)) for i in range(3)])
        print(dtype, "kernels:", sorted({s["kernel"] for s in model.generation_stats()}))


if __name__ == "__main__":
    main()
