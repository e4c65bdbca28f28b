// SPDX-License-Identifier: MIT
/*
 * cross_entropy_layout.h - the GPU cross-entropy's workspace layout, shared
 * by the host validation (host/cross_entropy_args.c) and the kernels
 * (cross_entropy.cu). Plain C, no CUDA header.
 *
 * SUM/MEAN: a 16-byte header holding the count of non-ignored rows (an
 * unsigned long long, written by the count kernel for MEAN), then `rows`
 * floats, the rows' losses, summed in a fixed order by the reduce kernel.
 */
#ifndef ACTK_KERNELS_CROSS_ENTROPY_LAYOUT_H
#define ACTK_KERNELS_CROSS_ENTROPY_LAYOUT_H

#define ACTK_CE_WORKSPACE_HEADER 16

#endif
