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

import gzip
import os
from collections.abc import Mapping

import networkx as nx

from ..errors import EdgenetError
from ..graph.network import Network
from .graphml import read_graphml, write_graphml
from .native import load, save

#: File suffixes read as GraphML, and as edgenet's native format (:func:`edgenet.save`).
GRAPHML = (".graphml", ".xml", ".graphml.gz")
NATIVE = (".npz",)


def read_network(
    path: str | os.PathLike[str], *, undirected: str = "refuse", parallel: str = "refuse",
    rename: Mapping[str, str] | None = None,
) -> Network:
    """Read a network file, GraphML (:func:`edgenet.read_graphml`) or native
    (:func:`edgenet.load`) by its suffix, or, for any other suffix (``.gml``, ``.txt``,
    none), by its first bytes; or raise an :class:`EdgenetError` naming the file and what
    is wrong with it. ``undirected``, ``parallel`` and ``rename`` go to ``read_graphml``.

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
    kind = "native" if lower.endswith(NATIVE) else "graphml" if lower.endswith(GRAPHML) else (
        sniff(name))
    if kind == "native":
        if rename:
            raise EdgenetError(f"cannot rename attributes of {name!r}: rename (--rename) "
                               "applies to GraphML files, not edgenet save files")
        return load(name)
    if kind == "graphml":
        return read_graphml(name, undirected=undirected, parallel=parallel,  # type: ignore[arg-type]
                            rename=rename)
    suffix = os.path.splitext(name)[1]
    gml = " (it looks like GML, a different format: convert it with networkx.read_gml and "\
        "edgenet.write_graphml)" if kind == "gml" else ""
    raise EdgenetError(
        f"cannot read {name!r}: unknown file type {suffix or '(no suffix)'}{gml}; expected "
        f"GraphML ({', '.join(GRAPHML)}, or GraphML content under any name) or an edgenet "
        f"save file ({', '.join(NATIVE)})"
    )


def sniff(path: str) -> str | None:
    """What a file's first 8 KiB (of its content, for gzip named ``.gz``) say it is:
    ``"graphml"`` (XML with a ``<graphml`` element), ``"native"`` (a zip archive, as
    :func:`edgenet.save` writes), ``"gml"`` (GML's ``graph [``), or ``None``.

    >>> import os, tempfile
    >>> from edgenet.io.files import sniff
    >>> path = os.path.join(tempfile.mkdtemp(), "net.gml")
    >>> with open(path, "w") as f:
    ...     _ = f.write('<?xml version="1.0"?><graphml><graph/></graphml>')
    >>> sniff(path)
    'graphml'
    """
    with open(path, "rb") as f:
        head = f.read(8192)
    if head.startswith(b"\x1f\x8b") and path.lower().endswith(".gz"):  # read_graphml gunzips
        try:
            with gzip.open(path, "rb") as f:
                head = f.read(8192)
        except (OSError, EOFError):
            return None
    if head.startswith(b"PK\x03\x04") and not path.lower().endswith(".gz"):
        return "native"
    text = head.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    if text.startswith("<") and "<graphml" in text:
        return "graphml"
    if text.startswith(("graph", "Creator", "creator")) and "[" in text:
        return "gml"
    return None


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
