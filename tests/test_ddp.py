"""Multi-process training with torch's DistributedDataParallel (gloo on 127.0.0.1): two
processes, each on half of every batch, train the same weights as one process on the whole
batch; examples/ddp.py runs under torchrun."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

import edgenet as en
from edgenet.kernels import sparse

ROOT = Path(__file__).resolve().parents[1]
STEPS, BATCH, LR = 4, 12, 0.2

pytestmark = pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(),
                                reason="torch.distributed with gloo is not available")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def network() -> en.Network:
    """A small DAG with skip edges and several activations."""
    net = en.Network()
    for x in ("x0", "x1", "x2"):
        net.add_input(x)
    for h, act in (("h0", "tanh"), ("h1", "sigmoid"), ("h2", "relu"), ("h3", "gelu")):
        net.add_neuron(h, activation=act, bias=0.1)
    net.add_output("y")
    net.add_output("z", activation="softplus")
    net.connect(["x0", "x1", "x2"], ["h0", "h1", "h2"])
    net.connect(["h0", "h1"], ["h3"])
    net.connect(["h2", "h3"], ["y", "z"])
    net.add_weighted_edges_from([("x0", "y", 0.5), ("h0", "z", -0.3), ("y", "z", 0.7)])
    return net


def recurrent_network() -> en.Network:
    """A small recurrent network: cycles, self-loops, leaks and several activations."""
    net = en.Network()
    for x in ("x0", "x1", "x2"):
        net.add_input(x)
    for h, act, tau in (("h0", "tanh", 2.0), ("h1", "sigmoid", 1.0), ("h2", "relu", 3.0)):
        net.add_neuron(h, activation=act, bias=0.1, tau=tau)
    net.add_output("y", tau=1.5)
    net.add_output("z", activation="tanh")
    net.connect(["x0", "x1", "x2"], ["h0", "h1", "h2"])
    net.add_weighted_edges_from([("h0", "h1", 0.4), ("h1", "h0", -0.6), ("h2", "h2", 0.5),
                                 ("h1", "y", 0.8), ("h2", "z", -0.7), ("y", "h2", 0.3),
                                 ("z", "z", 0.2), ("h0", "y", 0.5)])
    return net


MODELS = {
    "dag": lambda: en.compile(network(), dtype=torch.float64, seed=0, engine="sparse"),
    "recurrent": lambda: en.compile(recurrent_network(), recurrent=True, dtype=torch.float64,
                                    seed=0),
}
TIME = 5  # recurrent steps per sequence


def data(kind: str = "dag") -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    steps = (TIME,) if kind == "recurrent" else ()
    x = torch.randn(STEPS, BATCH, *steps, 3, generator=gen, dtype=torch.float64)
    return x, torch.randn(STEPS, BATCH, *steps, 2, generator=gen, dtype=torch.float64)


def train(model: torch.nn.Module, params, x: torch.Tensor, t: torch.Tensor) -> None:
    """``STEPS`` SGD steps on the mean squared error of each step's batch."""
    opt = torch.optim.SGD(params, lr=LR)
    for xs, ts in zip(x, t, strict=True):
        opt.zero_grad()
        (model(xs) - ts).square().mean().backward()
        opt.step()


def worker(rank: int, world: int, port: int, out: str, kind: str = "dag") -> None:
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank,
                            world_size=world)
    try:
        torch.set_num_threads(1)
        sparse.TORCH_OPS_ON_CPU = True  # torch's CSR ops (the CUDA path): no numba start-up
        model = MODELS[kind]()
        ddp = torch.nn.parallel.DistributedDataParallel(model)
        x, t = data(kind)
        part = slice(rank * BATCH // world, (rank + 1) * BATCH // world)
        train(ddp, ddp.parameters(), x[:, part], t[:, part])
        torch.save({"weight": model.weight.detach(), "bias": model.bias.detach()},
                   f"{out}.{rank}")
        dist.barrier()  # neither rank tears gloo down while the other still talks to it
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("kind", ["dag", "recurrent"])
def test_two_processes_train_the_weights_of_one_process_on_the_whole_batch(tmp_path, monkeypatch,
                                                                           kind):
    out = str(tmp_path / "trained")
    mp.spawn(worker, args=(2, free_port(), out, kind), nprocs=2, join=True)
    single = MODELS[kind]()
    start = single.weight.detach().clone()
    x, t = data(kind)
    monkeypatch.setattr(sparse, "TORCH_OPS_ON_CPU", True)
    train(single, single.parameters(), x, t)
    assert not torch.allclose(single.weight, start)  # training moved the weights
    for rank in range(2):
        got = torch.load(f"{out}.{rank}")
        torch.testing.assert_close(got["weight"], single.weight.detach(), rtol=0, atol=1e-10)
        torch.testing.assert_close(got["bias"], single.bias.detach(), rtol=0, atol=1e-10)
