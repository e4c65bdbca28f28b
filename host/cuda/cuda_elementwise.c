// SPDX-License-Identifier: MIT
/*
 * cuda_elementwise.c - the actk_cuda_* element-wise entry points (built
 * when CUDA is enabled). Validates on the host exactly as the CPU path
 * does, checks the device, pointers and stream (cuda_common.c), then
 * launches the kernels. Nothing here synchronises or allocates, so every
 * call can be captured in a graph.
 */
#include "cuda_common.h"
#include "../kernels/elementwise_launch.h"

static actk_status cuda_elementwise(const char *fn, actk_direction dir, actk_act act, actk_dtype dtype, size_t n,
                                    const void *in0, const void *in1, void *out, actk_stream stream)
{
    actk_status status = actk_check_elementwise(fn, dir, act, dtype, n, in0, in1, out);
    if (status != ACTK_SUCCESS) return status;
    int sm_count = 0;
    const actk_device_pointer pointers[3] = {{dir == ACTK_DIR_BACKWARD_FROM_Y ? "y" : "x", in0},
                                             {"dy", dir == ACTK_DIR_FORWARD ? NULL : in1},
                                             {dir == ACTK_DIR_FORWARD ? "y" : "dx", out}};
    status = actk_cuda_prepare(fn, stream, pointers, n == 0 ? 0 : 3, &sm_count);
    if (status != ACTK_SUCCESS || n == 0) return status;

    const cudaError_t err = actk_launch_elementwise(dir, act, dtype, n, in0, in1, out, sm_count, (cudaStream_t)stream);
    if (err != cudaSuccess) return actk_cuda_failure(fn, "kernel launch", err);
    return ACTK_SUCCESS;
}

actk_status actk_cuda_forward(actk_act act, actk_dtype dtype, size_t n, const void *x, void *y, actk_stream stream)
{
    return cuda_elementwise("actk_cuda_forward", ACTK_DIR_FORWARD, act, dtype, n, x, NULL, y, stream);
}

actk_status actk_cuda_backward(actk_act act, actk_dtype dtype, size_t n, const void *x, const void *dy, void *dx,
                               actk_stream stream)
{
    return cuda_elementwise("actk_cuda_backward", ACTK_DIR_BACKWARD, act, dtype, n, x, dy, dx, stream);
}

actk_status actk_cuda_backward_from_y(actk_act act, actk_dtype dtype, size_t n, const void *y, const void *dy,
                                      void *dx, actk_stream stream)
{
    return cuda_elementwise("actk_cuda_backward_from_y", ACTK_DIR_BACKWARD_FROM_Y, act, dtype, n, y, dy, dx, stream);
}
