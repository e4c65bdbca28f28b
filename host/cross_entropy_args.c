// SPDX-License-Identifier: MIT
/*
 * cross_entropy_args.c - validation shared by actk_cpu_ and
 * actk_cuda_cross_entropy_forward_backward (see cross_entropy_args.h), the
 * default options and the workspace size.
 */
#include "cross_entropy_args.h"

#include <math.h>
#include <stdint.h>

actk_cross_entropy_options actk_cross_entropy_default(void)
{
    const actk_cross_entropy_options options = {-100, 0.0f, 0.0f, 0.0f, ACTK_REDUCTION_MEAN, 1.0f, NULL};
    return options;
}

size_t actk_cuda_cross_entropy_workspace_size(actk_reduction reduction, size_t rows)
{
    if (reduction != ACTK_REDUCTION_SUM && reduction != ACTK_REDUCTION_MEAN) return 0;
    if (rows > (SIZE_MAX - 2 * ACTK_CE_WORKSPACE_HEADER) / sizeof(float)) return SIZE_MAX; /* the call rejects it */
    return ACTK_CE_WORKSPACE_HEADER + ((rows * sizeof(float) + 15) / 16) * 16;
}

static actk_status check_options(const char *fn, actk_cross_entropy_options o)
{
    if (o.reduction != ACTK_REDUCTION_NONE && o.reduction != ACTK_REDUCTION_SUM && o.reduction != ACTK_REDUCTION_MEAN)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: options.reduction %d is not an actk_reduction", fn,
                         (int)o.reduction);
    if (!(o.label_smoothing >= 0.0f && o.label_smoothing <= 1.0f))
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: options.label_smoothing = %g is not in [0, 1]", fn,
                         (double)o.label_smoothing);
    if (!(o.z_loss >= 0.0f) || !isfinite(o.z_loss))
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: options.z_loss = %g is not finite and >= 0", fn,
                         (double)o.z_loss);
    if (!(o.softcap >= 0.0f) || !isfinite(o.softcap))
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: options.softcap = %g is not finite and >= 0 (0: off)", fn,
                         (double)o.softcap);
    if (o.softcap > 0.0f && o.softcap < 0x1p-60f)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: options.softcap = %g is below 2^-60 (x / cap would overflow)",
                         fn, (double)o.softcap);
    if (!isfinite(o.grad_scale))
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: options.grad_scale = %g is not finite", fn,
                         (double)o.grad_scale);
    if (o.row_grad != NULL && o.reduction != ACTK_REDUCTION_NONE)
        return actk_fail(ACTK_ERROR_INVALID_VALUE,
                         "%s: options.row_grad (a gradient per row) needs reduction NONE; SUM and MEAN take the "
                         "scalar grad_scale", fn);
    if (o.row_grad != NULL && o.grad_scale != 1.0f)
        return actk_fail(ACTK_ERROR_INVALID_VALUE,
                         "%s: options.grad_scale = %g must be 1 with options.row_grad (row_grad scales each row)", fn,
                         (double)o.grad_scale);
    return ACTK_SUCCESS;
}

/* (rows - 1) * ld + classes elements, or an error. */
static actk_status span(const char *fn, const char *ld_name, size_t rows, size_t classes, size_t ld, size_t *out)
{
    *out = 0;
    if (ld < classes)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s = %zu is less than classes = %zu", fn, ld_name, ld, classes);
    if (rows == 0 || classes == 0) return ACTK_SUCCESS;
    if (ld > (SIZE_MAX - classes) / (rows > 1 ? rows - 1 : 1))
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: (rows - 1) * %s + classes overflows size_t", fn, ld_name);
    *out = (rows - 1) * ld + classes;
    return ACTK_SUCCESS;
}

static actk_status check_aligned(const char *fn, const char *name, const void *p, size_t align)
{
    if (p != NULL && (uintptr_t)p % align != 0)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s is not aligned to its %zu-byte element size", fn, name,
                         align);
    return ACTK_SUCCESS;
}

actk_status actk_check_cross_entropy_args(const char *fn, actk_cross_entropy_options options, actk_dtype dtype,
                                          size_t rows, size_t classes, const void *logits, size_t ld,
                                          actk_index_type target_type, const void *targets, const float *loss,
                                          const float *lse, const void *grad, size_t ldgrad, const int *error_flag,
                                          size_t *elem)
{
    actk_status s = check_options(fn, options);
    if (s == ACTK_SUCCESS) s = actk_check_dtype(fn, dtype, elem);
    if (s != ACTK_SUCCESS) return s;
    if (dtype == ACTK_F64)
        return actk_fail(ACTK_ERROR_NOT_SUPPORTED, "%s: dtype f64 is not supported (f32, f16, bf16)", fn);
    if (target_type != ACTK_INDEX_I32 && target_type != ACTK_INDEX_I64)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: target_type %d is not an actk_index_type", fn,
                         (int)target_type);
    if (rows > 0 && classes == 0)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: classes = 0 with rows = %zu (a row needs a class)", fn, rows);
    if (rows > SIZE_MAX / 8)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: rows = %zu overflows size_t in bytes", fn, rows);
    size_t logits_span, grad_span = 0;
    s = span(fn, "ld", rows, classes, ld, &logits_span);
    if (s == ACTK_SUCCESS && grad != NULL) s = span(fn, "ldgrad", rows, classes, ldgrad, &grad_span);
    if (s != ACTK_SUCCESS) return s;
    if (logits_span > SIZE_MAX / *elem)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: the logits' span overflows size_t in bytes", fn);
    if (grad != NULL && grad == logits && ldgrad != ld)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: grad == logits (in place) needs ldgrad == ld, got %zu and %zu",
                         fn, ldgrad, ld);
    const size_t index_size = target_type == ACTK_INDEX_I64 ? 8 : 4;
    if ((s = check_aligned(fn, "logits", logits, *elem)) != ACTK_SUCCESS) return s;
    if ((s = check_aligned(fn, "grad", grad, *elem)) != ACTK_SUCCESS) return s;
    if ((s = check_aligned(fn, "targets", targets, index_size)) != ACTK_SUCCESS) return s;
    if ((s = check_aligned(fn, "loss", loss, sizeof(float))) != ACTK_SUCCESS) return s;
    if ((s = check_aligned(fn, "lse", lse, sizeof(float))) != ACTK_SUCCESS) return s;
    if ((s = check_aligned(fn, "error_flag", error_flag, sizeof(int))) != ACTK_SUCCESS) return s;
    const float *row_grad = grad != NULL ? options.row_grad : NULL; /* read only with a gradient */
    if ((s = check_aligned(fn, "options.row_grad", row_grad, sizeof(float))) != ACTK_SUCCESS) return s;
    const size_t loss_values = options.reduction == ACTK_REDUCTION_NONE ? rows : 1;
    /* NULL checks here so that the messages count rows, not bytes */
    if (loss == NULL && loss_values > 0)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: loss is NULL (it needs %zu float%s)", fn, loss_values,
                         loss_values == 1 ? "" : "s");
    if (rows > 0 && (logits == NULL || targets == NULL))
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s is NULL but rows = %zu", fn,
                         logits == NULL ? "logits" : "targets", rows);
    /* byte ranges (elem = 1): NULL checks, wrap-around and overlaps */
    const actk_buffer buffers[7] = {
        {"logits", logits, logits_span * *elem, "(rows-1)*ld+classes", 0, 1},
        {"targets", targets, rows * index_size, "rows", 0, 0},
        {"loss", loss, loss_values * sizeof(float), options.reduction == ACTK_REDUCTION_NONE ? "rows" : "1", 1, 0},
        {"lse", lse, lse ? rows * sizeof(float) : 0, "rows", 1, 0},
        {"grad", grad, grad_span * *elem, "(rows-1)*ldgrad+classes", 1, 0},
        {"error_flag", error_flag, error_flag ? sizeof(int) : 0, "1", 1, 0},
        {"options.row_grad", row_grad, row_grad ? rows * sizeof(float) : 0, "rows", 0, 0},
    };
    return actk_check_buffers(fn, 1, buffers, 7);
}

actk_status actk_check_cross_entropy_workspace(const char *fn, actk_cross_entropy_options options, size_t elem,
                                               size_t rows, size_t classes, const void *logits, size_t ld,
                                               actk_index_type target_type, const void *targets, const float *loss,
                                               const float *lse, const void *grad, size_t ldgrad, const int *error_flag,
                                               const void *workspace, size_t workspace_bytes)
{
    if (options.reduction == ACTK_REDUCTION_NONE) return ACTK_SUCCESS; /* not used */
    const size_t need = actk_cuda_cross_entropy_workspace_size(options.reduction, rows);
    if (workspace == NULL || workspace_bytes < need)
        return actk_fail(ACTK_ERROR_INVALID_VALUE,
                         "%s: workspace needs %zu bytes (actk_cuda_cross_entropy_workspace_size), got %zu%s", fn, need,
                         workspace_bytes, workspace == NULL ? " and NULL" : "");
    if ((uintptr_t)workspace % 16 != 0)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: workspace is not 16-byte aligned", fn);
    const size_t index_size = target_type == ACTK_INDEX_I64 ? 8 : 4;
    const size_t logits_bytes = rows ? ((rows - 1) * ld + classes) * elem : 0;
    const size_t grad_bytes = rows && grad ? ((rows - 1) * ldgrad + classes) * elem : 0;
    const actk_buffer buffers[7] = {
        {"workspace", workspace, need, "workspace_bytes", 1, 0},
        {"logits", logits, logits_bytes, "(rows-1)*ld+classes", 0, 0},
        {"targets", targets, rows * index_size, "rows", 0, 0},
        {"loss", loss, sizeof(float), "1", 1, 0},
        {"lse", lse, lse ? rows * sizeof(float) : 0, "rows", 1, 0},
        {"grad", grad, grad_bytes, "(rows-1)*ldgrad+classes", 1, 0},
        {"error_flag", error_flag, error_flag ? sizeof(int) : 0, "1", 1, 0},
    };
    return actk_check_buffers(fn, 1, buffers, 7);
}
