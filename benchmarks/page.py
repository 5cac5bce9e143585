"""The interactive page at 2,000, 20,000 and 100,000 edges: size, load and redraw time in Chromium.

    python benchmarks/page.py            # needs plotly, selenium, chromium, chromedriver

Builds 1,410-neuron layered networks with skip connections (2,000, 20,000 and 100,000
edges), writes their pages at the default ``max_edges``, with every edge drawn and (for
the largest) at ``max_edges=1000``, opens each in headless Chromium and times:

- **load**: from navigation until plotly has drawn the WebGL canvas;
- **pan**: ``Plotly.relayout`` shifting the x range by 5% of its width;
- **zoom**: ``Plotly.relayout`` shrinking both ranges by 20% about their centre;

each redraw until the second animation frame after the relayout, so the picture is on
screen (median of 5 after one unmeasured redraw). The baseline is the same page with
plotly's own WebGL pixel ratio (2), timed in the same browser. Headless Chromium
without a GPU renders WebGL on the CPU (SwiftShader); say so with the figures.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import edgenet as en  # noqa: E402
from edgenet.page import html, page  # noqa: E402

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--enable-unsafe-swiftshader", "--window-size=1400,900")
DEFAULT = 20_000  # page()'s default max_edges, repeated for the labels below
SMALL = 1_000  # a limit for software rendering


def layered(n_edges: int = 100_000, seed: int = 0) -> nx.DiGraph:
    rng = np.random.default_rng(seed)
    sizes = [300, 400, 400, 300, 10]
    starts = np.concatenate(([0], np.cumsum(sizes)))
    G = nx.DiGraph()
    G.add_nodes_from(range(starts[-1]))
    while G.number_of_edges() < n_edges:
        a = rng.integers(0, len(sizes) - 1, size=60_000)
        b = np.where(rng.random(60_000) < 0.9, a + 1, rng.integers(a + 1, len(sizes)))
        u = starts[a] + rng.integers(0, np.asarray(sizes)[a])
        v = starts[b] + rng.integers(0, np.asarray(sizes)[b])
        G.add_weighted_edges_from(zip(u.tolist(), v.tolist(), rng.normal(size=60_000).tolist(),
                                      strict=True))
    G.remove_edges_from(list(G.edges)[n_edges:])
    return G


REDRAW = """
var done = arguments[arguments.length - 1], kind = arguments[0], repeats = arguments[1];
var gd = document.querySelector('.js-plotly-plot'), times = [], k = 0;
function change() {
  var x = gd._fullLayout.xaxis.range, y = gd._fullLayout.yaxis.range;
  if (kind === 'pan') {
    var dx = 0.05 * (x[1] - x[0]) * (k % 2 ? -1 : 1);
    return {'xaxis.range': [x[0] + dx, x[1] + dx]};
  }
  var f = k % 2 ? 1.25 : 0.8, cx = (x[0] + x[1]) / 2, cy = (y[0] + y[1]) / 2;
  return {'xaxis.range': [cx + (x[0] - cx) * f, cx + (x[1] - cx) * f],
          'yaxis.range': [cy + (y[0] - cy) * f, cy + (y[1] - cy) * f]};
}
function step() {
  var t0 = performance.now();
  Plotly.relayout(gd, change()).then(function () {
    requestAnimationFrame(function () { requestAnimationFrame(function () {
      if (k > 0) { times.push(performance.now() - t0); }
      if (++k <= repeats) { step(); } else { done(times); }
    }); });
  });
}
step();
"""
DRAWN = ("var gd = document.querySelector('.js-plotly-plot');"
         "return gd && gd._fullLayout && gd.querySelector('.gl-canvas-context');")


def browser() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp()}")
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_script_timeout(1800)
    driver.command_executor._client_config.timeout = 1800  # the default 120 s is too short
    return driver


def measure(driver: Any, path: Path, repeats: int) -> tuple[float, float, float]:
    """Load time (s), median pan and median zoom redraw (ms) of the page at ``path``."""
    started = time.perf_counter()
    driver.get(path.as_uri())
    while not driver.execute_script(DRAWN):
        time.sleep(0.05)
    loaded = time.perf_counter() - started
    pan = statistics.median(driver.execute_async_script(REDRAW, "pan", repeats))
    zoom = statistics.median(driver.execute_async_script(REDRAW, "zoom", repeats))
    return loaded, pan, zoom


def main() -> None:
    repeats = int(os.environ.get("REPEATS", 5))
    folder = Path(tempfile.mkdtemp())
    driver = browser()
    print("software-rendered WebGL (headless Chromium, SwiftShader), window 1400x900; "
          f"medians of {repeats}")
    print(f"{'edges':>8} {'drawn':>8} {'page':>9} {'built':>7} {'load':>7} {'pan':>9} "
          f"{'zoom':>9}   baseline (plotly's pixel ratio 2): pan, zoom")
    try:
        for n_edges in (2_000, 20_000, 100_000):
            G = layered(n_edges)
            limits = {min(n_edges, DEFAULT), n_edges} | ({SMALL} if n_edges > DEFAULT else set())
            for limit in sorted(limits):
                started = time.perf_counter()
                fig = page(G, max_edges=limit)
                text = html(fig)
                built = time.perf_counter() - started
                path = folder / f"net-{n_edges}-{limit}.html"
                path.write_text(text, encoding="utf-8")
                loaded, pan, zoom = measure(driver, path, repeats)
                row = (f"{n_edges:>8,} {limit:>8,} {os.path.getsize(path) / 2**20:>5.1f} MiB "
                       f"{built:>5.1f} s {loaded:>5.1f} s {pan:>6.0f} ms {zoom:>6.0f} ms")
                if limit <= DEFAULT:
                    old = folder / f"old-{n_edges}-{limit}.html"
                    old.write_text(text.replace('"plotGlPixelRatio": 1', '"plotGlPixelRatio": 2'),
                                   encoding="utf-8")
                    _, old_pan, old_zoom = measure(driver, old, repeats)
                    row += (f"   {old_pan:.0f} ms, {old_zoom:.0f} ms "
                            f"({old_pan / pan:.1f}x, {old_zoom / zoom:.1f}x)")
                print(row, flush=True)
    finally:
        driver.quit()


if __name__ == "__main__":
    assert en.draw  # the page is what en.draw(G, "net.html") writes
    main()
