// SPDX-License-Identifier: MIT
/*
 * softmax_math.cuh - the per-element and per-row math of the softmax
 * kernels (softmax.cu), __host__ __device__ so that
 * tests/test_softmax_math_on_host.cpp can replay the kernels' reduction
 * orders on the host against the long double reference.
 *
 * Everything the kernels compute goes through the free functions below;
 * they forward to SoftmaxRow<M>, M the dtype's math policy (MathFor):
 *  - the plain policies (f16/bf16 in float, f64 in double) compute in M::T
 *    directly (below);
 *  - the f32 policy (F32MathOn) computes in float with float-float pairs
 *    where a plain float would lose the 4-ULP promise (softmax_f32.cuh).
 * The types the kernels hold per row therefore depend on M: MaxSum<M> (the
 * online max-and-rest), RowScale<M> (what the output needs), SoftmaxAcc<M>
 * (a row sum: the warp kernel's rest, the backward's sum) and
 * SoftmaxTerm<M> (the exponential the warp kernel keeps per element).
 */
#ifndef ACTK_KERNELS_SOFTMAX_MATH_CUH
#define ACTK_KERNELS_SOFTMAX_MATH_CUH

#include "activation_math.cuh" /* ACTK_HD, m_log1p, the math policies */

namespace actk {

/* max that propagates NaN (fmax would drop it) */
template <class C> ACTK_HD C nan_max(C a, C b) { return (a != a || a > b) ? a : b; }

/* Online (max, rest) state: rest = sum of e^(v - max) over the values seen,
 * minus the 1 that one maximal value contributes. Keeping the 1 out means
 * log(sum) = log1p(rest) stays accurate when the other terms are tiny
 * (log-softmax of a dominant class), which 1 + tiny would round away. */
template <class M> struct MaxSum {
    using C = typename M::T;
    C max;
    C sum; /* the rest, as above */
    ACTK_HD static MaxSum empty() { return {C(-INFINITY), C(0)}; }
};

/* What the output of a row needs, computed once per row: the max, and
 * log1p(rest) (log-softmax) or 1 + rest (softmax). The compiler does not
 * hoist log1p out of an unrolled row loop by itself. A row whose max is not
 * finite (all -inf, +inf present, NaN present) gives NaN: max is NaN then. */
template <class M> struct RowScale {
    using C = typename M::T;
    C max;
    C total;
};

/* A row sum (the warp kernel's rest, the backward's sum of dy or dy * y) and
 * the per-element exponential the warp kernel keeps: plain C here. */
template <class M> struct SoftmaxAcc {
    using type = typename M::T;
};
template <class M> struct SoftmaxTerm {
    using type = typename M::T;
};

/* The plain policies' math, in M::T. */
template <class M> struct SoftmaxRow {
    using C = typename M::T;
    using Acc = C;

    ACTK_HD static void online_add(MaxSum<M> &s, C v)
    {
        if (v != v) { s.max = v; return; }
        if (v == C(-INFINITY)) return; /* probability 0; avoids (-inf) - (-inf) */
        if (v > s.max) {
            s.sum = s.max == C(-INFINITY) ? C(0) : (s.sum + C(1)) * M::exp(s.max - v);
            s.max = v;
        } else {
            s.sum += M::exp(v - s.max);
        }
    }

    ACTK_HD static MaxSum<M> merge(MaxSum<M> a, MaxSum<M> b)
    {
        if (a.max != a.max || b.max != b.max) return {C(NAN), C(NAN)};
        if (b.max > a.max) { const MaxSum<M> t = a; a = b; b = t; } /* a holds the larger max */
        if (b.max == C(-INFINITY)) return a;
        return {a.max, a.sum + (b.sum + C(1)) * M::exp(b.max - a.max)};
    }

    template <bool kLog> ACTK_HD static RowScale<M> row_scale(MaxSum<M> s)
    {
        if (!(s.max > C(-INFINITY) && s.max < C(INFINITY))) return {C(NAN), C(NAN)};
        /* the rest can exceed 1: the general log1p, not log1p_unit */
        return {s.max, kLog ? m_log1p(s.sum) : C(1) + s.sum};
    }

    template <bool kLog> ACTK_HD static C value(C v, RowScale<M> r)
    {
        return kLog ? (v - r.max) - r.total : M::exp(v - r.max) / r.total;
    }

    /* log(sum e^v) = max + log1p(rest); a max that is not finite is the
     * answer itself (-inf: nothing to sum; +inf; NaN). */
    ACTK_HD static C lse(MaxSum<M> s)
    {
        if (!(s.max > C(-INFINITY) && s.max < C(INFINITY))) return s.max;
        return s.max + m_log1p(s.sum);
    }

    ACTK_HD static C term(C v, C m, Acc &rest, int &ties)
    {
        const C e = M::exp(v - m);
        const bool tie = v == m;
        rest += tie ? C(0) : e;
        ties += tie ? 1 : 0;
        return e;
    }

    ACTK_HD static MaxSum<M> two_pass_stats(C m, Acc rest, int ties) { return {m, rest + C(ties - 1)}; }

    template <bool kLog> ACTK_HD static C value_from_term(C v, C e, RowScale<M> r)
    {
        return kLog ? (v - r.max) - r.total : e / r.total; /* a NaN scale makes NaN */
    }

    ACTK_HD static Acc acc_zero() { return C(0); }
    ACTK_HD static Acc acc_add(Acc a, Acc b) { return a + b; }
    template <bool kLog> ACTK_HD static Acc backward_term(Acc a, C y, C dy) { return a + (kLog ? dy : dy * y); }

    template <bool kLog> ACTK_HD static C grad(C y, C dy, Acc row_sum)
    {
        return kLog ? dy - M::exp(y) * row_sum : y * (dy - row_sum);
    }
};

} // namespace actk

#include "softmax_f32.cuh" /* SoftmaxRow, MaxSum, RowScale, SoftmaxAcc, SoftmaxTerm for F32MathOn */

namespace actk {

/* M is the element-wise ops' math policy for the storage dtype (MathFor in
 * activation_math.cuh): its exp is the one the rows' terms use. */
template <class M, class C = typename M::T> ACTK_HD void online_add(MaxSum<M> &s, C v)
{
    SoftmaxRow<M>::online_add(s, v);
}

template <class M> ACTK_HD MaxSum<M> merge(MaxSum<M> a, MaxSum<M> b) { return SoftmaxRow<M>::merge(a, b); }

template <bool kLog, class M> ACTK_HD RowScale<M> row_scale(MaxSum<M> s)
{
    return SoftmaxRow<M>::template row_scale<kLog>(s);
}

/* The row's log-sum-exp (the softmax options' LSE output). */
template <class M> ACTK_HD typename M::T row_lse(MaxSum<M> s) { return SoftmaxRow<M>::lse(s); }

/* The output for one element given its row's scale. */
template <bool kLog, class M, class C = typename M::T> ACTK_HD C softmax_value(C v, RowScale<M> r)
{
    return SoftmaxRow<M>::template value<kLog>(v, r);
}

/* The warp kernel holds its row in registers, so it makes two passes over
 * them instead of the online form: the row's max m first, then one
 * exponential per element, e = e^(v - m), kept for the output. The rest (see
 * MaxSum) sums the terms of the values below m; the values equal to m are
 * counted (ties) and all but one added at the end as an exact integer. One
 * exponential per element instead of two, and no rescaling. Values that
 * are -inf add e = 0; with m not finite the output is NaN anyway. */
template <class M, class C = typename M::T>
ACTK_HD typename SoftmaxTerm<M>::type softmax_term(C v, C m, typename SoftmaxAcc<M>::type &rest, int &ties)
{
    return SoftmaxRow<M>::term(v, m, rest, ties);
}

/* (m, rest + ties - 1) as the MaxSum of the row. */
template <class M, class C = typename M::T>
ACTK_HD MaxSum<M> two_pass_stats(C m, typename SoftmaxAcc<M>::type rest, int ties)
{
    return SoftmaxRow<M>::two_pass_stats(m, rest, ties);
}

/* softmax_value when e = e^(v - max) is already at hand (the same value). */
template <bool kLog, class M, class C = typename M::T>
ACTK_HD C softmax_value_from_term(C v, typename SoftmaxTerm<M>::type e, RowScale<M> r)
{
    return SoftmaxRow<M>::template value_from_term<kLog>(v, e, r);
}

/* Row sums: zero, the sum of two partial sums (a warp's butterfly, a
 * block's tree, a cluster's ranks), and the backward's term. */
template <class M> ACTK_HD typename SoftmaxAcc<M>::type acc_zero() { return SoftmaxRow<M>::acc_zero(); }

template <class M>
ACTK_HD typename SoftmaxAcc<M>::type acc_add(typename SoftmaxAcc<M>::type a, typename SoftmaxAcc<M>::type b)
{
    return SoftmaxRow<M>::acc_add(a, b);
}

/* The backward's row sum: sum(dy) for log-softmax, sum(dy * y) for softmax. */
template <class M, bool kLog, class C = typename M::T>
ACTK_HD typename SoftmaxAcc<M>::type backward_term(typename SoftmaxAcc<M>::type a, C y, C dy)
{
    return SoftmaxRow<M>::template backward_term<kLog>(a, y, dy);
}

template <class M, bool kLog, class C = typename M::T>
ACTK_HD C softmax_grad(C y, C dy, typename SoftmaxAcc<M>::type row_sum)
{
    return SoftmaxRow<M>::template grad<kLog>(y, dy, row_sum);
}

} // namespace actk

#endif
