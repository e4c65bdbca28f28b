/*
 * test_concurrency.cpp - several host threads calling the library at once:
 * CPU calls (and, with a GPU, CUDA calls on each thread's own stream) give
 * the same bits as a single-threaded run, and each thread's
 * actk_last_error() holds its own message.
 */
#include "test_util.h"

#ifdef ACTK_TEST_WITH_CUDA
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
    Job(actk_op op, actk_dtype d, std::mt19937_64 &rng) : act(actk_act_default(op)), dtype(d), x(d, kN), dy(d, kN), y(d, kN), dx(d, kN)
    {
        for (size_t i = 0; i < kN; ++i) { x.set(i, random_value(rng, d, 10)); dy.set(i, random_value(rng, d, 2)); }
    }
};

std::vector<Job> make_jobs()
{
    std::mt19937_64 rng(42);
    std::vector<Job> jobs;
    for (int t = 0; t < kThreads; ++t) jobs.emplace_back((actk_op)((t * 5 + 2) % ACTK_OP_COUNT), kAllDtypes[t % 4], rng);
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
                if (actk_cpu_backward(j.act, j.dtype, kN, j.x.data(), j.dy.data(), j.dx.data()) != ACTK_SUCCESS) ++failures;
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
