"""The interactive page at 2,000, 20,000 and 100,000 edges: size, load and redraw time in Chromium.

    python benchmarks/page.py            # needs plotly, selenium, chromium, chromedriver

Builds 1,410-neuron layered networks with skip connections (2,000, 20,000 and 100,000
edges), writes their pages at the default ``max_edges``, with every edge drawn and (for
the largest) at ``max_edges=1000``, opens each in headless Chromium and times:

- **load**: from navigation until plotly has drawn the WebGL canvas;
- **pan**: ``Plotly.relayout`` shifting the x range by 5% of its width, right then left;
- **zoom**: ``Plotly.relayout`` scaling both ranges by 0.8 about their centre, then
  back by 1.25;
- **WebGL**: the floor: the same edges as straight one-pixel lines drawn by plain
  WebGL in one draw call on an antialiased canvas the size of the plot, no plotly,
  until ``gl.readPixels`` returns (the drawing is done).

Pan and zoom run until the second animation frame after the relayout, so the picture
is on screen; each is the median of 5 after one unmeasured redraw (``REPEATS=N``
changes 5). The baseline is the same page with plotly's own WebGL pixel ratio (2),
timed in the same browser. Headless Chromium without a GPU renders WebGL on the CPU
(SwiftShader); say so with the figures.
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
from edgenet.views.page import html, page  # noqa: E402  (what en.draw(G, "net.html") writes)

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
FLOOR = """
// The same edges as straight 1-pixel quads, one plain WebGL draw call, no plotly, on an
// antialiased canvas the size of the plot: what software WebGL needs for these lines.
var gd = document.querySelector('.js-plotly-plot'), fl = gd._fullLayout, net = fl.meta.edgenet;
var w = Math.round(fl._size.w), h = Math.round(fl._size.h), c = document.createElement('canvas');
c.width = w; c.height = h; document.body.appendChild(c);
var gl = c.getContext('webgl', {antialias: true, preserveDrawingBuffer: true});
function shader(type, text) {
  var s = gl.createShader(type); gl.shaderSource(s, text); gl.compileShader(s); return s;
}
var program = gl.createProgram();
gl.attachShader(program, shader(gl.VERTEX_SHADER,
  'attribute vec2 p; void main() { gl_Position = vec4(p, 0.0, 1.0); }'));
gl.attachShader(program, shader(gl.FRAGMENT_SHADER,
  'precision mediump float; void main() { gl_FragColor = vec4(0.2, 0.2, 0.5, 0.5); }'));
gl.linkProgram(program); gl.useProgram(program);
var n = net.src.length, quads = new Float32Array(n * 12);
for (var e = 0; e < n; e++) {
  var x0 = fl.xaxis.l2p(net.x[net.src[e]]), y0 = fl.yaxis.l2p(net.y[net.src[e]]);
  var x1 = fl.xaxis.l2p(net.x[net.dst[e]]), y1 = fl.yaxis.l2p(net.y[net.dst[e]]);
  var len = Math.hypot(x1 - x0, y1 - y0) || 1, nx = -(y1 - y0) / len / 2, ny = (x1 - x0) / len / 2;
  var corners = [x0 + nx, y0 + ny, x1 + nx, y1 + ny, x1 - nx, y1 - ny,
                 x0 + nx, y0 + ny, x1 - nx, y1 - ny, x0 - nx, y0 - ny];
  for (var k = 0; k < 12; k += 2) {
    quads[e * 12 + k] = corners[k] / w * 2 - 1; quads[e * 12 + k + 1] = 1 - corners[k + 1] / h * 2;
  }
}
gl.bindBuffer(gl.ARRAY_BUFFER, gl.createBuffer());
gl.bufferData(gl.ARRAY_BUFFER, quads, gl.STATIC_DRAW);
gl.enableVertexAttribArray(0); gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
gl.enable(gl.BLEND); gl.blendFunc(gl.SRC_ALPHA, gl.ONE_MINUS_SRC_ALPHA);
var pixel = new Uint8Array(4), times = [];
for (var r = 0; r <= arguments[0]; r++) {
  var t0 = performance.now();
  gl.clear(gl.COLOR_BUFFER_BIT); gl.drawArrays(gl.TRIANGLES, 0, n * 6);
  gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel);  // waits for the drawing
  if (r > 0) { times.push(performance.now() - t0); }
}
c.remove();
return times;
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


def measure(driver: Any, path: Path, repeats: int) -> tuple[float, float, float, float]:
    """Load time (s), median pan, zoom and plain-WebGL redraw (ms) of the page at ``path``."""
    started = time.perf_counter()
    driver.get(path.as_uri())
    while not driver.execute_script(DRAWN):
        time.sleep(0.05)
    loaded = time.perf_counter() - started
    pan = statistics.median(driver.execute_async_script(REDRAW, "pan", repeats))
    zoom = statistics.median(driver.execute_async_script(REDRAW, "zoom", repeats))
    floor = statistics.median(driver.execute_script(FLOOR, repeats))
    return loaded, pan, zoom, floor


def main() -> None:
    repeats = int(os.environ.get("REPEATS", 5))
    folder = Path(tempfile.mkdtemp())
    driver = browser()
    print("software-rendered WebGL (headless Chromium, SwiftShader), window 1400x900; "
          f"medians of {repeats}")
    print(f"{'edges':>8} {'drawn':>8} {'page':>9} {'built':>7} {'load':>7} {'pan':>9} "
          f"{'zoom':>9} {'WebGL':>9}   baseline (plotly's pixel ratio 2): pan, zoom")
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
                loaded, pan, zoom, floor = measure(driver, path, repeats)
                row = (f"{n_edges:>8,} {limit:>8,} {os.path.getsize(path) / 2**20:>5.1f} MiB "
                       f"{built:>5.1f} s {loaded:>5.1f} s {pan:>6.0f} ms {zoom:>6.0f} ms "
                       f"{floor:>6.0f} ms")
                if limit <= DEFAULT:
                    old = folder / f"old-{n_edges}-{limit}.html"
                    old.write_text(text.replace('"plotGlPixelRatio": 1', '"plotGlPixelRatio": 2'),
                                   encoding="utf-8")
                    _, old_pan, old_zoom, _ = measure(driver, old, repeats)
                    row += (f"   {old_pan:.0f} ms, {old_zoom:.0f} ms "
                            f"({old_pan / pan:.1f}x, {old_zoom / zoom:.1f}x)")
                print(row, flush=True)
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
