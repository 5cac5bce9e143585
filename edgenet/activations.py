"""Activation functions by name.

Every neuron names its activation with a string; this module maps names to
element-wise torch callables. Built in: ``identity``, ``relu``, ``sigmoid``,
``tanh``, ``leaky_relu`` (slope 0.01), ``gelu`` (exact, erf form), ``softplus``,
``elu``, ``silu``, ``sin``, ``abs``, ``square``, ``exp``, ``softsign``, and
neat-python's functions as neat defines them: ``neat_sigmoid`` (``sigmoid(clamp(5z,
-60, 60))``), ``neat_tanh``, ``neat_sin``, ``neat_gauss``, ``neat_lelu``, ``neat_selu``,
``neat_softplus``, ``neat_clamped``, ``neat_inv``, ``neat_log``, ``neat_exp``,
``neat_hat``, ``neat_cube``. Every engine runs the built-ins (the compiled kernels
branch on their codes).
Add your own with :func:`register_activation`.

>>> import torch, edgenet as en
>>> en.get_activation("relu")(torch.tensor([-1.0, 2.0]))
tensor([0., 2.])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .errors import EdgenetError

Activation = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Builtin:
    """One built-in activation: every engine's form of it derives from this record.

    ``forward`` is the torch callable; ``slope(z, h)`` is ``d act / dz`` at ``z`` given
    ``h = act(z)``, in closed form (the derivative torch's autograd uses, e.g.
    ``relu'(0) = 0``), so backward passes need no autograd; ``code`` is the integer the
    compiled kernels (numba on the CPU, Triton on CUDA) branch on; ``module`` builds the
    ``torch.nn`` module computing the same function (``None`` where torch has none), which
    :func:`edgenet.from_torch` matches.
    """

    name: str
    code: int
    forward: Activation
    slope: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    module: Callable[[], torch.nn.Module] | None = None


def _identity(z: torch.Tensor) -> torch.Tensor:
    return z


def _square(z: torch.Tensor) -> torch.Tensor:
    return z * z


def _one(z: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    return torch.ones_like(z)


def _sigmoid_slope(z: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    return h * (1 - h)


def _silu_slope(z: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    s = torch.sigmoid(z)
    return s * (1 + z * (1 - s))


def _gelu_slope(z: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    return (0.5 * (1 + torch.erf(z * 0.7071067811865476))
            + z * torch.exp(-0.5 * z * z) * 0.3989422804014327)


# neat-python's activation functions (neat/activations.py) that differ from the built-ins
# above, under ``neat_<name>``: each scales and clamps as neat does, so a genome imported
# with :func:`edgenet.from_neat` computes what neat-python's networks compute. neat's
# ``relu``, ``elu``, ``identity``, ``abs`` and ``square`` are the built-ins of that name.
# Branches guard their inputs so that autograd's gradient through the unused side of a
# ``torch.where`` stays finite; ``torch.clamp`` passes nan (and gradients at its bounds).
#: neat-python's constants (neat/activations.py), which the compiled kernels and the ONNX
#: export read from here: selu's scale and alpha, gauss's clamp, log's floor.
SELU_LAMBDA = 1.0507009873554804934193349852946
SELU_ALPHA = 1.6732632423543772848170429916717
GAUSS_BOUND = 3.4
LOG_FLOOR = 1e-7


def _inside(z: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    """1 where ``lo <= z <= hi`` (where ``torch.clamp`` passes gradients), else 0."""
    return ((z >= lo) & (z <= hi)).to(z.dtype)


def _clamp60(z: torch.Tensor, scale: float) -> torch.Tensor:
    return torch.clamp(scale * z, -60.0, 60.0)


def _neat_selu(z: torch.Tensor) -> torch.Tensor:
    return torch.where(z > 0, SELU_LAMBDA * z,
                       (SELU_LAMBDA * SELU_ALPHA) * torch.expm1(torch.clamp(z, max=0.0)))


def _neat_selu_slope(z: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    return torch.where(z > 0, SELU_LAMBDA,
                       (SELU_LAMBDA * SELU_ALPHA) * torch.exp(torch.clamp(z, max=0.0)))


def _neat_softplus(z: torch.Tensor) -> torch.Tensor:
    s = _clamp60(z, 5.0)  # 0.2 log(1 + e^s), as s + log1p(e^-s) above 0 (no overflow)
    return 0.2 * torch.where(s > 0, s + torch.log1p(torch.exp(-torch.clamp(s, min=0.0))),
                             torch.log1p(torch.exp(torch.clamp(s, max=0.0))))


def _neat_inv(z: torch.Tensor) -> torch.Tensor:
    zero = z == 0  # neat's 1 / z catches the ZeroDivisionError and gives 0
    return torch.where(zero, torch.zeros_like(z), 1.0 / torch.where(zero, torch.ones_like(z), z))


def _neat_log_slope(z: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    return _inside(z, LOG_FLOOR, float("inf")) / torch.clamp(z, min=LOG_FLOOR)


_NEAT = [  # neat's name, forward, slope (the derivative autograd takes of forward)
    ("sigmoid", lambda z: torch.sigmoid(_clamp60(z, 5.0)),
     lambda z, h: h * (1 - h) * (5.0 * _inside(5.0 * z, -60.0, 60.0))),
    ("tanh", lambda z: torch.tanh(_clamp60(z, 2.5)),
     lambda z, h: (1 - h * h) * (2.5 * _inside(2.5 * z, -60.0, 60.0))),
    ("sin", lambda z: torch.sin(_clamp60(z, 5.0)),
     lambda z, h: torch.cos(_clamp60(z, 5.0)) * (5.0 * _inside(5.0 * z, -60.0, 60.0))),
    ("gauss", lambda z: torch.exp(-5.0 * torch.clamp(z, -GAUSS_BOUND, GAUSS_BOUND) ** 2),
     lambda z, h: h * (-10.0 * torch.clamp(z, -GAUSS_BOUND, GAUSS_BOUND))
     * _inside(z, -GAUSS_BOUND, GAUSS_BOUND)),
    ("lelu", lambda z: torch.where(z > 0, z, 0.005 * z),
     lambda z, h: torch.where(z > 0, 1.0, torch.full_like(z, 0.005))),
    ("selu", _neat_selu, _neat_selu_slope),
    ("softplus", _neat_softplus,
     lambda z, h: torch.sigmoid(_clamp60(z, 5.0)) * _inside(5.0 * z, -60.0, 60.0)),
    ("clamped", lambda z: torch.clamp(z, -1.0, 1.0), lambda z, h: _inside(z, -1.0, 1.0)),
    ("inv", _neat_inv, lambda z, h: torch.where(z == 0, 0.0, -h * h)),
    ("log", lambda z: torch.log(torch.clamp(z, min=LOG_FLOOR)), _neat_log_slope),
    ("exp", lambda z: torch.exp(torch.clamp(z, -60.0, 60.0)),
     lambda z, h: h * _inside(z, -60.0, 60.0)),
    ("hat", lambda z: torch.clamp(1 - torch.abs(z), min=0.0),
     lambda z, h: -torch.sign(z) * (1 - torch.abs(z) >= 0).to(z.dtype)),
    ("cube", lambda z: z**3, lambda z, h: 3.0 * z * z),
]


#: The built-in activations, in code order (the compiled kernels' ``code``).
BUILTINS: tuple[Builtin, ...] = tuple(
    Builtin(name, code, forward, slope, module)
    for code, (name, forward, slope, module) in enumerate([
        ("identity", _identity, _one, nn.Identity),
        ("relu", torch.relu, lambda z, h: (z > 0).to(z.dtype), nn.ReLU),
        ("sigmoid", torch.sigmoid, _sigmoid_slope, nn.Sigmoid),
        ("tanh", torch.tanh, lambda z, h: 1 - h * h, nn.Tanh),
        ("leaky_relu", F.leaky_relu,
         lambda z, h: torch.where(z > 0, 1.0, torch.full_like(z, 0.01)), nn.LeakyReLU),
        ("gelu", F.gelu, _gelu_slope, nn.GELU),
        ("softplus", F.softplus,
         lambda z, h: torch.where(z > 20, 1.0, torch.sigmoid(z)), nn.Softplus),
        ("elu", F.elu, lambda z, h: torch.where(z > 0, 1.0, torch.exp(z)), nn.ELU),
        ("silu", F.silu, _silu_slope, nn.SiLU),
        ("sin", torch.sin, lambda z, h: torch.cos(z), None),
        ("abs", torch.abs, lambda z, h: torch.sign(z), None),
        ("square", _square, lambda z, h: 2 * z, None),
        ("exp", torch.exp, lambda z, h: h, None),
        ("softsign", F.softsign, lambda z, h: 1 / (1 + z.abs()) ** 2, nn.Softsign),
        *[("neat_" + name, forward, slope, None) for name, forward, slope in _NEAT],
    ])
)
#: Built-in activations by name.
BUILTIN: dict[str, Builtin] = {b.name: b for b in BUILTINS}
#: Kernel code of every built-in activation, by name.
CODES: dict[str, int] = {b.name: b.code for b in BUILTINS}

_REGISTRY: dict[str, Activation] = {b.name: b.forward for b in BUILTINS}


def register_activation(name: str, fn: Activation, *, overwrite: bool = False) -> None:
    """Make ``fn`` available to neurons as ``activation=name``.

    ``fn`` must be an element-wise torch callable (same shape in and out) that
    autograd can differentiate. Built-in names cannot be replaced; a custom name
    can be replaced with ``overwrite=True``.

    >>> import torch, edgenet as en
    >>> en.register_activation("clamped", lambda z: torch.clamp(z, -1.0, 1.0), overwrite=True)
    >>> "clamped" in en.activation_names()
    True
    """
    if not isinstance(name, str) or not name:
        raise EdgenetError(f"activation name must be a non-empty string (got {name!r})")
    if not callable(fn):
        raise EdgenetError(
            f"activation {name!r} must be a callable mapping a tensor to a tensor "
            f"(got {type(fn).__name__} {fn!r})"
        )
    if name in BUILTIN:
        raise EdgenetError(
            f"activation {name!r} is built in and cannot be replaced; "
            "register it under another name"
        )
    if name in _REGISTRY and not overwrite:
        raise EdgenetError(
            f"activation {name!r} is already registered; pass overwrite=True to replace it"
        )
    _REGISTRY[name] = fn


def activation_names() -> list[str]:
    """Sorted names of every known activation.

    >>> import edgenet as en
    >>> {"relu", "identity", "tanh"} <= set(en.activation_names())
    True
    """
    return sorted(_REGISTRY)


def get_activation(name: str) -> Activation:
    """The callable registered under ``name``.

    >>> import torch, edgenet as en
    >>> en.get_activation("identity")(torch.tensor([3.0]))
    tensor([3.])
    """
    try:
        return _REGISTRY[name]
    except (KeyError, TypeError):
        raise EdgenetError(
            f"unknown activation {name!r}; known activations: {', '.join(activation_names())} "
            "(add your own with edgenet.register_activation)"
        ) from None


def backward(name: str, grad: torch.Tensor, z: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """``dL/dz`` from ``dL/dh = grad`` for ``h = act(z)``: the closed-form slope of a
    built-in activation, autograd for a registered one.

    >>> import torch
    >>> z = torch.tensor([-1.0, 2.0])
    >>> backward("relu", torch.ones(2), z, torch.relu(z)).tolist()
    [0.0, 1.0]
    """
    builtin = BUILTIN.get(name)
    if builtin is not None:
        return grad * builtin.slope(z, h)
    with torch.enable_grad():
        z = z.detach().requires_grad_(True)
        (dz,) = torch.autograd.grad(get_activation(name)(z), z, grad)
    return dz
