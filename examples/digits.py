"""Digits with a sparse, locally connected network built edge by edge.

Each first-stage neuron sees one 4x4 window of the 8x8 image (stride 2, 16 feature
maps, no weight sharing); each second-stage neuron reads 16 random first-stage
neurons; the outputs read the second stage, and skip connections bring every
first-stage neuron of feature map 0 straight to the outputs. Trained with Adam on
scikit-learn's bundled digits (no download).

    python examples/digits.py            # about 10 s, ~97% test accuracy
    EDGENET_FAST=1 python examples/digits.py   # a few seconds, for CI
"""

import os

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import edgenet as en

fast = os.environ.get("EDGENET_FAST") == "1"
rng = np.random.default_rng(0)
torch.manual_seed(0)
torch.set_num_threads(1)  # batches of 64 are too small to share between threads

net = en.Network()
pixels = [(r, c) for r in range(8) for c in range(8)]
for p in pixels:
    net.add_input(("px", *p))

first = []
for fmap in range(16):
    for r in range(0, 5, 2):
        for c in range(0, 5, 2):
            neuron = ("local", fmap, r, c)
            net.add_neuron(neuron, activation="relu")
            for dr in range(4):
                for dc in range(4):
                    net.add_edge(("px", r + dr, c + dc), neuron)
            first.append(neuron)

second = []
for k in range(96):
    neuron = ("sparse", k)
    net.add_neuron(neuron, activation="relu")
    for i in rng.choice(len(first), size=16, replace=False):
        net.add_edge(first[i], neuron)
    second.append(neuron)

for d in range(10):
    net.add_output(("digit", d))
    for h in second:
        net.add_edge(h, ("digit", d))
    for h in first[:9]:  # feature map 0 skips the second stage
        net.add_edge(h, ("digit", d))

sizes = [len(layer) for layer in net.layers()]
dense = sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
print(f"layers {sizes}: {net.number_of_edges()} edges, "
      f"{net.number_of_edges() / dense:.1%} of the dense MLP's {dense}")

x, y = load_digits(return_X_y=True)
x_train, x_test, y_train, y_test = train_test_split(
    x / 16.0, y, test_size=0.25, random_state=0, stratify=y
)
x_train, x_test = (torch.tensor(a, dtype=torch.float32) for a in (x_train, x_test))
y_train, y_test = torch.tensor(y_train), torch.tensor(y_test)

model = net.compile(seed=0)
opt = torch.optim.Adam(model.parameters(), lr=0.01)
epochs = 3 if fast else 40
for _ in range(epochs):
    for idx in torch.randperm(len(x_train)).split(64):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x_train[idx]), y_train[idx]).backward()
        opt.step()
with torch.no_grad():
    accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
print(f"test accuracy after {epochs} epochs: {accuracy:.2%}")
assert accuracy > (0.8 if fast else 0.95), accuracy
