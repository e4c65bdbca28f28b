// SPDX-License-Identifier: MIT
/*
 * elementwise_launch.h - the C entry into the element-wise kernels, called
 * by host/cuda/cuda_elementwise.c after the arguments have been validated.
 */
#ifndef ACTK_KERNELS_ELEMENTWISE_LAUNCH_H
#define ACTK_KERNELS_ELEMENTWISE_LAUNCH_H

#include "actk/actk.h"
#include "direction.h"

#include <cuda_runtime_api.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ACTK_DIR_FORWARD: in0 = x; ACTK_DIR_BACKWARD: in0 = x, in1 = dy;
 * ACTK_DIR_BACKWARD_FROM_Y: in0 = y, in1 = dy. Returns the launch error. */
cudaError_t actk_launch_elementwise(actk_direction direction, actk_act act, actk_dtype dtype, size_t n,
                                    const void *in0, const void *in1, void *out, int sm_count,
                                    cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
