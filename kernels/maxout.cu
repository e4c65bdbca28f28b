// SPDX-License-Identifier: MIT
/*
 * maxout.cu - Maxout along dim = units * pieces of an (outer, dim, inner)
 * tensor: one thread per output element (o, u, i) in a grid-stride loop
 * (the coordinates are walked, index_walk.cuh, not divided out per element).
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

template <class S, bool kBackward>
__global__ void maxout_kernel(const S *x, const S *dy, S *out, size_t out_total, size_t pieces, size_t inner)
{
    using T = StorageTraits<S>;
    using C = StructuredCompute<S>;
    const size_t stride = (size_t)gridDim.x * blockDim.x, pieces_inner = pieces * inner;
    size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    IndexWalk at(idx, stride, inner); /* at.q = o * units + u, at.r = i */
    for (; idx < out_total; idx += stride, at.advance()) {
        const size_t base = at.q * pieces_inner + at.r; /* x(o, u * pieces, i) */
        size_t arg = 0;
        C best = (C)T::load(x[base]);
        if (best == best) {
            for (size_t p = 1; p < pieces; ++p) {
                const C v = (C)T::load(x[base + p * inner]);
                if (v != v) { arg = p; best = v; break; }
                if (v > best) { best = v; arg = p; }
            }
        }
        if constexpr (kBackward) {
            const S g = dy[idx];
            const S zero = T::store(C(0));
            for (size_t p = 0; p < pieces; ++p) out[base + p * inner] = p == arg ? g : zero;
        } else {
            out[idx] = T::store(best);
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
        const unsigned grid = actk::grid_for(out_total, 256, sm_count);
        if (backward)
            actk::maxout_kernel<S, true><<<grid, 256, 0, stream>>>(
                static_cast<const S *>(x), static_cast<const S *>(dy), static_cast<S *>(out), out_total, pieces, inner);
        else
            actk::maxout_kernel<S, false><<<grid, 256, 0, stream>>>(static_cast<const S *>(x), nullptr,
                                                                    static_cast<S *>(out), out_total, pieces, inner);
        return cudaGetLastError();
    });
}
