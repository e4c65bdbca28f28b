// SPDX-License-Identifier: MIT
/*
 * math_building_blocks.cuh - pieces several element-wise ops share, each
 * written once against a math policy M (math_policies.cuh): sigmoid and its
 * derivative without overflow or cancellation, their corrected forms for a
 * rounded argument, tanh's derivative, the normal CDF and PDF, the exact
 * error of a product, and the 0/1 mask of piecewise derivatives.
 * Part of activation_math.cuh (include that).
 */
#ifndef ACTK_KERNELS_MATH_BUILDING_BLOCKS_CUH
#define ACTK_KERNELS_MATH_BUILDING_BLOCKS_CUH

#include "math_policies.cuh"

namespace actk {

/* ---- shared building blocks ---------------------------------------------- */

/* sigmoid(z) without overflow; exact argument. 1/(1+e) for z >= 0 and
 * e/(1+e) below, e = e^-|z|: one exponential and one division whatever the
 * signs in a warp (two branches would cost both). */
template <class M, class C = typename M::T> ACTK_HD C sigmoid(C z)
{
    const C e = M::exp(-m_fabs(z));
    return M::div(z >= C(0) ? C(1) : e, C(1) + e);
}

/* sigmoid(z) and sigmoid(-z) from one exponential e = e^-|z|: the larger
 * is 1/(1+e), the smaller e/(1+e). No cancellation; NaN stays NaN. */
template <class M, class C = typename M::T> ACTK_HD void sigmoid_pair(C z, C *s, C *s_neg)
{
    const C e = M::exp(-m_fabs(z));
    const C large = M::div(C(1), C(1) + e), small = e * large;
    *s = z >= C(0) ? large : small;
    *s_neg = z >= C(0) ? small : large;
    if (z != z) *s = *s_neg = z;
}

/* sigmoid(hi + lo) and sigmoid(-(hi + lo)) where lo is the rounding error of
 * hi: a first-order correction, sigmoid' = s (1 - s). Matters in the tails,
 * where sigmoid(z) ~ e^z and a rounded z would cost |z| ulps. */
template <class M, class C = typename M::T> ACTK_HD void sigmoid_pair_corrected(C hi, C lo, C *s, C *s_neg)
{
    C a, b;
    sigmoid_pair<M>(hi, &a, &b);
    if constexpr (!M::kCorrectArgumentRounding) {
        (void)lo;
        *s = a;
        *s_neg = b;
        return;
    }
    const C d = a * b * lo;
    *s = a + d;
    *s_neg = b - d;
}

template <class M, class C = typename M::T> ACTK_HD C sigmoid_corrected(C hi, C lo)
{
    C s, s_neg;
    sigmoid_pair_corrected<M>(hi, lo, &s, &s_neg);
    return s;
}

/* sigmoid'(z) = e^-|z| / (1 + e^-|z|)^2: no cancellation in the tails. */
template <class M, class C = typename M::T> ACTK_HD C sigmoid_derivative(C z)
{
    const C e = M::exp(-m_fabs(z));
    const C d = C(1) + e;
    return M::div(e, d * d);
}

/* v * e^(z + lo) with a single rounding into the subnormal range: e^z is
 * split as e^(z/2) * e^(z/2) so no subnormal intermediate loses bits (a
 * subnormal e^z times a large v would otherwise cost |v| ulps). For z far
 * below 0 only. */
template <class M, class C = typename M::T> ACTK_HD C scale_by_tiny_exp(C v, C z, C lo)
{
    const C half = M::exp(C(0.5) * z);
    if (half == C(0)) return m_copysign(C(0), v); /* v may be +-inf here */
    const C t = v * half;
    return m_fma(t, lo, t) * half;
}

/* tanh'(z) = 4 e^-2|z| / (1 + e^-2|z|)^2, not 1 - tanh^2. */
template <class M, class C = typename M::T> ACTK_HD C tanh_derivative(C z)
{
    const C e = M::exp(C(-2) * m_fabs(z));
    const C d = C(1) + e;
    return M::div(C(4) * e, d * d);
}

/* a*x = hi + lo exactly; returns lo (via FMA), or 0 when hi is not finite
 * (no correction applies there, and FMA would give NaN). */
template <class C> ACTK_HD C product_error(C a, C x, C hi)
{
    return m_isinf(hi) ? C(0) : m_fma(a, x, -hi);
}

/* Phi(x) = erfc(-x/sqrt2)/2 with the argument's rounding error corrected:
 * erfc(t + d) ~ erfc(t) - d * 2/sqrt(pi) * e^(-t^2). */
template <class M, class C = typename M::T> ACTK_HD C normal_cdf(C x)
{
    const C t = -x * K<C>::sqrt1_2_hi;
    C r = M::erfc(t);
    if (M::kCorrectArgumentRounding && t > C(1)) {
        const C d = m_fma(-x, K<C>::sqrt1_2_hi, -t) + (-x) * K<C>::sqrt1_2_lo;
        r = m_fma(-d * K<C>::two_over_sqrt_pi, M::exp(-t * t), r);
    }
    return C(0.5) * r;
}

/* phi(x) = e^(-x^2/2)/sqrt(2 pi), with x^2 split exactly into hi + lo. */
template <class M, class C = typename M::T> ACTK_HD C normal_pdf(C x)
{
    const C sq = x * x;
    const C sq_lo = product_error(x, x, sq);
    const C e = M::exp(C(-0.5) * sq);
    return m_fma(e, C(-0.5) * sq_lo, e) * K<C>::inv_sqrt_2pi;
}

/* Ops whose derivative is a 0/1 mask (or constant) on pieces share this. */
template <class C> ACTK_HD C masked(bool pass, C v, C dy) { return m_isnan(v) ? v : (pass ? dy : C(0)); }

} // namespace actk

#endif
