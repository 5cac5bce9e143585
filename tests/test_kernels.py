"""The engine paths: sparse (CSR) blocks, dense blocks and the fused whole-DAG kernel, each
forced on random DAGs, against the per-neuron float64 reference; gradients by gradcheck;
torch.compile without graph breaks; bitwise repeatability; the cost model's choices."""

from __future__ import annotations

import contextlib

import networkx as nx
import numpy as np
import pytest
import torch
from dags import ALL, SMOOTH, networks
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from reference import evaluate

import edgenet as en
from edgenet.kernels import cost

PATHS = ["sparse", "dense", "fused"]
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def default_activation(net):
    outs = set(net.outputs)
    return lambda v: net.nodes[v].get("activation") or ("identity" if v in outs else "relu")


def relative_error(got: torch.Tensor, want) -> float:
    want = torch.as_tensor(want, dtype=torch.float64)
    assert got.shape == want.shape
    err = (got.detach().double() - want).abs() / (1.0 + want.abs())
    return float(err.max()) if err.numel() else 0.0


@pytest.mark.parametrize("engine", PATHS)
@given(net=networks(), batch=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_every_path_matches_reference(engine, net, batch, seed):
    model = en.compile(net, dtype=torch.float64, engine=engine)
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, len(net.inputs), generator=gen, dtype=torch.float64)
    try:
        want = evaluate(net, net.inputs, net.outputs, x.tolist(), default_activation(net))
    except OverflowError:  # the float oracle's math.exp overflows (e.g. silu far below 0)
        assume(False)
    assert relative_error(model(x), want) <= 1e-10
    kernels = {s["kernel"] for s in model.generation_stats()}
    assert kernels <= ({"fused"} if engine == "fused" else {engine, "bias"})


@contextlib.contextmanager
def torch_ops(on: bool = True):
    """Run the generation engine with torch's CSR ops on the CPU: the code CUDA runs."""
    before = en.kernels.sparse.TORCH_OPS_ON_CPU
    en.kernels.sparse.TORCH_OPS_ON_CPU = on
    try:
        yield
    finally:
        en.kernels.sparse.TORCH_OPS_ON_CPU = before


@pytest.mark.parametrize("engine", ["sparse", "dense"])
@settings(max_examples=20)
@given(net=networks(), seed=st.integers(0, 2**16))
def test_torch_op_path_matches_reference_and_numba_path(engine, net, seed):
    x = torch.randn(3, len(net.inputs), generator=torch.Generator().manual_seed(seed),
                    dtype=torch.float64)
    try:
        want = evaluate(net, net.inputs, net.outputs, x.tolist(), default_activation(net))
    except OverflowError:
        assume(False)
    model = en.compile(net, dtype=torch.float64, seed=0, engine=engine)
    grads = []
    for on in (True, False):
        with torch_ops(on):
            model.zero_grad()
            xg = x.clone().requires_grad_(True)
            y = model(xg)
            assert relative_error(y, want) <= 1e-10
            y.square().sum().backward()
            grads.append((xg.grad, model.weight.grad, model.bias.grad))
    torch.testing.assert_close(grads[0], grads[1], rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("engine", ["sparse", "dense"])
@settings(max_examples=10)
@given(net=networks(activations=SMOOTH, max_nodes=12))
def test_torch_op_path_passes_gradcheck(engine, net):
    model = en.compile(net, dtype=torch.float64, seed=0, engine=engine)
    x = torch.randn(3, len(model.inputs), dtype=torch.float64, requires_grad=True)
    w = model.weight.detach().clone().requires_grad_(True)
    b = model.bias.detach().clone().requires_grad_(True)
    with torch_ops():
        assert torch.autograd.gradcheck(
            lambda x, w, b: torch.func.functional_call(model, {"weight": w, "bias": b}, (x,)),
            (x, w, b))


@pytest.mark.parametrize("engine", PATHS)
@settings(max_examples=15)
@given(net=networks(activations=SMOOTH, max_nodes=12))
def test_every_path_passes_gradcheck(engine, net):
    model = en.compile(net, dtype=torch.float64, seed=0, engine=engine)
    x = torch.randn(3, len(model.inputs), dtype=torch.float64, requires_grad=True)
    w = model.weight.detach().clone().requires_grad_(True)
    b = model.bias.detach().clone().requires_grad_(True)

    def f(x, w, b):
        return torch.func.functional_call(model, {"weight": w, "bias": b}, (x,))

    assert torch.autograd.gradcheck(f, (x, w, b))


@settings(max_examples=30)
@given(net=networks(activations=ALL), seed=st.integers(0, 2**16))
def test_paths_agree_on_gradients(net, seed):
    """Non-smooth activations too: every path gives the same gradients."""
    grads = []
    gen = torch.Generator().manual_seed(seed)
    x0 = torch.randn(4, len(net.inputs), generator=gen, dtype=torch.float64)
    for engine in PATHS:
        model = en.compile(net, dtype=torch.float64, seed=0, engine=engine)
        x = x0.clone().requires_grad_(True)
        model(x).square().sum().backward()
        grads.append((x.grad, model.weight.grad, model.bias.grad))
    for other in grads[1:]:
        for a, b in zip(grads[0], other, strict=True):
            torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-10)


def test_gradients_only_where_asked():
    net = en.Network()
    net.add_input("x")
    net.add_neuron("h", activation="tanh")
    net.add_output("y")
    net.add_weighted_edges_from([("x", "h", 0.5), ("h", "y", 2.0), ("x", "y", 1.0)])
    for engine in PATHS:
        model = en.compile(net, dtype=torch.float64, engine=engine)
        model.weight.requires_grad_(False)
        x = torch.ones(2, 1, dtype=torch.float64, requires_grad=True)
        model(x).sum().backward()
        assert model.weight.grad is None and model.bias.grad is not None
        # dy/dx = 2 * (1 - tanh(0.5)^2) * 0.5 + 1
        assert torch.allclose(x.grad, torch.full((2, 1), 1 + (1 - np.tanh(0.5) ** 2),
                                                 dtype=torch.float64))


@pytest.mark.parametrize("engine", PATHS)
@settings(max_examples=20)
@given(net=networks(activations=ALL))
def test_input_gradient_skipped_when_not_needed(engine, net):
    """Without x.requires_grad the input rows get no gradient; the rest is unchanged."""
    model = en.compile(net, dtype=torch.float64, seed=0, engine=engine)
    x = torch.randn(3, len(model.inputs), dtype=torch.float64)
    model(x.requires_grad_(True)).square().sum().backward()
    want = (model.weight.grad.clone(), model.bias.grad.clone())
    model.zero_grad()
    model(x.detach()).square().sum().backward()
    torch.testing.assert_close((model.weight.grad, model.bias.grad), want, rtol=0, atol=0)


def test_to_network_keeps_edge_order_and_attributes_whatever_happens_to_the_graph():
    net = en.Network()
    net.add_input("a")
    net.add_input("b")
    net.add_neuron("h")
    net.add_output("y")
    net.add_edge("a", "y", weight=2.0)
    net.add_edge("b", "h", weight=1.0, color="red")
    net.add_edge("h", "y", weight=3.0)
    model = net.compile()
    assert model.edges == [("b", "h"), ("a", "y"), ("h", "y")]  # plan order differs
    net.edges["b", "h"]["color"] = "blue"
    net.add_edge("a", "z", weight=5.0)
    trained = model.to_network()
    assert list(trained.edges(data=True)) == [
        ("a", "y", {"weight": 2.0}), ("b", "h", {"color": "red", "weight": 1.0}),
        ("h", "y", {"weight": 3.0})]
    assert "z" not in trained


def test_outputs_without_edges_run_with_the_last_generation():
    net = en.Network()
    for name in ("a", "b"):
        net.add_input(name)
    for name in ("y0", "lonely", "y1"):
        net.add_output(name, bias=0.5)
    net.add_weighted_edges_from([("a", "y0", 1.0), ("b", "y1", 2.0)])
    model = net.compile(dtype=torch.float64, engine="sparse")
    assert [s["neurons"] for s in model.generation_stats()] == [3]
    assert model.layout.out_lo == 2  # the output rows are one consecutive block
    y = model(torch.tensor([[1.0, 1.0]], dtype=torch.float64))
    assert y.tolist() == [[1.5, 0.5, 2.5]]


def wide(n_in: int, n_out: int, density: float, seed: int = 0) -> en.Network:
    rng = np.random.default_rng(seed)
    net = en.Network()
    xs, ys = [f"x{i}" for i in range(n_in)], [f"y{j}" for j in range(n_out)]
    for x in xs:
        net.add_input(x)
    for y in ys:
        net.add_output(y)
    net.connect(xs, ys, mask=rng.random((n_in, n_out)) < density)
    return net


def chain(depth: int, width: int = 2, seed: int = 0) -> nx.DiGraph:
    rng = np.random.default_rng(seed)
    G = nx.DiGraph()
    prev = ["in"]
    for g in range(depth):
        gen = [(g, i) for i in range(width)]
        for v in gen:
            G.add_edge(prev[rng.integers(len(prev))], v, weight=float(rng.normal()))
        prev = gen
    return G


def test_cost_model_picks_dense_sparse_and_fused():
    dense = en.compile(wide(96, 96, 0.5), seed=0)
    assert [s["kernel"] for s in dense.generation_stats()] == ["dense"]
    sparse = en.compile(wide(600, 600, 0.02), seed=0)
    assert sparse.layout.n_edges > cost.FUSED_EDGES
    assert [s["kernel"] for s in sparse.generation_stats()] == ["sparse"]
    deep = en.compile(chain(200, width=30), seed=0)
    assert deep.layout.n_edges > cost.FUSED_EDGES
    assert {s["kernel"] for s in deep.generation_stats()} == {"fused"}
    assert "engine auto" in deep.summary() and deep.summary().endswith("fused")


def test_custom_activation_falls_back_to_generations():
    en.register_activation("kernels_test_cube", lambda z: z * z * z, overwrite=True)
    net = en.Network()
    net.add_input("x")
    net.add_output("y", activation="kernels_test_cube")
    net.add_edge("x", "y", weight=2.0)
    model = net.compile(dtype=torch.float64)
    assert model.generation_stats()[0]["kernel"] == "sparse"
    x = torch.tensor([[1.5]], dtype=torch.float64, requires_grad=True)
    model(x).sum().backward()
    assert model(x).item() == pytest.approx(27.0)
    assert x.grad.item() == pytest.approx(3 * 9.0 * 2.0)
    with pytest.raises(en.EdgenetError, match=r"engine='fused' runs built-in activations only; "
                       r"this network uses \['kernels_test_cube'\]"):
        model.engine = "fused"
    with pytest.raises(en.EdgenetError, match="runs built-in activations only"):
        en.compile(net, engine="fused")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_on_cpu_is_refused_clearly(dtype):
    model = en.compile(chain(3), seed=0, dtype=dtype)
    with pytest.raises(en.EdgenetError, match=r"the CPU engine runs float32 and float64 \(the "
                       rf"model is {dtype}\); convert it with model.float\(\)"):
        model(torch.ones(2, 1, dtype=dtype))


def test_engine_errors():
    model = en.compile(chain(3), seed=0)
    with pytest.raises(en.EdgenetError, match=r"engine must be one of 'auto', 'sparse', "
                       r"'dense', 'fused', 'triton' \(got 'gpu'\)"):
        model.engine = "gpu"
    with pytest.raises(en.EdgenetError, match="engine must be one of"):
        en.compile(chain(3), engine="numba")
    model.engine = "fused"
    with pytest.raises(en.EdgenetError, match=r"engine='fused' does not run on cuda \(the model "
                       r"is on cuda\)"):
        model._pass(torch.device("cuda"))
    model.engine = "auto"  # a small DAG: the whole-DAG kernel of the device
    whole = "triton" if "triton" in en.kernels.backends.names() else "generations"
    assert model._pass(torch.device("cuda"))[0] == whole


@pytest.mark.parametrize("engine", PATHS)
def test_repeated_steps_are_bitwise_identical(engine):
    torch.use_deterministic_algorithms(True)
    try:
        model = en.compile(chain(40, width=6), seed=0, engine=engine)
        x = torch.randn(16, 1, generator=torch.Generator().manual_seed(0))
        runs = []
        for _ in range(3):
            model.zero_grad()
            y = model(x)
            y.square().sum().backward()
            runs.append((y.detach().clone(), model.weight.grad.clone(), model.bias.grad.clone()))
        for other in runs[1:]:
            assert all(torch.equal(a, b) for a, b in zip(runs[0], other, strict=True))
    finally:
        torch.use_deterministic_algorithms(False)


def test_torch_compile_fullgraph():
    net = wide(6, 5, 0.6)
    net.add_neuron("h", activation="tanh")
    net.add_output("z")
    net.add_weighted_edges_from([("x0", "h", 0.5), ("y1", "h", -1.0), ("h", "z", 2.0),
                                 ("x2", "z", 0.3)])
    for engine in ("sparse", "fused"):
        model = en.compile(net, seed=0, engine=engine)
        compiled = torch.compile(model, fullgraph=True)
        x = torch.randn(4, 6)
        y = compiled(x)
        y.square().sum().backward()
        got = (y.detach(), model.weight.grad.clone(), model.bias.grad.clone())
        model.zero_grad()
        y = model(x)
        y.square().sum().backward()
        want = (y.detach(), model.weight.grad, model.bias.grad)
        for a, b in zip(got, want, strict=True):
            torch.testing.assert_close(a, b)


@pytest.mark.parametrize("engine", ["sparse", "fused"])
def test_op_passes_opcheck(engine):
    # Rows of Z (an internal output) of all-identity generations are left unwritten, so
    # opcheck, which compares every output, runs on a network without identity neurons.
    G = chain(5, width=3)
    nx.set_node_attributes(G, "tanh", "activation")
    G.nodes["in"].pop("activation")
    model = en.compile(G, dtype=torch.float64, seed=0, engine=engine)
    backend, L = model._pass(torch.device("cpu"))
    x = torch.randn(3, 1, dtype=torch.float64, requires_grad=True)
    args = (x, model.weight, model.bias, *L.flatten(), backend)
    torch.library.opcheck(torch.ops.edgenet.dag_forward.default, args)


@cuda
@pytest.mark.parametrize("engine", ["auto", "sparse", "dense"])
def test_cuda_matches_cpu_and_repeats_bitwise(engine):
    net = wide(64, 48, 0.3)
    net.add_neuron("h", activation="gelu")
    net.add_output("z")
    net.add_weighted_edges_from([("x0", "h", 0.5), ("y1", "h", -1.0), ("h", "z", 2.0)])
    cpu = en.compile(net, dtype=torch.float64, seed=0, engine=engine)
    gpu = en.compile(net, dtype=torch.float64, seed=0, engine=engine, device="cuda")
    x = torch.randn(8, 64, dtype=torch.float64)
    cpu(x).square().sum().backward()
    torch.use_deterministic_algorithms(True)
    try:
        runs = []
        for _ in range(3):
            gpu.zero_grad()
            y = gpu(x.cuda())
            y.square().sum().backward()
            runs.append((y.detach().clone(), gpu.weight.grad.clone(), gpu.bias.grad.clone()))
    finally:
        torch.use_deterministic_algorithms(False)
    for other in runs[1:]:
        assert all(torch.equal(a, b) for a, b in zip(runs[0], other, strict=True))
    torch.testing.assert_close(runs[0][0].cpu(), cpu(x).detach())
    torch.testing.assert_close(runs[0][1].cpu(), cpu.weight.grad)
    torch.testing.assert_close(runs[0][2].cpu(), cpu.bias.grad)


@cuda
def test_cuda_deep_dag_runs_the_whole_dag_kernel_or_the_generation_engine():
    model = en.compile(chain(50, width=4), seed=0, device="cuda")
    whole = "triton" if "triton" in en.kernels.backends.names() else "generations"
    assert model._pass(torch.device("cuda"))[0] == whole
    y = model(torch.randn(5, 1, device="cuda"))
    y.sum().backward()
    assert model.weight.grad.isfinite().all()


@pytest.mark.parametrize("engine", ["sparse", "dense", "fused"])
def test_eager_calls_and_the_custom_op_give_the_same_bits(engine):
    """Eager calls go through a plain autograd function (the custom op's dispatch costs more
    than a small network's pass); torch.compile sees the custom op. Both run the same
    backend functions: outputs and every gradient are bitwise equal."""
    from edgenet.kernels import ops

    net = wide(6, 5, 0.6)
    net.add_neuron("h", activation="tanh")
    net.add_output("z")
    net.add_weighted_edges_from([("x0", "h", 0.5), ("y1", "h", -1.0), ("h", "z", 2.0)])
    model = en.compile(net, seed=0, engine=engine, dtype=torch.float64)
    backend, L = model._pass(torch.device("cpu"))
    x0 = torch.randn(40, 6, dtype=torch.float64)
    results = []
    for path in ("eager", "op"):
        model.zero_grad()
        x = x0.clone().requires_grad_(True)
        if path == "eager":
            y = model(x)
            assert type(y.grad_fn).__name__ == "_EagerBackward"
        else:
            y, _, _ = ops.dag_forward(x, model.weight, model.bias, *L.flatten(), backend)
        (y.sin() * 3).sum().backward()
        results.append((y.detach(), x.grad, model.weight.grad.clone(), model.bias.grad.clone()))
    for a, b in zip(*results, strict=True):
        assert torch.equal(a, b)
