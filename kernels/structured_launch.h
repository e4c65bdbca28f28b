// SPDX-License-Identifier: MIT
/*
 * structured_launch.h - the C entry into the softmax, PReLU, Maxout and
 * RReLU kernels, called by host/cuda/cuda_structured.c after validation.
 * Each returns the launch error (cudaSuccess if none).
 */
#ifndef ACTK_KERNELS_STRUCTURED_LAUNCH_H
#define ACTK_KERNELS_STRUCTURED_LAUNCH_H

#include "actk/actk.h"
#include "device_facts.h"
#include "prelu_plan.h"

#include <cuda_runtime_api.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Which softmax kernel ran, and how it was launched (see softmax.cu's
 * dispatch); recorded per thread for the tests (cuda_test_hooks.h). */
typedef enum {
    ACTK_SOFTMAX_PATH_NONE = 0,        /* nothing launched: an empty tensor, or an error */
    ACTK_SOFTMAX_PATH_WARP,            /* inner == 1, short rows: a warp per row, the row in registers */
    ACTK_SOFTMAX_PATH_BLOCK_CACHED,    /* a block per row, the row cached in shared memory (forward) */
    ACTK_SOFTMAX_PATH_BLOCK,           /* a block per row, the row read twice from device memory */
    ACTK_SOFTMAX_PATH_CLUSTER_CACHED,  /* a thread-block cluster per row, chunks cached in shared memory */
    ACTK_SOFTMAX_PATH_CLUSTER,         /* a thread-block cluster per row, chunks read twice */
    ACTK_SOFTMAX_PATH_STRIDED_TILED,   /* inner > 1: columns x threads along dim, the columns in a shared-memory tile */
    ACTK_SOFTMAX_PATH_STRIDED,         /* inner > 1: columns x threads along dim, read twice */
    ACTK_SOFTMAX_PATH_STRIDED_CLUSTER, /* inner > 1, few tiles (sm_90+): a cluster of blocks shares each block's tiles
                                        */
    ACTK_SOFTMAX_PATH_SUBWARP, /* inner == 1, dim <= 16: one lane per row, 32 rows per warp */
    ACTK_SOFTMAX_PATH_COUNT
} actk_softmax_path;

typedef struct {
    actk_softmax_path path;
    unsigned grid;        /* blocks launched */
    unsigned block;       /* threads per block */
    unsigned cluster;     /* blocks per cluster (1 without clusters) */
    size_t dynamic_smem;  /* dynamic shared memory per block, bytes */
    size_t rows_per_pass; /* rows (columns for the strided kernels) the grid covers per turn of its loop */
} actk_softmax_launch;

/* `device`: the current device's facts (host/cuda/cuda_common.c); clusters are
 * used only where actk_device_has_clusters(device). *launch is filled on
 * every return (path NONE when nothing was launched). `options`: NULL for
 * the plain kernels, else validated options (actk_check_softmax_ex_args)
 * for the options' kernels (softmax_options.cuh). */
cudaError_t actk_launch_softmax_forward(int log_softmax, actk_dtype dtype, size_t outer, size_t dim, size_t inner,
                                        const actk_softmax_options *options, const void *x, void *y,
                                        const actk_device_facts *device, cudaStream_t stream,
                                        actk_softmax_launch *launch);
cudaError_t actk_launch_softmax_backward(int log_softmax, actk_dtype dtype, size_t outer, size_t dim, size_t inner,
                                         const actk_softmax_options *options, const void *y, const void *dy, void *dx,
                                         const actk_device_facts *device, cudaStream_t stream,
                                         actk_softmax_launch *launch);
cudaError_t actk_launch_prelu_forward(actk_dtype dtype, size_t outer, size_t channels, size_t inner, const void *x,
                                      const void *slope, void *y, int sm_count, cudaStream_t stream);
/* plan: actk_prelu_make_plan's (prelu_plan.h); the workspace holds its
 * `partials` (hi, lo) pairs of the compute type (see prelu.cu). */
cudaError_t actk_launch_prelu_backward(actk_dtype dtype, size_t outer, size_t channels, size_t inner, const void *x,
                                       const void *slope, const void *dy, void *dx, void *dslope, void *workspace,
                                       const actk_prelu_plan *plan, int sm_count, cudaStream_t stream);
cudaError_t actk_launch_maxout(int backward, actk_dtype dtype, size_t outer, size_t units, size_t pieces, size_t inner,
                               const void *x, const void *dy, void *out, int sm_count, cudaStream_t stream);
cudaError_t actk_launch_rrelu(int backward, actk_rrelu params, actk_dtype dtype, size_t n, const void *x,
                              const void *dy, void *out, int sm_count, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
