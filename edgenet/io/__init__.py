"""Import and export: GraphML, the native save format, and front doors from other tools.

>>> import edgenet.io as eio
>>> callable(eio.read_graphml)
True
"""

from .graphml import read_graphml, write_graphml

__all__ = ["read_graphml", "write_graphml"]
