"""The colours and markers every picture of a network uses, static or interactive.

Edge colour is the sign of the weight (red positive, blue negative), darker the
stronger; an edge without a weight is grey and a feedback edge (one removed to break
a cycle) is violet whatever its sign. Neuron colour is the activation, the marker the
role. Colours are plain hex strings and numpy arrays, so both the matplotlib picture
and the HTML page read them from here without either library.

>>> from edgenet.views.palette import weight_rgb
>>> weight_rgb([2.0, -2.0], scale=1.0).round(3).tolist()  # strongest red, strongest blue
[[0.404, 0.0, 0.122], [0.02, 0.188, 0.38]]
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

#: Colour of an edge without a weight.
NEUTRAL = "#8c8c8c"
#: Colour of feedback edges (drawn dotted), whatever their sign.
FEEDBACK = "#6a3d9a"
#: Colour of input neurons.
INPUT = "#4d4d4d"
#: Colours of the activations, in the order of their sorted names (Okabe-Ito, then Tol).
ACTIVATIONS = (
    "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442", "#0072b2", "#999933",
    "#882255", "#44aa99",
)  # fmt: skip
#: Marker of each role: (matplotlib marker, plotly symbol).
ROLE_MARKERS = {"input": ("s", "square"), "hidden": ("o", "circle"), "output": ("D", "diamond")}

# ColorBrewer RdBu without its pale middle, weakest to strongest, so weak edges stay visible.
_POSITIVE = ("#f4a582", "#d6604d", "#b2182b", "#67001f")
_NEGATIVE = ("#92c5de", "#4393c3", "#2166ac", "#053061")


def rgb(colour: str) -> tuple[float, float, float]:
    """``"#rrggbb"`` as three floats in [0, 1].

    >>> rgb("#ff8000")
    (1.0, 0.5019607843137255, 0.0)
    """
    h = colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return r, g, b


def _ramp(colours: Sequence[str], t: np.ndarray) -> np.ndarray:
    anchors = np.array([rgb(c) for c in colours])  # (K, 3)
    at = np.linspace(0.0, 1.0, len(colours))
    return np.stack([np.interp(t, at, anchors[:, i]) for i in range(3)], axis=-1)  # (M, 3)


def weight_rgb(weight: Iterable[float], scale: float) -> np.ndarray:
    """Colour of each weight, ``(M, 3)`` floats: red ramp if positive, blue if negative.

    ``|weight| >= scale`` gets the strongest colour; NaN (no weight) gets :data:`NEUTRAL`.

    >>> weight_rgb([0.0, float("nan")], scale=1.0)[1].round(3).tolist()
    [0.549, 0.549, 0.549]
    """
    w = np.asarray(weight, dtype=np.float64)  # (M,)
    t = np.clip(np.nan_to_num(np.abs(w) / scale, nan=0.0), 0.0, 1.0)
    out = np.where((w >= 0)[:, None], _ramp(_POSITIVE, t), _ramp(_NEGATIVE, t))  # (M, 3)
    return np.where(np.isnan(w)[:, None], np.array(rgb(NEUTRAL)), out)


#: The largest :func:`weight_scale`: weights beyond it are drawn at full strength.
MAX_SCALE = float(np.finfo(np.float64).max) / 100


def weight_scale(weight: np.ndarray) -> float:
    """The magnitude drawn at full strength: the 98th percentile of ``|weight|`` (1 if none),
    at most a hundredth of the largest float, so that spans built from it (a colour bar
    from ``-scale`` to ``scale``, its padding) stay finite.

    >>> weight_scale(np.array([0.5, -2.0, float("nan")])) > 1.9
    True
    >>> bool(np.isfinite(4 * weight_scale(np.array([1.7e308]))))
    True
    """
    magnitude = np.abs(weight[~np.isnan(weight)])
    scale = float(np.percentile(magnitude, 98)) if len(magnitude) else 1.0
    return min(scale, MAX_SCALE) if scale > 0 else 1.0


def activation_colours(activations: Iterable[str]) -> dict[str, str]:
    """A colour for each activation name (sorted), and :data:`INPUT` for ``"input"``.

    >>> activation_colours(["tanh", "relu", "input"])
    {'relu': '#e69f00', 'tanh': '#009e73', 'input': '#4d4d4d'}
    """
    names = sorted(set(activations) - {"input"})
    palette = {a: ACTIVATIONS[i % len(ACTIVATIONS)] for i, a in enumerate(names)}
    palette["input"] = INPUT
    return palette


def edge_style(
    weight: np.ndarray, scale: float, shown: int, rows: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Opacity and line width (points) of edges of the given weights, ``(M,)`` each.

    Stronger edges are more opaque and wider; all are fainter and thinner when many
    (``shown``) are drawn over ``rows`` rows of picture; an edge without a weight is a
    thin, faint grey.

    >>> alpha, width = edge_style(np.array([0.1, 1.0, float("nan")]), scale=1.0, shown=3)
    >>> bool(alpha[1] > alpha[0]) and bool(width[1] > width[0])
    True
    """
    w = np.asarray(weight, dtype=np.float64)
    strength = np.clip(np.nan_to_num(np.abs(w) / scale, nan=0.0), 0.0, 1.0)  # (M,) in [0, 1]
    crowd = min(1.0, 400.0 * rows / max(shown, 1)) ** 0.5  # 1 for a few hundred edges
    alpha = np.where(np.isnan(w), 0.5 * crowd + 0.1,
                     (0.45 + 0.55 * strength) * (0.2 + 0.8 * crowd))
    width = (0.9 + 2.1 * strength) * (0.3 + 0.7 * crowd)
    return alpha, width
