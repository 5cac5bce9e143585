"""to_pyg / from_pyg: lossless round trip, parity with PyG's own conversion and message passing."""

from __future__ import annotations

import struct

import networkx as nx
import pytest
import torch

import edgenet as en


def network():
    net = en.Network()
    net.add_input("a")
    net.add_input(7)
    net.add_neuron("h", activation="tanh", bias=-0.0, color="red")
    net.add_neuron("g", bias=5e-324)
    net.add_output("y", activation="sigmoid")
    net.add_edge("a", "h", weight=1e-310)
    net.add_edge(7, "h", weight=-2.5)
    net.add_edge("a", "g")  # no weight yet
    net.add_edge("h", "y", weight=1.7976931348623157e308)
    net.add_edge("g", "y", weight=0.1)
    return net


def bits(x):
    return struct.pack("<d", x)


def test_round_trip_is_lossless():
    net = network()
    data = en.to_pyg(net)
    assert data.num_nodes == 5 and data.node_ids == ["a", 7, "h", "g", "y"]
    assert data.role == ["input", "input", "hidden", "hidden", "output"]
    assert data.activation == [None, None, "tanh", "relu", "sigmoid"]
    back = en.from_pyg(data)
    assert list(back.nodes) == list(net.nodes)
    assert list(back.edges) == list(net.edges)
    for u, v, d in net.edges(data=True):
        assert back.edges[u, v].keys() == d.keys()
        if "weight" in d:
            assert bits(back.edges[u, v]["weight"]) == bits(d["weight"])
    for n, d in net.nodes(data=True):
        expected = {k: v for k, v in d.items() if k != "color"}  # only neuron fields travel
        assert back.nodes[n].keys() == expected.keys()
        assert bits(back.nodes[n].get("bias", 1.0)) == bits(expected.get("bias", 1.0))


def test_edge_index_matches_torch_geometric_from_networkx():
    from torch_geometric.utils import from_networkx

    G = nx.gnm_random_graph(30, 120, seed=0, directed=True)
    for u, v in G.edges:
        G.edges[u, v]["weight"] = float(u - v)
    ours = en.to_pyg(G)
    theirs = from_networkx(G)
    assert torch.equal(ours.edge_index, theirs.edge_index)
    assert torch.equal(ours.edge_weight, theirs.weight.double())


def test_compiled_network_matches_pyg_message_passing():
    from torch_geometric.utils import scatter

    torch.manual_seed(0)
    net = en.Network()
    for i in range(6):
        net.add_input(i)
    for j in range(6, 10):
        net.add_output(j)
    en.random_sparse(net, range(6), range(6, 10), density=0.6, seed=3, weight=None)
    model = net.compile(dtype=torch.float64, seed=1)
    data = en.to_pyg(model.to_network())
    x = torch.randn(10, 3, dtype=torch.float64)  # node-major: (N, B), outputs' rows unused
    src, dst = data.edge_index
    messages = data.edge_weight[:, None] * x[src]  # (E, B)
    out = scatter(messages, dst, dim=0, dim_size=10, reduce="sum")  # (N, B)
    expected = out[6:].T  # (B, 4)
    torch.testing.assert_close(model(x[:6].T.contiguous()), expected, rtol=0, atol=1e-12)


def test_foreign_data_with_edge_attr_and_x():
    from torch_geometric.data import Data

    data = Data(x=torch.zeros(4, 2), edge_index=torch.tensor([[0, 1, 2], [2, 2, 3]]),
                edge_attr=torch.tensor([[0.5], [float("nan")], [2.0]]))
    net = en.from_pyg(data, node_ids=["p", "q", "r", "s"])
    assert list(net.edges(data=True)) == [("p", "r", {"weight": 0.5}), ("q", "r", {}),
                                          ("r", "s", {"weight": 2.0})]
    assert list(net.nodes) == ["p", "q", "r", "s"]
    net2 = en.from_pyg(Data(edge_index=torch.tensor([[0], [1]]), w=torch.tensor([3.0])),
                       weight="w")
    assert list(net2.edges(data="weight")) == [(0, 1, 3.0)]
    net3 = en.from_pyg(Data(edge_index=torch.tensor([[0], [1]]), num_nodes=3))
    assert list(net3.nodes) == [0, 1, 2] and list(net3.edges(data=True)) == [(0, 1, {})]


def bad_data(**fields):
    from torch_geometric.data import Data

    base = dict(edge_index=torch.tensor([[0, 1], [1, 2]]), num_nodes=3)
    base.update(fields)
    return Data(**{k: v for k, v in base.items() if v is not None})


@pytest.mark.parametrize("fields, kwargs, message", [
    (dict(edge_index=torch.zeros(3, 2, dtype=torch.long)), {},
     r"data.edge_index must be an integer tensor of shape \(2, E\) \(got \(3, 2\)\)"),
    (dict(edge_index=torch.zeros(2, 2)), {}, r"must be an integer tensor"),
    (dict(edge_index=torch.tensor([[True, False], [False, True]])), {},
     r"data.edge_index holds bools \(torch.bool\); expected integer node indices"),
    (dict(edge_index=torch.tensor([[0, 1], [1, 5]])), {},
     r"edge 1 of data.edge_index is \(1, 5\), outside the 3 nodes 0..2"),
    (dict(edge_index=torch.tensor([[0, 0], [1, 1]])), {},
     r"edge \(0, 1\) appears more than once in data.edge_index"),
    (dict(edge_weight=torch.ones(5)), {},
     r"data.edge_weight has shape \(5,\); expected \(2,\) or \(2, 1\)"),
    (dict(edge_attr=torch.ones(2, 3)), {}, r"data.edge_attr has shape \(2, 3\)"),
    (dict(edge_weight=torch.tensor([1.0, float("inf")])), {}, r"data.edge_weight\[1\] is inf"),
    ({}, dict(weight="strength"), r"data has no field 'strength'"),
    ({}, dict(node_ids=["a", "b"]), r"node_ids has 2 entries but the graph has 3 nodes"),
    ({}, dict(node_ids=["a", "b", "a"]), r"node_ids lists a node id twice"),
    (dict(bias=torch.zeros(2)), {}, r"data.bias has 2 entries; expected 3"),
    # complex numbers: a real cast drops the imaginary part (edge_weight's was dropped silently)
    (dict(edge_weight=torch.tensor([1.0, 2 + 3j])), {},
     r"data.edge_weight holds complex numbers \(complex64\): data.edge_weight\[1\] is "
     r"\(2\+3j\); expected real numbers"),
    (dict(edge_attr=torch.tensor([[1j], [1.0]])), {},
     r"data.edge_attr holds complex numbers \(complex64\): data.edge_attr\[0, 0\] is 1j"),
    (dict(strength=torch.tensor([0.5, 1j], dtype=torch.complex128)), dict(weight="strength"),
     r"data.strength holds complex numbers \(complex128\): data.strength\[1\] is 1j"),
    (dict(bias=torch.tensor([0.0, 1j, 0.0])), {},
     r"data.bias holds complex numbers \(complex64\): data.bias\[1\] is 1j"),
    (dict(edge_index=torch.tensor([[0, 1], [1, 2]], dtype=torch.complex64)), {},
     r"data.edge_index holds complex numbers \(complex64\): data.edge_index\[0, 0\] is 0j"),
])
def test_bad_data_is_refused(fields, kwargs, message):
    with pytest.raises(en.EdgenetError, match=message):
        en.from_pyg(bad_data(**fields), **kwargs)


def test_to_pyg_refuses_undirected_graphs_and_bad_biases():
    with pytest.raises(en.EdgenetError, match=r"to_pyg expects a networkx.DiGraph.*\(got Graph\)"):
        en.to_pyg(nx.Graph([(0, 1)]))
    G = nx.DiGraph([(0, 1)])
    G.nodes[1]["bias"] = "big"
    with pytest.raises(en.EdgenetError, match=r"bias of node 1 is 'big' of type str"):
        en.to_pyg(G)


def test_import_edgenet_does_not_import_torch_geometric():
    import subprocess
    import sys

    code = "import sys, edgenet; print('torch_geometric' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=str(__import__("pathlib").Path(__file__).parents[1]))
    assert out.stdout.strip() == "False"


def test_a_column_bias_is_read_and_other_shapes_are_refused():
    from torch_geometric.data import Data

    edge_index = torch.tensor([[0], [1]])
    data = Data(edge_index=edge_index, num_nodes=2, bias=torch.tensor([[0.0], [0.5]]))
    assert en.from_pyg(data).nodes[1]["bias"] == 0.5
    assert "bias" not in en.from_pyg(Data(edge_index=edge_index, num_nodes=2, bias=None)).nodes[1]
    with pytest.raises(en.EdgenetError, match=r"data.bias has shape \(2, 2\); expected \(2,\) or "
                       r"\(2, 1\), one value per node"):
        en.from_pyg(Data(edge_index=edge_index, num_nodes=2, bias=torch.zeros(2, 2)))


def test_node_features_as_input_are_refused_saying_one_value_per_input_neuron():
    from torch_geometric.data import Data

    data = Data(x=torch.randn(3, 4), edge_index=torch.tensor([[0, 1], [2, 2]]))
    model = en.from_pyg(data).compile(seed=0)
    with pytest.raises(en.InputError, match=r"each input neuron takes one value per sample, so "
                       r"the last axis holds 2.*PyG's data.x"):
        model(data.x)
    x = data.x[model.inputs].T  # (features, n_in): the README's recipe, one sample per feature
    assert model(x).shape == (4, 1)


def test_edge_attr_column_is_chosen_explicitly():
    from torch_geometric.data import Data

    attr = torch.arange(8, dtype=torch.float64).reshape(2, 4)  # (E, 4)
    data = Data(edge_index=torch.tensor([[0, 1], [2, 2]]), edge_attr=attr)
    with pytest.raises(en.EdgenetError, match=r"data.edge_attr has shape \(2, 4\): 4 features "
                       r"per edge; .*from_pyg\(data, weight='edge_attr', column=k\), k from 0 to 3"):
        en.from_pyg(data, weight="edge_attr")  # the advice of the old error gave the same error
    net = en.from_pyg(data, weight="edge_attr", column=2)
    assert list(net.edges(data="weight")) == [(0, 2, 2.0), (1, 2, 6.0)]
    assert list(en.from_pyg(data, column=-1).edges(data="weight")) == [(0, 2, 3.0), (1, 2, 7.0)]
    for column, message in [(4, r"column=4 but data.edge_attr has shape \(2, 4\); expected a "
                                r"column index from 0 to 3"),
                            (True, r"column=True; expected the int index")]:
        with pytest.raises(en.EdgenetError, match=message):
            en.from_pyg(data, column=column)
    with pytest.raises(en.EdgenetError, match=r"column=0 but data.edge_weight has shape \(2,\)"):
        en.from_pyg(Data(edge_index=data.edge_index, edge_weight=torch.ones(2)), column=0)
    with pytest.raises(en.EdgenetError, match=r"column=0 given, but data has no edge_weight"):
        en.from_pyg(Data(edge_index=data.edge_index), column=0)


def test_edge_weight_and_edge_attr_together_must_be_chosen():
    from torch_geometric.data import Data

    data = Data(edge_index=torch.tensor([[0], [1]]), edge_weight=torch.tensor([0.5]),
                edge_attr=torch.tensor([[2.0]]))
    with pytest.raises(en.EdgenetError, match=r"data has both edge_weight and edge_attr; say "
                       r"which holds the weights"):
        en.from_pyg(data)
    assert en.from_pyg(data, weight="edge_weight").edges[0, 1]["weight"] == 0.5
    assert en.from_pyg(data, weight="edge_attr").edges[0, 1]["weight"] == 2.0


def test_undirected_data_is_a_cycle_error_naming_its_2_cycles():
    from torch_geometric.data import Data
    from torch_geometric.utils import to_undirected

    data = Data(edge_index=to_undirected(torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 0]])))
    with pytest.raises(en.CycleError, match=r"data is an undirected graph: each of its 10 "
                       r"edges also runs the other way, so it is 5 2-cycles \(0 <-> 1, 0 <-> 4, "
                       r"1 <-> 2 and 2 more\).*undirected='both'") as caught:
        en.from_pyg(data)
    assert caught.value.cycle == [0, 1]
    net = en.from_pyg(data, undirected="both")
    assert net.number_of_edges() == 10
    net.add_input("in")
    net.add_edge("in", 0)
    rnn = en.compile(net, recurrent=True, inputs=["in"], outputs=[2], seed=0)
    assert rnn(torch.ones(1, 1), steps=2).shape == (1, 2, 1)
    # a directed graph with one reciprocal pair is not undirected: read as written
    assert en.from_pyg(Data(edge_index=torch.tensor([[0, 1, 1], [1, 0, 2]]))).number_of_edges() == 3
    with pytest.raises(en.EdgenetError, match=r"undirected='yes'; accepted: 'refuse' or 'both'"):
        en.from_pyg(data, undirected="yes")


def test_a_batch_of_to_pyg_outputs_reads_back_as_one_network_of_its_members():
    from torch_geometric.data import Batch

    first, second = network(), en.Network()
    second.add_input("a")
    second.add_output("z", bias=0.25)
    second.add_edge("a", "z", weight=-1.5)
    batch = Batch.from_data_list([en.to_pyg(first), en.to_pyg(second)])
    net = en.from_pyg(batch)
    union = nx.DiGraph()
    for k, member in enumerate([first, second]):
        union.update(nx.relabel_nodes(member, {n: (k, n) for n in member}))
    assert list(net.nodes) == list(union.nodes)
    assert dict(net.nodes(data=True))[(1, "z")] == dict(second.nodes["z"])
    assert sorted(net.edges(data="weight"), key=str) == sorted(
        ((u, v, w) for u, v, w in union.edges(data="weight")), key=str)
    assert net.nodes[(0, "h")]["activation"] == "tanh"


def test_hetero_data_is_refused_by_name():
    from torch_geometric.data import HeteroData

    data = HeteroData()
    data["cell"].num_nodes = 2
    data["cell", "synapse", "cell"].edge_index = torch.tensor([[0], [1]])
    with pytest.raises(en.EdgenetError, match=r"from_pyg reads a homogeneous torch_geometric "
                       r"Data graph \(got HeteroData with node types \['cell'\] and edge types "
                       r"\[\('cell', 'synapse', 'cell'\)\]\); convert it with "
                       r"data.to_homogeneous\(\)"):
        en.from_pyg(data)


def test_compile_warns_when_weights_live_under_another_attribute():
    from torch_geometric.data import Data
    from torch_geometric.utils import to_networkx

    data = Data(edge_index=torch.tensor([[0, 1], [2, 2]]), edge_weight=torch.tensor([0.5, 1.5]),
                edge_attr=torch.tensor([[0.5], [1.5]]), num_nodes=3)
    for field in ("edge_weight", "edge_attr"):
        G = to_networkx(data, edge_attrs=[field])
        with pytest.warns(UserWarning, match=rf"2 of 2 edges have no 'weight' but carry the "
                          rf"numeric attribute '{field}' \(edge \(0, 2\) has {field}=.*0.5.*"
                          rf"nx.set_edge_attributes\(G, nx.get_edge_attributes\(G, '{field}'\)"):
            en.compile(G, seed=0)
        G.add_edge(2, 0, **{field: G.edges[0, 2][field]})  # a cycle: the recurrent model
        with pytest.warns(UserWarning, match=rf"3 of 3 edges have no 'weight' but carry the "
                          rf"numeric attribute '{field}'"):
            en.compile(G, recurrent=True, inputs=[1], outputs=[2], seed=0)
    G = nx.DiGraph([(0, 1, {"weight": 0.5, "delay": 3})])  # weighted: nothing to say
    G.add_edge(2, 1, label="x")  # unweighted, no numeric attribute: nothing to say
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        en.compile(G, seed=0)


@pytest.mark.parametrize("make, message", [
    (lambda t: t.to("meta"), r"is a meta tensor: it has a shape"),
    (lambda t: t.to_sparse(), r"is a sparse tensor \(layout torch.sparse_coo\); expected a dense"),
])
@pytest.mark.parametrize("field", ["edge_index", "edge_weight", "bias"])
def test_meta_and_sparse_fields_are_refused_by_name(make, message, field):
    from torch_geometric.data import Data

    fields = dict(edge_index=torch.tensor([[0, 1], [1, 2]]), edge_weight=torch.tensor([0.5, 1.0]),
                  bias=torch.tensor([0.0, 0.5, 1.0]), num_nodes=3)
    fields[field] = make(fields[field])
    with pytest.raises(en.EdgenetError, match=rf"data.{field} {message}"):
        en.from_pyg(Data(**fields))


def test_bfloat16_fields_are_read_exactly():
    from torch_geometric.data import Data

    w = torch.tensor([0.1, -3.3], dtype=torch.bfloat16)
    data = Data(edge_index=torch.tensor([[0, 1], [1, 2]]), edge_weight=w,
                bias=torch.tensor([0.0, 0.7, 1.0], dtype=torch.float16))
    net = en.from_pyg(data)
    assert [x for _, _, x in net.edges(data="weight")] == w.double().tolist()
    assert net.nodes[1]["bias"] == torch.tensor(0.7, dtype=torch.float16).item()


@pytest.mark.parametrize("dtype", [torch.int64, torch.complex64, "float64"])
def test_to_pyg_refuses_a_dtype_that_is_not_floating(dtype):
    with pytest.raises(en.EdgenetError, match=r"dtype must be a floating torch dtype"):
        en.to_pyg(network(), dtype=dtype)
