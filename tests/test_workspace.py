"""The CPU kernels' reused buffers (edgenet/kernels/workspace.py) and the fused engine's
walk order (part by part): memory goes back to the pool only when no tensor views it, a
pass in a loop touches no new page, and every result is the same bitwise."""

from __future__ import annotations

import gc
import resource

import networkx as nx
import numpy as np
import pytest
import torch

import edgenet as en
from edgenet.kernels import _fused_kernels as k
from edgenet.kernels import fused, workspace

BIG = (1024, 512)  # 2 MiB of float32, 4 MiB of float64: above MIN_BYTES


def test_a_freed_buffer_is_reused(monkeypatch):
    monkeypatch.setattr(workspace, "_free", [])  # buffers of earlier tests stay out
    a = workspace.empty(BIG, torch.float32)
    ptr = a.data_ptr()
    del a
    gc.collect()
    b = workspace.empty(BIG, torch.float32)
    assert b.data_ptr() == ptr


def test_memory_a_view_still_holds_is_never_handed_out():
    """The buffer returns with its storage, not with the tensor object: a view (``y =
    H[rows]``-style, or autograd's saved tensors) keeps it out of the pool."""
    a = workspace.empty(BIG, torch.float64)
    view = a[3:5]
    view.fill_(7.0)
    del a
    gc.collect()
    others = [workspace.empty(BIG, torch.float64) for _ in range(3)]
    for t in others:
        t.fill_(-1.0)
    assert torch.equal(view, torch.full_like(view, 7.0))
    lo = view.data_ptr()
    assert all(not (t.data_ptr() <= lo < t.data_ptr() + t.numel() * 8) for t in others)
    before = workspace.free_bytes()
    del view
    gc.collect()
    assert workspace.free_bytes() == before + BIG[0] * BIG[1] * 8  # back with its storage


def test_the_pool_keeps_at_most_keep_bytes(monkeypatch):
    gc.collect()  # buffers of earlier tests return to the old pool
    monkeypatch.setattr(workspace, "KEEP_BYTES", 3 * BIG[0] * BIG[1] * 4)
    monkeypatch.setattr(workspace, "_free", [])
    ts = [workspace.empty(BIG, torch.float32) for _ in range(6)]
    del ts
    gc.collect()
    assert workspace.free_bytes() == 3 * BIG[0] * BIG[1] * 4


@pytest.mark.parametrize("dtype", [torch.float16, torch.complex64])
def test_dtypes_numpy_lacks_are_ordinary_tensors(dtype):
    t = workspace.empty(BIG, dtype)
    assert t.dtype == dtype and t.shape == BIG


def union(P: int, seed: int = 0) -> tuple[en.Network, list, list]:
    """``P`` disjoint random DAGs of 3 inputs and 2 outputs in one graph."""
    rng = np.random.default_rng(seed)
    G, ins, outs = nx.DiGraph(), [], []
    for p in range(P):
        n = int(rng.integers(6, 20))
        nodes = [(p, i) for i in range(n)]
        ins += nodes[:3]
        outs += nodes[-2:]
        for j in range(3, n):
            for i in rng.choice(j, size=min(j, 3), replace=False):
                G.add_edge(nodes[i], nodes[j], weight=float(rng.normal()))
    return G, ins, outs


def test_the_walk_is_topological_part_by_part():
    G, ins, outs = union(12)
    model = en.compile(G, inputs=ins, outputs=outs)
    L = model.layout
    order = fused.walk(L)
    assert sorted(order.tolist()) == list(range(L.n_nodes - L.n_in))
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    crow, col = L.crow.numpy(), L.col.numpy()
    member = [model.nodes[L.n_in + r][0] for r in order]
    assert member == sorted(member)  # each member's rows together
    for r in range(len(order)):
        for e in range(crow[r], crow[r + 1]):
            if col[e] >= L.n_in:
                assert position[col[e] - L.n_in] < position[r]


@pytest.mark.parametrize("threads", [1, 2])
def test_the_walk_changes_no_bit(threads, monkeypatch):
    """Within a part the walk keeps row order, so every sum is taken in the same order."""
    monkeypatch.setenv("EDGENET_NUM_THREADS", str(threads))
    G, ins, outs = union(30, seed=1)
    model = en.compile(G, inputs=ins, outputs=outs, dtype=torch.float64, engine="fused")
    x = torch.randn(300, len(ins), dtype=torch.float64, requires_grad=True)

    def run():
        model.zero_grad()
        xx = x.detach().clone().requires_grad_(True)
        y = model(xx)
        (y.sin()).sum().backward()
        return y.detach(), xx.grad, model.weight.grad.clone(), model.bias.grad.clone()

    walked = run()
    monkeypatch.setattr(fused, "walk", lambda L: np.arange(L.codes.shape[0]))
    plain = run()
    for a, b in zip(walked, plain):
        assert torch.equal(a, b)


def test_a_training_loop_reuses_its_buffers(monkeypatch):
    """Forward and backward of a wide union in a loop: after the first step H, Z and G
    come back from the pool, so no new buffer is made and a forward faults in no page of
    them (a fresh buffer above glibc's largest mmap threshold, 32 MB, is mapped anew and
    faults in every page it is written). The loss's own torch temporaries are left out:
    they fault or not as malloc decides."""
    monkeypatch.setattr(workspace, "_free", [])
    G, ins, outs = union(400, seed=2)
    model = en.compile(G, inputs=ins, outputs=outs, engine="fused")
    B = 2048  # (N, B) float32 buffers of ~40 MB
    x = torch.randn(B, len(ins))
    pages = model.layout.n_nodes * B * 4 / 4096  # of one (N, B) buffer
    made = []
    take = workspace._take
    monkeypatch.setattr(workspace, "_take", lambda n: made.append(n) or take(n))

    def forward_faults() -> int:
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        y = model(x)
        faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
        y.square().mean().backward()
        del y
        gc.collect()  # autograd's nodes can sit in reference cycles until a collection
        return faults

    forward_faults()  # the first step makes the buffers
    first = sorted(map(id, workspace._free))  # H, Z and G of the first step, back
    pooled = [forward_faults() for _ in range(4)]
    assert len(made) == 3 * 5 and first and sorted(map(id, workspace._free)) == first, \
        "the buffers were not reused"
    assert max(pooled) < pages / 2, (pooled, pages)


def test_walk_order_of_a_single_part_is_row_order():
    crow, col = np.array([0, 1, 3, 4]), np.array([0, 1, 2, 3])  # inputs 0-1, rows chain
    assert k.walk_order(crow, col, 2).tolist() == [0, 1, 2]
