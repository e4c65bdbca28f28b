// SPDX-License-Identifier: MIT
/*
 * f32_activations.cuh - the f32 formulas of the ops whose generic form
 * (activation_math.cuh) loses too much in float: the logistic family
 * (sigmoid, sigmoid', tanh', silu, silu'), mish, tanhshrink and the
 * from-y derivatives that add a rounded constant. The ops call these under
 * `if constexpr (IsF32Math<M>)`; everything is built on f32_math.cuh
 * (float only, exact transformations, one corrected MUFU.RCP per
 * division). Intermediate values are kept as float-float pairs and
 * mantissa-level results are scaled by 2^k once at the end, so results are
 * rounded (nearly) once, subnormal ones included.
 */
#ifndef ACTK_KERNELS_F32_ACTIVATIONS_CUH
#define ACTK_KERNELS_F32_ACTIVATIONS_CUH

#include "f32_math.cuh"

namespace actk {
namespace f32 {

/* dy * (f.hi + f.lo) with one rounding (the product dy f.hi is exact inside
 * the FMA). An infinite low product (dy infinite: inf * 0 or inf - inf
 * ahead) is dropped; dy f.hi decides. */
ACTK_HD float times(float dy, Pair f)
{
    const float low = dy * f.lo;
    return fmaf(dy, f.hi, fabsf(low) < INFINITY ? low : 0.0f);
}

/* dy (q.hi + q.lo) 2^k rounded once, for |q| in [2^-38, 2^8], k up to 254
 * and any dy. A dy beyond 2^64 or below 2^-64 is first moved by 2^-64 or
 * 2^64 (exactly) and k the other way, so dy q neither overflows nor drops
 * into the subnormals before the one scaling (a huge gradient times a tiny
 * derivative, or a tiny gradient times a large 2^k, is still right). Below
 * k = -252 the result is 0 whatever, so k is clamped there. */
ACTK_HD float times_scaled(float dy, Pair q, int k)
{
    const float a = fabsf(dy);
    const int s = a > 0x1p64f ? -64 : (a < 0x1p-64f ? 64 : 0);
    int shifted = k - s;
    shifted = shifted < -252 ? -252 : (shifted > 254 ? 254 : shifted);
    return scale_once(times(dy * pow2(s), q), shifted);
}

/* f(dy) for a derivative-times-gradient f whose intermediate products
 * assume a moderate dy: a dy beyond 2^64 or below 2^-64 goes in moved by
 * 2^-64 or 2^64 and the result comes back by the inverse (exact unless the
 * result is in the subnormals, where it costs one more rounding). The gelu
 * functions (f32_gelu.cuh) would otherwise overflow inside for dy near
 * 2^128. */
template <class F> ACTK_HD float with_moderate_gradient(float dy, F f)
{
    const float a = fabsf(dy);
    const float in = a > 0x1p64f ? 0x1p-64f : (a < 0x1p-64f ? 0x1p64f : 1.0f);
    const float out = a > 0x1p64f ? 0x1p64f : (a < 0x1p-64f ? 0x1p-64f : 1.0f);
    return f(dy * in) * out; /* one call: f is inlined once, not per case */
}

/* e = e^-|z + zl| = 2^k m and d = 1 + e as a pair (e scaled, its low part
 * may underflow when e is tiny: harmless in 1 + e). */
struct Logistic {
    ExpParts e;
    Pair d;
    bool negative;
};

ACTK_HD Logistic logistic(float z, float zl)
{
    const bool negative = z < 0.0f;
    const ExpParts e = exp_core(-fabsf(z), negative ? zl : -zl);
    const Pair es = scaled(e);
    const Pair one = fast_two_sum(1.0f, es.hi);
    return {e, {one.hi, one.lo + es.lo}, negative};
}

/* sigmoid(z + zl) = 2^k q: 1/d (k = 0) for z >= 0, m/d (k of e) below. */
template <class Hw> ACTK_HD Pair sigmoid_mantissa(const Logistic &l, int *k)
{
    *k = l.negative ? l.e.k : 0;
    return divide_pair<Hw>(l.negative ? l.e.m : Pair{1.0f, 0.0f}, l.d);
}

template <class Hw> ACTK_HD float sigmoid(float z, float zl)
{
    int k;
    const Pair q = sigmoid_mantissa<Hw>(logistic(z, zl), &k);
    return scale_once(q.hi, k);
}

/* dy sigmoid(z + zl) */
template <class Hw> ACTK_HD float dy_sigmoid(float dy, float z, float zl)
{
    int k;
    const Pair q = sigmoid_mantissa<Hw>(logistic(z, zl), &k);
    return times_scaled(dy, q, k);
}

/* dy * c e/(1 + e)^2 with e = e^-|a z|: sigmoid' (a = 1, c = 1) and tanh'
 * (a = 2, c = 4; 2z is exact). */
template <class Hw> ACTK_HD float dy_logistic_derivative(float dy, float z, int log2_c)
{
    const Logistic l = logistic(z, 0.0f);
    const Pair q = divide_pair<Hw>(l.e.m, mul(l.d, l.d));
    return times_scaled(dy, q, l.e.k + log2_c);
}

/* ---- softplus, logsigmoid ----------------------------------------------------
 * softplus(x) = (max(z, 0) + log1p(e)) / beta, z = beta x (= z + zl
 * exactly), e = e^-|z + zl|; the sum as a pair and one corrected division.
 * For tiny e (k < -20) log1p(e) = e (1 - e/2) at mantissa level, scaled
 * once: subnormal results rounded once. Callers handle the threshold.
 * logsigmoid(x) = -softplus(-x) with beta = 1. */
template <class Hw> ACTK_HD float softplus(float x, float beta)
{
    const float z = beta * x;
    if (isinf(z)) return z > 0.0f ? x : 0.0f;
    const float zl = fmaf(beta, x, -z);
    const bool positive = z > 0.0f;
    const ExpParts e = exp_core(-fabsf(z), positive ? -zl : zl);
    const Pair es = scaled(e);
    const Pair d = {beta, 0.0f};
    if (!positive && e.k < -20) {
        const Pair m = {e.m.hi, fmaf(-0.5f * es.hi, e.m.hi, e.m.lo)};
        return scale_once(divide<Hw>(m, d), e.k);
    }
    const Pair l = log1p_unit_pair<Hw>(es);
    const Pair sum = positive ? add(add(two_sum(z, zl), l.hi), l.lo) : l;
    return divide<Hw>(sum, d);
}

/* ---- the elu family -------------------------------------------------------- */

/* c (e^(x + xl) - 1) rounded once (elu, selu, celu for x <= 0) */
ACTK_HD float scaled_expm1(float x, float xl, Pair c)
{
    const Pair e = expm1_pair(x, xl);
    return fmaf(e.hi, c.hi, fmaf(e.hi, c.lo, e.lo * c.hi));
}

/* dy c e^(x + xl), at mantissa level and scaled once */
ACTK_HD float dy_scaled_exp(float dy, float x, float xl, Pair c)
{
    const ExpParts e = exp_core(x, xl);
    return times_scaled(dy, mul(e.m, c), e.k);
}

/* x/alpha = q + ql (celu): q from a corrected division, ql from the exact
 * remainder x - q alpha. x is clamped to >= -2^100 first (-inf included):
 * celu only asks for x <= 0, and e^(x/alpha) is 0 there for alpha < 2^90. */
template <class Hw> ACTK_HD Pair quotient(float x, float alpha)
{
    x = x < -0x1p100f ? -0x1p100f : x;
    const float q = divide<Hw>(x, alpha);
    return {q, fmaf(-q, alpha, x) * Hw::rcp(alpha)};
}

/* dy y (1 - y) and dy (1 - y)(1 + y) = dy (1 - y^2), the products as
 * exact pairs (from y: sigmoid', tanh') */
ACTK_HD float dy_sigmoid_derivative_from_y(float dy, float y)
{
    const Pair one_minus = two_sum(1.0f, -y);
    const Pair p = two_prod(y, one_minus.hi);
    return times(dy, fast_two_sum(p.hi, fmaf(y, one_minus.lo, p.lo)));
}

ACTK_HD float dy_tanh_derivative_from_y(float dy, float y)
{
    const Pair sq = two_prod(y, y);
    const Pair d = two_sum(1.0f, -sq.hi);
    return times(dy, fast_two_sum(d.hi, d.lo - sq.lo));
}

/* ---- silu ----------------------------------------------------------------- */

/* x/2 for |x| < 2^-30 where x sigmoid(a x) = x/2 + a x^2/4 + ...: x/2 is
 * exact unless x is an odd subnormal (a tie), which the x^2 term breaks in
 * the direction of a's sign. */
ACTK_HD float half_with_tie(float x, float a)
{
    const float h = x * 0.5f;
    return (h + h != x && a != 0.0f) ? (x + copysignf(0x1p-149f, a)) * 0.5f : h;
}

template <class Hw> ACTK_HD float silu(float x, float a)
{
    const float z = a * x;
    if (fabsf(x) < 0x1p-30f) return half_with_tie(x, a);
    if (isinf(z)) return z > 0.0f ? x : copysignf(0.0f, x);
    if (z < -200.0f) return x * 0.0f; /* x e^z underflows (|x| < 2^128) */
    int k;
    const Pair q = sigmoid_mantissa<Hw>(logistic(z, fmaf(a, x, -z)), &k);
    return scale_once(times(x, q), k);
}

/* silu'(x) = g(z), z = a x, g(z) = sigmoid(z) (1 + z sigmoid(-z)):
 *   z >= 0: (1 + e + z e)/d^2;   z < 0: e (1 + z + e)/d^2.
 * 1 + z + e cancels at the root z0 = -1.27846...: inside |z - z0| < 1/8,
 * g = dz Q(dz) with Q the Taylor polynomial at z0 (degree 7, truncation
 * 2^-36; c1 as a pair), dz = z - z0 + zl as a pair (z - z0.hi exact). */
template <class Hw> ACTK_HD float silu_derivative_times(float dy, float x, float a)
{
    const float z = a * x;
    if (isinf(z)) return z > 0.0f ? dy : dy * 0.0f;
    if (z < -200.0f) return dy * -0.0f; /* dy e^z (1 + z) underflows, even for |dy| near 2^128 */
    const float zl = fmaf(a, x, -z);
    const float dh = z - -1.27846456f;
    if (fabsf(dh) < 0.125f) {
        const float dl = zl - 1.29792825e-08f;
        float p = -4.09053428e-05f;
        p = fmaf(p, dh, 1.85707249e-04f);
        p = fmaf(p, dh, 7.98521854e-04f);
        p = fmaf(p, dh, 1.26627405e-04f);
        p = fmaf(p, dh, -6.60658907e-03f);
        p = fmaf(p, dh, -1.52226556e-02f);
        p = fmaf(p, dh, 1.88748147e-02f);
        p = fmaf(p, dh, 1.46648794e-01f);
        const Pair c = fast_two_sum(0.217811704f, fmaf(p, dh, 2.03785433e-09f));
        const Pair prod = two_prod(dh, c.hi);
        return times(dy, fast_two_sum(prod.hi, fmaf(dh, c.lo, fmaf(dl, c.hi, prod.lo))));
    }
    const Logistic l = logistic(z, zl);
    const Pair d2 = mul(l.d, l.d);
    Pair num;
    if (l.negative) {
        /* e (1 + z + zl + e), at mantissa level */
        const Pair s = add(add(two_sum(1.0f, z), zl), scaled(l.e));
        num = mul(l.e.m, s);
    } else {
        const Pair es = scaled(l.e);
        num = add(l.d, mul(es, z + zl));
    }
    const Pair q = divide_pair<Hw>(num, d2);
    return times_scaled(dy, q, l.negative ? l.e.k : 0);
}

/* ---- mish ------------------------------------------------------------------
 * u = e^x = 2^k m (x clamped to 20: beyond, mish = x and mish' = 1 in
 * float), a = u + 2, n = u a, t = tanh(softplus(x)) = n/(n + 2) =
 * 2^k m a/(n + 2): at mantissa level, so tiny u keep their relative
 * accuracy. */
struct MishParts {
    Pair t_mantissa; /* t = 2^k t_mantissa */
    int k;
    Pair m; /* u = 2^k m */
    Pair us, a, n2; /* u, u + 2, n + 2 */
};

template <class Hw> ACTK_HD MishParts mish_parts(float x)
{
    const ExpParts e = exp_core(x > 20.0f ? 20.0f : x, 0.0f);
    const Pair us = scaled(e);
    const Pair a = add(us, 2.0f);
    const Pair n = mul(us, a);
    const Pair n2 = add(n, 2.0f);
    return {divide_pair<Hw>(mul(e.m, a), n2), e.k, e.m, us, a, n2};
}

template <class Hw> ACTK_HD float mish(float x)
{
    if (x > 20.0f) return x; /* inf too */
    if (x < -110.0f) return -0.0f; /* |x e^x| < 2^-150; -inf too */
    if (fabsf(x) < 0x1p-30f) {
        /* mish = x (0.6 + 0.32 x ...): at 2^64 scale, so a subnormal x
         * keeps the low part; 0.6 as a pair */
        const float xs = x * 0x1p64f;
        return fmaf(xs, 0.600000024f, fmaf(xs, 0.32f * x, xs * -2.38418579e-08f)) * 0x1p-64f;
    }
    const MishParts p = mish_parts<Hw>(x);
    return scale_once(times(x, p.t_mantissa), p.k);
}

/* mish' = t + x 4u(1 + u)/(n + 2)^2 (= t + x sech^2(softplus) sigmoid).
 * It cancels at the root x0 = -1.19243...: inside |x - x0| < 1/8 the
 * Taylor polynomial at x0 (degree 8, truncation 2^-33.9). */
template <class Hw> ACTK_HD float mish_derivative_times(float dy, float x)
{
    if (x > 20.0f) return dy; /* inf too */
    if (x != x) return x;
    if (x < -200.0f) return dy * -0.0f; /* dy e^x (1 + x) underflows, even for |dy| near 2^128; -inf too */
    const float dh = x - -1.19243121f;
    if (fabsf(dh) < 0.125f) {
        float p = 2.54129351e-04f;
        p = fmaf(p, dh, 9.89818131e-04f);
        p = fmaf(p, dh, 1.09240552e-03f);
        p = fmaf(p, dh, -3.36068496e-03f);
        p = fmaf(p, dh, -1.58211272e-02f);
        p = fmaf(p, dh, -2.02718228e-02f);
        p = fmaf(p, dh, 4.19078209e-02f);
        p = fmaf(p, dh, 2.04731271e-01f);
        const Pair c = fast_two_sum(0.266947925f, fmaf(p, dh, -1.10412550e-08f));
        const float dl = 3.04393755e-09f; /* -(x0 - x0.hi) */
        const Pair prod = two_prod(dh, c.hi);
        return times(dy, fast_two_sum(prod.hi, fmaf(dh, c.lo, fmaf(dl, c.hi, prod.lo))));
    }
    const MishParts p = mish_parts<Hw>(x);
    /* g = 4 u (1 + u)/(n + 2)^2, then t + x g as pairs, both at mantissa
     * level (2^k), so results near the subnormals are rounded once */
    const Pair g = divide_pair<Hw>(mul(mul(p.m, add(p.us, 1.0f)), 4.0f), mul(p.n2, p.n2));
    return times_scaled(dy, add(p.t_mantissa, mul(g, x)), p.k);
}

/* ---- tanh as a pair, tanhshrink ------------------------------------------- */

/* tanh(x) as a normalised pair: |x| < 0.35 the odd series (2^-30 of the
 * whole, the x^3 part rounded), else (1 - e)/(1 + e), e = e^-2|x|. */
template <class Hw> ACTK_HD Pair tanh_pair(float x)
{
    const float a = fabsf(x);
    if (a < 0.35f) {
        const float w = x * x;
        return fast_two_sum(x, x * w * tanh_small_polynomial(w));
    }
    const Pair e = scaled(exp_core(-2.0f * a, 0.0f));
    const Pair one_minus = fast_two_sum(1.0f, -e.hi);
    const Pair one_plus = fast_two_sum(1.0f, e.hi);
    const Pair t = divide_pair<Hw>(Pair{one_minus.hi, one_minus.lo - e.lo}, Pair{one_plus.hi, one_plus.lo + e.lo});
    return x < 0.0f ? Pair{-t.hi, -t.lo} : t;
}

/* x - tanh(x): |x| < 0.55 the series x^3 (1/3 - 2x^2/15 + ...) with x^3
 * and 1/3 as pairs (2^-24 of the x^5 part at most); else x - tanh(x) on
 * the pair. */
template <class Hw> ACTK_HD float tanhshrink(float x)
{
    if (fabsf(x) < 0.55f) {
        const float w = x * x;
        /* coefficients of x^(2j+5), j = 10..0, from the Bernoulli numbers */
        float p = -1.59189051e-05f;
        p = fmaf(p, w, 3.92783239e-05f);
        p = fmaf(p, w, -9.69153796e-05f);
        p = fmaf(p, w, 2.39129114e-04f);
        p = fmaf(p, w, -5.90027441e-04f);
        p = fmaf(p, w, 1.45583439e-03f);
        p = fmaf(p, w, -3.59212804e-03f);
        p = fmaf(p, w, 8.86323553e-03f);
        p = fmaf(p, w, -2.18694885e-02f);
        p = fmaf(p, w, 5.39682540e-02f);
        p = fmaf(p, w, -1.33333333e-01f);
        const Pair s = fast_two_sum(0.333333343f, fmaf(w, p, -9.93410776e-09f));
        const Pair sq = two_prod(x, x);
        const Pair cube = mul(sq, x);
        /* x^3 underflows for |x| < 2^-50: the result is 0 or subnormal
         * there; scale up first */
        if (fabsf(x) < 0x1p-40f) {
            const float xs = x * 0x1p40f;
            const Pair c = mul(two_prod(xs, xs), xs);
            return times(c.hi, s) * 0x1p-120f;
        }
        return fmaf(cube.hi, s.hi, fmaf(cube.hi, s.lo, cube.lo * s.hi));
    }
    if (isinf(x)) return x;
    const Pair t = tanh_pair<Hw>(x);
    const Pair d = two_sum(x, -t.hi);
    return d.hi + (d.lo - t.lo);
}

/* dy tanh(x)^2 */
template <class Hw> ACTK_HD float tanhshrink_derivative_times(float dy, float x)
{
    const Pair t = tanh_pair<Hw>(x);
    /* below 2^-60, t^2 is near or in the subnormals while dy t^2 need not
     * be: take dy t first there (two roundings, no underflow on the way) */
    if (fabsf(t.hi) < 0x1p-60f) return times(times(dy, t), t);
    return times(dy, mul(t, t));
}

/* dy (y + c) with c = c.hi + c.lo (selu's scale alpha, elu's alpha) */
ACTK_HD float dy_sum(float dy, float y, Pair c)
{
    const Pair s = two_sum(y, c.hi);
    return times(dy, fast_two_sum(s.hi, s.lo + c.lo));
}

} // namespace f32
} // namespace actk

#endif
