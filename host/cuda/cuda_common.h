// SPDX-License-Identifier: MIT
/*
 * cuda_common.h - helpers shared by the actk_cuda_* entry points.
 */
#ifndef ACTK_HOST_CUDA_COMMON_H
#define ACTK_HOST_CUDA_COMMON_H

#include "internal.h"
#include "../kernels/device_facts.h"

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    const char *name;
    const void *ptr; /* NULL: not used by this call */
} actk_device_pointer;

/* The status a CUDA error maps to: an argument CUDA rejects (invalid value,
 * invalid resource handle) is ACTK_ERROR_INVALID_VALUE; anything else (a
 * sticky fault from an earlier kernel, a driver problem, a capture rule)
 * is ACTK_ERROR_CUDA. */
actk_status actk_cuda_status_of(cudaError_t err);

/* What cudaGetDeviceCount's answer means. `driver_version` is
 * cudaDriverGetVersion's (0: no driver installed). */
typedef enum {
    ACTK_DEVICES_PRESENT, /* count > 0 */
    ACTK_DEVICES_NONE,    /* no device, or no driver at all: a fact of this machine, cached */
    ACTK_DEVICES_FAILED   /* any other error (e.g. a driver older than the runtime): reported, not cached */
} actk_device_count_outcome;
actk_device_count_outcome actk_cuda_classify_device_count(cudaError_t err, int count, int driver_version);

/* ACTK_ERROR_CUDA with CUDA's error name and text. */
actk_status actk_cuda_failure(const char *fn, const char *what, cudaError_t err);
/* A device is present; *facts = the current device's facts (queried once
 * per device ordinal, then cached). */
actk_status actk_cuda_current_device(const char *fn, actk_device_facts *facts);
actk_status actk_cuda_check_pointer(const char *fn, const char *name, const void *p, int device);
actk_status actk_cuda_check_stream(const char *fn, actk_stream stream);
/* All of the above for one call: device, stream, then each non-NULL pointer. */
actk_status actk_cuda_prepare_device(const char *fn, actk_stream stream, const actk_device_pointer *pointers, int count,
                                     actk_device_facts *facts);
/* The same, for launchers that only need the SM count. */
actk_status actk_cuda_prepare(const char *fn, actk_stream stream, const actk_device_pointer *pointers, int count,
                              int *sm_count);

#ifdef __cplusplus
}
#endif

#endif
