"""Draw the pictures of docs/views.md: the demo network, a connectome-like cyclic graph
and a 1,800-layer random DAG, with this edgenet ("after") or edgenet 0.1 ("before").

    python docs/pictures.py               # after: docs/views/*-after.png and *.html sizes
                                          # (deep-after.png keeps the first 3 of 13 rows)
    python docs/pictures.py --before      # before: draws with edgenet/views/draw.py of 0.1

Pictures are drawn at 60-80 dpi and stored with a 128-colour palette to stay small.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import networkx as nx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import edgenet as en  # noqa: E402
from benchmarks.graphs import deep  # noqa: E402
from edgenet.shell.demo import build  # noqa: E402

BEFORE = "1be2326"  # the last commit with edgenet 0.1's drawing
OUT = ROOT / "docs" / "views"
DPI = {("demo", False): 55, ("connectome", False): 50, ("deep", False): 56,
       ("demo", True): 60, ("connectome", True): 60, ("deep", True): 60}


def connectome(seed: int = 0) -> nx.DiGraph:
    """A stand-in for the C. elegans connectome: 280 neurons, 2,200 edges, cyclic.

    80 sensory, 110 inter and 90 motor neurons; sensory -> inter -> motor with recurrent
    inter-inter and motor-motor wiring and motor -> inter feedback. Neighbours by index
    connect more often, as neurons of one ganglion do.
    """
    rng = np.random.default_rng(seed)
    groups = {"sensory": (80, "tanh"), "inter": (110, "relu"), "motor": (90, "sigmoid")}
    names = {g: [f"{g[0].upper()}{i:02d}" for i in range(k)] for g, (k, _) in groups.items()}
    G = nx.DiGraph()
    for g, (_, act) in groups.items():
        G.add_nodes_from(names[g], group=g, activation=act)
    plan = [("sensory", "inter", 900), ("inter", "inter", 500), ("inter", "motor", 450),
            ("motor", "inter", 150), ("motor", "motor", 120), ("sensory", "sensory", 80)]
    for a, b, count in plan:
        while count:
            i = int(rng.integers(len(names[a])))
            near = i * len(names[b]) / len(names[a]) + rng.normal(0, 12)
            j = int(np.clip(round(near), 0, len(names[b]) - 1))
            u, v = names[a][i], names[b][j]
            if u != v and not G.has_edge(u, v):
                G.add_edge(u, v, weight=float(rng.normal(0.3, 1.0)))
                count -= 1
    return G


def graphs() -> dict[str, nx.DiGraph]:
    return {
        "demo": build().compile(seed=0).to_network(),  # initial weights, so edges have colour
        "connectome": connectome(),
        "deep": deep(18_000, 54_000, 1_800),  # 10 neurons a layer, 1,801 layers
    }


def old_draw():
    """edgenet 0.1's draw function, from git."""
    source = subprocess.run(["git", "show", f"{BEFORE}:edgenet/draw.py"], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout
    source = source.replace("from .errors", "from edgenet.errors").replace(
        "from .validate", "from edgenet.graph.validate")
    path = Path(tempfile.mkdtemp()) / "old_draw.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_draw", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["old_draw"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.draw


def shrink(path: Path, keep: float = 1.0) -> None:
    """Store with a 128-colour palette; ``keep`` < 1 keeps only that top share of the picture."""
    from PIL import Image

    image = Image.open(path).convert("RGB")
    image = image.crop((0, 0, image.width, round(image.height * keep)))
    image.quantize(128, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE).save(
        path, optimize=True)


def main() -> None:
    before = "--before" in sys.argv
    OUT.mkdir(parents=True, exist_ok=True)
    draw = old_draw() if before else en.draw
    for name, G in graphs().items():
        if before and not nx.is_directed_acyclic_graph(G):
            G = en.break_cycles(G)[0]  # 0.1 refused cycles: what a user had to do first
        path = OUT / f"{name}-{'before' if before else 'after'}.png"
        draw(G, path, dpi=DPI[name, before])
        shrink(path, keep=0.232 if name == "deep" and not before else 1.0)
        print(f"{path.relative_to(ROOT)}: {os.path.getsize(path) / 1024:.0f} KiB")
        if not before:
            page = Path(tempfile.mkdtemp()) / f"{name}.html"
            en.draw(G, page)
            print(f"  page: {os.path.getsize(page) / 2**20:.1f} MiB "
                  f"({min(G.number_of_edges(), 20_000):,} edges shown)")


if __name__ == "__main__":
    main()
