// SPDX-License-Identifier: MIT
/*
 * dbias_reduce.cuh - the deterministic column sums behind every fused dbias
 * (2-D element-wise and gated backward).
 *
 * Scheme: the backward kernel gives one thread per (column, slice of rows);
 * each thread sums the dx values it stored (rounded to storage, so dbias is
 * the sum of the returned dx) as a double-word Compensated<A> (A = float
 * for f16, bf16, f32; double for f64: no FP64 in the float kernels) and
 * writes its (hi, lo) to partials[2 * (slice * width + column)].
 * dbias_slices_kernel then adds, per column, the slices' double-words in
 * slice order and rounds once. No atomics: the order depends on the shape
 * only, so the bits are the same on every run and GPU
 * (tests/test_dbias_reduction_on_host.cpp replays it on the host).
 * Error (compensated.cuh): a chain of D = rows_per_split + splits double-
 * word additions, so the unrounded sum is within 4 u^2 D sum|dx| of the
 * exact one (u = 2^-24 or 2^-53), then one rounding (two for f16/bf16:
 * to float, then to storage). Non-finite sums stay as the plain sum would
 * give them (inf stays inf, inf - inf is NaN).
 * Launch of dbias_slices_kernel: one thread per column, kGatedBlock
 * threads per block, ceil(width / kGatedBlock) blocks (grid.x).
 */
#ifndef ACTK_KERNELS_DBIAS_REDUCE_CUH
#define ACTK_KERNELS_DBIAS_REDUCE_CUH

#include "compensated.cuh"  /* Compensated: double-word sums */
#include "gated_engine.cuh" /* kGatedBlock, StorageTraits */

namespace actk {

/* The accumulator of dbias per storage type. */
template <class S> struct DbiasAccumulator { using type = float; };
template <> struct DbiasAccumulator<double> { using type = double; };

/* Stores one thread's sum of `column` over slice `slice`. */
template <class A>
__device__ __forceinline__ void store_slice_sum(A *partials, size_t width, size_t slice, size_t column,
                                                const Compensated<A> &sum)
{
    A *slot = partials + 2 * (slice * width + column);
    slot[0] = sum.hi;
    slot[1] = sum.lo;
}

/* dbias[c]: the slices' double-words added in slice order, rounded once. */
template <class S>
__global__ void __launch_bounds__(kGatedBlock)
dbias_slices_kernel(const typename DbiasAccumulator<S>::type *partials, size_t splits, size_t width, S *dbias)
{
    using A = typename DbiasAccumulator<S>::type;
    const size_t c = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= width) return;
    Compensated<A> sum = Compensated<A>::zero();
    for (size_t s = 0; s < splits; ++s) {
        const A *slot = partials + 2 * (s * width + c);
        sum = sum.plus(Compensated<A>{slot[0], slot[1]});
    }
    dbias[c] = StorageTraits<S>::store((typename StorageTraits<S>::Compute)sum.value());
}

/* Enqueues dbias_slices_kernel over `width` columns. */
template <class S>
cudaError_t launch_dbias_slices(const typename DbiasAccumulator<S>::type *partials, size_t splits, size_t width,
                                S *dbias, cudaStream_t stream)
{
    const unsigned blocks = (unsigned)((width + kGatedBlock - 1) / kGatedBlock);
    dbias_slices_kernel<S><<<blocks, kGatedBlock, 0, stream>>>(partials, splits, width, dbias);
    return cudaGetLastError();
}

} // namespace actk

#endif
