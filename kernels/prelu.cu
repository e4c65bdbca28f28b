// SPDX-License-Identifier: MIT
/*
 * prelu.cu - PReLU with learnable per-channel slopes on an
 * (outer, channels, inner) tensor.
 *
 * Forward: y = x > 0 ? x : slope[c] * x, a grid-stride loop over elements,
 * kForwardBatch of them loaded before the first is used; the channel of
 * each index is walked (index_walk.cuh), not divided out.
 * Backward, two deterministic passes (no atomics), planned on the host
 * (prelu_plan.h, which describes the thread layout):
 *  1. prelu_backward_partial_kernel writes dx and sums x * dy where x <= 0
 *     (or NaN) per column and slice of rows: each thread walks the rows of
 *     one column, the threads that share a column in a block are summed in
 *     a fixed tree, giving workspace partial[split * J + column].
 *  2. prelu_slope_reduce_kernel: a block per channel sums its
 *     splits * inner partials (fixed per-thread strides, then a fixed tree)
 *     and rounds once into dslope[c].
 * Every sum is double-word (prelu_math.cuh, compensated.cuh): float-float
 * for f32/f16/bf16 (no FP64 instruction), double-double for f64, with each
 * product x * dy added exactly. dslope is within
 * 4u^2 * actk_prelu_longest_chain * sum |x * dy| of the exact sum before
 * its one rounding (u = 2^-24 f32/f16/bf16, 2^-53 f64). The workspace holds
 * the partials as two arrays, hi then lo, of the compute type (float or
 * double).
 * Preconditions (checked on the host): the shape's product fits size_t,
 * pointers aligned to the element size, workspace to 8 bytes.
 */
#include "dtype_dispatch.cuh"
#include "index_walk.cuh"
#include "prelu_math.cuh"
#include "structured_launch.h"

namespace actk {
namespace {

constexpr int kThreads = ACTK_PRELU_THREADS;

/* Elements a thread of the forward loads before it uses the first (idx,
 * idx + stride, ...): a grid-stride loop with one load per turn keeps 4 to 8
 * KiB in flight per SM at full occupancy, 4 loads 16 to 32 KiB (PERF.md,
 * memory-level parallelism audit). The grid is sized for kForwardBatch
 * elements per thread. */
constexpr int kForwardBatch = 4;

/* Rows of its column a thread of the backward's pass 1 loads (x and dy)
 * before it sums them, in row order as before: 2 loads in flight per thread
 * left 8 KiB per SM for 16-bit data (PERF.md, memory-level parallelism
 * audit). */
constexpr int kBackwardBatch = 4;

template <class S>
__global__ void __launch_bounds__(kThreads) prelu_forward_kernel(const S *x, const S *slope, S *y, size_t total,
                                                                 size_t channels, size_t inner)
{
    using T = StorageTraits<S>;
    using C = StructuredCompute<S>;
    const size_t stride = (size_t)gridDim.x * blockDim.x;
    size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    IndexWalk channel(idx, stride, inner, channels); /* channel.q = (idx / inner) % channels */
    for (; idx < total; idx += kForwardBatch * stride) {
        S raw[kForwardBatch]; /* all reads of the batch before its writes: y == x is fine */
#pragma unroll
        for (int k = 0; k < kForwardBatch; ++k)
            if (idx + k * stride < total) raw[k] = x[idx + k * stride];
#pragma unroll
        for (int k = 0; k < kForwardBatch; ++k, channel.advance()) {
            if (idx + k * stride >= total) break; /* the last turn: the loop ends with it */
            const C v = (C)T::load(raw[k]);
            y[idx + k * stride] = T::store(v > C(0) ? v : (C)T::load(slope[channel.q]) * v);
        }
    }
}

/* Sums the block's `blockDim.y` partials of each column (tree over y) into
 * row 0. Every thread of the block calls it. */
template <class C>
__device__ Compensated<C> sum_over_block_rows(Compensated<C> mine, C *tree_hi, C *tree_lo)
{
    const unsigned by = blockDim.y, t = threadIdx.y * blockDim.x + threadIdx.x;
    tree_hi[t] = mine.hi;
    tree_lo[t] = mine.lo;
    __syncthreads();
    unsigned half = 1;
    while (2 * half < by) half *= 2; /* the largest power of two below by */
    for (; half > 0; half /= 2) {
        if (threadIdx.y < half && threadIdx.y + half < by) {
            const unsigned other = t + half * blockDim.x;
            const Compensated<C> s =
                Compensated<C>{tree_hi[t], tree_lo[t]}.plus(Compensated<C>{tree_hi[other], tree_lo[other]});
            tree_hi[t] = s.hi;
            tree_lo[t] = s.lo;
        }
        __syncthreads();
    }
    return {tree_hi[threadIdx.x], tree_lo[threadIdx.x]};
}

template <class S>
__global__ void __launch_bounds__(kThreads)
prelu_backward_partial_kernel(const S *x, const S *slope, const S *dy, S *dx, StructuredCompute<S> *partial_hi,
                              StructuredCompute<S> *partial_lo, size_t outer, size_t channels, size_t inner,
                              size_t rows_per_split)
{
    using T = StorageTraits<S>;
    using C = StructuredCompute<S>;
    constexpr bool kExactProducts = sizeof(S) == 2;
    __shared__ C tree_hi[kThreads], tree_lo[kThreads];
    const size_t columns = channels * inner;
    const size_t j = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    const size_t split = blockIdx.y, row_begin = split * rows_per_split;
    const size_t row_end = row_begin + rows_per_split < outer ? row_begin + rows_per_split : outer;
    Compensated<C> sum = Compensated<C>::zero();
    if (j < columns) {
        const C a = (C)T::load(slope[j / inner]);
        const size_t step = blockDim.y;
        for (size_t row0 = row_begin + threadIdx.y; row0 < row_end; row0 += kBackwardBatch * step) {
            /* the batch's loads first (dx may alias x or dy: each element is
             * still read before its own write), then the rows in order: the
             * same sum as one row at a time */
            S raw_x[kBackwardBatch], raw_dy[kBackwardBatch];
#pragma unroll
            for (int k = 0; k < kBackwardBatch; ++k) {
                const size_t row = row0 + k * step;
                if (row < row_end) {
                    raw_x[k] = x[row * columns + j];
                    raw_dy[k] = dy[row * columns + j];
                }
            }
#pragma unroll
            for (int k = 0; k < kBackwardBatch; ++k) {
                const size_t row = row0 + k * step;
                if (row >= row_end) break;
                const C v = (C)T::load(raw_x[k]), g = (C)T::load(raw_dy[k]);
                sum = add_slope_term<C, kExactProducts>(sum, v, g);
                dx[row * columns + j] = T::store(v != v ? v : (v > C(0) ? g : a * g));
            }
        }
    }
    if (blockDim.y > 1) sum = sum_over_block_rows(sum, tree_hi, tree_lo); /* uniform over the block */
    if (threadIdx.y == 0 && j < columns) {
        partial_hi[split * columns + j] = sum.hi;
        partial_lo[split * columns + j] = sum.lo;
    }
}

template <class S>
__global__ void __launch_bounds__(kThreads)
prelu_slope_reduce_kernel(const StructuredCompute<S> *partial_hi, const StructuredCompute<S> *partial_lo, S *dslope,
                          size_t channels, size_t inner, size_t splits)
{
    using C = StructuredCompute<S>;
    __shared__ C tree_hi[kThreads], tree_lo[kThreads];
    const size_t columns = channels * inner, per_channel = splits * inner;
    for (size_t c = blockIdx.x; c < channels; c += gridDim.x) {
        Compensated<C> sum = Compensated<C>::zero();
        IndexWalk entry(threadIdx.x, blockDim.x, inner); /* entry t is (split q, inner index r) */
        for (size_t t = threadIdx.x; t < per_channel; t += blockDim.x, entry.advance()) {
            const size_t k = entry.q * columns + c * inner + entry.r;
            sum = sum.plus(Compensated<C>{partial_hi[k], partial_lo[k]});
        }
        tree_hi[threadIdx.x] = sum.hi;
        tree_lo[threadIdx.x] = sum.lo;
        __syncthreads();
        for (int half = kThreads / 2; half > 0; half /= 2) {
            if ((int)threadIdx.x < half) {
                const Compensated<C> s = Compensated<C>{tree_hi[threadIdx.x], tree_lo[threadIdx.x]}.plus(
                    Compensated<C>{tree_hi[threadIdx.x + half], tree_lo[threadIdx.x + half]});
                tree_hi[threadIdx.x] = s.hi;
                tree_lo[threadIdx.x] = s.lo;
            }
            __syncthreads();
        }
        if (threadIdx.x == 0) dslope[c] = StorageTraits<S>::store(Compensated<C>{tree_hi[0], tree_lo[0]}.value());
        __syncthreads();
    }
}

} // namespace
} // namespace actk

extern "C" cudaError_t actk_launch_prelu_forward(actk_dtype dtype, size_t outer, size_t channels, size_t inner,
                                                 const void *x, const void *slope, void *y, int sm_count,
                                                 cudaStream_t stream)
{
    const size_t total = outer * channels * inner;
    return actk::dispatch_dtype(dtype, [&](auto tag) {
        using S = decltype(tag);
        /* threads for kForwardBatch elements each: one per element would leave the batch empty */
        const unsigned grid =
            actk::grid_for((total + actk::kForwardBatch - 1) / actk::kForwardBatch, actk::kThreads, sm_count);
        actk::prelu_forward_kernel<S><<<grid, actk::kThreads, 0, stream>>>(
            static_cast<const S *>(x), static_cast<const S *>(slope), static_cast<S *>(y), total, channels, inner);
        return cudaGetLastError();
    });
}

extern "C" cudaError_t actk_launch_prelu_backward(actk_dtype dtype, size_t outer, size_t channels, size_t inner,
                                                  const void *x, const void *slope, const void *dy, void *dx,
                                                  void *dslope, void *workspace, const actk_prelu_plan *plan,
                                                  int sm_count, cudaStream_t stream)
{
    return actk::dispatch_dtype(dtype, [&](auto tag) {
        using S = decltype(tag);
        using C = actk::StructuredCompute<S>;
        C *hi = static_cast<C *>(workspace), *lo = hi + plan->partials;
        const dim3 grid((unsigned)plan->grid_x, (unsigned)plan->splits),
            block((unsigned)plan->block_x, (unsigned)plan->block_y);
        actk::prelu_backward_partial_kernel<S><<<grid, block, 0, stream>>>(
            static_cast<const S *>(x), static_cast<const S *>(slope), static_cast<const S *>(dy), static_cast<S *>(dx),
            hi, lo, outer, channels, inner, plan->rows_per_split);
        cudaError_t err = cudaGetLastError();
        if (err != cudaSuccess) return err;
        const unsigned reduce_blocks = (unsigned)(channels < (size_t)sm_count * 16 ? channels : (size_t)sm_count * 16);
        actk::prelu_slope_reduce_kernel<S><<<reduce_blocks, actk::kThreads, 0, stream>>>(
            hi, lo, static_cast<S *>(dslope), channels, inner, plan->splits);
        return cudaGetLastError();
    });
}
