// SPDX-License-Identifier: MIT
/*
 * prelu_math.cuh - the arithmetic of PReLU's dslope sum (kernels/prelu.cu),
 * __host__ __device__ so tests/test_prelu_reduction_on_host.cpp replays
 * the kernels' reduction order on the host with the same bits.
 *
 * dslope[c] = sum of x * dy over the elements of channel c with x <= 0
 * (or NaN). Each term is added exactly (an FMA recovers the product's
 * rounding error; f16/bf16 products are exact in float already) into a
 * double-word partial (compensated.cuh): float-float for f32/f16/bf16,
 * double-double for f64.
 */
#ifndef ACTK_KERNELS_PRELU_MATH_CUH
#define ACTK_KERNELS_PRELU_MATH_CUH

#include "compensated.cuh"

namespace actk {

/* C: the compute type; kExactProducts: x * dy is exact in C (the operands
 * have at most 12 significant bits each, as f16 and bf16 do in float). */
template <class C, bool kExactProducts> ACTK_HD Compensated<C> add_slope_term(Compensated<C> acc, C x, C dy)
{
    if (x > C(0)) return acc;
    if (kExactProducts) return acc.plus(x * dy);
    return acc.plus(Compensated<C>::product(x, dy));
}

} // namespace actk

#endif
