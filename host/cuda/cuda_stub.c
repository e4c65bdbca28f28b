// SPDX-License-Identifier: MIT
/*
 * cuda_stub.c - the actk_cuda_* entry points of a build without CUDA. They
 * still validate their arguments (so bad input is reported the same way in
 * every build) and then return ACTK_ERROR_NO_DEVICE.
 */
#include "internal.h"

int actk_built_with_cuda(void) { return 0; }

int actk_cuda_device_count(void) { return 0; }

static actk_status no_device(const char *fn, actk_direction dir, actk_act act, actk_dtype dtype, size_t n,
                             const void *in0, const void *in1, const void *out)
{
    const actk_status status = actk_check_elementwise(fn, dir, act, dtype, n, in0, in1, out);
    if (status != ACTK_SUCCESS) return status;
    return actk_fail(ACTK_ERROR_NO_DEVICE, "%s: actk was built without CUDA support", fn);
}

actk_status actk_cuda_forward(actk_act act, actk_dtype dtype, size_t n, const void *x, void *y, actk_stream stream)
{
    (void)stream;
    return no_device("actk_cuda_forward", ACTK_DIR_FORWARD, act, dtype, n, x, NULL, y);
}

actk_status actk_cuda_backward(actk_act act, actk_dtype dtype, size_t n, const void *x, const void *dy, void *dx,
                               actk_stream stream)
{
    (void)stream;
    return no_device("actk_cuda_backward", ACTK_DIR_BACKWARD, act, dtype, n, x, dy, dx);
}

actk_status actk_cuda_backward_from_y(actk_act act, actk_dtype dtype, size_t n, const void *y, const void *dy,
                                      void *dx, actk_stream stream)
{
    (void)stream;
    return no_device("actk_cuda_backward_from_y", ACTK_DIR_BACKWARD_FROM_Y, act, dtype, n, y, dy, dx);
}

/* ---- structured ops: validate, then ACTK_ERROR_NO_DEVICE --------------------- */

#include "structured_args.h"

static actk_status stub_result(actk_status validation, const char *fn)
{
    if (validation != ACTK_SUCCESS) return validation;
    return actk_fail(ACTK_ERROR_NO_DEVICE, "%s: actk was built without CUDA support", fn);
}

actk_status actk_cuda_softmax_forward(actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim, size_t inner,
                                      const void *x, void *y, actk_stream stream)
{
    size_t elem, total;
    (void)stream;
    return stub_result(actk_check_softmax_args("actk_cuda_softmax_forward", 0, kind, dtype, outer, dim, inner, x, NULL,
                                               y, &elem, &total),
                       "actk_cuda_softmax_forward");
}

actk_status actk_cuda_softmax_backward(actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim, size_t inner,
                                       const void *y, const void *dy, void *dx, actk_stream stream)
{
    size_t elem, total;
    (void)stream;
    return stub_result(actk_check_softmax_args("actk_cuda_softmax_backward", 1, kind, dtype, outer, dim, inner, y, dy,
                                               dx, &elem, &total),
                       "actk_cuda_softmax_backward");
}

actk_status actk_cuda_softmax_forward_ex(actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim,
                                         size_t inner, const actk_softmax_options *options, const void *x, void *y,
                                         actk_stream stream)
{
    size_t elem, total;
    (void)stream;
    return stub_result(actk_check_softmax_ex_args("actk_cuda_softmax_forward_ex", 0, kind, dtype, outer, dim, inner,
                                                  options, x, NULL, y, &elem, &total),
                       "actk_cuda_softmax_forward_ex");
}

actk_status actk_cuda_softmax_backward_ex(actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim,
                                          size_t inner, const actk_softmax_options *options, const void *y,
                                          const void *dy, void *dx, actk_stream stream)
{
    size_t elem, total;
    (void)stream;
    return stub_result(actk_check_softmax_ex_args("actk_cuda_softmax_backward_ex", 1, kind, dtype, outer, dim, inner,
                                                  options, y, dy, dx, &elem, &total),
                       "actk_cuda_softmax_backward_ex");
}

actk_status actk_cuda_prelu_forward(actk_dtype dtype, size_t outer, size_t channels, size_t inner, const void *x,
                                    const void *slope, void *y, actk_stream stream)
{
    size_t elem, total;
    (void)stream;
    return stub_result(actk_check_prelu_args("actk_cuda_prelu_forward", 0, dtype, outer, channels, inner, x, slope,
                                             NULL, y, NULL, &elem, &total),
                       "actk_cuda_prelu_forward");
}

actk_status actk_cuda_prelu_backward(actk_dtype dtype, size_t outer, size_t channels, size_t inner, const void *x,
                                     const void *slope, const void *dy, void *dx, void *dslope, void *workspace,
                                     size_t workspace_bytes, actk_stream stream)
{
    size_t elem, total;
    (void)workspace;
    (void)workspace_bytes;
    (void)stream;
    return stub_result(actk_check_prelu_args("actk_cuda_prelu_backward", 1, dtype, outer, channels, inner, x, slope, dy,
                                             dx, dslope, &elem, &total),
                       "actk_cuda_prelu_backward");
}

actk_status actk_cuda_maxout_forward(actk_dtype dtype, size_t outer, size_t units, size_t pieces, size_t inner,
                                     const void *x, void *y, actk_stream stream)
{
    size_t elem, in_total, out_total;
    (void)stream;
    return stub_result(actk_check_maxout_args("actk_cuda_maxout_forward", 0, dtype, outer, units, pieces, inner, x,
                                              NULL, y, &elem, &in_total, &out_total),
                       "actk_cuda_maxout_forward");
}

actk_status actk_cuda_maxout_backward(actk_dtype dtype, size_t outer, size_t units, size_t pieces, size_t inner,
                                      const void *x, const void *dy, void *dx, actk_stream stream)
{
    size_t elem, in_total, out_total;
    (void)stream;
    return stub_result(actk_check_maxout_args("actk_cuda_maxout_backward", 1, dtype, outer, units, pieces, inner, x, dy,
                                              dx, &elem, &in_total, &out_total),
                       "actk_cuda_maxout_backward");
}

actk_status actk_cuda_rrelu_forward(actk_rrelu params, actk_dtype dtype, size_t n, const void *x, void *y,
                                    actk_stream stream)
{
    size_t elem;
    (void)stream;
    return stub_result(actk_check_rrelu_args("actk_cuda_rrelu_forward", 0, params, dtype, n, x, NULL, y, &elem),
                       "actk_cuda_rrelu_forward");
}

actk_status actk_cuda_rrelu_backward(actk_rrelu params, actk_dtype dtype, size_t n, const void *x, const void *dy,
                                     void *dx, actk_stream stream)
{
    size_t elem;
    (void)stream;
    return stub_result(actk_check_rrelu_args("actk_cuda_rrelu_backward", 1, params, dtype, n, x, dy, dx, &elem),
                       "actk_cuda_rrelu_backward");
}
