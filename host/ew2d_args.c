// SPDX-License-Identifier: MIT
/*
 * ew2d_args.c - argument validation and the dbias plan of the 2-D
 * element-wise entry points (see ew2d_args.h).
 */
#include "ew2d_args.h"

#include <stdint.h>

static actk_status span_2d(const char *fn, const char *ld_name, size_t rows, size_t cols, size_t ld, size_t *span)
{
    *span = 0;
    if (ld < cols)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s = %zu is less than the row width cols = %zu", fn, ld_name,
                         ld, cols);
    if (rows == 0 || cols == 0) return ACTK_SUCCESS;
    if (rows - 1 > 0 && ld > (SIZE_MAX - cols) / (rows - 1))
        return actk_fail(ACTK_ERROR_INVALID_VALUE,
                         "%s: (rows - 1) * %s + cols = (%zu - 1) * %zu + %zu overflows size_t", fn, ld_name, rows, ld,
                         cols);
    *span = (rows - 1) * ld + cols;
    return ACTK_SUCCESS;
}

actk_status actk_check_2d_args(const char *fn, int backward, actk_act act, actk_dtype dtype, size_t rows, size_t cols,
                               const void *x, size_t ldx, const void *bias, const void *dy, size_t lddy,
                               const void *out, size_t ldout, const void *dbias, size_t *elem)
{
    actk_status s = actk_check_act(fn, act);
    if (s == ACTK_SUCCESS) s = actk_check_dtype(fn, dtype, elem);
    if (s != ACTK_SUCCESS) return s;
    size_t x_span, dy_span = 0, out_span;
    s = span_2d(fn, "ldx", rows, cols, ldx, &x_span);
    if (s == ACTK_SUCCESS && backward) s = span_2d(fn, "lddy", rows, cols, lddy, &dy_span);
    if (s == ACTK_SUCCESS) s = span_2d(fn, backward ? "lddx" : "ldy", rows, cols, ldout, &out_span);
    if (s != ACTK_SUCCESS) return s;
    const size_t work_cols = rows == 0 ? 0 : cols;
    const actk_buffer buffers[5] = {
        {"x", x, x_span, "(rows-1)*ldx+cols", 0, !backward},
        {"bias", bias, bias ? work_cols : 0, "cols", 0, 0},
        {"dy", dy, dy_span, "(rows-1)*lddy+cols", 0, backward},
        {backward ? "dx" : "y", out, out_span, backward ? "(rows-1)*lddx+cols" : "(rows-1)*ldy+cols", 1, 0},
        {"dbias", dbias, dbias ? cols : 0, "cols", 1, 0},
    };
    return actk_check_buffers(fn, *elem, buffers, 5);
}

actk_2d_plan actk_2d_make_plan(actk_dtype dtype, size_t rows, size_t cols)
{
    actk_2d_plan plan = {0, 0, 0};
    if (rows == 0 || cols == 0) return plan;
    size_t splits = ((size_t)1 << 20) / cols; /* about 2^20 threads */
    if (splits < 1) splits = 1;
    if (splits > rows) splits = rows;
    if (splits > 65535) splits = 65535; /* grid.y */
    plan.rows_per_split = (rows + splits - 1) / splits;
    plan.splits = (rows + plan.rows_per_split - 1) / plan.rows_per_split;
    const size_t accumulator = dtype == ACTK_F64 ? sizeof(double) : sizeof(float);
    plan.workspace_bytes = plan.splits * cols * 2 * accumulator; /* <= 2^20 * 2 * 8 bytes + cols */
    return plan;
}

actk_status actk_check_dbias_workspace(const char *fn, const char *size_fn, size_t need, const void *workspace,
                                       size_t workspace_bytes, size_t elem, const actk_buffer *others, int count)
{
    if (workspace == NULL || workspace_bytes < need)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: workspace needs %zu bytes (%s), got %zu%s", fn, need, size_fn,
                         workspace_bytes, workspace == NULL ? " and NULL" : "");
    if ((uintptr_t)workspace % 16 != 0)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: workspace is not 16-byte aligned", fn);
    /* the workspace must not overlap any buffer the call reads or writes
     * (pair by pair: the others' own aliasing, dx == x or dy, is legal) */
    for (int k = 0; k < count; ++k) {
        const actk_buffer pair[2] = {{"workspace", workspace, (need + elem - 1) / elem, "workspace_bytes", 1, 0},
                                     others[k]};
        const actk_status s = actk_check_buffers(fn, elem, pair, 2);
        if (s != ACTK_SUCCESS) return s;
    }
    return ACTK_SUCCESS;
}

size_t actk_cuda_backward_2d_workspace_size(actk_dtype dtype, size_t rows, size_t cols)
{
    if (cols > SIZE_MAX / 16) return SIZE_MAX; /* no such buffer exists; the call rejects it */
    return actk_2d_make_plan(dtype, rows, cols).workspace_bytes;
}
