// SPDX-License-Identifier: MIT
/*
 * cuda_structured.c - the actk_cuda_* entry points of softmax, PReLU,
 * Maxout and RReLU: the same validation as the CPU path
 * (structured_args.c), then device, stream and pointer checks
 * (cuda_common.c), then the launch. No synchronisation, no allocation.
 * Softmax records which kernel it launched for the tests (cuda_test_hooks.h).
 */
#include "cuda_common.h"
#include "cuda_test_hooks.h"
#include "structured_args.h"
#include "../kernels/structured_launch.h"

#include <stdint.h>

static actk_status launched(const char *fn, cudaError_t err)
{
    return err == cudaSuccess ? ACTK_SUCCESS : actk_cuda_failure(fn, "kernel launch", err);
}

/* The device as the softmax dispatch should see it: the test hook may hide
 * its clusters, so a Hopper-class GPU also runs the pre-Hopper paths. */
static const actk_device_facts *softmax_view(actk_device_facts *facts)
{
    if (actk_internal_softmax_clusters_disabled()) facts->cluster_launch = 0;
    return facts;
}

static actk_status softmax_launched(const char *fn, cudaError_t err, const actk_softmax_launch *launch)
{
    actk_internal_record_softmax_launch(launch);
    return launched(fn, err);
}

/* Device pointers of the options that the call reads or writes. */
static int option_pointers(const actk_softmax_options *o, int backward, actk_device_pointer *p)
{
    int n = 0;
    if (o == NULL) return 0;
    if (o->temperature) p[n++] = (actk_device_pointer){"options->temperature", o->temperature};
    if (!backward && o->lse) p[n++] = (actk_device_pointer){"options->lse", o->lse};
    if (o->valid_length) p[n++] = (actk_device_pointer){"options->valid_length", o->valid_length};
    if (!backward && o->additive_mask) p[n++] = (actk_device_pointer){"options->additive_mask", o->additive_mask};
    return n;
}

static actk_status cuda_softmax_forward(const char *fn, actk_softmax_kind kind, actk_dtype dtype, size_t outer,
                                        size_t dim, size_t inner, const actk_softmax_options *options, const void *x,
                                        void *y, actk_stream stream)
{
    size_t elem, total;
    actk_device_facts facts;
    actk_softmax_launch launch = {ACTK_SOFTMAX_PATH_NONE, 0, 0, 0, 0, 0};
    actk_internal_record_softmax_launch(&launch);
    actk_status s =
        actk_check_softmax_ex_args(fn, 0, kind, dtype, outer, dim, inner, options, x, NULL, y, &elem, &total);
    actk_device_pointer pointers[6] = {{"x", x}, {"y", y}};
    const int count = 2 + option_pointers(options, 0, pointers + 2);
    if (s == ACTK_SUCCESS) s = actk_cuda_prepare_device(fn, stream, pointers, total ? count : 0, &facts);
    if (s != ACTK_SUCCESS || total == 0) return s;
    const actk_softmax_options *active = actk_softmax_options_active(options, 0) ? options : NULL;
    const cudaError_t err = actk_launch_softmax_forward(kind == ACTK_LOG_SOFTMAX, dtype, outer, dim, inner, active, x,
                                                        y, softmax_view(&facts), (cudaStream_t)stream, &launch);
    return softmax_launched(fn, err, &launch);
}

static actk_status cuda_softmax_backward(const char *fn, actk_softmax_kind kind, actk_dtype dtype, size_t outer,
                                         size_t dim, size_t inner, const actk_softmax_options *options, const void *y,
                                         const void *dy, void *dx, actk_stream stream)
{
    size_t elem, total;
    actk_device_facts facts;
    actk_softmax_launch launch = {ACTK_SOFTMAX_PATH_NONE, 0, 0, 0, 0, 0};
    actk_internal_record_softmax_launch(&launch);
    actk_status s =
        actk_check_softmax_ex_args(fn, 1, kind, dtype, outer, dim, inner, options, y, dy, dx, &elem, &total);
    actk_device_pointer pointers[7] = {{"y", y}, {"dy", dy}, {"dx", dx}};
    const int count = 3 + option_pointers(options, 1, pointers + 3);
    if (s == ACTK_SUCCESS) s = actk_cuda_prepare_device(fn, stream, pointers, total ? count : 0, &facts);
    if (s != ACTK_SUCCESS || total == 0) return s;
    const actk_softmax_options *active = actk_softmax_options_active(options, 1) ? options : NULL;
    const cudaError_t err = actk_launch_softmax_backward(kind == ACTK_LOG_SOFTMAX, dtype, outer, dim, inner, active, y,
                                                         dy, dx, softmax_view(&facts), (cudaStream_t)stream, &launch);
    return softmax_launched(fn, err, &launch);
}

actk_status actk_cuda_softmax_forward(actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim, size_t inner,
                                      const void *x, void *y, actk_stream stream)
{
    return cuda_softmax_forward("actk_cuda_softmax_forward", kind, dtype, outer, dim, inner, NULL, x, y, stream);
}

actk_status actk_cuda_softmax_backward(actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim, size_t inner,
                                       const void *y, const void *dy, void *dx, actk_stream stream)
{
    return cuda_softmax_backward("actk_cuda_softmax_backward", kind, dtype, outer, dim, inner, NULL, y, dy, dx, stream);
}

actk_status actk_cuda_softmax_forward_ex(actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim,
                                         size_t inner, const actk_softmax_options *options, const void *x, void *y,
                                         actk_stream stream)
{
    return cuda_softmax_forward("actk_cuda_softmax_forward_ex", kind, dtype, outer, dim, inner, options, x, y, stream);
}

actk_status actk_cuda_softmax_backward_ex(actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim,
                                          size_t inner, const actk_softmax_options *options, const void *y,
                                          const void *dy, void *dx, actk_stream stream)
{
    return cuda_softmax_backward("actk_cuda_softmax_backward_ex", kind, dtype, outer, dim, inner, options, y, dy, dx,
                                 stream);
}

actk_status actk_cuda_prelu_forward(actk_dtype dtype, size_t outer, size_t channels, size_t inner, const void *x,
                                    const void *slope, void *y, actk_stream stream)
{
    const char *fn = "actk_cuda_prelu_forward";
    size_t elem, total;
    int sm_count = 0;
    actk_status s = actk_check_prelu_args(fn, 0, dtype, outer, channels, inner, x, slope, NULL, y, NULL, &elem, &total);
    const actk_device_pointer pointers[3] = {{"x", x}, {"slope", slope}, {"y", y}};
    if (s == ACTK_SUCCESS) s = actk_cuda_prepare(fn, stream, pointers, total ? 3 : 0, &sm_count);
    if (s != ACTK_SUCCESS || total == 0) return s;
    return launched(
        fn, actk_launch_prelu_forward(dtype, outer, channels, inner, x, slope, y, sm_count, (cudaStream_t)stream));
}

actk_status actk_cuda_prelu_backward(actk_dtype dtype, size_t outer, size_t channels, size_t inner, const void *x,
                                     const void *slope, const void *dy, void *dx, void *dslope, void *workspace,
                                     size_t workspace_bytes, actk_stream stream)
{
    const char *fn = "actk_cuda_prelu_backward";
    size_t elem, total;
    int sm_count = 0;
    actk_status s =
        actk_check_prelu_args(fn, 1, dtype, outer, channels, inner, x, slope, dy, dx, dslope, &elem, &total);
    if (s != ACTK_SUCCESS) return s;
    const size_t needed = actk_cuda_prelu_backward_workspace_size(dtype, outer, channels, inner);
    if (needed > 0 && (workspace == NULL || workspace_bytes < needed))
        return actk_fail(
            ACTK_ERROR_INVALID_VALUE,
            "%s: workspace is %s%zu bytes but this shape needs %zu (actk_cuda_prelu_backward_workspace_size)", fn,
            workspace == NULL ? "NULL, " : "", workspace_bytes, needed);
    if (needed > 0 && (uintptr_t)workspace % 8 != 0)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: workspace is not aligned to 8 bytes", fn);
    const actk_device_pointer pointers[6] = {{"x", x},   {"slope", slope},   {"dy", dy},
                                             {"dx", dx}, {"dslope", dslope}, {"workspace", workspace}};
    s = actk_cuda_prepare(fn, stream, pointers, channels ? 6 : 0, &sm_count);
    if (s != ACTK_SUCCESS || channels == 0) return s;
    if (total == 0) /* dslope of an empty batch is 0 */
        return cudaMemsetAsync(dslope, 0, channels * elem, (cudaStream_t)stream) == cudaSuccess
                   ? ACTK_SUCCESS
                   : actk_cuda_failure(fn, "cudaMemsetAsync", cudaGetLastError());
    const actk_prelu_plan plan = actk_prelu_make_plan(outer, channels, inner);
    return launched(fn, actk_launch_prelu_backward(dtype, outer, channels, inner, x, slope, dy, dx, dslope, workspace,
                                                   &plan, sm_count, (cudaStream_t)stream));
}

static actk_status cuda_maxout(const char *fn, int backward, actk_dtype dtype, size_t outer, size_t units,
                               size_t pieces, size_t inner, const void *x, const void *dy, void *out,
                               actk_stream stream)
{
    size_t elem, in_total, out_total;
    int sm_count = 0;
    actk_status s = actk_check_maxout_args(fn, backward, dtype, outer, units, pieces, inner, x, dy, out, &elem,
                                           &in_total, &out_total);
    const actk_device_pointer pointers[3] = {{"x", x}, {"dy", backward ? dy : NULL}, {backward ? "dx" : "y", out}};
    if (s == ACTK_SUCCESS) s = actk_cuda_prepare(fn, stream, pointers, out_total ? 3 : 0, &sm_count);
    if (s != ACTK_SUCCESS || out_total == 0) return s;
    return launched(fn, actk_launch_maxout(backward, dtype, outer, units, pieces, inner, x, dy, out, sm_count,
                                           (cudaStream_t)stream));
}

actk_status actk_cuda_maxout_forward(actk_dtype dtype, size_t outer, size_t units, size_t pieces, size_t inner,
                                     const void *x, void *y, actk_stream stream)
{
    return cuda_maxout("actk_cuda_maxout_forward", 0, dtype, outer, units, pieces, inner, x, NULL, y, stream);
}

actk_status actk_cuda_maxout_backward(actk_dtype dtype, size_t outer, size_t units, size_t pieces, size_t inner,
                                      const void *x, const void *dy, void *dx, actk_stream stream)
{
    return cuda_maxout("actk_cuda_maxout_backward", 1, dtype, outer, units, pieces, inner, x, dy, dx, stream);
}

static actk_status cuda_rrelu(const char *fn, int backward, actk_rrelu params, actk_dtype dtype, size_t n,
                              const void *x, const void *dy, void *out, actk_stream stream)
{
    size_t elem;
    int sm_count = 0;
    actk_status s = actk_check_rrelu_args(fn, backward, params, dtype, n, x, dy, out, &elem);
    const actk_device_pointer pointers[3] = {{"x", x}, {"dy", backward ? dy : NULL}, {backward ? "dx" : "y", out}};
    if (s == ACTK_SUCCESS) s = actk_cuda_prepare(fn, stream, pointers, n ? 3 : 0, &sm_count);
    if (s != ACTK_SUCCESS || n == 0) return s;
    return launched(fn, actk_launch_rrelu(backward, params, dtype, n, x, dy, out, sm_count, (cudaStream_t)stream));
}

actk_status actk_cuda_rrelu_forward(actk_rrelu params, actk_dtype dtype, size_t n, const void *x, void *y,
                                    actk_stream stream)
{
    return cuda_rrelu("actk_cuda_rrelu_forward", 0, params, dtype, n, x, NULL, y, stream);
}

actk_status actk_cuda_rrelu_backward(actk_rrelu params, actk_dtype dtype, size_t n, const void *x, const void *dy,
                                     void *dx, actk_stream stream)
{
    return cuda_rrelu("actk_cuda_rrelu_backward", 1, params, dtype, n, x, dy, dx, stream);
}
