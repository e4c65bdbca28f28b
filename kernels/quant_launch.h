// SPDX-License-Identifier: MIT
/*
 * quant_launch.h - the C entry into the FP8-output kernels, called by
 * host/cuda/cuda_quant.c after validation.
 */
#ifndef ACTK_KERNELS_QUANT_LAUNCH_H
#define ACTK_KERNELS_QUANT_LAUNCH_H

#include "actk/actk.h"

#include <cuda_runtime_api.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One quantized forward. gated = 0: y = act(x + bias); gated = 1: y =
 * act(gate + bias_gate) * (up + bias_up) in layout/gate. groups: scales
 * per row (actk_quant_groups). */
typedef struct {
    int gated;
    actk_act act;
    actk_gated_layout layout;
    actk_gate_position gate;
    size_t rows, cols, ldx, ldy, groups;
    const void *x, *bias; /* bias may be NULL */
    void *y;
    actk_quant q;
} actk_quant_launch_args;

cudaError_t actk_launch_quant(actk_dtype dtype, const actk_quant_launch_args *args, int sm_count, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
