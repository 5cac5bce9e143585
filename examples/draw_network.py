"""Draw networks: any NetworkX digraph, with or without weights, cyclic or not, small or large.

    python examples/draw_network.py [out_dir]     # writes four pictures and a page
    EDGENET_FAST=1 python examples/draw_network.py [out_dir]   # smaller graphs, for CI

1. ``random_dag.png``: a NetworkX random DAG with no weights at all (grey edges);
   roles are inferred, sources are inputs and sinks are outputs.
2. ``wiring.svg``: a random wiring with skip connections and random weights, as SVG.
3. ``large.png``: a network of over 100,000 edges; only the strongest are drawn, and
   the figure says so.
4. ``recurrent.png`` and ``recurrent.html``: a recurrent network (cycles, self-loops);
   the edges removed to find its layers are drawn dotted and violet. The page is
   interactive and works offline: hover a neuron, click it to see its edges (it needs
   plotly: ``pip install "edgenet[html]"``).
"""

import os
import sys
import time

import networkx as nx
import numpy as np

import edgenet as en

out = sys.argv[1] if len(sys.argv) > 1 else "pictures"
fast = os.environ.get("EDGENET_FAST") == "1"
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)

# 1. Any DAG works: orient a random graph from lower to higher node number.
G = nx.gnp_random_graph(24, 0.2, seed=1, directed=True)
dag = nx.DiGraph((u, v) for u, v in G.edges if u < v)
en.draw(dag, path=os.path.join(out, "random_dag.png"))

# 2. A random wiring: each neuron reads a few earlier ones, some far back (skips).
net = en.Network()
for i in range(6):
    net.add_input(f"x{i}")
hidden = [f"h{i}" for i in range(30)]
for i, h in enumerate(hidden):
    net.add_neuron(h, activation=("relu", "tanh", "sigmoid")[i % 3])
    earlier = [f"x{j}" for j in range(6)] + hidden[:i]
    for u in rng.choice(earlier, size=min(3, len(earlier)), replace=False):
        net.add_edge(str(u), h, weight=float(rng.normal()))
for k in range(3):
    net.add_output(f"y{k}")
    for u in rng.choice(hidden, size=8, replace=False):
        net.add_edge(str(u), f"y{k}", weight=float(rng.normal()))
en.draw(net, path=os.path.join(out, "wiring.svg"), labels=False)

# 3. A large layered network with skip connections: >100k edges (>10k in fast mode).
sizes = [256, 512, 512, 256, 10]
target = 12_000 if fast else 120_000
layers = [[f"n{k}_{i}" for i in range(n)] for k, n in enumerate(sizes)]
big = en.Network()
for n in layers[0]:
    big.add_input(n)
for layer in layers[1:-1]:
    for n in layer:
        big.add_neuron(n)
for n in layers[-1]:
    big.add_output(n)
while big.number_of_edges() < target:
    # Draw a batch of edges at once: 90% to the next layer, 10% skipping further ahead.
    a = rng.integers(0, len(sizes) - 1, size=target)
    b = np.where(rng.random(target) < 0.9, a + 1, rng.integers(a + 1, len(sizes)))
    for i, j in zip(a, b, strict=True):
        u = layers[i][rng.integers(sizes[i])]
        v = layers[j][rng.integers(sizes[j])]
        big.add_edge(u, v, weight=float(rng.normal() / np.sqrt(sizes[i])))
started = time.perf_counter()
en.draw(big, path=os.path.join(out, "large.png"), max_edges=20_000)
print(f"drew {big.number_of_edges():,} edges in {time.perf_counter() - started:.1f} s")

# 4. A recurrent network: a sensory -> inter -> motor loop with feedback and self-loops.
rec = en.Network()
for i in range(4):
    rec.add_input(f"s{i}")
inter = [f"i{k}" for k in range(8)]
motor = [f"m{k}" for k in range(4)]
for n in inter:
    rec.add_neuron(n, activation="tanh")
for n in motor:
    rec.add_output(n, activation="sigmoid")
for k, n in enumerate(inter):
    rec.add_edge(f"s{k % 4}", n, weight=float(rng.normal()))
    rec.add_edge(n, inter[(k + 1) % 8], weight=float(rng.normal()))  # a ring: cycles
    rec.add_edge(n, motor[k % 4], weight=float(rng.normal()))
for k, n in enumerate(motor):
    rec.add_edge(n, inter[2 * k], weight=float(rng.normal()))  # motor -> inter feedback
    rec.add_edge(n, n, weight=0.5)  # a self-loop
_, removed = en.break_cycles(rec)
en.draw(rec, path=os.path.join(out, "recurrent.png"))
written = "random_dag.png, wiring.svg, large.png, recurrent.png"
try:
    en.draw(rec, path=os.path.join(out, "recurrent.html"))
    written += " and recurrent.html"
except en.EdgenetError as err:  # plotly is not installed
    print(f"skipped recurrent.html: {err}")
print(f"recurrent network: {len(removed)} feedback edges drawn dotted")
print(f"wrote {written} in {out}")
