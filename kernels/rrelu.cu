// SPDX-License-Identifier: MIT
/*
 * rrelu.cu - RReLU forward and backward. One thread per group of four
 * elements (grid-stride): one Philox4x32-10 call (philox.h, the same source
 * the CPU path uses) yields the four slopes, so CPU and GPU draw identical
 * bits and the backward pass regenerates them instead of storing them.
 */
#include "dtype_dispatch.cuh"
#include "philox.h"
#include "structured_launch.h"

namespace actk {
namespace {

template <class S, bool kBackward>
__global__ void rrelu_kernel(actk_rrelu params, const S *x, const S *dy, S *out, size_t n)
{
    using T = StorageTraits<S>;
    using C = StructuredCompute<S>; /* float for f32/f16/bf16: a * x rounds the same as in double */
    const size_t groups = (n + 3) / 4, stride = (size_t)gridDim.x * blockDim.x;
    const float mean_slope = (params.lower + params.upper) * 0.5f;
    for (size_t g = (size_t)blockIdx.x * blockDim.x + threadIdx.x; g < groups; g += stride) {
        /* The group's loads first, all in flight while Philox runs: loaded
         * between the stores, each would wait for the previous one (out may
         * alias x, so the compiler keeps them in order), one load in flight
         * per thread (PERF.md, memory-level parallelism audit). */
        S raw_x[4], raw_dy[4];
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            const size_t i = 4 * g + k;
            if (i < n) {
                raw_x[k] = x[i];
                if constexpr (kBackward) raw_dy[k] = dy[i];
            }
        }
        actk_philox_block words = {{0, 0, 0, 0}};
        if (params.training) words = actk_rrelu_words(params.seed, params.offset, g);
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            const size_t i = 4 * g + k;
            if (i >= n) break;
            const C a =
                params.training ? (C)actk_rrelu_slope_from_word(words.v[k], params.lower, params.upper) : (C)mean_slope;
            const C v = (C)T::load(raw_x[k]);
            if constexpr (kBackward) {
                const C grad = (C)T::load(raw_dy[k]);
                out[i] = T::store(v != v ? v : (v > C(0) ? grad : a * grad));
            } else {
                out[i] = T::store(v > C(0) ? v : a * v);
            }
        }
    }
}

} // namespace
} // namespace actk

extern "C" cudaError_t actk_launch_rrelu(int backward, actk_rrelu params, actk_dtype dtype, size_t n, const void *x,
                                         const void *dy, void *out, int sm_count, cudaStream_t stream)
{
    return actk::dispatch_dtype(dtype, [&](auto tag) {
        using S = decltype(tag);
        const unsigned grid = actk::grid_for((n + 3) / 4, 256, sm_count);
        if (backward)
            actk::rrelu_kernel<S, true><<<grid, 256, 0, stream>>>(params, static_cast<const S *>(x),
                                                                  static_cast<const S *>(dy), static_cast<S *>(out), n);
        else
            actk::rrelu_kernel<S, false><<<grid, 256, 0, stream>>>(params, static_cast<const S *>(x), nullptr,
                                                                   static_cast<S *>(out), n);
        return cudaGetLastError();
    });
}
