/*
 * cuda_gated.c - the actk_cuda_* gated entry points (built with CUDA).
 * Validates on the host exactly as the CPU path does (gated_args.c),
 * checks the device, stream and pointers, then launches. Nothing here
 * synchronises or allocates, so every call can be captured in a graph.
 */
#include "cuda_common.h"
#include "gated_args.h"
#include "../kernels/gated_launch.h"

static actk_status cuda_gated(const char *fn, int backward, actk_gated_desc d, actk_dtype dtype, size_t rows,
                              size_t cols, const void *x, size_t ldx, const void *dy, size_t lddy, void *out,
                              size_t ldout, actk_stream stream)
{
    size_t elem;
    actk_status s = actk_check_gated_args(fn, backward, d, dtype, rows, cols, x, ldx, dy, lddy, out, ldout, &elem);
    if (s != ACTK_SUCCESS) return s;
    const int work = rows != 0 && cols != 0;
    int sm_count = 0;
    const actk_device_pointer pointers[4] = {{"x", x}, {"dy", backward ? dy : NULL}, {backward ? "dx" : "y", out}, {"bias", d.bias}};
    s = actk_cuda_prepare(fn, stream, pointers, work ? 4 : 0, &sm_count);
    if (s != ACTK_SUCCESS || !work) return s;

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
    const cudaError_t err = actk_launch_gated(dtype, &args, sm_count, (cudaStream_t)stream);
    if (err != cudaSuccess) return actk_cuda_failure(fn, "kernel launch", err);
    return ACTK_SUCCESS;
}

actk_status actk_cuda_gated_forward(actk_act act, actk_gated_layout layout, actk_gate_position gate, actk_dtype dtype,
                                    size_t rows, size_t cols, const void *x, size_t ldx, void *y, size_t ldy,
                                    actk_stream stream)
{
    const actk_gated_desc d = {0, act, layout, gate, NULL};
    return cuda_gated("actk_cuda_gated_forward", 0, d, dtype, rows, cols, x, ldx, NULL, 0, y, ldy, stream);
}

actk_status actk_cuda_gated_backward(actk_act act, actk_gated_layout layout, actk_gate_position gate, actk_dtype dtype,
                                     size_t rows, size_t cols, const void *x, size_t ldx, const void *dy, size_t lddy,
                                     void *dx, size_t lddx, actk_stream stream)
{
    const actk_gated_desc d = {0, act, layout, gate, NULL};
    return cuda_gated("actk_cuda_gated_backward", 1, d, dtype, rows, cols, x, ldx, dy, lddy, dx, lddx, stream);
}

actk_status actk_cuda_gated_bias_forward(actk_act act, actk_gated_layout layout, actk_gate_position gate,
                                         actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx,
                                         const void *bias, void *y, size_t ldy, actk_stream stream)
{
    const actk_gated_desc d = {0, act, layout, gate, bias};
    return cuda_gated("actk_cuda_gated_bias_forward", 0, d, dtype, rows, cols, x, ldx, NULL, 0, y, ldy, stream);
}

actk_status actk_cuda_clamped_swiglu_forward(float alpha, float limit, actk_gated_layout layout,
                                             actk_gate_position gate, actk_dtype dtype, size_t rows, size_t cols,
                                             const void *x, size_t ldx, void *y, size_t ldy, actk_stream stream)
{
    const actk_gated_desc d = {1, {ACTK_OP_SILU, alpha, limit}, layout, gate, NULL};
    return cuda_gated("actk_cuda_clamped_swiglu_forward", 0, d, dtype, rows, cols, x, ldx, NULL, 0, y, ldy, stream);
}

actk_status actk_cuda_clamped_swiglu_backward(float alpha, float limit, actk_gated_layout layout,
                                              actk_gate_position gate, actk_dtype dtype, size_t rows, size_t cols,
                                              const void *x, size_t ldx, const void *dy, size_t lddy, void *dx,
                                              size_t lddx, actk_stream stream)
{
    const actk_gated_desc d = {1, {ACTK_OP_SILU, alpha, limit}, layout, gate, NULL};
    return cuda_gated("actk_cuda_clamped_swiglu_backward", 1, d, dtype, rows, cols, x, ldx, dy, lddy, dx, lddx,
                      stream);
}
