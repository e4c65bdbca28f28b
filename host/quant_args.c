// SPDX-License-Identifier: MIT
/*
 * quant_args.c - validation of the FP8-output calls (see quant_args.h),
 * shared by the CPU and CUDA entry points so both reject bad input
 * identically and before anything is written. Buffers of different element
 * sizes (input dtype, FP8 bytes, float scales) are checked for alignment
 * one by one, then for NULL, wrap-around and overlap together in bytes.
 */
#include "quant_args.h"

#include <stdint.h>

actk_quant actk_quant_default(actk_fp8_format format, actk_quant_mode mode)
{
    actk_quant q = {format, mode, mode == ACTK_QUANT_MXFP8 ? 32u : 128u, 0, NULL, NULL, NULL, NULL, NULL};
    return q;
}

size_t actk_quant_groups(const actk_quant *q, size_t cols)
{
    switch (q->mode) {
    case ACTK_QUANT_PER_ROW: return 1;
    case ACTK_QUANT_PER_GROUP: return cols / q->group_size;
    case ACTK_QUANT_MXFP8: return cols / 32;
    default: return 0;
    }
}

/* (rows - 1) * ld + width, 0 without work; an error if it overflows. */
static actk_status span_of(const char *fn, const char *ld_name, size_t rows, size_t width, size_t ld, size_t *span)
{
    *span = 0;
    if (ld < width)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s = %zu is less than the row width %zu", fn, ld_name, ld,
                         width);
    if (rows == 0 || width == 0) return ACTK_SUCCESS;
    if (rows - 1 > 0 && ld > (SIZE_MAX - width) / (rows - 1))
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: (rows - 1) * %s + %zu = (%zu - 1) * %zu + %zu overflows size_t",
                         fn, ld_name, width, rows, ld, width);
    *span = (rows - 1) * ld + width;
    return ACTK_SUCCESS;
}

static actk_status check_descriptor(const char *fn, const actk_quant *q, size_t cols)
{
    if (q == NULL) return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: q (the actk_quant descriptor) is NULL", fn);
    if (q->format != ACTK_FP8_E4M3 && q->format != ACTK_FP8_E5M2)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: q->format %d is not an actk_fp8_format", fn, (int)q->format);
    switch (q->mode) {
    case ACTK_QUANT_PER_TENSOR:
    case ACTK_QUANT_PER_ROW: return ACTK_SUCCESS;
    case ACTK_QUANT_PER_GROUP:
        if (q->group_size != 32 && q->group_size != 64 && q->group_size != 128)
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: q->group_size = %zu is not 32, 64 or 128", fn,
                             q->group_size);
        if (cols % q->group_size != 0)
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: q->group_size = %zu does not divide cols = %zu", fn,
                             q->group_size, cols);
        return ACTK_SUCCESS;
    case ACTK_QUANT_MXFP8:
        if (cols % 32 != 0)
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: MXFP8 needs cols divisible by 32, got cols = %zu", fn,
                             cols);
        return ACTK_SUCCESS;
    default: break;
    }
    return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: q->mode %d is not an actk_quant_mode", fn, (int)q->mode);
}

static actk_status check_aligned(const char *fn, const char *name, const void *p, size_t align)
{
    if ((uintptr_t)p % align != 0)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s is not aligned to %zu bytes", fn, name, align);
    return ACTK_SUCCESS;
}

actk_status actk_check_quant_args(const char *fn, int gated, actk_act act, actk_gated_layout layout,
                                  actk_gate_position gate, actk_dtype dtype, size_t rows, size_t cols, const void *x,
                                  size_t ldx, const void *bias, const actk_quant *q, const void *y, size_t ldy,
                                  size_t *elem, size_t *groups)
{
    actk_status s = actk_check_act(fn, act);
    if (s != ACTK_SUCCESS) return s;
    if (gated && layout != ACTK_GATED_CONCAT && layout != ACTK_GATED_INTERLEAVED)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: layout %d is not an actk_gated_layout", fn, (int)layout);
    if (gated && gate != ACTK_GATE_FIRST && gate != ACTK_GATE_SECOND)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: gate %d is not an actk_gate_position", fn, (int)gate);
    s = actk_check_dtype(fn, dtype, elem);
    if (s != ACTK_SUCCESS) return s;
    if (dtype == ACTK_F64)
        return actk_fail(ACTK_ERROR_NOT_SUPPORTED, "%s: FP8 outputs take f32, f16 or bf16 input, not f64", fn);
    s = check_descriptor(fn, q, cols);
    if (s != ACTK_SUCCESS) return s;
    *groups = actk_quant_groups(q, cols);
    if (gated && cols > SIZE_MAX / 2)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: the row width 2 * cols = 2 * %zu overflows size_t", fn, cols);
    const size_t in_width = gated ? 2 * cols : cols;
    size_t x_span, y_span;
    s = span_of(fn, "ldx", rows, in_width, ldx, &x_span);
    if (s == ACTK_SUCCESS) s = span_of(fn, "ldy", rows, cols, ldy, &y_span);
    if (s != ACTK_SUCCESS) return s;
    const int work = x_span != 0;
    size_t x_bytes = 0, scale_bytes = 0;
    if (work) {
        s = actk_check_product(fn, "x's span in bytes", x_span, *elem, 1, &x_bytes);
        if (s == ACTK_SUCCESS)
            s = actk_check_product(fn, "rows * groups * 4", rows, *groups, sizeof(float), &scale_bytes);
        if (s != ACTK_SUCCESS) return s;
    }
    const int tensor = q->mode == ACTK_QUANT_PER_TENSOR, mx = q->mode == ACTK_QUANT_MXFP8;
    const int float_scales = q->mode == ACTK_QUANT_PER_ROW || q->mode == ACTK_QUANT_PER_GROUP;
    const void *scale = tensor ? (const void *)q->scale : NULL;
    const void *amax = tensor ? (const void *)q->amax : NULL;
    const void *scale_inv = tensor || float_scales ? (const void *)q->scale_inv : NULL;
    const void *scales = float_scales ? (const void *)q->scales : NULL;
    const void *mx_scales = mx ? (const void *)q->mx_scales : NULL;
    if (work) {
        s = check_aligned(fn, "x", x, *elem);
        if (s == ACTK_SUCCESS && bias) s = check_aligned(fn, "bias", bias, *elem);
        if (s == ACTK_SUCCESS) s = check_aligned(fn, "q->scale", scale, sizeof(float));
        if (s == ACTK_SUCCESS) s = check_aligned(fn, "q->amax", amax, sizeof(float));
        if (s == ACTK_SUCCESS) s = check_aligned(fn, "q->scale_inv", scale_inv, sizeof(float));
        if (s == ACTK_SUCCESS) s = check_aligned(fn, "q->scales", scales, sizeof(float));
        if (s != ACTK_SUCCESS) return s;
    }
    /* bytes each buffer covers (0: not touched, NULL allowed) */
    const size_t w = work ? 1 : 0;
    const actk_buffer buffers[8] = {
        {"x", x, x_bytes, "(rows-1)*ldx+width elements", 0, 0},
        {"bias", bias, bias && work ? in_width * *elem : 0, "the row width", 0, 0},
        {"q->scale", scale, w * (tensor ? sizeof(float) : 0), "one float", 0, 0},
        {"y", y, y_span, "(rows-1)*ldy+cols", 1, 0},
        {"q->amax", amax, amax && work ? sizeof(float) : 0, "one float", 1, 0},
        {"q->scale_inv", scale_inv, w * (tensor ? (scale_inv ? sizeof(float) : 0) : float_scales ? scale_bytes : 0),
         "rows*groups floats", 1, 0},
        {"q->scales", scales, scales ? scale_bytes : 0, "rows*groups floats", 1, 0},
        {"q->mx_scales", mx_scales, w * (mx ? scale_bytes / sizeof(float) : 0), "rows*(cols/32) bytes", 1, 0},
    };
    return actk_check_buffers(fn, 1, buffers, 8);
}
