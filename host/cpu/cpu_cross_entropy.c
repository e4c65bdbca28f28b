// SPDX-License-Identifier: MIT
/*
 * cpu_cross_entropy.c - actk_cpu_cross_entropy_forward_backward, the
 * oracle of the fused softmax cross-entropy (formulas in actk.h): every
 * row in long double, max-subtracted log-sum-exp, each output rounded once
 * (loss and lse to float, the gradient to the logits' dtype). Sums over
 * rows (SUM, MEAN) are accumulated in long double in row order.
 *
 * Targets are checked for range before anything is written. In place
 * (grad == logits, same ld) is safe: a row's logits are all read (into
 * the per-row pass below) before any of its gradient is written, since the
 * gradient pass re-reads x_j just before writing grad_j at the same place.
 */
#include "cross_entropy_args.h"
#include "storage.h"

#include <math.h>
#include <stdint.h>

typedef long double real;

static long long target_of(actk_index_type type, const void *targets, size_t r)
{
    return type == ACTK_INDEX_I64 ? (long long)((const int64_t *)targets)[r] : (long long)((const int32_t *)targets)[r];
}

/* the soft-capped logit and its derivative dz/dx = sech^2(x / cap) */
static real capped(real x, real cap, real *dzdx)
{
    if (cap == 0) {
        *dzdx = 1;
        return x;
    }
    const real y = x / cap;
    const real c = coshl(y); /* +inf beyond ~11356: sech^2 = 0 */
    *dzdx = 1 / (c * c);
    return cap * tanhl(y);
}

actk_status actk_cpu_cross_entropy_forward_backward(actk_cross_entropy_options o, actk_dtype dtype, size_t rows,
                                                    size_t classes, const void *logits, size_t ld,
                                                    actk_index_type target_type, const void *targets, float *loss,
                                                    float *lse, void *grad, size_t ldgrad)
{
    const char *fn = "actk_cpu_cross_entropy_forward_backward";
    size_t elem;
    actk_status s = actk_check_cross_entropy_args(fn, o, dtype, rows, classes, logits, ld, target_type, targets, loss,
                                                  lse, grad, ldgrad, NULL, &elem);
    if (s != ACTK_SUCCESS) return s;
    size_t counted = 0;
    for (size_t r = 0; r < rows; ++r) {
        const long long t = target_of(target_type, targets, r);
        if (t == o.ignore_index) continue;
        if (t < 0 || (unsigned long long)t >= classes)
            return actk_fail(ACTK_ERROR_INVALID_VALUE,
                             "%s: targets[%zu] = %lld is out of range [0, %zu) and not ignore_index = %lld", fn, r, t,
                             classes, o.ignore_index);
        ++counted;
    }
    const real eps = o.label_smoothing, zc = o.z_loss, cap = o.softcap;
    const real g = o.reduction == ACTK_REDUCTION_MEAN ? (real)o.grad_scale / (real)counted : (real)o.grad_scale;
    real total = 0;
    for (size_t r = 0; r < rows; ++r) {
        const size_t base = r * ld;
        const long long t = target_of(target_type, targets, r);
        const int ignored = t == o.ignore_index;
        /* max, NaN-propagating; then the sum of exp(z - max) and of z */
        real m = -INFINITY, dz;
        int nan = 0;
        for (size_t j = 0; j < classes; ++j) {
            const real z = capped(actk_load_element(dtype, logits, base + j), cap, &dz);
            if (isnan(z)) nan = 1;
            if (z > m) m = z;
        }
        /* relative to the max (so that lse - z stays exact for huge logits,
         * where m + log(sum) would round log(sum) away): sum = sum exp(z - m),
         * below = sum (m - z) */
        real row_lse = NAN, sum = 1, log_sum = 0, below = 0;
        if (!nan && isfinite(m)) {
            sum = 0;
            for (size_t j = 0; j < classes; ++j) {
                const real z = capped(actk_load_element(dtype, logits, base + j), cap, &dz);
                sum += expl(z - m);
                below += m - z;
            }
            log_sum = logl(sum);
            row_lse = m + log_sum;
        }
        real row_loss = 0;
        if (!ignored) {
            const real zt = capped(actk_load_element(dtype, logits, base + (size_t)t), cap, &dz);
            /* (1 - eps) nll + eps (lse - mean z); a term whose weight is 0 is
             * left out (0 * inf would make NaN of a -inf logit elsewhere) */
            row_loss = (eps < 1 ? (1 - eps) * ((m - zt) + log_sum) : 0) +
                       (eps > 0 ? eps * (below / (real)classes + log_sum) : 0);
            if (zc > 0) row_loss += zc * row_lse * row_lse;
            if (isnan(row_lse)) row_loss = NAN;
            total += row_loss;
        }
        if (o.reduction == ACTK_REDUCTION_NONE) loss[r] = (float)row_loss;
        if (lse) lse[r] = (float)row_lse;
        if (grad) {
            const real coeff = 1 + 2 * zc * row_lse;
            for (size_t j = 0; j < classes; ++j) {
                real v = 0;
                if (!ignored) {
                    const real z = capped(actk_load_element(dtype, logits, base + j), cap, &dz);
                    const real p = expl(z - m) / sum;
                    v = coeff * p - eps / (real)classes - ((long long)j == t ? 1 - eps : 0);
                    v *= (o.row_grad ? (real)o.row_grad[r] : g) * dz;
                    if (isnan(row_lse)) v = NAN;
                }
                actk_store_element(dtype, grad, r * ldgrad + j, v);
            }
        }
    }
    if (o.reduction == ACTK_REDUCTION_SUM) loss[0] = (float)total;
    if (o.reduction == ACTK_REDUCTION_MEAN) loss[0] = counted ? (float)(total / (real)counted) : NAN;
    return ACTK_SUCCESS;
}
