"""Regenerate the polynomial behind the fused engine's vectorised normal CDF (gelu).

Run from the repository root (mpmath comes with torch)::

    python benchmarks/fit_normal_cdf.py           # float64 results: _PHI_G
    python benchmarks/fit_normal_cdf.py --narrow  # float32 results: _PHI_G32

For ``x >= 0`` let ``Q(x) = Phi(-x) e^{x^2/2} = erfc(x / sqrt 2) e^{x^2/2} / 2``. Then
``Phi(z) = e^{-z^2/2} Q(-z)`` for ``z < 0`` and ``1 - e^{-z^2/2} Q(z)`` for ``z >= 0``,
so only ``Q`` on ``[0, X]`` is needed, and nothing cancels. ``Q`` falls like
``1 / (x sqrt(2 pi))``; ``g(x) = Q(x) (x + K)`` with ``K = sqrt(2 / pi)`` is flat
(``g(0) = g(inf) = 1 / sqrt(2 pi)``, at most 0.473 between), so a polynomial for ``g``
is evaluated with little rounding. Its variable is ``s = C / (C + x)``, which maps
``[0, inf)`` onto ``(0, 1]`` and keeps ``g`` smooth in ``s``, rescaled to
``t = (2 s - (1 + S0)) / (1 - S0)`` in ``[-1, 1]`` on ``x`` in ``[0, X]``
(``S0 = C / (C + X)``). The coefficients of ``g`` as a polynomial in ``t`` come from
Chebyshev interpolation at 40 significant digits (mpmath), then are rounded to float64;
the script prints them (lowest degree first) and the largest relative error of the
rounded polynomial against ``g`` on a fine grid, computed at 40 digits.

With ``--narrow`` it fits the set used where results are rounded to float32: ``X = 15``
(gelu and its derivative round to 0 or to ``z`` in float32 beyond it) and degree 12,
whose error (about 1e-10) is a fiftieth of a float32 ulp.
"""

from __future__ import annotations

import mpmath as mp

mp.mp.dps = 40

#: The constants, as float64 values: the kernels use exactly these.
C = 6.0
X = 40.0  # e^{-X^2/2} is far below the smallest subnormal: beyond X, Q is not needed
K = 0.7978845608028654  # sqrt(2 / pi) rounded; any value works, the fit uses this one
DEGREE = 22
#: The range and degree of the float32 set (``--narrow``).
X_NARROW, DEGREE_NARROW = 15.0, 12


def g(t: mp.mpf, X: float = X) -> mp.mpf:
    """``g`` at ``t`` in ``[-1, 1]`` (``t`` spans ``x`` in ``[0, X]``)."""
    s0 = mp.mpf(C) / (C + X)
    s = ((1 - s0) * t + (1 + s0)) / 2
    x = C * (1 - s) / s
    return mp.erfc(x / mp.sqrt(2)) / 2 * mp.exp(x * x / 2) * (x + mp.mpf(K))


def fit(degree: int = DEGREE, X: float = X) -> list[float]:
    """Monomial coefficients of ``g`` in ``t``, lowest degree first, rounded to float64."""
    n = degree + 1
    nodes = [mp.cos(mp.pi * (j + mp.mpf(1) / 2) / n) for j in range(n)]
    values = [g(t, X) for t in nodes]
    cheb = []
    for i in range(n):
        c = sum(v * mp.cos(mp.pi * i * (j + mp.mpf(1) / 2) / n) for j, v in enumerate(values))
        cheb.append(c * (2 if i else 1) / n)
    # Chebyshev polynomials T_i as monomial coefficient lists, then the sum.
    T = [[mp.mpf(1)], [mp.mpf(0), mp.mpf(1)]]
    while len(T) < n:
        a, b = T[-1], T[-2]
        T.append([2 * u - w for u, w in zip([mp.mpf(0), *a], b + [mp.mpf(0)] * 2, strict=False)])
    mono = [mp.mpf(0)] * n
    for c, p in zip(cheb, T, strict=False):
        for i, v in enumerate(p):
            mono[i] += c * v
    return [float(m) for m in mono]


def worst(coefficients: list[float], X: float = X, points: int = 2000) -> mp.mpf:
    """The largest relative error of the float64 coefficients on ``points`` values of t."""
    err = mp.mpf(0)
    for i in range(points):
        t = mp.mpf(-1) + 2 * mp.mpf(i) / (points - 1)
        p = mp.mpf(0)
        for a in reversed(coefficients):
            p = p * t + mp.mpf(a)
        err = max(err, abs(p / g(t, X) - 1))
    return err


if __name__ == "__main__":
    import sys

    narrow = "--narrow" in sys.argv[1:]
    x_max, degree = (X_NARROW, DEGREE_NARROW) if narrow else (X, DEGREE)
    coefficients = fit(degree, x_max)
    print("_PHI_G32 = (" if narrow else "_PHI_G = (")
    for a in coefficients:
        print(f"    {a!r},")
    print(")")
    print(f"# largest relative error: {mp.nstr(worst(coefficients, x_max), 3)}")
