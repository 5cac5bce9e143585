"""Import and export: GraphML, the native save format, and front doors from other tools.

>>> import edgenet.io as eio
>>> callable(eio.read_graphml) and callable(eio.save)
True
"""

from .graphml import read_graphml, write_graphml
from .native import load, save

__all__ = ["load", "read_graphml", "save", "write_graphml"]
