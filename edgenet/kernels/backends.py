"""The kernel seam: every way of running a compiled DAG is a :class:`Backend` registered
here by its own module, and everything else finds it by name.

A backend runs a whole pass over a :class:`~edgenet.model.tensors.Layout`:

- ``forward(x, weight, bias, L) -> (y[B, n_out], H[N, B], Z[N - n_in, B])`` (a backend may
  leave the ``Z`` rows of identity neurons unwritten: no backward reads them);
- ``backward(grad_y, weight, H, Z, L, need_w, need_x) -> (dx[B, n_in], dweight[E],
  dbias[N - n_in], D[N - n_in, B])`` where ``D = dL/dZ`` (``dx`` is ``(0, n_in)``
  without ``need_x``).

A backend that also runs recurrent networks gives ``recurrent``: for a device type, the
three sparse products of a recurrent step (:class:`edgenet.kernels.recurrent.Products`);
:mod:`edgenet.kernels.recurrent` walks them through time.

Adding one (the generation engine, the fused CPU engine and the Triton kernel are
three) means writing a module that calls :func:`register`, and importing it from
:mod:`edgenet.kernels`; the cost model (:mod:`edgenet.kernels.cost`) picks among the
registered backends by device and shape, and users select it by name
(:func:`engines`).

>>> from edgenet.kernels import backends
>>> sorted(b for b in backends.names() if b in ("fused", "generations"))
['fused', 'generations']
>>> backends.engines(recurrent=True)
['auto', 'sparse']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
    compiled kernel branching on :data:`edgenet.activations.CODES`), whether what it
    needs is installed (checked once, at registration: :func:`names` runs on every pass),
    and, when it runs recurrent networks too, ``recurrent(device_type)``: the recurrent
    step's :class:`~edgenet.kernels.recurrent.Products` on that device type."""

    name: str
    devices: tuple[str, ...]
    forward: Forward
    backward: Backward
    builtin_only: bool = True
    available: bool = True
    recurrent: Callable[[str], Any] | None = None


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


#: The generation engine's backend; users ask for it as ``"sparse"`` or ``"dense"`` (every
#: generation forced to one kernel) or through ``"auto"``.
GENERATIONS = "generations"
#: Engine names that force one kernel on every generation of :data:`GENERATIONS`.
FORCED = ("sparse", "dense")


def engines(recurrent: bool = False) -> list[str]:
    """The engine names a user may ask for, all read from the registry: ``"auto"``, the
    generation engine's forced kernels and every other registered backend by name
    (installed or not: :func:`names` says which run here). With ``recurrent``, those that
    run recurrent networks (the generation engine's products are ``"sparse"``).

    >>> "fused" in engines(), "fused" in engines(recurrent=True)
    (True, False)
    """
    if recurrent:
        return ["auto", *(("sparse",) if _REGISTRY[GENERATIONS].recurrent else ()),
                *(n for n, b in _REGISTRY.items() if n != GENERATIONS and b.recurrent)]
    return ["auto", *FORCED, *(n for n in _REGISTRY if n != GENERATIONS)]


def backend_of(engine: str) -> str:
    """The backend an engine name runs on (``"sparse"`` and ``"dense"``: the generation
    engine; ``"auto"`` is for the cost model to resolve).

    >>> backend_of("dense"), backend_of("fused")
    ('generations', 'fused')
    """
    return GENERATIONS if engine in FORCED else engine


def check_engine(engine: object, recurrent: bool = False) -> str:
    """``engine`` if it names an engine (:func:`engines`), else an error listing them.

    >>> check_engine("fused")
    'fused'
    """
    known = engines(recurrent)
    if not isinstance(engine, str) or engine not in known:
        kind = "a recurrent network's engine" if recurrent else "engine"
        raise EdgenetError(f"{kind} must be one of {', '.join(map(repr, known))} (got "
                           f"{engine!r})")
    return engine
