// SPDX-License-Identifier: MIT
/*
 * dtype_dispatch.cuh - calls f(S{}) with a value of the storage type for a
 * runtime dtype, so each structured kernel file instantiates its template
 * once per dtype without repeating the switch.
 */
#ifndef ACTK_KERNELS_DTYPE_DISPATCH_CUH
#define ACTK_KERNELS_DTYPE_DISPATCH_CUH

#include "elementwise_engine.cuh" /* StorageTraits */
#include "grid_size.cuh"          /* grid_for, for the launchers that include this */

#include "actk/actk.h"

#include <type_traits>

namespace actk {

/* The arithmetic type of the structured kernels (PReLU, Maxout, RReLU):
 * double for f64, float for every other dtype, so no FP64 instruction is
 * in an f32, f16 or bf16 kernel. */
template <class S> using StructuredCompute = typename std::conditional<sizeof(S) == 8, double, float>::type;

template <class F> cudaError_t dispatch_dtype(actk_dtype dtype, F &&f)
{
    switch (dtype) {
    case ACTK_F32: return f(float{});
    case ACTK_F64: return f(double{});
    case ACTK_F16: return f(__half{});
    case ACTK_BF16: return f(__nv_bfloat16{});
    case ACTK_DTYPE_MAX_ENUM: break;
    }
    return cudaErrorInvalidValue;
}

} // namespace actk

#endif
