#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fits the polynomials of the float-only gelu and gelu_tanh math
(kernels/f32_gelu.cuh) with mpmath and numpy.

Usage: fit_f32_gelu.py [--degree-y N]      (needs mpmath and numpy)

Prints each fit's coefficients as the header spells them (float literals,
highest degree first, heads and tails of double-float coefficients) and its
maximum relative error on a fine grid, with every coefficient already rounded
to float (the ones after a rounded one are refitted). Re-run it to check or
change the constants; the kernels do not read its output.

1. exp: e^r = 1 + r + r^2 P(r) on |r| <= ln2/2 (a little more, for the
   rounding of k), P of degree 4.
2. gelu's Y(t): Phi(-a) = e^(-a^2/2) Y(t) / (a + 2) with t = (a-2)/(a+2),
   so Y = (a + 2) erfcx(a/sqrt2) / 2, smooth on t in [-1, 1) (Y(-1) = 1,
   Y -> 1/sqrt(2 pi) as a -> inf). Fitted on t in [-1, t(15)]: gelu's
   results (and gelu' times a moderate dy) are 0 beyond |x| = 15 on the left and x on the right.
   Y = c0 + c1 t + (t + t^2) R(t), c1 = c0 - 1 (see fit_gelu_y).
3. the derivative windows around each root x0: gelu'(x0 + d) = d W(d)
   for |d| <= 1/4 (degree 8) and gelu_tanh'(x0 + d) = d W(d) for
   |d| <= 1/16 (degree 4; gelu_tanh' keeps its cancelling sum as an exact
   pair, so it needs a narrower window).
Fits: Lawson's iteratively reweighted least squares on a fine grid (close to
minimax for the relative error).
"""
import struct
import sys

try:
    import mpmath as mp
    import numpy as np
except ImportError:
    sys.exit("fit_f32_gelu.py needs mpmath and numpy (pip install mpmath numpy)")

mp.mp.dps = 40


def f32(v):
    return struct.unpack("f", struct.pack("f", float(v)))[0]


def split(v):
    """v as head + tail, both floats."""
    h = f32(v)
    return h, f32(mp.mpf(v) - h)


def lawson(basis, target, weight, iterations=60):
    """min max |weight * (basis @ c - target)| by reweighted least squares."""
    lw = np.ones(len(target)) / len(target)
    best, best_err = None, np.inf
    for _ in range(iterations):
        sw = np.sqrt(lw) * weight
        c, *_ = np.linalg.lstsq(basis * sw[:, None], target * sw, rcond=None)
        err = np.abs(weight * (basis @ c - target))
        if err.max() < best_err:
            best, best_err = c, err.max()
        lw = lw * err
        lw /= lw.sum()
    return best


def evaluate(coeffs, t):
    return sum(sum(mp.mpf(x) for x in coeffs[p]) * mp.mpf(t) ** p for p in coeffs)


def report(name, coeffs, f, lo, hi, points=20000):
    worst = 0
    for i in range(points + 1):
        t = lo + (hi - lo) * mp.mpf(i) / points
        exact = f(t)
        if exact != 0:
            worst = max(worst, abs(evaluate(coeffs, t) / exact - 1))
    print("%s on [%.6g, %.6g]: max relative error 2^%.2f" % (name, float(lo), float(hi), float(mp.log(worst, 2))))
    for p in sorted(coeffs, reverse=True):
        print("    t^%-2d %s" % (p, ", ".join("%.9ef" % x for x in coeffs[p])))


def grid(f, lo, hi, n=6000):
    # Chebyshev-like clustering at the ends
    k = np.arange(n + 1)
    ts = (lo + hi) / 2 - (hi - lo) / 2 * np.cos(np.pi * k / n)
    return ts, np.array([float(f(mp.mpf(t))) for t in ts])


def fit_exp():
    lo, hi = -0.3466 * 1.001, 0.3466 * 1.001
    f = lambda r: (mp.exp(r) - 1 - r) / (r * r) if r != 0 else mp.mpf(0.5)
    ts, vals = grid(f, lo, hi)
    # relative to e^r, which is what matters: weight r^2 / e^r
    powers = [0, 1, 2, 3, 4]
    fixed = {}
    rounded = {}
    weight = ts**2 / np.exp(ts)
    todo = list(powers)
    while todo:
        rest = vals - sum(fixed[p] * ts**p for p in fixed)
        basis = np.stack([ts**p for p in todo], axis=1)
        c = lawson(basis, rest, weight)
        p = todo.pop(0)
        fixed[p] = f32(c[0])
        rounded[p] = (fixed[p],)
    worst = 0
    for i in range(20001):
        r = mp.mpf(lo) + (mp.mpf(hi) - lo) * i / 20000
        e = 1 + r + r * r * evaluate(rounded, r)
        worst = max(worst, abs(e / mp.exp(r) - 1))
    print("exp: e^r = 1 + r + r^2 P(r), |r| <= %.5f: max relative error 2^%.2f" % (hi, float(mp.log(worst, 2))))
    for p in sorted(rounded, reverse=True):
        print("    r^%d %.9ef" % (p, rounded[p][0]))


def gelu_y(t):
    a = 2 * (1 + t) / (1 - t)
    z = a / mp.sqrt(2)
    return (a + 2) * mp.erfc(z) * mp.exp(z * z) / 2


def fit_poly(name, f, lo, hi, degree, split_powers, first_power=0):
    ts, vals = grid(f, lo, hi)
    powers = list(range(first_power, degree + 1))
    fixed = {}
    rounded = {}
    weight = 1 / np.abs(vals)
    todo = list(powers)
    while todo:
        rest = vals - sum(sum(fixed[p]) * ts**p for p in fixed)
        basis = np.stack([ts**p for p in todo], axis=1)
        c = lawson(basis, rest, weight)
        p = todo.pop(0)
        if p in split_powers:
            # the head rounded, the tail refitted with the rest
            h = f32(c[0])
            rest2 = rest - h * ts**p
            basis2 = np.stack([ts**q for q in [p] + todo], axis=1)
            c2 = lawson(basis2, rest2, weight)
            fixed[p] = (h, f32(c2[0]))
        else:
            fixed[p] = (f32(c[0]),)
        rounded[p] = fixed[p]
    report(name, rounded, f, mp.mpf(lo), mp.mpf(hi))
    return rounded


def gelu_derivative(x):
    return mp.ncdf(x) + x * mp.npdf(x)


def gelu_tanh_derivative(x):
    k = mp.sqrt(2 / mp.pi)
    u = k * (x + mp.mpf("0.044715") * x**3)
    du = k * (1 + 3 * mp.mpf("0.044715") * x * x)
    s = 1 / (1 + mp.exp(-2 * u))
    return s + 2 * x * s * (1 - s) * du


def root_window(name, f, guess, degree, half_width):
    x0 = mp.findroot(f, guess)
    h, l = split(x0)
    print("%s root x0 = %s = %.9ef + %.9ef" % (name, mp.nstr(x0, 20), h, l))
    w = lambda d: f(x0 + d) / d if d != 0 else mp.diff(f, x0)
    return fit_poly(name + " window W(d)", w, -half_width, half_width, degree, split_powers=(0,))


def fit_gelu_y(degree, t_max):
    """Y(t) = c0 + c1 t + (t + t^2) R(t) with c1 = c0 - 1 exactly in float:
    the head c0 + c1 t is then exactly 1 at t = -1 (a = 0) and the tail
    vanishes there, so Phi(0) comes out as 1/2 exactly. c0 as head + tail
    (the tail c0l multiplies 1 + t). The tail of the fit, (t + t^2) R, stays
    under 7% of Y, which damps the rounding errors of R's evaluation."""
    ts, vals = grid(gelu_y, -1.0, t_max)
    weight = 1 / np.abs(vals)
    target = vals + ts  # = c0 (1 + t) + (t + t^2) R(t)
    powers = list(range(degree - 1))
    tail_basis = [(ts + ts**2) * ts**j for j in powers]
    basis = np.stack([1 + ts] + tail_basis, axis=1)
    c = lawson(basis, target, weight)
    c0h = f32(c[0])
    rest = target - c0h * (1 + ts)
    c = lawson(basis, rest, weight)
    c0l = f32(c[0])
    rest = rest - c0l * (1 + ts)
    r = {}
    todo = list(powers)
    while todo:
        c = lawson(np.stack([tail_basis[j] for j in todo], axis=1), rest, weight)
        j = todo.pop(0)
        r[j] = f32(c[0])
        rest = rest - r[j] * tail_basis[j]
    c1h = f32(c0h - 1)
    assert c1h == c0h - 1
    worst, worst_tail = 0, 0
    for i in range(20001):
        t = mp.mpf(-1) + (mp.mpf(t_max) + 1) * i / 20000
        tail = (t + t * t) * sum(mp.mpf(r[j]) * t**j for j in r)
        y = (mp.mpf(c0h) + c0l) * (1 + t) - t + tail
        exact = gelu_y(t)
        worst = max(worst, abs(y / exact - 1))
        worst_tail = max(worst_tail, abs(tail / exact))
    print("gelu Y(t) on [-1, %.6g]: max relative error 2^%.2f, tail at most %.3f of Y" %
          (t_max, float(mp.log(worst, 2)), float(worst_tail)))
    print("    c0 = %.9ef + %.9ef, c1 = %.9ef" % (c0h, c0l, c1h))
    print("    R, highest degree first: " + ", ".join("%.9ef" % r[j] for j in sorted(r, reverse=True)))


def main(argv):
    degree_y = int(argv[argv.index("--degree-y") + 1]) if "--degree-y" in argv else 11
    if "--only-y" not in argv:
        fit_exp()
    t_max = (mp.mpf(15) - 2) / (mp.mpf(15) + 2)
    fit_gelu_y(degree_y, float(t_max))
    if "--only-y" in argv:
        return 0
    root_window("gelu'", gelu_derivative, -0.75, 8, 0.25)
    root_window("gelu_tanh'", gelu_tanh_derivative, -0.75, 4, 0.0625)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
