"""Every script in examples/ runs, in its fast mode (EDGENET_FAST=1), and succeeds."""

from __future__ import annotations

import os
import runpy
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
    """Every script in examples/ has a test here named after it, which runs it."""
    untested = [p.name for p in EXAMPLES if f"test_{p.stem}" not in globals()]
    assert EXAMPLES and not untested, f"examples without a test_<name> here: {untested}"


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


def test_deploy(tmp_path):
    done = run(ROOT / "examples" / "deploy.py", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(": ", 1) for line in done.stdout.splitlines())
    for form in ("plain torch", "torch.export"):
        assert float(lines[form].split()[-1]) < 1e-5, done.stdout
    assert "ONNX Runtime" in lines and "bfloat16" in lines
    for name in ("digits_plain.pt", "digits.pt2"):
        assert (tmp_path / "out" / name).stat().st_size > 10_000, name


def test_rewiring(tmp_path):
    done = run(ROOT / "examples" / "rewiring.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "start: 26 neurons, 63 edges" in done.stdout
    assert "recompiled equal: True" in done.stdout


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_documented(script):
    text = script.read_text()
    assert text.startswith('"""'), f"{script.name} should open with a docstring on what it shows"
    assert f"examples/{script.name}" in text, f"{script.name} should say how to run it"


def test_ddp(tmp_path):
    """examples/ddp.py under torchrun with two processes (gloo), in its fast mode."""
    from test_ddp import free_port

    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
         "--master_addr", "127.0.0.1", "--master_port", str(free_port()),
         str(ROOT / "examples" / "ddp.py"), "--fast"],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "2 ranks, " in done.stdout
    assert "replicas identical: True" in done.stdout


def test_connectome(monkeypatch, capsys):
    """examples/connectome.py on its generated stand-in trains a readout better than chance."""
    monkeypatch.setenv("EDGENET_FAST", "1")
    monkeypatch.setattr(sys, "argv", ["connectome.py"])  # no path: the stand-in
    runpy.run_path(str(ROOT / "examples" / "connectome.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "stand-in" in out and "RecurrentNetwork: 4 inputs, 4 outputs, 283 neurons" in out
    final = [line for line in out.splitlines() if line.startswith("readout trained")]
    assert final and final[0].endswith(": better than chance"), out


def test_neat_xor(tmp_path):
    pytest.importorskip("neat")
    done = run(ROOT / "examples" / "neat_xor.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "evaluates in neat-python to MSE" in done.stdout


def test_neat_recurrent(tmp_path):
    pytest.importorskip("neat")
    done = run(ROOT / "examples" / "neat_recurrent.py", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "edgenet vs neat's RecurrentNetwork: max gap" in done.stdout
    assert "evaluates in neat-python to MSE" in done.stdout
