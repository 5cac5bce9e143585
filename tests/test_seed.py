"""The connection-matrix layers the project started from, reproduced exactly.

``SeedNumpyLayer`` is the NumPy layer with a hand-written backward from the seed document;
``SeedTorchLayer`` its PyTorch version with a densified sparse mask (the Keras one computes
the same ``relu(x @ (W * M) + b)``). edgenet builds the same layer edge by edge with
``Network.connect(mask=M, weight=W)`` and must agree on the forward pass, the input
gradient and an SGD step that only touches connected weights.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import edgenet as en

M = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 1]])


class SeedNumpyLayer:
    def __init__(self, weights, bias, connection_matrix, activation="relu"):
        self.weights = weights.copy()
        self.bias = bias.copy()
        self.connection_matrix = np.array(connection_matrix)
        self.activation = activation

    def pre(self, x):
        return np.dot(x, self.weights * self.connection_matrix) + self.bias

    def forward(self, x):
        z = self.pre(x)
        if self.activation == "relu":
            return np.maximum(0, z)
        if self.activation == "sigmoid":
            return 1 / (1 + np.exp(-z))
        return z

    def backward(self, x, d_out, learning_rate=0.01):
        z = self.pre(x)
        if self.activation == "relu":
            d_z = d_out * (z > 0)
        elif self.activation == "sigmoid":
            s = 1 / (1 + np.exp(-z))
            d_z = d_out * s * (1 - s)
        else:
            d_z = d_out
        d_weights = np.dot(x.T, d_z) * self.connection_matrix
        d_bias = np.sum(d_z, axis=0)
        d_input = np.dot(d_z, self.weights.T * self.connection_matrix.T)
        self.weights -= learning_rate * d_weights
        self.bias -= learning_rate * d_bias
        return d_input


class SeedTorchLayer(torch.nn.Module):
    def __init__(self, weights, bias, connection_matrix):
        super().__init__()
        idx = torch.tensor(np.argwhere(connection_matrix).T)
        self.connection_matrix = torch.sparse_coo_tensor(
            idx, torch.ones(idx.shape[1], dtype=torch.float64), connection_matrix.shape,
            check_invariants=True,
        )
        self.weights = torch.nn.Parameter(torch.tensor(weights))
        self.bias = torch.nn.Parameter(torch.tensor(bias))

    def forward(self, x):
        return torch.relu(x @ (self.weights * self.connection_matrix.to_dense()) + self.bias)


def edgenet_layer(weights, bias, mask, activation):
    net = en.Network()
    xs, ys = [f"x{i}" for i in range(mask.shape[0])], [f"y{j}" for j in range(mask.shape[1])]
    for x in xs:
        net.add_input(x)
    for y, b in zip(ys, bias):
        net.add_output(y, activation=activation, bias=float(b))
    net.connect(xs, ys, mask=mask, weight=weights)
    return net


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "identity"])
def test_numpy_layer_forward_backward_and_sgd_step(activation):
    rng = np.random.default_rng(0)
    W, b = rng.normal(size=M.shape), rng.normal(size=M.shape[1]) * 0.1
    seed = SeedNumpyLayer(W, b, M, activation)
    model = en.compile(edgenet_layer(W, b, M, activation), dtype=torch.float64)
    x, d_out = rng.normal(size=(5, 4)), rng.normal(size=(5, 3))

    xt = torch.tensor(x, requires_grad=True)
    y = model(xt)
    np.testing.assert_allclose(y.detach().numpy(), seed.forward(x), rtol=1e-14, atol=1e-14)

    (y * torch.tensor(d_out)).sum().backward()
    torch.optim.SGD(model.parameters(), lr=0.01).step()
    d_input = seed.backward(x, d_out)
    np.testing.assert_allclose(xt.grad.numpy(), d_input, rtol=1e-13, atol=1e-14)

    trained = model.to_network()
    for i in range(4):
        for j in range(3):
            if M[i, j]:
                assert trained.edges[f"x{i}", f"y{j}"]["weight"] == pytest.approx(
                    seed.weights[i, j], rel=1e-14, abs=1e-15)
            else:
                assert not trained.has_edge(f"x{i}", f"y{j}")
                assert seed.weights[i, j] == W[i, j]          # the seed never moved it either
            assert trained.nodes[f"y{j}"]["bias"] == pytest.approx(seed.bias[j], rel=1e-14)
    assert model.weight.numel() == int(M.sum())


def test_torch_masked_layer_training_matches():
    rng = np.random.default_rng(1)
    W, b = rng.normal(size=M.shape) * 0.5, np.full(3, 0.1)
    seed = SeedTorchLayer(W, b, M)
    model = en.compile(edgenet_layer(W, b, M, "relu"), dtype=torch.float64)
    x, t = torch.tensor(rng.normal(size=(16, 4))), torch.tensor(rng.normal(size=(16, 3)))
    opts = [torch.optim.SGD(m.parameters(), lr=0.1) for m in (seed, model)]
    for _ in range(20):
        for m, opt in zip((seed, model), opts):
            opt.zero_grad()
            torch.nn.functional.mse_loss(m(x), t).backward()
            opt.step()
    torch.testing.assert_close(model(x), seed(x), rtol=1e-12, atol=1e-12)
    w = model.to_network()
    for i, j in np.argwhere(M):
        assert w.edges[f"x{i}", f"y{j}"]["weight"] == pytest.approx(seed.weights[i, j].item(), rel=1e-12)
