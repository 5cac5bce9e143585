"""Atomic file replacement: write to a temporary file beside the target, then rename it.

A write that fails half way (an exception, a full disk, a killed process) leaves the
old file exactly as it was; readers never see a half-written file.

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
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO


@contextmanager
def atomic_write(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a temporary binary file in ``path``'s directory; on success it replaces ``path``.

    The data is flushed and fsynced before the rename, so the new file is complete
    on disk when it appears. On any exception the temporary file is removed and the
    exception propagates; ``path`` is untouched. The new file gets the permissions
    a plain ``open(path, "w")`` would give it (or the old file's, when it existed).

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
    path = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(path))
    tmp = os.path.join(folder, f".{name}.{secrets.token_hex(6)}.tmp")
    mode = 0o666
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        pass
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), mode)
    try:
        with os.fdopen(fd, "wb") as f:
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
