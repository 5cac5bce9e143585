"""Atomic writes: the old file or the whole new one, never a torn one nor a stray temporary."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import networkx as nx
import pytest

import edgenet as en
from edgenet.io import atomic
from edgenet.io.atomic import atomic_write
from edgenet.io.files import read_network

WRITERS = {"graphml": (en.write_graphml, "net.graphml"), "npz": (en.save, "net.npz"),
           "gz": (en.write_graphml, "net.graphml.gz")}


@pytest.mark.parametrize("kind", WRITERS)
def test_saving_over_a_symlink_writes_through_it(tmp_path, kind):
    write, name = WRITERS[kind]
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / name
    write(nx.DiGraph([(0, 1)]), target)
    link = tmp_path / name
    link.symlink_to(target)
    write(nx.DiGraph([(0, 1), (1, 2)]), link)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert len(read_network(target).edges) == 2
    assert sorted(os.listdir(tmp_path / "real")) == [name]


@pytest.mark.parametrize("kind", WRITERS)
def test_a_folder_that_refuses_the_file_is_named_by_the_target(tmp_path, monkeypatch, kind):
    write, name = WRITERS[kind]
    real_open = os.open

    def refuse(path, *args, **kwargs):
        if os.path.basename(path).startswith("."):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(atomic.os, "open", refuse)
    with pytest.raises(PermissionError) as err:
        write(nx.DiGraph([(0, 1)]), tmp_path / name)
    assert err.value.filename == str(tmp_path / name)
    assert ".tmp" not in str(err.value)


def test_an_interrupt_mid_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"old")
    with pytest.raises(KeyboardInterrupt), atomic_write(path) as f:
        f.write(b"new, half")
        raise KeyboardInterrupt
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["a.bin"]


@pytest.mark.skipif(not hasattr(signal, "SIGTERM") or sys.platform == "win32",
                    reason="POSIX signals")
def test_sigterm_mid_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"old")
    source = Path(atomic.__file__)
    script = textwrap.dedent(f"""
        import importlib.util, os, signal, sys
        spec = importlib.util.spec_from_file_location("atomic", {str(source)!r})
        atomic = importlib.util.module_from_spec(spec); spec.loader.exec_module(atomic)
        with atomic.atomic_write({str(path)!r}) as f:
            f.write(b"new, half")
            os.kill(os.getpid(), signal.SIGTERM)
            f.write(b"never")
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert run.returncode == -signal.SIGTERM, run.stderr
    assert path.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["a.bin"]


@pytest.mark.parametrize("kind", WRITERS)
@pytest.mark.parametrize("mode", [0o664, 0o600, 0o640, 0o444], ids=oct)
def test_replacing_a_file_keeps_its_permissions_exactly_whatever_the_umask(tmp_path, kind,
                                                                           mode):
    write, name = WRITERS[kind]
    path = tmp_path / name
    path.write_bytes(b"old")
    path.chmod(mode)
    fresh = tmp_path / f"fresh.{name}"
    umask = os.umask(0o022)
    try:
        write(nx.DiGraph([(0, 1)]), path)
        write(nx.DiGraph([(0, 1)]), fresh)  # a new file: what open(path, "w") gives
    finally:
        os.umask(umask)
    assert oct(path.stat().st_mode & 0o7777) == oct(mode)
    assert oct(fresh.stat().st_mode & 0o7777) == oct(0o644)
    assert len(read_network(path).edges) == 1
