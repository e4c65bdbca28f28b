// SPDX-License-Identifier: MIT
/*
 * test_cuda_host.cpp - the host side of the CUDA path that needs no GPU:
 * how CUDA errors map to actk statuses (an argument CUDA rejects is
 * ACTK_ERROR_INVALID_VALUE; a sticky fault or any other failure is
 * ACTK_ERROR_CUDA), and how cudaGetDeviceCount's answer is read ("no
 * device" only for cudaErrorNoDevice or a machine without a driver; a
 * driver older than the runtime is an error with CUDA's text, never
 * cached as "no device"). Linked against the static library, whose
 * internal functions it calls.
 */
#include "cuda_common.h"

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cstring>

TEST(CudaHost, ArgumentErrorsAreInvalidValueEverythingElseIsCuda)
{
    EXPECT_EQ(actk_cuda_status_of(cudaSuccess), ACTK_SUCCESS);
    EXPECT_EQ(actk_cuda_status_of(cudaErrorInvalidValue), ACTK_ERROR_INVALID_VALUE);
    EXPECT_EQ(actk_cuda_status_of(cudaErrorInvalidResourceHandle), ACTK_ERROR_INVALID_VALUE);
    /* sticky faults left by an earlier kernel: the query fails, the argument is fine */
    for (cudaError_t sticky : {cudaErrorIllegalAddress, cudaErrorLaunchFailure, cudaErrorMisalignedAddress,
                               cudaErrorIllegalInstruction, cudaErrorHardwareStackError, cudaErrorAssert})
        EXPECT_EQ(actk_cuda_status_of(sticky), ACTK_ERROR_CUDA) << cudaGetErrorName(sticky);
    for (cudaError_t other :
         {cudaErrorStreamCaptureInvalidated, cudaErrorStreamCaptureImplicit, cudaErrorInsufficientDriver,
          cudaErrorMemoryAllocation, cudaErrorNotSupported, cudaErrorUnknown})
        EXPECT_EQ(actk_cuda_status_of(other), ACTK_ERROR_CUDA) << cudaGetErrorName(other);
}

TEST(CudaHost, OnlyNoDeviceOrNoDriverMeansNoDevice)
{
    EXPECT_EQ(actk_cuda_classify_device_count(cudaSuccess, 2, 13000), ACTK_DEVICES_PRESENT);
    EXPECT_EQ(actk_cuda_classify_device_count(cudaSuccess, 0, 13000), ACTK_DEVICES_NONE);
    EXPECT_EQ(actk_cuda_classify_device_count(cudaErrorNoDevice, 0, 13000), ACTK_DEVICES_NONE);
    EXPECT_EQ(actk_cuda_classify_device_count(cudaErrorInsufficientDriver, -1, 0), ACTK_DEVICES_NONE); /* no driver */
    /* a driver too old for the CUDA 13 runtime: a GPU machine with a problem */
    EXPECT_EQ(actk_cuda_classify_device_count(cudaErrorInsufficientDriver, -1, 12040), ACTK_DEVICES_FAILED);
    EXPECT_EQ(actk_cuda_classify_device_count(cudaErrorInitializationError, -1, 13000), ACTK_DEVICES_FAILED);
    EXPECT_EQ(actk_cuda_classify_device_count(cudaErrorSystemDriverMismatch, -1, 13000), ACTK_DEVICES_FAILED);
    EXPECT_EQ(actk_cuda_classify_device_count(cudaErrorCompatNotSupportedOnDevice, -1, 13000), ACTK_DEVICES_FAILED);
    EXPECT_EQ(actk_cuda_classify_device_count(cudaErrorDevicesUnavailable, -1, 13000), ACTK_DEVICES_FAILED);
}

/* The machine-level behaviour where the machine has no driver (CI without a
 * GPU): no device, said as such; and a CUDA query failing for a reason
 * that is not its argument (here: no driver, standing in for a sticky
 * fault) is ACTK_ERROR_CUDA with CUDA's name, not "invalid stream". */
TEST(CudaHost, WithoutADriver)
{
    int driver = -1;
    if (cudaDriverGetVersion(&driver) != cudaSuccess || driver != 0)
        GTEST_SKIP() << "a CUDA driver is installed; this covers machines without one";
    EXPECT_EQ(actk_cuda_device_count(), 0);
    EXPECT_EQ(actk_cuda_forward(actk_act_default(ACTK_OP_RELU), ACTK_F32, 0, nullptr, nullptr, nullptr),
              ACTK_ERROR_NO_DEVICE);
    EXPECT_NE(std::strstr(actk_last_error(), "no NVIDIA driver"), nullptr) << actk_last_error();
    int fake_stream_storage = 0;
    EXPECT_EQ(actk_cuda_check_stream("test", reinterpret_cast<actk_stream>(&fake_stream_storage)), ACTK_ERROR_CUDA);
    EXPECT_NE(std::strstr(actk_last_error(), "cudaErrorInsufficientDriver"), nullptr) << actk_last_error();
}
