// SPDX-License-Identifier: MIT
/*
 * cpu_ew2d.c - the actk_cpu_*_2d entry points: element-wise ops over a
 * strided rows x cols matrix with an optional fused bias, and dbias. The
 * oracle: x + bias and the op in long double, each result rounded once;
 * dbias sums the stored dx values with compensation (Neumaier) in long
 * double and rounds once.
 *
 * In place (y == x, dx == dy, same ld) is safe: each element is read before
 * it is written, and dbias reads dx only after it is written.
 */
#include "ew2d_args.h"
#include "reference_math.h"
#include "storage.h"

#include <math.h>

typedef long double real;

/* x + bias[c]; x itself without a bias (adding 0 would turn -0 into +0) */
static real biased(actk_dtype dtype, const void *x, size_t i, const void *bias, size_t c)
{
    const real v = actk_load_element(dtype, x, i);
    return bias ? v + actk_load_element(dtype, bias, c) : v;
}

actk_status actk_cpu_forward_2d(actk_act act, actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx,
                                const void *bias, void *y, size_t ldy)
{
    size_t elem;
    const actk_status s = actk_check_2d_args("actk_cpu_forward_2d", 0, act, dtype, rows, cols, x, ldx, bias, NULL, 0, y,
                                             ldy, NULL, &elem);
    if (s != ACTK_SUCCESS) return s;
    for (size_t r = 0; r < rows; ++r)
        for (size_t c = 0; c < cols; ++c)
            actk_store_element(dtype, y, r * ldy + c,
                               actk_ref_forward(act, biased(dtype, x, r * ldx + c, bias, c)));
    return ACTK_SUCCESS;
}

actk_status actk_cpu_backward_2d(actk_act act, actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx,
                                 const void *bias, const void *dy, size_t lddy, void *dx, size_t lddx, void *dbias)
{
    size_t elem;
    const actk_status s = actk_check_2d_args("actk_cpu_backward_2d", 1, act, dtype, rows, cols, x, ldx, bias, dy, lddy,
                                             dx, lddx, dbias, &elem);
    if (s != ACTK_SUCCESS) return s;
    for (size_t r = 0; r < rows; ++r)
        for (size_t c = 0; c < cols; ++c) {
            const real v = biased(dtype, x, r * ldx + c, bias, c);
            actk_store_element(dtype, dx, r * lddx + c,
                               actk_ref_backward(act, v, actk_load_element(dtype, dy, r * lddy + c)));
        }
    if (dbias == NULL) return ACTK_SUCCESS;
    for (size_t c = 0; c < cols; ++c)
        actk_store_element(dtype, dbias, c, actk_ref_column_sum(dtype, dx, c, rows, lddx));
    return ACTK_SUCCESS;
}

long double actk_ref_column_sum(actk_dtype dtype, const void *m, size_t column, size_t rows, size_t ld)
{
    real sum = 0, compensation = 0;
    for (size_t r = 0; r < rows; ++r) {
        const real v = actk_load_element(dtype, m, r * ld + column);
        const real t = sum + v;
        compensation += fabsl(sum) >= fabsl(v) ? (sum - t) + v : (v - t) + sum;
        sum = t;
    }
    return isfinite(sum) ? sum + compensation : sum; /* an infinite sum's compensation is NaN */
}
