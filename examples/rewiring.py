"""Change a network's wiring while it trains: prune, grow and split edges under a live model.

Run: ``python examples/rewiring.py`` (``EDGENET_FAST=1`` for a short run).

1. A sparse network learns a target function with Adam; every few steps the SET
   scheduler drops its weakest 20% of edges and regrows as many at random. The optimizer
   is never rebuilt: the model's parameters stay the same objects, Adam's moments follow
   their edges and start at zero on new ones.
2. A NEAT-style mutation splits an edge ``u -> v`` into ``u -> n -> v`` (weights 1 and w,
   an identity neuron ``n``): the function is unchanged at that moment, and training
   continues on the deeper network.
3. ``to_network()`` shows the final graph; compiling it again gives the same model.
"""

from __future__ import annotations

import os

import torch

import edgenet as en

FAST = os.environ.get("EDGENET_FAST") == "1"
torch.manual_seed(0)

# A target: 8 inputs, 2 outputs, a smooth function of a few inputs.
x = torch.randn(512, 8)
t = torch.stack([torch.tanh(x[:, 0] - 2 * x[:, 3]), x[:, 1] * x[:, 2].sigmoid()], dim=1)

net = en.Network()
xs, hs, ys = [f"x{i}" for i in range(8)], [f"h{j}" for j in range(24)], ["y0", "y1"]
for name in xs:
    net.add_input(name)
for name in hs:
    net.add_neuron(name, activation="tanh")
for name in ys:
    net.add_output(name)
net.connect(xs, hs, mask=en.random_mask(8, 24, 0.25, seed=0))
net.connect(hs, ys, mask=en.random_mask(24, 2, 0.5, seed=1))
model = net.compile(seed=0)
opt = torch.optim.Adam(model.parameters(), lr=0.02)
edges = model.layout.n_edges
print(f"start: {len(model.neurons)} neurons, {edges} edges")

steps = 150 if FAST else 1500
sched = en.SET(model, opt, fraction=0.2, every=50, until=int(0.8 * steps), seed=0,
               candidates=[(xs, hs), (hs, ys)])


def loss() -> torch.Tensor:
    return torch.nn.functional.mse_loss(model(x), t)


for step in range(1, steps + 1):
    opt.zero_grad()
    value = loss()
    value.backward()
    opt.step()
    sched.step()
    if step % (steps // 3) == 0:
        print(f"step {step:>5}: loss {value.item():.4f}, {model.layout.n_edges} edges "
              f"(last rewiring moved {len(sched.last[0])})")
assert model.layout.n_edges == edges  # SET keeps the edge count

# NEAT's add-node mutation on the strongest edge into y0: the function is unchanged.
with torch.no_grad():
    before = loss().item()
    strongest = max((i for i, (_, v) in enumerate(model.edges) if v == "y0"),
                    key=lambda i: abs(model.weight[i].item()))
    u, v = model.edges[strongest]
    w = model.weight[strongest].item()
model.rewire(remove=[(u, v)], add=[(u, "n0"), ("n0", v)],
             neurons={"n0": {"activation": "identity"}}, weights=[1.0, w], optimizer=opt)
with torch.no_grad():
    print(f"split {u} -> {v} into {u} -> n0 -> {v}: loss {before:.6f} -> {loss().item():.6f}, "
          f"{model.layout.depth} generations now")
for _ in range(steps // 5):
    opt.zero_grad()
    loss().backward()
    opt.step()
print(f"after more training: loss {loss().item():.4f}")

trained = model.to_network()
again = en.compile(trained)
print(f"to_network: {trained.number_of_nodes()} nodes, {trained.number_of_edges()} edges; "
      f"recompiled equal: {torch.equal(again(x), model(x))}")
