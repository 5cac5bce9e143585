"""Network builders shared by the tests: hypothesis strategies for random neuron DAGs
(engine tests), for networks with hostile ids and extreme floats (file tests), the XOR
network, and a small network with every kind of edge (the page's tests)."""

from __future__ import annotations

import struct

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


def xor_network(weight: float | None = None) -> en.Network:
    """The 2-4-1 XOR network with a skip edge x0 -> y; ``weight`` w gives the first layer
    w, the second -w and the skip edge 1 (no weights at all when None)."""
    net = en.Network()
    net.add_input("x0")
    net.add_input("x1")
    for h in ("h0", "h1", "h2", "h3"):
        net.add_neuron(h, activation="tanh")
    net.add_output("y", activation="sigmoid")
    if weight is None:
        net.connect(["x0", "x1"], ["h0", "h1", "h2", "h3"])
        net.connect(["h0", "h1", "h2", "h3"], ["y"])
        net.add_edge("x0", "y")
    else:
        net.connect(["x0", "x1"], ["h0", "h1", "h2", "h3"], weight=weight)
        net.connect(["h0", "h1", "h2", "h3"], ["y"], weight=-weight)
        net.add_edge("x0", "y", weight=1.0)
    return net


# --------------------------------------------------------------------------- for file tests

#: Finite floats with the hard cases written out: signed zeros, subnormals, the extremes.
EXTREME_FLOATS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
                     -1.7976931348623157e308, 1e-310, 0.1, 1 / 3]),
)
XML_CHARS = st.one_of(
    st.characters(exclude_categories=["Cs", "Cc", "Cn"]), st.sampled_from("\t\n\r")
)
XML_IDS = st.one_of(st.integers(-(2**70), 2**70), st.text(XML_CHARS, min_size=0, max_size=6))


def bits(x: float) -> bytes:
    """The 64 bits of ``x``: equal bits, equal float (signed zeros and NaNs included)."""
    return struct.pack("<d", x)


@st.composite
def graphml_networks(draw):
    """Networks whose ids are any int or any text XML can hold, with extreme floats."""
    n_in = draw(st.integers(1, 3))
    n_hidden = draw(st.integers(0, 5))
    n_out = draw(st.integers(1, 3))
    ids = draw(st.lists(XML_IDS, min_size=n_in + n_hidden + n_out,
                        max_size=n_in + n_hidden + n_out, unique_by=str))
    net = en.Network()
    acts = st.sampled_from(["relu", "tanh", "identity", "sigmoid"])
    for n in ids[:n_in]:
        net.add_input(n)
    for n in ids[n_in:n_in + n_hidden]:
        net.add_neuron(n, activation=draw(acts), bias=draw(EXTREME_FLOATS))
    for n in ids[n_in + n_hidden:]:
        net.add_output(n, activation=draw(acts), bias=draw(EXTREME_FLOATS))
    order = ids
    for j in range(n_in, len(order)):
        for i in range(j):
            if order[i] in ids[n_in + n_hidden:] and draw(st.booleans()):
                continue
            if draw(st.booleans()):
                net.add_edge(order[i], order[j], weight=draw(EXTREME_FLOATS))
    return net


@st.composite
def saved_networks(draw):
    """Networks with int64 or short text ids, extreme floats, and some edges without a
    weight, as :func:`edgenet.save` takes them."""
    n = draw(st.integers(2, 9))
    ids = draw(st.lists(st.one_of(st.integers(-(2**63), 2**63), st.text(max_size=4)),
                        min_size=n, max_size=n, unique=True))
    net = en.Network()
    net.add_input(ids[0])
    for v in ids[1:-1]:
        net.add_neuron(v, activation=draw(st.sampled_from(["relu", "tanh", "sin"])),
                       bias=draw(EXTREME_FLOATS))
    net.add_output(ids[-1], bias=draw(EXTREME_FLOATS))
    for j in range(1, n):
        for i in range(j):
            if i == 0 or draw(st.booleans()):
                if draw(st.integers(0, 9)):
                    net.add_edge(ids[i], ids[j], weight=draw(EXTREME_FLOATS))
                else:
                    net.add_edge(ids[i], ids[j])  # no weight yet
    return net


def every_edge_kind(self_loop: bool = False) -> en.Network:
    """Two inputs, a cycle through two neurons, a skip from an input to the output and,
    with ``self_loop``, a self-loop: every kind of edge a view draws apart."""
    net = en.Network()
    net.add_input("x0")
    net.add_input("x1")
    net.add_neuron("h", activation="tanh", bias=0.25)
    net.add_neuron("g", activation="relu")
    net.add_output("y", activation="sigmoid")
    net.add_edge("x0", "h", weight=0.5)
    net.add_edge("x1", "h", weight=-1.5)
    net.add_edge("h", "g", weight=2.0)
    net.add_edge("g", "h", weight=-0.75)  # feedback
    if self_loop:
        net.add_edge("g", "g", weight=0.1)
    net.add_edge("g", "y", weight=1.0)
    net.add_edge("x0", "y", weight=0.3)  # skip
    return net


# Names from a file, each aimed at one part of plotly's label markup (its tags, entities,
# `%{...}` templates, newlines) or at the page around it (its <script> blocks, comments).
LINK = '<a href="https://evil.example/phish">click-me</a>'
HOSTILE = {  # node name: activation
    LINK: '<span style="font-size:60px">big</span>',
    'say "hi" & <b>bold</b>': LINK,
    "p%{x}q %{customdata[1]} %{meta}": "%{meta}",
    "</script><script>window.pwned = 1</script>": 'say "hi"',
    "&amp; &lt; &#65; &quot; <extra>x</extra>": "<sup>up</sup><br>down",
    "$x^2$ 100% <!-- <script>": "<span style=font-size:60px>big</span>",
    "two  spaces\nand a newline": "<i>it</i> <em>em</em> <s>s</s> <u>u</u> <sub>d</sub>",
}
HOSTILE_TITLE = '<a href="https://evil.example">%{meta} say "hi"</a>'


def hostile(path) -> nx.DiGraph:
    """x -> each neuron of :data:`HOSTILE` -> y, written to GraphML at ``path`` and read back."""
    G = nx.DiGraph()
    for name, act in HOSTILE.items():
        G.add_node(name, activation=act)
        G.add_edge("x", name, weight=1.0)
        G.add_edge(name, "y", weight=-0.5)
    en.write_graphml(G, path)
    read = en.read_graphml(path)
    assert set(read.nodes) == {"x", "y", *HOSTILE}
    return read
