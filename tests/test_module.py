"""CompiledNetwork: input checks, training, state_dict, devices and writing weights back."""

from __future__ import annotations

import networkx as nx
import pytest
import torch
from dags import networks
from hypothesis import given

import edgenet as en


def xor_net():
    net = en.Network()
    net.add_input("x0")
    net.add_input("x1")
    for h in ("h0", "h1", "h2", "h3"):
        net.add_neuron(h, activation="tanh")
    net.add_output("y", activation="sigmoid")
    net.connect(["x0", "x1"], ["h0", "h1", "h2", "h3"])
    net.connect(["h0", "h1", "h2", "h3"], ["y"])
    net.add_edge("x0", "y")
    return net


X = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
T = torch.tensor([[0.0], [1.0], [1.0], [0.0]])


@pytest.mark.parametrize(
    "make_opt",
    [
        lambda p: torch.optim.Adam(p, lr=0.05),
        lambda p: torch.optim.SGD(p, lr=0.5, momentum=0.9),
        lambda p: torch.optim.RMSprop(p, lr=0.01),
    ],
)
def test_trains_xor_with_any_optimizer(make_opt):
    model = xor_net().compile(seed=1)
    opt = make_opt(model.parameters())
    for _ in range(600):
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy(model(X), T)
        loss.backward()
        opt.step()
    assert ((model(X) > 0.5).float() == T).all(), model(X)


def test_lbfgs_closure():
    net = en.Network()
    net.add_input("a")
    net.add_input("b")
    hidden = [f"h{i}" for i in range(8)]
    for h in hidden:
        net.add_neuron(h, activation="tanh")
    net.add_output("y")
    net.connect(["a", "b"], hidden)
    net.connect(hidden, ["y"])
    net.add_edge("b", "y")
    model = net.compile(seed=2, dtype=torch.float64)
    x = torch.linspace(-1, 1, 64, dtype=torch.float64)
    x = torch.stack([x, x.flip(0) * 0.5], 1)
    t = (torch.sin(2 * x[:, 0]) + x[:, 1] ** 2)[:, None]
    opt = torch.optim.LBFGS(model.parameters(), max_iter=100, line_search_fn="strong_wolfe")
    start = torch.nn.functional.mse_loss(model(x), t).item()

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), t)
        loss.backward()
        return loss

    opt.step(closure)
    assert torch.nn.functional.mse_loss(model(x), t).item() < 1e-2 * start


def test_gradients_flow_only_to_existing_edges():
    model = xor_net().compile(seed=0)
    model(X).sum().backward()
    assert model.weight.grad.shape == (model.weight.numel(),) == (13,)
    assert model.bias.grad.shape == (5,)


def test_to_network_keeps_attributes_and_carries_learned_values():
    net = xor_net()
    net.nodes["h0"]["color"] = "red"
    net.edges["x0", "y"]["kind"] = "skip"
    net.graph["name"] = "xor"
    model = net.compile(seed=0)
    with torch.no_grad():
        model.weight.add_(1.0)
        model.bias.add_(0.5)
    trained = model.to_network()
    assert isinstance(trained, en.Network) and trained is not net
    assert trained.graph["name"] == "xor"
    assert trained.nodes["h0"]["color"] == "red" and trained.edges["x0", "y"]["kind"] == "skip"
    assert trained.nodes["h0"]["bias"] == 0.5 and net.nodes["h0"]["bias"] == 0.0
    for (u, v), w in zip(model.edges, model.weight.tolist()):
        assert trained.edges[u, v]["weight"] == w
    assert "weight" not in net.edges["x0", "y"]


@given(net=networks())
def test_to_network_compiles_back_to_the_same_function(net):
    model = en.compile(net, seed=0)
    again = en.compile(model.to_network())
    x = torch.randn(4, len(model.inputs))
    assert torch.equal(model(x), again(x))
    assert again.inputs == model.inputs and again.outputs == model.outputs


def test_to_network_of_plain_digraph_with_reordered_roles():
    G = nx.DiGraph([("a", "h"), ("b", "h"), ("h", "y"), ("a", "z")])
    model = en.compile(G, inputs=["b", "a"], outputs=["z", "y"], seed=0)
    trained = model.to_network()
    assert trained.inputs == ["b", "a"] and trained.outputs == ["z", "y"]
    assert trained.nodes["h"]["role"] == "hidden" and trained.nodes["h"]["activation"] == "relu"
    x = torch.randn(3, 2)
    assert torch.equal(en.compile(trained)(x), model(x))


def test_to_network_demotes_unselected_outputs():
    net = en.Network()
    net.add_input("x")
    net.add_output("y")
    net.add_output("z")
    net.add_edge("x", "y", weight=1.0)
    net.add_edge("y", "z", weight=1.0)
    trained = en.compile(net, outputs=["z"]).to_network()
    assert trained.outputs == ["z"] and trained.nodes["y"]["role"] == "hidden"
    assert trained.nodes["y"]["activation"] == "identity"


def test_state_dict_round_trip():
    net = xor_net()
    a, b = net.compile(seed=0), net.compile(seed=1)
    assert not torch.equal(a(X), b(X))
    b.load_state_dict(a.state_dict())
    assert torch.equal(a(X), b(X))
    assert set(a.state_dict()) == {"weight", "bias"}


def test_float64_and_conversion():
    model = xor_net().compile(seed=0, dtype=torch.float64)
    assert model(X.double()).dtype == torch.float64
    model = model.float()
    assert model(X).dtype == torch.float32


def test_unbatched_input():
    model = xor_net().compile(seed=0)
    assert torch.equal(model(X[1]), model(X[1:2])[0])


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (torch.zeros(4, 3), r"expected a tensor of shape \(batch, 2\) or \(2,\) for inputs \['x0', 'x1'\] \(got shape \(4, 3\)\)"),
        (torch.zeros(2, 4, 2), r"expected a tensor of shape \(batch, 2\) or \(2,\); got rank 3 with shape \(2, 4, 2\)"),
        (torch.tensor(1.0), r"got rank 0"),
        (torch.zeros(4, 2, dtype=torch.float64), r"expected dtype torch.float32 \(got torch.float64\); convert the input with x.to\(torch.float32\)"),
        (torch.zeros(4, 2, dtype=torch.int64), r"expected dtype torch.float32 \(got torch.int64\)"),
        ([[0.0, 1.0]], r"expected a torch.Tensor of shape \(batch, 2\) or \(2,\) \(got list\)"),
        (torch.zeros(4, 2, device="meta"), r"expected the input on cpu \(got meta\)"),
    ],
)
def test_input_errors(x, message):
    model = xor_net().compile(seed=0)
    with pytest.raises(en.InputError, match=message):
        model(x)


def test_summary_and_repr():
    model = xor_net().compile(seed=0)
    text = model.summary()
    assert "2 inputs, 1 outputs, 5 neurons, 13 edges, 2 generations" in text
    assert "CompiledNetwork(inputs=2, outputs=1, neurons=5, edges=13, generations=2)" == repr(model)
    assert [s["generation"] for s in model.generation_stats()] == [1, 2]


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@cuda
def test_cuda_matches_cpu_forward_and_backward():
    model = xor_net().compile(seed=0, dtype=torch.float64)
    gpu = xor_net().compile(seed=0, dtype=torch.float64, device="cuda")
    x = X.double()
    model(x).square().sum().backward()
    y = gpu(x.cuda())
    y.square().sum().backward()
    assert torch.allclose(y.cpu(), model(x), atol=1e-12)
    assert torch.allclose(gpu.weight.grad.cpu(), model.weight.grad, atol=1e-12)
    assert gpu.to_network().edges["x0", "y"]["weight"] == model.to_network().edges["x0", "y"]["weight"]


@cuda
def test_to_device_moves_structure():
    model = xor_net().compile(seed=0).to("cuda")
    assert model(X.cuda()).device.type == "cuda"


@pytest.mark.parametrize("recurrent", [False, True])
def test_to_network_shares_no_mutable_attribute_with_the_model_or_the_source_graph(recurrent):
    """Graph, node and edge attributes holding lists: changing them in the compiled graph
    or in a written-back copy changes neither the model nor the next copy."""
    G = nx.DiGraph(tags=["g"])
    G.add_node("x", role="input", tags=["x"])
    G.add_node("y", role="output", tags=["y"])
    G.add_edge("x", "y", weight=1.0, tags=["e"])
    if recurrent:
        G.add_edge("y", "y", weight=0.5)
    model = en.compile(G, recurrent=recurrent)
    G.graph["tags"].append("changed")
    G.nodes["y"]["tags"].append("changed")
    G.edges["x", "y"]["tags"].append("changed")
    first = model.to_network()
    assert (first.graph["tags"], first.nodes["y"]["tags"], first.edges["x", "y"]["tags"]) == (
        ["g"], ["y"], ["e"])
    first.graph["tags"].append("again")
    first.nodes["y"]["tags"].append("again")
    first.edges["x", "y"]["tags"].append("again")
    second = model.to_network()
    assert (second.graph["tags"], second.nodes["y"]["tags"], second.edges["x", "y"]["tags"]) == (
        ["g"], ["y"], ["e"])
