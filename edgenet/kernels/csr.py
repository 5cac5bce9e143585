r"""CPU kernels for one sparse generation, compiled by numba and parallel over rows.

With ``A`` a generation's ``(n, r0)`` CSR block, ``D = dL/dZ`` its ``(n, B)`` gradient
and ``S`` its distinct source rows:

- :func:`spmm`: ``Z = b + A H`` (forward), one thread per target row;
- :func:`sddmm`: ``dw_e = D_t \cdot H_s`` for every edge ``e = (s, t)`` (weight gradient),
  and optionally the row sums of ``D`` (bias gradient) in the same pass;
- :func:`spmm_t`: ``G_S += A^T[S] D`` (input gradient), one thread per distinct source,
  reading the transposed block prepared at compile time;
- :func:`densify` / :func:`sparsify`: a dense generation's ``(n, k)`` weight block from
  the flat weights, and its gradient back to them.

Each output element is written by one thread summing in a fixed order, so results are
bitwise repeatable, and nothing of size ``edges x batch`` exists. On the CPU these replace
torch's CSR ``addmm`` and ``sampled_addmm`` (several times slower on ``(rows, batch)``
row-major operands); on CUDA the generation engine keeps torch's cuSPARSE-backed ops.

>>> import numpy as np
>>> from edgenet.kernels import csr
>>> z = np.zeros((1, 2)); H = np.array([[1.0, 2.0], [3.0, 4.0]])
>>> csr.spmm(z, H, np.array([0.5, 1.0]), np.array([0.25]), np.array([0, 2]), np.array([0, 1]), 0)
>>> z.tolist()
[[3.75, 5.25]]
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import threads

_compiled: dict[str, Callable[..., Any]] = {}


def _build() -> None:
    from . import _csr_kernels as k

    _compiled.update(spmm=k.spmm, sddmm=k.sddmm, spmm_t=k.spmm_t, densify=k.densify,
                     sparsify=k.sparsify, transpose=k.transpose)


#: Rows per parallel task, and columns per batch tile: a task walks its rows once per
#: tile, so the slices of source rows it reads can stay in cache across its rows. On the
#: 2-core machine of ``benchmarks/RESULTS.md`` every tile narrower than the batch was
#: slower (4096 x 4096 at 1%, batch 256 and 2048: long contiguous rows suit the hardware
#: prefetchers better than cache reuse pays), so the default tile is the whole batch.
ROWS, TILE = 32, 1 << 30
#: Below this many multiply-adds a kernel runs on the calling thread alone: waking the
#: worker threads costs more than it saves (and far more on a busy machine).
PARALLEL_WORK = 4_000_000
#: The same bound in elements for :func:`transpose`, a pure memory pass: one element
#: moved costs several multiply-adds' time, so it pays to split far smaller copies.
PARALLEL_COPY = 1 << 18


def _kernel(name: str) -> Callable[..., Any]:
    if not _compiled:
        _build()
    return _compiled[name]


def _call(name: str, work: int, *args: Any) -> None:
    """Run kernel ``name`` on the threads :func:`.threads.count` gives ``work``
    multiply-adds: one below :data:`PARALLEL_WORK`, else up to the thread limit, fewer
    where other processes hold cores. Results do not depend on the count (each output
    element is summed by one thread, in a fixed order)."""
    with threads.using(threads.count(work, PARALLEL_WORK)):
        _kernel(name)(*args)


def spmm(z: np.ndarray, H: np.ndarray, w: np.ndarray, b: np.ndarray, crow: np.ndarray,
         col: np.ndarray, c0: int) -> None:
    """``z[r] = b[c0 + r] + sum_e w[e] H[col[e]]`` over edges
    ``crow[c0 + r] : crow[c0 + r + 1]``."""
    _call("spmm", (crow[c0 + z.shape[0]] - crow[c0]) * z.shape[1], z, H, w, b, crow, col, c0,
          ROWS, TILE)


def densify(block: np.ndarray, w: np.ndarray, dpos: np.ndarray, crow: np.ndarray,
            c0: int) -> None:
    """Fill the ``(n, k)`` dense ``block`` of a generation: zeros, and ``w[e]`` at flat
    position ``dpos[e]`` for its edges ``crow[c0] : crow[c0 + n]`` (one pass, row-parallel).

    >>> import numpy as np
    >>> block = np.empty((2, 2))
    >>> densify(block, np.array([5.0, 7.0]), np.array([1, 2]), np.array([0, 1, 2]), 0)
    >>> block.tolist()
    [[0.0, 5.0], [7.0, 0.0]]
    """
    _call("densify", block.size, block, w, dpos, crow, c0)


def sparsify(dw: np.ndarray, grad: np.ndarray, dpos: np.ndarray, crow: np.ndarray,
             c0: int) -> None:
    """The inverse of :func:`densify` for gradients: ``dw[e] = grad.flat[dpos[e]]`` for the
    generation's edges ``crow[c0] : crow[c0 + n]``, row-parallel.

    >>> import numpy as np
    >>> dw = np.zeros(2)
    >>> sparsify(dw, np.array([[1.0, 5.0], [7.0, 2.0]]), np.array([1, 2]), np.array([0, 1, 2]), 0)
    >>> dw.tolist()
    [5.0, 7.0]
    """
    _call("sparsify", grad.size, dw, grad, dpos, crow, c0)


def transpose(dst: np.ndarray, src: np.ndarray) -> None:
    """``dst[:] = src.T`` (rows contiguous, any row strides; float32 or float64) in
    32-byte square blocks moved by vector shuffles, row-parallel.

    >>> import numpy as np
    >>> dst = np.empty((3, 2)); transpose(dst, np.arange(6.0).reshape(2, 3)); dst.tolist()
    [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]]
    >>> src = np.arange(40 * 1024.0).reshape(40, 1024); dst = np.empty((1024, 40))
    >>> transpose(dst, src); bool((dst == src.T).all())
    True
    """
    if (dst.strides[1] != dst.itemsize or src.strides[1] != src.itemsize or src.dtype != dst.dtype
            or dst.dtype not in (np.float32, np.float64)):
        np.copyto(dst, src.T)  # rows not contiguous (or another dtype): numpy's strided copy
        return
    _call("transpose", dst.size * (PARALLEL_WORK // PARALLEL_COPY), dst, src, dst.dtype.type(0))


def sddmm(dw: np.ndarray, D: np.ndarray, H: np.ndarray, crow: np.ndarray, col: np.ndarray,
          c0: int, db: np.ndarray | None = None) -> None:
    """``dw[e] = D[r] . H[col[e]]`` for edges ``crow[c0 + r] : crow[c0 + r + 1]``; with
    ``db``, also the bias gradient ``db[c0 + r] = sum(D[r])`` in the same pass.

    >>> import numpy as np
    >>> dw = np.zeros(2)
    >>> sddmm(dw, np.array([[1.0, 1.0]]), np.array([[1.0, 2.0], [3.0, 4.0]]),
    ...       np.array([0, 2]), np.array([0, 1]), 0)
    >>> dw.tolist()
    [3.0, 7.0]
    >>> db = np.zeros(1)
    >>> sddmm(dw, np.array([[1.0, 2.0]]), np.array([[1.0, 2.0], [3.0, 4.0]]),
    ...       np.array([0, 2]), np.array([0, 1]), 0, db)
    >>> dw.tolist(), db.tolist()
    ([5.0, 11.0], [3.0])
    """
    n, B = D.shape
    if B == 0:  # no column: every sum is empty (the kernel's column loop would not run)
        dw[crow[c0] : crow[c0 + n]] = 0
        if db is not None:
            db[c0 : c0 + n] = 0
        return
    work = (crow[c0 + n] - crow[c0]) * B
    if db is None:
        db = np.empty(0, dtype=D.dtype)
    _call("sddmm", work, dw, db, D, H, crow, col, c0, D.dtype.type(0), ROWS, TILE)


def spmm_t(G: np.ndarray, D: np.ndarray, w: np.ndarray, sources: np.ndarray, tcrow: np.ndarray,
           tcol: np.ndarray, perm: np.ndarray, t0: int, e0: int) -> None:
    """``G[sources[j]] += sum_i w[perm[i]] D[tcol[i]]`` over transposed entries
    ``e0 + tcrow[t0 + j] : e0 + tcrow[t0 + j + 1]``."""
    if len(sources) == 0:  # no source needs a gradient (an input layer without dL/dx)
        return
    work = (tcrow[t0 + len(sources)] - tcrow[t0]) * D.shape[1]
    _call("spmm_t", work, G, D, w, sources, tcrow, tcol, perm, t0, e0, ROWS, TILE)
