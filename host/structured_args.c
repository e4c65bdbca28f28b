/*
 * structured_args.c - argument validation for softmax, PReLU, Maxout and
 * RReLU (see structured_args.h).
 */
#include "structured_args.h"
#include "../kernels/prelu_plan.h"

#include <stdint.h>

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
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: pieces is 0 but there are %zu outputs (a max over nothing)", fn, *out_total);
    const actk_buffer buffers[3] = {
        {"x", x, *in_total, "outer*units*pieces*inner", 0, 0},
        {"dy", dy, backward ? *out_total : 0, "outer*units*inner", 0, 0},
        {backward ? "dx" : "y", out, backward ? *in_total : *out_total, backward ? "outer*units*pieces*inner" : "outer*units*inner", 1, 0},
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
    if (actk_check_product("actk_cuda_prelu_backward_workspace_size", "outer*channels*inner", outer, channels, inner, &total) != ACTK_SUCCESS)
        return SIZE_MAX;
    const actk_prelu_plan plan = actk_prelu_make_plan(outer, channels, inner);
    if (plan.partials > SIZE_MAX / pair_bytes) return SIZE_MAX;
    return plan.partials * pair_bytes;
}
