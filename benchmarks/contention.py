"""Contention benchmark: edgenet's training step beside other busy processes.

Run from the repository root::

    python benchmarks/contention.py            # every case beside 0, 1 and 2 competitors
    python benchmarks/contention.py --quick    # a smoke run on small sizes

A step (forward, ``loss = mean(y^2)``, backward) of each case, float32, beside:

- ``alone``: nothing this script started;
- ``busy xK``: K Python busy loops (``while True: pass``), one core each;
- ``torch xK``: K processes multiplying 1024 x 1024 matrices in a loop with torch's own
  threads (``torch.set_num_threads(2)``: OpenMP threads that spin between products).

Cases: the 4096 x 4096 layer at 1% and 0.1% density (batch 256), the deep DAG of
``benchmarks/run.py`` (20,000 tanh neurons, 199,000 edges, 1,800 generations, batch 64:
the fused engine) and a recurrent network (``benchmarks/recurrent.py``'s graph at 8,000
neurons and 240,000 edges instead of 45,000 and 1.5M, T = 10, batch 8, so that its
torch baseline fits the run). Per case and competitor set, in this process and
interleaved (one step of each method per round), the medians of:

- ``edgenet 1t``: ``torch.set_num_threads(1)`` (edgenet follows torch's count);
- ``edgenet Nt``: ``torch.set_num_threads(N)`` (N = ``--threads``, default 2), edgenet's
  default: at most N threads, fewer while other processes hold cores, for its kernels
  and for torch's threads from one of its passes to the next (so the loss too); each
  line ends with the torch counts these steps left behind (``k on 1``: lowered k times);
- ``edgenet Nt fixed``: N threads whatever the load (``threads.ADAPT = False``), what
  edgenet did before it adapted;
- the baselines, with torch's N threads: ``dense`` (``x @ (W * M) + b``) and ``gather``
  (``scatter(x[:, src] * w, dst)``) for the layers, ``flyvis-style`` (gather, index_add,
  autograd) for the recurrent case; the deep DAG has none that fits (a per-generation
  torch loop takes seconds). ``loss only`` (layers) is the torch part every step shares:
  ``mean(y^2)`` and its backward on a ``(256, 4096)`` output, with torch's N threads.

Run with ``OMP_WAIT_POLICY=PASSIVE`` in the environment, it shows what making torch's
and numba's OpenMP threads sleep instead of spin changes (the competitors keep the
defaults). The closing table checks issue 22's bars: beside one busy loop, edgenet's
N-thread step at most 1.3x its 1-thread step alone; beside one 2-thread torch loop,
dense / edgenet >= 5 at 1% and gather / edgenet >= 2 at 0.1%.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import recurrent as rec  # noqa: E402
from graphs import deep  # noqa: E402
from run import bipartite_steps, edgenet_step, measure  # noqa: E402

import edgenet as en  # noqa: E402
from edgenet.kernels import threads  # noqa: E402

Step = Callable[[], object]

BUSY = "import sys; print('ready', flush=True)\nwhile True: pass"
TORCH = ("import torch; torch.set_num_threads(2); a = torch.randn(1024, 1024); "
         "b = torch.randn(1024, 1024); a @ b; print('ready', flush=True)\n"
         "while True: a @ b")


@contextmanager
def beside(kind: str, k: int) -> Iterator[None]:
    """Run ``k`` competing processes of ``kind`` (``busy`` or ``torch``) for the body."""
    code = {"busy": BUSY, "torch": TORCH}[kind]
    env = {k: v for k, v in os.environ.items()  # the same competitors whatever this run's
           if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}  # OpenMP settings
    procs = [subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              env=env) for _ in range(k)]
    try:
        for p in procs:
            assert p.stdout is not None
            if p.stdout.readline().strip() != "ready":
                raise SystemExit(f"a {kind} competitor failed to start")
        time.sleep(0.5)  # the scheduler, and edgenet's free-core estimate, see them
        yield
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait()


#: Per ``edgenet Nt`` step (the default), the torch thread count the step left (what the
#: loss and the next step's torch work ran on): the policy's decisions, by scene.
LEFT: list[int] = []


def edgenet_variants(step: Step, n: int) -> dict[str, Step]:
    """``step`` on one thread (torch's and edgenet's), on ``n`` (torch's ``n`` threads,
    edgenet following them and adapting to free cores: the default), and on ``n`` fixed."""

    def run(limit: int, adapt: bool) -> Step:
        def call() -> None:
            torch.set_num_threads(limit)
            threads.ADAPT = adapt
            try:
                step()
                if adapt and limit == n:
                    LEFT.append(torch.get_num_threads())
            finally:
                threads.ADAPT = True
                torch.set_num_threads(n)

        return call

    return {"edgenet 1t": run(1, True), f"edgenet {n}t": run(n, True),
            f"edgenet {n}t fixed": run(n, False)}


def cases(quick: bool, n: int) -> dict[str, dict[str, Step]]:
    """Every case's steps, built once (compiled models reused beside every competitor)."""
    scale = 8 if quick else 1
    out: dict[str, dict[str, Step]] = {}
    size = 4096 // scale
    for density in (0.01, 0.001):
        steps = bipartite_steps(size, size, density, 256)
        out[f"{size}x{size} {density:g}"] = {
            **edgenet_variants(steps["edgenet"], n), "dense": steps["dense"],
            "gather": steps["gather"], "loss only": steps["floor"]}
    model = en.compile(deep(20_000 // scale, 199_000 // scale, 1800 // scale), seed=0)
    out["deep DAG"] = edgenet_variants(edgenet_step(model, torch.randn(64, 16)), n)
    neurons, edges, n_in, T, B = (1000, 30_000, 25, 10, 8) if quick else \
        (8_000, 240_000, 200, 10, 8)
    G, inputs, outputs = rec.graph(neurons, edges, n_in)
    rnn = en.compile(G, recurrent=True, inputs=inputs, outputs=outputs, seed=0)
    base = rec.Flyvis(rnn)
    x = torch.randn(B, T, n_in)
    with torch.no_grad():
        assert torch.allclose(rnn(x), base(x), atol=1e-4)
    out["recurrent"] = {**edgenet_variants(lambda: rec.step(rnn, x), n),
                        "flyvis-style": lambda: rec.step(base, x)}
    return out


def cpu_model() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds per case")
    parser.add_argument("--threads", type=int, default=2, help="N: edgenet's and torch's threads")
    parser.add_argument("--only", default=None, help="cases whose name contains this")
    parser.add_argument("--beside", default="alone,busy x1,busy x2,torch x1,torch x2",
                        help="competitor sets, comma-separated")
    args = parser.parse_args(argv)
    n = args.threads
    torch.set_num_threads(n)
    rounds = args.rounds or (3 if args.quick else 15)
    torch.manual_seed(0)
    warnings.filterwarnings("ignore", message=".*Sparse CSR tensor support is in beta.*")
    all_cases = {k: v for k, v in cases(args.quick, n).items()
                 if args.only is None or args.only in k}
    import numba

    print(f"{cpu_model()}, {os.cpu_count()} CPUs; torch {torch.__version__} ({n} threads), "
          f"numba {numba.__version__} ({numba.threading_layer()} layer), float32, "
          f"median of {rounds} rounds; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}, "
          f"load average {os.getloadavg()[0]:.2f} before the run")
    results: dict[tuple[str, str], dict[str, float]] = {}
    for scene in args.beside.split(","):
        kind, _, k = scene.strip().partition(" x")
        ctx = beside(kind, int(k)) if kind != "alone" else nullcontext()
        with ctx:
            for name, steps in all_cases.items():
                LEFT.clear()
                results[(scene.strip(), name)] = measure(steps, rounds)
                row = results[(scene.strip(), name)]
                left = ", ".join(f"{LEFT.count(k)} on {k}" for k in sorted(set(LEFT)))
                print(f"{scene.strip():9s} {name:14s} " + "  ".join(
                    f"{m} {t * 1e3:.2f} ms" for m, t in row.items())
                    + f"  (edgenet {n}t left torch: {left})", flush=True)
    table(results, n)


def table(results: dict[tuple[str, str], dict[str, float]], n: int) -> None:
    print(f"\n| beside | case | edgenet 1t | edgenet {n}t | {n}t / 1t alone | {n}t fixed | "
          f"baselines (baseline / edgenet {n}t) | loss only |\n|---|---|---|---|---|---|---|---|")
    for (scene, name), row in results.items():
        alone = results.get(("alone", name), {}).get("edgenet 1t")
        e = row[f"edgenet {n}t"]
        base = [(m, t) for m, t in row.items()
                if not m.startswith("edgenet") and m != "loss only"]
        loss = row.get("loss only")
        print(f"| {scene} | {name} | {row['edgenet 1t'] * 1e3:.2f} ms | {e * 1e3:.2f} ms | "
              + (f"{e / alone:.2f}x" if alone else "-")
              + f" | {row[f'edgenet {n}t fixed'] * 1e3:.2f} ms | "
              + (", ".join(f"{m} {t * 1e3:.1f} ms ({t / e:.1f}x)" for m, t in base) or "-")
              + " | " + (f"{loss * 1e3:.2f} ms" if loss else "-") + " |")
    print("\n| bar | measured | met |\n|---|---|---|")
    for (scene, name), row in results.items():
        alone = results.get(("alone", name), {}).get("edgenet 1t")
        if scene == "busy x1" and alone:
            r = row[f"edgenet {n}t"] / alone
            print(f"| {name}: beside one busy loop, {n}t <= 1.3x 1t alone | {r:.2f}x | "
                  f"{'yes' if r <= 1.3 else 'no'} |")
        if scene == "torch x1" and "dense" in row:
            base, bar = ("dense", 5.0) if name.endswith(" 0.01") else ("gather", 2.0)
            r = row[base] / row[f"edgenet {n}t"]
            print(f"| {name}: beside a 2-thread torch loop, {base} / edgenet >= {bar:g}x | "
                  f"{r:.2f}x | {'yes' if r >= bar else 'no'} |")


if __name__ == "__main__":
    main()
