// SPDX-License-Identifier: MIT
/*
 * math_policies.cuh - the numerics under the element-wise ops: the
 * float/double overload set (m_exp, m_fma, ...), constants rounded once per
 * compute type (K<C>), the math policies an op takes its transcendental
 * functions from (LibmMath for f64, F32Math for f32 via f32_activations.cuh,
 * HalfMath for f16/bf16) with their fitted coefficient tables, and MathFor,
 * the policy per storage dtype.
 *
 * Everything is __host__ __device__ (ACTK_HD) and uses only <math.h>, so the
 * host tests run the same source. Part of activation_math.cuh (include that).
 */
#ifndef ACTK_KERNELS_MATH_POLICIES_CUH
#define ACTK_KERNELS_MATH_POLICIES_CUH

#include "actk/actk.h"

#include <math.h>
#include <string.h>

#if defined(__CUDACC__)
#define ACTK_HD __host__ __device__ __forceinline__
#else
#define ACTK_HD inline
#endif

#include "f32_activations.cuh" /* the f32 policy, its float primitives and the f32 formulas */
#include "f32_gelu.cuh" /* gelu and gelu_tanh for the f32 policy */

namespace actk {

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

/* ---- math policies --------------------------------------------------------
 *
 * The ops take their transcendental functions and their bounded divisions
 * from a policy M; M::T is the compute type. The engine picks the policy
 * per storage dtype (MathFor below):
 *
 *  - LibmMath<C>: the C library's functions (CUDA's own on the device), the
 *    full precision of C. f64 storage.
 *  - F32Math (f32_math.cuh): float only, on the FP32 pipe: error-free
 *    transformations, float-float pairs, an exponential core with a low
 *    part and an FMA-corrected MUFU.RCP. f32 storage.
 *  - HalfMath: float, built on the hardware's base-2 exponential and
 *    logarithm (MUFU ex2/lg2 through exp2f/__log2f), __fdividef and CUDA's
 *    tanhf, with Taylor pieces and fitted polynomials where those would
 *    cancel. Relative error about 2^-19 or
 *    better: 2^7 below half an f16 ULP (2^-12), 2^10 below a bf16 one, at a
 *    fraction of the instructions of expf/log1pf/erfcf/tanhf. f16 and bf16
 *    storage, where CUDA's full-precision float functions made the kernels
 *    instruction-bound (docs/PERF.md). (Exponential-based functions lose a
 *    further ~|x| 2^-24 at large arguments: erfc is good to 2^-15 at z = 9.5.)
 *
 * Each policy provides exp, expm1, log1p_unit (log1p on [0, 1], all the ops
 * need: its argument is always some e^-|z|), tanh, erfc, and
 * div(a, b) for denominators known to lie in [1, 2^126] (the ops only call
 * it on 1 + e^-|z| and similar). kCorrectArgumentRounding says whether the
 * first-order corrections for a rounded argument (a*x, -x/sqrt2) are worth
 * their cost: they matter for f64 and f32 (computed in float, a rounded a*x
 * costs |a x| 2^-24 relative in a tail), not for half precision.
 * kBits is the relative accuracy the policy's functions deliver; the ops
 * size their own series and cancellation guards by it.
 */
template <class C, bool CorrectArgumentRounding = true> struct LibmMath {
    using T = C;
    static constexpr bool kCorrectArgumentRounding = CorrectArgumentRounding;
    static constexpr int kBits = 52; /* relative accuracy of the functions, in bits */
    ACTK_HD static C exp(C x) { return m_exp(x); }
    ACTK_HD static C expm1(C x) { return m_expm1(x); }
    ACTK_HD static C log1p_unit(C u) { return m_log1p(u); }
    ACTK_HD static C tanh(C x) { return m_tanh(x); }
    ACTK_HD static C erfc(C x) { return m_erfc(x); }
    ACTK_HD static C div(C a, C b) { return a / b; }
};

/* The hardware approximations HalfMath is built on (a separate struct so the
 * tests can swap in deliberately skewed versions and show the bounds hold
 * under the device's documented errors). On the host: the C library. */
struct HalfHardware {
    /* 2^x: MUFU.EX2 with CUDA's range handling, 2 ULP over the whole range. */
    ACTK_HD static float exp2(float x) { return exp2f(x); }
    /* log2(x) for x in [1, 2^126]: MUFU.LG2, absolute error 2^-22 on [0.5, 2]. */
    ACTK_HD static float log2(float x)
    {
#if defined(__CUDA_ARCH__)
        return __log2f(x);
#else
        return log2f(x);
#endif
    }
    /* CUDA's tanhf is already lean on sm_90 (MUFU.EX2 and MUFU.RCP, a dozen
     * instructions, 2 ULP), so it is used as is. */
    ACTK_HD static float tanh(float x) { return tanhf(x); }
    /* a / b for b in [2^-126, 2^126]: MUFU.RCP and a multiply, 2 ULP. */
    ACTK_HD static float div(float a, float b)
    {
#if defined(__CUDA_ARCH__)
        return __fdividef(a, b);
#else
        return a / b;
#endif
    }
};

template <class Hw> struct HalfMathOn {
    using T = float;
    static constexpr bool kCorrectArgumentRounding = false;
    static constexpr int kBits = 19;
    ACTK_HD static float div(float a, float b) { return Hw::div(a, b); }
    /* e^x = 2^(x log2 e): the rounding of x log2 e costs |x| 2^-24 relative,
     * under 2^-17 wherever a half-precision result is not 0 or inf. */
    ACTK_HD static float exp(float x) { return Hw::exp2(x * 1.44269504f); }
    /* |x| < 1/2: the Taylor series through x^8/8! (truncation below 2^-26
     * relative); elsewhere e^x - 1 loses at most 2 bits (at x = -1/2). */
    ACTK_HD static float expm1(float x)
    {
        float p = 2.48015873e-05f; /* 1/8! */
        p = fmaf(p, x, 1.98412698e-04f);
        p = fmaf(p, x, 1.38888889e-03f);
        p = fmaf(p, x, 8.33333333e-03f);
        p = fmaf(p, x, 4.16666667e-02f);
        p = fmaf(p, x, 1.66666667e-01f);
        p = fmaf(p, x, 0.5f);
        const float series = fmaf(p * x, x, x);
        return fabsf(x) < 0.5f ? series : exp(x) - 1.0f;
    }
    /* u < 1/8: the alternating series through u^7/7 (truncation below 2^-24
     * relative); elsewhere log2(1 + u) ln 2, whose absolute error 2^-22 is
     * under 2^-19 relative there (up to u = 1; more than the ops need, it
     * holds for any u > -1/8). */
    ACTK_HD static float log1p_unit(float u)
    {
        float p = 1.42857143e-01f; /* 1/7 */
        p = fmaf(p, u, -1.66666667e-01f);
        p = fmaf(p, u, 2.0e-01f);
        p = fmaf(p, u, -2.5e-01f);
        p = fmaf(p, u, 3.33333333e-01f);
        p = fmaf(p, u, -0.5f);
        const float series = fmaf(p * u, u, u);
        return fabsf(u) < 0.125f ? series : Hw::log2(1.0f + u) * 0.693147181f;
    }
    ACTK_HD static float tanh(float x) { return Hw::tanh(x); }
    /* erfc(|z|) = q R(q) e^(-z^2) with q = 1/(1 + 15/32 |z|): R is smooth on
     * q in [0, 1] (R(0) = 15/(32 sqrt(pi)), R(1) = 1), and a degree-9
     * polynomial fitted to it (Chebyshev fit, tools/fit_half_math.py) has
     * relative error 2^-23. e^(-z^2) comes last so that a subnormal result
     * is rounded once. erfc(z) = 2 - erfc(-z) for z < 0. erfc_and_gauss
     * also returns e^(-z^2), which gelu' needs too. */
    ACTK_HD static float erfc_and_gauss(float z, float *gauss)
    {
        const float a = fabsf(z);
        const float q = div(1.0f, fmaf(0.46875f, a, 1.0f)); /* 0 once a > 2^126: erfc is 0 there too */
        const float r = erfc_q_polynomial(q);
        *gauss = exp(-a * a);
        const float e = (q * r) * *gauss;
        return z < 0.0f ? 2.0f - e : e;
    }
    ACTK_HD static float erfc(float z)
    {
        float gauss;
        return erfc_and_gauss(z, &gauss);
    }
};
using HalfMath = HalfMathOn<HalfHardware>;

/* Coefficient table of gelu's double-precision root window, highest
 * degree first. On the device it sits in constant memory: a DFMA reads a
 * constant-bank operand directly, whereas a 64-bit immediate costs two
 * uniform moves per use. */
#define ACTK_GELU_ROOT_COEFFICIENTS \
    0.00018459436592441295, -0.00073148662374190355, -0.0022394427372386971, 0.0045385009596423179, \
        0.019421677711465787, -0.014771505932417772, -0.11400823328061091, -0.018199676525282319, \
        0.38828498299053121, 0.43149399231420515
constexpr int kGeluRootTerms = 10;

/* Defines table_name(): the table in constant memory on the device, in an
 * ordinary array on the host (the same numbers). */
#if defined(__CUDA_ARCH__)
#define ACTK_TABLE_SOURCE(name) name##_device
#else
#define ACTK_TABLE_SOURCE(name) name##_host
#endif
#if defined(__CUDACC__)
#define ACTK_DEVICE_TABLE(name, count, ...) static __constant__ double name##_device[count] = {__VA_ARGS__};
#else
#define ACTK_DEVICE_TABLE(name, count, ...)
#endif
#define ACTK_COEFFICIENT_TABLE(name, count, ...)                                                               \
    ACTK_DEVICE_TABLE(name, count, __VA_ARGS__)                                                                \
    static const double name##_host[count] = {__VA_ARGS__};                                                    \
    ACTK_HD const double *name() { return ACTK_TABLE_SOURCE(name); }

ACTK_COEFFICIENT_TABLE(gelu_root_coefficients, kGeluRootTerms, ACTK_GELU_ROOT_COEFFICIENTS)

/* Horner's rule over a table of N coefficients, highest degree first. */
template <int N> ACTK_HD double horner(const double *c, double x)
{
    double p = c[0];
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
    for (int i = 1; i < N; ++i) p = m_fma(p, x, c[i]);
    return p;
}

/* The policy for each storage dtype: used by the kernels (through
 * StorageTraits) and by the host emulation in the tests. */
template <actk_dtype D> struct MathFor { using type = LibmMath<double>; };
template <> struct MathFor<ACTK_F32> { using type = F32Math; }; /* float; f32_math.cuh */
template <> struct MathFor<ACTK_F16> { using type = HalfMath; };
template <> struct MathFor<ACTK_BF16> { using type = HalfMath; };

} // namespace actk

#endif
