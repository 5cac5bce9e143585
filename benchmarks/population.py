"""Population benchmark: evaluate P evolved genomes in one batched pass.

Run from the repository root::

    python benchmarks/population.py            # 150 genomes of 20-300 neurons, 1,000 inputs
    python benchmarks/population.py --quick    # a smoke run (20 genomes)

Genomes are grown by neat-python's own mutation operators (``DefaultGenome.mutate``:
add node, add connection, delete, weight and bias changes; sigmoid or relu activations,
sum aggregation) from neat's fixed-seed XOR-style config until each reaches its drawn
number of neurons, uniform over 20-300. Every method evaluates all of them on the same
1,000 inputs, in this process, and the script prints medians and ratios
``baseline / population`` (above 1: the population is faster):

- ``neat``: ``FeedForwardNetwork.create`` then ``activate`` per genome and input (one run:
  it takes tens of seconds);
- ``loop``: ``edgenet.compile`` of each member, then its forward on the 1,000 inputs;
- ``loop (forward)``: the members compiled beforehand, a loop of their forwards;
- ``population``: ``compile_population`` of the members, then one forward;
- ``population (forward)``: one forward of the compiled population.

It also times a training step (forward and ``mean(y^2)`` backward) of both, the
conversion ``from_neat`` of all genomes, and ``compile_population`` against one ordinary
``compile`` of the union graph it compiles (built beforehand), and checks that the
population's outputs equal neat-python's.
"""

from __future__ import annotations

import argparse
import pickle
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import edgenet as en  # noqa: E402


def grow(P: int, low: int, high: int, activation: str, seed: int) -> tuple[list, object]:
    """``P`` genomes grown by neat's mutations to ``U(low, high)`` neurons each."""
    import neat

    config = en.neat_config(num_inputs=8, num_outputs=2, activation_options=activation,
                            node_add_prob=0.3, conn_add_prob=0.9, conn_delete_prob=0.05,
                            node_delete_prob=0.02, initial_connection="full", seed=seed)
    gc = config.genome_config
    gc.innovation_tracker = neat.innovation.InnovationTracker()
    random.seed(seed)
    genomes = []
    for key in range(P):
        g = config.genome_type(key)
        g.configure_new(gc)
        target = random.randint(low, high)
        while len(g.nodes) < target:
            g.mutate(gc)
        genomes.append(g)
    return genomes, config


#: The clock: wall time, or with ``--clock cpu`` this process's CPU time, which on a
#: machine whose cores other jobs hold leaves out the time spent waiting for a core.
clock = time.perf_counter


def median_time(fn: Callable[[], object], rounds: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(rounds):
        t = clock()
        fn()
        times.append(clock() - t)
    return statistics.median(times)


def union_graph(nets: list[en.Network]) -> tuple[nx.DiGraph, list, list]:
    """The disjoint union compile_population builds, for timing one ordinary compile."""
    U = nx.DiGraph()
    ins, outs = [], []
    for i, net in enumerate(nets):
        U.add_nodes_from(((i, n), d) for n, d in net.nodes(data=True))
        U.add_edges_from(((i, u), (i, v), d) for u, v, d in net.edges(data=True))
        ins += [(i, n) for n in net.inputs]
        outs += [(i, n) for n in net.outputs]
    return U, ins, outs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="20 genomes, fewer rounds")
    parser.add_argument("--members", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--engine", default="auto", help="engine of the population and members")
    parser.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                        help="cpu: this process's CPU time (use with --threads 1)")
    parser.add_argument("--cache", type=Path, default=None,
                        help="pickle of the grown genomes: read when present, else written")
    parser.add_argument("--activation", default="sigmoid",
                        help="neat activation of every neuron (sigmoid: neat's default; relu "
                             "is an edgenet built-in, so the fused engine can run it)")
    args = parser.parse_args()
    P = 20 if args.quick else args.members
    rounds = 2 if args.quick else args.rounds
    torch.manual_seed(0)
    global clock
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    if args.threads:
        torch.set_num_threads(args.threads)

    t = time.perf_counter()
    if args.cache is not None and args.cache.exists():
        with open(args.cache, "rb") as f:
            genomes, config = pickle.load(f)
    else:
        genomes, config = grow(P, 20, 300, args.activation, seed=1)
        if args.cache is not None:
            with open(args.cache, "wb") as f:
                pickle.dump((genomes, config), f)
    grow_s = time.perf_counter() - t
    sizes = [len(g.nodes) for g in genomes]
    from neat.nn import FeedForwardNetwork

    x = torch.rand(1000, 8) * 2 - 1  # (B, n_in)
    x64 = x.double().numpy()

    convert_s = median_time(lambda: [en.from_neat(g, config) for g in genomes], rounds)
    nets = [en.from_neat(g, config) for g in genomes]
    E = sum(n.number_of_edges() for n in nets)
    print(f"{P} genomes grown in {grow_s:.1f} s: {min(sizes)}-{max(sizes)} neurons (mean "
          f"{np.mean(sizes):.0f}), {E} enabled edges after pruning, activation "
          f"{args.activation}; torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{args.clock} clock")

    # neat-python: one run (tens of seconds), and the oracle for a parity check.
    t = clock()
    neat_out = []
    for g in genomes:
        net = FeedForwardNetwork.create(g, config)
        neat_out.append([net.activate(row) for row in x64.tolist()])
    neat_s = clock() - t
    pop64 = en.compile_population(nets, dtype=torch.float64)
    with torch.no_grad():
        err = float((pop64(x.double()) - torch.tensor(neat_out, dtype=torch.float64)).abs().max())
    print(f"population (float64) vs neat-python: max |difference| {err:.2e}")

    engine = args.engine
    members = [en.compile(n, engine=engine) for n in nets]
    pop = en.compile_population(nets, engine=engine)

    def loop_compile() -> None:
        with torch.no_grad():
            for n in nets:
                en.compile(n, engine=engine)(x)

    def loop_forward() -> None:
        with torch.no_grad():
            for m in members:
                m(x)

    def pop_compile() -> None:
        with torch.no_grad():
            en.compile_population(nets, engine=engine)(x)

    def pop_forward() -> None:
        with torch.no_grad():
            pop(x)

    def loop_step() -> None:
        for m in members:
            (m(x) ** 2).mean().backward()

    def pop_step() -> None:
        (pop(x) ** 2).mean(dim=(1, 2)).sum().backward()

    U, ins, outs = union_graph(nets)
    times = {
        "loop": median_time(loop_compile, rounds),
        "loop (forward)": median_time(loop_forward, rounds),
        "population": median_time(pop_compile, rounds),
        "population (forward)": median_time(pop_forward, rounds),
        "loop step": median_time(loop_step, rounds),
        "population step": median_time(pop_step, rounds),
        "compile_population": median_time(lambda: en.compile_population(nets, engine=engine),
                                          rounds),
        "compile(union)": median_time(
            lambda: en.compile(U, inputs=ins, outputs=outs, engine=engine), rounds),
        "shared input copy": median_time(lambda: x.repeat(1, P), rounds),
    }
    xs = x.expand(P, -1, -1).contiguous()

    def pop_forward_each() -> None:
        with torch.no_grad():
            pop(xs)

    times["population (forward, (P, B, n_in) input)"] = median_time(pop_forward_each, rounds)
    print(f"from_neat of all {P}: {convert_s * 1e3:.1f} ms (not in the times below)")
    print(f"neat-python FeedForwardNetwork, one run: {neat_s:.2f} s")
    for name, s in times.items():
        print(f"{name:>42}: {s * 1e3:9.2f} ms")
    print("ratios (medians, this process):")
    print(f"  neat-python / population (compile + forward): {neat_s / times['population']:.0f}x")
    print(f"  neat-python / population (forward):           "
          f"{neat_s / times['population (forward)']:.0f}x")
    print(f"  loop of compile + forward / population forward: "
          f"{times['loop'] / times['population (forward)']:.1f}x")
    print(f"  loop of compile + forward / population (compile + forward): "
          f"{times['loop'] / times['population']:.1f}x")
    print(f"  loop of forwards / population forward:        "
          f"{times['loop (forward)'] / times['population (forward)']:.1f}x")
    print(f"  loop of training steps / population step:     "
          f"{times['loop step'] / times['population step']:.1f}x")
    print(f"  compile_population / compile(union graph):    "
          f"{times['compile_population'] / times['compile(union)']:.2f}x")
    print(f"  shared-input copy / population forward:       "
          f"{times['shared input copy'] / times['population (forward)']:.3f}")
    kernels = sorted({s["kernel"] for s in pop.union.generation_stats()})
    print(f"  kernels the union runs: {', '.join(kernels)}, "
          f"{pop.union.layout.depth} generations, {pop.union.layout.n_nodes} nodes")


if __name__ == "__main__":
    main()
