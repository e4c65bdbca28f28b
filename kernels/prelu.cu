/*
 * prelu.cu - PReLU with learnable per-channel slopes on an
 * (outer, channels, inner) tensor.
 *
 * Forward: y = x > 0 ? x : slope[c] * x, a grid-stride loop over elements.
 * Backward, two deterministic passes (no atomics), planned on the host
 * (actk_prelu_make_plan):
 *  1a. few channels (<= 8) and few columns (< 256, e.g. nn.PReLU()'s single
 *     slope on an (N, features) tensor): prelu_backward_chunk_kernel, block
 *     b takes a contiguous range of elements (coalesced), keeps one double
 *     per channel per thread, and reduces them in a fixed tree into
 *     workspace[b * channels + c];
 *  1b. otherwise prelu_backward_partial_kernel: the tensor is seen as `outer` rows of
 *     J = channels * inner columns. Thread (j, split s) walks the rows of
 *     slice s for column j: writes dx and sums x * dy where x <= 0 into a
 *     double, stored at workspace[s * J + j]. Adjacent threads take adjacent
 *     columns, so every access is coalesced.
 *  2. prelu_slope_reduce_kernel: one block per channel sums its
 *     splits * inner partials in a fixed order (fixed per-thread strides,
 *     then a fixed tree) and rounds once into dslope[c]; the chunk plan's
 *     partials have the same layout with inner = 1.
 * The host picks `splits` (actk_cuda_prelu_backward_workspace_size) so that
 * pass 1 has about 2^20 threads when the shape allows it.
 */
#include "dtype_dispatch.cuh"
#include "structured_launch.h"
#include "../host/structured_args.h" /* ACTK_PRELU_CHUNK_MAX_CHANNELS: the host plans, the kernel follows */

namespace actk {
namespace {

constexpr int kThreads = 256;

template <class S>
__global__ void prelu_forward_kernel(const S *x, const S *slope, S *y, size_t total, size_t channels, size_t inner)
{
    using T = StorageTraits<S>;
    using C = typename T::Compute;
    const size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t idx = (size_t)blockIdx.x * blockDim.x + threadIdx.x; idx < total; idx += stride) {
        const C v = T::load(x[idx]);
        y[idx] = T::store(v > C(0) ? v : T::load(slope[(idx / inner) % channels]) * v);
    }
}

template <class S>
__global__ void prelu_backward_partial_kernel(const S *x, const S *slope, const S *dy, S *dx, double *partials,
                                              size_t outer, size_t channels, size_t inner, size_t rows_per_split)
{
    using T = StorageTraits<S>;
    using C = typename T::Compute;
    const size_t columns = channels * inner;
    const size_t j = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    const size_t split = blockIdx.y;
    if (j >= columns) return;
    const C a = T::load(slope[j / inner]);
    const size_t row_end = (split + 1) * rows_per_split < outer ? (split + 1) * rows_per_split : outer;
    double sum = 0.0;
    for (size_t row = split * rows_per_split; row < row_end; ++row) {
        const size_t idx = row * columns + j;
        const C v = T::load(x[idx]), g = T::load(dy[idx]);
        if (!(v > C(0))) sum += (double)v * (double)g;
        dx[idx] = T::store(v != v ? v : (v > C(0) ? g : a * g));
    }
    partials[split * columns + j] = sum;
}

constexpr int kChunkMaxChannels = ACTK_PRELU_CHUNK_MAX_CHANNELS;

template <class S>
__global__ void __launch_bounds__(kThreads) prelu_backward_chunk_kernel(const S *x, const S *slope, const S *dy, S *dx,
                                                                       double *partials, size_t total, size_t channels,
                                                                       size_t inner, size_t chunk)
{
    using T = StorageTraits<S>;
    using C = typename T::Compute;
    __shared__ double tree[kThreads];
    double acc[kChunkMaxChannels];
#pragma unroll
    for (int c = 0; c < kChunkMaxChannels; ++c) acc[c] = 0.0;
    const size_t begin = (size_t)blockIdx.x * chunk, end = begin + chunk < total ? begin + chunk : total;
    for (size_t idx = begin + threadIdx.x; idx < end; idx += blockDim.x) {
        const size_t c = (idx / inner) % channels;
        const C v = T::load(x[idx]), g = T::load(dy[idx]);
        const C a = T::load(slope[c]);
        const double contribution = v > C(0) ? 0.0 : (double)v * (double)g;
#pragma unroll
        for (int k = 0; k < kChunkMaxChannels; ++k) acc[k] += (size_t)k == c ? contribution : 0.0; /* registers, no local memory */
        dx[idx] = T::store(v != v ? v : (v > C(0) ? g : a * g));
    }
    for (size_t c = 0; c < channels; ++c) {
        double mine = 0.0;
#pragma unroll
        for (int k = 0; k < kChunkMaxChannels; ++k) mine = (size_t)k == c ? acc[k] : mine;
        tree[threadIdx.x] = mine;
        __syncthreads();
        for (int half = kThreads / 2; half > 0; half /= 2) {
            if ((int)threadIdx.x < half) tree[threadIdx.x] += tree[threadIdx.x + half];
            __syncthreads();
        }
        if (threadIdx.x == 0) partials[(size_t)blockIdx.x * channels + c] = tree[0];
        __syncthreads();
    }
}

template <class S>
__global__ void __launch_bounds__(kThreads) prelu_slope_reduce_kernel(const double *partials, S *dslope, size_t channels,
                                                                      size_t inner, size_t splits)
{
    __shared__ double tree[kThreads];
    const size_t columns = channels * inner, per_channel = splits * inner;
    for (size_t c = blockIdx.x; c < channels; c += gridDim.x) {
        double sum = 0.0;
        for (size_t t = threadIdx.x; t < per_channel; t += blockDim.x)
            sum += partials[(t / inner) * columns + c * inner + t % inner];
        tree[threadIdx.x] = sum;
        __syncthreads();
        for (int half = kThreads / 2; half > 0; half /= 2) {
            if ((int)threadIdx.x < half) tree[threadIdx.x] += tree[threadIdx.x + half];
            __syncthreads();
        }
        if (threadIdx.x == 0) dslope[c] = StorageTraits<S>::store((typename StorageTraits<S>::Compute)tree[0]);
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
        actk::prelu_forward_kernel<S><<<actk::grid_for(total, actk::kThreads, sm_count), actk::kThreads, 0, stream>>>(
            static_cast<const S *>(x), static_cast<const S *>(slope), static_cast<S *>(y), total, channels, inner);
        return cudaGetLastError();
    });
}

extern "C" cudaError_t actk_launch_prelu_backward(actk_dtype dtype, size_t outer, size_t channels, size_t inner,
                                                  const void *x, const void *slope, const void *dy, void *dx,
                                                  void *dslope, double *workspace, int chunked, size_t splits,
                                                  int sm_count, cudaStream_t stream)
{
    const size_t columns = channels * inner, total = outer * columns;
    return actk::dispatch_dtype(dtype, [&](auto tag) {
        using S = decltype(tag);
        const S *xs = static_cast<const S *>(x), *as = static_cast<const S *>(slope), *gs = static_cast<const S *>(dy);
        S *dxs = static_cast<S *>(dx);
        if (chunked) {
            const size_t chunk = (total + splits - 1) / splits;
            actk::prelu_backward_chunk_kernel<S><<<(unsigned)splits, actk::kThreads, 0, stream>>>(xs, as, gs, dxs, workspace, total,
                                                                                               channels, inner, chunk);
        } else {
            const size_t rows_per_split = (outer + splits - 1) / splits;
            const dim3 grid((unsigned)((columns + actk::kThreads - 1) / actk::kThreads), (unsigned)splits);
            actk::prelu_backward_partial_kernel<S><<<grid, actk::kThreads, 0, stream>>>(xs, as, gs, dxs, workspace, outer, channels,
                                                                                       inner, rows_per_split);
        }
        cudaError_t err = cudaGetLastError();
        if (err != cudaSuccess) return err;
        /* the chunk plan's partials are [block][channel]: the column layout with inner = 1 */
        const size_t reduce_inner = chunked ? 1 : inner;
        const unsigned reduce_blocks = (unsigned)(channels < (size_t)sm_count * 16 ? channels : (size_t)sm_count * 16);
        actk::prelu_slope_reduce_kernel<S><<<reduce_blocks, actk::kThreads, 0, stream>>>(workspace, static_cast<S *>(dslope),
                                                                                          channels, reduce_inner, splits);
        return cudaGetLastError();
    });
}
