// SPDX-License-Identifier: MIT
/*
 * cross_entropy_args.h - what the CPU and GPU cross-entropy entry points
 * share: the options' defaults, argument validation and the workspace
 * layout of the GPU's fixed-order reduction.
 */
#ifndef ACTK_HOST_CROSS_ENTROPY_ARGS_H
#define ACTK_HOST_CROSS_ENTROPY_ARGS_H

#include "internal.h"
#include "../kernels/cross_entropy_layout.h" /* ACTK_CE_WORKSPACE_HEADER */

/* Validates a cross-entropy call: options, dtype (f32/f16/bf16; f64 is
 * ACTK_ERROR_NOT_SUPPORTED), target type, classes >= 1 when rows > 0,
 * ld/ldgrad >= classes, spans, NULL and misaligned pointers, overlaps
 * (grad may equal logits with ldgrad == ld). error_flag: NULL or a device
 * int (GPU only; checked for alignment and overlap). Fills *elem. */
actk_status actk_check_cross_entropy_args(const char *fn, actk_cross_entropy_options options, actk_dtype dtype,
                                          size_t rows, size_t classes, const void *logits, size_t ld,
                                          actk_index_type target_type, const void *targets, const float *loss,
                                          const float *lse, const void *grad, size_t ldgrad, const int *error_flag,
                                          size_t *elem);

/* The GPU's workspace for SUM/MEAN (after actk_check_cross_entropy_args):
 * NULL or too small, misaligned (16 bytes), or overlapping any buffer of
 * the call. NONE ignores it. */
actk_status actk_check_cross_entropy_workspace(const char *fn, actk_cross_entropy_options options, size_t elem,
                                               size_t rows, size_t classes, const void *logits, size_t ld,
                                               actk_index_type target_type, const void *targets, const float *loss,
                                               const float *lse, const void *grad, size_t ldgrad, const int *error_flag,
                                               const void *workspace, size_t workspace_bytes);

#endif
