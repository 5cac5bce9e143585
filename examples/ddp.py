"""Data-parallel training: one compiled network, several processes, torch's own
DistributedDataParallel.

    torchrun --nproc_per_node 2 examples/ddp.py [--fast]

Every rank builds the same graph and compiles it with the same seed, so the replicas
start equal; DDP broadcasts rank 0's parameters anyway and averages the gradients of
``weight`` (one per edge) and ``bias`` (one per neuron) after every backward. Each rank
trains on its own slice of every batch. gloo runs it on CPUs, NCCL on GPUs (one GPU per
rank; with fewer GPUs than ranks it stays on gloo). At the end every rank checks that its
weights equal rank 0's bit for bit, and rank 0 writes the trained weights back onto a
graph with ``to_network``.

``--fast`` (or ``EDGENET_FAST=1``) trains a smaller network for a few steps.
"""

import argparse
import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

import edgenet as en


def build(width: int, seed: int = 0) -> en.Network:
    """Inputs -> two sparse tanh layers -> one output, with skip edges from the inputs."""
    net = en.Network()
    xs = [f"x{i}" for i in range(8)]
    h1 = [f"a{i}" for i in range(width)]
    h2 = [f"b{i}" for i in range(width)]
    for x in xs:
        net.add_input(x)
    for h in h1 + h2:
        net.add_neuron(h, activation="tanh")
    net.add_output("y")
    en.random_sparse(net, xs, h1, density=0.5, seed=seed)
    en.random_sparse(net, h1, h2, density=0.2, seed=seed + 1)
    en.random_sparse(net, xs, h2, density=0.1, seed=seed + 2)  # skip connections
    net.connect(h2, ["y"])
    return net


def main() -> None:
    parser = argparse.ArgumentParser(description="DistributedDataParallel on an edgenet network")
    parser.add_argument("--fast", action="store_true", help="small network, few steps")
    args = parser.parse_args()
    fast = args.fast or os.environ.get("EDGENET_FAST") == "1"

    # NCCL when every rank has a GPU of its own, else gloo on the CPU
    cuda = torch.cuda.device_count() >= int(os.environ.get("WORLD_SIZE", "1"))
    dist.init_process_group("nccl" if cuda else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)

    width, steps, batch = (16, 20, 32) if fast else (256, 300, 256)
    model = en.compile(build(width), seed=0, device=device)
    ddp = DistributedDataParallel(model)
    opt = torch.optim.Adam(ddp.parameters(), lr=0.01)

    gen = torch.Generator().manual_seed(0)  # the same data stream on every rank
    mine = slice(rank * batch // world, (rank + 1) * batch // world)
    for step in range(steps):
        x = torch.randn(batch, 8, generator=gen)  # (batch, 8)
        target = torch.sin(x.sum(1, keepdim=True))  # (batch, 1)
        x, target = x[mine].to(device), target[mine].to(device)  # this rank's slice
        opt.zero_grad()
        loss = (ddp(x) - target).square().mean()
        loss.backward()  # gradients averaged over ranks here
        opt.step()
        if rank == 0 and (step % max(1, steps // 5) == 0 or step == steps - 1):
            print(f"step {step:4d}  loss on rank 0's slice {loss.item():.4f}")

    flat = torch.cat([model.weight.detach(), model.bias.detach()])  # (E + neurons,)
    first = flat.clone()
    dist.broadcast(first, src=0)
    same = torch.tensor([int(torch.equal(flat, first))], device=device)
    dist.all_reduce(same, op=dist.ReduceOp.MIN)
    if rank == 0:
        trained = model.to_network()
        print(f"{world} ranks, {trained.number_of_edges()} edges: replicas identical: "
              f"{bool(same.item())}")
    dist.barrier()  # neither rank tears gloo down while the other still talks to it
    dist.destroy_process_group()
    if not same.item():
        raise SystemExit("replicas diverged")


if __name__ == "__main__":
    main()
