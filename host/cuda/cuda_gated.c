// SPDX-License-Identifier: MIT
/*
 * cuda_gated.c - the actk_cuda_* gated entry points (built with CUDA).
 * Validates on the host exactly as the CPU path does (gated_args.c),
 * checks the device, stream and pointers, then launches. Nothing here
 * synchronises or allocates, so every call can be captured in a graph.
 */
#include "cuda_common.h"
#include "gated_args.h"
#include "../kernels/gated_launch.h"

/* The backward pass's dbias output and its workspace (all NULL/0 otherwise). */
typedef struct {
    void *dbias;
    void *workspace;
    size_t workspace_bytes;
} dbias_out;

static actk_status cuda_gated(const char *fn, int backward, actk_gated_desc d, actk_dtype dtype, size_t rows,
                              size_t cols, const void *x, size_t ldx, const void *dy, size_t lddy, void *out,
                              size_t ldout, dbias_out db, actk_stream stream)
{
    size_t elem;
    actk_status s =
        actk_check_gated_args(fn, backward, d, dtype, rows, cols, x, ldx, dy, lddy, out, ldout, db.dbias, &elem);
    if (s != ACTK_SUCCESS) return s;
    const int work = rows != 0 && cols != 0;
    const actk_2d_plan plan = actk_gated_dbias_plan(dtype, rows, cols);
    s = actk_check_gated_workspace(fn, d, plan, elem, rows, cols, x, ldx, dy, lddy, out, ldout, db.dbias, db.workspace,
                                   db.workspace_bytes);
    if (s != ACTK_SUCCESS) return s;
    /* rows = 0 with dbias: the empty column sums, zeros */
    const int zero_dbias = db.dbias != NULL && rows == 0 && cols != 0;
    int sm_count = 0;
    const actk_device_pointer pointers[6] = {{"x", x},
                                             {"dy", backward ? dy : NULL},
                                             {backward ? "dx" : "y", out},
                                             {"bias", d.bias},
                                             {"dbias", db.dbias},
                                             {"workspace", db.dbias && plan.workspace_bytes ? db.workspace : NULL}};
    s = actk_cuda_prepare(fn, stream, pointers, work || zero_dbias ? 6 : 0, &sm_count);
    if (s != ACTK_SUCCESS) return s;
    if (zero_dbias) {
        const cudaError_t err =
            cudaMemsetAsync(db.dbias, 0, 2 * cols * elem, (cudaStream_t)stream); /* +0 in every dtype */
        return err == cudaSuccess ? ACTK_SUCCESS : actk_cuda_failure(fn, "cudaMemsetAsync", err);
    }
    if (!work) return ACTK_SUCCESS;

    actk_gated_launch_args args;
    args.backward = backward;
    args.clamped = d.clamped;
    args.act = d.act;
    args.layout = d.layout;
    args.gate = d.gate;
    args.rows = rows;
    args.cols = cols;
    args.ldx = ldx;
    args.ldy = backward ? lddy : ldout;
    args.lddx = backward ? ldout : 0;
    args.x = x;
    args.dy = backward ? dy : NULL;
    args.out = out;
    args.bias = d.bias;
    args.dbias = db.dbias;
    args.workspace = db.dbias ? db.workspace : NULL;
    args.splits = plan.splits;
    args.rows_per_split = plan.rows_per_split;
    const cudaError_t err = actk_launch_gated(dtype, &args, sm_count, (cudaStream_t)stream);
    if (err != cudaSuccess) return actk_cuda_failure(fn, "kernel launch", err);
    return ACTK_SUCCESS;
}

static const dbias_out kNoDbias = {NULL, NULL, 0};

actk_status actk_cuda_gated_forward(actk_act act, actk_gated_layout layout, actk_gate_position gate, actk_dtype dtype,
                                    size_t rows, size_t cols, const void *x, size_t ldx, void *y, size_t ldy,
                                    actk_stream stream)
{
    const actk_gated_desc d = {0, act, layout, gate, NULL};
    return cuda_gated("actk_cuda_gated_forward", 0, d, dtype, rows, cols, x, ldx, NULL, 0, y, ldy, kNoDbias, stream);
}

actk_status actk_cuda_gated_backward(actk_act act, actk_gated_layout layout, actk_gate_position gate, actk_dtype dtype,
                                     size_t rows, size_t cols, const void *x, size_t ldx, const void *dy, size_t lddy,
                                     void *dx, size_t lddx, actk_stream stream)
{
    const actk_gated_desc d = {0, act, layout, gate, NULL};
    return cuda_gated("actk_cuda_gated_backward", 1, d, dtype, rows, cols, x, ldx, dy, lddy, dx, lddx, kNoDbias,
                      stream);
}

actk_status actk_cuda_gated_bias_forward(actk_act act, actk_gated_layout layout, actk_gate_position gate,
                                         actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx,
                                         const void *bias, void *y, size_t ldy, actk_stream stream)
{
    const actk_gated_desc d = {0, act, layout, gate, bias};
    return cuda_gated("actk_cuda_gated_bias_forward", 0, d, dtype, rows, cols, x, ldx, NULL, 0, y, ldy, kNoDbias,
                      stream);
}

actk_status actk_cuda_clamped_swiglu_forward(float alpha, float limit, actk_gated_layout layout,
                                             actk_gate_position gate, actk_dtype dtype, size_t rows, size_t cols,
                                             const void *x, size_t ldx, void *y, size_t ldy, actk_stream stream)
{
    const actk_gated_desc d = {1, {ACTK_OP_SILU, alpha, limit}, layout, gate, NULL};
    return cuda_gated("actk_cuda_clamped_swiglu_forward", 0, d, dtype, rows, cols, x, ldx, NULL, 0, y, ldy, kNoDbias,
                      stream);
}

actk_status actk_cuda_clamped_swiglu_backward(float alpha, float limit, actk_gated_layout layout,
                                              actk_gate_position gate, actk_dtype dtype, size_t rows, size_t cols,
                                              const void *x, size_t ldx, const void *dy, size_t lddy, void *dx,
                                              size_t lddx, actk_stream stream)
{
    const actk_gated_desc d = {1, {ACTK_OP_SILU, alpha, limit}, layout, gate, NULL};
    return cuda_gated("actk_cuda_clamped_swiglu_backward", 1, d, dtype, rows, cols, x, ldx, dy, lddy, dx, lddx,
                      kNoDbias, stream);
}

actk_status actk_cuda_gated_bias_backward(actk_act act, actk_gated_layout layout, actk_gate_position gate,
                                          actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx,
                                          const void *bias, const void *dy, size_t lddy, void *dx, size_t lddx,
                                          void *dbias, void *workspace, size_t workspace_bytes, actk_stream stream)
{
    const actk_gated_desc d = {0, act, layout, gate, bias};
    const dbias_out db = {dbias, workspace, workspace_bytes};
    return cuda_gated("actk_cuda_gated_bias_backward", 1, d, dtype, rows, cols, x, ldx, dy, lddy, dx, lddx, db, stream);
}

actk_status actk_cuda_clamped_swiglu_bias_forward(float alpha, float limit, actk_gated_layout layout,
                                                  actk_gate_position gate, actk_dtype dtype, size_t rows, size_t cols,
                                                  const void *x, size_t ldx, const void *bias, void *y, size_t ldy,
                                                  actk_stream stream)
{
    const actk_gated_desc d = {1, {ACTK_OP_SILU, alpha, limit}, layout, gate, bias};
    return cuda_gated("actk_cuda_clamped_swiglu_bias_forward", 0, d, dtype, rows, cols, x, ldx, NULL, 0, y, ldy,
                      kNoDbias, stream);
}

actk_status actk_cuda_clamped_swiglu_bias_backward(float alpha, float limit, actk_gated_layout layout,
                                                   actk_gate_position gate, actk_dtype dtype, size_t rows, size_t cols,
                                                   const void *x, size_t ldx, const void *bias, const void *dy,
                                                   size_t lddy, void *dx, size_t lddx, void *dbias, void *workspace,
                                                   size_t workspace_bytes, actk_stream stream)
{
    const actk_gated_desc d = {1, {ACTK_OP_SILU, alpha, limit}, layout, gate, bias};
    const dbias_out db = {dbias, workspace, workspace_bytes};
    return cuda_gated("actk_cuda_clamped_swiglu_bias_backward", 1, d, dtype, rows, cols, x, ldx, dy, lddy, dx, lddx, db,
                      stream);
}
