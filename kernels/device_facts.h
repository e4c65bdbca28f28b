// SPDX-License-Identifier: MIT
/*
 * device_facts.h - what the launchers need to know about a CUDA device,
 * queried once per device ordinal at run time (host/cuda/cuda_common.c) and
 * passed down, so no launcher queries the device or assumes one GPU's
 * limits.
 */
#ifndef ACTK_KERNELS_DEVICE_FACTS_H
#define ACTK_KERNELS_DEVICE_FACTS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int ordinal;           /* the CUDA device the facts describe */
    int sm_count;          /* cudaDevAttrMultiProcessorCount */
    int cc_major, cc_minor;
    size_t smem_optin;     /* cudaDevAttrMaxSharedMemoryPerBlockOptin: static + dynamic bytes one block may use */
    int cluster_launch;    /* cudaDevAttrClusterLaunch: thread-block clusters can be launched */
    size_t l2_bytes;       /* cudaDevAttrL2CacheSize */
} actk_device_facts;

/* Thread-block clusters (the softmax cluster kernels): compute capability
 * 9.0 or later and the device says it can launch them. */
static inline int actk_device_has_clusters(const actk_device_facts *d)
{
    return d->cc_major >= 9 && d->cluster_launch;
}

#ifdef __cplusplus
}
#endif

#endif
