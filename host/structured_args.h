// SPDX-License-Identifier: MIT
/*
 * structured_args.h - validation of the structured ops' arguments, shared
 * by the CPU and CUDA entry points.
 */
#ifndef ACTK_HOST_STRUCTURED_ARGS_H
#define ACTK_HOST_STRUCTURED_ARGS_H

#include "internal.h"

/* Each fills *elem (bytes per element) and the element counts the call
 * touches, or returns the error. */
actk_status actk_check_softmax_args(const char *fn, int backward, actk_softmax_kind kind, actk_dtype dtype,
                                    size_t outer, size_t dim, size_t inner, const void *in0, const void *in1,
                                    const void *out, size_t *elem, size_t *total);
/* The _ex forms: the plain checks, then the options (NULL: none) as the
 * header documents; fills *rows (outer * inner, the per-row arrays' length)
 * and *batch (outer / (q_len * heads) when a per-batch mask is given, else 0). */
actk_status actk_check_softmax_ex_args(const char *fn, int backward, actk_softmax_kind kind, actk_dtype dtype,
                                       size_t outer, size_t dim, size_t inner, const actk_softmax_options *options,
                                       const void *in0, const void *in1, const void *out, size_t *elem,
                                       size_t *total);
/* Non-zero when the options change anything (the plain kernels otherwise). */
int actk_softmax_options_active(const actk_softmax_options *options, int backward);
actk_status actk_check_prelu_args(const char *fn, int backward, actk_dtype dtype, size_t outer, size_t channels,
                                  size_t inner, const void *x, const void *slope, const void *dy, const void *out,
                                  const void *dslope, size_t *elem, size_t *total);
actk_status actk_check_maxout_args(const char *fn, int backward, actk_dtype dtype, size_t outer, size_t units,
                                   size_t pieces, size_t inner, const void *x, const void *dy, const void *out,
                                   size_t *elem, size_t *in_total, size_t *out_total);
actk_status actk_check_rrelu_args(const char *fn, int backward, actk_rrelu params, actk_dtype dtype, size_t n,
                                  const void *x, const void *dy, const void *out, size_t *elem);

#endif
