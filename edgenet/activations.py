"""Activation functions by name.

Every neuron names its activation with a string; this module maps names to
element-wise torch callables. Built in: ``identity``, ``relu``, ``sigmoid``,
``tanh``, ``leaky_relu`` (slope 0.01), ``gelu`` (exact, erf form), ``softplus``,
``elu``, ``silu``, ``sin``, ``abs``, ``square``, ``exp``, ``softsign``.
Add your own with :func:`register_activation`.

>>> import torch, edgenet as en
>>> en.get_activation("relu")(torch.tensor([-1.0, 2.0]))
tensor([0., 2.])
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from .errors import EdgenetError

Activation = Callable[[torch.Tensor], torch.Tensor]


def _identity(z: torch.Tensor) -> torch.Tensor:
    return z


def _square(z: torch.Tensor) -> torch.Tensor:
    return z * z


_BUILTIN: dict[str, Activation] = {
    "identity": _identity,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "leaky_relu": F.leaky_relu,
    "gelu": F.gelu,
    "softplus": F.softplus,
    "elu": F.elu,
    "silu": F.silu,
    "sin": torch.sin,
    "abs": torch.abs,
    "square": _square,
    "exp": torch.exp,
    "softsign": F.softsign,
}

_REGISTRY: dict[str, Activation] = dict(_BUILTIN)


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
    if name in _BUILTIN:
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
