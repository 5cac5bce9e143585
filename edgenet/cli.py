"""The ``edgenet`` command: inspect, draw and demo networks from the shell.

``edgenet info FILE`` describes a network (neurons, edges, layers, skip
connections, parameters, the compiled plan per generation, cycles if any);
``edgenet draw FILE -o out.png`` draws it; ``edgenet demo`` builds, trains, saves
and draws a sparse network on the digits data. ``FILE`` is GraphML (``.graphml``,
``.xml``, ``.graphml.gz``) or a native ``.npz`` written by :func:`edgenet.save`.

Exit status: 0 on success, 1 when the input cannot be used (a missing or
malformed file, a cyclic graph, ...; the reason is printed on stderr), 2 for a
usage error.

>>> from edgenet.cli import main
>>> main(["info", "no-such-file.graphml"])
1
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Hashable, Sequence

import networkx as nx

from .errors import CycleError, EdgenetError
from .network import Network
from .validate import check_graph, generations, resolve_roles

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
    >>> from edgenet.cli import read_network, write_network
    >>> path = os.path.join(tempfile.mkdtemp(), "net.graphml")
    >>> write_network(nx.DiGraph([("x", "y", {"weight": 0.5})]), path)
    >>> read_network(path).edges["x", "y"]["weight"]
    0.5
    """
    from .io.graphml import read_graphml
    from .io.native import load

    name = os.fspath(path)
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
    """Write ``G`` as GraphML (:func:`edgenet.write_graphml`), or natively
    (:func:`edgenet.save`) when ``path`` ends in ``.npz``.

    >>> import os, tempfile, networkx as nx
    >>> from edgenet.cli import write_network
    >>> path = os.path.join(tempfile.mkdtemp(), "net.graphml")
    >>> write_network(nx.DiGraph([("x", "y", {"weight": 0.5})]), path)
    >>> os.path.getsize(path) > 0
    True
    """
    from .io.graphml import write_graphml
    from .io.native import save

    if os.fspath(path).lower().endswith(NATIVE):
        save(G, path)
    else:
        write_graphml(G, path)


def _levels(G: nx.DiGraph) -> tuple[list[list[Hashable]], int]:
    """Topological generations and the number of skip connections (edges spanning > 1)."""
    gens = generations(G)
    level = {n: i for i, gen in enumerate(gens) for n in gen}
    skips = sum(1 for u, v in G.edges if level[v] - level[u] > 1)
    return gens, skips


def _names(nodes: Sequence[Hashable], limit: int = 6) -> str:
    shown = ", ".join(str(n) for n in nodes[:limit])
    return shown + (f", ... ({len(nodes) - limit} more)" if len(nodes) > limit else "")


def info(path: str, *, all_generations: bool = False, **read: str) -> int:
    """Print what a network file holds; raises when it cannot be compiled (e.g. a cycle)."""
    G = read_network(path, **read)
    check_graph(G)
    inputs, outputs = resolve_roles(G, strict=False)
    n_edges = G.number_of_edges()
    missing = sum(1 for _, _, w in G.edges(data="weight") if w is None)
    rows = [
        ("file", path),
        ("neurons", f"{G.number_of_nodes():,} ({len(inputs):,} inputs, "
                    f"{G.number_of_nodes() - len(inputs) - len(outputs):,} hidden, "
                    f"{len(outputs):,} outputs)"),
        ("edges", f"{n_edges:,}" + (f" ({missing:,} without a weight)" if missing else "")),
        ("inputs", _names(inputs)),
        ("outputs", _names(outputs)),
    ]
    try:
        gens, skips = _levels(G)
    except CycleError as err:
        _table(rows)
        on_cycles = [c for c in nx.strongly_connected_components(G) if len(c) > 1]
        print(f"{'cycles':<12} yes: {sum(len(c) for c in on_cycles):,} neurons on cycles in "
              f"{len(on_cycles):,} strongly connected components; for example "
              + " -> ".join(str(n) for n in [*err.cycle, err.cycle[0]]))
        raise
    rows += [
        ("generations", f"{len(gens):,} (layers; inputs are generation 0)"),
        ("skip edges", f"{skips:,} (edges spanning more than one generation)"),
        ("cycles", "none"),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from .compile import compile

        model = compile(G, seed=0)
    n_bias = model.bias.numel()
    rows.insert(5, ("parameters", f"{n_edges + n_bias:,} ({n_edges:,} weights, {n_bias:,} biases)"))
    _table(rows)
    lines = model.summary().splitlines()[1:]
    if not all_generations and len(lines) > 41:
        hidden = len(lines) - 41
        lines = [*lines[:21], f"  ... {hidden:,} more generations (--all shows them) ...",
                 *lines[-20:]]
    print("plan per generation:")
    print("\n".join(lines))
    return 0


def _table(rows: list[tuple[str, str]]) -> None:
    for key, value in rows:
        print(f"{key:<12} {value}")


def draw_file(
    path: str, out: str | None, *, max_edges: int | None, labels: bool | None, **read: str
) -> int:
    """Draw a network file, cyclic or not, to ``out`` (default: next to it, as PNG).

    ``out`` ending in ``.html`` writes an interactive page instead of a picture.
    """
    from .draw import draw

    G = read_network(path, **read)
    stem = path[: -len(".gz")] if path.lower().endswith(".gz") else path
    target = out if out is not None else os.path.splitext(stem)[0] + ".png"
    draw(G, path=target, max_edges=max_edges, labels=labels)
    print(f"wrote {target}")
    return 0


def demo(out: str, *, quick: bool, seed: int) -> int:
    """Run :func:`edgenet.demo.run` and report whether it met its target."""
    from .demo import run

    run(out, quick=quick, seed=seed)
    return 0


def parser() -> argparse.ArgumentParser:
    """The argument parser of the ``edgenet`` command."""
    from . import __version__

    p = argparse.ArgumentParser(
        prog="edgenet",
        description="Neural networks whose connectivity is a graph: inspect, draw and demo.",
    )
    p.add_argument("--version", action="version", version=f"edgenet {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    i = sub.add_parser("info", help="describe a network file (GraphML)",
                       description="Describe a network file: neurons, edges, layers, skip "
                       "connections, parameters, the compiled plan per generation, cycles.")
    i.add_argument("file", metavar="FILE", help="a GraphML (or .npz) file")
    i.add_argument("--all", action="store_true", help="list every generation of the plan")
    _read_options(i)

    d = sub.add_parser("draw", help="draw a network file as a layered picture or an HTML page",
                       description="Draw a network file: layers left to right, edges coloured "
                       "by weight, skip connections dashed; a cyclic network's feedback edges "
                       "dotted. An .html output is an interactive page that works offline.")
    d.add_argument("file", metavar="FILE", help="a GraphML (or .npz) file")
    d.add_argument("-o", "--output", metavar="OUT",
                   help="picture to write (.png, .svg or .pdf), or an interactive page (.html); "
                   "default: FILE with .png")
    d.add_argument("--max-edges", type=_count, default=20_000, metavar="N",
                   help="draw at most N edges, the strongest (0: all; default 20000)")
    d.add_argument("--labels", action=argparse.BooleanOptionalAction, default=None,
                   help="write node names (default: only for small networks)")
    _read_options(d)

    m = sub.add_parser("demo", help="build, train, save and draw a sparse network on digits",
                       description="Build a sparse, locally connected network edge by edge, "
                       "train it on scikit-learn's digits, and write it as GraphML and PNG.")
    m.add_argument("--quick", action="store_true", help="a small, fast run (seconds)")
    m.add_argument("--out", default="edgenet-demo", metavar="DIR",
                   help="directory for digits.graphml and digits.png (default: edgenet-demo)")
    m.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    return p


def _read_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--undirected", choices=("refuse", "as-written", "both"), default="refuse",
                   help="undirected GraphML: refuse it (default), orient each edge as written, "
                   "or add both directions")
    p.add_argument("--parallel", choices=("refuse", "sum"), default="refuse",
                   help="parallel edges: refuse them (default) or merge them, summing weights")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number (got {text!r})") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more (got {value})")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``edgenet`` command with ``argv`` (default: ``sys.argv[1:]``); returns the
    exit status.

    >>> from edgenet.cli import main
    >>> main(["draw", "missing.graphml"])
    1
    """
    args = parser().parse_args(argv)
    try:
        if args.command == "info":
            code = info(args.file, all_generations=args.all, undirected=args.undirected,
                        parallel=args.parallel)
        elif args.command == "draw":
            code = draw_file(args.file, args.output, max_edges=args.max_edges or None,
                             labels=args.labels, undirected=args.undirected,
                             parallel=args.parallel)
        else:
            code = demo(args.out, quick=args.quick, seed=args.seed)
        sys.stdout.flush()  # here, so that a closed pipe is caught below
        return code
    except EdgenetError as err:
        sys.stdout.flush()
        print(f"edgenet: error: {err}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `edgenet info big.graphml | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as err:
        where = f"{err.filename!r}: " if err.filename else ""
        print(f"edgenet: error: {where}{err.strerror or err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("edgenet: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
