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

/* Which element-wise entry point is being checked. */
typedef enum {
    ACTK_DIR_FORWARD = 0,         /* (x) -> y          */
    ACTK_DIR_BACKWARD = 1,        /* (x, dy) -> dx     */
    ACTK_DIR_BACKWARD_FROM_Y = 2  /* (y, dy) -> dx     */
} actk_direction;

/* Validates everything about an element-wise call that can be checked on
 * the host without touching the data: op and parameters, dtype, n, NULL
 * pointers, alignment to the element size, size overflow, and overlap
 * between inputs and the output (only exact aliasing is allowed).
 * `in1` is NULL for the forward direction. `fn` names the caller. */
actk_status actk_check_elementwise(const char *fn, actk_direction dir,
                                   actk_act act, actk_dtype dtype, size_t n,
                                   const void *in0, const void *in1,
                                   const void *out);

#endif /* ACTK_HOST_INTERNAL_H */
