"""Wiring builders: the masks they promise, reproducible, acyclic, compilable."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch

import edgenet as en


def brute_local(n_sources, n_targets, window, stride):
    M = np.zeros((n_sources, n_targets), dtype=bool)
    for j in range(n_targets):
        for i in range(j * stride, j * stride + window):
            M[i, j] = True
    return M


@pytest.mark.parametrize("s, t, window, stride", [(10, 8, 3, 1), (10, 4, 4, 2), (7, 1, 7, 3),
                                                  (9, 3, 1, 4)])
def test_local_mask_matches_its_definition(s, t, window, stride):
    assert (en.local_mask(s, t, window, stride) == brute_local(s, t, window, stride)).all()


def test_locally_connected_layer_computes_a_windowed_sum():
    net = en.Network()
    xs = [f"x{i}" for i in range(8)]
    ys = [f"y{j}" for j in range(3)]
    for x in xs:
        net.add_input(x)
    for y in ys:
        net.add_output(y)
    en.locally_connected(net, xs, ys, window=4, stride=2, weight=1.0)
    x = torch.arange(8, dtype=torch.float64)[None]
    out = net.compile(dtype=torch.float64)(x)
    assert out.tolist() == [[0 + 1 + 2 + 3, 2 + 3 + 4 + 5, 4 + 5 + 6 + 7]]


def test_random_sparse_is_reproducible_and_has_the_density():
    a, b = en.Network(), en.Network()
    en.random_sparse(a, range(200), range(200, 400), density=0.05, seed=4)
    en.random_sparse(b, range(200), range(200, 400), density=0.05, seed=4)
    assert list(a.edges) == list(b.edges)
    assert 0.04 < a.number_of_edges() / 200 / 200 < 0.06
    c = en.Network()
    en.random_sparse(c, range(200), range(200, 400), density=0.05, seed=5)
    assert list(c.edges) != list(a.edges)


@pytest.mark.parametrize("call, message", [
    (lambda: en.local_mask(5, 3, window=3, stride=2),
     r"3 targets with window 3 and stride 2 need 7 sources \(got 5\)"),
    (lambda: en.local_mask(5, 2, window=0), r"window must be a positive integer \(got 0\)"),
    (lambda: en.local_mask(5, 2, window=2, stride=1.5), r"stride must be a positive integer"),
    (lambda: en.random_mask(3, 3, density=1.5, seed=0), r"density must be a number in \[0, 1\]"),
    (lambda: en.orient(nx.path_graph(3), order=[0, 1]),
     r"order must list every node of the graph once \(3 nodes, got 2 entries\)"),
])
def test_bad_arguments_are_refused(call, message):
    with pytest.raises(en.EdgenetError, match=message):
        call()


def test_orient_follows_the_order_and_assigns_roles():
    G = nx.Graph([(0, 1), (1, 2), (2, 0), (3, 3)])
    G.add_node(4)  # isolated: left out
    net = en.orient(G, order=[2, 1, 0, 3, 4], activation="tanh")
    assert sorted(net.edges) == [(1, 0), (2, 0), (2, 1)]
    assert net.inputs == [2] and net.outputs == [0]
    assert net.nodes[1] == {"role": "hidden", "activation": "tanh", "bias": 0.0}


@pytest.mark.parametrize("build", [
    lambda: en.small_world(300, 6, 0.2, seed=1),
    lambda: en.scale_free(300, 2, seed=1),
], ids=["small_world", "scale_free"])
def test_generated_wirings_are_dags_that_compile_and_are_reproducible(build):
    net = build()
    assert nx.is_directed_acyclic_graph(net)
    assert list(build().edges) == list(net.edges)
    for u, v in net.edges:
        assert u < v  # oriented by node order
    model = net.compile(seed=0)
    assert model(torch.randn(4, len(net.inputs))).shape == (4, len(net.outputs))


def test_small_world_keeps_every_generator_edge():
    G = nx.watts_strogatz_graph(100, 4, 0.3, seed=2)
    net = en.small_world(100, 4, 0.3, seed=2)
    assert {tuple(sorted(e)) for e in G.edges} == set(net.edges)
