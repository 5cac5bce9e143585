"""The cost model: which kernel runs each generation, and which engine runs the whole DAG.

A generation with ``n`` neurons, ``k`` distinct source rows and ``e`` edges costs about
``e * B`` multiply-adds as a CSR SpMM (forward, transposed SpMM and SDDMM backward) and
``n * k * B`` as a dense block (three GEMMs), but a GEMM runs several times faster per
multiply-add than the sparse kernels. Measured on 2-core CPUs with MKL (float32, batch
256), the dense block wins once the density ``e / (n * k)`` passes about
:data:`DENSE_DENSITY`; tiny blocks stay sparse because the dense path's scatter and
gather overheads dominate there.

The fused engine (one compiled call for the whole DAG) wins when generations are narrow:
each generation of the generation engine costs a fixed Python and dispatch overhead of
tens of microseconds that the fused engine does not pay.

>>> from edgenet.kernels.cost import block_kernel
>>> block_kernel(neurons=512, sources=512, edges=100_000), block_kernel(512, 512, 1_000)
('dense', 'sparse')
"""

from __future__ import annotations

import numpy as np

from .backends import backend_of

#: Density ``edges / (neurons * sources)`` from which a generation runs as a dense block.
DENSE_DENSITY = 0.2
#: Smallest dense block (``neurons * sources``) worth a GEMM.
DENSE_MIN = 4096
#: Mean neurons per generation below which the whole DAG runs fused (on CPU).
FUSED_WIDTH = 64
#: Edge-count floor: tiny DAGs run fused whatever their shape.
FUSED_EDGES = 4096


def block_kernel(neurons: int, sources: int, edges: int) -> str:
    """``"dense"``, ``"sparse"`` or ``"bias"`` (no incoming edges) for one generation.

    >>> block_kernel(10, 0, 0)
    'bias'
    """
    if edges == 0:
        return "bias"
    block = neurons * sources
    if block >= DENSE_MIN and edges >= DENSE_DENSITY * block:
        return "dense"
    return "sparse"


def block_kernels(neurons: np.ndarray, sources: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """:func:`block_kernel` for arrays of generations, as codes 0 bias, 1 sparse, 2 dense.

    >>> block_kernels(np.array([512, 512, 3]), np.array([512, 512, 0]), np.array([10**5, 10, 0]))
    array([2, 1, 0])
    """
    block = neurons * sources
    dense = (block >= DENSE_MIN) & (edges >= DENSE_DENSITY * block)
    return np.where(edges == 0, 0, np.where(dense, 2, 1))


def use_fused(n_neurons: int, n_edges: int, depth: int) -> bool:
    """Whether a DAG of this shape should run on the fused engine (when it can).

    >>> use_fused(20_000, 199_000, 1800), use_fused(8192, 167_000, 1)
    (True, False)
    """
    if depth == 0:
        return False
    return n_edges <= FUSED_EDGES or n_neurons / depth < FUSED_WIDTH


def choose(engine: str, device: str, builtin: bool, n_neurons: int, n_edges: int, depth: int,
           available: list[str]) -> str:
    """The backend a pass runs on: ``engine`` itself when it names a whole-DAG backend,
    ``"generations"`` for ``"sparse"`` and ``"dense"``, and for ``"auto"``, when
    :func:`use_fused` says the DAG is deep and narrow and its activations are built in,
    the fused engine on the CPU or the Triton kernel on CUDA (when triton is installed),
    else ``"generations"``. The Triton choice reuses the CPU rule: it has not been
    refitted on a GPU.

    >>> choose("auto", "cpu", True, 20_000, 199_000, 1800, ["generations", "fused"])
    'fused'
    >>> choose("auto", "cuda", True, 20_000, 199_000, 1800, ["generations", "fused"])
    'generations'
    """
    if engine != "auto":
        return backend_of(engine)
    whole = {"cpu": "fused", "cuda": "triton"}.get(device)
    if builtin and whole in available and use_fused(n_neurons, n_edges, depth):
        return whole
    return "generations"
