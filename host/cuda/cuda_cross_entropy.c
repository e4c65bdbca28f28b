// SPDX-License-Identifier: MIT
/*
 * cuda_cross_entropy.c - actk_cuda_cross_entropy_forward_backward (built
 * with CUDA): validate as the CPU path does (cross_entropy_args.c), check
 * the workspace, device, stream and pointers, then launch
 * (kernels/cross_entropy.cu). No allocation, no synchronisation.
 */
#include "cross_entropy_args.h"
#include "cuda_common.h"
#include "cuda_test_hooks.h"
#include "../kernels/cross_entropy_launch.h"

static _Thread_local actk_ce_launch last_launch;

actk_ce_launch actk_internal_last_cross_entropy_launch(void) { return last_launch; }

actk_status actk_cuda_cross_entropy_forward_backward(actk_cross_entropy_options options, actk_dtype dtype, size_t rows,
                                                     size_t classes, const void *logits, size_t ld,
                                                     actk_index_type target_type, const void *targets, float *loss,
                                                     float *lse, void *grad, size_t ldgrad, int *error_flag,
                                                     void *workspace, size_t workspace_bytes, actk_stream stream)
{
    const char *fn = "actk_cuda_cross_entropy_forward_backward";
    const actk_ce_launch none = {0, 0, 0, 0, 0, 0, 0};
    last_launch = none;
    size_t elem;
    actk_status s = actk_check_cross_entropy_args(fn, options, dtype, rows, classes, logits, ld, target_type, targets,
                                                  loss, lse, grad, ldgrad, error_flag, &elem);
    if (s != ACTK_SUCCESS) return s;
    const int reduce = options.reduction != ACTK_REDUCTION_NONE;
    s = actk_check_cross_entropy_workspace(fn, options, elem, rows, classes, logits, ld, target_type, targets, loss,
                                           lse, grad, ldgrad, error_flag, workspace, workspace_bytes);
    if (s != ACTK_SUCCESS) return s;
    const int work = rows > 0 || reduce; /* SUM/MEAN of no rows still write the loss */
    actk_device_facts facts;
    const actk_device_pointer pointers[8] = {{"logits", logits},
                                             {"targets", targets},
                                             {"loss", loss},
                                             {"lse", lse},
                                             {"grad", grad},
                                             {"error_flag", error_flag},
                                             {"workspace", reduce ? workspace : NULL},
                                             {"options.row_grad", grad ? options.row_grad : NULL}};
    s = actk_cuda_prepare_device(fn, stream, pointers, work ? 8 : 0, &facts);
    if (s != ACTK_SUCCESS || !work) return s;
    if (actk_internal_softmax_clusters_disabled()) facts.cluster_launch = 0; /* the tests' hook: the pre-Hopper paths */
    const actk_ce_launch_args args = {options, dtype,  rows,  classes, ld,   ldgrad,     target_type,
                                      logits,  targets, loss, lse,     grad, error_flag, workspace};
    actk_ce_launch launch;
    const cudaError_t err = actk_launch_cross_entropy(&args, &facts, (cudaStream_t)stream, &launch);
    last_launch = launch;
    if (err != cudaSuccess) return actk_cuda_failure(fn, "kernel launch", err);
    return ACTK_SUCCESS;
}
