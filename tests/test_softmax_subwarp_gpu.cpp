// SPDX-License-Identifier: MIT
/*
 * test_softmax_subwarp_gpu.cpp - softmax rows of dim <= 16 (issue 12, item
 * 12), which take one lane per row (softmax.cu), on the
 * GPU against the CPU reference: every length 1..16 and the warp kernel's
 * 17, 31, 32 around the boundary, every dtype, softmax and log-softmax,
 * forward and backward, with many more rows than the persistent grid holds
 * (1,000,000 x 10, 64M x 1), rows whose count leaves the last warp's lanes
 * partly empty, poisoned outputs and guard bands. Each call asserts the
 * path it took (cuda_test_hooks.h). Bounds as the other softmax tests:
 * forward f32 4 ULP, f16/bf16 1, f64 8; backward the same or within 4 eps
 * of the terms where dy - sum cancels. The options on short rows are in
 * test_softmax_options_gpu.cpp. Skipped without a device.
 */
#include "cuda_test_hooks.h"
#include "gpu_util.h"
#include "test_util.h"

#include <string>

using namespace actk_test;

namespace {

double eps_of(actk_dtype dtype)
{
    switch (dtype) {
    case ACTK_F32: return 0x1p-24;
    case ACTK_F16: return 0x1p-11;
    case ACTK_BF16: return 0x1p-8;
    default: return 0x1p-53;
    }
}

double bound_of(actk_dtype dtype) { return dtype == ACTK_F32 ? 4 : dtype == ACTK_F64 ? 8 : 1; }

/* The path softmax.cu's dispatch gives rows of dim elements (inner = 1). */
actk_softmax_path expected_path(size_t dim) { return dim <= 16 ? ACTK_SOFTMAX_PATH_SUBWARP : ACTK_SOFTMAX_PATH_WARP; }

/* The last call took the expected path; returns its launch. */
actk_softmax_launch expect_path(size_t dim, const char *direction)
{
    const actk_softmax_launch got = actk_internal_last_softmax_launch();
    EXPECT_EQ(got.path, expected_path(dim)) << direction << " ran " << actk_internal_softmax_path_name(got.path);
    EXPECT_GT(got.grid, 0u);
    EXPECT_EQ(got.block, 128u);
    return got;
}

/* rows x dim, forward then backward (from the reference y), against the
 * reference. must_loop: the grid covers fewer rows per turn than there are. */
void check_rows(actk_softmax_kind kind, actk_dtype dtype, size_t rows, size_t dim, std::mt19937_64 &rng,
                bool must_loop = false)
{
    const size_t n = rows * dim, bytes = n * actk_dtype_size(dtype);
    SCOPED_TRACE(std::string(kind == ACTK_SOFTMAX ? "softmax " : "log_softmax ") + actk_dtype_name(dtype) + " " +
                 std::to_string(rows) + "x" + std::to_string(dim));
    Buffer x(dtype, n), y_ref(dtype, n), y_gpu(dtype, n), dy(dtype, n), dx_ref(dtype, n), dx_gpu(dtype, n);
    std::uniform_real_distribution<double> u(-12, 12), g(-1, 1);
    for (size_t k = 0; k < n; ++k) {
        const size_t row = k / dim;
        double v = u(rng);
        if (row % 101 == 17) v = -INFINITY;                       /* an all -inf row: NaN */
        else if (row % 37 == 5) v = (double)(k % 2);              /* ties at the max */
        else if (k % 97 == 13) v = -INFINITY;                     /* a -inf entry */
        else if (row % 211 == 7 && k % dim == dim / 2) v = NAN;   /* NaN: the row is NaN */
        x.set(k, v);
        dy.set(k, g(rng));
    }
    ASSERT_EQ(actk_cpu_softmax_forward(kind, dtype, rows, dim, 1, x.data(), y_ref.data()), ACTK_SUCCESS);
    ASSERT_EQ(actk_cpu_softmax_backward(kind, dtype, rows, dim, 1, y_ref.data(), dy.data(), dx_ref.data()),
              ACTK_SUCCESS);

    DeviceBuffer d_x(bytes, 0), d_y(bytes, 0), d_yref(bytes, 0), d_dy(bytes, 0), d_dx(bytes, 0);
    ASSERT_TRUE(d_x.base && d_y.base && d_yref.base && d_dy.base && d_dx.base);
    d_x.upload(x.data());
    d_yref.upload(y_ref.data());
    d_dy.upload(dy.data());
    ASSERT_EQ(actk_cuda_softmax_forward(kind, dtype, rows, dim, 1, d_x.data(), d_y.data(), nullptr), ACTK_SUCCESS)
        << actk_last_error();
    const actk_softmax_launch forward = expect_path(dim, "forward");
    ASSERT_EQ(actk_cuda_softmax_backward(kind, dtype, rows, dim, 1, d_yref.data(), d_dy.data(), d_dx.data(), nullptr),
              ACTK_SUCCESS)
        << actk_last_error();
    const actk_softmax_launch backward = expect_path(dim, "backward");
    if (must_loop) {
        EXPECT_LT(forward.rows_per_pass, rows) << "forward grid covers every row at once";
        EXPECT_LT(backward.rows_per_pass, rows) << "backward grid covers every row at once";
    }
    CUDA_OK(cudaDeviceSynchronize());
    d_y.download(y_gpu.data());
    d_dx.download(dx_gpu.data());
    EXPECT_TRUE(d_y.guards_intact());
    EXPECT_TRUE(d_dx.guards_intact());

    size_t bad_forward = 0, bad_backward = 0;
    std::string first;
    for (size_t r = 0; r < rows; ++r) {
        long double terms = 0;
        for (size_t d = 0; d < dim; ++d) {
            const size_t k = r * dim + d;
            terms += kind == ACTK_SOFTMAX ? fabsl(dy.get(k) * y_ref.get(k)) : fabsl(dy.get(k));
        }
        for (size_t d = 0; d < dim; ++d) {
            const size_t k = r * dim + d;
            if (ulp_distance(dtype, y_gpu.get(k), y_ref.get(k)) > bound_of(dtype) && bad_forward++ == 0)
                first += "forward at " + std::to_string(k) + ": " + std::to_string((double)y_gpu.get(k)) + " vs " +
                         std::to_string((double)y_ref.get(k));
            const long double scale = kind == ACTK_SOFTMAX ? fabsl(y_ref.get(k)) * (fabsl(dy.get(k)) + terms)
                                                           : fabsl(dy.get(k)) + expl(y_ref.get(k)) * terms;
            const bool ok = ulp_distance(dtype, dx_gpu.get(k), dx_ref.get(k)) <= bound_of(dtype) ||
                            fabsl(dx_gpu.get(k) - dx_ref.get(k)) <= 4 * eps_of(dtype) * scale;
            if (!ok && bad_backward++ == 0)
                first += " backward at " + std::to_string(k) + ": " + std::to_string((double)dx_gpu.get(k)) + " vs " +
                         std::to_string((double)dx_ref.get(k));
        }
    }
    EXPECT_EQ(bad_forward, 0u) << first;
    EXPECT_EQ(bad_backward, 0u) << first;
}

} // namespace

/* Every short length and the warp kernel's lengths beside it; the row
 * counts leave the last warp's lanes partly empty (a warp of 32 rows whose
 * last rows are past the end must write nothing: the guards). */
TEST_F(Gpu, SoftmaxShortRowsEveryLengthAgreeWithTheReference)
{
    std::mt19937_64 rng(1212);
    for (actk_dtype dtype : kAllDtypes)
        for (size_t dim : {1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u, 9u, 10u, 11u, 12u, 13u, 14u, 15u, 16u, 17u, 31u, 32u})
            for (size_t rows : {1u, 3u, 37u, 1001u})
                for (actk_softmax_kind kind : {ACTK_SOFTMAX, ACTK_LOG_SOFTMAX}) check_rows(kind, dtype, rows, dim, rng);
}

/* Many more rows than the resident grid: every lane runs its loop many
 * times. 1,000,000 x 10 (the MLP's classes) in every dtype; 64M x 1 in f32
 * (256 MB per buffer: the lane-per-row kernels' loop over ~250 turns);
 * 3M x 2 and 2M x 16 around it. */
TEST_F(Gpu, SoftmaxShortRowsPersistentLoops)
{
    std::mt19937_64 rng(64);
    for (actk_dtype dtype : kAllDtypes) check_rows(ACTK_SOFTMAX, dtype, 1000000, 10, rng, true);
    check_rows(ACTK_LOG_SOFTMAX, ACTK_F32, 1000000, 10, rng, true);
    check_rows(ACTK_SOFTMAX, ACTK_BF16, 3000000, 2, rng, true);
    check_rows(ACTK_LOG_SOFTMAX, ACTK_F16, 2000000, 16, rng, true);
    check_rows(ACTK_SOFTMAX, ACTK_F32, size_t(1) << 26, 1, rng, true);
}

/* In place (y == x) on short rows: each lane reads its whole row before it
 * writes any of it. */
TEST_F(Gpu, SoftmaxShortRowsInPlace)
{
    std::mt19937_64 rng(5);
    for (size_t dim : {1u, 2u, 3u, 10u, 16u}) {
        const size_t rows = 4099, n = rows * dim;
        Buffer x(ACTK_F32, n), want(ACTK_F32, n), got(ACTK_F32, n);
        for (size_t k = 0; k < n; ++k) x.set(k, random_value(rng, ACTK_F32, 12));
        ASSERT_EQ(actk_cpu_softmax_forward(ACTK_LOG_SOFTMAX, ACTK_F32, rows, dim, 1, x.data(), want.data()),
                  ACTK_SUCCESS);
        DeviceBuffer d(n * 4, 0);
        ASSERT_TRUE(d.base);
        d.upload(x.data());
        ASSERT_EQ(actk_cuda_softmax_forward(ACTK_LOG_SOFTMAX, ACTK_F32, rows, dim, 1, d.data(), d.data(), nullptr),
                  ACTK_SUCCESS);
        expect_path(dim, "forward");
        CUDA_OK(cudaDeviceSynchronize());
        d.download(got.data());
        EXPECT_TRUE(d.guards_intact());
        size_t bad = 0;
        for (size_t k = 0; k < n; ++k) bad += ulp_distance(ACTK_F32, got.get(k), want.get(k)) > 4;
        EXPECT_EQ(bad, 0u) << "dim " << dim;
    }
}
