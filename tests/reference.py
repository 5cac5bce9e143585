"""The oracle: a per-neuron float64 evaluator written with plain Python math.

It walks the graph in topological order and computes each neuron on its own,
``h_v = act_v(b_v + sum_u w_uv h_u)``, sharing no code with the engine.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Sequence

import networkx as nx

#: Values beyond this magnitude leave the range where a float64 comparison means anything.
LIMIT = 1e100


class OutOfRange(OverflowError):
    """A neuron's value overflowed or left +-LIMIT: the example tests nothing useful."""


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def _gelu(z: float) -> float:
    return 0.5 * z * (1.0 + math.erf(z / math.sqrt(2.0)))


def _softplus(z: float) -> float:
    return z if z > 20.0 else math.log1p(math.exp(z))


ACTIVATIONS: dict[str, Callable[[float], float]] = {
    "identity": lambda z: z,
    "relu": lambda z: max(z, 0.0),
    "sigmoid": _sigmoid,
    "tanh": math.tanh,
    "leaky_relu": lambda z: z if z >= 0 else 0.01 * z,
    "gelu": _gelu,
    "softplus": _softplus,
    "elu": lambda z: z if z > 0 else math.expm1(z),
    "silu": lambda z: z * _sigmoid(z),
    "sin": math.sin,
    "abs": abs,
    "square": lambda z: z * z,
    "softsign": lambda z: z / (1.0 + abs(z)),
}


def _clamp(z: float, lo: float, hi: float) -> float:
    return lo if z < lo else (hi if z > hi else z)


# neat-python's functions, as neat/activations.py writes them (per neuron, in float64).
ACTIVATIONS.update({
    "neat_sigmoid": lambda z: 1.0 / (1.0 + math.exp(-_clamp(5.0 * z, -60.0, 60.0))),
    "neat_tanh": lambda z: math.tanh(_clamp(2.5 * z, -60.0, 60.0)),
    "neat_sin": lambda z: math.sin(_clamp(5.0 * z, -60.0, 60.0)),
    "neat_gauss": lambda z: math.exp(-5.0 * _clamp(z, -3.4, 3.4) ** 2),
    "neat_lelu": lambda z: z if z > 0.0 else 0.005 * z,
    "neat_selu": lambda z: (1.0507009873554804934193349852946 * z if z > 0.0 else
                            1.0507009873554804934193349852946 * 1.6732632423543772848170429916717
                            * math.expm1(z)),
    "neat_softplus": lambda z: 0.2 * math.log1p(math.exp(_clamp(5.0 * z, -60.0, 60.0))),
    "neat_clamped": lambda z: _clamp(z, -1.0, 1.0),
    "neat_inv": lambda z: 0.0 if z == 0.0 else 1.0 / z,
    "neat_log": lambda z: math.log(max(1e-7, z)),
    "neat_exp": lambda z: math.exp(_clamp(z, -60.0, 60.0)),
    "neat_hat": lambda z: max(0.0, 1.0 - abs(z)),
    "neat_cube": lambda z: z**3,
})


def evaluate(
    G: nx.DiGraph,
    inputs: Sequence[Hashable],
    outputs: Sequence[Hashable],
    x: Sequence[Sequence[float]],
    default: Callable[[Hashable], str],
) -> list[list[float]]:
    """Outputs for every row of ``x``; ``default(node)`` names a node's activation when unset.

    Raises :class:`OutOfRange` when any neuron's value overflows or exceeds ``LIMIT``.
    """
    order = list(nx.topological_sort(G))
    result = []
    for row in x:
        value: dict[Hashable, float] = dict(zip(inputs, map(float, row)))
        for v in order:
            if v in value:
                continue
            data = G.nodes[v]
            z = float(data.get("bias") or 0.0)
            for u in G.predecessors(v):
                z += float(G.edges[u, v]["weight"]) * value[u]
            try:
                h = ACTIVATIONS[data.get("activation") or default(v)](z)
            except (OverflowError, ValueError) as err:
                raise OutOfRange(f"neuron {v!r}: {err}") from None
            if not (abs(z) <= LIMIT and abs(h) <= LIMIT):
                raise OutOfRange(f"neuron {v!r}: z={z!r}, h={h!r}")
            value[v] = h
        result.append([value[o] for o in outputs])
    return result
