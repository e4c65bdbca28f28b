// SPDX-License-Identifier: MIT
/*
 * structured_args.c - argument validation for softmax, PReLU, Maxout and
 * RReLU (see structured_args.h).
 */
#include "structured_args.h"
#include "../kernels/prelu_plan.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

actk_status actk_check_softmax_args(const char *fn, int backward, actk_softmax_kind kind, actk_dtype dtype,
                                    size_t outer, size_t dim, size_t inner, const void *in0, const void *in1,
                                    const void *out, size_t *elem, size_t *total)
{
    actk_status s = actk_check_softmax_kind(fn, kind);
    if (s == ACTK_SUCCESS) s = actk_check_dtype(fn, dtype, elem);
    if (s == ACTK_SUCCESS) s = actk_check_product(fn, "outer*dim*inner", outer, dim, inner, total);
    if (s != ACTK_SUCCESS) return s;
    const actk_buffer buffers[3] = {
        {backward ? "y" : "x", in0, *total, "outer*dim*inner", 0, !backward},
        {"dy", in1, backward ? *total : 0, "outer*dim*inner", 0, 1},
        {backward ? "dx" : "y", out, *total, "outer*dim*inner", 1, 0},
    };
    return actk_check_buffers(fn, *elem, buffers, 3);
}

actk_softmax_options actk_softmax_options_default(void)
{
    actk_softmax_options options;
    memset(&options, 0, sizeof options); /* every pointer NULL, every flag off */
    options.scale = 1.0f;
    options.causal = ACTK_ATTN_MASK_NO_MASK;
    return options;
}

int actk_softmax_options_active(const actk_softmax_options *options, int backward)
{
    if (options == NULL) return 0;
    return options->scale != 1.0f || options->temperature != NULL || (!backward && options->lse != NULL) ||
           options->safe != 0 || options->causal != ACTK_ATTN_MASK_NO_MASK || options->valid_length != NULL ||
           (!backward && options->additive_mask != NULL);
}

/* One optional buffer: alignment, size overflow, wrap-around (NULL: absent). */
static actk_status check_option_buffer(const char *fn, const char *name, const void *ptr, size_t elements, size_t elem,
                                       const char *size_name)
{
    if (ptr == NULL) return ACTK_SUCCESS;
    const actk_buffer buffer = {name, ptr, elements, size_name, 0, 0};
    return actk_check_buffers(fn, elem, &buffer, 1);
}

actk_status actk_check_softmax_ex_args(const char *fn, int backward, actk_softmax_kind kind, actk_dtype dtype,
                                       size_t outer, size_t dim, size_t inner, const actk_softmax_options *options,
                                       const void *in0, const void *in1, const void *out, size_t *elem,
                                       size_t *total)
{
    actk_status s = actk_check_softmax_args(fn, backward, kind, dtype, outer, dim, inner, in0, in1, out, elem, total);
    if (s != ACTK_SUCCESS || options == NULL) return s;
    const actk_softmax_options *o = options;
    if (!(isfinite(o->scale) && o->scale > 0.0f))
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: options->scale must be finite and > 0, got %g", fn,
                         (double)o->scale);
    if (o->causal != ACTK_ATTN_MASK_NO_MASK && o->causal != ACTK_ATTN_MASK_CAUSAL &&
        o->causal != ACTK_ATTN_MASK_CAUSAL_BOTTOM_RIGHT)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: options->causal %d is not an actk_attention_mask", fn,
                         (int)o->causal);
    const void *additive = backward ? NULL : o->additive_mask;
    const int per_batch = o->valid_length != NULL || additive != NULL;
    size_t batch = 0;
    if (o->causal != ACTK_ATTN_MASK_NO_MASK || per_batch) {
        if (inner != 1)
            return actk_fail(ACTK_ERROR_INVALID_VALUE,
                             "%s: attention masks need inner == 1 (rows of keys), got inner = %zu", fn, inner);
        if (o->q_len == 0 || outer % o->q_len != 0)
            return actk_fail(
                ACTK_ERROR_INVALID_VALUE,
                "%s: options->q_len = %zu must be >= 1 and divide outer = %zu (batch * heads * q_len rows)", fn,
                o->q_len, outer);
        if (per_batch) {
            const size_t heads_rows = outer / o->q_len;
            if (o->heads == 0 || heads_rows % o->heads != 0)
                return actk_fail(ACTK_ERROR_INVALID_VALUE,
                                 "%s: options->heads = %zu must be >= 1 and divide outer / q_len = %zu", fn, o->heads,
                                 heads_rows);
            batch = heads_rows / o->heads;
        }
    }
    size_t rows;
    s = actk_check_product(fn, "outer*inner", outer, inner, 1, &rows);
    if (s != ACTK_SUCCESS) return s;
    const size_t used_rows = *total ? rows : 0; /* nothing is read or written when the tensor is empty */
    const size_t lse_elem = dtype == ACTK_F64 ? sizeof(double) : sizeof(float);
    void *lse = backward ? NULL : o->lse;
    const size_t mask_elements = *total ? batch * o->q_len * dim : 0; /* <= total: no overflow */
    s = check_option_buffer(fn, "options->temperature", o->temperature, used_rows, sizeof(float), "outer*inner");
    if (s == ACTK_SUCCESS) s = check_option_buffer(fn, "options->lse", lse, used_rows, lse_elem, "outer*inner");
    if (s == ACTK_SUCCESS)
        s = check_option_buffer(fn, "options->valid_length", o->valid_length, *total ? batch : 0, sizeof(int), "batch");
    if (s == ACTK_SUCCESS)
        s = check_option_buffer(fn, "options->additive_mask", additive, mask_elements, *elem, "batch*q_len*k_len");
    if (s != ACTK_SUCCESS) return s;
    if (used_rows && rows > SIZE_MAX / lse_elem)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: outer*inner per-row values overflow size_t", fn);
    /* Overlaps, all in bytes: the plain buffers as before, lse an output. */
    const size_t bytes = *total * *elem;
    const actk_buffer buffers[7] = {
        {backward ? "y" : "x", in0, bytes, "outer*dim*inner", 0, !backward},
        {"dy", in1, backward ? bytes : 0, "outer*dim*inner", 0, 1},
        {backward ? "dx" : "y", out, bytes, "outer*dim*inner", 1, 0},
        {"options->temperature", o->temperature, o->temperature ? used_rows * sizeof(float) : 0, "outer*inner", 0, 0},
        {"options->lse", lse, lse ? used_rows * lse_elem : 0, "outer*inner", 1, 0},
        {"options->valid_length", o->valid_length, o->valid_length && *total ? batch * sizeof(int) : 0, "batch", 0, 0},
        {"options->additive_mask", additive, additive ? mask_elements * *elem : 0, "batch*q_len*k_len", 0, 0},
    };
    return actk_check_buffers(fn, 1, buffers, 7);
}

actk_status actk_check_prelu_args(const char *fn, int backward, actk_dtype dtype, size_t outer, size_t channels,
                                  size_t inner, const void *x, const void *slope, const void *dy, const void *out,
                                  const void *dslope, size_t *elem, size_t *total)
{
    actk_status s = actk_check_dtype(fn, dtype, elem);
    if (s == ACTK_SUCCESS) s = actk_check_product(fn, "outer*channels*inner", outer, channels, inner, total);
    if (s != ACTK_SUCCESS) return s;
    const actk_buffer buffers[5] = {
        {"x", x, *total, "outer*channels*inner", 0, !backward},
        {"slope", slope, channels, "channels", 0, 0},
        {"dy", dy, backward ? *total : 0, "outer*channels*inner", 0, 1},
        {backward ? "dx" : "y", out, *total, "outer*channels*inner", 1, 0},
        {"dslope", dslope, backward ? channels : 0, "channels", 1, 0},
    };
    return actk_check_buffers(fn, *elem, buffers, 5);
}

actk_status actk_check_maxout_args(const char *fn, int backward, actk_dtype dtype, size_t outer, size_t units,
                                   size_t pieces, size_t inner, const void *x, const void *dy, const void *out,
                                   size_t *elem, size_t *in_total, size_t *out_total)
{
    actk_status s = actk_check_dtype(fn, dtype, elem);
    if (s != ACTK_SUCCESS) return s;
    size_t dim;
    s = actk_check_product(fn, "units*pieces", units, pieces, 1, &dim);
    if (s == ACTK_SUCCESS) s = actk_check_product(fn, "outer*units*pieces*inner", outer, dim, inner, in_total);
    if (s == ACTK_SUCCESS) s = actk_check_product(fn, "outer*units*inner", outer, units, inner, out_total);
    if (s != ACTK_SUCCESS) return s;
    if (pieces == 0 && *out_total > 0)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: pieces is 0 but there are %zu outputs (a max over nothing)", fn,
                         *out_total);
    const actk_buffer buffers[3] = {
        {"x", x, *in_total, "outer*units*pieces*inner", 0, 0},
        {"dy", dy, backward ? *out_total : 0, "outer*units*inner", 0, 0},
        {backward ? "dx" : "y", out, backward ? *in_total : *out_total,
         backward ? "outer*units*pieces*inner" : "outer*units*inner", 1, 0},
    };
    return actk_check_buffers(fn, *elem, buffers, 3);
}

actk_status actk_check_rrelu_args(const char *fn, int backward, actk_rrelu params, actk_dtype dtype, size_t n,
                                  const void *x, const void *dy, const void *out, size_t *elem)
{
    actk_status s = actk_check_rrelu(fn, params);
    if (s == ACTK_SUCCESS) s = actk_check_dtype(fn, dtype, elem);
    if (s != ACTK_SUCCESS) return s;
    const actk_buffer buffers[3] = {
        {"x", x, n, "n", 0, !backward},
        {"dy", dy, backward ? n : 0, "n", 0, 1},
        {backward ? "dx" : "y", out, n, "n", 1, 0},
    };
    return actk_check_buffers(fn, *elem, buffers, 3);
}

size_t actk_cuda_prelu_backward_workspace_size(actk_dtype dtype, size_t outer, size_t channels, size_t inner)
{
    /* (hi, lo) pairs of the kernels' compute type: double for f64, float
     * otherwise (kernels/prelu.cu) */
    const size_t pair_bytes = dtype == ACTK_F64 ? 2 * sizeof(double) : 2 * sizeof(float);
    size_t total;
    if (actk_check_product("actk_cuda_prelu_backward_workspace_size", "outer*channels*inner", outer, channels, inner,
                           &total) != ACTK_SUCCESS)
        return SIZE_MAX;
    const actk_prelu_plan plan = actk_prelu_make_plan(outer, channels, inner);
    if (plan.partials > SIZE_MAX / pair_bytes) return SIZE_MAX;
    return plan.partials * pair_bytes;
}
