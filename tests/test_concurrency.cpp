// SPDX-License-Identifier: MIT
/*
 * test_concurrency.cpp - several host threads calling the library at once:
 * CPU calls (and, with a GPU, CUDA calls on each thread's own stream) give
 * the same bits as a single-threaded run, and each thread's
 * actk_last_error() holds its own message; softmax (dynamic shared memory
 * above 48 KiB), PReLU and Maxout launch from 16 threads at once.
 */
#include "test_util.h"

#ifdef ACTK_TEST_WITH_CUDA
#include "cuda_test_hooks.h"
#include "gpu_util.h"
#endif
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <thread>

using namespace actk_test;

namespace {

constexpr int kThreads = 8;
constexpr size_t kN = 20000;

struct Job {
    actk_act act;
    actk_dtype dtype;
    Buffer x, dy, y, dx;
    Job(actk_op op, actk_dtype d, std::mt19937_64 &rng)
        : act(actk_act_default(op)), dtype(d), x(d, kN), dy(d, kN), y(d, kN), dx(d, kN)
    {
        for (size_t i = 0; i < kN; ++i) { x.set(i, random_value(rng, d, 10)); dy.set(i, random_value(rng, d, 2)); }
    }
};

std::vector<Job> make_jobs()
{
    std::mt19937_64 rng(42);
    std::vector<Job> jobs;
    for (int t = 0; t < kThreads; ++t)
        jobs.emplace_back((actk_op)((t * 5 + 2) % ACTK_OP_COUNT), kAllDtypes[t % 4], rng);
    return jobs;
}

} // namespace

TEST(Concurrency, CpuCallsFromManyThreadsMatchSingleThreaded)
{
    std::vector<Job> jobs = make_jobs();
    std::vector<Buffer> want_y, want_dx;
    for (Job &j : jobs) {
        ASSERT_EQ(actk_cpu_forward(j.act, j.dtype, kN, j.x.data(), j.y.data()), ACTK_SUCCESS);
        ASSERT_EQ(actk_cpu_backward(j.act, j.dtype, kN, j.x.data(), j.dy.data(), j.dx.data()), ACTK_SUCCESS);
        want_y.push_back(j.y);
        want_dx.push_back(j.dx);
    }
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            Job &j = jobs[t];
            for (int rep = 0; rep < 5; ++rep) {
                std::memset(j.y.data(), 0, j.y.bytes.size());
                std::memset(j.dx.data(), 0, j.dx.bytes.size());
                if (actk_cpu_forward(j.act, j.dtype, kN, j.x.data(), j.y.data()) != ACTK_SUCCESS) ++failures;
                if (actk_cpu_backward(j.act, j.dtype, kN, j.x.data(), j.dy.data(), j.dx.data()) != ACTK_SUCCESS)
                    ++failures;
                if (j.y.bytes != want_y[t].bytes || j.dx.bytes != want_dx[t].bytes) ++failures;
                /* an error on this thread must not leak into another's message */
                const std::string tag = "thread-" + std::to_string(t) + "-op";
                actk_op op;
                actk_op_from_name(tag.c_str(), &op);
                if (std::strstr(actk_last_error(), tag.c_str()) == nullptr) ++failures;
            }
        });
    }
    for (std::thread &th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
}

TEST(Concurrency, GpuCallsOnPerThreadStreams)
{
#ifndef ACTK_TEST_WITH_CUDA
    GTEST_SKIP() << "built without CUDA";
#else
    ACTK_REQUIRE_GPU_OR_SKIP();
    std::vector<Job> jobs = make_jobs();
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            Job &j = jobs[t];
            const size_t bytes = kN * actk_dtype_size(j.dtype);
            cudaStream_t stream;
            void *d_x = nullptr, *d_y = nullptr;
            if (cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking) != cudaSuccess ||
                cudaMalloc(&d_x, bytes) != cudaSuccess || cudaMalloc(&d_y, bytes) != cudaSuccess) {
                ++failures;
                return;
            }
            cudaMemcpy(d_x, j.x.data(), bytes, cudaMemcpyHostToDevice);
            Buffer got(j.dtype, kN);
            for (int rep = 0; rep < 10; ++rep)
                if (actk_cuda_forward(j.act, j.dtype, kN, d_x, d_y, stream) != ACTK_SUCCESS) ++failures;
            cudaStreamSynchronize(stream);
            cudaMemcpy(got.data(), d_y, bytes, cudaMemcpyDeviceToHost);
            ASSERT_EQ(actk_cpu_forward(j.act, j.dtype, kN, j.x.data(), j.y.data()), ACTK_SUCCESS);
            for (size_t i = 0; i < kN; ++i)
                if (ulp_distance(j.dtype, got.get(i), j.y.get(i)) > ulp_bound(j.dtype, true)) { ++failures; break; }
            cudaFree(d_x);
            cudaFree(d_y);
            cudaStreamDestroy(stream);
        });
    }
    for (std::thread &th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
#endif
}

/* Softmax, PReLU and Maxout from many threads at once, each on its own
 * stream and shape. The softmax shapes need different amounts of dynamic
 * shared memory above 48 KiB (rows of 14000 to 16000 f32, cached), so a
 * library that set each kernel's shared-memory limit per call could lower
 * it between another thread's setting and launch; here every launch must
 * succeed and every result must match the CPU reference. */
TEST(Concurrency, GpuStructuredOpsFromManyThreads)
{
#ifndef ACTK_TEST_WITH_CUDA
    GTEST_SKIP() << "built without CUDA";
#else
    ACTK_REQUIRE_GPU_OR_SKIP();
    constexpr int kStructuredThreads = 16;
    std::atomic<int> failures{0};
    std::vector<std::string> first_failure(kStructuredThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kStructuredThreads; ++t) {
        threads.emplace_back([&, t] {
            auto fail = [&](const std::string &why) {
                if (first_failure[t].empty()) first_failure[t] = why;
                ++failures;
            };
            std::mt19937_64 rng(1000 + t);
            std::uniform_real_distribution<double> u(-5, 5);
            const size_t outer = 3 + t % 4, dim = 14000 + 125 * (size_t)t, n = outer * dim;
            const size_t channels = 8 + t, inner = 33, pn = 4 * channels * inner;
            Buffer x(ACTK_F32, n), y_ref(ACTK_F32, n), y(ACTK_F32, n);
            Buffer px(ACTK_F32, pn), slope(ACTK_F32, channels), py_ref(ACTK_F32, pn), py(ACTK_F32, pn);
            const size_t mo = 4 * channels; /* maxout (4, channels, 2 pieces, 1) */
            Buffer my_ref(ACTK_F32, mo), my(ACTK_F32, mo);
            /* odd threads dispatch as without clusters: the block kernel, its row cached in 56-64 KB */
            actk_internal_softmax_disable_clusters(t % 2);
            for (size_t k = 0; k < n; ++k) x.set(k, u(rng));
            for (size_t k = 0; k < pn; ++k) px.set(k, u(rng));
            for (size_t c = 0; c < channels; ++c) slope.set(c, 0.1 + 0.01 * (double)c);
            if (actk_cpu_softmax_forward(ACTK_SOFTMAX, ACTK_F32, outer, dim, 1, x.data(), y_ref.data()) !=
                    ACTK_SUCCESS ||
                actk_cpu_prelu_forward(ACTK_F32, 4, channels, inner, px.data(), slope.data(), py_ref.data()) !=
                    ACTK_SUCCESS ||
                actk_cpu_maxout_forward(ACTK_F32, 4, channels, 2, 1, px.data(), my_ref.data()) != ACTK_SUCCESS)
                return fail("CPU reference failed");
            cudaStream_t stream;
            void *d_x = nullptr, *d_y = nullptr, *d_px = nullptr, *d_s = nullptr, *d_py = nullptr, *d_my = nullptr;
            if (cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking) != cudaSuccess ||
                cudaMalloc(&d_x, n * 4) != cudaSuccess || cudaMalloc(&d_y, n * 4) != cudaSuccess ||
                cudaMalloc(&d_px, pn * 4) != cudaSuccess || cudaMalloc(&d_s, channels * 4) != cudaSuccess ||
                cudaMalloc(&d_py, pn * 4) != cudaSuccess || cudaMalloc(&d_my, mo * 4) != cudaSuccess)
                return fail("CUDA setup failed");
            cudaMemcpy(d_x, x.data(), n * 4, cudaMemcpyHostToDevice);
            cudaMemcpy(d_px, px.data(), pn * 4, cudaMemcpyHostToDevice);
            cudaMemcpy(d_s, slope.data(), channels * 4, cudaMemcpyHostToDevice);
            for (int rep = 0; rep < 20; ++rep) {
                if (actk_cuda_softmax_forward(ACTK_SOFTMAX, ACTK_F32, outer, dim, 1, d_x, d_y, stream) != ACTK_SUCCESS)
                    fail(std::string("softmax: ") + actk_last_error());
                if (actk_cuda_prelu_forward(ACTK_F32, 4, channels, inner, d_px, d_s, d_py, stream) != ACTK_SUCCESS)
                    fail(std::string("prelu: ") + actk_last_error());
                if (actk_cuda_maxout_forward(ACTK_F32, 4, channels, 2, 1, d_px, d_my, stream) != ACTK_SUCCESS)
                    fail(std::string("maxout: ") + actk_last_error());
            }
            if (cudaStreamSynchronize(stream) != cudaSuccess) fail("stream failed");
            cudaMemcpy(y.data(), d_y, n * 4, cudaMemcpyDeviceToHost);
            cudaMemcpy(py.data(), d_py, pn * 4, cudaMemcpyDeviceToHost);
            cudaMemcpy(my.data(), d_my, mo * 4, cudaMemcpyDeviceToHost);
            for (size_t k = 0; k < n; ++k)
                if (ulp_distance(ACTK_F32, y.get(k), y_ref.get(k)) > 4) {
                    fail("softmax differs at " + std::to_string(k));
                    break;
                }
            for (size_t k = 0; k < pn; ++k)
                if (ulp_distance(ACTK_F32, py.get(k), py_ref.get(k)) > 1) {
                    fail("prelu differs at " + std::to_string(k));
                    break;
                }
            for (size_t k = 0; k < mo; ++k)
                if (my.get(k) != my_ref.get(k)) { fail("maxout differs at " + std::to_string(k)); break; }
            cudaFree(d_x); cudaFree(d_y); cudaFree(d_px); cudaFree(d_s); cudaFree(d_py); cudaFree(d_my);
            cudaStreamDestroy(stream);
            actk_internal_softmax_disable_clusters(0);
        });
    }
    for (std::thread &th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    for (int t = 0; t < kStructuredThreads; ++t)
        EXPECT_TRUE(first_failure[t].empty()) << "thread " << t << ": " << first_failure[t];
#endif
}
