r"""The Triton engine: the whole DAG in one GPU launch forward and one backward.

The GPU twin of :mod:`edgenet.kernels.fused`. Programs split the batch: program ``p``
owns the batch columns of its tiles and walks every computed row in order (rows are
numbered by generation, so row order is a topological order), for its columns only:

.. math::

    z_v = b_v + \sum_{u \to v} w_{uv} h_u, \qquad h_v = \sigma_v(z_v)

A row reads only rows written before it by the same program, in the same columns, so
forward needs no synchronisation between programs; inside a program a barrier after
each row makes its stores visible to every thread before a later row reads them.
The incoming edges of a row are taken ``EDGES`` at a time as one ``(EDGES, BLOCK)``
gather, so a row costs a few dependent memory round trips whatever its fan-in.

Backward walks the rows in reverse with ``G = dL/dH``: ``d_v = g_v \sigma_v'(z_v)``,
``dL/db_v = \sum_b d_v``, ``dL/dw_{uv} = \sum_b d_v h_u`` and ``g_u \mathrel{+}= w_{uv}
d_v``. The batch sums are per program: each program writes its partial sums into its
own row of a ``(P, E)`` (and ``(P, N - n_in)``) buffer, and a second kernel adds the
``P`` rows in program order. No floating-point atomics are used, so repeated runs are
bitwise identical.

Memory: ``H`` and ``Z`` (``(N, B)`` each) from forward, ``G`` (``(N, B)``) in backward,
and the partial sums, ``P * (E + N)`` with ``P <= PROGRAMS``: nothing per edge and batch.

Activation codes are those of :data:`edgenet.activations.CODES`, derivatives as in
:func:`edgenet.kernels._vector_math.deactivate`. Without a GPU the kernels run on CPU
tensors under Triton's interpreter (``TRITON_INTERPRET=1``, set before triton is
imported); that is how the test suite proves them on machines without CUDA.

``L`` is a :class:`~edgenet.model.tensors.Layout`; the kernels read ``crow`` (``(N - n_in + 1,)``
CSR row pointer over computed rows), ``col`` (``(E,)`` source row of each edge),
``codes`` (``(N - n_in,)`` activation codes), ``n_in`` and ``out_rows``.
The backend registers itself as ``"triton"`` from :mod:`edgenet.kernels` (importing
triton only when it first runs): ``engine="triton"`` forces it, and ``engine="auto"``
picks it on CUDA for deep, narrow DAGs.

>>> import os, types, torch, edgenet as en
>>> device = "cuda" if torch.cuda.is_available() else "cpu"
>>> net = en.Network(); net.add_input("x"); net.add_output("y", activation="tanh")
>>> net.add_edge("x", "y", weight=1.0)
>>> model = en.compile(net, dtype=torch.float64, device=device)
>>> L = model.layout
>>> if device == "cuda" or os.environ.get("TRITON_INTERPRET") == "1":  # else: no way to run it
...     y = run(torch.tensor([[0.5]], dtype=torch.float64, device=device), model.weight,
...             model.bias, L)
...     assert abs(y.item() - 0.462117157) < 1e-9
"""

from __future__ import annotations

import os
from typing import Any

import torch
import triton
import triton.language as tl

from .. import activations
from ..activations import CODES
from ..errors import EdgenetError
from .sparse import gradient_buffer, outputs

#: Batch columns per tile (a power of two); smaller batches use the next power of two.
BLOCK = 128
#: Incoming edges gathered per step of a row.
EDGES = 16
#: Most programs a backward pass runs (each keeps ``E + N`` partial sums).
PROGRAMS = 256
#: Compile options of every launch: multiply-adds contract to FMA (deterministic either way;
#: stated so Triton does not warn about its changing default).
OPTIONS = {"enable_fp_fusion": True}


#: Activation codes, from the one table (:data:`edgenet.activations.CODES`) the numba
#: kernels read too (identity is every branch's default).
RELU = tl.constexpr(CODES['relu'])
SIGMOID = tl.constexpr(CODES['sigmoid'])
TANH = tl.constexpr(CODES['tanh'])
LEAKY_RELU = tl.constexpr(CODES['leaky_relu'])
GELU = tl.constexpr(CODES['gelu'])
SOFTPLUS = tl.constexpr(CODES['softplus'])
ELU = tl.constexpr(CODES['elu'])
SILU = tl.constexpr(CODES['silu'])
SIN = tl.constexpr(CODES['sin'])
ABS = tl.constexpr(CODES['abs'])
SQUARE = tl.constexpr(CODES['square'])
EXP = tl.constexpr(CODES['exp'])
SOFTSIGN = tl.constexpr(CODES['softsign'])
NEAT_SIGMOID = tl.constexpr(CODES['neat_sigmoid'])
NEAT_TANH = tl.constexpr(CODES['neat_tanh'])
NEAT_SIN = tl.constexpr(CODES['neat_sin'])
NEAT_GAUSS = tl.constexpr(CODES['neat_gauss'])
NEAT_LELU = tl.constexpr(CODES['neat_lelu'])
NEAT_SELU = tl.constexpr(CODES['neat_selu'])
NEAT_SOFTPLUS = tl.constexpr(CODES['neat_softplus'])
NEAT_CLAMPED = tl.constexpr(CODES['neat_clamped'])
NEAT_INV = tl.constexpr(CODES['neat_inv'])
NEAT_LOG = tl.constexpr(CODES['neat_log'])
NEAT_EXP = tl.constexpr(CODES['neat_exp'])
NEAT_HAT = tl.constexpr(CODES['neat_hat'])
NEAT_CUBE = tl.constexpr(CODES['neat_cube'])
#: neat-python's constants, from edgenet.activations.
SELU_LAMBDA = tl.constexpr(activations.SELU_LAMBDA)
SELU_ALPHA = tl.constexpr(activations.SELU_ALPHA)
GAUSS_BOUND = tl.constexpr(activations.GAUSS_BOUND)
LOG_FLOOR = tl.constexpr(activations.LOG_FLOOR)


@triton.jit
def _wide(z):
    """``z`` in float32 where it is a half type (Triton's exp, log and erf take float32 and
    float64 only); activations of bfloat16 and float16 rows are computed in float32."""
    return z.to(tl.float32) if z.dtype.primitive_bitwidth < 32 else z


@triton.jit
def _sigmoid(z):
    e = tl.exp(-tl.abs(z))
    return tl.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


@triton.jit
def _act(c, z):
    """``act(z)`` for activation code ``c`` (one scalar code for the whole row). nan and
    +-inf give what every engine gives: a branch is chosen by a comparison that nan fails
    towards the branch carrying nan, never by ``0 * z`` (nan at +-inf) or ``tl.minimum``
    (which drops nan)."""
    h = z
    if c == RELU:  # relu: 0 where z <= 0, z (nan included) elsewhere
        h = tl.where(z <= 0, tl.zeros_like(z), z)
    if c == SIGMOID:  # sigmoid
        h = _sigmoid(z)
    if c == TANH:  # tanh, from exp(-2|z|) (no overflow)
        e = tl.exp(-2.0 * tl.abs(z))
        t = (1.0 - e) / (1.0 + e)
        h = tl.where(z < 0, -t, t)
    if c == LEAKY_RELU:  # leaky_relu
        h = tl.where(z >= 0, z, 0.01 * z)
    if c == GELU:  # gelu (exact erf)
        h = 0.5 * z * (1.0 + tl.math.erf(z * 0.7071067811865476))
    if c == SOFTPLUS:  # softplus, threshold 20: max(z, 0) + log(1 + exp(-|z|))
        h = tl.where(z > 20.0, z, tl.maximum(z, 0.0) + tl.log(1.0 + tl.exp(-tl.abs(z))))
    if c == ELU:  # elu; exp sees z <= 0 or nan, never a z that would overflow
        h = tl.where(z > 0, z, tl.exp(tl.where(z > 0, tl.zeros_like(z), z)) - 1.0)
    if c == SILU:  # silu
        h = z * _sigmoid(z)
    if c == SIN:
        h = tl.sin(z)
    if c == ABS:
        h = tl.abs(z)
    if c == SQUARE:
        h = z * z
    if c == EXP:  # in float64: float32 tl.exp is an approximate exponential on CUDA
        h = tl.exp(z.to(tl.float64)).to(z.dtype)
    if c == SOFTSIGN:  # softsign
        h = z / (1.0 + tl.abs(z))
    if c >= NEAT_SIGMOID:  # neat-python's functions, in float64 (as the numba kernels)
        h = _act_neat(c, z.to(tl.float64)).to(z.dtype)
    return h


@triton.jit
def _clamp(v, lo, hi):
    """``v`` clamped to ``[lo, hi]``, nan kept (``tl.minimum`` and ``tl.maximum`` drop it)."""
    return tl.where(v < lo, lo, tl.where(v > hi, hi, v))


@triton.jit
def _within(v, lo, hi):
    """1 where ``lo <= v <= hi`` (where a clamp passes its gradient), else 0 (nan: 0)."""
    one = tl.full(v.shape, 1.0, tl.float64)
    return tl.where((v >= lo) & (v <= hi), one, 0.0 * one)


@triton.jit
def _act_neat(c, z):
    """neat-python's functions for codes ``NEAT_*``; ``z`` is float64."""
    h = z
    if c == NEAT_SIGMOID:
        h = _sigmoid(_clamp(5.0 * z, -60.0, 60.0))
    if c == NEAT_TANH:
        v = _clamp(2.5 * z, -60.0, 60.0)
        e = tl.exp(-2.0 * tl.abs(v))
        t = (1.0 - e) / (1.0 + e)
        h = tl.where(v < 0, -t, t)
    if c == NEAT_SIN:
        h = tl.sin(_clamp(5.0 * z, -60.0, 60.0))
    if c == NEAT_GAUSS:
        v = _clamp(z, -GAUSS_BOUND, GAUSS_BOUND)
        h = tl.exp(-5.0 * (v * v))
    if c == NEAT_LELU:
        h = tl.where(z > 0, z, 0.005 * z)
    if c == NEAT_SELU:  # exp sees z <= 0 or nan, never a z that would overflow
        m = tl.exp(tl.where(z > 0, tl.zeros_like(z), z)) - 1.0
        h = tl.where(z > 0, SELU_LAMBDA * z, (SELU_LAMBDA * SELU_ALPHA) * m)
    if c == NEAT_SOFTPLUS:
        v = _clamp(5.0 * z, -60.0, 60.0)
        h = 0.2 * (tl.where(v > 0, v, 0.0) + tl.log(1.0 + tl.exp(-tl.abs(v))))
    if c == NEAT_CLAMPED:
        h = _clamp(z, -1.0, 1.0)
    if c == NEAT_INV:
        zz = z == 0
        h = tl.where(zz, 0.0, 1.0 / tl.where(zz, 1.0, z))
    if c == NEAT_LOG:
        h = tl.log(tl.where(z < LOG_FLOOR, LOG_FLOOR, z))
    if c == NEAT_EXP:
        h = tl.exp(_clamp(z, -60.0, 60.0))
    if c == NEAT_HAT:
        t = 1.0 - tl.abs(z)
        h = tl.where(t < 0, 0.0, t)
    if c == NEAT_CUBE:
        h = z * z * z
    return h


@triton.jit
def _slope_neat(c, z, h):
    """The slopes of :func:`_act_neat`'s functions; ``z`` and ``h`` are float64."""
    # Branch values are float64 tensors: a where() of two Python floats would be float32
    one = tl.full(z.shape, 1.0, tl.float64)
    s = h
    if c == NEAT_SIGMOID:
        s = h * (1.0 - h) * (5.0 * _within(5.0 * z, -60.0, 60.0))
    if c == NEAT_TANH:
        s = (1.0 - h * h) * (2.5 * _within(2.5 * z, -60.0, 60.0))
    if c == NEAT_SIN:
        s = tl.cos(_clamp(5.0 * z, -60.0, 60.0)) * (5.0 * _within(5.0 * z, -60.0, 60.0))
    if c == NEAT_GAUSS:
        s = h * (-10.0 * _clamp(z, -GAUSS_BOUND, GAUSS_BOUND)) * _within(z, -GAUSS_BOUND,
                                                                       GAUSS_BOUND)
    if c == NEAT_LELU:
        s = tl.where(z > 0, one, 0.005 * one)
    if c == NEAT_SELU:
        e = tl.exp(tl.where(z > 0, 0.0 * one, z))
        s = tl.where(z > 0, SELU_LAMBDA * one, (SELU_LAMBDA * SELU_ALPHA) * e)
    if c == NEAT_SOFTPLUS:
        s = _sigmoid(_clamp(5.0 * z, -60.0, 60.0)) * _within(5.0 * z, -60.0, 60.0)
    if c == NEAT_CLAMPED:
        s = _within(z, -1.0, 1.0)
    if c == NEAT_INV:
        s = tl.where(z == 0, 0.0 * one, -(h * h))
    if c == NEAT_LOG:
        s = _within(z, LOG_FLOOR, float("inf")) / tl.where(z < LOG_FLOOR, LOG_FLOOR, z)
    if c == NEAT_EXP:
        s = h * _within(z, -60.0, 60.0)
    if c == NEAT_HAT:  # torch.sign: 0 at nan
        sign = tl.where(z > 0, one, tl.where(z < 0, -one, 0.0 * one))
        s = -sign * tl.where(1.0 - tl.abs(z) >= 0, one, 0.0 * one)
    if c == NEAT_CUBE:
        s = 3.0 * z * z
    return s


@triton.jit
def _slope(c, z, h):
    """``d act / dz`` at ``z`` for code ``c``, given ``h = act(z)``."""
    # Branch values are tensors of z's dtype: a where() of two Python floats would be
    # float32 (0.01 is not exact there).
    one = tl.full(z.shape, 1.0, z.dtype)
    zero = 0.0 * one
    s = one  # identity
    if c == RELU:
        s = tl.where(z > 0, one, zero)
    if c == SIGMOID:
        s = h * (1.0 - h)
    if c == TANH:
        s = 1.0 - h * h
    if c == LEAKY_RELU:
        s = tl.where(z > 0, one, 0.01 * one)
    if c == GELU:
        s = 0.5 * (1.0 + tl.math.erf(z * 0.7071067811865476)) + (
            z * tl.exp(-0.5 * z * z) * 0.3989422804014327
        )
    if c == SOFTPLUS:
        s = tl.where(z > 20.0, one, _sigmoid(z))
    if c == ELU:  # nan at nan, as exp(nan)
        s = tl.where(z > 0, one, tl.exp(tl.where(z > 0, zero, z)))
    if c == SILU:
        g = _sigmoid(z)
        s = g * (1.0 + z * (1.0 - g))
    if c == SIN:
        s = tl.cos(z)
    if c == ABS:
        s = tl.where(z > 0, one, tl.where(z < 0, -one, zero))
    if c == SQUARE:
        s = 2.0 * z
    if c == EXP:
        s = h
    if c == SOFTSIGN:
        a = 1.0 + tl.abs(z)
        s = 1.0 / (a * a)
    if c >= NEAT_SIGMOID:
        s = _slope_neat(c, z.to(tl.float64), h.to(tl.float64)).to(z.dtype)
    return s


@triton.jit
def _forward_kernel(H, Z, w, b, crow, col, codes, n_rows, n_in, B, n_tiles,
                    BLOCK: tl.constexpr, EDGES: tl.constexpr):
    pid = tl.program_id(0)
    for t in range(pid, n_tiles, tl.num_programs(0)):
        cols = t * BLOCK + tl.arange(0, BLOCK)  # (BLOCK,) this tile's batch columns
        live = cols < B
        for r in range(0, n_rows):
            e0 = tl.load(crow + r)
            e1 = tl.load(crow + r + 1)
            z = tl.zeros([BLOCK], dtype=H.dtype.element_ty) + tl.load(b + r)  # (BLOCK,)
            for e in range(e0, e1, EDGES):
                idx = e + tl.arange(0, EDGES)  # (EDGES,)
                has = idx < e1
                u = tl.load(col + idx, mask=has, other=0).to(tl.int64)  # (EDGES,)
                wu = tl.load(w + idx, mask=has, other=0.0)  # (EDGES,)
                hu = tl.load(H + u[:, None] * B + cols[None, :],
                             mask=has[:, None] & live[None, :], other=0.0)  # (EDGES, BLOCK)
                z += tl.sum(wu[:, None] * hu, axis=0)
            tl.store(Z + tl.cast(r, tl.int64) * B + cols, z, mask=live)
            h = _act(tl.load(codes + r), _wide(z)).to(z.dtype)
            tl.store(H + tl.cast(n_in + r, tl.int64) * B + cols, h, mask=live)
            tl.debug_barrier()  # this row's stores are visible to every thread of the program


@triton.jit
def _backward_kernel(G, H, Z, w, crow, col, codes, dw_part, db_part, n_rows, n_in, floor, B, E,
                     n_tiles, BLOCK: tl.constexpr, EDGES: tl.constexpr, NEED_W: tl.constexpr):
    pid = tl.program_id(0)
    dw_own = dw_part + tl.cast(pid, tl.int64) * E  # this program's row of partial sums
    db_own = db_part + tl.cast(pid, tl.int64) * n_rows
    for t in range(pid, n_tiles, tl.num_programs(0)):
        cols = t * BLOCK + tl.arange(0, BLOCK)  # (BLOCK,)
        live = cols < B
        for i in range(0, n_rows):
            r = n_rows - 1 - i
            at = tl.cast(n_in + r, tl.int64) * B + cols
            g = tl.load(G + at, mask=live, other=0.0)  # (BLOCK,) dL/dh
            z = tl.load(Z + tl.cast(r, tl.int64) * B + cols, mask=live, other=0.0)
            h = tl.load(H + at, mask=live, other=0.0)
            s = _slope(tl.load(codes + r), _wide(z), _wide(h)).to(z.dtype)  # (BLOCK,)
            d = tl.where(live, g * s, 0.0)  # (BLOCK,) dL/dz
            tl.store(G + at, d, mask=live)
            tl.store(db_own + r, tl.load(db_own + r) + tl.sum(d, axis=0))
            e0 = tl.load(crow + r)
            e1 = tl.load(crow + r + 1)
            for e in range(e0, e1, EDGES):
                idx = e + tl.arange(0, EDGES)  # (EDGES,)
                has = idx < e1
                u = tl.load(col + idx, mask=has, other=0).to(tl.int64)  # (EDGES,)
                at_u = u[:, None] * B + cols[None, :]  # (EDGES, BLOCK)
                both = has[:, None] & live[None, :]
                if NEED_W:
                    hu = tl.load(H + at_u, mask=both, other=0.0)  # (EDGES, BLOCK)
                    part = tl.sum(hu * d[None, :], axis=1)  # (EDGES,)
                    tl.store(dw_own + idx, tl.load(dw_own + idx, mask=has, other=0.0) + part,
                             mask=has)
                wu = tl.load(w + idx, mask=has, other=0.0)  # (EDGES,)
                # A row's sources are distinct, so no two lanes write one element.
                into = both & (u[:, None] >= floor)
                gu = tl.load(G + at_u, mask=into, other=0.0)
                tl.store(G + at_u, gu + wu[:, None] * d[None, :], mask=into)
            tl.debug_barrier()  # updates to earlier rows are visible before they are read


@triton.jit
def _sum_programs_kernel(part, out, P, n, BLOCK: tl.constexpr):
    """``out[j] = part[0, j] + part[1, j] + ... + part[P - 1, j]``, in that order."""
    j = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    live = j < n
    acc = tl.load(part + j, mask=live, other=0.0)
    for p in range(1, P):
        acc += tl.load(part + tl.cast(p, tl.int64) * n + j, mask=live, other=0.0)
    tl.store(out + j, acc, mask=live)


def _block(B: int, block: int | None) -> int:
    return block if block is not None else min(BLOCK, triton.next_power_of_2(max(B, 1)))


def _codes(L: Any, device: torch.device) -> torch.Tensor:
    codes = L.codes
    if not L.builtin:  # read from the activation names: no device sync
        row = int((codes.cpu() < 0).nonzero()[0])
        raise EdgenetError(
            f"the triton engine runs built-in activations only; computed row {row} (node "
            f"{L.n_in + row} in compiled order) has a custom activation (code -1): use "
            "engine='sparse' for this network"
        )
    return codes.to(device)


def _nonempty(t: torch.Tensor) -> torch.Tensor:
    """``t``, or one zero of its dtype when it is empty (a kernel argument needs memory)."""
    return t if t.numel() else t.new_zeros(1)


def _summed(part: torch.Tensor) -> torch.Tensor:
    """The rows of ``part`` (``(P, n)``) added in row order: ``(n,)``."""
    P, n = part.shape
    out = part.new_empty(n)
    if n:
        _sum_programs_kernel[(triton.cdiv(n, 1024),)](part, out, P, n, BLOCK=1024, **OPTIONS)
    return out


def forward(
    x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, L: Any, *,
    block: int | None = None, edges: int = EDGES,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(x[B, n_in], weight[E], bias[N - n_in]) -> (y[B, n_out], H[N, B], Z[N - n_in, B])``.

    ``block`` (batch columns per program, a power of two) and ``edges`` (edges gathered
    per step) tune the launch; the result does not depend on ``block``.
    """
    if x.device.type != "cuda" and os.environ.get("TRITON_INTERPRET") != "1":
        raise EdgenetError(
            f"engine='triton' runs on CUDA (the model is on {x.device}); on the CPU only under "
            "Triton's interpreter, TRITON_INTERPRET=1 set before triton is imported"
        )
    B, n_in = x.shape
    n_rows = bias.shape[0]
    H = x.new_empty(n_in + n_rows, B)  # (N, B)
    Z = x.new_empty(n_rows, B)  # (N - n_in, B)
    H[:n_in].copy_(x.T)
    if B and n_rows:
        size = _block(B, block)
        tiles = triton.cdiv(B, size)
        _forward_kernel[(tiles,)](
            H, Z, _nonempty(weight.detach().contiguous()), bias.detach().contiguous(), L.crow,
            _nonempty(L.col),
            _codes(L, x.device), n_rows, n_in, B, tiles, BLOCK=size, EDGES=edges, **OPTIONS,
        )
    return outputs(H, L.out_rows, -1), H, Z


def backward(
    grad_y: torch.Tensor, weight: torch.Tensor, H: torch.Tensor, Z: torch.Tensor, L: Any,
    need_w: bool = True, need_x: bool = True, *, block: int | None = None, edges: int = EDGES,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``dL/dy[B, n_out] -> (dL/dx[B, n_in], dL/dweight[E], dL/dbias[N - n_in],
    dL/dZ[N - n_in, B])``;
    ``dL/dx`` is ``(0, n_in)`` without ``need_x``, ``dL/dweight`` zeros without ``need_w``."""
    n_rows, B = Z.shape
    n_in = H.shape[0] - n_rows
    E = weight.shape[0]
    floor = 0 if need_x else n_in  # rows below it need no gradient
    G = gradient_buffer(H, grad_y.contiguous(), L.out_rows, -1, floor)  # (N, B)
    size = _block(B, block)
    tiles = triton.cdiv(B, size)
    P = max(1, min(tiles, PROGRAMS))
    width = max(E, 1) if need_w else 1
    dw_part = weight.new_zeros(P, width)  # (P, E) per-program partial sums
    db_part = weight.new_zeros(P, n_rows)  # (P, N - n_in)
    if B and n_rows:
        _backward_kernel[(P,)](
            G, H, Z, _nonempty(weight.detach().contiguous()), L.crow, _nonempty(L.col),
            _codes(L, H.device), dw_part, db_part, n_rows, n_in, floor, B, width, tiles,
            BLOCK=size, EDGES=edges, NEED_W=need_w, **OPTIONS,
        )
    dw = _summed(dw_part)[:E] if need_w else torch.zeros_like(weight)  # (E,)
    db = _summed(db_part)  # (N - n_in,)
    dx = G[:n_in].T.contiguous() if need_x else H.new_empty(0, n_in)  # (B, n_in)
    return dx, dw, db, G[n_in:]


class _Triton(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                L: Any) -> torch.Tensor:
        y, H, Z = forward(x, weight, bias, L)
        ctx.layout = L
        ctx.save_for_backward(weight, H, Z)
        return y

    @staticmethod
    def backward(ctx: Any, grad_y: torch.Tensor):
        weight, H, Z = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad[:3]
        dx, dw, db, _ = backward(grad_y, weight, H, Z, ctx.layout, need_w, need_x)
        return dx if need_x else None, dw if need_w else None, db if need_b else None, None


def run(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, L: Any) -> torch.Tensor:
    """``(B, n_in) -> (B, n_out)`` through the Triton kernels, differentiable in ``x``,
    ``weight`` and ``bias`` (a plain :class:`torch.autograd.Function`)."""
    return _Triton.apply(x, weight, bias, L)  # (B, n_out)
