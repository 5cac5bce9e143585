"""Kernels that run a compiled DAG forward and backward, behind one seam.

- :mod:`~edgenet.kernels.backends`: the registry every backend joins;
- :mod:`~edgenet.kernels.sparse`: the generation engine (a CSR or dense block per
  topological generation; CPU and CUDA), backend ``"generations"``;
- :mod:`~edgenet.kernels.fused`: the fused whole-DAG engine (numba, CPU) for deep,
  narrow DAGs, backend ``"fused"``;
- :mod:`~edgenet.kernels.triton`: the Triton whole-DAG kernels (CUDA, or CPU under
  Triton's interpreter), backend ``"triton"``, registered here and imported on first use;
- :mod:`~edgenet.kernels.recurrent`: the walk through time of a recurrent network, over
  the sparse products a backend registers (the generation engine's: numba on the CPU,
  torch's CSR ops on CUDA);
- :mod:`~edgenet.kernels.cost`: the cost model that picks among them;
- :mod:`~edgenet.kernels.ops`: the ``edgenet::dag_forward`` / ``edgenet::dag_backward``
  custom ops that autograd and ``torch.compile`` see;
- :mod:`~edgenet.kernels.reference`: a plain-torch pass for higher-order derivatives.

>>> import torch
>>> from edgenet import kernels
>>> torch.ops.edgenet.dag_forward.default.name()
'edgenet::dag_forward'
"""

import importlib.util
from typing import Any

from . import backends, cost, fused, ops, recurrent, reference, sparse


def _triton(name: str) -> Any:
    """``edgenet.kernels.triton.<name>``, importing triton only when a pass first runs."""

    def call(*args: Any) -> Any:
        from . import triton

        return getattr(triton, name)(*args)

    return call


backends.register(backends.Backend(
    "triton", ("cuda", "cpu"), _triton("forward"), _triton("backward"),
    available=importlib.util.find_spec("triton") is not None,
))

__all__ = ["backends", "cost", "fused", "ops", "recurrent", "reference", "sparse"]
