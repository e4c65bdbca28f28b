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
 *    opt-in shared memory (ce_cache_plane(classes) floats, twice that
 *    with the soft-cap: classes rounded up to whole packs of 4): a
 *    block of kCeThreads per row, a persistent grid (blocks the device
 *    holds at once) walking the rows, each thread owning the same columns
 *    in every pass (ce_column_owner): packs of 4 (one 16-byte f32 or 8-byte
 *    f16/bf16 access) where the logits and the gradient are aligned, with
 *    pass 1's loads issued in batches of 64 bytes per thread before use so
 *    that one block per SM keeps enough loads in flight; column by column
 *    otherwise (batches of 8). Pass 1 reads the row once from global
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
 *  - cross_entropy_cluster_kernel, for longer rows on GPUs with
 *    thread-block clusters (sm_90+, chosen up front from the device facts
 *    and the kernel's PTX version): a cluster of 2 to 8 blocks per row
 *    (the smallest whose chunks fit; 256K f32 classes take 5 blocks on an
 *    H100; chunks start on pack boundaries), each block running the cached
 *    kernel's three passes on its chunk of the row, the block maxima and then the block sums exchanged
 *    through distributed shared memory and folded in rank order (the same
 *    bits on every run). Logits read once, gradient written once. A grid
 *    of the clusters the device holds at once (cudaOccupancyMaxActiveClusters;
 *    size and count memoised per kernel, device and row length) walks the
 *    rows.
 *  - cross_entropy_row_kernel, for rows no cluster can cache, and long rows
 *    on older GPUs (or with clusters off): the same block and grid as the
 *    cached kernel. Pass 1 reads the row, keeping the raw logits (S, half
 *    the floats' bytes for bf16/f16) in dynamic shared memory when the row
 *    fits the opt-in limit, and accumulates the softmax's online
 *    (max, rest) (one exponential per logit) and the logits' sum, merged as
 *    above; pass 2 computes p = e^(z - lse) (a second exponential) from the
 *    raw cache, or re-reads the row when it did not fit. So only rows
 *    beyond the raw cache are read twice (256K classes of f32 is 1 MiB,
 *    beyond any block's shared memory). The launcher's order: cached
 *    kernel (floats fit), cluster kernel (sm_90+), row kernel with the raw
 *    cache (S fits), row kernel streamed.
 *  - cross_entropy_reduce_kernel (SUM, MEAN): one block of
 *    kCeReduceThreads sums the rows' losses in the order of ce_partial_sum
 *    and a halving tree, and writes the one loss.
 * Instantiated per storage type and soft-cap on/off (the cap's tanh and
 * sech^2 are most of a column's work; the plain kernel does not carry them).
 * Launch limits: grids are 1-dimensional and capped at the resident block
 * (cluster) count; rows and columns are size_t throughout (64-bit offsets).
 * In place (grad == logits, same ld): each column is read in pass 1 by the
 * thread that writes it in the last pass, after the block merges'
 * barriers (and, in a cluster, after both cluster.syncs: every block's
 * thread 0 reads the target's logit in pass 1, before any block writes);
 * the target's logit is read by thread 0 in pass 1. Every cached
 * column is written and read by the one thread that owns it, so the cache
 * needs no barrier of its own (nor does the row kernel's raw cache).
 * The barriers of the merges are reached by every thread of the block (no
 * divergent __syncthreads).
 * Preconditions (checked on the host): rows > 0, classes > 0, spans fit,
 * pointers aligned, grad == logits or disjoint, workspace large enough.
 */
#include "cross_entropy_launch.h"
#include "cross_entropy_math.cuh"
#include "elementwise_engine.cuh" /* StorageTraits */
#include "launch_cache.cuh"

#include <cooperative_groups.h>

#include <stdint.h>
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
    return i64 ? (long long)static_cast<const long long *>(targets)[row]
               : (long long)static_cast<const int *>(targets)[row];
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
    cross_entropy_row_kernel(const S *logits, size_t ld, const void *targets, bool i64, size_t rows, CeConfig c,
                             float *row_loss, float *lse, S *grad, size_t ldgrad, int *error_flag,
                             const unsigned long long *count, bool cache_row)
{
    using T = StorageTraits<S>;
    extern __shared__ __align__(16) unsigned char ce_row_bytes[];
    S *raw = reinterpret_cast<S *>(ce_row_bytes); /* the raw row, with cache_row only */
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
            const S v = x[j];
            if (cache_row) raw[j] = v; /* block-uniform; read back in pass 2 by this same thread */
            ce_acc_add(acc, logit<kCap>(T::load(v), c.cap).z, smoothing);
        }
        const float z_t_own = threadIdx.x == 0 && state == 0 ? logit<kCap>(T::load(x[(size_t)t]), c.cap).z : 0.0f;
        float z_t;
        acc = block_merge(acc, z_t_own, sh, &z_t);
        const CeRow r = ce_row(acc, z_t, state, c, ce_row_scale(c, scale, row));
        if (threadIdx.x == 0) {
            row_loss[row] = r.loss;
            if (lse) lse[row] = r.lse.hi + r.lse.lo;
            if (state == 2 && error_flag) atomicExch(error_flag, 1); /* many blocks may report: an atomic store */
        }
        if (grad) {
            S *g = grad + row * ldgrad;
            for (size_t j = threadIdx.x; j < classes; j += blockDim.x) {
                const CeLogit l = logit<kCap>(T::load(cache_row ? raw[j] : x[j]), c.cap);
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
    CeLogit target; /* thread 0's target logit and its dz/dx */
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

__device__ CeExpSum block_sum(CeExpSum a, CeLogit target, CeCachedShared &sh, CeLogit *target_out)
{
    a = warp_sum(a);
    const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
    __syncthreads();
    if (lane == 0) sh.warp_sum[warp] = a;
    if (threadIdx.x == 0) sh.target = target;
    __syncthreads();
    if (warp == 0) {
        CeExpSum t = lane < (int)(blockDim.x / kWarp) ? sh.warp_sum[lane] : ce_exp_sum_empty();
        t = warp_sum(t);
        if (lane == 0) sh.sum = t;
    }
    __syncthreads();
    *target_out = sh.target;
    return sh.sum;
}

/* The cached and cluster kernels are compiled for 2 resident blocks per SM
 * (at most 64 registers): pass 1's batched loads and pass 2's packs take
 * 48-59 registers; at 3 blocks (40 registers) ptxas spills 12-80 bytes in
 * the kernels without the cap (those with the cap would fit), and 3 blocks
 * of 512 threads do not fit sm_75 at all. 2 blocks of 16 warps with 64
 * bytes of loads in flight per thread keep 64 KiB in flight per SM. */
constexpr int kCeCachedMinBlocks = 2;

/* ---- the cached passes over one chunk of a row ------------------------------- *
 * Shared by the cached kernel (the chunk is the whole row) and the cluster
 * kernel (the chunk is one block's part of the row). Thread k takes the
 * columns ce_column_owner gives it, W at a time: W = kCePack when the
 * launcher found the chunk's start and the strides aligned to a pack (one
 * 16-byte f32 or 8-byte f16/bf16 access per pack), W = 1 otherwise; then,
 * for W > 1, one of the last n % W columns. Each cached float is written
 * and read by the thread that owns it, so the cache needs no barrier.
 * 32-bit column indices: a chunk fits one block's shared memory. */

/* W consecutive columns as one access. */
template <class S, int W> struct alignas(W * sizeof(S)) CeColumns {
    S v[W];
};

/* Packs whose loads pass 1 issues before it uses the first: 64 bytes in
 * flight per thread (4 packs of f32, 8 of f16/bf16; 8 single columns).
 * One block of 16 warps per SM (long rows) then keeps 32 KiB of loads in
 * flight, enough for the memory system (one load at a time kept 1-2 KiB). */
template <class S, int W> constexpr int kCeLoadBatch = W == 1 ? 8 : 64 / (W * (int)sizeof(S));

/* Pass 1: the logits once from global memory into `z_cache` as floats, then
 * (the same thread, the same columns) z = the (capped) logit in place (and
 * dz/dx: the cap's tanh and sech^2 here only), the thread's running max
 * (returned) and logits' sum (into s), in ascending column order. Without
 * the cap the two steps are one. */
template <class S, bool kCap, int W>
__device__ __forceinline__ float cached_pass_load(const S *x, unsigned n, float cap, bool smoothing, float *z_cache,
                                                  float *dzdx, CeExpSum &s)
{
    using T = StorageTraits<S>;
    constexpr int kBatch = kCeLoadBatch<S, W>;
    const unsigned packs = n / W, step = blockDim.x;
    const CeColumns<S, W> *xp = reinterpret_cast<const CeColumns<S, W> *>(x);
    CeColumns<float, W> *zp = reinterpret_cast<CeColumns<float, W> *>(z_cache);
    float m = -INFINITY;
    const unsigned tail = packs * W + threadIdx.x; /* W > 1: one of the last n % W columns */
    const bool has_tail = W > 1 && tail < n;
    const S tail_raw = has_tail ? x[tail] : S(); /* loaded now: in flight with the first batch */
    for (unsigned first = threadIdx.x; first < packs; first += kBatch * step) {
        CeColumns<S, W> raw[kBatch] = {}; /* defined where not loaded: no value carried across batches */
#pragma unroll
        for (int b = 0; b < kBatch; ++b) /* every load of the batch issued before the first is used */
            if (first + b * step < packs) raw[b] = xp[first + b * step];
#pragma unroll
        for (int b = 0; b < kBatch; ++b) {
            const unsigned p = first + b * step;
            if (p < packs) {
                CeColumns<float, W> v;
#pragma unroll
                for (int i = 0; i < W; ++i) {
                    v.v[i] = T::load(raw[b].v[i]);
                    if (!kCap) ce_max_add(m, s.sum_z, v.v[i], smoothing);
                }
                zp[p] = v;
            }
        }
    }
    if (has_tail) {
        z_cache[tail] = T::load(tail_raw);
        if (!kCap) ce_max_add(m, s.sum_z, z_cache[tail], smoothing);
    }
    if (kCap) { /* the cap's tanh once per column, from the cached logit */
        CeColumns<float, W> *dp = reinterpret_cast<CeColumns<float, W> *>(dzdx);
        for (unsigned p = threadIdx.x; p < packs; p += step) {
            CeColumns<float, W> z = zp[p], d;
#pragma unroll
            for (int i = 0; i < W; ++i) {
                const CeLogit l = logit<kCap>(z.v[i], cap);
                z.v[i] = l.z;
                d.v[i] = l.dzdx;
                ce_max_add(m, s.sum_z, l.z, smoothing);
            }
            zp[p] = z;
            dp[p] = d;
        }
        if (has_tail) {
            const CeLogit l = logit<kCap>(z_cache[tail], cap);
            z_cache[tail] = l.z;
            dzdx[tail] = l.dzdx;
            ce_max_add(m, s.sum_z, l.z, smoothing);
        }
    }
    return m;
}

/* Pass 2: e' = 2^48 e^(z - max) once per column, summed into s in the
 * thread's column order and kept in place (the caller skips it for a
 * non-finite max: z stays cached). */
template <int W> __device__ __forceinline__ void cached_pass_exp(float *cache, unsigned n, float max, CeExpSum &s)
{
    const unsigned packs = n / W;
    CeColumns<float, W> *cp = reinterpret_cast<CeColumns<float, W> *>(cache);
    for (unsigned p = threadIdx.x; p < packs; p += blockDim.x) {
        CeColumns<float, W> e = cp[p];
#pragma unroll
        for (int i = 0; i < W; ++i) e.v[i] = ce_exp_add(s, e.v[i], max);
        cp[p] = e;
    }
    const unsigned tail = packs * W + threadIdx.x;
    if (W > 1 && tail < n) cache[tail] = ce_exp_add(s, cache[tail], max);
}

/* The gradient of the thread's columns from the cache: grad(e, dz/dx, j). */
template <class S, bool kCap, int W, class Grad>
__device__ __forceinline__ void grad_columns(S *g, unsigned n, const float *cache, const float *dzdx, const Grad &grad)
{
    using T = StorageTraits<S>;
    const unsigned packs = n / W;
    const CeColumns<float, W> *cp = reinterpret_cast<const CeColumns<float, W> *>(cache);
    const CeColumns<float, W> *dp = reinterpret_cast<const CeColumns<float, W> *>(dzdx);
    CeColumns<S, W> *gp = reinterpret_cast<CeColumns<S, W> *>(g);
    for (unsigned p = threadIdx.x; p < packs; p += blockDim.x) {
        const CeColumns<float, W> e = cp[p];
        CeColumns<float, W> d;
#pragma unroll
        for (int i = 0; i < W; ++i) d.v[i] = 1.0f;
        if (kCap) d = dp[p];
        CeColumns<S, W> out;
#pragma unroll
        for (int i = 0; i < W; ++i) out.v[i] = T::store(grad(e.v[i], d.v[i], p * W + i));
        gp[p] = out;
    }
    const unsigned tail = packs * W + threadIdx.x;
    if (W > 1 && tail < n) g[tail] = T::store(grad(cache[tail], kCap ? dzdx[tail] : 1.0f, tail));
}

/* Pass 3: the chunk's gradient from the cached e (a row with a non-finite
 * max still holds z there: ce_grad_cached gives NaN for it). target: the
 * target's column within the chunk, n when it is not in the chunk;
 * target_logit: its z and dz/dx as thread 0 read them in pass 1 (not from
 * the cache: the column's owner may already be writing the next row's
 * dz/dx there, as no barrier separates pass 3 from the next pass 1). */
template <class S, bool kCap, int W>
__device__ __forceinline__ void cached_pass_grad(S *g, unsigned n, const float *cache, const float *dzdx,
                                                 unsigned target, CeLogit target_logit, const CeRow &r)
{
    if (ce_grad_cached_is_plain(r)) { /* block-uniform: the common case without per-column tests */
        const float g_target = target < n ? ce_grad(target_logit, true, r) : 0.0f;
        grad_columns<S, kCap, W>(g, n, cache, dzdx, [&](float e, float d, unsigned j) {
            const float v = ce_grad_plain(e, d, r);
            return j == target ? g_target : v;
        });
    } else {
        grad_columns<S, kCap, W>(g, n, cache, dzdx, [&](float e, float d, unsigned j) {
            return ce_grad_cached(e, target_logit.z, d, j == target, r);
        });
    }
}

/* The three passes' entry points for a chunk, packed or not (block-uniform). */
template <class S, bool kCap>
__device__ __forceinline__ float chunk_load(bool packed, const S *x, unsigned n, float cap, bool smoothing,
                                            float *z_cache, float *dzdx, CeExpSum &s)
{
    return packed ? cached_pass_load<S, kCap, kCePack>(x, n, cap, smoothing, z_cache, dzdx, s)
                  : cached_pass_load<S, kCap, 1>(x, n, cap, smoothing, z_cache, dzdx, s);
}

__device__ __forceinline__ void chunk_exp(bool packed, float *cache, unsigned n, float max, CeExpSum &s)
{
    if (packed)
        cached_pass_exp<kCePack>(cache, n, max, s);
    else
        cached_pass_exp<1>(cache, n, max, s);
}

template <class S, bool kCap>
__device__ __forceinline__ void chunk_grad(bool packed, S *g, unsigned n, const float *cache, const float *dzdx,
                                           unsigned target, CeLogit target_logit, const CeRow &r)
{
    if (packed)
        cached_pass_grad<S, kCap, kCePack>(g, n, cache, dzdx, target, target_logit, r);
    else
        cached_pass_grad<S, kCap, 1>(g, n, cache, dzdx, target, target_logit, r);
}

/* Asks L2 for the `n` logits at p (the block's next row or chunk), one
 * 128-byte line per thread and step: issued after pass 1, the lines arrive
 * while this row's passes 2 and 3 compute and write, so the next pass 1
 * reads from L2 instead of waiting on DRAM. With one block per SM (long
 * rows) the passes otherwise leave DRAM idle while they compute. A hint:
 * nothing waits for it, and a line evicted before use is read again. */
template <class S> __device__ __forceinline__ void prefetch_row_l2(const S *p, size_t n)
{
    const char *bytes = reinterpret_cast<const char *>(p);
    const size_t size = n * sizeof(S);
    for (size_t offset = (size_t)threadIdx.x * 128; offset < size; offset += (size_t)blockDim.x * 128)
        asm volatile("prefetch.global.L2 [%0];" ::"l"(bytes + offset));
}

/* Thread 0 writes the row's loss and lse and reports a bad target. */
__device__ __forceinline__ void write_row(const CeRow &r, size_t row, int state, float *row_loss, float *lse,
                                          int *error_flag)
{
    row_loss[row] = r.loss;
    if (lse) lse[row] = r.lse.hi + r.lse.lo;
    if (state == 2 && error_flag) atomicExch(error_flag, 1); /* many blocks may report: an atomic store */
}

/* Dynamic shared memory: ce_cache_plane(classes) floats (z, then e), then
 * with the cap as many floats of dz/dx. row_loss, count: as for the row
 * kernel. packed: the launcher's packs_aligned. */
template <class S, bool kCap>
__global__ void __launch_bounds__(kCeThreads, kCeCachedMinBlocks)
    cross_entropy_cached_kernel(const S *logits, size_t ld, const void *targets, bool i64, size_t rows, CeConfig c,
                                float *row_loss, float *lse, S *grad, size_t ldgrad, int *error_flag,
                                const unsigned long long *count, bool packed, bool prefetch)
{
    using T = StorageTraits<S>;
    extern __shared__ __align__(16) float ce_cache[];
    const unsigned classes = (unsigned)c.classes;                   /* fits in shared memory */
    float *dzdx = ce_cache + ce_cache_plane(classes); /* used with the cap only; 16-byte aligned */
    __shared__ CeCachedShared sh;
    const bool smoothing = c.eps > 0.0f;
    const float scale = ce_grad_scale(c, count ? *count : 0);
    for (size_t row = blockIdx.x; row < rows; row += gridDim.x) {
        const S *x = logits + row * ld;
        const long long t = target_at(targets, i64, row);
        const int state = row_state(t, c);
        CeExpSum s = ce_exp_sum_empty();
        const S x_t = threadIdx.x == 0 && state == 0 ? x[(size_t)t] : S(); /* in flight during pass 1 */
        const float m = chunk_load<S, kCap>(packed, x, classes, c.cap, smoothing, ce_cache, dzdx, s);
        const CeLogit target_own =
            threadIdx.x == 0 && state == 0 ? logit<kCap>(T::load(x_t), c.cap) : CeLogit{0.0f, 1.0f};
        const float max = block_max(m, sh);
        if (prefetch && row + gridDim.x < rows) prefetch_row_l2(logits + (row + gridDim.x) * ld, classes);
        if (max > -INFINITY && max < INFINITY) chunk_exp(packed, ce_cache, classes, max, s); /* block-uniform */
        CeLogit target;
        const CeExpSum total = block_sum(s, target_own, sh, &target);
        const CeRow r = ce_row(ce_acc_from_exp_sum(max, total), target.z, state, c, ce_row_scale(c, scale, row));
        if (threadIdx.x == 0) write_row(r, row, state, row_loss, lse, error_flag);
        if (grad)
            chunk_grad<S, kCap>(packed, grad + row * ldgrad, classes, ce_cache, dzdx,
                                state == 0 ? (unsigned)t : classes, target, r);
    }
}

/* ---- rows beyond one block: a thread-block cluster per row ------------------- */

namespace cg = cooperative_groups;

/* Clusters exist from sm_90 on; for older targets the kernel compiles to an
 * empty body and the host never chooses it (kernel_ptx_version < 90). */
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 900
#define ACTK_CE_HAS_CLUSTERS 1
#else
#define ACTK_CE_HAS_CLUSTERS 0
#endif

/* One block's statistics for the rest of the cluster: the max slot and the
 * sum slot are separate so that a block's next row never overwrites a slot
 * another block may still read (see the kernel's comment). */
struct CeClusterSlots {
    float max;
    CeExpSum sum;
};

/* A cluster of `blocks` (2..8) per row, block rank b caching the columns
 * [b chunk, (b + 1) chunk) of each row it visits. Per row: pass 1 and the
 * block max; cluster.sync (1); every thread folds the blocks' maxima in rank
 * order; pass 2 and the block sum; cluster.sync (2); every thread folds the
 * blocks' sums in rank order from the empty sum (a fixed order: the same
 * bits on every run for a given cluster size); pass 3 on the block's chunk.
 * The max slots of row i are read between syncs (1) and (2) of row i and
 * rewritten after (2); the sum slots are read between (2) of row i and (1)
 * of row i + 1 and rewritten after that: no slot is overwritten while read.
 * A final cluster.sync keeps every block's shared memory alive until the
 * others' last reads. Every block of a cluster walks the same rows, so each
 * reaches each cluster.sync equally often. Thread 0 of every block reads
 * the target's logit from global memory in pass 1 (in place: before any
 * block's pass 3, which follows sync (2)); rank 0 writes loss and lse.
 * Dynamic shared memory: chunk floats (z, then e), then with the cap chunk
 * floats of dz/dx. */
template <class S, bool kCap>
__global__ void __launch_bounds__(kCeThreads, kCeCachedMinBlocks)
    cross_entropy_cluster_kernel(const S *logits, size_t ld, const void *targets, bool i64, size_t rows, CeConfig c,
                                 float *row_loss, float *lse, S *grad, size_t ldgrad, int *error_flag,
                                 const unsigned long long *count, unsigned chunk, bool packed, bool prefetch)
{
#if ACTK_CE_HAS_CLUSTERS
    using T = StorageTraits<S>;
    extern __shared__ __align__(16) float ce_cache[];
    float *dzdx = ce_cache + chunk; /* used with the cap only */
    __shared__ CeCachedShared sh;
    __shared__ CeClusterSlots slots;
    cg::cluster_group cluster = cg::this_cluster();
    const unsigned rank = cluster.block_rank(), blocks = cluster.num_blocks();
    const size_t classes = (size_t)c.classes;
    const size_t begin = (size_t)rank * chunk;
    const unsigned n = begin >= classes ? 0u : (unsigned)(classes - begin < chunk ? classes - begin : chunk);
    const bool smoothing = c.eps > 0.0f;
    const float scale = ce_grad_scale(c, count ? *count : 0);
    const size_t clusters = gridDim.x / blocks;
    for (size_t row = blockIdx.x / blocks; row < rows; row += clusters) {
        const S *x = logits + row * ld;
        const long long t = target_at(targets, i64, row);
        const int state = row_state(t, c);
        CeExpSum s = ce_exp_sum_empty();
        const S x_t = threadIdx.x == 0 && state == 0 ? x[(size_t)t] : S(); /* in flight during pass 1 */
        const float m = chunk_load<S, kCap>(packed, x + begin, n, c.cap, smoothing, ce_cache, dzdx, s);
        const CeLogit target_own =
            threadIdx.x == 0 && state == 0 ? logit<kCap>(T::load(x_t), c.cap) : CeLogit{0.0f, 1.0f};
        const float block_m = block_max(m, sh);
        if (threadIdx.x == 0) slots.max = block_m;
        if (prefetch && row + clusters < rows) prefetch_row_l2(logits + (row + clusters) * ld + begin, n);
        cluster.sync(); /* (1) */
        float max = -INFINITY;
        for (unsigned b = 0; b < blocks; ++b) max = nan_max(max, cluster.map_shared_rank(&slots, b)->max);
        if (max > -INFINITY && max < INFINITY) chunk_exp(packed, ce_cache, n, max, s); /* cluster-uniform */
        CeLogit target;
        const CeExpSum block_s = block_sum(s, target_own, sh, &target);
        if (threadIdx.x == 0) slots.sum = block_s;
        cluster.sync(); /* (2) */
        CeExpSum total = ce_exp_sum_empty();
        for (unsigned b = 0; b < blocks; ++b) total = ce_exp_sum_merge(total, cluster.map_shared_rank(&slots, b)->sum);
        const CeRow r = ce_row(ce_acc_from_exp_sum(max, total), target.z, state, c, ce_row_scale(c, scale, row));
        if (rank == 0 && threadIdx.x == 0) write_row(r, row, state, row_loss, lse, error_flag);
        if (grad) {
            const bool mine = state == 0 && (size_t)t >= begin && (size_t)t - begin < n;
            chunk_grad<S, kCap>(packed, grad + row * ldgrad + begin, n, ce_cache, dzdx,
                                mine ? (unsigned)((size_t)t - begin) : n, target, r);
        }
    }
    cluster.sync(); /* no block leaves while another may still read its slots */
#else
    (void)logits, (void)ld, (void)targets, (void)i64, (void)rows, (void)c, (void)row_loss, (void)lse, (void)grad;
    (void)ldgrad, (void)error_flag, (void)count, (void)chunk, (void)packed;
    (void)prefetch;
#endif
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
        if ((int)threadIdx.x < half)
            partial[threadIdx.x] = ce_tree_step(partial[threadIdx.x], partial[threadIdx.x + half]);
        __syncthreads();
    }
    if (threadIdx.x == 0) *loss = ce_finish(partial[0], mean, mean ? *count : 0);
}

/* SUM, MEAN: the fixed-order sum of the rows' losses, after the row kernel. */
template <class S>
cudaError_t finish(const actk_ce_launch_args *a, const CeConfig &c, const unsigned long long *count,
                   const float *row_loss, cudaStream_t stream)
{
    if (a->options.reduction == ACTK_REDUCTION_NONE) return cudaSuccess;
    cross_entropy_reduce_kernel<S><<<1, kCeReduceThreads, 0, stream>>>(row_loss, a->rows, c.mean, count, a->loss);
    return cudaGetLastError();
}

constexpr unsigned kCeMaxCluster = 8; /* the portable cluster size limit */

/* The cluster attribute and the launch shape of `cluster` blocks of
 * kCeThreads with `dynamic` bytes each. */
struct CeClusterConfig {
    cudaLaunchAttribute attribute[1];
    cudaLaunchConfig_t config;
    CeClusterConfig(unsigned cluster, size_t dynamic, cudaStream_t stream) : attribute{}, config{}
    {
        attribute[0].id = cudaLaunchAttributeClusterDimension;
        attribute[0].val.clusterDim.x = cluster;
        attribute[0].val.clusterDim.y = 1;
        attribute[0].val.clusterDim.z = 1;
        config.gridDim = dim3(cluster);
        config.blockDim = dim3(kCeThreads);
        config.dynamicSmemBytes = dynamic;
        config.stream = stream;
        config.attrs = attribute;
        config.numAttrs = 1;
    }
    CeClusterConfig(const CeClusterConfig &) = delete; /* config.attrs points into this object */
    CeClusterConfig &operator=(const CeClusterConfig &) = delete;
};

/* Whether the cached or cluster kernel prefetches each block's next row:
 * only when blocks have a next row (more rows than `groups`, the blocks or
 * clusters walking them) and the rows all groups ask for at once take at
 * most half of L2, so that the prefetched lines can stay until pass 1
 * reads them next to the rows being written back (H100: 32K-class f32 rows,
 * one block per SM, 17 MB of 50; 128K in clusters of 3, 23 MB). */
template <class S>
bool prefetch_next_rows(const actk_ce_launch_args *a, const actk_device_facts &device, size_t groups, size_t classes)
{
    if (a->rows <= groups || device.l2_bytes == 0) return false;
    return groups * classes * sizeof(S) <= device.l2_bytes / 2;
}

/* The smallest cluster size (2..8) whose chunks of a `classes` row fit
 * `allowed` bytes and of which the device holds at least one at once, with
 * the clusters it holds, packed as size + (resident << 8); 0 where no size
 * fits. Up to 7 occupancy queries, so memoised (launch_cache.cuh's table)
 * per (kernel, device, classes): the kernel fixes the block size, the bytes
 * per column and (with the device) `allowed`, so the answer depends on
 * nothing else. A refused query counts as "not resident at this size". */
cudaError_t cluster_choice(const void *kernel, const actk_device_facts &device, size_t classes,
                           size_t bytes_per_column, size_t allowed, size_t *choice_out)
{
    static LaunchFactTable<1024> table;
    return table.get(kernel, device.ordinal, kCeThreads, classes, choice_out, [&](size_t *choice) {
        *choice = 0;
        for (unsigned cluster = 2; cluster <= kCeMaxCluster; ++cluster) {
            const size_t chunk = ce_cluster_chunk(classes, cluster);
            if (chunk * bytes_per_column > allowed) continue;
            CeClusterConfig shape(cluster, chunk * bytes_per_column, nullptr);
            int resident = 0;
            if (cudaOccupancyMaxActiveClusters(&resident, kernel, &shape.config) != cudaSuccess) {
                (void)cudaGetLastError(); /* no stale error left for the launch's check */
                continue;
            }
            if (resident < 1) continue;
            *choice = cluster + ((size_t)resident << 8);
            return cudaSuccess;
        }
        return cudaSuccess;
    });
}

/* The cluster kernel for a row longer than one block's shared memory:
 * the smallest cluster (2..8 blocks) whose chunks fit the kernel's dynamic
 * shared memory and of which the device holds at least one at once
 * (cluster_choice); a grid of the resident clusters, at most one per row.
 * Chosen before any launch; info->cluster stays 0 (the caller takes the row
 * kernel) when the build has no sm_90+ code for the kernel or no size fits.
 * A failed launch is reported, never retried. */
template <class S, bool kCap>
cudaError_t launch_cluster_kernel(const actk_ce_launch_args *a, const CeConfig &c, const actk_device_facts &device,
                                  cudaStream_t stream, float *row_loss, const unsigned long long *row_count,
                                  bool packed, actk_ce_launch *info)
{
    const auto kernel = cross_entropy_cluster_kernel<S, kCap>;
    size_t ptx = 0;
    cudaError_t err = kernel_ptx_version((const void *)kernel, device, &ptx);
    if (err != cudaSuccess || ptx < 90) return err;
    size_t allowed = 0;
    err = dynamic_smem_limit((const void *)kernel, device, &allowed);
    if (err != cudaSuccess) return err;
    const size_t bytes_per_column = (kCap ? 2 : 1) * sizeof(float);
    size_t choice = 0;
    err = cluster_choice((const void *)kernel, device, a->classes, bytes_per_column, allowed, &choice);
    if (err != cudaSuccess) return err;
    const unsigned cluster = (unsigned)(choice & 0xff);
    if (cluster == 0) return cudaSuccess;
    const size_t resident = choice >> 8;
    const size_t chunk = ce_cluster_chunk(a->classes, cluster);
    const size_t clusters = resident < a->rows ? resident : a->rows;
    const bool prefetch = prefetch_next_rows<S>(a, device, clusters, a->classes);
    CeClusterConfig shape(cluster, chunk * bytes_per_column, stream);
    shape.config.gridDim = dim3((unsigned)(clusters * cluster));
    err = cudaLaunchKernelEx(&shape.config, kernel, static_cast<const S *>(a->logits), a->ld, a->targets,
                             a->target_type == ACTK_INDEX_I64, a->rows, c, row_loss, a->lse, static_cast<S *>(a->grad),
                             a->ldgrad, a->error_flag, row_count, (unsigned)chunk, packed, prefetch);
    if (err != cudaSuccess) {
        (void)cudaGetLastError(); /* reported through the status; no stale error left behind */
        return err;
    }
    err = cudaGetLastError();
    if (err != cudaSuccess) return err;
    *info = actk_ce_launch{shape.config.gridDim.x, shape.config.dynamicSmemBytes, 1, cluster, 0, packed, prefetch};
    return cudaSuccess;
}

/* Whether the cached and cluster kernels may read and write whole packs
 * (kCePack columns in one access): the logits and the gradient start on a
 * pack's alignment and their row strides are whole packs (one row needs no
 * stride). Cluster chunks start on pack boundaries (ce_cluster_chunk). */
template <class S> bool packs_aligned(const actk_ce_launch_args *a)
{
    const size_t bytes = kCePack * sizeof(S);
    const bool logits = (uintptr_t)a->logits % bytes == 0 && (a->rows == 1 || a->ld % kCePack == 0);
    const bool grad =
        a->grad == nullptr || ((uintptr_t)a->grad % bytes == 0 && (a->rows == 1 || a->ldgrad % kCePack == 0));
    return logits && grad;
}

template <class S, bool kCap> cudaError_t launch_typed(const actk_ce_launch_args *a, const actk_device_facts *device,
                                                       cudaStream_t stream, actk_ce_launch *info)
{
    const CeConfig c = {a->options.label_smoothing, a->options.z_loss, a->options.softcap, a->options.grad_scale,
                        a->options.ignore_index, (unsigned long long)a->classes,
                        a->options.reduction == ACTK_REDUCTION_MEAN,
                        a->grad ? a->options.row_grad : nullptr};
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
        const bool cached = ce_cache_plane(a->classes) <= allowed / (floats_per_column * sizeof(float));
        const bool packed = packs_aligned<S>(a);
        const S *logits = static_cast<const S *>(a->logits);
        S *grad = static_cast<S *>(a->grad);
        const unsigned long long *row_count = c.mean ? count : nullptr;
        if (!cached && actk_device_has_clusters(device)) {
            /* longer rows: a cluster per row where one can hold the row */
            err = launch_cluster_kernel<S, kCap>(a, c, *device, stream, row_loss, row_count, packed, info);
            if (err != cudaSuccess) return err;
            if (info->cluster != 0) return finish<S>(a, c, count, row_loss, stream);
        }
        /* else the row kernel, keeping the raw row (S, not float) in shared
         * memory where it fits: bf16/f16 rows up to twice the cached
         * kernel's length are still read once without clusters */
        const void *row_kernel = (const void *)cross_entropy_row_kernel<S, kCap>;
        bool cache_row = false;
        if (!cached) {
            size_t row_allowed = 0;
            err = dynamic_smem_limit(row_kernel, *device, &row_allowed);
            if (err != cudaSuccess) return err;
            cache_row = a->classes <= row_allowed / sizeof(S);
        }
        const void *kernel = cached ? cached_kernel : row_kernel;
        const size_t dynamic = cached      ? ce_cache_plane(a->classes) * floats_per_column * sizeof(float)
                               : cache_row ? a->classes * sizeof(S)
                                           : 0;
        unsigned grid = 1;
        err = resident_grid(kernel, *device, kCeThreads, dynamic, a->rows, &grid);
        if (err != cudaSuccess) return err;
        const bool prefetch = cached && prefetch_next_rows<S>(a, *device, grid, a->classes);
        if (cached)
            cross_entropy_cached_kernel<S, kCap><<<grid, kCeThreads, dynamic, stream>>>(
                logits, a->ld, a->targets, i64, a->rows, c, row_loss, a->lse, grad, a->ldgrad, a->error_flag,
                row_count, packed, prefetch);
        else
            cross_entropy_row_kernel<S, kCap><<<grid, kCeThreads, dynamic, stream>>>(
                logits, a->ld, a->targets, i64, a->rows, c, row_loss, a->lse, grad, a->ldgrad, a->error_flag, row_count,
                cache_row);
        err = cudaGetLastError();
        if (err != cudaSuccess) return err;
        info->grid = grid;
        info->dynamic_smem = dynamic;
        info->cached = cached || cache_row;
        info->row_cached = cache_row;
        info->packed = cached && packed;
        info->prefetch = prefetch;
    }
    return finish<S>(a, c, count, row_loss, stream);
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
    *launch = actk_ce_launch{0, 0, 0, 0, 0, 0, 0};
    switch (args->dtype) {
    case ACTK_F32: return actk::launch_dtype<float>(args, device, stream, launch);
    case ACTK_F16: return actk::launch_dtype<__half>(args, device, stream, launch);
    case ACTK_BF16: return actk::launch_dtype<__nv_bfloat16>(args, device, stream, launch);
    default: break;
    }
    return cudaErrorInvalidValue;
}
