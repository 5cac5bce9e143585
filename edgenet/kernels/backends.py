"""The kernel seam: every way of running a compiled DAG is a :class:`Backend` registered
here by its own module, and everything else finds it by name.

A backend runs a whole pass over a :class:`~edgenet.model.tensors.Layout`:

- ``forward(x, weight, bias, L) -> (y[B, n_out], H[N, B], Z[N - n_in, B])`` (a backend may
  leave the ``Z`` rows of identity neurons unwritten: no backward reads them);
- ``backward(grad_y, weight, H, Z, L, need_w, need_x) -> (dx[B, n_in], dweight[E],
  dbias[N - n_in], D[N - n_in, B])`` where ``D = dL/dZ`` (``dx`` is ``(0, n_in)``
  without ``need_x``).

Adding one (the generation engine, the fused CPU engine and the Triton kernel are
three) means writing a module that calls :func:`register`, and importing it from
:mod:`edgenet.kernels`; the cost model (:mod:`edgenet.kernels.cost`) picks among the
registered backends by device and shape.

>>> from edgenet.kernels import backends
>>> sorted(b for b in backends.names() if b in ("fused", "generations"))
['fused', 'generations']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from torch import Tensor

from ..errors import EdgenetError

if TYPE_CHECKING:
    from ..model.tensors import Layout

Forward = Callable[[Tensor, Tensor, Tensor, "Layout"], tuple[Tensor, Tensor, Tensor]]
Backward = Callable[
    [Tensor, Tensor, Tensor, Tensor, "Layout", bool, bool], tuple[Tensor, Tensor, Tensor, Tensor]
]


@dataclass(frozen=True)
class Backend:
    """A way to run a compiled DAG: its name, the device types it runs on, its forward and
    backward (see the module docstring), whether it runs built-in activations only (a
    compiled kernel branching on :data:`edgenet.activations.CODES`), and whether what it
    needs is installed (checked once, at registration: :func:`names` runs on every pass)."""

    name: str
    devices: tuple[str, ...]
    forward: Forward
    backward: Backward
    builtin_only: bool = True
    available: bool = True


_REGISTRY: dict[str, Backend] = {}


def register(backend: Backend) -> None:
    """Make ``backend`` available under ``backend.name`` (a later one replaces it)."""
    _REGISTRY[backend.name] = backend


def get(name: str) -> Backend:
    """The backend registered as ``name``."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise EdgenetError(
            f"no kernel backend {name!r}; registered: {', '.join(sorted(_REGISTRY))}"
        ) from None


def names() -> list[str]:
    """Names of the registered backends whose requirements are installed."""
    return [name for name, b in _REGISTRY.items() if b.available]
