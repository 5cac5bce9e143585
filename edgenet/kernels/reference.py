r"""A plain-torch form of a compiled DAG pass, differentiable any number of times.

The compiled engines have hand-written backward passes, which autograd cannot
differentiate again. When a second derivative is asked for (``create_graph=True``:
Hessians, Hessian-vector products, gradient penalties, meta-learning), the custom op's
backward recomputes the pass here, with torch operations autograd knows, and lets
autograd differentiate it: results are exact to rounding.

Each generation scatters its weights into a dense ``(neurons, distinct sources)`` block
(differentiable in the weights), gathers its source rows and multiplies. Cost: time
``O(depth x N x B)`` for the growing concatenation of activations and memory
``O(sum of generation blocks + depth x B)`` in saved tensors, far more than the
compiled engines: this path runs only for higher-order derivatives.

>>> import torch, edgenet as en
>>> net = en.Network(); net.add_input("x"); net.add_output("y", activation="tanh")
>>> net.add_edge("x", "y", weight=1.0)
>>> model = en.compile(net, dtype=torch.float64)
>>> x = torch.tensor([[0.5]], dtype=torch.float64, requires_grad=True)
>>> (g,) = torch.autograd.grad(model(x).sum(), x, create_graph=True)
>>> (h,) = torch.autograd.grad(g.sum(), x)
>>> round(h.item(), 6)  # d2/dx2 tanh(x) = -2 tanh(x) (1 - tanh(x)^2)
-0.726862
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import Tensor

from ..activations import get_activation

if TYPE_CHECKING:
    from ..model.tensors import Layout


def forward(x: Tensor, weight: Tensor, bias: Tensor, L: Layout) -> Tensor:
    """``(x[B, n_in], weight[E], bias[N - n_in]) -> y[B, n_out]``, by torch operations only."""
    n_in = x.shape[1]
    rows, edges, spans = L.rows.tolist(), L.edges.tolist(), L.spans.tolist()
    names = L.acts.split(",")
    runs = L.runs.tolist()
    H = x.T  # (n_in, B) rows computed so far
    r = 0
    for g in range(len(rows) - 1):
        r0, r1, e0, e1 = rows[g], rows[g + 1], edges[g], edges[g + 1]
        s0, s1 = spans[g], spans[g + 1]
        n, k = r1 - r0, s1 - s0
        z = bias[r0 - n_in : r1 - n_in, None].expand(-1, x.shape[0])  # (n, B)
        if k:
            block = weight.new_zeros(n * k).scatter(0, L.dpos[e0:e1], weight[e0:e1])  # (n * k,)
            hs = H.index_select(0, L.sources[s0:s1])  # (k, B)
            z = z + block.view(n, k) @ hs  # (n, B)
        parts = []
        while r < len(runs) and runs[r][0] < r1:
            a, b, i = runs[r]
            parts.append(get_activation(names[i])(z[a - r0 : b - r0]))  # (b - a, B)
            r += 1
        H = torch.cat([H, *parts])  # (r1, B)
    return H.index_select(0, L.out_rows).T  # (B, n_out)


def vjp(x: Tensor, weight: Tensor, bias: Tensor, L: Layout, grad_y: Tensor,
        needs: tuple[bool, bool, bool]) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
    """``(dL/dx, dL/dweight, dL/dbias)`` for ``dL/dy = grad_y``, themselves differentiable
    (``None`` where ``needs`` says no gradient is wanted)."""
    wanted = [t for t, need in zip((x, weight, bias), needs) if need]
    with torch.enable_grad():
        y = forward(x, weight, bias, L)
        grads = iter(torch.autograd.grad(y, wanted, grad_y, create_graph=True,
                                         allow_unused=True, materialize_grads=True))
    return tuple(next(grads) if need else None for need in needs)  # type: ignore[return-value]
