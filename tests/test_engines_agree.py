"""Every engine gives the same answer on every input: every built-in activation and its
derivative against the exact oracle (tests/oracle.py: finite values from subnormals to the
largest floats, and nan and +-inf by its stated rule), subnormal numbers computed exactly,
non-finite values never carried along absent edges, and exact second derivatives."""

from __future__ import annotations

import contextlib
import math

import pytest
import torch
from dags import SMOOTH, networks
from hypothesis import given, settings
from oracle import assert_agrees, hard_inputs, tolerance

import edgenet as en
from edgenet.activations import BUILTINS

ENGINES = ["sparse", "dense", "fused", "torch-ops"]
#: Activations with a continuous second derivative (elu's and softsign's jump at 0, where
#: the generated networks often put a bias-only neuron).
TWICE_SMOOTH = [a for a in SMOOTH if a not in ("elu", "softsign")]


@contextlib.contextmanager
def engine_of(model, engine):
    """Set ``engine`` on ``model``; ``torch-ops`` is the generation engine with torch's CSR
    ops on the CPU, the code that runs on CUDA."""
    before = en.kernels.sparse.TORCH_OPS_ON_CPU
    model.engine = "sparse" if engine == "torch-ops" else engine
    en.kernels.sparse.TORCH_OPS_ON_CPU = engine == "torch-ops"
    try:
        yield model
    finally:
        en.kernels.sparse.TORCH_OPS_ON_CPU = before


def single(activation: str, n: int, dtype) -> en.CompiledNetwork:
    """``n`` inputs, each feeding one neuron ``y_i = act(x_i)`` (weight 1, bias 0)."""
    net = en.Network()
    for i in range(n):
        net.add_input(f"x{i}")
    for i in range(n):
        net.add_output(f"y{i}", activation=activation)
        net.add_edge(f"x{i}", f"y{i}", weight=1.0)
    return en.compile(net, dtype=dtype)


@pytest.mark.parametrize("engine", ENGINES)
def test_an_empty_batch_gives_zero_gradients(engine):
    """No sample, no gradient: exact zeros on every engine (the sparse kernels run no
    column of an empty batch, so nothing they would write may be left unset)."""
    net = en.Network()
    for i in range(3):
        net.add_input(f"x{i}")
    net.add_neuron("h", activation="tanh", bias=0.5)
    net.add_output("y", activation="sigmoid", bias=-0.25)
    for e, w in [(("x0", "h"), 0.5), (("x1", "h"), -1.0), (("x2", "y"), 2.0), (("h", "y"), 1.5)]:
        net.add_edge(*e, weight=w)
    model = en.compile(net)
    with engine_of(model, engine):
        for _ in range(3):  # fresh, possibly dirty memory every time
            model.zero_grad(set_to_none=True)
            x = torch.randn(0, 3, requires_grad=True)
            y = model(x)
            assert y.shape == (0, 1)
            (y * y).sum().backward()
            assert torch.equal(model.weight.grad, torch.zeros(4))
            assert torch.equal(model.bias.grad, torch.zeros(2))
            assert x.grad.shape == (0, 3)


def value_and_slope(act: str, z: torch.Tensor, engine: str) -> tuple[torch.Tensor, torch.Tensor]:
    """``act(z)`` and ``act'(z)`` computed by ``engine``: one neuron per element of ``z``."""
    model = single(act, len(z), z.dtype)
    with engine_of(model, engine):
        x = z[None].clone().requires_grad_(True)
        got = model(x)
        got.sum().backward()
    return got[0].detach(), x.grad[0]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("act", [b.name for b in BUILTINS])
def test_every_engine_computes_every_builtin_exactly(act, dtype, engine):
    """Against the exact value, not torch's: torch's float32 gelu(3.4028235e38) is inf on
    every x86 kernel path, where gelu is 3.4028235e38 (the oracle's rule accepts both)."""
    z = hard_inputs(dtype)
    got, slope = value_and_slope(act, z, engine)
    assert_agrees(got, act, z, **tolerance(act, z), what=f"{engine}: ")
    assert_agrees(slope, act, z, slope=True, **tolerance(act, z), what=f"{engine}: ")


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("act", [b.name for b in BUILTINS])
def test_every_engine_agrees_on_nan_and_infinities(act, dtype, engine):
    """nan, +inf and -inf in, forward and slope: the oracle's rule (nan stays nan, the limit
    or IEEE's nan where the function is z times a factor), the same on every engine."""
    z = torch.tensor([math.nan, math.inf, -math.inf], dtype=dtype)
    got, slope = value_and_slope(act, z, engine)
    assert_agrees(got, act, z, **tolerance(act, z), what=f"{engine}: ")
    assert_agrees(slope, act, z, slope=True, **tolerance(act, z), what=f"{engine}: ")


@pytest.mark.parametrize("engine", ENGINES)
def test_subnormal_numbers_are_computed_exactly(engine):
    net = en.Network()
    net.add_input("x")
    net.add_output("y")
    net.add_edge("x", "y", weight=1e30)
    model = en.compile(net, dtype=torch.float32)
    with engine_of(model, engine):
        assert model(torch.tensor([[1e-40]])).item() == pytest.approx(1e-10, rel=1e-3)
    net.edges["x", "y"]["weight"] = 5e-324  # the smallest float64 subnormal
    model = en.compile(net, dtype=torch.float64)
    with engine_of(model, engine):
        assert model(torch.tensor([[1e300]], dtype=torch.float64)).item() == 5e-324 * 1e300


def wide(n: int) -> en.Network:
    """``n`` inputs fully feeding ``n`` hidden neurons except ``x0``, which feeds only
    ``h0``; every hidden neuron feeds its own output: a dense block with absent edges."""
    net = en.Network()
    for i in range(n):
        net.add_input(f"x{i}")
    for j in range(n):
        net.add_neuron(f"h{j}", activation="identity" if j % 2 else "softsign")
        net.add_output(f"y{j}")
        net.add_edge(f"h{j}", f"y{j}", weight=1.0)
        for i in range(n):
            if i > 0 or j == 0:
                net.add_edge(f"x{i}", f"h{j}", weight=0.01 * (i + j + 1))
    return net


@pytest.mark.parametrize("engine", ["auto", *ENGINES])
@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_values_never_travel_along_absent_edges(engine, bad):
    model = en.compile(wide(80), seed=0)
    assert engine != "auto" or "dense" in {s["kernel"] for s in model.generation_stats()}
    x = torch.randn(4, 80, generator=torch.Generator().manual_seed(0))
    x[:, 0] = bad
    with engine_of(model, engine):
        x.requires_grad_(True)
        y = model(x)
        assert y[:, 1:].isfinite().all()
        # Backward: a non-finite gradient at y0 reaches only what feeds y0.
        g = torch.ones_like(y)
        g[:, 0] = bad
        model.zero_grad()
        y2 = model(x.detach().nan_to_num(0.0).requires_grad_(True))
        y2.backward(g)
    finite = model.weight.grad.isfinite().tolist()
    assert not all(finite)
    for ok, e in zip(finite, model.edges):
        assert ok or e[1] in ("h0", "y0"), e


@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=8)
@given(net=networks(activations=TWICE_SMOOTH, max_nodes=9))
def test_second_derivatives_pass_gradgradcheck(engine, net):
    model = en.compile(net, dtype=torch.float64, seed=0)
    x = torch.randn(2, len(model.inputs), dtype=torch.float64, requires_grad=True)
    w = model.weight.detach().clone().requires_grad_(True)
    b = model.bias.detach().clone().requires_grad_(True)

    def f(x, w, b):
        return torch.func.functional_call(model, {"weight": w, "bias": b}, (x,))

    with engine_of(model, engine):
        assert torch.autograd.gradgradcheck(f, (x, w, b))


def test_hessian_is_exact():
    net = en.Network()
    net.add_input("x")
    net.add_neuron("h", activation="tanh")
    net.add_output("y")
    net.add_edge("x", "h", weight=0.7)
    net.add_edge("h", "y", weight=1.3)
    model = en.compile(net, dtype=torch.float64)
    x = torch.tensor([0.4], dtype=torch.float64)
    hess = torch.autograd.functional.hessian(lambda v: model(v).sum(), x, strict=True)
    t = torch.tanh(torch.tensor(0.7 * 0.4, dtype=torch.float64))
    want = 1.3 * 0.7**2 * (-2 * t * (1 - t * t))
    assert hess.item() == pytest.approx(want.item(), rel=1e-12)
