"""Quick start: build XOR edge by edge (with a skip connection), train it, draw it.

    python examples/quickstart.py [picture.png]
"""

import sys

import torch

import edgenet as en

picture = sys.argv[1] if len(sys.argv) > 1 else "quickstart.png"

net = en.Network()
net.add_input("x0")
net.add_input("x1")
for h in ("h0", "h1", "h2", "h3"):
    net.add_neuron(h, activation="tanh")
net.add_output("y", activation="sigmoid")
net.connect(["x0", "x1"], ["h0", "h1", "h2", "h3"])   # weights initialised at compile
net.connect(["h0", "h1", "h2", "h3"], ["y"])
net.add_edge("x0", "y")                                # a skip connection
print(net.layers())                                    # [['x0', 'x1'], ['h0', ...], ['y']]

model = net.compile(seed=0)                            # a torch.nn.Module
x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
t = torch.tensor([[0.0], [1.0], [1.0], [0.0]])
opt = torch.optim.Adam(model.parameters(), lr=0.05)
for _ in range(500):
    opt.zero_grad()
    torch.nn.functional.binary_cross_entropy(model(x), t).backward()
    opt.step()
trained = model.to_network()                           # the graph, with learned weights
print(trained.edges["x0", "y"]["weight"])
en.draw(trained, path=picture)                         # layers left to right, skips dashed

prediction = model(x).detach().round()
print("XOR:", prediction.flatten().tolist())
assert torch.equal(prediction, t), f"XOR not learned: {model(x).detach().flatten().tolist()}"
print(f"wrote {picture}")
