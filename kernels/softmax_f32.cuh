// SPDX-License-Identifier: MIT
/*
 * softmax_f32.cuh - softmax and log-softmax math for f32 storage in float
 * (no FP64), within the f32 promise (4 ULP forward; backward 4 ULP or,
 * where dy - sum cancels, 4 eps of the terms). Included by
 * softmax_math.cuh, which declares the templates specialised here for the
 * f32 policy F32MathOn<Hw> and documents the interface.
 *
 * Where float alone would not do, and what is done instead (f32_math.cuh
 * primitives, compensated.cuh sums):
 *  - v - max is rounded in float (|v - max| e^... would be amplified by the
 *    exponential: 80 ULP at v - max = -80): it is taken exactly as a pair
 *    (two_sum) and the exponential takes the low part (f32::exp_core, about
 *    2^-26.5 relative);
 *  - sums (the rest of the row, the backward's sum of dy or dy * y, with
 *    exact products) are float-float (Compensated<float>);
 *  - the online form rescales its sum when the max grows, and rescaling by
 *    an inexact e^(old - new) at every new max would compound (a row sorted
 *    ascending rescales at every element). So the sum is kept relative to a
 *    reference `ref`, a multiple of 16 at or below the max (terms up to
 *    e^16), and rescaled only when the max moves into a higher multiple of
 *    16. A term then goes through at most one rescale that matters: after
 *    two its weight is below e^-16 of the max's own term. Sums merged from
 *    threads, warps, blocks and clusters rescale the same way. The rest
 *    relative to the max, rest * e^(ref - max), is formed once per row;
 *  - values equal to the max are counted exactly (ties), as in the
 *    two-pass warp kernel, so a row of equal values gives 1/n correctly
 *    rounded;
 *  - the output: e^(v - max) (a pair) times 1/(1 + rest) (a corrected
 *    reciprocal, a pair), rounded once, scaled by 2^k last so that a
 *    subnormal result is rounded once; log-softmax: (v - max) - log1p(rest)
 *    as pairs (no cancellation: both terms are <= 0), with log1p beyond 1
 *    as k ln2 + log1p(f - 1).
 * Every step is an IEEE add, multiply or FMA or the FMA-corrected MUFU.RCP
 * (F32Hardware), so the host build gives the device's bits and the test
 * replays every kernel's order against the long double oracle.
 */
#ifndef ACTK_KERNELS_SOFTMAX_F32_CUH
#define ACTK_KERNELS_SOFTMAX_F32_CUH

#include "compensated.cuh"
#include "f32_math.cuh"

namespace actk {

template <class Hw> struct MaxSum<F32MathOn<Hw>> {
    using C = float;
    float max;
    float ref;               /* the sum is relative to e^ref (see above) */
    Compensated<float> rest; /* sum of e^(v - ref) over the values below max */
    int ties;                /* values equal to max, beyond the first */
    ACTK_HD static MaxSum empty() { return {-INFINITY, 0.0f, {0.0f, 0.0f}, 0}; }
};

template <class Hw> struct RowScale<F32MathOn<Hw>> {
    using C = float;
    float max;
    f32::Pair total; /* softmax: 1 / (1 + rest); log-softmax: max + log1p(rest) */
};

template <class Hw> struct SoftmaxAcc<F32MathOn<Hw>> {
    using type = Compensated<float>;
};
template <class Hw> struct SoftmaxTerm<F32MathOn<Hw>> {
    using type = f32::Pair;
};

template <class Hw> struct SoftmaxRow<F32MathOn<Hw>> {
    using M = F32MathOn<Hw>;
    using Acc = Compensated<float>;
    using Pair = f32::Pair;

    /* The reference for a max v: the multiple of 16 at or below it (exact). */
    ACTK_HD static float cell(float v) { return 16.0f * floorf(v * 0.0625f); }

    /* exp_core, with NaN kept out of its exponent k (a NaN argument would
     * leave k undefined, and 2^k built from it a negative shift on the
     * host): NaN in gives a NaN mantissa and k = 0. */
    ACTK_HD static f32::ExpParts exp_core_nan_safe(float x, float xl)
    {
        const bool nan = x != x;
        f32::ExpParts e = f32::exp_core(nan ? 0.0f : x, nan ? 0.0f : xl);
        e.m.hi = nan ? x : e.m.hi;
        e.m.lo = nan ? x : e.m.lo;
        return e;
    }

    /* v - ref exactly, as exp_core's argument. Below -120 (v = -inf
     * included, whose low part is NaN) the low part is dropped: exp_core
     * clamps there and the result is 0 after scaling. Selects, no branch. */
    ACTK_HD static f32::ExpParts exp_core_diff(float v, float ref)
    {
        const Pair d = f32::two_sum(v, -ref);
        return exp_core_nan_safe(d.hi, d.hi < -120.0f ? 0.0f : d.lo);
    }

    /* e^(v - ref) as a pair (about 2^-26.5); 0 for v = -inf; NaN stays NaN. */
    ACTK_HD static Pair exp_diff(float v, float ref) { return f32::scaled(exp_core_diff(v, ref)); }

    /* e^(v - ref) for a sum that also holds a term >= 1 (the max's own, in
     * the row's total): terms below e^-86 are dropped (they are below 2^-124
     * of the total), so 2^k is one normal power of two (k >= -124). */
    ACTK_HD static Pair exp_diff_for_sum(float v, float ref)
    {
        const f32::ExpParts e = exp_core_diff(v, ref);
        const float scale = e.k >= -124 ? f32::pow2(e.k) : 0.0f;
        return {e.m.hi * scale, e.m.lo * scale};
    }

    /* a + e for a positive term e (a pair): the double-word sum with the low
     * parts added together; without cancellation its relative error stays
     * near 3u^2 like the general sum's, at half the instructions. Not
     * symmetric in a and e: only for a thread's own running sums. */
    ACTK_HD static Compensated<float> add_positive(Compensated<float> a, Pair e)
    {
        const Pair s = f32::two_sum(a.hi, e.hi);
        const Pair z = f32::fast_two_sum(s.hi, (a.lo + s.lo) + e.lo);
        return {z.hi, z.lo};
    }

    ACTK_HD static Acc acc(Pair p) { return {p.hi, p.lo}; }
    ACTK_HD static Pair pair(Acc a) { return {a.hi, a.lo}; }
    ACTK_HD static Acc times(Acc a, Pair f) { return acc(f32::mul(pair(a), f)); }
    /* `count` copies of e^(v - ref) */
    ACTK_HD static Acc copies(float v, float ref, int count) { return acc(f32::mul(exp_diff(v, ref), (float)count)); }

    ACTK_HD static void online_add(MaxSum<M> &s, float v)
    {
        if (v != v) { s.max = v; return; }
        if (v == -INFINITY) return; /* probability 0 */
        if (v > s.max) {
            const float ref = cell(v);
            if (s.max == -INFINITY) {
                s = {v, ref, {0.0f, 0.0f}, 0};
                return;
            }
            Acc rest = ref == s.ref ? s.rest : times(s.rest, exp_diff(s.ref, ref));
            rest = rest.plus(copies(s.max, ref, s.ties + 1)); /* the old max joins the rest */
            s = {v, ref, rest, 0};
        } else if (v == s.max) {
            ++s.ties;
        } else {
            s.rest = add_positive(s.rest, exp_diff_for_sum(v, s.ref));
        }
    }

    /* Symmetric: merge(a, b) and merge(b, a) give the same bits (the
     * butterflies rely on it). Equal maxes have equal references. */
    ACTK_HD static MaxSum<M> merge(MaxSum<M> a, MaxSum<M> b)
    {
        if (a.max != a.max || b.max != b.max) return {NAN, 0.0f, {NAN, 0.0f}, 0};
        if (b.max > a.max) { const MaxSum<M> t = a; a = b; b = t; } /* a holds the larger max */
        if (b.max == -INFINITY) return a;
        const Acc rest_b = b.ref == a.ref ? b.rest : times(b.rest, exp_diff(b.ref, a.ref));
        if (a.max == b.max) return {a.max, a.ref, a.rest.plus(rest_b), a.ties + b.ties + 1};
        return {a.max, a.ref, a.rest.plus(rest_b).plus(copies(b.max, a.ref, b.ties + 1)), a.ties};
    }

    /* log1p(u) for u >= 0 as a pair (about 2^-27): log1p_unit_pair up to 1;
     * beyond, 1 + u = 2^k f with f in [0.75, 1.5), k ln2 + log1p(f - 1). */
    ACTK_HD static Pair log1p_pair(Pair u)
    {
        if (u.hi <= 1.0f) return f32::log1p_unit_pair<Hw>(u);
        const Pair s = f32::add(Pair{1.0f, 0.0f}, u); /* s.hi >= 2 */
        int k = ((f32::bits_of(s.hi) >> 23) & 0xff) - 127;
        const float down = f32::pow2(-k);
        Pair f = {s.hi * down, s.lo * down}; /* exact: f.hi in [1, 2) */
        if (f.hi >= 1.5f) {
            f = {f.hi * 0.5f, f.lo * 0.5f};
            ++k;
        }
        const Pair lp = f32::log1p_unit_pair<Hw>(f32::two_sum(f.hi - 1.0f, f.lo)); /* f.hi - 1 exact */
        const float kf = (float)k;                                                  /* k <= 128 */
        const Pair head = f32::two_sum(kf * 0.693145751953125f, lp.hi);             /* ln2 to 16 bits: exact product */
        return f32::fast_two_sum(head.hi, head.lo + fmaf(kf, 1.42860677e-06f, lp.lo)); /* + ln2's remainder */
    }

    /* The rest relative to the max, ties included (exact below 2^24 ties). */
    ACTK_HD static Acc rest_at_max(MaxSum<M> s)
    {
        const Acc rest = s.ref == s.max ? s.rest : times(s.rest, exp_diff(s.ref, s.max));
        return rest.plus((float)s.ties);
    }

    /* log(sum e^v) = max + log1p(rest), as a pair rounded once; a max that
     * is not finite is the answer itself (-inf, +inf, NaN). */
    ACTK_HD static float lse(MaxSum<M> s)
    {
        if (!(s.max > -INFINITY && s.max < INFINITY)) return s.max;
        const Pair l = log1p_pair(pair(rest_at_max(s)));
        const Pair c = f32::two_sum(s.max, l.hi);
        return c.hi + (c.lo + l.lo);
    }

    template <bool kLog> ACTK_HD static RowScale<M> row_scale(MaxSum<M> s)
    {
        if (!(s.max > -INFINITY && s.max < INFINITY)) return {NAN, {NAN, NAN}};
        const Acc rest = rest_at_max(s);
        if (kLog) { /* max + log1p(rest): see log_value */
            const Pair l = log1p_pair(pair(rest));
            const Pair c = f32::two_sum(s.max, l.hi);
            return {s.max, {c.hi, c.lo + l.lo}};
        }
        return {s.max, f32::reciprocal<Hw>(f32::add(Pair{1.0f, 0.0f}, pair(rest)))};
    }

    /* (v - max) - log1p(rest) as v - c, c = max + log1p(rest) a pair
     * (row_scale). The result is at least log1p(rest) in magnitude, and c's
     * error is below u times that (the exact part of max + log1p(rest).hi
     * carries the rest), so one two_sum and the low part round it nearly
     * correctly. v = -inf gives -inf (selected: the pair is NaN then). */
    ACTK_HD static float log_value(float v, RowScale<M> r)
    {
        const Pair y = f32::two_sum(v, -r.total.hi);
        const float plain = v - r.total.hi;
        const float result = y.hi + (y.lo - r.total.lo);
        return plain == -INFINITY ? plain : result;
    }

    template <bool kLog> ACTK_HD static float value(float v, RowScale<M> r)
    {
        if (kLog) return log_value(v, r);
        const f32::ExpParts e = exp_core_diff(v, r.max);
        return f32::scale_once(f32::mul(e.m, r.total).hi, e.k); /* one rounding, then 2^k (0 below e^-120) */
    }

    /* The warp kernel's term: e^(v - m) as a pair, kept for the output. */
    ACTK_HD static Pair term(float v, float m, Acc &rest, int &ties)
    {
        const Pair e = exp_diff(v, m);
        const bool tie = v == m;
        rest = add_positive(rest, tie ? Pair{0.0f, 0.0f} : e); /* + 0 is exact */
        ties += tie ? 1 : 0;
        return e;
    }

    ACTK_HD static MaxSum<M> two_pass_stats(float m, Acc rest, int ties) { return {m, m, rest, ties - 1}; }

    template <bool kLog> ACTK_HD static float value_from_term(float v, Pair e, RowScale<M> r)
    {
        if (kLog) return log_value(v, r);
        return f32::mul(e, r.total).hi; /* a NaN scale makes NaN */
    }

    ACTK_HD static Acc acc_zero() { return {0.0f, 0.0f}; }
    ACTK_HD static Acc acc_add(Acc a, Acc b) { return a.plus(b); }
    template <bool kLog> ACTK_HD static Acc backward_term(Acc a, float y, float dy)
    {
        return kLog ? a.plus(dy) : a.plus(Acc::product(dy, y)); /* exact products */
    }

    /* softmax: y (dy - sum), dy - sum exactly as a pair, the product rounded
     * once; log-softmax: dy - e^y sum, e^y sum as a pair. */
    template <bool kLog> ACTK_HD static float grad(float y, float dy, Acc row_sum)
    {
        if (kLog) {
            const Pair t = f32::mul(f32::scaled(exp_core_nan_safe(y, 0.0f)), pair(row_sum));
            const Pair r = f32::two_sum(dy, -t.hi);
            return r.hi + (r.lo - t.lo);
        }
        const Pair t = f32::two_sum(dy, -row_sum.hi);
        const Pair p = f32::two_prod(y, t.hi);
        return p.hi + fmaf(y, t.lo - row_sum.lo, p.lo);
    }
};

} // namespace actk

#endif
