"""Reused host memory for the CPU kernels' large temporaries.

A pass allocates its node-major buffers afresh each call: ``H`` and ``Z`` in forward,
``G`` in backward, ``(N, B)`` each. Above glibc's mmap threshold every such buffer is
new memory that the kernel maps and zeroes page by page on first touch: for a
population's union (17,492 nodes, batch 1,000, float32: 70 MB a buffer) those page
faults cost more than the arithmetic (``benchmarks/RESULTS.md``, "Neuroevolution").
:func:`empty` hands out buffers of at least :data:`MIN_BYTES` from a pool instead: a
buffer goes back to the pool when the last tensor viewing its memory is freed (autograd
keeps ``H`` and ``Z`` until backward), so a training loop reuses the same few buffers
and touches no new page. The pool keeps at most :data:`KEEP_BYTES` of free buffers;
its contents are uninitialised, as ``torch.empty``'s are.

>>> import torch
>>> a = empty((512, 1024), torch.float32); a.shape, a.dtype
(torch.Size([512, 1024]), torch.float32)
>>> empty((2, 3), torch.float64).shape  # small: an ordinary torch.empty
torch.Size([2, 3])
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Sequence

import numpy as np
import torch

#: Smaller requests go to ``torch.empty`` (malloc reuses small blocks by itself).
MIN_BYTES = 1 << 20
#: The most memory the pool keeps in free buffers (beyond it, the oldest are released).
KEEP_BYTES = 1 << 29
#: A free buffer serves a request of at least this share of its size.
FIT = 0.5

_NUMPY = {torch.float32: np.float32, torch.float64: np.float64, torch.int64: np.int64,
          torch.int32: np.int32}
_lock = threading.Lock()
_free: list[np.ndarray] = []  # raw uint8 buffers, oldest first


def _release(raw: np.ndarray) -> None:
    """Return ``raw`` to the pool (called when the last view of its memory is freed)."""
    with _lock:
        _free.append(raw)
        total = sum(b.nbytes for b in _free)
        while _free and total > KEEP_BYTES:
            total -= _free.pop(0).nbytes


def _take(nbytes: int) -> np.ndarray:
    """The smallest free buffer that fits ``nbytes`` without wasting most of itself, or a
    new one."""
    with _lock:
        fits = [i for i, b in enumerate(_free) if nbytes <= b.nbytes and nbytes >= FIT * b.nbytes]
        if fits:
            return _free.pop(min(fits, key=lambda i: _free[i].nbytes))
    return np.empty(nbytes, np.uint8)


def empty(shape: Sequence[int], dtype: torch.dtype) -> torch.Tensor:
    """An uninitialised CPU tensor of ``shape`` and ``dtype``, from the pool when it is
    at least :data:`MIN_BYTES` (``torch.empty`` otherwise, and for dtypes numpy lacks).

    >>> import torch
    >>> t = empty((1024, 1024), torch.float64); t.fill_(1.0).sum().item()
    1048576.0
    """
    np_dtype = _NUMPY.get(dtype)
    nbytes = math.prod(shape) * (np.dtype(np_dtype).itemsize if np_dtype else 0)
    if np_dtype is None or nbytes < MIN_BYTES:
        return torch.empty(tuple(shape), dtype=dtype)
    raw = _take(nbytes)
    view = raw[:nbytes].view(np_dtype).reshape(tuple(shape))  # holds raw alive
    # The tensor's storage holds ``view``; once every tensor on that storage is gone,
    # ``view`` is freed and its memory (``raw``, which it never referenced back) returns.
    weakref.finalize(view, _release, raw)
    return torch.from_numpy(view)


def new_empty(t: torch.Tensor, shape: Sequence[int]) -> torch.Tensor:
    """:func:`empty` of ``shape`` in ``t``'s dtype on the CPU, ``t.new_empty`` elsewhere.

    >>> new_empty(torch.zeros(1), (2, 2)).shape
    torch.Size([2, 2])
    """
    if t.device.type != "cpu":
        return t.new_empty(tuple(shape))
    return empty(shape, t.dtype)


def empty_like(t: torch.Tensor) -> torch.Tensor:
    """:func:`new_empty` of ``t``'s shape."""
    return new_empty(t, t.shape)


def free_bytes() -> int:
    """Bytes held in free buffers now.

    >>> free_bytes() <= KEEP_BYTES
    True
    """
    with _lock:
        return sum(b.nbytes for b in _free)
