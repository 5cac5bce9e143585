"""edgenet.shell.progress: bars on a terminal, nothing anywhere else."""

from __future__ import annotations

import io

import pytest

from edgenet.shell import progress as progress_module
from edgenet.shell.progress import bar, progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_silent_off_a_terminal(monkeypatch):
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    items = list(range(10_000))
    assert progress(items, desc="work", threshold=1) is items
    with bar(3, desc="epochs") as b:
        b.update(3)
        b.set_postfix(loss=1.0)
    assert not hasattr(b, "n")  # the no-op bar
    assert stream.getvalue() == ""


def test_bar_on_a_terminal(monkeypatch):
    tty = FakeTerminal()
    monkeypatch.setattr("sys.stderr", tty)
    assert progress_module.interactive()
    wrapped = progress(range(4), desc="edges", unit="edge", file=tty)
    assert list(wrapped) == [0, 1, 2, 3]
    assert "edges" in tty.getvalue()
    with bar(2, desc="epochs", file=tty) as b:
        b.update(2)
    assert b.n == 2 and "epochs" in tty.getvalue()


def test_small_work_gets_no_bar_even_on_a_terminal(monkeypatch):
    monkeypatch.setattr("sys.stderr", FakeTerminal())
    items = list(range(10))
    assert progress(items, threshold=100) is items
    it = iter(items)
    assert progress(it, total=10, threshold=100) is it
    assert progress(it, total=100, threshold=100) is not it  # big enough: a bar


def test_without_tqdm_the_iterable_comes_back(monkeypatch):
    tty = FakeTerminal()
    monkeypatch.setattr("sys.stderr", tty)
    monkeypatch.setitem(__import__("sys").modules, "tqdm", None)
    items = list(range(10_000))
    assert progress(items, threshold=1) is items
    with bar(2, desc="epochs") as b:
        b.update(1)
        b.set_postfix(loss=1.0)
    assert not hasattr(b, "n")  # the no-op bar, although stderr is a terminal
    assert tty.getvalue() == ""


@pytest.mark.parametrize("stream", [None, object()])
def test_no_stderr_is_not_a_terminal(monkeypatch, stream):
    monkeypatch.setattr("sys.stderr", stream)
    assert progress_module.interactive() is False
