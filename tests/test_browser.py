"""The HTML page in a real browser: headless Chromium, offline, driven by selenium.

Needs Debian's ``chromium`` and ``chromium-driver`` (``apt-get install -y chromium
chromium-driver``) and ``selenium`` (in the ``test`` extra); skips, saying which is
missing, without them. The page is opened from a file with a fresh profile and every
background service off; the test checks that plotly drew it, that the console has no
error, that no request left the page, that hovering a neuron shows its details and
that hovering an edge shows its weight and that clicking a neuron lists its inputs and
outputs, and that names from a file built to attack the page (links, styles, entities,
templates, a script end) are shown exactly as written. It saves ``page.png`` (a screenshot)
in the test's temporary folder, or in ``$EDGENET_SCREENSHOTS`` when that is set.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from dags import HOSTILE, HOSTILE_TITLE, LINK, every_edge_kind, hostile

import edgenet as en

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--enable-unsafe-swiftshader",  # WebGL on the CPU, as plotly's scattergl needs
    "--window-size=1280,800",
)  # fmt: skip

pytest.importorskip("plotly", reason="the page needs plotly: pip install 'edgenet[html]'")
if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
    pytest.skip(
        "needs chromium and chromedriver: apt-get install -y chromium chromium-driver",
        allow_module_level=True,
    )
webdriver = pytest.importorskip(
    "selenium.webdriver", reason="needs selenium: pip install 'edgenet[test]'"
)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def wait_for(driver, script: str, *args, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script, *args)
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for: {script}")


def neuron_offset(driver, name: str) -> tuple[float, float]:
    """Where neuron ``name`` is drawn, relative to the centre of the plot's element."""
    return tuple(driver.execute_script(
        """
        var gd = document.querySelector('.js-plotly-plot'), fl = gd._fullLayout;
        var net = fl.meta.edgenet, i = net.names.indexOf(arguments[0]);
        var px = fl._size.l + fl.xaxis.l2p(net.x[i]), py = fl._size.t + fl.yaxis.l2p(net.y[i]);
        var box = gd.getBoundingClientRect();
        return [px - box.width / 2, py - box.height / 2];
        """,
        name,
    ))


def panel_rows(driver) -> list[str]:
    """The click panel's lines of text, as shown."""
    return driver.execute_script(
        "var p = document.querySelector('.edgenet-panel');"
        "return p && !p.hidden ? Array.from(p.children).map(c => c.textContent) : null;")


def hover_lines(driver, count: int, before: list[str] | None = None) -> list[str]:
    """The lines of the hover box once it has ``count`` lines and differs from ``before``."""
    return wait_for(driver, """
        var t = document.querySelectorAll('.hoverlayer .hovertext text.nums > tspan.line');
        var lines = Array.from(t).map(l => l.textContent);
        return lines.length === arguments[0] && JSON.stringify(lines) !== arguments[1] && lines;
        """, count, json.dumps(before))
#: Every link and styled piece of text the plot holds, as [tag, style, text].
MARKUP = ("var gd = document.querySelector('.js-plotly-plot');"
          "return Array.from(gd.querySelectorAll('a, svg tspan[style]'))"
          ".filter(e => !e.closest('.modebar'))"
          ".map(e => [e.tagName, e.getAttribute('style') || '', e.textContent]);")


def test_page_offline_hover_and_click(browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    path = tmp_path / "net.html"
    en.draw(every_edge_kind(self_loop=True), path)
    browser.get_log("performance")  # drop what the browser did before the page
    browser.get_log("browser")
    browser.get(Path(path).as_uri())
    wait_for(browser, "var gd = document.querySelector('.js-plotly-plot');"
                      "return gd && gd._fullLayout && gd.querySelector('.gl-canvas-context');")
    traces = browser.execute_script(
        "return document.querySelector('.js-plotly-plot')._fullData.map(t => t.name)")
    assert {"tanh", "relu", "sigmoid", "input", "feedback edge (2)", "skip connection (1)"} <= set(
        traces)

    scale = browser.execute_script(  # canvas pixels per CSS pixel (plotly's default is 2)
        "var c = document.querySelector('.gl-canvas-context');"
        "return c.width / parseFloat(c.style.width);")
    assert scale == pytest.approx(1.0, abs=0.01)

    plot = browser.find_element(By.CSS_SELECTOR, ".js-plotly-plot")
    dx, dy = neuron_offset(browser, "h")
    ActionChains(browser).move_to_element_with_offset(plot, int(dx), int(dy)).perform()
    hover = wait_for(browser, "var t = document.querySelector('.hoverlayer .hovertext');"
                              "return t && t.textContent.includes('role') && t.textContent;")
    assert "role: hidden" in hover and "activation: tanh" in hover, hover
    assert "bias: 0.25" in hover and "layer: 1" in hover, hover

    ex, ey = browser.execute_script(
        """
        var gd = document.querySelector('.js-plotly-plot'), fl = gd._fullLayout;
        var t = gd._fullData.find(d => d.name === 'edges'), box = gd.getBoundingClientRect();
        var i = t.text.findIndex(s => s.startsWith('x1 → h'));
        return [fl._size.l + fl.xaxis.l2p(t.x[i]) - box.width / 2,
                fl._size.t + fl.yaxis.l2p(t.y[i]) - box.height / 2];
        """)
    ActionChains(browser).move_to_element_with_offset(plot, int(ex), int(ey)).perform()
    edge = wait_for(browser, "var t = document.querySelector('.hoverlayer .hovertext');"
                             "return t && t.textContent.includes('x1') && t.textContent;")
    assert "x1 → h" in edge and "weight: -1.5" in edge, edge

    ActionChains(browser).move_to_element_with_offset(plot, int(dx), int(dy)).click().perform()
    assert wait_for(browser, "return document.querySelector('.js-plotly-plot').dataset.selected"
                    ) == "h"
    panel = panel_rows(browser)
    assert panel[:2] == ["h", "inputs (3)"] and "x1: -1.500" in panel and "g: -0.7500" in panel
    assert panel[-2:] == ["outputs (1)", "g: 2.000"], panel
    shown = browser.execute_script(
        "var gd = document.querySelector('.js-plotly-plot'), net = gd._fullLayout.meta.edgenet;"
        "return [gd.data[net.inputs_trace].x.length, gd.data[net.outputs_trace].x.length];")
    assert shown == [9, 3]  # three input edges and one output edge, 3 points each

    shots = Path(os.environ.get("EDGENET_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(shots / "page.png"))

    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors
    events = [json.loads(e["message"])["message"] for e in browser.get_log("performance")]
    urls = [e["params"]["request"]["url"] for e in events
            if e["method"] == "Network.requestWillBeSent"]
    # data: and blob: stay inside the page; chrome:// is the browser's own (a favicon its
    # start page fetches, now and then, while the page loads), never the page's
    inside = ("data:", "blob:", "chrome:")
    leaving = [u for u in urls if u != path.as_uri() and not u.startswith(inside)]
    assert path.as_uri() in urls and leaving == []


def test_names_from_a_file_show_as_plain_text(browser, tmp_path):
    """Hostile names and activations (links, styles, entities, templates, a script end)
    from a GraphML file: no link, no style from them, and every text exactly as written."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    G = hostile(tmp_path / "hostile.graphml")
    path = tmp_path / "hostile.html"
    en.draw(G, path, title=HOSTILE_TITLE)
    browser.get_log("browser")
    browser.get(Path(path).as_uri())
    wait_for(browser, "var gd = document.querySelector('.js-plotly-plot');"
                      "return gd && gd._fullLayout && gd.querySelector('.gl-canvas-context');")
    assert browser.execute_script("return window.pwned === undefined")
    assert browser.execute_script(
        "return document.querySelector('.gtitle').textContent") == HOSTILE_TITLE
    legend = browser.execute_script(
        "return Array.from(document.querySelectorAll('.legendtext')).map(t => t.textContent)")
    assert set(HOSTILE.values()) <= set(legend), legend
    assert browser.execute_script(MARKUP) == []

    plot = browser.find_element(By.CSS_SELECTOR, ".js-plotly-plot")
    lines = None
    for name, act in HOSTILE.items():
        dx, dy = neuron_offset(browser, name)
        ActionChains(browser).move_to_element_with_offset(plot, int(dx), int(dy)).perform()
        lines = hover_lines(browser, 4 + len(name.split("\n")), lines)
        assert lines == [*name.split("\n"), "role: hidden", f"activation: {act}",
                         "bias: 0 (default)", "layer: 1"], (name, lines)
        bold = [["tspan", "font-weight:bold", line] for line in name.split("\n")]
        assert browser.execute_script(MARKUP) == bold, name  # the hover's own <b>, no more

        ActionChains(browser).move_to_element_with_offset(plot, int(dx), int(dy)).click().perform()
        wait_for(browser, "return document.querySelector('.js-plotly-plot').dataset.selected"
                          " === arguments[0]", name)
        assert panel_rows(browser) == [name, "inputs (1)", "x: 1.000", "outputs (1)",
                                       "y: -0.5000"], name
        assert browser.execute_script(MARKUP) in ([], bold)
        assert browser.execute_script(  # rows of text, nothing inside them
            "return Array.from(document.querySelectorAll('.edgenet-panel *'))"
            ".map(e => e.tagName + e.children.length)") == ["DIV0"] * 5

    ex, ey = browser.execute_script(
        """
        var gd = document.querySelector('.js-plotly-plot'), fl = gd._fullLayout;
        var net = fl.meta.edgenet, box = gd.getBoundingClientRect();
        var t = gd._fullData.find(d => d.name === 'edges');
        var i = net.src.findIndex((s, e) => net.names[s] === 'x' && net.names[net.dst[e]] === arguments[0]);
        return [fl._size.l + fl.xaxis.l2p(t.x[i]) - box.width / 2,
                fl._size.t + fl.yaxis.l2p(t.y[i]) - box.height / 2];
        """, LINK)
    ActionChains(browser).move_to_element_with_offset(plot, int(ex), int(ey)).perform()
    edge = hover_lines(browser, 2)
    assert edge == [f"x → {LINK}", "weight: 1"], edge
    assert browser.execute_script("return window.pwned === undefined")
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], errors
