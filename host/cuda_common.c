/*
 * cuda_common.c - what every actk_cuda_* entry point shares: the device
 * check (cached device and SM counts), rejection of plain host pointers and
 * invalid streams, and CUDA error reporting.
 */
#include "cuda_common.h"

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

actk_status actk_cuda_failure(const char *fn, const char *what, cudaError_t err)
{
    return actk_fail(ACTK_ERROR_CUDA, "%s: %s failed: %s (%s)", fn, what, cudaGetErrorName(err), cudaGetErrorString(err));
}

/* Device present and the current device's SM count. */
actk_status actk_cuda_current_device(const char *fn, int *sm_count)
{
    if (actk_cuda_device_count() == 0) return actk_fail(ACTK_ERROR_NO_DEVICE, "%s: no CUDA device is available", fn);
    int device = 0;
    cudaError_t err = cudaGetDevice(&device);
    if (err != cudaSuccess) return actk_cuda_failure(fn, "cudaGetDevice", err);
    if (device >= 0 && device < ACTK_MAX_CACHED_DEVICES) {
        const int cached = atomic_load(&cached_sm_count[device]);
        if (cached > 0) {
            *sm_count = cached;
            return ACTK_SUCCESS;
        }
    }
    int count = 0;
    err = cudaDeviceGetAttribute(&count, cudaDevAttrMultiProcessorCount, device);
    if (err != cudaSuccess) return actk_cuda_failure(fn, "cudaDeviceGetAttribute", err);
    if (device >= 0 && device < ACTK_MAX_CACHED_DEVICES) atomic_store(&cached_sm_count[device], count);
    *sm_count = count;
    return ACTK_SUCCESS;
}

/* Rejects plain (unregistered) host memory, which the GPU cannot read.
 * Device, managed and registered host memory are accepted. */
actk_status actk_cuda_check_pointer(const char *fn, const char *name, const void *p)
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
actk_status actk_cuda_check_stream(const char *fn, actk_stream stream)
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

actk_status actk_cuda_prepare(const char *fn, actk_stream stream, const actk_device_pointer *pointers, int count,
                              int *sm_count)
{
    actk_status status = actk_cuda_current_device(fn, sm_count);
    if (status == ACTK_SUCCESS) status = actk_cuda_check_stream(fn, stream);
    for (int k = 0; k < count && status == ACTK_SUCCESS; ++k)
        if (pointers[k].ptr != NULL) status = actk_cuda_check_pointer(fn, pointers[k].name, pointers[k].ptr);
    return status;
}
