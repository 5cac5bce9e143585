r"""The fused engine's vector maths: the built-in activations and their slopes, one row
at a time, and the closed forms they are built on (imported on first use, with
:mod:`edgenet.kernels._fused_kernels`, whose DAG walk calls :func:`activate` and
:func:`deactivate` once per row). Module-level numba functions, so numba's on-disk
cache (``cache=True``) finds them again in later processes.

One code per row picks a branch-free loop over the row's columns, which
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

numba's cache checks only the source file of the function it compiled, and freezes
module globals (numba issue 1833): a kernel of :mod:`~edgenet.kernels._fused_kernels`
or :mod:`~edgenet.kernels._csr_kernels` keeps its cached copy of the functions and
activation codes here after this file or :data:`edgenet.activations.CODES` changes.
After editing either, delete ``edgenet/kernels/__pycache__`` before measuring or
testing.

>>> import numpy as np
>>> z, h = np.array([-1.0, 0.0, 2.0]), np.empty(3)
>>> activate(RELU, z, h, 0, 3)
>>> h.tolist()
[0.0, 0.0, 2.0]
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic, overload

from ..activations import CODES, GAUSS_BOUND, LOG_FLOOR, SELU_ALPHA, SELU_LAMBDA

# Activation codes: the numbering of edgenet.activations.CODES, the one table of them.
# Module globals, so numba compiles each as a constant.
IDENTITY = CODES["identity"]
RELU = CODES["relu"]
SIGMOID = CODES["sigmoid"]
TANH = CODES["tanh"]
LEAKY_RELU = CODES["leaky_relu"]
GELU = CODES["gelu"]
SOFTPLUS = CODES["softplus"]
ELU = CODES["elu"]
SILU = CODES["silu"]
SIN = CODES["sin"]
ABS = CODES["abs"]
SQUARE = CODES["square"]
EXP = CODES["exp"]
SOFTSIGN = CODES["softsign"]
NEAT_SIGMOID = CODES["neat_sigmoid"]
NEAT_TANH = CODES["neat_tanh"]
NEAT_SIN = CODES["neat_sin"]
NEAT_GAUSS = CODES["neat_gauss"]
NEAT_LELU = CODES["neat_lelu"]
NEAT_SELU = CODES["neat_selu"]
NEAT_SOFTPLUS = CODES["neat_softplus"]
NEAT_CLAMPED = CODES["neat_clamped"]
NEAT_INV = CODES["neat_inv"]
NEAT_LOG = CODES["neat_log"]
NEAT_EXP = CODES["neat_exp"]
NEAT_HAT = CODES["neat_hat"]
NEAT_CUBE = CODES["neat_cube"]


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
    split square; ``z phi(z)`` is 0 beyond the clamp of :func:`_gauss`, where it is below
    the smallest subnormal of the result's dtype, so +-inf give the limits 1 and 0."""
    x, hi, lo = _gauss(z, narrow)
    tail = z * _scaled_exp(_INV_SQRT_2PI, hi, lo, narrow) if abs(z) <= x else 0.0
    return vnormal_cdf(z, narrow) + tail


@njit(cache=True, error_model="numpy", fastmath=False, inline="always")
def _silu_far(v):
    """``silu(v) = v e^v / (1 + e^v)`` for float64 ``v <= -700``, where ``1 + e^v`` is 1
    and ``e^v`` alone would be subnormal (few bits): ``-(|v| / 2^9) e^(v + 9 ln 2)``,
    rounded once, since ``|v| / 2^9`` is below 2 and ``v + 9 ln2_hi`` is exact there;
    -0 below -760, where the result is below the smallest subnormal. Branch-free (the
    argument is clamped to that range), so a loop calling it still vectorises."""
    u = min(max(v, -760.0), -700.0)  # in range whatever v is: callers select the result
    far = -_scaled_exp(-u / 512.0, u + 9.0 * _LN2_HI, 9.0 * _LN2_LO)
    return far if v > -760.0 else -0.0


@njit(cache=True, error_model="numpy", fastmath=False, inline="always")
def _clamp(v, lo, hi):
    """``v`` clamped to ``[lo, hi]``, nan kept (as ``torch.clamp``)."""
    return lo if v < lo else (hi if v > hi else v)


@njit(cache=True, error_model="numpy", fastmath=False, inline="always")
def _within(v, lo, hi):
    """1 where ``lo <= v <= hi`` (where a clamp passes its gradient), else 0 (nan: 0)."""
    return 1.0 if (v >= lo and v <= hi) else 0.0


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
        far = 0
        for k in range(0 if narrow else n):  # an integer count: a reduction that vectorises
            far += 1 if z[k] <= -700.0 else 0
        if far:  # float64 z e^z where e^z is subnormal: a second pass
            for k in range(n):
                v = z[k]
                h[k] = _silu_far(v) if v <= -700.0 else h[k]
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
    elif c == SOFTSIGN:
        for k in range(n):
            v = z[k]
            h[k] = v / (1.0 + abs(v))
    else:
        _activate_neat(c, z, h, n, narrow)


@njit(cache=True, error_model="numpy", fastmath=False)
def _activate_neat(c, z, h, n, narrow):
    """neat-python's functions (codes ``NEAT_*``), in float64 whatever the row's dtype."""
    if c == NEAT_SIGMOID:
        for k in range(n):
            h[k] = vsigmoid(_clamp(5.0 * np.float64(z[k]), -60.0, 60.0), narrow)
    elif c == NEAT_TANH:
        for k in range(n):
            h[k] = vtanh(_clamp(2.5 * np.float64(z[k]), -60.0, 60.0), narrow)
    elif c == NEAT_SIN:
        for k in range(n):
            h[k] = math.sin(_clamp(5.0 * np.float64(z[k]), -60.0, 60.0))
    elif c == NEAT_GAUSS:
        for k in range(n):
            v = _clamp(np.float64(z[k]), -GAUSS_BOUND, GAUSS_BOUND)
            h[k] = vexp(-5.0 * (v * v), narrow)
    elif c == NEAT_LELU:
        for k in range(n):
            v = np.float64(z[k])
            h[k] = v if v > 0 else 0.005 * v
    elif c == NEAT_SELU:
        for k in range(n):
            v = np.float64(z[k])
            h[k] = SELU_LAMBDA * v if v > 0 else (SELU_LAMBDA * SELU_ALPHA) * vexpm1(v, narrow)
    elif c == NEAT_SOFTPLUS:
        for k in range(n):
            s = _clamp(5.0 * np.float64(z[k]), -60.0, 60.0)
            h[k] = 0.2 * ((s if s > 0.0 else 0.0) + vlog1p_unit(vexp(-abs(s), narrow)))
    elif c == NEAT_CLAMPED:
        for k in range(n):
            h[k] = _clamp(z[k], -1.0, 1.0)
    elif c == NEAT_INV:
        for k in range(n):
            v = np.float64(z[k])
            h[k] = 0.0 if v == 0 else 1.0 / v
    elif c == NEAT_LOG:
        for k in range(n):
            v = np.float64(z[k])
            h[k] = math.log(LOG_FLOOR if v < LOG_FLOOR else v)
    elif c == NEAT_EXP:
        for k in range(n):
            h[k] = vexp(_clamp(np.float64(z[k]), -60.0, 60.0), narrow)
    elif c == NEAT_HAT:
        for k in range(n):
            t = 1.0 - abs(np.float64(z[k]))
            h[k] = 0.0 if t < 0 else t
    else:  # NEAT_CUBE
        for k in range(n):
            v = np.float64(z[k])
            h[k] = v * v * v


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
    elif c == SOFTSIGN:
        for k in range(n):
            a = 1.0 + abs(z[k])
            d[k] = d[k] * (1.0 / (a * a))
    else:
        _deactivate_neat(c, d, z, h, n, narrow)


@njit(cache=True, error_model="numpy", fastmath=False)
def _deactivate_neat(c, d, z, h, n, narrow):
    """The slopes of :func:`_activate_neat`'s functions (a clamp passes its gradient at
    its bounds, as torch's autograd does)."""
    if c == NEAT_SIGMOID:
        for k in range(n):
            g = np.float64(h[k])
            d[k] = d[k] * (g * (1.0 - g) * (5.0 * _within(5.0 * np.float64(z[k]), -60.0, 60.0)))
    elif c == NEAT_TANH:
        for k in range(n):
            g = np.float64(h[k])
            d[k] = d[k] * ((1.0 - g * g) * (2.5 * _within(2.5 * np.float64(z[k]), -60.0, 60.0)))
    elif c == NEAT_SIN:
        for k in range(n):
            s = 5.0 * np.float64(z[k])
            d[k] = d[k] * (math.cos(_clamp(s, -60.0, 60.0)) * (5.0 * _within(s, -60.0, 60.0)))
    elif c == NEAT_GAUSS:
        for k in range(n):
            v = np.float64(z[k])
            d[k] = d[k] * (np.float64(h[k]) * (-10.0 * _clamp(v, -GAUSS_BOUND, GAUSS_BOUND))
                           * _within(v, -GAUSS_BOUND, GAUSS_BOUND))
    elif c == NEAT_LELU:
        for k in range(n):
            d[k] = d[k] * (1.0 if z[k] > 0 else 0.005)
    elif c == NEAT_SELU:
        for k in range(n):
            v = np.float64(z[k])
            d[k] = d[k] * (SELU_LAMBDA if v > 0 else (SELU_LAMBDA * SELU_ALPHA) * vexp(v, narrow))
    elif c == NEAT_SOFTPLUS:
        for k in range(n):
            s = 5.0 * np.float64(z[k])
            d[k] = d[k] * (vsigmoid(_clamp(s, -60.0, 60.0), narrow) * _within(s, -60.0, 60.0))
    elif c == NEAT_CLAMPED:
        for k in range(n):
            d[k] = d[k] * _within(np.float64(z[k]), -1.0, 1.0)
    elif c == NEAT_INV:
        for k in range(n):
            g = np.float64(h[k])
            d[k] = d[k] * (0.0 if z[k] == 0 else -(g * g))
    elif c == NEAT_LOG:
        for k in range(n):
            v = np.float64(z[k])
            d[k] = d[k] * (_within(v, LOG_FLOOR, np.inf) / (LOG_FLOOR if v < LOG_FLOOR else v))
    elif c == NEAT_EXP:
        for k in range(n):
            d[k] = d[k] * (np.float64(h[k]) * _within(np.float64(z[k]), -60.0, 60.0))
    elif c == NEAT_HAT:
        for k in range(n):
            v = np.float64(z[k])
            sign = 1.0 if v > 0 else (-1.0 if v < 0 else 0.0)  # torch.sign: 0 at nan
            d[k] = d[k] * (-sign * (1.0 if 1.0 - abs(v) >= 0 else 0.0))
    else:  # NEAT_CUBE
        for k in range(n):
            v = np.float64(z[k])
            d[k] = d[k] * (3.0 * v * v)
