// SPDX-License-Identifier: MIT
/*
 * test_cross_entropy_gpu.cpp - actk_cuda_cross_entropy_forward_backward
 * against the long double oracle (cross_entropy_check.h's rule) on fresh
 * random rows: every option alone and combined, every dtype and reduction,
 * int32 and int64 targets, ignored rows, all-ignored batches, extreme
 * logits, one class, rows too long for one block's shared memory (256K
 * classes: a cluster per row on sm_90+, else read twice), in place, strided
 * rows, the bad-target flag, determinism; the row kernel's path and grid
 * (cuda_test_hooks.h): cached rows up to the shared memory limit, one float
 * more goes to the cluster kernel (sm_90+) or the streamed kernel (older
 * GPUs, or clusters switched off by the hook: there the row kernel keeps a
 * raw bf16 row of up to twice the float limit), more rows than the grid;
 * the cluster kernel on 128K and 256K rows (f32, bf16, soft-cap, in place,
 * rows beyond the grid), its size and determinism; its special rows (bad
 * target, NaN, all -inf) with and without grad and lse; the cached kernel's
 * plain-gradient path over many rows per block; a 256K row's target in the
 * first block's chunk; the cached and cluster kernels' packed and
 * column-by-column layouts (strides, misaligned starts, tails).
 * Outputs are poisoned before each call and surrounded by guard bands.
 * Skips without a GPU (fails with ACTK_REQUIRE_GPU set).
 */
#include "cross_entropy_check.h"
#include "cuda_test_hooks.h"
#include "gpu_util.h"

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <random>

using namespace actk_test;

namespace {

class CrossEntropyGpu : public Gpu {};

struct Call {
    actk_cross_entropy_options o;
    actk_dtype dtype;
    size_t rows, classes, ld;
    actk_index_type index = ACTK_INDEX_I64;
    bool in_place = false;
    size_t ldgrad = 0; /* 0: classes (dense) */
    bool with_grad = true;
    bool with_lse = true;
    size_t offset = 0;      /* elements the logits start past an aligned address */
    size_t grad_offset = 0; /* and the gradient (a separate buffer) */
};

/* Runs the call on the GPU; fills got (grad compacted to rows x classes)
 * and *flag (the error flag after the call). */
void run(const Call &c, const Buffer &x, const std::vector<int64_t> &t, CeOutputs &got, int *flag)
{
    const size_t elem = actk_dtype_size(c.dtype);
    const size_t ldgrad = c.in_place ? c.ld : (c.ldgrad ? c.ldgrad : c.classes);
    const size_t x_span = c.rows ? (c.rows - 1) * c.ld + c.classes : 0;
    const size_t g_span = c.rows ? (c.rows - 1) * ldgrad + c.classes : 0;
    const size_t index_size = c.index == ACTK_INDEX_I64 ? 8 : 4;
    const size_t loss_count = c.o.reduction == ACTK_REDUCTION_NONE ? c.rows : 1;
    DeviceBuffer d_x(x_span * elem, c.offset * elem), d_t(c.rows * index_size, 0), d_loss(loss_count * 4, 0),
        d_lse(c.rows * 4, 0), d_grad(g_span * elem, c.grad_offset * elem), d_flag(4, 0);
    const size_t ws_bytes = actk_cuda_cross_entropy_workspace_size(c.o.reduction, c.rows);
    void *d_ws = nullptr;
    ASSERT_EQ(cudaMalloc(&d_ws, ws_bytes ? ws_bytes : 16), cudaSuccess);
    cudaMemset(d_ws, 0x7B, ws_bytes ? ws_bytes : 16); /* stale contents must not matter */
    ASSERT_TRUE(d_x.base && d_t.base && d_loss.base && d_lse.base && d_grad.base && d_flag.base);
    d_x.upload(x.data());
    if (c.index == ACTK_INDEX_I64) {
        d_t.upload(t.data());
    } else {
        std::vector<int32_t> t32(t.begin(), t.end());
        d_t.upload(t32.data());
    }
    CUDA_OK(cudaMemset(d_flag.data(), 0, 4));
    /* c.o.row_grad is host memory (for the oracle): the call takes a device copy */
    actk_cross_entropy_options o = c.o;
    DeviceBuffer d_row_grad(c.o.row_grad ? c.rows * 4 : 4, 0);
    ASSERT_TRUE(d_row_grad.base);
    if (c.o.row_grad) {
        d_row_grad.upload(c.o.row_grad);
        o.row_grad = static_cast<const float *>(d_row_grad.data());
    }
    void *grad = c.with_grad ? (c.in_place ? d_x.data() : d_grad.data()) : nullptr;
    const actk_status s = actk_cuda_cross_entropy_forward_backward(
        o, c.dtype, c.rows, c.classes, d_x.data(), c.ld, c.index, d_t.data(), static_cast<float *>(d_loss.data()),
        c.with_lse ? static_cast<float *>(d_lse.data()) : nullptr, grad, ldgrad, static_cast<int *>(d_flag.data()),
        d_ws, ws_bytes, nullptr);
    ASSERT_EQ(s, ACTK_SUCCESS) << actk_last_error();
    CUDA_OK(cudaDeviceSynchronize());
    std::vector<float> loss(loss_count);
    d_loss.download(loss.data());
    if (c.o.reduction == ACTK_REDUCTION_NONE) got.row_loss = loss;
    else got.reduced = loss[0];
    if (c.with_lse) {
        got.lse.resize(c.rows);
        d_lse.download(got.lse.data());
    }
    d_flag.download(flag);
    if (c.with_grad) {
        Buffer g(c.dtype, g_span);
        (c.in_place ? d_x : d_grad).download(g.data());
        for (size_t r = 0; r < c.rows; ++r)
            for (size_t j = 0; j < c.classes; ++j) got.grad.set(r * c.classes + j, g.get(r * ldgrad + j));
        if (c.in_place) {
            for (size_t r = 0; r + 1 < c.rows; ++r)
                for (size_t j = c.classes; j < c.ld; ++j) {
                    EXPECT_EQ(ulp_distance(c.dtype, g.get(r * c.ld + j), x.get(r * c.ld + j)), 0) << "padding written";
                }
        }
    }
    EXPECT_TRUE(d_x.guards_intact());
    EXPECT_TRUE(d_loss.guards_intact());
    EXPECT_TRUE(d_lse.guards_intact());
    EXPECT_TRUE(d_grad.guards_intact());
    EXPECT_TRUE(d_flag.guards_intact());
    cudaFree(d_ws);
}

Buffer random_logits(actk_dtype dtype, size_t n, std::mt19937_64 &rng, double spread)
{
    Buffer x(dtype, n);
    std::normal_distribution<double> normal(0.0, spread);
    for (size_t i = 0; i < n; ++i) x.set(i, normal(rng));
    return x;
}

struct Opt {
    float eps, z_loss, cap;
};
const Opt kOpts[] = {{0, 0, 0}, {0.1f, 0, 0}, {1, 0, 0}, {0, 1e-4f, 0}, {0, 0, 30}, {0.1f, 1e-4f, 15}};

actk_cross_entropy_options make(Opt p, actk_reduction reduction)
{
    actk_cross_entropy_options o = actk_cross_entropy_default();
    o.label_smoothing = p.eps;
    o.z_loss = p.z_loss;
    o.softcap = p.cap;
    o.reduction = reduction;
    return o;
}

TEST_F(CrossEntropyGpu, EveryOptionDtypeReductionAgainstOracle)
{
    std::mt19937_64 rng(std::random_device{}());
    for (actk_dtype dtype : {ACTK_F32, ACTK_F16, ACTK_BF16})
        for (const Opt &p : kOpts)
            for (size_t classes : {1, 7, 1000, 32768}) {
                CeWorst worst;
                const size_t rows = classes > 1000 ? 3 : 9, ld = classes + 3;
                const Buffer x = random_logits(dtype, rows * ld, rng, 4.0);
                std::vector<int64_t> t(rows);
                for (size_t r = 0; r < rows; ++r) t[r] = (int64_t)(rng() % classes);
                t[rows - 1] = -100;
                for (actk_reduction red : {ACTK_REDUCTION_NONE, ACTK_REDUCTION_SUM, ACTK_REDUCTION_MEAN}) {
                    Call c{make(p, red), dtype, rows, classes, ld};
                    c.index = red == ACTK_REDUCTION_SUM ? ACTK_INDEX_I32 : ACTK_INDEX_I64;
                    c.ldgrad = red == ACTK_REDUCTION_MEAN ? classes + 1 : 0; /* strided gradient too */
                    CeOutputs got(dtype, rows * classes);
                    int flag = -1;
                    run(c, x, t, got, &flag);
                    if (HasFatalFailure()) return;
                    EXPECT_EQ(flag, 0);
                    if (!ce_check(c.o, dtype, rows, classes, x, ld, t, got, true, worst, "gpu")) return;
                }
            }
}

TEST_F(CrossEntropyGpu, LongRowsReadTwiceAndInPlace)
{
    std::mt19937_64 rng(std::random_device{}());
    for (actk_dtype dtype : {ACTK_F32, ACTK_BF16})
        for (bool in_place : {false, true}) {
            const size_t rows = 3, classes = 262144, ld = classes;
            const Buffer x = random_logits(dtype, rows * ld, rng, 3.0);
            const std::vector<int64_t> t = {5, 262143, -100};
            Call c{make(Opt{0.1f, 1e-4f, 0}, ACTK_REDUCTION_MEAN), dtype, rows, classes, ld};
            c.in_place = in_place;
            CeOutputs got(dtype, rows * classes);
            int flag = -1;
            run(c, x, t, got, &flag);
            if (HasFatalFailure()) return;
            CeWorst worst;
            ce_check(c.o, dtype, rows, classes, x, ld, t, got, true, worst, in_place ? "256K in place" : "256K");
        }
}

/* Many more rows than the persistent grid holds: each block does several
 * rows, so the row cache and the merge scratch are reused (review: no other
 * case gives a block a second row). */
TEST_F(CrossEntropyGpu, ManyRowsReuseEachBlocksSharedState)
{
    std::mt19937_64 rng(std::random_device{}());
    for (actk_dtype dtype : {ACTK_F32, ACTK_BF16})
        for (bool in_place : {false, true}) {
            const size_t rows = 20000, classes = 1000, ld = classes;
            const Buffer x = random_logits(dtype, rows * ld, rng, 4.0);
            std::vector<int64_t> t(rows);
            for (size_t r = 0; r < rows; ++r) t[r] = r % 97 == 5 ? -100 : (int64_t)(rng() % classes);
            Call c{make(Opt{0.1f, 1e-4f, 0}, ACTK_REDUCTION_MEAN), dtype, rows, classes, ld};
            c.in_place = in_place;
            CeOutputs got(dtype, rows * classes);
            int flag = -1;
            run(c, x, t, got, &flag);
            if (HasFatalFailure()) return;
            CeWorst worst;
            ce_check(c.o, dtype, rows, classes, x, ld, t, got, true, worst,
                     in_place ? "many rows in place" : "many rows");
        }
}

TEST_F(CrossEntropyGpu, InPlaceStridedMatchesSeparate)
{
    std::mt19937_64 rng(std::random_device{}());
    const size_t rows = 17, classes = 3000, ld = 3008;
    const Buffer x = random_logits(ACTK_F16, rows * ld, rng, 5.0);
    std::vector<int64_t> t(rows);
    for (size_t r = 0; r < rows; ++r) t[r] = (int64_t)(rng() % classes);
    Call c{make(Opt{0.05f, 0, 20}, ACTK_REDUCTION_SUM), ACTK_F16, rows, classes, ld};
    CeOutputs separate(ACTK_F16, rows * classes), in_place(ACTK_F16, rows * classes);
    int flag = -1;
    run(c, x, t, separate, &flag);
    c.in_place = true;
    run(c, x, t, in_place, &flag);
    if (HasFatalFailure()) return;
    EXPECT_EQ(separate.grad.bytes, in_place.grad.bytes);
    EXPECT_EQ(separate.reduced, in_place.reduced);
    CeWorst worst;
    ce_check(c.o, ACTK_F16, rows, classes, x, ld, t, in_place, true, worst, "in place");
}

TEST_F(CrossEntropyGpu, ExtremeLogitsAllIgnoredAndOneClass)
{
    const float inf = INFINITY;
    const std::vector<std::vector<float>> rows_in = {{1, inf, 2}, {1, NAN, 2},   {-inf, -inf, -inf}, {-inf, 1, 2},
                                                     {1e30f, -1e30f, 0}, {-1e30f, 1e30f, 0}, {3e38f, 3e38f, 3e38f}};
    const size_t classes = 3, rows = rows_in.size();
    Buffer x(ACTK_F32, rows * classes);
    for (size_t r = 0; r < rows; ++r)
        for (size_t j = 0; j < classes; ++j) x.set(r * classes + j, rows_in[r][j]);
    const std::vector<int64_t> t(rows, 0);
    for (const Opt &p : kOpts) {
        Call c{make(p, ACTK_REDUCTION_NONE), ACTK_F32, rows, classes, classes};
        CeOutputs got(ACTK_F32, rows * classes);
        int flag = -1;
        run(c, x, t, got, &flag);
        if (HasFatalFailure()) return;
        CeWorst worst;
        ce_check(c.o, ACTK_F32, rows, classes, x, classes, t, got, true, worst, "extreme");
    }
    /* every row ignored: MEAN NaN, SUM 0, gradient 0 */
    const std::vector<int64_t> ignored(rows, -100);
    for (actk_reduction red : {ACTK_REDUCTION_MEAN, ACTK_REDUCTION_SUM}) {
        Call c{make(kOpts[1], red), ACTK_F32, rows, classes, classes};
        CeOutputs got(ACTK_F32, rows * classes);
        int flag = -1;
        run(c, x, ignored, got, &flag);
        if (HasFatalFailure()) return;
        if (red == ACTK_REDUCTION_MEAN) {
            EXPECT_TRUE(std::isnan(got.reduced));
        } else {
            EXPECT_EQ(got.reduced, 0.0f);
        }
        for (size_t i = 0; i < rows * classes; ++i) EXPECT_EQ(got.grad.get(i), 0.0L);
    }
    /* one class */
    Buffer one(ACTK_BF16, 4);
    for (size_t i = 0; i < 4; ++i) one.set(i, (long double)i - 1.5L);
    Call c{make(kOpts[5], ACTK_REDUCTION_NONE), ACTK_BF16, 4, 1, 1};
    CeOutputs got(ACTK_BF16, 4);
    int flag = -1;
    run(c, one, std::vector<int64_t>(4, 0), got, &flag);
    if (HasFatalFailure()) return;
    CeWorst worst;
    ce_check(c.o, ACTK_BF16, 4, 1, one, 1, std::vector<int64_t>(4, 0), got, true, worst, "one class");
}

TEST_F(CrossEntropyGpu, BadTargetsSetTheFlagAndPoisonTheirRows)
{
    std::mt19937_64 rng(std::random_device{}());
    const size_t rows = 6, classes = 50;
    const Buffer x = random_logits(ACTK_F32, rows * classes, rng, 2.0);
    const std::vector<int64_t> t = {3, 50, -1, -100, (int64_t)1 << 40, 49};
    for (actk_index_type index : {ACTK_INDEX_I64, ACTK_INDEX_I32}) {
        Call c{make(kOpts[1], ACTK_REDUCTION_NONE), ACTK_F32, rows, classes, classes};
        c.index = index;
        std::vector<int64_t> used = t;
        if (index == ACTK_INDEX_I32) used[4] = INT32_MIN;
        CeOutputs got(ACTK_F32, rows * classes);
        int flag = -1;
        run(c, x, used, got, &flag);
        if (HasFatalFailure()) return;
        EXPECT_EQ(flag, 1);
        for (size_t r : {1, 2, 4}) {
            EXPECT_TRUE(std::isnan(got.row_loss[r])) << r;
            for (size_t j = 0; j < classes; ++j) EXPECT_TRUE(std::isnan((double)got.grad.get(r * classes + j)));
        }
        /* the good rows as the oracle says (the oracle sees the bad rows ignored) */
        std::vector<int64_t> good = used;
        for (size_t r : {1, 2, 4}) good[r] = -100;
        CeOutputs kept(ACTK_F32, rows * classes);
        kept.row_loss = got.row_loss;
        kept.lse = got.lse;
        for (size_t r : {1, 2, 4}) kept.row_loss[r] = 0;
        for (size_t i = 0; i < rows * classes; ++i) kept.grad.set(i, got.grad.get(i));
        for (size_t r : {1, 2, 4})
            for (size_t j = 0; j < classes; ++j) kept.grad.set(r * classes + j, 0);
        CeWorst worst;
        ce_check(c.o, ACTK_F32, rows, classes, x, classes, good, kept, true, worst, "bad targets");
        /* MEAN: NaN */
        c.o.reduction = ACTK_REDUCTION_MEAN;
        CeOutputs mean(ACTK_F32, rows * classes);
        run(c, x, used, mean, &flag);
        EXPECT_TRUE(std::isnan(mean.reduced));
        EXPECT_EQ(flag, 1);
    }
}

TEST_F(CrossEntropyGpu, DeterministicAcrossRuns)
{
    std::mt19937_64 rng(std::random_device{}());
    const size_t rows = 300, classes = 5000;
    const Buffer x = random_logits(ACTK_BF16, rows * classes, rng, 6.0);
    std::vector<int64_t> t(rows);
    for (size_t r = 0; r < rows; ++r) t[r] = r % 7 == 0 ? -100 : (int64_t)(rng() % classes);
    Call c{make(kOpts[5], ACTK_REDUCTION_MEAN), ACTK_BF16, rows, classes, classes};
    CeOutputs a(ACTK_BF16, rows * classes), b(ACTK_BF16, rows * classes);
    int flag = -1;
    run(c, x, t, a, &flag);
    run(c, x, t, b, &flag);
    if (HasFatalFailure()) return;
    EXPECT_EQ(std::memcmp(&a.reduced, &b.reduced, 4), 0);
    EXPECT_EQ(a.grad.bytes, b.grad.bytes);
    CeWorst worst;
    ce_check(c.o, ACTK_BF16, rows, classes, x, classes, t, a, true, worst, "determinism");
}

} // namespace

namespace {

/* Whether this device runs thread-block clusters (the library's rule,
 * device_facts.h; a build with sm_90+ code is assumed, as every default
 * build has). */
bool device_has_clusters()
{
    int device = 0, major = 0, cluster = 0;
    if (cudaGetDevice(&device) != cudaSuccess) return false;
    if (cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device) != cudaSuccess) return false;
    if (cudaDeviceGetAttribute(&cluster, cudaDevAttrClusterLaunch, device) != cudaSuccess) return false;
    return major >= 9 && cluster != 0;
}

/* The launch expected for a row beyond one block's cache: the cluster kernel
 * where the device has clusters and clusters are not switched off, with the
 * smallest size 2..8 whose chunk fits (a chunk within optin - 4 KiB always
 * fits; one above the whole opt-in limit never does); 0 where no size fits
 * (the streamed kernel); -1 where the static shared memory makes it
 * undecidable here (no assertion on the size). */
/* Floats per cache plane: whole packs of 4, so the dz/dx plane and every
 * cluster chunk start 16-byte aligned. */
size_t cache_plane(size_t n) { return (n + 3) / 4 * 4; }

int expected_cluster(size_t classes, bool cap, size_t optin, bool clusters)
{
    if (!clusters) return 0;
    const size_t bytes = cap ? 8 : 4;
    for (size_t n = 2; n <= 8; ++n) {
        const size_t chunk = cache_plane((classes + n - 1) / n) * bytes;
        if (chunk <= optin - 4096) return (int)n;
        if (chunk <= optin) return -1;
    }
    return 0;
}

/* Whether the row kernel keeps a row of `elem`-byte logits in shared memory
 * (the raw row within optin - 4 KiB always fits, one above the whole opt-in
 * limit never does); -1 between (undecidable here). */
int expected_row_cached(size_t classes, size_t elem, size_t optin)
{
    const size_t bytes = classes * elem;
    return bytes <= optin - 4096 ? 1 : bytes > optin ? 0 : -1;
}

/* Checks the hook's record of a launch for a row beyond one block's float
 * cache: the cluster kernel, else the row kernel with the raw cache where
 * the row's `elem`-byte logits fit, else the streamed row kernel. */
void expect_long_row_launch(const actk_ce_launch &l, size_t classes, bool cap, size_t elem, size_t rows, size_t optin,
                            bool clusters)
{
    const int want = expected_cluster(classes, cap, optin, clusters);
    if (want < 0) return;
    EXPECT_EQ(l.cluster, (unsigned)want);
    if (want == 0) {
        const int raw = expected_row_cached(classes, elem, optin);
        if (raw < 0) return;
        EXPECT_EQ(l.row_cached, raw);
        EXPECT_EQ(l.cached, raw); /* logits read once with the raw cache */
        EXPECT_EQ(l.dynamic_smem, raw ? classes * elem : 0u);
        return;
    }
    EXPECT_EQ(l.row_cached, 0);
    EXPECT_EQ(l.cached, 1); /* logits read once */
    EXPECT_EQ(l.dynamic_smem, cache_plane((classes + want - 1) / want) * (cap ? 8 : 4));
    EXPECT_EQ(l.grid % (unsigned)want, 0u); /* whole clusters */
    EXPECT_LE(l.grid, rows * (size_t)want); /* at most one cluster per row */
}

/* Which row kernel ran, and its grid, at the edges of the cache: the
 * longest row whose floats fit the device's opt-in shared memory (less
 * 4 KiB for the kernel's static scratch) is cached, a row of one float
 * more than the whole opt-in limit is not (it takes a cluster of 2 on
 * sm_90+; before, or with clusters switched off, the row kernel, which
 * keeps a bf16 row of that length raw in shared memory, and streams an
 * f32 one, or a bf16 one beyond optin / 2 columns); the soft-cap caches
 * two floats per column. Each against the oracle, in place and not. */
TEST_F(CrossEntropyGpu, PathAndGridAtTheCacheLimit)
{
    int device = 0, optin = 0, sms = 0;
    CUDA_OK(cudaGetDevice(&device));
    CUDA_OK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
    CUDA_OK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    std::mt19937_64 rng(std::random_device{}());
    struct Case {
        size_t classes;
        Opt opt;
        bool cached;
    };
    const size_t fit = ((size_t)optin - 4096) / 4, over = (size_t)optin / 4 + 1, raw_over = (size_t)optin / 2 + 1;
    const Case cases[] = {{1000, {0, 0, 0}, true},          {1000, {0, 0, 30}, true},   {fit, {0, 0, 0}, true},
                          {fit / 2, {0.1f, 1e-4f, 15}, true}, {over, {0, 0, 0}, false}, {fit, {0, 0, 30}, false},
                          {raw_over, {0, 0, 0}, false}};
    const bool clusters = device_has_clusters();
    for (int disable : {0, 1})
    for (actk_dtype dtype : {ACTK_F32, ACTK_BF16})
        for (const Case &k : cases)
            for (bool in_place : {false, true}) {
                actk_internal_softmax_disable_clusters(disable);
                const size_t rows = 3, ld = k.classes;
                const Buffer x = random_logits(dtype, rows * ld, rng, 4.0);
                const std::vector<int64_t> t = {0, (int64_t)k.classes - 1, -100};
                Call c{make(k.opt, ACTK_REDUCTION_MEAN), dtype, rows, k.classes, ld};
                c.in_place = in_place;
                CeOutputs got(dtype, rows * k.classes);
                int flag = -1;
                run(c, x, t, got, &flag);
                actk_internal_softmax_disable_clusters(0);
                if (HasFatalFailure()) return;
                const actk_ce_launch l = actk_internal_last_cross_entropy_launch();
                SCOPED_TRACE(testing::Message() << actk_dtype_name(dtype) << " classes " << k.classes << " cap "
                                                << k.opt.cap << " clusters off " << disable);
                if (k.cached) {
                    EXPECT_EQ(l.cached, 1);
                    EXPECT_EQ(l.row_cached, 0); /* the float-cached kernel, not the row kernel */
                    EXPECT_EQ(l.cluster, 0u);
                    EXPECT_EQ(l.dynamic_smem, cache_plane(k.classes) * 4 * (k.opt.cap > 0 ? 2 : 1));
                    EXPECT_EQ(l.grid, rows); /* fewer rows than the device holds blocks */
                } else {
                    const size_t elem = actk_dtype_size(dtype);
                    expect_long_row_launch(l, k.classes, k.opt.cap > 0, elem, rows, (size_t)optin,
                                           clusters && !disable);
                    if ((disable || !clusters) && dtype == ACTK_BF16 && k.classes == over) {
                        EXPECT_EQ(l.row_cached, 1); /* just over the float limit: the raw bf16 row still fits */
                        EXPECT_EQ(l.dynamic_smem, over * 2);
                    }
                    if ((disable || !clusters) && k.classes == raw_over) {
                        EXPECT_EQ(l.row_cached, 0); /* beyond the raw cache too: streamed */
                        EXPECT_EQ(l.cached, 0);
                    }
                    if (l.cluster == 0) {
                        EXPECT_EQ(l.grid, rows);
                    }
                }
                EXPECT_EQ(flag, 0);
                CeWorst worst;
                ce_check(c.o, dtype, rows, k.classes, x, ld, t, got, true, worst,
                         k.cached ? "cached limit" : l.row_cached ? "raw cached" : "streamed");
            }
    /* more rows than the grid: each block walks several rows (both kernels) */
    for (size_t classes : {(size_t)1000, over}) {
        const size_t rows = classes > 1000 ? 4 * (size_t)sms + 3 : 20000, ld = classes;
        const Buffer x = random_logits(ACTK_F32, rows * ld, rng, 4.0);
        std::vector<int64_t> t(rows);
        for (size_t r = 0; r < rows; ++r) t[r] = (int64_t)(rng() % classes);
        Call c{make(Opt{0.1f, 0, 0}, ACTK_REDUCTION_SUM), ACTK_F32, rows, classes, ld};
        CeOutputs got(ACTK_F32, rows * classes);
        int flag = -1;
        run(c, x, t, got, &flag);
        if (HasFatalFailure()) return;
        const actk_ce_launch l = actk_internal_last_cross_entropy_launch();
        if (classes == 1000) {
            EXPECT_EQ(l.cached, 1);
        } else {
            expect_long_row_launch(l, classes, false, 4, rows, (size_t)optin, clusters);
        }
        EXPECT_GE(l.grid, 1u);
        EXPECT_LT(l.grid, rows);
        EXPECT_LE(l.grid, (unsigned)sms * 4); /* at most 2048 threads per SM: 4 blocks of 512 */
        CeWorst worst;
        ce_check(c.o, ACTK_F32, rows, classes, x, ld, t, got, true, worst, "rows > grid");
    }
}

/* Vocabulary-sized rows (128K, 256K classes): the cluster kernel on sm_90+
 * (its size from the device's shared memory: 3 and 5 blocks on an H100,
 * 5 with the soft-cap at 128K; 256K with the cap needs 10, beyond the
 * portable 8: the streamed kernel), else the streamed kernel; both with
 * clusters switched off. f32 and bf16, with and without the cap, in place
 * and not, a confident row, an ignored row; against the oracle. Then more
 * rows than the grid holds clusters, and the same bits on a second run. */
TEST_F(CrossEntropyGpu, VocabularyRowsClusterPath)
{
    int device = 0, optin = 0, sms = 0;
    CUDA_OK(cudaGetDevice(&device));
    CUDA_OK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
    CUDA_OK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    const bool clusters = device_has_clusters();
    std::mt19937_64 rng(std::random_device{}());
    for (int disable : {0, 1})
        for (size_t classes : {(size_t)131072, (size_t)262144})
            for (actk_dtype dtype : {ACTK_F32, ACTK_BF16})
                for (const Opt &p : {Opt{0, 0, 0}, Opt{0.1f, 1e-4f, 0}, Opt{0, 0, 30}})
                    for (bool in_place : {false, true}) {
                        const size_t rows = 3, ld = classes + 8;
                        Buffer x = random_logits(dtype, rows * ld, rng, 3.0);
                        const std::vector<int64_t> t = {(int64_t)classes - 1, 70000, -100};
                        x.set(ld + 70000, 40.0); /* confident: the loss and the target's gradient cancel */
                        Call c{make(p, ACTK_REDUCTION_MEAN), dtype, rows, classes, ld};
                        c.in_place = in_place;
                        CeOutputs got(dtype, rows * classes);
                        int flag = -1;
                        actk_internal_softmax_disable_clusters(disable);
                        run(c, x, t, got, &flag);
                        actk_internal_softmax_disable_clusters(0);
                        if (HasFatalFailure()) return;
                        const actk_ce_launch l = actk_internal_last_cross_entropy_launch();
                        SCOPED_TRACE(testing::Message()
                                     << actk_dtype_name(dtype) << " classes " << classes << " cap " << p.cap
                                     << " in place " << in_place << " clusters off " << disable);
                        expect_long_row_launch(l, classes, p.cap > 0, actk_dtype_size(dtype), rows, (size_t)optin,
                                               clusters && !disable);
                        EXPECT_EQ(flag, 0);
                        CeWorst worst;
                        ce_check(c.o, dtype, rows, classes, x, ld, t, got, true, worst,
                                 l.cluster ? "cluster vocabulary rows" : "streamed vocabulary rows");
                    }
    /* rows beyond the grid: each cluster walks several rows (its slots and
     * caches reused); run twice: the rank-order merges give the same bits */
    for (actk_dtype dtype : {ACTK_F32, ACTK_BF16}) {
        const size_t classes = 131072, rows = (size_t)sms + 3, ld = classes;
        const Buffer x = random_logits(dtype, rows * ld, rng, 4.0);
        std::vector<int64_t> t(rows);
        for (size_t r = 0; r < rows; ++r) t[r] = r % 11 == 3 ? -100 : (int64_t)(rng() % classes);
        Call c{make(Opt{0.1f, 0, 0}, ACTK_REDUCTION_SUM), dtype, rows, classes, ld};
        CeOutputs a(dtype, rows * classes), b(dtype, rows * classes);
        int flag = -1;
        run(c, x, t, a, &flag);
        if (HasFatalFailure()) return;
        const actk_ce_launch l = actk_internal_last_cross_entropy_launch();
        expect_long_row_launch(l, classes, false, actk_dtype_size(dtype), rows, (size_t)optin, clusters);
        if (l.cluster) {
            EXPECT_LT(l.grid / l.cluster, rows); /* 128K floats need >= 2 blocks: at most sms / 2 clusters */
        }
        run(c, x, t, b, &flag);
        if (HasFatalFailure()) return;
        const actk_ce_launch again = actk_internal_last_cross_entropy_launch(); /* the memoised cluster choice */
        EXPECT_EQ(again.cluster, l.cluster);
        EXPECT_EQ(again.grid, l.grid);
        EXPECT_EQ(again.dynamic_smem, l.dynamic_smem);
        EXPECT_EQ(std::memcmp(&a.reduced, &b.reduced, 4), 0);
        EXPECT_EQ(a.grad.bytes, b.grad.bytes);
        CeWorst worst;
        ce_check(c.o, dtype, rows, classes, x, ld, t, a, true, worst, "vocabulary rows > grid");
    }
}

/* The cluster kernel's special rows (review, issue 16): a 131072-class
 * batch (a cluster per row on sm_90+, else the row kernel) with a good
 * row, a bad target (the flag set, the row NaN), a NaN logit, an all -inf
 * row and an ignored row; reduction NONE, int32 targets; with the
 * gradient, then with grad and lse NULL. f32 and f16. */
TEST_F(CrossEntropyGpu, ClusterRowsSpecialRowsNoGradNoLse)
{
    int device = 0, optin = 0;
    CUDA_OK(cudaGetDevice(&device));
    CUDA_OK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
    const bool clusters = device_has_clusters();
    std::mt19937_64 rng(std::random_device{}());
    const size_t rows = 5, classes = 131072, ld = classes;
    const size_t bad = 1; /* the row with the out-of-range target */
    for (actk_dtype dtype : {ACTK_F32, ACTK_F16})
        for (const Opt &p : {Opt{0, 0, 0}, Opt{0.1f, 1e-4f, 0}, Opt{0, 0, 30}})
            for (bool with_grad : {true, false}) {
                Buffer x = random_logits(dtype, rows * ld, rng, 3.0);
                x.set(2 * ld + 100000, NAN); /* row 2: one NaN logit, in a later block's chunk */
                for (size_t j = 0; j < classes; ++j) x.set(3 * ld + j, -INFINITY); /* row 3: all -inf */
                const std::vector<int64_t> used = {70000, (int64_t)classes, 5, 0, -100};
                Call c{make(p, ACTK_REDUCTION_NONE), dtype, rows, classes, ld};
                c.index = ACTK_INDEX_I32;
                c.with_grad = with_grad;
                c.with_lse = with_grad; /* the second run: neither grad nor lse */
                CeOutputs got(dtype, rows * classes);
                int flag = -1;
                run(c, x, used, got, &flag);
                if (HasFatalFailure()) return;
                const actk_ce_launch l = actk_internal_last_cross_entropy_launch();
                SCOPED_TRACE(testing::Message() << actk_dtype_name(dtype) << " cap " << p.cap << " grad " << with_grad);
                expect_long_row_launch(l, classes, p.cap > 0, actk_dtype_size(dtype), rows, (size_t)optin, clusters);
                EXPECT_EQ(flag, 1);
                EXPECT_TRUE(std::isnan(got.row_loss[bad]));
                if (with_grad) {
                    for (size_t j = 0; j < classes; ++j) {
                        const bool nan = std::isnan((double)got.grad.get(bad * classes + j));
                        EXPECT_TRUE(nan) << "column " << j;
                        if (!nan) break;
                    }
                }
                /* the other rows as the oracle says (it sees the bad row ignored) */
                std::vector<int64_t> good = used;
                good[bad] = -100;
                CeOutputs kept(dtype, rows * classes);
                kept.row_loss = got.row_loss;
                kept.row_loss[bad] = 0;
                kept.lse = got.lse;
                if (with_grad) {
                    for (size_t i = 0; i < rows * classes; ++i) kept.grad.set(i, got.grad.get(i));
                    for (size_t j = 0; j < classes; ++j) kept.grad.set(bad * classes + j, 0);
                }
                CeWorst worst;
                ce_check(c.o, dtype, rows, classes, x, ld, good, kept, with_grad, worst,
                         l.cluster ? "cluster special rows" : "row kernel special rows");
            }
}

/* Many rows of 1000 classes with no options and with the soft-cap: the
 * cached kernel runs several rows per block on its plain-gradient path
 * (ce_grad_cached_is_plain) and, with the cap, overwrites its dz/dx cache
 * row after row; a few ignored rows switch a block to the other path and
 * back. Against the oracle, the path and grid from the hook. */
TEST_F(CrossEntropyGpu, CachedKernelPlainPathAcrossRows)
{
    std::mt19937_64 rng(std::random_device{}());
    const size_t rows = 8000, classes = 1000, ld = classes;
    for (actk_dtype dtype : {ACTK_F32, ACTK_BF16})
        for (float cap : {0.0f, 30.0f}) {
            const Buffer x = random_logits(dtype, rows * ld, rng, 4.0);
            std::vector<int64_t> t(rows);
            for (size_t r = 0; r < rows; ++r) t[r] = r % 211 == 17 ? -100 : (int64_t)(rng() % classes);
            actk_cross_entropy_options o = actk_cross_entropy_default();
            o.softcap = cap;
            o.reduction = ACTK_REDUCTION_NONE;
            Call c{o, dtype, rows, classes, ld};
            CeOutputs got(dtype, rows * classes);
            int flag = -1;
            run(c, x, t, got, &flag);
            if (HasFatalFailure()) return;
            const actk_ce_launch l = actk_internal_last_cross_entropy_launch();
            SCOPED_TRACE(testing::Message() << actk_dtype_name(dtype) << " cap " << cap);
            EXPECT_EQ(l.cached, 1);
            EXPECT_EQ(l.row_cached, 0);
            EXPECT_EQ(l.cluster, 0u);
            EXPECT_EQ(l.dynamic_smem, classes * 4 * (cap > 0 ? 2 : 1));
            EXPECT_EQ(l.packed, 1); /* 1000 columns: whole packs, dense rows */
            EXPECT_EQ(l.prefetch, 1); /* every block has a next row; the grid's rows take far less than L2 */
            EXPECT_LT(l.grid, rows); /* several rows per block */
            EXPECT_EQ(flag, 0);
            CeWorst worst;
            ce_check(c.o, dtype, rows, classes, x, ld, t, got, true, worst, cap > 0 ? "plain path, cap" : "plain path");
        }
}

/* A 256K-class row whose target lies in the first block's chunk (rank 0 of
 * the cluster on sm_90+: the other ranks have no target column), next to
 * one whose target is the row's last column. */
TEST_F(CrossEntropyGpu, VocabularyRowTargetInRankZero)
{
    int device = 0, optin = 0;
    CUDA_OK(cudaGetDevice(&device));
    CUDA_OK(cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
    const bool clusters = device_has_clusters();
    std::mt19937_64 rng(std::random_device{}());
    const size_t rows = 3, classes = 262144, ld = classes;
    for (actk_dtype dtype : {ACTK_F32, ACTK_BF16})
        for (const Opt &p : {Opt{0, 0, 0}, Opt{0.1f, 1e-4f, 0}}) {
            Buffer x = random_logits(dtype, rows * ld, rng, 3.0);
            const std::vector<int64_t> t = {0, 1000, (int64_t)classes - 1};
            x.set(ld + 1000, 30.0); /* confident in rank 0's chunk */
            Call c{make(p, ACTK_REDUCTION_SUM), dtype, rows, classes, ld};
            CeOutputs got(dtype, rows * classes);
            int flag = -1;
            run(c, x, t, got, &flag);
            if (HasFatalFailure()) return;
            const actk_ce_launch l = actk_internal_last_cross_entropy_launch();
            SCOPED_TRACE(testing::Message() << actk_dtype_name(dtype) << " eps " << p.eps);
            expect_long_row_launch(l, classes, false, actk_dtype_size(dtype), rows, (size_t)optin, clusters);
            if (l.cluster) {
                EXPECT_GT(l.dynamic_smem / 4, 1000u); /* the chunk (floats) holds columns 0 and 1000 */
            }
            EXPECT_EQ(flag, 0);
            CeWorst worst;
            ce_check(c.o, dtype, rows, classes, x, ld, t, got, true, worst, "target in rank 0");
        }
}

/* The cached and cluster kernels read and write whole packs of 4 columns
 * only where the logits and the gradient start aligned and their strides
 * are whole packs; otherwise column by column. Both layouts, with a tail of
 * 3 columns, in place and not, every dtype, against the oracle, with the
 * path the hook records: a stride of 1004 (packs), 1003 (columns), one row
 * of stride 1003 (packs: one row needs no stride), a gradient stride of
 * 1005 (columns), the logits or the gradient (or both) one or two elements
 * past an aligned address (columns), no gradient (packs: the logits alone
 * decide), rows of 3 and 2 columns (a tail only), several rows per block;
 * and 128K-class rows (a cluster on sm_90+) of stride 131072 (packs),
 * 131075 in 131076 (packs, a tail in the last block), 131073 or one element
 * off (columns, f32 also with the cap). */
TEST_F(CrossEntropyGpu, PackedAndColumnLayouts)
{
    int device = 0, sms = 0;
    CUDA_OK(cudaGetDevice(&device));
    CUDA_OK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    const size_t many = 4 * (size_t)sms + 3; /* several rows per block of the persistent grid */
    std::mt19937_64 rng(std::random_device{}());
    struct Layout {
        size_t rows, classes, ld, ldgrad;
        bool in_place, with_grad;
        size_t x_offset, g_offset;
        int packed;
    };
    const Layout layouts[] = {
        {many, 1003, 1004, 1004, false, true, 0, 0, 1}, {many, 1003, 1003, 1003, false, true, 0, 0, 0},
        {many, 1003, 1004, 1004, true, true, 0, 0, 1},  {many, 1003, 1003, 1003, true, true, 0, 0, 0},
        {1, 1003, 1003, 1003, false, true, 0, 0, 1},    {64, 1003, 1004, 1005, false, true, 0, 0, 0},
        {64, 1003, 1004, 1004, true, true, 1, 1, 0},    {64, 1003, 1004, 1004, false, true, 2, 2, 0},
        {64, 1003, 1004, 1004, false, true, 0, 1, 0},   {64, 1003, 1004, 1004, false, true, 1, 0, 0},
        {64, 1003, 1004, 1004, false, false, 0, 0, 1},  {64, 3, 4, 4, false, true, 0, 0, 1},
        {1, 2, 2, 2, true, true, 0, 0, 1},              {2, 131072, 131072, 131072, true, true, 0, 0, 1},
        {2, 131075, 131076, 131076, true, true, 0, 0, 1}, {2, 131072, 131073, 131073, true, true, 0, 0, 0},
        {2, 131072, 131072, 131072, false, true, 1, 1, 0}};
    for (actk_dtype dtype : {ACTK_F32, ACTK_F16, ACTK_BF16})
        for (const Layout &k : layouts)
            for (const Opt &p : {Opt{0, 0, 0}, Opt{0.1f, 1e-4f, 15}}) {
                /* long rows: every dtype without the cap where packed; with the cap f32 only */
                if (k.classes > 100000 && (k.packed ? dtype == ACTK_F16 || p.cap > 0 : dtype != ACTK_F32)) continue;
                const Buffer x = random_logits(dtype, (k.rows - 1) * k.ld + k.classes, rng, 4.0);
                std::vector<int64_t> t(k.rows);
                for (size_t r = 0; r < k.rows; ++r) t[r] = (int64_t)(rng() % k.classes);
                t[0] = (int64_t)k.classes - 1; /* a target in the tail (the last cluster block's, for long rows) */
                Call c{make(p, ACTK_REDUCTION_MEAN), dtype, k.rows, k.classes, k.ld};
                c.in_place = k.in_place;
                c.with_grad = k.with_grad;
                c.ldgrad = k.ldgrad;
                c.offset = k.x_offset;
                c.grad_offset = k.g_offset;
                CeOutputs got(dtype, k.rows * k.classes);
                int flag = -1;
                run(c, x, t, got, &flag);
                if (HasFatalFailure()) return;
                const actk_ce_launch l = actk_internal_last_cross_entropy_launch();
                SCOPED_TRACE(testing::Message() << actk_dtype_name(dtype) << " rows " << k.rows << " classes "
                                                << k.classes << " ld " << k.ld << " ldgrad " << k.ldgrad
                                                << (k.in_place ? " in place" : "") << (k.with_grad ? "" : " no grad")
                                                << " offsets " << k.x_offset << "/" << k.g_offset << " cap " << p.cap);
                if (l.cached && !l.row_cached) {
                    EXPECT_EQ(l.packed, k.packed);
                    if (k.rows == 1) {
                        EXPECT_EQ(l.prefetch, 0); /* no block has a next row */
                    }
                }
                EXPECT_EQ(flag, 0);
                CeWorst worst;
                ce_check(c.o, dtype, k.rows, k.classes, x, k.ld, t, got, k.with_grad, worst, "packed or column layout");
            }
}

/* A gradient per row (options.row_grad, reduction NONE) on every path
 * (cached, cluster or streamed by row length), in place and not: scales 0,
 * negative, tiny, beyond 2^64 (the pair path), NaN (that row NaN), an
 * ignored row; against the oracle given the same scales. */
TEST_F(CrossEntropyGpu, RowGradEveryPath)
{
    std::mt19937_64 rng(std::random_device{}());
    for (size_t classes : {1000, 1003, 131072})
        for (actk_dtype dtype : {ACTK_F32, ACTK_BF16})
            for (bool in_place : {false, true}) {
                const size_t rows = 8, ld = classes;
                const Buffer x = random_logits(dtype, rows * ld, rng, 3.0);
                std::vector<int64_t> t(rows);
                for (size_t r = 0; r < rows; ++r) t[r] = (int64_t)(rng() % classes);
                t[6] = -100;
                const std::vector<float> row_grad = {1.0f, -2.5f, 0.0f, 3e-20f, 0x1p70f, 1e-3f, 7.0f, NAN};
                Call c{make(Opt{0.1f, 1e-4f, 0}, ACTK_REDUCTION_NONE), dtype, rows, classes, ld};
                c.o.row_grad = row_grad.data();
                c.in_place = in_place;
                CeOutputs got(dtype, rows * classes);
                int flag = -1;
                run(c, x, t, got, &flag);
                if (HasFatalFailure()) return;
                SCOPED_TRACE(testing::Message() << actk_dtype_name(dtype) << " classes " << classes
                                                << (in_place ? " in place" : ""));
                EXPECT_EQ(flag, 0);
                CeWorst worst;
                ce_check(c.o, dtype, rows, classes, x, ld, t, got, true, worst, "row_grad");
                for (size_t j = 0; j < classes; ++j) EXPECT_TRUE(std::isnan((double)got.grad.get(7 * classes + j)));
            }
}

} // namespace
