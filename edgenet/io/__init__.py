"""Import and export: GraphML, the native save format, and front doors from other tools.

>>> import edgenet.io as eio
>>> callable(eio.read_graphml) and callable(eio.save)
True
"""

from .graphml import read_graphml, write_graphml
from .matrices import from_connection_matrices
from .native import load, save
from .pyg import from_pyg, to_pyg
from .torch import from_torch

__all__ = [
    "from_connection_matrices",
    "from_pyg",
    "from_torch",
    "load",
    "read_graphml",
    "save",
    "to_pyg",
    "write_graphml",
]
