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
#include <stdint.h>

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

#endif
