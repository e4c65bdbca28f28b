// SPDX-License-Identifier: MIT
/*
 * cross_entropy_launch.h - the C entry into the cross-entropy kernels
 * (cross_entropy.cu), called by host/cuda/cuda_cross_entropy.c after
 * validation.
 */
#ifndef ACTK_KERNELS_CROSS_ENTROPY_LAUNCH_H
#define ACTK_KERNELS_CROSS_ENTROPY_LAUNCH_H

#include "actk/actk.h"
#include "cross_entropy_layout.h"
#include "device_facts.h"

#include <cuda_runtime_api.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif


typedef struct {
    actk_cross_entropy_options options;
    actk_dtype dtype;
    size_t rows, classes, ld, ldgrad;
    actk_index_type target_type;
    const void *logits;
    const void *targets;
    float *loss;
    float *lse;
    void *grad;
    int *error_flag;
    void *workspace; /* SUM/MEAN only */
} actk_ce_launch_args;

/* How the row kernel was launched (for the tests). */
typedef struct {
    unsigned grid;
    size_t dynamic_smem;
    int cached; /* the row was cached in shared memory: logits read once */
    unsigned cluster; /* blocks per row of the cluster kernel; 0: one block per row */
    int row_cached; /* the row kernel kept the raw row (S) in shared memory (cached is 1 too) */
    int packed; /* the cached or cluster kernel read and wrote whole packs (aligned logits and gradient) */
    int prefetch; /* the cached or cluster kernel prefetched each block's next row into L2 */
} actk_ce_launch;

cudaError_t actk_launch_cross_entropy(const actk_ce_launch_args *args, const actk_device_facts *device,
                                      cudaStream_t stream, actk_ce_launch *launch);

#ifdef __cplusplus
}
#endif

#endif
