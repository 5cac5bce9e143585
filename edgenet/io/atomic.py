"""Atomic file replacement: write to a temporary file beside the target, then rename it.

A write that fails half way (an exception, a full disk, Ctrl-C, SIGTERM) leaves the
old file exactly as it was and no temporary file behind; readers never see a
half-written file. Saving over a symbolic link writes through it: the file the
link points to is replaced and the link is kept.

>>> import os, tempfile
>>> from edgenet.io.atomic import atomic_write
>>> path = os.path.join(tempfile.mkdtemp(), "out.txt")
>>> with atomic_write(path) as f:
...     _ = f.write(b"hello")
>>> with open(path, "rb") as f:
...     f.read()
b'hello'
"""

from __future__ import annotations

import os
import secrets
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO


class Terminated(BaseException):
    """SIGTERM arrived during an atomic write; raised so that the write is undone."""


@contextmanager
def atomic_write(path: str | os.PathLike[str] | bytes) -> Iterator[BinaryIO]:
    """Open a temporary binary file in ``path``'s directory; on success it replaces ``path``.

    The data is flushed and fsynced before the rename, so the new file is complete
    on disk when it appears. On any exception the temporary file is removed and the
    exception propagates; ``path`` is untouched. A SIGTERM during the write (in the
    main thread, where the default handler is installed) removes the temporary file
    before the process ends as it would have. A new file gets the permissions a plain
    ``open(path, "w")`` would give it; a file replacing another gets the old file's
    permission bits exactly, whatever the umask. A ``path`` that is a symbolic link is
    written through: its target is replaced. An error creating the file names ``path``,
    not the temporary file.

    >>> import os, tempfile
    >>> from edgenet.io.atomic import atomic_write
    >>> path = os.path.join(tempfile.mkdtemp(), "a.bin")
    >>> try:
    ...     with atomic_write(path) as f:
    ...         raise RuntimeError("disk full")
    ... except RuntimeError:
    ...     pass
    >>> os.path.exists(path), os.listdir(os.path.dirname(path))
    (False, [])
    """
    path = os.path.realpath(os.fsdecode(path))  # through symbolic links
    folder, name = os.path.split(path)
    tmp = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.tmp")
    try:
        old: int | None = os.stat(path).st_mode & 0o7777
    except OSError:
        old = None
    with _terminate_as_exception():
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                         0o666 if old is None else old & 0o777)
        except OSError as err:
            raise type(err)(err.errno, err.strerror, path) from None
        try:
            with os.fdopen(fd, "wb") as f:
                if old is not None:  # os.open applied the umask: the old mode exactly
                    if hasattr(os, "fchmod"):
                        os.fchmod(f.fileno(), old)
                    else:  # pragma: no cover - Windows before Python 3.13
                        os.chmod(tmp, old)
                yield f
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise


@contextmanager
def _terminate_as_exception() -> Iterator[None]:
    """While inside, a SIGTERM raises :class:`Terminated` (then ends the process as usual)."""
    if threading.current_thread() is not threading.main_thread() or (
            signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        yield
        return

    def terminated(signum: int, frame: Any) -> None:
        raise Terminated()

    signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    except Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)  # end as the default handler would have
        raise
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
