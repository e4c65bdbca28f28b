// SPDX-License-Identifier: MIT
/*
 * storage.h - element i of a typed buffer as long double, and storing a
 * long double rounded once to the storage type. Shared by the CPU paths
 * and the tests (C and C++).
 */
#ifndef ACTK_HOST_STORAGE_H
#define ACTK_HOST_STORAGE_H

#include "actk/actk.h"
#include "half_convert.h"

#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

static inline long double actk_load_element(actk_dtype dtype, const void *p, size_t i)
{
    switch (dtype) {
    case ACTK_F32: return ((const float *)p)[i];
    case ACTK_F16: return actk_f16_to_float(((const uint16_t *)p)[i]);
    case ACTK_BF16: return actk_bf16_to_float(((const uint16_t *)p)[i]);
    case ACTK_F64: return ((const double *)p)[i];
    case ACTK_DTYPE_MAX_ENUM: break;
    }
    return 0;
}

static inline void actk_store_element(actk_dtype dtype, void *p, size_t i, long double v)
{
    switch (dtype) {
    case ACTK_F32: ((float *)p)[i] = (float)v; break;
    case ACTK_F16: ((uint16_t *)p)[i] = actk_f16_from_long_double(v); break;
    case ACTK_BF16: ((uint16_t *)p)[i] = actk_bf16_from_long_double(v); break;
    case ACTK_F64: ((double *)p)[i] = (double)v; break;
    case ACTK_DTYPE_MAX_ENUM: break;
    }
}

/* Position of v (rounded to the dtype) on the dtype's ordered number line;
 * +0 and -0 both map to 0, so a ULP distance is a difference of positions. */
static inline long double actk_ordered_position(actk_dtype dtype, long double v)
{
    unsigned char buf[8] = {0};
    actk_store_element(dtype, buf, 0, v);
    uint64_t bits = 0, sign = 0;
    switch (dtype) {
    case ACTK_F32: { uint32_t b; memcpy(&b, buf, 4); bits = b; sign = (uint64_t)1 << 31; break; }
    case ACTK_F16:
    case ACTK_BF16: { uint16_t b; memcpy(&b, buf, 2); bits = b; sign = (uint64_t)1 << 15; break; }
    case ACTK_F64: memcpy(&bits, buf, 8); sign = (uint64_t)1 << 63; break;
    case ACTK_DTYPE_MAX_ENUM: break;
    }
    const long double magnitude = (long double)(bits & (sign - 1));
    return (bits & sign) ? -magnitude : magnitude;
}

/* ULP distance of two values of the dtype: both NaN 0, one NaN infinity. */
static inline long double actk_ulp_distance(actk_dtype dtype, long double a, long double b)
{
    if (isnan(a) || isnan(b)) return (isnan(a) && isnan(b)) ? 0.0L : (long double)INFINITY;
    return fabsl(actk_ordered_position(dtype, a) - actk_ordered_position(dtype, b));
}

#endif
