// SPDX-License-Identifier: MIT
/*
 * f32_gelu.cuh - gelu (erf form) and gelu_tanh for f32 storage, forward and
 * derivative (times dy), computed in float only: IEEE add, multiply and fma,
 * integer bit work, and one hardware reciprocal whose error an FMA residual
 * removes (F32Hardware::rcp, f32_math.cuh). No double anywhere, so the
 * kernels stay on the FP32 pipe, and the host build of these functions
 * gives the device's bits (the reciprocal's last bit aside, which the
 * residuals absorb: tests/test_f32_gelu.cpp runs a merely faithful one) for
 * tests/test_device_math_on_host.cpp.
 *
 * Accuracy (tools/fit_f32_gelu.py fits the polynomials; docs/PERF.md, "f32 gelu and gelu_tanh in float"
 * has the measured figures): under 1 ULP forward and about 1 ULP for the
 * derivative (with dy = 1), over the whole float range, tails and
 * subnormal results included. No branch: every input takes the same
 * instructions (the static SASS count is the executed one). Limit: left of
 * the clamps (x < -15 for gelu, x < -11 for gelu_tanh) the derivative is
 * that at the clamp, which still rounds to 0 for |dy| < 2^5.
 * Tricks used throughout:
 *  - every exponential is e^-(s + sl) = 2^k (1 + r + ql) with s + sl exact
 *    (x^2 split by fma) and r exact (Cody-Waite, k ln2_hi exact in an fma),
 *    so no argument rounding reaches the result; 2^k is applied last, once,
 *    through 2^(k+64) * 2^-64, so subnormal results are rounded once;
 *  - products are kept as head + tail (fma residuals) until one final fma;
 *  - 1 - Q by Fast2Sum (Q <= 1/2);
 *  - subnormal x/2 results are exact ties that the true value x/2 + c x^2
 *    (c > 0) breaks upwards: fixed by adding back the rounding error of x/2.
 */
#ifndef ACTK_KERNELS_F32_GELU_CUH
#define ACTK_KERNELS_F32_GELU_CUH

#include "f32_math.cuh" /* F32Hardware (the corrected MUFU.RCP), f32::bits_of/from_bits */

#include <math.h>

#if defined(__CUDACC__)
#define ACTK_GELU_HD __host__ __device__ __forceinline__
#else
#define ACTK_GELU_HD inline
#endif

namespace actk {
namespace f32_gelu {

ACTK_GELU_HD int max_int(int a, int b) { return a > b ? a : b; }

/* e^-(s + sl) = 2^k (1 + r + ql) for s in [0, 2^7), |sl| <= ulp(s)/2:
 * k = rint(-s log2 e) by the 1.5 * 2^23 shifter, r = -s - k ln2_hi exactly
 * (k ln2_hi has at most 32 bits and the fma rounds once, to a value that
 * fits), |r| <= ln2/2; e^r = 1 + r + r^2 P(r), P of degree 4 (2^-28.2
 * relative); the rest of the argument, rl = -k ln2_lo - sl (< 2^-17),
 * enters to first order as rl e^r. ef = 1 + r + ql rounded once more (to
 * scale tails of products; rl alone is up to 2^-17, so it must be in). */
struct GaussExp {
    float r, ql, ef;
    int k;
};
ACTK_GELU_HD GaussExp exp_neg(float s, float sl)
{
    const float shifter = 12582912.0f;
    /* k from fmaxf(s, 0): a NaN s gives k = 0 (no out-of-range shift in
     * scale_up_64) while r below still carries the NaN */
    const float kf = fmaf(fmaxf(s, 0.0f), -1.44269502e+00f, shifter);
    const float k = kf - shifter;
    GaussExp e;
    e.r = fmaf(k, -6.93147182e-01f, -s);
    const float rl = fmaf(k, 1.90465421e-09f, -sl); /* ln2 - ln2_hi = -1.9e-9 */
    const float r2 = e.r * e.r;
    float p = 1.381981303e-03f;
    p = fmaf(p, e.r, 8.368687704e-03f);
    p = fmaf(p, e.r, 4.166827723e-02f);
    p = fmaf(p, e.r, 1.666652113e-01f);
    p = fmaf(p, e.r, 4.999999404e-01f);
    const float r2p = r2 * p;
    const float er = fmaf(r2, p, e.r) + 1.0f; /* e^r */
    e.ql = fmaf(rl, er, r2p);
    e.ef = fmaf(rl, er, er);
    e.k = f32::bits_of(kf) - f32::bits_of(shifter);
    return e;
}

/* 2^(k + 64) from bits, k in [-190, 63] */
ACTK_GELU_HD float scale_up_64(int k) { return f32::from_bits((k + 64 + 127) << 23); }

/* gelu and gelu_tanh at tiny |x| are x/2 + c x^2 with c > 0, and the main
 * formulas give x/2 rounded to nearest even there. Where x/2 is an exact
 * midpoint (odd subnormal x) the true value lies above it: 2h - x is then
 * -2^-149 where h = x/2 went down, and subtracting that moves the result
 * up. For every other x, 2h - x is +0 (or 2^-149 where h went up, which is
 * right), so nothing changes (+0 keeps -0 as -0; inf and NaN give NaN,
 * which fminf drops). */
ACTK_GELU_HD float tiny_half_ties(float result, float x)
{
    const float h = 0.5f * x;
    return result - fminf(fmaf(h, 2.0f, -x), 0.0f);
}

/* Phi(-a) for a in [0, 15], a = |x| clamped, as 2^k (m + ml) with m and ml
 * floats: Phi(-a) = e^(-a^2/2) Y(t) / (a + 2) with t = (a - 2)/(a + 2) and
 * Y = (a + 2) erfcx(a/sqrt2)/2, smooth on t in [-1, 0.77], fitted as
 * c0 + c1 t + (t + t^2) R(t) (degree 11, 2^-28.2). The head c0 + c1 t is
 * kept exact as yh + its fma residual, c0 has a tail, and the rounding
 * errors of R's evaluation are damped by (t + t^2) R / Y < 6.3%. c1 = c0 - 1
 * and the tail vanishes at t = -1, so Y(-1) = 1 and Phi(0) = 1/2 exactly
 * (gelu(x) = x/2 exactly at tiny x, see tiny_half_ties). Also returns the
 * exponential's parts, which the derivative needs for phi. */
struct GaussTail {
    float m, ml;
    GaussExp e;
};
template <class Hw, bool ExactT> ACTK_GELU_HD GaussTail gauss_tail(float a)
{
    GaussTail g;
    const float half = 0.5f * a;
    const float s = a * half;
    const float sl = fmaf(a, half, -s); /* a^2/2 = s + sl exactly */
    g.e = exp_neg(s, sl);
    /* 1/(a + 2) = rc (1 + cr): d - 2 is exact for every a >= 0, so dd is
     * the exact rounding error of d */
    const float d = a + 2.0f;
    const float dd = a - (d - 2.0f);
    const float rc = Hw::rcp(d);
    const float cr = fmaf(-dd, rc, fmaf(-rc, d, 1.0f));
    /* t = 1 - 4/(a + 2): 1 - 4 rc (exact for a <= 6), then the correction
     * for cr, rounded. With ExactT, tl holds both roundings (up to 2^-24,
     * worth 0.5 ulp of Phi(-a) in the tail, where dY/dt / Y is largest)
     * and enters through the linear term of Y (Y' - c1 is small). */
    const float m4 = -4.0f * rc;
    const float t0 = fmaf(-4.0f, rc, 1.0f);
    const float t = fmaf(m4, cr, t0);
    const float tl = ExactT ? fmaf(m4, cr, (t0 - t) + fmaf(-4.0f, rc, 1.0f - t0)) : 0.0f;
    float q = -6.571523409e-05f;
    q = fmaf(q, t, -8.348744450e-05f);
    q = fmaf(q, t, 2.169659565e-04f);
    q = fmaf(q, t, 6.196153699e-04f);
    q = fmaf(q, t, 2.034072240e-04f);
    q = fmaf(q, t, -2.155001741e-03f);
    q = fmaf(q, t, -4.579232074e-03f);
    q = fmaf(q, t, 4.109497648e-03f);
    q = fmaf(q, t, 3.260984644e-02f);
    q = fmaf(q, t, -3.812476993e-03f);
    const float c0 = 6.724079847e-01f, c1 = -3.275920153e-01f, c0_tail = 2.017048928e-08f;
    const float yh = fmaf(c1, t, c0);
    const float tt = fmaf(t, t, t); /* t + t^2 */
    const float tails = ExactT ? fmaf(c1, tl, fmaf(c0_tail, t, c0_tail)) : fmaf(c0_tail, t, c0_tail);
    const float yl = fmaf(tt, q, fmaf(c1, t, c0 - yh) + tails);
    /* p + pl = rc (1 + cr) (yh + yl); with ExactT also the cross term
     * yl rc cr (2^-26 of the result for a reciprocal 2^-22 off) */
    const float p = rc * yh;
    float pl = fmaf(rc, yh, -p);
    pl = fmaf(ExactT ? fmaf(rc, cr, rc) : rc, yl, pl);
    pl = fmaf(p, cr, pl);
    /* times 1 + r + ql: m = p (1 + r) rounded once, the rest in ml */
    g.m = fmaf(p, g.e.r, p);
    float ml = fmaf(p, g.e.r, p - g.m);
    ml = fmaf(p, g.e.ql, ml);
    g.ml = fmaf(pl, g.e.ef, ml);
    return g;
}

/* gelu(x) = x Phi(x): -a Phi(-a) for x < 0, x (1 - Phi(-a)) otherwise. */
template <class Hw = F32Hardware> ACTK_GELU_HD float gelu(float x)
{
    const float a = fminf(fabsf(x), 15.0f); /* gelu is -0 or x beyond; NaN -> 15, x carries it */
    const GaussTail g = gauss_tail<Hw, true>(a);
    const float scale = scale_up_64(g.e.k);
    /* x < 0: -a 2^k (m + ml), scaled so that one rounding makes it subnormal */
    const float as = a * scale;
    const float negative = -fmaf(as, g.m, as * g.ml) * 0x1p-64f;
    /* x >= 0: 1 - Q by Fast2Sum (Q <= 1/2), Q = 2^k (m + ml); deep in the
     * tail (k < -126) the scale is inexact, but Q is far below 1 ulp of 1 */
    const float s2 = scale * 0x1p-64f;
    const float phi = fmaf(-g.m, s2, 1.0f);
    float phi_l = fmaf(-g.m, s2, 1.0f - phi);
    phi_l = fmaf(-g.ml, s2, phi_l);
    const float positive = fmaf(x, phi, a * phi_l); /* x, not a: +inf stays inf */
    return tiny_half_ties(x < 0.0f ? negative : positive, x);
}
/* dy gelu'(x), gelu' = Phi(x) + x phi(x): with e = e^(-a^2/2) and
 * D = e^(a^2/2) Phi(-a) - a/sqrt(2 pi), gelu' = e D for x < 0 and 1 - e D
 * for x >= 0. e D cancels near the root x0 = -0.75179 of gelu'; there
 * (x in (-1, -0.5)) gelu' = d W(d), d = x - x0, W of degree 8 (2^-32.6). */
template <class Hw = F32Hardware> ACTK_GELU_HD float gelu_backward(float x, float dy)
{
    const float a = fminf(fabsf(x), 15.0f);
    const GaussTail g = gauss_tail<Hw, false>(a);
    const GaussExp &e = g.e;
    /* a/sqrt(2 pi) (1 + r + ql) as b1 + bl */
    const float b = a * 3.989422917e-01f;
    float bl = fmaf(a, 3.989422917e-01f, -b);
    bl = fmaf(a, -1.133517014e-08f, bl);
    const float b1 = fmaf(b, e.r, b);
    float b1l = fmaf(b, e.r, b - b1);
    b1l = fmaf(b, e.ql, b1l);
    b1l = fmaf(bl, e.ef, b1l);
    /* m - b1 by Fast2Sum, the larger first: m for a below the root, b1
     * above (near the root the window takes over) */
    const float dh = g.m - b1;
    const bool m_larger = a < 0.75f;
    const float big = m_larger ? g.m : -b1, small = m_larger ? -b1 : g.m;
    const float dl = (small - (dh - big)) + (g.ml - b1l);
    const float scale = scale_up_64(e.k);
    const float negative = fmaf(dy, dh, dy * dl) * scale * 0x1p-64f;
    const float s2 = scale * 0x1p-64f;
    const float f = fmaf(-dh, s2, 1.0f);
    float fl = fmaf(-dh, s2, 1.0f - f);
    fl = fmaf(-dl, s2, fl);
    const float positive = fmaf(dy, f, dy * fl);
    /* the root window; NaN lands here too and stays NaN */
    const float d = x - -7.517915368e-01f; /* exact; x0's tail below */
    float w = -6.661362713e-04f;
    w = fmaf(w, d, -2.148004249e-03f);
    w = fmaf(w, d, 4.531204235e-03f);
    w = fmaf(w, d, 1.941337436e-02f);
    w = fmaf(w, d, -1.477126963e-02f);
    w = fmaf(w, d, -1.140079945e-01f);
    w = fmaf(w, d, -1.819967851e-02f);
    w = fmaf(w, d, 3.882849813e-01f);
    /* the last step's rounding (up to 2^-24 of W) kept, with W0's tail;
     * x0's tail times W(d) is taken as times W0 (off by 2^-26 relative) */
    const float w0 = 4.314939976e-01f;
    const float wh = fmaf(w, d, w0);
    const float wl = fmaf(w, d, w0 - wh) + -5.260105684e-09f;
    const float window = dy * fmaf(d, wh, fmaf(d, wl, -5.227312412e-09f));
    const bool in_window = !(x <= -1.0f || x >= -0.5f);
    return in_window ? window : (x < 0.0f ? negative : positive);
}

/* gelu_tanh's argument z = 2 sqrt(2/pi) (x + 0.044715 x^3) = x (K1 + K2 x^2)
 * as zh + zl (|zl| <= 2^-23 |zh| or so, good to 2^-40): e^-|z| in the tail
 * is as sensitive to z's absolute error as to its own rounding. x is
 * clamped to [-11, 11] (gelu_tanh is -0 or x beyond). */
struct TanhArgument {
    float zh, zl;
    float w, wl;   /* K1 + K2 x^2 */
    float t2, t2l; /* K2 x^2 */
};
ACTK_GELU_HD TanhArgument tanh_argument(float x)
{
    const float k1 = 1.595769167e+00f, k1_tail = -4.534068054e-08f;
    const float k2 = 7.135481387e-02f, k2_tail = 2.398832466e-09f;
    const float x2 = x * x;
    const float x2l = fmaf(x, x, -x2);
    const float t2 = k2 * x2;
    float t2l = fmaf(k2, x2, -t2);
    t2l = fmaf(k2, x2l, t2l);
    t2l = fmaf(k2_tail, x2, t2l);
    /* w = k1 + t2 with its exact rounding error (Fast2Sum, larger first) */
    const float w = k1 + t2;
    const float big = fmaxf(k1, t2), small = fminf(k1, t2);
    const float wl = (small - (w - big)) + (t2l + k1_tail);
    TanhArgument z;
    z.zh = x * w;
    z.zl = fmaf(x, wl, fmaf(x, w, -z.zh));
    z.w = w;
    z.wl = wl;
    z.t2 = t2;
    z.t2l = t2l;
    return z;
}

/* gelu_tanh(x) = x sigmoid(z): with E = e^-|z| = 2^k (1 + r + ql),
 * x / (1 + E) for x >= 0 and x E / (1 + E) for x < 0. 1/(1 + E) =
 * rc (1 + rho) with rc the corrected reciprocal and rho its residual,
 * formed exactly from E's parts (1 - rc and rc 2^k are within a factor 2 of
 * each other: Sterbenz). */
template <class Hw = F32Hardware> ACTK_GELU_HD float gelu_tanh(float x)
{
    const float xc = fminf(fmaxf(x, -11.0f), 11.0f); /* NaN: x carries it */
    const TanhArgument z = tanh_argument(xc);
    const GaussExp e = exp_neg(fabsf(z.zh), xc < 0.0f ? -z.zl : z.zl);
    const float s2 =
        f32::from_bits((max_int(e.k, -126) + 127) << 23); /* 2^k, or 2^-126 where E is far below 1 ulp of 1 */
    /* 1/(1 + E) is in [1/2, 1]; the reciprocal may land just outside, where
     * 1 - rc would not be exact (below 1/2) or x rc could overflow (above 1) */
    const float rc = fminf(fmaxf(Hw::rcp(fmaf(e.ef, s2, 1.0f)), 0.5f), 1.0f);
    const float rcs = rc * s2;
    const float rho = fmaf(-rcs, e.ql, fmaf(-rcs, e.r, (1.0f - rc) - rcs));
    /* x >= 0: x rc (1 + rho); the correction's x capped at FLT_MAX so that
     * +inf stays inf (rho is not 0 where the reciprocal is off by an ulp) */
    const float positive = fmaf(x, rc, (fminf(x, 3.40282347e+38f) * rc) * rho);
    /* x < 0: x 2^k (1 + r + ql) rc (1 + rho), 2^k applied last */
    const float xs = xc * scale_up_64(e.k);
    const float m = xs * rc;
    const float ml = fmaf(xs, rc, -m);
    const float m1 = fmaf(m, e.r, m);
    float lo = fmaf(m, e.r, m - m1);
    lo = fmaf(m, fmaf(rho, e.ef, e.ql), lo);
    lo = fmaf(ml, e.ef, lo);
    const float negative = (m1 + lo) * 0x1p-64f;
    return tiny_half_ties(x < 0.0f ? negative : positive, x);
}

/* dy gelu_tanh'(x), gelu_tanh' = S + x z' S (1 - S) with S = sigmoid(z),
 * z' = K1 + 3 K2 x^2. With E = e^-|z| and P = x z' sigmoid(|z|):
 * x >= 0: sigmoid(|z|) (1 + P E), no cancellation;
 * x < 0:  E sigmoid(|z|) (1 + P), and 1 + P cancels near the root
 *         x0 = -0.75246: P is kept as a pair good to about 2^-30 (x z' by
 *         fma residuals, sigmoid(|z|) = rc (1 + rho)) and 1 + P is summed
 *         exactly, so only within 1/16 of x0 does the cancellation cost
 *         accuracy; there gelu_tanh' = d W(d), d = x - x0, W of degree 4
 *         (2^-28.3). */
template <class Hw = F32Hardware> ACTK_GELU_HD float gelu_tanh_backward(float x, float dy)
{
    const float xc = fminf(fmaxf(x, -11.0f), 11.0f);
    const TanhArgument z = tanh_argument(xc);
    const GaussExp e = exp_neg(fabsf(z.zh), xc < 0.0f ? -z.zl : z.zl);
    const float s2 = f32::from_bits((max_int(e.k, -126) + 127) << 23);
    /* 1/(1 + E) is in [1/2, 1]; the reciprocal may land just outside, where
     * 1 - rc would not be exact (below 1/2) or x rc could overflow (above 1) */
    const float rc = fminf(fmaxf(Hw::rcp(fmaf(e.ef, s2, 1.0f)), 0.5f), 1.0f);
    const float rcs = rc * s2;
    const float rho = fmaf(-rcs, e.ql, fmaf(-rcs, e.r, (1.0f - rc) - rcs));
    /* z' = (K1 + K2 x^2) + 2 K2 x^2 as zp + zpl (Fast2Sum, larger first) */
    const float t2x2 = z.t2 + z.t2;
    const float zp = z.w + t2x2;
    const float big = fmaxf(z.w, t2x2), small = fminf(z.w, t2x2);
    const float zpl = (small - (zp - big)) + fmaf(2.0f, z.t2l, z.wl);
    const float xz = xc * zp;
    const float xzl = fmaf(xc, zpl, fmaf(xc, zp, -xz));
    /* P = x z' rc (1 + rho) = ph + pl */
    const float ph = xz * rc;
    float pl = fmaf(xz, rc, -ph);
    pl = fmaf(xzl, rc, pl);
    pl = fmaf(ph, rho, pl);
    /* x >= 0: dy rc (1 + rho) (1 + P E), the small terms together (P E is
     * up to 0.3 of the result: P and E to 2^-24 each) */
    const float ps = (ph + pl) * s2;
    const float pe = fmaf(ps, e.r + e.ql, ps);
    const float c = fmaf(rho, pe, rho + pe);
    const float positive = fmaf(dy, rc, (dy * rc) * c);
    /* x < 0: 2^k (1 + r + ql) rc (1 + rho) (1 + P) as g + gl, then dy and 2^k */
    const f32::Pair b = f32::two_sum(1.0f, ph);
    const float g = rc * b.hi;
    float gl = fmaf(rc, b.hi, -g);
    gl = fmaf(rc, b.lo + pl, gl);
    gl = fmaf(g, rho, gl);
    const float m1 = fmaf(g, e.r, g);
    float lo = fmaf(g, e.r, g - m1);
    lo = fmaf(g, e.ql, lo);
    lo = fmaf(gl, e.ef, lo);
    const float negative = (fmaf(dy, m1, dy * lo) * scale_up_64(e.k)) * 0x1p-64f;
    /* the root window; NaN lands here too and stays NaN */
    const float d = x - -7.524614334e-01f; /* exact; x0's tail below */
    float w = -1.661365107e-02f;
    w = fmaf(w, d, -1.138453856e-01f);
    w = fmaf(w, d, -1.578279212e-02f);
    w = fmaf(w, d, 3.875183463e-01f);
    w = fmaf(w, d, 4.304001033e-01f);
    const float window = dy * fmaf(d, w, fmaf(d, -1.235213798e-08f, -1.133962790e-08f * w));
    const bool in_window = !(x <= -0.8149614334f || x >= -0.6899614334f);
    return in_window ? window : (x < 0.0f ? negative : positive);
}

} // namespace f32_gelu
} // namespace actk

#endif
