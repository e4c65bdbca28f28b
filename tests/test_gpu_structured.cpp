// SPDX-License-Identifier: MIT
/*
 * test_gpu_structured.cpp - softmax/log-softmax, PReLU, Maxout and RReLU
 * on the GPU against the CPU reference, on shapes that reach every kernel
 * of the dispatch (warp per row, block per row with and without the row in
 * shared memory, strided inner > 1 with awkward sizes), with poisoned
 * outputs and guard bands; every softmax call asserts the kernel it ran
 * (cuda_test_hooks.h), with and without clusters. Bounds: softmax forward f32 4 ULP, f16/bf16
 * 1 ULP, f64 8 ULP; backward the same or, where dy - sum cancels, an
 * absolute error under 4 eps of the terms. PReLU dslope: bitwise
 * deterministic, within the documented ULP bounds of the oracle (f32 4,
 * f16/bf16 1, f64 8; the host replay, test_prelu_reduction_on_host, shows
 * them correctly rounded). Maxout: exact. RReLU: the GPU draws the
 * same slopes as the CPU (bitwise for f32). Skipped without a device.
 */
#include "cuda_test_hooks.h"
#include "gpu_util.h"
#include "softmax_strided_replay.h"
#include "test_util.h"

#include <algorithm>
#include <cstring>

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

double softmax_bound(actk_dtype dtype)
{
    return dtype == ACTK_F32 ? 4 : dtype == ACTK_F64 ? 8 : 1;
}

struct Shape {
    size_t outer, dim, inner;
};

/* Random logits with some structure: a spread of scales, a few -inf. */
Buffer softmax_inputs(actk_dtype dtype, size_t n, std::mt19937_64 &rng)
{
    Buffer b(dtype, n);
    std::uniform_real_distribution<double> u(-12, 12);
    for (size_t k = 0; k < n; ++k) b.set(k, (k % 97 == 13) ? -INFINITY : u(rng));
    return b;
}

/* ---- which softmax kernel a shape takes --------------------------------------
 * The dispatch rule of softmax.cu, written out from the device's own
 * attributes, so every test asserts the path it means to cover (the
 * library reports the launch through cuda_test_hooks.h). Shared-memory
 * decisions keep a 1 KiB margin for the kernels' static shared memory;
 * the shapes below stay far from those boundaries. */
struct DeviceView {
    int sms = 0, cc_major = 0, cluster_launch = 0;
    size_t smem_optin = 0;
};

DeviceView device_view()
{
    DeviceView d;
    int device = 0, value = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&d.sms, cudaDevAttrMultiProcessorCount, device);
    cudaDeviceGetAttribute(&d.cc_major, cudaDevAttrComputeCapabilityMajor, device);
    cudaDeviceGetAttribute(&d.cluster_launch, cudaDevAttrClusterLaunch, device);
    cudaDeviceGetAttribute(&value, cudaDevAttrMaxSharedMemoryPerBlockOptin, device);
    d.smem_optin = (size_t)value;
    return d;
}

bool clusters_hidden = false; /* mirrors actk_internal_softmax_disable_clusters on this thread */

/* Runs the body with clusters hidden from this thread's softmax dispatch. */
template <class F> void without_clusters(F body)
{
    actk_internal_softmax_disable_clusters(1);
    clusters_hidden = true;
    body();
    actk_internal_softmax_disable_clusters(0);
    clusters_hidden = false;
}

/* The strided kernels' shared-memory tile for a shape: the plan's columns
 * of a block times dim, one array forward, two backward. */
size_t strided_tile_bytes(Shape s, actk_dtype dtype, bool backward)
{
    const actk::StridedPlan plan = actk::strided_plan(s.outer, s.dim, s.inner);
    return (size_t)plan.groups * plan.width * s.dim * actk_dtype_size(dtype) * (backward ? 2 : 1);
}

/* The cluster size the strided dispatch picks for a shape on this device
 * (softmax_strided_plan.h), whether or not it has clusters. */
unsigned strided_cluster(Shape s)
{
    const DeviceView d = device_view();
    actk_device_facts facts = {0, d.sms, 9, 0, d.smem_optin, 1, 0};
    return actk::strided_cluster_blocks(actk::strided_plan(s.outer, s.dim, s.inner), s.dim, facts);
}

actk_softmax_path expected_path(Shape s, actk_dtype dtype, bool backward)
{
    const DeviceView d = device_view();
    const size_t elem = actk_dtype_size(dtype), arrays = backward ? 2 : 1, margin = 1024;
    if (s.inner > 1) {
        if (d.cc_major >= 9 && d.cluster_launch && !clusters_hidden && strided_cluster(s) > 1)
            return ACTK_SOFTMAX_PATH_STRIDED_CLUSTER;
        /* The strided kernels (softmax_strided.cuh) take the tile only when it
         * fits and costs no occupancy (a query this test cannot repeat), so
         * the path is certain only at the ends: a tile beyond the opt-in
         * shared memory is never taken, one of at most 2 KiB always is;
         * between them either (ACTK_SOFTMAX_PATH_COUNT), and expect_path
         * checks the launch against the plan instead. */
        const size_t tile = strided_tile_bytes(s, dtype, backward);
        if (tile > d.smem_optin) return ACTK_SOFTMAX_PATH_STRIDED;
        return tile <= 2048 ? ACTK_SOFTMAX_PATH_STRIDED_TILED : ACTK_SOFTMAX_PATH_COUNT;
    }
    if (s.dim <= 16) return ACTK_SOFTMAX_PATH_SUBWARP;
    if (s.dim <= 1024) return ACTK_SOFTMAX_PATH_WARP;
    const bool clusters = d.cc_major >= 9 && d.cluster_launch && !clusters_hidden;
    const bool few_rows = s.outer < 2 * (size_t)d.sms;
    if (clusters && (s.dim > 16384 || few_rows)) {
        const size_t target = few_rows ? 2048 : 8192;
        const size_t cluster = std::min<size_t>(8, std::max<size_t>(2, (s.dim + target - 1) / target));
        const size_t chunk = (s.dim + cluster - 1) / cluster;
        return chunk * elem * arrays + margin <= d.smem_optin ? ACTK_SOFTMAX_PATH_CLUSTER_CACHED
                                                              : ACTK_SOFTMAX_PATH_CLUSTER;
    }
    if (backward) return ACTK_SOFTMAX_PATH_BLOCK;
    return s.dim * elem + margin <= d.smem_optin ? ACTK_SOFTMAX_PATH_BLOCK_CACHED : ACTK_SOFTMAX_PATH_BLOCK;
}

/* The last softmax call on this thread took the expected path; returns its launch. */
actk_softmax_launch expect_path(Shape s, actk_dtype dtype, bool backward)
{
    const actk_softmax_launch got = actk_internal_last_softmax_launch();
    const actk_softmax_path want = expected_path(s, dtype, backward);
    if (want == ACTK_SOFTMAX_PATH_COUNT) {
        EXPECT_TRUE(got.path == ACTK_SOFTMAX_PATH_STRIDED_TILED || got.path == ACTK_SOFTMAX_PATH_STRIDED)
            << (backward ? "backward" : "forward") << " ran " << actk_internal_softmax_path_name(got.path)
            << ", expected a strided path";
    } else {
        EXPECT_EQ(got.path, want) << (backward ? "backward" : "forward") << " ran "
                                  << actk_internal_softmax_path_name(got.path) << ", expected "
                                  << actk_internal_softmax_path_name(want);
    }
    if (s.inner > 1) { /* the launch follows the plan (softmax_strided_plan.h) */
        const actk::StridedPlan plan = actk::strided_plan(s.outer, s.dim, s.inner);
        const unsigned cluster = got.path == ACTK_SOFTMAX_PATH_STRIDED_CLUSTER ? strided_cluster(s) : 1u;
        EXPECT_EQ(got.block, plan.threads);
        EXPECT_EQ(got.cluster, cluster);
        EXPECT_EQ(got.grid % cluster, 0u);
        EXPECT_LE((size_t)(got.grid / cluster), plan.blocks);
        EXPECT_EQ(got.rows_per_pass, (size_t)(got.grid / cluster) * plan.groups * plan.width);
        EXPECT_EQ(got.dynamic_smem,
                  got.path == ACTK_SOFTMAX_PATH_STRIDED_TILED ? strided_tile_bytes(s, dtype, backward) : 0u);
    }
    EXPECT_GT(got.grid, 0u);
    if (got.cluster > 1) {
        EXPECT_EQ(got.grid % got.cluster, 0u);
    }
    return got;
}

/* Items the grid covers per turn of the kernel's loop vs. the items there are. */
size_t work_items(Shape s) { return s.inner > 1 ? s.outer * s.inner : s.outer; }

/* loops: which directions must have more rows (columns) than their grid
 * covers per turn, i.e. some block runs its loop body at least twice. */
enum Loops { kNoLoopCheck = 0, kForwardLoops = 1, kBackwardLoops = 2, kBothLoop = 3 };

void check_softmax(actk_softmax_kind kind, actk_dtype dtype, Shape s, std::mt19937_64 &rng, int loops = kNoLoopCheck)
{
    const size_t n = s.outer * s.dim * s.inner, bytes = n * actk_dtype_size(dtype);
    SCOPED_TRACE(std::string(kind == ACTK_SOFTMAX ? "softmax " : "log_softmax ") + actk_dtype_name(dtype) + " " +
                 std::to_string(s.outer) + "x" + std::to_string(s.dim) + "x" + std::to_string(s.inner));
    Buffer x = softmax_inputs(dtype, n, rng), y_ref(dtype, n), y_gpu(dtype, n), dy(dtype, n), dx_ref(dtype, n),
           dx_gpu(dtype, n);
    std::uniform_real_distribution<double> g(-1, 1);
    for (size_t k = 0; k < n; ++k) dy.set(k, g(rng));
    ASSERT_EQ(actk_cpu_softmax_forward(kind, dtype, s.outer, s.dim, s.inner, x.data(), y_ref.data()), ACTK_SUCCESS);
    ASSERT_EQ(actk_cpu_softmax_backward(kind, dtype, s.outer, s.dim, s.inner, y_ref.data(), dy.data(), dx_ref.data()),
              ACTK_SUCCESS);

    DeviceBuffer d_x(bytes, 0), d_y(bytes, 0), d_dy(bytes, 0), d_dx(bytes, 0);
    ASSERT_TRUE(d_x.base && d_y.base && d_dy.base && d_dx.base);
    d_x.upload(x.data());
    d_dy.upload(dy.data());
    ASSERT_EQ(actk_cuda_softmax_forward(kind, dtype, s.outer, s.dim, s.inner, d_x.data(), d_y.data(), nullptr),
              ACTK_SUCCESS)
        << actk_last_error();
    const actk_softmax_launch forward_launch = expect_path(s, dtype, false);
    /* backward from the reference y, so the two checks are independent */
    DeviceBuffer d_yref(bytes, 0);
    d_yref.upload(y_ref.data());
    ASSERT_EQ(actk_cuda_softmax_backward(kind, dtype, s.outer, s.dim, s.inner, d_yref.data(), d_dy.data(), d_dx.data(),
                                         nullptr),
              ACTK_SUCCESS)
        << actk_last_error();
    const actk_softmax_launch backward_launch = expect_path(s, dtype, true);
    if (loops & kForwardLoops) {
        EXPECT_LT(forward_launch.rows_per_pass, work_items(s)) << "forward grid covers every row at once";
    }
    if (loops & kBackwardLoops) {
        EXPECT_LT(backward_launch.rows_per_pass, work_items(s)) << "backward grid covers every row at once";
    }
    CUDA_OK(cudaDeviceSynchronize());
    d_y.download(y_gpu.data());
    d_dx.download(dx_gpu.data());
    EXPECT_TRUE(d_y.guards_intact());
    EXPECT_TRUE(d_dx.guards_intact());

    size_t bad_forward = 0, bad_backward = 0;
    std::string first;
    for (size_t o = 0; o < s.outer; ++o) {
        for (size_t i = 0; i < s.inner; ++i) {
            long double terms = 0; /* the scale of the row's sum, for the cancellation allowance */
            for (size_t d = 0; d < s.dim; ++d) {
                const size_t k = (o * s.dim + d) * s.inner + i;
                terms += kind == ACTK_SOFTMAX ? fabsl(dy.get(k) * y_ref.get(k)) : fabsl(dy.get(k));
            }
            for (size_t d = 0; d < s.dim; ++d) {
                const size_t k = (o * s.dim + d) * s.inner + i;
                if (ulp_distance(dtype, y_gpu.get(k), y_ref.get(k)) > softmax_bound(dtype)) {
                    if (bad_forward++ == 0) first = "forward at " + std::to_string(k);
                }
                const long double scale = kind == ACTK_SOFTMAX ? fabsl(y_ref.get(k)) * (fabsl(dy.get(k)) + terms)
                                                               : fabsl(dy.get(k)) + expl(y_ref.get(k)) * terms;
                const bool ok = ulp_distance(dtype, dx_gpu.get(k), dx_ref.get(k)) <= softmax_bound(dtype) ||
                                fabsl(dx_gpu.get(k) - dx_ref.get(k)) <= 4 * eps_of(dtype) * scale;
                if (!ok && bad_backward++ == 0) first += " backward at " + std::to_string(k);
            }
        }
    }
    EXPECT_EQ(bad_forward, 0u) << first;
    EXPECT_EQ(bad_backward, 0u) << first;
}

} // namespace

TEST_F(Gpu, SoftmaxEveryDispatchPathAgreesWithTheReference)
{
    std::mt19937_64 rng(2026);
    const Shape shapes[] = {
        {257, 1, 1},    {129, 7, 1},                                               /* a lane per row */
        {64, 32, 1},    {65, 33, 1},   {33, 100, 1},  {17, 1000, 1}, {9, 1024, 1}, /* warp per row */
        {5, 1025, 1},   {3, 5000, 1},  {7, 16384, 1},                              /* block per row, row cached */
        {2, 40000, 1},  {3, 16385, 1},                                             /* cluster per row, chunks cached */
        {1, 300007, 1}, /* cluster; f64 chunks too big to cache */
        {3, 7, 5},      {2, 13, 31},   {4, 64, 49},   {1, 3, 1021},  {7, 1, 3}, /* inner > 1 */
    };
    for (actk_dtype dtype : kAllDtypes)
        for (const Shape &s : shapes)
            for (actk_softmax_kind kind : {ACTK_SOFTMAX, ACTK_LOG_SOFTMAX}) check_softmax(kind, dtype, s, rng);
    /* the same shapes as a GPU without clusters runs them (block per row for every long row) */
    without_clusters([&] {
        for (actk_dtype dtype : kAllDtypes)
            for (const Shape &s : shapes) check_softmax(ACTK_SOFTMAX, dtype, s, rng);
    });
}

TEST_F(Gpu, SoftmaxRowsOfFourMillion)
{
    std::mt19937_64 rng(4);
    for (actk_dtype dtype : {ACTK_F32, ACTK_BF16})
        for (actk_softmax_kind kind : {ACTK_SOFTMAX, ACTK_LOG_SOFTMAX})
            check_softmax(kind, dtype, {2, size_t(1) << 22, 1}, rng);
}

TEST_F(Gpu, SoftmaxSpecialRowsAndInPlace)
{
    const float inf = INFINITY;
    std::vector<float> x = {0, -inf, 0, 1,   -inf, -inf, -inf, -inf,   1, inf, 0, 0,   NAN, 1, 2, 3}, y(16), want(16);
    DeviceBuffer d(16 * 4, 0);
    d.upload(x.data());
    ASSERT_EQ(actk_cuda_softmax_forward(ACTK_LOG_SOFTMAX, ACTK_F32, 4, 4, 1, d.data(), d.data(), nullptr),
              ACTK_SUCCESS);
    CUDA_OK(cudaDeviceSynchronize());
    d.download(y.data());
    ASSERT_EQ(actk_cpu_softmax_forward(ACTK_LOG_SOFTMAX, ACTK_F32, 4, 4, 1, x.data(), want.data()), ACTK_SUCCESS);
    for (int k = 0; k < 16; ++k)
        EXPECT_LE(ulp_distance(ACTK_F32, y[k], want[k]), 4) << k << ": " << y[k] << " vs " << want[k];
    for (int k = 4; k < 16; ++k) EXPECT_TRUE(std::isnan(y[k])) << k;
    EXPECT_EQ(y[1], -inf);
}

/* Rows that stress the f32 float path's online form and output (the host
 * replay, test_softmax_math_on_host, covers the same patterns): sorted
 * ascending (a new max at every element), descending, many ties at the max,
 * outputs down in the subnormals, logits near 1e5. Forward only: the
 * backward's sums do not depend on the order of the maxima. */
TEST_F(Gpu, SoftmaxSortedTiedAndTinyRowsInEveryPath)
{
    std::mt19937_64 rng(31);
    const Shape shapes[] = {{4, 700, 1}, {3, 5000, 1}, {2, 40000, 1}, {3, 300, 7}}; /* warp, block, cluster, strided */
    for (actk_dtype dtype : {ACTK_F32, ACTK_BF16}) {
        for (const Shape &s : shapes) {
            for (int pattern = 0; pattern < 5; ++pattern) {
                const size_t n = s.outer * s.dim * s.inner, bytes = n * actk_dtype_size(dtype);
                std::vector<double> v(n);
                std::uniform_real_distribution<double> u(-15, 15), wide(-110, 10);
                for (double &e : v)
                    e = pattern == 2   ? (double)(rng() % 4)
                        : pattern == 3 ? wide(rng)
                        : pattern == 4 ? 1e5 + u(rng)
                                       : u(rng);
                if (dtype != ACTK_F32 && pattern == 4) continue; /* 1e5 + x is coarse in bf16 */
                if (pattern < 2) /* sort each (outer, inner) column along dim */
                    for (size_t o = 0; o < s.outer; ++o)
                        for (size_t i = 0; i < s.inner; ++i) {
                            std::vector<double> col(s.dim);
                            for (size_t d = 0; d < s.dim; ++d) col[d] = v[(o * s.dim + d) * s.inner + i];
                            std::sort(col.begin(), col.end());
                            if (pattern == 1) std::reverse(col.begin(), col.end());
                            for (size_t d = 0; d < s.dim; ++d) v[(o * s.dim + d) * s.inner + i] = col[d];
                        }
                Buffer x(dtype, n), want(dtype, n), got(dtype, n);
                for (size_t k = 0; k < n; ++k) x.set(k, v[k]);
                for (actk_softmax_kind kind : {ACTK_SOFTMAX, ACTK_LOG_SOFTMAX}) {
                    SCOPED_TRACE(std::string(actk_dtype_name(dtype)) + " pattern " + std::to_string(pattern) +
                                 " kind " + std::to_string(kind) + " " + std::to_string(s.outer) + "x" +
                                 std::to_string(s.dim) + "x" + std::to_string(s.inner));
                    ASSERT_EQ(actk_cpu_softmax_forward(kind, dtype, s.outer, s.dim, s.inner, x.data(), want.data()),
                              ACTK_SUCCESS);
                    DeviceBuffer d_x(bytes, 0), d_y(bytes, 0);
                    d_x.upload(x.data());
                    ASSERT_EQ(actk_cuda_softmax_forward(kind, dtype, s.outer, s.dim, s.inner, d_x.data(), d_y.data(),
                                                        nullptr),
                              ACTK_SUCCESS)
                        << actk_last_error();
                    CUDA_OK(cudaDeviceSynchronize());
                    d_y.download(got.data());
                    EXPECT_TRUE(d_y.guards_intact());
                    size_t bad = 0;
                    for (size_t k = 0; k < n; ++k)
                        if (ulp_distance(dtype, got.get(k), want.get(k)) > softmax_bound(dtype) && bad++ == 0)
                            ADD_FAILURE() << "at " << k << ": " << (double)got.get(k) << " vs " << (double)want.get(k);
                    EXPECT_EQ(bad, 0u);
                }
            }
        }
    }
}

TEST_F(Gpu, PreluAgreesAndDslopeIsDeterministic)
{
    std::mt19937_64 rng(7);
    /* the plans of kernels/prelu_plan.h. Wide rows (256 x 1 blocks): {64,1,1000},
     * {128,64,49}, {1000,300,1}, {4099,129,1} (129 columns: 129 x 1), {7,1,300000}
     * (pass 2 walks 3 * 300000 partials); narrow rows (J x floor(256/J) blocks, a
     * tree over the block's rows), e.g. nn.PReLU()'s single slope: {3,7,5} (35 x 7),
     * {5000,3,1} (3 x 85), {100003,1,1} (1 x 256), {20000,2,100} */
    const Shape shapes[] = {{64, 1, 1000}, {128, 64, 49}, {1000, 300, 1}, {4099, 129, 1}, {7, 1, 300000},
                            {3, 7, 5},     {5000, 3, 1},  {100003, 1, 1}, {20000, 2, 100}};
    for (actk_dtype dtype : kAllDtypes) {
        for (const Shape &s : shapes) {
            SCOPED_TRACE(std::string(actk_dtype_name(dtype)) + " " + std::to_string(s.outer) + "x" +
                         std::to_string(s.dim) + "x" + std::to_string(s.inner));
            const size_t n = s.outer * s.dim * s.inner, elem = actk_dtype_size(dtype);
            Buffer x(dtype, n), dy(dtype, n), slope(dtype, s.dim), y_ref(dtype, n), dx_ref(dtype, n),
                ds_ref(dtype, s.dim);
            Buffer y_gpu(dtype, n), dx_gpu(dtype, n), ds_gpu(dtype, s.dim), ds_again(dtype, s.dim);
            std::uniform_real_distribution<double> u(-3, 3);
            for (size_t k = 0; k < n; ++k) { x.set(k, u(rng)); dy.set(k, u(rng)); }
            for (size_t c = 0; c < s.dim; ++c) slope.set(c, 0.25 + 0.05 * u(rng));
            ASSERT_EQ(actk_cpu_prelu_forward(dtype, s.outer, s.dim, s.inner, x.data(), slope.data(), y_ref.data()),
                      ACTK_SUCCESS);
            ASSERT_EQ(actk_cpu_prelu_backward(dtype, s.outer, s.dim, s.inner, x.data(), slope.data(), dy.data(),
                                              dx_ref.data(), ds_ref.data()),
                      ACTK_SUCCESS);
            DeviceBuffer d_x(n * elem, 0), d_dy(n * elem, 0), d_s(s.dim * elem, 0), d_y(n * elem, 0), d_dx(n * elem, 0),
                d_ds(s.dim * elem, 0);
            const size_t ws_bytes = actk_cuda_prelu_backward_workspace_size(dtype, s.outer, s.dim, s.inner);
            DeviceBuffer d_ws(ws_bytes, 0);
            d_x.upload(x.data());
            d_dy.upload(dy.data());
            d_s.upload(slope.data());
            ASSERT_EQ(
                actk_cuda_prelu_forward(dtype, s.outer, s.dim, s.inner, d_x.data(), d_s.data(), d_y.data(), nullptr),
                ACTK_SUCCESS)
                << actk_last_error();
            ASSERT_EQ(actk_cuda_prelu_backward(dtype, s.outer, s.dim, s.inner, d_x.data(), d_s.data(), d_dy.data(),
                                               d_dx.data(), d_ds.data(), d_ws.data(), ws_bytes, nullptr),
                      ACTK_SUCCESS)
                << actk_last_error();
            CUDA_OK(cudaDeviceSynchronize());
            d_y.download(y_gpu.data());
            d_dx.download(dx_gpu.data());
            d_ds.download(ds_gpu.data());
            ASSERT_EQ(actk_cuda_prelu_backward(dtype, s.outer, s.dim, s.inner, d_x.data(), d_s.data(), d_dy.data(),
                                               d_dx.data(), d_ds.data(), d_ws.data(), ws_bytes, nullptr),
                      ACTK_SUCCESS);
            CUDA_OK(cudaDeviceSynchronize());
            d_ds.download(ds_again.data());
            EXPECT_EQ(ds_gpu.bytes, ds_again.bytes) << "dslope must be bitwise deterministic";
            EXPECT_TRUE(d_y.guards_intact() && d_dx.guards_intact() && d_ds.guards_intact());
            const double bound = dtype == ACTK_F32 ? 4 : dtype == ACTK_F64 ? 8 : 1;
            for (size_t k = 0; k < n; ++k) {
                ASSERT_LE(ulp_distance(dtype, y_gpu.get(k), y_ref.get(k)), 1) << k;
                ASSERT_LE(ulp_distance(dtype, dx_gpu.get(k), dx_ref.get(k)), 1) << k;
            }
            for (size_t c = 0; c < s.dim; ++c)
                EXPECT_LE(ulp_distance(dtype, ds_gpu.get(c), ds_ref.get(c)), bound) << "channel " << c;
        }
    }
    /* too little workspace is refused */
    DeviceBuffer a(4096 * 4, 0), b(4096 * 4, 0), c(4 * 4, 0), d(4096 * 4, 0), e(4 * 4, 0);
    EXPECT_EQ(actk_cuda_prelu_backward(ACTK_F32, 1024, 4, 1, a.data(), c.data(), b.data(), d.data(), e.data(), nullptr,
                                       0, nullptr),
              ACTK_ERROR_INVALID_VALUE);
    EXPECT_NE(std::strstr(actk_last_error(), "workspace"), nullptr);
}

TEST_F(Gpu, MaxoutIsExact)
{
    std::mt19937_64 rng(8);
    const struct {
        size_t outer, units, pieces, inner;
    } shapes[] = {{64, 32, 4, 1}, {8, 16, 3, 49}, {3, 5, 7, 11}, {1000, 1, 2, 1}};
    for (actk_dtype dtype : kAllDtypes) {
        for (const auto &s : shapes) {
            const size_t n_in = s.outer * s.units * s.pieces * s.inner, n_out = s.outer * s.units * s.inner,
                         elem = actk_dtype_size(dtype);
            Buffer x(dtype, n_in), dy(dtype, n_out), y_ref(dtype, n_out), dx_ref(dtype, n_in), y_gpu(dtype, n_out),
                dx_gpu(dtype, n_in);
            std::uniform_int_distribution<int> small(-4, 4); /* small integers: many ties */
            for (size_t k = 0; k < n_in; ++k) x.set(k, k % 101 == 5 ? NAN : small(rng));
            for (size_t k = 0; k < n_out; ++k) dy.set(k, small(rng) + 0.5);
            ASSERT_EQ(actk_cpu_maxout_forward(dtype, s.outer, s.units, s.pieces, s.inner, x.data(), y_ref.data()),
                      ACTK_SUCCESS);
            ASSERT_EQ(actk_cpu_maxout_backward(dtype, s.outer, s.units, s.pieces, s.inner, x.data(), dy.data(),
                                               dx_ref.data()),
                      ACTK_SUCCESS);
            DeviceBuffer d_x(n_in * elem, 0), d_dy(n_out * elem, 0), d_y(n_out * elem, 0), d_dx(n_in * elem, 0);
            d_x.upload(x.data());
            d_dy.upload(dy.data());
            ASSERT_EQ(
                actk_cuda_maxout_forward(dtype, s.outer, s.units, s.pieces, s.inner, d_x.data(), d_y.data(), nullptr),
                ACTK_SUCCESS)
                << actk_last_error();
            ASSERT_EQ(actk_cuda_maxout_backward(dtype, s.outer, s.units, s.pieces, s.inner, d_x.data(), d_dy.data(),
                                                d_dx.data(), nullptr),
                      ACTK_SUCCESS)
                << actk_last_error();
            CUDA_OK(cudaDeviceSynchronize());
            d_y.download(y_gpu.data());
            d_dx.download(dx_gpu.data());
            EXPECT_TRUE(d_y.guards_intact() && d_dx.guards_intact());
            for (size_t k = 0; k < n_out; ++k) ASSERT_EQ(ulp_distance(dtype, y_gpu.get(k), y_ref.get(k)), 0) << k;
            for (size_t k = 0; k < n_in; ++k) ASSERT_EQ(ulp_distance(dtype, dx_gpu.get(k), dx_ref.get(k)), 0) << k;
        }
    }
}

TEST_F(Gpu, RreluDrawsTheSameSlopesAsTheCpu)
{
    actk_rrelu p = actk_rrelu_default();
    p.seed = 42;
    p.offset = 1u << 20;
    for (actk_dtype dtype : kAllDtypes) {
        for (int training : {1, 0}) {
            p.training = training;
            const size_t n = 100003, elem = actk_dtype_size(dtype);
            Buffer x(dtype, n), dy(dtype, n), y_ref(dtype, n), dx_ref(dtype, n), y_gpu(dtype, n), dx_gpu(dtype, n);
            std::mt19937_64 rng(9);
            std::uniform_real_distribution<double> u(-4, 4);
            for (size_t k = 0; k < n; ++k) { x.set(k, k % 2 ? -1.0 : u(rng)); dy.set(k, u(rng)); }
            ASSERT_EQ(actk_cpu_rrelu_forward(p, dtype, n, x.data(), y_ref.data()), ACTK_SUCCESS);
            ASSERT_EQ(actk_cpu_rrelu_backward(p, dtype, n, x.data(), dy.data(), dx_ref.data()), ACTK_SUCCESS);
            DeviceBuffer d_x(n * elem, 0), d_dy(n * elem, 0), d_y(n * elem, 0), d_dx(n * elem, 0);
            d_x.upload(x.data());
            d_dy.upload(dy.data());
            ASSERT_EQ(actk_cuda_rrelu_forward(p, dtype, n, d_x.data(), d_y.data(), nullptr), ACTK_SUCCESS)
                << actk_last_error();
            ASSERT_EQ(actk_cuda_rrelu_backward(p, dtype, n, d_x.data(), d_dy.data(), d_dx.data(), nullptr),
                      ACTK_SUCCESS)
                << actk_last_error();
            CUDA_OK(cudaDeviceSynchronize());
            d_y.download(y_gpu.data());
            d_dx.download(dx_gpu.data());
            EXPECT_TRUE(d_y.guards_intact() && d_dx.guards_intact());
            const long double bound = dtype == ACTK_F32 ? 0 : 1;
            for (size_t k = 0; k < n; ++k) {
                ASSERT_LE(ulp_distance(dtype, y_gpu.get(k), y_ref.get(k)), bound) << k;
                ASSERT_LE(ulp_distance(dtype, dx_gpu.get(k), dx_ref.get(k)), bound) << k;
            }
            if (dtype == ACTK_F32 && training) { /* y = -a_i for x = -1: the slopes themselves, bitwise */
                for (size_t k = 1; k < n; k += 2) ASSERT_EQ(-(float)y_gpu.get(k), actk_rrelu_slope(p, k)) << k;
            }
        }
    }
}

/* Shapes with many more rows (columns) than the persistent grid holds, so
 * every kernel's loop turns more than once (item 6 of issue 12). */
TEST_F(Gpu, SoftmaxGridStrideLoopsTurnMoreThanOnce)
{
    std::mt19937_64 rng(606);
    const Shape shapes[] = {{100000, 64, 1}, {20000, 2048, 1}, {600, 20000, 1}};
    for (const Shape &s : shapes) check_softmax(ACTK_SOFTMAX, ACTK_F32, s, rng, kBothLoop);
    check_softmax(ACTK_LOG_SOFTMAX, ACTK_BF16, {100000, 64, 1}, rng, kBothLoop);
    without_clusters([&] { check_softmax(ACTK_SOFTMAX, ACTK_F32, {600, 20000, 1}, rng, kBothLoop); });
    /* strided: 64 x 128 tiles of 32 columns, more blocks than any GPU holds
     * at once (8 per SM at most); and many short columns */
    check_softmax(ACTK_SOFTMAX, ACTK_F32, {64, 300, 4096}, rng, kBothLoop);
    check_softmax(ACTK_SOFTMAX, ACTK_F32, {1, 3, 700001}, rng, kBothLoop);
}

/* The branches no other shape reaches on a big GPU: the strided kernels
 * without their tile, and the block kernel without the row cache
 * (rows longer than shared memory on a GPU without clusters). */
TEST_F(Gpu, SoftmaxUncachedBranches)
{
    std::mt19937_64 rng(707);
    for (actk_dtype dtype : {ACTK_F32, ACTK_F64, ACTK_F16}) {
        without_clusters([&] { /* few tiles: the cluster path where clusters exist */
            check_softmax(ACTK_SOFTMAX, dtype, {1, 40000, 3}, rng); /* strided, tile beyond shared memory */
            check_softmax(ACTK_LOG_SOFTMAX, dtype, {2, 8000, 33}, rng);
            EXPECT_EQ(expected_path({1, 40000, 3}, dtype, false), ACTK_SOFTMAX_PATH_STRIDED);
            EXPECT_EQ(expected_path({2, 8000, 33}, dtype, true), ACTK_SOFTMAX_PATH_STRIDED);
        });
        without_clusters([&] {
            check_softmax(ACTK_SOFTMAX, dtype, {2, 300007, 1}, rng); /* block, row not cached */
            EXPECT_EQ(expected_path({2, 300007, 1}, dtype, false), ACTK_SOFTMAX_PATH_BLOCK);
        });
    }
}

/* The strided kernels give the bits of their host replay
 * (softmax_strided_replay.h, the order the host test holds to the bounds):
 * forward from x, backward from the reference y; f32, f16 and bf16 (the
 * host build of the same math gives the device's bits, -fmad=false). */
template <actk_dtype kDtype>
void check_strided_replay_bits(actk_softmax_kind kind, Shape s, std::mt19937_64 &rng)
{
    using M = typename actk::MathFor<kDtype>::type;
    const size_t n = s.outer * s.dim * s.inner, bytes = n * actk_dtype_size(kDtype);
    SCOPED_TRACE(std::string("replay bits ") + (kind == ACTK_SOFTMAX ? "softmax " : "log_softmax ") +
                 actk_dtype_name(kDtype) + " " + std::to_string(s.outer) + "x" + std::to_string(s.dim) + "x" +
                 std::to_string(s.inner));
    Buffer x = softmax_inputs(kDtype, n, rng), y_ref(kDtype, n), dy(kDtype, n), want_y(kDtype, n), want_dx(kDtype, n),
           got_y(kDtype, n), got_dx(kDtype, n);
    std::uniform_real_distribution<double> g(-1, 1);
    for (size_t k = 0; k < n; ++k) dy.set(k, g(rng));
    ASSERT_EQ(actk_cpu_softmax_forward(kind, kDtype, s.outer, s.dim, s.inner, x.data(), y_ref.data()), ACTK_SUCCESS);
    DeviceBuffer d_x(bytes, 0), d_y(bytes, 0), d_yref(bytes, 0), d_dy(bytes, 0), d_dx(bytes, 0);
    ASSERT_TRUE(d_x.base && d_y.base && d_yref.base && d_dy.base && d_dx.base);
    d_x.upload(x.data());
    d_yref.upload(y_ref.data());
    d_dy.upload(dy.data());
    ASSERT_EQ(actk_cuda_softmax_forward(kind, kDtype, s.outer, s.dim, s.inner, d_x.data(), d_y.data(), nullptr),
              ACTK_SUCCESS)
        << actk_last_error();
    const unsigned forward_cluster =
        expect_path(s, kDtype, false).cluster; /* the replay takes the cluster order the launch took */
    ASSERT_EQ(actk_cuda_softmax_backward(kind, kDtype, s.outer, s.dim, s.inner, d_yref.data(), d_dy.data(), d_dx.data(),
                                         nullptr),
              ACTK_SUCCESS)
        << actk_last_error();
    const unsigned backward_cluster = expect_path(s, kDtype, true).cluster;
    strided_forward_replay<M>(kind, kDtype, s.outer, s.dim, s.inner, x, want_y, StridedOrder::kTree, {}, nullptr,
                              forward_cluster);
    strided_backward_replay<M>(kind, s.outer, s.dim, s.inner, y_ref, dy, want_dx, StridedOrder::kTree,
                               backward_cluster);
    CUDA_OK(cudaDeviceSynchronize());
    d_y.download(got_y.data());
    d_dx.download(got_dx.data());
    EXPECT_TRUE(d_y.guards_intact());
    EXPECT_TRUE(d_dx.guards_intact());
    size_t differ_y = 0, differ_dx = 0;
    for (size_t k = 0; k < n; ++k) {
        const long double a = got_y.get(k), b = want_y.get(k), c = got_dx.get(k), e = want_dx.get(k);
        differ_y += !(a == b || (a != a && b != b));
        differ_dx += !(c == e || (c != c && e != e));
    }
    EXPECT_EQ(differ_y, 0u) << "forward outputs differ from the replay's bits";
    EXPECT_EQ(differ_dx, 0u) << "backward outputs differ from the replay's bits";
}

/* Issue 12 item 11's shapes on the strided kernels: a long dim on few
 * columns, NCHW channel softmax (C = 128 .. 450 over 56 x 56), every odd
 * inner up to 33 (inner < 32: lanes over (d, i); 33: a ragged second tile),
 * short columns packed several per block; against the reference, the
 * path and launch asserted, and on some the replay's bits. */
TEST_F(Gpu, SoftmaxStridedIssueShapes)
{
    std::mt19937_64 rng(1111);
    check_softmax(ACTK_SOFTMAX, ACTK_F32, {2, 20000, 3}, rng);      /* few columns, long dim */
    check_softmax(ACTK_LOG_SOFTMAX, ACTK_BF16, {2, 20000, 3}, rng);
    for (size_t channels : {128u, 256u, 450u}) {
        check_softmax(ACTK_SOFTMAX, ACTK_F32, {8, channels, 56 * 56}, rng);
        check_softmax(ACTK_LOG_SOFTMAX, ACTK_F16, {8, channels, 56 * 56}, rng);
    }
    check_softmax(ACTK_SOFTMAX, ACTK_F64, {2, 450, 56 * 56}, rng);
    for (size_t inner = 1; inner <= 33; inner += 2)
        for (actk_dtype dtype : kAllDtypes)
            check_softmax(inner % 4 == 1 ? ACTK_SOFTMAX : ACTK_LOG_SOFTMAX, dtype, {3, 77, inner}, rng);
    for (actk_dtype dtype : kAllDtypes) check_softmax(ACTK_SOFTMAX, dtype, {1000, 3, 5}, rng); /* 17 o per block */
    for (actk_softmax_kind kind : {ACTK_SOFTMAX, ACTK_LOG_SOFTMAX})
        for (const Shape &s : {Shape{2, 300, 7}, Shape{3, 450, 64}, Shape{1, 20000, 3}, Shape{4, 5, 33}}) {
            check_strided_replay_bits<ACTK_F32>(kind, s, rng);
            check_strided_replay_bits<ACTK_F16>(kind, s, rng);
            check_strided_replay_bits<ACTK_BF16>(kind, s, rng);
        }
    /* few tiles on a GPU without clusters (one block per tile group) */
    without_clusters([&] {
        check_softmax(ACTK_SOFTMAX, ACTK_F32, {2, 20000, 3}, rng);
        check_strided_replay_bits<ACTK_F32>(ACTK_SOFTMAX, {1, 20000, 3}, rng);
    });
    /* the cluster path, where the device has clusters: asserted, not assumed */
    const DeviceView d = device_view();
    if (d.cc_major >= 9 && d.cluster_launch) {
        EXPECT_GT(strided_cluster({2, 20000, 3}), 1u);
        EXPECT_EQ(expected_path({2, 20000, 3}, ACTK_F32, false), ACTK_SOFTMAX_PATH_STRIDED_CLUSTER);
    }
}

/* Softmax calls are capturable in a CUDA graph (nothing synchronises or
 * allocates, the attribute and occupancy queries are not stream work) and
 * the replay gives the bits of a direct call, on every inner == 1 path. */
TEST_F(Gpu, SoftmaxUnderGraphCaptureGivesTheSameBits)
{
    std::mt19937_64 rng(808);
    const Shape shapes[] = {{1000, 100, 1}, {3, 5000, 1}, {300, 3000, 1}, {2, 40000, 1}, {4, 64, 49}};
    cudaStream_t stream;
    CUDA_OK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    for (const Shape &s : shapes) {
        const size_t n = s.outer * s.dim * s.inner;
        SCOPED_TRACE(std::to_string(s.outer) + "x" + std::to_string(s.dim) + "x" + std::to_string(s.inner));
        Buffer x = softmax_inputs(ACTK_F32, n, rng), direct(ACTK_F32, n), replayed(ACTK_F32, n);
        DeviceBuffer d_x(n * 4, 0), d_direct(n * 4, 0), d_graph(n * 4, 0);
        d_x.upload(x.data());
        ASSERT_EQ(actk_cuda_softmax_forward(ACTK_SOFTMAX, ACTK_F32, s.outer, s.dim, s.inner, d_x.data(),
                                            d_direct.data(), stream),
                  ACTK_SUCCESS)
            << actk_last_error();
        const actk_softmax_path direct_path = expect_path(s, ACTK_F32, false).path;
        CUDA_OK(cudaStreamSynchronize(stream));
        cudaGraph_t graph = nullptr;
        cudaGraphExec_t exec = nullptr;
        CUDA_OK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal));
        const actk_status captured = actk_cuda_softmax_forward(ACTK_SOFTMAX, ACTK_F32, s.outer, s.dim, s.inner,
                                                               d_x.data(), d_graph.data(), stream);
        const actk_softmax_path captured_path = actk_internal_last_softmax_launch().path;
        CUDA_OK(cudaStreamEndCapture(stream, &graph));
        ASSERT_EQ(captured, ACTK_SUCCESS) << actk_last_error();
        EXPECT_EQ(captured_path, direct_path);
        CUDA_OK(cudaGraphInstantiate(&exec, graph, 0));
        CUDA_OK(cudaGraphLaunch(exec, stream));
        CUDA_OK(cudaStreamSynchronize(stream));
        d_direct.download(direct.data());
        d_graph.download(replayed.data());
        EXPECT_EQ(direct.bytes, replayed.bytes);
        EXPECT_TRUE(d_graph.guards_intact());
        cudaGraphExecDestroy(exec);
        cudaGraphDestroy(graph);
    }
    cudaStreamDestroy(stream);
}
