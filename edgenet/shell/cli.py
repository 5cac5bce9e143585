"""The ``edgenet`` command: inspect, draw and demo networks from the shell.

``edgenet info FILE`` describes a network (neurons, edges, layers, skip
connections, parameters, the compiled plan per generation, cycles if any);
``edgenet draw FILE -o out.png`` draws it; ``edgenet demo`` builds, trains, saves
and draws a sparse network on the digits data. ``FILE`` is GraphML (``.graphml``,
``.xml``, ``.graphml.gz``, or GraphML content under any other name) or a native
``.npz`` written by :func:`edgenet.save`. ``--rename FILE_ATTR=NAME`` reads a GraphML
attribute under another name (a file whose ``role`` holds cell classes:
``--rename role=cell_class``). Every list ``info`` prints is cut to a few names.

Exit status: 0 on success, 1 when the input cannot be used (a missing or
malformed file, ...; the reason is printed on stderr), 2 for a usage error. Cycles
are facts, not errors: ``info`` describes a cyclic graph (a recurrent connectome) and
``--break-cycles`` describes the DAG left by removing a small feedback arc set.

>>> from edgenet.shell.cli import main
>>> main(["info", "no-such-file.graphml"])
1
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Hashable, Sequence
from typing import Any

import networkx as nx
import torch

from ..errors import EdgenetError, printable
from ..graph import cycles
from ..graph.validate import check_graph, generations, resolve_roles
from ..io.files import read_network


def _levels(G: nx.DiGraph) -> tuple[list[list[Hashable]], int]:
    """Topological generations and the number of skip connections (edges spanning > 1)."""
    gens = generations(G)
    level = {n: i for i, gen in enumerate(gens) for n in gen}
    skips = sum(1 for u, v in G.edges if level[v] - level[u] > 1)
    return gens, skips


def _names(nodes: Sequence[Hashable], limit: int = 6, sep: str = ", ") -> str:
    """At most ``limit`` names, each cut to :data:`NAME_CHARS` characters, and a count of
    the rest: every list ``info`` prints stays one short line whatever the graph."""
    shown = sep.join(_name(n) for n in nodes[:limit])
    return shown + (f"{sep}... ({len(nodes) - limit:,} more)" if len(nodes) > limit else "")


#: The most characters of one name ``info`` prints.
NAME_CHARS = 60


def _name(node: Hashable) -> str:
    text = printable(node)
    return text if len(text) <= NAME_CHARS else f"{text[:NAME_CHARS - 3]}..."


def info(path: str, *, all_generations: bool = False, break_cycles: bool = False,
         **read: Any) -> int:
    """Print what a network file holds. A cyclic graph is described (strongly connected
    components, a few cycles, a small feedback arc set, its recurrent parameters); with
    ``break_cycles`` its cycles are broken first (:func:`edgenet.break_cycles`) and the
    resulting DAG is described as any other."""
    G = read_network(path, **read)
    cyclic = nx.number_of_selfloops(G) > 0 or not nx.is_directed_acyclic_graph(G)
    removed: list[tuple[Hashable, Hashable]] = []
    if cyclic and break_cycles:
        G, removed = cycles.break_cycles(G)
        cyclic = False
    if not cyclic:
        check_graph(G)
    inputs, outputs = resolve_roles(G, strict=False)
    isolated = list(nx.isolates(G))
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
    if isolated:
        rows.append(("isolated", f"{len(isolated):,} neurons without edges: {_names(isolated)}"))
    if removed:
        total = n_edges + len(removed)
        rows.append(("broken", f"{len(removed):,} of {total:,} edges removed to break "
                                  f"cycles ({100 * len(removed) / total:.1f}%): "
                                  + _names([f"{u} -> {v}" for u, v in removed], 3)))
    if not n_edges:  # nothing to lay out or compile: describe what there is
        _table(rows + [("parameters", f"{G.number_of_nodes() - len(inputs):,} biases, no "
                                      "weights"), ("cycles", "none")])
        print("no edges, so no compiled plan: connect the neurons (Network.add_edge) to make "
              "a network of them")
        return 0
    if cyclic:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from ..model.compile import compile

            if inputs and outputs:  # checked as edgenet.compile(G, recurrent=True) checks it
                compile(G, recurrent=True, seed=0, dtype=torch.float64)
            else:
                what = "sources to take as inputs" if not inputs else "sinks to take as outputs"
                rows.append(("compile", f"not checked: with no {what}, edgenet.compile(G, "
                                        "recurrent=True) needs inputs=[...] and outputs=[...]"))
        n_neurons = G.number_of_nodes() - len(inputs)
        rows.insert(5, ("parameters", f"{n_edges + n_neurons:,} ({n_edges:,} weights, "
                                      f"{n_neurons:,} biases) as a recurrent network"))
        _table(rows + _cycle_rows(G))
        print("run it over time with edgenet.compile(G, recurrent=True), or describe the DAG "
              "left by breaking its cycles with --break-cycles")
        return 0
    gens, skips = _levels(G)
    rows += [
        ("generations", f"{len(gens):,} (layers; inputs are generation 0)"),
        ("skip edges", f"{skips:,} (edges spanning more than one generation)"),
        ("cycles", "none" if not removed else "none left"),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from ..model.compile import compile

        model = compile(G, seed=0, dtype=torch.float64)  # holds every finite weight
    n_bias = model.bias.numel()
    rows.insert(5, ("parameters", f"{n_edges + n_bias:,} ({n_edges:,} weights, {n_bias:,} biases)"))
    _table(rows)
    lines = model.summary().splitlines()[1:]
    if not all_generations and len(lines) > 41:
        hidden = len(lines) - 41
        lines = [*lines[:21], f"  ... {hidden:,} more generations (--all shows them) ...",
                 *lines[-20:]]
    print("plan per generation:")
    print("\n".join(map(printable, lines)))
    return 0


def _cycle_rows(G: nx.DiGraph, shown: int = 3) -> list[tuple[str, str]]:
    """What a cyclic graph's ``info`` says of its cycles."""
    sccs = sorted((c for c in nx.strongly_connected_components(G) if len(c) > 1),
                  key=len, reverse=True)
    loops = nx.number_of_selfloops(G)
    rows = [("cycles", f"yes: {sum(map(len, sccs)):,} neurons on cycles in {len(sccs):,} "
                       f"strongly connected components (largest {len(sccs[0]) if sccs else 0:,})"
                       f", {loops:,} self-loops")]
    rank = {n: i for i, n in enumerate(G)}
    examples = [_shortest_cycle(G, c, min(c, key=rank.__getitem__)) for c in sccs[:shown]]
    if len(examples) < shown:
        examples += [[u] for u, _ in list(nx.selfloop_edges(G))[: shown - len(examples)]]
    for i, cycle in enumerate(examples):
        around = [*cycle, cycle[0]]
        text = _names(around, 7, " -> ") if len(around) <= 7 else (
            f"{_names(around[:3], 3, ' -> ')} -> ... ({len(around) - 6:,} more) -> "
            f"{_names(around[-3:], 3, ' -> ')} ({len(cycle):,} neurons)")
        rows.append(("for example" if i == 0 else "", text))
    _, removed = cycles.break_cycles(G)
    rows.append(("feedback", f"removing {len(removed):,} of {G.number_of_edges():,} edges "
                             f"({100 * len(removed) / max(G.number_of_edges(), 1):.1f}%, "
                             f"{loops:,} of them self-loops) leaves a DAG (edgenet.break_cycles)"))
    return rows


def _shortest_cycle(G: nx.DiGraph, component: set[Hashable], start: Hashable) -> list[Hashable]:
    """A shortest cycle through ``start`` inside one strongly connected ``component``."""
    parent: dict[Hashable, Hashable] = {start: start}
    frontier = [start]
    while frontier:
        following = []
        for u in frontier:
            for v in G.succ[u]:
                if v == start and u != start:
                    path = [u]
                    while path[-1] != start:
                        path.append(parent[path[-1]])
                    return path[::-1]
                if v in component and v not in parent:
                    parent[v] = u
                    following.append(v)
        frontier = following
    return [start]  # pragma: no cover - a component of two or more always has a cycle


def _table(rows: list[tuple[str, str]]) -> None:
    for key, value in rows:
        print(f"{key:<12} {printable(value)}")


def draw_file(
    path: str, out: str | None, *, max_edges: int | None, labels: bool | None, **read: Any
) -> int:
    """Draw a network file, cyclic or not, to ``out`` (default: next to it, as PNG).

    ``out`` ending in ``.html`` writes an interactive page instead of a picture.
    """
    from ..views.draw import draw

    G = read_network(path, **read)
    stem = path[: -len(".gz")] if path.lower().endswith(".gz") else path
    target = out if out is not None else os.path.splitext(stem)[0] + ".png"
    draw(G, path=target, max_edges=max_edges, labels=labels)
    print(f"wrote {printable(target)}")
    return 0


def demo(out: str, *, quick: bool, seed: int, rewire: bool = False) -> int:
    """Run :func:`edgenet.shell.demo.run`, or with ``rewire``
    :func:`edgenet.shell.demo.compare_rewiring`."""
    from .demo import compare_rewiring, run

    if rewire:
        compare_rewiring(seeds=(seed, seed + 1) if quick else range(seed, seed + 5), quick=quick)
        return 0
    if os.path.exists(out) and not os.path.isdir(out):
        raise EdgenetError(
            f"--out {out!r} is a file; expected a directory for digits.graphml, digits.png and "
            "digits.html (created when missing)"
        )
    os.makedirs(out, exist_ok=True)  # a folder that cannot be made fails now, not after training
    run(out, quick=quick, seed=seed)
    return 0


def parser() -> argparse.ArgumentParser:
    """The argument parser of the ``edgenet`` command."""
    from .. import __version__

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
    i.add_argument("--break-cycles", action="store_true",
                   help="describe the DAG left by removing a small feedback arc set "
                   "(edgenet.break_cycles) instead of the cyclic graph")
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
                   help="directory for digits.graphml, .png and .html (default: edgenet-demo)")
    m.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    m.add_argument("--rewire", action="store_true",
                   help="instead: an MLP at 5%% of the dense edges, static (uniform, ERK), "
                   "with SET, RigL and gradual pruning, side by side over 5 seeds")
    return p


def _read_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--undirected", choices=("refuse", "as-written", "both"), default="refuse",
                   help="undirected GraphML: refuse it (default), orient each edge as written, "
                   "or add both directions")
    p.add_argument("--parallel", choices=("refuse", "sum"), default="refuse",
                   help="parallel edges: refuse them (default) or merge them, summing weights")
    p.add_argument("--rename", action="append", type=_renaming, default=[],
                   metavar="FILE_ATTR=NAME",
                   help="read the GraphML attribute FILE_ATTR as NAME, for files whose "
                   "'role' or 'activation' mean something else: --rename role=cell_class "
                   "(repeatable)")


def _renaming(text: str) -> tuple[str, str]:
    old, sep, new = text.partition("=")
    if not sep or not old or not new:
        raise argparse.ArgumentTypeError(
            f"expected FILE_ATTR=NAME, e.g. role=cell_class (got {text!r})")
    return old, new


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

    >>> from edgenet.shell.cli import main
    >>> main(["draw", "missing.graphml"])
    1
    """
    try:
        args = parser().parse_args(argv)
        if args.command == "info":
            code = info(args.file, all_generations=args.all, break_cycles=args.break_cycles,
                        undirected=args.undirected, parallel=args.parallel,
                        rename=dict(args.rename))
        elif args.command == "draw":
            code = draw_file(args.file, args.output, max_edges=args.max_edges or None,
                             labels=args.labels, undirected=args.undirected,
                             parallel=args.parallel, rename=dict(args.rename))
        else:
            code = demo(args.out, quick=args.quick, seed=args.seed, rewire=args.rewire)
        sys.stdout.flush()  # here, so that a closed pipe is caught below
        return code
    except EdgenetError as err:
        sys.stdout.flush()
        print(f"edgenet: error: {printable(err)}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. `edgenet info big.graphml | head`: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except OSError as err:
        where = f"{err.filename!r}: " if err.filename else ""
        print(f"edgenet: error: {printable(where)}{printable(err.strerror or err)}",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("edgenet: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
