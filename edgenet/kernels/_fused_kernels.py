r"""The fused engine's numba kernels (imported on first use, so ``import edgenet`` stays
free of numba). Module-level functions, so numba's on-disk cache (``cache=True``) finds
them again in later processes.

Threads split the batch: the columns ``0:B`` are cut into chunks (a multiple of 16
columns each, one per thread, see :func:`chunks`) and every thread walks the whole DAG
for its own columns, forward and backward, with no synchronisation between rows. Each
element of ``H``, ``Z`` and of the gradients ``G`` is computed by one thread in a fixed
order, so they are bitwise the same whatever the thread count. The weight and bias
gradients are sums over the batch: each chunk writes its partial sums into its own
scratch row, and the partials are added in chunk order afterwards. They are bitwise
repeatable for a given chunk count; a different chunk count (thread count) changes
them by rounding only.

Activations: one code per row picks a branch-free loop over the row's columns, which
LLVM vectorises. tanh, sigmoid, exp, softplus, elu, silu and gelu (and the derivatives
that need an exponential or the normal CDF) use the closed forms below, built on one
vectorisable ``exp``; gelu's normal CDF is ``e^{-z^2/2}`` times a fitted polynomial, with
no ``erf`` call and no cancellation. sin and cos remain libm calls per element. The
closed forms compute in float64 for both dtypes; where the result is float32 (known
when a kernel is compiled), their polynomials are shorter (float32 accuracy is all that
survives the rounding: float32 tanh 2.4 ns per value against 4.3 for the float64-accurate
form). Their accuracy, tested in
``tests/test_cpu_kernels.py`` on a dense sweep from the smallest subnormal to the
largest float, both signs, inf and nan: float32 results are within 1 ulp of torch's
float64 value rounded to float32, float64 results within 4 ulp of torch's, except where
torch's formula loses the value: sigmoid and silu below -708, where torch returns 0 and
these return the exact ``e^z``, ``z e^z``; gelu below -1, where torch's
``1 + erf(z / sqrt 2)`` cancels (to 0 below about -8.3) and gelu keeps the same bounds
against the exact value (float32 1 ulp, float64 4 ulp; at most 3 on the sweep), down to
subnormal results. Subnormal inputs and results are computed, never flushed; nan and inf
propagate as in torch's formulas. No fast-math flag that assumes finite values is used.

>>> import numpy as np
>>> from edgenet.kernels import _fused_kernels as k
>>> H = np.array([[2.0], [0.0]]); Z = np.zeros((1, 1))
>>> k.forward(H, Z, np.array([0.5]), np.array([0.25]), np.array([0, 1]), np.array([0]),
...           np.array([0]), 1)
>>> H.tolist()
[[2.0], [1.25]]
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir
from numba import njit, prange, types
from numba.extending import intrinsic, overload

#: Reassociation lets LLVM vectorise the batch sums; no NaN/inf assumptions are made.
#: The activation functions below say ``fastmath=False`` explicitly (numba would
#: otherwise compile them with their caller's flags): their range reductions and
#: rounding corrections rely on the order of operations.
FAST = {"reassoc", "contract", "nsz", "arcp"}

# Activation codes (the fused engine's numbering of the built-in activations).
IDENTITY, RELU, SIGMOID, TANH, LEAKY_RELU, GELU, SOFTPLUS, ELU = 0, 1, 2, 3, 4, 5, 6, 7
SILU, SIN, ABS, SQUARE, EXP, SOFTSIGN = 8, 9, 10, 11, 12, 13

#: Columns per thread come in multiples of this (64 bytes of float32: no two threads
#: write one cache line).
COLUMN_QUANTUM = 16
#: Below this many multiply-adds (edges x batch) a pass runs on one thread: waking the
#: others costs more than it saves.
PARALLEL_WORK = 200_000

# ---------------------------------------------------------------------------------------
# Vectorisable closed forms (float64 in, float64 out)

_LOG2E = 1.4426950408889634
_LN2 = 0.6931471805599453
_LN2_HI = 6.93147180369123816490e-01  # ln 2 with 32 trailing zero bits: n * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10  # ln 2 - _LN2_HI
_SQRT2 = 1.4142135623730951
_MAGIC = 6755399441055744.0 + 1023.0  # 1.5 * 2**52 + bias: low bits of (n + _MAGIC) = n + 1023


_MAGNITUDE = 0x7FFF_FFFF_FFFF_FFFF
_SIGN = -0x8000_0000_0000_0000


@intrinsic
def _bits(typingctx, x):  # pragma: no cover - compiled
    """The IEEE bit pattern of a float64, as int64."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _from_bits(typingctx, i):  # pragma: no cover - compiled
    """The float64 with this int64 bit pattern."""

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@njit(cache=True, error_model="numpy", fastmath=False, inline="always")
def _pow2(n):
    """``2.0 ** n`` for an integer-valued float64 ``n`` in ``[-1022, 1023]``, exactly."""
    return _from_bits(_bits(n + _MAGIC) << 52)


@njit(cache=True, error_model="numpy", fastmath=False, inline="always")
def _scaled(y, n, narrow=False):
    """``y 2^n`` for ``n`` in ``[-1077, 1024]``, as two powers of two so that a result in
    the subnormal range is rounded once (never flushed, never lost to an underflowing
    factor); one power with ``narrow``, whose ``n`` stays within a normal float64's."""
    if narrow:
        return y * _pow2(n)
    h = np.floor(n * 0.5)
    return (y * _pow2(h)) * _pow2(n - h)


@njit(cache=True, error_model="numpy", fastmath=False, inline="always")
def _copysign(a, b):
    """``|a|`` with the sign of ``b`` (bit operations: libm's copysign is a call)."""
    return _from_bits((_bits(a) & _MAGNITUDE) | (_bits(b) & _SIGN))


#: ``1 / k!``, the Taylor coefficients of ``e^r``, k = 0..13.
_EXP_TAYLOR = tuple(1.0 / math.factorial(k) for k in range(14))
#: Degrees of ``e^r - 1``'s Taylor polynomial for ``|r| <= ln2 / 2``: truncation below
#: 0.05 float64 ulp at 13; below 5.2e-9 relative (0.09 float32 ulp) at 7, enough where
#: the result is rounded to float32.
EXPM1_DEGREE, EXPM1_DEGREE32 = 13, 7


@njit(cache=True, error_model="numpy", fastmath=False, inline="always")
def _expm1_reduced(r, degree=EXPM1_DEGREE):
    """``e^r - 1`` for ``|r| <= ln2 / 2`` (a little beyond is fine): its Taylor
    polynomial to ``degree``, in Horner's order (constant bounds: LLVM unrolls it)."""
    p = _EXP_TAYLOR[degree]
    for k in range(degree - 1, 1, -1):
        p = _EXP_TAYLOR[k] + r * p
    return r + r * (r * p)


#: Where float32 results are computed (``narrow``), the exponent is clamped to
#: ``[-NARROW_EXP, NARROW_EXP]``: e^-200 rounds to float32 0 and e^200 to inf, and 2^n
#: stays a normal float64, so one power of two scales the result.
NARROW_EXP = 200.0


def _narrow(a):  # pragma: no cover - replaced by its overload in compiled code
    """Whether the array ``a`` holds float32: its results need only float32 accuracy."""
    return a.dtype == np.float32


@overload(_narrow, inline="always")
def _narrow_compiled(a):
    narrow = isinstance(a, types.Array) and a.dtype == types.float32
    return lambda a: narrow  # a constant: LLVM drops the branch not taken


@njit(cache=True, error_model="numpy", fastmath=False, inline="always")
def _reduce(x, narrow=False):
    """``(q, n)`` with ``e^x = (1 + q) 2^n`` (``x`` clamped to ``[-746, 710]``, or to
    ``+-NARROW_EXP`` with ``narrow``; nan maps to the lower bound, callers restore it):
    Cody-Waite reduction to ``|r| <= ln2 / 2``, then ``q = e^r - 1`` (to float32 accuracy
    with ``narrow``)."""
    lo, hi = (-NARROW_EXP, NARROW_EXP) if narrow else (-746.0, 710.0)
    xc = x if x > lo else lo
    xc = xc if xc < hi else hi
    n = np.floor(xc * _LOG2E + 0.5)
    r = (xc - n * _LN2_HI) - n * _LN2_LO
    return _expm1_reduced(r, EXPM1_DEGREE32 if narrow else EXPM1_DEGREE), n


@njit(cache=True, error_model="numpy", fastmath=False, inline="always")
def _reduce_split(hi, lo, narrow=False):
    """``(q, n)`` with ``e^(hi + lo) = (1 + q) 2^n`` for ``hi`` in ``[-800, 0]`` and
    ``|lo| < 1e-4``: as :func:`_reduce`, with ``lo`` added to the reduced argument
    (``hi - n ln2_hi`` is exact), so none of its bits is lost to ``hi + lo``."""
    xc = hi if hi > -746.0 else -746.0
    n = np.floor(xc * _LOG2E + 0.5)
    r = ((xc - n * _LN2_HI) - n * _LN2_LO) + lo
    return _expm1_reduced(r, EXPM1_DEGREE32 if narrow else EXPM1_DEGREE), n


@njit(cache=True, error_model="numpy", fastmath=False, inline="always")
def vexp(x, narrow=False):
    """``e^x``, vectorisable; the scale is applied as two powers of two, so results in
    the subnormal range are rounded once and never flushed. With ``narrow``, accurate
    to float32 (the result is rounded to float32 by the caller), with one power of two.

    >>> round(vexp(1.0), 12), float(vexp(-740.0)) > 0, vexp(-800.0), vexp(800.0)
    (2.718281828459, True, 0.0, inf)
    >>> float(np.float32(vexp(1.0, True))) == float(np.float32(np.e))
    True
    """
    q, n = _reduce(x, narrow)
    y = _scaled(1.0 + q, n, narrow)
    if narrow:  # beyond +-NARROW_EXP: exactly 0 and inf, as float32 rounding gives
        y = 0.0 if x < -NARROW_EXP else (np.inf if x > NARROW_EXP else y)
    return y if x == x else x


@njit(cache=True, error_model="numpy", fastmath=False, inline="always")
def vexpm1(x, narrow=False):
    """``e^x - 1`` with full relative accuracy near 0 (float32 accuracy with ``narrow``),
    vectorisable, for ``x <= 709`` (where ``2^n`` is finite; the callers use ``x <= 0``)."""
    q, n = _reduce(x, narrow)
    s = _scaled(1.0, n, narrow)
    y = s * q + (s - 1.0)  # s - 1 is exact for n >= -53, and -1 to rounding below
    return y if x == x else x


@njit(cache=True, error_model="numpy", fastmath=False, inline="always")
def vlog1p_unit(u):
    """``log(1 + u)`` for ``u`` in ``[0, 1]``: ``log m = 2 atanh((m - 1) / (m + 1))`` on
    ``1 + u`` scaled into ``[sqrt(1/2), sqrt(2)]``, plus the rounding of ``1 + u``."""
    w = 1.0 + u
    c = (u - (w - 1.0)) / w
    big = w > _SQRT2
    m = w * 0.5 if big else w
    k = _LN2 if big else 0.0
    f = (m - 1.0) / (m + 1.0)
    f2 = f * f
    s = 1.0 / 19.0
    s = 1.0 / 17.0 + f2 * s
    s = 1.0 / 15.0 + f2 * s
    s = 1.0 / 13.0 + f2 * s
    s = 1.0 / 11.0 + f2 * s
    s = 1.0 / 9.0 + f2 * s
    s = 1.0 / 7.0 + f2 * s
    s = 1.0 / 5.0 + f2 * s
    s = 1.0 / 3.0 + f2 * s
    return k + (2.0 * f + (2.0 * f) * (f2 * s) + c)


@njit(cache=True, error_model="numpy", fastmath=False, inline="always")
def vtanh(z, narrow=False):
    """``tanh z = -m / (2 + m)``, ``m = expm1(-2|z|)``, with the sign of ``z``."""
    m = vexpm1(-2.0 * abs(z), narrow)
    return _copysign(-m / (2.0 + m), z)


@njit(cache=True, error_model="numpy", fastmath=False, inline="always")
def vsigmoid(z, narrow=False):
    """``1 / (1 + e^-z)`` for ``z >= 0``, ``e^z / (1 + e^z)`` below (no overflow)."""
    e = vexp(-abs(z), narrow)
    s = 1.0 / (1.0 + e)
    return s if z >= 0.0 else e * s


@njit(cache=True, error_model="numpy", fastmath=False, inline="always")
def vsoftplus(z, narrow=False):
    """``log(1 + e^z) = max(z, 0) + log1p(e^-|z|)``; ``z`` itself above 20 (torch's
    threshold)."""
    y = (z if z > 0.0 else 0.0) + vlog1p_unit(vexp(-abs(z), narrow))
    return z if z > 20.0 else y


# The normal CDF: with ``Q(x) = Phi(-x) e^{x^2/2}`` for ``x >= 0``,
# ``Phi(z) = e^{-z^2/2} Q(|z|)`` below 0 and ``1 - e^{-z^2/2} Q(z)`` above (no
# cancellation on either side). ``Q(x) = g(x) / (x + K)`` with ``g`` flat (0.399 to 0.473)
# and smooth in ``s = C / (C + x)``: a degree-22 polynomial in ``t``, the affine map of
# ``s`` onto ``[-1, 1]`` for ``x`` in ``[0, X]``, fitted by Chebyshev interpolation at 40
# digits; ``python benchmarks/fit_normal_cdf.py`` regenerates the coefficients (relative
# error 6e-17 after rounding them to float64). Beyond ``X``, ``e^{-x^2/2}`` underflows.
_PHI_C = 6.0
_PHI_X = 40.0
_PHI_K = 0.7978845608028654  # sqrt(2 / pi)
_PHI_S0 = _PHI_C / (_PHI_C + _PHI_X)
_PHI_TA = 2.0 / (1.0 - _PHI_S0)
_PHI_TB = (1.0 + _PHI_S0) / (1.0 - _PHI_S0)
_INV_SQRT_2PI = 0.3989422804014327
#: Near 0, ``Phi(z) = 1/2 + z S(z^2)`` with ``S`` the Taylor series of
#: ``(Phi(z) - 1/2) / z``: ``(-1)^n / (sqrt(2 pi) 2^n n! (2n + 1))``, n = 0..10 (the first
#: term left out is below 1e-19 relative for ``|z| < 1/2``).
_CDF_S = tuple((-1.0) ** n * _INV_SQRT_2PI / (2**n * math.factorial(n) * (2 * n + 1))
                for n in range(11))
#: ``g`` as a polynomial in ``t``, lowest degree first (``benchmarks/fit_normal_cdf.py``).
_PHI_G = (
    0.44848187442477544,
    0.055665339909896146,
    0.007607201262947593,
    -0.021607052612111887,
    -0.031072330094026056,
    -0.027150106612641747,
    -0.018013406516311576,
    -0.009509987997289806,
    -0.003977068718275945,
    -0.0012520485742376771,
    -0.0002491100408872882,
    -2.652540817888308e-06,
    1.7329746846324967e-05,
    4.986767883216495e-06,
    -1.9769429473278168e-07,
    -4.6364168950767955e-07,
    -6.621736214866498e-08,
    3.218934971465504e-08,
    1.0256643237115393e-08,
    -1.9752561842954468e-09,
    -1.0876084050353158e-09,
    9.20594030715862e-11,
    7.384250142941051e-11,
)
#: The same for results rounded to float32 (``narrow``): ``x`` in ``[0, 15]`` (beyond it
#: gelu and its derivative round to 0 or ``z`` in float32), degree 12, relative error
#: 1.3e-10 (``python benchmarks/fit_normal_cdf.py --narrow``).
_PHI_X32 = 15.0
_PHI_S032 = _PHI_C / (_PHI_C + _PHI_X32)
_PHI_TA32 = 2.0 / (1.0 - _PHI_S032)
_PHI_TB32 = (1.0 + _PHI_S032) / (1.0 - _PHI_S032)
_PHI_G32 = (
    0.4585044859226024,
    0.045546117584516814,
    -0.007944347332409405,
    -0.030424726217470322,
    -0.03011151893436393,
    -0.020291709832402412,
    -0.010476495237258217,
    -0.00423824617447725,
    -0.0013142518641264395,
    -0.0002860764933480624,
    -2.902859150652371e-05,
    5.826082959767434e-06,
    2.251478403982192e-06,
)
#: Terms of ``S`` kept for float32 results: the first left out is below 2e-10 relative.
_CDF_TERMS32 = 7
_HIGH = -(1 << 27)  # keeps 26 significant bits: their square is exact


@njit(cache=True, error_model="numpy", fastmath=False, inline="always")
def _horner(g, t, lo, hi):
    """``g[lo] + t g[lo + 1] + ... + t^(hi - lo - 1) g[hi - 1]``, Horner's order (constant
    bounds: LLVM unrolls it)."""
    p = g[hi - 1]
    for i in range(hi - 2, lo - 1, -1):
        p = g[i] + t * p
    return p


@njit(cache=True, error_model="numpy", fastmath=False, inline="always")
def _mills(x, narrow=False):
    """``Q(x) = Phi(-x) e^{x^2/2}`` for ``x`` in ``[0, 40]`` (the fit's 6e-17, plus
    roundings), or in ``[0, 15]`` to float32 accuracy with ``narrow``."""
    if narrow:
        t = (_PHI_C / (_PHI_C + x)) * _PHI_TA32 - _PHI_TB32
        t7 = t * t * t
        t7 = t7 * t7 * t
        # Two Horner chains joined by t^7 (Estrin).
        p = _horner(_PHI_G32, t, 0, 7) + t7 * _horner(_PHI_G32, t, 7, 13)
        return p / (x + _PHI_K)
    t = (_PHI_C / (_PHI_C + x)) * _PHI_TA - _PHI_TB
    t8 = t * t
    t8 = t8 * t8
    t8 = t8 * t8
    # Three Horner chains joined by t^8 (Estrin): a third of the latency of one.
    p0 = _horner(_PHI_G, t, 0, 8)
    p1 = _horner(_PHI_G, t, 8, 16)
    p2 = _horner(_PHI_G, t, 16, 23)
    return (p0 + t8 * (p1 + t8 * p2)) / (x + _PHI_K)


@njit(cache=True, error_model="numpy", fastmath=False, inline="always")
def _gauss(z, narrow=False):
    """``(x, hi, lo)``: ``x = min(|z|, 40)`` (15 with ``narrow``; nan maps to that bound,
    callers restore it) and ``-x^2 / 2 = hi + lo`` to about 2^-78 relative, ``hi`` the
    exact half square of ``x``'s 26 leading bits (``e^{-x^2/2}`` from a rounded square
    would be off by up to ~700 ulp near ``x = 38``)."""
    a = abs(z)
    top = _PHI_X32 if narrow else _PHI_X
    x = a if a < top else top
    xh = _from_bits(_bits(x) & _HIGH)
    xl = x - xh
    return x, -0.5 * (xh * xh), -0.5 * (xl * (xh + x))


@njit(cache=True, error_model="numpy", fastmath=False, inline="always")
def _scaled_exp(m, hi, lo, narrow=False):
    """``m e^(hi + lo)`` for ``|m| < 2`` and ``hi <= 0``, rounded once into the subnormal
    range (``m`` multiplies ``1 + q`` before the powers of two are applied). With
    ``narrow`` (``hi >= -113``), to float32 accuracy with one power of two."""
    q, n = _reduce_split(hi, lo, narrow)
    return _scaled(m + m * q, n, narrow)


@njit(cache=True, error_model="numpy", fastmath=False, inline="always")
def _cdf_series(u, narrow=False):
    """``S(u)`` with ``Phi(z) = 1/2 + z S(z^2)`` (for ``z^2 = u < 1/4``; its first
    :data:`_CDF_TERMS32` terms with ``narrow``)."""
    top = _CDF_TERMS32 if narrow else len(_CDF_S)
    p = _CDF_S[top - 1]
    for i in range(top - 2, -1, -1):
        p = _CDF_S[i] + u * p
    return p


@njit(cache=True, error_model="numpy", fastmath=False, inline="always")
def vnormal_cdf(z, narrow=False):
    """``Phi(z) = erfc(-z / sqrt 2) / 2``, the standard normal CDF, vectorisable, with
    full relative accuracy in both tails (subnormal results included; float32 accuracy
    with ``narrow``); its Taylor series for ``|z| < 1/2``.

    >>> float(vnormal_cdf(0.0)), round(vnormal_cdf(1.0), 12), float(vnormal_cdf(-38.0)) > 0
    (0.5, 0.841344746069, True)
    >>> float(np.float32(vnormal_cdf(1.0, True))) == float(np.float32(vnormal_cdf(1.0)))
    True
    """
    x, hi, lo = _gauss(z, narrow)
    p = _scaled_exp(_mills(x, narrow), hi, lo, narrow)  # Phi(-|z|)
    y = p if z <= 0.0 else 1.0 - p
    y = 0.5 + z * _cdf_series(x * x, narrow) if x < 0.5 else y
    return y if z == z else z


@njit(cache=True, error_model="numpy", fastmath=False, inline="always")
def vgelu(z, narrow=False):
    """``z Phi(z)`` (torch's exact gelu): ``E = z Phi(-|z|)`` below 0, ``z - E`` above
    (at least ``z / 2``: no cancellation); ``E`` is rounded once, subnormals included.
    For ``|z| < 1/2``, ``z / 2 + z^2 S(z^2)`` (fewer roundings).
    -inf and nan give nan, as ``-inf * 0`` in torch's formula.

    >>> round(vgelu(1.0), 12), round(vgelu(-1.0), 12), float(vgelu(-37.0)) < 0
    (0.841344746069, -0.158655253931, True)
    """
    x, hi, lo = _gauss(z, narrow)
    e = _scaled_exp(_copysign(x, z) * _mills(x, narrow), hi, lo, narrow)
    y = e if z <= 0.0 else z - e
    u = x * x  # float64 also for float32 z
    y = 0.5 * z + u * _cdf_series(u, narrow) if x < 0.5 else y
    y = y if z != 0.0 else z  # -0.0 stays -0.0
    return y if z > -np.inf else z * 0.0


@njit(cache=True, error_model="numpy", fastmath=False, inline="always")
def vgelu_grad(z, narrow=False):
    """``gelu'(z) = Phi(z) + z phi(z)``, ``phi(z) = e^{-z^2/2} / sqrt(2 pi)`` from the same
    split square; nan at +-inf and nan (``inf * 0``, as torch's)."""
    _, hi, lo = _gauss(z, narrow)
    return vnormal_cdf(z, narrow) + z * _scaled_exp(_INV_SQRT_2PI, hi, lo, narrow)


# ---------------------------------------------------------------------------------------
# Rows: one activation code per row, one branch-free loop over the row's columns


@njit(cache=True, error_model="numpy", fastmath=False)
def activate(c, z, h, k0, k1):
    """``h[k] = act_c(z[k])`` for ``k`` in ``k0:k1``."""
    z, h = z[k0:k1], h[k0:k1]  # indices from 0: no negative-index wraparound, so loops vectorise
    n = k1 - k0
    narrow = _narrow(h)  # float32 results: exponentials to float32 accuracy
    if c == IDENTITY:
        for k in range(n):
            h[k] = z[k]
    elif c == RELU:
        for k in range(n):
            v = z[k]
            h[k] = 0.0 if v <= 0 else v  # nan stays nan
    elif c == SIGMOID:
        for k in range(n):
            h[k] = vsigmoid(z[k], narrow)
    elif c == TANH:
        for k in range(n):
            h[k] = vtanh(z[k], narrow)
    elif c == LEAKY_RELU:
        for k in range(n):
            v = z[k]
            h[k] = v if v >= 0 else 0.01 * v
    elif c == GELU:
        for k in range(n):
            h[k] = vgelu(z[k], narrow)
    elif c == SOFTPLUS:
        for k in range(n):
            h[k] = vsoftplus(z[k], narrow)
    elif c == ELU:
        for k in range(n):
            v = z[k]
            h[k] = v if v > 0 else vexpm1(v, narrow)
    elif c == SILU:
        for k in range(n):
            v = z[k]
            h[k] = v * vsigmoid(v, narrow)
    elif c == SIN:
        for k in range(n):
            h[k] = math.sin(z[k])
    elif c == ABS:
        for k in range(n):
            h[k] = abs(z[k])
    elif c == SQUARE:
        for k in range(n):
            h[k] = z[k] * z[k]
    elif c == EXP:
        for k in range(n):
            h[k] = vexp(z[k], narrow)
    else:  # SOFTSIGN
        for k in range(n):
            v = z[k]
            h[k] = v / (1.0 + abs(v))


@njit(cache=True, error_model="numpy", fastmath=False)
def deactivate(c, d, z, h, k0, k1):
    """``d[k] *= act_c'(z[k])`` for ``k`` in ``k0:k1``, given ``h = act_c(z)`` (the
    derivatives torch's autograd uses, e.g. ``relu'(0) = 0``)."""
    d, z, h = d[k0:k1], z[k0:k1], h[k0:k1]
    n = k1 - k0
    narrow = _narrow(h)
    if c == IDENTITY:
        return
    if c == RELU:
        for k in range(n):
            d[k] = d[k] * (1.0 if z[k] > 0 else 0.0)
    elif c == SIGMOID:
        for k in range(n):
            d[k] = d[k] * (h[k] * (1.0 - h[k]))
    elif c == TANH:
        for k in range(n):
            d[k] = d[k] * (1.0 - h[k] * h[k])
    elif c == LEAKY_RELU:
        for k in range(n):
            d[k] = d[k] * (1.0 if z[k] > 0 else 0.01)
    elif c == GELU:
        for k in range(n):
            d[k] = d[k] * vgelu_grad(z[k], narrow)
    elif c == SOFTPLUS:
        for k in range(n):
            v = z[k]
            d[k] = d[k] * (1.0 if v > 20.0 else vsigmoid(v, narrow))
    elif c == ELU:
        for k in range(n):
            v = z[k]
            d[k] = d[k] * (1.0 if v > 0 else vexp(v, narrow))
    elif c == SILU:
        for k in range(n):
            v = z[k]
            s = vsigmoid(v, narrow)
            d[k] = d[k] * (s * (1.0 + v * (1.0 - s)))
    elif c == SIN:
        for k in range(n):
            d[k] = d[k] * math.cos(z[k])
    elif c == ABS:
        for k in range(n):
            v = z[k]
            d[k] = d[k] * (1.0 if v > 0 else (-1.0 if v < 0 else 0.0))
    elif c == SQUARE:
        for k in range(n):
            d[k] = d[k] * (2.0 * z[k])
    elif c == EXP:
        for k in range(n):
            d[k] = d[k] * h[k]
    else:  # SOFTSIGN
        for k in range(n):
            a = 1.0 + abs(z[k])
            d[k] = d[k] * (1.0 / (a * a))


# ---------------------------------------------------------------------------------------
# Sparse rows, shared with the per-generation CSR kernels of csr.py. Column loops count
# in unsigned integers: numba then drops its negative-index test and LLVM vectorises them
# (a signed range starting at a variable runs ~3x slower).


@njit(cache=True, error_model="numpy", inline="always")
def row_spmm(z, bias, w, H, col, e, end, k0, k1):
    """``z[k0:k1] = bias + sum over edges e:end of w[e] * H[col[e], k0:k1]``, one row.

    Edges are taken four at a time: one pass over the output row per four source rows
    (the row stays in registers/L1), which is what bounds these kernels. Shared by the
    fused engine and the per-generation CSR kernels.
    """
    for k in range(np.uint64(k0), np.uint64(k1)):
        z[k] = bias
    while e + 4 <= end:
        w0, w1, w2, w3 = w[e], w[e + 1], w[e + 2], w[e + 3]
        h0, h1, h2, h3 = H[col[e]], H[col[e + 1]], H[col[e + 2]], H[col[e + 3]]
        for k in range(np.uint64(k0), np.uint64(k1)):
            z[k] += w0 * h0[k] + w1 * h1[k] + w2 * h2[k] + w3 * h3[k]
        e += 4
    while e < end:
        we = w[e]
        h = H[col[e]]
        for k in range(np.uint64(k0), np.uint64(k1)):
            z[k] += we * h[k]
        e += 1


@njit(cache=True, error_model="numpy", inline="always")
def row_sddmm(dw, d, H, col, e, end, zero, k0, k1, add=False):
    """``dw[e] = d[k0:k1] . H[col[e], k0:k1]`` (``+=`` with ``add``) for the edges
    ``e:end`` of one row.

    Four edges per pass over ``d``; ``zero`` carries the accumulator dtype (float32
    sums vectorise wider). Shared by the fused backward and the CSR SDDMM.
    """
    while e + 4 <= end:
        h0, h1, h2, h3 = H[col[e]], H[col[e + 1]], H[col[e + 2]], H[col[e + 3]]
        a0 = a1 = a2 = a3 = zero
        for k in range(np.uint64(k0), np.uint64(k1)):
            dk = d[k]
            a0 += dk * h0[k]
            a1 += dk * h1[k]
            a2 += dk * h2[k]
            a3 += dk * h3[k]
        if add:
            dw[e], dw[e + 1], dw[e + 2], dw[e + 3] = (dw[e] + a0, dw[e + 1] + a1,
                                                      dw[e + 2] + a2, dw[e + 3] + a3)
        else:
            dw[e], dw[e + 1], dw[e + 2], dw[e + 3] = a0, a1, a2, a3
        e += 4
    while e < end:
        hu = H[col[e]]
        acc = zero
        for k in range(np.uint64(k0), np.uint64(k1)):
            acc += d[k] * hu[k]
        dw[e] = dw[e] + acc if add else acc
        e += 1


@njit(cache=True, error_model="numpy", inline="always")
def row_axpy(G, w, d, col, e, end, floor, k0, k1):
    """``G[col[e], k0:k1] += w[e] * d[k0:k1]`` for the edges ``e:end`` whose source row is
    at least ``floor`` (the input gradient of one row)."""
    for i in range(e, end):
        u = col[i]
        if u >= floor:
            gu = G[u]
            we = w[i]
            for k in range(np.uint64(k0), np.uint64(k1)):
                gu[k] += we * d[k]


# ---------------------------------------------------------------------------------------
# The whole DAG


def chunks(batch: int, work: int) -> int:
    """How many column chunks (threads) a pass over ``batch`` columns uses: one per
    thread, each a multiple of :data:`COLUMN_QUANTUM` columns, and one alone below
    :data:`PARALLEL_WORK` multiply-adds.

    >>> chunks(64, 10**9) <= 4, chunks(64, 10), chunks(8, 10**9)
    (True, 1, 1)
    """
    if work < PARALLEL_WORK:
        return 1
    threads = numba.get_num_threads()
    return max(1, min(threads, -(-batch // COLUMN_QUANTUM)))


def _width(batch: int, n: int) -> int:
    per = -(-batch // n)
    return -(-per // COLUMN_QUANTUM) * COLUMN_QUANTUM if n > 1 else batch


@njit(cache=True, error_model="numpy", fastmath=FAST)
def _forward_columns(H, Z, w, b, crow, col, code, n_in, k0, k1):
    for r in range(Z.shape[0]):
        if code[r] == IDENTITY:  # the sum is the output; backward never reads its Z
            row_spmm(H[n_in + r], b[r], w, H, col, crow[r], crow[r + 1], k0, k1)
            continue
        z = Z[r]
        row_spmm(z, b[r], w, H, col, crow[r], crow[r + 1], k0, k1)
        activate(code[r], z, H[n_in + r], k0, k1)


@njit(cache=True, error_model="numpy", fastmath=FAST)
def _backward_columns(G, H, Z, w, crow, col, code, n_in, dw, db, need_w, floor, zero, k0, k1):
    for r in range(Z.shape[0] - 1, -1, -1):
        d = G[n_in + r]  # becomes dL/dz in place
        deactivate(code[r], d, Z[r], H[n_in + r], k0, k1)
        total = zero
        for k in range(np.uint64(k0), np.uint64(k1)):
            total += d[k]
        db[r] = total
        if need_w:
            row_sddmm(dw, d, H, col, crow[r], crow[r + 1], zero, k0, k1)
        row_axpy(G, w, d, col, crow[r], crow[r + 1], floor, k0, k1)


@njit(cache=True, error_model="numpy")
def _forward_serial(H, Z, w, b, crow, col, code, n_in):  # pragma: no cover
    _forward_columns(H, Z, w, b, crow, col, code, n_in, 0, H.shape[1])


@njit(cache=True, error_model="numpy", parallel=True)
def _forward_parallel(H, Z, w, b, crow, col, code, n_in, n_chunks, width):  # pragma: no cover
    B = H.shape[1]
    for t in prange(n_chunks):
        _forward_columns(H, Z, w, b, crow, col, code, n_in, t * width,
                         min(B, t * width + width))


@njit(cache=True, error_model="numpy")
def _backward_serial(G, H, Z, w, crow, col, code, n_in, dw, db, need_w, floor,
                     zero):  # pragma: no cover
    _backward_columns(G, H, Z, w, crow, col, code, n_in, dw, db, need_w, floor, zero, 0,
                      H.shape[1])


@njit(cache=True, error_model="numpy", parallel=True)
def _backward_parallel(G, H, Z, w, crow, col, code, n_in, dwp, dbp, need_w, floor, zero,
                       n_chunks, width):  # pragma: no cover
    B = H.shape[1]
    for t in prange(n_chunks):
        _backward_columns(G, H, Z, w, crow, col, code, n_in, dwp[t], dbp[t], need_w, floor,
                          zero, t * width, min(B, t * width + width))


@njit(cache=True, error_model="numpy", parallel=True)
def _sum_rows(out, parts):  # pragma: no cover
    """``out[i] = parts[0, i] + parts[1, i] + ...``, always in that order."""
    n_parts, n = parts.shape
    for i in prange(n):
        acc = parts[0, i]
        for p in range(1, n_parts):
            acc += parts[p, i]
        out[i] = acc


def forward(H: np.ndarray, Z: np.ndarray, w: np.ndarray, b: np.ndarray, crow: np.ndarray,
            col: np.ndarray, code: np.ndarray, n_in: int) -> None:
    """``Z[r] = b[r] + sum_e w[e] H[col[e]]``, ``H[n_in + r] = act(Z[r])`` for every computed
    row ``r`` in order; ``H[:n_in]`` holds the inputs (node-major, ``(N, B)``). Rows whose
    activation is the identity write their sum straight into ``H`` and leave ``Z[r]``
    unwritten (their derivative needs no pre-activation)."""
    B = H.shape[1]
    n = chunks(B, len(col) * B)
    if n == 1:
        _forward_serial(H, Z, w, b, crow, col, code, n_in)
    else:
        width = _width(B, n)
        _forward_parallel(H, Z, w, b, crow, col, code, n_in, -(-B // width), width)


def backward(G: np.ndarray, H: np.ndarray, Z: np.ndarray, w: np.ndarray, crow: np.ndarray,
             col: np.ndarray, code: np.ndarray, n_in: int, dw: np.ndarray, db: np.ndarray,
             need_w: bool, floor: int, zero: np.floating) -> None:
    """Walk the rows in reverse: ``G[n_in + r]`` (``dL/dh``) becomes ``dL/dz`` in place,
    ``db[r] = sum(dL/dz)``, ``dw[e] = dL/dz . H[col[e]]`` (with ``need_w``) and
    ``G[col[e]] += w[e] dL/dz`` for sources ``col[e] >= floor``."""
    B = H.shape[1]
    n = chunks(B, len(col) * B)
    if n == 1:  # one chunk: its partial sums are the result
        _backward_serial(G, H, Z, w, crow, col, code, n_in, dw, db, need_w, floor, zero)
        return
    width = _width(B, n)
    n = -(-B // width)
    dwp = np.empty((n, len(dw) if need_w else 0), dtype=dw.dtype)  # (chunks, E)
    dbp = np.empty((n, len(db)), dtype=db.dtype)  # (chunks, N - n_in)
    _backward_parallel(G, H, Z, w, crow, col, code, n_in, dwp, dbp, need_w, floor, zero, n,
                       width)
    if need_w:
        _sum_rows(dw, dwp)
    _sum_rows(db, dbp)
