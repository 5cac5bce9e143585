"""Front door for stacked masked layers: 0/1 connection matrices to a :class:`~edgenet.Network`.

The classic way to get "varying connections between layers" is a dense layer whose
weight matrix is multiplied by a fixed 0/1 connection matrix ``M`` of shape
``(inputs, outputs)``: ``y = act(x @ (W * M) + b)``. Here each nonzero ``M[i, j]``
becomes one edge, so the network stores and trains only the connections that exist.

>>> import edgenet as en
>>> net = en.from_connection_matrices([[[1, 0, 1], [0, 1, 1]], [[1], [1], [0]]])
>>> net.layers()
[['x0', 'x1'], ['h1_0', 'h1_1', 'h1_2'], ['y0']]
>>> sorted(net.edges)[:3]
[('h1_0', 'y0'), ('h1_1', 'y0'), ('x0', 'h1_0')]
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import EdgenetError
from ..graph.network import Network
from ..graph.validate import host_tensor, refuse_complex


def from_connection_matrices(
    matrices: Sequence[Any],
    weights: Sequence[Any] | None = None,
    biases: Sequence[Any] | None = None,
    *,
    activation: str | Sequence[str] = "relu",
    output_activation: str = "identity",
) -> Network:
    """A network of stacked masked layers: ``h_k = act(h_{k-1} @ (W_k * M_k) + b_k)``.

    ``matrices[k]`` has shape ``(width_k, width_{k+1})``; a nonzero entry ``[i, j]``
    connects neuron ``i`` of one layer to neuron ``j`` of the next. Inputs are named
    ``x0, x1, ...``, hidden layer ``k`` (from 1) ``hk_0, hk_1, ...``, outputs
    ``y0, y1, ...``. ``weights`` (full matrices of the same shapes; entries outside
    the mask are not used, but every entry must be finite: nan or inf anywhere is
    refused) and ``biases`` (one vector per layer) are optional: missing
    weights are initialised by :func:`edgenet.compile`, missing biases are 0.
    ``activation`` is one name for every hidden layer or one per hidden layer;
    ``output_activation`` is that of the output layer.

    >>> import numpy as np, torch, edgenet as en
    >>> M = np.array([[1, 0], [1, 1]])
    >>> net = en.from_connection_matrices([M], weights=[np.array([[2.0, 5.0], [3.0, 4.0]])])
    >>> net.compile()(torch.tensor([[1.0, 1.0]])).tolist()
    [[5.0, 4.0]]
    """
    if isinstance(matrices, np.ndarray) and matrices.ndim == 2 or not isinstance(
        matrices, Sequence
    ) and not hasattr(matrices, "__iter__"):
        raise EdgenetError(
            "matrices must be a list of 2-D connection matrices, one per layer "
            f"(got {type(matrices).__name__}); wrap a single matrix as [M]"
        )
    masks = [_matrix(M, f"matrices[{k}]") for k, M in enumerate(matrices)]
    if not masks:
        raise EdgenetError("matrices is empty; give at least one connection matrix")
    for k in range(1, len(masks)):
        if masks[k].shape[0] != masks[k - 1].shape[1]:
            raise EdgenetError(
                f"matrices[{k}] has shape {masks[k].shape} but matrices[{k - 1}] has shape "
                f"{masks[k - 1].shape}; layer {k} must have {masks[k - 1].shape[1]} rows, one "
                "per neuron of the layer before"
            )
    n_hidden = len(masks) - 1
    acts = [activation] * n_hidden if isinstance(activation, str) else list(activation)
    if len(acts) != n_hidden:
        raise EdgenetError(
            f"activation lists {len(acts)} names but there are {n_hidden} hidden layers; give "
            "one name, or one per hidden layer"
        )
    weights = _per_layer(weights, len(masks), "weights")
    biases = _per_layer(biases, len(masks), "biases")

    net = Network()
    layer = [f"x{i}" for i in range(masks[0].shape[0])]
    for name in layer:
        net.add_input(name)
    for k, M in enumerate(masks):
        last = k == n_hidden
        width = M.shape[1]
        names = [f"y{j}" for j in range(width)] if last else [f"h{k + 1}_{j}" for j in range(width)]
        b = np.zeros(width) if biases[k] is None else _vector(biases[k], width, f"biases[{k}]")
        for j, name in enumerate(names):
            if last:
                net.add_output(name, activation=output_activation, bias=float(b[j]))
            else:
                net.add_neuron(name, activation=acts[k], bias=float(b[j]))
        W = weights[k]
        if W is not None:
            W = _matrix(W, f"weights[{k}]")
            if W.shape != M.shape:
                raise EdgenetError(
                    f"weights[{k}] has shape {W.shape}; expected {M.shape}, the shape of "
                    f"matrices[{k}]"
                )
        net.connect(layer, names, mask=M, weight=W)
        layer = names
    return net


def _matrix(M: Any, what: str) -> np.ndarray:
    refuse_complex(M, what)
    if hasattr(M, "detach"):
        M = host_tensor(M, what).numpy()
    try:
        arr = np.asarray(M, dtype=np.float64)
    except (TypeError, ValueError):
        raise EdgenetError(f"{what} must be a numeric 2-D array (got {M!r})") from None
    if arr.ndim != 2:
        raise EdgenetError(
            f"{what} has shape {arr.shape}; expected a 2-D (inputs, outputs) matrix"
        )
    if not np.isfinite(arr).all():
        i, j = np.argwhere(~np.isfinite(arr))[0]
        raise EdgenetError(f"{what}[{i}, {j}] is {float(arr[i, j])!r}; expected a finite number")
    return arr


def _vector(b: Any, width: int, what: str) -> np.ndarray:
    refuse_complex(b, what)
    if hasattr(b, "detach"):
        b = host_tensor(b, what).numpy()
    try:
        arr = np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        raise EdgenetError(f"{what} must be a numeric vector (got {b!r})") from None
    if arr.shape != (width,):
        raise EdgenetError(f"{what} has shape {arr.shape}; expected ({width},)")
    return arr


def _per_layer(values: Sequence[Any] | None, n: int, what: str) -> list[Any]:
    if values is None:
        return [None] * n
    values = list(values)
    if len(values) != n:
        raise EdgenetError(
            f"{what} has {len(values)} entries but there are {n} connection matrices; give one "
            "per matrix (None for a layer to initialise)"
        )
    return values
