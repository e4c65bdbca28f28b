/*
 * check_args.c - argument validation shared by the CPU and CUDA
 * element-wise entry points, so both reject bad input identically and
 * before anything is written.
 */
#include "internal.h"

#include <stdint.h>

static const char *input_name(actk_direction dir, int index)
{
    if (index == 1) return "dy";
    return dir == ACTK_DIR_BACKWARD_FROM_Y ? "y" : "x";
}

/* 1 if [a, a+bytes) and [b, b+bytes) share a byte but do not start at the
 * same address (exact aliasing is the in-place case, which is allowed). */
static int partially_overlaps(const void *a, const void *b, size_t bytes)
{
    uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
    if (pa == pb) return 0;
    return pa < pb ? pb - pa < bytes : pa - pb < bytes;
}

actk_status actk_check_elementwise(const char *fn, actk_direction dir,
                                   actk_act act, actk_dtype dtype, size_t n,
                                   const void *in0, const void *in1,
                                   const void *out)
{
    const actk_status act_status = actk_check_act(fn, act);
    if (act_status != ACTK_SUCCESS) return act_status;
    const size_t elem = actk_dtype_size(dtype);
    if (elem == 0) return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: dtype %d is not an actk_dtype", fn, (int)dtype);
    if (dir == ACTK_DIR_BACKWARD_FROM_Y) {
        if (!actk_op_has_backward_from_y(act.op))
            return actk_fail(ACTK_ERROR_NOT_SUPPORTED, "%s: the derivative of %s is not a function of its output; use the backward pass from x", fn, actk_op_name(act.op));
        if ((act.op == ACTK_OP_LEAKY_RELU || act.op == ACTK_OP_ELU) && !(act.alpha >= 0.0f))
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s from y needs alpha >= 0, got %g", fn, actk_op_name(act.op), (double)act.alpha);
        if (act.op == ACTK_OP_CELU && !(act.alpha > 0.0f))
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: celu from y needs alpha > 0, got %g", fn, (double)act.alpha);
    }
    if (n == 0) return ACTK_SUCCESS; /* NULL pointers are fine with nothing to do */
    if (n > SIZE_MAX / elem) return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: n = %zu elements of %zu bytes overflows size_t", fn, n, elem);
    const size_t bytes = n * elem;

    const void *inputs[2] = {in0, in1};
    const int n_inputs = dir == ACTK_DIR_FORWARD ? 1 : 2;
    for (int i = 0; i < n_inputs; ++i) {
        if (inputs[i] == NULL) return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s is NULL but n = %zu", fn, input_name(dir, i), n);
        if ((uintptr_t)inputs[i] % elem != 0)
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s is not aligned to its %zu-byte element size", fn, input_name(dir, i), elem);
    }
    const char *out_name = dir == ACTK_DIR_FORWARD ? "y" : "dx";
    if (out == NULL) return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s is NULL but n = %zu", fn, out_name, n);
    if ((uintptr_t)out % elem != 0) return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s is not aligned to its %zu-byte element size", fn, out_name, elem);
    if (UINTPTR_MAX - (uintptr_t)out < bytes) return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s + n wraps around the address space", fn, out_name);
    for (int i = 0; i < n_inputs; ++i) {
        if (UINTPTR_MAX - (uintptr_t)inputs[i] < bytes)
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s + n wraps around the address space", fn, input_name(dir, i));
        if (partially_overlaps(inputs[i], out, bytes))
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s and %s overlap partially (only %s == %s is allowed)", fn, input_name(dir, i), out_name, out_name, input_name(dir, i));
    }
    return ACTK_SUCCESS;
}
