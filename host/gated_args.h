// SPDX-License-Identifier: MIT
/*
 * gated_args.h - what the gated entry points (CPU and CUDA) share: the
 * description of one gated activation, where gate and up sit in a row, and
 * argument validation.
 */
#ifndef ACTK_HOST_GATED_ARGS_H
#define ACTK_HOST_GATED_ARGS_H

#include "ew2d_args.h" /* actk_2d_plan */
#include "internal.h"

/* One gated activation. clamped = 0: y = act(gate) * up. clamped = 1:
 * gpt-oss's clamped SwiGLU with act = {ACTK_OP_SILU, alpha, limit}. */
typedef struct {
    int clamped;
    actk_act act;
    actk_gated_layout layout;
    actk_gate_position gate;
    const void *bias; /* NULL, or 2 * cols values laid out as a row of x */
} actk_gated_desc;

/* Row positions of column j's values: gate at step * j + gate_offset, up at
 * step * j + up_offset (step 1 for concatenated halves, 2 for pairs). */
typedef struct {
    size_t step;
    size_t gate_offset;
    size_t up_offset;
} actk_gated_positions;
actk_gated_positions actk_gated_positions_for(actk_gated_layout layout, actk_gate_position gate, size_t cols);

/* Validates a gated call: the activation (or clamped SwiGLU's alpha and
 * limit), layout, gate position, dtype, leading dimensions against the row
 * widths, span overflow, NULL/misaligned pointers and overlaps. Forward:
 * out = y with ldout = ldy, dy unused (NULL, 0), dbias NULL. Backward:
 * out = dx, which may alias x exactly; dbias NULL or 2 * cols values
 * (wanted whenever cols > 0, also for rows = 0: zeros). Fills *elem (bytes
 * per element). */
actk_status actk_check_gated_args(const char *fn, int backward, actk_gated_desc desc, actk_dtype dtype, size_t rows,
                                  size_t cols, const void *x, size_t ldx, const void *dy, size_t lddy,
                                  const void *out, size_t ldout, const void *dbias, size_t *elem);

/* The GPU's plan for a gated backward with dbias: the 2-D element-wise
 * slices (one thread per output column and slice), with a (hi, lo) pair per
 * slice for each of the 2 * cols bias columns. Shape only. */
actk_2d_plan actk_gated_dbias_plan(actk_dtype dtype, size_t rows, size_t cols);

/* For a backward call already validated by actk_check_gated_args (with
 * dbias): checks its dbias workspace against `plan` (every build, so a
 * build without CUDA rejects the same calls). Nothing to check without
 * dbias or without work. */
actk_status actk_check_gated_workspace(const char *fn, actk_gated_desc desc, actk_2d_plan plan, size_t elem,
                                       size_t rows, size_t cols, const void *x, size_t ldx, const void *dy,
                                       size_t lddy, const void *dx, size_t lddx, const void *dbias,
                                       const void *workspace, size_t workspace_bytes);

#endif
