// SPDX-License-Identifier: MIT
/*
 * prelu_plan.h - how the GPU PReLU backward (kernels/prelu.cu) splits the
 * dslope reduction, computed on the host from the shape alone (so the
 * workspace size query needs no device), and the longest chain of
 * additions behind any dslope (for the documented error bound).
 * C and C++, header-only: the host wrapper, the size query and the tests
 * (which replay the kernels' order) all use this one definition.
 *
 * The tensor is seen as `outer` rows of J = channels * inner columns.
 * Pass 1: blocks of block_x * block_y threads; thread (x, y) of block
 * (gx, s) owns column j = gx * block_x + x and walks rows
 * s * rows_per_split + y, + block_y, ... below (s + 1) * rows_per_split;
 * the block_y threads of a column are then summed in a fixed tree into
 * partial[s * J + j]. Wide rows (J >= 256): 256 x 1 blocks. Narrow rows
 * (J < 256, e.g. nn.PReLU()'s single slope): J x floor(256 / J) blocks, so
 * a thread's column (hence its channel) never changes and the block's
 * accesses stay contiguous. splits is chosen for about 2^20 threads.
 * Pass 2: for channel c, 256 threads sum its splits * inner partials
 * (thread t takes entries t, t + 256, ...), then a fixed tree.
 */
#ifndef ACTK_KERNELS_PRELU_PLAN_H
#define ACTK_KERNELS_PRELU_PLAN_H

#include <stddef.h>

#define ACTK_PRELU_THREADS 256 /* threads per block in both passes */

typedef struct {
    size_t block_x, block_y; /* pass 1 block shape */
    size_t grid_x;           /* pass 1 blocks along the columns */
    size_t splits;           /* pass 1 blocks along the rows (grid y) */
    size_t rows_per_split;
    size_t partials; /* splits * J: the (hi, lo) pairs in the workspace */
} actk_prelu_plan;

static inline actk_prelu_plan actk_prelu_make_plan(size_t outer, size_t channels, size_t inner)
{
    actk_prelu_plan plan = {0, 0, 0, 0, 0, 0};
    const size_t columns = channels * inner;
    if (outer == 0 || columns == 0) return plan;
    plan.block_x = columns >= ACTK_PRELU_THREADS ? ACTK_PRELU_THREADS : columns;
    plan.block_y = ACTK_PRELU_THREADS / plan.block_x;
    plan.grid_x = (columns + plan.block_x - 1) / plan.block_x;
    const size_t threads_per_split = plan.grid_x * plan.block_x * plan.block_y;
    size_t splits = ((size_t)1 << 20) / threads_per_split;
    const size_t row_groups = (outer + plan.block_y - 1) / plan.block_y; /* at least a row per thread */
    if (splits > row_groups) splits = row_groups;
    if (splits > 65535) splits = 65535; /* the grid's y limit */
    if (splits < 1) splits = 1;
    plan.rows_per_split = (outer + splits - 1) / splits;
    plan.splits = (outer + plan.rows_per_split - 1) / plan.rows_per_split; /* no empty split */
    plan.partials = plan.splits * columns;
    return plan;
}

/* The most additions any term of a dslope goes through: pass 1's walk and
 * tree, pass 2's walk and tree. The sum's error is within
 * 4u^2 * chain * sum |x * dy| (compensated.cuh) before its final rounding. */
static inline size_t actk_prelu_longest_chain(const actk_prelu_plan *plan, size_t inner)
{
    if (plan->splits == 0) return 0;
    size_t tree1 = 0, tree2 = 0;
    while (((size_t)1 << tree1) < plan->block_y) ++tree1;
    while (((size_t)1 << tree2) < ACTK_PRELU_THREADS) ++tree2;
    const size_t walk1 = (plan->rows_per_split + plan->block_y - 1) / plan->block_y;
    const size_t walk2 = (plan->splits * inner + ACTK_PRELU_THREADS - 1) / ACTK_PRELU_THREADS;
    return walk1 + tree1 + walk2 + tree2;
}

#endif
