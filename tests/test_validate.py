"""Every bad input raises an EdgenetError naming the node or edge, the value, and what is accepted."""

from __future__ import annotations

import math
import re
from fractions import Fraction

import networkx as nx
import numpy as np
import pytest
import torch

import edgenet as en


def chain(**edge_attr):
    net = en.Network()
    net.add_input("x")
    net.add_neuron("h")
    net.add_output("y")
    net.add_edge("x", "h", weight=1.0)
    net.add_edge("h", "y", **edge_attr)
    return net


def test_error_hierarchy():
    assert issubclass(en.EdgenetError, ValueError)
    assert issubclass(en.CycleError, en.EdgenetError)
    assert issubclass(en.InputError, en.EdgenetError)


def test_cycle_names_the_nodes_of_one_cycle():
    G = nx.DiGraph([("in", "a"), ("a", "b"), ("b", "c"), ("c", "a"), ("c", "out")])
    with pytest.raises(en.CycleError, match=r"the graph has a cycle: 'a' -> 'b' -> 'c' -> 'a'") as err:
        en.compile(G)
    assert err.value.cycle == ["a", "b", "c"]
    assert "remove one edge of each cycle" in str(err.value) and "recurrent=True" in str(err.value)


def test_cycle_in_a_large_connectome_is_found():
    G = nx.DiGraph(nx.path_graph(500, create_using=nx.DiGraph))
    G.add_edge(300, 250)
    with pytest.raises(en.CycleError) as err:
        en.compile(G)
    cycle = err.value.cycle
    assert set(cycle) == set(range(250, 301))
    assert all(G.has_edge(u, v) for u, v in zip(cycle, cycle[1:] + cycle[:1]))


def test_self_loop():
    net = chain(weight=1.0)
    net.add_edge("h", "h", weight=0.5)
    with pytest.raises(en.CycleError, match=r"the graph has a cycle: 'h' -> 'h'") as err:
        net.compile()
    assert err.value.cycle == ["h"]


def test_input_with_incoming_edge():
    net = chain(weight=1.0)
    net.add_edge("h", "x", weight=1.0)
    with pytest.raises(en.EdgenetError, match=r"input node 'x' has an incoming edge \('h' -> 'x'\)"):
        en.compile(net)


@pytest.mark.parametrize(
    ("weight", "message"),
    [
        (math.nan, r"edge \('h', 'y'\) has weight nan; expected a finite real number"),
        (math.inf, r"edge \('h', 'y'\) has weight inf; expected a finite real number"),
        (-math.inf, r"edge \('h', 'y'\) has weight -inf"),
        ("0.5", r"weight of edge \('h', 'y'\) is '0.5' of type str; expected a finite real number"),
        ("heavy", r"weight of edge \('h', 'y'\) is 'heavy' of type str"),
        (True, r"weight of edge \('h', 'y'\) is True of type bool"),
        ([1.0], r"weight of edge \('h', 'y'\) is \[1.0\] of type list"),
    ],
)
def test_bad_weights(weight, message):
    with pytest.raises(en.EdgenetError, match=message):
        en.compile(chain(weight=weight))


@pytest.mark.parametrize(
    ("bias", "message"),
    [
        (math.nan, r"bias of node 'h' is nan; expected a finite real number"),
        (math.inf, r"bias of node 'h' is inf"),
        ("big", r"bias of node 'h' is 'big' of type str; expected a finite real number"),
    ],
)
def test_bad_biases(bias, message):
    net = chain(weight=1.0)
    net.nodes["h"]["bias"] = bias
    with pytest.raises(en.EdgenetError, match=message):
        en.compile(net)


def test_unknown_activation_lists_known_ones():
    net = chain(weight=1.0)
    net.nodes["h"]["activation"] = "swishy"
    with pytest.raises(
        en.EdgenetError,
        match=r"node 'h': unknown activation 'swishy'; known activations: .*identity.*relu.*tanh",
    ):
        en.compile(net)


def test_non_string_activation():
    net = chain(weight=1.0)
    net.nodes["h"]["activation"] = len
    with pytest.raises(en.EdgenetError, match=r"node 'h' has activation <built-in function len> of type"):
        en.compile(net)


def test_bad_role():
    net = chain(weight=1.0)
    net.nodes["h"]["role"] = "middle"
    with pytest.raises(en.EdgenetError, match=r"node 'h' has role 'middle'; accepted roles: 'input', 'hidden', 'output'"):
        en.compile(net)


def test_no_outputs():
    net = en.Network()
    net.add_input("x")
    net.add_neuron("h")
    net.add_edge("x", "h")
    with pytest.raises(en.EdgenetError, match=r"the network has no outputs: add one with Network.add_output"):
        en.compile(net)


def test_no_inputs():
    net = en.Network()
    net.add_neuron("h", bias=1.0)
    net.add_output("y")
    net.add_edge("h", "y")
    with pytest.raises(en.EdgenetError, match=r"the network has no inputs: add one with Network.add_input"):
        en.compile(net)


def test_empty_graph():
    with pytest.raises(en.EdgenetError, match=r"no inputs"):
        en.compile(nx.DiGraph())


def test_explicit_lists_are_checked():
    G = nx.DiGraph([("a", "y"), ("b", "y")])
    with pytest.raises(en.EdgenetError, match=r"inputs= names node 'q', which is not in the graph"):
        en.compile(G, inputs=["a", "q"])
    with pytest.raises(en.EdgenetError, match=r"outputs= lists node 'y' twice"):
        en.compile(G, outputs=["y", "y"])
    with pytest.raises(en.EdgenetError, match=r"inputs= must be a list of nodes \(got the string 'ab'\)"):
        en.compile(G, inputs="ab")
    with pytest.raises(en.EdgenetError, match=r"outputs= must be a list of nodes"):
        en.compile(G, outputs="y")
    with pytest.raises(en.EdgenetError, match=r"node 'a' is both an input and an output"):
        en.compile(G, inputs=["a", "b"], outputs=["a"])
    with pytest.raises(en.EdgenetError, match=r"the network has no outputs"):
        en.compile(G, outputs=[])


def test_role_input_must_be_listed_when_inputs_are_given():
    net = chain(weight=1.0)
    net.add_input("x2")
    with pytest.raises(en.EdgenetError, match=r"node 'x2' has role 'input' but is not in inputs=\['x'\]"):
        en.compile(net, inputs=["x"])


def test_undirected_and_multigraphs_are_refused():
    with pytest.raises(en.EdgenetError, match=r"expected a directed graph .* got an undirected Graph"):
        en.compile(nx.Graph([(0, 1)]))
    with pytest.raises(en.EdgenetError, match=r"expected a simple DiGraph \(got MultiDiGraph\)"):
        en.compile(nx.MultiDiGraph([(0, 1)]))
    with pytest.raises(en.EdgenetError, match=r"expected a networkx.DiGraph or edgenet.Network \(got dict\)"):
        en.compile({"a": "b"})


def test_errors_do_not_mutate():
    net = chain(weight=math.nan)
    before = list(net.edges(data=True))
    with pytest.raises(en.EdgenetError):
        en.compile(net)
    assert str(list(net.edges(data=True))) == str(before)


# --------------------------------------------------------------------------- dtype, seed


@pytest.mark.parametrize("dtype, value, wider", [
    (torch.float32, 1e300, "torch.float64"), (torch.float32, -3.5e38, "torch.float64"),
    (torch.float16, 70000.0, "torch.float32"), (torch.bfloat16, 1e39, "torch.float64"),
    (torch.float16, 1e300, "torch.float64"),
])
def test_weights_and_biases_that_do_not_fit_the_dtype_are_refused(dtype, value, wider):
    G = nx.DiGraph([("a", "b", {"weight": 0.5}), ("c", "b", {"weight": value})])
    shown = re.escape(repr(value))
    with pytest.raises(en.EdgenetError, match=rf"edge \('c', 'b'\) has weight {shown}, which "
                       rf"{dtype} cannot hold .*use dtype={wider}"):
        en.compile(G, dtype=dtype)
    with pytest.raises(en.EdgenetError, match=rf"edge \('c', 'b'\) has weight {shown}"):
        en.to_pyg(G, dtype=dtype)
    H = nx.DiGraph([("a", "b", {"weight": 0.5})])
    H.nodes["b"]["bias"] = value
    with pytest.raises(en.EdgenetError, match=rf"node 'b' has bias {shown}, which {dtype}"):
        en.compile(H, dtype=dtype)
    with pytest.raises(en.EdgenetError, match=rf"node 'b' has bias {shown}"):
        en.to_pyg(H, dtype=dtype)


def test_the_largest_value_a_dtype_holds_is_accepted():
    top = float(torch.finfo(torch.float32).max)
    model = en.compile(nx.DiGraph([("a", "b", {"weight": top}), ("c", "b", {"weight": -top})]))
    assert torch.isfinite(model.weight).all()
    assert torch.isfinite(en.to_pyg(nx.DiGraph([("a", "b", {"weight": top})]),
                                    dtype=torch.float32).edge_weight).all()


@pytest.mark.parametrize("seed", [2**64, -(2**63) - 1, 2**70, "abc", 1.5, True, [1], np.int64(3)])
def test_seeds_torch_cannot_take_are_refused(seed):
    with pytest.raises(en.EdgenetError, match=r"seed=.* of type .*; expected None or a Python int"):
        en.compile(nx.DiGraph([("a", "b")]), seed=seed)


@pytest.mark.parametrize("seed", [0, 2**64 - 1, -(2**63)])
def test_seeds_torch_takes_are_accepted(seed):
    en.compile(nx.DiGraph([("a", "b")]), seed=seed)


@pytest.mark.parametrize("value", [5, 2.5, None.__class__])
def test_inputs_that_are_not_lists_are_refused(value):
    with pytest.raises(en.EdgenetError, match=r"inputs= must be a list of nodes \(got .* of type"):
        en.compile(nx.DiGraph([("a", "b")]), inputs=value)


@pytest.mark.parametrize("value", [-(2**1024), 2**5000, -(2**100000), Fraction(10**400, 3)],
                         ids=["-2**1024", "2**5000", "-2**100000", "fraction"])
@pytest.mark.parametrize("where", ["weight", "bias"])
def test_numbers_beyond_float_are_refused_by_name(value, where):
    G = nx.DiGraph([("a", "b", {"weight": 1.0})])
    if where == "weight":
        G.edges["a", "b"]["weight"] = value
    else:
        G.nodes["b"]["bias"] = value
    owner = r"weight of edge \('a', 'b'\)" if where == "weight" else r"bias of node 'b'"
    with pytest.raises(en.EdgenetError, match=owner + r" is .*, beyond the largest float"):
        en.compile(G)
