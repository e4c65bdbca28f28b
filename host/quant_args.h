// SPDX-License-Identifier: MIT
/*
 * quant_args.h - what the FP8-output entry points (CPU and CUDA) share:
 * validation of the quantization descriptor together with the rest of a
 * 2-D element-wise or gated forward call.
 */
#ifndef ACTK_HOST_QUANT_ARGS_H
#define ACTK_HOST_QUANT_ARGS_H

#include "internal.h"

/* Scale groups per row: 1 (PER_ROW), cols / group_size (PER_GROUP),
 * cols / 32 (MXFP8), 0 (PER_TENSOR). The descriptor must be valid. */
size_t actk_quant_groups(const actk_quant *q, size_t cols);

/* Validates a quantized forward: the activation, (gated) layout and gate
 * position, dtype (f64: NOT_SUPPORTED), the descriptor (format, mode, group
 * size dividing cols), ldx >= input row width (cols, or 2 cols when gated),
 * ldy >= cols, span overflow, NULL and misaligned pointers with work to do,
 * and overlaps between every input and output. Fills *elem (input bytes
 * per element) and *groups (actk_quant_groups). */
actk_status actk_check_quant_args(const char *fn, int gated, actk_act act, actk_gated_layout layout,
                                  actk_gate_position gate, actk_dtype dtype, size_t rows, size_t cols, const void *x,
                                  size_t ldx, const void *bias, const actk_quant *q, const void *y, size_t ldy,
                                  size_t *elem, size_t *groups);

#endif
