// SPDX-License-Identifier: MIT
/*
 * test_softmax_in_place_gpu.cpp - the in-place forms the API allows (y == x
 * forward; dx == dy and dx == y backward) on the paths whose kernels read a
 * row or column in pieces: a lane per row (dim <= 16), the strided
 * kernels (inner > 1: tiled, uncached, and a cluster per tile group where
 * the device has clusters) and the block and cluster kernels of whole rows
 * (batches of columns read before they are written). Each kernel reads everything it needs before
 * its own writes, so an in-place call must give the same bits as the same
 * call into a separate buffer (same kernel, same order); a kernel that
 * wrote before another thread or block had read would differ. The
 * out-of-place results themselves are checked against the CPU reference
 * by test_gpu_structured and test_softmax_subwarp_gpu. Skipped without a
 * device.
 */
#include "cuda_test_hooks.h"
#include "gpu_util.h"
#include "test_util.h"

#include <string>

using namespace actk_test;

namespace {

struct Shape {
    size_t outer, dim, inner;
};

std::vector<unsigned char> fetch(DeviceBuffer &d)
{
    std::vector<unsigned char> host(d.payload_bytes);
    d.download(host.data());
    return host;
}

void check_in_place(actk_softmax_kind kind, actk_dtype dtype, Shape s, std::mt19937_64 &rng)
{
    const size_t n = s.outer * s.dim * s.inner, bytes = n * actk_dtype_size(dtype);
    SCOPED_TRACE(std::string(kind == ACTK_SOFTMAX ? "softmax " : "log_softmax ") + actk_dtype_name(dtype) + " " +
                 std::to_string(s.outer) + "x" + std::to_string(s.dim) + "x" + std::to_string(s.inner));
    Buffer x(dtype, n), dy(dtype, n);
    for (size_t k = 0; k < n; ++k) {
        x.set(k, random_value(rng, dtype, 12));
        dy.set(k, random_value(rng, dtype, 1));
    }
    DeviceBuffer d_x(bytes, 0), d_y(bytes, 0), d_dy(bytes, 0), d_dx(bytes, 0), d_work(bytes, 0), d_work2(bytes, 0);
    ASSERT_TRUE(d_x.base && d_y.base && d_dy.base && d_dx.base && d_work.base && d_work2.base);
    d_x.upload(x.data());
    d_dy.upload(dy.data());

    /* forward: separate output, then y == x */
    ASSERT_EQ(actk_cuda_softmax_forward(kind, dtype, s.outer, s.dim, s.inner, d_x.data(), d_y.data(), nullptr),
              ACTK_SUCCESS)
        << actk_last_error();
    const actk_softmax_path path = actk_internal_last_softmax_launch().path;
    d_work.upload(x.data());
    ASSERT_EQ(actk_cuda_softmax_forward(kind, dtype, s.outer, s.dim, s.inner, d_work.data(), d_work.data(), nullptr),
              ACTK_SUCCESS);
    EXPECT_EQ(actk_internal_last_softmax_launch().path, path);
    CUDA_OK(cudaDeviceSynchronize());
    const std::vector<unsigned char> y = fetch(d_y);
    EXPECT_TRUE(fetch(d_work) == y) << "forward y == x differs from the separate output on path "
                                    << actk_internal_softmax_path_name(path);

    /* backward: separate dx, then dx == dy, then dx == y */
    ASSERT_EQ(
        actk_cuda_softmax_backward(kind, dtype, s.outer, s.dim, s.inner, d_y.data(), d_dy.data(), d_dx.data(), nullptr),
        ACTK_SUCCESS)
        << actk_last_error();
    const actk_softmax_path back_path = actk_internal_last_softmax_launch().path;
    d_work.upload(dy.data());
    ASSERT_EQ(actk_cuda_softmax_backward(kind, dtype, s.outer, s.dim, s.inner, d_y.data(), d_work.data(), d_work.data(),
                                         nullptr),
              ACTK_SUCCESS);
    EXPECT_EQ(actk_internal_last_softmax_launch().path, back_path);
    d_work2.upload(y.data());
    ASSERT_EQ(actk_cuda_softmax_backward(kind, dtype, s.outer, s.dim, s.inner, d_work2.data(), d_dy.data(),
                                         d_work2.data(), nullptr),
              ACTK_SUCCESS);
    CUDA_OK(cudaDeviceSynchronize());
    const std::vector<unsigned char> dx = fetch(d_dx);
    EXPECT_TRUE(fetch(d_work) == dx) << "backward dx == dy differs on path "
                                     << actk_internal_softmax_path_name(back_path);
    EXPECT_TRUE(fetch(d_work2) == dx) << "backward dx == y differs on path "
                                      << actk_internal_softmax_path_name(back_path);
    for (DeviceBuffer *b : {&d_x, &d_y, &d_dy, &d_dx, &d_work, &d_work2}) EXPECT_TRUE(b->guards_intact());

    /* the comparison could fail: a separate output is not the input */
    EXPECT_FALSE(y == std::vector<unsigned char>((unsigned char *)x.data(), (unsigned char *)x.data() + bytes));
}

/* Every shape, dtype and kind in place, on the cluster paths (sm_90+) and
 * again with clusters hidden (the block paths). */
void check_with_and_without_clusters(const std::vector<Shape> &shapes, std::mt19937_64 &rng)
{
    for (int hide = 0; hide < 2; ++hide) {
        actk_internal_softmax_disable_clusters(hide);
        for (actk_dtype dtype : kAllDtypes)
            for (const Shape &s : shapes)
                for (actk_softmax_kind kind : {ACTK_SOFTMAX, ACTK_LOG_SOFTMAX}) check_in_place(kind, dtype, s, rng);
    }
    actk_internal_softmax_disable_clusters(0);
}

} // namespace

TEST_F(Gpu, SoftmaxShortRowsInPlaceBothDirections)
{
    std::mt19937_64 rng(77);
    for (actk_dtype dtype : kAllDtypes)
        for (size_t dim : {1u, 2u, 3u, 10u, 16u})
            for (actk_softmax_kind kind : {ACTK_SOFTMAX, ACTK_LOG_SOFTMAX})
                check_in_place(kind, dtype, {50001, dim, 1}, rng);
}

/* Strided shapes: a small tile (tiled path), an NCHW-like shape, odd inner
 * values, a column too long for any tile (uncached), and few long columns
 * (the cluster path on sm_90+; the same shape, block path, with clusters
 * hidden). */
TEST_F(Gpu, SoftmaxStridedInPlaceBothDirections)
{
    std::mt19937_64 rng(78);
    check_with_and_without_clusters({{64, 20, 33}, {4, 256, 3136}, {50, 37, 7}, {3, 70000, 5}, {2, 20000, 3}}, rng);
}

/* Whole rows (inner = 1) on the block and cluster kernels, whose passes read
 * a batch of columns before writing any of them: rows cached in shared
 * memory (1025, 5000), cluster chunks (16385, 40000 on sm_90+; the block
 * kernel with clusters hidden) and rows too long for any cache (300007:
 * uncached block rows with clusters hidden). */
TEST_F(Gpu, SoftmaxBlockAndClusterRowsInPlaceBothDirections)
{
    std::mt19937_64 rng(79);
    check_with_and_without_clusters({{5, 1025, 1}, {3, 5000, 1}, {3, 16385, 1}, {2, 40000, 1}, {2, 300007, 1}}, rng);
}
