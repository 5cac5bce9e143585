"""from_neat / to_neat of recurrent genomes (feed_forward = False) against neat-python's own
RecurrentNetwork, the oracle, over sequences of activate(x_t) calls.

Parity is 1e-12 (float64) at every step where the comparison means something: a recurrent
network can amplify rounding (neat's sigmoid, tanh, sin and gauss multiply their input by
2.5 or 5, so a loop easily has gain > 1), and where neat's own outputs move by more than
3e-13 when every weight changes by one part in 2**50, two exact implementations that round
differently (sum order, folded responses) part too. :func:`assert_parity` compares the
steps until neat's sensitivity passes that; hand-made and evolved genomes are checked over
every step, neat's random mutants (every activation: inv, exp and cube loops blow up) over
at least 75% of them (81% now).
"""

from __future__ import annotations

import copy
import random

import networkx as nx
import numpy as np
import pytest
import torch

import edgenet as en

neat = pytest.importorskip("neat")
from neat.nn import RecurrentNetwork  # noqa: E402
from test_neat import ACTIVATIONS, AGGREGATIONS, assert_close, mutants  # noqa: E402

STEPS = 25


def oracle(genome, config, x: np.ndarray) -> np.ndarray:
    """neat's RecurrentNetwork over each sequence of ``x`` (B, T, n_in), fresh per
    sequence: (B, T, n_out)."""
    out = []
    for seq in x.tolist():
        net = RecurrentNetwork.create(genome, config)
        out.append([net.activate(row) for row in seq])
    return np.array(out)


def sensitivity(genome, config, x: np.ndarray, want: np.ndarray) -> np.ndarray:
    """Per step, how far neat's own outputs move when every weight changes by 2**-50."""
    nudged = copy.deepcopy(genome)
    for c in nudged.connections.values():
        c.weight *= 1 + 2.0**-50
    return (np.abs(oracle(nudged, config, x) - want) / np.maximum(1.0, np.abs(want))).max(
        axis=(0, 2))  # (T,)


def assert_parity(got: np.ndarray, genome, config, x: np.ndarray, *,
                  every_step: bool = True) -> float:
    """``got`` (B, T, n_out) equals neat's RecurrentNetwork to 1e-12 at every step until
    neat's own outputs first amplify rounding past 3e-13 (all steps when ``every_step``);
    returns the fraction of steps compared."""
    want = oracle(genome, config, x)
    moved = sensitivity(genome, config, x, want)  # (T,)
    steps = int(np.argmax(moved > 3e-13)) if (moved > 3e-13).any() else len(moved)
    assert not every_step or steps == len(moved), f"genome {genome.key} amplifies rounding"
    assert_close(got[:, :steps], want[:, :steps])
    return steps / len(moved)


def ours(net, x: np.ndarray) -> np.ndarray:
    model = net if isinstance(net, torch.nn.Module) else en.compile(net, recurrent=True,
                                                                    dtype=torch.float64)
    with torch.no_grad():
        return model(torch.from_numpy(x)).numpy()  # (B, T, n_out)


def sequences(n_in: int, seed: int, batch: int = 8) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1.5, 1.5, (batch, STEPS, n_in))


def recurrent_config(**params):
    return en.neat_config(feed_forward=False, **params)


def handmade(config, key: int, nodes: dict, connections: dict):
    """A genome with ``nodes`` {key: (activation, bias, response)} and ``connections``
    {(a, b): weight, or (weight, enabled)}."""
    gc = config.genome_config
    g = config.genome_type(key)
    for k, (act, bias, response) in nodes.items():
        node = gc.node_gene_type(k)
        node.init_attributes(gc)
        node.activation, node.bias, node.response = act, bias, response
        g.nodes[k] = node
    for i, (k, w) in enumerate(connections.items()):
        weight, enabled = w if isinstance(w, tuple) else (w, True)
        c = gc.connection_gene_type(k, innovation=i + 1)
        c.weight, c.enabled = weight, enabled
        g.connections[k] = c
    return g


@pytest.fixture(scope="module")
def config():
    return recurrent_config(num_inputs=2, num_outputs=2, activation_options=ACTIVATIONS)


HANDMADE = {
    "self-loop": ({0: ("tanh", 0.2, 1.3), 1: ("sigmoid", -0.1, 0.8)},
                  {(-1, 0): 0.7, (0, 0): 0.9, (-2, 1): -1.1, (1, 1): -0.6}),
    "two-node cycle": ({0: ("sigmoid", 0.0, 1.0), 1: ("identity", 0.3, 1.0),
                        2: ("tanh", 0.1, 0.5), 3: ("sin", -0.2, 0.5)},
                       {(-1, 2): 1.2, (2, 3): 0.4, (3, 2): -0.6, (-2, 3): 0.4, (2, 0): 1.5,
                        (3, 1): -0.7}),
    "output feeds back to hidden": ({0: ("tanh", 0.05, 1.0), 1: ("relu", 0.2, -0.7),
                                     5: ("gauss", 0.0, 1.1)},
                                    {(-1, 5): 0.9, (-2, 5): -0.4, (5, 0): 1.3, (0, 5): -0.8,
                                     (0, 1): 0.6, (1, 1): 0.5, (-1, 1): 0.3}),
    # What neat's RecurrentNetwork never evaluates: 7 has no enabled incoming connection
    # (0 at every step, not act(bias)), output 1 neither (constant 0), 8 reaches no output,
    # (-2, 6) is disabled.
    "unevaluated nodes": ({0: ("sigmoid", 0.4, 1.0), 1: ("sigmoid", 0.9, 1.0),
                           6: ("tanh", 0.3, 1.0), 7: ("sigmoid", 2.0, 1.0),
                           8: ("tanh", 0.1, 1.0)},
                          {(-1, 6): 1.0, (6, 6): 0.5, (-2, 6): (2.0, False), (7, 6): 3.0,
                           (7, 0): 1.0, (6, 0): -1.2, (6, 8): 1.0, (8, 8): 0.4,
                           (-2, 0): (0.5, False)}),
}


@pytest.mark.parametrize("name", list(HANDMADE))
def test_parity_on_handmade_cyclic_genomes(config, name):
    g = handmade(config, 3, *HANDMADE[name])
    net = en.from_neat(g, config)
    assert not nx.is_directed_acyclic_graph(net)
    x = sequences(2, seed=len(name))
    assert_parity(ours(net, x), g, config, x)


def test_unevaluated_nodes_are_dropped_and_a_dead_output_is_constant_zero(config):
    g = handmade(config, 3, *HANDMADE["unevaluated nodes"])
    net = en.from_neat(g, config)
    assert set(net) == {-1, -2, 0, 1, 6}
    assert set(net.edges) == {(-1, 6), (6, 6), (6, 0)}
    assert net.nodes[1]["activation"] == "identity" and net.nodes[1]["bias"] == 0.0
    assert net.outputs == [0, 1] and net.graph["neat_key"] == 3


def test_responses_fold_into_weights(config):
    g = handmade(config, 3, *HANDMADE["self-loop"])
    net = en.from_neat(g, config)
    assert net.edges[0, 0]["weight"] == 0.9 * 1.3
    assert "response" not in net.nodes[0] and "aggregation" not in net.nodes[0]


def test_the_input_of_step_t_reaches_an_output_k_minus_1_steps_later(config):
    """A chain of k connections: neat's outputs lag by k - 1 steps, and so do ours."""
    g = handmade(config, 0, {0: ("identity", 0.0, 1.0), 1: ("identity", 0.0, 1.0),
                             4: ("identity", 0.0, 1.0)},
                 {(-1, 0): 1.0, (-2, 4): 1.0, (4, 1): 1.0})
    x = sequences(2, seed=9, batch=1)
    y = ours(en.from_neat(g, config), x)
    assert_close(y, oracle(g, config, x))
    assert_close(y[0, :, 0], x[0, :, 0])
    assert_close(y[0, 1:, 1], x[0, :-1, 1])
    assert y[0, 0, 1] == 0.0


@pytest.fixture(scope="module")
def mutated():
    """Recurrent genomes created and mutated by neat-python: self-loops from the start,
    cycles from mutation, every activation, responses that vary, disabled connections."""
    config = recurrent_config(
        num_inputs=3, num_outputs=2, activation_options=ACTIVATIONS, activation_mutate_rate=0.3,
        response_init_stdev=0.5, response_mutate_rate=0.5, response_mutate_power=0.5,
        node_add_prob=0.5, conn_add_prob=0.8, conn_delete_prob=0.1, node_delete_prob=0.05,
        enabled_mutate_rate=0.1, seed=13)
    return mutants(config, 40, 25, seed=13), config


def test_parity_on_genomes_mutated_by_neat(mutated):
    genomes, config = mutated
    nets = [en.from_neat(g, config) for g in genomes]
    loops = sum(any(a == b for a, b in net.edges) for net in nets)
    longer = sum(any(len(c) > 1 for c in nx.simple_cycles(net)) for net in nets)
    assert loops > 20 and longer > 10, (loops, longer)  # neat grew real recurrence
    assert any(not c.enabled for g in genomes for c in g.connections.values())
    x = sequences(3, seed=4)
    compared, overflows = [], 0
    for g, net in zip(genomes, nets):
        try:
            compared.append(assert_parity(ours(net, x), g, config, x, every_step=False))
        except OverflowError:  # neat's cube or exp grew past a float in the loop
            overflows += 1
    assert overflows <= 4 and sum(f == 1.0 for f in compared) >= 25, (overflows, compared)
    assert np.mean(compared) > 0.75, compared


def test_parity_on_a_population_evolved_by_neat():
    """Ten generations of neat evolving recurrent networks on a one-step memory task."""
    config = recurrent_config(num_inputs=1, num_outputs=1, activation_options=["tanh", "sigmoid"],
                              activation_mutate_rate=0.1, pop_size=50, seed=21,
                              no_fitness_termination=True, fitness_threshold=100.0)
    seq = np.random.default_rng(5).uniform(-1, 1, 12)

    def evaluate(genomes, config):
        for _, g in genomes:
            net = RecurrentNetwork.create(g, config)
            ys = [net.activate([v])[0] for v in seq]
            g.fitness = -sum((y - v) ** 2 for y, v in zip(ys[1:], seq[:-1]))

    random.seed(21)
    pop = neat.Population(config)
    pop.run(evaluate, 10)
    genomes = list(pop.population.values())
    assert max(len(g.nodes) for g in genomes) > 1
    x = sequences(1, seed=6)
    for g in genomes[:25]:
        assert_parity(ours(en.from_neat(g, config), x), g, config, x)


def test_round_trip_evaluates_identically(mutated, config):
    genomes, cfg = mutated
    x = sequences(3, seed=7)
    for g in genomes[:20]:
        back = en.to_neat(en.from_neat(g, cfg), cfg)
        assert back.key == g.key and set(back.nodes) <= set(g.nodes)
        try:
            assert_parity(oracle(back, cfg, x), g, cfg, x, every_step=False)
        except OverflowError:
            pass
    x = sequences(2, seed=8)
    for nodes, connections in HANDMADE.values():
        g = handmade(config, 3, nodes, connections)
        back = en.to_neat(en.from_neat(g, config), config)
        assert_parity(oracle(back, config, x), g, config, x)


def test_lamarckian_trained_recurrent_weights_go_back(mutated):
    """Adam trains an imported recurrent genome through time; the genome to_neat writes from
    the trained model computes it under neat's RecurrentNetwork."""
    genomes, config = mutated
    g = max(genomes, key=lambda g: len(g.connections))
    model = en.compile(en.from_neat(g, config), recurrent=True, dtype=torch.float64)
    x = torch.from_numpy(sequences(3, seed=10))
    target = torch.sin(x.cumsum(1)[..., :2])  # (B, T, 2)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    before = ((model(x) - target) ** 2).mean().item()
    for _ in range(30):
        opt.zero_grad()
        loss = ((model(x) - target) ** 2).mean()
        loss.backward()
        opt.step()
    assert ((model(x) - target) ** 2).mean().item() < before
    back = en.to_neat(model, config)
    assert assert_parity(ours(model, x.numpy()), back, config, x.numpy(),
                         every_step=False) > 0.5


def test_to_neat_gives_a_neuron_without_inputs_a_zero_self_loop(config):
    """edgenet computes act(bias) for a neuron without inputs; neat's RecurrentNetwork leaves
    it at 0 unless a connection makes neat evaluate it."""
    net = en.Network()
    for k in ("a", "b"):
        net.add_input(k)
    net.add_neuron("h", activation="neat_sigmoid", bias=0.5)
    net.add_neuron("z", activation="relu", bias=-1.0)  # act(bias) == 0: no loop needed
    net.add_output("y", activation="neat_tanh")
    net.add_output("q", activation="neat_sigmoid", bias=0.2)
    net.add_edge("a", "y", weight=0.5)
    net.add_edge("h", "y", weight=1.5)
    net.add_edge("z", "y", weight=2.0)
    net.add_edge("y", "y", weight=-0.5)
    g = en.to_neat(net, config)
    h, z, q = 2, 3, 1
    assert (h, h) in g.connections and g.connections[h, h].weight == 0.0
    assert (q, q) in g.connections and (z, z) not in g.connections
    x = sequences(2, seed=11)
    assert_parity(ours(net, x), g, config, x)


def test_non_sum_aggregation_is_refused_naming_the_node_or_imported_when_exact():
    """neat mutates aggregations too: a non-sum node over several connections is refused by
    name; over one connection every built-in aggregation is the identity, so it imports."""
    config = recurrent_config(
        num_inputs=2, num_outputs=1, aggregation_options=AGGREGATIONS,
        aggregation_mutate_rate=0.3, node_add_prob=0.6, conn_add_prob=0.5, seed=17)
    genomes = mutants(config, 40, 10, seed=17)
    x = sequences(2, seed=12)
    imported = refused = folded = 0
    for g in genomes:
        try:
            net = en.from_neat(g, config)
        except en.EdgenetError as err:
            refused += 1
            assert f"genome {g.key!r}, node " in str(err)
            n = int(str(err).split("node ")[1].split(" ")[0])
            agg = g.nodes[n].aggregation
            assert agg != "sum" and f"has aggregation {agg!r} over" in str(err)
            continue
        imported += 1
        folded += any(g.nodes[n].aggregation != "sum" for n in net if n >= 0)
        assert_parity(ours(net, x), g, config, x, every_step=False)
    assert imported and refused and folded, (imported, refused, folded)


def test_non_sum_aggregation_refusal_message(config):
    g = handmade(config, 4, *HANDMADE["self-loop"])
    g.nodes[0].aggregation = "max"
    with pytest.raises(en.EdgenetError, match=r"genome 4, node 0 has aggregation 'max' over 2 "
                       r"connections; edgenet's recurrent networks sum .*aggregation_options = sum"):
        en.from_neat(g, config)


def test_the_config_chooses_the_network_and_recurrent_overrides_it(config):
    g = handmade(config, 3, *HANDMADE["two-node cycle"])
    with pytest.raises(en.CycleError, match=r"genome 3: .*recurrent=True") as info:
        en.from_neat(g, config, recurrent=False)
    assert set(info.value.cycle) == {2, 3}
    ff = en.neat_config(num_inputs=2, num_outputs=2, activation_options=ACTIVATIONS)
    with pytest.raises(en.CycleError, match=r"genome 3: .*feed_forward = False"):
        en.from_neat(g, ff)
    net = en.from_neat(g, ff, recurrent=True)
    x = sequences(2, seed=13)
    assert_parity(ours(net, x), g, config, x)
    with pytest.raises(en.CycleError, match=r"feed_forward = True.*RecurrentNetwork"):
        en.to_neat(net, ff)
    with pytest.raises(en.EdgenetError, match=r"recurrent is 'yes'; expected True"):
        en.from_neat(g, config, recurrent="yes")


def test_to_neat_refuses_a_time_constant_neat_cannot_hold(config):
    net = en.from_neat(handmade(config, 3, *HANDMADE["self-loop"]), config)
    net.nodes[0]["tau"] = 4.0
    with pytest.raises(en.EdgenetError, match=r"node 0 has tau=4.0; neat's RecurrentNetwork "
                       r"moves every node all the way"):
        en.to_neat(en.compile(net, recurrent=True), config)
    net.nodes[0]["tau"] = 1.0
    assert en.to_neat(net, config).nodes[0].activation == "tanh"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_parity_on_cuda(mutated, config):
    """The recurrent engine on CUDA (torch's CSR ops) runs imported genomes as on the CPU."""
    genomes, cfg = mutated
    x = sequences(3, seed=4)
    for g in genomes[:15]:
        gpu = en.compile(en.from_neat(g, cfg), recurrent=True, dtype=torch.float64,
                         device="cuda")
        with torch.no_grad():
            got = gpu(torch.from_numpy(x).cuda()).cpu().numpy()  # (B, T, n_out)
        assert_parity(got, g, cfg, x, every_step=False)
    for nodes, connections in HANDMADE.values():
        g = handmade(config, 3, nodes, connections)
        model = en.compile(en.from_neat(g, config), recurrent=True, dtype=torch.float64,
                           device="cuda")
        x = sequences(2, seed=5)
        with torch.no_grad():
            assert_parity(model(torch.from_numpy(x).cuda()).cpu().numpy(), g, config, x)
