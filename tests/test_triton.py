"""The Triton engine (edgenet/kernels/triton.py) against the per-neuron oracle and the
generation engine: forward and every gradient, float32 and float64, every activation code,
several programs splitting the batch, and bitwise repeatable backward.

Without CUDA the kernels run on CPU tensors under Triton's interpreter: TRITON_INTERPRET=1
is set here, before triton is imported (the interpreter is chosen when a kernel is
decorated). With CUDA the same tests run the compiled kernels on the GPU. Interpreted
kernels are slow: graphs and batches stay tiny.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

CUDA = torch.cuda.is_available()
if not CUDA and "triton" not in sys.modules:
    os.environ["TRITON_INTERPRET"] = "1"
if not CUDA and os.environ.get("TRITON_INTERPRET") != "1":
    pytest.skip("triton was imported before TRITON_INTERPRET=1 could be set, and there is no "
                "CUDA device: run this file on its own", allow_module_level=True)
pytest.importorskip("triton", reason="triton is not installed (it ships wheels for Linux only)")

import reference  # noqa: E402
from dags import ALL, networks  # noqa: E402
from hypothesis import assume, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from oracle import assert_agrees, hard_inputs, tolerance  # noqa: E402
from reference import evaluate  # noqa: E402

import edgenet as en  # noqa: E402
from edgenet.activations import BUILTINS, CODES  # noqa: E402
from edgenet.kernels import sparse  # noqa: E402
from edgenet.kernels import triton as kt  # noqa: E402

DEVICE = torch.device("cuda" if CUDA else "cpu")


def layout(model: en.CompiledNetwork):
    return model.layout


def default_activation(net):
    outs = set(net.outputs)
    return lambda v: net.nodes[v].get("activation") or ("identity" if v in outs else "relu")


def every_code() -> en.Network:
    """One neuron per activation code, each reading both inputs (skip edges across the
    whole depth) and the two neurons before it; one neuron without inputs; two outputs,
    one of which feeds another neuron."""
    net = en.Network()
    net.add_input("a")
    net.add_input("b")
    names = list(CODES)
    for i, act in enumerate(names):
        net.add_neuron(f"n{i}", activation=act, bias=0.1 * i - 0.6)
        sources = ["a", "b"] + [f"n{j}" for j in range(max(0, i - 2), i)]
        for k, u in enumerate(sources):
            net.add_edge(u, f"n{i}", weight=0.35 * ((3 * i + 5 * k) % 7 - 3) / 3 + 0.05)
    net.add_neuron("lone", activation="tanh", bias=0.3)  # no incoming edges
    net.add_output("y", activation="tanh")
    net.add_output("z", activation="identity")
    for i in range(len(names)):
        net.add_edge(f"n{i}", "y", weight=0.15 * (-1) ** i)
    net.add_weighted_edges_from([("lone", "z", 0.5), ("y", "z", 1.5), ("a", "z", -0.5)])
    return net


def generation_engine(model, x, grad_y):
    """``y`` and the gradients of ``sum(y * grad_y)`` by the generation engine, on its
    torch-op path (the one CUDA runs; on the CPU it spares the numba kernels' start-up)."""
    before = sparse.TORCH_OPS_ON_CPU
    sparse.TORCH_OPS_ON_CPU = True
    try:
        model.zero_grad()
        x = x.clone().requires_grad_(True)
        y = model(x)
        (y * grad_y).sum().backward()
    finally:
        sparse.TORCH_OPS_ON_CPU = before
    return y.detach(), x.grad, model.weight.grad.clone(), model.bias.grad.clone()


def triton_engine(model, x, grad_y, **launch):
    y, H, Z = kt.forward(x, model.weight, model.bias, layout(model), **launch)
    dx, dw, db, _ = kt.backward(grad_y, model.weight, H, Z, layout(model), True, True,
                                **launch)
    return y, dx, dw, db


# float64: two programs (of four and one columns), edges gathered two at a time, so masks
# cut both axes; float32: one program, every edge of a row in one gather.
@pytest.mark.parametrize("dtype, tol, launch", [(torch.float64, 1e-12, {"block": 4, "edges": 2}),
                                               (torch.float32, 2e-5, {})])
def test_every_activation_code_matches_reference_and_generation_engine(dtype, tol, launch,
                                                                        monkeypatch):
    monkeypatch.setitem(reference.ACTIVATIONS, "exp", math.exp)  # the oracle lacks exp
    net = every_code()
    model = en.compile(net, dtype=dtype, engine="sparse", device=DEVICE)
    assert set(model.layout.codes.tolist()) == set(range(len(CODES)))
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(5, 2, generator=gen, dtype=dtype).to(DEVICE)
    grad_y = torch.randn(5, 2, generator=gen, dtype=dtype).to(DEVICE)
    got = triton_engine(model, x, grad_y, **launch)
    want = generation_engine(model, x, grad_y)
    for name, a, b in zip(("y", "dx", "dweight", "dbias"), got, want, strict=True):
        torch.testing.assert_close(a, b, rtol=tol, atol=tol, msg=name)
    oracle = evaluate(net, net.inputs, net.outputs, x.cpu().double().tolist(),
                      default_activation(net))
    torch.testing.assert_close(got[0].cpu().double(), torch.tensor(oracle, dtype=torch.float64),
                               rtol=tol, atol=tol)


@settings(max_examples=4)
@given(net=networks(activations=ALL, max_nodes=8), batch=st.integers(1, 3),
       seed=st.integers(0, 2**16))
def test_random_dags_match_reference_and_generation_engine(net, batch, seed):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, len(net.inputs), generator=gen, dtype=torch.float64)
    try:
        want_y = evaluate(net, net.inputs, net.outputs, x.tolist(), default_activation(net))
    except OverflowError:
        assume(False)
    model = en.compile(net, dtype=torch.float64, engine="sparse", device=DEVICE)
    x = x.to(DEVICE)
    grad_y = torch.randn(batch, len(net.outputs), generator=gen, dtype=torch.float64).to(DEVICE)
    got = triton_engine(model, x, grad_y)
    torch.testing.assert_close(got[0].cpu(), torch.tensor(want_y, dtype=torch.float64),
                               rtol=1e-10, atol=1e-10)
    for a, b in zip(got, generation_engine(model, x, grad_y), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


# The interpreter runs the kernels in NumPy, which warns where IEEE arithmetic overflows or
# meets inf * 0 (as it must here); the GPU computes the same values silently.
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("act", [b.name for b in BUILTINS])
def test_every_activation_is_exact_at_huge_and_non_finite_inputs(act, dtype):
    """act(z) and act'(z) for one neuron, the batch running over the hard inputs (subnormals
    to the largest floats, nan, +inf, -inf), against the exact oracle by its rule, as every
    other engine is (tests/test_engines_agree.py). Before: relu(-inf) was nan (0 * -inf) and
    elu(nan) 0 with slope 1 (tl.minimum drops nan)."""
    net = en.Network()
    net.add_input("x")
    net.add_output("y", activation=act)
    net.add_edge("x", "y", weight=1.0)
    model = en.compile(net, dtype=dtype, engine="sparse", device=DEVICE)
    z = torch.cat([hard_inputs(dtype), torch.tensor([math.nan, math.inf, -math.inf], dtype=dtype)])
    x = z[:, None].to(DEVICE)  # (B, 1)
    got, slope, _, _ = triton_engine(model, x, torch.ones_like(x))
    assert_agrees(got[:, 0].cpu(), act, z, **tolerance(act, z), what="triton: ")
    assert_agrees(slope[:, 0].cpu(), act, z, slope=True, **tolerance(act, z), what="triton: ")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's, in the interpreter
@settings(max_examples=20)
@given(net=networks(activations=ALL, max_nodes=8), batch=st.integers(1, 3),
       seed=st.integers(0, 2**16),
       special=st.lists(st.sampled_from([math.nan, math.inf, -math.inf]), min_size=1, max_size=3))
def test_random_dags_carry_nan_and_infinities_like_the_generation_engine(net, batch, seed,
                                                                         special):
    """Inputs with nan and +-inf among ordinary values: the same values, the same nan and
    the same infinities as the generation engine, forward and every gradient."""
    gen = torch.Generator().manual_seed(seed)
    model = en.compile(net, dtype=torch.float64, engine="sparse", device=DEVICE, seed=seed)
    x = torch.randn(batch, len(net.inputs), generator=gen, dtype=torch.float64)
    at = torch.randint(x.numel(), (len(special),), generator=gen)
    x.view(-1)[at] = torch.tensor(special, dtype=torch.float64)
    grad_y = torch.randn(batch, len(net.outputs), generator=gen, dtype=torch.float64)
    x, grad_y = x.to(DEVICE), grad_y.to(DEVICE)
    got = triton_engine(model, x, grad_y)
    want = generation_engine(model, x, grad_y)
    for name, a, b in zip(("y", "dx", "dweight", "dbias"), got, want, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10, equal_nan=True, msg=name)


def test_backward_is_bitwise_repeatable_and_independent_of_the_program_count():
    model = en.compile(every_code(), dtype=torch.float64, engine="sparse", device=DEVICE)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(4, 2, generator=gen, dtype=torch.float64).to(DEVICE)
    grad_y = torch.randn(4, 2, generator=gen, dtype=torch.float64).to(DEVICE)
    first = triton_engine(model, x, grad_y, block=2)  # two programs, partials summed
    again = triton_engine(model, x, grad_y, block=2)
    assert all(torch.equal(a, b) for a, b in zip(first, again, strict=True))
    one = triton_engine(model, x, grad_y, block=4)  # a single program
    for a, b in zip(first, one, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-13, atol=1e-13)


def test_gradients_only_where_asked():
    model = en.compile(every_code(), dtype=torch.float64, engine="sparse", device=DEVICE)
    L = layout(model)
    x = torch.randn(3, 2, dtype=torch.float64, device=DEVICE)
    grad_y = torch.ones(3, 2, dtype=torch.float64, device=DEVICE)
    _, dx, dw, db = triton_engine(model, x, grad_y)
    y, H, Z = kt.forward(x, model.weight, model.bias, L)
    dx0, dw0, db0, _ = kt.backward(grad_y, model.weight, H, Z, L, need_w=False, need_x=False)
    assert dx0.shape == (0, 2)
    assert torch.equal(dw0, torch.zeros_like(dw))
    torch.testing.assert_close(db0, db, rtol=1e-13, atol=1e-13)


def test_run_passes_gradcheck():
    net = en.Network()
    net.add_input("a")
    net.add_input("b")
    net.add_neuron("h", activation="tanh", bias=0.2)
    net.add_neuron("s", activation="softplus")
    net.add_output("y", activation="sigmoid")
    net.add_weighted_edges_from([("a", "h", 0.7), ("b", "h", -0.4), ("h", "s", 1.1),
                                 ("a", "y", 0.3), ("s", "y", -0.8), ("h", "y", 0.5)])
    model = en.compile(net, dtype=torch.float64, device=DEVICE)
    L = layout(model)
    x = torch.randn(2, 2, dtype=torch.float64, device=DEVICE, requires_grad=True)
    w = model.weight.detach().clone().requires_grad_(True)
    b = model.bias.detach().clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x, w, b: kt.run(x, w, b, L), (x, w, b))


def test_custom_activation_is_refused_with_the_row():
    en.register_activation("triton_test_cube", lambda z: z**3, overwrite=True)
    net = en.Network()
    net.add_input("a")
    net.add_output("y", activation="triton_test_cube")
    net.add_edge("a", "y", weight=1.0)
    model = en.compile(net, dtype=torch.float64, device=DEVICE)
    with pytest.raises(en.EdgenetError, match=r"computed row 0 \(node 1 in compiled order\) "
                                              r"has a custom activation \(code -1\)"):
        kt.forward(torch.ones(1, 1, dtype=torch.float64, device=DEVICE), model.weight,
                   model.bias, layout(model))


def test_network_without_edges():
    net = en.Network()
    net.add_input("a")
    net.add_output("y", bias=0.5, activation="tanh")
    model = en.compile(net, dtype=torch.float64, device=DEVICE)
    assert model.weight.numel() == 0
    ones = torch.ones(3, 1, dtype=torch.float64, device=DEVICE)
    got = triton_engine(model, ones, ones)
    for a, b in zip(got, generation_engine(model, ones, ones), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-13, atol=1e-13)


# Compiles every kernel as the GPU would run it, in a process without the interpreter.
COMPILE = r"""
import sys
import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource
from edgenet.kernels import triton as kt

INDEX = {"crow": "*i32", "col": "*i32", "codes": "*i64"}
CONSTANTS = {"BLOCK": 128, "EDGES": 16}
for dtype in ("fp32", "fp64"):
    for fn, extra in ((kt._forward_kernel, {}), (kt._backward_kernel, {"NEED_W": True}),
                      (kt._backward_kernel, {"NEED_W": False}),
                      (kt._sum_programs_kernel, {})):
        constants = {k: v for k, v in {**CONSTANTS, **extra}.items() if k in fn.arg_names}
        signature = {}
        for name in fn.arg_names:
            if name in constants:
                signature[name] = "constexpr"
            elif name in INDEX:
                signature[name] = INDEX[name]
            elif name in ("H", "Z", "G", "w", "b", "dw_part", "db_part", "part", "out"):
                signature[name] = "*" + dtype
            else:
                signature[name] = "i32"
        kernel = triton.compile(ASTSource(fn=fn, signature=signature, constexprs=constants),
                                target=GPUTarget("cuda", int(sys.argv[1]), 32),
                                options=kt.OPTIONS)
        assert kernel.asm["cubin"], fn.__name__
        print(fn.__name__, dtype, extra, "ok")
"""


@pytest.mark.skipif(CUDA, reason="with a GPU the compiled kernels run in the tests above")
@pytest.mark.parametrize("arch", [90])
def test_kernels_compile_to_cubin_for_a_cuda_gpu(tmp_path, arch):
    """The interpreter runs the kernels as Python and forgives what the compiler refuses
    (e.g. an if-branch changing a value's type); this compiles each one for an H100 with
    Triton's own ptxas, no GPU needed."""
    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k != "TRITON_INTERPRET"}
    env.update(TRITON_CACHE_DIR=str(tmp_path), PYTHONPATH=str(root))
    done = subprocess.run([sys.executable, "-c", COMPILE, str(arch)], capture_output=True,
                          text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count(" ok") == 8


def test_engine_triton_runs_through_the_model_and_its_custom_op():
    """``engine="triton"`` is a registered backend: forward and every gradient through the
    module equal the generation engine."""
    net = every_code()
    model = en.compile(net, dtype=torch.float64, seed=0, engine="triton", device=DEVICE)
    other = en.compile(net, dtype=torch.float64, seed=0, engine="sparse", device=DEVICE)
    assert {s["kernel"] for s in model.generation_stats()} == {"triton"}
    x = torch.randn(5, len(model.inputs), dtype=torch.float64, device=DEVICE)
    grads = []
    for m in (model, other):
        xx = x.clone().requires_grad_(True)
        m(xx).square().sum().backward()
        grads.append((m(x).detach(), xx.grad, m.weight.grad, m.bias.grad))
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
