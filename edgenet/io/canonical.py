"""A fast lane for GraphML files in the exact layout :func:`edgenet.write_graphml` produces.

A million ``<edge>`` elements cost a million trips through Python's expat
callbacks. Files written by edgenet put each edge on one line of a fixed shape::

    <edge source="3" target="17"><data key="d3">-0.25</data></edge>

:class:`CanonicalStream` wraps such a file: it takes the edge lines out with one
regular expression per block and hands everything else (header, keys, nodes) on,
as a smaller document, to the ordinary expat reader. It accepts a file only when
it starts with the writer's header, every line between ``<graph>`` and
``</graph>`` is a whole node, data or edge element of the writer's shape, and the
edge lines hold no character that XML would unescape, normalise or refuse. An
edge line of that shape is well-formed by construction and sits in the graph's
content, so the file is well-formed exactly when the remaining document is, which
the ordinary reader checks; the result is what the ordinary reader would build.
Anything else (comments, CDATA, entities in edge lines, extra edge attributes,
another layout) raises :class:`Fallback` and the caller reads the file the
ordinary way.

>>> import io
>>> from edgenet.io.canonical import HEADER, CanonicalStream
>>> text = HEADER + (
...     '<key id="d0" for="edge" attr.name="weight" attr.type="double"/>\\n'
...     '<graph edgedefault="directed">\\n<node id="a"/>\\n<node id="b"/>\\n'
...     '<edge source="a" target="b"><data key="d0">0.5</data></edge>\\n</graph>\\n</graphml>\\n')
>>> stream = CanonicalStream(io.BytesIO(text.encode()))
>>> rest = b"".join(iter(lambda: stream.read(1 << 20), b""))
>>> stream.src, stream.dst, stream.vals, b"<edge" in rest
(['a'], ['b'], ['0.5'], False)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import IO, Any

import numpy as np

HEADER = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
    'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
)
CLOSE = "</graph>\n</graphml>\n"
LONGEST_LINE = 1 << 20  # the writer's lines are far shorter
_ID = r'[^"&<>\x00-\x1f\ufffe\uffff]*'  # a value with nothing to unescape, normalise or refuse
_TEXT = r"[^<&>_\x00-\x1f\ufffe\uffff]*"  # no "_": float() would read "1_0" as 10.0
_ANY_ID = r'[^"<\t\r\n]*'  # the same, entities allowed (the ordinary reader decodes them)
_KEYS = re.compile(
    rf'(?:<key id="{_ANY_ID}" for="(?:graph|node|edge)" attr\.name="{_ANY_ID}" '
    r'attr\.type="(?:boolean|long|double|string)"/>\n)*'
)
_GRAPH = re.compile(r'<graph edgedefault="directed">\n')
_DATA = rf'<data key="{_ANY_ID}">[^<\r\n]*</data>'  # one line: no element can hide inside
_BODY = re.compile(rf'(?:{_DATA}\n|<node id="{_ANY_ID}"(?:/>|>(?:{_DATA})*</node>)\n)*')
_EDGE = re.compile(
    rf'^<edge source="({_ID})" target="({_ID})">(?:<data key="({_ID})">({_TEXT})</data>)?'
    r"</edge>\n",
    re.MULTILINE,
)


class Fallback(Exception):
    """The file is not in the canonical layout; read it the ordinary way."""


class CanonicalStream:
    """A binary file-like view of a canonical GraphML file without its edge lines.

    ``accepted`` says whether the file starts with the writer's header. Reading it
    to the end fills ``src``, ``dst``, ``keys`` and ``vals`` (the edge list, raw
    strings, ``None`` where an edge has no data) or raises :class:`Fallback`.
    """

    def __init__(self, f: IO[bytes]):
        self.f = f
        head = f.read(len(HEADER))
        self.accepted = head == HEADER.encode()
        self.pending: list[bytes] = [head]
        self.carry = b""
        self.phase = 0  # 0: keys, 1: nodes and edges, 2: closing tags
        self.tail = ""
        self.done = False
        self.src: list[str] = []
        self.dst: list[str] = []
        self.keys: list[str | None] = []
        self.vals: list[str] = []

    def read(self, size: int = -1) -> bytes:
        while not self.pending:
            if self.done:
                return b""
            raw = self.f.read(1 << 20)
            if not raw:
                self.done = True
                if self.carry or self.phase != 2 or self.tail != CLOSE:
                    raise Fallback("the file does not end as the writer ends it")
                return b""
            data = self.carry + raw
            cut = data.rfind(b"\n") + 1
            self.carry = data[cut:]
            if len(self.carry) > LONGEST_LINE:  # joining ever longer lines is quadratic
                raise Fallback("a line longer than the writer writes")
            rest = self.lines(data[:cut].decode("utf-8")).encode("utf-8") if cut else b""
            if rest:  # a block of edge lines only leaves nothing to hand on: read further
                self.pending.append(rest)
        return self.pending.pop(0)

    def lines(self, text: str) -> str:
        """The given complete lines without their edge lines (which are recorded)."""
        if "<!" in text or "<?" in text:
            raise Fallback("comments, CDATA or processing instructions")
        if self.phase == 0:
            m = _GRAPH.search(text)
            if m is None:
                if not _KEYS.fullmatch(text):
                    raise Fallback("unexpected line among the keys")
                return text
            if not _KEYS.fullmatch(text, 0, m.start()):
                raise Fallback("unexpected line among the keys")
            self.phase = 1
            return text[: m.end()] + self.lines(text[m.end():])
        if self.phase == 2:
            self.tail += text
            return text
        end = text.find("</graph>")
        body, close = (text, "") if end < 0 else (text[:end], text[end:])
        parts = _EDGE.split(body)  # rest, src, dst, key, value, rest, src, ...
        rest = "".join(parts[0::5])
        if not _BODY.fullmatch(rest):
            raise Fallback("a line that is not a canonical node or edge")
        self.src += parts[1::5]
        self.dst += parts[2::5]
        self.keys += parts[3::5]
        self.vals += parts[4::5]
        if close:
            self.phase = 2
            self.tail = close
        return rest + close

    def data(
        self, convert: Callable[[str], tuple[str, Any]], number: object
    ) -> list[dict[str, Any]]:
        """The attribute dict of every edge; ``convert(key)`` gives ``(name, parser)`` and
        ``number`` marks a parser that must yield a finite float."""
        distinct = set(self.keys)
        if len(distinct) == 1 and None not in distinct:
            name, parse = convert(distinct.pop())  # type: ignore[arg-type]
            if parse is number:
                if not all(map(str.isascii, self.vals)):  # float() reads other digits too
                    raise Fallback("a weight that is not ASCII")
                xs: list[Any] = list(map(float, self.vals))
                if not np.isfinite(np.asarray(xs, dtype=np.float64)).all():
                    raise Fallback("a weight that is not a finite number")
            else:
                xs = [parse(v, "edge") for v in self.vals]
            return [{name: x} for x in xs]
        out: list[dict[str, Any]] = []
        for k, v in zip(self.keys, self.vals, strict=True):
            if k is None:
                out.append({})
                continue
            name, parse = convert(k)
            if parse is number:
                if not v.isascii():
                    raise Fallback("a weight that is not ASCII")
                x = float(v)
                if x - x != 0.0:
                    raise Fallback("a weight that is not a finite number")
            else:
                x = parse(v, "edge")
            out.append({name: x})
        return out
