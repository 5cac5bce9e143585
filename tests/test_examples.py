"""Every script in examples/ runs, in its fast mode (EDGENET_FAST=1), and succeeds."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def run(script: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        EDGENET_FAST="1",
        MPLBACKEND="Agg",
        OMP_NUM_THREADS="1",  # tiny batches: threads only contend with the test runner
        PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    return subprocess.run(
        [sys.executable, str(script), *args],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=300,
    )  # fmt: skip


def test_examples_are_all_covered():
    assert {p.name for p in EXAMPLES} == {"quickstart.py", "digits.py", "draw_network.py",
                                           "connectome.py"}  # tested in test_recurrent.py


def test_quickstart(tmp_path):
    done = run(ROOT / "examples" / "quickstart.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "XOR: [0.0, 1.0, 1.0, 0.0]" in done.stdout
    assert (tmp_path / "quickstart.png").stat().st_size > 10_000


def test_digits(tmp_path):
    done = run(ROOT / "examples" / "digits.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "layers [64, 144, 96, 10]: 4890 edges" in done.stdout
    assert "test accuracy after 3 epochs" in done.stdout


def test_draw_network(tmp_path):
    done = run(ROOT / "examples" / "draw_network.py", str(tmp_path / "pics"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for name in ("random_dag.png", "wiring.svg", "large.png"):
        assert (tmp_path / "pics" / name).stat().st_size > 10_000, name


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_documented(script):
    text = script.read_text()
    assert text.startswith('"""'), f"{script.name} should open with a docstring on what it shows"
    assert f"examples/{script.name}" in text, f"{script.name} should say how to run it"
