// SPDX-License-Identifier: MIT
/*
 * maxout.cu - Maxout along dim = units * pieces of an (outer, dim, inner)
 * tensor: one thread per output element (o, u, i) in a grid-stride loop
 * (the coordinates are walked, index_walk.cuh, not divided out per element),
 * kMaxoutBatch outputs of a thread scanned side by side.
 * The thread scans its `pieces` inputs at stride `inner` (adjacent threads
 * take adjacent i, so reads are coalesced) for the first arg-max (the first
 * NaN if any). Forward writes y(o, u, i); backward writes all `pieces`
 * entries of dx: dy at the arg-max, 0 elsewhere. Comparisons in the
 * storage precision (float for f32/f16/bf16, double for f64): exact.
 */
#include "dtype_dispatch.cuh"
#include "index_walk.cuh"
#include "structured_launch.h"

namespace actk {
namespace {

/* Outputs a thread scans side by side (idx, idx + stride, ...): each step
 * over the pieces issues one load per output before comparing, so a thread
 * keeps kMaxoutBatch loads in flight instead of one (PERF.md, memory-level
 * parallelism audit). 4 (2 for f64, which would spill) within the 64
 * registers of __launch_bounds__(256, 4): 1024 threads per SM. */
template <class S> constexpr int kMaxoutBatch = sizeof(S) > 4 ? 2 : 4;

template <class S, bool kBackward>
__global__ void __launch_bounds__(256, 4)
    maxout_kernel(const S *x, const S *dy, S *out, size_t out_total, size_t pieces, size_t inner)
{
    using T = StorageTraits<S>;
    using C = StructuredCompute<S>;
    constexpr int kBatch = kMaxoutBatch<S>;
    const size_t stride = (size_t)gridDim.x * blockDim.x, pieces_inner = pieces * inner;
    size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    IndexWalk at(idx, stride, inner); /* at.q = o * units + u, at.r = i */
    for (; idx < out_total; idx += kBatch * stride) {
        size_t base[kBatch], arg[kBatch];
        C best[kBatch];
        bool scanning[kBatch]; /* a real output whose scan has met no NaN yet */
#pragma unroll
        for (int k = 0; k < kBatch; ++k, at.advance()) {
            const bool have = idx + k * stride < out_total;
            base[k] = at.q * pieces_inner + at.r; /* x(o, u * pieces, i) */
            arg[k] = 0;
            best[k] = have ? (C)T::load(x[base[k]]) : C(0);
            scanning[k] = have && best[k] == best[k];
        }
        for (size_t p = 1; p < pieces; ++p) {
            C v[kBatch];
#pragma unroll
            for (int k = 0; k < kBatch; ++k)
                if (scanning[k]) v[k] = (C)T::load(x[base[k] + p * inner]);
            bool any = false;
#pragma unroll
            for (int k = 0; k < kBatch; ++k) {
                if (!scanning[k]) continue;
                if (v[k] != v[k]) { /* the first NaN is the arg-max; this scan stops */
                    arg[k] = p;
                    best[k] = v[k];
                    scanning[k] = false;
                } else if (v[k] > best[k]) { /* strictly greater: the first maximum wins */
                    best[k] = v[k];
                    arg[k] = p;
                }
                any |= scanning[k];
            }
            if (!any) break;
        }
#pragma unroll
        for (int k = 0; k < kBatch; ++k) {
            const size_t o = idx + k * stride;
            if (o >= out_total) break;
            if constexpr (kBackward) {
                const S g = dy[o];
                const S zero = T::store(C(0));
                for (size_t p = 0; p < pieces; ++p) out[base[k] + p * inner] = p == arg[k] ? g : zero;
            } else {
                out[o] = T::store(best[k]);
            }
        }
    }
}

} // namespace
} // namespace actk

extern "C" cudaError_t actk_launch_maxout(int backward, actk_dtype dtype, size_t outer, size_t units, size_t pieces,
                                          size_t inner, const void *x, const void *dy, void *out, int sm_count,
                                          cudaStream_t stream)
{
    const size_t out_total = outer * units * inner;
    return actk::dispatch_dtype(dtype, [&](auto tag) {
        using S = decltype(tag);
        /* threads for a full batch of outputs each: one per output would leave the batch empty */
        constexpr size_t kBatch = actk::kMaxoutBatch<S>;
        const unsigned grid = actk::grid_for((out_total + kBatch - 1) / kBatch, 256, sm_count);
        if (backward)
            actk::maxout_kernel<S, true><<<grid, 256, 0, stream>>>(
                static_cast<const S *>(x), static_cast<const S *>(dy), static_cast<S *>(out), out_total, pieces, inner);
        else
            actk::maxout_kernel<S, false><<<grid, 256, 0, stream>>>(static_cast<const S *>(x), nullptr,
                                                                    static_cast<S *>(out), out_total, pieces, inner);
        return cudaGetLastError();
    });
}
