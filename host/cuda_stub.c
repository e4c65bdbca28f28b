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
