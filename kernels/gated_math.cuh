// SPDX-License-Identifier: MIT
/*
 * gated_math.cuh - the math of the gated activations, per (gate, up) pair,
 * on top of the element-wise ops of activation_math.cuh. __host__ __device__
 * like them, so tests/test_gated_math_on_host.cpp checks the same source
 * against the long double oracle without a GPU.
 *
 * Each struct has, for a math policy M and its compute type C = M::T,
 *   template <class M> static C forward(C gate, C up, Params<C> p);
 *   template <class M> static void backward(C gate, C up, C dy, Params<C> p, C *dgate, C *dup);
 * The caller converts storage to C and rounds each result once to storage,
 * so act(gate) * up is rounded in C and only then to f16/bf16.
 *
 * dgate = act'(gate) * (dy * up) through Op::backward<M>(gate, dy * up):
 * dy * up is exact in C whenever C is wider than twice the storage's
 * significand (f16 and bf16 in float), so it adds no rounding; where C is
 * the storage type (f32 in float, f64) it adds half an ULP (the tests allow
 * one ULP more there). Where
 * dy * up leaves C's normal range although both are finite (bf16 in float:
 * 3e38 * 3e38; f64: 1e-200 * 1e-200), it is formed scaled by powers of
 * two (gate_gradient), so no finite result is lost to an intermediate
 * overflow and no bits to a subnormal intermediate.
 */
#ifndef ACTK_KERNELS_GATED_MATH_CUH
#define ACTK_KERNELS_GATED_MATH_CUH

#include "activation_math.cuh"

namespace actk {

/* The compute type's normal range, and a power of two 2^E that brings the
 * product of any two finite values scaled by 2^-E each back below the
 * overflow threshold (E = half the exponent range, rounded up). */
template <class C> struct GatedRange;
template <> struct GatedRange<float> {
    static constexpr float smallest_normal = 0x1p-126f, scale_up = 0x1p65f, scale_down = 0x1p-65f;
};
template <> struct GatedRange<double> {
    static constexpr double smallest_normal = 0x1p-1022, scale_up = 0x1p513, scale_down = 0x1p-513;
};

/* dy * up * act'(gate), with act'(gate) = 0 on act's flat pieces.
 * - dy * up finite and normal (the common case): Op::backward(gate, dy * up).
 * - dy * up overflows or falls below the normal range although dy and up
 *   are finite and nonzero: both factors are scaled by 2^-E (or 2^E),
 *   exactly, and the gradient scaled back; above 2^E (finite), the larger
 *   factor alone is scaled by 2^-E.
 * - dy * up infinite because dy or up is: act'(gate) times +-inf, 0 where
 *   act'(gate) is 0 (the element-wise backward is not defined for an
 *   infinite dy). */
template <class Op, class M, class C = typename M::T> ACTK_HD C gate_gradient(C gate, C up, C dy, Params<C> p)
{
    using R = GatedRange<C>;
    const C t = dy * up;
    const bool finite = !m_isinf(dy) && !m_isinf(up) && !m_isnan(dy) && !m_isnan(up);
    const bool over = m_isinf(t), under = m_fabs(t) < R::smallest_normal && dy != C(0) && up != C(0);
    /* a finite but huge dy * up (above 2^E) can overflow inside the op's own
     * formula, which was written for moderate dy: it is scaled down too */
    const bool large = !over && m_fabs(t) > R::scale_up;
    const bool rescale = finite && (over || under || large), infinite = over && !finite;
    /* one call of the op's backward (its code is inlined once) */
    C arg = t, back = C(1), back2 = C(1);
    if (rescale) {
        const C s = under ? R::scale_up : R::scale_down;
        const bool both = over || under, dy_larger = m_fabs(dy) >= m_fabs(up);
        arg = ((both || dy_larger) ? dy * s : dy) * ((both || !dy_larger) ? up * s : up);
        back = under ? R::scale_down : R::scale_up;
        back2 = both ? back : C(1);
    }
    if (infinite) arg = m_copysign(C(1), t);
    const C r = Op::template backward<M>(gate, arg, p);
    if (infinite) return r == C(0) ? r : r * C(INFINITY);
    return rescale ? r * back * back2 : r;
}

/* y = act(gate) * up for any element-wise op. */
template <class Op> struct GatedProductOp {
    template <class M, class C = typename M::T> ACTK_HD static C forward(C gate, C up, Params<C> p)
    {
        return Op::template forward<M>(gate, p) * up;
    }
    template <class M, class C = typename M::T>
    ACTK_HD static void backward(C gate, C up, C dy, Params<C> p, C *dgate, C *dup)
    {
        *dup = dy * Op::template forward<M>(gate, p);
        *dgate = gate_gradient<Op, M>(gate, up, dy, p);
    }
};

/* gpt-oss's clamped SwiGLU: p.alpha = alpha (of silu), p.beta = limit.
 * g = min(gate, limit), u = clamp(up, -limit, limit),
 * y = silu_alpha(g) * (u + 1). The gradient passes a clamp where its
 * input is inside the closed interval (PyTorch autograd), is 0 outside,
 * and is NaN for a NaN input. */
struct ClampedSwigluOp {
    template <class C> ACTK_HD static C clamp_gate(C g, C limit) { return g > limit ? limit : g; }
    template <class C> ACTK_HD static C clamp_up(C u, C limit) { return u < -limit ? -limit : (u > limit ? limit : u); }
    template <class M, class C = typename M::T> ACTK_HD static C forward(C gate, C up, Params<C> p)
    {
        const Params<C> silu{p.alpha, C(0)};
        return SiluOp::forward<M>(clamp_gate(gate, p.beta), silu) * (clamp_up(up, p.beta) + C(1));
    }
    template <class M, class C = typename M::T>
    ACTK_HD static void backward(C gate, C up, C dy, Params<C> p, C *dgate, C *dup)
    {
        const Params<C> silu{p.alpha, C(0)};
        const C limit = p.beta, g = clamp_gate(gate, limit), u1 = clamp_up(up, limit) + C(1);
        *dup = m_isnan(up) ? up : (up >= -limit && up <= limit ? dy * SiluOp::forward<M>(g, silu) : C(0));
        *dgate = m_isnan(gate) ? gate : (gate <= limit ? gate_gradient<SiluOp, M>(g, u1, dy, silu) : C(0));
    }
};

} // namespace actk

#endif
