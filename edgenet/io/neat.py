r"""neat-python genomes in and out: :func:`from_neat` and :func:`to_neat`.

A neat-python ``DefaultGenome`` node computes ``act(bias + response * agg(w_i x_i))``
over its enabled incoming connections. :func:`from_neat` builds the :class:`~edgenet.Network`
that ``neat.nn.FeedForwardNetwork.create(genome, config)`` evaluates (under a
``feed_forward = False`` config, or with ``recurrent=True``, the one
``neat.nn.RecurrentNetwork.create`` evaluates, to compile with ``recurrent=True``; see
:func:`from_neat` for its time steps and what differs from the list below):

- input nodes are ``config.genome_config.input_keys`` (negative ints) and outputs
  ``output_keys`` (0, 1, ...), in that order; hidden nodes keep their int keys;
- disabled connections are dropped, and so is every node that no output needs,
  exactly as neat's ``graphs.feed_forward_layers`` / ``required_for_output`` prune;
- a summing neuron gets its ``response`` folded into its incoming weights
  (``weight = w * response``: one parameter per edge, the same function); a neuron
  with another aggregation keeps the node attributes ``aggregation`` and ``response``
  (:mod:`edgenet.model.aggregate` runs it);
- activations: neat's ``relu``, ``elu``, ``identity``, ``abs`` and ``square`` are
  edgenet's built-ins of that name; every other name ``f`` becomes ``neat_f``
  (neat's built-ins are edgenet built-ins, e.g. ``neat_sigmoid`` is ``1 / (1 +
  exp(-clamp(5z, -60, 60)))``; register your own for a custom neat function).

:func:`to_neat` goes back (Lamarckian evolution: a network trained by gradient descent
re-enters the population). neat-python is an optional dependency (``pip install
edgenet[neat]``), imported only inside these functions.

>>> import math, torch, edgenet as en
>>> net = en.Network(); net.add_input(-1); net.add_output(0, activation="neat_sigmoid")
>>> net.add_edge(-1, 0, weight=1.0)
>>> y = net.compile(dtype=torch.float64)(torch.tensor([0.2], dtype=torch.float64)).item()
>>> abs(y - 1 / (1 + math.exp(-5 * 0.2))) < 1e-15
True
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import networkx as nx

from ..activations import get_activation
from ..errors import CycleError, EdgenetError
from ..graph.network import Network
from ..graph.validate import (
    AGGREGATIONS,
    DEFAULT_ACTIVATION,
    aggregation,
    real,
    resolve_roles,
    time_constant,
)

#: neat-python activations that are edgenet built-ins under the same name.
SAME = ("relu", "elu", "identity", "abs", "square")


def _neat() -> Any:
    try:
        import neat
    except ImportError:
        raise EdgenetError(
            "neat-python is not installed; install it with pip install edgenet[neat] "
            "(or pip install neat-python)"
        ) from None
    return neat


#: The parameters :func:`neat_config` starts from: neat-python's XOR example, sigmoid
#: activations, sum aggregation, response 1.
DEFAULTS: dict[str, dict[str, Any]] = {
    "NEAT": {"fitness_criterion": "max", "fitness_threshold": 3.9, "pop_size": 150,
             "reset_on_extinction": False, "no_fitness_termination": False},
    "DefaultGenome": {
        "activation_default": "sigmoid", "activation_mutate_rate": 0.0,
        "activation_options": "sigmoid", "aggregation_default": "sum",
        "aggregation_mutate_rate": 0.0, "aggregation_options": "sum",
        "bias_init_mean": 0.0, "bias_init_stdev": 1.0, "bias_max_value": 30.0,
        "bias_min_value": -30.0, "bias_mutate_power": 0.5, "bias_mutate_rate": 0.7,
        "bias_replace_rate": 0.1, "compatibility_disjoint_coefficient": 1.0,
        "compatibility_weight_coefficient": 0.5, "conn_add_prob": 0.5, "conn_delete_prob": 0.5,
        "enabled_default": True, "enabled_mutate_rate": 0.01, "feed_forward": True,
        "initial_connection": "full", "node_add_prob": 0.2, "node_delete_prob": 0.2,
        "num_hidden": 0, "num_inputs": 2, "num_outputs": 1, "response_init_mean": 1.0,
        "response_init_stdev": 0.0, "response_max_value": 30.0, "response_min_value": -30.0,
        "response_mutate_power": 0.0, "response_mutate_rate": 0.0, "response_replace_rate": 0.0,
        "weight_init_mean": 0.0, "weight_init_stdev": 1.0, "weight_max_value": 30,
        "weight_min_value": -30, "weight_mutate_power": 0.5, "weight_mutate_rate": 0.8,
        "weight_replace_rate": 0.1,
    },
    "DefaultSpeciesSet": {"compatibility_threshold": 3.0},
    "DefaultStagnation": {"species_fitness_func": "max", "max_stagnation": 20,
                          "species_elitism": 2},
    "DefaultReproduction": {"elitism": 2, "survival_threshold": 0.2},
}


def neat_config(**params: Any) -> Any:
    """A ``neat.Config`` (``DefaultGenome``, ``DefaultReproduction``, ``DefaultSpeciesSet``,
    ``DefaultStagnation``) from :data:`DEFAULTS` with ``params`` overriding any entry by
    name, without writing a config file yourself. Lists become neat's space-separated
    options.

    >>> import edgenet as en
    >>> config = en.neat_config(num_inputs=3, activation_options=["tanh", "relu"], seed=1)
    >>> config.genome_config.input_keys, config.genome_config.activation_options
    ([-1, -2, -3], ['tanh', 'relu'])
    """
    import os
    import tempfile

    neat = _neat()
    sections = {name: dict(values) for name, values in DEFAULTS.items()}
    for name, value in params.items():
        owner = next((v for v in sections.values() if name in v), None)
        if owner is None:
            owner = sections["NEAT" if name in ("seed", "no_fitness_termination")
                             else "DefaultGenome"]
        owner[name] = value
    genome = sections["DefaultGenome"]
    for gene in ("activation", "aggregation"):  # a default among the options given
        if f"{gene}_options" in params and f"{gene}_default" not in params:
            options = genome[f"{gene}_options"]
            genome[f"{gene}_default"] = "random" if isinstance(options, (list, tuple)) else options

    def text(value: Any) -> str:
        return " ".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)

    lines = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {text(v)}" for k, v in values.items()]
    fd, path = tempfile.mkstemp(suffix=".cfg", text=True)
    try:
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(lines) + "\n")
        return neat.Config(neat.DefaultGenome, neat.DefaultReproduction, neat.DefaultSpeciesSet,
                           neat.DefaultStagnation, path)
    finally:
        os.unlink(path)


def _genome_config(config: Any) -> Any:
    """``config.genome_config`` of a ``neat.Config``, or the genome config itself."""
    gc = getattr(config, "genome_config", config)
    if not hasattr(gc, "input_keys") or not hasattr(gc, "output_keys"):
        raise EdgenetError(
            f"expected a neat.Config or its genome_config (got {type(config).__name__})"
        )
    return gc


def edgenet_activation(name: str) -> str:
    """The edgenet activation for neat-python's activation ``name``.

    >>> edgenet_activation("sigmoid"), edgenet_activation("relu")
    ('neat_sigmoid', 'relu')
    """
    return name if name in SAME else "neat_" + name


def neat_activation(name: str) -> str | None:
    """neat-python's name for the edgenet activation ``name``, or None when neat has none.

    >>> neat_activation("neat_sigmoid"), neat_activation("identity"), neat_activation("gelu")
    ('sigmoid', 'identity', None)
    """
    if name in SAME:
        return name
    return name[len("neat_"):] if name.startswith("neat_") else None


def _required(inputs: list[int], outputs: list[int],
              connections: list[tuple[int, int]]) -> set[int]:
    """The nodes neat-python's ``graphs.required_for_output`` keeps: the outputs and every
    non-input node from which an output can be reached, found here in linear time (neat's
    own walk rescans every connection per step)."""
    preds: dict[int, list[int]] = {}
    for a, b in connections:
        preds.setdefault(b, []).append(a)
    seen, stack = set(outputs), list(outputs)
    while stack:
        for a in preds.get(stack.pop(), ()):
            if a not in seen:
                seen.add(a)
                stack.append(a)
    return seen - set(inputs)


def _activation(genome: Any, n: int, gene: Any) -> str:
    """The edgenet activation of neat node gene ``gene`` (key ``n``), refused by name
    when edgenet has not registered it."""
    act = edgenet_activation(gene.activation)
    try:
        get_activation(act)
    except EdgenetError:
        raise EdgenetError(
            f"genome {genome.key!r}, node {n!r} has neat activation {gene.activation!r}, "
            f"which edgenet knows as {act!r} and has not registered; register it with "
            f"edgenet.register_activation({act!r}, torch_fn)"
        ) from None
    return act


def from_neat(genome: Any, config: Any, *, recurrent: bool | None = None) -> Network:
    """The :class:`~edgenet.Network` that computes what neat-python's network of
    ``genome`` computes (see the module docstring for how genes become nodes, edges and
    attributes).

    ``config`` is a ``neat.Config`` (or its ``genome_config``). ``recurrent`` (default:
    ``not feed_forward``, from the config) says which of neat's networks to match:

    - ``recurrent=False``: ``neat.nn.FeedForwardNetwork.create(genome, config)``, for
      ``net.compile()``. A genome whose enabled connections form a cycle among the nodes
      its outputs need is refused with a :class:`~edgenet.CycleError` (neat's
      ``FeedForwardNetwork`` would silently drop those nodes).
    - ``recurrent=True``: ``neat.nn.RecurrentNetwork.create(genome, config)``, cycles and
      self-loops included, for ``net.compile(recurrent=True)``; the sequence of
      ``activate(x_t)`` calls of a fresh (or ``reset()``) neat network is the model's
      output on ``x`` of shape ``(B, T, n_in)`` (default ``dt = 1``, ``h0 = 0``). Both
      update every node synchronously, ``h_t = act(bias + response * sum_u w_u s_u)``,
      where ``s_u`` is the input ``x_t`` for an input node and the previous step's
      ``h_{t-1}`` for any other node, from ``h_0 = 0``; so a path of ``k`` connections
      reaches an output ``k - 1`` steps later. What neat never evaluates is dropped:
      a node with no enabled incoming connection stays 0 in neat's network, so its
      outgoing connections add nothing and it goes, and such an output becomes an
      ``identity`` output with bias 0 (constant 0); then every node from which no output
      can be reached goes. edgenet's recurrent model sums, so a node must aggregate with
      ``sum``, or any of neat's built-in aggregations over a single connection (which is
      the same function); any other is refused, naming the node. Responses fold into
      the weights as for a DAG.

    An activation edgenet does not know raises an :class:`~edgenet.EdgenetError` naming
    the node; nothing is built.

    >>> import neat, torch, edgenet as en
    >>> config = en.neat_config(num_inputs=2, num_outputs=1, seed=3)
    >>> genome = config.genome_type(1)
    >>> config.genome_config.innovation_tracker = neat.innovation.InnovationTracker()
    >>> genome.configure_new(config.genome_config)
    >>> net = en.from_neat(genome, config)
    >>> net.inputs, net.outputs, net.nodes[0]["activation"]
    ([-1, -2], [0], 'neat_sigmoid')
    >>> x = [0.5, -1.0]
    >>> model = net.compile(dtype=torch.float64)
    >>> ff = neat.nn.FeedForwardNetwork.create(genome, config)
    >>> abs(model(torch.tensor(x, dtype=torch.float64)).item() - ff.activate(x)[0]) < 1e-12
    True

    A recurrent genome (``feed_forward = False``: neat's initial genome has a self-loop
    on every node) against ``neat.nn.RecurrentNetwork`` over 20 steps:

    >>> config = en.neat_config(num_inputs=2, feed_forward=False, seed=3)
    >>> config.genome_config.innovation_tracker = neat.innovation.InnovationTracker()
    >>> genome = config.genome_type(2)
    >>> genome.configure_new(config.genome_config)
    >>> sorted(genome.connections)
    [(-2, 0), (-1, 0), (0, 0)]
    >>> rnn = en.from_neat(genome, config).compile(recurrent=True, dtype=torch.float64)
    >>> xs = torch.rand(1, 20, 2, dtype=torch.float64)   # (B, T, n_in)
    >>> theirs = neat.nn.RecurrentNetwork.create(genome, config)
    >>> want = [theirs.activate(x)[0] for x in xs[0].tolist()]
    >>> max(abs(a - b) for a, b in zip(rnn(xs)[0, :, 0].tolist(), want)) < 1e-12
    True
    """
    gc = _genome_config(config)
    if recurrent is None:
        recurrent = not getattr(gc, "feed_forward", True)
    elif not isinstance(recurrent, bool):
        raise EdgenetError(f"recurrent is {recurrent!r}; expected True (neat's "
                           "RecurrentNetwork), False (its FeedForwardNetwork) or None (the "
                           "config's feed_forward decides)")
    if recurrent:
        return _from_neat_recurrent(genome, gc)
    inputs, outputs = list(gc.input_keys), list(gc.output_keys)
    connections = [cg.key for cg in genome.connections.values() if cg.enabled]
    required = _required(inputs, outputs, connections)
    needed = nx.DiGraph((a, b) for a, b in connections if a in required and b in required)
    needed.add_nodes_from(required)
    try:
        order = [sorted(gen) for gen in nx.topological_generations(needed)]
    except nx.NetworkXUnfeasible:
        err = CycleError([u for u, _ in nx.find_cycle(needed)])
        err.args = (f"genome {genome.key!r}: its enabled connections form a cycle among "
                    f"nodes its outputs need (a feed_forward = False genome), which neat's "
                    f"FeedForwardNetwork cannot evaluate either; import it as neat's "
                    f"RecurrentNetwork with from_neat(genome, config, recurrent=True) (the "
                    f"default for a feed_forward = False config) and compile that with "
                    f"recurrent=True; {err}",)
        raise err from None
    net = Network(neat_key=genome.key)
    for k in inputs:
        net.add_input(k)
    hidden = [n for gen in order for n in gen if n not in set(outputs)]
    response: dict[int, float] = {}
    for n in outputs + hidden:
        gene = genome.nodes[n]
        attrs: dict[str, Any] = {"activation": _activation(genome, n, gene),
                                 "bias": float(gene.bias)}
        if gene.aggregation != "sum":
            if gene.aggregation not in AGGREGATIONS:
                raise EdgenetError(
                    f"genome {genome.key!r}, node {n!r} has aggregation {gene.aggregation!r}; "
                    f"edgenet runs neat's built-in aggregations: {', '.join(AGGREGATIONS)}"
                )
            attrs.update(aggregation=gene.aggregation, response=float(gene.response))
        else:
            response[n] = float(gene.response)
        if n in outputs:
            net.add_output(n, **attrs)
        else:
            net.add_neuron(n, **attrs)
    sources = required | set(inputs)
    for a, b in connections:
        if b in required and a in sources:
            w = float(genome.connections[(a, b)].weight)
            net.add_edge(a, b, weight=w * response[b] if b in response else w)
    return net


def _from_neat_recurrent(genome: Any, gc: Any) -> Network:
    """:func:`from_neat` with ``recurrent=True``: the network of
    ``neat.nn.RecurrentNetwork.create(genome, config)``."""
    inputs, outputs = list(gc.input_keys), list(gc.output_keys)
    input_set = set(inputs)
    links: dict[int, list[int]] = {}  # neat's node_inputs: the nodes it evaluates, their sources
    for cg in genome.connections.values():
        a, b = cg.key
        if cg.enabled and b not in input_set:  # neat sets an input to x_t whatever feeds it
            links.setdefault(b, []).append(a)
    live = input_set | set(links)  # every other node is 0 at every step in neat's network
    connections = [(a, b) for b, sources in links.items() for a in sources if a in live]
    required = _required(inputs, outputs, connections)
    for n in sorted(required & set(links)):
        agg = genome.nodes[n].aggregation
        if agg != "sum" and not (agg in AGGREGATIONS and len(links[n]) == 1):
            raise EdgenetError(
                f"genome {genome.key!r}, node {n!r} has aggregation {agg!r} over "
                f"{len(links[n])} connections; edgenet's recurrent networks sum a neuron's "
                f"weighted inputs, so a recurrent genome imports with aggregation 'sum' only "
                f"(or one of neat's built-in aggregations over a single connection, which is "
                f"the same function): evolve with aggregation_options = sum"
            )
    net = Network(neat_key=genome.key)
    for k in inputs:
        net.add_input(k)
    response: dict[int, float] = {}
    for n in outputs + sorted(required - set(outputs)):
        if n not in links:  # an output neat never evaluates: constant 0
            net.add_output(n, activation="identity", bias=0.0)
            continue
        gene = genome.nodes[n]
        act, bias = _activation(genome, n, gene), float(gene.bias)
        response[n] = float(gene.response)
        if n in outputs:
            net.add_output(n, activation=act, bias=bias)
        else:
            net.add_neuron(n, activation=act, bias=bias)
    for a, b in connections:
        if b in required:
            w = float(genome.connections[(a, b)].weight)
            net.add_edge(a, b, weight=w * response[b])
    return net


def _as_network(network: Any) -> nx.DiGraph:
    from ..model.base import is_model

    if is_model(network):
        return network.to_network()
    if not isinstance(network, nx.DiGraph):
        raise EdgenetError(
            f"expected an edgenet.Network, networkx.DiGraph or compiled network (got "
            f"{type(network).__name__})"
        )
    return network


def to_neat(network: Any, config: Any, *, key: Hashable | None = None) -> Any:
    """A neat-python genome that computes what ``network`` computes: the way back from
    :func:`from_neat`, so a network trained by gradient descent can re-enter evolution.

    ``network`` is a graph (or a compiled model, DAG or recurrent: its current weights
    are used). Its inputs and outputs, in order, become ``config``'s input and output
    keys; a hidden node keeps its key when it is a non-negative int no other node uses,
    and gets a new one otherwise. Every neuron's activation must have a neat-python name (see
    :func:`neat_activation`) that ``config`` knows; summing neurons get response 1 (their
    weights carry it), the others their ``response``. Connection genes take innovation
    numbers from ``config``'s innovation tracker when a ``neat.Population`` has set one,
    else from a fresh tracker. ``key`` defaults to the network's ``neat_key`` graph
    attribute (set by :func:`from_neat`), else 0.

    With a ``feed_forward = False`` config the genome is for ``neat.nn.RecurrentNetwork``
    and matches ``network.compile(recurrent=True)`` (see :func:`from_neat`): cycles and
    self-loops are kept, and a neuron with no incoming edge, which neat's recurrent
    network would leave at 0, gets a self-connection of weight 0 so that neat computes
    its ``act(bias)`` (unless that is 0); a neuron with a time constant ``tau`` other
    than 1 is refused (neat's network has none). A feed-forward config refuses a cyclic
    network with a :class:`~edgenet.CycleError`.

    >>> import edgenet as en
    >>> net = en.Network(); net.add_input("x"); net.add_output("y", activation="neat_tanh")
    >>> net.add_edge("x", "y", weight=0.5)
    >>> g = en.to_neat(net, en.neat_config(num_inputs=1, activation_options="tanh"))
    >>> sorted(g.connections), g.nodes[0].activation, g.connections[(-1, 0)].weight
    ([(-1, 0)], 'tanh', 0.5)
    """
    neat = _neat()
    gc = _genome_config(config)
    G = _as_network(network)
    ins, outs = resolve_roles(G)
    if (len(ins), len(outs)) != (len(gc.input_keys), len(gc.output_keys)):
        raise EdgenetError(
            f"the network has {len(ins)} inputs and {len(outs)} outputs; the neat config "
            f"expects {len(gc.input_keys)} and {len(gc.output_keys)}"
        )
    recurrent = not getattr(gc, "feed_forward", True)
    if not recurrent and not nx.is_directed_acyclic_graph(G):
        err = CycleError([u for u, _ in nx.find_cycle(G)])
        err.args = (f"the neat config has feed_forward = True, whose genomes neat evaluates "
                    f"with FeedForwardNetwork, which drops cycles; pass a config with "
                    f"feed_forward = False for a genome of neat's RecurrentNetwork; {err}",)
        raise err
    keys: dict[Hashable, int] = dict(zip(ins, gc.input_keys))
    keys.update(zip(outs, gc.output_keys))
    taken = set(keys.values())
    hidden = [n for n in G if n not in keys]
    for n in hidden:
        if isinstance(n, int) and not isinstance(n, bool) and n >= 0 and n not in taken:
            keys[n] = n
            taken.add(n)
    fresh = max(taken | {len(gc.output_keys) - 1}) + 1
    for n in hidden:
        if n not in keys:
            keys[n] = fresh
            fresh += 1

    genome_type = getattr(config, "genome_type", neat.DefaultGenome)
    genome = genome_type(G.graph.get("neat_key", 0) if key is None else key)
    out_set = set(outs)
    for n in [*outs, *hidden]:
        role = "output" if n in out_set else "hidden"
        act = G.nodes[n].get("activation") or DEFAULT_ACTIVATION[role]
        bias = G.nodes[n].get("bias")
        bias = 0.0 if bias is None else real(bias, f"bias of node {n!r}")
        name = neat_activation(act)
        if name is None or not gc.activation_defs.is_valid(name):
            raise EdgenetError(
                f"node {n!r} has activation {act!r}, which neat-python's config does not "
                f"know (as {name!r}); use one of neat's: "
                f"{', '.join(sorted(edgenet_activation(a) for a in gc.activation_defs.functions))}"
            )
        agg, response = aggregation(G, n)  # neat-python defines all of AGGREGATIONS
        tau = time_constant(G.nodes[n].get("tau"), f"tau of node {n!r}") if recurrent else 1.0
        if tau != 1.0:
            raise EdgenetError(
                f"node {n!r} has tau={tau!r}; neat's RecurrentNetwork moves every node all the "
                f"way to its new value each step, which is tau = 1 (with dt = 1): remove the "
                f"node's tau attribute, or keep the network in edgenet"
            )
        gene = gc.node_gene_type(keys[n])
        gene.init_attributes(gc)
        gene.bias, gene.response, gene.activation, gene.aggregation = bias, response, name, agg
        genome.nodes[keys[n]] = gene
    tracker = gc.innovation_tracker or neat.innovation.InnovationTracker()
    edges = list(G.edges(data="weight"))
    if recurrent:  # neat's RecurrentNetwork evaluates only nodes with incoming connections
        for n in [*outs, *hidden]:
            gene = genome.nodes[keys[n]]
            if G.in_degree(n) == 0 and gc.activation_defs.get(gene.activation)(gene.bias) != 0:
                edges.append((n, n, 0.0))
    for u, v, w in edges:
        if w is None:
            raise EdgenetError(f"edge ({u!r}, {v!r}) has no weight; compile the network (which "
                               "initialises missing weights) and pass the compiled model")
        a, b = keys[u], keys[v]
        gene = gc.connection_gene_type((a, b), innovation=tracker.get_innovation_number(a, b))
        gene.weight, gene.enabled = float(w), True
        genome.connections[(a, b)] = gene
    return genome
