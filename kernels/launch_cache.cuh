// SPDX-License-Identifier: MIT
/*
 * launch_cache.cuh - per-(device, kernel) launch facts, computed once and
 * shared by every host thread:
 *  - dynamic_smem_limit: the first call for a (device, kernel) raises the
 *    kernel's cudaFuncAttributeMaxDynamicSharedMemorySize to the device's
 *    opt-in maximum less the kernel's static shared memory, and records that
 *    figure; later calls only read it. The attribute is never lowered, so one
 *    thread can never shrink the limit between another thread's check and
 *    its launch.
 *  - resident_blocks_per_sm: cudaOccupancyMaxActiveBlocksPerMultiprocessor
 *    for (kernel, block size, dynamic bytes), so persistent (grid-stride)
 *    grids are sized to what the device holds at once.
 * Entries are published with a release store of the count and never change
 * afterwards, so readers take no lock; writers serialise on a mutex. When a
 * table is full the figure is computed again on each call (same value, so
 * still safe).
 */
#ifndef ACTK_KERNELS_LAUNCH_CACHE_CUH
#define ACTK_KERNELS_LAUNCH_CACHE_CUH

#include "device_facts.h"

#include <cuda_runtime.h>

#include <atomic>
#include <mutex>

namespace actk {

struct LaunchFact {
    const void *kernel;
    int device;
    int block;
    size_t dynamic;
    size_t value;
};

template <int kCapacity> class LaunchFactTable {
public:
    /* The recorded value for the key, or compute(&value) once and record it. */
    template <class Compute>
    cudaError_t get(const void *kernel, int device, int block, size_t dynamic, size_t *value, Compute compute)
    {
        if (find(published_.load(std::memory_order_acquire), kernel, device, block, dynamic, value)) return cudaSuccess;
        std::lock_guard<std::mutex> lock(writer_);
        const int count = published_.load(std::memory_order_relaxed);
        if (find(count, kernel, device, block, dynamic, value)) return cudaSuccess;
        const cudaError_t err = compute(value);
        if (err != cudaSuccess) {
            (void)cudaGetLastError(); /* reported through the status: no stale error for the next launch's check */
            return err;
        }
        if (count == kCapacity) return err;
        entries_[count] = LaunchFact{kernel, device, block, dynamic, *value};
        published_.store(count + 1, std::memory_order_release);
        return cudaSuccess;
    }

private:
    bool find(int count, const void *kernel, int device, int block, size_t dynamic, size_t *value) const
    {
        for (int i = 0; i < count; ++i) {
            const LaunchFact &f = entries_[i];
            if (f.kernel == kernel && f.device == device && f.block == block && f.dynamic == dynamic) {
                *value = f.value;
                return true;
            }
        }
        return false;
    }
    LaunchFact entries_[kCapacity] = {};
    std::atomic<int> published_{0};
    std::mutex writer_;
};

/* Dynamic shared memory `kernel` may use on `device` (the current device). */
inline cudaError_t dynamic_smem_limit(const void *kernel, const actk_device_facts &device, size_t *bytes)
{
    static LaunchFactTable<1024> table;
    return table.get(kernel, device.ordinal, 0, 0, bytes, [&](size_t *allowed) {
        cudaFuncAttributes attributes;
        cudaError_t err = cudaFuncGetAttributes(&attributes, kernel);
        if (err != cudaSuccess) return err;
        *allowed = device.smem_optin > attributes.sharedSizeBytes ? device.smem_optin - attributes.sharedSizeBytes : 0;
        return cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)*allowed);
    });
}

/* The PTX architecture `kernel` was compiled from (90 for compute_90). A
 * build without sm_90+ code runs on a Hopper GPU from JIT-compiled older
 * PTX, where the cluster code is compiled out (the softmax cluster kernels
 * are empty bodies, the strided kernels lose their cross-block merge): the
 * caller must not take the cluster path then. */
inline cudaError_t kernel_ptx_version(const void *kernel, const actk_device_facts &device, size_t *version)
{
    static LaunchFactTable<256> table;
    return table.get(kernel, device.ordinal, -1, 0, version, [&](size_t *ptx) {
        cudaFuncAttributes attributes;
        const cudaError_t err = cudaFuncGetAttributes(&attributes, kernel);
        *ptx = err == cudaSuccess && attributes.ptxVersion > 0 ? (size_t)attributes.ptxVersion : 0;
        return err;
    });
}

/* Blocks of `block` threads with `dynamic` bytes each that one SM holds at
 * once (at least 1). Call dynamic_smem_limit first when dynamic > 48 KiB. */
inline cudaError_t resident_blocks_per_sm(const void *kernel, const actk_device_facts &device, int block,
                                          size_t dynamic, size_t *blocks)
{
    static LaunchFactTable<4096> table;
    return table.get(kernel, device.ordinal, block, dynamic, blocks, [&](size_t *resident) {
        int count = 0;
        const cudaError_t err = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&count, kernel, block, dynamic);
        *resident = count > 0 ? (size_t)count : 1;
        return err;
    });
}

/* A persistent grid: `work_blocks` blocks, capped at what the device holds at once. */
inline cudaError_t resident_grid(const void *kernel, const actk_device_facts &device, int block, size_t dynamic,
                                 size_t work_blocks, unsigned *grid)
{
    size_t per_sm = 1;
    const cudaError_t err = resident_blocks_per_sm(kernel, device, block, dynamic, &per_sm);
    if (err != cudaSuccess) return err;
    const size_t cap = per_sm * (size_t)(device.sm_count > 0 ? device.sm_count : 1);
    const size_t blocks = work_blocks < cap ? work_blocks : cap;
    *grid = (unsigned)(blocks > 0 ? blocks : 1);
    return cudaSuccess;
}

} // namespace actk

#endif
