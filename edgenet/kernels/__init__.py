"""Kernels that run a compiled DAG forward and backward, behind one seam.

- :mod:`~edgenet.kernels.backends`: the registry every backend joins;
- :mod:`~edgenet.kernels.sparse`: the generation engine (a CSR or dense block per
  topological generation; CPU and CUDA), backend ``"generations"``;
- :mod:`~edgenet.kernels.fused`: the fused whole-DAG engine (numba, CPU) for deep,
  narrow DAGs, backend ``"fused"``;
- :mod:`~edgenet.kernels.cost`: the cost model that picks among them;
- :mod:`~edgenet.kernels.ops`: the ``edgenet::dag_forward`` / ``edgenet::dag_backward``
  custom ops that autograd and ``torch.compile`` see;
- :mod:`~edgenet.kernels.reference`: a plain-torch pass for higher-order derivatives.

>>> import torch
>>> from edgenet import kernels
>>> torch.ops.edgenet.dag_forward.default.name()
'edgenet::dag_forward'
"""

from . import backends, cost, fused, ops, reference, sparse

__all__ = ["backends", "cost", "fused", "ops", "reference", "sparse"]
