// SPDX-License-Identifier: MIT
/*
 * ew2d_launch.h - the C entry into the 2-D element-wise kernels (row
 * strides, optional fused bias, dbias), called by host/cuda_ew2d.c after
 * validation.
 */
#ifndef ACTK_KERNELS_EW2D_LAUNCH_H
#define ACTK_KERNELS_EW2D_LAUNCH_H

#include "actk/actk.h"

#include <cuda_runtime_api.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int backward;
    actk_act act;
    size_t rows, cols, ldx, ldy, ldo; /* ldy: y (forward) or dy (backward); ldo: dx */
    const void *x, *bias, *dy;        /* bias may be NULL */
    void *out;                        /* y or dx */
    void *dbias;                      /* backward: NULL or cols values */
    void *workspace;                  /* with dbias: splits * cols (hi, lo) pairs */
    size_t splits, rows_per_split;    /* the host's plan (actk_2d_make_plan) */
} actk_2d_launch_args;

cudaError_t actk_launch_2d(actk_dtype dtype, const actk_2d_launch_args *args, int sm_count, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
