"""Network files by suffix: GraphML (``.graphml``, ``.xml``, ``.graphml.gz``) or native ``.npz``.

The one place that maps a file name to its reader and writer, shared by the
command line and the demo. Suffixes are matched without regard to case.

>>> import os, tempfile, networkx as nx
>>> from edgenet.io.files import read_network, write_network
>>> path = os.path.join(tempfile.mkdtemp(), "NET.GRAPHML.GZ")
>>> write_network(nx.DiGraph([("x", "y", {"weight": 0.5})]), path)
>>> read_network(path).edges["x", "y"]["weight"]
0.5
"""

from __future__ import annotations

import os

import networkx as nx

from ..errors import EdgenetError
from ..graph.network import Network
from .graphml import read_graphml, write_graphml
from .native import load, save

#: File suffixes read as GraphML, and as edgenet's native format (:func:`edgenet.save`).
GRAPHML = (".graphml", ".xml", ".graphml.gz")
NATIVE = (".npz",)


def read_network(
    path: str | os.PathLike[str], *, undirected: str = "refuse", parallel: str = "refuse"
) -> Network:
    """Read a network file, GraphML (:func:`edgenet.read_graphml`) or native
    (:func:`edgenet.load`) by its suffix, or raise an :class:`EdgenetError` naming the file
    and what is wrong with it. ``undirected`` and ``parallel`` go to ``read_graphml``.

    >>> import os, tempfile, networkx as nx
    >>> from edgenet.io.files import read_network, write_network
    >>> path = os.path.join(tempfile.mkdtemp(), "net.graphml")
    >>> write_network(nx.DiGraph([("x", "y", {"weight": 0.5})]), path)
    >>> read_network(path).edges["x", "y"]["weight"]
    0.5
    """
    name = os.fsdecode(path)
    if not os.path.exists(name):
        raise EdgenetError(f"cannot read {name!r}: no such file")
    if os.path.isdir(name):
        raise EdgenetError(
            f"cannot read {name!r}: it is a directory; expected a GraphML or .npz file"
        )
    lower = name.lower()
    if lower.endswith(NATIVE):
        return load(name)
    if lower.endswith(GRAPHML):
        return read_graphml(name, undirected=undirected, parallel=parallel)  # type: ignore[arg-type]
    suffix = os.path.splitext(name)[1]
    raise EdgenetError(
        f"cannot read {name!r}: unknown file type {suffix or '(no suffix)'}; expected GraphML "
        f"({', '.join(GRAPHML)}) or an edgenet save file ({', '.join(NATIVE)})"
    )


def write_network(G: nx.DiGraph, path: str | os.PathLike[str]) -> None:
    """Write ``G`` as GraphML (:func:`edgenet.write_graphml`; gzip-compressed when ``path``
    ends in ``.gz``), or natively (:func:`edgenet.save`) when ``path`` ends in ``.npz``.

    >>> import os, tempfile, networkx as nx
    >>> from edgenet.io.files import write_network
    >>> path = os.path.join(tempfile.mkdtemp(), "net.graphml")
    >>> write_network(nx.DiGraph([("x", "y", {"weight": 0.5})]), path)
    >>> os.path.getsize(path) > 0
    True
    """
    if os.fsdecode(path).lower().endswith(NATIVE):
        save(G, path)
    else:
        write_graphml(G, path)
