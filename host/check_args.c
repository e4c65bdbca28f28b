// SPDX-License-Identifier: MIT
/*
 * check_args.c - argument validation shared by every entry point (CPU and
 * CUDA, element-wise and structured), so all reject bad input identically
 * and before anything is written.
 */
#include "internal.h"

#include <math.h>
#include <stdint.h>

actk_status actk_check_dtype(const char *fn, actk_dtype dtype, size_t *elem)
{
    *elem = actk_dtype_size(dtype);
    if (*elem == 0) return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: dtype %d is not an actk_dtype", fn, (int)dtype);
    return ACTK_SUCCESS;
}

actk_status actk_check_product(const char *fn, const char *what, size_t a, size_t b, size_t c, size_t *product)
{
    if ((b != 0 && a > SIZE_MAX / b) || (c != 0 && a * b > SIZE_MAX / c))
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s = %zu * %zu * %zu overflows size_t", fn, what, a, b, c);
    *product = a * b * c;
    return ACTK_SUCCESS;
}

/* 1 if the byte ranges [a, a+na) and [b, b+nb) share a byte. */
static int ranges_overlap(uintptr_t a, size_t na, uintptr_t b, size_t nb)
{
    if (na == 0 || nb == 0) return 0;
    return a < b ? b - a < na : a - b < nb;
}

actk_status actk_check_buffers(const char *fn, size_t elem, const actk_buffer *buffers, int count)
{
    for (int k = 0; k < count; ++k) {
        const actk_buffer *b = &buffers[k];
        if (b->elements == 0) continue; /* NULL is fine with nothing to touch */
        if (b->ptr == NULL)
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s is NULL but %s = %zu", fn, b->name, b->size_name,
                             b->elements);
        if (b->elements > SIZE_MAX / elem)
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s = %zu elements of %zu bytes overflows size_t", fn,
                             b->size_name, b->elements, elem);
        if ((uintptr_t)b->ptr % elem != 0)
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s is not aligned to its %zu-byte element size", fn,
                             b->name, elem);
        if (UINTPTR_MAX - (uintptr_t)b->ptr < b->elements * elem)
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s + %s wraps around the address space", fn, b->name,
                             b->size_name);
    }
    /* Every output against every other buffer: an output may alias an input
     * exactly (in place: same address, same size); nothing else may overlap. */
    for (int o = 0; o < count; ++o) {
        const actk_buffer *out = &buffers[o];
        if (!out->is_output) continue;
        for (int k = 0; k < count; ++k) {
            const actk_buffer *b = &buffers[k];
            if (k == o || (b->is_output && k < o)) continue;
            const uintptr_t pa = (uintptr_t)b->ptr, po = (uintptr_t)out->ptr;
            const size_t na = b->elements * elem, no = out->elements * elem;
            if (!ranges_overlap(pa, na, po, no)) continue;
            if (!b->is_output && pa == po && na == no && b->may_alias) continue;
            if (b->is_output)
                return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: outputs %s and %s overlap", fn, b->name, out->name);
            if (pa == po && na == no)
                return actk_fail(ACTK_ERROR_INVALID_VALUE,
                                 "%s: %s and %s overlap partially (%s may not be computed in place)", fn, b->name,
                                 out->name, out->name);
            return actk_fail(ACTK_ERROR_INVALID_VALUE,
                             "%s: %s and %s overlap partially (only exact aliasing, in place, is allowed)", fn, b->name,
                             out->name);
        }
    }
    return ACTK_SUCCESS;
}

actk_status actk_check_elementwise(const char *fn, actk_direction dir, actk_act act, actk_dtype dtype, size_t n,
                                   const void *in0, const void *in1, const void *out)
{
    const actk_status act_status = actk_check_act(fn, act);
    if (act_status != ACTK_SUCCESS) return act_status;
    size_t elem;
    const actk_status dtype_status = actk_check_dtype(fn, dtype, &elem);
    if (dtype_status != ACTK_SUCCESS) return dtype_status;
    if (dir == ACTK_DIR_BACKWARD_FROM_Y) {
        if (!actk_op_has_backward_from_y(act.op))
            return actk_fail(ACTK_ERROR_NOT_SUPPORTED,
                             "%s: the derivative of %s is not a function of its output; use the backward pass from x",
                             fn, actk_op_name(act.op));
        if ((act.op == ACTK_OP_LEAKY_RELU || act.op == ACTK_OP_ELU) && !(act.alpha >= 0.0f))
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s from y needs alpha >= 0, got %g", fn,
                             actk_op_name(act.op), (double)act.alpha);
        if (act.op == ACTK_OP_CELU && !(act.alpha > 0.0f))
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: celu from y needs alpha > 0, got %g", fn,
                             (double)act.alpha);
    }
    const char *in0_name = dir == ACTK_DIR_BACKWARD_FROM_Y ? "y" : "x";
    const actk_buffer buffers[3] = {
        {in0_name, in0, n, "n", 0, 1},
        {"dy", in1, dir == ACTK_DIR_FORWARD ? 0 : n, "n", 0, 1},
        {dir == ACTK_DIR_FORWARD ? "y" : "dx", out, n, "n", 1, 0},
    };
    return actk_check_buffers(fn, elem, buffers, 3);
}

actk_status actk_check_rrelu(const char *fn, actk_rrelu params)
{
    if (!isfinite(params.lower) || !isfinite(params.upper) || !(params.lower >= 0.0f) ||
        !(params.lower <= params.upper))
        return actk_fail(ACTK_ERROR_INVALID_VALUE,
                         "%s: rrelu needs finite 0 <= lower <= upper, got lower = %g, upper = %g", fn,
                         (double)params.lower, (double)params.upper);
    return ACTK_SUCCESS;
}

actk_status actk_check_softmax_kind(const char *fn, actk_softmax_kind kind)
{
    if (kind != ACTK_SOFTMAX && kind != ACTK_LOG_SOFTMAX)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: kind %d is not an actk_softmax_kind", fn, (int)kind);
    return ACTK_SUCCESS;
}
