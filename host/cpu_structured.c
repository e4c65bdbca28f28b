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

actk_status actk_cpu_softmax_forward(actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim, size_t inner,
                                     const void *x, void *y)
{
    size_t elem, total;
    const actk_status s = actk_check_softmax_args("actk_cpu_softmax_forward", 0, kind, dtype, outer, dim, inner, x, NULL, y, &elem, &total);
    if (s != ACTK_SUCCESS || total == 0) return s;
    for (size_t o = 0; o < outer; ++o) {
        for (size_t i = 0; i < inner; ++i) {
            const size_t base = o * dim * inner + i;
            real max = -INFINITY;
            size_t argmax = 0;
            int nan = 0;
            for (size_t d = 0; d < dim; ++d) {
                const real v = load(dtype, x, base + d * inner);
                nan |= isnan(v);
                if (v > max) {
                    max = v;
                    argmax = d;
                }
            }
            /* all -inf, any +inf or NaN: the whole row is NaN (as PyTorch) */
            const int bad_row = nan || !isfinite(max);
            /* sum = 1 + rest, with the 1 of one maximal entry kept out so that
             * log(sum) = log1p(rest) keeps the tiny terms of a dominant row */
            ksum rest = {0, 0};
            if (!bad_row)
                for (size_t d = 0; d < dim; ++d)
                    if (d != argmax) ksum_add(&rest, expl(load(dtype, x, base + d * inner) - max));
            const real rest_sum = ksum_value(&rest), log_sum = log1pl(rest_sum);
            for (size_t d = 0; d < dim; ++d) {
                const size_t idx = base + d * inner;
                const real shifted = load(dtype, x, idx) - max;
                real v = NAN;
                if (!bad_row) v = kind == ACTK_SOFTMAX ? expl(shifted) / (1.0L + rest_sum) : shifted - log_sum;
                store(dtype, y, idx, v);
            }
        }
    }
    return ACTK_SUCCESS;
}

actk_status actk_cpu_softmax_backward(actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim, size_t inner,
                                      const void *y, const void *dy, void *dx)
{
    size_t elem, total;
    const actk_status s = actk_check_softmax_args("actk_cpu_softmax_backward", 1, kind, dtype, outer, dim, inner, y, dy, dx, &elem, &total);
    if (s != ACTK_SUCCESS || total == 0) return s;
    for (size_t o = 0; o < outer; ++o) {
        for (size_t i = 0; i < inner; ++i) {
            const size_t base = o * dim * inner + i;
            ksum sum = {0, 0};
            for (size_t d = 0; d < dim; ++d) {
                const size_t idx = base + d * inner;
                const real g = load(dtype, dy, idx);
                ksum_add(&sum, kind == ACTK_SOFTMAX ? g * load(dtype, y, idx) : g);
            }
            const real total_sum = ksum_value(&sum);
            for (size_t d = 0; d < dim; ++d) {
                const size_t idx = base + d * inner;
                const real yv = load(dtype, y, idx), g = load(dtype, dy, idx);
                store(dtype, dx, idx, kind == ACTK_SOFTMAX ? yv * (g - total_sum) : g - expl(yv) * total_sum);
            }
        }
    }
    return ACTK_SUCCESS;
}

/* ---- PReLU ------------------------------------------------------------------- */

actk_status actk_cpu_prelu_forward(actk_dtype dtype, size_t outer, size_t channels, size_t inner, const void *x,
                                   const void *slope, void *y)
{
    size_t elem, total;
    const actk_status s = actk_check_prelu_args("actk_cpu_prelu_forward", 0, dtype, outer, channels, inner, x, slope, NULL, y, NULL, &elem, &total);
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
    const actk_status s = actk_check_prelu_args("actk_cpu_prelu_backward", 1, dtype, outer, channels, inner, x, slope, dy, dx, dslope, &elem, &total);
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
    const actk_status s = actk_check_maxout_args("actk_cpu_maxout_forward", 0, dtype, outer, units, pieces, inner, x, NULL, y, &elem, &in_total, &out_total);
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
    const actk_status s = actk_check_maxout_args("actk_cpu_maxout_backward", 1, dtype, outer, units, pieces, inner, x, dy, dx, &elem, &in_total, &out_total);
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

actk_status actk_cpu_rrelu_backward(actk_rrelu params, actk_dtype dtype, size_t n, const void *x, const void *dy, void *dx)
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
