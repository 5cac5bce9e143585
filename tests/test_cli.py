"""The edgenet command: run through subprocess for exit codes, in-process for the details."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

import edgenet as en
from edgenet.cli import main, read_network, write_network

ROOT = Path(__file__).resolve().parents[1]


def edgenet(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, "-m", "edgenet", *args],
        capture_output=True, text=True, cwd=cwd, env=env, timeout=300,
    )  # fmt: skip


def xor_network() -> en.Network:
    net = en.Network()
    net.add_input("x0")
    net.add_input("x1")
    for h in ("h0", "h1", "h2", "h3"):
        net.add_neuron(h, activation="tanh")
    net.add_output("y", activation="sigmoid")
    net.connect(["x0", "x1"], ["h0", "h1", "h2", "h3"], weight=0.5)
    net.connect(["h0", "h1", "h2", "h3"], ["y"], weight=-0.5)
    net.add_edge("x0", "y", weight=1.0)
    return net


@pytest.fixture
def good(tmp_path) -> Path:
    path = tmp_path / "xor.graphml"
    write_network(xor_network().compile(seed=0).to_network(), path)
    return path


@pytest.fixture
def cyclic(tmp_path) -> Path:
    path = tmp_path / "cyclic.graphml"
    nx.write_graphml(nx.DiGraph([("x", "a"), ("a", "b"), ("b", "a"), ("b", "y")]), path)
    return path


def test_info_on_a_good_file(good):
    run = edgenet("info", str(good))
    assert run.returncode == 0, run.stderr
    assert run.stderr == ""
    lines = run.stdout.splitlines()
    assert "neurons      7 (2 inputs, 4 hidden, 1 outputs)" in lines
    assert "edges        13" in lines
    assert "inputs       x0, x1" in lines
    assert "outputs      y" in lines
    assert "parameters   18 (13 weights, 5 biases)" in lines
    assert "generations  3 (layers; inputs are generation 0)" in lines
    assert "skip edges   1 (edges spanning more than one generation)" in lines
    assert "cycles       none" in lines
    model = read_network(good).compile()
    assert run.stdout.rstrip().endswith("\n".join(model.summary().splitlines()[1:]))


def test_info_reports_cycles_and_fails(cyclic):
    run = edgenet("info", str(cyclic))
    assert run.returncode == 1
    assert "cycles       yes: 2 neurons on cycles in 1 strongly connected components; for " \
        "example a -> b -> a" in run.stdout
    assert "neurons      4 (1 inputs, 2 hidden, 1 outputs)" in run.stdout
    assert run.stderr.startswith("edgenet: error: the graph has a cycle: 'a' -> 'b' -> 'a'.")
    assert "Traceback" not in run.stderr


def test_missing_file(tmp_path):
    missing = tmp_path / "missing.graphml"
    run = edgenet("info", str(missing))
    assert run.returncode == 1
    assert run.stdout == ""
    assert run.stderr == f"edgenet: error: cannot read {str(missing)!r}: no such file\n"


def test_malformed_xml(tmp_path):
    bad = tmp_path / "bad.graphml"
    bad.write_text("<graphml><graph><node id='a'></graph>")
    run = edgenet("info", str(bad))
    assert run.returncode == 1
    assert run.stderr == f"edgenet: error: {bad}, line 1, column 31: malformed XML: mismatched " \
        "tag (is the file truncated or not GraphML?)\n"


def test_malformed_weight(tmp_path):
    bad = tmp_path / "heavy.graphml"
    nx.write_graphml(nx.DiGraph([("x", "y", {"weight": "heavy"})]), bad)
    run = edgenet("info", str(bad))
    assert run.returncode == 1
    assert run.stderr.startswith(f"edgenet: error: {bad}, line ")
    assert run.stderr.endswith("edge ('x', 'y') has weight 'heavy'; expected a finite number\n")


def test_draw(good, tmp_path):
    out = tmp_path / "xor.png"
    run = edgenet("draw", str(good), "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert run.stdout == f"wrote {out}\n"
    import matplotlib.image as mpimg

    image = mpimg.imread(str(out))
    assert image.shape[0] > 200 and image[..., :3].std() > 0.05


def test_usage_errors_exit_2(good):
    run = edgenet()
    assert run.returncode == 2
    assert "usage: edgenet" in run.stderr
    assert "the following arguments are required: COMMAND" in run.stderr
    run = edgenet("draw", str(good), "--max-edges", "-3")
    assert run.returncode == 2
    assert "argument --max-edges: expected 0 or more (got -3)" in run.stderr


def test_demo_quick(tmp_path):
    run = edgenet("demo", "--quick", "--out", str(tmp_path / "out"))
    assert run.returncode == 0, run.stderr
    assert "64 -> 432 -> 128 -> 10 neurons by layer, 7,344 edges; the dense MLP of that shape " \
        "has 84,224 (8.7%)" in run.stdout
    assert "test accuracy" in run.stdout
    accuracy = float(run.stdout.split("test accuracy ")[1].split("%")[0])
    assert accuracy > 80.0
    trained = read_network(tmp_path / "out" / "digits.graphml")
    assert trained.number_of_edges() == 7344 and len(trained.outputs) == 10
    assert (tmp_path / "out" / "digits.png").stat().st_size > 10_000
    assert run.stderr == ""  # no progress bar or warning when not on a terminal


# In-process: the remaining messages, without paying for a new interpreter each time.


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_directory_and_unknown_suffix(capsys, tmp_path):
    code, _, err = run_main(capsys, "info", str(tmp_path))
    assert code == 1
    assert err == f"edgenet: error: cannot read {str(tmp_path)!r}: it is a directory; expected a " \
        "GraphML or .npz file\n"
    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    code, _, err = run_main(capsys, "info", str(notes))
    assert code == 1
    assert err == f"edgenet: error: cannot read {str(notes)!r}: unknown file type .txt; expected " \
        "GraphML (.graphml, .xml, .graphml.gz) or an edgenet save file (.npz)\n"


def test_undirected_is_refused_unless_oriented(capsys, tmp_path):
    undirected = tmp_path / "u.graphml"
    nx.write_graphml(nx.Graph([("x", "h"), ("h", "y")]), undirected)
    code, _, err = run_main(capsys, "info", str(undirected))
    assert code == 1
    assert err.startswith(f"edgenet: error: {undirected}, line ")
    assert "the graph is undirected (edgedefault=\"undirected\")" in err
    code, out, _ = run_main(capsys, "info", "--undirected", "as-written", str(undirected))
    assert code == 0 and "edges        2 (2 without a weight)" in out.splitlines()
    code, out, err = run_main(capsys, "info", "--undirected", "both", str(undirected))
    assert code == 1 and "cycles       yes" in out and "the graph has a cycle" in err


def test_parallel_edges_are_refused_unless_summed(capsys, tmp_path):
    multi = tmp_path / "multi.graphml"
    nx.write_graphml(nx.MultiDiGraph([("x", "y", {"weight": 1.0}), ("x", "y", {"weight": 2.0})]),
                     multi)
    code, _, err = run_main(capsys, "info", str(multi))
    assert code == 1
    assert err == f"edgenet: error: {multi}: edge ('x', 'y') appears more than once (parallel " \
        "edges); pass read_graphml(..., parallel='sum') to merge them into one edge whose weight " \
        "is the sum\n"
    code, out, _ = run_main(capsys, "draw", "--parallel", "sum", str(multi), "-o",
                            str(tmp_path / "m.svg"))
    assert code == 0 and read_network(multi, parallel="sum").edges["x", "y"]["weight"] == 3.0


def test_native_files(capsys, tmp_path):
    path = tmp_path / "xor.npz"
    write_network(xor_network(), path)
    assert read_network(path).edges["x0", "y"]["weight"] == 1.0
    code, out, _ = run_main(capsys, "info", str(path))
    assert code == 0 and "skip edges   1 (edges spanning more than one generation)" in out
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a save file")
    code, _, err = run_main(capsys, "info", str(broken))
    assert code == 1 and err.startswith(f"edgenet: error: {broken}: not an edgenet save file")


def test_draw_errors(capsys, good, tmp_path):
    code, _, err = run_main(capsys, "draw", str(good), "-o", str(tmp_path / "x.jpg"))
    assert code == 1
    assert "edgenet: error: cannot tell the image format of" in err and "suffix .jpg" in err
    target = tmp_path / "no" / "such" / "dir.png"
    code, _, err = run_main(capsys, "draw", str(good), "-o", str(target))
    assert code == 1
    assert err == f"edgenet: error: {str(target)!r}: No such file or directory\n"


def test_draw_default_output_and_all_edges(capsys, good):
    code, out, _ = run_main(capsys, "draw", str(good), "--max-edges", "0", "--no-labels")
    assert code == 0
    assert out == f"wrote {good.with_suffix('.png')}\n"
    assert good.with_suffix(".png").stat().st_size > 10_000


def test_deep_plan_is_elided_unless_all(capsys, tmp_path):
    chain = tmp_path / "chain.graphml"
    write_network(nx.path_graph(60, create_using=nx.DiGraph), chain)
    code, out, _ = run_main(capsys, "info", str(chain))
    assert code == 0
    assert "  ... 19 more generations (--all shows them) ..." in out
    assert len(out.splitlines()) < 60
    code, out, _ = run_main(capsys, "info", "--all", str(chain))
    assert code == 0 and "more generations" not in out and len(out.splitlines()) > 60


def test_missing_weights_are_counted(capsys, tmp_path):
    path = tmp_path / "bare.graphml"
    write_network(nx.DiGraph([("x", "h"), ("h", "y", {"weight": 1.0})]), path)
    code, out, _ = run_main(capsys, "info", str(path))
    assert code == 0
    assert "edges        2 (1 without a weight)" in out.splitlines()


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"edgenet {en.__version__}\n"


def test_console_script_is_declared():
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["edgenet"] == "edgenet.cli:main"


def test_closed_pipe_stops_quietly(good):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, "-m", "edgenet", "info", str(good)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=env,
    )  # fmt: skip
    with proc:
        proc.stdout.close()  # like `edgenet info FILE | head -0`
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=300) == 1
    assert err == ""
