// SPDX-License-Identifier: MIT
/*
 * f32_math.cuh - single-precision building blocks for the f32 kernels, and
 * F32Math, the math policy of f32 storage (math_policies.cuh).
 *
 * Everything computes in float on the FP32 pipe: no double anywhere. The
 * accuracy comes from error-free transformations (two_sum, two_prod) and
 * float-float pairs where a sum would cancel or a small low part matters,
 * not from a wider type. Only IEEE-exact operations are used (add, mul,
 * fmaf, div, sqrt) plus integer bit work, and every FMA is written out as
 * fmaf (the library builds with -fmad=false, so nvcc contracts nothing):
 * the host build of these functions gives the same bits as the device, and
 * tests/test_device_math_on_host.cpp proves the GPU's numbers without a
 * GPU. The one hardware approximation, the reciprocal (MUFU.RCP), sits
 * behind F32Hardware and is always corrected by an FMA residual; the tests
 * swap in a deliberately skewed one.
 *
 * Conventions: a Pair {hi, lo} stands for hi + lo. "Normalised" means
 * hi = fl(hi + lo), so |lo| <= ulp(hi)/2. Accuracies are relative unless
 * said otherwise.
 */
#ifndef ACTK_KERNELS_F32_MATH_CUH
#define ACTK_KERNELS_F32_MATH_CUH

#include <math.h>

#include "float_bits.cuh"

#ifndef ACTK_HD
#if defined(__CUDACC__)
#define ACTK_HD __host__ __device__ __forceinline__
#else
#define ACTK_HD inline
#endif
#endif

namespace actk {

/* The hardware approximation the f32 math uses (a separate struct so the
 * tests can swap in a skewed one and show the bounds do not depend on its
 * exact bits). */
struct F32Hardware {
    /* 1/d for d in [2^-126, 2^126]: MUFU.RCP on the device (rcp.approx.ftz,
     * within 1 ulp; the result is normal there, so ftz changes nothing), the
     * correctly rounded quotient on the host. Callers always correct it
     * with an FMA residual. */
    ACTK_HD static float rcp(float d)
    {
#if defined(__CUDA_ARCH__)
        float r;
        asm("rcp.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(d));
        return r;
#else
        return 1.0f / d;
#endif
    }
};

/* R(q) of erfc(|z|) = q R(q) e^(-z^2), q = 1/(1 + 15/32 |z|): a degree-9
 * fit on q in [0, 1] (tools/fit_half_math.py), relative error 2^-23. Shared
 * by HalfMath's erfc and f32::erfc_and_gauss (the policy's generic erfc;
 * gelu's f32 formulas have their own, tighter fit). */
ACTK_HD float erfc_q_polynomial(float q)
{
    float r = -0.04061359493f;
    r = fmaf(r, q, 0.1644981805f);
    r = fmaf(r, q, -0.2046234332f);
    r = fmaf(r, q, 0.02501948891f);
    r = fmaf(r, q, 0.01612444955f);
    r = fmaf(r, q, 0.09722272735f);
    r = fmaf(r, q, 0.1781186913f);
    r = fmaf(r, q, 0.2353227389f);
    r = fmaf(r, q, 0.2644668429f);
    return fmaf(r, q, 0.2644638521f);
}

namespace f32 {

/* (tanh(x) - x)/x^3 as a polynomial in w = x^2, for |x| < 0.35 (the next
 * term is below 2^-30 relative): tanh x = x + x w p(w). */
ACTK_HD float tanh_small_polynomial(float w)
{
    float p = -1.45583438e-03f;
    p = fmaf(p, w, 3.59212804e-03f);
    p = fmaf(p, w, -8.86323552e-03f);
    p = fmaf(p, w, 2.18694885e-02f);
    p = fmaf(p, w, -5.39682540e-02f);
    p = fmaf(p, w, 1.33333333e-01f);
    return fmaf(p, w, -3.33333333e-01f);
}

/* ---- bits: bits_of, from_bits (float_bits.cuh) --------------------------- */

/* 2^k for k in [-126, 127], built from bits (no MUFU). */
ACTK_HD float pow2(int k) { return from_bits((k + 127) << 23); }

/* v * 2^k rounded once, for k in [-252, 254] and v normal with |v| >= 1/2
 * (the mantissas below). Two exact power-of-two factors: the first keeps
 * the value normal, so only the last multiply rounds, also when the
 * result is subnormal (one rounding after v's own). 0 or inf when the
 * result is out of range. */
ACTK_HD float scale_once(float v, int k)
{
    const int k1 = k / 2;
    return (v * pow2(k1)) * pow2(k - k1);
}

/* ---- error-free transformations and float-float pairs ---------------------- */

struct Pair {
    float hi;
    float lo;
};

/* a + b = s + e exactly (Knuth), any a, b (finite, no overflow). */
ACTK_HD Pair two_sum(float a, float b)
{
    const float s = a + b;
    const float bb = s - a;
    const float e = (a - (s - bb)) + (b - bb);
    return {s, e};
}

/* a + b = s + e exactly (Dekker), when |a| >= |b| (the exponent of a at
 * least that of b suffices) or b = 0. */
ACTK_HD Pair fast_two_sum(float a, float b)
{
    const float s = a + b;
    return {s, b - (s - a)};
}

/* a * b = p + e exactly (by FMA), unless a * b over- or underflows. */
ACTK_HD Pair two_prod(float a, float b)
{
    const float p = a * b;
    return {p, fmaf(a, b, -p)};
}

/* (a.hi + a.lo) + b, normalised; relative error about 2^-44 when the sum
 * does not cancel (a "sloppy" float-float add). */
ACTK_HD Pair add(Pair a, float b)
{
    const Pair s = two_sum(a.hi, b);
    return fast_two_sum(s.hi, s.lo + a.lo);
}

ACTK_HD Pair add(Pair a, Pair b)
{
    const Pair s = two_sum(a.hi, b.hi);
    return fast_two_sum(s.hi, s.lo + (a.lo + b.lo));
}

/* (a.hi + a.lo) * b, normalised; about 2^-44. */
ACTK_HD Pair mul(Pair a, float b)
{
    const Pair p = two_prod(a.hi, b);
    return fast_two_sum(p.hi, fmaf(a.lo, b, p.lo));
}

/* (a.hi + a.lo) * (b.hi + b.lo), normalised; about 2^-44. */
ACTK_HD Pair mul(Pair a, Pair b)
{
    const Pair p = two_prod(a.hi, b.hi);
    return fast_two_sum(p.hi, fmaf(a.hi, b.lo, fmaf(a.lo, b.hi, p.lo)));
}

/* ---- reciprocal and division ------------------------------------------------
 * r = rcp(d.hi) is within a few ulp; the residual rho = 1 - r d (one FMA,
 * exact while r is within an ulp or so, else rounded far below 2^-40)
 * gives 1/d = r (1 + rho + rho^2 ...), and r + r rho is good to about
 * 2^-44 whatever the approximation's last bits. */

/* 1/(d.hi + d.lo) as an unnormalised pair (r, r rho), d.hi in [1, 2^126]. */
template <class Hw = F32Hardware> ACTK_HD Pair reciprocal(Pair d)
{
    const float r = Hw::rcp(d.hi);
    const float rho = fmaf(-r, d.lo, fmaf(-r, d.hi, 1.0f));
    return {r, r * rho};
}

/* a / (d.hi + d.lo) rounded nearly correctly (error about 0.5 ulp +
 * 2^-40): q = a r, then one residual step. a finite, d.hi in [1, 2^126]. */
template <class Hw = F32Hardware> ACTK_HD float divide(Pair a, Pair d)
{
    const float r = Hw::rcp(d.hi);
    const float q = a.hi * r;
    const float rem = fmaf(-q, d.lo, fmaf(-q, d.hi, a.hi)) + a.lo;
    return fmaf(rem, r, q);
}

/* The same quotient as a normalised pair (about 2^-44). */
template <class Hw = F32Hardware> ACTK_HD Pair divide_pair(Pair a, Pair d)
{
    const float r = Hw::rcp(d.hi);
    const float q = a.hi * r;
    const float rem = fmaf(-q, d.lo, fmaf(-q, d.hi, a.hi)) + a.lo;
    /* r approximates 1/d to ~1 ulp; the correction rem r is ~2^-23 of q, so
     * its own error is ~2^-46 */
    const float q2 = rem * r;
    const float rem2 = fmaf(-q2, d.hi, rem);
    return fast_two_sum(q, fmaf(rem2, r, q2));
}

template <class Hw = F32Hardware> ACTK_HD float divide(float a, float b)
{
    return divide<Hw>(Pair{a, 0.0f}, Pair{b, 0.0f});
}

/* ---- exponential core ---------------------------------------------------------
 * e^(x + xl) = 2^k (m.hi + m.lo), m normalised, m.hi in [0.70, 1.42].
 *   k = rint(x log2 e) by the 1.5 * 2^23 shifter (k lands in the low bits);
 *   r = x - k LN2_H is exact (LN2_H = ln2 rounded to float: inside fmaf the
 *   product is exact, and the difference is a multiple of ulp(x) or 2^-25
 *   below 1/2, so it fits 24 bits);
 *   rl = xl - k LN2_L is tiny (|k LN2_L| < 2^-21), so first order in it
 *   suffices;
 *   e^r = 1 + r + r^2/2 + r^3 P(r): 1 + r + r^2/2 as exact pieces, r^3 P(r)
 *   (at most 0.007) in plain float, and the low argument to first order,
 *   rl e^r, with e^r the full sum (not 1 + r: that slip costs ulps when
 *   |rl| is large, as for a rounded argument);
 *   then normalised, so m.lo is a true low part (a 1 + m sum or a division
 *   by it relies on that).
 * |e^r - (m.hi + m.lo)| <= 2^-30 e^r or so (P's truncation 2^-32; the
 * float rounding of r^3 P dominates). x is clamped to [-200, 170]: e^-200
 * < 2^-288, times any float multiplier (< 2^128), a mantissa (< 2) and a
 * polynomial factor (|1 + x| < 2^8) rounds to 0, so the clamp changes no
 * result; e^170 is inf in float. Below k = -252 (scale_once's range) the
 * excess exponent moves into m, exactly (m stays normal, >= 2^-38): a
 * result 2^k m v is the same number, and a huge v (a gradient dy up to
 * 2^128) still lands where it should, not at 2^-245 v. NaN stays NaN (in
 * m). */
struct ExpParts {
    Pair m;
    int k;
};

ACTK_HD ExpParts exp_core(float x, float xl)
{
    xl = (x > -200.0f && x < 170.0f) ? xl : 0.0f; /* a clamped x drops its low part (it may be huge) */
    /* k from the clamped x, NaN taken as -200 so that k stays in range (no
     * out-of-range shift in pow2); x itself keeps a NaN, so m is NaN */
    const float clamped = fminf(fmaxf(x, -200.0f), 170.0f);
    x = x != x ? x : clamped;
    const float shifter = 12582912.0f; /* 1.5 * 2^23 */
    const float t = fmaf(clamped, 1.44269502f, shifter);
    const float kf = t - shifter;
    const int k = bits_of(t) - bits_of(shifter);
    const float r = fmaf(kf, -0.693147182f, x); /* exact: see above */
    const float rl = fmaf(kf, 1.90465430e-09f, xl); /* ln2 - 0.693147182f = -1.9e-9 */
    /* (e^r - 1 - r - r^2/2)/r^3, Taylor through r^5/8!: truncation below
     * 2^-32 on |r| <= 0.35 */
    float p = 2.48015873e-05f;
    p = fmaf(p, r, 1.98412698e-04f);
    p = fmaf(p, r, 1.38888889e-03f);
    p = fmaf(p, r, 8.33333377e-03f);
    p = fmaf(p, r, 4.16666679e-02f);
    p = fmaf(p, r, 1.66666672e-01f);
    /* 1 + r + r^2/2 as exact pieces: 1 + r by Fast2Sum, r^2/2 by FMA,
     * their sum by Two-Sum; only r^3 P (under 0.007) is rounded in float */
    const Pair one_r = fast_two_sum(1.0f, r);
    const Pair half_sq = two_prod(r, 0.5f * r);
    const Pair head = two_sum(one_r.hi, half_sq.hi);
    float tail = fmaf(half_sq.hi * r, 2.0f * p, (one_r.lo + half_sq.lo) + head.lo);
    tail = fmaf(rl, head.hi + tail, tail);
    const Pair m = fast_two_sum(head.hi, tail);
    if (k >= -252) return {m, k};
    const float excess = pow2(k + 252); /* 2^-37 .. 2^-1: exact, m stays normal */
    return {{m.hi * excess, m.lo * excess}, -252};
}

/* The parts scaled to a pair: 2^k m.hi + 2^k m.lo. Exact while 2^k m.hi is
 * normal; below, the low part may underflow (harmless where it is added to
 * something much larger, as in 1 + e^-|z|). */
ACTK_HD Pair scaled(ExpParts e) { return {scale_once(e.m.hi, e.k), scale_once(e.m.lo, e.k)}; }

/* e^x rounded once from the core (near 0.5 ulp; subnormal results once
 * more). */
ACTK_HD float exp(float x, float xl = 0.0f)
{
    const ExpParts e = exp_core(x, xl);
    return scale_once(e.m.hi, e.k);
}

/* e^x - 1 as a normalised pair, any x (NaN stays NaN, inf gives inf, -inf
 * gives -1). For k = 0 (|x| < ln2/2) it is formed directly as r + r^2 P(r)
 * with no 1 + ... step, so small |x| keep full relative accuracy; otherwise
 * 2^k (m.hi + m.lo) - 1 with the subtraction exact (Fast2Sum). */
ACTK_HD Pair expm1_pair(float x, float xl = 0.0f)
{
    const ExpParts e = exp_core(x, xl);
    if (e.k == 0) {
        /* m.hi in [0.70, 1.42]: m.hi - 1 is exact (Sterbenz), and m.lo
         * holds r + r^2 P(r) beyond it to 2^-24 of its own size */
        return two_sum(e.m.hi - 1.0f, e.m.lo);
    }
    if (x > 88.8f) return {INFINITY, 0.0f};
    const Pair big = scaled(e);
    const bool up = e.k > 0;
    const Pair s = fast_two_sum(up ? big.hi : -1.0f, up ? -1.0f : big.hi);
    return fast_two_sum(s.hi, s.lo + big.lo);
}

ACTK_HD float expm1(float x, float xl = 0.0f)
{
    const Pair p = expm1_pair(x, xl);
    return p.hi;
}

/* ---- log1p on [0, 1] ----------------------------------------------------------
 * log1p(u) = 2 atanh(s), s = u/(2 + u) in [0, 1/3]: 2s + 2s^3/3 + ... =
 * 2s + s^3 P(s^2). s as a normalised pair from a corrected division
 * (using the rounded s alone would cost ~0.3 ulp); the series beyond 2s is
 * under 4 % of the result, so its float rounding is damped. Result as a
 * normalised pair, good to about 2^-27; u = u.hi + u.lo in [0, 1]. */
template <class Hw = F32Hardware> ACTK_HD Pair log1p_unit_pair(Pair u)
{
    const Pair two_u = fast_two_sum(2.0f, u.hi);
    const Pair d = {two_u.hi, two_u.lo + u.lo};
    const Pair s = divide_pair<Hw>(u, d);
    const float w = s.hi * s.hi;
    /* 2/(2j+3), j = 0..9: truncation below 2^-32 relative for s <= 1/3 */
    float p = 0.0952380952f;
    p = fmaf(p, w, 0.105263158f);
    p = fmaf(p, w, 0.117647059f);
    p = fmaf(p, w, 0.133333333f);
    p = fmaf(p, w, 0.153846154f);
    p = fmaf(p, w, 0.181818182f);
    p = fmaf(p, w, 0.222222222f);
    p = fmaf(p, w, 0.285714286f);
    p = fmaf(p, w, 0.400000006f);
    p = fmaf(p, w, 0.666666687f);
    /* s.lo enters the cubic term too: 2 s.lo (1 + s^2) */
    const float low = 2.0f * s.lo;
    return fast_two_sum(2.0f * s.hi, fmaf(s.hi * w, p, fmaf(low, w, low)));
}

template <class Hw = F32Hardware> ACTK_HD float log1p_unit(float u) { return log1p_unit_pair<Hw>(Pair{u, 0.0f}).hi; }

/* ---- tanh ----------------------------------------------------------------------
 * |x| < 0.35: x + x^3 T(x^2) (Taylor through x^15, truncation below 2^-30); else
 * (1 - E)/(1 + E), E = e^-2|x| (2|x| exact), numerator and denominator as
 * exact pairs, one corrected division. Near 0.5 ulp. */
template <class Hw = F32Hardware> ACTK_HD float tanh(float x)
{
    const float a = fabsf(x);
    if (a < 0.35f) {
        const float w = x * x;
        return fmaf(x * w, tanh_small_polynomial(w), x);
    }
    const Pair e = scaled(exp_core(-2.0f * a, 0.0f));
    const Pair one_minus = fast_two_sum(1.0f, -e.hi);
    const Pair one_plus = fast_two_sum(1.0f, e.hi);
    const float t = divide<Hw>(Pair{one_minus.hi, one_minus.lo - e.lo}, Pair{one_plus.hi, one_plus.lo + e.lo});
    return copysignf(t, x);
}

/* ---- erfc ----------------------------------------------------------------------
 * erfc(|z|) = q R(q) e^(-z^2), q = 1/(1 + 15/32 |z|), R the degree-9 fit
 * of HalfMath (math_policies.cuh; 2^-23), with z^2 split exactly into
 * the exponential's argument and its low part; erfc(z) = 2 - erfc(-z) for
 * z < 0. About 2^-21. erfc_and_gauss also returns e^(-z^2) (gelu'
 * wants both). */
template <class Hw = F32Hardware> ACTK_HD float erfc_and_gauss(float z, float *gauss)
{
    float a = fabsf(z);
    a = a > 12.0f ? 12.0f : a; /* erfc(12) is 0 in float; keeps inf * 0 away; NaN stays */
    const float q = divide<Hw>(1.0f, fmaf(0.46875f, a, 1.0f));
    const float r = erfc_q_polynomial(q);
    const Pair sq = two_prod(a, a);
    const ExpParts g = exp_core(-sq.hi, -sq.lo);
    *gauss = scale_once(g.m.hi, g.k);
    const float e = scale_once((q * r) * g.m.hi, g.k);
    return z < 0.0f ? 2.0f - e : e;
}

/* erfc alone */
template <class Hw = F32Hardware> ACTK_HD float erfc(float z)
{
    float gauss;
    return erfc_and_gauss<Hw>(z, &gauss);
}

} // namespace f32

/* The f32 storage policy (see the policy comment in math_policies.cuh):
 * float throughout, on the f32:: primitives above. kBits is what the
 * plain-float results of exp, expm1, log1p_unit and tanh reach before
 * their last rounding (about 2^-27); the ops that need more take the
 * pairs from f32:: directly. Argument-rounding corrections are on: in
 * float a rounded a*x costs |a x| 2^-24 relative in a tail, many ulps. */
template <class Hw> struct F32MathOn {
    using T = float;
    using Hardware = Hw;
    static constexpr bool kCorrectArgumentRounding = true;
    static constexpr int kBits = 26;
    ACTK_HD static float exp(float x) { return f32::exp(x); }
    ACTK_HD static float expm1(float x) { return f32::expm1(x); }
    ACTK_HD static float log1p_unit(float u) { return f32::log1p_unit<Hw>(u); }
    ACTK_HD static float tanh(float x) { return f32::tanh<Hw>(x); }
    ACTK_HD static float erfc(float z) { return f32::erfc<Hw>(z); }
    ACTK_HD static float erfc_and_gauss(float z, float *gauss) { return f32::erfc_and_gauss<Hw>(z, gauss); }
    /* a / b for finite a and b in [1, 2^126] */
    ACTK_HD static float div(float a, float b) { return f32::divide<Hw>(a, b); }
};
using F32Math = F32MathOn<F32Hardware>;

/* Whether M is an f32 policy: the ops take their f32 formulas
 * (f32_activations.cuh) under `if constexpr (IsF32Math<M>::value)`. */
template <class M> struct IsF32Math {
    static constexpr bool value = false;
};
template <class Hw> struct IsF32Math<F32MathOn<Hw>> {
    static constexpr bool value = true;
};

} // namespace actk

#endif
