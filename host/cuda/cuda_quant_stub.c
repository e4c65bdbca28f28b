// SPDX-License-Identifier: MIT
/*
 * cuda_quant_stub.c - the actk_cuda_*_quant entry points of a build without
 * CUDA: they validate their arguments like every build, then return
 * ACTK_ERROR_NO_DEVICE.
 */
#include "quant_args.h"

actk_status actk_cuda_forward_2d_quant(actk_act act, actk_dtype dtype, size_t rows, size_t cols, const void *x,
                                       size_t ldx, const void *bias, const actk_quant *q, void *y, size_t ldy,
                                       actk_stream stream)
{
    (void)stream;
    size_t elem, groups;
    const char *fn = "actk_cuda_forward_2d_quant";
    const actk_status s = actk_check_quant_args(fn, 0, act, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, dtype, rows, cols, x,
                                                ldx, bias, q, y, ldy, &elem, &groups);
    if (s != ACTK_SUCCESS) return s;
    return actk_fail(ACTK_ERROR_NO_DEVICE, "%s: actk was built without CUDA support", fn);
}

actk_status actk_cuda_gated_forward_quant(actk_act act, actk_gated_layout layout, actk_gate_position gate,
                                          actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx,
                                          const void *bias, const actk_quant *q, void *y, size_t ldy,
                                          actk_stream stream)
{
    (void)stream;
    size_t elem, groups;
    const char *fn = "actk_cuda_gated_forward_quant";
    const actk_status s = actk_check_quant_args(fn, 1, act, layout, gate, dtype, rows, cols, x, ldx, bias, q, y, ldy,
                                                &elem, &groups);
    if (s != ACTK_SUCCESS) return s;
    return actk_fail(ACTK_ERROR_NO_DEVICE, "%s: actk was built without CUDA support", fn);
}
