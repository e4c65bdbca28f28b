// SPDX-License-Identifier: MIT
/*
 * gpu_util.h - GPU test helpers: a skip-without-device fixture, CUDA call
 * checks, and device buffers with guard bands that prove nothing outside
 * the payload was written.
 */
#ifndef ACTK_TEST_GPU_UTIL_H
#define ACTK_TEST_GPU_UTIL_H

#include "actk/actk.h"

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace actk_test {

constexpr unsigned char kPoison = 0x7B; /* a finite f16/bf16/f32/f64 pattern */
constexpr size_t kGuardBytes = 4096;

#define CUDA_OK(call)                                                                   \
    do {                                                                                \
        const cudaError_t cuda_ok_err = (call);                                         \
        ASSERT_EQ(cuda_ok_err, cudaSuccess) << #call << ": " << cudaGetErrorString(cuda_ok_err); \
    } while (0)

/* ACTK_REQUIRE_GPU set (and not "0"): a missing or unusable GPU fails the
 * GPU tests instead of skipping them (scripts/gpu_session.sh sets it). */
inline bool gpu_required()
{
    const char *v = std::getenv("ACTK_REQUIRE_GPU");
    return v != nullptr && *v != '\0' && std::strcmp(v, "0") != 0;
}

/* Why the GPU path cannot run here: the library's own message (no device,
 * no driver, or CUDA's text for a driver older than the runtime). */
inline std::string why_no_gpu()
{
    if (!actk_built_with_cuda()) return "actk was built without CUDA; GPU tests need ACTK_WITH_CUDA and a device";
    (void)actk_cuda_forward(actk_act_default(ACTK_OP_RELU), ACTK_F32, 0, nullptr, nullptr, nullptr);
    return actk_last_error();
}

/* In a test body or SetUp: skip (or, with ACTK_REQUIRE_GPU, fail) without a usable GPU. */
#define ACTK_REQUIRE_GPU_OR_SKIP()                                                              \
    do {                                                                                        \
        if (actk_cuda_device_count() == 0) {                                                    \
            if (::actk_test::gpu_required()) FAIL() << "ACTK_REQUIRE_GPU is set: " << ::actk_test::why_no_gpu(); \
            GTEST_SKIP() << "no usable CUDA device: " << ::actk_test::why_no_gpu();             \
        }                                                                                       \
    } while (0)

class Gpu : public ::testing::Test {
protected:
    void SetUp() override { ACTK_REQUIRE_GPU_OR_SKIP(); }
};

/* A device allocation with guard bands: [guard | payload | guard]. The
 * payload may be offset by a few elements to test misaligned pointers. */
struct DeviceBuffer {
    unsigned char *base = nullptr;
    size_t total = 0, payload_bytes = 0, offset_bytes = 0;
    DeviceBuffer(size_t bytes, size_t offset) : payload_bytes(bytes), offset_bytes(offset)
    {
        total = kGuardBytes * 2 + bytes + 64;
        if (cudaMalloc(reinterpret_cast<void **>(&base), total) != cudaSuccess) base = nullptr;
        if (base) poison_all();
    }
    ~DeviceBuffer() { cudaFree(base); }
    DeviceBuffer(const DeviceBuffer &) = delete;
    DeviceBuffer &operator=(const DeviceBuffer &) = delete;
    void *data() { return base + kGuardBytes + offset_bytes; }
    void poison_all() { cudaMemset(base, kPoison, total); }
    void upload(const void *host) { cudaMemcpy(data(), host, payload_bytes, cudaMemcpyHostToDevice); }
    void download(void *host) { cudaMemcpy(host, data(), payload_bytes, cudaMemcpyDeviceToHost); }
    /* true if every byte outside the payload still holds the poison */
    bool guards_intact()
    {
        std::vector<unsigned char> all(total);
        cudaMemcpy(all.data(), base, total, cudaMemcpyDeviceToHost);
        const size_t begin = kGuardBytes + offset_bytes, end = begin + payload_bytes;
        for (size_t i = 0; i < total; ++i)
            if ((i < begin || i >= end) && all[i] != kPoison) return false;
        return true;
    }
};

} // namespace actk_test

#endif
