#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fits the polynomials of HalfMath and F32Math (kernels/math_policies.cuh)
with mpmath.

Usage: fit_half_math.py            (needs the mpmath package)

Prints, for each fit, the coefficients (highest degree first, as the Horner
loops in math_policies.cuh use them) and the maximum relative error on a
fine grid. Re-run it to check or change the constants; the kernels do not
read its output.

1. erfc: for z >= 0, erfc(z) = q R(q) e^(-z^2) with q = 1/(1 + p z).
   R is smooth on q in [0, 1]: R(1) = 1 and R(0) = p/sqrt(pi) (from
   erfc(z) e^(z^2) ~ 1/(z sqrt(pi))). HalfMath: p = 15/32 (exact in float),
   degree 9; F32Math: p = 1/2, degree 17.
2. gelu'(x) = Phi(x) + x phi(x) near its root x0 = -0.7518: the two terms
   cancel, so the kernels use gelu'(x0 + d) = d P(d) on d in [-1/4, 1/4]
   and need x0 split into hi + lo: degree 6 in float, 9 in double.
3. F32Math exp: e^r = 1 + r Q(r) on |r| <= ln2/2, Q of degree 8 (so that
   e^0 = 1 exactly).
Chebyshev fits (mpmath.chebyfit): near-minimax, which is all these need.
"""
import struct
import sys

try:
    import mpmath as mp
except ImportError:
    sys.exit("fit_half_math.py needs mpmath (pip install mpmath)")

mp.mp.dps = 40


def as_float(v):
    return struct.unpack("f", struct.pack("f", float(v)))[0]


def report(name, poly, f, lo, hi, points=4000):
    worst = 0
    for i in range(points + 1):
        t = lo + (hi - lo) * mp.mpf(i) / points
        exact = f(t)
        if exact != 0:
            worst = max(worst, abs(mp.polyval(poly, t) / exact - 1))
    print("%s: degree %d, max relative error 2^%.1f" % (name, len(poly) - 1, float(mp.log(worst, 2))))
    print("  coefficients, highest degree first:")
    for c in poly:
        print("    %.17g" % float(c))


def fit_erfc(p, degree):
    def r_of_q(q):
        if q == 0:
            return p / mp.sqrt(mp.pi)
        z = (1 / q - 1) / p
        return mp.erfc(z) * mp.exp(z * z) / q

    poly = mp.chebyfit(r_of_q, [0, 1], degree + 1)
    report("erfc R(q), q = 1/(1 + %s z)" % mp.nstr(p, 6), poly, r_of_q, mp.mpf(0), mp.mpf(1))
    if degree > 9:
        # F32Math: make Horner in double give R(1) = 1 exactly (erfc(0) = 1)
        partial = float(poly[0])
        for c in poly[1:-1]:
            partial = partial + float(c)
        print("  constant term for an exact R(1) = 1 in double: %r" % (1.0 - partial))


def fit_gelu_root(degree):
    def gelu_prime(x):
        return mp.ncdf(x) + x * mp.npdf(x)

    x0 = mp.findroot(gelu_prime, -0.75)
    print("gelu' root x0 = %s = %.9g + %.9g (float) = %.17g + %.17g (double)" %
          (mp.nstr(x0, 20), as_float(x0), as_float(x0 - as_float(x0)), float(x0), float(x0 - mp.mpf(float(x0)))))

    def p_of_d(d):
        return gelu_prime(x0 + d) / d if d != 0 else mp.diff(gelu_prime, x0)

    poly = mp.chebyfit(p_of_d, [-0.25, 0.25], degree + 1)
    report("gelu' = d P(d), d = x - x0", poly, p_of_d, mp.mpf(-0.25), mp.mpf(0.25))


def fit_exp():
    half = mp.log(2) / 2 * mp.mpf("1.0001")

    def q_of_r(r):
        return (mp.exp(r) - 1) / r if r != 0 else mp.mpf(1)

    poly = mp.chebyfit(q_of_r, [-half, half], 9)
    report("exp: Q(r) = (e^r - 1)/r (the error of e^r is about |r| times it)", poly, q_of_r, -half, half)


if __name__ == "__main__":
    print("== HalfMath (float)")
    fit_erfc(mp.mpf(15) / 32, 9)
    fit_gelu_root(6)
    print("== F32Math (double)")
    fit_erfc(mp.mpf(1) / 2, 17)
    fit_gelu_root(9)
    fit_exp()
