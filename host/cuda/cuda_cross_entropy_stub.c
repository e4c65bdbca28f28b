// SPDX-License-Identifier: MIT
/*
 * cuda_cross_entropy_stub.c - actk_cuda_cross_entropy_forward_backward in a
 * build without CUDA: validates like every build, then returns
 * ACTK_ERROR_NO_DEVICE.
 */
#include "cross_entropy_args.h"

actk_status actk_cuda_cross_entropy_forward_backward(actk_cross_entropy_options options, actk_dtype dtype, size_t rows,
                                                     size_t classes, const void *logits, size_t ld,
                                                     actk_index_type target_type, const void *targets, float *loss,
                                                     float *lse, void *grad, size_t ldgrad, int *error_flag,
                                                     void *workspace, size_t workspace_bytes, actk_stream stream)
{
    (void)stream;
    const char *fn = "actk_cuda_cross_entropy_forward_backward";
    size_t elem;
    actk_status s = actk_check_cross_entropy_args(fn, options, dtype, rows, classes, logits, ld, target_type,
                                                        targets, loss, lse, grad, ldgrad, error_flag, &elem);
    if (s != ACTK_SUCCESS) return s;
    s = actk_check_cross_entropy_workspace(fn, options, elem, rows, classes, logits, ld, target_type, targets, loss,
                                           lse, grad, ldgrad, error_flag, workspace, workspace_bytes);
    if (s != ACTK_SUCCESS) return s;
    return actk_fail(ACTK_ERROR_NO_DEVICE, "%s: actk was built without CUDA support", fn);
}
