/*
 * cuda_ew2d.c - the actk_cuda_*_2d entry points (built with CUDA):
 * validate as the CPU path does (ew2d_args.c), check the workspace, the
 * device, stream and pointers, then launch. No allocation, no
 * synchronisation: graph-capturable.
 */
#include "cuda_common.h"
#include "ew2d_args.h"
#include "../kernels/ew2d_launch.h"

#include <stdint.h>

static actk_status launch(const char *fn, actk_2d_launch_args *args, actk_dtype dtype, actk_stream stream)
{
    const int work = args->rows != 0 && args->cols != 0;
    int sm_count = 0;
    const actk_device_pointer pointers[6] = {{"x", args->x},           {"bias", args->bias},
                                             {"dy", args->dy},         {args->backward ? "dx" : "y", args->out},
                                             {"dbias", args->dbias},   {"workspace", args->dbias ? args->workspace : NULL}};
    actk_status s = actk_cuda_prepare(fn, stream, pointers, work ? 6 : 0, &sm_count);
    if (s != ACTK_SUCCESS || !work) return s;
    const cudaError_t err = actk_launch_2d(dtype, args, sm_count, (cudaStream_t)stream);
    if (err != cudaSuccess) return actk_cuda_failure(fn, "kernel launch", err);
    return ACTK_SUCCESS;
}

actk_status actk_cuda_forward_2d(actk_act act, actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx,
                                 const void *bias, void *y, size_t ldy, actk_stream stream)
{
    const char *fn = "actk_cuda_forward_2d";
    size_t elem;
    const actk_status s = actk_check_2d_args(fn, 0, act, dtype, rows, cols, x, ldx, bias, NULL, 0, y, ldy, NULL, &elem);
    if (s != ACTK_SUCCESS) return s;
    actk_2d_launch_args args = {0, act, rows, cols, ldx, ldy, 0, x, bias, NULL, y, NULL, NULL, 0, 0};
    return launch(fn, &args, dtype, stream);
}

actk_status actk_cuda_backward_2d(actk_act act, actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx,
                                  const void *bias, const void *dy, size_t lddy, void *dx, size_t lddx, void *dbias,
                                  void *workspace, size_t workspace_bytes, actk_stream stream)
{
    const char *fn = "actk_cuda_backward_2d";
    size_t elem;
    actk_status s = actk_check_2d_args(fn, 1, act, dtype, rows, cols, x, ldx, bias, dy, lddy, dx, lddx, dbias, &elem);
    if (s != ACTK_SUCCESS) return s;
    const actk_2d_plan plan = actk_2d_make_plan(dtype, rows, cols);
    if (dbias != NULL && plan.workspace_bytes > 0) {
        if (workspace == NULL || workspace_bytes < plan.workspace_bytes)
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: workspace needs %zu bytes (actk_cuda_backward_2d_workspace_size), got %zu%s",
                             fn, plan.workspace_bytes, workspace_bytes, workspace == NULL ? " and NULL" : "");
        if ((uintptr_t)workspace % 16 != 0)
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: workspace is not 16-byte aligned", fn);
        /* the workspace must not overlap any buffer the call reads or writes */
        const size_t ws_elems = (plan.workspace_bytes + elem - 1) / elem;
        const actk_buffer buffers[6] = {
            {"workspace", workspace, ws_elems, "workspace_bytes", 1, 0},
            {"bias", bias, bias ? cols : 0, "cols", 0, 0},
            {"x", x, (rows - 1) * ldx + cols, "(rows-1)*ldx+cols", 0, 0},
            {"dy", dy, (rows - 1) * lddy + cols, "(rows-1)*lddy+cols", 0, 0},
            {"dx", dx, (rows - 1) * lddx + cols, "(rows-1)*lddx+cols", 1, 0},
            {"dbias", dbias, cols, "cols", 1, 0},
        };
        s = actk_check_buffers(fn, elem, buffers, 6);
        if (s != ACTK_SUCCESS) return s;
    }
    actk_2d_launch_args args = {1,  act,  rows, cols, ldx,   lddy,      lddx,        x,
                                bias, dy, dx,   dbias, workspace, plan.splits, plan.rows_per_split};
    return launch(fn, &args, dtype, stream);
}
