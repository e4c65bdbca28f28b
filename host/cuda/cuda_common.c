// SPDX-License-Identifier: MIT
/*
 * cuda_common.c - what every actk_cuda_* entry point shares: the device
 * check and the device facts (queried once per device ordinal, cached),
 * rejection of plain host pointers, of memory the current device cannot
 * reach and of invalid streams, CUDA error reporting, and the per-thread
 * test hooks (cuda_test_hooks.h).
 */
#include "cuda_common.h"
#include "cuda_test_hooks.h"

#include <stdatomic.h>

int actk_built_with_cuda(void) { return 1; }

actk_status actk_cuda_status_of(cudaError_t err)
{
    switch (err) {
    case cudaSuccess: return ACTK_SUCCESS;
    case cudaErrorInvalidValue:
    case cudaErrorInvalidResourceHandle: return ACTK_ERROR_INVALID_VALUE;
    default: return ACTK_ERROR_CUDA;
    }
}

actk_device_count_outcome actk_cuda_classify_device_count(cudaError_t err, int count, int driver_version)
{
    if (err == cudaSuccess) return count > 0 ? ACTK_DEVICES_PRESENT : ACTK_DEVICES_NONE;
    if (err == cudaErrorNoDevice) return ACTK_DEVICES_NONE;
    /* The runtime says "insufficient driver" both when the driver is older
     * than the runtime (a GPU machine with a problem: report it) and when
     * there is no driver at all (a machine without a GPU). */
    if (err == cudaErrorInsufficientDriver && driver_version == 0) return ACTK_DEVICES_NONE;
    return ACTK_DEVICES_FAILED;
}

actk_status actk_cuda_failure(const char *fn, const char *what, cudaError_t err)
{
    return actk_fail(ACTK_ERROR_CUDA, "%s: %s failed: %s (%s)", fn, what, cudaGetErrorName(err),
                     cudaGetErrorString(err));
}

/* Only definite answers are cached: the device count (> 0), or "none"
 * with its reason. A failure (a driver older than the runtime, say) is
 * reported with CUDA's text on every call and never taken for "no device". */
enum { COUNT_UNKNOWN = -1 };
enum { NONE_REPORTED = 0, NONE_NO_DRIVER = 1 };
static atomic_int cached_device_count = COUNT_UNKNOWN;
static atomic_int cached_none_reason = NONE_REPORTED;

static actk_status no_device(const char *fn)
{
    return actk_fail(ACTK_ERROR_NO_DEVICE, "%s: no CUDA device is available (%s)", fn,
                     atomic_load(&cached_none_reason) == NONE_NO_DRIVER ? "no NVIDIA driver is installed"
                                                                        : "the driver reports no device");
}

static actk_status device_count(const char *fn, int *count)
{
    const int cached = atomic_load(&cached_device_count);
    if (cached != COUNT_UNKNOWN) {
        *count = cached;
        return cached > 0 ? ACTK_SUCCESS : no_device(fn);
    }
    int n = 0, driver = 0, runtime = 0;
    const cudaError_t err = cudaGetDeviceCount(&n);
    if (err != cudaSuccess) {
        (void)cudaGetLastError(); /* not sticky: leave no stale error behind */
        if (cudaDriverGetVersion(&driver) != cudaSuccess) driver = 0;
    }
    *count = 0;
    switch (actk_cuda_classify_device_count(err, n, driver)) {
    case ACTK_DEVICES_PRESENT:
        *count = n;
        atomic_store(&cached_device_count, n);
        return ACTK_SUCCESS;
    case ACTK_DEVICES_NONE:
        atomic_store(&cached_none_reason, err == cudaErrorInsufficientDriver ? NONE_NO_DRIVER : NONE_REPORTED);
        atomic_store(&cached_device_count, 0);
        return no_device(fn);
    case ACTK_DEVICES_FAILED: break;
    }
    (void)cudaRuntimeGetVersion(&runtime);
    return actk_fail(ACTK_ERROR_CUDA,
                     "%s: cudaGetDeviceCount failed: %s (%s); driver supports CUDA %d.%d, runtime is %d.%d", fn,
                     cudaGetErrorName(err), cudaGetErrorString(err), driver / 1000, driver % 1000 / 10, runtime / 1000,
                     runtime % 1000 / 10);
}

int actk_cuda_device_count(void)
{
    int count = 0;
    (void)device_count("actk_cuda_device_count", &count);
    return count;
}

/* ---- per-device facts ---------------------------------------------------------- */

#define ACTK_MAX_CACHED_DEVICES 64
enum { FACTS_EMPTY = 0, FACTS_WRITING = 1, FACTS_READY = 2 };
static actk_device_facts cached_facts[ACTK_MAX_CACHED_DEVICES];
static atomic_int facts_state[ACTK_MAX_CACHED_DEVICES];

static cudaError_t query_facts(int device, actk_device_facts *f)
{
    int value = 0;
    cudaError_t err;
    f->ordinal = device;
#define ACTK_QUERY(attribute, store)                                  \
    err = cudaDeviceGetAttribute(&value, attribute, device);          \
    if (err != cudaSuccess) return err;                               \
    store
    ACTK_QUERY(cudaDevAttrMultiProcessorCount, f->sm_count = value;)
    ACTK_QUERY(cudaDevAttrComputeCapabilityMajor, f->cc_major = value;)
    ACTK_QUERY(cudaDevAttrComputeCapabilityMinor, f->cc_minor = value;)
    ACTK_QUERY(cudaDevAttrMaxSharedMemoryPerBlockOptin, f->smem_optin = (size_t)value;)
    ACTK_QUERY(cudaDevAttrClusterLaunch, f->cluster_launch = value != 0;)
    ACTK_QUERY(cudaDevAttrL2CacheSize, f->l2_bytes = (size_t)value;)
#undef ACTK_QUERY
    return cudaSuccess;
}

/* The facts never change while the process lives, so the first complete
 * query of a device is published (release) and read without a lock
 * (acquire); a thread that finds another one writing uses its own query. */
actk_status actk_cuda_current_device(const char *fn, actk_device_facts *facts)
{
    int count = 0;
    const actk_status status = device_count(fn, &count);
    if (status != ACTK_SUCCESS) return status;
    int device = 0;
    cudaError_t err = cudaGetDevice(&device);
    if (err != cudaSuccess) return actk_cuda_failure(fn, "cudaGetDevice", err);
    const int cacheable = device >= 0 && device < ACTK_MAX_CACHED_DEVICES;
    if (cacheable && atomic_load_explicit(&facts_state[device], memory_order_acquire) == FACTS_READY) {
        *facts = cached_facts[device];
        return ACTK_SUCCESS;
    }
    actk_device_facts fresh;
    err = query_facts(device, &fresh);
    if (err != cudaSuccess) return actk_cuda_failure(fn, "cudaDeviceGetAttribute", err);
    int expected = FACTS_EMPTY;
    if (cacheable && atomic_compare_exchange_strong(&facts_state[device], &expected, FACTS_WRITING)) {
        cached_facts[device] = fresh;
        atomic_store_explicit(&facts_state[device], FACTS_READY, memory_order_release);
    }
    *facts = fresh;
    return ACTK_SUCCESS;
}

/* ---- arguments ------------------------------------------------------------------ */

/* Rejects what a kernel on `device` (the current device) cannot read:
 * plain (unregistered) host memory, memory the driver gives no device
 * address for on this device, and memory of another GPU unless this device
 * can reach it (peer access enabled: the runtime then gives a device
 * address for it here). Device, managed and registered host memory
 * reachable from this device are accepted. */
actk_status actk_cuda_check_pointer(const char *fn, const char *name, const void *p, int device)
{
    struct cudaPointerAttributes attributes;
    const cudaError_t err = cudaPointerGetAttributes(&attributes, p);
    if (err != cudaSuccess) {
        (void)cudaGetLastError();
        if (actk_cuda_status_of(err) == ACTK_ERROR_INVALID_VALUE)
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s is not a pointer CUDA knows (%s)", fn, name,
                             cudaGetErrorName(err));
        return actk_cuda_failure(fn, "cudaPointerGetAttributes",
                                 err); /* e.g. a sticky fault: not the argument's fault */
    }
    if (attributes.type == cudaMemoryTypeUnregistered)
        return actk_fail(ACTK_ERROR_INVALID_VALUE,
                         "%s: %s is a host pointer; the GPU path needs device (or managed/registered) memory", fn,
                         name);
    if (attributes.type == cudaMemoryTypeDevice && attributes.device != device) {
        int can_access = 0;
        const cudaError_t peer = cudaDeviceCanAccessPeer(&can_access, device, attributes.device);
        if (peer != cudaSuccess) {
            (void)cudaGetLastError();
            return actk_cuda_failure(fn, "cudaDeviceCanAccessPeer", peer);
        }
        if (!can_access || attributes.devicePointer == NULL)
            return actk_fail(ACTK_ERROR_INVALID_VALUE,
                             "%s: %s is memory of device %d, which the current device %d cannot access (%s)", fn, name,
                             attributes.device, device,
                             can_access ? "enable peer access with cudaDeviceEnablePeerAccess"
                                        : "no peer access between them");
    }
    if (attributes.devicePointer == NULL)
        return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: %s has no address on the current device %d", fn, name, device);
    return ACTK_SUCCESS;
}

/* A stream handle the runtime rejects (invalid handle or value) is an
 * argument error; any other failure of the query (a sticky fault from an
 * earlier kernel, say) is ACTK_ERROR_CUDA. Nothing is enqueued either
 * way. cudaStreamGetFlags enqueues nothing, so it is safe during graph
 * capture. A destroyed stream cannot be detected reliably: its handle is
 * freed memory the runtime may reuse (documented in actk.h). */
actk_status actk_cuda_check_stream(const char *fn, actk_stream stream)
{
    if (stream == NULL) return ACTK_SUCCESS; /* the legacy default stream */
    unsigned int flags = 0;
    const cudaError_t err = cudaStreamGetFlags((cudaStream_t)stream, &flags);
    if (err != cudaSuccess) {
        (void)cudaGetLastError();
        if (actk_cuda_status_of(err) == ACTK_ERROR_INVALID_VALUE)
            return actk_fail(ACTK_ERROR_INVALID_VALUE, "%s: stream is not a valid CUDA stream (%s)", fn,
                             cudaGetErrorName(err));
        return actk_cuda_failure(fn, "cudaStreamGetFlags", err);
    }
    return ACTK_SUCCESS;
}

actk_status actk_cuda_prepare_device(const char *fn, actk_stream stream, const actk_device_pointer *pointers, int count,
                                     actk_device_facts *facts)
{
    actk_status status = actk_cuda_current_device(fn, facts);
    if (status == ACTK_SUCCESS) status = actk_cuda_check_stream(fn, stream);
    for (int k = 0; k < count && status == ACTK_SUCCESS; ++k)
        if (pointers[k].ptr != NULL)
            status = actk_cuda_check_pointer(fn, pointers[k].name, pointers[k].ptr, facts->ordinal);
    return status;
}

actk_status actk_cuda_prepare(const char *fn, actk_stream stream, const actk_device_pointer *pointers, int count,
                              int *sm_count)
{
    actk_device_facts facts;
    const actk_status status = actk_cuda_prepare_device(fn, stream, pointers, count, &facts);
    if (status == ACTK_SUCCESS) *sm_count = facts.sm_count;
    return status;
}

/* ---- test hooks (cuda_test_hooks.h) ---------------------------------------------- */

static _Thread_local actk_softmax_launch last_softmax_launch;
static _Thread_local int softmax_clusters_disabled;

void actk_internal_record_softmax_launch(const actk_softmax_launch *launch) { last_softmax_launch = *launch; }

actk_softmax_launch actk_internal_last_softmax_launch(void) { return last_softmax_launch; }

void actk_internal_softmax_disable_clusters(int disable) { softmax_clusters_disabled = disable != 0; }

int actk_internal_softmax_clusters_disabled(void) { return softmax_clusters_disabled; }

const char *actk_internal_softmax_path_name(actk_softmax_path path)
{
    switch (path) {
    case ACTK_SOFTMAX_PATH_NONE: return "none";
    case ACTK_SOFTMAX_PATH_WARP: return "warp";
    case ACTK_SOFTMAX_PATH_BLOCK_CACHED: return "block (row cached)";
    case ACTK_SOFTMAX_PATH_BLOCK: return "block (uncached)";
    case ACTK_SOFTMAX_PATH_CLUSTER_CACHED: return "cluster (chunks cached)";
    case ACTK_SOFTMAX_PATH_CLUSTER: return "cluster (uncached)";
    case ACTK_SOFTMAX_PATH_STRIDED_TILED: return "strided (tile cached)";
    case ACTK_SOFTMAX_PATH_STRIDED: return "strided (uncached)";
    case ACTK_SOFTMAX_PATH_STRIDED_CLUSTER: return "strided (cluster per tile group)";
    case ACTK_SOFTMAX_PATH_SUBWARP: return "sub-warp (lanes per row)";
    case ACTK_SOFTMAX_PATH_COUNT: break;
    }
    return "?";
}
