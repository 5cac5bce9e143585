"""Kernels that run a compiled DAG forward and backward.

- :mod:`~edgenet.kernels.sparse`: the generation engine (a CSR or dense block per
  topological generation);
- :mod:`~edgenet.kernels.fused`: the fused whole-DAG engine (numba, CPU) for deep,
  narrow DAGs;
- :mod:`~edgenet.kernels.cost`: the cost model that picks between them;
- :mod:`~edgenet.kernels.ops`: the ``edgenet::dag_forward`` / ``edgenet::dag_backward``
  custom ops that autograd and ``torch.compile`` see.

>>> import torch
>>> from edgenet import kernels
>>> torch.ops.edgenet.dag_forward.default.name()
'edgenet::dag_forward'
"""

from . import cost, fused, ops, sparse

__all__ = ["cost", "fused", "ops", "sparse"]
