// SPDX-License-Identifier: MIT
/*
 * cuda_gated_stub.c - the actk_cuda_* gated entry points of a build without
 * CUDA: they validate their arguments like every build, then return
 * ACTK_ERROR_NO_DEVICE.
 */
#include "gated_args.h"

static actk_status no_device(const char *fn, int backward, actk_gated_desc d, actk_dtype dtype, size_t rows,
                             size_t cols, const void *x, size_t ldx, const void *dy, size_t lddy, const void *out,
                             size_t ldout, const void *dbias)
{
    size_t elem;
    const actk_status s =
        actk_check_gated_args(fn, backward, d, dtype, rows, cols, x, ldx, dy, lddy, out, ldout, dbias, &elem);
    if (s != ACTK_SUCCESS) return s;
    return actk_fail(ACTK_ERROR_NO_DEVICE, "%s: actk was built without CUDA support", fn);
}

/* The backward calls with dbias: the arguments, then the workspace, as the CUDA build checks them. */
static actk_status no_device_dbias(const char *fn, actk_gated_desc d, actk_dtype dtype, size_t rows, size_t cols,
                                   const void *x, size_t ldx, const void *dy, size_t lddy, void *dx, size_t lddx,
                                   void *dbias, void *workspace, size_t workspace_bytes)
{
    size_t elem;
    actk_status s = actk_check_gated_args(fn, 1, d, dtype, rows, cols, x, ldx, dy, lddy, dx, lddx, dbias, &elem);
    if (s == ACTK_SUCCESS)
        s = actk_check_gated_workspace(fn, d, actk_gated_dbias_plan(dtype, rows, cols), elem, rows, cols, x, ldx, dy,
                                       lddy, dx, lddx, dbias, workspace, workspace_bytes);
    if (s != ACTK_SUCCESS) return s;
    return actk_fail(ACTK_ERROR_NO_DEVICE, "%s: actk was built without CUDA support", fn);
}

actk_status actk_cuda_gated_forward(actk_act act, actk_gated_layout layout, actk_gate_position gate, actk_dtype dtype,
                                    size_t rows, size_t cols, const void *x, size_t ldx, void *y, size_t ldy,
                                    actk_stream stream)
{
    (void)stream;
    const actk_gated_desc d = {0, act, layout, gate, NULL};
    return no_device("actk_cuda_gated_forward", 0, d, dtype, rows, cols, x, ldx, NULL, 0, y, ldy, NULL);
}

actk_status actk_cuda_gated_backward(actk_act act, actk_gated_layout layout, actk_gate_position gate, actk_dtype dtype,
                                     size_t rows, size_t cols, const void *x, size_t ldx, const void *dy, size_t lddy,
                                     void *dx, size_t lddx, actk_stream stream)
{
    (void)stream;
    const actk_gated_desc d = {0, act, layout, gate, NULL};
    return no_device("actk_cuda_gated_backward", 1, d, dtype, rows, cols, x, ldx, dy, lddy, dx, lddx, NULL);
}

actk_status actk_cuda_gated_bias_forward(actk_act act, actk_gated_layout layout, actk_gate_position gate,
                                         actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx,
                                         const void *bias, void *y, size_t ldy, actk_stream stream)
{
    (void)stream;
    const actk_gated_desc d = {0, act, layout, gate, bias};
    return no_device("actk_cuda_gated_bias_forward", 0, d, dtype, rows, cols, x, ldx, NULL, 0, y, ldy, NULL);
}

actk_status actk_cuda_clamped_swiglu_forward(float alpha, float limit, actk_gated_layout layout,
                                             actk_gate_position gate, actk_dtype dtype, size_t rows, size_t cols,
                                             const void *x, size_t ldx, void *y, size_t ldy, actk_stream stream)
{
    (void)stream;
    const actk_gated_desc d = {1, {ACTK_OP_SILU, alpha, limit}, layout, gate, NULL};
    return no_device("actk_cuda_clamped_swiglu_forward", 0, d, dtype, rows, cols, x, ldx, NULL, 0, y, ldy, NULL);
}

actk_status actk_cuda_clamped_swiglu_backward(float alpha, float limit, actk_gated_layout layout,
                                              actk_gate_position gate, actk_dtype dtype, size_t rows, size_t cols,
                                              const void *x, size_t ldx, const void *dy, size_t lddy, void *dx,
                                              size_t lddx, actk_stream stream)
{
    (void)stream;
    const actk_gated_desc d = {1, {ACTK_OP_SILU, alpha, limit}, layout, gate, NULL};
    return no_device("actk_cuda_clamped_swiglu_backward", 1, d, dtype, rows, cols, x, ldx, dy, lddy, dx, lddx, NULL);
}

actk_status actk_cuda_gated_bias_backward(actk_act act, actk_gated_layout layout, actk_gate_position gate,
                                          actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx,
                                          const void *bias, const void *dy, size_t lddy, void *dx, size_t lddx,
                                          void *dbias, void *workspace, size_t workspace_bytes, actk_stream stream)
{
    (void)stream;
    const actk_gated_desc d = {0, act, layout, gate, bias};
    return no_device_dbias("actk_cuda_gated_bias_backward", d, dtype, rows, cols, x, ldx, dy, lddy, dx, lddx, dbias,
                           workspace, workspace_bytes);
}

actk_status actk_cuda_clamped_swiglu_bias_forward(float alpha, float limit, actk_gated_layout layout,
                                                  actk_gate_position gate, actk_dtype dtype, size_t rows, size_t cols,
                                                  const void *x, size_t ldx, const void *bias, void *y, size_t ldy,
                                                  actk_stream stream)
{
    (void)stream;
    const actk_gated_desc d = {1, {ACTK_OP_SILU, alpha, limit}, layout, gate, bias};
    return no_device("actk_cuda_clamped_swiglu_bias_forward", 0, d, dtype, rows, cols, x, ldx, NULL, 0, y, ldy, NULL);
}

actk_status actk_cuda_clamped_swiglu_bias_backward(float alpha, float limit, actk_gated_layout layout,
                                                   actk_gate_position gate, actk_dtype dtype, size_t rows, size_t cols,
                                                   const void *x, size_t ldx, const void *bias, const void *dy,
                                                   size_t lddy, void *dx, size_t lddx, void *dbias, void *workspace,
                                                   size_t workspace_bytes, actk_stream stream)
{
    (void)stream;
    const actk_gated_desc d = {1, {ACTK_OP_SILU, alpha, limit}, layout, gate, bias};
    return no_device_dbias("actk_cuda_clamped_swiglu_bias_backward", d, dtype, rows, cols, x, ldx, dy, lddy, dx, lddx,
                           dbias, workspace, workspace_bytes);
}
