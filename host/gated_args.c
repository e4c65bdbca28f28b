// SPDX-License-Identifier: MIT
/*
 * gated_args.c - argument validation for the gated activations (see
 * gated_args.h), shared by the CPU and CUDA entry points so both reject bad
 * input identically and before anything is written.
 */
#include "gated_args.h"

#include <math.h>
#include <stdint.h>

actk_gated_positions actk_gated_positions_for(actk_gated_layout layout, actk_gate_position gate, size_t cols)
{
    actk_gated_positions p;
    const size_t second = layout == ACTK_GATED_INTERLEAVED ? 1 : cols; /* where the second value sits */
    p.step = layout == ACTK_GATED_INTERLEAVED ? 2 : 1;
    p.gate_offset = gate == ACTK_GATE_FIRST ? 0 : second;
    p.up_offset = gate == ACTK_GATE_FIRST ? second : 0;
    return p;
}

/* Elements from a strided matrix's pointer to one past its last element:
 * (rows - 1) * ld + width, or 0 when there is nothing to touch. */
static actk_status span_of(const char *fn, const char *ld_name, size_t rows, size_t width, size_t ld, size_t *span)
{
    *span = 0;
    if (rows == 0 || width == 0) return ACTK_SUCCESS;
    if (rows - 1 > 0 && ld > (SIZE_MAX - width) / (rows - 1))
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: (rows - 1) * %s + %zu = (%zu - 1) * %zu + %zu overflows size_t",
                         fn, ld_name, width, rows, ld, width);
    *span = (rows - 1) * ld + width;
    return ACTK_SUCCESS;
}

static actk_status check_ld(const char *fn, const char *ld_name, size_t ld, const char *width_name, size_t width)
{
    if (ld < width)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s = %zu is less than the row width %s = %zu", fn, ld_name, ld,
                         width_name, width);
    return ACTK_SUCCESS;
}

actk_status actk_check_gated_args(const char *fn, int backward, actk_gated_desc desc, actk_dtype dtype, size_t rows,
                                  size_t cols, const void *x, size_t ldx, const void *dy, size_t lddy,
                                  const void *out, size_t ldout, const void *dbias, size_t *elem)
{
    actk_status s = ACTK_SUCCESS;
    if (desc.clamped) {
        if (!isfinite(desc.act.alpha))
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: clamped SwiGLU needs a finite alpha, got %g", fn,
                             (double)desc.act.alpha);
        if (!(desc.act.beta >= 0.0f))
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: clamped SwiGLU needs limit >= 0, got %g", fn,
                             (double)desc.act.beta);
    } else {
        s = actk_check_act(fn, desc.act);
        if (s != ACTK_SUCCESS) return s;
    }
    if (desc.layout != ACTK_GATED_CONCAT && desc.layout != ACTK_GATED_INTERLEAVED)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: layout %d is not an actk_gated_layout", fn, (int)desc.layout);
    if (desc.gate != ACTK_GATE_FIRST && desc.gate != ACTK_GATE_SECOND)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: gate %d is not an actk_gate_position", fn, (int)desc.gate);
    s = actk_check_dtype(fn, dtype, elem);
    if (s != ACTK_SUCCESS) return s;
    if (cols > SIZE_MAX / 2)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: the row width 2 * cols = 2 * %zu overflows size_t", fn, cols);
    const size_t in_width = 2 * cols;
    const char *out_ld = backward ? "lddx" : "ldy";
    s = check_ld(fn, "ldx", ldx, "2*cols", in_width);
    if (s == ACTK_SUCCESS && backward) s = check_ld(fn, "lddy", lddy, "cols", cols);
    if (s == ACTK_SUCCESS) s = check_ld(fn, out_ld, ldout, backward ? "2*cols" : "cols", backward ? in_width : cols);
    if (s != ACTK_SUCCESS) return s;
    size_t x_span, dy_span = 0, out_span;
    s = span_of(fn, "ldx", rows, in_width, ldx, &x_span);
    if (s == ACTK_SUCCESS && backward) s = span_of(fn, "lddy", rows, cols, lddy, &dy_span);
    if (s == ACTK_SUCCESS) s = span_of(fn, out_ld, rows, backward ? in_width : cols, ldout, &out_span);
    if (s != ACTK_SUCCESS) return s;
    const actk_buffer buffers[5] = {
        {"x", x, x_span, "(rows-1)*ldx+2*cols", 0, backward},
        {"dy", dy, dy_span, "(rows-1)*lddy+cols", 0, 0},
        {backward ? "dx" : "y", out, out_span, backward ? "(rows-1)*lddx+2*cols" : "(rows-1)*ldy+cols", 1, 0},
        {"bias", desc.bias, desc.bias && x_span ? in_width : 0, "2*cols", 0, 0},
        {"dbias", dbias, dbias ? in_width : 0, "2*cols", 1, 0},
    };
    return actk_check_buffers(fn, *elem, buffers, 5);
}

actk_2d_plan actk_gated_dbias_plan(actk_dtype dtype, size_t rows, size_t cols)
{
    actk_2d_plan plan = actk_2d_make_plan(dtype, rows, cols);
    plan.workspace_bytes *= 2; /* gate and up columns: splits * cols <= max(2^20, cols) pairs of 2 accumulators */
    return plan;
}

actk_status actk_check_gated_workspace(const char *fn, actk_gated_desc desc, actk_2d_plan plan, size_t elem,
                                       size_t rows, size_t cols, const void *x, size_t ldx, const void *dy,
                                       size_t lddy, const void *dx, size_t lddx, const void *dbias,
                                       const void *workspace, size_t workspace_bytes)
{
    if (dbias == NULL || plan.workspace_bytes == 0) return ACTK_SUCCESS; /* then rows, cols > 0 below */
    const actk_buffer others[5] = {
        {"x", x, (rows - 1) * ldx + 2 * cols, "(rows-1)*ldx+2*cols", 0, 0},
        {"bias", desc.bias, desc.bias ? 2 * cols : 0, "2*cols", 0, 0},
        {"dy", dy, (rows - 1) * lddy + cols, "(rows-1)*lddy+cols", 0, 0},
        {"dx", dx, (rows - 1) * lddx + 2 * cols, "(rows-1)*lddx+2*cols", 1, 0},
        {"dbias", dbias, 2 * cols, "2*cols", 1, 0},
    };
    return actk_check_dbias_workspace(fn, "actk_cuda_gated_bias_backward_workspace_size", plan.workspace_bytes,
                                      workspace, workspace_bytes, elem, others, 5);
}

size_t actk_cuda_gated_bias_backward_workspace_size(actk_dtype dtype, size_t rows, size_t cols)
{
    if (cols > SIZE_MAX / 32) return SIZE_MAX; /* no such buffer exists; the call rejects it */
    return actk_gated_dbias_plan(dtype, rows, cols).workspace_bytes;
}
