"""How many threads the CPU kernels use: a limit the user sets, adapted to the cores that
other processes leave free.

The numba kernels of :mod:`.csr` (generation engine, recurrent products) and of the
fused engine split their work statically over numba's threads: every parallel pass
waits for its slowest thread. Beside another busy process, one of two threads shares
its core with that process and the whole pass waits for it (for a scheduler slice at
a time, at every pass), and threads that spin while they wait take the little CPU
left: beside one busy loop a fixed 2-thread step of the deep DAG took 5x its
one-thread time (``benchmarks/RESULTS.md``, "Contention"). So, per kernel call:

- :func:`limit` is the most threads a call may use: ``EDGENET_NUM_THREADS`` when set
  (a whole number >= 1), else torch's count as the user set it (:func:`torch_threads`;
  so ``torch.set_num_threads(1)`` makes edgenet single-threaded too), and never more
  than numba's pool (``NUMBA_NUM_THREADS``, the CPU count by default);
- :func:`free_cores` estimates, from ``/proc/stat``, how many of this process's allowed
  cores other processes left idle over the last :data:`WINDOW` seconds (this process's
  own threads count as free; niced processes too, since they yield);
- :func:`count` takes the smaller of the two (at least 1), and 1 for calls too small
  to pay for waking the workers;
- :func:`adapt_torch`, called as each of edgenet's CPU passes starts, sets torch's
  intra-op threads to the same count (at most the count the user gave torch) and leaves
  them there until a later pass finds the cores free again: torch's OpenMP threads split
  every operation statically and spin between them, so beside a busy process each
  operation of the step (edgenet's own, and the user's loss and optimizer between its
  passes) waits for the thread that shares a core with it. Beside one busy loop the
  loss of the 0.1% layer took 1.25 ms on torch's 2 threads against 0.26 ms on one
  (``benchmarks/RESULTS.md``, "Contention").

torch's count is process-wide: while edgenet holds it lowered, ``torch.get_num_threads()``
reports the lowered count, and :func:`torch_threads` the user's. A call to
``torch.set_num_threads(n)`` is the user's new count, unless ``n`` is the very count
edgenet set (then it cannot be told apart and edgenet keeps the user's earlier count);
``EDGENET_NUM_THREADS`` caps edgenet's kernels, not torch. :data:`ADAPT` ``= False`` turns
all of it off (edgenet's kernels on the limit, torch back on the user's count from the
next pass).

Without ``/proc/stat`` (not Linux) the limit is used as it is.

>>> from edgenet.kernels import threads
>>> 1 <= threads.count(10**12) <= threads.limit()
True
>>> threads.count(10, parallel_work=1000)  # too small to wake the workers
1
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import EdgenetError

#: The environment variable that caps the kernels' threads.
ENV = "EDGENET_NUM_THREADS"
#: Seconds of ``/proc/stat`` history behind one free-core estimate (its counters tick
#: every 10 ms per core, so a shorter window is mostly rounding).
WINDOW = 0.1
#: A core counts as free when at least this share of it was idle (or this process's).
FREE_SHARE = 0.7
#: Whether :func:`count` adapts to the free cores (benchmarks switch it off to compare).
ADAPT = True

#: :func:`adapt_torch`'s state: the count the user gave torch, and the count edgenet set
#: torch to in its place (``None`` while torch runs on the user's count).
_torch_lock = threading.Lock()
_torch_user = 0
_torch_ours: int | None = None


def parse(value: str | None) -> int | None:
    """The thread cap an ``EDGENET_NUM_THREADS`` value asks for (``None``: unset or empty).

    >>> parse("2"), parse(None), parse(" 4 ")
    (2, None, 4)
    >>> parse("two")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
      ...
    edgenet.errors.EdgenetError: EDGENET_NUM_THREADS='two' is not a thread count: ...
    """
    if value is None or not value.strip():
        return None
    try:
        n = int(value.strip())
    except ValueError:
        n = 0
    if n < 1:
        raise EdgenetError(f"{ENV}={value!r} is not a thread count: expected a whole number "
                           ">= 1 (or unset: torch.get_num_threads())")
    return n


def limit() -> int:
    """The most threads one kernel call may use: ``EDGENET_NUM_THREADS``, else
    ``torch.get_num_threads()``, at most numba's pool (``NUMBA_NUM_THREADS``).

    >>> limit() >= 1
    True
    """
    import numba

    asked = parse(os.environ.get(ENV))
    if asked is None:  # torch's count as the user set it, not as adapt_torch lowered it
        asked = torch_threads()
    return max(1, min(asked, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]


def torch_threads() -> int:
    """torch's intra-op thread count as the user set it: ``torch.get_num_threads()``,
    unless that is the count :func:`adapt_torch` lowered it to.

    >>> import torch
    >>> torch_threads() >= torch.get_num_threads()  # more where edgenet lowered it
    True
    """
    global _torch_user, _torch_ours
    import torch

    now = torch.get_num_threads()
    if _torch_ours is not None and now == _torch_ours:
        return _torch_user
    _torch_ours = None  # the user set another count since: it is theirs
    _torch_user = now
    return now


def _cores() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return list(range(os.cpu_count() or 1))


_TICK = 1.0 / os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 0.01
#: (monotonic time, seconds other processes ran on our cores, free-core estimate)
_last: tuple[float, float, float] | None = None


def _others_busy(cores: list[int]) -> float | None:
    """Seconds of CPU that other (un-niced) processes used on ``cores`` since boot,
    from ``/proc/stat``, less this process's own; ``None`` without ``/proc/stat``."""
    wanted = {f"cpu{c}" for c in cores}
    try:
        with open("/proc/stat", "rb") as f:
            lines = f.read().split(b"\n")
    except OSError:
        return None
    niced = os.getpriority(os.PRIO_PROCESS, 0) > 0 if hasattr(os, "getpriority") else False
    ticks = 0
    for line in lines:
        if not line.startswith(b"cpu") or line.startswith(b"cpu "):
            continue
        name, *fields = line.split()
        if name.decode() not in wanted:
            continue
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[:8])
        ticks += user + system + irq + softirq + steal + (nice if niced else 0)
    return ticks * _TICK - time.process_time()


def free_cores() -> float:
    """How many of this process's allowed cores other processes left free over about the
    last :data:`WINDOW` seconds (the core count when unknown: no ``/proc/stat``).

    >>> 0 <= free_cores() <= len(_cores())
    True
    """
    global _last
    cores = _cores()
    now = time.monotonic()
    if _last is not None and now - _last[0] < WINDOW:
        return _last[2]
    busy = _others_busy(cores)
    if busy is None:
        return float(len(cores))
    if _last is None:  # no history yet: take the since-boot sample, and assume all free
        free = float(len(cores))
    else:
        free = min(float(len(cores)), max(0.0, len(cores) - (busy - _last[1]) / (now - _last[0])))
    _last = (now, busy, free)
    return free


def count(work: int, parallel_work: int = 1) -> int:
    """Threads for a kernel call of ``work`` multiply-adds: 1 below ``parallel_work``,
    else :func:`limit`, lowered to the cores other processes leave free (with
    :data:`ADAPT`).

    >>> count(0, 1000)
    1
    """
    n = limit()  # read first: a bad EDGENET_NUM_THREADS is refused on every call
    if work < parallel_work:
        return 1
    return fit(n) if ADAPT else n


def fit(n: int) -> int:
    """``n`` threads lowered to the cores other processes leave free (a core counts from
    :data:`FREE_SHARE` of it free), at least 1.

    >>> 1 <= fit(2) <= 2, fit(1)
    (True, 1)
    """
    if n <= 1:
        return max(1, n)
    return max(1, min(n, math.floor(free_cores() + 1 - FREE_SHARE)))


@contextmanager
def using(n: int) -> Iterator[None]:
    """Run the body with numba's thread count (this Python thread's) set to ``n``.

    >>> import numba
    >>> with using(1):
    ...     numba.get_num_threads()
    1
    """
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def adapt_torch(device: Any) -> None:
    """Set torch's intra-op threads, for an edgenet pass on ``device`` and the torch work
    that follows it, to the user's count (:func:`torch_threads`) lowered to the cores
    other processes leave free (:func:`fit`); off the CPU nothing changes. The count
    stays until the next pass: a pass that finds the cores free again restores the
    user's count, as does one with :data:`ADAPT` off.

    >>> import torch
    >>> adapt_torch(torch.device("cpu"))
    >>> 1 <= torch.get_num_threads() <= torch_threads()
    True
    """
    global _torch_ours
    import torch

    if torch.device(device).type != "cpu":
        return
    with _torch_lock:
        user = torch_threads()
        n = fit(user) if ADAPT else user
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
        _torch_ours = n if n != user else None
