/*
 * dbias_reduce.cuh - the deterministic column sums behind every fused dbias
 * (2-D element-wise and gated backward).
 *
 * Scheme: the backward kernel gives one thread per (column, slice of rows);
 * each thread sums the dx values it stored (rounded to storage, so dbias is
 * the sum of the returned dx) as an unevaluated pair (hi, lo) with TwoSum,
 * in float (f16, bf16, f32) or double (f64), and writes the pair to
 * partials[2 * (slice * width + column)]. dbias_slices_kernel then adds,
 * per column, the slices' pairs in slice order and rounds once. No atomics:
 * the order depends on the shape only, so the bits are the same on every
 * run and GPU. Launch of dbias_slices_kernel: one thread per column,
 * kGatedBlock threads per block, ceil(width / kGatedBlock) blocks (grid.x).
 */
#ifndef ACTK_KERNELS_DBIAS_REDUCE_CUH
#define ACTK_KERNELS_DBIAS_REDUCE_CUH

#include "gated_engine.cuh" /* kGatedBlock, StorageTraits */

namespace actk {

/* The accumulator of dbias per storage type. */
template <class S> struct DbiasAccumulator { using type = float; };
template <> struct DbiasAccumulator<double> { using type = double; };

/* (hi, lo) += v, exactly up to the rounding of lo (TwoSum). Once the sum
 * is not finite, the plain sum (lo = 0): TwoSum's error term would turn an
 * infinite sum into NaN (inf - inf). */
template <class A> __device__ __forceinline__ void two_sum_add(A &hi, A &lo, A v)
{
    const A s = hi + v;
    const A b = s - hi;
    const A error = (hi - (s - b)) + (v - b);
    lo = s - s == A(0) ? lo + error : A(0);
    hi = s;
}

/* Stores one thread's sum (hi, lo) of `column` over slice `slice`. */
template <class A>
__device__ __forceinline__ void store_slice_sum(A *partials, size_t width, size_t slice, size_t column, A hi, A lo)
{
    A *slot = partials + 2 * (slice * width + column);
    slot[0] = hi;
    slot[1] = lo;
}

/* dbias[c]: the slices' (hi, lo) pairs added in slice order, rounded once. */
template <class S>
__global__ void __launch_bounds__(kGatedBlock)
dbias_slices_kernel(const typename DbiasAccumulator<S>::type *partials, size_t splits, size_t width, S *dbias)
{
    using A = typename DbiasAccumulator<S>::type;
    const size_t c = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= width) return;
    A hi = 0, lo = 0;
    for (size_t s = 0; s < splits; ++s) {
        const A *slot = partials + 2 * (s * width + c);
        two_sum_add(hi, lo, slot[0]);
        lo += slot[1];
    }
    dbias[c] = StorageTraits<S>::store((typename StorageTraits<S>::Compute)(hi + lo));
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
