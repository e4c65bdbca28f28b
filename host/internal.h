// SPDX-License-Identifier: MIT
/*
 * internal.h - declarations shared by the host-side C files of actk.
 * Not installed; not part of the public API.
 */
#ifndef ACTK_HOST_INTERNAL_H
#define ACTK_HOST_INTERNAL_H

#include "actk/actk.h"

#include <stddef.h>

/* Records a failure for actk_last_error() on this thread and returns
 * `status`, so call sites read `return actk_fail(...)`. */
actk_status actk_fail(actk_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Validates an activation's op and parameters; messages name `fn`. */
actk_status actk_check_act(const char *fn, actk_act act);

/* Which element-wise entry point is being checked: actk_direction. */
#include "../kernels/direction.h"

/* Validates everything about an element-wise call that can be checked on
 * the host without touching the data: op and parameters, dtype, n, NULL
 * pointers, alignment to the element size, size overflow, and overlap
 * between inputs and the output (only exact aliasing is allowed).
 * `in1` is NULL for the forward direction. `fn` names the caller. */
actk_status actk_check_elementwise(const char *fn, actk_direction dir,
                                   actk_act act, actk_dtype dtype, size_t n,
                                   const void *in0, const void *in1,
                                   const void *out);

/* One buffer argument of a call, for actk_check_buffers(). */
typedef struct {
    const char *name;      /* argument name, for messages ("x", "dslope")   */
    const void *ptr;
    size_t elements;       /* 0: not used by this call (NULL allowed)       */
    const char *size_name; /* what `elements` is called ("n", "outer*dim*inner") */
    int is_output;
    int may_alias;         /* an input an output may equal exactly (in place) */
} actk_buffer;

/* NULL with elements > 0, alignment to `elem`, byte-size overflow and
 * address wrap-around for every buffer; then overlaps: an output may alias
 * an input marked may_alias exactly; any other overlap is rejected. */
actk_status actk_check_buffers(const char *fn, size_t elem, const actk_buffer *buffers, int count);
/* dtype in range; sets *elem to its size. */
actk_status actk_check_dtype(const char *fn, actk_dtype dtype, size_t *elem);
/* *product = a * b * c, or an error naming `what` if it overflows size_t. */
actk_status actk_check_product(const char *fn, const char *what, size_t a, size_t b, size_t c, size_t *product);
actk_status actk_check_rrelu(const char *fn, actk_rrelu params);
actk_status actk_check_softmax_kind(const char *fn, actk_softmax_kind kind);

#endif /* ACTK_HOST_INTERNAL_H */
