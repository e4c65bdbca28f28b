/*
 * cuda_common.h - helpers shared by the actk_cuda_* entry points.
 */
#ifndef ACTK_HOST_CUDA_COMMON_H
#define ACTK_HOST_CUDA_COMMON_H

#include "internal.h"

#include <cuda_runtime_api.h>

typedef struct {
    const char *name;
    const void *ptr; /* NULL: not used by this call */
} actk_device_pointer;

/* ACTK_ERROR_CUDA with CUDA's error name and text. */
actk_status actk_cuda_failure(const char *fn, const char *what, cudaError_t err);
/* A device is present; *sm_count = the current device's SM count (cached). */
actk_status actk_cuda_current_device(const char *fn, int *sm_count);
actk_status actk_cuda_check_pointer(const char *fn, const char *name, const void *p);
actk_status actk_cuda_check_stream(const char *fn, actk_stream stream);
/* All of the above for one call: device, stream, then each non-NULL pointer. */
actk_status actk_cuda_prepare(const char *fn, actk_stream stream, const actk_device_pointer *pointers, int count,
                              int *sm_count);

#endif
