"""Hypothesis strategies for random neuron DAGs, shared by the engine tests."""

from __future__ import annotations

import networkx as nx
from hypothesis import strategies as st

import edgenet as en

SMOOTH = ["identity", "sigmoid", "tanh", "gelu", "softplus", "elu", "silu", "sin", "softsign"]
ALL = SMOOTH + ["relu", "leaky_relu", "abs", "square"]

finite = st.floats(-2.0, 2.0, allow_nan=False, allow_infinity=False)


@st.composite
def networks(draw, activations=ALL, max_nodes=24, int_ids=None):
    """A Network with explicit roles: isolated neurons, neurons without inputs, skip edges
    spanning many generations and outputs feeding other neurons all occur."""
    n = draw(st.integers(2, max_nodes))
    n_in = draw(st.integers(1, min(4, n - 1)))
    use_ints = draw(st.booleans()) if int_ids is None else int_ids
    name = (lambda i: i) if use_ints else (lambda i: f"n{i}")
    net = en.Network()
    for i in range(n_in):
        net.add_input(name(i))
    rest = list(range(n_in, n))
    out_count = draw(st.integers(1, len(rest)))
    outs = set(draw(st.permutations(rest))[:out_count])
    for i in rest:
        act = draw(st.sampled_from(activations))
        bias = draw(finite)
        if i in outs:
            net.add_output(name(i), activation=act, bias=bias)
        else:
            net.add_neuron(name(i), activation=act, bias=bias)
    p = draw(st.floats(0.0, 0.6))
    coins = draw(st.lists(st.floats(0, 1), min_size=n * n, max_size=n * n))
    weights = draw(st.lists(finite, min_size=n * n, max_size=n * n))
    for j in rest:
        for i in range(j):
            k = i * n + j
            if coins[k] < p:
                net.add_edge(name(i), name(j), weight=weights[k])
    return net


@st.composite
def plain_dags(draw, max_nodes=20):
    """A role-less nx.DiGraph (sources are inputs, sinks outputs) with random weights."""
    n = draw(st.integers(3, max_nodes))
    G = nx.DiGraph()
    G.add_nodes_from(range(n))
    p = draw(st.floats(0.1, 0.7))
    for j in range(1, n):
        for i in range(j):
            if draw(st.floats(0, 1)) < p:
                G.add_edge(i, j, weight=draw(finite))
    G.remove_nodes_from([v for v in list(G) if G.degree(v) == 0])
    if G.number_of_edges() == 0:
        G.add_edge(0, 1, weight=draw(finite))
    return G
