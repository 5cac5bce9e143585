"""break_cycles: acyclic, minimal, few edges removed, deterministic, compiles."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import edgenet as en
from edgenet.graph.cycles import feedback_order


def random_recurrent(n: int, m: int, seed: int) -> nx.DiGraph:
    """A connectome-like random digraph: ``n`` neurons, about ``m`` edges, many cycles."""
    G = nx.gnm_random_graph(n, m, seed=seed, directed=True)
    for u, v in G.edges:
        G.edges[u, v]["weight"] = float(np.random.default_rng(u * n + v).normal())
    return G


def planted(n: int, extra: int, seed: int) -> tuple[nx.DiGraph, int]:
    """A DAG in node order plus ``extra`` backward edges."""
    rng = np.random.default_rng(seed)
    G = nx.DiGraph()
    G.add_nodes_from(range(n))
    for v in range(1, n):
        for u in rng.choice(v, size=min(v, 4), replace=False):
            G.add_edge(int(u), v)
    added = 0
    while added < extra:
        u, v = sorted(int(x) for x in rng.choice(n, size=2, replace=False))
        if not G.has_edge(v, u) and not G.has_edge(u, v):
            G.add_edge(v, u)
            added += 1
    return G, extra


def check(G, dag, removed):
    assert nx.is_directed_acyclic_graph(dag)
    assert type(dag) is type(G)
    assert set(dag.edges) | set(removed) == set(G.edges)
    assert not set(dag.edges) & set(removed)
    assert list(dag.nodes) == list(G.nodes)
    assert removed == [e for e in G.edges if e in set(removed)]  # in G.edges order
    for u, v in removed:  # minimal: each removed edge would close a cycle
        assert u == v or G.nodes[v].get("role") == "input" or nx.has_path(dag, v, u)
    for u, v in dag.edges:
        assert dag.edges[u, v] == G.edges[u, v]


@pytest.mark.parametrize("n, m, seed", [(200, 1000, 0), (500, 3000, 1), (300, 6000, 2)])
def test_random_recurrent_graphs_of_hundreds_of_neurons(n, m, seed):
    G = random_recurrent(n, m, seed)
    assert not nx.is_directed_acyclic_graph(G)
    dag, removed = en.break_cycles(G)
    check(G, dag, removed)
    assert len(removed) <= m / 2 - n / 6  # the Eades-Lin-Smyth guarantee
    assert len(removed) < 0.4 * m  # a random digraph has no small feedback set


@pytest.mark.parametrize("seed", range(3))
def test_planted_feedback_edges_are_found(seed):
    G, extra = planted(400, 15, seed)
    dag, removed = en.break_cycles(G)
    check(G, dag, removed)
    assert len(removed) <= extra


def test_deterministic_across_runs_and_copies():
    G = random_recurrent(300, 2000, 7)
    first = en.break_cycles(G)[1]
    assert en.break_cycles(G)[1] == first
    H = nx.DiGraph()
    H.add_nodes_from(G.nodes)
    H.add_edges_from(G.edges(data=True))
    assert en.break_cycles(H)[1] == first


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 30), st.data())
def test_any_digraph_becomes_a_dag(n, data):
    edges = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)),
                               max_size=4 * n))
    G = nx.DiGraph(edges)
    for reinsert in (True, False):
        dag, removed = en.break_cycles(G, reinsert=reinsert)
        assert nx.is_directed_acyclic_graph(dag)
        assert set(dag.edges) | set(removed) == set(G.edges)
    check(G, *en.break_cycles(G))


def test_a_dag_loses_nothing_and_self_loops_always_go():
    G = nx.DiGraph([(0, 1), (1, 2), (0, 2)])
    assert en.break_cycles(G)[1] == []
    G.add_edge(1, 1)
    assert en.break_cycles(G)[1] == [(1, 1)]


def test_edges_into_inputs_are_removed_and_the_result_compiles():
    net = en.Network()
    net.add_input("x")
    net.add_neuron("a", activation="tanh")
    net.add_neuron("b", activation="tanh")
    net.add_output("y")
    net.add_weighted_edges_from([("x", "a", 1.0), ("a", "b", 0.5), ("b", "a", -0.5),
                                 ("b", "y", 2.0), ("y", "x", 1.0)])
    with pytest.raises(en.EdgenetError, match=r"input node 'x' has an incoming edge"):
        net.compile()
    dag, removed = en.break_cycles(net)
    assert removed == [("b", "a"), ("y", "x")]
    assert type(dag) is en.Network
    model = dag.compile(dtype=torch.float64)
    x = torch.tensor([[0.3]], dtype=torch.float64)
    expected = 2.0 * np.tanh(0.5 * np.tanh(0.3))
    assert model(x).item() == pytest.approx(expected, abs=1e-12)


def test_an_edge_from_one_input_into_another_is_removed():
    G = nx.DiGraph([("a", "b"), ("b", "y"), ("y", "a")])
    G.nodes["a"]["role"] = G.nodes["b"]["role"] = "input"
    G.nodes["y"]["role"] = "output"
    for reinsert in (True, False):
        dag, removed = en.break_cycles(G, reinsert=reinsert)
        assert removed == [("a", "b"), ("y", "a")]
        assert list(dag.edges) == [("b", "y")]
        model = en.compile(dag, dtype=torch.float64)
        assert model.inputs == ["a", "b"] and model.outputs == ["y"]


@settings(max_examples=60, deadline=None)
@given(st.integers(3, 14), st.data())
def test_with_inputs_the_result_always_compiles(n, data):
    edges = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)),
                               max_size=4 * n))
    G = nx.DiGraph()
    G.add_nodes_from(range(n))
    G.add_edges_from(edges)
    inputs = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n - 1, unique=True))
    for i in inputs:
        G.nodes[i]["role"] = "input"
    for reinsert in (True, False):
        dag, removed = en.break_cycles(G, reinsert=reinsert)
        check(G, dag, removed)
        assert not [(u, v) for u, v in dag.edges if v in inputs]
        assert all((u, v) in removed for u, v in G.edges if v in inputs)
        model = en.compile(dag, seed=0)  # the last non-input in any order is a sink: an output
        assert set(model.inputs) == set(inputs)


def test_feedback_order_puts_inputs_first():
    G = nx.DiGraph([("h", "x"), ("x", "h")])
    G.nodes["x"]["role"] = "input"
    assert feedback_order(G) == ["x", "h"]


def test_bad_graphs_are_refused():
    with pytest.raises(en.EdgenetError, match=r"break_cycles expects a networkx.DiGraph.*"
                                              r"\(got Graph\)"):
        en.break_cycles(nx.Graph([(0, 1)]))
    with pytest.raises(en.EdgenetError, match=r"\(got MultiDiGraph\)"):
        en.break_cycles(nx.MultiDiGraph([(0, 1)]))


def test_the_minimality_pass_is_skipped_on_large_graphs_unless_asked():
    G = random_recurrent(2000, 30000, 4)
    dag, removed = en.break_cycles(G)
    assert nx.is_directed_acyclic_graph(dag)
    assert set(dag.edges) | set(removed) == set(G.edges)
    assert len(removed) <= 30000 / 2 - 2000 / 6
    small = random_recurrent(100, 400, 5)
    assert en.break_cycles(small)[1] == en.break_cycles(small, reinsert=True)[1]
    assert len(en.break_cycles(small, reinsert=False)[1]) >= len(en.break_cycles(small)[1])


def _stand_in(seed):
    import runpy
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "examples" / "connectome.py"
    return runpy.run_path(str(example))["stand_in"](seed)


def test_sifting_beats_the_plain_greedy_order_on_a_connectome_stand_in(monkeypatch):
    """Exact minima of these stand-ins (benchmarks/cycles.py): 340 and 333 edges."""
    for seed, plain_count, sifted_count in [(0, 376, 359), (1, 361, 343)]:
        G = _stand_in(seed)
        assert len(en.break_cycles(G)[1]) == sifted_count
        with monkeypatch.context() as m:
            m.setattr(en.graph.cycles, "SIFT_SWEEPS", 0)
            assert len(en.break_cycles(G)[1]) == plain_count


def exact_minimum(G: nx.DiGraph) -> int:
    """The minimum feedback arc set by trying every node order (tiny graphs only)."""
    from itertools import permutations

    best = G.number_of_edges()
    for order in permutations(G):
        pos = {n: i for i, n in enumerate(order)}
        best = min(best, sum(1 for u, v in G.edges if pos[u] >= pos[v]))
    return best


@settings(max_examples=25, deadline=None)
@given(st.integers(3, 7), st.data())
def test_sifting_never_does_worse_than_the_greedy_order_nor_better_than_the_optimum(n, data):
    from edgenet.graph.cycles import SIFT_SWEEPS, _backward, sift

    edges = data.draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)),
                               min_size=n, max_size=3 * n))
    G = nx.DiGraph(edges)
    en.graph.cycles.SIFT_SWEEPS = 0
    try:
        greedy = feedback_order(G)
    finally:
        en.graph.cycles.SIFT_SWEEPS = SIFT_SWEEPS
    order = feedback_order(G)
    assert sift(G, order) == order  # converged: no node alone can do better
    assert exact_minimum(G) <= _backward(G, order) <= _backward(G, greedy)
