"""Progress bars for long work, silent when nobody is watching.

:func:`progress` wraps an iterable in a ``tqdm`` bar only when the work is big
enough to be worth one (``total >= threshold``) and stderr is a terminal; in a
pipe, a log file or a test run it returns the iterable untouched, so it costs
nothing and prints nothing.

>>> from edgenet.shell.progress import progress
>>> sum(progress(range(5), total=5, desc="adding"))
10
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

#: Work below this many items (edges, samples, ...) gets no bar by default.
THRESHOLD = 1_000_000


def interactive() -> bool:
    """True when stderr is a terminal, where a progress bar is useful.

    >>> from edgenet.shell.progress import interactive
    >>> isinstance(interactive(), bool)
    True
    """
    stream = sys.stderr
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


def progress(
    iterable: Iterable[T],
    total: int | None = None,
    desc: str | None = None,
    *,
    threshold: int = 0,
    unit: str = "it",
    **tqdm_kwargs: Any,
) -> Iterable[T]:
    """``iterable`` with a ``tqdm`` progress bar on stderr when stderr is a terminal.

    ``total`` is the number of items (taken from ``len(iterable)`` when omitted and
    available). When ``total < threshold``, when stderr is not a terminal, or when
    ``tqdm`` is not installed, the iterable is returned as it is. Extra keyword
    arguments go to ``tqdm``.

    >>> from edgenet.shell.progress import progress
    >>> list(progress(["a", "b"], desc="letters", threshold=10))
    ['a', 'b']
    """
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    if (total is not None and total < threshold) or not interactive():
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:  # tqdm is a dependency, but a bar is never worth failing for
        return iterable
    return tqdm(
        iterable, total=total, desc=desc, unit=unit, leave=False, dynamic_ncols=True, **tqdm_kwargs
    )


def bar(total: int, desc: str | None = None, *, unit: str = "it", **tqdm_kwargs: Any) -> Any:
    """A manually advanced bar (``with bar(n) as b: ... b.update(k)``); a no-op off a terminal.

    Use it for work that is not a plain loop, e.g. epochs of training whose postfix
    shows the loss.

    >>> from edgenet.shell.progress import bar
    >>> with bar(3, desc="epochs") as b:
    ...     for _ in range(3):
    ...         b.update(1)
    ...     b.set_postfix(loss=0.5)
    """
    if interactive():
        try:
            from tqdm import tqdm

            return tqdm(total=total, desc=desc, unit=unit, dynamic_ncols=True, **tqdm_kwargs)
        except ImportError:
            pass
    return _Silent()


class _Silent:
    """The interface of a tqdm bar that does nothing."""

    def __enter__(self) -> _Silent:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int = 1) -> None:
        return None

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        return None

    def set_description(self, *args: Any, **kwargs: Any) -> None:
        return None

    def close(self) -> None:
        return None

    def __iter__(self) -> Iterator[Any]:
        return iter(())
