// SPDX-License-Identifier: MIT
/*
 * cpu_structured.c - CPU reference for softmax/log-softmax, PReLU, Maxout
 * and RReLU: long double arithmetic, compensated (Kahan-Babuska) sums,
 * one rounding to the storage type. The oracle for the GPU kernels.
 */
#include "storage.h"
#include "structured_args.h"
#include "../kernels/philox.h"

#include <math.h>
#include <stdint.h>

typedef long double real;

#define load actk_load_element
#define store actk_store_element

/* Kahan-Babuska (Neumaier) compensated sum. */
typedef struct {
    real sum, compensation;
} ksum;

static void ksum_add(ksum *k, real v)
{
    const real t = k->sum + v;
    if (fabsl(k->sum) >= fabsl(v))
        k->compensation += (k->sum - t) + v;
    else
        k->compensation += (v - t) + k->sum;
    k->sum = t;
}

static real ksum_value(const ksum *k) { return k->sum + k->compensation; }

/* ---- softmax ----------------------------------------------------------------- */

/* What the options make of one row (see actk.h): the factor f, the number
 * of leading unmasked entries (every mask is a prefix of keys: causal and
 * padding both keep keys below a limit), and the additive mask's row. */
typedef struct {
    float factor32;  /* f for f32/f16/bf16: scale / temperature in float */
    double factor64; /* f for f64: in double */
    size_t live;     /* entries [0, live) are unmasked */
    size_t mask_row; /* element offset of the additive mask's row */
} softmax_row;

static softmax_row softmax_row_of(const actk_softmax_options *o, int backward, size_t outer_index, size_t row,
                                  size_t dim)
{
    softmax_row r = {1.0f, 1.0, dim, 0};
    if (o == NULL) return r;
    /* only what this direction uses and validated: the backward ignores the additive mask */
    const int per_batch = o->valid_length != NULL || (!backward && o->additive_mask != NULL);
    const int masked = per_batch || o->causal != ACTK_ATTN_MASK_NO_MASK;
    r.factor32 = o->scale;
    r.factor64 = o->scale;
    if (o->temperature) {
        const float t = o->temperature[row];
        r.factor32 = o->scale / t;
        r.factor64 = (double)o->scale / (double)t;
    }
    if (!masked) return r;
    const size_t q = outer_index % o->q_len;
    if (o->causal == ACTK_ATTN_MASK_CAUSAL && q + 1 < r.live) r.live = q + 1;
    if (o->causal == ACTK_ATTN_MASK_CAUSAL_BOTTOM_RIGHT) {
        /* keys k <= q + dim - q_len stay: a limit of q + 1 + dim - q_len, at least 0 */
        const size_t limit = q + 1 + dim > o->q_len ? q + 1 + dim - o->q_len : 0;
        if (limit < r.live) r.live = limit;
    }
    if (per_batch) {
        const size_t batch = outer_index / (o->q_len * o->heads);
        if (o->valid_length) {
            const int v = o->valid_length[batch];
            const size_t limit = v < 0 ? 0 : (size_t)v;
            if (limit < r.live) r.live = limit;
        }
        r.mask_row = (batch * o->q_len + q) * dim;
    }
    return r;
}

/* The scaled logit z = x * f (+ mask), rounded to the compute type as the
 * header defines it: float for f32/f16/bf16, double for f64. */
static real softmax_scaled(actk_dtype dtype, const void *x, size_t idx, const void *mask, size_t mask_idx,
                           const softmax_row *r)
{
    if (dtype == ACTK_F64) {
        double z = (double)load(dtype, x, idx) * r->factor64;
        if (mask) z = z + (double)load(dtype, mask, mask_idx);
        return z;
    }
    float z = (float)load(dtype, x, idx) * r->factor32;
    if (mask) z = z + (float)load(dtype, mask, mask_idx);
    return z;
}

static void store_lse(actk_dtype dtype, void *lse, size_t row, real v)
{
    if (dtype == ACTK_F64)
        ((double *)lse)[row] = (double)v;
    else
        ((float *)lse)[row] = (float)v;
}

static actk_status cpu_softmax_forward(const char *fn, actk_softmax_kind kind, actk_dtype dtype, size_t outer,
                                       size_t dim, size_t inner, const actk_softmax_options *options, const void *x,
                                       void *y)
{
    size_t elem, total;
    const actk_status s =
        actk_check_softmax_ex_args(fn, 0, kind, dtype, outer, dim, inner, options, x, NULL, y, &elem, &total);
    if (s != ACTK_SUCCESS || total == 0) return s;
    const void *mask = options ? options->additive_mask : NULL;
    void *lse = options ? options->lse : NULL;
    const int safe = options ? options->safe : 0;
    for (size_t o = 0; o < outer; ++o) {
        for (size_t i = 0; i < inner; ++i) {
            const size_t base = o * dim * inner + i, row = o * inner + i;
            const softmax_row r = softmax_row_of(options, 0, o, row, dim);
            real max = -INFINITY;
            size_t argmax = 0;
            int nan = 0;
            for (size_t d = 0; d < r.live; ++d) {
                const real v = softmax_scaled(dtype, x, base + d * inner, mask, r.mask_row + d, &r);
                nan |= isnan(v);
                if (v > max) {
                    max = v;
                    argmax = d;
                }
            }
            /* all -inf (or all masked), any +inf or NaN: the whole row is NaN
             * (as PyTorch); safe makes the first case 0 */
            const int bad_row = nan || !isfinite(max);
            const int zero_row = safe && !nan && max == -INFINITY;
            /* sum = 1 + rest, with the 1 of one maximal entry kept out so that
             * log(sum) = log1p(rest) keeps the tiny terms of a dominant row */
            ksum rest = {0, 0};
            if (!bad_row)
                for (size_t d = 0; d < r.live; ++d)
                    if (d != argmax)
                        ksum_add(&rest,
                                 expl(softmax_scaled(dtype, x, base + d * inner, mask, r.mask_row + d, &r) - max));
            const real rest_sum = ksum_value(&rest), log_sum = log1pl(rest_sum);
            if (lse) store_lse(dtype, lse, row, nan ? (real)NAN : bad_row ? max : max + log_sum);
            for (size_t d = 0; d < dim; ++d) {
                const size_t idx = base + d * inner;
                const real shifted =
                    d < r.live ? softmax_scaled(dtype, x, idx, mask, r.mask_row + d, &r) - max : -INFINITY;
                real v = NAN;
                if (zero_row) v = kind == ACTK_SOFTMAX ? 0.0L : -INFINITY;
                else if (!bad_row) v = kind == ACTK_SOFTMAX ? expl(shifted) / (1.0L + rest_sum) : shifted - log_sum;
                store(dtype, y, idx, v);
            }
        }
    }
    return ACTK_SUCCESS;
}

static actk_status cpu_softmax_backward(const char *fn, actk_softmax_kind kind, actk_dtype dtype, size_t outer,
                                        size_t dim, size_t inner, const actk_softmax_options *options, const void *y,
                                        const void *dy, void *dx)
{
    size_t elem, total;
    const actk_status s =
        actk_check_softmax_ex_args(fn, 1, kind, dtype, outer, dim, inner, options, y, dy, dx, &elem, &total);
    if (s != ACTK_SUCCESS || total == 0) return s;
    const int safe = options ? options->safe : 0;
    for (size_t o = 0; o < outer; ++o) {
        for (size_t i = 0; i < inner; ++i) {
            const size_t base = o * dim * inner + i, row = o * inner + i;
            const softmax_row r = softmax_row_of(options, 1, o, row, dim);
            const real factor = dtype == ACTK_F64 ? (real)r.factor64 : (real)r.factor32;
            ksum sum = {0, 0};
            int live_output = 0; /* an unmasked y that is not 0 (softmax) / -inf (log-softmax) */
            for (size_t d = 0; d < r.live; ++d) {
                const size_t idx = base + d * inner;
                const real g = load(dtype, dy, idx), yv = load(dtype, y, idx);
                ksum_add(&sum, kind == ACTK_SOFTMAX ? g * yv : g);
                live_output |= kind == ACTK_SOFTMAX ? !(yv == 0) : !(yv == -INFINITY);
            }
            const real total_sum = ksum_value(&sum);
            const int zero_row = safe && !live_output;
            for (size_t d = 0; d < dim; ++d) {
                const size_t idx = base + d * inner;
                if (d >= r.live || zero_row) {
                    store(dtype, dx, idx, 0.0L);
                    continue;
                }
                const real yv = load(dtype, y, idx), g = load(dtype, dy, idx);
                const real grad = kind == ACTK_SOFTMAX ? yv * (g - total_sum) : g - expl(yv) * total_sum;
                store(dtype, dx, idx, factor * grad);
            }
        }
    }
    return ACTK_SUCCESS;
}

actk_status actk_cpu_softmax_forward(actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim, size_t inner,
                                     const void *x, void *y)
{
    return cpu_softmax_forward("actk_cpu_softmax_forward", kind, dtype, outer, dim, inner, NULL, x, y);
}

actk_status actk_cpu_softmax_backward(actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim, size_t inner,
                                      const void *y, const void *dy, void *dx)
{
    return cpu_softmax_backward("actk_cpu_softmax_backward", kind, dtype, outer, dim, inner, NULL, y, dy, dx);
}

actk_status actk_cpu_softmax_forward_ex(actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim,
                                        size_t inner, const actk_softmax_options *options, const void *x, void *y)
{
    return cpu_softmax_forward("actk_cpu_softmax_forward_ex", kind, dtype, outer, dim, inner, options, x, y);
}

actk_status actk_cpu_softmax_backward_ex(actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim,
                                         size_t inner, const actk_softmax_options *options, const void *y,
                                         const void *dy, void *dx)
{
    return cpu_softmax_backward("actk_cpu_softmax_backward_ex", kind, dtype, outer, dim, inner, options, y, dy, dx);
}

/* ---- PReLU ------------------------------------------------------------------- */

actk_status actk_cpu_prelu_forward(actk_dtype dtype, size_t outer, size_t channels, size_t inner, const void *x,
                                   const void *slope, void *y)
{
    size_t elem, total;
    const actk_status s = actk_check_prelu_args("actk_cpu_prelu_forward", 0, dtype, outer, channels, inner, x, slope,
                                                NULL, y, NULL, &elem, &total);
    if (s != ACTK_SUCCESS) return s;
    for (size_t idx = 0; idx < total; ++idx) {
        const real v = load(dtype, x, idx);
        store(dtype, y, idx, v > 0 ? v : load(dtype, slope, (idx / inner) % channels) * v);
    }
    return ACTK_SUCCESS;
}

actk_status actk_cpu_prelu_backward(actk_dtype dtype, size_t outer, size_t channels, size_t inner, const void *x,
                                    const void *slope, const void *dy, void *dx, void *dslope)
{
    size_t elem, total;
    const actk_status s = actk_check_prelu_args("actk_cpu_prelu_backward", 1, dtype, outer, channels, inner, x, slope,
                                                dy, dx, dslope, &elem, &total);
    if (s != ACTK_SUCCESS || channels == 0) return s;
    for (size_t c = 0; c < channels; ++c) {
        const real a = load(dtype, slope, c);
        ksum sum = {0, 0};
        for (size_t o = 0; o < outer; ++o) {
            for (size_t i = 0; i < inner; ++i) {
                const size_t idx = (o * channels + c) * inner + i;
                const real v = load(dtype, x, idx), g = load(dtype, dy, idx);
                if (!(v > 0)) ksum_add(&sum, v * g);
                store(dtype, dx, idx, isnan(v) ? v : (v > 0 ? g : a * g));
            }
        }
        store(dtype, dslope, c, ksum_value(&sum));
    }
    return ACTK_SUCCESS;
}

/* ---- Maxout -------------------------------------------------------------------- */

/* First index of the max over `pieces` values at stride `inner` (the first
 * NaN if there is one). */
static size_t maxout_argmax(actk_dtype dtype, const void *x, size_t base, size_t pieces, size_t inner)
{
    size_t best = 0;
    real best_value = load(dtype, x, base);
    if (isnan(best_value)) return 0;
    for (size_t p = 1; p < pieces; ++p) {
        const real v = load(dtype, x, base + p * inner);
        if (isnan(v)) return p;
        if (v > best_value) {
            best_value = v;
            best = p;
        }
    }
    return best;
}

actk_status actk_cpu_maxout_forward(actk_dtype dtype, size_t outer, size_t units, size_t pieces, size_t inner,
                                    const void *x, void *y)
{
    size_t elem, in_total, out_total;
    const actk_status s = actk_check_maxout_args("actk_cpu_maxout_forward", 0, dtype, outer, units, pieces, inner, x,
                                                 NULL, y, &elem, &in_total, &out_total);
    if (s != ACTK_SUCCESS) return s;
    for (size_t idx = 0; idx < out_total; ++idx) {
        const size_t o = idx / (units * inner), u = (idx / inner) % units, i = idx % inner;
        const size_t base = (o * units * pieces + u * pieces) * inner + i;
        store(dtype, y, idx, load(dtype, x, base + maxout_argmax(dtype, x, base, pieces, inner) * inner));
    }
    return ACTK_SUCCESS;
}

actk_status actk_cpu_maxout_backward(actk_dtype dtype, size_t outer, size_t units, size_t pieces, size_t inner,
                                     const void *x, const void *dy, void *dx)
{
    size_t elem, in_total, out_total;
    const actk_status s = actk_check_maxout_args("actk_cpu_maxout_backward", 1, dtype, outer, units, pieces, inner, x,
                                                 dy, dx, &elem, &in_total, &out_total);
    if (s != ACTK_SUCCESS) return s;
    for (size_t idx = 0; idx < out_total; ++idx) {
        const size_t o = idx / (units * inner), u = (idx / inner) % units, i = idx % inner;
        const size_t base = (o * units * pieces + u * pieces) * inner + i;
        const size_t arg = maxout_argmax(dtype, x, base, pieces, inner);
        const real g = load(dtype, dy, idx);
        for (size_t p = 0; p < pieces; ++p) store(dtype, dx, base + p * inner, p == arg ? g : 0.0L);
    }
    return ACTK_SUCCESS;
}

/* ---- RReLU --------------------------------------------------------------------- */

actk_rrelu actk_rrelu_default(void)
{
    const actk_rrelu params = {1.0f / 8.0f, 1.0f / 3.0f, 1, 0, 0};
    return params;
}

float actk_rrelu_slope(actk_rrelu params, unsigned long long i)
{
    const actk_philox_block words = actk_rrelu_words(params.seed, params.offset, i / 4);
    return actk_rrelu_slope_from_word(words.v[i % 4], params.lower, params.upper);
}

/* The slope element i uses: random in training, the mean otherwise. */
static float rrelu_slope_for(actk_rrelu params, size_t i, actk_philox_block *words, size_t *group)
{
    if (!params.training) return (params.lower + params.upper) * 0.5f;
    if (i / 4 != *group) {
        *group = i / 4;
        *words = actk_rrelu_words(params.seed, params.offset, *group);
    }
    return actk_rrelu_slope_from_word(words->v[i % 4], params.lower, params.upper);
}

actk_status actk_cpu_rrelu_forward(actk_rrelu params, actk_dtype dtype, size_t n, const void *x, void *y)
{
    size_t elem;
    const actk_status s = actk_check_rrelu_args("actk_cpu_rrelu_forward", 0, params, dtype, n, x, NULL, y, &elem);
    if (s != ACTK_SUCCESS) return s;
    actk_philox_block words = {{0, 0, 0, 0}};
    size_t group = SIZE_MAX;
    for (size_t i = 0; i < n; ++i) {
        const real v = load(dtype, x, i);
        const real a = rrelu_slope_for(params, i, &words, &group);
        store(dtype, y, i, v > 0 ? v : a * v);
    }
    return ACTK_SUCCESS;
}

actk_status actk_cpu_rrelu_backward(actk_rrelu params, actk_dtype dtype, size_t n, const void *x, const void *dy,
                                    void *dx)
{
    size_t elem;
    const actk_status s = actk_check_rrelu_args("actk_cpu_rrelu_backward", 1, params, dtype, n, x, dy, dx, &elem);
    if (s != ACTK_SUCCESS) return s;
    actk_philox_block words = {{0, 0, 0, 0}};
    size_t group = SIZE_MAX;
    for (size_t i = 0; i < n; ++i) {
        const real v = load(dtype, x, i), g = load(dtype, dy, i);
        const real a = rrelu_slope_for(params, i, &words, &group);
        store(dtype, dx, i, isnan(v) ? v : (v > 0 ? g : a * g));
    }
    return ACTK_SUCCESS;
}
