"""The interactive page at 100,000 edges: build time, file size, and redraw time in Chromium.

    python benchmarks/page.py            # needs plotly, selenium, chromium, chromedriver

Builds a 1,410-neuron, 100,000-edge layered network with skip connections, writes its
page showing 2,000, 20,000 (the default) and all 100,000 edges, opens each in headless
Chromium and times the load (until plotly has drawn) and a pan: ``Plotly.relayout`` of
the x range until the second animation frame after it, so the redraw is included
(median of 3). Headless Chromium without a GPU renders WebGL on the CPU (SwiftShader),
so these are worst-case figures: a browser with a GPU redraws far faster.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import networkx as nx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import edgenet as en  # noqa: E402

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run",
         "--enable-unsafe-swiftshader", "--window-size=1400,900")


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


PAN = """
var done = arguments[arguments.length - 1], gd = document.querySelector('.js-plotly-plot');
var times = [], k = 0;
function step() {
  var t0 = performance.now(), r = gd._fullLayout.xaxis.range;
  Plotly.relayout(gd, {'xaxis.range': [r[0] + 0.05, r[1] + 0.05]}).then(function () {
    requestAnimationFrame(function () { requestAnimationFrame(function () {
      times.push(performance.now() - t0);
      if (++k < 3) { step(); } else { done(times); }
    }); });
  });
}
step();
"""


def main() -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    G = layered()
    folder = Path(tempfile.mkdtemp())
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={folder / 'profile'}")
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_script_timeout(900)
    driver.command_executor._client_config.timeout = 900  # the default 120 s is too short
    try:
        print(f"{G.number_of_nodes():,} neurons, {G.number_of_edges():,} edges")
        for limit in (2_000, 20_000, None):
            path = folder / f"net-{limit}.html"
            started = time.perf_counter()
            en.draw(G, path, max_edges=limit)
            built = time.perf_counter() - started
            started = time.perf_counter()
            driver.get(path.as_uri())
            while not driver.execute_script(
                "var gd = document.querySelector('.js-plotly-plot');"
                "return gd && gd._fullLayout && gd.querySelector('.gl-canvas-context');"
            ):
                time.sleep(0.05)
            loaded = time.perf_counter() - started
            pans = driver.execute_async_script(PAN)
            print(f"max_edges={limit}: page {os.path.getsize(path) / 2**20:.1f} MiB, built in "
                  f"{built:.1f} s, loaded in {loaded:.1f} s, pan redraw median "
                  f"{statistics.median(pans):.0f} ms (min {min(pans):.0f}, max {max(pans):.0f})")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
