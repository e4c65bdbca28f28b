// SPDX-License-Identifier: MIT
/*
 * elementwise_engine.cuh - the one generic element-wise kernel every op
 * plugs into.
 *
 * Computes out[i] = fn(in0[i]) (arity 1) or out[i] = fn(in0[i], in1[i])
 * (arity 2) for i in [0, n), converting storage to the compute type
 * (StorageTraits) and rounding the result once back to storage.
 *
 * Launch shape: 1-D grid-stride loop, 256 threads per block, grid capped at
 * a few waves of the device (grid_for, grid_size.cuh) so large n reuses
 * threads instead of launching millions of blocks.
 * Vectorisation: 16-byte packs (4 f32, 8 f16/bf16, 2 f64). The host picks
 * `head` = elements before the first 16-byte boundary of `out`; if every
 * pointer shares that misalignment, elements [head, head + packs*P) go
 * through 16-byte loads/stores and the head and tail go element by element.
 * Otherwise packs = 0 and everything is scalar (still coalesced).
 * Preconditions (checked by the host wrapper): pointers aligned to the
 * element size, inputs either equal to `out` (in place) or disjoint from it.
 * Indices are size_t throughout, so n above 2^32 works.
 */
#ifndef ACTK_KERNELS_ELEMENTWISE_ENGINE_CUH
#define ACTK_KERNELS_ELEMENTWISE_ENGINE_CUH

#include "actk/actk.h"
#include "grid_size.cuh"

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <stddef.h>
#include <stdint.h>

namespace actk {

constexpr int kElementwiseBlock = 256;

/* Compute type and conversions per storage type: f32, f16 and bf16 compute
 * in float (the f32 math keeps its extra precision in float-float pairs,
 * f32_math.cuh: no FP64 in an f32 kernel), f64 in double. */
template <class S> struct StorageTraits;
template <> struct StorageTraits<float> {
    static constexpr actk_dtype kDtype = ACTK_F32;
    using Compute = float;
    static __device__ __forceinline__ float load(float v) { return v; }
    static __device__ __forceinline__ float store(float c) { return c; }
};
template <> struct StorageTraits<double> {
    static constexpr actk_dtype kDtype = ACTK_F64;
    using Compute = double;
    static __device__ __forceinline__ double load(double v) { return v; }
    static __device__ __forceinline__ double store(double c) { return c; }
};
template <> struct StorageTraits<__half> {
    static constexpr actk_dtype kDtype = ACTK_F16;
    using Compute = float;
    static __device__ __forceinline__ float load(__half v) { return __half2float(v); }
    static __device__ __forceinline__ __half store(float c) { return __float2half_rn(c); }
};
template <> struct StorageTraits<__nv_bfloat16> {
    static constexpr actk_dtype kDtype = ACTK_BF16;
    using Compute = float;
    static __device__ __forceinline__ float load(__nv_bfloat16 v) { return __bfloat162float(v); }
    static __device__ __forceinline__ __nv_bfloat16 store(float c) { return __float2bfloat16_rn(c); }
};

template <class S> constexpr int kPackSize = 16 / (int)sizeof(S);

template <class S> struct alignas(16) Pack {
    S v[kPackSize<S>];
};

template <int Arity, class S, class Fn>
__device__ __forceinline__ S apply_one(const Fn &fn, S a, S b)
{
    using T = StorageTraits<S>;
    using C = typename T::Compute;
    if constexpr (Arity == 1) {
        (void)b;
        return T::store(fn(T::load(a), C(0)));
    } else {
        return T::store(fn(T::load(a), T::load(b)));
    }
}

template <int Arity, class S, class Fn>
__global__ void __launch_bounds__(kElementwiseBlock)
elementwise_kernel(Fn fn, const S *in0, const S *in1, S *out, size_t n, size_t head, size_t packs)
{
    constexpr int P = kPackSize<S>;
    const size_t stride = (size_t)gridDim.x * blockDim.x;
    const size_t tid = (size_t)blockIdx.x * blockDim.x + threadIdx.x;

    const Pack<S> *in0_packs = reinterpret_cast<const Pack<S> *>(in0 + head);
    const Pack<S> *in1_packs = reinterpret_cast<const Pack<S> *>(Arity == 2 ? in1 + head : in0 + head);
    Pack<S> *out_packs = reinterpret_cast<Pack<S> *>(out + head);
    for (size_t i = tid; i < packs; i += stride) {
        const Pack<S> a = in0_packs[i];
        Pack<S> b;
        if constexpr (Arity == 2) b = in1_packs[i];
        Pack<S> r;
#pragma unroll
        for (int k = 0; k < P; ++k) r.v[k] = apply_one<Arity>(fn, a.v[k], Arity == 2 ? b.v[k] : a.v[k]);
        out_packs[i] = r;
    }

    /* Scalar remainder: the head [0, head) and the tail [tail_begin, n). */
    const size_t tail_begin = head + packs * P;
    const size_t scalar_count = head + (n - tail_begin);
    for (size_t i = tid; i < scalar_count; i += stride) {
        const size_t idx = i < head ? i : tail_begin + (i - head);
        out[idx] = apply_one<Arity>(fn, in0[idx], Arity == 2 ? in1[idx] : in0[idx]);
    }
}

/* Splits [0, n) into a scalar head, 16-byte packs and a scalar tail, sizes
 * the grid, launches, and returns the launch error (cudaSuccess if none). */
template <int Arity, class S, class Fn>
cudaError_t launch_elementwise_kernel(Fn fn, const S *in0, const S *in1, S *out, size_t n, int sm_count,
                                      cudaStream_t stream)
{
    constexpr int P = kPackSize<S>;
    const uintptr_t misalignment = (uintptr_t)out % 16;
    bool same_misalignment = (uintptr_t)in0 % 16 == misalignment;
    if (Arity == 2) same_misalignment = same_misalignment && (uintptr_t)in1 % 16 == misalignment;
    size_t head = 0, packs = 0;
    if (same_misalignment) {
        head = misalignment == 0 ? 0 : (16 - misalignment) / sizeof(S);
        if (head > n) head = n;
        packs = (n - head) / P;
    }
    const size_t scalar_count = n - packs * P;
    const size_t work = packs > scalar_count ? packs : scalar_count;
    if (work == 0) return cudaSuccess;
    const unsigned blocks = grid_for(work, kElementwiseBlock, sm_count);
    elementwise_kernel<Arity, S, Fn><<<blocks, kElementwiseBlock, 0, stream>>>(fn, in0, in1, out, n, head, packs);
    return cudaGetLastError();
}

} // namespace actk

#endif
