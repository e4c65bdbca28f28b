// SPDX-License-Identifier: MIT
/*
 * cpu_elementwise.c - the actk_cpu_* element-wise entry points: validate,
 * then evaluate the long double reference per element and round once to
 * the storage type. In-place use is safe because every element is read
 * before it is written and nothing else is read after.
 */
#include "storage.h"
#include "internal.h"
#include "reference_math.h"

#include <stdint.h>

#define load actk_load_element
#define store actk_store_element

actk_status actk_cpu_forward(actk_act act, actk_dtype dtype, size_t n, const void *x, void *y)
{
    const actk_status status = actk_check_elementwise("actk_cpu_forward", ACTK_DIR_FORWARD, act, dtype, n, x, NULL, y);
    if (status != ACTK_SUCCESS) return status;
    for (size_t i = 0; i < n; ++i) store(dtype, y, i, actk_ref_forward(act, load(dtype, x, i)));
    return ACTK_SUCCESS;
}

actk_status actk_cpu_backward(actk_act act, actk_dtype dtype, size_t n, const void *x, const void *dy, void *dx)
{
    const actk_status status = actk_check_elementwise("actk_cpu_backward", ACTK_DIR_BACKWARD, act, dtype, n, x, dy, dx);
    if (status != ACTK_SUCCESS) return status;
    for (size_t i = 0; i < n; ++i)
        store(dtype, dx, i, actk_ref_backward(act, load(dtype, x, i), load(dtype, dy, i)));
    return ACTK_SUCCESS;
}

actk_status actk_cpu_backward_from_y(actk_act act, actk_dtype dtype, size_t n, const void *y, const void *dy, void *dx)
{
    const actk_status status =
        actk_check_elementwise("actk_cpu_backward_from_y", ACTK_DIR_BACKWARD_FROM_Y, act, dtype, n, y, dy, dx);
    if (status != ACTK_SUCCESS) return status;
    for (size_t i = 0; i < n; ++i)
        store(dtype, dx, i, actk_ref_backward_from_y(act, load(dtype, y, i), load(dtype, dy, i)));
    return ACTK_SUCCESS;
}
