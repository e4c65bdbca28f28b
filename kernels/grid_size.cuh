// SPDX-License-Identifier: MIT
/*
 * grid_size.cuh - the one grid-sizing rule of the grid-stride launchers
 * (element-wise, ew2d, gated, PReLU forward, Maxout, RReLU): as many blocks
 * as the work needs, capped at kGridWaves "waves" of the device so a large
 * tensor reuses threads instead of launching millions of blocks.
 *
 * A wave here is sm_count * (2048 / block) blocks: the blocks of `block`
 * threads that fit on every SM at 2048 resident threads per SM (sm_70 to
 * sm_90; Turing and consumer Ampere/Ada hold fewer, which only makes the cap
 * a few more waves there). The cap bounds the grid; correctness never
 * depends on it, since every kernel loops until its work is done. grid.x up
 * to 2^31 - 1 is legal on every supported GPU; the cap keeps grids far below.
 * Host-only; no CUDA runtime call.
 */
#ifndef ACTK_KERNELS_GRID_SIZE_CUH
#define ACTK_KERNELS_GRID_SIZE_CUH

#include <stddef.h>

namespace actk {

constexpr int kGridWaves = 32;

/* Blocks for a grid-stride loop over `work` items with `block` threads per
 * block, capped at kGridWaves waves; at least 1 (callers with no work
 * return before launching). sm_count <= 0 (unknown) counts as 1 SM. */
inline unsigned grid_for(size_t work, int block, int sm_count)
{
    size_t blocks = (work + block - 1) / block;
    const size_t cap = (size_t)(sm_count > 0 ? sm_count : 1) * (2048 / block) * kGridWaves;
    if (blocks > cap) blocks = cap;
    return (unsigned)(blocks ? blocks : 1);
}

} // namespace actk

#endif
