// SPDX-License-Identifier: MIT
/*
 * softmax_strided.cuh - softmax and log-softmax along dim of an (outer, dim,
 * inner) tensor with inner > 1 (channel softmax of NCHW, say), forward and
 * backward; part of softmax.cu (included by it after the row helpers
 * row_output and output_is_live, inside the same anonymous namespace).
 *
 * Launch shape (softmax_strided_plan.h): 1-D blocks of `groups` tiles x
 * `split` threads along dim x `width` columns; thread (g, ty, tx) owns
 * column (o, i) = tile g of the block's turn, lane tx, and walks d = ty,
 * ty + split, ... so adjacent threads read adjacent addresses (a warp's
 * loads are contiguous runs: 32 consecutive i, or for inner < 32 whole
 * (d, 0..inner) rows one after the other). Each thread keeps its own online
 * (max, rest) (or backward sum) in the dtype's math policy (softmax_math.cuh,
 * softmax_f32.cuh for f32: the same float-float accuracy as the other
 * paths), then the split threads of a column merge in shared memory in a
 * fixed tree: for h = split_pow2 / 2 .. 1, ty < h merges ty + h (if below
 * split) into itself, lower ty first. Each thread issues kStridedBatch
 * loads before it sums them (same order). The order is fixed by the plan,
 * so the bits do not depend on the grid; the host replays it
 * (tests/softmax_strided_replay.h). Then each thread writes its own
 * elements (each read before its own write: y == x is fine).
 * Few tile groups (fewer blocks than SMs, sm_90+, strided_cluster_blocks):
 * a cluster of K blocks shares each group, rank r taking d = r split + ty
 * + k K split; the ranks' tree results are merged in rank order through
 * distributed shared memory (each block reads all K, so all hold the same
 * total), no tile; the order then depends on K (the SM count): the replay
 * takes K from the launch. The column's elements may be kept in a shared-memory tile
 * (thread-private slots, [g][d][tx]: no barrier, no bank conflict) so the
 * second pass reads shared memory; the launcher takes it only when it keeps
 * as many warps resident as without it, up to 32 per SM.
 * The grid is persistent (resident_grid): blocks loop over turns of
 * `groups` tiles; the loop condition is block-uniform, so every thread
 * reaches every barrier (threads without a column merge empty stats).
 * 64-bit offsets throughout. __launch_bounds__(256, 4): at most 64
 * registers, so 4 blocks (32 warps) fit an SM's register file.
 *
 * Options (softmax_options.cuh) work as on the other paths: the row of
 * per-row arrays (temperature, LSE) is c = o * inner + i; masks are refused
 * on the host for inner > 1, so every key is live here.
 * Preconditions (host): inner >= 2, dim >= 1, outer >= 1; the plan from
 * strided_plan(outer, dim, inner); dynamic shared memory = the tile when
 * cache_tile (groups * dim * width elements per array); cluster_blocks > 1
 * only in a cluster launch of that many blocks (grid a multiple of it) on
 * sm_90+ code, and then cache_tile false.
 */
#ifndef ACTK_KERNELS_SOFTMAX_STRIDED_CUH
#define ACTK_KERNELS_SOFTMAX_STRIDED_CUH

#include "softmax_strided_plan.h"

namespace actk {
namespace {

/* Elements of its column a thread loads before it sums them (or writes
 * them): one 128-byte warp load in flight per warp would cover about a
 * third of the bytes an SM needs in flight at DRAM latency (PERF.md). */
constexpr int kStridedBatch = 4;

/* What a thread of a strided block works on in the current turn. */
struct StridedSlot {
    size_t column; /* o * inner + i: the per-row arrays' index */
    size_t base;   /* offset of x[o, 0, i] */
    size_t outer_index;
    bool active;   /* false past the last tile or past inner */
};

struct StridedCoords {
    unsigned g, ty, tx;
    __device__ StridedCoords(const StridedPlan &p)
    {
        const unsigned t = threadIdx.x, per_group = p.split * p.width;
        g = t / per_group;
        ty = (t % per_group) / p.width;
        tx = t % p.width;
    }
    __device__ StridedSlot slot(const StridedPlan &p, size_t first_tile, size_t dim, size_t inner) const
    {
        const size_t tile = first_tile + g;
        const size_t o = tile / p.tiles_per_outer;
        const size_t i = (tile % p.tiles_per_outer) * p.width + tx;
        const bool active = tile < p.tiles && i < inner;
        return {o * inner + i, (o * dim) * inner + i, o, active};
    }
    /* where this thread's column's merged result sits in the scratch */
    __device__ unsigned head(const StridedPlan &p) const { return g * p.split * p.width + tx; }
};

/* The fixed reduction tree over the split threads of each column; every
 * thread of the block must call it (barriers). Returns the column's total. */
template <class V, class Merge>
__device__ V strided_tree(const StridedPlan &p, const StridedCoords &at, unsigned cluster_blocks, V mine, V *scratch,
                          Merge merge_two)
{
    scratch[threadIdx.x] = mine;
    __syncthreads();
    for (unsigned h = p.split_pow2 / 2; h >= 1; h /= 2) {
        if (at.ty < h && at.ty + h < p.split)
            scratch[threadIdx.x] = merge_two(scratch[threadIdx.x], scratch[threadIdx.x + h * p.width]);
        __syncthreads();
    }
#if ACTK_HAS_CLUSTERS
    if (cluster_blocks > 1) { /* block-uniform: the cluster path, launched only on sm_90+ */
        cg::cluster_group cluster = cg::this_cluster();
        cluster.sync(); /* every block's tree done, visible cluster-wide */
        V total = *cluster.map_shared_rank(&scratch[at.head(p)], 0);
        for (unsigned r = 1; r < cluster_blocks; ++r)
            total = merge_two(total, *cluster.map_shared_rank(&scratch[at.head(p)], r));
        cluster.sync(); /* every remote read done before the next turn writes the scratch */
        return total;
    }
#else
    /* Compiled without clusters (code older than sm_90): the host never picks
     * the cluster path for it (kernel_ptx_version); stop loudly if it did,
     * rather than write totals of one block's share of the column. */
    if (cluster_blocks > 1) __trap();
#endif
    const V total = scratch[at.head(p)];
    __syncthreads(); /* every read done before the next turn writes the scratch */
    return total;
}

template <class S, bool kLog, class Opt>
__global__ void __launch_bounds__(kStridedBlockThreads, 4)
    softmax_forward_strided_kernel(Opt opt, const S *x, S *y, size_t outer, size_t dim, size_t inner, StridedPlan plan,
                                   bool cache_tile, unsigned cluster_blocks)
{
    using T = StorageTraits<S>;
    using C = typename T::Compute;
    using M = typename MathFor<T::kDtype>::type;
    extern __shared__ unsigned char dynamic_smem[];
    S *tile = reinterpret_cast<S *>(dynamic_smem);
    __shared__ MaxSum<M> scratch[kStridedBlockThreads];
    (void)outer;
    const StridedCoords at(plan);
    const size_t slot_base = (size_t)at.g * dim * plan.width + at.tx; /* tile slot of d: slot_base + d * width */
    /* a cluster of K blocks shares its tiles: block rank r takes d = r split + ty + k K split */
    const unsigned rank = blockIdx.x % cluster_blocks;
    const size_t d_begin = (size_t)rank * plan.split + at.ty, d_step = (size_t)cluster_blocks * plan.split;
    const size_t turn = (size_t)(gridDim.x / cluster_blocks) * plan.groups;
    for (size_t first = (size_t)(blockIdx.x / cluster_blocks) * plan.groups; first < plan.tiles; first += turn) {
        const StridedSlot c = at.slot(plan, first, dim, inner);
        /* no masks here (inner > 1): every key live. A thread without a column
         * asks for row 0 (the per-row arrays end at outer * inner). */
        const auto view = opt.row(c.active ? c.outer_index : 0, c.active ? c.column : 0, dim);
        MaxSum<M> s = MaxSum<M>::empty();
        if (c.active)
            for (size_t d0 = d_begin; d0 < dim; d0 += kStridedBatch * d_step) {
                S raw[kStridedBatch]; /* loads first: kStridedBatch in flight per thread */
#pragma unroll
                for (int k = 0; k < kStridedBatch; ++k) {
                    const size_t d = d0 + k * d_step;
                    if (d < dim) raw[k] = x[c.base + d * inner];
                }
#pragma unroll
                for (int k = 0; k < kStridedBatch; ++k) { /* then the sums, in increasing d */
                    const size_t d = d0 + k * d_step;
                    if (d >= dim) break;
                    if (cache_tile) tile[slot_base + d * plan.width] = raw[k];
                    online_add(s, view.scaled(T::load(raw[k]), d));
                }
            }
        const MaxSum<M> total =
            strided_tree(plan, at, cluster_blocks, s, scratch, [](MaxSum<M> a, MaxSum<M> b) { return merge(a, b); });
        if (!c.active) continue; /* after the barriers */
        const RowScale<M> scale = row_scale<kLog>(total);
        if (at.ty == 0 && rank == 0) opt.write_lse(c.column, total); /* once per column, cluster or not */
        const RowOutput<C> out = row_output<kLog>(opt, total, scale);
        for (size_t d0 = d_begin; d0 < dim; d0 += kStridedBatch * d_step) {
            S raw[kStridedBatch]; /* all reads before the writes: y == x is allowed, each element is read before its own
                                     write */
#pragma unroll
            for (int k = 0; k < kStridedBatch; ++k) {
                const size_t d = d0 + k * d_step;
                if (d < dim) raw[k] = cache_tile ? tile[slot_base + d * plan.width] : x[c.base + d * inner];
            }
#pragma unroll
            for (int k = 0; k < kStridedBatch; ++k) {
                const size_t d = d0 + k * d_step;
                if (d < dim)
                    y[c.base + d * inner] =
                        T::store(out.of(softmax_value<kLog>(view.scaled(T::load(raw[k]), d), scale)));
            }
        }
    }
}

/* The backward's per-column state: the row sum and (options) whether any
 * output depended on x. */
template <class Acc> struct StridedBackwardSum {
    Acc sum;
    int live;
};

template <class S, bool kLog, class Opt>
__global__ void __launch_bounds__(kStridedBlockThreads, 4)
    softmax_backward_strided_kernel(Opt opt, const S *y, const S *dy, S *dx, size_t outer, size_t dim, size_t inner,
                                    StridedPlan plan, bool cache_tile, unsigned cluster_blocks)
{
    using T = StorageTraits<S>;
    using C = typename T::Compute;
    using M = typename MathFor<T::kDtype>::type;
    using Acc = typename SoftmaxAcc<M>::type;
    using State = StridedBackwardSum<Acc>;
    extern __shared__ unsigned char dynamic_smem[];
    S *tile_y = reinterpret_cast<S *>(dynamic_smem);
    S *tile_dy = tile_y + (cache_tile ? (size_t)plan.groups * dim * plan.width : 0);
    __shared__ State scratch[kStridedBlockThreads];
    (void)outer;
    const StridedCoords at(plan);
    const size_t slot_base = (size_t)at.g * dim * plan.width + at.tx;
    /* a cluster of K blocks shares its tiles: block rank r takes d = r split + ty + k K split */
    const unsigned rank = blockIdx.x % cluster_blocks;
    const size_t d_begin = (size_t)rank * plan.split + at.ty, d_step = (size_t)cluster_blocks * plan.split;
    const size_t turn = (size_t)(gridDim.x / cluster_blocks) * plan.groups;
    for (size_t first = (size_t)(blockIdx.x / cluster_blocks) * plan.groups; first < plan.tiles; first += turn) {
        const StridedSlot c = at.slot(plan, first, dim, inner);
        /* no masks here (inner > 1): every key live. A thread without a column
         * asks for row 0 (the per-row arrays end at outer * inner). */
        const auto view = opt.row(c.active ? c.outer_index : 0, c.active ? c.column : 0, dim);
        State s = {acc_zero<M>(), 0};
        if (c.active)
            for (size_t d0 = d_begin; d0 < dim; d0 += kStridedBatch * d_step) {
                S ry[kStridedBatch], rg[kStridedBatch]; /* loads first, then the sum in increasing d */
#pragma unroll
                for (int k = 0; k < kStridedBatch; ++k) {
                    const size_t d = d0 + k * d_step;
                    if (d < dim) {
                        ry[k] = y[c.base + d * inner];
                        rg[k] = dy[c.base + d * inner];
                    }
                }
#pragma unroll
                for (int k = 0; k < kStridedBatch; ++k) {
                    const size_t d = d0 + k * d_step;
                    if (d >= dim) break;
                    if (cache_tile) {
                        tile_y[slot_base + d * plan.width] = ry[k];
                        tile_dy[slot_base + d * plan.width] = rg[k];
                    }
                    s.sum = backward_term<M, kLog>(s.sum, T::load(ry[k]), T::load(rg[k]));
                    s.live |= output_is_live<kLog>(T::load(ry[k])) ? 1 : 0;
                }
            }
        const State total = strided_tree(plan, at, cluster_blocks, s, scratch, [](State a, State b) {
            return State{acc_add<M>(a.sum, b.sum), a.live | b.live};
        });
        if (!c.active) continue; /* after the barriers */
        const bool zero_row = Opt::kActive && opt.safe() && !total.live;
        for (size_t d0 = d_begin; d0 < dim; d0 += kStridedBatch * d_step) {
            S ry[kStridedBatch], rg[kStridedBatch]; /* reads before writes (dx may be dy) */
#pragma unroll
            for (int k = 0; k < kStridedBatch; ++k) {
                const size_t d = d0 + k * d_step;
                if (d < dim) {
                    ry[k] = cache_tile ? tile_y[slot_base + d * plan.width] : y[c.base + d * inner];
                    rg[k] = cache_tile ? tile_dy[slot_base + d * plan.width] : dy[c.base + d * inner];
                }
            }
#pragma unroll
            for (int k = 0; k < kStridedBatch; ++k) {
                const size_t d = d0 + k * d_step;
                if (d < dim)
                    dx[c.base + d * inner] = T::store(
                        zero_row ? C(0)
                                 : view.scale_grad(softmax_grad<M, kLog>(T::load(ry[k]), T::load(rg[k]), total.sum)));
            }
        }
    }
}

/* The persistent grid and the tile decision for a strided kernel with
 * `arrays` cached arrays of `elem` bytes, then the launch. The tile is taken
 * when it fits this kernel's dynamic shared memory on this device and keeps
 * at least as many threads resident as the uncached kernel, up to 1024 (32
 * warps) per SM: a tile that costs occupancy below that loses more latency
 * hiding than the second read (from L2, the block's own recent reads) costs.
 * The cluster configuration (strided_cluster_blocks) is decided before any
 * launch: taken when cudaOccupancyMaxActiveClusters says one fits, else the
 * plain launch; a launch that fails is reported, never retried. */
template <class Kernel, class... Args>
cudaError_t launch_strided(Kernel kernel, size_t outer, size_t dim, size_t inner, size_t arrays, size_t elem,
                           const actk_device_facts &device, cudaStream_t stream, actk_softmax_launch *launch,
                           Args... args)
{
    const StridedPlan plan = strided_plan(outer, dim, inner);
    size_t allowed = 0;
    cudaError_t err = dynamic_smem_limit((const void *)kernel, device, &allowed);
    if (err != cudaSuccess) return err;
    if (const unsigned cluster = strided_cluster_blocks(plan, dim, device); cluster > 1) {
        size_t ptx = 0;
        err = kernel_ptx_version((const void *)kernel, device, &ptx);
        if (err != cudaSuccess) return err;
        cudaLaunchAttribute attribute[1];
        attribute[0].id = cudaLaunchAttributeClusterDimension;
        attribute[0].val.clusterDim.x = cluster;
        attribute[0].val.clusterDim.y = 1;
        attribute[0].val.clusterDim.z = 1;
        cudaLaunchConfig_t config = {};
        config.gridDim = dim3(cluster);
        config.blockDim = dim3(plan.threads);
        config.dynamicSmemBytes = 0;
        config.stream = stream;
        config.attrs = attribute;
        config.numAttrs = 1;
        int resident = 0;
        if (ptx >= 90 && cudaOccupancyMaxActiveClusters(&resident, kernel, &config) != cudaSuccess) {
            (void)cudaGetLastError(); /* a refused query is "not resident": the plain launch */
            resident = 0;
        }
        if (ptx >= 90 && resident >= 1) {
            const size_t clusters = (size_t)resident < plan.blocks ? (size_t)resident : plan.blocks;
            config.gridDim = dim3((unsigned)(clusters * cluster));
            *launch = actk_softmax_launch{ACTK_SOFTMAX_PATH_STRIDED_CLUSTER, config.gridDim.x, plan.threads, cluster, 0,
                                          clusters * plan.groups * plan.width};
            err = cudaLaunchKernelEx(&config, kernel, args..., outer, dim, inner, plan, false, cluster);
            if (err != cudaSuccess) {
                (void)cudaGetLastError(); /* reported through the status; leave no stale error behind */
                return err;
            }
            return cudaGetLastError();
        }
    }
    size_t uncached_blocks = 1;
    err = resident_blocks_per_sm((const void *)kernel, device, (int)plan.threads, 0, &uncached_blocks);
    if (err != cudaSuccess) return err;
    const size_t tile_bytes = (size_t)plan.groups * dim * plan.width * elem * arrays;
    bool cache_tile = false;
    if (tile_bytes <= allowed) {
        size_t cached_blocks = 1;
        err = resident_blocks_per_sm((const void *)kernel, device, (int)plan.threads, tile_bytes, &cached_blocks);
        if (err != cudaSuccess) return err;
        const size_t wanted = uncached_blocks * plan.threads < 1024 ? uncached_blocks * plan.threads : 1024;
        cache_tile = cached_blocks * plan.threads >= wanted;
    }
    const size_t dynamic = cache_tile ? tile_bytes : 0;
    unsigned grid = 0;
    err = resident_grid((const void *)kernel, device, (int)plan.threads, dynamic, plan.blocks, &grid);
    if (err != cudaSuccess) return err;
    *launch = actk_softmax_launch{cache_tile ? ACTK_SOFTMAX_PATH_STRIDED_TILED : ACTK_SOFTMAX_PATH_STRIDED, grid,
                                  plan.threads, 1, dynamic, (size_t)grid * plan.groups * plan.width};
    kernel<<<grid, plan.threads, dynamic, stream>>>(args..., outer, dim, inner, plan, cache_tile, 1u);
    return cudaGetLastError();
}

} // namespace
} // namespace actk

#endif
