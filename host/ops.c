// SPDX-License-Identifier: MIT
/*
 * ops.c - the op table (names, PyTorch defaults, which ops support a
 * backward pass from y; generated from kernels/op_list.h), parameter
 * validation, and library information.
 */
#include "internal.h"
#include "../kernels/op_list.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;
    float alpha; /* default first parameter (PyTorch's)  */
    float beta;  /* default second parameter (PyTorch's) */
    int from_y;  /* derivative is a function of y        */
} op_info;

/* Indexed by actk_op, generated from the op list (kernels/op_list.h). */
#define ACTK_OP_TABLE_ROW(E, name, S, alpha, beta, from_y, alpha_is, beta_is, formula) \
    [ACTK_OP_##E] = {name, alpha, beta, from_y},
static const op_info op_table[] = {ACTK_OP_LIST(ACTK_OP_TABLE_ROW)};
#undef ACTK_OP_TABLE_ROW

/* The list holds each actk_op exactly once, in enum order: as many entries
 * as ops, and the k-th entry is the enum value k. */
#define ACTK_OP_POSITION(E, ...) ACTK_OP_POSITION_##E,
enum { ACTK_OP_LIST(ACTK_OP_POSITION) ACTK_OP_LIST_LENGTH };
#undef ACTK_OP_POSITION
_Static_assert((int)ACTK_OP_LIST_LENGTH == (int)ACTK_OP_COUNT, "kernels/op_list.h must have one entry per actk_op");
#define ACTK_OP_IN_ENUM_ORDER(E, ...)                                                                                  \
    _Static_assert((int)ACTK_OP_POSITION_##E == (int)ACTK_OP_##E,                                                      \
                   "kernels/op_list.h: " #E " is not at its enum position");
ACTK_OP_LIST(ACTK_OP_IN_ENUM_ORDER)
#undef ACTK_OP_IN_ENUM_ORDER
_Static_assert(sizeof op_table / sizeof op_table[0] == ACTK_OP_COUNT, "op_table must have one row per actk_op");

static int op_in_range(actk_op op) { return (unsigned)op < (unsigned)ACTK_OP_COUNT; }

const char *actk_op_name(actk_op op) { return op_in_range(op) ? op_table[op].name : NULL; }

actk_status actk_op_from_name(const char *name, actk_op *op)
{
    if (name == NULL) return actk_fail(ACTK_ERROR_INVALID_VALUE, "actk_op_from_name: name is NULL");
    if (op == NULL) return actk_fail(ACTK_ERROR_INVALID_VALUE, "actk_op_from_name: op is NULL");
    for (int i = 0; i < (int)ACTK_OP_COUNT; ++i) {
        if (strcmp(name, op_table[i].name) == 0) {
            *op = (actk_op)i;
            return ACTK_SUCCESS;
        }
    }
    if (strcmp(name, "swish") == 0) {
        *op = ACTK_OP_SILU;
        return ACTK_SUCCESS;
    }
    /* name the valid ones, so a caller's typo is fixed without the header */
    char valid[400];
    size_t used = 0;
    for (int i = 0; i < (int)ACTK_OP_COUNT && used < sizeof valid; ++i) {
        const int wrote = snprintf(valid + used, sizeof valid - used, "%s%s", i ? ", " : "", op_table[i].name);
        if (wrote < 0) break;
        used += (size_t)wrote;
    }
    valid[sizeof valid - 1] = '\0';
    return actk_fail(ACTK_ERROR_INVALID_VALUE,
                     "actk_op_from_name: unknown op name \"%.64s\"; valid names: %s (and swish = silu)", name, valid);
}

actk_act actk_act_default(actk_op op)
{
    actk_act act = {op, 0.0f, 0.0f};
    if (op_in_range(op)) {
        act.alpha = op_table[op].alpha;
        act.beta = op_table[op].beta;
    }
    return act;
}

int actk_op_has_backward_from_y(actk_op op) { return op_in_range(op) ? op_table[op].from_y : 0; }

actk_status actk_check_act(const char *fn, actk_act act)
{
    if (!op_in_range(act.op))
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: op %d is not an actk_op", fn, (int)act.op);
    const char *name = op_table[act.op].name;
    const double a = act.alpha, b = act.beta;
    switch (act.op) {
    case ACTK_OP_LEAKY_RELU:
    case ACTK_OP_ELU:
    case ACTK_OP_SILU:
        if (!isfinite(a))
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s needs a finite alpha, got %g", fn, name, a);
        break;
    /* celu and softplus divide by alpha; |alpha| in [2^-126, 2^126] keeps
     * 1/alpha a normal float (the GPU's f32 reciprocal flushes subnormals) */
    case ACTK_OP_CELU:
        if (!(fabs(a) >= 0x1p-126 && fabs(a) <= 0x1p126))
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: celu needs |alpha| in [2^-126, 2^126], got %g", fn, a);
        break;
    case ACTK_OP_SOFTPLUS:
        if (!(fabs(a) >= 0x1p-126 && fabs(a) <= 0x1p126))
            return actk_fail(ACTK_ERROR_INVALID_VALUE,
                             "%s: softplus needs |alpha| (beta of softplus) in [2^-126, 2^126], got %g", fn, a);
        if (isnan(b)) return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: softplus threshold (beta) is NaN", fn);
        break;
    case ACTK_OP_HARDTANH:
        if (isnan(a) || isnan(b))
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: hardtanh bounds must not be NaN (alpha = %g, beta = %g)",
                             fn, a, b);
        if (a > b)
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: hardtanh needs min <= max, got alpha = %g > beta = %g", fn,
                             a, b);
        break;
    case ACTK_OP_SOFTSHRINK:
    case ACTK_OP_HARDSHRINK:
        if (!(a >= 0.0) || isinf(a))
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s needs a finite lambda (alpha) >= 0, got %g", fn, name,
                             a);
        break;
    case ACTK_OP_THRESHOLD:
        if (isnan(a) || isnan(b))
            return actk_fail(ACTK_ERROR_INVALID_VALUE,
                             "%s: threshold parameters must not be NaN (alpha = %g, beta = %g)", fn, a, b);
        break;
    default:
        break; /* parameterless ops ignore alpha and beta */
    }
    return ACTK_SUCCESS;
}

actk_status actk_act_validate(actk_act act) { return actk_check_act("actk_act_validate", act); }

/* ---- library information ------------------------------------------------ */

unsigned actk_version(void) { return ACTK_VERSION_NUMBER; }

#define ACTK_STR2(x) #x
#define ACTK_STR(x) ACTK_STR2(x)
const char *actk_version_string(void)
{
    return ACTK_STR(ACTK_VERSION_MAJOR) "." ACTK_STR(ACTK_VERSION_MINOR) "." ACTK_STR(ACTK_VERSION_PATCH);
}

const char *actk_dtype_name(actk_dtype dtype)
{
    switch (dtype) {
    case ACTK_F32: return "f32";
    case ACTK_F16: return "f16";
    case ACTK_BF16: return "bf16";
    case ACTK_F64: return "f64";
    case ACTK_DTYPE_MAX_ENUM: break;
    }
    return NULL;
}

size_t actk_dtype_size(actk_dtype dtype)
{
    switch (dtype) {
    case ACTK_F32: return 4;
    case ACTK_F16: return 2;
    case ACTK_BF16: return 2;
    case ACTK_F64: return 8;
    case ACTK_DTYPE_MAX_ENUM: break;
    }
    return 0;
}
