"""neat-python evolves recurrent networks (``feed_forward = False``) for a memory task;
edgenet imports the winner as a recurrent network, fine-tunes it through time with Adam,
and writes it back into neat as a genome.

The task: echo the input of the previous step, ``y_t = x_{t-1}``, on random sequences.
neat's ``RecurrentNetwork`` and edgenet's ``compile(recurrent=True)`` update every node
from the previous step's values, so ``rnn(xs)[:, t]`` is neat's ``t``-th ``activate``.

    python examples/neat_recurrent.py          # 30 generations of 100 genomes
    EDGENET_FAST=1 python examples/neat_recurrent.py
"""

from __future__ import annotations

import os
import random

import neat
import torch

import edgenet as en

FAST = os.environ.get("EDGENET_FAST") == "1"
GENERATIONS, POP_SIZE = (6, 40) if FAST else (30, 100)

random.seed(0)
torch.manual_seed(0)
X = torch.rand(16, 30, 1, dtype=torch.float64) * 2 - 1  # (B, T, 1)
Y = torch.cat([torch.zeros_like(X[:, :1]), X[:, :-1]], dim=1)  # (B, T, 1): x one step late


def neat_outputs(genome, config) -> torch.Tensor:
    """neat-python's RecurrentNetwork over every sequence of X: (B, T, 1)."""
    out = []
    for seq in X.tolist():
        net = neat.nn.RecurrentNetwork.create(genome, config)
        out.append([net.activate(x) for x in seq])
    return torch.tensor(out, dtype=torch.float64)


def evaluate(genomes, config) -> None:
    for _, g in genomes:
        g.fitness = -((neat_outputs(g, config) - Y) ** 2).mean().item()


config = en.neat_config(num_inputs=1, feed_forward=False, activation_options=["tanh"],
                        pop_size=POP_SIZE, fitness_threshold=0.0, no_fitness_termination=True,
                        seed=0)
winner = neat.Population(config).run(evaluate, GENERATIONS)
rnn = en.from_neat(winner, config).compile(recurrent=True, dtype=torch.float64)
with torch.no_grad():
    gap = (rnn(X) - neat_outputs(winner, config)).abs().max().item()
print(f"{GENERATIONS} generations of {POP_SIZE}: winner MSE {-winner.fitness:.4f}, "
      f"{len(winner.nodes)} nodes; edgenet vs neat's RecurrentNetwork: max gap {gap:.1e}")
assert gap < 1e-12

opt = torch.optim.Adam(rnn.parameters(), lr=0.02)
for _ in range(30 if FAST else 300):
    opt.zero_grad()
    loss = ((rnn(X) - Y) ** 2).mean()  # backpropagation through time
    loss.backward()
    opt.step()
with torch.no_grad():
    after = ((rnn(X) - Y) ** 2).mean().item()
tuned = en.to_neat(rnn, config)
again = ((neat_outputs(tuned, config) - Y) ** 2).mean().item()
print(f"Adam through time: MSE {-winner.fitness:.4f} -> {after:.4f}; the genome written back "
      f"by to_neat evaluates in neat-python to MSE {again:.4f}")
assert abs(again - after) < 1e-9
