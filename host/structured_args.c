/*
 * structured_args.c - argument validation for softmax, PReLU, Maxout and
 * RReLU (see structured_args.h).
 */
#include "structured_args.h"

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

/* The GPU PReLU backward's plan (see kernels/prelu.cu). Few columns and few
 * channels: "chunk" blocks over contiguous ranges, per-channel partials.
 * Otherwise: "column" threads over (column, slice of outer) so that about
 * 2^20 threads run (at most 65535 slices, the grid's y limit). Independent
 * of the device, so the size query needs none. */
actk_prelu_plan actk_prelu_make_plan(size_t outer, size_t channels, size_t inner)
{
    actk_prelu_plan plan = {0, 0, 0};
    const size_t columns = channels * inner, total = outer * columns;
    if (total == 0) return plan;
    if (channels <= ACTK_PRELU_CHUNK_MAX_CHANNELS && columns < 256) {
        plan.chunked = 1;
        size_t blocks = (total + 8191) / 8192; /* about 8K elements per block */
        if (blocks > 4096) blocks = 4096;
        plan.splits = blocks;
        plan.partials = blocks * channels;
        return plan;
    }
    size_t splits = ((size_t)1 << 20) / columns;
    if (splits < 1) splits = 1;
    if (splits > outer) splits = outer;
    if (splits > 65535) splits = 65535;
    plan.splits = splits;
    plan.partials = splits * columns;
    return plan;
}

size_t actk_cuda_prelu_backward_workspace_size(actk_dtype dtype, size_t outer, size_t channels, size_t inner)
{
    (void)dtype; /* partial sums are doubles for every dtype */
    size_t total;
    if (actk_check_product("actk_cuda_prelu_backward_workspace_size", "outer*channels*inner", outer, channels, inner, &total) != ACTK_SUCCESS)
        return SIZE_MAX;
    const actk_prelu_plan plan = actk_prelu_make_plan(outer, channels, inner);
    if (plan.partials > SIZE_MAX / sizeof(double)) return SIZE_MAX;
    return plan.partials * sizeof(double);
}
