/*
 * cuda_gated_stub.c - the actk_cuda_* gated entry points of a build without
 * CUDA: they validate their arguments like every build, then return
 * ACTK_ERROR_NO_DEVICE.
 */
#include "gated_args.h"

static actk_status no_device(const char *fn, int backward, actk_gated_desc d, actk_dtype dtype, size_t rows,
                             size_t cols, const void *x, size_t ldx, const void *dy, size_t lddy, const void *out,
                             size_t ldout)
{
    size_t elem;
    const actk_status s = actk_check_gated_args(fn, backward, d, dtype, rows, cols, x, ldx, dy, lddy, out, ldout, &elem);
    if (s != ACTK_SUCCESS) return s;
    return actk_fail(ACTK_ERROR_NO_DEVICE, "%s: actk was built without CUDA support", fn);
}

actk_status actk_cuda_gated_forward(actk_act act, actk_gated_layout layout, actk_gate_position gate, actk_dtype dtype,
                                    size_t rows, size_t cols, const void *x, size_t ldx, void *y, size_t ldy,
                                    actk_stream stream)
{
    (void)stream;
    const actk_gated_desc d = {0, act, layout, gate, NULL};
    return no_device("actk_cuda_gated_forward", 0, d, dtype, rows, cols, x, ldx, NULL, 0, y, ldy);
}

actk_status actk_cuda_gated_backward(actk_act act, actk_gated_layout layout, actk_gate_position gate, actk_dtype dtype,
                                     size_t rows, size_t cols, const void *x, size_t ldx, const void *dy, size_t lddy,
                                     void *dx, size_t lddx, actk_stream stream)
{
    (void)stream;
    const actk_gated_desc d = {0, act, layout, gate, NULL};
    return no_device("actk_cuda_gated_backward", 1, d, dtype, rows, cols, x, ldx, dy, lddy, dx, lddx);
}

actk_status actk_cuda_gated_bias_forward(actk_act act, actk_gated_layout layout, actk_gate_position gate,
                                         actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx,
                                         const void *bias, void *y, size_t ldy, actk_stream stream)
{
    (void)stream;
    const actk_gated_desc d = {0, act, layout, gate, bias};
    return no_device("actk_cuda_gated_bias_forward", 0, d, dtype, rows, cols, x, ldx, NULL, 0, y, ldy);
}

actk_status actk_cuda_clamped_swiglu_forward(float alpha, float limit, actk_gated_layout layout,
                                             actk_gate_position gate, actk_dtype dtype, size_t rows, size_t cols,
                                             const void *x, size_t ldx, void *y, size_t ldy, actk_stream stream)
{
    (void)stream;
    const actk_gated_desc d = {1, {ACTK_OP_SILU, alpha, limit}, layout, gate, NULL};
    return no_device("actk_cuda_clamped_swiglu_forward", 0, d, dtype, rows, cols, x, ldx, NULL, 0, y, ldy);
}

actk_status actk_cuda_clamped_swiglu_backward(float alpha, float limit, actk_gated_layout layout,
                                              actk_gate_position gate, actk_dtype dtype, size_t rows, size_t cols,
                                              const void *x, size_t ldx, const void *dy, size_t lddy, void *dx,
                                              size_t lddx, actk_stream stream)
{
    (void)stream;
    const actk_gated_desc d = {1, {ACTK_OP_SILU, alpha, limit}, layout, gate, NULL};
    return no_device("actk_cuda_clamped_swiglu_backward", 1, d, dtype, rows, cols, x, ldx, dy, lddy, dx, lddx);
}
