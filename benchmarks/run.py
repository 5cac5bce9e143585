"""Engine benchmarks: edgenet's training step against the ways people run sparse nets today.

Run from the repository root::

    python benchmarks/run.py            # the full table (several minutes on 2 cores)
    python benchmarks/run.py --quick    # a smoke run on small sizes

Every case times a training step (forward, ``loss = mean(y^2)``, backward) of each
method in the same process, interleaved (one step of each method per round), and
prints medians over rounds and the ratio ``baseline / edgenet``: above 1 means
edgenet is faster. Baselines:

- ``dense``: the connection-matrix layer, ``x @ (W * M) + b`` with autograd;
- ``torch.sparse``: a CSR weight tensor whose values require grad, plain autograd;
- ``gather``: PyG-style message passing, ``scatter(x[:, src] * w, dst)`` (materialises
  an ``edges x batch`` message tensor);
- ``neat``: neat-python's per-neuron ``FeedForwardNetwork.activate``, one sample at a
  time (forward only: it has no backward), on NEAT-sized DAGs;
- ``floor`` (bipartite cases): not a way to run a network but the least any engine's
  step must do: the loss, one copy of ``x`` into ``y``, and one read of ``dL/dy`` and
  ``x``. ``gather / floor`` is then the largest ratio over gather/scatter that any
  engine could show on this machine;
- ``networkx``: NetworkX's own walk of ``edges(data="weight")`` plus
  ``topological_generations``, the floor for compiling from a graph.

A roofline table closes the run: per case, the bytes a step's passes must move (each
array read or written once per pass that needs it, caches ignored) and the FLOPs of its
multiply-adds, the rates achieved, and the fraction of this machine's limits measured in
the same process (a STREAM-like copy and a dense float32 GEMM). Subnormal numbers are
computed, not flushed, as every engine does by default.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from graphs import bipartite, deep, genome, layered  # noqa: E402

import edgenet as en  # noqa: E402

Step = Callable[[], object]


def measure(steps: dict[str, Step], rounds: int, budget: float = 2.0) -> dict[str, float]:
    """Median seconds per call of each step, interleaved; a step slower than ``budget``
    seconds runs only once after its warm-up."""
    times: dict[str, list[float]] = {name: [] for name in steps}
    for name, step in steps.items():  # warm-up (JIT, allocator, MKL handles)
        t = time.perf_counter()
        step()
        times[name].append(time.perf_counter() - t)
    slow = {name for name, ts in times.items() if ts[0] > budget}
    for name in steps:
        times[name].clear()  # the warm-up (compiles included) is never reported
    for _ in range(rounds):
        for name, step in steps.items():
            if name in slow and len(times[name]) >= 1:
                continue
            t = time.perf_counter()
            step()
            times[name].append(time.perf_counter() - t)
    return {name: statistics.median(ts) for name, ts in times.items()}


def train_step(forward: Callable[[torch.Tensor], torch.Tensor], params, x) -> Step:
    def step():
        for p in params:
            p.grad = None
        y = forward(x)
        (y * y).mean().backward()

    return step


def edgenet_step(model: en.CompiledNetwork, x: torch.Tensor) -> Step:
    return train_step(model, list(model.parameters()), x)


def bipartite_steps(n_in: int, n_out: int, density: float, batch: int,
                    models: list | None = None) -> dict[str, Step]:
    net, W = bipartite(n_in, n_out, density)
    model = en.compile(net, seed=0)
    if models is not None:
        models.append(model)
    x = torch.randn(batch, n_in)
    steps = {"edgenet": edgenet_step(model, x)}

    weight = torch.nn.Parameter(torch.from_numpy(W))  # (n_in, n_out)
    mask = torch.from_numpy(W != 0).float()  # (n_in, n_out)
    bias = torch.nn.Parameter(torch.zeros(n_out))
    steps["dense"] = train_step(lambda x: x @ (weight * mask) + bias, [weight, bias], x)

    src, dst = np.nonzero(W.T != 0)  # CSR over targets: rows = outputs, cols = inputs
    crow = torch.from_numpy(np.concatenate(([0], np.cumsum(np.bincount(src, minlength=n_out)))))
    col = torch.from_numpy(dst)
    values = torch.nn.Parameter(torch.from_numpy(W.T[src, dst]))  # (E,)
    bias2 = torch.nn.Parameter(torch.zeros(n_out))

    def sparse_forward(x):
        A = torch.sparse_csr_tensor(crow, col, values, size=(n_out, n_in),
                                    check_invariants=False)  # (n_out, n_in)
        return (A @ x.T).T + bias2  # (B, n_out)

    steps["torch.sparse"] = train_step(sparse_forward, [values, bias2], x)

    from torch_geometric.utils import scatter

    s_idx, t_idx = torch.from_numpy(dst), torch.from_numpy(src)  # source input, target output
    w3 = torch.nn.Parameter(values.detach().clone())
    bias3 = torch.nn.Parameter(torch.zeros(n_out))

    def gather_forward(x):
        messages = x[:, s_idx] * w3  # (B, E): the edges x batch message tensor
        return scatter(messages, t_idx, dim=1, dim_size=n_out, reduce="sum") + bias3

    steps["gather"] = train_step(gather_forward, [w3, bias3], x)

    def floor():  # what every engine must do: no engine's step can be faster than this
        y = x.clone().requires_grad_(True)  # read x and write y once
        (y * y).mean().backward()  # the loss, as in every step
        assert y.grad is not None
        torch.dot(y.grad.view(-1), x.view(-1))  # read dL/dy and x once (the weight gradient)

    steps["floor"] = floor
    check(steps, model, x, {"dense": lambda x: x @ (weight * mask) + bias})
    return steps


def check(steps, model, x, others) -> None:
    """Make sure the baselines compute the same function as edgenet."""
    with torch.no_grad():
        y = model(x)
        for name, fn in others.items():
            err = (fn(x) - y).abs().max().item()
            if err > 1e-3 * (1 + y.abs().max().item()):
                raise SystemExit(f"{name} disagrees with edgenet by {err}")


def neat_forward(net: en.Network) -> Callable[[np.ndarray], list[list[float]]]:
    """neat-python's FeedForwardNetwork for the same DAG (sigmoid = 1 / (1 + e^-z))."""
    from neat.nn import FeedForwardNetwork

    def sigmoid(z: float) -> float:
        return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))

    node_evals = []
    for v in nx.topological_sort(net):
        if net.nodes[v].get("role") == "input":
            continue
        links = [(u, w) for u, _, w in net.in_edges(v, data="weight")]
        node_evals.append((v, sigmoid, sum, net.nodes[v]["bias"], 1.0, links))
    ffn = FeedForwardNetwork(net.inputs, net.outputs, node_evals)
    return lambda x: [ffn.activate(row) for row in x.tolist()]


def limits(rounds: int) -> tuple[float, float, float]:
    """This machine's copy bandwidth in GB/s (bytes read plus written) from memory (a
    256 MiB float32 copy) and within its last-level cache (4 MiB), and its dense float32
    GEMM rate in GFLOP/s (4096 x 4096 by 4096 x 256); medians."""
    big, small = torch.randn(1 << 26), torch.randn(1 << 20)
    big_out, small_out = torch.empty_like(big), torch.empty_like(small)
    a, b = torch.randn(4096, 4096), torch.randn(4096, 256)
    times = measure({"copy": lambda: big_out.copy_(big), "cached": lambda: small_out.copy_(small),
                     "gemm": lambda: a @ b}, max(3, rounds))
    gb = 2 * 4 / 1e9  # bytes read and written per element, in GB
    return (gb * big.numel() / times["copy"], gb * small.numel() / times["cached"],
            2 * 4096 * 4096 * 256 / times["gemm"] / 1e9)


def step_cost(model: en.CompiledNetwork, batch: int, need_x: bool = False) -> tuple[int, int]:
    """``(bytes, flops)`` of one training step of ``model`` (float32) on the engine it runs:
    every ``(rows, batch)`` array and edge array counted once per pass that reads or writes
    it (caches ignored), FLOPs of the multiply-adds only (2 per edge and column and pass;
    a dense generation counts its whole block)."""
    p, s, B = model.layout, 4, batch
    n_in, n_c, n_out = p.n_in, p.n_nodes - p.n_in, len(model.outputs)
    acted = sum(act != "identity" for act in model.activations)
    stats = model.generation_stats()
    flops = 0
    sources = inner_sources = 0
    inner_edges = int((p.col.numpy() >= n_in).sum())
    spans = p.spans.tolist()
    for g, st in enumerate(stats):
        src = p.sources[spans[g]:spans[g + 1]].numpy()
        grads = int((src >= (0 if need_x else n_in)).sum())
        sources += st["sources"]
        inner_sources += grads
        if st["kernel"] == "dense":
            flops += 2 * B * st["neurons"] * st["sources"] * (2 + (grads > 0))
        else:
            flops += 2 * B * st["edges"] * 2
    if all(st["kernel"] != "dense" for st in stats):
        flops += 2 * B * (p.n_edges if need_x else inner_edges)
    rows = (2 * n_in + sources + n_c + 2 * acted + 2 * n_out  # forward: x in, SpMM, act, y out
            + 2 * n_out + n_c + 3 * acted + n_c + sources + 2 * inner_sources)  # backward
    edge_bytes = p.n_edges * (12 + 12 + 4) + inner_edges * 16  # w + col, twice; dw; transposed
    return s * B * rows + edge_bytes, flops


def fmt(t: float) -> str:
    return f"{t * 1e3:9.2f} ms"


def report(title: str, times: dict[str, float], ref: str = "edgenet") -> dict[str, float]:
    print(f"\n{title}")
    ratios = {}
    for name, t in times.items():
        ratio = t / times[ref]
        ratios[name] = ratio
        tail = "" if name == ref else f"   {ratio:7.2f}x  ({name} / {ref})"
        print(f"  {name:14s} {fmt(t)}{tail}")
    return ratios


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds (smoke run)")
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds per case")
    parser.add_argument("--only", default=None, help="run only cases whose name contains this")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch and numba threads (default: torch's default)")
    args = parser.parse_args(argv)
    if args.threads:
        import numba

        torch.set_num_threads(args.threads)
        numba.set_num_threads(args.threads)
    rounds = args.rounds or (2 if args.quick else 7)
    scale = 8 if args.quick else 1
    torch.manual_seed(0)
    warnings.filterwarnings("ignore", message=".*Sparse CSR tensor support is in beta.*")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32")
    rows = []

    def wanted(name: str) -> bool:
        return args.only is None or args.only in name

    bandwidth, cached, gemm = limits(rounds)
    print(f"machine limits: copy {bandwidth:.1f} GB/s from memory, {cached:.1f} GB/s in cache, "
          f"dense GEMM {gemm:.1f} GFLOP/s")
    roof = []  # (case, model, batch, seconds per step)

    n, b = 4096 // scale, 256 // (2 if args.quick else 1)
    for density, bars in ((0.10, {"dense": 2.5}), (0.01, {"dense": 14, "gather": 30}),
                          (0.001, {"dense": 30, "gather": 8})):
        name = f"bipartite {n}x{n} {density:g} batch {b}"
        if wanted(name):
            models: list = []
            times = measure(bipartite_steps(n, n, density, b, models), rounds)
            r = report(name, times)
            rows.append((name, times, r, bars))
            roof.append((name, models[0], b, times["edgenet"]))
    name = f"bipartite {n // 2}x{n // 2} 0.3 batch {b}"
    if wanted(name):
        models = []
        times = measure(bipartite_steps(n // 2, n // 2, 0.3, b, models), rounds)
        rows.append((name, times, report(name, times), {"dense": 0.9}))
        roof.append((name, models[0], b, times["edgenet"]))

    # Deep narrow DAG vs a layered DAG with the same neurons and edges.
    nn_, ne, depth = 20_000 // scale, 199_000 // scale, 1800 // scale
    name = f"deep DAG {nn_} neurons {ne} edges {depth} generations batch 64"
    if wanted(name):
        x = torch.randn(64, 16)
        t0 = time.perf_counter()
        deep_model = en.compile(deep(nn_, ne, depth), seed=0)
        t_compile = time.perf_counter() - t0
        flat_model = en.compile(layered(10, nn_ // 10, ne // nn_), seed=0)
        t0 = time.perf_counter()
        edgenet_step(deep_model, x)()  # first call: JIT warm-up where a fused kernel is used
        t_first = time.perf_counter() - t0
        print(f"\n{name}: compile {t_compile:.2f} s, first step {t_first:.2f} s, "
              f"{deep_model.layout.n_edges} vs {flat_model.layout.n_edges} edges, "
              f"{deep_model.layout.depth} vs {flat_model.layout.depth} generations")
        times = measure({"edgenet": edgenet_step(deep_model, x),
                         "layered": edgenet_step(flat_model, x)}, rounds)
        r = report(name, times, ref="layered")
        rows.append((name, times, {"deep / layered": r["edgenet"]}, {"deep / layered": -2.5}))
        roof.append((name, deep_model, 64, times["edgenet"]))
        roof.append(("layered DAG, same neurons and edges", flat_model, 64, times["layered"]))

    # NEAT-sized DAG: neat-python's per-neuron evaluation (forward only).
    name = "NEAT-sized DAG (8 in, 40 hidden, 4 out, 200 edges) batch 64"
    if wanted(name):
        net = genome(8, 40, 4, 200)
        x = torch.randn(64, 8)
        neat = neat_forward(net)
        ref = np.asarray(neat(x.double().numpy()))
        exact = en.compile(net, dtype=torch.float64)(x.double()).detach().numpy()
        if np.abs(exact - ref).max() > 1e-9:
            raise SystemExit(f"neat-python disagrees with edgenet by {np.abs(exact - ref).max()}")
        model = en.compile(net)

        def forward():
            with torch.no_grad():
                model(x)

        times = measure({"edgenet": forward, "edgenet train": edgenet_step(model, x),
                         "neat": lambda: neat(x.numpy())}, rounds * 3)
        rows.append((name + " forward", times, report(name, times), {"neat": 1}))

    # An evolved-size genome, 1,000 samples: neat-python's per-sample activation (forward).
    name = "evolved DAG (10 in, 196 hidden, 4 out, 1217 edges) 1000 samples"
    if wanted(name):
        net = genome(10, 196, 4, 1217, seed=1)
        x = torch.randn(1000 // scale, 10)
        neat = neat_forward(net)
        ref = np.asarray(neat(x.double().numpy()))
        exact = en.compile(net, dtype=torch.float64)(x.double()).detach().numpy()
        if np.abs(exact - ref).max() > 1e-9:
            raise SystemExit(f"neat-python disagrees with edgenet by {np.abs(exact - ref).max()}")
        model = en.compile(net)

        def evolved_forward():
            with torch.no_grad():
                model(x)

        times = measure({"edgenet": evolved_forward, "neat": lambda: neat(x.numpy())}, rounds)
        rows.append((name + " forward", times, report(name, times), {"neat": 150}))

    # Compile from NetworkX vs NetworkX's own walk.
    ce = 1_000_000 // scale
    name = f"compile {ce}-edge graph"
    if wanted(name):
        width = 2000 // int(math.sqrt(scale))
        G = layered(5, width, ce // (5 * width), n_in=ce // (5 * width))
        print(f"\n{name}: {G.number_of_nodes()} nodes, {G.number_of_edges()} edges")

        def walk():
            list(G.edges(data="weight"))
            list(nx.topological_generations(G))

        times = measure({"edgenet": lambda: en.compile(G, seed=0), "networkx": walk},
                        max(1, rounds // 2))
        r = report(name, times, ref="networkx")
        rows.append((name, times, {"compile / networkx": r["edgenet"]},
                     {"compile / networkx": -3}))

    if roof:
        print(f"\nroofline (limits: copy {bandwidth:.1f} GB/s from memory, {cached:.1f} GB/s in "
              f"cache, GEMM {gemm:.1f} GFLOP/s; bound = the slower of bytes at memory speed "
              "and FLOPs at GEMM speed)")
        print("| case | step | MB moved | MFLOP | GB/s | % mem copy | % cache copy | GFLOP/s | "
              "% GEMM | step / bound |\n|---|---|---|---|---|---|---|---|---|---|")
        for name, model, batch, t in roof:
            nbytes, flops = step_cost(model, batch)
            bound = max(nbytes / (bandwidth * 1e9), flops / (gemm * 1e9))
            rate = nbytes / t / 1e9
            print(f"| {name} | {fmt(t).strip()} | {nbytes / 1e6:.1f} | {flops / 1e6:.0f} | "
                  f"{rate:.1f} | {100 * rate / bandwidth:.0f}% | {100 * rate / cached:.0f}% | "
                  f"{flops / t / 1e9:.1f} | {100 * flops / t / 1e9 / gemm:.0f}% | "
                  f"{t / bound:.1f}x |")

    print("\n| case | edgenet | ratio vs target bar |\n|---|---|---|")
    for name, times, ratios, bars in rows:
        cells = []
        for base, bar in bars.items():
            ratio = ratios[base]
            ok = ratio <= -bar if bar < 0 else ratio >= bar
            sign = "<=" if bar < 0 else ">="
            cells.append(f"{base}: {ratio:.2f}x (bar {sign} {abs(bar)}x) {'ok' if ok else 'MISS'}")
        if "floor" in times and "gather" in bars:
            cells.append(f"gather / floor {times['gather'] / times['floor']:.2f}x (the most "
                         "any engine could reach)")
        print(f"| {name} | {fmt(times.get('edgenet', 0)).strip()} | {'; '.join(cells)} |")


if __name__ == "__main__":
    main()
