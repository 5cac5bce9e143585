"""from_neat / to_neat against neat-python's own FeedForwardNetwork, the oracle."""

from __future__ import annotations

import random

import networkx as nx
import numpy as np
import pytest
import torch

import edgenet as en

neat = pytest.importorskip("neat")
from neat.activations import ActivationFunctionSet  # noqa: E402
from neat.aggregations import AggregationFunctionSet  # noqa: E402
from neat.nn import FeedForwardNetwork  # noqa: E402

ACTIVATIONS = sorted(ActivationFunctionSet().functions)
AGGREGATIONS = sorted(AggregationFunctionSet().functions)


def mutant_config(seed: int, **params):
    """Every built-in activation and aggregation, responses that vary, frequent structure
    mutations and disabled connections."""
    return en.neat_config(
        num_inputs=3, num_outputs=2, activation_options=ACTIVATIONS, activation_mutate_rate=0.3,
        aggregation_options=AGGREGATIONS, aggregation_mutate_rate=0.3, response_init_stdev=0.5,
        response_mutate_rate=0.5, response_mutate_power=0.5, node_add_prob=0.5,
        conn_add_prob=0.7, conn_delete_prob=0.1, node_delete_prob=0.05, enabled_mutate_rate=0.1,
        seed=seed, **params)


def mutants(config, count: int, mutations: int, seed: int) -> list:
    """``count`` genomes created and mutated by neat-python itself."""
    random.seed(seed)
    gc = config.genome_config
    gc.innovation_tracker = neat.innovation.InnovationTracker()
    genomes = []
    for key in range(count):
        g = config.genome_type(key)
        g.configure_new(gc)
        for _ in range(mutations):
            g.mutate(gc)
        genomes.append(g)
    return genomes


def xor_winners(generations: int = 50, seed: int = 7) -> tuple[list, object]:
    """The final population of a fixed-seed XOR run of ``generations`` generations."""
    config = en.neat_config(seed=seed, no_fitness_termination=True, fitness_threshold=100.0)
    xs, ys = [(0.0, 0.0), (0.0, 1.0), (1.0, 0.0), (1.0, 1.0)], [0.0, 1.0, 1.0, 0.0]

    def evaluate(genomes, config):
        for _, g in genomes:
            net = FeedForwardNetwork.create(g, config)
            g.fitness = 4.0 - sum((net.activate(x)[0] - y) ** 2 for x, y in zip(xs, ys))

    random.seed(seed)
    pop = neat.Population(config)
    pop.run(evaluate, generations)
    return list(pop.population.values()), config


def oracle(genome, config, x: np.ndarray) -> np.ndarray:
    net = FeedForwardNetwork.create(genome, config)
    return np.array([net.activate(row) for row in x.tolist()])


def ours(net: en.Network, x: np.ndarray) -> np.ndarray:
    if any("aggregation" in d or "response" in d for _, d in net.nodes(data=True)):
        model = en.compile_population([net], dtype=torch.float64).member(0)
    else:
        model = en.compile(net, dtype=torch.float64)
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()


def assert_close(got: np.ndarray, want: np.ndarray) -> None:
    """Equal to 1e-12, relative where values are large (exp and cube reach 1e26)."""
    assert got.shape == want.shape
    err = np.abs(got - want) / np.maximum(1.0, np.abs(want))
    assert err.max() <= 1e-12, err.max()


@pytest.fixture(scope="module")
def xor_population():
    return xor_winners()


@pytest.fixture(scope="module")
def mutated():
    config = mutant_config(seed=11)
    return mutants(config, 40, 25, seed=11), config


def test_parity_on_evolved_xor_genomes(xor_population):
    genomes, config = xor_population
    x = np.random.default_rng(0).uniform(-2, 2, (1000, 2))
    assert max(len(g.nodes) for g in genomes) > 1  # evolution added structure
    for g in genomes[:40]:
        assert_close(ours(en.from_neat(g, config), x), oracle(g, config, x))


def test_parity_on_mutants_with_every_activation_and_aggregation(mutated):
    genomes, config = mutated
    acts = {n.activation for g in genomes for n in g.nodes.values()}
    aggs = {n.aggregation for g in genomes for n in g.nodes.values()}
    assert acts == set(ACTIVATIONS) and aggs == set(AGGREGATIONS)
    assert any(not c.enabled for g in genomes for c in g.connections.values())
    x = np.random.default_rng(1).uniform(-1.5, 1.5, (1000, 3))
    for g in genomes:
        assert_close(ours(en.from_neat(g, config), x), oracle(g, config, x))


def test_every_activation_on_its_own(mutated):
    """One output node per activation, product and median too, checked at 1,000 points."""
    _, config = mutated
    x = np.linspace(-3, 3, 1000)[:, None].repeat(3, axis=1) * [1.0, -0.5, 0.25]
    for act in ACTIVATIONS:
        for agg in ("sum", "product", "median"):
            g = config.genome_type(0)
            for k in (0, 1):
                node = config.genome_config.node_gene_type(k)
                node.init_attributes(config.genome_config)
                node.activation, node.aggregation, node.bias, node.response = act, agg, 0.1, 0.7
                g.nodes[k] = node
            for i, key in enumerate([(-1, 0), (-2, 0), (-3, 0), (-1, 1)]):
                c = config.genome_config.connection_gene_type(key, innovation=i + 1)
                c.weight, c.enabled = 0.9 - 0.4 * i, True
                g.connections[key] = c
            assert_close(ours(en.from_neat(g, config), x), oracle(g, config, x))


def test_pruning_and_disabled_connections_as_neat_does(mutated):
    genomes, config = mutated
    for g in genomes:
        net = en.from_neat(g, config)
        enabled = [c.key for c in g.connections.values() if c.enabled]
        _, required = neat.graphs.feed_forward_layers(
            config.genome_config.input_keys, config.genome_config.output_keys, enabled)
        assert set(net) == required | set(config.genome_config.input_keys)
        assert set(net.edges) <= set(enabled)


def test_round_trip_evaluates_identically(mutated, xor_population):
    x = np.random.default_rng(2).uniform(-1.5, 1.5, (1000, 3))
    genomes, config = mutated
    for g in genomes[:20]:
        back = en.to_neat(en.from_neat(g, config), config)
        assert_close(oracle(back, config, x), oracle(g, config, x))
        assert set(back.nodes) <= set(g.nodes)
    genomes, config = xor_population
    g = genomes[0]
    back = en.to_neat(en.from_neat(g, config), config)
    assert back.key == g.key
    for k, c in back.connections.items():
        assert c.weight == pytest.approx(g.connections[k].weight, rel=1e-15)


def test_lamarckian_trained_weights_go_back(xor_population):
    """Adam trains an evolved genome; the genome to_neat writes computes the trained net."""
    genomes, config = xor_population
    g = max(genomes, key=lambda g: g.fitness or 0.0)
    model = en.compile(en.from_neat(g, config), dtype=torch.float64)
    x = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=torch.float64)
    y = torch.tensor([[0.0], [1.0], [1.0], [0.0]], dtype=torch.float64)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    before = ((model(x) - y) ** 2).sum().item()
    for _ in range(50):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).sum()
        loss.backward()
        opt.step()
    after = ((model(x) - y) ** 2).sum().item()
    assert after < before
    back = en.to_neat(model, config)
    with torch.no_grad():
        assert_close(oracle(back, config, x.numpy()), model(x).numpy())


def test_to_neat_relabels_a_handmade_network():
    net = en.Network()
    net.add_input("a")
    net.add_input("b")
    net.add_neuron("h", activation="neat_gauss", bias=0.3)
    net.add_neuron(5, activation="relu")
    net.add_output("y", activation="neat_sigmoid", aggregation="max", response=-0.5)
    net.add_edge("a", "h", weight=1.0)
    net.add_edge("b", 5, weight=-1.0)
    net.add_edge("h", "y", weight=2.0)
    net.add_edge(5, "y", weight=0.5)
    config = en.neat_config(activation_options=ACTIVATIONS, aggregation_options=AGGREGATIONS)
    g = en.to_neat(net, config)
    assert sorted(g.nodes) == [0, 5, 6]
    assert g.nodes[0].aggregation == "max" and g.nodes[0].response == -0.5
    x = np.random.default_rng(3).uniform(-2, 2, (100, 2))
    assert_close(ours(net, x), oracle(g, config, x))


def test_cyclic_genome_is_refused_with_the_reason():
    """A cyclic genome under a feed-forward config (test_neat_recurrent.py imports it as
    neat's RecurrentNetwork)."""
    config = en.neat_config()
    g = config.genome_type(3)
    gc = config.genome_config
    for k in (0, 1):
        node = gc.node_gene_type(k)
        node.init_attributes(gc)
        g.nodes[k] = node
    for i, key in enumerate([(-1, 1), (1, 0), (0, 1)]):
        c = gc.connection_gene_type(key, innovation=i + 1)
        c.weight, c.enabled = 1.0, True
        g.connections[key] = c
    with pytest.raises(en.CycleError, match=r"genome 3: .*cycle.*feed_forward = False.*"
                       r"from_neat\(genome, config, recurrent=True\)") as info:
        en.from_neat(g, config)
    assert set(info.value.cycle) == {0, 1}


def one_node_genome(config, key: int, **attributes):
    """Genome ``key`` holding output node 0 alone, with ``attributes`` set on it."""
    g = config.genome_type(key)
    node = config.genome_config.node_gene_type(0)
    node.init_attributes(config.genome_config)
    for name, value in attributes.items():
        setattr(node, name, value)
    g.nodes[0] = node
    return g


def test_unknown_activation_is_refused_naming_the_node():
    config = en.neat_config()
    config.genome_config.add_activation("bent", lambda z: z + 1)
    g = one_node_genome(config, 0, activation="bent")
    with pytest.raises(en.EdgenetError, match=r"node 0 has neat activation 'bent'.*neat_bent"):
        en.from_neat(g, config)
    en.register_activation("neat_bent", lambda z: z + 1, overwrite=True)
    net = en.from_neat(g, config)
    assert net.nodes[0]["activation"] == "neat_bent"


def test_to_neat_refusals():
    config = en.neat_config()
    net = en.Network()
    net.add_input("x")
    net.add_output("y", activation="gelu")
    net.add_edge("x", "y", weight=1.0)
    with pytest.raises(en.EdgenetError, match="has 1 inputs and 1 outputs; the neat config expects 2 and 1"):
        en.to_neat(net, en.neat_config(num_inputs=2))
    with pytest.raises(en.EdgenetError, match=r"node 'y' has activation 'gelu'"):
        en.to_neat(net, en.neat_config(num_inputs=1))
    net.nodes["y"]["activation"] = "neat_sigmoid"
    net.add_edge("x", "z")
    net.add_edge("z", "y")
    with pytest.raises(en.EdgenetError, match=r"edge \('x', 'z'\) has no weight"):
        en.to_neat(net, en.neat_config(num_inputs=1))
    with pytest.raises(en.EdgenetError, match="expected a neat.Config"):
        en.to_neat(net, object())
    del config


def test_compile_refuses_aggregation_and_response_naming_the_neuron():
    G = nx.DiGraph([("x", "y")])
    G.nodes["y"]["aggregation"] = "median"
    with pytest.raises(en.EdgenetError, match=r"node 'y' has aggregation 'median'.*compile_population"):
        en.compile(G)
    G.nodes["y"]["aggregation"] = "sum"
    G.nodes["y"]["response"] = 2.0
    with pytest.raises(en.EdgenetError, match=r"node 'y' has response 2.0"):
        en.compile(G)
    G.nodes["y"]["aggregation"] = "softmax"
    with pytest.raises(en.EdgenetError, match=r"node 'y' has aggregation 'softmax'; expected one of"):
        en.compile(G)


def test_custom_neat_aggregation_is_refused_naming_the_node():
    config = en.neat_config()
    config.genome_config.add_aggregation("softmax", lambda xs: sum(xs))
    g = one_node_genome(config, 4, aggregation="softmax")
    with pytest.raises(en.EdgenetError, match=r"genome 4, node 0 has aggregation 'softmax'; edgenet runs"):
        en.from_neat(g, config)


def test_to_neat_refuses_what_neat_cannot_hold():
    net = en.Network()
    net.add_input("x")
    net.add_output("y", activation="neat_bent2", aggregation="median")
    net.add_edge("x", "y", weight=1.0)
    en.register_activation("neat_bent2", lambda z: z - 1, overwrite=True)
    with pytest.raises(en.EdgenetError, match=r"node 'y' has activation 'neat_bent2', which neat-python's config does not know \(as 'bent2'\)"):
        en.to_neat(net, en.neat_config(num_inputs=1))
    with pytest.raises(en.EdgenetError, match="expected an edgenet.Network, networkx.DiGraph or compiled"):
        en.to_neat([("x", "y")], en.neat_config(num_inputs=1))
    cyclic = nx.DiGraph([("x", "a"), ("a", "b"), ("b", "a"), ("b", "y")])
    with pytest.raises(en.CycleError):
        en.to_neat(cyclic, en.neat_config(num_inputs=1))


def test_missing_neat_python_is_a_typed_error(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "neat", None)
    with pytest.raises(en.EdgenetError, match=r"pip install edgenet\[neat\]"):
        en.neat_config()


def test_compile_of_a_table_refuses_aggregation_naming_the_neuron():
    t = en.EdgeTable(["x"], ["y"], weight=[1.0],
                     nodes={"id": ["x", "y"], "aggregation": [None, "max"]})
    with pytest.raises(en.EdgenetError, match=r"node 'y' has aggregation 'max'"):
        en.compile(t)
    t = en.EdgeTable(["x"], ["y"], weight=[1.0],
                     nodes={"id": ["x", "y"], "aggregation": ["max", "sum"], "response": [2.0, 1.0]})
    assert en.compile(t, dtype=torch.float64)(torch.ones(1, 1, dtype=torch.float64)).item() == 1.0
