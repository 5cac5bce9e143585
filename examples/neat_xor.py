"""neat-python evolves, edgenet evaluates the whole population in one pass; Adam then
fine-tunes the winner, which goes back into neat as a genome (Lamarckian NEAT).

The task is noisy XOR: 256 points scattered around the four corners of the unit square,
label 1 where exactly one coordinate is near 1. Each generation, every genome becomes an
edgenet network (``from_neat``), the population is compiled as one module
(``compile_population``) and evaluated on all points at once; neat-python's own
``FeedForwardNetwork`` evaluates the same genomes for comparison (and must agree).

    python examples/neat_xor.py          # 30 generations of 150 genomes
    EDGENET_FAST=1 python examples/neat_xor.py
"""

from __future__ import annotations

import os
import random
import time

import neat
import torch

import edgenet as en

FAST = os.environ.get("EDGENET_FAST") == "1"
GENERATIONS, POP_SIZE = (4, 40) if FAST else (30, 150)

torch.manual_seed(0)
random.seed(0)
corners = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
labels = torch.tensor([0.0, 1.0, 1.0, 0.0])
pick = torch.randint(0, 4, (256,))
X = (corners[pick] + 0.1 * torch.randn(256, 2)).double()  # (B, 2)
Y = labels[pick].double()[:, None]  # (B, 1)

config = en.neat_config(pop_size=POP_SIZE, fitness_threshold=100.0,
                        no_fitness_termination=True, seed=0)
clock = {"edgenet": 0.0, "neat": 0.0}
generation = [0]  # the first generation pays one-off kernel compilation: not timed


def evaluate(genomes, config) -> None:
    """Fitness 1 - MSE of every genome, by one population pass (edgenet), checked against
    neat-python's per-genome evaluation of the same genomes."""
    t = time.perf_counter()
    pop = en.compile_population([en.from_neat(g, config) for _, g in genomes],
                                dtype=torch.float64)
    with torch.no_grad():
        mse = ((pop(X) - Y) ** 2).mean(dim=(1, 2))  # (P,)
    timed = generation[0] > 0
    generation[0] += 1
    clock["edgenet"] += (time.perf_counter() - t) * timed
    t = time.perf_counter()
    rows = X.tolist()
    theirs = []
    for _, g in genomes:
        net = neat.nn.FeedForwardNetwork.create(g, config)
        theirs.append(sum((net.activate(r)[0] - y) ** 2 for r, y in zip(rows, Y[:, 0].tolist()))
                      / len(rows))
    clock["neat"] += (time.perf_counter() - t) * timed
    assert torch.allclose(mse, torch.tensor(theirs, dtype=torch.float64), rtol=0, atol=1e-12)
    for (_, g), m in zip(genomes, mse.tolist()):
        g.fitness = 1.0 - m


population = neat.Population(config)
winner = population.run(evaluate, GENERATIONS)
print(f"{GENERATIONS} generations of {POP_SIZE}: best fitness {winner.fitness:.4f}, "
      f"{len(winner.nodes)} nodes, {sum(c.enabled for c in winner.connections.values())} "
      "enabled connections")
print(f"evaluation after the first generation: edgenet {clock['edgenet']:.2f} s (convert, "
      f"compile and run each generation) vs neat-python {clock['neat']:.2f} s: "
      f"{clock['neat'] / clock['edgenet']:.1f}x")

# Fine-tune the winner's weights and biases by gradient descent, then back into neat.
model = en.compile(en.from_neat(winner, config), dtype=torch.float64)
opt = torch.optim.Adam(model.parameters(), lr=0.02)
before = ((model(X) - Y) ** 2).mean().item()
for _ in range(50 if FAST else 300):
    opt.zero_grad()
    loss = ((model(X) - Y) ** 2).mean()
    loss.backward()
    opt.step()
after = ((model(X) - Y) ** 2).mean().item()
tuned = en.to_neat(model, config)
net = neat.nn.FeedForwardNetwork.create(tuned, config)
again = sum((net.activate(r)[0] - y) ** 2 for r, y in zip(X.tolist(), Y[:, 0].tolist())) / len(X)
print(f"Adam fine-tuning: MSE {before:.4f} -> {after:.4f}; the genome written back by "
      f"to_neat evaluates in neat-python to MSE {again:.4f}")
assert abs(again - after) < 1e-9
