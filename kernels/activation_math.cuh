/*
 * activation_math.cuh - the math of every element-wise op, as small structs
 * that the element-wise engine (elementwise_engine.cuh) plugs in.
 *
 * Each op struct has
 *   template <class C> static C forward(C x, Params<C> p);
 *   template <class C> static C backward(C x, C dy, Params<C> p);
 *   template <class C> static C backward_from_y(C y, C dy, Params<C> p);  (kHasFromY)
 * where C is the compute type: double for f32 and f64 storage, float for
 * f16 and bf16. Everything here is __host__ __device__ and uses only
 * <math.h> functions, so the same source also compiles as plain C++ on the
 * host; tests/test_device_math_on_host.cpp checks it against the long double
 * reference without a GPU.
 *
 * Accuracy rules followed throughout:
 *  - no formula that cancels in a tail (1 - tanh^2, 1 + erf, x*sigmoid(x)
 *    through 1 - sigmoid), and a series where x - tanh(x) cancels;
 *  - where the argument of exp/erfc is a rounded product a*x, the rounding
 *    error is recovered with an FMA and applied as a first-order correction
 *    (it would otherwise be amplified by |a*x| in the tail);
 *  - +-inf gives the mathematical limit, NaN in gives NaN out;
 *  - on pieces where f is constant by definition dx = 0 whatever dy is.
 */
#ifndef ACTK_KERNELS_ACTIVATION_MATH_CUH
#define ACTK_KERNELS_ACTIVATION_MATH_CUH

#include "actk/actk.h"

#include <math.h>

#if defined(__CUDACC__)
#define ACTK_HD __host__ __device__ __forceinline__
#else
#define ACTK_HD inline
#endif

namespace actk {

template <class C>
struct Params {
    C alpha;
    C beta;
};

/* ---- overload set over float/double (expf vs exp, ...) ------------------- */
ACTK_HD float m_exp(float x) { return expf(x); }
ACTK_HD double m_exp(double x) { return exp(x); }
ACTK_HD float m_expm1(float x) { return expm1f(x); }
ACTK_HD double m_expm1(double x) { return expm1(x); }
ACTK_HD float m_log1p(float x) { return log1pf(x); }
ACTK_HD double m_log1p(double x) { return log1p(x); }
ACTK_HD float m_tanh(float x) { return tanhf(x); }
ACTK_HD double m_tanh(double x) { return tanh(x); }
ACTK_HD float m_erfc(float x) { return erfcf(x); }
ACTK_HD double m_erfc(double x) { return erfc(x); }
ACTK_HD float m_fabs(float x) { return fabsf(x); }
ACTK_HD double m_fabs(double x) { return fabs(x); }
ACTK_HD float m_fma(float a, float b, float c) { return fmaf(a, b, c); }
ACTK_HD double m_fma(double a, double b, double c) { return fma(a, b, c); }
ACTK_HD float m_copysign(float a, float b) { return copysignf(a, b); }
ACTK_HD double m_copysign(double a, double b) { return copysign(a, b); }
template <class C> ACTK_HD bool m_isnan(C x) { return x != x; }
template <class C> ACTK_HD bool m_isinf(C x) { return m_fabs(x) == C(INFINITY); }

/* Constants, each rounded once to the compute type. */
template <class C> struct K;
template <> struct K<double> {
    static constexpr double sqrt1_2_hi = 0.70710678118654757;       /* 1/sqrt(2) rounded      */
    static constexpr double sqrt1_2_lo = -4.833646656726457e-17;   /* 1/sqrt(2) - sqrt1_2_hi */
    static constexpr double two_over_sqrt_pi = 1.1283791670955126;
    static constexpr double inv_sqrt_2pi = 0.3989422804014327;
    static constexpr double sqrt_2_over_pi = 0.79788456080286541;
    static constexpr double selu_scale = 1.0507009873554805;
    static constexpr double selu_scale_alpha = 1.7580993408473768; /* scale * alpha */
    static constexpr double tiny_exp_below = -700.0; /* e^z under this is near subnormal */
    static constexpr double gelu_tail_below = -36.0;  /* Phi(x) near subnormal under this */
};
template <> struct K<float> {
    static constexpr float sqrt1_2_hi = 0.707106769f;
    static constexpr float sqrt1_2_lo = 1.21016171e-08f;
    static constexpr float two_over_sqrt_pi = 1.12837917f;
    static constexpr float inv_sqrt_2pi = 0.398942292f;
    static constexpr float sqrt_2_over_pi = 0.797884583f;
    static constexpr float selu_scale = 1.05070102f;
    static constexpr float selu_scale_alpha = 1.75809932f;
    static constexpr float tiny_exp_below = -80.0f;
    static constexpr float gelu_tail_below = -12.0f;
};

/* ---- shared building blocks ---------------------------------------------- */

/* sigmoid(z) without overflow; exact argument. */
template <class C> ACTK_HD C sigmoid(C z)
{
    if (z >= C(0)) return C(1) / (C(1) + m_exp(-z));
    const C e = m_exp(z);
    return e / (C(1) + e);
}

/* sigmoid(z) and sigmoid(-z) from one exponential e = e^-|z|: the larger
 * is 1/(1+e), the smaller e/(1+e). No cancellation; NaN stays NaN. */
template <class C> ACTK_HD void sigmoid_pair(C z, C *s, C *s_neg)
{
    const C e = m_exp(-m_fabs(z));
    const C large = C(1) / (C(1) + e), small = e * large;
    *s = z >= C(0) ? large : small;
    *s_neg = z >= C(0) ? small : large;
    if (z != z) *s = *s_neg = z;
}

/* sigmoid(hi + lo) and sigmoid(-(hi + lo)) where lo is the rounding error of
 * hi: a first-order correction, sigmoid' = s (1 - s). Matters in the tails,
 * where sigmoid(z) ~ e^z and a rounded z would cost |z| ulps. */
template <class C> ACTK_HD void sigmoid_pair_corrected(C hi, C lo, C *s, C *s_neg)
{
    C a, b;
    sigmoid_pair(hi, &a, &b);
    const C d = a * b * lo;
    *s = a + d;
    *s_neg = b - d;
}

template <class C> ACTK_HD C sigmoid_corrected(C hi, C lo)
{
    C s, s_neg;
    sigmoid_pair_corrected(hi, lo, &s, &s_neg);
    return s;
}

/* sigmoid'(z) = e^-|z| / (1 + e^-|z|)^2: no cancellation in the tails. */
template <class C> ACTK_HD C sigmoid_derivative(C z)
{
    const C e = m_exp(-m_fabs(z));
    const C d = C(1) + e;
    return e / (d * d);
}

/* v * e^(z + lo) with a single rounding into the subnormal range: e^z is
 * split as e^(z/2) * e^(z/2) so no subnormal intermediate loses bits (a
 * subnormal e^z times a large v would otherwise cost |v| ulps). For z far
 * below 0 only. */
template <class C> ACTK_HD C scale_by_tiny_exp(C v, C z, C lo)
{
    const C half = m_exp(C(0.5) * z);
    if (half == C(0)) return m_copysign(C(0), v); /* v may be +-inf here */
    const C t = v * half;
    return m_fma(t, lo, t) * half;
}

/* tanh'(z) = 4 e^-2|z| / (1 + e^-2|z|)^2, not 1 - tanh^2. */
template <class C> ACTK_HD C tanh_derivative(C z)
{
    const C e = m_exp(C(-2) * m_fabs(z));
    const C d = C(1) + e;
    return C(4) * e / (d * d);
}

/* log(1 + e^z) without overflow or cancellation. */
template <class C> ACTK_HD C softplus_unit(C z)
{
    return z > C(0) ? z + m_log1p(m_exp(-z)) : m_log1p(m_exp(z));
}

/* a*x = hi + lo exactly; returns lo (via FMA), or 0 when hi is not finite
 * (no correction applies there, and FMA would give NaN). */
template <class C> ACTK_HD C product_error(C a, C x, C hi)
{
    return m_isinf(hi) ? C(0) : m_fma(a, x, -hi);
}

/* Phi(x) = erfc(-x/sqrt2)/2 with the argument's rounding error corrected:
 * erfc(t + d) ~ erfc(t) - d * 2/sqrt(pi) * e^(-t^2). */
template <class C> ACTK_HD C normal_cdf(C x)
{
    const C t = -x * K<C>::sqrt1_2_hi;
    C r = m_erfc(t);
    if (t > C(1)) {
        const C d = m_fma(-x, K<C>::sqrt1_2_hi, -t) + (-x) * K<C>::sqrt1_2_lo;
        r = m_fma(-d * K<C>::two_over_sqrt_pi, m_exp(-t * t), r);
    }
    return C(0.5) * r;
}

/* phi(x) = e^(-x^2/2)/sqrt(2 pi), with x^2 split exactly into hi + lo. */
template <class C> ACTK_HD C normal_pdf(C x)
{
    const C sq = x * x;
    const C sq_lo = product_error(x, x, sq);
    const C e = m_exp(C(-0.5) * sq);
    return m_fma(e, C(-0.5) * sq_lo, e) * K<C>::inv_sqrt_2pi;
}

/* ---- the ops --------------------------------------------------------------- */

struct IdentityOp {
    static constexpr bool kHasFromY = true;
    template <class C> ACTK_HD static C forward(C x, Params<C>) { return x; }
    template <class C> ACTK_HD static C backward(C x, C dy, Params<C>) { return m_isnan(x) ? x : dy; }
    template <class C> ACTK_HD static C backward_from_y(C y, C dy, Params<C>) { return m_isnan(y) ? y : dy; }
};

struct StepOp {
    static constexpr bool kHasFromY = true;
    template <class C> ACTK_HD static C forward(C x, Params<C>) { return m_isnan(x) ? x : (x > C(0) ? C(1) : C(0)); }
    template <class C> ACTK_HD static C backward(C x, C, Params<C>) { return m_isnan(x) ? x : C(0); }
    template <class C> ACTK_HD static C backward_from_y(C y, C, Params<C>) { return m_isnan(y) ? y : C(0); }
};

struct SigmoidOp {
    static constexpr bool kHasFromY = true;
    template <class C> ACTK_HD static C forward(C x, Params<C>) { return sigmoid(x); }
    template <class C> ACTK_HD static C backward(C x, C dy, Params<C>) { return m_isnan(x) ? x : dy * sigmoid_derivative(x); }
    template <class C> ACTK_HD static C backward_from_y(C y, C dy, Params<C>) { return dy * (y * (C(1) - y)); }
};

struct TanhOp {
    static constexpr bool kHasFromY = true;
    template <class C> ACTK_HD static C forward(C x, Params<C>) { return m_tanh(x); }
    template <class C> ACTK_HD static C backward(C x, C dy, Params<C>) { return m_isnan(x) ? x : dy * tanh_derivative(x); }
    template <class C> ACTK_HD static C backward_from_y(C y, C dy, Params<C>) { return dy * ((C(1) - y) * (C(1) + y)); }
};

/* Ops whose derivative is a 0/1 mask (or constant) on pieces share this. */
template <class C> ACTK_HD C masked(bool pass, C v, C dy) { return m_isnan(v) ? v : (pass ? dy : C(0)); }

struct ReluOp {
    static constexpr bool kHasFromY = true;
    template <class C> ACTK_HD static C forward(C x, Params<C>) { return m_isnan(x) ? x : (x > C(0) ? x : C(0)); }
    template <class C> ACTK_HD static C backward(C x, C dy, Params<C>) { return masked(x > C(0), x, dy); }
    template <class C> ACTK_HD static C backward_from_y(C y, C dy, Params<C>) { return masked(y > C(0), y, dy); }
};

struct LeakyReluOp {
    static constexpr bool kHasFromY = true;
    template <class C> ACTK_HD static C forward(C x, Params<C> p) { return x > C(0) ? x : p.alpha * x; }
    template <class C> ACTK_HD static C backward(C x, C dy, Params<C> p) { return m_isnan(x) ? x : (x > C(0) ? dy : dy * p.alpha); }
    template <class C> ACTK_HD static C backward_from_y(C y, C dy, Params<C> p) { return m_isnan(y) ? y : (y > C(0) ? dy : dy * p.alpha); }
};

struct EluOp {
    static constexpr bool kHasFromY = true;
    template <class C> ACTK_HD static C forward(C x, Params<C> p) { return x > C(0) ? x : p.alpha * m_expm1(x); }
    template <class C> ACTK_HD static C backward(C x, C dy, Params<C> p) { return m_isnan(x) ? x : (x > C(0) ? dy : dy * (p.alpha * m_exp(x))); }
    template <class C> ACTK_HD static C backward_from_y(C y, C dy, Params<C> p) { return m_isnan(y) ? y : (y > C(0) ? dy : dy * (y + p.alpha)); }
};

struct SeluOp {
    static constexpr bool kHasFromY = true;
    template <class C> ACTK_HD static C forward(C x, Params<C>)
    {
        return x > C(0) ? K<C>::selu_scale * x : K<C>::selu_scale_alpha * m_expm1(x);
    }
    template <class C> ACTK_HD static C backward(C x, C dy, Params<C>)
    {
        return m_isnan(x) ? x : dy * (x > C(0) ? K<C>::selu_scale : K<C>::selu_scale_alpha * m_exp(x));
    }
    template <class C> ACTK_HD static C backward_from_y(C y, C dy, Params<C>)
    {
        return m_isnan(y) ? y : dy * (y > C(0) ? K<C>::selu_scale : y + K<C>::selu_scale_alpha);
    }
};

struct CeluOp {
    static constexpr bool kHasFromY = true;
    /* e^(x/alpha) with x/alpha rounded to q: the remainder r = x - q*alpha is
     * exact by FMA, and e^(x/alpha) ~ e^q (1 + r/alpha). Returns e^q and sets
     * *correction = e^q r/alpha and *q_out = q. */
    template <class C> ACTK_HD static C scaled_exp(C x, C alpha, C *q_out, C *correction)
    {
        const C q = x / alpha;
        const C e = m_exp(q);
        *q_out = q;
        *correction = m_isinf(q) ? C(0) : e * (m_fma(-q, alpha, x) / alpha);
        return e;
    }
    template <class C> ACTK_HD static C forward(C x, Params<C> p)
    {
        if (x > C(0) || m_isnan(x)) return x;
        C q, correction;
        const C e = scaled_exp(x, p.alpha, &q, &correction);
        /* expm1 keeps precision near 0; deep in the tail e - 1 is as good */
        const C em1 = q > C(-1) ? m_expm1(q) : e - C(1);
        return p.alpha * (em1 + correction);
    }
    template <class C> ACTK_HD static C backward(C x, C dy, Params<C> p)
    {
        if (m_isnan(x)) return x;
        if (x > C(0)) return dy;
        C q, correction;
        const C e = scaled_exp(x, p.alpha, &q, &correction);
        return dy * (e + correction);
    }
    template <class C> ACTK_HD static C backward_from_y(C y, C dy, Params<C> p)
    {
        return m_isnan(y) ? y : (y > C(0) ? dy : dy * (y / p.alpha + C(1)));
    }
};

struct SoftplusOp {
    static constexpr bool kHasFromY = true;
    /* alpha = beta of softplus, beta = threshold */
    template <class C> ACTK_HD static C forward(C x, Params<C> p)
    {
        const C z = p.alpha * x;
        if (z > p.beta) return x;
        if (z > C(0)) return softplus_unit(z) / p.alpha;
        /* left tail: log1p(e^z) ~ e^z, so the rounding of z matters */
        const C e = m_exp(z);
        const C e_corrected = m_fma(e, product_error(p.alpha, x, z), e);
        return m_log1p(e_corrected) / p.alpha;
    }
    template <class C> ACTK_HD static C backward(C x, C dy, Params<C> p)
    {
        if (m_isnan(x)) return x;
        const C z = p.alpha * x;
        if (z > p.beta) return dy;
        return dy * sigmoid_corrected(z, product_error(p.alpha, x, z));
    }
    template <class C> ACTK_HD static C backward_from_y(C y, C dy, Params<C> p)
    {
        if (m_isnan(y)) return y;
        const C z = p.alpha * y;
        return z > p.beta ? dy : dy * -m_expm1(-z);
    }
};

struct SoftsignOp {
    static constexpr bool kHasFromY = true;
    template <class C> ACTK_HD static C forward(C x, Params<C>)
    {
        return m_isinf(x) ? m_copysign(C(1), x) : x / (C(1) + m_fabs(x));
    }
    template <class C> ACTK_HD static C backward(C x, C dy, Params<C>)
    {
        /* two divisions: d * d would overflow for |x| > sqrt(max) */
        const C d = C(1) + m_fabs(x);
        return dy / d / d;
    }
    template <class C> ACTK_HD static C backward_from_y(C y, C dy, Params<C>)
    {
        const C d = C(1) - m_fabs(y);
        return dy * (d * d);
    }
};

struct GeluOp {
    static constexpr bool kHasFromY = false;
    /* Deep left tail (Phi(x) near the subnormal range): the asymptotic
     * expansion Phi(x) = phi(x)/|x| S(x), S = sum (-1)^k (2k-1)!! / x^(2k)
     * (9 terms: below 1e-18 relative from x = -36, 1e-11 from x = -12), so
     * gelu = -phi(x) S and gelu' = phi(x) (x - S/x), with e^(-x^2/2) applied
     * last by scale_by_tiny_exp (one rounding into the subnormals). */
    template <class C> ACTK_HD static C tail_series(C x)
    {
        const C w = C(1) / (x * x);
        C sum = C(2027025);
        sum = m_fma(sum, -w, C(135135));
        sum = m_fma(sum, -w, C(10395));
        sum = m_fma(sum, -w, C(945));
        sum = m_fma(sum, -w, C(105));
        sum = m_fma(sum, -w, C(15));
        sum = m_fma(sum, -w, C(3));
        sum = m_fma(sum, -w, C(1));
        return m_fma(sum, -w, C(1));
    }
    template <class C> ACTK_HD static C forward(C x, Params<C>)
    {
        if (m_isinf(x)) return x > C(0) ? x : C(-0.0);
        if (x < K<C>::gelu_tail_below) {
            const C sq = x * x, sq_lo = product_error(x, x, sq);
            return scale_by_tiny_exp(-tail_series(x) * K<C>::inv_sqrt_2pi, C(-0.5) * sq, C(-0.5) * sq_lo);
        }
        return x * normal_cdf(x);
    }
    template <class C> ACTK_HD static C backward(C x, C dy, Params<C>)
    {
        if (m_isnan(x)) return x;
        if (m_isinf(x)) return x > C(0) ? dy : dy * C(0);
        if (x < K<C>::gelu_tail_below) {
            const C sq = x * x, sq_lo = product_error(x, x, sq);
            const C factor = dy * K<C>::inv_sqrt_2pi * (x - tail_series(x) / x);
            return scale_by_tiny_exp(factor, C(-0.5) * sq, C(-0.5) * sq_lo);
        }
        return dy * (normal_cdf(x) + x * normal_pdf(x));
    }
};

struct GeluTanhOp {
    static constexpr bool kHasFromY = false;
    /* 0.5 x (1 + tanh(u)) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3) */
    template <class C> ACTK_HD static C two_u(C x)
    {
        return C(2) * K<C>::sqrt_2_over_pi * x * m_fma(C(0.044715), x * x, C(1));
    }
    template <class C> ACTK_HD static C forward(C x, Params<C>)
    {
        if (m_isinf(x)) return x > C(0) ? x : C(-0.0);
        const C z = two_u(x);
        /* x e^z there (sigmoid(z) = e^z), rounded once into the subnormals */
        if (z < K<C>::tiny_exp_below) return scale_by_tiny_exp(x, z, C(0));
        return x * sigmoid(z);
    }
    template <class C> ACTK_HD static C backward(C x, C dy, Params<C>)
    {
        if (m_isnan(x)) return x;
        if (m_isinf(x)) return x > C(0) ? dy : dy * C(0);
        const C z = two_u(x);
        const C du = K<C>::sqrt_2_over_pi * m_fma(C(3 * 0.044715), x * x, C(1));
        /* e^z (1 + 2 x u') there: s and s (1 - s) are both e^z */
        if (z < K<C>::tiny_exp_below) return scale_by_tiny_exp(dy * m_fma(C(2) * x, du, C(1)), z, C(0));
        C s, s_neg;
        sigmoid_pair(z, &s, &s_neg);
        const C ds = s * s_neg;
        if (ds == C(0)) return dy * s;
        return dy * m_fma(C(2) * x * ds, du, s);
    }
};

struct SiluOp {
    static constexpr bool kHasFromY = false;
    template <class C> ACTK_HD static C forward(C x, Params<C> p)
    {
        if (p.alpha == C(0)) return x * C(0.5);
        const C z = p.alpha * x;
        if (m_isinf(z)) return z > C(0) ? x : m_copysign(C(0), x);
        const C lo = product_error(p.alpha, x, z);
        /* x e^z: sigmoid(z) = e^z exactly at this size */
        if (z < K<C>::tiny_exp_below) return scale_by_tiny_exp(x, z, lo);
        return x * sigmoid_corrected(z, lo);
    }
    template <class C> ACTK_HD static C backward(C x, C dy, Params<C> p)
    {
        if (m_isnan(x)) return x;
        if (p.alpha == C(0)) return dy * C(0.5);
        const C z = p.alpha * x;
        if (m_isinf(z)) return z > C(0) ? dy : dy * C(0);
        const C lo = product_error(p.alpha, x, z);
        /* e^z (1 + z) there, with sigmoid(-z) = 1 */
        if (z < K<C>::tiny_exp_below) return scale_by_tiny_exp(dy * ((C(1) + z) + lo), z, lo);
        /* s (1 + z (1 - s)) over one exponential e = e^-|z|, d = 1 + e:
         * z >= 0: (1 + e + z e) / d^2;  z < 0: e (1 + z + e) / d^2.
         * Fewer roundings than the product form; then the first-order
         * correction for lo, g' = s (1 - s) (2 + z (1 - 2s)). */
        const C e = m_exp(-m_fabs(z)), d = C(1) + e, d2 = d * d;
        const C g = (z >= C(0) ? m_fma(z, e, d) : e * ((C(1) + z) + e)) / d2;
        const C ss = e / d2; /* s (1 - s) */
        const C one_minus_2s = (z >= C(0) ? e - C(1) : C(1) - e) / d;
        return dy * m_fma(lo * ss, m_fma(z, one_minus_2s, C(2)), g);
    }
};

struct MishOp {
    static constexpr bool kHasFromY = false;
    /* With u = e^x and n = u (u + 2): tanh(softplus(x)) = n / (n + 2),
     * sech^2(softplus(x)) sigmoid(x) = 4 u (1 + u) / (n + 2)^2. For x > 0 the
     * same in v = e^-x (no overflow): tanh = (1 + 2v) / (1 + 2v + 2v^2) and
     * the second term 4 v^2 (1 + v) / (1 + 2v + 2v^2)^2. One exponential. */
    template <class C> ACTK_HD static void parts(C x, C *t, C *g)
    {
        if (x > C(0)) {
            const C v = m_exp(-x);
            const C d = m_fma(C(2) * v, v + C(1), C(1)); /* 1 + 2v + 2v^2 */
            *t = m_fma(C(2), v, C(1)) / d;
            *g = C(4) * v * v * (C(1) + v) / (d * d);
        } else {
            const C u = m_exp(x);
            const C n = u * (u + C(2));
            const C d = n + C(2);
            *t = n / d;
            *g = C(4) * u * (C(1) + u) / (d * d);
        }
    }
    template <class C> ACTK_HD static C forward(C x, Params<C>)
    {
        if (m_isinf(x)) return x > C(0) ? x : C(-0.0);
        /* x e^x there: tanh(softplus(x)) = e^x to working precision */
        if (x < K<C>::tiny_exp_below) return scale_by_tiny_exp(x, x, C(0));
        C t, g;
        parts(x, &t, &g);
        return x * t;
    }
    template <class C> ACTK_HD static C backward(C x, C dy, Params<C>)
    {
        if (m_isnan(x)) return x;
        if (m_isinf(x)) return x > C(0) ? dy : dy * C(0);
        /* e^x (1 + x) there */
        if (x < K<C>::tiny_exp_below) return scale_by_tiny_exp(dy * (C(1) + x), x, C(0));
        C t, g;
        parts(x, &t, &g);
        return dy * m_fma(x, g, t);
    }
};

struct HardtanhOp {
    static constexpr bool kHasFromY = true;
    /* alpha = min, beta = max */
    template <class C> ACTK_HD static C forward(C x, Params<C> p) { return x < p.alpha ? p.alpha : (x > p.beta ? p.beta : x); }
    template <class C> ACTK_HD static C backward(C x, C dy, Params<C> p) { return masked(x > p.alpha && x < p.beta, x, dy); }
    template <class C> ACTK_HD static C backward_from_y(C y, C dy, Params<C> p) { return masked(y > p.alpha && y < p.beta, y, dy); }
};

struct Relu6Op {
    static constexpr bool kHasFromY = true;
    template <class C> ACTK_HD static C forward(C x, Params<C>) { return x < C(0) ? C(0) : (x > C(6) ? C(6) : x); }
    template <class C> ACTK_HD static C backward(C x, C dy, Params<C>) { return masked(x > C(0) && x < C(6), x, dy); }
    template <class C> ACTK_HD static C backward_from_y(C y, C dy, Params<C>) { return masked(y > C(0) && y < C(6), y, dy); }
};

struct HardsigmoidOp {
    static constexpr bool kHasFromY = true;
    /* (x + 3) / 6: x + 3 is exact near -3, so no cancellation there. */
    template <class C> ACTK_HD static C forward(C x, Params<C>) { return x <= C(-3) ? C(0) : (x >= C(3) ? C(1) : (x + C(3)) / C(6)); }
    template <class C> ACTK_HD static C backward(C x, C dy, Params<C>) { return masked(x > C(-3) && x < C(3), x, dy / C(6)); }
    template <class C> ACTK_HD static C backward_from_y(C y, C dy, Params<C>) { return masked(y > C(0) && y < C(1), y, dy / C(6)); }
};

struct HardswishOp {
    static constexpr bool kHasFromY = false;
    template <class C> ACTK_HD static C forward(C x, Params<C>) { return x <= C(-3) ? C(0) : (x >= C(3) ? x : x * (x + C(3)) / C(6)); }
    /* PyTorch's convention: 0 below -3, (2x + 3)/6 on [-3, 3], 1 above. */
    template <class C> ACTK_HD static C backward(C x, C dy, Params<C>)
    {
        if (m_isnan(x)) return x;
        if (x < C(-3)) return C(0);
        return x <= C(3) ? dy * ((C(2) * x + C(3)) / C(6)) : dy;
    }
};

struct LogsigmoidOp {
    static constexpr bool kHasFromY = true;
    template <class C> ACTK_HD static C forward(C x, Params<C>) { return (x < C(0) ? x : C(0)) - m_log1p(m_exp(-m_fabs(x))); }
    template <class C> ACTK_HD static C backward(C x, C dy, Params<C>) { return m_isnan(x) ? x : dy * sigmoid(-x); }
    template <class C> ACTK_HD static C backward_from_y(C y, C dy, Params<C>) { return m_isnan(y) ? y : dy * -m_expm1(y); }
};

struct TanhshrinkOp {
    static constexpr bool kHasFromY = false;
    /* x - tanh(x) cancels for small |x|: use its odd Taylor series there
     * (coefficients from the Bernoulli numbers; 20 terms reach double
     * precision for |x| < 0.55, where the direct difference would lose more
     * than 3 bits). */
    template <class C> ACTK_HD static C forward(C x, Params<C>)
    {
        if (m_fabs(x) < C(0.55)) {
            const C x2 = x * x;
            C s = C(-1.1587644432798852868e-08);
            s = m_fma(s, x2, C(2.8591366623052539776e-08));
            s = m_fma(s, x2, C(-7.0546369464009681439e-08));
            s = m_fma(s, x2, C(1.7406618963571648024e-07));
            s = m_fma(s, x2, C(-4.2949110782738057384e-07));
            s = m_fma(s, x2, C(1.0597268320104654327e-06));
            s = m_fma(s, x2, C(-2.6147711512907546474e-06));
            s = m_fma(s, x2, C(6.4516892156554306480e-06));
            s = m_fma(s, x2, C(-1.5918905069328963698e-05));
            s = m_fma(s, x2, C(3.9278323883316832680e-05));
            s = m_fma(s, x2, C(-9.6915379569294509495e-05));
            s = m_fma(s, x2, C(2.3912911424355247792e-04));
            s = m_fma(s, x2, C(-5.9002744094558594659e-04));
            s = m_fma(s, x2, C(1.4558343870513183304e-03));
            s = m_fma(s, x2, C(-3.5921280365724811423e-03));
            s = m_fma(s, x2, C(8.8632355299021973322e-03));
            s = m_fma(s, x2, C(-2.1869488536155202996e-02));
            s = m_fma(s, x2, C(5.3968253968253970809e-02));
            s = m_fma(s, x2, C(-1.3333333333333333148e-01));
            s = m_fma(s, x2, C(3.3333333333333331483e-01));
            return s * x2 * x;
        }
        return x - m_tanh(x);
    }
    template <class C> ACTK_HD static C backward(C x, C dy, Params<C>)
    {
        const C t = m_tanh(x);
        return dy * (t * t);
    }
};

struct SoftshrinkOp {
    static constexpr bool kHasFromY = false;
    template <class C> ACTK_HD static C forward(C x, Params<C> p)
    {
        return x > p.alpha ? x - p.alpha : (x < -p.alpha ? x + p.alpha : (m_isnan(x) ? x : C(0)));
    }
    template <class C> ACTK_HD static C backward(C x, C dy, Params<C> p) { return masked(x > p.alpha || x < -p.alpha, x, dy); }
};

struct HardshrinkOp {
    static constexpr bool kHasFromY = true;
    template <class C> ACTK_HD static C forward(C x, Params<C> p) { return (x > p.alpha || x < -p.alpha || m_isnan(x)) ? x : C(0); }
    template <class C> ACTK_HD static C backward(C x, C dy, Params<C> p) { return masked(x > p.alpha || x < -p.alpha, x, dy); }
    template <class C> ACTK_HD static C backward_from_y(C y, C dy, Params<C>) { return masked(y != C(0), y, dy); }
};

struct ThresholdOp {
    static constexpr bool kHasFromY = false;
    /* alpha = threshold, beta = value; x <= t ? v : x keeps NaN as NaN */
    template <class C> ACTK_HD static C forward(C x, Params<C> p) { return x <= p.alpha ? p.beta : x; }
    template <class C> ACTK_HD static C backward(C x, C dy, Params<C> p) { return masked(!(x <= p.alpha), x, dy); }
};

/* Calls visitor(OpStruct{}) for a runtime op; returns what it returns, or
 * `fallback` for an out-of-range op. Host-side dispatch only. */
template <class Result, class Visitor>
inline Result visit_op(actk_op op, Visitor &&visitor, Result fallback)
{
    switch (op) {
    case ACTK_OP_IDENTITY: return visitor(IdentityOp{});
    case ACTK_OP_STEP: return visitor(StepOp{});
    case ACTK_OP_SIGMOID: return visitor(SigmoidOp{});
    case ACTK_OP_TANH: return visitor(TanhOp{});
    case ACTK_OP_RELU: return visitor(ReluOp{});
    case ACTK_OP_LEAKY_RELU: return visitor(LeakyReluOp{});
    case ACTK_OP_ELU: return visitor(EluOp{});
    case ACTK_OP_SELU: return visitor(SeluOp{});
    case ACTK_OP_CELU: return visitor(CeluOp{});
    case ACTK_OP_SOFTPLUS: return visitor(SoftplusOp{});
    case ACTK_OP_SOFTSIGN: return visitor(SoftsignOp{});
    case ACTK_OP_GELU: return visitor(GeluOp{});
    case ACTK_OP_GELU_TANH: return visitor(GeluTanhOp{});
    case ACTK_OP_SILU: return visitor(SiluOp{});
    case ACTK_OP_MISH: return visitor(MishOp{});
    case ACTK_OP_HARDTANH: return visitor(HardtanhOp{});
    case ACTK_OP_RELU6: return visitor(Relu6Op{});
    case ACTK_OP_HARDSIGMOID: return visitor(HardsigmoidOp{});
    case ACTK_OP_HARDSWISH: return visitor(HardswishOp{});
    case ACTK_OP_LOGSIGMOID: return visitor(LogsigmoidOp{});
    case ACTK_OP_TANHSHRINK: return visitor(TanhshrinkOp{});
    case ACTK_OP_SOFTSHRINK: return visitor(SoftshrinkOp{});
    case ACTK_OP_HARDSHRINK: return visitor(HardshrinkOp{});
    case ACTK_OP_THRESHOLD: return visitor(ThresholdOp{});
    case ACTK_OP_COUNT:
    case ACTK_OP_MAX_ENUM: break;
    }
    return fallback;
}

} // namespace actk

#endif
