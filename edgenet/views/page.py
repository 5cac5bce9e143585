"""An interactive, self-contained HTML view of a network, built on plotly's WebGL traces.

The page shows the same layout and colours as the static picture (:mod:`edgenet.views.draw`):
pan and zoom (drag, scroll), hover a neuron for its name, role, activation, bias and
layer, hover the middle of an edge for its weight, and click a neuron to highlight its
inputs and outputs and list their weights (double-click, or Escape, clears). Edges and
neurons are ``scattergl`` traces, so 100,000 edges stay smooth; beyond ``max_edges``
only the strongest are drawn and the page says so. plotly.js is inlined: the page
makes no request and works offline. The only script of its own is the click handler
(:data:`POST_SCRIPT`), which plotly has no option for.

plotly is imported only here, when a page is built (``pip install "edgenet[html]"``).

>>> import networkx as nx
>>> from edgenet.views.page import page
>>> fig = page(nx.DiGraph([("x", "h", {"weight": 0.5}), ("h", "y", {"weight": -1.0})]))
>>> fig.layout.meta["edgenet"]["names"], fig.layout.meta["edgenet"]["weight"]
(['x', 'h', 'y'], [0.5, -1.0])
"""

from __future__ import annotations

import numbers
import re
from typing import Any

import networkx as nx
import numpy as np

from ..errors import EdgenetError
from .layout import Placement, bends, curves, place, strongest, summary
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

#: Colours of the highlighted inputs and outputs of a clicked neuron.
INPUTS_OF = "#1b7837"
OUTPUTS_OF = "#e08214"
_BINS = 4  # strength levels of edge opacity and width (one WebGL trace each)
#: Resolution of the WebGL canvas per CSS pixel. plotly's default, 2, renders four
#: times the pixels; without a GPU (software WebGL) that doubled the redraw time.
GL_PIXEL_RATIO = 1

#: The page's own script: clicking a neuron highlights its edges and lists their weights
#: in a panel. Names go into the panel with ``textContent``: they are shown as text,
#: never read as HTML.
POST_SCRIPT = """
var gd = document.getElementById('{plot_id}');
var net = gd.layout.meta.edgenet;
var panel = document.createElement('div');
panel.className = 'edgenet-panel';
panel.hidden = true;
panel.style.cssText = 'position:absolute; z-index:1001; max-width:45%; max-height:60%; ' +
  'overflow:auto; white-space:pre-wrap; overflow-wrap:anywhere; font:11px sans-serif; ' +
  'color:#444; background:rgba(255,255,255,0.9); border:1px solid #999; padding:3px 6px';
gd.style.position = 'relative';
gd.appendChild(panel);
function row(text, bold) {
  var line = document.createElement('div');
  line.textContent = text;
  if (bold) { line.style.fontWeight = 'bold'; }
  panel.appendChild(line);
}
function corner() {  // the bottom right corner of the plot area
  var size = gd._fullLayout._size;
  panel.style.right = (gd._fullLayout.width - size.l - size.w + 4) + 'px';
  panel.style.bottom = (size.b + 4) + 'px';
}
function clear() {
  Plotly.restyle(gd, {x: [[], []], y: [[], []]}, [net.inputs_trace, net.outputs_trace]);
  Plotly.restyle(gd, {opacity: 1}, net.edge_traces);
  panel.hidden = true;
  panel.replaceChildren();
  gd.dataset.selected = '';
}
function select(i) {
  var ins = {x: [], y: []}, outs = {x: [], y: []}, inText = [], outText = [];
  for (var e = 0; e < net.src.length; e++) {
    var s = net.src[e], d = net.dst[e], w = net.weight[e];
    var value = w === null ? 'no weight' : w.toPrecision(4);
    if (d === i) {
      ins.x.push(net.x[s], net.x[d], null); ins.y.push(net.y[s], net.y[d], null);
      inText.push(net.names[s] + ': ' + value);
    }
    if (s === i && d !== i) {
      outs.x.push(net.x[s], net.x[d], null); outs.y.push(net.y[s], net.y[d], null);
      outText.push(net.names[d] + ': ' + value);
    }
  }
  function list(title, rows) {
    row(title + ' (' + rows.length + ')', true);
    rows.slice(0, 12).forEach(function (text) { row(text, false); });
    if (rows.length > 12) { row('... and ' + (rows.length - 12) + ' more', false); }
  }
  Plotly.restyle(gd, {x: [ins.x, outs.x], y: [ins.y, outs.y]},
                 [net.inputs_trace, net.outputs_trace]);
  Plotly.restyle(gd, {opacity: 0.25}, net.edge_traces);
  panel.replaceChildren();
  row(net.names[i], true);
  list('inputs', inText);
  list('outputs', outText);
  corner();
  panel.hidden = false;
  gd.dataset.selected = net.names[i];
}
gd.on('plotly_click', function (event) {
  var p = event.points[0];
  if (p && p.data.meta === 'neurons') { select(p.customdata[5]); }
});
gd.on('plotly_doubleclick', clear);
gd.on('plotly_afterplot', corner);
document.addEventListener('keydown', function (event) { if (event.key === 'Escape') { clear(); } });
"""

_MARKUP = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "%": "&#37;"})
_NEWLINE = re.compile(r"\r\n?|\n")  # what plotly takes for a newline


def plain(text: str) -> str:
    r"""``text`` in plotly's label markup, shown exactly as written.

    plotly draws legends, hover boxes and titles from a small HTML-like markup: it fills
    ``%{...}`` templates, obeys a few tags (``<a href>``, ``<span style>``, ``<b>``,
    ``<br>``, ...), decodes entities (``&lt;``, ``&#65;``; not ``&quot;``) and shows a
    newline as a space. So ``&``, ``<``, ``>`` and ``%`` become entities, which plotly
    decodes once, back to the text, and a line break becomes ``<br>``.

    >>> plain('<a href="x">100%</a> & say "hi"')
    '&lt;a href="x"&gt;100&#37;&lt;/a&gt; &amp; say "hi"'
    >>> plain("two\nlines")
    'two<br>lines'
    """
    return _NEWLINE.sub("<br>", text.translate(_MARKUP))


def page(G: nx.DiGraph, *, max_edges: int | None = 20_000, title: str | None = None) -> Any:
    """A plotly figure of ``G`` for :func:`html`: layout, colours and legend of the picture.

    ``max_edges`` keeps the strongest edges, as :func:`edgenet.draw` does; the page
    says how many were left out. Shown edges (and the positions of their ends) travel
    in ``layout.meta`` for the click handler.

    >>> import networkx as nx
    >>> from edgenet.views.page import page
    >>> fig = page(nx.DiGraph([(0, 1), (1, 2), (2, 1)]))
    >>> [trace.name for trace in fig.data if trace.legendgroup and trace.showlegend is not False]
    ['no weight', 'feedback edge (1)']
    """
    try:
        import plotly.graph_objects as go
    except ImportError:
        raise EdgenetError(
            'an HTML page needs plotly, which is not installed: pip install "edgenet[html]"'
        ) from None
    if max_edges is not None and (
        isinstance(max_edges, bool) or not isinstance(max_edges, numbers.Integral) or max_edges < 0
    ):
        raise EdgenetError(f"max_edges must be a non-negative int or None (got {max_edges!r})")
    pos = place(G)
    shown = strongest(pos.weight, max_edges)  # (M,) weakest first
    traces: list[Any] = _edge_traces(go, pos, shown)
    edge_traces = list(range(len(traces)))
    traces.append(_edge_hover(go, pos, shown))  # after the edge traces: meta counts on it
    for name, colour in (("inputs of the clicked neuron", INPUTS_OF),
                         ("outputs of the clicked neuron", OUTPUTS_OF)):
        traces.append(go.Scattergl(x=[], y=[], mode="lines", name=name, hoverinfo="skip",
                                   line={"color": colour, "width": 3}, showlegend=False))
    traces.extend(_neuron_traces(go, G, pos))

    names = [str(n) for n in pos.nodes]  # as written: the click panel sets them as text
    meta = {"edgenet": {
        "names": names, "x": pos.x.tolist(), "y": pos.y.round(6).tolist(),
        "src": pos.src[shown].tolist(), "dst": pos.dst[shown].tolist(),
        "weight": [None if np.isnan(w) else float(w) for w in pos.weight[shown]],
        "edge_traces": edge_traces, "inputs_trace": len(edge_traces) + 1,
        "outputs_trace": len(edge_traces) + 2,
    }}
    notes = []
    n_edges = len(pos.src)
    caption = "drag to pan, scroll to zoom, hover for details, click a neuron for its edges"
    if len(shown) < n_edges:
        caption = (f"showing the {len(shown):,} strongest of {n_edges:,} edges "
                   f"(max_edges={max_edges:,}) · " + caption)
    notes.append({"text": caption, "xref": "paper", "yref": "paper", "x": 0.0, "y": 1.0,
                  "xanchor": "left", "yanchor": "bottom", "showarrow": False,
                  "font": {"size": 11, "color": "#a33" if len(shown) < n_edges else "#555"}})
    columns = pos.columns
    fig = go.Figure(traces)
    fig.update_layout(
        title={"text": plain(title if title is not None else summary(pos)),
               "font": {"size": 14}},
        meta=meta, annotations=notes, template="plotly_white", hovermode="closest",
        dragmode="pan", clickmode="event", margin={"l": 20, "r": 20, "t": 80, "b": 50},
        legend={"itemsizing": "constant"},
        xaxis={"title": {"text": "layer"}, "zeroline": False, "showgrid": False,
               "range": [-0.7, columns - 0.3], "tick0": 0,
               "dtick": next(d for d in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000,
                                         10_000) if columns / d <= 25 or d == 10_000)},
        yaxis={"visible": False, "range": [-0.5 - 0.2, 0.5 + 0.2]},
    )
    return fig


def html(fig: Any) -> str:
    """The page of a :func:`page` figure: one HTML file, every script inlined.

    >>> import networkx as nx
    >>> from edgenet.views.page import html, page
    >>> text = html(page(nx.DiGraph([(0, 1)])))
    >>> text.startswith("<!doctype html>") and "<script src=" not in text
    True
    """
    return fig.to_html(
        include_plotlyjs=True, full_html=True, post_script=POST_SCRIPT, default_width="100%",
        default_height="95vh",
        config={"scrollZoom": True, "displaylogo": False, "responsive": True,
                "plotGlPixelRatio": GL_PIXEL_RATIO},
    )


def _hex(colour: np.ndarray) -> str:
    r, g, b = (round(255 * float(v)) for v in colour)
    return f"#{r:02x}{g:02x}{b:02x}"


def _rgba(colour: str, alpha: float) -> str:
    r, g, b = (round(255 * v) for v in rgb(colour))
    return f"rgba({r},{g},{b},{alpha:.3f})"


def _polylines(pos: Placement, edges: np.ndarray, curved: bool) -> tuple[np.ndarray, np.ndarray]:
    """x and y of ``edges`` as one NaN-separated polyline each, for a line trace."""
    start = np.stack([pos.x[pos.src[edges]], pos.y[pos.src[edges]]], axis=1).astype(float)
    end = np.stack([pos.x[pos.dst[edges]], pos.y[pos.dst[edges]]], axis=1).astype(float)
    if curved:
        paths = curves(start, end, bends(pos, edges), points=12)  # (k, P, 2)
    else:
        paths = np.stack([start, end], axis=1)  # (k, 2, 2)
    gap = np.full((len(edges), 1, 2), np.nan)
    flat = np.concatenate([paths, gap], axis=1).reshape(-1, 2)  # (k * (P + 1), 2)
    return flat[:, 0], flat[:, 1]


def _edge_traces(go: Any, pos: Placement, shown: np.ndarray) -> list[Any]:
    """WebGL line traces by kind, sign and strength (a trace has one colour and width)."""
    scale = weight_scale(pos.weight)
    w = pos.weight[shown]  # (M,)
    strength = np.clip(np.nan_to_num(np.abs(w) / scale, nan=0.0), 0.0, 1.0)
    level = np.minimum((strength * _BINS).astype(np.int64), _BINS - 1)  # (M,)
    back = pos.feedback[shown]
    curved = (pos.skip[shown] | back) | (pos.src[shown] == pos.dst[shown])
    sign = np.where(np.isnan(w), 2, np.where(w >= 0, 0, 1))  # 0 +, 1 -, 2 no weight
    n_skip, n_back = int(pos.skip.sum()), int(pos.feedback.sum())
    groups = [
        ("weight > 0", lambda: ~curved & (sign == 0), "solid", None),
        ("weight < 0", lambda: ~curved & (sign == 1), "solid", None),
        ("no weight", lambda: ~curved & (sign == 2), "solid", NEUTRAL),
        (f"skip connection ({n_skip:,})", lambda: curved & ~back, "dash", None),
        (f"feedback edge ({n_back:,})", lambda: back, "dot", FEEDBACK),
    ]
    traces = []
    for name, select, dash, fixed in groups:
        if not select().any():
            continue
        legend = fixed or (NEUTRAL if name == "no weight" else "#555555")
        if name.startswith("weight"):
            legend = _hex(weight_rgb([1.0 if name == "weight > 0" else -1.0], 1.0)[0])
        traces.append(go.Scattergl(  # the legend entry alone: a line of the strongest colour
            x=[None], y=[None], mode="lines", name=name, legendgroup=name, hoverinfo="skip",
            line={"color": legend, "dash": dash, "width": 2},
        ))
        for s in (0, 1, 2):
            for b in range(_BINS):
                pick = np.flatnonzero(select() & (sign == s) & (level == b))
                if not len(pick):
                    continue
                middle = (b + 0.5) / _BINS
                if fixed is not None or s == 2:
                    colour = fixed or NEUTRAL
                else:
                    colour = _hex(weight_rgb([middle if s == 0 else -middle], 1.0)[0])
                alpha, width = edge_style(np.array([np.nan if s == 2 else middle]), 1.0,
                                          len(shown))
                x, y = _polylines(pos, shown[pick], curved=bool(curved[pick[0]]))
                traces.append(go.Scattergl(
                    x=x, y=y, mode="lines", name=name, legendgroup=name, showlegend=False,
                    hoverinfo="skip", line={"color": _rgba(colour, float(alpha[0])), "dash": dash,
                                            "width": float(width[0])},
                ))
    return traces


def _edge_hover(go: Any, pos: Placement, shown: np.ndarray) -> Any:
    """Invisible markers at the middle of each edge that carry its hover text."""
    names = [str(n) for n in pos.nodes]
    start = np.stack([pos.x[pos.src[shown]], pos.y[pos.src[shown]]], axis=1).astype(float)
    end = np.stack([pos.x[pos.dst[shown]], pos.y[pos.dst[shown]]], axis=1).astype(float)
    mid = curves(start, end, bends(pos, shown), points=3)[:, 1]  # (M, 2) the curve's middle
    straight = ~(pos.skip[shown] | pos.feedback[shown] | (pos.src[shown] == pos.dst[shown]))
    mid[straight] = 0.5 * (start[straight] + end[straight])
    kind = np.where(pos.feedback[shown], " (feedback)", np.where(pos.skip[shown], " (skip)", ""))
    text = [
        f"{plain(names[s])} → {plain(names[d])}{k}<br>weight: "
        + ("none" if np.isnan(w) else f"{w:.4g}")
        for s, d, w, k in zip(pos.src[shown], pos.dst[shown], pos.weight[shown], kind, strict=True)
    ]
    return go.Scattergl(x=mid[:, 0], y=mid[:, 1], mode="markers", text=text, name="edges",
                        hovertemplate="%{text}<extra></extra>", showlegend=False,
                        marker={"size": 7, "color": "black", "opacity": 0})  # hovered, never drawn


def _neuron_traces(go: Any, G: nx.DiGraph, pos: Placement) -> list[Any]:
    """One WebGL marker trace per activation (its legend entry), symbol by role."""
    palette = activation_colours(pos.activations)
    size = float(np.clip(600.0 / pos.widest, 4.0, 12.0))
    traces = []
    acts = np.asarray(pos.activations)
    for act, colour in palette.items():
        pick = np.flatnonzero(acts == act)
        if not len(pick):
            continue
        data = []
        for i in pick.tolist():
            n = pos.nodes[i]
            bias = G.nodes[n].get("bias")
            data.append([
                plain(str(n)), pos.roles[i], plain(act),
                "none (input)" if pos.roles[i] == "input" else _number(bias),
                int(pos.level[i]), i,
            ])
        traces.append(go.Scattergl(
            x=pos.x[pick], y=pos.y[pick], mode="markers", name=plain(act), meta="neurons",
            customdata=data, marker={
                "color": colour, "size": size, "line": {"color": "white", "width": 0.5},
                "symbol": [ROLE_MARKERS[pos.roles[i]][1] for i in pick.tolist()],
            },
            hovertemplate="<b>%{customdata[0]}</b><br>role: %{customdata[1]}<br>activation: "
            "%{customdata[2]}<br>bias: %{customdata[3]}<br>layer: %{customdata[4]}<extra></extra>",
        ))
    return traces


def _number(bias: Any) -> str:
    if bias is None:
        return "0 (default)"
    try:
        return f"{float(bias):.4g}"
    except (TypeError, ValueError):
        return plain(repr(bias))
