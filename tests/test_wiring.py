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


# ------------------------------------------------------------- density allocation (issue 23)

def test_uniform_allocation_is_the_density_everywhere():
    assert en.layer_densities([(64, 128), (128, 10)], 0.05, "uniform") == [0.05, 0.05]


@pytest.mark.parametrize("shapes, density", [([(64, 128), (128, 10)], 0.05),
                                             ([(784, 300), (300, 100), (100, 10)], 0.1),
                                             ([(4, 4), (4, 1000)], 0.6),
                                             ([(3, 2), (2, 2), (2, 500)], 0.9)])
@pytest.mark.parametrize("allocation", ["er", "erk"])
def test_er_allocation_keeps_the_global_density_and_the_paper_ratios(shapes, density,
                                                                       allocation):
    """Sparse layers in proportion to (n_in + n_out) / (n_in n_out), capped layers dense,
    the total edge count density * dense edges."""
    d = np.array(en.layer_densities(shapes, density, allocation))
    size = np.array([a * b for a, b in shapes], dtype=float)
    raw = np.array([(a + b) / (a * b) for a, b in shapes])
    assert (d * size).sum() == pytest.approx(density * size.sum())
    sparse = d < 1
    ratio = d[sparse] / raw[sparse]
    assert ratio == pytest.approx(np.full(sparse.sum(), ratio[0]))
    # a capped layer is one whose proportional density would have exceeded 1
    assert (raw[~sparse] * ratio[0] >= 1 - 1e-12).all()


def test_erk_counts_kernels_and_er_does_not():
    shapes = [(16, 32, 3, 3), (32, 64, 1, 1)]
    er = en.layer_densities(shapes, 0.1, "er")
    erk = en.layer_densities(shapes, 0.1, "erk")
    raw_erk = [sum(s) / np.prod(s) for s in shapes]
    assert erk[0] / erk[1] == pytest.approx(raw_erk[0] / raw_erk[1])
    assert er[0] / er[1] == pytest.approx((48 / 512) / (96 / 2048))


@pytest.mark.parametrize("kwargs, message", [
    ({"allocation": "erdos"}, r"allocation must be one of 'uniform', 'er', 'erk' \(got 'erdos'\)"),
    ({"density": 1.5}, r"density must be a number in \[0, 1\] \(got 1.5\)"),
    ({"shapes": [(3,)]}, r"layer 0 has shape \(3,\); expected \(n_in, n_out\)"),
    ({"shapes": [(3, 0)]}, r"layer 0 has shape \(3, 0\)"),
    ({"shapes": []}, r"at least one layer shape"),
])
def test_layer_densities_refuses_bad_arguments(kwargs, message):
    args = {"shapes": [(4, 4)], "density": 0.5, "allocation": "erk", **kwargs}
    with pytest.raises(en.EdgenetError, match=message):
        en.layer_densities(**args)


@pytest.mark.parametrize("allocation", ["uniform", "erk"])
def test_sparse_mlp_has_the_allocated_edges_per_layer(allocation):
    sizes = [64, 128, 32, 10]
    net = en.sparse_mlp(sizes, 0.05, allocation=allocation, seed=3)
    dens = en.layer_densities(list(zip(sizes, sizes[1:])), 0.05, allocation)
    assert (len(net.inputs), len(net), len(net.outputs)) == (64, sum(sizes), 10)
    prefix = ["x", "h1_", "h2_", "y"]
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        count = sum(1 for u, v in net.edges if u.startswith(prefix[i])
                    and v.startswith(prefix[i + 1]))
        assert count == round(dens[i] * a * b)
    assert net.number_of_edges() == sum(round(d * a * b) for d, (a, b)
                                        in zip(dens, zip(sizes, sizes[1:])))
    again = en.sparse_mlp(sizes, 0.05, allocation=allocation, seed=3)
    assert list(again.edges) == list(net.edges)
    assert list(en.sparse_mlp(sizes, 0.05, allocation=allocation, seed=4).edges) != \
        list(net.edges)
    assert net.nodes["h1_0"]["activation"] == "relu"
    assert net.nodes["y0"]["activation"] == "identity"


def test_sparse_mlp_refuses_too_few_sizes():
    with pytest.raises(en.EdgenetError, match=r"sizes must list at least two positive ints"):
        en.sparse_mlp([10], 0.5)
