"""The edgenet command, run in-process through ``main()``; one test crosses the real process
boundary (``python -m edgenet``, exit status, a closed pipe)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest
from dags import xor_network

import edgenet as en
from edgenet.io.files import read_network, write_network
from edgenet.shell.cli import main

ROOT = Path(__file__).resolve().parents[1]


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    """``edgenet ARGS`` in this process: (exit status, stdout, stderr)."""
    try:
        code = main(list(args))
    except SystemExit as exit_:  # argparse: usage errors, --help, --version
        code = exit_.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def good(tmp_path) -> Path:
    path = tmp_path / "xor.graphml"
    write_network(xor_network(0.5).compile(seed=0).to_network(), path)
    return path


@pytest.fixture
def cyclic(tmp_path) -> Path:
    path = tmp_path / "cyclic.graphml"
    nx.write_graphml(nx.DiGraph([("x", "a"), ("a", "b"), ("b", "a"), ("b", "y")]), path)
    return path


def test_info_on_a_good_file(capsys, good):
    code, out, err = run_main(capsys, "info", str(good))
    assert code == 0, err
    assert err == ""
    lines = out.splitlines()
    assert "neurons      7 (2 inputs, 4 hidden, 1 outputs)" in lines
    assert "edges        13" in lines
    assert "inputs       x0, x1" in lines
    assert "outputs      y" in lines
    assert "parameters   18 (13 weights, 5 biases)" in lines
    assert "generations  3 (layers; inputs are generation 0)" in lines
    assert "skip edges   1 (edges spanning more than one generation)" in lines
    assert "cycles       none" in lines
    model = read_network(good).compile()
    assert out.rstrip().endswith("\n".join(model.summary().splitlines()[1:]))


def test_info_describes_a_cyclic_graph_and_succeeds(capsys, cyclic):
    code, out, err = run_main(capsys, "info", str(cyclic))
    assert code == 0, err
    assert err == ""
    assert "neurons      4 (1 inputs, 2 hidden, 1 outputs)" in out
    assert "cycles       yes: 2 neurons on cycles in 1 strongly connected components " \
        "(largest 2), 0 self-loops" in out
    assert "for example  a -> b -> a" in out
    assert "feedback     removing 1 of 4 edges (25.0%, 0 of them self-loops) leaves a DAG" \
        in out


def test_info_in_process_on_components_cycles_and_self_loops(tmp_path, capsys):
    path = tmp_path / "loops.graphml"
    G = nx.DiGraph([("x", "a"), ("a", "b"), ("b", "a"), ("b", "y"), ("y", "c"), ("c", "d"),
                    ("d", "y"), ("d", "d")])
    nx.write_graphml(G, path)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "parameters   13 (8 weights, 5 biases) as a recurrent network" in out
    assert "cycles       yes: 5 neurons on cycles in 2 strongly connected components " \
        "(largest 3), 1 self-loops" in out
    assert out[out.index("for example  y -> c -> d -> y") + 1:][:2] == \
        ["             a -> b -> a", "             d -> d"]
    assert "feedback     removing 3 of 8 edges (37.5%, 1 of them self-loops) leaves a DAG " \
        "(edgenet.break_cycles)" in out


def test_info_break_cycles_describes_the_dag(cyclic, capsys):
    assert main(["info", str(cyclic), "--break-cycles"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "broken       1 of 4 edges removed to break cycles (25.0%): b -> a" in out
    assert "cycles       none left" in out
    assert "plan per generation:" in out


def test_missing_file(capsys, tmp_path):
    missing = tmp_path / "missing.graphml"
    code, out, err = run_main(capsys, "info", str(missing))
    assert code == 1
    assert out == ""
    assert err == f"edgenet: error: cannot read {str(missing)!r}: no such file\n"


def test_malformed_xml(capsys, tmp_path):
    bad = tmp_path / "bad.graphml"
    bad.write_text("<graphml><graph edgedefault='directed'><node id='a'></graph>")
    code, out, err = run_main(capsys, "info", str(bad))
    assert code == 1
    assert err == f"edgenet: error: {bad}, line 1, column 54: malformed XML: mismatched " \
        "tag (is the file truncated or not GraphML?)\n"


def test_malformed_weight(capsys, tmp_path):
    bad = tmp_path / "heavy.graphml"
    nx.write_graphml(nx.DiGraph([("x", "y", {"weight": "heavy"})]), bad)
    code, out, err = run_main(capsys, "info", str(bad))
    assert code == 1
    assert err.startswith(f"edgenet: error: {bad}, line ")
    assert err.endswith("edge ('x', 'y') has weight 'heavy'; expected a finite number\n")


def test_draw(capsys, good, tmp_path):
    picture = tmp_path / "xor.png"
    code, out, err = run_main(capsys, "draw", str(good), "-o", str(picture))
    assert code == 0, err
    assert out == f"wrote {picture}\n"
    import matplotlib.image as mpimg

    image = mpimg.imread(str(picture))
    assert image.shape[0] > 200 and image[..., :3].std() > 0.05


def test_usage_errors_exit_2(capsys, good):
    code, out, err = run_main(capsys)
    assert code == 2
    assert "usage: edgenet" in err
    assert "the following arguments are required: COMMAND" in err
    code, out, err = run_main(capsys, "draw", str(good), "--max-edges", "-3")
    assert code == 2
    assert "argument --max-edges: expected 0 or more (got -3)" in err


def test_demo_quick(capsys, tmp_path):
    code, out, err = run_main(capsys, "demo", "--quick", "--out", str(tmp_path / "out"))
    assert code == 0, err
    assert "64 -> 432 -> 128 -> 10 neurons by layer, 7,344 edges; the dense MLP of that shape " \
        "has 84,224 (8.7%)" in out
    assert "test accuracy" in out
    accuracy = float(out.split("test accuracy ")[1].split("%")[0])
    assert accuracy > 80.0
    trained = read_network(tmp_path / "out" / "digits.graphml")
    assert trained.number_of_edges() == 7344 and len(trained.outputs) == 10
    assert (tmp_path / "out" / "digits.png").stat().st_size > 10_000
    if importlib.util.find_spec("plotly") is not None:  # the interactive page beside it
        page = (tmp_path / "out" / "digits.html").read_text(encoding="utf-8")
        assert page.startswith("<!doctype html>") and "7,344 edges" in page
        assert f"{tmp_path / 'out' / 'digits.html'} (" in out
    assert err == ""  # no progress bar or warning when not on a terminal


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
        "GraphML (.graphml, .xml, .graphml.gz, or GraphML content under any name) or an " \
        "edgenet save file (.npz)\n"


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
    assert code == 0 and "cycles       yes" in out and err == ""


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
    write_network(xor_network(0.5), path)
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
    assert project["scripts"]["edgenet"] == "edgenet_cli:main"


def test_the_real_process_exit_status_and_a_closed_pipe(good):
    """The one subprocess test: ``python -m edgenet`` runs main(), its return value is the
    exit status, and a reader that goes away (``| head``) ends it quietly."""
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


# --------------------------------------------------------------------------- hostile input

HOSTILE = {
    "newline": "a\nedges        999",
    "carriage return": "a\rforged",
    "escape sequence": "a\x1b[2J\x1b]0;title\x07",
    "C1 control": "a\x9b31m",
    "bidi override": "a\u202eexe.gnp",
    "zero width": "a\u200b",
    "delete": "a\x7f",
}


@pytest.mark.parametrize("kind", HOSTILE)
def test_info_escapes_what_a_terminal_would_act_on(capsys, tmp_path, kind):
    name = HOSTILE[kind]
    G = nx.DiGraph([(name, "h", {"weight": 1.0}), ("h", name + "-out", {"weight": 1.0})])
    path = tmp_path / "hostile.npz"
    en.save(G, path)
    code, out, err = run_main(capsys, "info", str(path))
    assert code == 0, err
    assert out.isprintable() or all(line.isprintable() for line in out.splitlines())
    assert len(out.splitlines()) == len(run_main(capsys, "info", str(_plain(tmp_path)))[1]
                                        .splitlines())
    assert repr(name)[1:-1] in out


def _plain(tmp_path):
    path = tmp_path / "plain.npz"
    en.save(nx.DiGraph([("a", "h", {"weight": 1.0}), ("h", "a-out", {"weight": 1.0})]), path)
    return path


@pytest.mark.parametrize("kind", HOSTILE)
def test_error_messages_are_one_printable_line(capsys, tmp_path, kind):
    folder = tmp_path / ("dir" + HOSTILE[kind].replace("\n", "_n"))
    folder.mkdir()
    path = folder / ("bad" + HOSTILE[kind] + ".graphml")
    path.write_bytes(b"<graphml><graph edgedefault='directed'><node/></graph></graphml>")
    code, out, err = run_main(capsys, "info", str(path))
    assert code == 1 and out == ""
    assert err.endswith("\n") and err[:-1].isprintable(), err


@pytest.mark.parametrize("name, content, message", [
    ("a.graphml.gz", b"not gzip", r"a\.graphml\.gz: damaged or not gzip-compressed"),
    ("b.graphml.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xffbroken", r"b\.graphml\.gz: damaged"),
    ("c.npz", b"PK\x03\x04broken", r"c\.npz: not an edgenet save file"),
    ("d.graphml", b'<?xml version="1.0" encoding="klingon"?><graphml/>',
     r"d\.graphml: cannot decode the file"),
    ("E.GRAPHML.GZ", b"<graphml/>", r"E\.GRAPHML\.GZ: damaged or not gzip-compressed"),
])
def test_damaged_files_are_one_line_errors(capsys, tmp_path, name, content, message):
    import re

    (tmp_path / name).write_bytes(content)
    code, out, err = run_main(capsys, "info", str(tmp_path / name))
    assert code == 1 and out == ""
    assert err.startswith("edgenet: error: ") and err.count("\n") == 1
    assert re.search(message, err), err
    assert "Traceback" not in err


def test_demo_refuses_a_file_as_its_folder_before_training(capsys, tmp_path, monkeypatch):
    import edgenet.shell.demo

    monkeypatch.setattr(edgenet.shell.demo, "run", lambda *a, **k: pytest.fail("trained"))
    taken = tmp_path / "taken"
    taken.write_text("mine")
    code, out, err = run_main(capsys, "demo", "--quick", "--out", str(taken))
    assert code == 1
    assert err == f"edgenet: error: --out {str(taken)!r} is a file; expected a directory for " \
        "digits.graphml, digits.png and digits.html (created when missing)\n"
    assert taken.read_text() == "mine"
    code, out, err = run_main(capsys, "demo", "--quick", "--out", str(taken / "sub"))
    assert code == 1 and "Not a directory" in err


@pytest.mark.parametrize("where", ["parser", "read_network"])
def test_ctrl_c_is_one_line_and_status_130(capsys, good, monkeypatch, where):
    import edgenet.shell.cli

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(edgenet.shell.cli, where, interrupted)
    code, out, err = run_main(capsys, "info", str(good))
    assert code == 130 and err == "edgenet: interrupted\n"


def test_ctrl_c_while_the_package_imports_exits_130_quietly(monkeypatch, capsys):
    """The console script starts in edgenet_cli, outside the package, so a Ctrl-C while
    torch loads ends the command with one line, not a traceback."""
    import builtins

    import edgenet_cli

    real = builtins.__import__

    def interrupted(name, *args, **kwargs):
        if name == "edgenet.shell.cli":
            raise KeyboardInterrupt
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", interrupted)
    assert edgenet_cli.main() == 130
    assert capsys.readouterr().err == "edgenet: interrupted\n"


# --------------------------------------------------------------------------- friction

def test_graphml_content_is_read_whatever_the_file_is_named(capsys, tmp_path):
    G = nx.DiGraph([("x", "y", {"weight": 0.5})])
    for name in ("net.gml", "net", "net.GML.gz"):
        path = tmp_path / name
        write_network(G, tmp_path / "tmp.graphml.gz" if name.endswith(".gz") else path)
        if name.endswith(".gz"):
            (tmp_path / "tmp.graphml.gz").rename(path)
        code, out, err = run_main(capsys, "info", str(path))
        assert (code, err) == (0, ""), name
        assert "edges        1" in out
        assert run_main(capsys, "draw", str(path), "-o", str(tmp_path / "n.png"))[0] == 0
    gml = tmp_path / "real.gml"
    nx.write_gml(G, gml)
    code, _, err = run_main(capsys, "info", str(gml))
    assert code == 1
    assert "unknown file type .gml (it looks like GML, a different format: convert it with " \
        "networkx.read_gml and edgenet.write_graphml)" in err
    zipped = tmp_path / "saved.bin"
    en.save(G, tmp_path / "s.npz")
    (tmp_path / "s.npz").rename(zipped)
    assert run_main(capsys, "info", str(zipped))[0] == 0


def test_info_describes_a_graph_without_edges(capsys, tmp_path):
    path = tmp_path / "dots.graphml"
    G = nx.DiGraph()
    G.add_nodes_from(["a", "b", "c"])
    write_network(G, path)
    code, out, err = run_main(capsys, "info", str(path))
    assert (code, err) == (0, "")
    assert "neurons      3 (3 inputs, 0 hidden, 0 outputs)" in out
    assert "isolated     3 neurons without edges: a, b, c" in out
    assert "no edges, so no compiled plan" in out
    assert run_main(capsys, "draw", str(path), "-o", str(tmp_path / "d.png"))[0] == 0


def test_isolated_neurons_are_named(capsys, tmp_path):
    G = nx.DiGraph([("x", "y")])
    G.add_node("lonely")
    path = tmp_path / "iso.graphml"
    write_network(G, path)
    code, out, _ = run_main(capsys, "info", str(path))
    assert code == 0 and "isolated     1 neurons without edges: lonely" in out
    solo = nx.DiGraph()
    solo.add_nodes_from(["p", "q"])
    with pytest.raises(en.EdgenetError, match=r"2 neurons have no edges \('p', 'q'\), so each "
                       r"would be both an input and an output.*nx.isolates\(G\)"):
        en.compile(solo, inputs=["p", "q"], outputs=["p", "q"])


def test_rename_reads_a_file_whose_role_means_something_else(capsys, tmp_path):
    path = tmp_path / "celegans.graphml"
    G = nx.DiGraph([("ASHL", "AVAL"), ("AVAL", "VA01")])
    nx.set_node_attributes(G, {"ASHL": "sensory", "AVAL": "inter", "VA01": "motor"}, "role")
    nx.write_graphml(G, path)
    code, _, err = run_main(capsys, "info", str(path))
    assert code == 1
    assert "node 'ASHL' has role 'sensory'" in err and "--rename role=cell_class" in err
    code, out, err = run_main(capsys, "info", str(path), "--rename", "role=cell_class")
    assert (code, err) == (0, "")
    assert "inputs       ASHL" in out and "outputs      VA01" in out
    out_png = tmp_path / "c.png"
    assert run_main(capsys, "draw", str(path), "--rename", "role=cell_class", "-o",
                    str(out_png))[0] == 0 and out_png.exists()
    code, _, err = run_main(capsys, "info", str(path), "--rename", "role")
    assert code == 2 and "expected FILE_ATTR=NAME, e.g. role=cell_class (got 'role')" in err
    native = tmp_path / "n.npz"
    en.save(nx.DiGraph([("a", "b")]), native)
    code, _, err = run_main(capsys, "info", str(native), "--rename", "role=x")
    assert code == 1 and "--rename) applies to GraphML files" in err


def test_info_bounds_every_list_it_prints(capsys, tmp_path):
    long = "n" * 5000
    ring = nx.cycle_graph(3000, create_using=nx.DiGraph)
    ring = nx.relabel_nodes(ring, {0: long})
    path = tmp_path / "ring.npz"
    en.save(ring, path)
    sources = nx.DiGraph([(f"{long}{i}", "y") for i in range(50)])
    path2 = tmp_path / "fan.npz"
    en.save(sources, path2)
    for p in (path, path2):
        code, out, err = run_main(capsys, "info", str(p))
        assert (code, err) == (0, "")
        assert max(map(len, out.splitlines())) < 500, p
    code, out, _ = run_main(capsys, "info", str(path))
    assert "-> ... (2,995 more) -> " in out and "(3,000 neurons)" in out
    assert "compile      not checked: with no sources to take as inputs" in out


def test_info_validates_a_cyclic_file_with_the_recurrent_rules(capsys, tmp_path):
    G = nx.DiGraph([("x", "a"), ("a", "b"), ("b", "a"), ("b", "y")])
    G.nodes["a"]["tau"] = -2.0
    path = tmp_path / "bad.graphml"
    write_network(G, path)
    code, _, err = run_main(capsys, "info", str(path))
    assert code == 1 and "tau of node 'a' is -2.0; expected a positive time constant" in err
    G.nodes["a"]["tau"] = 2.0
    G.nodes["b"]["activation"] = "no-such"
    write_network(G, path)
    code, _, err = run_main(capsys, "info", str(path))
    assert code == 1 and "node 'b'" in err and "no-such" in err


def test_draw_escapes_control_characters_in_warnings(capsys, tmp_path):
    import warnings

    path = tmp_path / "hostile.npz"
    en.save(nx.DiGraph([("a\x1b]0;owned\x07", "b\u202eexe")]), path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, _, err = run_main(capsys, "draw", str(path), "--labels", "-o",
                                str(tmp_path / "h.png"))
    assert code == 0, err
    messages = [str(w.message) for w in caught]
    assert all(m.isprintable() for m in messages), messages  # names are drawn escaped
