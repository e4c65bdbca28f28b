// SPDX-License-Identifier: MIT
/*
 * cuda_ew2d.c - the actk_cuda_*_2d entry points (built with CUDA):
 * validate as the CPU path does (ew2d_args.c), check the workspace, the
 * device, stream and pointers, then launch. No allocation, no
 * synchronisation: graph-capturable.
 */
#include "cuda_common.h"
#include "ew2d_args.h"
#include "../kernels/ew2d_launch.h"

static actk_status launch(const char *fn, actk_2d_launch_args *args, actk_dtype dtype, actk_stream stream)
{
    const int work = args->rows != 0 && args->cols != 0;
    int sm_count = 0;
    const actk_device_pointer pointers[6] = {
        {"x", args->x},         {"bias", args->bias},
        {"dy", args->dy},       {args->backward ? "dx" : "y", args->out},
        {"dbias", args->dbias}, {"workspace", args->dbias ? args->workspace : NULL}};
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
        const actk_buffer others[5] = {
            {"bias", bias, bias ? cols : 0, "cols", 0, 0},
            {"x", x, (rows - 1) * ldx + cols, "(rows-1)*ldx+cols", 0, 0},
            {"dy", dy, (rows - 1) * lddy + cols, "(rows-1)*lddy+cols", 0, 0},
            {"dx", dx, (rows - 1) * lddx + cols, "(rows-1)*lddx+cols", 1, 0},
            {"dbias", dbias, cols, "cols", 1, 0},
        };
        s = actk_check_dbias_workspace(fn, "actk_cuda_backward_2d_workspace_size", plan.workspace_bytes, workspace,
                                       workspace_bytes, elem, others, 5);
        if (s != ACTK_SUCCESS) return s;
    }
    actk_2d_launch_args args = {1,  act,  rows, cols, ldx,   lddy,      lddx,        x,
                                bias, dy, dx,   dbias, workspace, plan.splits, plan.rows_per_split};
    return launch(fn, &args, dtype, stream);
}
