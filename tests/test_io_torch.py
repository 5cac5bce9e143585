"""from_torch: the imported network computes what the torch module computes."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import edgenet as en

ACTIVATIONS = [nn.ReLU(), nn.Sigmoid(), nn.Tanh(), nn.LeakyReLU(0.01), nn.GELU(), nn.Softplus(),
               nn.ELU(alpha=1.0), nn.Identity(), nn.SiLU(), nn.Softsign()]


@pytest.mark.parametrize("act", ACTIVATIONS, ids=lambda m: type(m).__name__)
def test_parity_for_every_activation(act):
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(5, 7), act, nn.Linear(7, 4), act, nn.Linear(4, 3)).double()
    model = en.from_torch(mlp).compile(dtype=torch.float64)
    x = torch.randn(16, 5, dtype=torch.float64) * 3
    torch.testing.assert_close(model(x), mlp(x), rtol=0, atol=1e-12)


def test_parity_in_float32_to_1e6():
    torch.manual_seed(1)
    mlp = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 32),
                        nn.Tanh(), nn.Linear(32, 10), nn.Sigmoid())
    mlp.eval()
    model = en.from_torch(mlp).compile()
    x = torch.randn(32, 20)
    torch.testing.assert_close(model(x), mlp(x), rtol=0, atol=1e-6)


def test_weights_are_copied_exactly_and_nested_sequential_flattened():
    torch.manual_seed(2)
    inner = nn.Sequential(nn.Linear(3, 2, bias=False), nn.ReLU())
    mlp = nn.Sequential(inner, nn.Sequential(nn.Linear(2, 1)))
    net = en.from_torch(mlp)
    W = inner[0].weight.detach().double()
    for i in range(3):
        for j in range(2):
            assert net.edges[f"x{i}", f"h1_{j}"]["weight"] == W[j, i].item()
    assert net.nodes["h1_0"] == {"role": "hidden", "activation": "relu", "bias": 0.0}
    assert net.nodes["y0"]["bias"] == mlp[1][0].bias.item()
    assert net.number_of_edges() == 3 * 2 + 2


def test_single_linear_and_trained_round_trip():
    torch.manual_seed(3)
    lin = nn.Linear(4, 2)
    net = en.from_torch(lin)
    assert net.inputs == ["x0", "x1", "x2", "x3"] and net.outputs == ["y0", "y1"]
    model = net.compile(dtype=torch.float64)
    x = torch.randn(3, 4, dtype=torch.float64)
    torch.testing.assert_close(model(x), lin.double()(x), rtol=0, atol=1e-12)


@pytest.mark.parametrize("module, message", [
    (nn.Sequential(nn.Linear(2, 3), nn.LeakyReLU(0.2)),
     r"module 1 \(LeakyReLU\(negative_slope=0.2\)\) has parameters .*negative_slope=0.01\)\. "
     r"Register it with edgenet.register_activation"),
    (nn.Sequential(nn.Linear(2, 3), nn.GELU(approximate="tanh")), r"approximate='none'"),
    (nn.Sequential(nn.Linear(2, 3), nn.Softplus(beta=2)),
     r"edgenet's softplus is Softplus\(beta=1.0, threshold=20.0\)"),
    (nn.Sequential(nn.Linear(2, 3), nn.ELU(alpha=0.5)), r"edgenet's elu is ELU\(alpha=1.0\)"),
    (nn.Sequential(nn.Linear(2, 3), nn.Conv1d(1, 1, 1)),
     r"module 1 \(Conv1d\) is not supported; accepted: Linear, Identity, ReLU, Sigmoid, Tanh, "
     r"LeakyReLU\(negative_slope=0.01\), GELU\(approximate='none'\)"),
    (nn.Sequential(nn.ReLU(), nn.Linear(2, 3)), r"module 0 \(ReLU\(\)\) comes before the first"),
    (nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Tanh()),
     r"module 2 \(Tanh\(\)\) follows another activation \(relu\)"),
    (nn.Sequential(nn.Linear(2, 3), nn.Linear(4, 1)),
     r"module 1 \(Linear\(in_features=4.*\)\) takes 4 features but the Linear before it gives 3"),
    (nn.Sequential(nn.ReLU()), r"module 0 \(ReLU\(\)\) comes before"),
    (nn.Sequential(), r"Sequential holds no nn.Linear layer"),
    ("not a module", r"from_torch expects an nn.Sequential or nn.Linear \(got str\)"),
])
def test_unsupported_modules_are_refused(module, message):
    with pytest.raises(en.EdgenetError, match=message):
        en.from_torch(module)


def _complex_bias() -> nn.Linear:
    lin = nn.Linear(2, 1)
    lin.bias = nn.Parameter(torch.tensor([0.5 - 1j]))
    return lin


@pytest.mark.parametrize("module, message", [
    (nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1, dtype=torch.complex64)),
     r"the weight of module 2 \(Linear\(in_features=3, out_features=1, bias=True\)\) holds "
     r"complex numbers \(complex64\): the weight of module 2 .*\[0, 0\] is .*j\); expected real"),
    (_complex_bias(), r"the bias of module 0 \(Linear\(.*\)\) holds complex numbers \(complex64\): "
     r"the bias of module 0 .*\[0\] is \(0.5-1j\)"),
])
def test_complex_weights_and_biases_are_refused_by_name(module, message):
    """A cast to float64 would keep only their real parts (torch warned generically)."""
    with pytest.raises(en.EdgenetError, match=message):
        en.from_torch(module)


class _Residual(nn.Sequential):
    def forward(self, x):
        return x + super().forward(x)


class _Scaled(nn.Linear):
    def forward(self, x):
        return 2 * super().forward(x)


class _Plain(nn.Linear):  # a subclass that keeps Linear's forward computes what Linear does
    pass


@pytest.mark.parametrize("module, message", [
    (_Residual(nn.Linear(3, 3)), r"\(_Residual\) subclasses nn.Sequential with its own forward"),
    (nn.Sequential(nn.Linear(3, 3), _Scaled(3, 2)),
     r"module 1 \(_Scaled\) subclasses nn.Linear with its own forward, which from_torch "
     r"cannot read; accepted: Linear, "),
])
def test_subclasses_with_their_own_forward_are_refused(module, message):
    """Read as a plain Sequential or Linear they would compute another function."""
    with pytest.raises(en.EdgenetError, match=message):
        en.from_torch(module)


def test_a_subclass_keeping_torchs_forward_is_read():
    torch.manual_seed(0)
    module = nn.Sequential(_Plain(3, 2), nn.Tanh())
    x = torch.randn(4, 3, dtype=torch.float64)
    model = en.from_torch(module).compile(dtype=torch.float64)
    torch.testing.assert_close(model(x), module.double()(x), rtol=1e-12, atol=1e-12)


def test_a_pruned_linear_is_refused_until_the_pruning_is_made_permanent():
    """prune keeps weight_orig and a mask and recomputes weight in a forward pre-hook: after
    an optimizer step, weight is stale until the next forward."""
    from torch.nn.utils import prune

    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)).double()
    prune.l1_unstructured(mlp[0], "weight", amount=0.5)
    opt = torch.optim.SGD(mlp.parameters(), lr=0.1)
    x = torch.randn(16, 4, dtype=torch.float64)
    mlp(x).pow(2).sum().backward()
    opt.step()
    with pytest.raises(en.EdgenetError, match=r"Linear\(in_features=4.*\) has forward hooks, "
                       r"which from_torch cannot read .*prune.remove\(module, 'weight'\)"):
        en.from_torch(mlp)
    prune.remove(mlp[0], "weight")
    model = en.from_torch(mlp).compile(dtype=torch.float64)
    torch.testing.assert_close(model(x), mlp(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("act, name", [
    (nn.ReLU(inplace=True), "relu"), (nn.LeakyReLU(0.01, inplace=True), "leaky_relu"),
    (nn.ELU(alpha=1), "elu"), (nn.ELU(inplace=True), "elu"), (nn.SiLU(inplace=True), "silu"),
    (nn.Softplus(beta=1, threshold=20), "softplus"),
])
def test_activations_written_in_place_or_with_int_parameters_are_read(act, name):
    """They compute what the built-in does: in place or not, 1 or 1.0."""
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(3, 4), act).double()
    net = en.from_torch(module)
    assert {net.nodes[f"y{j}"]["activation"] for j in range(4)} == {name}
    x = torch.randn(5, 3, dtype=torch.float64)
    want = module(x.clone())
    torch.testing.assert_close(net.compile(dtype=torch.float64)(x), want, rtol=1e-12,
                               atol=1e-12)


@pytest.mark.parametrize("field", ["weight", "bias"])
def test_meta_and_sparse_parameters_are_refused_by_name(field):
    meta = nn.Sequential(nn.Linear(2, 3, device="meta"))
    with pytest.raises(en.EdgenetError, match=r"the weight of module 0 \(Linear\(in_features=2.*"
                       r"\) is a meta tensor: it has a shape \(3, 2\) but no values"):
        en.from_torch(meta)
    sparse = nn.Sequential(nn.Linear(2, 3))
    setattr(sparse[0], field, nn.Parameter(getattr(sparse[0], field).detach().to_sparse()))
    with pytest.raises(en.EdgenetError, match=rf"the {field} of module 0 .* is a sparse tensor"):
        en.from_torch(sparse)


def test_a_bfloat16_module_is_read_exactly():
    torch.manual_seed(0)
    module = nn.Sequential(nn.Linear(3, 2)).to(torch.bfloat16)
    net = en.from_torch(module)
    assert net.edges["x1", "y0"]["weight"] == module[0].weight[0, 1].double().item()
    assert net.nodes["y1"]["bias"] == module[0].bias[1].double().item()


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning")
@pytest.mark.parametrize("engine", ["sparse", "dense", "fused"])
def test_torch_jit_trace_records_a_dag_model(engine):
    import networkx as nx

    G = nx.DiGraph([("a", "h"), ("b", "h"), ("h", "y"), ("a", "y")])
    G.nodes["h"]["activation"] = "tanh"
    model = en.compile(G, seed=0, dtype=torch.float64, engine=engine)
    x = torch.randn(5, 2, dtype=torch.float64)
    traced = torch.jit.trace(model, x)
    x2 = torch.randn(7, 2, dtype=torch.float64, requires_grad=True)
    torch.testing.assert_close(traced(x2), model(x2), rtol=1e-12, atol=1e-12)
    traced(x2).sum().backward()
    g = x2.grad.clone()
    x2.grad = None
    model(x2).sum().backward()
    torch.testing.assert_close(g, x2.grad, rtol=1e-12, atol=1e-12)


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::torch.jit.TracerWarning")
def test_torch_jit_trace_of_a_recurrent_model_is_a_typed_error_naming_torch_export():
    import networkx as nx

    rnn = en.compile(nx.DiGraph([("x", "a"), ("a", "a")]), recurrent=True, inputs=["x"],
                     outputs=["a"], seed=0)
    with pytest.raises(en.EdgenetError, match=r"torch.jit.trace cannot record a recurrent "
                       r"network's pass .*torch.export.export\(edgenet.to_torch\(model, steps=T\)"):
        torch.jit.trace(rnn, torch.ones(2, 3, 1))
