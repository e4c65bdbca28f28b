// SPDX-License-Identifier: MIT
/*
 * op_functors.cuh - one struct per element-wise op (what it computes,
 * forward and backward, on top of math_building_blocks.cuh and a math
 * policy M), and visit_op, which turns a runtime actk_op into its struct.
 * The ops, their order and their traits come from op_list.h.
 *
 * Each op struct derives from ListedOp<its actk_op> (kOp, kHasFromY from
 * the list) and has
 *   template <class M> static C forward(C x, Params<C> p);
 *   template <class M> static C backward(C x, C dy, Params<C> p);
 *   template <class M> static C backward_from_y(C y, C dy, Params<C> p);  (kHasFromY)
 * where C = M::T is the compute type. Part of activation_math.cuh (include
 * that); the accuracy rules are listed there.
 */
#ifndef ACTK_KERNELS_OP_FUNCTORS_CUH
#define ACTK_KERNELS_OP_FUNCTORS_CUH

#include "math_building_blocks.cuh"
#include "op_list.h"

namespace actk {

/* An op's two parameters (actk_act's alpha and beta) in the compute type. */
template <class C>
struct Params {
    C alpha;
    C beta;
};

/* ---- the ops --------------------------------------------------------------- */

/* Each op struct derives from ListedOp<its enum value>, which gives it
 * kOp and kHasFromY (backward_from_y exists) from the op list
 * (kernels/op_list.h), so they are written once for C and CUDA alike. */
template <actk_op E> struct ListedOp;
#define ACTK_LISTED_OP(E, name, S, alpha, beta, from_y, ...)                                                           \
    template <> struct ListedOp<ACTK_OP_##E> {                                                                         \
        static constexpr actk_op kOp = ACTK_OP_##E;                                                                    \
        static constexpr bool kHasFromY = from_y != 0;                                                                 \
    };
ACTK_OP_LIST(ACTK_LISTED_OP)
#undef ACTK_LISTED_OP


struct IdentityOp : ListedOp<ACTK_OP_IDENTITY> {
    template <class M, class C = typename M::T> ACTK_HD static C forward(C x, Params<C>) { return x; }
    template <class M, class C = typename M::T> ACTK_HD static C backward(C x, C dy, Params<C>)
    {
        return m_isnan(x) ? x : dy;
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward_from_y(C y, C dy, Params<C>)
    {
        return m_isnan(y) ? y : dy;
    }
};

struct StepOp : ListedOp<ACTK_OP_STEP> {
    template <class M, class C = typename M::T> ACTK_HD static C forward(C x, Params<C>)
    {
        return m_isnan(x) ? x : (x > C(0) ? C(1) : C(0));
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward(C x, C, Params<C>)
    {
        return m_isnan(x) ? x : C(0);
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward_from_y(C y, C, Params<C>)
    {
        return m_isnan(y) ? y : C(0);
    }
};

struct SigmoidOp : ListedOp<ACTK_OP_SIGMOID> {
    template <class M, class C = typename M::T> ACTK_HD static C forward(C x, Params<C>)
    {
        if constexpr (IsF32Math<M>::value) return f32::sigmoid<typename M::Hardware>(x, 0.0f);
        return sigmoid<M>(x);
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward(C x, C dy, Params<C>)
    {
        if (m_isnan(x)) return x;
        if constexpr (IsF32Math<M>::value) return f32::dy_logistic_derivative<typename M::Hardware>(dy, x, 0);
        return dy * sigmoid_derivative<M>(x);
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward_from_y(C y, C dy, Params<C>)
    {
        if constexpr (IsF32Math<M>::value) return f32::dy_sigmoid_derivative_from_y(dy, y);
        return dy * (y * (C(1) - y));
    }
};

struct TanhOp : ListedOp<ACTK_OP_TANH> {
    template <class M, class C = typename M::T> ACTK_HD static C forward(C x, Params<C>) { return M::tanh(x); }
    template <class M, class C = typename M::T> ACTK_HD static C backward(C x, C dy, Params<C>)
    {
        if (m_isnan(x)) return x;
        /* 4 e/(1 + e)^2, e = e^-2|x| */
        if constexpr (IsF32Math<M>::value) return f32::dy_logistic_derivative<typename M::Hardware>(dy, C(2) * x, 2);
        return dy * tanh_derivative<M>(x);
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward_from_y(C y, C dy, Params<C>)
    {
        if constexpr (IsF32Math<M>::value) return f32::dy_tanh_derivative_from_y(dy, y);
        return dy * ((C(1) - y) * (C(1) + y));
    }
};

struct ReluOp : ListedOp<ACTK_OP_RELU> {
    template <class M, class C = typename M::T> ACTK_HD static C forward(C x, Params<C>)
    {
        return m_isnan(x) ? x : (x > C(0) ? x : C(0));
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward(C x, C dy, Params<C>)
    {
        return masked(x > C(0), x, dy);
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward_from_y(C y, C dy, Params<C>)
    {
        return masked(y > C(0), y, dy);
    }
};

struct LeakyReluOp : ListedOp<ACTK_OP_LEAKY_RELU> {
    template <class M, class C = typename M::T> ACTK_HD static C forward(C x, Params<C> p)
    {
        return x > C(0) ? x : p.alpha * x;
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward(C x, C dy, Params<C> p)
    {
        return m_isnan(x) ? x : (x > C(0) ? dy : dy * p.alpha);
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward_from_y(C y, C dy, Params<C> p)
    {
        return m_isnan(y) ? y : (y > C(0) ? dy : dy * p.alpha);
    }
};

struct EluOp : ListedOp<ACTK_OP_ELU> {
    template <class M, class C = typename M::T> ACTK_HD static C forward(C x, Params<C> p)
    {
        if constexpr (IsF32Math<M>::value) return x > C(0) ? x : f32::scaled_expm1(x, 0.0f, f32::Pair{p.alpha, 0.0f});
        return x > C(0) ? x : p.alpha * M::expm1(x);
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward(C x, C dy, Params<C> p)
    {
        if (m_isnan(x)) return x;
        if constexpr (IsF32Math<M>::value)
            return x > C(0) ? dy : f32::dy_scaled_exp(dy, x, 0.0f, f32::Pair{p.alpha, 0.0f});
        return x > C(0) ? dy : dy * (p.alpha * M::exp(x));
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward_from_y(C y, C dy, Params<C> p)
    {
        return m_isnan(y) ? y : (y > C(0) ? dy : dy * (y + p.alpha));
    }
};

struct SeluOp : ListedOp<ACTK_OP_SELU> {
    /* f32: scale and scale * alpha as pairs, each result rounded once */
    template <class M, class C = typename M::T> ACTK_HD static C forward(C x, Params<C>)
    {
        if constexpr (IsF32Math<M>::value)
            return x > C(0) ? f32::times(x, f32::Pair{1.05070102f, -3.47926523e-08f})
                            : f32::scaled_expm1(x, 0.0f, f32::Pair{1.75809932f, 2.32967174e-08f});
        return x > C(0) ? K<C>::selu_scale * x : K<C>::selu_scale_alpha * M::expm1(x);
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward(C x, C dy, Params<C>)
    {
        if (m_isnan(x)) return x;
        if constexpr (IsF32Math<M>::value)
            return x > C(0) ? f32::times(dy, f32::Pair{1.05070102f, -3.47926523e-08f})
                            : f32::dy_scaled_exp(dy, x, 0.0f, f32::Pair{1.75809932f, 2.32967174e-08f});
        return dy * (x > C(0) ? K<C>::selu_scale : K<C>::selu_scale_alpha * M::exp(x));
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward_from_y(C y, C dy, Params<C>)
    {
        if constexpr (IsF32Math<M>::value) {
            /* y + scale alpha cancels near y = -scale alpha: the constants as pairs */
            if (m_isnan(y)) return y;
            return y > C(0) ? f32::times(dy, f32::Pair{1.05070102f, -3.47926523e-08f})
                            : f32::dy_sum(dy, y, f32::Pair{1.75809932f, 2.32967174e-08f});
        }
        return m_isnan(y) ? y : dy * (y > C(0) ? K<C>::selu_scale : y + K<C>::selu_scale_alpha);
    }
};

struct CeluOp : ListedOp<ACTK_OP_CELU> {
    /* x/alpha is rounded to q; where the policy corrects argument rounding,
     * the remainder r = x - q alpha (exact by FMA) gives e^(x/alpha) ~
     * e^q (1 + r/alpha), so the correction is e^q r/alpha. */
    template <class M, class C = typename M::T> ACTK_HD static C correction(C x, C alpha, C q, C exp_q)
    {
        if constexpr (!M::kCorrectArgumentRounding) {
            (void)x, (void)alpha, (void)q, (void)exp_q;
            return C(0);
        } else {
            return m_isinf(q) ? C(0) : exp_q * (m_fma(-q, alpha, x) / alpha);
        }
    }
    /* alpha (e^(x/alpha) - 1) through expm1 alone (one transcendental),
     * with the correction's e^q taken as expm1(q) + 1. */
    template <class M, class C = typename M::T> ACTK_HD static C forward(C x, Params<C> p)
    {
        if (x > C(0) || m_isnan(x)) return x;
        if constexpr (IsF32Math<M>::value) {
            const f32::Pair q = f32::quotient<typename M::Hardware>(x, p.alpha);
            return f32::scaled_expm1(q.hi, q.lo, f32::Pair{p.alpha, 0.0f});
        }
        const C q = x / p.alpha;
        const C em1 = M::expm1(q);
        return p.alpha * (em1 + correction<M>(x, p.alpha, q, em1 + C(1)));
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward(C x, C dy, Params<C> p)
    {
        if (m_isnan(x)) return x;
        if (x > C(0)) return dy;
        if constexpr (IsF32Math<M>::value) {
            const f32::Pair q = f32::quotient<typename M::Hardware>(x, p.alpha);
            return f32::dy_scaled_exp(dy, q.hi, q.lo, f32::Pair{1.0f, 0.0f});
        }
        const C q = x / p.alpha;
        const C e = M::exp(q);
        return dy * (e + correction<M>(x, p.alpha, q, e));
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward_from_y(C y, C dy, Params<C> p)
    {
        if constexpr (IsF32Math<M>::value) {
            /* (y + alpha)/alpha: y/alpha + 1 would cancel near y = -alpha */
            if (m_isnan(y)) return y;
            if (y > C(0)) return dy;
            const f32::Pair s = f32::two_sum(y, p.alpha);
            return f32::times(dy, f32::divide_pair<typename M::Hardware>(s, f32::Pair{p.alpha, 0.0f}));
        }
        return m_isnan(y) ? y : (y > C(0) ? dy : dy * (y / p.alpha + C(1)));
    }
};

struct SoftplusOp : ListedOp<ACTK_OP_SOFTPLUS> {
    /* alpha = beta of softplus, beta = threshold */
    /* log(1 + e^z) = max(z, 0) + log1p(e^-|z|): one exponential and one
     * logarithm. (Skipping the division when beta_ = 1 made the compiler
     * duplicate the whole body, so it always divides.) */
    template <class M, class C = typename M::T> ACTK_HD static C forward(C x, Params<C> p)
    {
        const C z = p.alpha * x;
        if (z > p.beta) return x;
        if constexpr (IsF32Math<M>::value) return f32::softplus<typename M::Hardware>(x, p.alpha);
        C e = M::exp(-m_fabs(z));
        /* left tail: log1p(e^z) ~ e^z, so the rounding of z matters */
        if (M::kCorrectArgumentRounding && !(z > C(0))) e = m_fma(e, product_error(p.alpha, x, z), e);
        const C r = (z > C(0) ? z : C(0)) + M::log1p_unit(e);
        return r / p.alpha;
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward(C x, C dy, Params<C> p)
    {
        if (m_isnan(x)) return x;
        const C z = p.alpha * x;
        if (z > p.beta) return dy;
        if constexpr (IsF32Math<M>::value)
            return f32::dy_sigmoid<typename M::Hardware>(dy, z, product_error(p.alpha, x, z));
        return dy * sigmoid_corrected<M>(z, product_error(p.alpha, x, z));
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward_from_y(C y, C dy, Params<C> p)
    {
        if (m_isnan(y)) return y;
        const C z = p.alpha * y;
        return z > p.beta ? dy : dy * -M::expm1(-z);
    }
};

struct SoftsignOp : ListedOp<ACTK_OP_SOFTSIGN> {
    template <class M, class C = typename M::T> ACTK_HD static C forward(C x, Params<C>)
    {
        return m_isinf(x) ? m_copysign(C(1), x) : x / (C(1) + m_fabs(x));
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward(C x, C dy, Params<C>)
    {
        /* two divisions: d * d would overflow for |x| > sqrt(max) */
        const C d = C(1) + m_fabs(x);
        return dy / d / d;
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward_from_y(C y, C dy, Params<C>)
    {
        const C d = C(1) - m_fabs(y);
        return dy * (d * d);
    }
};

struct GeluOp : ListedOp<ACTK_OP_GELU> {
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
    template <class M, class C = typename M::T> ACTK_HD static C forward(C x, Params<C>)
    {
        /* f32: float only, f32_gelu.cuh */
        if constexpr (IsF32Math<M>::value) {
            return f32_gelu::gelu<typename M::Hardware>(x);
        } else {
            if (m_isinf(x)) return x > C(0) ? x : C(-0.0);
            if (x < K<C>::gelu_tail_below) {
                const C sq = x * x, sq_lo = product_error(x, x, sq);
                return scale_by_tiny_exp<M>(-tail_series(x) * K<C>::inv_sqrt_2pi, C(-0.5) * sq, C(-0.5) * sq_lo);
            }
            return x * normal_cdf<M>(x);
        }
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward(C x, C dy, Params<C>)
    {
        if constexpr (IsF32Math<M>::value) {
            /* infinite x first: the float formulas clamp x, and dy times
             * the clamp point's derivative would overflow for a huge dy */
            if (m_isinf(x)) return x > C(0) ? dy : dy * C(0);
            /* below -20, |gelu'| < 2^-285: dy gelu' is 0 for every float dy
             * (f32_gelu clamps x there, right only for |dy| < 2^5) */
            if (x < C(-20)) return dy * C(-0.0);
            return f32::with_moderate_gradient(
                dy, [x](float g) { return f32_gelu::gelu_backward<typename M::Hardware>(x, g); });
        } else {
            if (m_isnan(x)) return x;
            if (m_isinf(x)) return x > C(0) ? dy : dy * C(0);
            if (x < K<C>::gelu_tail_below) {
                const C sq = x * x, sq_lo = product_error(x, x, sq);
                const C factor = dy * K<C>::inv_sqrt_2pi * (x - tail_series(x) / x);
                return scale_by_tiny_exp<M>(factor, C(-0.5) * sq, C(-0.5) * sq_lo);
            }
            if constexpr (M::kBits < 50) {
                /* Phi(x) + x phi(x) cancels near its root x0 = -0.75179...: with
                 * an erfc good to kBits that costs up to 24 bits (f32 inputs
                 * come within 2^-25 of x0). There gelu' = d P(d), d = x - x0
                 * (exact: Sterbenz, then x0's low part), P a fit of relative
                 * error 2^-27 (degree 6, float) or 2^-40 (degree 9, double);
                 * tools/fit_half_math.py. */
                if (x > C(-1) && x < C(-0.5)) {
                    if constexpr (sizeof(C) == sizeof(float)) {
                        const C d = (x - C(-0.751791537)) - C(1.21144499e-08);
                        C poly = C(0.004458494639);
                        poly = m_fma(poly, d, C(0.01917831605));
                        poly = m_fma(poly, d, C(-0.01476900606));
                        poly = m_fma(poly, d, C(-0.114000643));
                        poly = m_fma(poly, d, C(-0.01819969604));
                        poly = m_fma(poly, d, C(0.3882849237));
                        poly = m_fma(poly, d, C(0.4314939923));
                        return dy * (d * poly);
                    } else {
                        const C d = (x - C(-0.75179152469356447)) - C(1.4956759177009883e-17);
                        const C poly = horner<kGeluRootTerms>(gelu_root_coefficients(), d);
                        return dy * (d * poly);
                    }
                }
            }
            if constexpr (M::kBits < 50) {
                /* Phi and phi from one exponential: with z = -x/sqrt2,
                 * Phi(x) = erfc(z)/2 and phi(x) = e^(-z^2)/sqrt(2 pi). The
                 * rounding of z costs 2 z^2 2^-p relative, fine at these
                 * policies' accuracy. */
                C gauss;
                const C half_erfc = C(0.5) * M::erfc_and_gauss(-x * K<C>::sqrt1_2_hi, &gauss);
                return dy * m_fma(x, gauss * K<C>::inv_sqrt_2pi, half_erfc);
            }
            return dy * (normal_cdf<M>(x) + x * normal_pdf<M>(x));
        }
    }
};

struct GeluTanhOp : ListedOp<ACTK_OP_GELU_TANH> {
    /* 0.5 x (1 + tanh(u)) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3) */
    template <class C> ACTK_HD static C two_u(C x)
    {
        return C(2) * K<C>::sqrt_2_over_pi * x * m_fma(C(0.044715), x * x, C(1));
    }
    template <class M, class C = typename M::T> ACTK_HD static C forward(C x, Params<C>)
    {
        /* f32: float only, f32_gelu.cuh */
        if constexpr (IsF32Math<M>::value) {
            return f32_gelu::gelu_tanh<typename M::Hardware>(x);
        } else {
            if (m_isinf(x)) return x > C(0) ? x : C(-0.0);
            const C z = two_u(x);
            /* x e^z there (sigmoid(z) = e^z), rounded once into the subnormals */
            if (z < K<C>::tiny_exp_below) return scale_by_tiny_exp<M>(x, z, C(0));
            return x * sigmoid<M>(z);
        }
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward(C x, C dy, Params<C>)
    {
        if constexpr (IsF32Math<M>::value) {
            /* infinite x first: the float formulas clamp x, and dy times
             * the clamp point's derivative would overflow for a huge dy */
            if (m_isinf(x)) return x > C(0) ? dy : dy * C(0);
            /* below -14, |gelu_tanh'| < 2^-300: dy times it is 0 for every
             * float dy (f32_gelu clamps x there, right only for |dy| < 2^5) */
            if (x < C(-14)) return dy * C(-0.0);
            return f32::with_moderate_gradient(
                dy, [x](float g) { return f32_gelu::gelu_tanh_backward<typename M::Hardware>(x, g); });
        } else {
            if (m_isnan(x)) return x;
            if (m_isinf(x)) return x > C(0) ? dy : dy * C(0);
            const C z = two_u(x);
            const C du = K<C>::sqrt_2_over_pi * m_fma(C(3 * 0.044715), x * x, C(1));
            /* e^z (1 + 2 x u') there: s and s (1 - s) are both e^z */
            if (z < K<C>::tiny_exp_below) return scale_by_tiny_exp<M>(dy * m_fma(C(2) * x, du, C(1)), z, C(0));
            C s, s_neg;
            sigmoid_pair<M>(z, &s, &s_neg);
            const C ds = s * s_neg;
            if (ds == C(0)) return dy * s;
            return dy * m_fma(C(2) * x * ds, du, s);
        }
    }
};

struct SiluOp : ListedOp<ACTK_OP_SILU> {
    template <class M, class C = typename M::T> ACTK_HD static C forward(C x, Params<C> p)
    {
        if (p.alpha == C(0)) return x * C(0.5);
        if constexpr (IsF32Math<M>::value) return f32::silu<typename M::Hardware>(x, p.alpha);
        const C z = p.alpha * x;
        if (m_isinf(z)) return z > C(0) ? x : m_copysign(C(0), x);
        const C lo = product_error(p.alpha, x, z);
        /* x e^z: sigmoid(z) = e^z exactly at this size */
        if (z < K<C>::tiny_exp_below) return scale_by_tiny_exp<M>(x, z, lo);
        return x * sigmoid_corrected<M>(z, lo);
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward(C x, C dy, Params<C> p)
    {
        if (m_isnan(x)) return x;
        if (p.alpha == C(0)) return dy * C(0.5);
        if constexpr (IsF32Math<M>::value) return f32::silu_derivative_times<typename M::Hardware>(dy, x, p.alpha);
        const C z = p.alpha * x;
        if (m_isinf(z)) return z > C(0) ? dy : dy * C(0);
        const C lo = product_error(p.alpha, x, z);
        /* e^z (1 + z) there, with sigmoid(-z) = 1 */
        if (z < K<C>::tiny_exp_below) return scale_by_tiny_exp<M>(dy * ((C(1) + z) + lo), z, lo);
        /* s (1 + z (1 - s)) over one exponential e = e^-|z|, d = 1 + e:
         * z >= 0: (1 + e + z e) / d^2;  z < 0: e (1 + z + e) / d^2.
         * Fewer roundings than the product form; then the first-order
         * correction for lo, g' = s (1 - s) (2 + z (1 - 2s)). */
        const C e = M::exp(-m_fabs(z)), d = C(1) + e, d2 = d * d;
        const C g = M::div(z >= C(0) ? m_fma(z, e, d) : e * ((C(1) + z) + e), d2);
        if constexpr (!M::kCorrectArgumentRounding) return dy * g;
        const C ss = M::div(e, d2); /* s (1 - s) */
        const C one_minus_2s = M::div(z >= C(0) ? e - C(1) : C(1) - e, d);
        return dy * m_fma(lo * ss, m_fma(z, one_minus_2s, C(2)), g);
    }
};

struct MishOp : ListedOp<ACTK_OP_MISH> {
    /* With u = e^x and n = u (u + 2): tanh(softplus(x)) = n / (n + 2),
     * sech^2(softplus(x)) sigmoid(x) = 4 u (1 + u) / (n + 2)^2. For x > 0 the
     * same in v = e^-x (no overflow): tanh = (1 + 2v) / (1 + 2v + 2v^2) and
     * the second term 4 v^2 (1 + v) / (1 + 2v + 2v^2)^2. Both from one
     * exponential w = e^-|x| and selects, with no branch: a warp with both
     * signs would otherwise pay for both sides. */
    template <class M, class C = typename M::T> ACTK_HD static void parts(C x, C *t, C *g)
    {
        const bool positive = x > C(0);
        const C w = M::exp(-m_fabs(x));
        const C n = w * (w + C(2));
        const C numerator = positive ? m_fma(C(2), w, C(1)) : n;
        const C d = positive ? m_fma(C(2) * w, w + C(1), C(1)) : n + C(2); /* 1 + 2v + 2v^2 or n + 2 */
        const C four_w = C(4) * w;
        *t = M::div(numerator, d);
        *g = M::div((positive ? four_w * w : four_w) * (C(1) + w), d * d);
    }
    template <class M, class C = typename M::T> ACTK_HD static C forward(C x, Params<C>)
    {
        if constexpr (IsF32Math<M>::value) return f32::mish<typename M::Hardware>(x);
        if (m_isinf(x)) return x > C(0) ? x : C(-0.0);
        /* x e^x there: tanh(softplus(x)) = e^x to working precision */
        if (x < K<C>::tiny_exp_below) return scale_by_tiny_exp<M>(x, x, C(0));
        C t, g;
        parts<M>(x, &t, &g);
        return x * t;
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward(C x, C dy, Params<C>)
    {
        if constexpr (IsF32Math<M>::value) return f32::mish_derivative_times<typename M::Hardware>(dy, x);
        if (m_isnan(x)) return x;
        if (m_isinf(x)) return x > C(0) ? dy : dy * C(0);
        /* e^x (1 + x) there */
        if (x < K<C>::tiny_exp_below) return scale_by_tiny_exp<M>(dy * (C(1) + x), x, C(0));
        C t, g;
        parts<M>(x, &t, &g);
        return dy * m_fma(x, g, t);
    }
};

struct HardtanhOp : ListedOp<ACTK_OP_HARDTANH> {
    /* alpha = min, beta = max */
    template <class M, class C = typename M::T> ACTK_HD static C forward(C x, Params<C> p)
    {
        return x < p.alpha ? p.alpha : (x > p.beta ? p.beta : x);
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward(C x, C dy, Params<C> p)
    {
        return masked(x > p.alpha && x < p.beta, x, dy);
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward_from_y(C y, C dy, Params<C> p)
    {
        return masked(y > p.alpha && y < p.beta, y, dy);
    }
};

struct Relu6Op : ListedOp<ACTK_OP_RELU6> {
    template <class M, class C = typename M::T> ACTK_HD static C forward(C x, Params<C>)
    {
        return x < C(0) ? C(0) : (x > C(6) ? C(6) : x);
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward(C x, C dy, Params<C>)
    {
        return masked(x > C(0) && x < C(6), x, dy);
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward_from_y(C y, C dy, Params<C>)
    {
        return masked(y > C(0) && y < C(6), y, dy);
    }
};

struct HardsigmoidOp : ListedOp<ACTK_OP_HARDSIGMOID> {
    /* (x + 3) / 6: x + 3 is exact near -3, so no cancellation there. */
    template <class M, class C = typename M::T> ACTK_HD static C forward(C x, Params<C>)
    {
        return x <= C(-3) ? C(0) : (x >= C(3) ? C(1) : (x + C(3)) / C(6));
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward(C x, C dy, Params<C>)
    {
        return masked(x > C(-3) && x < C(3), x, dy / C(6));
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward_from_y(C y, C dy, Params<C>)
    {
        return masked(y > C(0) && y < C(1), y, dy / C(6));
    }
};

struct HardswishOp : ListedOp<ACTK_OP_HARDSWISH> {
    template <class M, class C = typename M::T> ACTK_HD static C forward(C x, Params<C>)
    {
        return x <= C(-3) ? C(0) : (x >= C(3) ? x : x * (x + C(3)) / C(6));
    }
    /* PyTorch's convention: 0 below -3, (2x + 3)/6 on [-3, 3], 1 above. */
    template <class M, class C = typename M::T> ACTK_HD static C backward(C x, C dy, Params<C>)
    {
        if (m_isnan(x)) return x;
        if (x < C(-3)) return C(0);
        return x <= C(3) ? dy * ((C(2) * x + C(3)) / C(6)) : dy;
    }
};

struct LogsigmoidOp : ListedOp<ACTK_OP_LOGSIGMOID> {
    template <class M, class C = typename M::T> ACTK_HD static C forward(C x, Params<C>)
    {
        if constexpr (IsF32Math<M>::value) return -f32::softplus<typename M::Hardware>(-x, 1.0f);
        return (x < C(0) ? x : C(0)) - M::log1p_unit(M::exp(-m_fabs(x)));
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward(C x, C dy, Params<C>)
    {
        if (m_isnan(x)) return x;
        if constexpr (IsF32Math<M>::value) return f32::dy_sigmoid<typename M::Hardware>(dy, -x, 0.0f);
        return dy * sigmoid<M>(-x);
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward_from_y(C y, C dy, Params<C>)
    {
        return m_isnan(y) ? y : dy * -M::expm1(y);
    }
};

struct TanhshrinkOp : ListedOp<ACTK_OP_TANHSHRINK> {
    /* x - tanh(x) cancels for small |x|: use its odd Taylor series there
     * (coefficients from the Bernoulli numbers; 20 terms reach double
     * precision for |x| < 0.55, where the direct difference would lose more
     * than 3 bits). */
    static constexpr int kSeriesTerms = 20;
    template <class M, class C = typename M::T> ACTK_HD static C forward(C x, Params<C>)
    {
        if constexpr (IsF32Math<M>::value) return f32::tanhshrink<typename M::Hardware>(x);
        if (m_fabs(x) < C(0.55)) {
            /* coefficients of x^(2k+3), highest first; each term is under
             * 0.13 (2^-2.9) times the one before, so a policy good to kBits
             * needs only the last (kBits + 5) / 3 */
            constexpr double kSeries[kSeriesTerms] = {
                -1.1587644432798852868e-08, 2.8591366623052539776e-08, -7.0546369464009681439e-08,
                1.7406618963571648024e-07, -4.2949110782738057384e-07, 1.0597268320104654327e-06,
                -2.6147711512907546474e-06, 6.4516892156554306480e-06, -1.5918905069328963698e-05,
                3.9278323883316832680e-05, -9.6915379569294509495e-05, 2.3912911424355247792e-04,
                -5.9002744094558594659e-04, 1.4558343870513183304e-03, -3.5921280365724811423e-03,
                8.8632355299021973322e-03, -2.1869488536155202996e-02, 5.3968253968253970809e-02,
                -1.3333333333333333148e-01, 3.3333333333333331483e-01};
            constexpr int first = M::kBits >= 50 ? 0 : kSeriesTerms - (M::kBits + 5) / 3;
            const C x2 = x * x;
            C s = C(kSeries[first]);
#if defined(__CUDA_ARCH__)
#pragma unroll
#endif
            for (int k = first + 1; k < kSeriesTerms; ++k) s = m_fma(s, x2, C(kSeries[k]));
            return s * x2 * x;
        }
        return x - M::tanh(x);
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward(C x, C dy, Params<C>)
    {
        if constexpr (IsF32Math<M>::value) return f32::tanhshrink_derivative_times<typename M::Hardware>(dy, x);
        const C t = M::tanh(x);
        return dy * (t * t);
    }
};

struct SoftshrinkOp : ListedOp<ACTK_OP_SOFTSHRINK> {
    template <class M, class C = typename M::T> ACTK_HD static C forward(C x, Params<C> p)
    {
        return x > p.alpha ? x - p.alpha : (x < -p.alpha ? x + p.alpha : (m_isnan(x) ? x : C(0)));
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward(C x, C dy, Params<C> p)
    {
        return masked(x > p.alpha || x < -p.alpha, x, dy);
    }
};

struct HardshrinkOp : ListedOp<ACTK_OP_HARDSHRINK> {
    template <class M, class C = typename M::T> ACTK_HD static C forward(C x, Params<C> p)
    {
        return (x > p.alpha || x < -p.alpha || m_isnan(x)) ? x : C(0);
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward(C x, C dy, Params<C> p)
    {
        return masked(x > p.alpha || x < -p.alpha, x, dy);
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward_from_y(C y, C dy, Params<C>)
    {
        return masked(y != C(0), y, dy);
    }
};

struct ThresholdOp : ListedOp<ACTK_OP_THRESHOLD> {
    /* alpha = threshold, beta = value; x <= t ? v : x keeps NaN as NaN */
    template <class M, class C = typename M::T> ACTK_HD static C forward(C x, Params<C> p)
    {
        return x <= p.alpha ? p.beta : x;
    }
    template <class M, class C = typename M::T> ACTK_HD static C backward(C x, C dy, Params<C> p)
    {
        return masked(!(x <= p.alpha), x, dy);
    }
};

/* Calls visitor(OpStruct{}) for a runtime op; returns what it returns, or
 * `fallback` for an out-of-range op. Host-side dispatch only. The cases
 * come from the op list; each struct must say it is that op. */
template <class Result, class Visitor>
inline Result visit_op(actk_op op, Visitor &&visitor, Result fallback)
{
    switch (op) {
#define ACTK_VISIT_CASE(E, name, S, ...)                                                                               \
    case ACTK_OP_##E:                                                                                                  \
        static_assert(S::kOp == ACTK_OP_##E, #S " must derive from ListedOp<ACTK_OP_" #E "> (kernels/op_list.h)");     \
        return visitor(S{});
        ACTK_OP_LIST(ACTK_VISIT_CASE)
#undef ACTK_VISIT_CASE
    case ACTK_OP_COUNT:
    case ACTK_OP_MAX_ENUM: break;
    }
    return fallback;
}

} // namespace actk

#endif
