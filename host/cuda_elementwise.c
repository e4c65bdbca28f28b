/*
 * cuda_elementwise.c - the actk_cuda_* element-wise entry points (built
 * when CUDA is enabled). Validates on the host exactly as the CPU path
 * does, checks that a device is present and that the pointers are not
 * plain host memory, then launches the kernels. Nothing here
 * synchronises or allocates, so every call can be captured in a graph.
 */
#include "internal.h"
#include "../kernels/elementwise_launch.h"

#include <cuda_runtime_api.h>
#include <stdatomic.h>

int actk_built_with_cuda(void) { return 1; }

/* Cached because cudaGetDeviceCount and the SM-count query would otherwise
 * cost on every call; both are idempotent, so a race only repeats work. */
static atomic_int cached_device_count = -1;
#define ACTK_MAX_CACHED_DEVICES 64
static atomic_int cached_sm_count[ACTK_MAX_CACHED_DEVICES];

int actk_cuda_device_count(void)
{
    int count = atomic_load(&cached_device_count);
    if (count < 0) {
        if (cudaGetDeviceCount(&count) != cudaSuccess) {
            count = 0;
            (void)cudaGetLastError(); /* clear the non-sticky "no device" error */
        }
        atomic_store(&cached_device_count, count);
    }
    return count;
}

static actk_status cuda_failure(const char *fn, const char *what, cudaError_t err)
{
    return actk_fail(ACTK_ERROR_CUDA, "%s: %s failed: %s (%s)", fn, what, cudaGetErrorName(err), cudaGetErrorString(err));
}

/* Device present and the current device's SM count. */
static actk_status current_device_sm_count(const char *fn, int *sm_count)
{
    if (actk_cuda_device_count() == 0) return actk_fail(ACTK_ERROR_NO_DEVICE, "%s: no CUDA device is available", fn);
    int device = 0;
    cudaError_t err = cudaGetDevice(&device);
    if (err != cudaSuccess) return cuda_failure(fn, "cudaGetDevice", err);
    if (device >= 0 && device < ACTK_MAX_CACHED_DEVICES) {
        const int cached = atomic_load(&cached_sm_count[device]);
        if (cached > 0) {
            *sm_count = cached;
            return ACTK_SUCCESS;
        }
    }
    int count = 0;
    err = cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device);
    if (err != cudaSuccess) return cuda_failure(fn, "cudaDeviceGetAttribute", err);
    if (device >= 0 && device < ACTK_MAX_CACHED_DEVICES) atomic_store(&cached_sm_count[device], count);
    *sm_count = count;
    return ACTK_SUCCESS;
}

/* Rejects plain (unregistered) host memory, which the GPU cannot read.
 * Device, managed and registered host memory are accepted. */
static actk_status check_device_pointer(const char *fn, const char *name, const void *p)
{
    struct cudaPointerAttributes attributes;
    const cudaError_t err = cudaPointerGetAttributes(&attributes, p);
    if (err != cudaSuccess) {
        (void)cudaGetLastError();
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s is not a pointer CUDA knows (%s)", fn, name, cudaGetErrorName(err));
    }
    if (attributes.type == cudaMemoryTypeUnregistered)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s is a host pointer; the GPU path needs device (or managed/registered) memory", fn, name);
    return ACTK_SUCCESS;
}

/* A stream handle the runtime does not know (destroyed, or garbage that
 * happens not to crash the lookup) is rejected before anything is enqueued.
 * cudaStreamGetFlags enqueues nothing, so it is safe during graph capture. */
static actk_status check_stream(const char *fn, actk_stream stream)
{
    if (stream == NULL) return ACTK_SUCCESS; /* the legacy default stream */
    unsigned int flags = 0;
    const cudaError_t err = cudaStreamGetFlags((cudaStream_t)stream, &flags);
    if (err != cudaSuccess) {
        (void)cudaGetLastError();
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: stream is not a valid CUDA stream (%s)", fn, cudaGetErrorName(err));
    }
    return ACTK_SUCCESS;
}

static actk_status cuda_elementwise(const char *fn, actk_direction dir, actk_act act, actk_dtype dtype, size_t n,
                                    const void *in0, const void *in1, void *out, actk_stream stream)
{
    actk_status status = actk_check_elementwise(fn, dir, act, dtype, n, in0, in1, out);
    if (status != ACTK_SUCCESS) return status;
    int sm_count = 0;
    status = current_device_sm_count(fn, &sm_count);
    if (status != ACTK_SUCCESS) return status;
    if (n == 0) return ACTK_SUCCESS;
    status = check_stream(fn, stream);
    if (status != ACTK_SUCCESS) return status;
    const char *in0_name = dir == ACTK_DIR_BACKWARD_FROM_Y ? "y" : "x";
    status = check_device_pointer(fn, in0_name, in0);
    if (status == ACTK_SUCCESS && dir != ACTK_DIR_FORWARD) status = check_device_pointer(fn, "dy", in1);
    if (status == ACTK_SUCCESS) status = check_device_pointer(fn, dir == ACTK_DIR_FORWARD ? "y" : "dx", out);
    if (status != ACTK_SUCCESS) return status;

    const cudaError_t err = actk_launch_elementwise((int)dir, act, dtype, n, in0, in1, out, sm_count, (cudaStream_t)stream);
    if (err != cudaSuccess) return cuda_failure(fn, "kernel launch", err);
    return ACTK_SUCCESS;
}

actk_status actk_cuda_forward(actk_act act, actk_dtype dtype, size_t n, const void *x, void *y, actk_stream stream)
{
    return cuda_elementwise("actk_cuda_forward", ACTK_DIR_FORWARD, act, dtype, n, x, NULL, y, stream);
}

actk_status actk_cuda_backward(actk_act act, actk_dtype dtype, size_t n, const void *x, const void *dy, void *dx,
                               actk_stream stream)
{
    return cuda_elementwise("actk_cuda_backward", ACTK_DIR_BACKWARD, act, dtype, n, x, dy, dx, stream);
}

actk_status actk_cuda_backward_from_y(actk_act act, actk_dtype dtype, size_t n, const void *y, const void *dy,
                                      void *dx, actk_stream stream)
{
    return cuda_elementwise("actk_cuda_backward_from_y", ACTK_DIR_BACKWARD_FROM_Y, act, dtype, n, y, dy, dx, stream);
}
