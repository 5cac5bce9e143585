"""Deploying: the plain-torch form (en.to_torch), torch.export, ONNX (en.export_onnx) and
half precision, each checked against the compiled model it came from."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import networkx as nx
import numpy as np
import pytest
import torch
from dags import ALL, networks, xor_network
from hypothesis import given

import edgenet as en
from edgenet.io.export import DENSE_RATIO, plan
from edgenet.shell.demo import build as digits_network

# ------------------------------------------------------------------ networks of the bars


def deep_dag(depth: int = 1000, width: int = 3, fan_in: int = 6, seed: int = 0) -> nx.DiGraph:
    """A deep, narrow random DAG: ``depth`` generations of ``width`` tanh neurons, each
    reading the generation before and random neurons of the ten before that."""
    rng = np.random.default_rng(seed)
    G = nx.DiGraph()
    gens = [[f"x{i}" for i in range(4)]]
    for i in gens[0]:
        G.add_node(i, role="input")
    for g in range(depth):
        gen = [f"n{g}_{i}" for i in range(width)]
        window = [u for prev in gens[-10:] for u in prev]
        for v in gen:
            G.add_node(v, role="output" if g == depth - 1 else "hidden",
                       activation="tanh" if g < depth - 1 else "identity",
                       bias=float(rng.normal(0, 0.1)))
            sources = {gens[-1][rng.integers(len(gens[-1]))]}
            sources.update(window[j] for j in rng.choice(len(window), min(fan_in, len(window)) - 1,
                                                          replace=False))
            for u in sources:
                G.add_edge(u, v, weight=float(rng.uniform(-1.5, 1.5)) / np.sqrt(len(sources)))
        gens.append(gen)
    return G


BUILTINS = [b.name for b in en.activations.BUILTINS]
#: Built-ins of slope at most about 1 (neat's scale z by up to 5, or are 1/z and z^3).
GENTLE = [a for a in BUILTINS if not a.startswith("neat_")]


def neat_genome(seed: int = 0, n_in: int = 5, n_out: int = 3, n_hidden: int = 60,
                activations=BUILTINS) -> nx.DiGraph:
    """An evolved-looking genome: int keys as neat-python numbers them, every built-in
    activation, sparse random links with skips over many generations, dead ends."""
    rng = np.random.default_rng(seed)
    inputs = [-(i + 1) for i in range(n_in)]
    outputs = list(range(n_out))
    hidden = list(range(10, 10 + n_hidden))
    order = inputs + hidden + outputs
    G = nx.DiGraph()
    for k in inputs:
        G.add_node(k, role="input")
    for i, k in enumerate(hidden + outputs):
        G.add_node(k, role="output" if k in outputs else "hidden",
                   activation=activations[i % len(activations)], bias=float(rng.normal(0, 0.5)))
    for j, v in enumerate(order):
        if v in inputs:
            continue
        for u in order[:j]:
            if u not in outputs and rng.random() < 0.12:
                G.add_edge(u, v, weight=float(rng.normal(0, 0.6)))
    return G


def worm(n: int = 300, m: int = 4000, n_in: int = 20, n_out: int = 10, seed: int = 0):
    """A C. elegans-sized recurrent network: ``n`` neurons, ``m`` random edges (self-loops
    and reciprocal pairs included), random weights, mixed activations and time constants."""
    rng = np.random.default_rng(seed)
    G = nx.DiGraph()
    names = [f"N{i:03d}" for i in range(n)]
    inputs, outputs = names[:n_in], names[-n_out:]
    for i, v in enumerate(names):
        G.add_node(v, activation=("tanh", "sigmoid", "relu", "softsign")[i % 4],
                   tau=float(rng.choice([1.0, 2.0, 5.0])), bias=float(rng.normal(0, 0.2)))
    targets = n - n_in  # inputs take no edges
    for e in rng.choice(n * targets, size=m, replace=False).tolist():
        G.add_edge(names[e // targets], names[n_in + e % targets],
                   weight=float(rng.normal(0, 1.0 / np.sqrt(m / n))))
    return G, inputs, outputs


def recurrent_model(dtype=torch.float32, **kw):
    G, inputs, outputs = worm(**kw)
    return en.compile(G, recurrent=True, inputs=inputs, outputs=outputs, dtype=dtype)


def digits_model(dtype=torch.float32):
    return en.compile(digits_network(seed=0), seed=0, dtype=dtype)


def mixed_model(dtype=torch.float64, activations=BUILTINS):
    return en.compile(neat_genome(activations=activations), dtype=dtype)


def assert_relative(got, want, rtol):
    """Elementwise ``|got - want| <= rtol * (|want| + max |want|)``: relative, with the
    output scale standing in for outputs near zero."""
    got, want = torch.as_tensor(got).double(), torch.as_tensor(want).double()
    scale = want.abs().max().clamp_min(1e-30)
    err = (got - want).abs()
    worst = (err / (want.abs() + scale)).max().item()
    assert worst <= rtol, f"max relative error {worst:.3g} > {rtol:g}"


# ------------------------------------------------------------------ the plain-torch form


def grads(module, x, *args):
    x = x.detach().clone().requires_grad_(True)
    y = module(x, *args)
    (y.sin() * torch.arange(1, y.numel() + 1, dtype=y.dtype).view(y.shape)).sum().backward()
    out = tuple(torch.zeros_like(t) if g is None else g for t, g in
                ((y, y.detach()), (x, x.grad), (module.weight, module.weight.grad),
                 (module.bias, module.bias.grad)))
    module.zero_grad()
    return out


@pytest.mark.parametrize("kernel", ["auto", "dense", "sparse"])
@pytest.mark.parametrize("which", ["xor", "mixed", "digits", "deep"])
def test_to_torch_gives_the_model_function_and_gradients(which, kernel):
    model = {"xor": lambda: en.compile(xor_network(), seed=0, dtype=torch.float64),
             "mixed": mixed_model, "digits": lambda: digits_model(torch.float64),
             "deep": lambda: en.compile(deep_dag(depth=200), dtype=torch.float64)}[which]()
    plain = en.to_torch(model, kernel=kernel)
    x = torch.randn(6, len(model.inputs), dtype=torch.float64)
    for got, want in zip(grads(plain, x), grads(model, x), strict=True):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)


def test_to_torch_sparse_form_in_chunks(monkeypatch):
    """Messages are gathered CHUNK edges at a time; a small CHUNK splits every generation."""
    monkeypatch.setattr("edgenet.io.export.CHUNK", 50)
    model = digits_model(torch.float64)
    assert max(len(b.edges) for b in plan(model).blocks) > 20 * 50
    plain = en.to_torch(model, kernel="sparse")
    x = torch.randn(6, 64, dtype=torch.float64)
    for got, want in zip(grads(plain, x), grads(model, x), strict=True):
        torch.testing.assert_close(got, want, rtol=1e-10, atol=1e-12)


@given(networks(activations=ALL))
def test_to_torch_agrees_on_generated_networks(net):
    """Sums taken in another order: chains of ``square`` double the relative rounding at
    each link (an H200 machine's run saw 9.3e-10), so 1e-8 relative."""
    model = en.compile(net, dtype=torch.float64, seed=0)
    x = torch.randn(3, len(model.inputs), dtype=torch.float64,
                    generator=torch.Generator().manual_seed(0))  # hypothesis replays exactly
    for kernel in ("dense", "sparse"):
        plain = en.to_torch(model, kernel=kernel)
        for got, want in zip(grads(plain, x), grads(model, x), strict=True):
            torch.testing.assert_close(got, want, rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("kernel", ["dense", "sparse"])
def test_to_torch_of_a_recurrent_model_trains_to_its_gradients(kernel):
    model = recurrent_model(torch.float64, n=60, m=500, n_in=5, n_out=4)
    plain = en.to_torch(model, steps=7, dt=0.5, kernel=kernel)
    x = torch.randn(3, 7, 5, dtype=torch.float64)
    got = grads(plain, x)
    x2 = x.detach().clone().requires_grad_(True)
    y = model(x2, dt=0.5)
    (y.sin() * torch.arange(1, y.numel() + 1, dtype=y.dtype).view(y.shape)).sum().backward()
    want = (y.detach(), x2.grad, model.weight.grad, model.bias.grad)
    for a, b in zip(got, want, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_to_torch_copies_the_weights_under_the_same_names():
    model = mixed_model()
    plain = en.to_torch(model)
    assert plain.weight is not model.weight and torch.equal(plain.weight, model.weight)
    assert isinstance(plain.weight, torch.nn.Parameter) and plain.weight.requires_grad
    with torch.no_grad():
        model.weight.mul_(2)
    plain.load_state_dict(model.state_dict())
    x = torch.randn(4, len(model.inputs), dtype=torch.float64)
    torch.testing.assert_close(plain(x), model(x), rtol=1e-12, atol=1e-12)
    assert plain.inputs == model.inputs and plain.outputs == model.outputs


def chain(activation: str, hidden: str = "h") -> en.Network:
    """x -> hidden -> y, the hidden neuron with ``activation``."""
    net = en.Network()
    net.add_input("x")
    net.add_neuron(hidden, activation=activation)
    net.add_output("y")
    net.add_edge("x", hidden, weight=1.0)
    net.add_edge(hidden, "y", weight=3.0)
    return net


def test_to_torch_keeps_a_traceable_custom_activation():
    en.register_activation("export_clamp", lambda z: torch.clamp(z, -0.5, 0.5) * 2, overwrite=True)
    model = chain("export_clamp").compile(dtype=torch.float64)
    x = torch.linspace(-1, 1, 9, dtype=torch.float64)[:, None]
    torch.testing.assert_close(en.to_torch(model)(x), model(x))


def test_to_torch_names_a_custom_activation_it_cannot_trace():
    en.register_activation("export_numpy", lambda z: torch.as_tensor(np.tanh(z.detach().numpy())),
                           overwrite=True)
    net = chain("export_numpy")
    with pytest.raises(en.ExportError, match=r"neuron 'h': custom activation 'export_numpy'") as e:
        en.to_torch(net.compile(seed=0))
    assert (e.value.node, e.value.activation) == ("h", "export_numpy")


# A process that cannot import edgenet (nor numba): every finder refuses them, and the
# worktree and site-packages entries that hold them are off sys.path.
HIDDEN = textwrap.dedent("""
    import importlib.abc, os, sys
    class Hide(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in ("edgenet", "edgenet_cli", "numba"):
                raise ModuleNotFoundError(f"No module named {name!r} (hidden)", name=name)
    sys.meta_path.insert(0, Hide())
    sys.path[:] = [p for p in sys.path if p and not os.path.isdir(os.path.join(p, "edgenet"))]
    import torch
""")


def run_hidden(code: str, cwd) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["OMP_NUM_THREADS"] = "1"
    done = subprocess.run([sys.executable, "-c", HIDDEN + textwrap.dedent(code)], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_hidden_process_really_lacks_edgenet(tmp_path):
    out = run_hidden("""
        for name in ("edgenet", "numba"):
            try:
                __import__(name)
            except ModuleNotFoundError:
                print(name, "hidden")
    """, tmp_path)
    assert out.split("\n")[:2] == ["edgenet hidden", "numba hidden"]


@pytest.mark.parametrize("which", ["mixed", "recurrent"])
def test_to_torch_loads_and_trains_where_edgenet_is_not_installed(tmp_path, which):
    if which == "mixed":
        model, args, x = mixed_model(), {}, torch.randn(5, 5, dtype=torch.float64)
    else:
        model = recurrent_model(torch.float64, n=40, m=300, n_in=4, n_out=3)
        args, x = {"steps": 6}, torch.randn(5, 6, 4, dtype=torch.float64)
    torch.save(en.to_torch(model, **args), tmp_path / "plain.pt")
    torch.save(x, tmp_path / "x.pt")
    run_hidden("""
        plain = torch.load("plain.pt", weights_only=False)
        x = torch.load("x.pt").requires_grad_(True)
        y = plain(x)
        (y.sin() * torch.arange(1, y.numel() + 1, dtype=y.dtype).view(y.shape)).sum().backward()
        torch.save([y.detach(), x.grad, plain.weight.grad, plain.bias.grad], "out.pt")
        assert not any(m.partition(".")[0] in ("edgenet", "numba") for m in sys.modules)
    """, tmp_path)
    got = torch.load(tmp_path / "out.pt")
    xg = x.clone().requires_grad_(True)
    y = model(xg, **args)
    (y.sin() * torch.arange(1, y.numel() + 1, dtype=y.dtype).view(y.shape)).sum().backward()
    for a, b in zip(got, (y.detach(), xg.grad, model.weight.grad, model.bias.grad), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ torch.export


def test_torch_export_of_the_compiled_model_runs_where_edgenet_is_not_installed(tmp_path):
    model = digits_model()
    x = torch.randn(8, 64)
    batch = torch.export.Dim("batch")
    program = torch.export.export(model, (x,), dynamic_shapes={"x": {0: batch}})
    assert not [n for n in program.graph.nodes if "edgenet" in str(n.target)]
    torch.export.save(program, tmp_path / "model.pt2")
    x2 = torch.randn(13, 64)
    torch.save(x2, tmp_path / "x.pt")
    run_hidden("""
        program = torch.export.load("model.pt2")
        torch.save(program.module()(torch.load("x.pt")), "y.pt")
    """, tmp_path)
    assert_relative(torch.load(tmp_path / "y.pt"), model(x2), 1e-5)


def test_torch_export_of_the_plain_form_trains_and_follows_the_batch():
    model = mixed_model()
    plain = en.to_torch(model)
    x = torch.randn(4, 5, dtype=torch.float64)
    program = torch.export.export(plain, (x,), dynamic_shapes={"x": {0: torch.export.Dim("b")}})
    module = program.module()
    x9 = torch.randn(9, 5, dtype=torch.float64)
    y = module(x9)
    torch.testing.assert_close(y, model(x9), rtol=1e-10, atol=1e-12)
    y.square().sum().backward()
    model(x9).square().sum().backward()
    torch.testing.assert_close(module.weight.grad, model.weight.grad, rtol=1e-10, atol=1e-12)


def test_torch_export_of_a_recurrent_plain_form():
    model = recurrent_model(torch.float64, n=30, m=200, n_in=3, n_out=2)
    plain = en.to_torch(model, steps=4)
    x = torch.randn(2, 4, 3, dtype=torch.float64)
    program = torch.export.export(plain, (x,), dynamic_shapes={"x": {0: torch.export.Dim("b")}})
    x5 = torch.randn(5, 4, 3, dtype=torch.float64)
    torch.testing.assert_close(program.module()(x5), model(x5), rtol=1e-10, atol=1e-12)


# ------------------------------------------------------------------ ONNX

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def onnx_run(path, x: torch.Tensor) -> np.ndarray:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x.numpy()})[0]


@pytest.mark.parametrize("which", ["digits", "deep", "mixed"])
def test_onnx_runtime_equals_edgenet_on_the_bar_networks(tmp_path, which):
    model = {"digits": digits_model, "deep": lambda: en.compile(deep_dag(), dtype=torch.float32),
             "mixed": lambda: mixed_model(torch.float32)}[which]()
    if which == "deep":
        assert len(plan(model).blocks) == 1000
    en.export_onnx(model, tmp_path / "m.onnx")
    x = torch.randn(37, len(model.inputs))
    with torch.no_grad():
        assert_relative(onnx_run(tmp_path / "m.onnx", x), model(x), 1e-5)


def test_onnx_runtime_equals_edgenet_on_a_worm_sized_recurrent_network(tmp_path):
    model = recurrent_model()
    assert (len(model.neurons) + len(model.inputs), len(model.edges)) == (300, 4000)
    en.export_onnx(model, tmp_path / "worm.onnx", steps=20)
    x = torch.randn(16, 20, 20)
    with torch.no_grad():
        assert_relative(onnx_run(tmp_path / "worm.onnx", x), model(x), 1e-5)


@pytest.mark.parametrize("kernel", ["dense", "sparse"])
def test_onnx_both_forms_and_float64(tmp_path, kernel):
    """Every built-in activation but gelu: ONNX Runtime has no double Erf."""
    model = mixed_model(torch.float64, [a for a in BUILTINS if a != "gelu"])
    en.export_onnx(model, tmp_path / "m.onnx", kernel=kernel, batch=4, opset=16)
    x = torch.randn(4, 5, dtype=torch.float64)
    proto = onnx.load(tmp_path / "m.onnx")
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value == 4
    assert proto.opset_import[0].version == 16
    kinds = {n.op_type for n in proto.graph.node}
    assert ("MatMul" in kinds) == (kernel == "dense") != ("ScatterND" in kinds)
    with torch.no_grad():
        assert_relative(onnx_run(tmp_path / "m.onnx", x), model(x), 1e-9)


@pytest.mark.parametrize("update", ["euler", "exponential"])
def test_recurrent_leaks_in_onnx_and_plain_torch(tmp_path, update):
    model = recurrent_model(torch.float64, n=50, m=400, n_in=5, n_out=4)
    en.export_onnx(model, tmp_path / "r.onnx", steps=5, dt=0.5, update=update, kernel="sparse")
    x = torch.randn(3, 5, 5, dtype=torch.float64)
    with torch.no_grad():
        want = model(x, dt=0.5, update=update)
        assert_relative(onnx_run(tmp_path / "r.onnx", x), want, 1e-12)
        plain = model.to_torch(steps=5, dt=0.5, update=update)
        torch.testing.assert_close(plain(x), want, rtol=1e-12, atol=1e-12)


def test_onnx_form_follows_density():
    """A generation's dense block runs when it has at most DENSE_RATIO entries per edge."""
    G = nx.DiGraph()
    G.add_edges_from((f"x{i}", f"y{j}") for i in range(40) for j in range(40) if (i + j) % 20 == 0)
    sparse = plan(en.compile(G, seed=0)).blocks[0]
    assert 40 * 40 > DENSE_RATIO * len(sparse.edges) and not sparse.dense
    G.add_edges_from((f"x{i}", f"y{j}") for i in range(40) for j in range(40) if (i + j) % 8 == 0)
    assert plan(en.compile(G, seed=0)).blocks[0].dense


def test_onnx_refuses_a_custom_activation_and_writes_nothing(tmp_path):
    en.register_activation("export_custom", lambda z: z.clamp(0, 1), overwrite=True)
    model = chain("export_custom", hidden="gate").compile()
    path = tmp_path / "m.onnx"
    with pytest.raises(en.ExportError, match=r"neuron 'gate' uses the custom activation "
                                             r"'export_custom'") as e:
        en.export_onnx(model, path)
    assert (e.value.node, e.value.activation) == ("gate", "export_custom")
    assert os.listdir(tmp_path) == []
    path.write_bytes(b"old")
    with pytest.raises(en.ExportError):
        en.export_onnx(model, path)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["m.onnx"]


@pytest.mark.parametrize("kwargs, message", [
    ({"opset": 12}, r"opset is 12; expected one of 16 to 21"),
    ({"batch": 0}, r"batch is 0; expected 'dynamic' or a whole number >= 1"),
    ({"dtype": torch.bfloat16}, r"dtype is torch.bfloat16; ONNX export writes"),
    ({"steps": 3}, r"steps=3 is for recurrent models"),
    ({"kernel": "csr"}, r"kernel must be 'auto', 'dense' or 'sparse' \(got 'csr'\)"),
])
def test_onnx_argument_errors(tmp_path, kwargs, message):
    with pytest.raises(en.ExportError, match=message):
        en.export_onnx(mixed_model(), tmp_path / "m.onnx", **kwargs)
    assert os.listdir(tmp_path) == []


def test_recurrent_export_needs_steps(tmp_path):
    model = recurrent_model(n=20, m=60, n_in=2, n_out=2)
    with pytest.raises(en.ExportError, match=r"steps is None; exporting a recurrent model needs"):
        en.export_onnx(model, tmp_path / "r.onnx")
    with pytest.raises(en.EdgenetError, match=r"dt is -1.0; expected a positive time step"):
        en.to_torch(model, steps=3, dt=-1.0)
    with pytest.raises(en.ExportError, match=r"expected a compiled edgenet model .* got Linear"):
        en.to_torch(torch.nn.Linear(2, 2))


# ------------------------------------------------------------------ half precision

#: The documented bound (README, "Deploying"): in bfloat16 or float16 the outputs of the
#: plain-torch and exported forms are within HALF_BOUND * u * (depth + 1) * scale of the
#: float64 model's, where u is the format's unit roundoff (2**-8 bfloat16, 2**-11 float16)
#: and scale = max(1, max |y|), for networks of activations with slope at most about 1.
HALF_BOUND = 4.0
UNIT = {torch.bfloat16: 2.0**-8, torch.float16: 2.0**-11}


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=str)
@pytest.mark.parametrize("which", ["digits", "mixed", "deep"])
def test_half_precision_within_the_documented_bound(which, dtype):
    model = {"digits": lambda: digits_model(torch.float64),
             "mixed": lambda: mixed_model(activations=GENTLE),
             "deep": lambda: en.compile(deep_dag(depth=100), dtype=torch.float64)}[which]()
    x = torch.rand(64, len(model.inputs), dtype=torch.float64) * 2 - 1
    want = model(x).detach()
    depth = len(plan(model).blocks)
    half = en.to_torch(model).to(dtype)
    program = torch.export.export(half, (x.to(dtype),)).module()
    bound = HALF_BOUND * UNIT[dtype] * (depth + 1) * max(1.0, want.abs().max().item())
    for form in (half, program):
        got = form(x.to(dtype))
        assert got.dtype == dtype
        err = (got.double() - want).abs().max().item()
        assert err <= bound, f"{which} {dtype}: error {err:.3g} above the bound {bound:.3g}"


@pytest.mark.parametrize("kernel", ["dense", "sparse"])
def test_onnx_float16_within_the_documented_bound(tmp_path, kernel):
    model = mixed_model(activations=GENTLE)
    en.export_onnx(model, tmp_path / "h.onnx", dtype=torch.float16, kernel=kernel)
    x = torch.rand(64, 5, dtype=torch.float64) * 2 - 1
    want = model(x).detach()
    got = torch.as_tensor(onnx_run(tmp_path / "h.onnx", x.half())).double()
    bound = HALF_BOUND * UNIT[torch.float16] * (len(plan(model).blocks) + 1) * max(
        1.0, want.abs().max().item())
    assert (got - want).abs().max().item() <= bound


@pytest.mark.cuda
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16], ids=str)
def test_half_precision_on_cuda(dtype):
    model = mixed_model(activations=GENTLE)
    x = torch.rand(64, 5, dtype=torch.float64) * 2 - 1
    want = model(x).detach()
    half = en.to_torch(model).to("cuda", dtype)
    program = torch.export.export(half, (x.to("cuda", dtype),)).module()
    bound = HALF_BOUND * UNIT[dtype] * (len(plan(model).blocks) + 1) * max(1.0, want.abs().max().item())
    for form in (half, program):
        err = (form(x.to("cuda", dtype)).double().cpu() - want).abs().max().item()
        assert err <= bound
