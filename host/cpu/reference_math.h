// SPDX-License-Identifier: MIT
/*
 * reference_math.h - the CPU reference ("oracle") for every element-wise
 * op: values and derivatives in long double, formulated so that tails do
 * not cancel (e.g. gelu via erfc, tanh' via exp(-2|x|)). Callers round the
 * result once to the output type.
 */
#ifndef ACTK_HOST_REFERENCE_MATH_H
#define ACTK_HOST_REFERENCE_MATH_H

#include "actk/actk.h"

/* f(x). */
long double actk_ref_forward(actk_act act, long double x);
/* dy * f'(x); 0 on flat pieces whatever dy is; NaN if x is NaN. */
long double actk_ref_backward(actk_act act, long double x, long double dy);
/* dy * f'(x) computed from y = f(x); same conventions. The op must
 * support it (actk_op_has_backward_from_y). */
long double actk_ref_backward_from_y(actk_act act, long double y, long double dy);

#endif
