"""Activations by name, and custom ones registered by users."""

from __future__ import annotations

import pytest
import torch

import edgenet as en
from edgenet.activations import BUILTIN, BUILTINS, backward

REQUIRED = ["identity", "relu", "sigmoid", "tanh", "leaky_relu", "gelu", "softplus", "elu"]


def test_required_builtins():
    assert set(REQUIRED) <= set(en.activation_names())
    z = torch.tensor([-2.0, 0.5])
    assert torch.equal(en.get_activation("leaky_relu")(z), torch.tensor([-0.02, 0.5]))


def test_register_and_use_custom_activation():
    en.register_activation("cube_test", lambda z: z**3, overwrite=True)
    net = en.Network()
    net.add_input("x")
    net.add_output("y", activation="cube_test")
    net.add_edge("x", "y", weight=2.0)
    model = net.compile()
    x = torch.tensor([[1.5]], requires_grad=True)
    y = model(x)
    y.backward()
    assert y.item() == 27.0 and x.grad.item() == pytest.approx(3 * 9.0 * 2.0)


def test_register_errors():
    with pytest.raises(en.EdgenetError, match=r"activation 'relu' is built in and cannot be replaced"):
        en.register_activation("relu", torch.relu)
    with pytest.raises(en.EdgenetError, match=r"activation 'bad' must be a callable .*got int 3"):
        en.register_activation("bad", 3)
    with pytest.raises(en.EdgenetError, match=r"activation name must be a non-empty string \(got ''\)"):
        en.register_activation("", torch.relu)
    en.register_activation("twice_test", torch.relu, overwrite=True)
    with pytest.raises(en.EdgenetError, match=r"activation 'twice_test' is already registered; pass overwrite=True"):
        en.register_activation("twice_test", torch.relu)


def test_unknown_name():
    with pytest.raises(en.EdgenetError, match=r"unknown activation 'nope'; known activations: abs, "):
        en.get_activation("nope")


def test_the_compiled_kernels_branch_on_the_one_table_of_codes():
    """The numba and Triton kernels name each code from edgenet.activations.CODES, so a
    reordered table cannot leave a kernel computing another activation (the behaviour
    of every code on every engine is checked against the oracle in test_engines_agree)."""
    from edgenet.activations import CODES
    from edgenet.kernels import _vector_math as numba_math

    for name, code in CODES.items():
        assert getattr(numba_math, name.upper()) == code, name
    triton = pytest.importorskip("edgenet.kernels.triton", reason="triton is not installed")
    for name, code in CODES.items():
        if name != "identity":  # every branch's default there
            assert getattr(triton, name.upper()).value == code, name


@pytest.mark.parametrize("name", [b.name for b in BUILTINS])
def test_every_closed_form_slope_equals_autograd_of_the_forward(name):
    """The generation engine's backward uses each built-in's closed-form slope; autograd
    of its torch forward is the oracle, kinks and clamp bounds included (where torch's
    autograd convention decides: relu'(0) = 0, a clamp passes gradients at its bounds)."""
    b = BUILTIN[name]
    z = torch.cat([torch.linspace(-20, 20, 4001, dtype=torch.float64),
                   torch.tensor([0.0, -0.0, 12.0, -12.0, 24.0, -24.0, 3.4, -3.4, 1.0, -1.0, 1e-7,
                                 2e-7, 20.0, -20.0], dtype=torch.float64)])
    g = torch.randn_like(z)
    zz = z.clone().requires_grad_(True)
    (want,) = torch.autograd.grad(b.forward(zz), zz, g)
    got = backward(name, g, z, b.forward(z))
    err = ((got - want).abs() / want.abs().clamp(min=1)).max().item()
    assert err <= 1e-14, (name, err)
