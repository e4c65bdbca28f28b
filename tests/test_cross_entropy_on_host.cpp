// SPDX-License-Identifier: MIT
/*
 * test_cross_entropy_on_host.cpp - the cross-entropy kernels' math
 * (kernels/cross_entropy_math.cuh) replayed on the host in the kernels'
 * own orders, for both row kernels: the cached kernel (pass 1 the max and
 * the logits' sum, pass 2 e^(z - max) once per column, summed and kept,
 * pass 3 the gradient from e) and the streamed row kernel (online
 * (max, rest), the gradient from a second exponential; its raw-row cache,
 * where the row fits shared memory, holds the same S values it would
 * re-read, so caching changes neither the values nor the order replayed
 * here). Both use a block of 512 threads per row (thread k takes columns
 * k, k + 512, ...; per-warp butterflies, then warp 0 merges the warps'
 * results), thread 0's target logit, and the batch's fixed-order sum (256
 * strided partial sums, then a halving tree). Replays with a plain float sum or a rounded z - max in
 * place of the kernel's are shown to fail the bounds.
 * Every output is compared with the long double oracle
 * (actk_cpu_cross_entropy_forward_backward) on random rows, every option
 * alone and combined, every dtype, special rows and a 256K-class row.
 * Runs without a GPU.
 *
 * Bounds (README "Cross-entropy"): lse within 4 ULP (f32); the loss within
 * 4 ULP or, where it cancels, 4 eps (2^-24) times (|lse| + 1) absolutely;
 * the gradient within 4 ULP (f32) / 1 ULP (f16, bf16) or 4 eps of the
 * terms' magnitude g (coeff p + 1) where p - target cancels. With the
 * soft-cap the capped logit itself is rounded to float (error eps |z|), so
 * the loss and lse bound is 8 eps (|z_max| + |lse| + 1) absolutely.
 */
#include "actk/actk.h"
#include "cross_entropy_math.cuh"
#include "cross_entropy_check.h"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>

using namespace actk_test;
using namespace actk;

namespace {

CeAcc butterfly(std::vector<CeAcc> lanes)
{
    for (int offset = 16; offset > 0; offset /= 2) {
        std::vector<CeAcc> next(32);
        for (int l = 0; l < 32; ++l) next[l] = ce_acc_merge(lanes[l], lanes[l ^ offset]);
        lanes = next;
    }
    return lanes[0];
}

/* The row kernel's block merge, as the device runs it. */
CeAcc block_reduce(const std::vector<float> &z, bool smoothing)
{
    std::vector<CeAcc> per_thread(kCeThreads, ce_acc_empty());
    for (size_t k = 0; k < z.size(); ++k) ce_acc_add(per_thread[k % kCeThreads], z[k], smoothing);
    std::vector<CeAcc> warps;
    for (int w = 0; w < kCeThreads / 32; ++w)
        warps.push_back(butterfly(std::vector<CeAcc>(per_thread.begin() + 32 * w, per_thread.begin() + 32 * w + 32)));
    warps.resize(32, ce_acc_empty());
    return butterfly(warps);
}

/* The two row kernels, and replays of the cached kernel with a cheaper
 * step that must fail the bounds (the test of the test). */
enum class Path { kStreamed, kCached, kCachedPlainSum, kCachedRoundedArgument, kCluster };

const char *path_name(Path path)
{
    return path == Path::kCached ? "cached" : path == Path::kCluster ? "cluster" : "streamed";
}

template <class V, class Merge> V butterfly_of(std::vector<V> lanes, Merge merge)
{
    for (int offset = 16; offset > 0; offset /= 2) {
        std::vector<V> next(lanes);
        for (int l = 0; l < 32; ++l) next[l] = merge(lanes[l], lanes[l ^ offset]);
        lanes = next;
    }
    return lanes[0];
}

/* Per-warp butterflies, then warp 0 over the warps' results (the unused
 * lanes of warp 0 hold `empty`), as block_max and block_sum run them. */
template <class V, class Merge> V block_of(const std::vector<V> &per_thread, V empty, Merge merge)
{
    std::vector<V> warps;
    for (int w = 0; w < kCeThreads / 32; ++w)
        warps.push_back(
            butterfly_of(std::vector<V>(per_thread.begin() + 32 * w, per_thread.begin() + 32 * w + 32), merge));
    warps.resize(32, empty);
    return butterfly_of(warps, merge);
}

/* The cached kernel's passes 1 and 2 for one row: the merged statistics,
 * and e per column in `e` (z left in place when the max is not finite).
 * packed: the kernel's column ownership with packs (aligned rows) or
 * column by column (ce_column_owner); each thread in ascending order. */
CeAcc cached_stats(const std::vector<float> &z, bool smoothing, Path path, bool packed, std::vector<float> &e)
{
    std::vector<float> max(kCeThreads, -INFINITY);
    std::vector<CeExpSum> sums(kCeThreads, ce_exp_sum_empty());
    const size_t n = z.size();
    for (size_t k = 0; k < n; ++k) {
        const unsigned owner = ce_column_owner(k, n, packed);
        ce_max_add(max[owner], sums[owner].sum_z, z[k], smoothing);
    }
    const float m = block_of(max, -INFINITY, [](float a, float b) { return nan_max(a, b); });
    e = z;
    if (m > -INFINITY && m < INFINITY)
        for (size_t k = 0; k < n; ++k) {
            CeExpSum &s = sums[ce_column_owner(k, n, packed)];
            if (path == Path::kCached) {
                e[k] = ce_exp_add(s, z[k], m);
            } else if (path == Path::kCachedPlainSum) { /* the rest summed in plain float */
                CeExpSum t = s;
                e[k] = ce_exp_add(t, z[k], m);
                s.rest.hi += z[k] == m ? 0.0f : e[k];
                s.ties = t.ties;
            } else { /* z - max rounded to float before the exponential */
                e[k] = ce_exp_add(s, z[k] - m, 0.0f);
            }
        }
    return ce_acc_from_exp_sum(m, block_of(sums, ce_exp_sum_empty(), ce_exp_sum_merge));
}

/* The cluster kernel's passes 1 and 2 for one row: block b of `cluster`
 * takes the chunk [b chunk, (b + 1) chunk) (ce_cluster_chunk; its threads
 * own the chunk's columns as the cached kernel's, ce_column_owner) and
 * merges as the cached kernel's block; then the blocks' maxima, and later
 * their sums, folded in rank order starting from the empty value, as every
 * thread of the cluster does. */
CeAcc cluster_stats(const std::vector<float> &z, bool smoothing, size_t cluster, bool packed, std::vector<float> &e)
{
    const size_t chunk = ce_cluster_chunk(z.size(), cluster);
    std::vector<std::vector<float>> max(cluster, std::vector<float>(kCeThreads, -INFINITY));
    std::vector<std::vector<CeExpSum>> sums(cluster, std::vector<CeExpSum>(kCeThreads, ce_exp_sum_empty()));
    /* the owner of column k: its block and that block's thread */
    auto owner = [&](size_t k) {
        const size_t b = k / chunk, begin = b * chunk;
        const size_t n = std::min(chunk, z.size() - begin);
        return std::make_pair(b, (size_t)ce_column_owner(k - begin, n, packed));
    };
    for (size_t k = 0; k < z.size(); ++k) {
        const auto [b, thread] = owner(k);
        ce_max_add(max[b][thread], sums[b][thread].sum_z, z[k], smoothing);
    }
    float m = -INFINITY;
    for (size_t b = 0; b < cluster; ++b)
        m = nan_max(m, block_of(max[b], -INFINITY, [](float a, float c) { return nan_max(a, c); }));
    e = z;
    if (m > -INFINITY && m < INFINITY)
        for (size_t k = 0; k < z.size(); ++k) {
            const auto [b, thread] = owner(k);
            e[k] = ce_exp_add(sums[b][thread], z[k], m);
        }
    CeExpSum total = ce_exp_sum_empty();
    for (size_t b = 0; b < cluster; ++b)
        total = ce_exp_sum_merge(total, block_of(sums[b], ce_exp_sum_empty(), ce_exp_sum_merge));
    return ce_acc_from_exp_sum(m, total);
}

/* What the kernels write for this call (grad: rows x classes, dense).
 * cluster: blocks per row of the cluster kernel (Path::kCluster); packed:
 * the cached and cluster kernels' column ownership (aligned rows). */
CeOutputs replay(actk_cross_entropy_options o, actk_dtype dtype, size_t rows, size_t classes, const Buffer &x,
                 size_t ld, const std::vector<int64_t> &t, Path path = Path::kStreamed, size_t cluster = 3,
                 bool packed = true)
{
    const CeConfig c = {o.label_smoothing, o.z_loss,
                        o.softcap,         o.grad_scale,
                        o.ignore_index,    (unsigned long long)classes,
                        o.reduction == ACTK_REDUCTION_MEAN, o.row_grad};
    unsigned long long count = 0;
    for (int64_t v : t) count += v != o.ignore_index;
    const float scale = ce_grad_scale(c, c.mean ? count : 0);
    CeOutputs out(dtype, rows * classes);
    for (size_t r = 0; r < rows; ++r) {
        std::vector<float> xs(classes), z(classes), e;
        for (size_t j = 0; j < classes; ++j) {
            xs[j] = (float)x.get(r * ld + j);
            z[j] = ce_logit(xs[j], c.cap).z;
        }
        const long long target = t[r];
        const int state = target == o.ignore_index ? 1 : (target < 0 || (unsigned long long)target >= classes) ? 2 : 0;
        const float z_t = state == 0 ? z[(size_t)target] : 0.0f;
        const bool smoothing = c.eps > 0.0f;
        const CeAcc acc = path == Path::kStreamed  ? block_reduce(z, smoothing)
                          : path == Path::kCluster ? cluster_stats(z, smoothing, cluster, packed, e)
                                                   : cached_stats(z, smoothing, path, packed, e);
        const CeRow row = ce_row(acc, z_t, state, c, ce_row_scale(c, scale, r));
        out.row_loss.push_back(row.loss);
        out.lse.push_back(row.lse.hi + row.lse.lo);
        for (size_t j = 0; j < classes; ++j) {
            const CeLogit l = ce_logit(xs[j], c.cap);
            const bool is_target = state == 0 && (long long)j == target;
            out.grad.set(r * classes + j, path == Path::kStreamed ? ce_grad(l, is_target, row)
                                                                  : ce_grad_cached(e[j], z_t, l.dzdx, is_target, row));
        }
    }
    /* the reduce kernel's order */
    std::vector<Compensated<float>> partial(kCeReduceThreads);
    for (int k = 0; k < kCeReduceThreads; ++k) partial[k] = ce_partial_sum(out.row_loss.data(), rows, k);
    for (int half = kCeReduceThreads / 2; half > 0; half /= 2)
        for (int k = 0; k < half; ++k) partial[k] = ce_tree_step(partial[k], partial[k + half]);
    out.reduced = ce_finish(partial[0], c.mean, c.mean ? count : 0);
    return out;
}

/* The replayed outputs against the oracle (cross_entropy_check.h), and the
 * reduction's order against the exact sum of the same rounded row losses. */
void compare(actk_cross_entropy_options o, actk_dtype dtype, size_t rows, size_t classes, const Buffer &x, size_t ld,
             const std::vector<int64_t> &t, CeWorst &worst, const char *what, Path path, size_t cluster = 3,
             bool packed = true)
{
    const CeOutputs got = replay(o, dtype, rows, classes, x, ld, t, path, cluster, packed);
    if (!ce_check(o, dtype, rows, classes, x, ld, t, got, true, worst, what)) return;
    if (o.reduction == ACTK_REDUCTION_NONE) return;
    unsigned long long count = 0;
    for (int64_t v : t) count += v != o.ignore_index;
    long double exact = 0;
    for (float v : got.row_loss) exact += v;
    if (o.reduction == ACTK_REDUCTION_MEAN) exact = count ? exact / count : (long double)NAN;
    EXPECT_TRUE(ce_same_special(got.reduced, exact));
    if (std::isfinite(exact)) {
        EXPECT_LE(ulp_distance(ACTK_F32, got.reduced, exact), 1) << got.reduced << " vs " << (double)exact;
    }
}

struct Options {
    float eps, z_loss, cap;
};
const Options kOptions[] = {{0, 0, 0},    {0.1f, 0, 0}, {1, 0, 0},   {0, 1e-4f, 0},
                            {0, 0, 30},   {0, 0, 2},    {0.1f, 1e-4f, 15}};

actk_cross_entropy_options make(Options p, actk_reduction reduction)
{
    actk_cross_entropy_options o = actk_cross_entropy_default();
    o.label_smoothing = p.eps;
    o.z_loss = p.z_loss;
    o.softcap = p.cap;
    o.reduction = reduction;
    return o;
}

TEST(CrossEntropyOnHost, RandomRowsEveryOptionAndDtype)
{
    /* the cached and cluster kernels with both column ownerships: packs
     * (aligned rows; 31, 513 and 4099 columns leave a tail) and single columns */
    for (Path path : {Path::kCached, Path::kStreamed, Path::kCluster})
    for (bool packed : {true, false}) {
        if (path == Path::kStreamed && !packed) continue;
        std::mt19937_64 rng(1616);
        for (actk_dtype dtype : {ACTK_F32, ACTK_F16, ACTK_BF16})
            for (const Options &p : kOptions) {
                CeWorst worst;
                for (size_t classes : {1, 2, 31, 513, 4099}) {
                    for (double spread : {0.5, 4.0, 30.0}) {
                        const size_t rows = 4, ld = classes + 5;
                        Buffer x(dtype, rows * ld);
                        std::normal_distribution<double> normal(0.0, spread);
                        for (size_t i = 0; i < rows * ld; ++i) x.set(i, normal(rng));
                        std::vector<int64_t> t(rows);
                        for (size_t r = 0; r < rows; ++r) t[r] = (int64_t)(rng() % classes);
                        t[1] = -100; /* one ignored row */
                        /* a confident row: its target far above the rest (the loss cancels) */
                        x.set(2 * ld + (size_t)t[2], 12.0 * spread);
                        for (actk_reduction red : {ACTK_REDUCTION_NONE, ACTK_REDUCTION_SUM, ACTK_REDUCTION_MEAN}) {
                            compare(make(p, red), dtype, rows, classes, x, ld, t, worst, "random", path, 3, packed);
                            if (HasFatalFailure() || HasFailure()) return;
                        }
                    }
                }
                char name[96];
                std::snprintf(name, sizeof name, "%s%s %s eps %g z %g cap %g", path_name(path),
                              path == Path::kStreamed ? "" : packed ? " packed" : " unpacked", actk_dtype_name(dtype),
                              p.eps, p.z_loss, p.cap);
                worst.print(name);
            }
    }
}

TEST(CrossEntropyOnHost, SpecialRows)
{
    const float inf = INFINITY;
    const std::vector<std::vector<float>> rows_in = {
        {1, inf, 2}, {1, NAN, 2}, {-inf, -inf, -inf}, {-inf, 1, 2}, {1e30f, -1e30f, 0}, {-1e30f, 1e30f, 0},
        {3e38f, 3e38f, 3e38f}, {-3e38f, 0, 1}, {0, 0, 0}, {5, 5, -inf}};
    for (Path path : {Path::kCached, Path::kStreamed, Path::kCluster}) {
        CeWorst worst;
        for (const Options &p : kOptions) {
            const size_t classes = 3, rows = rows_in.size();
            Buffer x(ACTK_F32, rows * classes);
            for (size_t r = 0; r < rows; ++r)
                for (size_t j = 0; j < classes; ++j) x.set(r * classes + j, rows_in[r][j]);
            std::vector<int64_t> t(rows, 0);
            compare(make(p, ACTK_REDUCTION_NONE), ACTK_F32, rows, classes, x, classes, t, worst, "special", path);
            if (HasFailure()) return;
        }
        worst.print(path == Path::kCached    ? "cached special rows f32"
                    : path == Path::kCluster ? "cluster (3 blocks, one column each) special rows f32"
                                             : "streamed special rows f32");
    }
}

TEST(CrossEntropyOnHost, LongRow256K)
{
    const size_t classes = 262144, rows = 2;
    std::mt19937_64 rng(7);
    for (Path path : {Path::kCached, Path::kStreamed}) {
        CeWorst worst;
        for (actk_dtype dtype : {ACTK_F32, ACTK_BF16}) {
            Buffer x(dtype, rows * classes);
            std::normal_distribution<double> normal(0.0, 3.0);
            for (size_t i = 0; i < rows * classes; ++i) x.set(i, normal(rng));
            const std::vector<int64_t> t = {12345, 262143};
            for (Options p : {Options{0.1f, 1e-4f, 0}, Options{0, 0, 0}})
                compare(make(p, ACTK_REDUCTION_MEAN), dtype, rows, classes, x, classes, t, worst, "256K", path);
        }
        worst.print(path == Path::kCached ? "cached 256K classes" : "streamed 256K classes");
    }
}

/* The cluster kernel's order on 256K-class rows (the rows it serves: 5
 * blocks of 52429 columns on an H100, f32 and bf16 alike since the cache
 * holds floats; 2 to 8 blocks depending on the device's shared memory),
 * every option, f32 and bf16, for 2, 5 and 8 blocks per row. */
TEST(CrossEntropyOnHost, ClusterRows256KEveryOption)
{
    const size_t classes = 262144, rows = 2;
    std::mt19937_64 rng(256);
    for (actk_dtype dtype : {ACTK_F32, ACTK_BF16}) {
        Buffer x(dtype, rows * classes);
        std::normal_distribution<double> normal(0.0, 3.0);
        for (size_t i = 0; i < rows * classes; ++i) x.set(i, normal(rng));
        const std::vector<int64_t> t = {200000, 5};
        x.set(classes + 5, 40.0); /* a confident row: the loss and the target's gradient cancel */
        for (size_t cluster : {2, 5, 8}) {
            CeWorst worst;
            const size_t n_options = sizeof kOptions / sizeof kOptions[0];
            for (size_t k = 0; k < n_options; ++k) {
                /* every option at 5 blocks; the first and the last (all combined)
                 * at 2 and 8, which keeps the test within a minute under ASan */
                if (cluster != 5 && k != 0 && k + 1 != n_options) continue;
                const Options &p = kOptions[k];
                compare(make(p, ACTK_REDUCTION_MEAN), dtype, rows, classes, x, classes, t, worst, "cluster 256K",
                        Path::kCluster, cluster);
                if (HasFailure()) return;
            }
            char name[64];
            std::snprintf(name, sizeof name, "cluster of %zu, 256K %s, every option", cluster, actk_dtype_name(dtype));
            worst.print(name);
        }
    }
}

/* The test of the test: the cached kernel with a plain float sum of the
 * exponentials, or with z - max rounded before the exponential, is worse
 * than 4 ULP on the gradient's columns away from the target (where nothing
 * cancels and the gradient is g p), while the kernel's own order stays
 * within 4 ULP there. ce_check's absolute bound (meant for p - 1) would
 * hide these errors, so the columns are compared in ULPs here. Rows of
 * 256K classes (512 columns per thread): a wide one (logits near 0 in a
 * row whose max is near 16: z - max rounds) and a flat one (terms of
 * similar size: the plain sum's error grows with their count). */
long double worst_plain_grad_ulp(Path path, const Buffer &x, size_t rows, size_t classes, const std::vector<int64_t> &t)
{
    actk_cross_entropy_options o = make(Options{0, 0, 0}, ACTK_REDUCTION_NONE);
    const CeOutputs got = replay(o, ACTK_F32, rows, classes, x, classes, t, path);
    std::vector<float> loss(rows);
    Buffer want(ACTK_F32, rows * classes);
    EXPECT_EQ(actk_cpu_cross_entropy_forward_backward(o, ACTK_F32, rows, classes, x.data(), classes, ACTK_INDEX_I64,
                                                      t.data(), loss.data(), nullptr, want.data(), classes),
              ACTK_SUCCESS);
    long double worst = 0;
    for (size_t r = 0; r < rows; ++r)
        for (size_t j = 0; j < classes; ++j) {
            const long double w = want.get(r * classes + j);
            if ((long long)j == t[r] || std::fabs(w) < 0x1p-126L) continue; /* the target; subnormal results */
            worst = std::max(worst, ulp_distance(ACTK_F32, got.grad.get(r * classes + j), w));
        }
    return worst;
}

TEST(CrossEntropyOnHost, CheaperOrdersFail)
{
    std::mt19937_64 rng(33);
    const size_t classes = 262144, rows = 2;
    Buffer x(ACTK_F32, rows * classes);
    std::normal_distribution<double> wide(0.0, 4.0), flat(0.0, 0.05);
    for (size_t i = 0; i < classes; ++i) x.set(i, wide(rng));
    for (size_t i = classes; i < rows * classes; ++i) x.set(i, flat(rng));
    const std::vector<int64_t> t = {17, 200000};
    const long double kernel = worst_plain_grad_ulp(Path::kCached, x, rows, classes, t);
    const long double plain_sum = worst_plain_grad_ulp(Path::kCachedPlainSum, x, rows, classes, t);
    const long double rounded = worst_plain_grad_ulp(Path::kCachedRoundedArgument, x, rows, classes, t);
    const long double streamed = worst_plain_grad_ulp(Path::kStreamed, x, rows, classes, t);
    const long double cluster = worst_plain_grad_ulp(Path::kCluster, x, rows, classes, t);
    EXPECT_LE(kernel, 4);
    EXPECT_LE(cluster, 4);
    EXPECT_LE(streamed, 4);
    EXPECT_GT(plain_sum, 4);
    EXPECT_GT(rounded, 4);
    std::printf(
        "gradient away from the target, worst ulp: cached %.0Lf, cluster of 3 %.0Lf, streamed %.0Lf, cached with a "
        "plain sum %.0Lf, with z - max rounded %.0Lf\n",
        kernel, cluster, streamed, plain_sum, rounded);
}

/* The cached kernel's exponential on its own: e' = 2^48 e^(z - max)
 * within 1 ulp of long double from z - max = 0 to -120 (maxes from -50 to
 * 50 so that z - max is often inexact in float), exactly 2^48 at the max,
 * 0 for -inf and below -120. */
TEST(CrossEntropyOnHost, CachedExponentialAgainstLongDouble)
{
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<double> below(-120, 0), at(-50, 50);
    long double worst = 0;
    for (int i = 0; i < 2000000; ++i) {
        const float max = (float)at(rng), z = (float)(max + below(rng));
        if (z > max || (long double)z - max < -120) continue;
        const float e = ce_exp_below_max(z, max);
        const long double want = std::exp((long double)z - (long double)max) * 0x1p48L;
        const long double ulp = ulp_distance(ACTK_F32, e, want);
        EXPECT_LE(ulp, 1) << "z " << z << " max " << max << ": " << e << " vs " << (double)want;
        if (ulp > 1) return;
        worst = std::max(worst, ulp);
    }
    EXPECT_EQ(ce_exp_below_max(3.5f, 3.5f), 0x1p48f);
    EXPECT_EQ(ce_exp_below_max(-1e30f, 1e30f), 0.0f);
    EXPECT_EQ(ce_exp_below_max(-INFINITY, 2.0f), 0.0f);
    EXPECT_EQ(ce_exp_below_max(-121.0f, 0.0f), 0.0f);
    std::printf("cached kernel's 2^48 e^(z - max): within %.0Lf ulp of long double\n", worst);
}

TEST(CrossEntropyOnHost, AllIgnoredAndBadTargets)
{
    for (Path path : {Path::kCached, Path::kStreamed}) {
        const size_t classes = 4, rows = 3;
        Buffer x(ACTK_F32, rows * classes);
        for (size_t i = 0; i < rows * classes; ++i) x.set(i, (long double)i * 0.25L);
        const std::vector<int64_t> ignored = {-100, -100, -100};
        actk_cross_entropy_options o = make(Options{0.1f, 0, 0}, ACTK_REDUCTION_MEAN);
        CeOutputs all = replay(o, ACTK_F32, rows, classes, x, classes, ignored, path);
        EXPECT_TRUE(std::isnan(all.reduced));
        for (size_t i = 0; i < rows * classes; ++i) EXPECT_EQ(all.grad.get(i), 0.0L);
        o.reduction = ACTK_REDUCTION_SUM;
        EXPECT_EQ(replay(o, ACTK_F32, rows, classes, x, classes, ignored, path).reduced, 0.0f);
        /* a bad target: that row's loss and gradient NaN, the others as usual */
        const std::vector<int64_t> bad = {1, 4, -5};
        o.reduction = ACTK_REDUCTION_NONE;
        CeOutputs b = replay(o, ACTK_F32, rows, classes, x, classes, bad, path);
        EXPECT_FALSE(std::isnan(b.row_loss[0]));
        EXPECT_TRUE(std::isnan(b.row_loss[1]));
        EXPECT_TRUE(std::isnan(b.row_loss[2]));
        EXPECT_FALSE(std::isnan(b.lse[1]));
        for (size_t j = 0; j < classes; ++j) {
            EXPECT_FALSE(std::isnan(b.grad.get(j)));
            EXPECT_TRUE(std::isnan(b.grad.get(classes + j)));
        }
        o.reduction = ACTK_REDUCTION_MEAN;
        EXPECT_TRUE(std::isnan(replay(o, ACTK_F32, rows, classes, x, classes, bad, path).reduced));
    }
}

TEST(CrossEntropyOnHost, ReductionOrderManyRows)
{
    /* 5000 rows of losses spanning magnitudes: the fixed order against the exact sum */
    std::mt19937_64 rng(9);
    std::vector<float> losses(5000);
    std::exponential_distribution<float> e(0.1f);
    for (float &v : losses) v = e(rng) * (rng() % 7 == 0 ? 1e4f : 1.0f);
    std::vector<Compensated<float>> partial(kCeReduceThreads);
    for (int k = 0; k < kCeReduceThreads; ++k) partial[k] = ce_partial_sum(losses.data(), losses.size(), k);
    for (int half = kCeReduceThreads / 2; half > 0; half /= 2)
        for (int k = 0; k < half; ++k) partial[k] = ce_tree_step(partial[k], partial[k + half]);
    long double exact = 0;
    for (float v : losses) exact += v;
    EXPECT_LE(actk_test::ulp_distance(ACTK_F32, ce_finish(partial[0], 0, 0), exact), 1);
    EXPECT_LE(actk_test::ulp_distance(ACTK_F32, ce_finish(partial[0], 1, 4321), exact / 4321), 1);
}

} // namespace

namespace {

/* The soft-cap on its own: z = cap tanh(x / cap) and dz/dx = sech^2(x / cap)
 * in float against long double, over a sweep of x (both signs, 1e-6 to
 * 1e4 times the cap) and caps from 2^-10 to 1000. The derivative keeps its
 * relative accuracy where tanh saturates (it is not 1 - t^2). */
TEST(CrossEntropyOnHost, SoftCapAgainstLongDouble)
{
    long double worst_z = 0, worst_d = 0;
    for (float cap : {0x1p-10f, 0.5f, 2.0f, 15.0f, 30.0f, 1000.0f})
        for (int k = -600; k <= 400; ++k) {
            const float x = (float)(cap * std::pow(10.0L, k / 100.0L)) * (k % 2 ? -1.0f : 1.0f);
            const CeLogit l = ce_logit(x, cap);
            const long double y = (long double)x / cap, c = std::cosh(y);
            const long double z = cap * std::tanh(y), d = 1 / (c * c);
            const long double ulp_z = ulp_distance(ACTK_F32, l.z, z), ulp_d = ulp_distance(ACTK_F32, l.dzdx, d);
            EXPECT_LE(ulp_z, 2) << "x " << x << " cap " << cap << ": " << l.z << " vs " << (double)z;
            EXPECT_LE(ulp_d, 4) << "x " << x << " cap " << cap << ": " << l.dzdx << " vs " << (double)d;
            worst_z = std::max(worst_z, ulp_z);
            worst_d = std::max(worst_d, ulp_d);
        }
    /* infinities saturate exactly; NaN stays NaN */
    EXPECT_EQ(ce_logit(INFINITY, 3.0f).z, 3.0f);
    EXPECT_EQ(ce_logit(-INFINITY, 3.0f).z, -3.0f);
    EXPECT_EQ(ce_logit(INFINITY, 3.0f).dzdx, 0.0f);
    EXPECT_TRUE(std::isnan(ce_logit(NAN, 3.0f).z));
    std::printf("soft-cap: z within %.0Lf ulp, dz/dx within %.0Lf ulp of long double\n", worst_z, worst_d);
}


/* A gradient per row (options.row_grad, NONE): the kernels take row r's
 * scale from it in place of grad_scale; every path, f32 and bf16, with
 * scales that take the plain gradient (|g| <= 2^64), the pair path (2^70),
 * 0, negative and tiny, an ignored row, against the oracle. */
TEST(CrossEntropyOnHost, RowGradEveryPath)
{
    std::mt19937_64 rng(2024);
    const size_t rows = 8, classes = 1030;
    const float row_grad[rows] = {1.0f, -2.5f, 0.0f, 3e-20f, 0x1p70f, 1e-3f, 7.0f, -0x1p-100f};
    std::vector<int64_t> t(rows);
    for (size_t r = 0; r < rows; ++r) t[r] = (int64_t)(rng() % classes);
    t[6] = -100;
    for (actk_dtype dtype : {ACTK_F32, ACTK_BF16}) {
        Buffer x(dtype, rows * classes);
        std::normal_distribution<double> normal(0.0, 3.0);
        for (size_t i = 0; i < rows * classes; ++i) x.set(i, normal(rng));
        x.set(5 * classes + (size_t)t[5], 40.0); /* a confident row: p - 1 cancels at the target */
        for (Path path : {Path::kCached, Path::kStreamed, Path::kCluster})
            for (const Options &p : {Options{0, 0, 0}, Options{0.1f, 1e-4f, 0}, Options{0, 0, 15}}) {
                actk_cross_entropy_options o = make(p, ACTK_REDUCTION_NONE);
                o.row_grad = row_grad;
                CeWorst worst;
                compare(o, dtype, rows, classes, x, classes, t, worst, "row_grad", path);
                if (HasFailure()) return;
                /* the replay really scales per row: row 1 (-2.5) differs from grad_scale 1 */
                const CeOutputs with = replay(o, dtype, rows, classes, x, classes, t, path);
                o.row_grad = nullptr;
                const CeOutputs without = replay(o, dtype, rows, classes, x, classes, t, path);
                EXPECT_NE(with.grad.get(classes + 3), without.grad.get(classes + 3));
                EXPECT_EQ(with.grad.get(2 * classes + 3), 0.0); /* row_grad 0 */
            }
    }
}

/* The column ownership the cached and cluster kernels use: every column of a
 * chunk has exactly one owner among the block's threads; with packs, whole
 * packs go to one thread, packs k, k + kCeThreads, ... to thread k, and the
 * n % kCePack tail columns to threads 0, 1, ...; cluster chunks start on a
 * pack boundary and cover the row. */
TEST(CrossEntropyOnHost, ColumnOwnershipAndChunks)
{
    for (size_t n : {1, 3, 4, 5, 511, 2048, 2051, 40001}) {
        for (bool packed : {true, false}) {
            std::vector<size_t> per_thread(kCeThreads, 0);
            for (size_t j = 0; j < n; ++j) {
                const unsigned owner = ce_column_owner(j, n, packed);
                ASSERT_LT(owner, (unsigned)kCeThreads);
                ++per_thread[owner];
                if (packed && j / kCePack < n / kCePack) {
                    EXPECT_EQ(owner, ce_column_owner(j / kCePack * kCePack, n, true)); /* a pack has one owner */
                    EXPECT_EQ(owner, (unsigned)(j / kCePack % kCeThreads));
                } else if (packed) {
                    EXPECT_EQ(owner, (unsigned)(j - n / kCePack * kCePack));
                } else {
                    EXPECT_EQ(owner, (unsigned)(j % kCeThreads));
                }
            }
            size_t total = 0;
            for (size_t c : per_thread) total += c;
            EXPECT_EQ(total, n);
        }
        for (size_t blocks = 2; blocks <= 8; ++blocks) {
            const size_t chunk = ce_cluster_chunk(n, blocks);
            EXPECT_EQ(chunk % kCePack, 0u);
            EXPECT_GE(chunk * blocks, n);
            EXPECT_LT(chunk, (n + blocks - 1) / blocks + kCePack);
        }
    }
    EXPECT_EQ(ce_cache_plane(5), 8u);
    EXPECT_EQ(ce_cache_plane(8), 8u);
}

} // namespace
