// SPDX-License-Identifier: MIT
/*
 * gated_launch.h - the C entry into the gated kernels, called by
 * host/cuda/cuda_gated.c after the arguments have been validated.
 */
#ifndef ACTK_KERNELS_GATED_LAUNCH_H
#define ACTK_KERNELS_GATED_LAUNCH_H

#include "actk/actk.h"

#include <cuda_runtime_api.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One gated call. clamped: gpt-oss's clamped SwiGLU with act.alpha =
 * alpha and act.beta = limit; else act(gate) * up. Leading dimensions in
 * elements: ldx (x), ldy (forward: y; backward: dy), lddx (backward: dx). */
typedef struct {
    int backward;
    int clamped;
    actk_act act;
    actk_gated_layout layout;
    actk_gate_position gate;
    size_t rows, cols, ldx, ldy, lddx;
    const void *x;
    const void *dy; /* backward only */
    void *out;      /* y or dx */
    const void *bias; /* NULL, or 2 * cols values in a row's layout */
    /* backward with a bias or dbias (gated_dbias_engine.cuh): dbias NULL or
     * 2 * cols values; workspace: splits * 2 * cols (hi, lo) pairs; the
     * host's plan (actk_gated_dbias_plan) */
    void *dbias;
    void *workspace;
    size_t splits, rows_per_split;
} actk_gated_launch_args;

/* Returns the launch error (cudaSuccess if none). */
cudaError_t actk_launch_gated(actk_dtype dtype, const actk_gated_launch_args *args, int sm_count,
                              cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
