// SPDX-License-Identifier: MIT
/*
 * softmax_strided_plan.h - the block shape of the strided softmax kernels
 * (softmax_strided.cuh: inner > 1), chosen on the host from the tensor's
 * shape alone. Host-only C++ (no CUDA call), shared with the tests, which
 * replay the reduction order it implies (test_softmax_strided_on_host.cpp)
 * and check the launch the library reports.
 *
 * A block of at most kStridedBlockThreads threads is `groups` tiles of
 * `width` columns (o, i0 .. i0 + width) times `split` threads along dim:
 * thread t is (g, ty, tx) with t = (g * split + ty) * width + tx, and reads
 * x[o, d, i0 + tx] for d = ty, ty + split, ... Thresholds:
 *  - width = inner when inner < 32 (a tile is all of one o's inner range,
 *    so the lanes of a warp cover (d, i) pairs that are contiguous in
 *    memory: full sectors), else 32 (a warp reads 32 consecutive i: 128
 *    bytes f32). inner >= 32 not a multiple of 32 leaves the last tile of
 *    each o part-empty (inner = 33: half the lanes idle, see PERF.md);
 *  - split = min(256 / width, dim): as many threads along dim as fit, never
 *    more than dim (8 for width 32, 36 for inner = 7);
 *  - groups = 256 / (width * split): short columns put several consecutive
 *    tiles in one block (consecutive o when width = inner: still one
 *    contiguous run);
 *  - split_pow2: the smallest power of two >= split, the span of the
 *    reduction tree (step h = split_pow2 / 2, ..., 1: thread ty < h merges
 *    ty + h when that is below split);
 *  - fewer blocks than SMs (few, long columns): a cluster per block's
 *    tiles on sm_90+ (strided_cluster_blocks, below).
 */
#ifndef ACTK_KERNELS_SOFTMAX_STRIDED_PLAN_H
#define ACTK_KERNELS_SOFTMAX_STRIDED_PLAN_H

#include "device_facts.h"

#include <stddef.h>

namespace actk {

constexpr unsigned kStridedBlockThreads = 256;
constexpr unsigned kStridedMaxWidth = 32;

struct StridedPlan {
    unsigned width;         /* columns of a tile (consecutive i) */
    unsigned split;         /* threads along dim per column */
    unsigned split_pow2;    /* the reduction tree's span */
    unsigned groups;        /* tiles per block */
    unsigned threads;       /* groups * split * width <= kStridedBlockThreads */
    size_t tiles_per_outer; /* ceil(inner / width) */
    size_t tiles;           /* outer * tiles_per_outer */
    size_t blocks;          /* blocks that cover every tile once */
};

/* Preconditions: outer, dim >= 1, inner >= 2, outer * dim * inner fits size_t. */
inline StridedPlan strided_plan(size_t outer, size_t dim, size_t inner)
{
    StridedPlan p;
    p.width = inner < kStridedMaxWidth ? (unsigned)inner : kStridedMaxWidth;
    const unsigned most = kStridedBlockThreads / p.width;
    p.split = dim < most ? (unsigned)dim : most;
    p.split_pow2 = 1;
    while (p.split_pow2 < p.split) p.split_pow2 *= 2;
    p.groups = kStridedBlockThreads / (p.width * p.split);
    p.threads = p.groups * p.split * p.width;
    p.tiles_per_outer = (inner + p.width - 1) / p.width;
    p.tiles = outer * p.tiles_per_outer;
    p.blocks = (p.tiles + p.groups - 1) / p.groups;
    return p;
}

/* Few tiles (fewer blocks than SMs) with long columns: a cluster of K
 * blocks shares each block's tiles, each block taking 1/K of dim, merged
 * through distributed shared memory in rank order (softmax_strided.cuh).
 * K fills the SMs, at most 8 (the portable cluster size), and only while
 * each thread keeps at least kStridedClusterMinPerThread elements; K >= 2 or no
 * cluster. Only where the device has clusters (the launcher also checks
 * that the kernel was compiled for them and that a cluster is resident).
 * No tile on this path (so few columns are small: the second read hits
 * L2). Returns K, or 1 for the plain launch. */
constexpr size_t kStridedClusterMinPerThread = 16;
constexpr unsigned kStridedMaxCluster = 8; /* the portable cluster size */

inline unsigned strided_cluster_blocks(const StridedPlan &plan, size_t dim, const actk_device_facts &device)
{
    if (!actk_device_has_clusters(&device)) return 1;
    const size_t sms = (size_t)(device.sm_count > 0 ? device.sm_count : 1);
    if (plan.blocks >= sms) return 1;
    size_t k = (sms + plan.blocks - 1) / plan.blocks;                     /* blocks to fill the SMs */
    const size_t by_length =
        dim / ((size_t)plan.split * kStridedClusterMinPerThread); /* each thread keeps enough work */
    if (k > by_length) k = by_length;
    if (k > kStridedMaxCluster) k = kStridedMaxCluster;
    return k >= 2 ? (unsigned)k : 1;
}

} // namespace actk

#endif
