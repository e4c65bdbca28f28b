#!/usr/bin/env python3
"""Fits the polynomials of HalfMath (kernels/activation_math.cuh) with mpmath.

Usage: fit_half_math.py            (needs the mpmath package)

Prints, for each fit, the coefficients (highest degree first, as the Horner
loops in activation_math.cuh use them) and the maximum relative error on a
fine grid. Re-run it to check or change the constants; the kernels do not
read its output.

1. erfc: for z >= 0, erfc(z) = q R(q) e^(-z^2) with q = 1/(1 + p z),
   p = 15/32 (exact in float). R is smooth on q in [0, 1]: R(1) = 1 and
   R(0) = p/sqrt(pi) (from erfc(z) e^(z^2) ~ 1/(z sqrt(pi))).
2. gelu'(x) = Phi(x) + x phi(x) near its root x0 = -0.7518: the two terms
   cancel, so the kernels use gelu'(x0 + d) = d P(d) on d in [-1/4, 1/4]
   and need x0 split into float hi + lo.
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
        print("    %.10g" % float(c))


def fit_erfc():
    p = mp.mpf(15) / 32

    def r_of_q(q):
        if q == 0:
            return p / mp.sqrt(mp.pi)
        z = (1 / q - 1) / p
        return mp.erfc(z) * mp.exp(z * z) / q

    poly = mp.chebyfit(r_of_q, [0, 1], 10)
    report("erfc R(q), q = 1/(1 + 15/32 z)", poly, r_of_q, mp.mpf(0), mp.mpf(1))


def fit_gelu_root():
    def gelu_prime(x):
        return mp.ncdf(x) + x * mp.npdf(x)

    x0 = mp.findroot(gelu_prime, -0.75)
    hi = as_float(x0)
    lo = as_float(x0 - hi)
    print("gelu' root x0 = %s = %.9g + %.9g" % (mp.nstr(x0, 20), hi, lo))

    def p_of_d(d):
        return gelu_prime(x0 + d) / d if d != 0 else mp.diff(gelu_prime, x0)

    poly = mp.chebyfit(p_of_d, [-0.25, 0.25], 7)
    report("gelu' = d P(d), d = x - x0", poly, p_of_d, mp.mpf(-0.25), mp.mpf(0.25))


if __name__ == "__main__":
    fit_erfc()
    fit_gelu_root()
