"""Front door for trained PyTorch MLPs: ``nn.Sequential`` of ``Linear`` layers to a Network.

Every ``Linear`` weight ``W[j, i]`` becomes the edge ``i -> j`` (zeros included, so
the graph is the dense MLP; prune it afterwards if you like), every bias a neuron
bias, every activation module the activation of the neurons of the ``Linear``
before it. The network computes the same function as the module in eval mode.
Each built-in activation names its module in :data:`edgenet.activations.BUILTINS`;
a module is accepted when its type and parameters match:

========================================  ==============
module                                    activation
========================================  ==============
``ReLU``                                  ``relu``
``Sigmoid``                               ``sigmoid``
``Tanh``                                  ``tanh``
``LeakyReLU(0.01)``                       ``leaky_relu``
``GELU()`` (exact, not ``tanh``)          ``gelu``
``Softplus()`` (beta 1, threshold 20)     ``softplus``
``ELU(alpha=1)``                          ``elu``
``SiLU``                                  ``silu``
``Softsign``                              ``softsign``
``Identity``, ``Dropout``                 (nothing)
========================================  ==============

>>> import torch, edgenet as en
>>> mlp = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
>>> net = en.from_torch(mlp)
>>> net.layers()
[['x0', 'x1'], ['h1_0', 'h1_1', 'h1_2'], ['y0']]
"""

from __future__ import annotations

from typing import Any

from torch import nn

from ..activations import BUILTINS
from ..errors import EdgenetError
from ..graph.network import Network
from ..graph.validate import host_tensor, refuse_complex


def _accepted() -> str:
    """The modules :func:`from_torch` accepts, as one sentence (from the activation table)."""
    modules = [f"{type(m).__name__}({m.extra_repr()})" if m.extra_repr() else type(m).__name__
               for m in (b.module() for b in BUILTINS if b.module is not None)]
    return f"Linear, {', '.join(modules)}, Dropout and nested Sequential"


def from_torch(module: nn.Module) -> Network:
    """A :class:`~edgenet.Network` computing the same function as ``module``.

    ``module`` is an ``nn.Sequential`` (nested ones are flattened) of ``nn.Linear``
    layers and activation modules, or a single ``nn.Linear``. Inputs are named
    ``x0, x1, ...``, the neurons of the ``k``-th hidden ``Linear`` ``hk_0, ...``,
    outputs ``y0, ...``. Weights and biases are copied exactly (as float64).

    >>> import torch, edgenet as en
    >>> torch.manual_seed(0) and None
    >>> mlp = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    >>> model = en.from_torch(mlp).compile()
    >>> x = torch.randn(5, 4)
    >>> bool(torch.allclose(model(x), mlp(x), atol=1e-6))
    True
    """
    layers: list[list[Any]] = []  # [Linear, activation name, index of the module]
    for index, m in enumerate(_flatten(module)):
        if isinstance(m, nn.Linear):
            _own_forward(m, nn.Linear, index)
            if layers and layers[-1][0].out_features != m.in_features:
                raise EdgenetError(
                    f"module {index} ({m}) takes {m.in_features} features but the Linear before "
                    f"it gives {layers[-1][0].out_features}"
                )
            for field in ("weight", "bias"):  # values that can be read (meta, sparse: no)
                if getattr(m, field) is not None:
                    host_tensor(getattr(m, field), f"the {field} of module {index} ({m})")
            layers.append([m, "identity", index])
            continue
        if isinstance(m, nn.Dropout) or type(m) is nn.Identity:
            continue
        act = _activation(m, index)
        if not layers:
            raise EdgenetError(
                f"module {index} ({m}) comes before the first Linear; inputs have no "
                "activation in edgenet: apply it to the data instead"
            )
        if layers[-1][1] != "identity":
            raise EdgenetError(
                f"module {index} ({m}) follows another activation ({layers[-1][1]}) on the same "
                "layer; edgenet neurons have one activation each: combine them with "
                "edgenet.register_activation and build the network with Network.connect"
            )
        layers[-1][1] = act
    if not layers:
        raise EdgenetError(
            f"{type(module).__name__} holds no nn.Linear layer; accepted: {_accepted()}"
        )

    net = Network()
    sources = [f"x{i}" for i in range(layers[0][0].in_features)]
    for name in sources:
        net.add_input(name)
    for k, (linear, act, index) in enumerate(layers):
        last = k == len(layers) - 1
        width = linear.out_features
        names = [f"y{j}" for j in range(width)] if last else [f"h{k + 1}_{j}" for j in range(width)]
        refuse_complex(linear.weight, f"the weight of module {index} ({linear})")
        refuse_complex(linear.bias, f"the bias of module {index} ({linear})")
        weight = linear.weight.detach().cpu().double().numpy()  # (out, in)
        bias = (
            linear.bias.detach().cpu().double().tolist()
            if linear.bias is not None
            else [0.0] * width
        )
        for name, b in zip(names, bias, strict=True):
            if last:
                net.add_output(name, activation=act, bias=b)
            else:
                net.add_neuron(name, activation=act, bias=b)
        net.connect(sources, names, weight=weight.T)  # (in, out)
        sources = names
    return net


def _no_hooks(m: nn.Module) -> None:
    """Refuse a module with forward hooks: they change what it computes (and
    ``torch.nn.utils.prune`` recomputes ``weight`` in one, so the attribute can be stale)."""
    if m._forward_pre_hooks or m._forward_hooks:
        raise EdgenetError(
            f"{m} has forward hooks, which from_torch cannot read (its weight may not be "
            "the one it computes with); remove them first (for pruning: "
            "torch.nn.utils.prune.remove(module, 'weight'))"
        )


def _own_forward(m: nn.Module, base: type[nn.Module], where: int | None = None) -> None:
    """Refuse a subclass of ``base`` that overrides ``forward``: its layers are read as
    ``base``'s, so the network would compute another function than the module."""
    if type(m).forward is not base.forward:
        at = "" if where is None else f"module {where} "
        raise EdgenetError(
            f"{at}({type(m).__name__}) subclasses nn.{base.__name__} with its own forward, "
            f"which from_torch cannot read; accepted: {_accepted()}, with torch's forward"
        )


def _flatten(module: nn.Module) -> list[nn.Module]:
    if not isinstance(module, nn.Module):
        raise EdgenetError(
            f"from_torch expects an nn.Sequential or nn.Linear (got {type(module).__name__})"
        )
    _no_hooks(module)
    if isinstance(module, nn.Sequential):
        _own_forward(module, nn.Sequential)
        return [m for child in module for m in _flatten(child)]
    return [module]


def _settings(m: nn.Module) -> dict[str, Any]:
    """What an activation module computes with: its public attributes, but not whether it
    writes in place or trains (``ELU(alpha=1)`` and ``ReLU(inplace=True)`` compute what
    ``ELU()`` and ``ReLU()`` do; ``1 == 1.0``)."""
    return {k: v for k, v in vars(m).items()
            if not k.startswith("_") and k not in ("training", "inplace")}


def _activation(m: nn.Module, index: int) -> str:
    """The built-in activation ``m`` computes: the one whose table module has the same type
    and parameters (:data:`edgenet.activations.BUILTINS`)."""
    for b in BUILTINS:
        if b.module is None:
            continue
        canonical = b.module()
        if type(m) is type(canonical):
            if _settings(m) == _settings(canonical):
                return b.name
            raise EdgenetError(
                f"module {index} ({m}) has parameters edgenet's built-in activation does not: "
                f"edgenet's {b.name} is {canonical}. Register it with "
                "edgenet.register_activation and set the neurons' activation to that name"
            )
    raise EdgenetError(
        f"module {index} ({type(m).__name__}) is not supported; accepted: {_accepted()}"
    )
