/*
 * cuda_cross_entropy.c - actk_cuda_cross_entropy_forward_backward (built
 * with CUDA): validate as the CPU path does (cross_entropy_args.c), check
 * the workspace, device, stream and pointers, then launch
 * (kernels/cross_entropy.cu). No allocation, no synchronisation.
 */
#include "cross_entropy_args.h"
#include "cuda_common.h"
#include "../kernels/cross_entropy_launch.h"

#include <stdint.h>

actk_status actk_cuda_cross_entropy_forward_backward(actk_cross_entropy_options options, actk_dtype dtype, size_t rows,
                                                     size_t classes, const void *logits, size_t ld,
                                                     actk_index_type target_type, const void *targets, float *loss,
                                                     float *lse, void *grad, size_t ldgrad, int *error_flag,
                                                     void *workspace, size_t workspace_bytes, actk_stream stream)
{
    const char *fn = "actk_cuda_cross_entropy_forward_backward";
    size_t elem;
    actk_status s = actk_check_cross_entropy_args(fn, options, dtype, rows, classes, logits, ld, target_type, targets,
                                                  loss, lse, grad, ldgrad, error_flag, &elem);
    if (s != ACTK_SUCCESS) return s;
    const int reduce = options.reduction != ACTK_REDUCTION_NONE;
    if (reduce) {
        const size_t need = actk_cuda_cross_entropy_workspace_size(options.reduction, rows);
        if (workspace == NULL || workspace_bytes < need)
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: workspace needs %zu bytes (actk_cuda_cross_entropy_workspace_size), got %zu%s",
                             fn, need, workspace_bytes, workspace == NULL ? " and NULL" : "");
        if ((uintptr_t)workspace % 16 != 0)
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: workspace is not 16-byte aligned", fn);
        const size_t index_size = target_type == ACTK_INDEX_I64 ? 8 : 4;
        const size_t logits_bytes = rows ? ((rows - 1) * ld + classes) * elem : 0;
        const size_t grad_bytes = rows && grad ? ((rows - 1) * ldgrad + classes) * elem : 0;
        const actk_buffer buffers[7] = {
            {"workspace", workspace, need, "workspace_bytes", 1, 0},
            {"logits", logits, logits_bytes, "(rows-1)*ld+classes", 0, 0},
            {"targets", targets, rows * index_size, "rows", 0, 0},
            {"loss", loss, sizeof(float), "1", 1, 0},
            {"lse", lse, lse ? rows * sizeof(float) : 0, "rows", 1, 0},
            {"grad", grad, grad_bytes, "(rows-1)*ldgrad+classes", 1, 0},
            {"error_flag", error_flag, error_flag ? sizeof(int) : 0, "1", 1, 0},
        };
        s = actk_check_buffers(fn, 1, buffers, 7);
        if (s != ACTK_SUCCESS) return s;
    }
    if (rows == 0 && !reduce) return ACTK_SUCCESS; /* nothing to write */
    actk_device_facts facts;
    const actk_device_pointer pointers[7] = {{"logits", logits}, {"targets", targets}, {"loss", loss},
                                             {"lse", lse},       {"grad", grad},       {"error_flag", error_flag},
                                             {"workspace", reduce ? workspace : NULL}};
    s = actk_cuda_prepare_device(fn, stream, pointers, 7, &facts);
    if (s != ACTK_SUCCESS) return s;
    const actk_ce_launch_args args = {options, dtype,  rows,  classes, ld,   ldgrad,     target_type,
                                      logits,  targets, loss, lse,     grad, error_flag, workspace};
    actk_ce_launch launch;
    const cudaError_t err = actk_launch_cross_entropy(&args, &facts, (cudaStream_t)stream, &launch);
    if (err != cudaSuccess) return actk_cuda_failure(fn, "kernel launch", err);
    return ACTK_SUCCESS;
}
