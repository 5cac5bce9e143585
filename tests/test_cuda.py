"""The CUDA paths, on a CUDA device (every test skips without one): the per-generation
engine (torch CSR ops) against the oracle and the CPU engine in float32 and float64,
bitwise repeatable under ``torch.use_deterministic_algorithms(True)``, bfloat16,
``torch.compile(fullgraph=True)``, a training step captured in a CUDA graph; and the
compiled Triton engine against the per-generation path on a deep DAG."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch
from reference import evaluate

import edgenet as en

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")

DEVICE = torch.device("cuda")
ENGINES = ["auto", "sparse", "dense"]


def skip_dag(depth: int = 12, width: int = 6, seed: int = 0) -> en.Network:
    """``depth`` generations of ``width`` neurons in rotating activations, each reading the
    generation before and, by skip edges, random neurons of every earlier one; a wide first
    generation dense enough for the cost model to give it a dense block."""
    rng = np.random.default_rng(seed)
    acts = ["tanh", "relu", "sigmoid", "gelu", "softplus", "elu", "silu", "leaky_relu"]
    net = en.Network()
    inputs = [f"x{i}" for i in range(64)]
    for x in inputs:
        net.add_input(x)
    earlier = list(inputs)
    first = [f"w{i}" for i in range(64)]
    for v in first:
        net.add_neuron(v, activation="tanh")
    net.connect(inputs, first, mask=rng.random((64, 64)) < 0.6,
                weight=rng.uniform(-0.2, 0.2, (64, 64)))
    prev = first
    earlier += first
    for g in range(depth):
        gen = [f"g{g}n{i}" for i in range(width)]
        for i, v in enumerate(gen):
            if g == depth - 1:
                net.add_output(v)
            else:
                net.add_neuron(v, activation=acts[(g + i) % len(acts)], bias=0.05 * i)
            sources = {prev[rng.integers(len(prev))]}
            sources.update(earlier[j] for j in rng.choice(len(earlier), 3, replace=False))
            for u in sources:
                net.add_edge(u, v, weight=float(rng.uniform(-0.6, 0.6)))
        earlier += gen
        prev = gen
    return net


def default_activation(net):
    outs = set(net.outputs)
    return lambda v: net.nodes[v].get("activation") or ("identity" if v in outs else "relu")


def step(model, x):
    """Forward, ``loss = mean(y^2)``, backward: ``(y, dweight, dbias)``."""
    model.zero_grad()
    y = model(x)
    y.square().mean().backward()
    return y.detach().clone(), model.weight.grad.clone(), model.bias.grad.clone()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-10), (torch.float32, 1e-4)])
def test_generation_path_matches_oracle_and_cpu(engine, dtype, tol):
    net = skip_dag()
    gpu = en.compile(net, dtype=dtype, seed=0, engine=engine, device=DEVICE)
    cpu = en.compile(net, dtype=dtype, seed=0, engine=engine)
    assert {s["kernel"] for s in gpu.generation_stats()} != {"fused"}
    x = torch.randn(7, 64, generator=torch.Generator().manual_seed(0), dtype=dtype)
    got, want = step(gpu, x.to(DEVICE)), step(cpu, x)
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a.cpu(), b, rtol=tol, atol=tol)
    oracle = evaluate(net, net.inputs, net.outputs, x.double().tolist(), default_activation(net))
    torch.testing.assert_close(got[0].cpu().double(), torch.tensor(oracle, dtype=torch.float64),
                               rtol=tol, atol=tol)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_deterministic_algorithms_give_bitwise_repeatable_steps(engine, dtype):
    """Bitwise on the engines that promise it; the generation engine's cuSPARSE CSR
    products (engine="sparse") did not repeat bitwise on an H200 with torch 2.11, in float32
    and float64 (README, "GPU"): there, repeats agree to rounding."""
    model = en.compile(skip_dag(), dtype=dtype, seed=0, engine=engine, device=DEVICE)
    x = torch.randn(33, 64, dtype=dtype, device=DEVICE)
    torch.use_deterministic_algorithms(True)
    try:
        runs = [step(model, x) for _ in range(3)]
    finally:
        torch.use_deterministic_algorithms(False)
    for other in runs[1:]:
        if engine == "sparse":
            tol = 1e-12 if dtype == torch.float64 else 1e-5
            for a, b in zip(runs[0], other, strict=True):
                torch.testing.assert_close(a, b, rtol=tol, atol=tol)
        else:
            assert all(torch.equal(a, b) for a, b in zip(runs[0], other, strict=True))


@pytest.mark.parametrize("engine", ENGINES)
def test_bfloat16_follows_float64(engine):
    net = skip_dag()
    exact = en.compile(net, dtype=torch.float64, seed=0, engine=engine, device=DEVICE)
    half = en.compile(net, dtype=torch.bfloat16, seed=0, engine=engine, device=DEVICE)
    x = torch.randn(16, 64, dtype=torch.float64, device=DEVICE)
    want, got = step(exact, x), step(half, x.to(torch.bfloat16))
    assert got[0].dtype == torch.bfloat16 and half.weight.grad.dtype == torch.bfloat16
    for a, b in zip(got, want, strict=True):
        scale = float(b.abs().max()) + 1e-3
        assert float((a.double() - b).abs().max()) <= 0.05 * scale


@pytest.mark.parametrize("engine", ENGINES)
def test_torch_compile_fullgraph(engine):
    model = en.compile(skip_dag(), seed=0, engine=engine, device=DEVICE)
    compiled = torch.compile(model, fullgraph=True)
    x = torch.randn(9, 64, device=DEVICE)
    got, want = step(compiled, x), step(model, x)
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b)


def test_cuda_graph_replays_training_steps_like_eager():
    net = skip_dag(depth=30)
    captured = en.compile(net, dtype=torch.float64, seed=0, device=DEVICE)
    eager = en.compile(net, dtype=torch.float64, seed=0, device=DEVICE)
    batches = torch.randn(6, 32, 64, dtype=torch.float64, device=DEVICE)

    def train_step(model, opt, x):
        opt.zero_grad(set_to_none=True)
        loss = model(x).square().mean()
        loss.backward()
        opt.step()
        return loss

    opt_c = torch.optim.SGD(captured.parameters(), lr=0.1)
    opt_e = torch.optim.SGD(eager.parameters(), lr=0.1)
    static_x = batches[0].clone()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up outside the graph, as capture requires
        for _ in range(3):
            train_step(captured, opt_c, static_x)
    torch.cuda.current_stream().wait_stream(side)
    for _ in range(3):
        train_step(eager, opt_e, batches[0])
    graph = torch.cuda.CUDAGraph()
    opt_c.zero_grad(set_to_none=True)
    with torch.cuda.graph(graph):
        static_loss = captured(static_x).square().mean()
        static_loss.backward()
        opt_c.step()
    for x in batches[1:]:
        static_x.copy_(x)
        graph.replay()
        loss = train_step(eager, opt_e, x)
        torch.testing.assert_close(static_loss, loss.detach(), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(captured.weight, eager.weight, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(captured.bias, eager.bias, rtol=1e-10, atol=1e-12)


def deep_dag(neurons: int = 3000, depth: int = 300, fan_in: int = 8, seed: int = 0) -> nx.DiGraph:
    """A narrow DAG: every neuron reads the generation before and random earlier ones."""
    rng = np.random.default_rng(seed)
    width = neurons // depth
    G = nx.DiGraph()
    gens = [[f"x{i}" for i in range(8)]]
    for g in range(depth):
        gen = [f"n{g}_{i}" for i in range(width)]
        window = [u for prev in gens[-10:] for u in prev]
        for v in gen:
            G.add_node(v, activation="tanh" if g < depth - 1 else "identity")
            sources = {gens[-1][rng.integers(len(gens[-1]))]}
            sources.update(window[j] for j in rng.choice(len(window), fan_in - 1, replace=False))
            for u in sources:
                G.add_edge(u, v, weight=float(rng.uniform(-1, 1)) / np.sqrt(fan_in))
        gens.append(gen)
    return G


def test_compiled_triton_matches_generation_path_on_a_deep_dag():
    kt = pytest.importorskip("edgenet.kernels.triton", reason="triton is not installed")
    model = en.compile(deep_dag(), dtype=torch.float64, seed=0, engine="sparse", device=DEVICE)
    L = model.layout
    x = torch.randn(300, len(model.inputs), dtype=torch.float64, device=DEVICE)  # 3 tiles
    want = step(model, x)
    runs = []
    for _ in range(2):
        w = model.weight.detach().requires_grad_(True)
        b = model.bias.detach().requires_grad_(True)
        y = kt.run(x, w, b, L)
        y.square().mean().backward()
        runs.append((y.detach(), w.grad, b.grad))
    assert all(torch.equal(a, b) for a, b in zip(runs[0], runs[1], strict=True))
    for a, b in zip(runs[0], want, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11)
