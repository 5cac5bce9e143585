"""Inference time of the deployed forms beside edgenet's own forward pass.

Run from the repository root::

    python benchmarks/deploy.py            # 4096 x 4096 at 1%, batch 256; a deep DAG
    python benchmarks/deploy.py --quick    # small sizes

Per case, forward only (``torch.no_grad()``), float32, medians over rounds, each method
in its own block after two warm-up calls (not interleaved: the numba engine's worker
threads keep spinning after a pass and slow whatever torch or ONNX Runtime runs next):
edgenet's compiled model, the plain-torch form (:func:`edgenet.to_torch`), the program
``torch.export`` makes of the model, and ONNX Runtime (CPU provider) on the graph
:func:`edgenet.export_onnx` writes, in its ``auto`` form and forced dense and sparse. Ratios
are ``time / edgenet`` (above 1: slower than edgenet). Torch and ONNX Runtime both use
every core torch is given (``torch.get_num_threads()``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from graphs import bipartite, deep  # noqa: E402

import edgenet as en  # noqa: E402


def blocks(steps: dict, rounds: int) -> dict[str, float]:
    """Median seconds per call of each step, one step at a time after two warm-up calls."""
    times = {}
    for name, step in steps.items():
        step(), step()
        ts = []
        for _ in range(rounds):
            t = time.perf_counter()
            step()
            ts.append(time.perf_counter() - t)
        times[name] = statistics.median(ts)
    return times


def case(name: str, model: torch.nn.Module, batch: int, rounds: int) -> None:
    import onnxruntime as ort

    x = torch.randn(batch, len(model.inputs))
    steps = {"edgenet": lambda: model(x), "to_torch": (lambda f: lambda: f(x))(en.to_torch(model))}
    program = torch.export.export(model, (x,)).module()
    steps["torch.export"] = lambda: program(x)
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    folder = tempfile.mkdtemp()
    for kernel in ("auto", "dense", "sparse"):
        path = f"{folder}/{kernel}.onnx"
        en.export_onnx(model, path, kernel=kernel)
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        steps[f"onnx {kernel}"] = (lambda s: lambda: s.run(None, {"x": x.numpy()}))(session)
    with torch.no_grad():
        times = blocks(steps, rounds)
    base = times["edgenet"]
    print(f"{name}, batch {batch}: edgenet {base * 1e3:.2f} ms; " + ", ".join(
        f"{k} {t * 1e3:.2f} ms ({t / base:.2f}x)" for k, t in times.items() if k != "edgenet"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds")
    args = parser.parse_args()
    rounds = 3 if args.quick else 15
    side = 512 if args.quick else 4096
    net, _ = bipartite(side, side, 0.01)
    case(f"{side}x{side}, 1%", en.compile(net, seed=0), 256, rounds)
    case("deep DAG (20k neurons, 199k edges, 1,869 generations)" if not args.quick else
         "deep DAG (2k neurons, 20k edges, 200 generations)",
         en.compile(deep(2000, 20000, 200) if args.quick else deep(20000, 199000, 1869), seed=0),
         64, rounds)


if __name__ == "__main__":
    main()
