r"""The fused engine: one compiled call walks the whole DAG, forward and backward.

Deep, narrow DAGs (NEAT genomes, random wirings: thousands of generations of a few
neurons) spend almost all their time in per-generation Python and dispatch overhead
on the generation engine. Here a numba kernel walks the computed rows in a topological
order (row order, rows being numbered by generation, taken one weakly connected part
after the other: a population's union is walked member by member, :func:`walk`), each
row vectorised over the batch:

.. math::

    z_v = b_v + \sum_{u \to v} w_{uv} h_u, \qquad h_v = \sigma_v(z_v)

and backward walks the rows in reverse, turning ``g_v = dL/dh_v`` into
``d_v = g_v \sigma_v'(z_v)``, ``dL/db_v = \sum_b d_v``,
``dL/dw_{uv} = d_v \cdot h_u`` and ``g_u \mathrel{+}= w_{uv} d_v``.

Threads split the batch: each walks the whole DAG for its own columns, and the weight
and bias gradients (sums over the batch) are added chunk by chunk in a fixed order, one
chunk per thread of the limit (:mod:`.threads`: ``EDGENET_NUM_THREADS``, else torch's
count), however many threads the load leaves. So every result repeats bitwise for a
given limit; outputs and input gradients are bitwise the same for any limit, and weight
and bias gradients change by rounding across limits (:mod:`edgenet.kernels._fused_kernels`).

Memory: ``H`` and ``Z`` (``(N, B)`` each) from forward, ``G`` (``(N, B)``) in backward,
``O(E)`` for the weight gradient; nothing per edge and batch.

Subnormal numbers are computed exactly, as on every other engine (no flush to zero):
engines agree on every finite input.

Only the built-in activations have compiled forms (:data:`edgenet.activations.CODES`);
a network using a custom registered activation runs on the generation engine instead.
The kernels are compiled by numba on first use and cached on disk (``cache=True``, next
to the package): the very first call after installing costs a few seconds per dtype
(float32, float64); after that, the first call in a process costs about 1.5 s (numba's
start-up and the cache load), and every later call nothing extra.

>>> import torch, edgenet as en
>>> net = en.Network(); net.add_input("x"); net.add_output("y", activation="tanh")
>>> net.add_edge("x", "y", weight=1.0)
>>> model = en.compile(net, dtype=torch.float64, engine="fused")
>>> round(model(torch.tensor([[0.5]], dtype=torch.float64)).item(), 6)
0.462117
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

import numpy as np
import torch

from . import threads, workspace
from .backends import Backend, register
from .sparse import gradient_buffer, outputs, transposed

if TYPE_CHECKING:
    from ..model.tensors import Layout


def _kernels():
    """The compiled forward and backward (numba, imported and loaded on first use)."""
    from . import _fused_kernels

    return _fused_kernels.forward, _fused_kernels.backward


#: The walk order of each layout, by the id of its ``crow`` tensor (a rewire makes a new
#: one), dropped with that tensor.
_WALKS: dict[int, tuple[weakref.ref, np.ndarray]] = {}


def walk(L: Layout) -> np.ndarray:
    """The order the kernels walk ``L``'s computed rows in: part by part (weakly connected
    parts; a population's members), row order within each
    (:func:`edgenet.kernels._fused_kernels.walk_order`), computed once per layout.

    >>> import networkx as nx, edgenet as en
    >>> two = nx.DiGraph([("a", "h"), ("h", "y"), ("b", "g"), ("g", "z")])
    >>> model = en.compile(two, inputs=["a", "b"], outputs=["y", "z"])
    >>> [model.nodes[model.layout.n_in + int(r)] for r in walk(model.layout)]
    ['h', 'y', 'g', 'z']
    """
    key = id(L.crow)
    known = _WALKS.get(key)
    if known is not None and known[0]() is L.crow:
        return known[1]
    from ._fused_kernels import walk_order

    order = walk_order(_np(L.crow), _np(L.col), L.n_in)
    _WALKS[key] = (weakref.ref(L.crow), order)
    weakref.finalize(L.crow, _WALKS.pop, key, None)
    return order


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy()


def forward(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, L: Layout
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(x[B, n_in], weight[E], bias[N - n_in]) -> (y[B, n_out], H[N, B], Z[N - n_in, B])``."""
    with threads.torch_matched("cpu"):  # torch's threads too, where cores are busy
        B, n_in = x.shape
        H = workspace.new_empty(x, (n_in + bias.shape[0], B))  # (N, B)
        Z = workspace.new_empty(x, (bias.shape[0], B))  # (N - n_in, B)
        transposed(H[:n_in], x)
        fwd, _ = _kernels()
        with threads.using(threads.count(L.n_edges * B)):
            fwd(_np(H), _np(Z), _np(weight.contiguous()), _np(bias.contiguous()), _np(L.crow),
                _np(L.col), _np(L.codes), n_in, walk(L))
        return outputs(H, L.out_rows, L.out_lo), H, Z


def backward(
    grad_y: torch.Tensor, weight: torch.Tensor, H: torch.Tensor, Z: torch.Tensor, L: Layout,
    need_w: bool = True, need_x: bool = True,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``dL/dy[B, n_out] -> (dL/dx[B, n_in], dL/dweight[E], dL/dbias[N - n_in],
    dL/dZ[N - n_in, B])``; ``dL/dx`` is ``(0, n_in)`` without ``need_x``."""
    with threads.torch_matched("cpu"):
        n_in = H.shape[0] - Z.shape[0]
        floor = 0 if need_x else n_in  # rows below it need no gradient
        G = gradient_buffer(H, grad_y, L.out_rows, L.out_lo, floor)  # (N, B)
        dw = torch.zeros_like(weight)  # (E,)
        db = weight.new_empty(Z.shape[0])  # (N - n_in,)
        _, bwd = _kernels()
        with threads.using(threads.count(L.n_edges * H.shape[1])):
            bwd(_np(G), _np(H), _np(Z), _np(weight.contiguous()), _np(L.crow), _np(L.col),
                _np(L.codes), n_in, walk(L), _np(dw), _np(db), need_w, floor,
                _np(H).dtype.type(0))
        dx = G[:n_in].T.contiguous() if need_x else H.new_empty(0, n_in)  # (B, n_in)
        return dx, dw, db, G[n_in:]


register(Backend("fused", ("cpu",), forward, backward))
