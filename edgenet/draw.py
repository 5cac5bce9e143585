"""Draw a network as a layered picture: layers left to right, edges by weight.

Neurons are placed by topological generation (inputs on the left, outputs on
the right) and spread vertically within a generation, ordered to follow their
inputs so that edges cross less. Edges are coloured by the sign of their weight
and shaded by its magnitude; an edge that spans more than one generation, a skip
connection, is drawn as a dashed arc so that it stands apart from the edges
between neighbouring layers. Neuron colour says the activation, the marker the
role. Large graphs stay quick: edges are drawn as one ``LineCollection``, and
beyond ``max_edges`` only the strongest edges are drawn, which the figure says.

matplotlib is imported only when drawing (``pip install "edgenet[draw]"``).

>>> import os, tempfile, networkx as nx, edgenet as en
>>> G = nx.DiGraph([("x", "h", {"weight": 1.0}), ("h", "y", {"weight": -2.0}), ("x", "y")])
>>> path = os.path.join(tempfile.mkdtemp(), "net.png")
>>> _ = en.draw(G, path=path)
>>> os.path.getsize(path) > 0
True
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from .errors import EdgenetError
from .validate import check_graph, edge_weights, generations, resolve_roles

#: Image formats :func:`draw` writes, by file suffix.
FORMATS = ("png", "svg", "pdf")

_NEUTRAL = "#8c8c8c"
_ACTIVATION_COLOURS = (
    "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#0072b2", "#999933",
    "#882255", "#44aa99",
)  # fmt: skip
_ROLE_MARKERS = {"input": "s", "hidden": "o", "output": "D"}


@dataclass(frozen=True)
class Layout:
    """Where :func:`draw` puts each neuron, as arrays over ``nodes``.

    ``level[i]`` is the topological generation of ``nodes[i]``, ``x[i]`` the column
    it is drawn in (its level, except that outputs feeding nothing are drawn in the
    last column) and ``y[i]`` its height. ``src``/``dst`` index the edges and
    ``weight`` holds their weights (NaN where missing), in ``G.edges`` order.
    """

    nodes: list[Hashable]
    roles: list[str]
    activations: list[str]
    level: np.ndarray
    x: np.ndarray
    y: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray

    @property
    def skip(self) -> np.ndarray:
        """Boolean mask of skip connections: edges spanning more than one generation."""
        return (self.level[self.dst] - self.level[self.src]) > 1


def layout(G: nx.DiGraph) -> Layout:
    """Place every neuron of a DAG: column by generation, height ordered by its inputs.

    Raises :class:`~edgenet.errors.CycleError` when ``G`` has a cycle.

    >>> import networkx as nx
    >>> from edgenet.draw import layout
    >>> pos = layout(nx.DiGraph([("a", "h"), ("h", "y"), ("a", "y")]))
    >>> pos.nodes, pos.level.tolist()
    (['a', 'h', 'y'], [0, 1, 2])
    >>> [(pos.nodes[u], pos.nodes[v]) for u, v in zip(pos.src[pos.skip], pos.dst[pos.skip])]
    [('a', 'y')]
    """
    check_graph(G)
    gens = generations(G)
    inputs, outputs = resolve_roles(G, strict=False)
    input_set, output_set = set(inputs), set(outputs)
    nodes = [n for gen in gens for n in gen]
    index = {n: i for i, n in enumerate(nodes)}
    level = np.repeat(np.arange(len(gens)), [len(g) for g in gens]).astype(np.int64)

    roles: list[str] = []
    activations: list[str] = []
    for n in nodes:
        data = G.nodes[n]
        role = "input" if n in input_set else "output" if n in output_set else "hidden"
        roles.append(role)
        act = data.get("activation")
        if role == "input":
            activations.append("input")
        else:
            activations.append(str(act) if act is not None else
                               ("identity" if role == "output" else "relu"))

    triples = list(G.edges(data="weight"))
    weight = edge_weights(G, triples)  # (E,) NaN where missing
    src = np.fromiter((index[u] for u, _, _ in triples), dtype=np.int64, count=len(triples))
    dst = np.fromiter((index[v] for _, v, _ in triples), dtype=np.int64, count=len(triples))

    # Outputs that feed nothing line up in the last column.
    x = level.copy()
    if len(nodes):
        sinks = np.ones(len(nodes), dtype=bool)
        sinks[src] = False
        is_output = np.fromiter((r == "output" for r in roles), dtype=bool, count=len(nodes))
        x[sinks & is_output] = level.max()
    y = _heights(x, src, dst)
    return Layout(nodes, roles, activations, level, x, y, src, dst, weight)


def _heights(x: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Spread each column over the height, ordered by the mean height of each node's inputs."""
    n = len(x)
    y = np.zeros(n)
    if n == 0:
        return y
    columns = int(x.max()) + 1
    members = np.argsort(x, kind="stable")  # nodes column by column, insertion order within
    bounds = np.searchsorted(x[members], np.arange(columns + 1))
    widest = int(np.diff(bounds).max())
    by_target = np.argsort(x[dst], kind="stable")
    ebounds = np.searchsorted(x[dst][by_target], np.arange(columns + 1))
    local = np.empty(n, dtype=np.int64)
    for c in range(columns):
        col = members[bounds[c] : bounds[c + 1]]  # (k,) node ids in this column
        k = len(col)
        if k == 0:
            continue
        extent = 1.0 if k == 1 else max(k / widest, 0.5)
        slots = (0.5 - (np.arange(k) + 0.5) / k) * extent  # (k,) evenly spaced, top down
        edges = by_target[ebounds[c] : ebounds[c + 1]]
        local[col] = np.arange(k)
        if len(edges):
            tgt = local[dst[edges]]
            total = np.bincount(tgt, weights=y[src[edges]], minlength=k)
            count = np.bincount(tgt, minlength=k)
            key = np.where(count > 0, total / np.maximum(count, 1), slots)
        else:
            key = slots
        y[col[np.argsort(-key, kind="stable")]] = slots  # highest inputs on top
    return y


def draw(
    G: nx.DiGraph,
    path: str | os.PathLike[str] | None = None,
    ax: Any = None,
    *,
    max_edges: int | None = 20_000,
    labels: bool | None = None,
    title: str | None = None,
    dpi: int = 150,
) -> Any:
    """Draw a network (any NetworkX DAG, trained or not) as a layered picture.

    Columns are topological generations (layers): inputs on the left, outputs on the
    right. Edges are red for positive and blue for negative weights, stronger the
    larger ``|weight|`` (a missing weight is grey); skip connections, edges that span
    more than one layer, are dashed arcs. Neuron colour is the activation, the marker
    its role (square input, circle hidden, diamond output).

    Parameters
    ----------
    G : networkx.DiGraph or CompiledNetwork
        The network, e.g. ``model.to_network()`` (a compiled model is drawn with its
        current weights); roles and activations are read from the node attributes and
        inferred like :func:`edgenet.compile` does when absent.
    path : str or path-like, optional
        Write the picture there; the suffix picks the format (``.png``, ``.svg``,
        ``.pdf``). Rendering uses the non-interactive Agg canvas, no display needed.
    ax : matplotlib Axes, optional
        Draw into this Axes instead of a new figure.
    max_edges : int or None
        Draw at most this many edges, the ones with the largest ``|weight|``; the
        figure says how many were left out. ``None`` draws every edge.
    labels : bool, optional
        Write node names; by default every name when the graph has at most 40 nodes,
        else the names of the outputs when there are at most 30.
    title : str, optional
        Figure title; by default a one-line summary of the topology.
    dpi : int
        Resolution of raster output.

    Returns
    -------
    matplotlib.axes.Axes
        The Axes drawn into.

    >>> import networkx as nx, edgenet as en
    >>> ax = en.draw(nx.DiGraph([("a", "b", {"weight": 0.5}), ("b", "c", {"weight": -1.0})]))
    >>> len(ax.collections) > 0
    True
    """
    suffix = None
    if path is not None:
        suffix = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
        if suffix not in FORMATS:
            raise EdgenetError(
                f"cannot tell the image format of {os.fspath(path)!r} from its suffix "
                f"{'.' + suffix if suffix else '(none)'}; accepted suffixes: "
                + ", ".join("." + f for f in FORMATS)
            )
    if max_edges is not None and (
        isinstance(max_edges, bool) or not isinstance(max_edges, numbers.Integral) or max_edges < 0
    ):
        raise EdgenetError(f"max_edges must be a non-negative int or None (got {max_edges!r})")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise EdgenetError(
            'drawing needs matplotlib, which is not installed: pip install "edgenet[draw]"'
        ) from None
    if hasattr(G, "to_network") and not isinstance(G, nx.Graph):
        G = G.to_network()  # a compiled network: draw its current weights
    pos = layout(G)

    if ax is None:
        if path is not None:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure

            fig = Figure(figsize=_size(pos), dpi=dpi)
            FigureCanvasAgg(fig)
            ax = fig.add_subplot()
        else:
            import matplotlib.pyplot as plt

            fig, ax = plt.subplots(figsize=_size(pos), dpi=dpi)
    fig = ax.figure
    _render(ax, pos, max_edges, labels, title)
    if path is not None:
        fig.savefig(os.fspath(path), format=suffix, dpi=dpi, bbox_inches="tight")
    return ax


def _size(pos: Layout) -> tuple[float, float]:
    columns = int(pos.x.max()) + 1 if len(pos.nodes) else 1
    widest = int(np.bincount(pos.x).max()) if len(pos.nodes) else 1
    width = float(np.clip(2.0 * columns + 3.0, 7.0, 16.0))
    height = float(np.clip(0.45 * widest + 1.5, 5.0, 10.0))
    return width, height


def _render(ax: Any, pos: Layout, max_edges: int | None, labels: bool | None, title: str | None):
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import LineCollection
    from matplotlib.colors import ListedColormap, TwoSlopeNorm
    from matplotlib.lines import Line2D

    n_nodes, n_edges = len(pos.nodes), len(pos.src)
    skip = pos.skip  # (E,)
    magnitude = np.abs(pos.weight)  # (E,) NaN where missing
    known = ~np.isnan(magnitude)

    # Thin: keep the strongest edges (missing weights last), deterministically.
    order = np.argsort(-np.where(known, magnitude, -1.0), kind="stable")
    shown = order if max_edges is None else order[:max_edges]
    shown = shown[::-1]  # weakest first, so the strongest are drawn on top

    scale = float(np.percentile(magnitude[known], 98)) if known.any() else 1.0
    scale = scale if scale > 0 else 1.0
    base = colormaps["RdBu_r"]  # without its white middle, so that weak edges stay visible
    cmap = ListedColormap(
        np.vstack([base(np.linspace(0.0, 0.36, 128)), base(np.linspace(0.64, 1.0, 128))]),
        name="edgenet_weight",
    )
    norm = TwoSlopeNorm(vmin=-scale, vcenter=0.0, vmax=scale)
    w = pos.weight[shown]
    strength = np.clip(np.nan_to_num(np.abs(w) / scale, nan=0.0), 0.0, 1.0)  # (M,) in [0, 1]
    colours = cmap(norm(np.clip(np.nan_to_num(w, nan=0.0), -scale, scale)))  # (M, 4) RGBA
    colours[:, :3] = np.where(np.isnan(w)[:, None], np.array(_rgb(_NEUTRAL)), colours[:, :3])
    crowd = min(1.0, 400.0 / max(len(shown), 1)) ** 0.5  # dimmer when there are many edges
    alpha = (0.45 + 0.55 * strength) * (0.2 + 0.8 * crowd)  # (M,)
    colours[:, 3] = np.where(np.isnan(w), 0.5 * crowd + 0.1, alpha)
    widths = (0.9 + 2.1 * strength) * (0.3 + 0.7 * crowd)

    xy = np.stack([pos.x, pos.y], axis=1).astype(np.float64)  # (N, 2)
    s_src, s_dst, s_skip = pos.src[shown], pos.dst[shown], skip[shown]
    straight = ~s_skip
    segs: Any = np.stack([xy[s_src[straight]], xy[s_dst[straight]]], axis=1)  # (m, 2, 2)
    ax.add_collection(
        LineCollection(segs, colors=colours[straight], linewidths=widths[straight], zorder=1)
    )
    if s_skip.any():
        arcs: Any = _arcs(xy[s_src[s_skip]], xy[s_dst[s_skip]])  # (k, P, 2)
        ax.add_collection(
            LineCollection(
                arcs, colors=colours[s_skip], linewidths=widths[s_skip], linestyles=(0, (3, 2)),
                zorder=1,
            )
        )

    # Neurons: marker by role, colour by activation.
    height_pt = 72.0 * ax.figure.get_size_inches()[1] * 0.8
    per_column = np.bincount(pos.x) if n_nodes else np.ones(1, dtype=np.int64)  # (columns,)
    extent = np.where(per_column > 1, np.maximum(per_column / per_column.max(), 0.5), 1.0)
    spacing = height_pt * extent / np.maximum(per_column, 1)  # (columns,) points between nodes
    diameter = np.clip(0.7 * spacing, 1.5, 14.0)[pos.x] if n_nodes else np.zeros(0)  # (N,)
    acts = sorted(set(pos.activations) - {"input"})
    palette = {a: _ACTIVATION_COLOURS[i % len(_ACTIVATION_COLOURS)] for i, a in enumerate(acts)}
    palette["input"] = "#4d4d4d"
    roles = np.asarray(pos.roles)
    act_arr = np.asarray(pos.activations)
    for role, marker in _ROLE_MARKERS.items():
        for act in ["input", *acts]:
            pick = np.flatnonzero((roles == role) & (act_arr == act))
            if len(pick):
                ax.scatter(
                    xy[pick, 0], xy[pick, 1], s=diameter[pick] ** 2, marker=marker,
                    c=palette[act], edgecolors=np.where(diameter[pick] >= 5, "white", "none"),
                    linewidths=0.6, zorder=3,
                )
    named = range(n_nodes) if labels or (labels is None and n_nodes <= 40) else []
    if labels is None and n_nodes > 40 and pos.roles.count("output") <= 30:
        named = [i for i, r in enumerate(pos.roles) if r == "output"]  # outputs only
    for i in named:
        n = pos.nodes[i]
        role = pos.roles[i]
        dx, dy, ha, va = {
            "input": (-0.08, 0.0, "right", "center"),
            "output": (0.08, 0.0, "left", "center"),
        }.get(role, (0.0, 0.035, "center", "bottom"))
        ax.text(
            xy[i, 0] + dx, xy[i, 1] + dy, str(n), ha=ha, va=va, fontsize=8, zorder=4,
            color="#333333", bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                                   "alpha": 0.75},
        )

    # Axes: one column per layer, no frame.
    columns = int(pos.x.max()) + 1 if n_nodes else 1
    ax.set_xlim(-0.5, columns - 0.5)
    top = max(float(np.abs(pos.y).max()) if n_nodes else 0.5, 0.3)
    arc_top = _arc_reach(pos, skip)
    ax.set_ylim(-max(top, arc_top) - 0.08, max(top, arc_top) + 0.08)
    ax.set_xticks(range(columns))
    ax.set_xticklabels([_column_label(c, columns) for c in range(columns)], fontsize=8)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color("#bbbbbb")
    ax.tick_params(axis="x", colors="#555555", length=0)
    n_skip = int(skip.sum())
    n_inputs = int(sum(r == "input" for r in pos.roles))
    params = n_edges + n_nodes - n_inputs
    ax.set_title(
        title
        if title is not None
        else f"{n_inputs:,} inputs · {n_nodes - n_inputs:,} neurons · {n_edges:,} edges "
        f"({n_skip:,} skip) · {int(pos.level.max()) + 1 if n_nodes else 0} layers · "
        f"{params:,} parameters",
        fontsize=10,
    )
    if len(shown) < n_edges:
        ax.text(
            0.5, -0.09, f"showing the {len(shown):,} strongest of {n_edges:,} edges "
            f"(max_edges={max_edges:,})", transform=ax.transAxes, ha="center", va="top",
            fontsize=8, color="#a33",
        )

    # Legend: roles by marker, activations by colour, edges by sign and kind.
    handles = []
    for role, marker in _ROLE_MARKERS.items():
        if role in pos.roles:
            handles.append(Line2D([], [], ls="", marker=marker, color="#777777", label=role, ms=7))
    for act in acts:
        handles.append(Line2D([], [], ls="", marker="o", color=palette[act], label=act, ms=7))
    if known.any():
        handles.append(Line2D([], [], color=cmap(0.9), lw=2, label="weight > 0"))
        handles.append(Line2D([], [], color=cmap(0.1), lw=2, label="weight < 0"))
    if not known.all():
        handles.append(Line2D([], [], color=_NEUTRAL, lw=2, label="no weight"))
    if n_skip:
        handles.append(Line2D([], [], color="#555555", lw=1.2, ls=(0, (3, 2)),
                              label="skip connection"))
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False,
              fontsize=8)
    if known.any():
        bar = ax.figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.35,
                                 aspect=12, pad=0.01, anchor=(0.0, 0.0), location="right")
        bar.set_label("weight", fontsize=8)
        bar.ax.tick_params(labelsize=7)
        bar.outline.set_visible(False)


def _rgb(colour: str) -> tuple[float, float, float]:
    from matplotlib.colors import to_rgb

    return to_rgb(colour)


def _column_label(c: int, columns: int) -> str:
    if c == 0:
        return "inputs"
    if c == columns - 1 and columns > 1:
        return f"{c}\noutputs"
    return str(c)


def _arcs(start: np.ndarray, end: np.ndarray, points: int = 16) -> np.ndarray:
    """Quadratic Bezier arcs from ``start`` to ``end`` (both ``(k, 2)``), bulging outward."""
    t = np.linspace(0.0, 1.0, points)[None, :, None]  # (1, P, 1)
    mid = 0.5 * (start + end)  # (k, 2)
    span = end[:, 0] - start[:, 0]  # (k,)
    side = np.where(mid[:, 1] >= 0, 1.0, -1.0)  # bend away from the centre line
    control = mid.copy()
    control[:, 1] += side * 0.12 * span  # (k, 2)
    a, b, c = start[:, None, :], control[:, None, :], end[:, None, :]  # (k, 1, 2)
    return (1 - t) ** 2 * a + 2 * (1 - t) * t * b + t**2 * c  # (k, P, 2)


def _arc_reach(pos: Layout, skip: np.ndarray) -> float:
    """How far from the centre line the skip arcs reach (their apex is half the bend)."""
    if not skip.any():
        return 0.0
    s, d = pos.src[skip], pos.dst[skip]
    mid = 0.5 * (pos.y[s] + pos.y[d])
    return float((np.abs(mid) + 0.06 * (pos.x[d] - pos.x[s])).max())
