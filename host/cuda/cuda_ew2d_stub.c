// SPDX-License-Identifier: MIT
/*
 * cuda_ew2d_stub.c - the actk_cuda_*_2d entry points of a build without
 * CUDA: they validate their arguments like every build, then return
 * ACTK_ERROR_NO_DEVICE.
 */
#include "ew2d_args.h"

actk_status actk_cuda_forward_2d(actk_act act, actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx,
                                 const void *bias, void *y, size_t ldy, actk_stream stream)
{
    (void)stream;
    size_t elem;
    const char *fn = "actk_cuda_forward_2d";
    const actk_status s = actk_check_2d_args(fn, 0, act, dtype, rows, cols, x, ldx, bias, NULL, 0, y, ldy, NULL, &elem);
    if (s != ACTK_SUCCESS) return s;
    return actk_fail(ACTK_ERROR_NO_DEVICE, "%s: actk was built without CUDA support", fn);
}

actk_status actk_cuda_backward_2d(actk_act act, actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx,
                                  const void *bias, const void *dy, size_t lddy, void *dx, size_t lddx, void *dbias,
                                  void *workspace, size_t workspace_bytes, actk_stream stream)
{
    (void)stream;
    (void)workspace;
    (void)workspace_bytes;
    size_t elem;
    const char *fn = "actk_cuda_backward_2d";
    const actk_status s =
        actk_check_2d_args(fn, 1, act, dtype, rows, cols, x, ldx, bias, dy, lddy, dx, lddx, dbias, &elem);
    if (s != ACTK_SUCCESS) return s;
    return actk_fail(ACTK_ERROR_NO_DEVICE, "%s: actk was built without CUDA support", fn);
}
