"""The exception hierarchy: every bad-input error edgenet raises is an :class:`EdgenetError`.

Messages name the node or edge at fault, show the offending value and say what
would have been accepted, so that the error alone is enough to fix the input.

>>> import edgenet as en
>>> issubclass(en.CycleError, en.EdgenetError) and issubclass(en.EdgenetError, ValueError)
True
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence


class EdgenetError(ValueError):
    """Base class of every error edgenet raises for bad input.

    It subclasses :class:`ValueError`, so ``except ValueError`` keeps working.

    >>> import edgenet as en
    >>> try:
    ...     en.Network().compile()
    ... except en.EdgenetError as err:
    ...     print(type(err).__name__)
    EdgenetError
    """


class CycleError(EdgenetError):
    """The graph has a directed cycle (a self-loop is one of a single node), so it cannot
    be compiled as a feed-forward network.

    ``cycle`` holds the nodes of one cycle in order (the last feeds the first). A cyclic
    graph compiles as a recurrent network with ``edgenet.compile(G, recurrent=True)``, or
    as a DAG once :func:`edgenet.break_cycles` has removed a few edges.

    >>> import networkx as nx, edgenet as en
    >>> try:
    ...     en.compile(nx.DiGraph([("x", "a"), ("a", "b"), ("b", "a"), ("b", "y")]))
    ... except en.CycleError as err:
    ...     print(err.cycle)
    ['a', 'b']
    """

    def __init__(self, cycle: Sequence[Hashable]):
        self.cycle = list(cycle)
        path = " -> ".join(repr(n) for n in [*self.cycle, self.cycle[0]])
        super().__init__(
            f"the graph has a cycle: {path}, so it is not a feed-forward network. Compile it "
            "as a recurrent network with edgenet.compile(G, recurrent=True, inputs=..., "
            "outputs=...), or remove one edge of each cycle (edgenet.break_cycles does)"
        )


class InputError(EdgenetError):
    """A tensor passed to a compiled network has the wrong shape, dtype or device.

    >>> import torch, edgenet as en
    >>> net = en.Network(); net.add_input("x"); net.add_output("y"); net.add_edge("x", "y")
    >>> try:
    ...     net.compile()(torch.zeros(2, 3))
    ... except en.InputError as err:
    ...     print(str(err)[:81])
    expected a tensor of shape (batch, 1) or (1,) for inputs ['x'] (got shape (2, 3))
    """


class GraphMLError(EdgenetError):
    """A GraphML file is unsafe, malformed, or holds something edgenet cannot represent.

    The message names the file and, where the parser knows it, the line and column.

    >>> import io, edgenet as en
    >>> try:
    ...     en.read_graphml(io.BytesIO(b"<graphml><graph edgedefault='directed'>"))
    ... except en.GraphMLError as err:
    ...     print("line 1" in str(err))
    True
    """


class FormatError(EdgenetError):
    """A file given to :func:`edgenet.load` is not a valid edgenet save file.

    >>> import io, edgenet as en
    >>> try:
    ...     en.load(io.BytesIO(b"not a save file"))
    ... except en.FormatError as err:
    ...     print(type(err).__name__)
    FormatError
    """


def printable(text: object) -> str:
    r"""``str(text)`` with every character a terminal would act on (control characters,
    newlines, escape sequences, bidirectional overrides) written as a Python escape, so
    that names read from a file cannot forge or hide output.

    >>> from edgenet.errors import printable
    >>> print(printable("a\x1b]0;owned\x07\nb"))
    a\x1b]0;owned\x07\nb
    """
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
