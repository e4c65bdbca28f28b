// SPDX-License-Identifier: MIT
/*
 * cross_entropy.cu - the fused softmax cross-entropy (actk.h): per row of
 * logits, the loss, the log-sum-exp and the gradient with respect to the
 * logits, with ignore_index, label smoothing, z-loss and soft-cap; then,
 * for SUM and MEAN, a fixed-order sum of the rows' losses.
 *
 * Kernels, in stream order (the math is cross_entropy_math.cuh's):
 *  - cross_entropy_count_kernel (MEAN only): one block counts the
 *    non-ignored rows into the workspace header (an integer sum: any order
 *    gives the same count). The row kernels need it before they write a
 *    gradient, so it runs first.
 *  - cross_entropy_cached_kernel, for rows whose floats fit the device's
 *    opt-in shared memory (classes x 4 bytes, x 8 with the soft-cap): a
 *    block of kCeThreads per row, a persistent grid (blocks the device
 *    holds at once) walking the rows, thread k taking columns k, k +
 *    blockDim, ... in every pass. Pass 1 reads the row once from global
 *    memory, keeps the (capped) logit z as float in shared memory (and
 *    dz/dx with the cap: the tanh is computed once per logit) and takes
 *    the row max and the logits' sum; a block max. Pass 2 turns each
 *    cached z into e^(z - max), the one exponential per logit, summed
 *    (float-float) and kept in place; a fixed-order block merge (warp
 *    butterflies, then warp 0 over the warps' results). Thread 0 writes
 *    the loss (to `loss` for NONE, to the workspace otherwise) and lse, and
 *    sets the error flag for a bad target. Pass 3 writes the gradient from
 *    the cached e (p = e / sum). The logits are read once and the gradient
 *    written once.
 *  - cross_entropy_row_kernel, for longer rows: the same block and grid.
 *    Pass 1 reads the row and accumulates the softmax's online (max, rest)
 *    (one exponential per logit) and the logits' sum, merged as above;
 *    pass 2 re-reads the row and computes p = e^(z - lse) (a second
 *    exponential). So long rows are read twice (256K classes of f32 is
 *    1 MiB, beyond any block's shared memory).
 *  - cross_entropy_reduce_kernel (SUM, MEAN): one block of
 *    kCeReduceThreads sums the rows' losses in the order of ce_partial_sum
 *    and a halving tree, and writes the one loss.
 * Instantiated per storage type and soft-cap on/off (the cap's tanh and
 * sech^2 are most of a column's work; the plain kernel does not carry them).
 * Launch limits: grids are 1-dimensional and capped at the resident block
 * count; rows and columns are size_t throughout (64-bit offsets).
 * In place (grad == logits, same ld): each column is read in pass 1 by the
 * thread that writes it in the last pass, after the block merges'
 * barriers; the target's logit is read by thread 0 in pass 1. Every cached
 * column is written and read by the one thread that owns it, so the cache
 * needs no barrier of its own. The barriers of the merges are reached by
 * every thread of the block (no divergent __syncthreads).
 * Preconditions (checked on the host): rows > 0, classes > 0, spans fit,
 * pointers aligned, grad == logits or disjoint, workspace large enough.
 */
#include "cross_entropy_launch.h"
#include "cross_entropy_math.cuh"
#include "elementwise_engine.cuh" /* StorageTraits */
#include "launch_cache.cuh"

#include <string.h>

namespace actk {
namespace {

constexpr int kWarp = 32;

template <class V> __device__ __forceinline__ V shfl_xor(V v, int offset)
{
    static_assert(sizeof(V) % 4 == 0, "shuffled in 32-bit words");
    unsigned words[sizeof(V) / 4];
    memcpy(words, &v, sizeof(V));
#pragma unroll
    for (int k = 0; k < (int)(sizeof(V) / 4); ++k) words[k] = __shfl_xor_sync(0xffffffffu, words[k], offset);
    memcpy(&v, words, sizeof(V));
    return v;
}

__device__ __forceinline__ CeAcc warp_merge(CeAcc a)
{
#pragma unroll
    for (int offset = kWarp / 2; offset > 0; offset /= 2) a = ce_acc_merge(a, shfl_xor(a, offset));
    return a;
}

/* The row's merged statistics and thread 0's target logit, for every
 * thread. The first barrier keeps the scratch of the previous row from
 * being overwritten while it is still read. Every thread reaches each
 * barrier. */
struct CeShared {
    CeAcc warps[kCeThreads / kWarp];
    CeAcc row;
    float z_t;
};

__device__ CeAcc block_merge(CeAcc a, float z_t, CeShared &sh, float *z_t_out)
{
    a = warp_merge(a);
    const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
    __syncthreads();
    if (lane == 0) sh.warps[warp] = a;
    if (threadIdx.x == 0) sh.z_t = z_t;
    __syncthreads();
    if (warp == 0) {
        CeAcc t = lane < (int)(blockDim.x / kWarp) ? sh.warps[lane] : ce_acc_empty();
        t = warp_merge(t);
        if (lane == 0) sh.row = t;
    }
    __syncthreads();
    *z_t_out = sh.z_t;
    return sh.row;
}

__device__ __forceinline__ long long target_at(const void *targets, bool i64, size_t row)
{
    return i64 ? (long long)static_cast<const long long *>(targets)[row] : (long long)static_cast<const int *>(targets)[row];
}

/* The capped logit; without a cap (kCap false) the cap code is not compiled
 * in at all (it is most of a column's instructions). */
template <bool kCap> __device__ __forceinline__ CeLogit logit(float x, float cap)
{
    if (kCap) return ce_logit(x, cap);
    return {x, 1.0f};
}

/* Row state: 0 normal, 1 ignored, 2 target out of range. */
__device__ __forceinline__ int row_state(long long t, const CeConfig &c)
{
    if (t == c.ignore_index) return 1;
    return (t < 0 || (unsigned long long)t >= c.classes) ? 2 : 0;
}

template <class S>
__global__ void __launch_bounds__(kCeThreads) cross_entropy_count_kernel(const void *targets, bool i64, size_t rows,
                                                                          CeConfig c, unsigned long long *count)
{
    __shared__ unsigned long long partial[kCeThreads];
    unsigned long long n = 0;
    for (size_t r = threadIdx.x; r < rows; r += blockDim.x) n += target_at(targets, i64, r) != c.ignore_index;
    partial[threadIdx.x] = n;
    __syncthreads();
    for (int half = kCeThreads / 2; half > 0; half /= 2) {
        if ((int)threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
        __syncthreads();
    }
    if (threadIdx.x == 0) *count = partial[0];
}

/* row_loss: `loss` for NONE, the workspace's per-row array otherwise.
 * count: the workspace header for MEAN, else NULL. */
template <class S, bool kCap>
__global__ void __launch_bounds__(kCeThreads)
    cross_entropy_row_kernel(const S *logits, size_t ld, const void *targets, bool i64, size_t rows, CeConfig c, float *row_loss,
                             float *lse, S *grad, size_t ldgrad, int *error_flag,
                             const unsigned long long *count)
{
    using T = StorageTraits<S>;
    __shared__ CeShared sh;
    const size_t classes = (size_t)c.classes;
    const bool smoothing = c.eps > 0.0f;
    const float scale = ce_grad_scale(c, count ? *count : 0);
    for (size_t row = blockIdx.x; row < rows; row += gridDim.x) {
        const S *x = logits + row * ld;
        const long long t = target_at(targets, i64, row);
        const int state = row_state(t, c);
        CeAcc acc = ce_acc_empty();
        for (size_t j = threadIdx.x; j < classes; j += blockDim.x) {
            ce_acc_add(acc, logit<kCap>(T::load(x[j]), c.cap).z, smoothing);
        }
        const float z_t_own = threadIdx.x == 0 && state == 0 ? logit<kCap>(T::load(x[(size_t)t]), c.cap).z : 0.0f;
        float z_t;
        acc = block_merge(acc, z_t_own, sh, &z_t);
        const CeRow r = ce_row(acc, z_t, state, c, scale);
        if (threadIdx.x == 0) {
            row_loss[row] = r.loss;
            if (lse) lse[row] = r.lse.hi + r.lse.lo;
            if (state == 2 && error_flag) atomicExch(error_flag, 1); /* many blocks may report: an atomic store */
        }
        if (grad) {
            S *g = grad + row * ldgrad;
            for (size_t j = threadIdx.x; j < classes; j += blockDim.x) {
                const CeLogit l = logit<kCap>(T::load(x[j]), c.cap);
                g[j] = T::store(ce_grad(l, state == 0 && (long long)j == t, r));
            }
        }
    }
}

/* The cached kernel's block reductions: the row max, then pass 2's sums
 * with thread 0's target logit. Each starts with a barrier, so the scratch
 * of the previous reduction (or row) is no longer read when it is
 * overwritten; every thread reaches every barrier. */
struct CeCachedShared {
    float warp_max[kCeThreads / kWarp];
    CeExpSum warp_sum[kCeThreads / kWarp];
    float max;
    CeExpSum sum;
    float z_t;
};

__device__ __forceinline__ float warp_max(float m)
{
#pragma unroll
    for (int offset = kWarp / 2; offset > 0; offset /= 2) m = nan_max(m, __shfl_xor_sync(0xffffffffu, m, offset));
    return m;
}

__device__ float block_max(float m, CeCachedShared &sh)
{
    m = warp_max(m);
    const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
    __syncthreads();
    if (lane == 0) sh.warp_max[warp] = m;
    __syncthreads();
    if (warp == 0) {
        float t = lane < (int)(blockDim.x / kWarp) ? sh.warp_max[lane] : -INFINITY;
        t = warp_max(t);
        if (lane == 0) sh.max = t;
    }
    __syncthreads();
    return sh.max;
}

__device__ __forceinline__ CeExpSum warp_sum(CeExpSum a)
{
#pragma unroll
    for (int offset = kWarp / 2; offset > 0; offset /= 2) a = ce_exp_sum_merge(a, shfl_xor(a, offset));
    return a;
}

__device__ CeExpSum block_sum(CeExpSum a, float z_t, CeCachedShared &sh, float *z_t_out)
{
    a = warp_sum(a);
    const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
    __syncthreads();
    if (lane == 0) sh.warp_sum[warp] = a;
    if (threadIdx.x == 0) sh.z_t = z_t;
    __syncthreads();
    if (warp == 0) {
        CeExpSum t = lane < (int)(blockDim.x / kWarp) ? sh.warp_sum[lane] : ce_exp_sum_empty();
        t = warp_sum(t);
        if (lane == 0) sh.sum = t;
    }
    __syncthreads();
    *z_t_out = sh.z_t;
    return sh.sum;
}

/* Dynamic shared memory: `classes` floats (z, then e), then with the cap
 * `classes` floats of dz/dx. row_loss, count: as for the row kernel. */
template <class S, bool kCap>
__global__ void __launch_bounds__(kCeThreads)
    cross_entropy_cached_kernel(const S *logits, size_t ld, const void *targets, bool i64, size_t rows, CeConfig c,
                                float *row_loss, float *lse, S *grad, size_t ldgrad, int *error_flag,
                                const unsigned long long *count)
{
    using T = StorageTraits<S>;
    extern __shared__ float ce_cache[];
    /* a cached row fits in shared memory: 32-bit column indices (fewer
     * instructions per column than size_t) */
    const unsigned classes = (unsigned)c.classes;
    float *dzdx = ce_cache + classes; /* used with the cap only */
    __shared__ CeCachedShared sh;
    const bool smoothing = c.eps > 0.0f;
    const float scale = ce_grad_scale(c, count ? *count : 0);
    for (size_t row = blockIdx.x; row < rows; row += gridDim.x) {
        const S *x = logits + row * ld;
        const long long t = target_at(targets, i64, row);
        const int state = row_state(t, c);
        /* pass 1: z once (the cap's tanh and sech^2 here only), the max, the logits' sum */
        float m = -INFINITY;
        CeExpSum s = ce_exp_sum_empty();
        const S *xj = x + threadIdx.x; /* stepped with j: no 64-bit index arithmetic per column */
        for (unsigned j = threadIdx.x; j < classes; j += blockDim.x, xj += blockDim.x) {
            const CeLogit l = logit<kCap>(T::load(*xj), c.cap);
            ce_cache[j] = l.z;
            if (kCap) dzdx[j] = l.dzdx;
            ce_max_add(m, s.sum_z, l.z, smoothing);
        }
        const float z_t_own = threadIdx.x == 0 && state == 0 ? logit<kCap>(T::load(x[(size_t)t]), c.cap).z : 0.0f;
        const float max = block_max(m, sh);
        /* pass 2: e' = 2^48 e^(z - max) once per column, summed and kept (block-uniform branch) */
        if (max > -INFINITY && max < INFINITY)
            for (unsigned j = threadIdx.x; j < classes; j += blockDim.x) ce_cache[j] = ce_exp_add(s, ce_cache[j], max);
        float z_t;
        const CeExpSum total = block_sum(s, z_t_own, sh, &z_t);
        const CeRow r = ce_row(ce_acc_from_exp_sum(max, total), z_t, state, c, scale);
        if (threadIdx.x == 0) {
            row_loss[row] = r.loss;
            if (lse) lse[row] = r.lse.hi + r.lse.lo;
            if (state == 2 && error_flag) atomicExch(error_flag, 1); /* many blocks may report: an atomic store */
        }
        /* pass 3: the gradient from the cached e (a row with a non-finite
         * max still holds z there: ce_grad_cached gives NaN for it) */
        if (grad) {
            const unsigned target_column = state == 0 ? (unsigned)t : classes; /* classes: no column */
            S *gj = grad + row * ldgrad + threadIdx.x;
            if (ce_grad_cached_is_plain(r)) { /* block-uniform: the common case without per-column tests */
                const float g_target = ce_grad_cached(0.0f, z_t, kCap ? dzdx[target_column] : 1.0f, true, r);
                for (unsigned j = threadIdx.x; j < classes; j += blockDim.x, gj += blockDim.x) {
                    const float g = ce_grad_plain(ce_cache[j], kCap ? dzdx[j] : 1.0f, r);
                    *gj = T::store(j == target_column ? g_target : g);
                }
            } else {
                for (unsigned j = threadIdx.x; j < classes; j += blockDim.x, gj += blockDim.x)
                    *gj = T::store(ce_grad_cached(ce_cache[j], z_t, kCap ? dzdx[j] : 1.0f, j == target_column, r));
            }
        }
    }
}

template <class S>
__global__ void __launch_bounds__(kCeReduceThreads)
    cross_entropy_reduce_kernel(const float *row_loss, size_t rows, int mean, const unsigned long long *count,
                                float *loss)
{
    __shared__ Compensated<float> partial[kCeReduceThreads];
    partial[threadIdx.x] = ce_partial_sum(row_loss, rows, threadIdx.x);
    __syncthreads();
    for (int half = kCeReduceThreads / 2; half > 0; half /= 2) {
        if ((int)threadIdx.x < half) partial[threadIdx.x] = ce_tree_step(partial[threadIdx.x], partial[threadIdx.x + half]);
        __syncthreads();
    }
    if (threadIdx.x == 0) *loss = ce_finish(partial[0], mean, mean ? *count : 0);
}

template <class S, bool kCap> cudaError_t launch_typed(const actk_ce_launch_args *a, const actk_device_facts *device,
                                                       cudaStream_t stream, actk_ce_launch *info)
{
    const CeConfig c = {a->options.label_smoothing, a->options.z_loss, a->options.softcap, a->options.grad_scale,
                        a->options.ignore_index, (unsigned long long)a->classes,
                        a->options.reduction == ACTK_REDUCTION_MEAN};
    const bool reduce = a->options.reduction != ACTK_REDUCTION_NONE;
    const bool i64 = a->target_type == ACTK_INDEX_I64;
    unsigned long long *count = nullptr;
    float *row_loss = a->loss;
    if (reduce) {
        count = reinterpret_cast<unsigned long long *>(a->workspace);
        row_loss = reinterpret_cast<float *>(static_cast<unsigned char *>(a->workspace) + ACTK_CE_WORKSPACE_HEADER);
    }
    if (c.mean) { /* also for no rows: the sum needs the count (0) */
        cross_entropy_count_kernel<S><<<1, kCeThreads, 0, stream>>>(a->targets, i64, a->rows, c, count);
        const cudaError_t err = cudaGetLastError();
        if (err != cudaSuccess) return err;
    }
    if (a->rows > 0) {
        /* the cached kernel where the row's floats fit the opt-in shared memory */
        const void *cached_kernel = (const void *)cross_entropy_cached_kernel<S, kCap>;
        size_t allowed = 0;
        cudaError_t err = dynamic_smem_limit(cached_kernel, *device, &allowed);
        if (err != cudaSuccess) return err;
        const size_t floats_per_column = kCap ? 2 : 1;
        const bool cached = a->classes <= allowed / (floats_per_column * sizeof(float));
        const void *kernel = cached ? cached_kernel : (const void *)cross_entropy_row_kernel<S, kCap>;
        const size_t dynamic = cached ? a->classes * floats_per_column * sizeof(float) : 0;
        unsigned grid = 1;
        err = resident_grid(kernel, *device, kCeThreads, dynamic, a->rows, &grid);
        if (err != cudaSuccess) return err;
        const S *logits = static_cast<const S *>(a->logits);
        S *grad = static_cast<S *>(a->grad);
        const unsigned long long *row_count = c.mean ? count : nullptr;
        if (cached)
            cross_entropy_cached_kernel<S, kCap><<<grid, kCeThreads, dynamic, stream>>>(
                logits, a->ld, a->targets, i64, a->rows, c, row_loss, a->lse, grad, a->ldgrad, a->error_flag, row_count);
        else
            cross_entropy_row_kernel<S, kCap><<<grid, kCeThreads, 0, stream>>>(
                logits, a->ld, a->targets, i64, a->rows, c, row_loss, a->lse, grad, a->ldgrad, a->error_flag, row_count);
        err = cudaGetLastError();
        if (err != cudaSuccess) return err;
        info->grid = grid;
        info->dynamic_smem = dynamic;
        info->cached = cached;
    }
    if (reduce) {
        cross_entropy_reduce_kernel<S><<<1, kCeReduceThreads, 0, stream>>>(row_loss, a->rows, c.mean, count, a->loss);
        const cudaError_t err = cudaGetLastError();
        if (err != cudaSuccess) return err;
    }
    return cudaSuccess;
}

template <class S> cudaError_t launch_dtype(const actk_ce_launch_args *a, const actk_device_facts *device,
                                            cudaStream_t stream, actk_ce_launch *info)
{
    return a->options.softcap > 0.0f ? launch_typed<S, true>(a, device, stream, info)
                                     : launch_typed<S, false>(a, device, stream, info);
}

} // namespace
} // namespace actk

extern "C" cudaError_t actk_launch_cross_entropy(const actk_ce_launch_args *args, const actk_device_facts *device,
                                                 cudaStream_t stream, actk_ce_launch *launch)
{
    *launch = actk_ce_launch{0, 0, 0};
    switch (args->dtype) {
    case ACTK_F32: return actk::launch_dtype<float>(args, device, stream, launch);
    case ACTK_F16: return actk::launch_dtype<__half>(args, device, stream, launch);
    case ACTK_BF16: return actk::launch_dtype<__nv_bfloat16>(args, device, stream, launch);
    default: break;
    }
    return cudaErrorInvalidValue;
}
