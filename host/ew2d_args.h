// SPDX-License-Identifier: MIT
/*
 * ew2d_args.h - what the 2-D element-wise entry points (row strides,
 * optional fused bias and dbias) share: argument validation and the GPU's
 * dbias reduction plan.
 */
#ifndef ACTK_HOST_EW2D_ARGS_H
#define ACTK_HOST_EW2D_ARGS_H

#include "internal.h"

/* Validates a 2-D element-wise call: op and parameters, dtype, ld >= cols,
 * spans, NULL/misaligned pointers and overlaps. Forward: dy = NULL, out = y
 * (may equal x), dbias = NULL. Backward: out = dx (may equal dy). bias and
 * dbias may be NULL (not used). Fills *elem. */
actk_status actk_check_2d_args(const char *fn, int backward, actk_act act, actk_dtype dtype, size_t rows, size_t cols,
                               const void *x, size_t ldx, const void *bias, const void *dy, size_t lddy,
                               const void *out, size_t ldout, const void *dbias, size_t *elem);

/* The oracle's dbias: column `column` of a strided rows x ? matrix m of
 * dtype summed in long double with compensation (Neumaier), to be rounded
 * once by the caller. */
long double actk_ref_column_sum(actk_dtype dtype, const void *m, size_t column, size_t rows, size_t ld);

/* How the GPU backward splits the rows: `splits` slices of `rows_per_split`
 * rows, one thread per (column, slice); with dbias each writes a (hi, lo)
 * partial sum to the workspace, which a second pass adds up per column in
 * slice order. Depends on the shape only, so the result is the same on
 * every device. */
typedef struct {
    size_t splits;
    size_t rows_per_split;
    size_t workspace_bytes; /* for dbias */
} actk_2d_plan;
actk_2d_plan actk_2d_make_plan(actk_dtype dtype, size_t rows, size_t cols);

/* Checks the dbias workspace of a GPU backward call that needs `need`
 * bytes (size_fn: the size query to name in the message): not NULL, large
 * enough, 16-byte aligned and disjoint from the call's other buffers
 * (`others`, with their spans; elem: the dtype's size). */
actk_status actk_check_dbias_workspace(const char *fn, const char *size_fn, size_t need, const void *workspace,
                                       size_t workspace_bytes, size_t elem, const actk_buffer *others, int count);

#endif
