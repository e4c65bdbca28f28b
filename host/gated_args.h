/*
 * gated_args.h - what the gated entry points (CPU and CUDA) share: the
 * description of one gated activation, where gate and up sit in a row, and
 * argument validation.
 */
#ifndef ACTK_HOST_GATED_ARGS_H
#define ACTK_HOST_GATED_ARGS_H

#include "internal.h"

/* One gated activation. clamped = 0: y = act(gate) * up. clamped = 1:
 * gpt-oss's clamped SwiGLU with act = {ACTK_OP_SILU, alpha, limit}. */
typedef struct {
    int clamped;
    actk_act act;
    actk_gated_layout layout;
    actk_gate_position gate;
    const void *bias; /* forward only: NULL, or 2 * cols values laid out as a row of x */
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
 * out = y with ldout = ldy, dy unused (NULL, 0). Backward: out = dx,
 * which may alias x exactly. Fills *elem (bytes per element). */
actk_status actk_check_gated_args(const char *fn, int backward, actk_gated_desc desc, actk_dtype dtype, size_t rows,
                                  size_t cols, const void *x, size_t ldx, const void *dy, size_t lddy,
                                  const void *out, size_t ldout, size_t *elem);

#endif
