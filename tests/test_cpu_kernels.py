"""The CPU kernels themselves: the fused engine's vectorised activations to a stated ulp
bound (against the exact oracle of tests/oracle.py at extreme values, torch's float64 in
between), its batch split across threads (bitwise repeatable, the same outputs for
any thread count), subnormals and non-finite values carried exactly, and the batch-tiled
CSR kernels against dense products."""

from __future__ import annotations

import functools

import mpmath
import numba
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from oracle import rounded, truth

import edgenet as en
from edgenet.activations import BUILTINS
from edgenet.kernels import _fused_kernels as k
from edgenet.kernels import csr

TORCH = {
    k.IDENTITY: lambda z: z, k.RELU: torch.relu, k.SIGMOID: torch.sigmoid, k.TANH: torch.tanh,
    k.LEAKY_RELU: F.leaky_relu, k.GELU: F.gelu, k.SOFTPLUS: F.softplus, k.ELU: F.elu,
    k.SILU: F.silu, k.SIN: torch.sin, k.ABS: torch.abs, k.SQUARE: torch.square,
    k.EXP: torch.exp, k.SOFTSIGN: F.softsign,
    # neat-python's functions: compositions of torch's (clamp, scale, sigmoid, ...)
    **{b.code: b.forward for b in BUILTINS if b.name.startswith("neat_")},
}
#: The bounds the module docstring of ``_vector_math`` states.
ULPS = {np.float32: 1, np.float64: 4}
#: Activation names by kernel code (the oracle's keys).
NAMES = {b.code: b.name for b in BUILTINS}


def ordered(a: np.ndarray) -> np.ndarray:
    """Float bit patterns mapped to integers that count ulps (monotone, +0 == -0)."""
    bits = a.view(np.int32 if a.dtype == np.float32 else np.int64).astype(np.int64)
    low = np.int64(-(2**31)) if a.dtype == np.float32 else np.int64(np.iinfo(np.int64).min)
    return np.where(bits < 0, low - bits, bits)


def ulps(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    same = (got == want) | (np.isnan(got) & np.isnan(want))
    return np.where(same, 0, np.abs(ordered(got) - ordered(want)))


def sweep(dtype) -> np.ndarray:
    """Dense in [-30, 30]; from there to the largest float, where results saturate,
    overflow or underflow to subnormals, denser up to 750; geometric from the smallest
    subnormal up to 1e-3; both signs, plus signed zeros, infinities and nan."""
    fi = np.finfo(dtype)
    with np.errstate(over="ignore"):
        mag = np.concatenate([
            np.geomspace(float(fi.smallest_subnormal), 1e-3, 1000),
            np.linspace(1e-3, 30, 12000),
            np.linspace(30, 750, 1000),
            np.geomspace(750, float(fi.max), 1000),
        ]).astype(dtype)
    return np.concatenate([mag, -mag, np.array([0.0, -0.0, np.inf, -np.inf, np.nan], dtype)])


def ordinary(z: np.ndarray) -> np.ndarray:
    """Where torch's float64 value is a truth on every CPU: ``1e-3 <= |z| <= 30``, no
    overflow, underflow or subnormal anywhere in its formulas (gelu below -1 aside)."""
    return (np.abs(z) >= 1e-3) & (np.abs(z) <= 30)


@functools.cache
def exact(dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sweep's finite values ``z`` in ``[-40, 8]``, and the normal CDF ``Phi(z)`` and
    gelu ``z Phi(z)`` there at 30 digits, correctly rounded to ``dtype``."""
    z = sweep(dtype)
    z = np.unique(z[(z >= -40) & (z <= 8)])
    with mpmath.workdps(30):
        cdf = [(mpmath.mpf(float(v)), mpmath.ncdf(mpmath.mpf(float(v)))) for v in z]
        return (z, np.array([rounded(c, dtype) for _, c in cdf], dtype),
                np.array([rounded(v * c, dtype) for v, c in cdf], dtype))


def reference(code: int, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The truth, and a second accepted value, by the rule of tests/oracle.py: the exact
    value at the extremes (``|z|`` below 1e-3 or above 30, subnormals, +-inf, nan) and for
    gelu below -1 (where torch's ``1 + erf(z / sqrt 2)`` cancels, to 0 below about -8.3,
    where gelu is -4e-16); elsewhere torch's float64 value rounded to ``z``'s dtype (float64
    worked to 1 ulp on every kernel path there, 2 for sigmoid's composite form)."""
    with np.errstate(over="ignore"):
        want = TORCH[code](torch.from_numpy(z.astype(np.float64))).numpy().astype(z.dtype)
    also = want.copy()
    far = ~ordinary(z)
    want[far], also[far] = truth(NAMES[code], z[far])
    if code == k.GELU:
        zs, _, exact_values = exact(z.dtype.type)
        tail = (z < -1) & (z >= -30)
        want[tail] = also[tail] = exact_values[np.searchsorted(zs, z[tail])]
    return want, also


def activated(code: int, z: np.ndarray) -> np.ndarray:
    h = np.empty_like(z)
    k.activate(code, z, h, 0, len(z))
    return h


def within(got: np.ndarray, want: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """ulps from ``got`` to the nearer of the two accepted values."""
    return np.minimum(ulps(got, want[0]), ulps(got, want[1]))


@pytest.mark.parametrize("code", sorted(TORCH))
def test_float32_activations_within_one_ulp_of_the_truth(code):
    """float32: within 1 ulp of the truth (see ``reference``), on every input including
    subnormals, inf and nan."""
    z = sweep(np.float32)
    err = within(activated(code, z), reference(code, z))
    assert err.max() <= ULPS[np.float32], z[err.argmax()]


#: float64 silu where e^z is subnormal: z e^z must be rounded once there, not computed
#: from a subnormal e^z (off by up to ~350 ulp).
SILU_SUBNORMAL = (-752.0, -708.3)  # below it z e^z rounds to 0


@pytest.mark.parametrize("code", sorted(TORCH))
def test_float64_activations_within_four_ulp_of_the_truth(code):
    """float64: within 4 ulp of the truth (see ``reference``; exact beyond |z| = 30, so
    sigmoid and silu below -708, where torch's e^-z overflows and it returns 0, are held
    to e^z and z e^z)."""
    z = sweep(np.float64)
    got, want = activated(code, z), reference(code, z)
    err = within(got, want)
    assert err.max() <= ULPS[np.float64], z[err.argmax()]


def test_float64_silu_within_four_ulp_where_e_to_the_z_is_subnormal():
    z = np.linspace(*SILU_SUBNORMAL, 400)
    err = within(activated(k.SILU, z), truth("silu", z))
    assert err.max() <= ULPS[np.float64], z[err.argmax()]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gelu_keeps_full_relative_accuracy_where_torch_cancels(dtype):
    """gelu and the normal CDF against the exact values on the whole sweep from -40 to 8
    (down to the smallest subnormal results), where torch's 1 + erf loses every digit
    below -8.3; edgenet's vectorised gelu has no erf call and no cancellation."""
    z, cdf, gelu = exact(dtype)
    err = ulps(activated(k.GELU, z), gelu)
    assert err.max() <= ULPS[dtype], z[err.argmax()]
    err = ulps(np.array([k.vnormal_cdf(v) for v in z], dtype), cdf)
    assert err.max() <= ULPS[dtype], z[err.argmax()]
    assert np.count_nonzero(gelu[z < -9]) > 100  # the bound is tested on nonzero values


@pytest.mark.parametrize("code", sorted(TORCH))
def test_derivatives_match_torch_autograd(code):
    z = torch.linspace(-30, 30, 20001, dtype=torch.float64).requires_grad_(True)
    h = TORCH[code](z)
    g = torch.randn_like(z)
    (want,) = torch.autograd.grad(h, z, g)
    d = g.numpy().copy()
    k.deactivate(code, d, z.detach().numpy(), h.detach().numpy(), 0, len(d))
    err = np.abs(d - want.numpy()) / (1 + np.abs(want.numpy()))
    assert err.max() <= 1e-13, z[int(err.argmax())].item()


def test_subnormals_are_computed_not_flushed():
    """1e-40 x 1e30 is 1e-10 (1e-40 is subnormal in float32); tanh keeps a subnormal."""
    H = np.array([[1e-40], [0.0]], dtype=np.float32)  # (N, B)
    Z = np.zeros((1, 1), np.float32)
    one = np.array([0, 1])
    k.forward(H, Z, np.array([1e30], np.float32), np.zeros(1, np.float32), one, np.array([0]),
              np.array([k.IDENTITY]), 1, np.arange(1))
    # The exact product of the two float32 values (exact in float64), rounded once; not
    # numpy's float32 product, which a flush-to-zero mode would change. 1e-40 is stored
    # as 9.99995e-41.
    assert H[1, 0] == np.float32(float(np.float32(1e-40)) * float(np.float32(1e30)))
    assert abs(H[1, 0] / 1e-10 - 1) < 1e-5
    assert activated(k.TANH, np.array([1e-40], np.float32))[0] == np.float32(1e-40)


def test_non_finite_values_stay_in_their_column_and_row():
    """A nan or inf in one sample of one neuron reaches only what that neuron feeds, in
    that sample, forward and backward (an absent edge carries nothing)."""
    # rows: inputs 0, 1; row 2 <- 0; row 3 <- 1
    H = np.zeros((4, 32))
    H[0] = 1.0
    H[1] = 2.0
    H[0, 5] = np.nan
    H[1, 7] = np.inf
    Z = np.zeros((2, 32))
    crow, col, w = np.array([0, 1, 2]), np.array([0, 1]), np.array([0.5, 0.25])
    codes = np.array([k.TANH, k.RELU])
    k.forward(H, Z, w, np.zeros(2), crow, col, codes, 2, np.arange(len(codes)))
    assert np.isnan(H[2, 5]) and np.isfinite(np.delete(H[2], 5)).all()
    assert H[3, 7] == np.inf and np.isfinite(np.delete(H[3], 7)).all()
    G = np.zeros_like(H)
    G[2:] = 1.0
    dw, db = np.zeros(2), np.zeros(2)
    k.backward(G, H, Z, w, crow, col, codes, 2, np.arange(len(codes)), dw, db, True, 0, np.float64(0))
    assert np.isnan(G[0, 5]) and np.isfinite(np.delete(G[0], 5)).all()
    assert np.isnan(G[2, 5]) and np.isfinite(np.delete(G[2], 5)).all()
    assert np.isfinite(G[1]).all()  # relu'(inf) = 1: the inf stays in the forward values


def random_dag(n_in=8, width=40, depth=30, fan_in=6, seed=0):
    """A deep random DAG of mixed activations (a few thousand edges)."""
    rng = np.random.default_rng(seed)
    acts = ["tanh", "sigmoid", "relu", "softplus", "elu", "silu", "gelu", "exp", "softsign"]
    net = en.Network()
    for i in range(n_in):
        net.add_input(i)
    before = list(range(n_in))
    node = n_in
    for g in range(depth):
        for _ in range(width):
            if g == depth - 1:
                net.add_output(node)
            else:
                net.add_neuron(node, activation=acts[rng.integers(len(acts))],
                               bias=float(rng.normal(0, 0.1)))
            srcs = rng.choice(before[-3 * width:], size=min(fan_in, len(before)), replace=False)
            for u in srcs:
                net.add_edge(int(u), node, weight=float(rng.normal(0, 0.3)))
            node += 1
        before += list(range(node - width, node))
    return net


def step(model, x):
    model.zero_grad()
    x = x.clone().requires_grad_(True)
    y = model(x)
    (y * y).sum().backward()
    return y.detach(), x.grad, model.weight.grad.clone(), model.bias.grad.clone()


@pytest.fixture
def threads(monkeypatch):
    """Sets the kernels' thread count: ``EDGENET_NUM_THREADS``, not adapting to the load."""
    from edgenet.kernels import threads as policy

    monkeypatch.setattr(policy, "ADAPT", False)
    return lambda n: monkeypatch.setenv(policy.ENV, str(n))


def test_threads_split_the_batch_and_agree_with_the_generation_engine(threads):
    net = random_dag()
    x = torch.randn(67, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    fused = en.compile(net, dtype=torch.float64, engine="fused", seed=0)
    sparse = en.compile(net, dtype=torch.float64, engine="sparse", seed=0)
    threads(2)
    assert k.chunks(67, fused.layout.n_edges * 67) == min(2, numba.config.NUMBA_NUM_THREADS)
    for a, b in zip(step(fused, x), step(sparse, x), strict=True):
        torch.testing.assert_close(a, b, rtol=1e-11, atol=1e-11)


def test_bitwise_repeatable_and_outputs_independent_of_thread_count(threads):
    """For a given thread count every result repeats bitwise; outputs and input gradients
    are bitwise the same for any thread count (each column is one thread's); weight and
    bias gradients (sums over the batch, added chunk by chunk) may differ by rounding."""
    net = random_dag(seed=2)
    x = torch.randn(64, 8, generator=torch.Generator().manual_seed(3))
    model = en.compile(net, engine="fused", seed=0)
    threads(2)
    first, again = step(model, x), step(model, x)
    for a, b in zip(first, again, strict=True):
        assert torch.equal(a, b)
    threads(1)
    one = step(model, x)
    assert torch.equal(one[0], first[0]) and torch.equal(one[1], first[1])
    for a, b in zip(one[2:], first[2:], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def csr_block(n, m, density, rng):
    mask = rng.random((n, m)) < density
    rows, cols = np.nonzero(mask)
    crow = np.concatenate(([0], np.cumsum(mask.sum(1)))).astype(np.int64)
    return crow, cols.astype(np.int64), rng.normal(size=len(rows)), mask


@pytest.mark.parametrize("batch", [1, 37, 300])
def test_csr_kernels_match_dense_products(batch):
    """SpMM, SDDMM and the transposed SpMM (batch-tiled, row-parallel) against numpy."""
    rng = np.random.default_rng(batch)
    n, m = 50, 70
    crow, col, w, mask = csr_block(n, m, 0.2, rng)
    A = np.zeros((n, m))
    A[mask] = w
    H = rng.normal(size=(m, batch))
    b = rng.normal(size=n)
    z = np.empty((n, batch))
    csr.spmm(z, H, w, b, crow, col, 0)
    np.testing.assert_allclose(z, A @ H + b[:, None], rtol=1e-12, atol=1e-12)
    D = rng.normal(size=(n, batch))
    dw, db = np.empty(len(w)), np.empty(n)
    csr.sddmm(dw, D, H, crow, col, 0, db)
    np.testing.assert_allclose(dw, (D @ H.T)[mask], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(db, D.sum(1), rtol=1e-12, atol=1e-12)
    # transposed block over the distinct sources
    sources = np.unique(col)
    perm = np.lexsort((np.repeat(np.arange(n), np.diff(crow)), col))
    tcol = np.repeat(np.arange(n), np.diff(crow))[perm]
    tcrow = np.concatenate(([0], np.cumsum(np.bincount(col, minlength=m)[sources])))
    G = rng.normal(size=(m, batch))
    want = G + A.T @ D
    csr.spmm_t(G, D, w, sources, tcrow, tcol, perm, 0, 0)
    np.testing.assert_allclose(G[sources], want[sources], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (8, 8), (15, 17), (16, 16), (37, 1024),
                                   (300, 512), (16, 2048), (1024, 37), (129, 700), (600, 600)])
def test_transpose_is_exact_on_every_shape_and_row_stride(shape, dtype, threads):
    """csr.transpose's vector blocks, its partial strips and its last columns are exact,
    on the calling thread alone and on the worker threads, for contiguous arrays and for
    rows that sit further apart than their length (slices of wider arrays); nothing
    outside the destination is written."""
    from edgenet.kernels import csr

    rng = np.random.default_rng(0)
    src = rng.standard_normal(shape).astype(dtype)
    for n in (1, 2):
        threads(n)
        dst = np.full(shape[::-1], np.nan, dtype)
        csr._kernel("transpose")(dst, src, dtype(0))
        assert np.array_equal(dst, src.T), n
    wide = rng.standard_normal((shape[0], shape[1] + 9)).astype(dtype)
    out = np.full((shape[1], shape[0] + 5), np.nan, dtype)
    csr.transpose(out[:, :shape[0]], wide[:, :shape[1]])
    assert np.array_equal(out[:, :shape[0]], wide[:, :shape[1]].T)
    assert np.isnan(out[:, shape[0]:]).all()
    every_other = wide[:, ::2]  # elements apart within a row: numpy's strided copy
    dst = np.empty(every_other.shape[::-1], dtype)
    csr.transpose(dst, every_other)
    assert np.array_equal(dst, every_other.T)


def test_identity_rows_skip_the_pre_activation_and_keep_every_gradient():
    """An identity row sums straight into H (its Z row is never written: one pass less),
    and backward, which never reads that Z row, gives the same gradients."""
    H = np.zeros((4, 32))
    H[:2] = np.random.default_rng(0).standard_normal((2, 32))
    Z = np.full((2, 32), np.nan)
    crow, col, w = np.array([0, 2, 3]), np.array([0, 1, 2]), np.array([0.5, -2.0, 3.0])
    codes = np.array([k.IDENTITY, k.TANH])
    k.forward(H, Z, w, np.array([0.25, 0.0]), crow, col, codes, 2, np.arange(len(codes)))
    assert np.isnan(Z[0]).all()  # identity: untouched
    np.testing.assert_allclose(H[2], 0.25 + 0.5 * H[0] - 2.0 * H[1])
    np.testing.assert_allclose(Z[1], 3.0 * H[2])
    np.testing.assert_allclose(H[3], np.tanh(3.0 * H[2]))
    G = np.zeros_like(H)
    G[3] = 1.0
    dw, db = np.zeros(3), np.zeros(2)
    k.backward(G, H, Z, w, crow, col, codes, 2, np.arange(len(codes)), dw, db, True, 0, np.float64(0))
    d3 = 1 - H[3] ** 2
    np.testing.assert_allclose(dw, [(3 * d3 * H[0]).sum(), (3 * d3 * H[1]).sum(),
                                    (d3 * H[2]).sum()])
    assert np.isfinite(G).all()
