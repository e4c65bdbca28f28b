// SPDX-License-Identifier: MIT
/*
 * cross_entropy_math.cuh - the per-element, per-row and per-batch math of
 * the fused softmax cross-entropy (kernels/cross_entropy.cu; formulas in
 * actk.h), __host__ __device__ so that tests/test_cross_entropy_on_host.cpp
 * replays the kernels' orders on the host against the long double oracle.
 *
 * Every dtype (f32, f16, bf16) computes in float with the f32 softmax
 * policy (softmax_f32.cuh, F32Math): the logits of f16/bf16 convert to
 * float exactly, so one path serves all three. No FP64 anywhere:
 *  - the row's log-sum-exp comes from the online (max, rest) state of the
 *    softmax (MaxSum<F32Math>, merged in a fixed order) as a float-float
 *    pair lse = max + log1p(rest);
 *  - the smoothing term needs the sum of the row's logits: float-float
 *    (Compensated<float>);
 *  - the loss, lse - z_t and lse - mean(z) cancel when the model is
 *    confident, so they are formed from the pair exactly (two_sum) and the
 *    loss is assembled in pairs and rounded once;
 *  - the gradient p_j - (1 - eps)[j == t] - eps / C cancels at the target:
 *    p_j = e^(z_j - lse) comes as a pair (exp_core with the pair's low
 *    part), the difference is taken in pairs and the product with the
 *    scale g dz/dx rounded once;
 *  - the soft-cap cap * tanh(x / cap) uses x / cap as a pair (the residual
 *    of the division by FMA), and tanh and its derivative sech^2 =
 *    4E / (1 + E)^2, E = e^(-2|y|), from one exponential, so the derivative
 *    keeps its relative accuracy where tanh saturates.
 * Non-finite values: each pair result falls back to the plain float value
 * when that is not finite (a pair would make NaN of inf - inf).
 * The cached kernel (rows in shared memory) computes each column's
 * exponential once, as a float kept in the cache (ce_exp_below_max), and
 * the gradient from it (ce_grad_cached); see "the cached row" below.
 */
#ifndef ACTK_KERNELS_CROSS_ENTROPY_MATH_CUH
#define ACTK_KERNELS_CROSS_ENTROPY_MATH_CUH

#include "softmax_math.cuh" /* MaxSum, SoftmaxRow<F32Math>, Compensated, f32:: */

#include <stddef.h>

namespace actk {

using CeMath = F32Math;
using CeRowMath = SoftmaxRow<CeMath>;
using CePair = f32::Pair;

/* Threads per block of the row kernel and of the final sum. */
constexpr int kCeThreads = 512;
constexpr int kCeReduceThreads = 256;

/* Per-call constants, formed on the host. */
struct CeConfig {
    float eps;          /* label smoothing */
    float z_loss;       /* coefficient of lse^2 */
    float cap;          /* soft-cap; 0: off */
    float grad_scale;   /* upstream gradient (before MEAN's division) */
    long long ignore_index;
    unsigned long long classes;
    int mean;           /* reduction MEAN: the gradient scale is divided by the count */
    const float *row_grad; /* NONE with a gradient: each row's upstream gradient (replaces grad_scale); or NULL */
};

/* Row r's gradient scale: row_grad[r], or the call's (ce_grad_scale). */
ACTK_HD float ce_row_scale(const CeConfig &c, float scale, size_t row) { return c.row_grad ? c.row_grad[row] : scale; }

ACTK_HD bool ce_finite(float v) { return v - v == 0.0f; }

/* An integer as a float pair (exact up to 2^48). */
ACTK_HD CePair ce_count_pair(unsigned long long n)
{
    const float hi = (float)n;
    const long long rest = (long long)(n - (unsigned long long)hi); /* |rest| < 2^40 for n < 2^64: two's complement */
    return {hi, (float)rest};
}

/* ---- soft-cap ------------------------------------------------------------------ */

struct CeLogit {
    float z;    /* the (capped) logit */
    float dzdx; /* its derivative: sech^2(x / cap), 1 without a cap */
};

ACTK_HD CeLogit ce_logit(float x, float cap)
{
    if (cap == 0.0f) return {x, 1.0f};
    const float q = x / cap;                        /* IEEE division on host and device */
    const float a = fabsf(q);
    const float rl = a < 0x1p100f ? fmaf(-q, cap, x) / cap : 0.0f; /* y = q + rl (residual of the division) */
    if (a < 0.35f) {
        /* tanh(q + rl) = tanh(q) + rl sech^2(q) to far below an ulp */
        float t = f32::tanh<F32Hardware>(q);
        const float s = fmaf(-t, t, 1.0f); /* >= 0.88: no cancellation */
        t = fmaf(rl, s, t);
        return {cap * t, fmaf(-t, t, 1.0f)};
    }
    /* E = e^(-2|y|), -2|y| = -2a - 2 rl sign(q), as exp_core's pair */
    const CePair e = f32::scaled(f32::exp_core(-2.0f * a, q > 0.0f ? -2.0f * rl : 2.0f * rl));
    const CePair one_minus = f32::add(CePair{1.0f, 0.0f}, CePair{-e.hi, -e.lo});
    const CePair one_plus = f32::add(CePair{1.0f, 0.0f}, e);
    const float t = f32::divide<F32Hardware>(one_minus, one_plus);
    const float sech2 = f32::divide<F32Hardware>(CePair{4.0f * e.hi, 4.0f * e.lo}, f32::mul(one_plus, one_plus));
    return {cap * copysignf(t, q), sech2}; /* NaN x: NaN through e */
}

/* ---- row statistics -------------------------------------------------------------- */

/* What a thread (then the block) knows of a row: the softmax's online
 * (max, rest) and, for smoothing, the sum of the logits. */
struct CeAcc {
    MaxSum<CeMath> ms;
    Compensated<float> sum_z;
};

ACTK_HD CeAcc ce_acc_empty() { return {MaxSum<CeMath>::empty(), {0.0f, 0.0f}}; }

/* The logits are summed times 2^-32 (exact above 2^-94 in magnitude; the
 * smaller ones' loss is far below the loss's rounding) so that the sum of
 * up to 2^32 logits near the float maximum does not overflow. */
constexpr float kCeSumScale = 0x1p-32f;
constexpr float kCeSumUnscale = 0x1p32f;

/* The cached kernel keeps e' = 2^48 e^(z - max): normal for every z - max
 * >= -120 (2^48 e^-120 > 2^-126), so it is rounded once, and a subnormal
 * gradient is rounded once, at the end (ce_grad_cached). */
constexpr float kCeExpScale = 0x1p48f;
constexpr float kCeExpUnscale = 0x1p-48f;

ACTK_HD void ce_acc_add(CeAcc &a, float z, bool smoothing)
{
    CeRowMath::online_add(a.ms, z);
    if (smoothing) a.sum_z = a.sum_z.plus(z * kCeSumScale);
}

ACTK_HD CeAcc ce_acc_merge(CeAcc a, CeAcc b) { return {CeRowMath::merge(a.ms, b.ms), a.sum_z.plus(b.sum_z)}; }

/* ---- the row's loss and what its gradient needs ---------------------------------- */

struct CeRow {
    CePair lse;      /* NaN when the row's max is not finite */
    float loss;      /* 0 for an ignored row; NaN for a bad target */
    CePair coeff;    /* 1 + 2 z_loss lse */
    CePair keep;     /* 1 - eps, exact */
    CePair uniform;  /* eps / classes */
    float scale;     /* g: the gradient's scale for this row */
    CePair inv;      /* 2^-48 / sum e^(z - max): the cached kernel's p = e' inv for its e' = 2^48 e^(z - max) */
    float plain_factor; /* 2^48 inv rounded, times g; NaN where the plain gradient does not apply (ce_grad_cached) */
    int state;       /* 0: normal; 1: ignored (gradient 0); 2: bad target (gradient NaN) */
};

/* The gradient's scale: grad_scale, divided by the count of non-ignored
 * rows for MEAN (a count of 0 leaves no row to scale). */
ACTK_HD float ce_grad_scale(const CeConfig &c, unsigned long long count)
{
    if (!c.mean || count == 0) return c.grad_scale;
    return f32::divide<F32Hardware>(CePair{c.grad_scale, 0.0f}, ce_count_pair(count));
}

/* acc: the merged row; z_t: the target's capped logit (any value when
 * ignored or bad). */
ACTK_HD CeRow ce_row(const CeAcc &acc, float z_t, int state, const CeConfig &c, float scale)
{
    CeRow r;
    r.lse = CeRowMath::row_scale<true>(acc.ms).total; /* max + log1p(rest); NaN pair for a non-finite max */
    r.keep = f32::two_sum(1.0f, -c.eps);
    r.uniform = f32::divide_pair<F32Hardware>(CePair{c.eps, 0.0f}, ce_count_pair(c.classes));
    r.coeff = c.z_loss == 0.0f ? CePair{1.0f, 0.0f} : f32::add(CePair{1.0f, 0.0f}, f32::mul(r.lse, 2.0f * c.z_loss));
    r.scale = scale;
    r.state = state;
    const CePair inv = CeRowMath::row_scale<false>(acc.ms).total; /* NaN pair for a non-finite max */
    r.inv = {inv.hi * kCeExpUnscale, inv.lo * kCeExpUnscale};       /* exact: inv >= 2^-64 */
    /* no smoothing, no z-loss: away from the target the gradient is g p, a
     * product of positive factors, so plain float keeps it within ~3 ulp
     * (e' g inv must stay finite: |g| <= 2^64) */
    const bool plain_grad = c.eps == 0.0f && c.z_loss == 0.0f && fabsf(scale) <= 0x1p64f;
    r.plain_factor = plain_grad ? (inv.hi + inv.lo) * scale : NAN;
    if (state == 1) {
        r.loss = 0.0f;
        return r;
    }
    if (state == 2 || r.lse.hi != r.lse.hi) {
        r.loss = NAN;
        return r;
    }
    /* (1 - eps) (lse - z_t) + eps (lse - mean z) + z_loss lse^2 in pairs;
     * a term of weight 0 is left out (0 * inf). `plain`, the same in
     * float, decides when a term is not finite (the pairs would make NaN
     * of an infinity). */
    const CePair classes = ce_count_pair(c.classes);
    CePair sum = {0.0f, 0.0f};
    float plain = 0.0f;
    if (c.eps < 1.0f) {
        plain += r.keep.hi * (r.lse.hi - z_t);
        if (ce_finite(z_t)) sum = f32::mul(f32::add(r.lse, -z_t), r.keep);
    }
    if (c.eps > 0.0f) {
        const float mean_plain = acc.sum_z.hi / classes.hi * kCeSumUnscale;
        plain += c.eps * (r.lse.hi - mean_plain);
        if (ce_finite(mean_plain)) {
            const CePair m = f32::divide_pair<F32Hardware>(CePair{acc.sum_z.hi, acc.sum_z.lo}, classes);
            const CePair mean = {m.hi * kCeSumUnscale, m.lo * kCeSumUnscale};
            sum = f32::add(sum, f32::mul(f32::add(r.lse, CePair{-mean.hi, -mean.lo}), c.eps));
        }
    }
    if (c.z_loss > 0.0f) {
        plain += c.z_loss * (r.lse.hi * r.lse.hi);
        sum = f32::add(sum, f32::mul(f32::mul(r.lse, r.lse), c.z_loss));
    }
    const float paired = sum.hi + sum.lo;
    r.loss = ce_finite(plain) && ce_finite(paired) ? paired : plain;
    return r;
}

/* dL/dx_j for the (capped) logit l of column j. */
ACTK_HD float ce_grad(CeLogit l, bool is_target, const CeRow &r)
{
    if (r.state == 1) return 0.0f;
    if (r.state == 2) return NAN;
    /* p = e^(z - lse) from the exact difference z - lse.hi and lse.lo */
    const CePair d = f32::two_sum(l.z, -r.lse.hi);
    /* renormalised with lse.lo (which may be large for a huge lse): exp_core
     * wants a small low part. Below -120, p is 0 and the low part may be NaN
     * (z = -inf): dropped. */
    const CePair arg = d.hi < -120.0f ? CePair{d.hi, 0.0f} : f32::add(d, -r.lse.lo);
    const CePair p = f32::scaled(CeRowMath::exp_core_nan_safe(arg.hi, arg.hi < -120.0f ? 0.0f : arg.lo));
    CePair v = f32::mul(p, r.coeff);
    v = f32::add(v, CePair{-r.uniform.hi, -r.uniform.lo});
    if (is_target) v = f32::add(v, CePair{-r.keep.hi, -r.keep.lo});
    const CePair g = f32::two_prod(r.scale, l.dzdx);
    const CePair out = f32::mul(v, g);
    const float result = out.hi + out.lo;
    return r.lse.hi != r.lse.hi ? r.lse.hi : result;
}

/* ---- the cached row: one exponential per logit ------------------------------------ *
 * cross_entropy_cached_kernel (rows that fit in shared memory) runs three
 * passes over the row: pass 1 the row's max (nan_max, in the same strided
 * order) and the logits' sum; pass 2 e = e^(z - max) once per column, its
 * sum (the rest below the max, float-float, and the ties) and e kept in
 * the cache; pass 3 the gradient from e, p = e / sum. The statistics are
 * those of the softmax's two-pass form (ref = max), so ce_row gives the
 * same lse as for the online form. */

/* Which thread owns which column. The cached and cluster kernels read a
 * chunk of n columns in packs of kCePack (16 bytes of f32, 8 of f16/bf16:
 * several loads in flight per thread, fewer instructions per column) when
 * the chunk's start and the row strides are aligned to a pack ("packed"):
 * thread k owns the packs k, k + kCeThreads, ... and then, of the last
 * n % kCePack columns, the column body + k. Otherwise thread k owns the
 * columns k, k + kCeThreads, .... Each thread visits its columns in
 * ascending order in every pass, so a thread's partial sums depend on this
 * mapping alone (the host replay uses it). */
constexpr unsigned kCePack = 4;

ACTK_HD unsigned ce_column_owner(size_t j, size_t n, bool packed)
{
    if (!packed) return (unsigned)(j % kCeThreads);
    const size_t body = n / kCePack * kCePack;
    return j < body ? (unsigned)(j / kCePack % kCeThreads) : (unsigned)(j - body);
}

/* Floats per cache plane (z or e; dz/dx follows it): n rounded up to a
 * pack, so that the dz/dx plane starts 16-byte aligned too. */
ACTK_HD size_t ce_cache_plane(size_t n) { return (n + kCePack - 1) / kCePack * kCePack; }

/* A row's chunk in a cluster of `blocks`: ceil(classes / blocks) rounded up
 * to a pack, so that every block's chunk starts on a pack boundary. */
ACTK_HD size_t ce_cluster_chunk(size_t classes, size_t blocks)
{
    return ce_cache_plane((classes + blocks - 1) / blocks);
}

/* Pass 2's state: the rest of sum e^(z - max) over the columns below the
 * max (relative to the max), the count of columns equal to it, and the
 * logits' sum from pass 1. Merged in the fixed order of the block. */
struct CeExpSum {
    Compensated<float> rest;
    int ties;
    Compensated<float> sum_z;
};

ACTK_HD CeExpSum ce_exp_sum_empty() { return {{0.0f, 0.0f}, 0, {0.0f, 0.0f}}; }

ACTK_HD CeExpSum ce_exp_sum_merge(CeExpSum a, CeExpSum b)
{
    return {a.rest.plus(b.rest), a.ties + b.ties, a.sum_z.plus(b.sum_z)};
}

/* The running max with NaN kept: nan_max, as one instruction on sm_80+
 * (max.NaN: FMNMX.NAN) instead of three. The two differ only in which NaN
 * comes out (a NaN row gives NaN either way) and perhaps in the sign of a
 * zero max (z - max and z == max do not see it). */
ACTK_HD float ce_nan_max(float a, float b)
{
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    float m;
    asm("max.NaN.f32 %0, %1, %2;" : "=f"(m) : "f"(a), "f"(b));
    return m;
#else
    return nan_max(a, b);
#endif
}

/* Pass 1, per column: the running max and, for smoothing, the logits' sum. */
ACTK_HD void ce_max_add(float &max, Compensated<float> &sum_z, float z, bool smoothing)
{
    max = ce_nan_max(max, z);
    if (smoothing) sum_z = sum_z.plus(z * kCeSumScale);
}

/* e' = 2^48 e^(z - max) rounded to float (within 1 ulp), for z <= max,
 * max finite: the cached kernel's one exponential per logit. It is kept,
 * not summed as a pair, so it needs float accuracy only, at about half
 * exp_core's instructions:
 *   d = z - max exactly as a pair (two_sum): a rounded d would cost
 *     |d| 2^-24 relative (80 ulp at d = -80);
 *   k = rint(d log2 e), r = d - k LN2_H exact (as in exp_core), and the
 *     low parts rl = d.lo - k (ln2 - LN2_H), |rl| < 2^-17;
 *   e^(r + rl) = 1 + r + r^2 P(r) + rl e^r + O(rl^2), P Taylor through
 *     r^6/8! (truncation below 2^-30 on |r| <= ln2/2), Horner in float:
 *     every rounding but the last two is scaled by r^2 or smaller;
 *   then times 2^(k + 48), a normal power of two (k >= -174): exact.
 * Below d = -120 the result is 0 (z = -inf included): e^-120 < 2^-173 is
 * far below the sum's rounding, and the gradient g e^-120 rounds to 0 for
 * |g| < 2^23 anyway.
 * z = max gives exactly 2^48. */
ACTK_HD float ce_exp_below_max(float z, float max)
{
    const CePair d0 = f32::two_sum(z, -max);
    const bool far = d0.hi < -120.0f;
    const float d = far ? -120.0f : d0.hi, dl = far ? 0.0f : d0.lo;
    const float shifter = 12582912.0f; /* 1.5 * 2^23 */
    const float t = fmaf(d, 1.44269502f, shifter);
    const float kf = t - shifter;
    const int k = f32::bits_of(t) - f32::bits_of(shifter);
    const float r = fmaf(kf, -0.693147182f, d);      /* exact (exp_core's argument) */
    const float rl = fmaf(kf, 1.90465430e-09f, dl); /* ln2 - 0.693147182f = -1.9e-9 */
    float p = 2.48015873e-05f; /* (e^r - 1 - r) / r^2 = 1/2 + r/6 + ... + r^6/8! */
    p = fmaf(p, r, 1.98412698e-04f);
    p = fmaf(p, r, 1.38888889e-03f);
    p = fmaf(p, r, 8.33333377e-03f);
    p = fmaf(p, r, 4.16666679e-02f);
    p = fmaf(p, r, 1.66666672e-01f);
    p = fmaf(p, r, 0.5f);
    const float h = p * (r * r);                 /* r^2 P(r) <= 0.07: its roundings are below 2^-28 */
    const float tail = h + fmaf(rl, r + h, rl); /* + rl e^r */
    const float e = (1.0f + (r + tail)) * f32::pow2(k + 48);
    return far ? 0.0f : e;
}

/* Pass 2, per column, for a finite row max: adds e' = 2^48 e^(z - max) to
 * the sum and returns it (the cached value). A column equal to the max
 * counts as a tie (its e' is exactly 2^48); the rest is summed float-float
 * (a NaN z cannot occur: the max would be NaN). */
ACTK_HD float ce_exp_add(CeExpSum &s, float z, float max)
{
    const float e = ce_exp_below_max(z, max);
    const bool tie = z == max;
    s.rest = CeRowMath::add_positive(s.rest, CePair{tie ? 0.0f : e, 0.0f});
    s.ties += tie ? 1 : 0;
    return e;
}

/* The row's statistics in ce_row's form from the max and the merged pass 2
 * state (a max of -inf: every column -inf, the empty state; NaN or +inf:
 * no sum, ce_row makes the row NaN as for the online form). */
ACTK_HD CeAcc ce_acc_from_exp_sum(float max, const CeExpSum &s)
{
    if (max == -INFINITY) return {MaxSum<CeMath>::empty(), s.sum_z};
    if (!(max < INFINITY)) return {{max, 0.0f, {0.0f, 0.0f}, 0}, s.sum_z};
    const Compensated<float> rest = {s.rest.hi * kCeExpUnscale, s.rest.lo * kCeExpUnscale}; /* undo e's 2^48 */
    return {{max, max, rest, s.ties - 1}, s.sum_z};
}

/* dL/dx_j from the cached e'_j = 2^48 e^(z_j - max) and dz/dx: p = e' inv.
 * With no smoothing and no z-loss a column other than the target is g p
 * dz/dx in plain float (e', inv, the factor and the products each round
 * once, a subnormal result once more at the end: about 4 ulp at worst);
 * otherwise p and the differences are taken in
 * pairs as in ce_grad. The target's column, where p - (1 - eps) cancels,
 * is ce_grad itself from the target's logit z_t (one more exponential,
 * as a pair, for one column of the row). */
/* The plain gradient: a normal row (state 0) whose plain_factor is not NaN
 * (ce_grad_cached_is_plain), a column other than the target. */
ACTK_HD bool ce_grad_cached_is_plain(const CeRow &r) { return r.state == 0 && r.plain_factor == r.plain_factor; }
ACTK_HD float ce_grad_plain(float e, float dzdx, const CeRow &r)
{
    return ((e * r.plain_factor) * dzdx) * kCeExpUnscale;
}

ACTK_HD float ce_grad_cached(float e, float z_t, float dzdx, bool is_target, const CeRow &r)
{
    if (is_target) return ce_grad(CeLogit{z_t, dzdx}, true, r);
    if (r.state == 1) return 0.0f;
    if (r.state == 2) return NAN;
    if (r.plain_factor == r.plain_factor) return ce_grad_plain(e, dzdx, r);
    const CePair p = f32::mul(r.inv, e);
    CePair v = f32::mul(p, r.coeff);
    v = f32::add(v, CePair{-r.uniform.hi, -r.uniform.lo});
    const CePair g = f32::two_prod(r.scale, dzdx);
    const CePair out = f32::mul(v, g);
    const float result = out.hi + out.lo;
    return r.lse.hi != r.lse.hi ? r.lse.hi : result;
}

/* ---- the batch's fixed-order sum (SUM, MEAN) -------------------------------------- *
 * Thread t of the one block sums the rows t, t + kCeReduceThreads, ... in
 * order (float-float), then a tree halves the partial sums: i += i + half
 * for half = 128, 64, ..., 1. Depends on the row count only. */

ACTK_HD Compensated<float> ce_partial_sum(const float *losses, size_t rows, int thread)
{
    Compensated<float> acc = {0.0f, 0.0f};
    for (size_t i = (size_t)thread; i < rows; i += kCeReduceThreads) acc = acc.plus(losses[i]);
    return acc;
}

/* The tree's step for one slot (the kernel runs all slots < half at once). */
ACTK_HD Compensated<float> ce_tree_step(Compensated<float> a, Compensated<float> b) { return a.plus(b); }

/* The reduced loss from the whole sum. */
ACTK_HD float ce_finish(Compensated<float> total, int mean, unsigned long long count)
{
    if (!mean) return total.value();
    if (count == 0) return NAN; /* as PyTorch's mean of nothing */
    if (!ce_finite(total.hi)) return total.hi / (float)count;
    return f32::divide<F32Hardware>(CePair{total.hi, total.lo}, ce_count_pair(count));
}

} // namespace actk

#endif
