// SPDX-License-Identifier: MIT
/*
 * softmax.cu - softmax and log-softmax along dim of an (outer, dim, inner)
 * tensor, forward and backward.
 *
 * Compute type C: float for f32/f16/bf16 storage, double for f64; the math
 * (softmax_math.cuh) comes from the dtype's math policy (MathFor). f32 keeps
 * x - max exact as a float-float pair and its sums in float-float
 * (softmax_f32.cuh: no FP64, results within 4 ULP). The streaming
 * kernels reduce with an online max-and-sum (each element exponentiated
 * once in the reduction and once for the output); the warp kernel, whose
 * row sits in registers, takes the max first and then exponentiates each
 * element once (softmax_term).
 *
 * Dispatch by shape and device (decided before anything is launched; the
 * path and launch shape are reported to the caller for the tests):
 *  - inner == 1, dim <= 1024: softmax_*_warp_kernel, one warp per row, the
 *    row held in registers (kCols values per lane), warp-shuffle reductions.
 *    One read and one write of device memory. Rows of dim <= 16 take one
 *    lane each instead (the same kernel, kWidth = 1, the row's kCols = 1, 2,
 *    4, 8 or 16 values in the lane's registers), 32 rows per warp.
 *  - inner == 1, dim > 1024, on a device with thread-block clusters
 *    (compute capability >= 9.0 and cudaDevAttrClusterLaunch), when dim >
 *    16384 or there are fewer than 2 rows per SM: softmax_*_cluster_kernel,
 *    a cluster of 2 to 8 blocks per row (so a few long rows still fill the
 *    GPU). Each block reduces its chunk (cached in shared memory when it
 *    fits), the blocks exchange their (max, rest) through distributed shared
 *    memory and merge them in rank order (deterministic), then each writes
 *    its chunk. The grid holds the clusters the device keeps resident
 *    (cudaOccupancyMaxActiveClusters). The cluster kernels compile to empty
 *    bodies below sm_90 and are never launched there.
 *  - other inner == 1 rows: softmax_*_block_kernel, one block per row, the
 *    row cached in shared memory when it fits the device's opt-in limit
 *    (forward), else read twice - on GPUs without clusters this is also the
 *    path of rows of any length.
 *  - inner > 1: softmax_*_strided_kernel (softmax_strided.cuh), a block
 *    of columns x threads along dim, the dim threads of a column merged in
 *    shared memory in a fixed tree; warps read contiguous runs (inner < 32:
 *    lanes over (d, i)); the columns kept in a shared-memory tile when that
 *    costs no occupancy, else read twice.
 * Every grid is persistent: at most the blocks the device holds at once
 * (launch_cache.cuh), each looping over rows or columns.
 * The block and cluster kernels run blocks of exactly kBlockThreads (512)
 * threads; each thread walks columns t, t + 512, ... and loads kRowBatch of
 * them (16 or 32 bytes) before it uses the first, so an SM keeps 8 to 32 KiB
 * of loads in flight (PERF.md, memory-level parallelism audit).
 * Rows that are all -inf, or hold +inf or NaN, give NaN (as the CPU path).
 *
 * Options (actk_softmax_options: scale, temperature, LSE, safe rows,
 * attention masks): every kernel takes a row policy Opt (softmax_options.cuh),
 * PlainRows for the plain entry points (compiles to the kernels without
 * options) or OptionRows, one instantiation per path and dtype with the
 * options as run-time branches. Per row the policy gives the factor, the
 * unmasked prefix of keys (never read beyond it; masked outputs are those of
 * a -inf logit, or 0 in the backward) and the additive mask's row; the
 * forward writes the LSE (one thread per row) and zeroes safe rows; the
 * backward's safe test is a warp vote, a block barrier-or, or a flag beside
 * the cluster's block sums. The dispatch is the same with or without options.
 * Preconditions (checked on the host): outer*dim*inner > 0 and fits size_t;
 * pointers aligned to the element size; y == x or disjoint; options
 * validated (actk_check_softmax_ex_args; masks only with inner == 1).
 */
#include "dtype_dispatch.cuh"
#include "softmax_math.cuh"
#include "softmax_options.cuh"

#include <cooperative_groups.h>
#include "launch_cache.cuh"
#include "structured_launch.h"

#include <math.h>
#include <string.h>

namespace actk {
namespace {

constexpr int kWarp = 32;

/* __shfl_xor_sync of any trivially copyable value, 32 bits at a time (a
 * MaxSum, a float-float sum). */
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

template <class M> __device__ __forceinline__ MaxSum<M> warp_merge(MaxSum<M> s)
{
#pragma unroll
    for (int offset = kWarp / 2; offset > 0; offset /= 2) s = merge(s, shfl_xor(s, offset));
    return s;
}

/* The reductions below work over a group of kWidth lanes (a power of two,
 * 1 to 32; the whole warp by default): lanes l and l ^ offset, offset <
 * kWidth, lie in the same aligned group, so each group's butterfly stays
 * inside it. Every lane of the warp takes part (full mask). */

/* Butterfly sums: every lane ends with the same bits (the adds commute). */
template <int kWidth = kWarp> __device__ __forceinline__ int warp_sum(int v)
{
#pragma unroll
    for (int offset = kWidth / 2; offset > 0; offset /= 2) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

template <class M, int kWidth = kWarp>
__device__ __forceinline__ typename SoftmaxAcc<M>::type warp_acc_sum(typename SoftmaxAcc<M>::type v)
{
#pragma unroll
    for (int offset = kWidth / 2; offset > 0; offset /= 2) v = acc_add<M>(v, shfl_xor(v, offset));
    return v;
}

/* NaN-propagating max over the group; the group's lane 0 result is
 * broadcast so every lane holds the same bits (nan_max(+0, -0) and
 * nan_max(-0, +0) differ). */
template <int kWidth = kWarp, class C> __device__ __forceinline__ C warp_max(C v)
{
    if constexpr (kWidth == 1) {
        return v;
    } else {
#pragma unroll
        for (int offset = kWidth / 2; offset > 0; offset /= 2) v = nan_max(v, __shfl_xor_sync(0xffffffffu, v, offset));
        return __shfl_sync(0xffffffffu, v, 0, kWidth);
    }
}

/* Whether any lane of the group votes true. */
template <int kWidth> __device__ __forceinline__ bool group_any(bool vote)
{
    if constexpr (kWidth == kWarp) {
        return __any_sync(0xffffffffu, vote);
    } else {
        const unsigned group_mask = ((1u << kWidth) - 1u) << ((threadIdx.x % kWarp) & ~(unsigned)(kWidth - 1));
        return (__ballot_sync(0xffffffffu, vote) & group_mask) != 0u;
    }
}

/* ---- the options' row outcomes (softmax_options.cuh) -------------------------- */

/* The backward's safe test: an output that is not 0 (softmax) or -inf
 * (log-softmax) depended on x; NaN counts as live. */
template <bool kLog, class C> __device__ __forceinline__ bool output_is_live(C y)
{
    return kLog ? !(y == C(-INFINITY)) : !(y == C(0));
}

/* A forward row's output beyond the computed values: `zero` (safe, and the
 * max is -inf: y = 0, log-softmax -inf everywhere) and `masked` (the value
 * of a masked key: that of an x of -inf, so NaN where the row is NaN). */
template <class C> struct RowOutput {
    bool zero;
    C zero_value, masked;
    __device__ __forceinline__ C of(C v) const { return zero ? zero_value : v; }
};

template <bool kLog, class Opt, class M>
__device__ __forceinline__ RowOutput<typename M::T> row_output(const Opt &opt, const MaxSum<M> &stats,
                                                               const RowScale<M> &scale)
{
    using C = typename M::T;
    const C zero_value = C(kLog ? -INFINITY : 0);
    if constexpr (!Opt::kActive) return {false, zero_value, zero_value};
    const bool zero = opt.safe() && stats.max == C(-INFINITY);
    return {zero, zero_value, zero ? zero_value : softmax_value<kLog>(C(-INFINITY), scale)};
}

/* ---- inner == 1, dim <= 1024: a warp (or a group of lanes) per row ---------
 *
 * A row takes a group of kWidth lanes (a power of two): the whole warp for
 * dim > 16 (kWidth = 32); a row of dim <= 16 takes one lane (kWidth = 1)
 * holding the next power of two >= dim values (kCols 1, 2, 4, 8, 16; the
 * columns past dim are -inf, or 0 in the backward, and add exact zeros),
 * so a warp works on 32 / kWidth rows at once and its butterflies take
 * log2(kWidth) steps (none for one lane: the sums run in column order in
 * the lane). Lane l of a group holds columns l + k kWidth, k < kCols. The
 * warp turns the row loop as one (every lane shuffles with the full mask):
 * a group whose row lies past the end computes on an empty row and writes
 * nothing. */

template <class S, int kCols, int kWidth, bool kLog, class Opt>
__global__ void __launch_bounds__(128) softmax_forward_warp_kernel(Opt opt, const S *x, S *y, size_t rows, int dim)
{
    static_assert(kWidth >= 1 && kWidth <= kWarp && (kWidth & (kWidth - 1)) == 0, "a power-of-two group of lanes");
    using T = StorageTraits<S>;
    using C = typename T::Compute;
    using M = typename MathFor<T::kDtype>::type;
    constexpr int kGroups = kWarp / kWidth; /* rows per warp per turn */
    const int lane = threadIdx.x % kWidth;
    const size_t group = (threadIdx.x % kWarp) / kWidth;
    const size_t warps = (size_t)gridDim.x * (blockDim.x / kWarp);
    for (size_t first = ((size_t)blockIdx.x * (blockDim.x / kWarp) + threadIdx.x / kWarp) * kGroups; first < rows;
         first += warps * kGroups) {
        const size_t row = first + group;
        const bool have_row = kGroups == 1 || row < rows;
        const size_t at = have_row ? row : first; /* a real row for the options' per-row lookups */
        const S *xr = x + at * dim;
        const auto view = opt.row(at, at, (size_t)dim);
        const int live = have_row ? (int)view.live((size_t)dim) : 0; /* masked keys count as -inf, unread */
        C v[kCols];
        typename SoftmaxTerm<M>::type e[kCols];
        C m = C(-INFINITY);
#pragma unroll
        for (int k = 0; k < kCols; ++k) {
            const int col = lane + k * kWidth;
            v[k] = col < live ? view.scaled(T::load(xr[col]), (size_t)col) : C(-INFINITY);
            m = nan_max(m, v[k]);
        }
        m = warp_max<kWidth>(m);
        /* two passes over the registers (softmax_term): one exp per element */
        typename SoftmaxAcc<M>::type rest = acc_zero<M>();
        int ties = 0;
#pragma unroll
        for (int k = 0; k < kCols; ++k) e[k] = softmax_term<M>(v[k], m, rest, ties);
        const MaxSum<M> stats = two_pass_stats<M>(m, warp_acc_sum<M, kWidth>(rest), warp_sum<kWidth>(ties));
        const RowScale<M> scale = row_scale<kLog>(stats);
        if (lane == 0 && have_row) opt.write_lse(row, stats);
        const bool zero_row = opt.safe() && m == C(-INFINITY); /* safe: nothing unmasked and finite */
        S *yr = y + at * dim;
#pragma unroll
        for (int k = 0; k < kCols; ++k) {
            const int col = lane + k * kWidth;
            if (have_row && col < dim)
                yr[col] =
                    T::store(zero_row ? C(kLog ? -INFINITY : 0) : softmax_value_from_term<kLog, M>(v[k], e[k], scale));
        }
    }
}

template <class S, int kCols, int kWidth, bool kLog, class Opt>
__global__ void __launch_bounds__(128)
    softmax_backward_warp_kernel(Opt opt, const S *y, const S *dy, S *dx, size_t rows, int dim)
{
    static_assert(kWidth >= 1 && kWidth <= kWarp && (kWidth & (kWidth - 1)) == 0, "a power-of-two group of lanes");
    using T = StorageTraits<S>;
    using C = typename T::Compute;
    using M = typename MathFor<T::kDtype>::type;
    constexpr int kGroups = kWarp / kWidth;
    const int lane = threadIdx.x % kWidth;
    const size_t group = (threadIdx.x % kWarp) / kWidth;
    const size_t warps = (size_t)gridDim.x * (blockDim.x / kWarp);
    for (size_t first = ((size_t)blockIdx.x * (blockDim.x / kWarp) + threadIdx.x / kWarp) * kGroups; first < rows;
         first += warps * kGroups) {
        const size_t row = first + group;
        const bool have_row = kGroups == 1 || row < rows;
        const size_t at = have_row ? row : first;
        const size_t base = at * dim;
        const auto view = opt.row(at, at, (size_t)dim);
        const int live = have_row ? (int)view.live((size_t)dim) : 0; /* masked: unread, dx = 0 */
        C yv[kCols], gv[kCols];
        typename SoftmaxAcc<M>::type partial = acc_zero<M>();
        bool live_output = false;
#pragma unroll
        for (int k = 0; k < kCols; ++k) {
            const int col = lane + k * kWidth;
            yv[k] = col < live ? T::load(y[base + col]) : C(0);
            gv[k] = col < live ? T::load(dy[base + col]) : C(0);
            partial = backward_term<M, kLog>(partial, yv[k], gv[k]);
            live_output |= col < live && output_is_live<kLog>(yv[k]);
        }
        bool zero_row = false;
        if constexpr (Opt::kActive) zero_row = opt.safe() && !group_any<kWidth>(live_output);
        const typename SoftmaxAcc<M>::type row_sum = warp_acc_sum<M, kWidth>(partial);
#pragma unroll
        for (int k = 0; k < kCols; ++k) {
            const int col = lane + k * kWidth;
            if (have_row && col < dim)
                dx[base + col] = T::store(
                    col < live && !zero_row ? view.scale_grad(softmax_grad<M, kLog>(yv[k], gv[k], row_sum)) : C(0));
        }
    }
}

/* ---- inner == 1, dim > 1024: a block per row -------------------------------- */

constexpr int kBlockThreads = 512;

/* Elements of its row (or chunk) a thread of the block and cluster kernels
 * loads before it uses them, split over the `arrays` it reads (x; or y and
 * dy): 32 bytes per thread for f32 and f64, 16 for f16 and bf16 (whose
 * values take a 32-bit register each: 16 of them spill within 64
 * registers). One block of 512 threads then keeps 8 to 16 KiB of loads in
 * flight, two blocks per SM 16 to 32 KiB, what DRAM latency needs (PERF.md,
 * memory-level parallelism audit; one load per thread per iteration left 1
 * to 4 KiB per SM). The elements are then used in increasing column order,
 * as before: each thread's reduction order is unchanged. The batch costs
 * registers, kept within 64 by the kernels' __launch_bounds__ (2 blocks per
 * SM where shared memory allows, as at most 32 registers gave 4). */
template <class S, int kArrays> constexpr int kRowBatch = (sizeof(S) > 4 ? 4 : 8) / kArrays;
constexpr int kBlockMinBlocks = 2; /* per SM, in the block and cluster kernels' __launch_bounds__ */

/* raw[k] = src[first + k step] for the indices below end (the others are
 * left unset; the caller uses only those). */
template <int kBatch, class S>
__device__ __forceinline__ void load_batch(S (&raw)[kBatch], const S *src, size_t first, size_t step, size_t end)
{
#pragma unroll
    for (int k = 0; k < kBatch; ++k) {
        const size_t at = first + (size_t)k * step;
        if (at < end) raw[k] = src[at];
    }
}

template <class M> __device__ MaxSum<M> block_merge(MaxSum<M> s, MaxSum<M> *scratch)
{
    s = warp_merge(s);
    const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
    __syncthreads(); /* scratch may still be read from the previous row */
    if (lane == 0) scratch[warp] = s;
    __syncthreads();
    if (warp == 0) {
        MaxSum<M> t = lane < (int)(blockDim.x / kWarp) ? scratch[lane] : MaxSum<M>::empty();
        t = warp_merge(t);
        if (lane == 0) scratch[0] = t;
    }
    __syncthreads();
    return scratch[0];
}

template <class M, class Acc = typename SoftmaxAcc<M>::type> __device__ Acc block_sum(Acc v, Acc *scratch)
{
    v = warp_acc_sum<M>(v);
    const int warp = threadIdx.x / kWarp, lane = threadIdx.x % kWarp;
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    if (warp == 0) {
        Acc t = lane < (int)(blockDim.x / kWarp) ? scratch[lane] : acc_zero<M>();
        t = warp_acc_sum<M>(t);
        if (lane == 0) scratch[0] = t;
    }
    __syncthreads();
    return scratch[0];
}

/* cache_row: the row (storage type) lives in dynamic shared memory. */
template <class S, bool kLog, class Opt>
__global__ void __launch_bounds__(kBlockThreads, kBlockMinBlocks)
    softmax_forward_block_kernel(Opt opt, const S *x, S *y, size_t rows, size_t dim, bool cache_row)
{
    using T = StorageTraits<S>;
    using C = typename T::Compute;
    using M = typename MathFor<T::kDtype>::type;
    extern __shared__ unsigned char dynamic_smem[];
    S *row_cache = reinterpret_cast<S *>(dynamic_smem);
    __shared__ MaxSum<M> scratch[kBlockThreads / kWarp];
    constexpr int kBatch = kRowBatch<S, 1>;
    constexpr size_t step = kBlockThreads; /* blockDim.x: constant, so the batch's addresses are immediate offsets */
    for (size_t row = blockIdx.x; row < rows; row += gridDim.x) {
        const S *xr = x + row * dim;
        const auto view = opt.row(row, row, dim);
        const size_t live = view.live(dim); /* masked keys count as -inf, unread */
        MaxSum<M> s = MaxSum<M>::empty();
        for (size_t col0 = threadIdx.x; col0 < live; col0 += kBatch * step) {
            S raw[kBatch];
            load_batch(raw, xr, col0, step, live); /* all kBatch loads in flight, then the sums in column order */
#pragma unroll
            for (int k = 0; k < kBatch; ++k) {
                const size_t col = col0 + k * step;
                if (col >= live) break;
                if (cache_row) row_cache[col] = raw[k];
                online_add(s, view.scaled(T::load(raw[k]), col));
            }
        }
        s = block_merge(s, scratch); /* its barriers also publish row_cache */
        const RowScale<M> scale = row_scale<kLog>(s);
        if (threadIdx.x == 0) opt.write_lse(row, s);
        const RowOutput<C> out = row_output<kLog>(opt, s, scale);
        S *yr = y + row * dim;
        for (size_t col0 = threadIdx.x; col0 < dim; col0 += kBatch * step) {
            S raw[kBatch]; /* all reads before the writes: y == x is allowed */
            if (cache_row)
                load_batch(raw, row_cache, col0, step, live);
            else
                load_batch(raw, xr, col0, step, live);
#pragma unroll
            for (int k = 0; k < kBatch; ++k) {
                const size_t col = col0 + k * step;
                if (col >= dim) break;
                yr[col] = T::store(!Opt::kActive || col < live
                                       ? out.of(softmax_value<kLog>(view.scaled(T::load(raw[k]), col), scale))
                                       : out.masked);
            }
        }
    }
}

template <class S, bool kLog, class Opt>
__global__ void __launch_bounds__(kBlockThreads, kBlockMinBlocks)
    softmax_backward_block_kernel(Opt opt, const S *y, const S *dy, S *dx, size_t rows, size_t dim)
{
    using T = StorageTraits<S>;
    using C = typename T::Compute;
    using M = typename MathFor<T::kDtype>::type;
    using Acc = typename SoftmaxAcc<M>::type;
    __shared__ Acc scratch[kBlockThreads / kWarp];
    constexpr int kBatch = kRowBatch<S, 2>;
    constexpr size_t step = kBlockThreads; /* blockDim.x: constant, so the batch's addresses are immediate offsets */
    /* log-softmax reads y in the first pass only to tell safe rows: the plain
     * one reads dy alone there, and takes a one-array batch */
    const bool first_pass_reads_y = !kLog || (Opt::kActive && opt.safe());
    constexpr int kFirstBatch = kLog && !Opt::kActive ? kRowBatch<S, 1> : kBatch;
    for (size_t row = blockIdx.x; row < rows; row += gridDim.x) {
        const S *yr = y + row * dim, *gr = dy + row * dim;
        const auto view = opt.row(row, row, dim);
        const size_t live = view.live(dim); /* masked: unread, dx = 0 */
        Acc partial = acc_zero<M>();
        bool live_output = false;
        for (size_t col0 = threadIdx.x; col0 < live; col0 += kFirstBatch * step) {
            S rg[kFirstBatch], ry[kFirstBatch]; /* the loads first, then the sum in column order */
            load_batch(rg, gr, col0, step, live);
            if (first_pass_reads_y) load_batch(ry, yr, col0, step, live);
#pragma unroll
            for (int k = 0; k < kFirstBatch; ++k) {
                if (col0 + k * step >= live) break;
                const C g = T::load(rg[k]);
                const C yv = first_pass_reads_y ? T::load(ry[k]) : C(0);
                partial = backward_term<M, kLog>(partial, kLog ? C(0) : yv, g);
                live_output |= output_is_live<kLog>(yv);
            }
        }
        bool zero_row = false;
        if constexpr (Opt::kActive) zero_row = opt.safe() && !__syncthreads_or(live_output); /* row-uniform */
        const Acc row_sum = block_sum<M>(partial, scratch);
        const size_t read_end = zero_row ? 0 : live; /* what the outputs need */
        S *dxr = dx + row * dim;
        for (size_t col0 = threadIdx.x; col0 < dim; col0 += kBatch * step) {
            S ry[kBatch], rg[kBatch]; /* all reads before the writes: dx may be dy */
            load_batch(ry, yr, col0, step, read_end);
            load_batch(rg, gr, col0, step, read_end);
#pragma unroll
            for (int k = 0; k < kBatch; ++k) {
                const size_t col = col0 + k * step;
                if (col >= dim) break;
                dxr[col] = T::store(col < read_end ? view.scale_grad(softmax_grad<M, kLog>(T::load(ry[k]),
                                                                                         T::load(rg[k]), row_sum))
                                                   : C(0));
            }
        }
    }
}

/* ---- inner == 1, dim > 16384: a thread-block cluster per row ---------------- */

namespace cg = cooperative_groups;

/* Clusters exist from sm_90 on. For older targets the cluster kernels compile
 * to empty bodies; the host never launches them on a device below compute
 * capability 9.0. */
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 900
#define ACTK_HAS_CLUSTERS 1
#else
#define ACTK_HAS_CLUSTERS 0
#endif

/* Rows advance by (clusters in the grid); every block of a cluster walks the
 * same rows, so cluster.sync() is reached equally often by all of them. */
template <class S, bool kLog, class Opt>
__global__ void __launch_bounds__(kBlockThreads, kBlockMinBlocks)
    softmax_forward_cluster_kernel(Opt opt, const S *x, S *y, size_t rows, size_t dim, size_t chunk, bool cache_chunk)
{
#if ACTK_HAS_CLUSTERS
    using T = StorageTraits<S>;
    using C = typename T::Compute;
    using M = typename MathFor<T::kDtype>::type;
    cg::cluster_group cluster = cg::this_cluster();
    const unsigned rank = cluster.block_rank(), blocks = cluster.num_blocks();
    extern __shared__ unsigned char dynamic_smem[];
    S *cache = reinterpret_cast<S *>(dynamic_smem);
    __shared__ MaxSum<M> scratch[kBlockThreads / kWarp];
    __shared__ MaxSum<M> block_stats;
    const size_t clusters = gridDim.x / blocks;
    const size_t begin = rank * chunk, end = begin + chunk < dim ? begin + chunk : dim;
    constexpr int kBatch = kRowBatch<S, 1>;
    constexpr size_t step = kBlockThreads; /* blockDim.x: constant, so the batch's addresses are immediate offsets */
    for (size_t row = blockIdx.x / blocks; row < rows; row += clusters) {
        const S *xr = x + row * dim;
        const auto view = opt.row(row, row, dim);
        const size_t live = view.live(dim), live_end = end < live ? end : live; /* masked: -inf, unread */
        MaxSum<M> s = MaxSum<M>::empty();
        for (size_t col0 = begin + threadIdx.x; col0 < live_end; col0 += kBatch * step) {
            S raw[kBatch];
            load_batch(raw, xr, col0, step, live_end); /* all kBatch loads in flight, then the sums in column order */
#pragma unroll
            for (int k = 0; k < kBatch; ++k) {
                const size_t col = col0 + k * step;
                if (col >= live_end) break;
                if (cache_chunk) cache[col - begin] = raw[k];
                online_add(s, view.scaled(T::load(raw[k]), col));
            }
        }
        s = block_merge(s, scratch);
        if (threadIdx.x == 0) block_stats = s;
        cluster.sync(); /* every block's stats visible cluster-wide */
        MaxSum<M> total = MaxSum<M>::empty();
        for (unsigned r = 0; r < blocks; ++r) total = merge(total, *cluster.map_shared_rank(&block_stats, r));
        cluster.sync(); /* all reads done before the next row overwrites block_stats */
        const RowScale<M> scale = row_scale<kLog>(total);
        if (rank == 0 && threadIdx.x == 0) opt.write_lse(row, total);
        const RowOutput<C> out = row_output<kLog>(opt, total, scale);
        S *yr = y + row * dim;
        for (size_t col0 = begin + threadIdx.x; col0 < end; col0 += kBatch * step) {
            S raw[kBatch]; /* all reads before the writes: y == x is allowed */
            if (cache_chunk) /* the cache holds [begin, live_end) */
                load_batch(raw, cache, col0 - begin, step, live_end > begin ? live_end - begin : 0);
            else
                load_batch(raw, xr, col0, step, live_end);
#pragma unroll
            for (int k = 0; k < kBatch; ++k) {
                const size_t col = col0 + k * step;
                if (col >= end) break;
                yr[col] = T::store(!Opt::kActive || col < live
                                       ? out.of(softmax_value<kLog>(view.scaled(T::load(raw[k]), col), scale))
                                       : out.masked);
            }
        }
    }
#else
    (void)opt, (void)x, (void)y, (void)rows, (void)dim, (void)chunk, (void)cache_chunk;
#endif
}

template <class S, bool kLog, class Opt>
__global__ void __launch_bounds__(kBlockThreads, kBlockMinBlocks)
    softmax_backward_cluster_kernel(Opt opt, const S *y, const S *dy, S *dx, size_t rows, size_t dim, size_t chunk,
                                    bool cache_chunk)
{
#if ACTK_HAS_CLUSTERS
    using T = StorageTraits<S>;
    using C = typename T::Compute;
    using M = typename MathFor<T::kDtype>::type;
    cg::cluster_group cluster = cg::this_cluster();
    const unsigned rank = cluster.block_rank(), blocks = cluster.num_blocks();
    extern __shared__ unsigned char dynamic_smem[];
    S *cache_y = reinterpret_cast<S *>(dynamic_smem);
    S *cache_dy = cache_y + chunk;
    using Acc = typename SoftmaxAcc<M>::type;
    __shared__ Acc scratch[kBlockThreads / kWarp];
    __shared__ Acc block_sum_value;
    __shared__ int block_live; /* safe rows: an output of this block's chunk depended on x */
    const size_t clusters = gridDim.x / blocks;
    const size_t begin = rank * chunk, end = begin + chunk < dim ? begin + chunk : dim;
    constexpr int kBatch = kRowBatch<S, 2>;
    constexpr size_t step = kBlockThreads; /* blockDim.x: constant, so the batch's addresses are immediate offsets */
    for (size_t row = blockIdx.x / blocks; row < rows; row += clusters) {
        const size_t base = row * dim;
        const S *yr = y + base, *gr = dy + base;
        const auto view = opt.row(row, row, dim);
        const size_t live = view.live(dim), live_end = end < live ? end : live; /* masked: unread, dx = 0 */
        Acc partial = acc_zero<M>();
        bool live_output = false;
        for (size_t col0 = begin + threadIdx.x; col0 < live_end; col0 += kBatch * step) {
            S ry[kBatch], rg[kBatch]; /* the loads first, then the sum in column order */
            load_batch(ry, yr, col0, step, live_end);
            load_batch(rg, gr, col0, step, live_end);
#pragma unroll
            for (int k = 0; k < kBatch; ++k) {
                const size_t col = col0 + k * step;
                if (col >= live_end) break;
                if (cache_chunk) {
                    cache_y[col - begin] = ry[k];
                    cache_dy[col - begin] = rg[k];
                }
                partial = backward_term<M, kLog>(partial, T::load(ry[k]), T::load(rg[k]));
                live_output |= output_is_live<kLog>(T::load(ry[k]));
            }
        }
        const Acc mine = block_sum<M>(partial, scratch);
        int any_live = 0;
        if constexpr (Opt::kActive) any_live = __syncthreads_or(live_output); /* block-uniform */
        if (threadIdx.x == 0) {
            block_sum_value = mine;
            if constexpr (Opt::kActive) block_live = any_live;
        }
        cluster.sync();
        Acc row_sum = acc_zero<M>();
        for (unsigned r = 0; r < blocks; ++r)
            row_sum = acc_add<M>(row_sum, *cluster.map_shared_rank(&block_sum_value, r));
        if constexpr (Opt::kActive)
            for (unsigned r = 0; r < blocks; ++r) any_live |= *cluster.map_shared_rank(&block_live, r);
        cluster.sync();
        const bool zero_row = Opt::kActive && opt.safe() && !any_live;
        const size_t read_end = zero_row ? begin : live_end; /* what the outputs need: [begin, read_end) */
        S *dxr = dx + base;
        for (size_t col0 = begin + threadIdx.x; col0 < end; col0 += kBatch * step) {
            S ry[kBatch], rg[kBatch]; /* all reads before the writes: dx may be dy */
            if (cache_chunk) {
                const size_t cached_end = read_end > begin ? read_end - begin : 0;
                load_batch(ry, cache_y, col0 - begin, step, cached_end);
                load_batch(rg, cache_dy, col0 - begin, step, cached_end);
            } else {
                load_batch(ry, yr, col0, step, read_end);
                load_batch(rg, gr, col0, step, read_end);
            }
#pragma unroll
            for (int k = 0; k < kBatch; ++k) {
                const size_t col = col0 + k * step;
                if (col >= end) break;
                dxr[col] = T::store(col < read_end ? view.scale_grad(softmax_grad<M, kLog>(T::load(ry[k]),
                                                                                         T::load(rg[k]), row_sum))
                                                   : C(0));
            }
        }
    }
#else
    (void)opt, (void)y, (void)dy, (void)dx, (void)rows, (void)dim, (void)chunk, (void)cache_chunk;
#endif
}

constexpr size_t kClusterRowsFrom = 16384; /* longer rows use a cluster per row (where clusters exist) */
constexpr int kMaxCluster = 8;             /* the portable cluster size limit */

/* Chooses and launches a cluster configuration for a cluster kernel, with
 * `per_element_bytes` of shared memory per cached element (1 or 2 arrays).
 * Cluster size: enough blocks for chunks of about `chunk_target` elements,
 * 2 to 8. The grid holds as many clusters as the device keeps resident at
 * once (cudaOccupancyMaxActiveClusters), at most one per row; the kernel
 * loops over the remaining rows. The chunks are cached when they fit the
 * kernel's dynamic shared memory and that configuration can be resident;
 * else uncached; else a smaller cluster. If no configuration can be
 * resident, *launch->path stays NONE and nothing is launched: the caller
 * takes the block kernel. This is decided before any launch; a launch that
 * fails is reported, never retried on another path. */
template <class Kernel, class... Args>
cudaError_t launch_cluster(Kernel kernel, size_t rows, size_t dim, size_t chunk_target, size_t per_element_bytes,
                           const actk_device_facts &device, cudaStream_t stream, actk_softmax_launch *launch,
                           Args... args)
{
    size_t ptx = 0;
    cudaError_t err = kernel_ptx_version((const void *)kernel, device, &ptx);
    if (err != cudaSuccess) return err;
    if (ptx < 90) return cudaSuccess; /* compiled without clusters (an older-only build): the block kernel */
    size_t allowed = 0;
    err = dynamic_smem_limit((const void *)kernel, device, &allowed);
    if (err != cudaSuccess) return err;
    size_t wanted = (dim + chunk_target - 1) / chunk_target;
    int cluster = (int)(wanted > (size_t)kMaxCluster ? kMaxCluster : wanted < 2 ? 2 : wanted);
    cudaLaunchAttribute attribute[1];
    attribute[0].id = cudaLaunchAttributeClusterDimension;
    attribute[0].val.clusterDim.y = 1;
    attribute[0].val.clusterDim.z = 1;
    cudaLaunchConfig_t config = {};
    config.blockDim = dim3(kBlockThreads);
    config.stream = stream;
    config.attrs = attribute;
    config.numAttrs = 1;
    for (; cluster >= 2; cluster /= 2) {
        const size_t chunk = (dim + cluster - 1) / cluster;
        for (int cached = 1; cached >= 0; --cached) {
            if (cached && chunk * per_element_bytes > allowed) continue;
            attribute[0].val.clusterDim.x = (unsigned)cluster;
            config.gridDim = dim3((unsigned)cluster);
            config.dynamicSmemBytes = cached ? chunk * per_element_bytes : 0;
            int resident = 0;
            err = cudaOccupancyMaxActiveClusters(&resident, kernel, &config);
            if (err != cudaSuccess) {
                (void)cudaGetLastError(); /* a refused query is "not resident": try smaller, else the block kernel */
                continue;
            }
            if (resident < 1) continue;
            const size_t clusters = (size_t)resident < rows ? (size_t)resident : rows;
            config.gridDim = dim3((unsigned)(clusters * cluster));
            *launch = actk_softmax_launch{cached ? ACTK_SOFTMAX_PATH_CLUSTER_CACHED : ACTK_SOFTMAX_PATH_CLUSTER,
                                          config.gridDim.x, kBlockThreads, (unsigned)cluster, config.dynamicSmemBytes,
                                          clusters};
            err = cudaLaunchKernelEx(&config, kernel, args..., rows, dim, chunk, (bool)cached);
            if (err != cudaSuccess) {
                (void)cudaGetLastError(); /* reported through the status; leave no stale error behind */
                return err;
            }
            return cudaGetLastError();
        }
    }
    return cudaSuccess; /* no resident configuration: the caller takes the block kernel */
}

/* ---- inner > 1: softmax_strided.cuh ------------------------------------------ */

} // namespace
} // namespace actk

#include "softmax_strided.cuh" /* the strided kernels and launch_strided */

namespace actk {
namespace {

/* ---- launch ------------------------------------------------------------------ */

constexpr int kWarpThreads = 128; /* 4 rows per block in the warp kernels */
constexpr size_t kWarpRowsUpTo = 1024;

/* kWidth lanes per row: a block of kWarpThreads handles kWarpThreads / kWidth rows per turn. */
template <int kWidth, class Kernel, class... Args>
cudaError_t launch_warp(Kernel kernel, size_t rows, const actk_device_facts &device, cudaStream_t stream,
                        actk_softmax_launch *launch, Args... args)
{
    constexpr size_t kRowsPerBlock = kWarpThreads / kWidth;
    unsigned grid = 0;
    const cudaError_t err =
        resident_grid((const void *)kernel, device, kWarpThreads, 0, (rows + kRowsPerBlock - 1) / kRowsPerBlock, &grid);
    if (err != cudaSuccess) return err;
    *launch = actk_softmax_launch{kWidth == kWarp ? ACTK_SOFTMAX_PATH_WARP : ACTK_SOFTMAX_PATH_SUBWARP,
                                  grid,
                                  kWarpThreads,
                                  1,
                                  0,
                                  (size_t)grid * kRowsPerBlock};
    kernel<<<grid, kWarpThreads, 0, stream>>>(args...);
    return cudaGetLastError();
}

template <class S, bool kLog, int kCols, int kWidth = kWarp, class Opt>
cudaError_t launch_warp_forward(const Opt &opt, const S *x, S *y, size_t rows, int dim, const actk_device_facts &device,
                                cudaStream_t stream, actk_softmax_launch *launch)
{
    return launch_warp<kWidth>(softmax_forward_warp_kernel<S, kCols, kWidth, kLog, Opt>, rows, device, stream, launch,
                               opt, x, y, rows, dim);
}

template <class S, bool kLog, int kCols, int kWidth = kWarp, class Opt>
cudaError_t launch_warp_backward(const Opt &opt, const S *y, const S *dy, S *dx, size_t rows, int dim,
                                 const actk_device_facts &device, cudaStream_t stream, actk_softmax_launch *launch)
{
    return launch_warp<kWidth>(softmax_backward_warp_kernel<S, kCols, kWidth, kLog, Opt>, rows, device, stream, launch,
                               opt, y, dy, dx, rows, dim);
}

/* Values per lane for a warp-per-row kernel: the next power of two of dim/32. */
inline int cols_per_lane(size_t dim)
{
    int cols = 1;
    while ((size_t)cols * kWarp < dim) cols *= 2;
    return cols;
}

/* Rows up to this length take one lane each (softmax_*_warp_kernel with
 * kWidth = 1) holding the whole row, kCols = the next power of two >= dim:
 * the per-row work (the row's scale) is paid once per row and there are no
 * shuffles; groups of 4 to 16 lanes, one value each, cost 2 to 4 times
 * the instructions per element (PERF.md, item 12). */
constexpr size_t kSubwarpRowsUpTo = 16;

/* A cluster per row (where the device has clusters) for long rows, and for
 * rows of the block range when there are too few of them to give every SM
 * two blocks: a block per row would leave most SMs idle (PERF.md), a
 * cluster spreads each row over up to 8 SMs. Returns the chunk size to aim
 * for, or 0 for the block kernel. */
inline size_t cluster_chunk_target(size_t outer, size_t dim, const actk_device_facts &device)
{
    if (!actk_device_has_clusters(&device)) return 0;
    const bool few_rows = outer < 2 * (size_t)(device.sm_count > 0 ? device.sm_count : 1);
    if (dim > kClusterRowsFrom) return few_rows ? 2048 : 8192;
    return few_rows ? 2048 : 0;
}

/* The block kernel's persistent grid: a block per row, capped at what is resident. */
template <class Kernel>
cudaError_t block_grid(Kernel kernel, size_t rows, size_t dynamic, const actk_device_facts &device, unsigned *grid)
{
    return resident_grid((const void *)kernel, device, kBlockThreads, dynamic, rows, grid);
}

template <class S, bool kLog, class Opt>
cudaError_t softmax_forward_typed(const Opt &opt, size_t outer, size_t dim, size_t inner, const S *x, S *y,
                                  const actk_device_facts &device, cudaStream_t stream, actk_softmax_launch *launch)
{
    if (inner > 1)
        return launch_strided(softmax_forward_strided_kernel<S, kLog, Opt>, outer, dim, inner, 1, sizeof(S), device,
                              stream, launch, opt, x, y);
    if (dim <= kSubwarpRowsUpTo) {
        const int n = (int)dim;
        if (dim == 1) return launch_warp_forward<S, kLog, 1, 1>(opt, x, y, outer, n, device, stream, launch);
        if (dim == 2) return launch_warp_forward<S, kLog, 2, 1>(opt, x, y, outer, n, device, stream, launch);
        if (dim <= 4) return launch_warp_forward<S, kLog, 4, 1>(opt, x, y, outer, n, device, stream, launch);
        if (dim <= 8) return launch_warp_forward<S, kLog, 8, 1>(opt, x, y, outer, n, device, stream, launch);
        return launch_warp_forward<S, kLog, 16, 1>(opt, x, y, outer, n, device, stream, launch);
    }
    if (dim <= kWarpRowsUpTo) {
        switch (cols_per_lane(dim)) {
        case 1: return launch_warp_forward<S, kLog, 1>(opt, x, y, outer, (int)dim, device, stream, launch);
        case 2: return launch_warp_forward<S, kLog, 2>(opt, x, y, outer, (int)dim, device, stream, launch);
        case 4: return launch_warp_forward<S, kLog, 4>(opt, x, y, outer, (int)dim, device, stream, launch);
        case 8: return launch_warp_forward<S, kLog, 8>(opt, x, y, outer, (int)dim, device, stream, launch);
        case 16: return launch_warp_forward<S, kLog, 16>(opt, x, y, outer, (int)dim, device, stream, launch);
        default: return launch_warp_forward<S, kLog, 32>(opt, x, y, outer, (int)dim, device, stream, launch);
        }
    }
    cudaError_t err;
    if (const size_t target = cluster_chunk_target(outer, dim, device)) {
        err = launch_cluster(softmax_forward_cluster_kernel<S, kLog, Opt>, outer, dim, target, sizeof(S), device,
                             stream, launch, opt, x, y);
        if (err != cudaSuccess || launch->path != ACTK_SOFTMAX_PATH_NONE) return err;
    }
    /* The row cached in shared memory when it fits what this kernel may use
     * on this device (opt-in beyond 48 KiB); else read twice. */
    const auto kernel = softmax_forward_block_kernel<S, kLog, Opt>;
    size_t allowed = 0;
    err = dynamic_smem_limit((const void *)kernel, device, &allowed);
    if (err != cudaSuccess) return err;
    const bool cache_row = dim * sizeof(S) <= allowed;
    const size_t dynamic = cache_row ? dim * sizeof(S) : 0;
    unsigned grid = 0;
    err = block_grid(kernel, outer, dynamic, device, &grid);
    if (err != cudaSuccess) return err;
    *launch = actk_softmax_launch{
        cache_row ? ACTK_SOFTMAX_PATH_BLOCK_CACHED : ACTK_SOFTMAX_PATH_BLOCK, grid, kBlockThreads, 1, dynamic, grid};
    kernel<<<grid, kBlockThreads, dynamic, stream>>>(opt, x, y, outer, dim, cache_row);
    return cudaGetLastError();
}

template <class S, bool kLog, class Opt>
cudaError_t softmax_backward_typed(const Opt &opt, size_t outer, size_t dim, size_t inner, const S *y, const S *dy,
                                   S *dx, const actk_device_facts &device, cudaStream_t stream,
                                   actk_softmax_launch *launch)
{
    if (inner > 1)
        return launch_strided(softmax_backward_strided_kernel<S, kLog, Opt>, outer, dim, inner, 2, sizeof(S), device,
                              stream, launch, opt, y, dy, dx);
    if (dim <= kSubwarpRowsUpTo) {
        const int n = (int)dim;
        if (dim == 1) return launch_warp_backward<S, kLog, 1, 1>(opt, y, dy, dx, outer, n, device, stream, launch);
        if (dim == 2) return launch_warp_backward<S, kLog, 2, 1>(opt, y, dy, dx, outer, n, device, stream, launch);
        if (dim <= 4) return launch_warp_backward<S, kLog, 4, 1>(opt, y, dy, dx, outer, n, device, stream, launch);
        if (dim <= 8) return launch_warp_backward<S, kLog, 8, 1>(opt, y, dy, dx, outer, n, device, stream, launch);
        return launch_warp_backward<S, kLog, 16, 1>(opt, y, dy, dx, outer, n, device, stream, launch);
    }
    if (dim <= kWarpRowsUpTo) {
        switch (cols_per_lane(dim)) {
        case 1: return launch_warp_backward<S, kLog, 1>(opt, y, dy, dx, outer, (int)dim, device, stream, launch);
        case 2: return launch_warp_backward<S, kLog, 2>(opt, y, dy, dx, outer, (int)dim, device, stream, launch);
        case 4: return launch_warp_backward<S, kLog, 4>(opt, y, dy, dx, outer, (int)dim, device, stream, launch);
        case 8: return launch_warp_backward<S, kLog, 8>(opt, y, dy, dx, outer, (int)dim, device, stream, launch);
        case 16: return launch_warp_backward<S, kLog, 16>(opt, y, dy, dx, outer, (int)dim, device, stream, launch);
        default: return launch_warp_backward<S, kLog, 32>(opt, y, dy, dx, outer, (int)dim, device, stream, launch);
        }
    }
    cudaError_t err;
    if (const size_t target = cluster_chunk_target(outer, dim, device)) {
        err = launch_cluster(softmax_backward_cluster_kernel<S, kLog, Opt>, outer, dim, target, 2 * sizeof(S), device,
                             stream, launch, opt, y, dy, dx);
        if (err != cudaSuccess || launch->path != ACTK_SOFTMAX_PATH_NONE) return err;
    }
    const auto kernel = softmax_backward_block_kernel<S, kLog, Opt>; /* reads the row twice; no cache */
    unsigned grid = 0;
    err = block_grid(kernel, outer, 0, device, &grid);
    if (err != cudaSuccess) return err;
    *launch = actk_softmax_launch{ACTK_SOFTMAX_PATH_BLOCK, grid, kBlockThreads, 1, 0, grid};
    kernel<<<grid, kBlockThreads, 0, stream>>>(opt, y, dy, dx, outer, dim);
    return cudaGetLastError();
}

/* The plain kernels without options (NULL), else the options' kernels. */
template <class S, bool kLog>
cudaError_t forward_with(const actk_softmax_options *options, size_t outer, size_t dim, size_t inner, const S *x, S *y,
                         const actk_device_facts &device, cudaStream_t stream, actk_softmax_launch *launch)
{
    if (options == nullptr)
        return softmax_forward_typed<S, kLog>(PlainRows<S>{}, outer, dim, inner, x, y, device, stream, launch);
    return softmax_forward_typed<S, kLog>(option_rows<S>(*options, 0), outer, dim, inner, x, y, device, stream, launch);
}

template <class S, bool kLog>
cudaError_t backward_with(const actk_softmax_options *options, size_t outer, size_t dim, size_t inner, const S *y,
                          const S *dy, S *dx, const actk_device_facts &device, cudaStream_t stream,
                          actk_softmax_launch *launch)
{
    if (options == nullptr)
        return softmax_backward_typed<S, kLog>(PlainRows<S>{}, outer, dim, inner, y, dy, dx, device, stream, launch);
    return softmax_backward_typed<S, kLog>(option_rows<S>(*options, 1), outer, dim, inner, y, dy, dx, device, stream,
                                           launch);
}

} // namespace
} // namespace actk

extern "C" cudaError_t actk_launch_softmax_forward(int log_softmax, actk_dtype dtype, size_t outer, size_t dim,
                                                   size_t inner, const actk_softmax_options *options, const void *x,
                                                   void *y, const actk_device_facts *device, cudaStream_t stream,
                                                   actk_softmax_launch *launch)
{
    *launch = actk_softmax_launch{ACTK_SOFTMAX_PATH_NONE, 0, 0, 0, 0, 0};
    return actk::dispatch_dtype(dtype, [&](auto tag) {
        using S = decltype(tag);
        const S *in = static_cast<const S *>(x);
        S *out = static_cast<S *>(y);
        return log_softmax ? actk::forward_with<S, true>(options, outer, dim, inner, in, out, *device, stream, launch)
                           : actk::forward_with<S, false>(options, outer, dim, inner, in, out, *device, stream, launch);
    });
}

extern "C" cudaError_t actk_launch_softmax_backward(int log_softmax, actk_dtype dtype, size_t outer, size_t dim,
                                                    size_t inner, const actk_softmax_options *options, const void *y,
                                                    const void *dy, void *dx, const actk_device_facts *device,
                                                    cudaStream_t stream, actk_softmax_launch *launch)
{
    *launch = actk_softmax_launch{ACTK_SOFTMAX_PATH_NONE, 0, 0, 0, 0, 0};
    return actk::dispatch_dtype(dtype, [&](auto tag) {
        using S = decltype(tag);
        const S *yv = static_cast<const S *>(y);
        const S *g = static_cast<const S *>(dy);
        S *out = static_cast<S *>(dx);
        return log_softmax
                   ? actk::backward_with<S, true>(options, outer, dim, inner, yv, g, out, *device, stream, launch)
                   : actk::backward_with<S, false>(options, outer, dim, inner, yv, g, out, *device, stream, launch);
    });
}
