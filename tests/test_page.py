"""edgenet.views.page: the interactive HTML view, checked without a browser (see test_browser.py)."""

from __future__ import annotations

import re
import sys

import networkx as nx
import numpy as np
import pytest
from dags import HOSTILE, HOSTILE_TITLE, LINK, every_edge_kind, hostile

import edgenet as en
from edgenet.shell.cli import main
from edgenet.views.layout import place
from edgenet.views.page import GL_PIXEL_RATIO, INPUTS_OF, OUTPUTS_OF, html, page
from edgenet.views.palette import FEEDBACK, activation_colours, rgb, weight_rgb

pytest.importorskip("plotly")


def neurons(fig) -> dict[str, list]:
    """Hover data of every neuron, by name: [name, role, activation, bias, layer, index]."""
    return {row[0]: list(row) for t in fig.data if t.meta == "neurons" for row in t.customdata}


def test_hover_data_of_neurons():
    info = neurons(page(every_edge_kind()))
    assert info["h"][:5] == ["h", "hidden", "tanh", "0.25", 1]
    assert info["g"][:5] == ["g", "hidden", "relu", "0", 2]
    assert info["x1"][:5] == ["x1", "input", "input", "none (input)", 0]
    assert info["y"][:5] == ["y", "output", "sigmoid", "0", 3]
    plain = neurons(page(nx.DiGraph([("a", "b")])))
    assert plain["b"][:5] == ["b", "output", "identity", "0 (default)", 1]
    fig = page(every_edge_kind())
    template = next(t.hovertemplate for t in fig.data if t.meta == "neurons")
    for field in ("role", "activation", "bias", "layer"):
        assert f"{field}: %{{customdata" in template


def test_hover_text_of_edges_names_ends_and_weight():
    fig = page(every_edge_kind())
    (edges,) = [t for t in fig.data if t.name == "edges"]
    assert sorted(edges.text) == sorted([
        "x0 → h<br>weight: 0.5", "x1 → h<br>weight: -1.5", "h → g<br>weight: 2",
        "g → h (feedback)<br>weight: -0.75", "g → y<br>weight: 1", "x0 → y (skip)<br>weight: 0.3",
    ])


def test_same_colours_as_the_picture():
    fig = page(every_edge_kind())
    palette = activation_colours(["tanh", "relu", "sigmoid", "input"])
    for t in fig.data:
        if t.meta == "neurons":
            assert t.marker.color == palette[t.name]
    legend = {t.name: t.line.color for t in fig.data if t.showlegend is not False and t.line}
    strong = weight_rgb([1.0, -1.0], 1.0)
    assert np.allclose(rgb(legend["weight > 0"]), strong[0], atol=0.003)
    assert np.allclose(rgb(legend["weight < 0"]), strong[1], atol=0.003)
    assert legend["feedback edge (1)"] == FEEDBACK
    # Every drawn edge line takes its colour from the picture's ramp (or the feedback violet).
    ramp = np.vstack([weight_rgb(np.linspace(-1, 1, 2001), 1.0), rgb(FEEDBACK)])
    for t in fig.data:
        if t.mode == "lines" and t.x is not None and len(t.x) > 1:
            r, g, b, _ = (float(v) for v in re.findall(r"[\d.]+", t.line.color))
            assert np.abs(ramp - np.array([r, g, b]) / 255).max(axis=1).min() < 0.01


def test_feedback_and_skip_edges_are_styled_apart():
    fig = page(every_edge_kind())
    kinds = {t.legendgroup: t.line.dash for t in fig.data if t.legendgroup}
    assert kinds["feedback edge (1)"] == "dot"
    assert kinds["skip connection (1)"] == "dash"
    assert kinds["weight > 0"] == "solid"


def test_click_data_travels_with_the_page():
    fig = page(every_edge_kind())
    net = fig.layout.meta["edgenet"]
    pos = place(every_edge_kind())
    assert net["names"] == [str(n) for n in pos.nodes]
    pairs = {(net["names"][s], net["names"][d]): w
             for s, d, w in zip(net["src"], net["dst"], net["weight"], strict=True)}
    assert pairs == {(u, v): w for u, v, w in every_edge_kind().edges(data="weight")}
    assert fig.data[net["inputs_trace"]].line.color == INPUTS_OF
    assert fig.data[net["outputs_trace"]].line.color == OUTPUTS_OF
    assert all(fig.data[i].mode == "lines" for i in net["edge_traces"])


def test_large_network_is_thinned_and_says_so():
    rng = np.random.default_rng(0)
    G = nx.DiGraph()
    for i in range(3_000):
        G.add_edge(f"a{i % 60}", f"b{i // 60}", weight=float(rng.normal()))
    fig = page(G, max_edges=500)
    net = fig.layout.meta["edgenet"]
    assert len(net["src"]) == 500
    cutoff = np.sort(np.abs([w for _, _, w in G.edges(data="weight")]))[-500]
    assert min(abs(w) for w in net["weight"]) >= cutoff
    captions = [a.text for a in fig.layout.annotations]
    assert any(c.startswith("showing the 500 strongest of 3,000 edges (max_edges=500)")
               for c in captions)
    (edges,) = [t for t in fig.data if t.name == "edges"]
    assert len(edges.x) == 500
    assert all(t.type == "scattergl" for t in fig.data)  # WebGL throughout


def test_webgl_traces_do_not_grow_with_edges():
    """Edges are batched by kind, sign and strength: one trace each, whatever their number."""
    rng = np.random.default_rng(1)

    def layered(n_edges: int) -> nx.DiGraph:
        G = nx.DiGraph()
        for _ in range(n_edges):
            a = int(rng.integers(0, 3))
            b = a + 1 if rng.random() < 0.8 else 3  # some skip connections
            G.add_edge(f"{a}:{rng.integers(100)}", f"{b}:{rng.integers(100)}",
                       weight=float(rng.normal()))
        return G

    small, large = page(layered(300)), page(layered(4_000))
    assert len(small.layout.meta["edgenet"]["src"]) <= 300 < 3_000 < len(
        large.layout.meta["edgenet"]["src"])
    lines = [len([t for t in fig.data if t.mode == "lines"]) for fig in (small, large)]
    assert lines[0] == lines[1] <= 5 * (1 + 3 * 4) + 2  # legend entry + sign x strength bins
    assert len(small.data) == len(large.data)


def test_edge_hover_markers_are_not_drawn():
    """The edge midpoints only carry hover text: drawing them cost as much as the neurons."""
    (edges,) = [t for t in page(every_edge_kind()).data if t.name == "edges"]
    assert edges.marker.opacity == 0 and edges.hovertemplate == "%{text}<extra></extra>"


def test_webgl_canvas_at_one_pixel_per_css_pixel():
    """plotly's default pixel ratio, 2, renders four times the pixels of the plot."""
    text = html(page(every_edge_kind()))
    assert GL_PIXEL_RATIO == 1
    assert re.search(r'"plotGlPixelRatio": 1\b', text)


def test_page_is_self_contained(tmp_path):
    path = tmp_path / "net.html"
    fig = en.draw(every_edge_kind(), path)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!doctype html>") and fig.layout.meta["edgenet"]["names"]
    assert "<script src=" not in text and "<link" not in text
    assert re.search(r"plotly\.js v\d", text)  # the library, inlined
    assert "plotly_click" in text  # the click handler
    scripts = re.findall(r"<script\b[^>]*>", text)
    assert scripts and all("src" not in s for s in scripts)


def test_names_are_escaped():
    G = nx.DiGraph([("<img src=x onerror=alert(1)>", "y", {"weight": 1.0})])
    text = html(page(G))
    assert "<img src=x" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text


def test_cli_draws_a_cyclic_file_as_a_page(tmp_path, capsys):
    src = tmp_path / "cyclic.graphml"
    en.write_graphml(every_edge_kind(), src)
    out = tmp_path / "net.html"
    assert main(["draw", str(src), "-o", str(out)]) == 0
    assert capsys.readouterr().out == f"wrote {out}\n"
    assert "feedback edge (1)" in out.read_text(encoding="utf-8")
    png = tmp_path / "net.png"
    assert main(["draw", str(src), "-o", str(png)]) == 0
    assert png.read_bytes().startswith(b"\x89PNG")


def test_missing_plotly_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "plotly.graph_objects", None)
    with pytest.raises(en.EdgenetError, match=r'an HTML page needs plotly, which is not '
                       r'installed: pip install "edgenet\[html\]"'):
        en.draw(every_edge_kind(), tmp_path / "net.html")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", [-1, True, 2.5])
def test_bad_max_edges(bad):
    with pytest.raises(
        en.EdgenetError, match=rf"max_edges must be a non-negative int or None \(got {bad!r}\)"
    ):
        page(every_edge_kind(), max_edges=bad)


# plotly.js's label markup (src/lib/svg_text_utils.js, 2.x to 4.x): the tags it obeys,
# the entities it decodes, and the template and newline rules applied before.
PLOTLY_TAGS = {"sup", "sub", "s", "u", "b", "i", "a", "span", "em"}
PLOTLY_ENTITIES = {"mu": "μ", "amp": "&", "lt": "<", "gt": ">", "nbsp": "\xa0", "times": "×",
                   "plusmn": "±", "deg": "°"}


def plotly_text(label: str) -> tuple[str, list[str]]:
    """What plotly.js shows for ``label``: its text (a ``<br>`` as a newline) and the tags
    it obeys. A model of ``Lib.templateString`` then ``convertToTspans``."""
    label = re.sub(r"%{([^\s%{}:]*)([:|][^}]*)?}", "", label)
    label = re.sub(r"\r\n?|\n", " ", label)

    def entity(m: re.Match) -> str:
        code = m.group(1)
        if code.startswith("#"):
            value = int(code[2:], 16) if code[1] == "x" else int(code[1:])
            return chr(value) if value <= 0x10FFFF else m.group(0)
        return PLOTLY_ENTITIES.get(code, m.group(0))

    shown, obeyed = [], []
    for part in re.split(r"(<[^<>]*>)", label):
        tag = re.search(r"<(/?)([^ >]*)(\s+(.*))?>", part)
        kind = tag.group(2).lower() if tag else None
        if kind == "br":
            shown.append("\n")
        elif kind in PLOTLY_TAGS:
            obeyed.append(part)
        else:
            shown.append(re.sub(r"&(#\d+|#x[\da-fA-F]+|[a-z]+);", entity, part))
    return "".join(shown), obeyed


def test_plotly_text_model_sees_markup():
    """The model used below does see what the page used to let through."""
    assert plotly_text(LINK) == ("click-me", ['<a href="https://evil.example/phish">', "</a>"])
    assert plotly_text("say &quot;hi&quot;")[0] == "say &quot;hi&quot;"
    assert plotly_text("p%{x}q")[0] == "pq"
    assert plotly_text("a&amp;b &#37;{x}<br>c") == ("a&b %{x}\nc", [])


def test_file_strings_are_plain_text_in_legend_hover_and_title(tmp_path):
    G = hostile(tmp_path / "hostile.graphml")
    G.nodes[LINK]["bias"] = "<i>tilted</i>"  # a graph built in code may hold any value
    fig = page(G, title=HOSTILE_TITLE)
    acts = {n: a for n, a in G.nodes(data="activation")}
    legend = [plotly_text(t.name) for t in fig.data if t.meta == "neurons"]
    assert sorted(legend) == sorted((a, []) for a in {*HOSTILE.values(), "input", "identity"})
    names = fig.layout.meta["edgenet"]["names"]
    seen = set()
    for t in fig.data:
        if t.meta != "neurons":
            continue
        for row in t.customdata:
            name = names[row[5]]
            seen.add(name)
            assert plotly_text(row[0]) == (name, [])
            if name in HOSTILE:
                assert plotly_text(row[2]) == (acts[name], [])
    assert seen == set(G.nodes)
    bias = next(row[3] for t in fig.data if t.meta == "neurons" for row in t.customdata
                if names[row[5]] == LINK)
    assert plotly_text(bias) == ("'<i>tilted</i>'", [])
    (edges,) = [t for t in fig.data if t.name == "edges"]
    net = fig.layout.meta["edgenet"]
    shown = sorted(plotly_text(text) for text in edges.text)
    assert shown == sorted(
        (f"{names[s]} → {names[d]}\nweight: {w:.4g}", [])
        for s, d, w in zip(net["src"], net["dst"], net["weight"], strict=True))
    assert plotly_text(fig.layout.title.text) == (HOSTILE_TITLE, [])


def test_click_data_carries_names_as_written(tmp_path):
    """The click panel shows meta names as text (textContent), so they travel unescaped."""
    G = hostile(tmp_path / "hostile.graphml")
    net = page(G).layout.meta["edgenet"]
    assert sorted(net["names"]) == sorted(str(n) for n in G.nodes)


def test_click_panel_inserts_text_not_markup():
    from edgenet.views.page import POST_SCRIPT

    assert "textContent" in POST_SCRIPT
    assert "innerHTML" not in POST_SCRIPT and "annotations[0]" not in POST_SCRIPT


def test_script_in_a_name_cannot_close_the_page_script(tmp_path):
    text = html(page(hostile(tmp_path / "hostile.graphml"), title=HOSTILE_TITLE))
    openers = re.findall(r"<script\b", text, flags=re.I)
    closers = re.findall(r"</script", text, flags=re.I)
    # plotly's config, plotly.js, and the figure with the click handler; plotly's JSON
    # writes "<" as \u003c, so a name cannot end a script or open a comment in one
    assert len(openers) == len(closers) == 3
    assert "<!--" not in text and "window.pwned" in text  # present, but only as data
