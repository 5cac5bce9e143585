"""Network: building neurons and edges, blocks from connection matrices, roles and layers."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import torch

import edgenet as en


def test_roles_and_defaults():
    net = en.Network()
    net.add_input("x", label="pixel")
    net.add_neuron("h")
    net.add_output("y")
    assert net.nodes["x"] == {"label": "pixel", "role": "input"}
    assert net.nodes["h"] == {"role": "hidden", "activation": "relu", "bias": 0.0}
    assert net.nodes["y"] == {"role": "output", "activation": "identity", "bias": 0.0}
    assert isinstance(net, nx.DiGraph)


def test_inputs_outputs_in_insertion_order():
    net = en.Network()
    for n in ("c", "a", "b"):
        net.add_input(n)
    net.add_output("z")
    net.add_output("y")
    assert net.inputs == ["c", "a", "b"] and net.outputs == ["z", "y"]


def test_layers_are_topological_generations_and_skips_span_them():
    net = en.Network()
    net.add_edges_from([("x", "h1"), ("h1", "h2"), ("h2", "y"), ("x", "y"), ("b", "h2")])
    assert net.layers() == [["x", "b"], ["h1"], ["h2"], ["y"]]


def test_layers_report_a_cycle():
    net = en.Network([("a", "b"), ("b", "c"), ("c", "a")])
    with pytest.raises(en.CycleError, match=r"cycle: 'a' -> 'b' -> 'c' -> 'a'"):
        net.layers()


def test_connect_with_mask_and_weight_matrix():
    net = en.Network()
    mask = np.array([[1, 0, 1], [0, 1, 1], [1, 1, 0], [0, 0, 1]])
    weight = np.arange(12, dtype=float).reshape(4, 3)
    net.connect(["a", "b", "c", "d"], ["p", "q", "r"], mask=mask, weight=weight)
    assert {(u, v): w for u, v, w in net.edges(data="weight")} == {
        ("a", "p"): 0.0, ("a", "r"): 2.0, ("b", "q"): 4.0, ("b", "r"): 5.0,
        ("c", "p"): 6.0, ("c", "q"): 7.0, ("d", "r"): 11.0,
    }


def test_connect_full_block_scalar_weight_and_torch_mask():
    net = en.Network()
    net.connect([0, 1], [2, 3], weight=0.5)
    assert sorted(net.edges(data="weight")) == [(0, 2, 0.5), (0, 3, 0.5), (1, 2, 0.5), (1, 3, 0.5)]
    net2 = en.Network()
    net2.connect([0, 1], [2], mask=torch.tensor([[True], [False]]))
    assert list(net2.edges(data="weight")) == [(0, 2, None)]


def test_connect_keeps_existing_node_attributes():
    net = en.Network()
    net.add_input("x")
    net.add_output("y", activation="tanh")
    net.connect(["x"], ["y"], weight=2.0)
    assert net.nodes["y"]["activation"] == "tanh" and net.edges["x", "y"]["weight"] == 2.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mask": [[1, 0]]}, r"mask has shape \(1, 2\); expected \(2, 2\) = \(len\(sources\), len\(targets\)\)"),
        ({"weight": [[1.0, 2.0, 3.0]]}, r"weight has shape \(1, 3\); expected \(2, 2\)"),
        ({"weight": [[1.0, float("nan")], [0, 0]]}, r"weight has the non-finite value nan at \(0, 1\)"),
        ({"weight": "heavy"}, r"weight must be numeric \(got 'heavy'\)"),
        ({"mask": [["x", "y"], [1, 0]]}, r"mask must be numeric"),
        # complex numbers: a cast to real would drop the imaginary part (a mask entry 1j: no edge)
        ({"mask": np.array([[1, 1j], [0, 1]])},
         r"mask holds complex numbers \(complex128\): mask\[0, 1\] is 1j; expected real numbers"),
        ({"weight": torch.tensor([[1.0, 2.0], [3.0, 4 + 2j]])},
         r"weight holds complex numbers \(complex64\): weight\[1, 1\] is \(4\+2j\)"),
        ({"weight": 2 + 0j}, r"weight holds complex numbers \(complex128\): weight is \(2\+0j\)"),
    ],
)
def test_connect_errors(kwargs, message):
    with pytest.raises(en.EdgenetError, match=message):
        en.Network().connect(["a", "b"], ["c", "d"], **kwargs)


def test_connect_refuses_a_string_as_node_list():
    with pytest.raises(en.EdgenetError, match=r"sources must be a list of nodes \(got 'ab'\)"):
        en.Network().connect("ab", ["c"])


def test_as_network_copies_everything():
    G = nx.DiGraph(name="g")
    G.add_node(1, color="red")
    G.add_edge(1, 2, weight=0.5, tag="t")
    net = en.as_network(G)
    assert isinstance(net, en.Network) and net.graph == {"name": "g"}
    assert net.nodes[1] == {"color": "red"} and net.edges[1, 2] == {"weight": 0.5, "tag": "t"}
    net.nodes[1]["color"] = "blue"
    assert G.nodes[1]["color"] == "red"


def test_compile_method_is_edgenet_compile():
    net = en.Network()
    net.add_input("x")
    net.add_output("y")
    net.add_edge("x", "y", weight=1.5)
    assert net.compile()(torch.tensor([[2.0]])).item() == 3.0
