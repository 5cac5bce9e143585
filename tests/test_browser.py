"""The HTML page in a real browser: headless Chromium, offline, driven by selenium.

Needs Debian's ``chromium`` and ``chromium-driver`` (``apt-get install -y chromium
chromium-driver``) and ``selenium`` (in the ``test`` extra); skips, saying which is
missing, without them. The page is opened from a file with a fresh profile and every
background service off; the test checks that plotly drew it, that the console has no
error, that no request left the page, that hovering a neuron shows its details and
that hovering an edge shows its weight and that clicking a neuron lists its inputs and
outputs. It saves ``page.png`` (a screenshot)
in the test's temporary folder, or in ``$EDGENET_SCREENSHOTS`` when that is set.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from dags import every_edge_kind

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


def wait_for(driver, script: str, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
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
    panel = browser.execute_script(
        "return document.querySelector('.js-plotly-plot')._fullLayout.annotations[0].text")
    assert "inputs (3)" in panel and "x1: -1.500" in panel and "g: -0.7500" in panel, panel
    assert "outputs (1)" in panel and "g: 2.000" in panel, panel
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
