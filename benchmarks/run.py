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
- ``networkx``: NetworkX's own walk of ``edges(data="weight")`` plus
  ``topological_generations``, the floor for compiling from a graph.
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
        if name not in slow:
            times[name].clear()
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


def bipartite_steps(n_in: int, n_out: int, density: float, batch: int) -> dict[str, Step]:
    net, W = bipartite(n_in, n_out, density)
    model = en.compile(net, seed=0)
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

    n, b = 4096 // scale, 256 // (2 if args.quick else 1)
    for density, bars in ((0.10, {"dense": 1.5}), (0.01, {"dense": 8, "gather": 20}),
                          (0.001, {"dense": 15})):
        name = f"bipartite {n}x{n} {density:g} batch {b}"
        if wanted(name):
            times = measure(bipartite_steps(n, n, density, b), rounds)
            r = report(name, times)
            rows.append((name, times, r, bars))
    name = f"bipartite {n // 2}x{n // 2} 0.3 batch {b}"
    if wanted(name):
        times = measure(bipartite_steps(n // 2, n // 2, 0.3, b), rounds)
        rows.append((name, times, report(name, times), {"dense": 0.8}))

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
        rows.append((name, times, {"deep / layered": r["edgenet"]}, {"deep / layered": -3}))

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

    print("\n| case | edgenet | ratio vs target bar |\n|---|---|---|")
    for name, times, ratios, bars in rows:
        cells = []
        for base, bar in bars.items():
            ratio = ratios[base]
            ok = ratio <= -bar if bar < 0 else ratio >= bar
            sign = "<=" if bar < 0 else ">="
            cells.append(f"{base}: {ratio:.2f}x (bar {sign} {abs(bar)}x) {'ok' if ok else 'MISS'}")
        print(f"| {name} | {fmt(times.get('edgenet', 0)).strip()} | {'; '.join(cells)} |")


if __name__ == "__main__":
    main()
