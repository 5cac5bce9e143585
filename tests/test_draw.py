"""edgenet.views.draw: layered pictures of small, trained and large networks."""

from __future__ import annotations

import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import torch
from dags import xor_network

import edgenet as en
from edgenet.views.draw import place
from edgenet.views.layout import Placement, slots
from edgenet.views.palette import FEEDBACK

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402


@pytest.fixture(scope="module")
def trained() -> en.Network:
    """The XOR network after some Adam steps, read back with to_network()."""
    model = xor_network().compile(seed=0)
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    t = torch.tensor([[0.0], [1.0], [1.0], [0.0]])
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(100):
        opt.zero_grad()
        torch.nn.functional.binary_cross_entropy(model(x), t).backward()
        opt.step()
    return model.to_network()


def pixels(path) -> np.ndarray:
    image = mpimg.imread(str(path))  # (H, W, 4) floats in [0, 1]
    assert image.ndim == 3 and image.shape[0] > 200 and image.shape[1] > 200
    return image[..., :3]


def assert_not_blank(path) -> np.ndarray:
    rgb = pixels(path)
    ink = (rgb < 0.9).any(axis=2).mean()  # share of pixels that are not near-white
    assert rgb.std() > 0.05, f"{path} looks blank (pixel std {rgb.std():.4f})"
    assert ink > 0.01, f"{path} looks blank ({ink:.2%} of pixels drawn)"
    return rgb


def reddish(rgb: np.ndarray) -> float:
    return float(((rgb[..., 0] > rgb[..., 2] + 0.25)).mean())


def bluish(rgb: np.ndarray) -> float:
    return float(((rgb[..., 2] > rgb[..., 0] + 0.25)).mean())


def segments(ax) -> list[np.ndarray]:
    lines = [c for c in ax.collections if isinstance(c, LineCollection)]
    return [seg for c in lines for seg in c.get_segments()]


def test_small_network_png(tmp_path):
    path = tmp_path / "small.png"
    ax = en.draw(xor_network(), path=path)
    assert_not_blank(path)
    assert len(segments(ax)) == 13  # every edge drawn
    assert {t.get_text() for t in ax.texts} >= {"x0", "x1", "h0", "y"}


def test_trained_network_shows_both_signs(tmp_path, trained):
    weights = [w for _, _, w in trained.edges(data="weight")]
    assert min(weights) < 0 < max(weights)
    path = tmp_path / "trained.png"
    en.draw(trained, path=path)
    rgb = assert_not_blank(path)
    assert reddish(rgb) > 0.001 and bluish(rgb) > 0.001  # positive red, negative blue


def test_sign_colours_follow_weights():
    net = en.Network()
    net.add_input("x")
    net.add_output("y")
    net.add_edge("x", "y", weight=3.0)
    ax = en.draw(net)
    (r, _, b, _), = ax.collections[0].get_colors()
    assert r > b + 0.2  # positive: red
    net.edges["x", "y"]["weight"] = -3.0
    ax = en.draw(net)
    (r, _, b, _), = ax.collections[0].get_colors()
    assert b > r + 0.2  # negative: blue
    plt.close("all")


def test_stronger_edges_are_darker_and_wider():
    net = en.Network()
    net.add_input("x")
    net.add_output("y")
    net.add_output("z")
    net.add_edge("x", "y", weight=0.1)
    net.add_edge("x", "z", weight=2.0)
    ax = en.draw(net)
    lines = ax.collections[0]
    (weak, strong) = lines.get_colors()  # drawn weakest first
    assert strong[3] > weak[3] and strong[:3].sum() < weak[:3].sum()
    assert lines.get_linewidths()[1] > lines.get_linewidths()[0]
    plt.close("all")


def test_large_network_is_thinned_and_says_so(tmp_path):
    rng = np.random.default_rng(0)
    sizes = [300, 400, 400, 300, 10]
    starts = np.concatenate(([0], np.cumsum(sizes)))
    G = nx.DiGraph()
    G.add_nodes_from(range(starts[-1]))
    while G.number_of_edges() < 100_000:
        a = rng.integers(0, len(sizes) - 1, size=60_000)
        b = np.where(rng.random(60_000) < 0.9, a + 1, rng.integers(a + 1, len(sizes)))
        u = starts[a] + rng.integers(0, np.asarray(sizes)[a])
        v = starts[b] + rng.integers(0, np.asarray(sizes)[b])
        w = rng.normal(size=60_000)
        G.add_weighted_edges_from(zip(u.tolist(), v.tolist(), w.tolist(), strict=True))
    n_edges = G.number_of_edges()
    path = tmp_path / "large.png"
    ax = en.draw(G, path=path, max_edges=5_000)
    assert_not_blank(path)
    drawn = segments(ax)
    assert len(drawn) == 5_000
    notes = [t.get_text() for t in ax.texts]
    assert f"showing the 5,000 strongest of {n_edges:,} edges (max_edges=5,000)" in notes
    # The kept edges are the strongest ones.
    strongest = np.sort(np.abs([w for _, _, w in G.edges(data="weight")]))[-5_000]
    pos = place(G)
    shown = set()
    for c in ax.collections:
        if isinstance(c, LineCollection):
            for seg in c.get_segments():
                shown.add((tuple(np.round(seg[0], 9)), tuple(np.round(seg[-1], 9))))
    xy = np.stack([pos.x, pos.y], axis=1)
    strong = np.abs(pos.weight) >= strongest
    expected = {
        (tuple(np.round(xy[s], 9)), tuple(np.round(xy[d], 9)))
        for s, d in zip(pos.src[strong], pos.dst[strong], strict=True)
    }
    assert shown == expected


def test_every_edge_drawn_without_limit():
    G = nx.gnp_random_graph(60, 0.3, seed=2, directed=True)
    dag = nx.DiGraph((u, v, {"weight": 1.0}) for u, v in G.edges if u < v)
    ax = en.draw(dag, max_edges=None)
    assert len(segments(ax)) == dag.number_of_edges()
    assert not any(t.get_text().startswith("showing") for t in ax.texts)
    plt.close(ax.figure)


def test_svg_and_pdf(tmp_path, trained):
    svg = tmp_path / "net.svg"
    en.draw(trained, path=svg)
    text = svg.read_text()
    assert text.startswith("<?xml") and "<svg" in text and "skip connection" in text
    pdf = tmp_path / "net.PDF"
    en.draw(xor_network(), path=pdf)
    assert pdf.read_bytes().startswith(b"%PDF")


def test_skip_connections_are_dashed_arcs():
    ax = en.draw(xor_network())
    arcs = [c for c in ax.collections if isinstance(c, LineCollection) and c.get_linestyle()[0][1]]
    assert len(arcs) == 1
    (arc,) = arcs[0].get_segments()  # the one skip edge x0 -> y, as a curve
    assert len(arc) > 2
    assert "skip connection (1)" in [t.get_text() for t in ax.get_legend().get_texts()]
    plt.close(ax.figure)


def test_layout_columns_and_skips():
    G = nx.DiGraph([("a", "h"), ("h", "g"), ("a", "y"), ("g", "z"), ("y", "z")])
    pos = place(G)
    col = dict(zip(pos.nodes, pos.x.tolist(), strict=True))
    level = dict(zip(pos.nodes, pos.level.tolist(), strict=True))
    assert level == {"a": 0, "h": 1, "y": 1, "g": 2, "z": 3}
    assert col["z"] == 3 and col["a"] == 0
    skips = {(pos.nodes[u], pos.nodes[v]) for u, v in zip(pos.src, pos.dst, strict=True)
             if pos.level[v] - pos.level[u] > 1}
    assert skips == {("y", "z")} == {
        (pos.nodes[u], pos.nodes[v])
        for u, v in zip(pos.src[pos.skip], pos.dst[pos.skip], strict=True)
    }


def test_outputs_that_feed_nothing_sit_in_the_last_column():
    net = en.Network()
    net.add_input("x")
    net.add_neuron("h")
    net.add_neuron("g")
    net.add_output("early")  # generation 1, feeds nothing: drawn on the right
    net.add_output("late")
    net.add_edge("x", "h")
    net.add_edge("h", "g")
    net.add_edge("g", "late")
    net.add_edge("x", "early")
    pos = place(net)
    col = dict(zip(pos.nodes, pos.x.tolist(), strict=True))
    assert col["early"] == col["late"] == 3
    assert dict(zip(pos.nodes, pos.level.tolist(), strict=True))["early"] == 1


def test_plain_dag_without_weights_or_roles(tmp_path):
    G = nx.DiGraph([(0, 1), (0, 2), (1, 3), (2, 3), (0, 3)])
    path = tmp_path / "plain.png"
    ax = en.draw(G, path=path)
    assert_not_blank(path)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "no weight" in legend and "weight > 0" not in legend


def test_draws_a_compiled_model_with_its_current_weights():
    model = xor_network().compile(seed=0)
    with torch.no_grad():
        model.weight.fill_(-2.0)
    ax = en.draw(model)
    colours = np.concatenate([c.get_colors() for c in ax.collections[:2]])
    assert len(colours) == 13 and (colours[:, 2] > colours[:, 0]).all()  # all negative: blue
    plt.close(ax.figure)


def test_draws_into_given_axes():
    fig, ax = plt.subplots()
    assert en.draw(xor_network(), ax=ax, title="mine") is ax
    assert ax.get_title() == "mine"
    plt.close(fig)


def test_layers_run_left_to_right_and_children_follow_parents():
    net = en.Network()
    for i in range(4):
        net.add_input(f"x{i}")
    for i in range(4):
        net.add_neuron(f"h{i}")
        net.add_edge(f"x{3 - i}", f"h{i}")  # h0 <- x3, ..., h3 <- x0
    net.add_output("y")
    for i in range(4):
        net.add_edge(f"h{i}", "y")
    pos = place(net)
    y = dict(zip(pos.nodes, pos.y.tolist(), strict=True))
    assert y["x0"] > y["x1"] > y["x2"] > y["x3"]  # inputs top down in insertion order
    assert y["h3"] > y["h2"] > y["h1"] > y["h0"]  # each neuron level with its input


def test_unknown_suffix_is_refused(tmp_path):
    with pytest.raises(
        en.EdgenetError,
        match=r"cannot tell the image format of '.*net\.jpg' from its suffix \.jpg; accepted "
        r"suffixes: \.png, \.svg, \.pdf, \.html",
    ):
        en.draw(xor_network(), path=tmp_path / "net.jpg")
    with pytest.raises(en.EdgenetError, match=r"from its suffix \(none\)"):
        en.draw(xor_network(), path=tmp_path / "net")


@pytest.mark.parametrize("bad", [-1, True, 2.5])
def test_bad_max_edges(bad):
    with pytest.raises(
        en.EdgenetError, match=rf"max_edges must be a non-negative int or None \(got {bad!r}\)"
    ):
        en.draw(xor_network(), max_edges=bad)


def test_bad_weight_is_named():
    G = nx.DiGraph([("x", "y", {"weight": "heavy"})])
    with pytest.raises(
        en.EdgenetError,
        match=r"weight of edge \('x', 'y'\) is 'heavy' of type str; expected a finite real number",
    ):
        en.draw(G)


def test_missing_matplotlib_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib` fail
    with pytest.raises(
        en.EdgenetError, match=r'drawing needs matplotlib, .*: pip install "edgenet\[draw\]"'
    ):
        en.draw(xor_network())


def test_import_edgenet_does_not_import_matplotlib():
    import subprocess

    code = "import sys, edgenet; print('matplotlib' in sys.modules)"
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    )
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    "G", [nx.DiGraph(), nx.empty_graph(3, create_using=nx.DiGraph)], ids=["empty", "isolated"]
)
def test_degenerate_graphs_draw(G, tmp_path):
    ax = en.draw(G, path=tmp_path / "g.png")
    assert f"{G.number_of_nodes()} inputs · 0 neurons · 0 edges" in ax.get_title()
    assert segments(ax) == []


# --- cyclic graphs -------------------------------------------------------------------------


def cyclic_network() -> en.Network:
    net = en.Network()
    net.add_input("x")
    for n in ("a", "b", "c"):
        net.add_neuron(n, activation="tanh")
    net.add_output("y")
    net.add_edge("x", "a", weight=1.0)
    net.add_edge("a", "b", weight=0.5)
    net.add_edge("b", "c", weight=-0.5)
    net.add_edge("c", "a", weight=2.0)  # closes a -> b -> c -> a
    net.add_edge("b", "b", weight=0.3)  # self-loop
    net.add_edge("c", "y", weight=1.0)
    return net


def feedback_lines(ax) -> list[LineCollection]:
    violet = np.array(matplotlib.colors.to_rgb(FEEDBACK))
    return [c for c in ax.collections if isinstance(c, LineCollection) and len(c.get_colors())
            and np.allclose(c.get_colors()[:, :3], violet)]


def test_cyclic_graph_is_drawn_with_feedback_edges_apart(tmp_path):
    net = cyclic_network()
    _, removed = en.break_cycles(net)
    assert sorted(removed) == [("b", "b"), ("c", "a")]
    ax = en.draw(net, path=tmp_path / "cyclic.png")
    assert_not_blank(tmp_path / "cyclic.png")
    (back,) = feedback_lines(ax)
    assert len(back.get_segments()) == 2 and back.get_linestyle()[0][1] is not None  # dotted
    assert all(len(seg) > 2 for seg in back.get_segments())  # curves, not straight lines
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "feedback edge (2)" in legend
    assert "2 feedback" in ax.get_title()
    plt.close("all")


@pytest.mark.parametrize("suffix", ["svg", "pdf"])
def test_cyclic_graph_in_vector_formats(tmp_path, suffix):
    path = tmp_path / f"cyclic.{suffix}"
    en.draw(cyclic_network(), path=path)
    data = path.read_bytes()
    if suffix == "svg":
        assert b"feedback edge (2)" in data
    else:
        assert data.startswith(b"%PDF") and len(data) > 5_000


def test_self_loop_is_drawn_as_a_loop():
    ax = en.draw(cyclic_network())
    pos = place(cyclic_network())
    b = pos.nodes.index("b")
    loops = [seg for c in feedback_lines(ax) for seg in c.get_segments()
             if np.allclose(seg[0], seg[-1])]
    (loop,) = loops
    assert np.allclose(loop[0], (pos.x[b], pos.y[b]))
    assert np.ptp(loop[:, 1]) > 0 and np.ptp(loop[:, 0]) > 0  # a ring, not a point
    plt.close("all")


# --- layouts a person can read -------------------------------------------------------------


def crossings(pos, a: int, b: int) -> int:
    """Edges between columns a and b that cross, counted pair by pair."""
    pick = (pos.x[pos.src] == a) & (pos.x[pos.dst] == b)
    ys, yd = pos.y[pos.src[pick]], pos.y[pos.dst[pick]]
    return int(((ys[:, None] - ys[None, :]) * (yd[:, None] - yd[None, :]) < 0).sum() // 2)


def test_barycentre_sweeps_uncross_a_shuffled_chain():
    rng = np.random.default_rng(0)
    net = en.Network()
    for i in range(8):
        net.add_input(f"x{i}")
    a = rng.permutation(8)
    b = rng.permutation(8)
    for i in range(8):  # inserted in shuffled order
        net.add_neuron(f"a{a[i]}")
    for i in range(8):
        net.add_neuron(f"b{b[i]}")
    for i in range(8):
        net.add_edge(f"x{i}", f"a{i}", weight=1.0)
        net.add_edge(f"a{i}", f"b{i}", weight=1.0)
    pos = place(net)
    assert crossings(pos, 0, 1) == 0 and crossings(pos, 1, 2) == 0
    unordered = place(net, sweeps=0)  # the same, but only one left-to-right pass
    assert crossings(unordered, 0, 1) == 0
    plain = Placement(**{**pos.__dict__, "y": np.concatenate(  # insertion order
        [slots(8, 8)] * 3)[np.argsort(np.argsort(pos.x, kind="stable"))]})
    assert crossings(plain, 0, 1) > 5  # what there was to uncross


def test_demo_first_stage_looks_local():
    from edgenet.shell.demo import build

    pos = place(build())
    first = np.flatnonzero(pos.x == 1)  # the locally connected stage
    into = np.isin(pos.dst, first)
    mean_input = np.bincount(pos.dst[into], weights=pos.y[pos.src[into]],
                             minlength=len(pos.nodes))[first] / 9
    # Each neuron sits at the height of its window of pixels: heights follow exactly.
    assert np.corrcoef(pos.y[first], mean_input)[0, 1] > 0.98
    # Insertion order (channel by channel) does not.
    rank = np.arange(len(first))
    assert abs(np.corrcoef(rank, mean_input[np.argsort(-pos.y[first])])[0, 1]) > 0.98
    assert abs(np.corrcoef(rank, mean_input)[0, 1]) < 0.3


def chain(depth: int, width: int, seed: int = 0) -> nx.DiGraph:
    """A deep, narrow random DAG: each neuron reads two of the previous few layers."""
    rng = np.random.default_rng(seed)
    G = nx.DiGraph()
    layers = [[(d, i) for i in range(width)] for d in range(depth)]
    for d in range(1, depth):
        for v in layers[d]:
            G.add_edge(layers[d - 1][rng.integers(width)], v, weight=float(rng.normal()))
            back = layers[max(0, d - int(rng.integers(1, 6)))]
            G.add_edge(back[rng.integers(width)], v, weight=float(rng.normal()))
    return G


def marker_boxes(ax):
    """Centres (px) and diameters (px) of every neuron marker."""
    from matplotlib.collections import PathCollection

    dpi = ax.figure.dpi
    centres, sizes = [], []
    for c in ax.collections:
        if isinstance(c, PathCollection):
            centres.append(ax.transData.transform(c.get_offsets()))
            sizes.append(np.broadcast_to(np.sqrt(c.get_sizes()) * dpi / 72, len(c.get_offsets())))
    return np.concatenate(centres), np.concatenate(sizes)


@pytest.fixture(scope="module")
def deep_axes(tmp_path_factory):
    """A 400-layer chain, drawn once (to a file: a figure pyplot does not hold) for the
    tests that read its figure."""
    path = tmp_path_factory.mktemp("deep") / "deep.png"
    return en.draw(chain(400, 3), path, labels=False, max_edges=200)


@pytest.mark.parametrize("G", [None, chain(60, 40), nx.complete_multipartite_graph(
    1, 300, 1).to_directed()], ids=["deep", "wide", "one-wide-layer"])
def test_neurons_never_overlap(G, deep_axes):
    if G is None:
        G, ax = chain(400, 3), deep_axes
    else:
        G = nx.DiGraph((u, v) for u, v in G.edges if u < v)  # one direction of each edge
        ax = en.draw(G, labels=False)
    centres, diameter = marker_boxes(ax)
    assert len(centres) == G.number_of_nodes()
    gap = np.sqrt(((centres[:, None] - centres[None]) ** 2).sum(-1))  # (N, N) px
    np.fill_diagonal(gap, np.inf)
    reach = 0.5 * (diameter[:, None] + diameter[None])  # touching distance
    assert (gap >= reach * 0.999).all(), f"closest pair {gap.min():.2f} px < {reach.max():.2f}"
    plt.close("all")


def test_deep_graph_wraps_onto_rows_and_says_so(deep_axes):
    ax = deep_axes
    notes = [t.get_text() for t in ax.texts if t.get_gid() == "note"]
    assert notes[0].endswith("400 layers wrap onto 3 rows of 134")
    centres, _ = marker_boxes(ax)
    rows = np.unique(np.round(centres[:, 1] / 50))  # three bands of rows of neurons
    assert len(rows) >= 3
    # Every layer is labelled somewhere, in order, row by row.
    labels = [t for t in ax.texts if t.get_gid() == "layer"]
    assert labels[0].get_text() == "0" and labels[-1].get_text() == "399"


@pytest.mark.parametrize("G", [chain(87, 4), None, chain(12, 3)],
                         ids=["87-layers", "400-layers", "12-layers"])
def test_layer_labels_never_collide(G, deep_axes):
    ax = deep_axes if G is None else en.draw(G, max_edges=200)
    renderer = ax.figure.canvas.get_renderer()
    texts = [t for t in ax.texts if t.get_gid() in ("layer", "note")]
    boxes = [t.get_window_extent(renderer) for t in texts]
    assert len([t for t in texts if t.get_gid() == "layer"]) >= 5
    for i, a in enumerate(boxes):
        for j in range(i):
            assert not a.overlaps(boxes[j]), (texts[i].get_text(), texts[j].get_text())
    if G is not None:
        plt.close(ax.figure)


# --- atomic writes -------------------------------------------------------------------------


@pytest.mark.parametrize("interrupt", [KeyboardInterrupt, OSError])
def test_failed_draw_leaves_the_old_picture(tmp_path, monkeypatch, interrupt):
    from matplotlib.figure import Figure

    path = tmp_path / "net.png"
    path.write_bytes(b"old picture")

    def broken(self, fname, **kwargs):
        fname.write(b"half a png")
        raise interrupt("disk full or Ctrl-C")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(interrupt):
        en.draw(xor_network(), path=path)
    assert path.read_bytes() == b"old picture"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.png"]  # no temporary file


def test_failed_page_leaves_the_old_page(tmp_path, monkeypatch):
    pytest.importorskip("plotly")
    import importlib

    module = importlib.import_module("edgenet.views.draw")  # en.draw is the function
    path = tmp_path / "net.html"
    path.write_bytes(b"old page")
    monkeypatch.setattr(module, "html", lambda fig: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        en.draw(xor_network(), path=path)
    assert path.read_bytes() == b"old page"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.html"]


def test_draw_replaces_a_picture_whole(tmp_path):
    path = tmp_path / "net.svg"
    path.write_text("x" * 1_000_000)  # longer than the new picture
    en.draw(xor_network(), path=path)
    assert path.read_text().rstrip().endswith("</svg>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.svg"]


def test_html_with_axes_is_refused(tmp_path):
    fig, ax = plt.subplots()
    with pytest.raises(en.EdgenetError, match=r"ax= draws into a matplotlib Axes, but '.*net\.html' "
                       r"asks for an HTML page; drop ax=, or give a \.png, \.svg or \.pdf path"):
        en.draw(xor_network(), path=tmp_path / "net.html", ax=ax)
    plt.close(fig)


def test_missing_folder_is_named_before_any_work(tmp_path, monkeypatch):
    import importlib

    module = importlib.import_module("edgenet.views.draw")
    monkeypatch.setattr(module, "place", lambda G: pytest.fail("drew before checking"))
    target = tmp_path / "no" / "such" / "net.png"
    with pytest.raises(FileNotFoundError) as err:
        en.draw(xor_network(), path=target)
    assert err.value.filename == str(target)


@pytest.mark.parametrize("weight", [1e308, -1.7e308])
def test_the_largest_finite_weights_are_drawn(tmp_path, weight):
    """The colour bar spans -scale..scale: with the scale capped it stays finite (a weight
    near the largest float made matplotlib fail on a non-finite span)."""
    G = nx.DiGraph([("a", "b", {"weight": weight}), ("b", "c", {"weight": 0.5})])
    path = tmp_path / "net.png"
    en.draw(G, path)
    assert path.stat().st_size > 0


def test_names_are_drawn_as_written_not_as_mathtext(tmp_path):
    """matplotlib reads text between two $ as mathtext: a name, activation or title from
    a file must neither turn into maths nor, when it is not valid mathtext, stop the draw."""
    G = nx.DiGraph()
    G.add_node("$x^2$", activation="$y_1$ costs $5")
    G.add_edge("in", "$x^2$", weight=1.0)
    G.add_edge("in", r"$\frac$", weight=-1.0)  # not valid mathtext
    path = tmp_path / "net.svg"
    with plt.rc_context({"svg.fonttype": "none", "text.usetex": False}):  # text stays text
        ax = en.draw(G, path, labels=True, title="$a$ and $b$")
    svg = path.read_text()
    for text in ("$x^2$", r"$\frac$", "$y_1$ costs $5", "$a$ and $b$"):
        assert f">{text}<" in svg, text
    assert "$y_1$ costs $5" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_drawing_into_axes_shows_control_characters_escaped():
    """``en.draw(G, ax=...)`` renders later, when the caller saves or shows the figure,
    outside any warning filter of edgenet's: a name with a terminal escape sequence and
    a bell reached the terminal through matplotlib's "Glyph ... missing" warnings. Names
    and activations are now shown with visible escapes; the graph keeps them exact."""
    import io
    import warnings

    name, act = "n\x1b[31mred\x07", "act\x1b[0m"
    G = nx.DiGraph([("x", name, {"weight": 1.0}), (name, "y", {"weight": -1.0})])
    G.nodes[name]["activation"] = act
    fig = plt.figure()
    ax = en.draw(G, ax=fig.add_subplot(), labels=True, title="t\x07")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.savefig(io.BytesIO(), format="png")  # matplotlib renders the text here
    plt.close(fig)
    assert all(str(w.message).isprintable() for w in caught), [str(w.message) for w in caught]
    texts = [t.get_text() for t in ax.texts]
    assert "n\\x1b[31mred\\x07" in texts
    assert "act\\x1b[0m" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert ax.get_title() == "t\\x07"
    assert name in G and G.nodes[name]["activation"] == act  # the data keeps them exact
