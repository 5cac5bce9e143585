"""The exact oracle at the edges of the float range, and the rule every test follows there.

Where a test checks an activation or its slope at extreme values (overflow, underflow,
subnormals, +-inf, nan, the largest finite values), the truth is not torch's or numpy's
output: their kernels overflow or cancel in intermediate steps, and differently on
different CPUs and kernel paths (AVX-512, AVX2, the scalar ``default`` path, aarch64).
torch's float32 ``gelu(3.4028235e38)`` is ``inf`` and its ``gelu(inf)`` is ``nan``, for
instance, where the function is ``3.4028235e38`` and ``inf``. The rule:

1. At a finite input ``z`` the truth is the exact value at ``z`` (mpmath at 50 digits)
   of the function and of its slope, rounded once to ``z``'s dtype: an exact value beyond
   the largest finite float rounds to +-inf, a tiny one to a subnormal or zero. The slope
   at a kink is the one edgenet documents (torch's autograd convention: ``relu'(0) = 0``,
   ``abs'(0) = 0``, ``leaky_relu'(0) = 0.01``, ``elu'(0) = 1``); softplus is torch's,
   ``z`` itself above 20.
2. Where edgenet and torch may both be right, both are accepted:

   - an exact value more than half the largest finite float may also come out +-inf
     (a formula whose intermediate is twice the result overflows: torch's float32 gelu);
   - at ``z = +-inf`` the limit of the function (of the slope) as ``z -> +-inf``; and
     ``nan`` too where the function is ``z`` times a factor or ``z`` over one (gelu,
     silu, softsign and their slopes), as IEEE arithmetic meets ``inf * 0`` or
     ``inf / inf`` there; ``sin`` has no limit: ``nan``;
   - at ``z = nan`` the value is ``nan``, and so is every slope that reads ``z``'s
     value; a slope that is constant (identity: 1) or reads ``z`` only through a
     comparison (relu 0, leaky_relu 0.01, abs 0) is its value where ``z > 0`` is false.
     Every engine gives exactly these.

How close "agrees" is stays with each test (an ulp bound, or :func:`tolerance` for the
engines, which compute in the dtype); it is measured against the value of 1. or the
accepted value of 2. :func:`hard_inputs` lists the finite inputs every engine is checked
at (tests/test_engines_agree.py, tests/test_triton.py).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import mpmath
import numpy as np
import torch

mp = mpmath.MPContext()  # a context of its own: 50 digits, whatever others set
mp.dps = 50
Real = Callable[[Any], Any]  # mpf -> mpf


def _sigmoid(z):
    return 1 / (1 + mp.exp(-z))


def _ncdf(z):
    """``Phi(z)``; beyond 40 standard deviations, where mpmath's erfc refuses huge
    arguments, ``1`` above and the tail's leading term ``phi(z) / |z|`` below (both
    within ``1e-300`` relative: ``Phi(-40)`` is ``4e-350``, far below every subnormal)."""
    if abs(z) <= 40:
        return mp.ncdf(z)
    return mp.one if z > 0 else mp.npdf(z) / -z


#: name -> (function, slope), exact in mpmath.
EXACT: dict[str, tuple[Real, Real]] = {
    "identity": (lambda z: z, lambda z: mp.one),
    "relu": (lambda z: z if z > 0 else mp.zero, lambda z: mp.one if z > 0 else mp.zero),
    "sigmoid": (_sigmoid, lambda z: _sigmoid(z) * _sigmoid(-z)),
    "tanh": (mp.tanh, lambda z: mp.sech(z) ** 2),
    "leaky_relu": (lambda z: z if z >= 0 else z / 100,
                   lambda z: mp.one if z > 0 else mp.one / 100),
    "gelu": (lambda z: z * _ncdf(z), lambda z: _ncdf(z) + z * mp.npdf(z)),
    "softplus": (lambda z: z if z > 20 else mp.log1p(mp.exp(z)),
                 lambda z: mp.one if z > 20 else _sigmoid(z)),
    "elu": (lambda z: z if z > 0 else mp.expm1(z), lambda z: mp.one if z > 0 else mp.exp(z)),
    "silu": (lambda z: z * _sigmoid(z), lambda z: _sigmoid(z) * (1 + z * _sigmoid(-z))),
    "sin": (mp.sin, mp.cos),
    "abs": (abs, mp.sign),
    "square": (lambda z: z * z, lambda z: 2 * z),
    "exp": (mp.exp, mp.exp),
    "softsign": (lambda z: z / (1 + abs(z)), lambda z: 1 / (1 + abs(z)) ** 2),
}


def _clamp(z, lo, hi):
    return max(mp.mpf(lo), min(mp.mpf(hi), z))


def _inside(z, lo, hi) -> Any:
    """1 where a clamp to ``[lo, hi]`` passes its gradient (bounds included), else 0."""
    return mp.one if mp.mpf(lo) <= z <= mp.mpf(hi) else mp.zero


_LAM, _ALPHA = mp.mpf("1.0507009873554804934193349852946"), mp.mpf("1.6732632423543772848170429916717")
#: neat-python's functions (bounds as the float64 values edgenet states: 3.4, 1e-7).
EXACT.update({
    "neat_sigmoid": (lambda z: _sigmoid(_clamp(5 * z, -60, 60)),
                     lambda z: 5 * _inside(5 * z, -60, 60) * _sigmoid(_clamp(5 * z, -60, 60))
                     * _sigmoid(-_clamp(5 * z, -60, 60))),
    "neat_tanh": (lambda z: mp.tanh(_clamp(mp.mpf(5) / 2 * z, -60, 60)),
                  lambda z: mp.mpf(5) / 2 * _inside(mp.mpf(5) / 2 * z, -60, 60)
                  * mp.sech(_clamp(mp.mpf(5) / 2 * z, -60, 60)) ** 2),
    "neat_sin": (lambda z: mp.sin(_clamp(5 * z, -60, 60)),
                 lambda z: 5 * _inside(5 * z, -60, 60) * mp.cos(_clamp(5 * z, -60, 60))),
    "neat_gauss": (lambda z: mp.exp(-5 * _clamp(z, -3.4, 3.4) ** 2),
                   lambda z: -10 * _clamp(z, -3.4, 3.4) * _inside(z, -3.4, 3.4)
                   * mp.exp(-5 * _clamp(z, -3.4, 3.4) ** 2)),
    "neat_lelu": (lambda z: z if z > 0 else z * mp.mpf(0.005),
                  lambda z: mp.one if z > 0 else mp.mpf(0.005)),
    "neat_selu": (lambda z: _LAM * z if z > 0 else _LAM * _ALPHA * mp.expm1(z),
                  lambda z: _LAM if z > 0 else _LAM * _ALPHA * mp.exp(z)),
    "neat_softplus": (lambda z: mp.log1p(mp.exp(_clamp(5 * z, -60, 60))) / 5,
                      lambda z: _inside(5 * z, -60, 60) * _sigmoid(_clamp(5 * z, -60, 60))),
    "neat_clamped": (lambda z: _clamp(z, -1, 1), lambda z: _inside(z, -1, 1)),
    "neat_inv": (lambda z: mp.zero if z == 0 else 1 / z,
                 lambda z: mp.zero if z == 0 else -1 / (z * z)),
    "neat_log": (lambda z: mp.log(max(z, mp.mpf(1e-7))) if z < _BEYOND else mp.inf,
                 lambda z: 1 / z if z >= mp.mpf(1e-7) else mp.zero),
    "neat_exp": (lambda z: mp.exp(_clamp(z, -60, 60)),
                 lambda z: _inside(z, -60, 60) * mp.exp(z) if abs(z) <= 60 else mp.zero),
    "neat_hat": (lambda z: max(1 - abs(z), mp.zero),
                 lambda z: -mp.sign(z) if abs(z) <= 1 else mp.zero),
    "neat_cube": (lambda z: z**3, lambda z: 3 * z * z),
})
#: Functions that are ``z`` times a factor or ``z`` over one: nan is accepted at +-inf.
PRODUCTS = frozenset({"gelu", "silu", "softsign"})
#: Functions without a limit at +-inf.
NO_LIMIT = frozenset({"sin"})
#: Slopes at ``z = nan`` that are not nan: constant, or reading ``z`` only by comparison.
NAN_SLOPE = {"identity": 1.0, "relu": 0.0, "leaky_relu": 0.01, "abs": 0.0, "neat_lelu": 0.005,
             "neat_clamped": 0.0, "neat_hat": 0.0}
_BEYOND = mp.mpf("1e1000")  # where a function has reached its limit at +-inf


def rounded(value: Any, dtype: type[np.floating]) -> float:
    """``value`` correctly rounded to ``dtype`` (round to nearest; +-inf from the largest
    finite float plus half an ulp on; subnormals rounded once, not twice)."""
    if mp.isnan(value):
        return math.nan
    if abs(value) >= _TOP[dtype]:
        return math.copysign(math.inf, value)
    d = float(value)  # correctly rounded to float64 where that is normal
    f = dtype(d)
    if float(f) == d and d == value:  # exact in dtype
        return d
    with np.errstate(over="ignore"):
        near = (f, np.nextafter(f, dtype(np.inf)), np.nextafter(f, dtype(-np.inf)))
    # Rounding d again gives value's rounding unless d is a midpoint of dtype's grid.
    if abs(d) >= _NORMAL and all(d != (float(f) + float(c)) / 2 for c in near[1:]):
        return float(f)
    return float(min(near, key=lambda c: abs(mp.mpf(float(c)) - value)))


#: From the largest finite value plus half an ulp on, values round to +-inf.
_TOP = {t: mp.mpf(float(np.finfo(t).max))
        + mp.mpf(2) ** (int(np.finfo(t).maxexp) - int(np.finfo(t).nmant) - 2)
        for t in (np.float32, np.float64)}
#: Below the smallest normal float64, ``float(mpf)`` may round twice.
_NORMAL = float(np.finfo(np.float64).tiny)


def _truth(name: str, slope: bool, z: float, dtype: type[np.floating]) -> tuple[float, float]:
    """``(want, also)`` at one input: the value of rule 1 (or, at +-inf and nan, of the
    limit and nan conventions) and the value rule 2 also accepts (``want`` if none)."""
    f = EXACT[name][slope]
    if math.isnan(z):
        want = NAN_SLOPE.get(name, math.nan) if slope else math.nan
        return want, want
    if math.isinf(z):
        want = math.nan if name in NO_LIMIT else rounded(f(math.copysign(1, z) * _BEYOND), dtype)
        return want, math.nan if name in PRODUCTS else want
    want = rounded(f(mp.mpf(z)), dtype)
    huge = math.isfinite(want) and abs(want) > float(np.finfo(dtype).max) / 2
    return want, math.copysign(math.inf, want) if huge else want


@functools.cache
def _table(name: str, slope: bool, raw: bytes, dtype_name: str) -> tuple[np.ndarray, np.ndarray]:
    dtype = np.dtype(dtype_name).type
    z = np.frombuffer(raw, dtype=dtype)
    pairs = [_truth(name, slope, float(v), dtype) for v in z]
    want = np.array([p[0] for p in pairs], dtype=dtype)
    also = np.array([p[1] for p in pairs], dtype=dtype)
    want.flags.writeable = also.flags.writeable = False
    return want, also


def truth(name: str, z: np.ndarray, *, slope: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """``(want, also)`` for the built-in activation ``name`` (its slope with ``slope``) at
    every element of ``z`` (float32 or float64), in ``z``'s dtype: ``want`` the value the
    rule above names, ``also`` the one it accepts as well (equal to ``want`` where it
    accepts one value only). Read-only arrays, computed once per input.

    >>> import numpy as np
    >>> want, also = truth("gelu", np.array([3.4028235e38, -np.inf], np.float32))
    >>> want.tolist(), also.tolist()
    ([3.4028234663852886e+38, -0.0], [inf, nan])
    """
    z = np.ascontiguousarray(z)
    return _table(name, slope, z.tobytes(), z.dtype.name)


def agree(got: np.ndarray, want: np.ndarray, *, rtol: float, atol: float) -> np.ndarray:
    """Elementwise ``|got - want| <= atol + rtol |want|``, equal infinities and both-nan
    counting as agreement."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    with np.errstate(invalid="ignore"):
        close = np.abs(got - want) <= atol + rtol * np.abs(want)
    return close | (got == want) | (np.isnan(got) & np.isnan(want))


def assert_agrees(got, name: str, z, *, slope: bool = False, rtol: float, atol: float,
                  what: str = "") -> None:
    """Assert that ``got`` (an engine's ``act(z)``, or its slope with ``slope``) agrees
    with the oracle at every ``z``: with ``want`` or with ``also`` (see :func:`truth`),
    within ``atol + rtol |value|``; the message lists every input that does not."""
    z = np.asarray(z.detach().cpu() if hasattr(z, "detach") else z)
    got = np.asarray(got.detach().cpu() if hasattr(got, "detach") else got, np.float64)
    want, also = truth(name, z, slope=slope)
    ok = agree(got, want, rtol=rtol, atol=atol) | agree(got, also, rtol=rtol, atol=atol)
    bad = np.flatnonzero(~ok)
    kind = f"{name}'" if slope else name
    assert not len(bad), f"{what}{kind} disagrees with the exact oracle at " + ", ".join(
        f"z={z[i]!r}: got {got[i]!r}, want {float(want[i])!r}"
        + ("" if agree(want[i:i + 1], also[i:i + 1], rtol=0, atol=0)[0]
           else f" (or {float(also[i])!r})")
        for i in bad[:12]
    )


def hard_inputs(dtype: torch.dtype) -> torch.Tensor:
    """Finite inputs: a grid on [-12, 12] and the hard cases (signed zeros, the smallest
    normal and a subnormal, values whose results overflow or underflow, the largest)."""
    info = torch.finfo(dtype)
    values = [0.0, -0.0, info.tiny, -info.tiny, info.tiny / 8, 1e-30, -1e-30, 0.5, -0.5, 3.0,
              -3.0, 19.9, 20.0, 20.1, -20.0, 60.0, -60.0, 88.0, 89.0, -104.0, 700.0, 710.0,
              -745.0, 1e4, -1e4, info.max, -info.max]
    return torch.cat([torch.linspace(-12, 12, 97, dtype=dtype), torch.tensor(values, dtype=dtype)])


#: Activations whose argument is scaled before a function that amplifies its rounding:
#: name -> (factor, cap), the atol grows with ``factor |z|`` up to ``cap`` (see tolerance).
SCALED = {"gelu": (1.0, 8.0), "silu": (1.0, 8.0), "neat_sigmoid": (5.0, 60.0),
          "neat_tanh": (2.5, 60.0), "neat_sin": (5.0, 60.0), "neat_softplus": (5.0, 60.0)}


def tolerance(act: str, z: torch.Tensor) -> dict[str, Any]:
    """How close an engine's ``act(z)`` or slope must come to the oracle: relative to the
    value, plus a few units in the last place of 1 (slopes such as sigmoid's h (1 - h)
    amplify a last-bit difference in h where h is near 1). gelu and silu are z times a
    factor (Phi(z), sigmoid(z)): a few ulp of the factor are |z| times that, for |z| up to
    8, beyond which the factor is 0 or 1 to the last bit (torch's float32 gelu, which the
    sparse engines run, is off by 2.5 |z| eps near z = 3, where 1 + erf(z / sqrt 2)
    cancels, on every x86 kernel path). neat's sigmoid, tanh, sin and softplus scale z
    first (5z, 2.5z) and clamp it to [-60, 60]: the product rounded in the dtype (as torch
    computes it) is off by up to 30 ulp of 1, which sin passes on whole."""
    eps = torch.finfo(z.dtype).eps
    factor, cap = SCALED.get(act, (0.0, 1.0))
    scale = (factor * z.abs()).nan_to_num(1.0, 1.0, 1.0).clamp(1, cap).cpu().numpy()  # (n,)
    return dict(rtol=16 * eps, atol=4 * eps * scale)
