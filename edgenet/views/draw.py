"""Draw a network: a layered picture (PNG, SVG, PDF) or an interactive page (HTML).

Neurons are placed by :mod:`edgenet.views.layout`: layers left to right, each layer
ordered to uncross edges, feedback edges of a cyclic graph set apart. Edges are
coloured by the sign of their weight and shaded by its magnitude; a skip connection
(an edge spanning more than one layer) is a dashed arc and a feedback edge a dotted
violet arc. Neuron colour says the activation, the marker the role. Large graphs stay
quick: edges are drawn as ``LineCollection``\\ s and beyond ``max_edges`` only the
strongest are drawn, which the figure says. Figure and marker size follow the graph,
and a graph too deep for one row wraps onto several, like a line of text, so neurons
never overlap. Every file is written atomically: a failed or interrupted draw leaves
an existing picture as it was.

matplotlib is imported only when drawing (``pip install "edgenet[draw]"``); the page
is built by :mod:`edgenet.views.page` (``pip install "edgenet[html]"``).

>>> import os, tempfile, networkx as nx, edgenet as en
>>> G = nx.DiGraph([("x", "h", {"weight": 1.0}), ("h", "y", {"weight": -2.0}), ("x", "y")])
>>> path = os.path.join(tempfile.mkdtemp(), "net.png")
>>> _ = en.draw(G, path=path)
>>> os.path.getsize(path) > 0
True
"""

from __future__ import annotations

import errno
import math
import numbers
import os
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from ..errors import EdgenetError, printable
from ..io.atomic import atomic_write
from .layout import Placement, bends, curves, place, slots, strongest, summary
from .page import html, page
from .palette import (
    FEEDBACK,
    NEUTRAL,
    ROLE_MARKERS,
    activation_colours,
    edge_style,
    rgb,
    weight_rgb,
    weight_scale,
)

__all__ = ["FORMATS", "Placement", "draw", "place", "strongest"]

#: File formats :func:`draw` writes, by file suffix.
FORMATS = ("png", "svg", "pdf", "html")

_PLOT_WIDTH = 20.0  # inches of plot at most (legend aside)
_COLUMN_PITCH = 1.6  # inches per column while the plot is narrower than that
_MIN_PITCH = 0.14  # inches per column below which the picture wraps onto more rows
_ROW_PITCH = 0.16  # inches per neuron of the widest column
_LABEL_SIZE = 7.0  # points
_DOTTED = (0, (1, 1.5))
#: Text properties for names, activations and titles: shown as written, never read as
#: mathtext ($...$) or TeX, which would change them or fail on them. Their characters
#: that a terminal would act on are shown as escapes (:func:`edgenet.errors.printable`):
#: matplotlib quotes a character its font lacks in a "Glyph missing" warning, at render
#: time, which for ``ax=`` is the caller's ``savefig`` or ``show``, outside ``draw``.
_AS_WRITTEN = {"parse_math": False, "usetex": False}
_DASHED = (0, (3, 2))


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
    """Draw a network (any NetworkX digraph, trained or not, cyclic or not).

    Columns are topological generations (layers): inputs on the left, outputs on the
    right. Edges are red for positive and blue for negative weights, stronger the
    larger ``|weight|`` (a missing weight is grey); skip connections, edges that span
    more than one layer, are dashed arcs. A cyclic graph loses a small set of feedback
    edges (:func:`edgenet.break_cycles`) to find its layers; they are drawn as dotted
    violet arcs and counted in the legend. Neuron colour is the activation, the marker
    its role (square input, circle hidden, diamond output).

    Parameters
    ----------
    G : networkx.DiGraph or CompiledNetwork
        The network, e.g. ``model.to_network()`` (a compiled model is drawn with its
        current weights); roles and activations are read from the node attributes and
        inferred like :func:`edgenet.compile` does when absent.
    path : str or path-like, optional
        Write the drawing there; the suffix picks the format: ``.png``, ``.svg``,
        ``.pdf``, or ``.html`` for a self-contained interactive page (see
        :func:`edgenet.views.page.page`). Rendering uses the non-interactive Agg canvas, no
        display needed. The file is replaced atomically.
    ax : matplotlib Axes, optional
        Draw into this Axes instead of a new figure (not with ``.html``).
    max_edges : int or None
        Draw at most this many edges, the ones with the largest ``|weight|``; the
        drawing says how many were left out. ``None`` draws every edge.
    labels : bool, optional
        Write node names; by default every name when the graph has at most 40 nodes,
        else the names of the outputs when there are at most 30. (The page shows names
        on hover.)
    title : str, optional
        Title; by default a one-line summary of the topology. Like names and
        activations, it is drawn as written (not as mathtext, not as markup), except
        that control characters, escape sequences and bidirectional overrides are shown
        as escapes (``\\x1b``), so that they cannot reach a terminal through
        matplotlib's warnings; the graph keeps its names exact.
    dpi : int
        Resolution of raster output.

    Returns
    -------
    matplotlib.axes.Axes or plotly.graph_objects.Figure
        The Axes drawn into, or the page's figure for ``.html``.

    >>> import networkx as nx, edgenet as en
    >>> ax = en.draw(nx.DiGraph([("a", "b", {"weight": 0.5}), ("b", "c", {"weight": -1.0})]))
    >>> len(ax.collections) > 0
    True
    """
    target = None if path is None else os.fspath(path)
    suffix = None
    if target is not None:
        suffix = os.path.splitext(target)[1].lower().lstrip(".")
        if suffix not in FORMATS:
            raise EdgenetError(
                f"cannot tell the image format of {target!r} from its suffix "
                f"{'.' + suffix if suffix else '(none)'}; accepted suffixes: "
                + ", ".join("." + f for f in FORMATS)
            )
        folder = os.path.dirname(os.path.abspath(target))
        if not os.path.isdir(folder):  # before any work; the error names the target
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), target)
    if max_edges is not None and (
        isinstance(max_edges, bool) or not isinstance(max_edges, numbers.Integral) or max_edges < 0
    ):
        raise EdgenetError(f"max_edges must be a non-negative int or None (got {max_edges!r})")
    from ..model.base import as_graph

    G = as_graph(G)  # a compiled model (DAG or recurrent): draw its current weights
    if target is not None and suffix == "html":
        if ax is not None:
            raise EdgenetError(
                f"ax= draws into a matplotlib Axes, but {target!r} asks for an HTML page; "
                "drop ax=, or give a .png, .svg or .pdf path"
            )
        fig = page(G, max_edges=max_edges, title=title)
        with atomic_write(target) as f:
            f.write(html(fig).encode("utf-8"))
        return fig
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise EdgenetError(
            'drawing needs matplotlib, which is not installed: pip install "edgenet[draw]"'
        ) from None
    pos = place(G)
    frame = _frame(pos)
    if ax is None:
        if target is not None:
            from matplotlib.backends.backend_agg import FigureCanvasAgg
            from matplotlib.figure import Figure

            fig = Figure(figsize=frame.size, dpi=dpi)
            FigureCanvasAgg(fig)
        else:
            import matplotlib.pyplot as plt

            fig = plt.figure(figsize=frame.size, dpi=dpi)
        ax = fig.add_axes(frame.box)
    _render(ax, pos, frame, max_edges, labels, title)
    if target is not None:
        with atomic_write(target) as f:
            ax.figure.savefig(f, format=suffix, dpi=dpi, bbox_inches="tight")
    return ax


@dataclass(frozen=True)
class _Frame:
    """How the picture is laid out on paper: columns per row (band), rows, sizes."""

    per_band: int  # columns in one band
    bands: int  # rows the layers wrap onto
    step: float  # data units from one band's centre line to the next
    reach: float  # data units arcs go past the outermost neurons
    size: tuple[float, float]  # figure inches
    box: tuple[float, float, float, float]  # axes rectangle, figure fraction


def _frame(pos: Placement) -> _Frame:
    columns, widest = pos.columns, pos.widest
    if columns * _MIN_PITCH <= _PLOT_WIDTH:
        per_band, bands = columns, 1
        band = float(np.clip(_ROW_PITCH * widest + 1.5, 4.0, 9.0))
        width = float(np.clip(max(_COLUMN_PITCH * columns, 0.8 * band), 4.0, _PLOT_WIDTH))
    else:
        bands = math.ceil(columns * _MIN_PITCH / _PLOT_WIDTH)
        per_band = math.ceil(columns / bands)
        width = _PLOT_WIDTH
        band = float(np.clip(_ROW_PITCH * widest, 1.0, 6.0))
    reach = _reach(pos)
    label = 1.6 * _LABEL_SIZE / 72 / band  # label line, in band heights
    step = 1.0 + 2 * reach + label
    height = band * (1.0 + (bands - 1) * step + 2 * reach + label)
    left, right, bottom, top = 0.3, 3.0, 0.7, 0.5  # inches around the plot
    size = (width + left + right, height + bottom + top)
    box = (left / size[0], bottom / size[1], width / size[0], height / size[1])
    return _Frame(per_band, bands, step, reach, size, box)


def _reach(pos: Placement) -> float:
    """How far past the outermost neurons (|y| = 0.5) arcs and loops go, at least 0.02."""
    curved = np.flatnonzero(pos.skip | pos.feedback)
    if not len(curved):
        return 0.02
    mid = 0.5 * (pos.y[pos.src[curved]] + pos.y[pos.dst[curved]])
    bend = bends(pos, curved)
    loop = pos.src[curved] == pos.dst[curved]
    apex = np.where(loop, mid + bend, mid + 0.5 * bend)  # the top (or bottom) of each curve
    return float(np.clip(np.abs(apex).max() - 0.5, 0.02, 0.3)) + 0.01


def _place(frame: _Frame, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Paper coordinates ``(N, 2)`` of columns ``x`` and heights ``y``: rows wrap."""
    band = x // frame.per_band
    return np.stack([x - band * frame.per_band, y - band * frame.step], axis=1).astype(float)


def _wrap(frame: _Frame, paths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Polylines ``(k, P, 2)`` in unwrapped coordinates as segments on paper.

    Returns the segments ``(S, 2, 2)`` and the polyline each came from ``(S,)``; a
    segment crossing from one band to the next is cut at the band's edge and goes on
    from the start of the next band, like a wrapped line of text.
    """
    k, points = paths.shape[:2]
    a = paths[:, :-1].reshape(-1, 2)  # (k * (P - 1), 2)
    b = paths[:, 1:].reshape(-1, 2)
    owner = np.repeat(np.arange(k), points - 1)
    per = frame.per_band
    lo = np.floor((np.minimum(a[:, 0], b[:, 0]) + 0.5) / per).astype(np.int64)
    hi = np.floor((np.maximum(a[:, 0], b[:, 0]) + 0.5) / per).astype(np.int64)
    lo, hi = np.clip(lo, 0, frame.bands - 1), np.clip(hi, 0, frame.bands - 1)
    pieces = hi - lo + 1
    seg = np.repeat(np.arange(len(a)), pieces)  # (S,)
    band = lo[seg] + (np.arange(len(seg)) - np.repeat(np.cumsum(pieces) - pieces, pieces))
    a, b = a[seg], b[seg]
    left, right = band * per - 0.5, (band + 1) * per - 0.5  # (S,) the band's extent in x
    dx = b[:, 0] - a[:, 0]
    safe = np.where(dx == 0, 1.0, dx)

    def at(xs: np.ndarray) -> np.ndarray:
        t = np.where(dx == 0, 0.0, (xs - a[:, 0]) / safe)
        return np.stack([xs, a[:, 1] + t * (b[:, 1] - a[:, 1])], axis=1)

    first = np.where(pieces[seg] > 1, at(np.clip(a[:, 0], left, right)).T, a.T).T
    last = np.where(pieces[seg] > 1, at(np.clip(b[:, 0], left, right)).T, b.T).T
    shift = np.stack([band * per, band * frame.step], axis=1).astype(float)  # (S, 2)
    segs = np.stack([first - shift, last - shift], axis=1)  # (S, 2, 2)
    return segs, owner[seg]


def _render(
    ax: Any, pos: Placement, frame: _Frame, max_edges: int | None, labels: bool | None,
    title: str | None,
) -> None:
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import LineCollection
    from matplotlib.colors import ListedColormap, TwoSlopeNorm
    from matplotlib.lines import Line2D

    n_nodes, n_edges = len(pos.nodes), len(pos.src)
    skip, back = pos.skip, pos.feedback  # (E,)
    known = ~np.isnan(pos.weight)
    shown = strongest(pos.weight, max_edges)  # (M,) weakest first
    scale = weight_scale(pos.weight)
    w = pos.weight[shown]
    colours = np.ones((len(shown), 4))  # (M, 4) RGBA
    colours[:, :3] = weight_rgb(w, scale)
    colours[back[shown], :3] = np.array(rgb(FEEDBACK))
    colours[:, 3], widths = edge_style(w, scale, len(shown), rows=frame.bands)  # (M,) each

    # Box geometry in points, for marker sizes and label spacing.
    fig_w, fig_h = ax.figure.get_size_inches()
    box = ax.get_position()
    plot_w, plot_h = 72.0 * fig_w * box.width, 72.0 * fig_h * box.height
    bare = 1.0 + (frame.bands - 1) * frame.step + 2 * frame.reach  # data units, labels aside
    y_span = bare / max(1.0 - 1.6 * _LABEL_SIZE / plot_h, 0.5)  # with the last label line
    pt_per_y = plot_h / y_span
    pitch_x = plot_w / max(frame.per_band, 1)

    xy = _place(frame, pos.x, pos.y)  # (N, 2) on paper
    unwrapped = np.stack([pos.x, pos.y], axis=1).astype(float)  # (N, 2)
    s_src, s_dst = pos.src[shown], pos.dst[shown]
    curved = skip[shown] | back[shown] | (s_src == s_dst)
    kinds = (
        (~curved, None, 2),
        (curved & ~back[shown], _DASHED, 9 if frame.bands > 1 else 16),
        (back[shown], _DOTTED, 9 if frame.bands > 1 else 16),
    )
    for mask, style, points in kinds:
        if not mask.any():
            continue
        pick = np.flatnonzero(mask)
        start, end = unwrapped[s_src[pick]], unwrapped[s_dst[pick]]
        if points == 2:
            paths = np.stack([start, end], axis=1)  # (m, 2, 2)
        else:
            paths = curves(start, end, bends(pos, shown[pick]), points=points)  # (m, P, 2)
        if frame.bands > 1:
            segs, owner = _wrap(frame, paths)
            pick = pick[owner]
        else:
            segs = paths
        ax.add_collection(
            LineCollection(list(segs), colors=colours[pick], linewidths=widths[pick],
                           linestyles=style or "solid", zorder=1)
        )

    # Neurons: marker by role, colour by activation; never wider than their spacing.
    per_column = np.bincount(pos.x) if n_nodes else np.ones(1, dtype=np.int64)  # (columns,)
    gap_y = np.array([
        float(np.abs(np.diff(slots(k, pos.widest))).min()) if k > 1 else 1.0
        for k in per_column
    ]) * pt_per_y  # (columns,) points between neighbours
    diameter = np.clip(0.75 * np.minimum(gap_y, pitch_x), 0.4, 14.0)[pos.x] if n_nodes else (
        np.zeros(0))  # (N,) points
    palette = activation_colours(pos.activations)
    acts = [a for a in palette if a != "input"]
    roles = np.asarray(pos.roles)
    act_arr = np.asarray(pos.activations)
    for role, (marker, _) in ROLE_MARKERS.items():
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
    dx_label = 0.08 if frame.per_band < 30 else 0.5
    for i in named:
        role = pos.roles[i]
        dx, dy, ha, va = {
            "input": (-dx_label, 0.0, "right", "center"),
            "output": (dx_label, 0.0, "left", "center"),
        }.get(role, (0.0, 0.035, "center", "bottom"))
        ax.text(
            xy[i, 0] + dx, xy[i, 1] + dy, printable(pos.nodes[i]), ha=ha, va=va, fontsize=8,
            zorder=4,
            color="#333333", bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                                   "alpha": 0.75}, **_AS_WRITTEN,
        )

    # Layer numbers under each band, spaced so that they never touch.
    columns = pos.columns
    need = 0.62 * _LABEL_SIZE * len(str(columns - 1)) + 6.0  # points per label
    stride = next(s for s in _nice() if s * pitch_x >= need)
    shown_columns = [c for c in range(columns) if c % stride == 0]
    if columns - 1 not in shown_columns:
        if shown_columns and (columns - 1 - shown_columns[-1]) * pitch_x < need:
            shown_columns.pop()
        shown_columns.append(columns - 1)
    label_y = -0.5 - frame.reach
    for c in shown_columns:
        band, local = divmod(c, frame.per_band)
        ax.text(local, label_y - band * frame.step, str(c), ha="center", va="top",
                fontsize=_LABEL_SIZE, color="#555555", zorder=2, gid="layer")
    ax.set_xlim(-0.5, frame.per_band - 0.5)
    ax.set_ylim(label_y - (frame.bands - 1) * frame.step - 1.6 * _LABEL_SIZE / pt_per_y,
                0.5 + frame.reach)
    ax.set_axis_off()
    caption = (f"layer 0: inputs, layer {columns - 1}: outputs" if columns > 1 else "layer 0")
    if frame.bands > 1:
        caption += f"; {columns:,} layers wrap onto {frame.bands} rows of {frame.per_band}"
    notes = [caption]
    if len(shown) < n_edges:
        notes.append(f"showing the {len(shown):,} strongest of {n_edges:,} edges "
                     f"(max_edges={max_edges:,})")
    for k, note in enumerate(notes):
        ax.annotate(note, (0.0, 0.0), xycoords="axes fraction", xytext=(0, -4 - 12 * k),
                    gid="note", textcoords="offset points", ha="left", va="top", fontsize=8,
                    color="#555555" if k == 0 else "#a33")

    n_skip, n_back = int(skip.sum()), int(back.sum())
    ax.set_title(printable(title if title is not None else summary(pos)), fontsize=10,
                 **_AS_WRITTEN)

    # Legend: roles by marker, activations by colour, edges by sign and kind.
    handles = []
    for role, (marker, _) in ROLE_MARKERS.items():
        if role in pos.roles:
            handles.append(Line2D([], [], ls="", marker=marker, color="#777777", label=role, ms=7))
    for act in acts:
        handles.append(Line2D([], [], ls="", marker="o", color=palette[act],
                              label=printable(act), ms=7))
    if known.any():
        strong = weight_rgb([1.0, -1.0], 1.0)
        handles.append(Line2D([], [], color=strong[0], lw=2, label="weight > 0"))
        handles.append(Line2D([], [], color=strong[1], lw=2, label="weight < 0"))
    if not known.all():
        handles.append(Line2D([], [], color=NEUTRAL, lw=2, label="no weight"))
    if n_skip:
        handles.append(Line2D([], [], color="#555555", lw=1.2, ls=_DASHED,
                              label=f"skip connection ({n_skip:,})"))
    if n_back:
        handles.append(Line2D([], [], color=FEEDBACK, lw=1.5, ls=_DOTTED,
                              label=f"feedback edge ({n_back:,})"))
    legend = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.0, 1.0),
                       frameon=False, fontsize=8)
    for text in legend.get_texts():
        text.update(_AS_WRITTEN)
    if known.any():
        ramp = np.linspace(-1.0, 1.0, 256)
        cmap = ListedColormap(weight_rgb(ramp, 1.0), name="edgenet_weight")
        norm = TwoSlopeNorm(vmin=-scale, vcenter=0.0, vmax=scale)
        inches = 1.6 / (fig_h * box.height)  # a 1.6-inch bar whatever the figure's height
        cax = ax.inset_axes((1.02, 0.0, 0.15 / (fig_w * box.width), min(inches, 0.4)))
        bar = ax.figure.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax)
        bar.set_label("weight", fontsize=8)
        bar.ax.tick_params(labelsize=7)
        bar.outline.set_visible(False)


def _nice() -> Any:
    """1, 2, 5, 10, 20, 50, ... : strides for layer labels."""
    base = 1
    while True:
        for m in (1, 2, 5):
            yield base * m
        base *= 10
