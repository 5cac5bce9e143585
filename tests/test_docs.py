"""Every public entry point documents each of its parameters.

The entry points are every callable in ``edgenet.__all__`` (a class by its constructor)
and every public method of the model, network and scheduler classes that edgenet itself
defines (methods inherited from NetworkX or torch are theirs to document). A parameter
is documented when its docstring names it in a ``literal`` (``name``, ``name=...``,
``f(name)``) or as an entry of a numpydoc ``Parameters`` section (``name : type``,
``a, b``); a mere word of prose (``the net``) or a doctest line does not count.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import edgenet as en

#: The classes whose public methods are entry points too.
CLASSES = ("CompiledNetwork", "RecurrentNetwork", "Network", "SET", "RigL")

#: Parameters allowed to stay undocumented, by entry point (none today);
#: test_undocumented_list_is_current fails for each entry that is documented, renamed or
#: gone, so the list only ever shrinks.
UNDOCUMENTED: dict[str, tuple[str, ...]] = {}


def _edgenets(f: Any) -> bool:
    return str(getattr(f, "__module__", "")).startswith("edgenet")


def entry_points() -> Iterator[tuple[str, Callable[..., Any], str]]:
    """``(name, callable, docstring)`` of every public entry point; a class's constructor
    is documented by the class docstring and its ``__init__``'s (inherited ones count)."""
    for name in en.__all__:
        obj = getattr(en, name)
        if not inspect.isclass(obj):
            yield name, obj, inspect.getdoc(obj) or ""
            continue
        if _edgenets(obj.__init__):  # exceptions keep ValueError's constructor
            yield name, obj.__init__, (obj.__doc__ or "") + "\n" + (
                inspect.getdoc(obj.__init__) or "")
        if name not in CLASSES:
            continue
        for attr, member in inspect.getmembers(obj):
            if attr.startswith("_"):
                continue
            raw = inspect.getattr_static(obj, attr)
            f = raw.__func__ if isinstance(raw, (staticmethod, classmethod)) else member
            if inspect.isfunction(f) and _edgenets(f):
                yield f"{name}.{attr}", f, inspect.getdoc(f) or ""


def documents(doc: str, name: str) -> bool:
    """Whether ``doc`` names the parameter ``name`` (see the module docstring)."""
    n = re.escape(name)
    return bool(re.search(rf"``[^`]*(?<![\w.]){n}\b[^`]*``", doc)
                or re.search(rf"^\s*(?:\w+, )*\**{n}(?:, \w+)*(?: :.*)?$", doc, re.M))


def undocumented(f: Callable[..., Any], doc: str) -> list[str]:
    """The parameters of ``f`` (but ``self`` and ``cls``) that ``doc`` does not name."""
    names = [p for p in inspect.signature(f).parameters if p not in ("self", "cls")]
    return [p for p in names if not documents(doc, p)]


ENTRY_POINTS = sorted(entry_points(), key=lambda e: e[0])


@pytest.mark.parametrize("name, f, doc", ENTRY_POINTS, ids=[e[0] for e in ENTRY_POINTS])
def test_every_parameter_is_documented(name: str, f: Callable[..., Any], doc: str) -> None:
    missing = [p for p in undocumented(f, doc) if p not in UNDOCUMENTED.get(name, ())]
    assert not missing, (
        f"{name}: the docstring does not document {', '.join(missing)}; name each "
        "parameter in a ``literal`` or a numpydoc 'Parameters' entry"
    )


def test_undocumented_list_is_current() -> None:
    found = {name: (f, doc) for name, f, doc in ENTRY_POINTS}
    for name, params in UNDOCUMENTED.items():
        assert name in found, f"UNDOCUMENTED lists {name}, which is no entry point: remove it"
        f, doc = found[name]
        stale = sorted(set(params) - set(undocumented(f, doc)))
        assert not stale, (
            f"UNDOCUMENTED lists {name}'s {', '.join(stale)}, now documented or gone: remove "
            "them from the list"
        )


def test_entry_points_include_methods_and_functions() -> None:
    names = {e[0] for e in ENTRY_POINTS}
    assert {"read_graphml", "Network.add_neuron", "SET", "SET.step", "RigL.gradients",
            "CompiledNetwork.to_network", "RecurrentNetwork.forward"} <= names
    assert not any(n.startswith("Network.add_edge") for n in names)  # NetworkX's own


def _sample(net: Any, window: int, *, stride: int = 1, **attr: Any) -> None:
    """Connect ``net`` with a ``window``.

    Parameters
    ----------
    stride : int
        Step.
    """


def test_documents_accepts_literals_and_numpydoc_entries_only() -> None:
    doc = inspect.getdoc(_sample) or ""
    assert undocumented(_sample, doc) == ["attr"]  # "net" and "window" in literals
    assert documents("a, stride, b : int", "stride")
    assert documents("see ``f(x, stride=2)``", "stride")
    assert not documents("the net is built", "net")
    assert not documents("``net.stride``", "stride")
    assert not documents("``strides``", "stride")
