// SPDX-License-Identifier: MIT
/*
 * cuda_quant.c - the actk_cuda_*_quant entry points (built with CUDA):
 * validate as the CPU path does (quant_args.c), check the device, stream
 * and every pointer the mode uses, then launch. No allocation, no
 * synchronisation: graph-capturable.
 */
#include "cuda_common.h"
#include "quant_args.h"
#include "../kernels/quant_launch.h"

static actk_status launch(const char *fn, actk_dtype dtype, actk_quant_launch_args *a, actk_stream stream)
{
    const int work = a->rows != 0 && a->cols != 0;
    const actk_quant *q = &a->q;
    const int tensor = q->mode == ACTK_QUANT_PER_TENSOR, mx = q->mode == ACTK_QUANT_MXFP8;
    /* only the pointers the mode uses: the others are ignored, whatever they hold */
    a->q.scale = tensor ? q->scale : NULL;
    a->q.amax = tensor ? q->amax : NULL;
    a->q.scale_inv = mx ? NULL : q->scale_inv;
    a->q.scales = tensor || mx ? NULL : q->scales;
    a->q.mx_scales = mx ? q->mx_scales : NULL;
    const actk_device_pointer pointers[8] = {{"x", a->x},
                                             {"bias", a->bias},
                                             {"y", a->y},
                                             {"q->scale", a->q.scale},
                                             {"q->amax", a->q.amax},
                                             {"q->scale_inv", a->q.scale_inv},
                                             {"q->scales", a->q.scales},
                                             {"q->mx_scales", a->q.mx_scales}};
    int sm_count = 0;
    const actk_status s = actk_cuda_prepare(fn, stream, pointers, work ? 8 : 0, &sm_count);
    if (s != ACTK_SUCCESS || !work) return s;
    const cudaError_t err = actk_launch_quant(dtype, a, sm_count, (cudaStream_t)stream);
    if (err != cudaSuccess) return actk_cuda_failure(fn, "kernel launch", err);
    return ACTK_SUCCESS;
}

actk_status actk_cuda_forward_2d_quant(actk_act act, actk_dtype dtype, size_t rows, size_t cols, const void *x,
                                       size_t ldx, const void *bias, const actk_quant *q, void *y, size_t ldy,
                                       actk_stream stream)
{
    const char *fn = "actk_cuda_forward_2d_quant";
    size_t elem, groups;
    const actk_status s = actk_check_quant_args(fn, 0, act, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, dtype, rows, cols, x,
                                                ldx, bias, q, y, ldy, &elem, &groups);
    if (s != ACTK_SUCCESS) return s;
    actk_quant_launch_args a = {0, act, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, rows, cols, ldx, ldy, groups, x, bias,
                                y, *q};
    return launch(fn, dtype, &a, stream);
}

actk_status actk_cuda_gated_forward_quant(actk_act act, actk_gated_layout layout, actk_gate_position gate,
                                          actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx,
                                          const void *bias, const actk_quant *q, void *y, size_t ldy,
                                          actk_stream stream)
{
    const char *fn = "actk_cuda_gated_forward_quant";
    size_t elem, groups;
    const actk_status s = actk_check_quant_args(fn, 1, act, layout, gate, dtype, rows, cols, x, ldx, bias, q, y, ldy,
                                                &elem, &groups);
    if (s != ACTK_SUCCESS) return s;
    actk_quant_launch_args a = {1, act, layout, gate, rows, cols, ldx, ldy, groups, x, bias, y, *q};
    return launch(fn, dtype, &a, stream);
}
