"""edgenet: neural networks whose connectivity is a graph.

A network is a NetworkX DAG of single neurons whose edges carry weights; layers
and skip connections fall out of the topology. :func:`compile` turns it into a
``torch.nn.Module`` running sparse message passing, and ``to_network`` puts the
trained weights back onto a graph.

>>> import torch, edgenet as en
>>> net = en.Network()
>>> net.add_input("x"); net.add_neuron("h"); net.add_output("y")
>>> net.add_edge("x", "h", weight=1.0); net.add_edge("h", "y", weight=1.0)
>>> net.add_edge("x", "y", weight=0.5)
>>> net.compile()(torch.tensor([[2.0]])).item()
3.0
"""

from .activations import activation_names, get_activation, register_activation
from .compile import compile
from .draw import draw
from .errors import CycleError, EdgenetError, InputError
from .module import CompiledNetwork
from .network import Network, as_network
from .validate import resolve_roles

__version__ = "0.1.0"

__all__ = [
    "CompiledNetwork",
    "CycleError",
    "EdgenetError",
    "InputError",
    "Network",
    "activation_names",
    "as_network",
    "compile",
    "draw",
    "get_activation",
    "register_activation",
    "resolve_roles",
]
