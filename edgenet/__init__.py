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
from .errors import CycleError, EdgenetError, FormatError, GraphMLError, InputError
from .graph.cycles import break_cycles
from .graph.network import Network, as_network
from .graph.validate import resolve_roles
from .graph.wiring import (
    layer_densities,
    local_mask,
    locally_connected,
    orient,
    random_mask,
    random_sparse,
    scale_free,
    small_world,
    sparse_mlp,
)
from .io.edgelist import read_edgelist, write_edgelist
from .io.export import ExportError, export_onnx, to_torch
from .io.graphml import read_graphml, write_graphml
from .io.matrices import from_connection_matrices
from .io.native import load, save
from .io.neat import from_neat, neat_config, to_neat
from .io.pyg import from_pyg, to_pyg
from .io.table import EdgeTable
from .io.torch import from_torch
from .model.columns import to_table
from .model.compile import compile
from .model.dag import CompiledNetwork
from .model.population import Population, compile_population
from .model.recurrent import RecurrentNetwork
from .model.schedulers import SET, GradualPruning, RigL
from .views.draw import draw

__version__ = "0.1.0"

__all__ = [
    "CompiledNetwork",
    "CycleError",
    "EdgeTable",
    "EdgenetError",
    "ExportError",
    "FormatError",
    "GradualPruning",
    "GraphMLError",
    "InputError",
    "Network",
    "Population",
    "RigL",
    "SET",
    "RecurrentNetwork",
    "activation_names",
    "as_network",
    "break_cycles",
    "compile",
    "compile_population",
    "draw",
    "export_onnx",
    "from_connection_matrices",
    "from_neat",
    "from_pyg",
    "from_torch",
    "get_activation",
    "layer_densities",
    "load",
    "local_mask",
    "neat_config",
    "locally_connected",
    "orient",
    "random_mask",
    "random_sparse",
    "register_activation",
    "read_edgelist",
    "read_graphml",
    "resolve_roles",
    "save",
    "scale_free",
    "small_world",
    "sparse_mlp",
    "to_neat",
    "to_pyg",
    "to_table",
    "write_edgelist",
    "to_torch",
    "write_graphml",
]
