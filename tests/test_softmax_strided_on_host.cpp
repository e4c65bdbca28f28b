// SPDX-License-Identifier: MIT
/*
 * test_softmax_strided_on_host.cpp - the strided softmax kernels (inner > 1,
 * kernels/softmax_strided.cuh) replayed on the host in their reduction
 * order (softmax_strided_replay.h: per-thread sums over d = ty + k split,
 * then the fixed tree across the split threads) against the long double
 * reference on real (outer, dim, inner) tensors: forward f32 <= 4 ULP,
 * f16/bf16 <= 1 ULP; backward the same or, where dy - sum cancels, within
 * 4 eps of the terms (README). Also: the plan's shapes (thresholds of
 * softmax_strided_plan.h), the options' scale and LSE in this order, and
 * that the checks notice a plain float sum and a different merge order.
 * Runs without a GPU.
 */
#include "softmax_strided_replay.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>

using namespace actk_test;

namespace {

using F32 = actk::MathFor<ACTK_F32>::type;
using Half = actk::MathFor<ACTK_F16>::type; /* f16 and bf16: plain float */

double forward_bound(actk_dtype dtype) { return dtype == ACTK_F32 ? 4 : 1; }

enum class Pattern { kUniform, kAscending, kTies, kWide, kOffset };

/* Columns along dim: random logits, sorted ascending (the online form
 * rescales at every element), ties at the max, outputs reaching the
 * subnormals, logits far from 0. */
void fill(Buffer &x, size_t outer, size_t dim, size_t inner, Pattern p, std::mt19937_64 &rng)
{
    std::uniform_real_distribution<double> u(-15, 15), wide(-110, 10);
    std::vector<double> v(dim);
    for (size_t o = 0; o < outer; ++o)
        for (size_t i = 0; i < inner; ++i) {
            for (double &e : v)
                e = p == Pattern::kTies     ? (double)(rng() % 4)
                    : p == Pattern::kWide   ? wide(rng)
                    : p == Pattern::kOffset ? 1e5 + u(rng)
                                            : u(rng);
            if (p == Pattern::kAscending) std::sort(v.begin(), v.end());
            for (size_t d = 0; d < dim; ++d) x.set((o * dim + d) * inner + i, v[d]);
        }
}

/* Elements beyond the forward bound (replay vs reference); prints the first. */
size_t forward_misses(actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim, size_t inner, const Buffer &x,
                      bool plain_float, StridedOrder order, long double *worst = nullptr, unsigned cluster = 1)
{
    const size_t n = outer * dim * inner;
    Buffer got(dtype, n), want(dtype, n);
    EXPECT_EQ(actk_cpu_softmax_forward(kind, dtype, outer, dim, inner, x.data(), want.data()), ACTK_SUCCESS);
    if (dtype == ACTK_F32 && !plain_float)
        strided_forward_replay<F32>(kind, dtype, outer, dim, inner, x, got, order, {}, nullptr, cluster);
    else
        strided_forward_replay<Half>(kind, dtype, outer, dim, inner, x, got, order, {}, nullptr, cluster);
    size_t bad = 0;
    for (size_t k = 0; k < n; ++k) {
        const long double u = ulp_distance(dtype, got.get(k), want.get(k));
        if (worst && u > *worst && !std::isinf((double)u)) *worst = u;
        if (u > forward_bound(dtype)) ++bad;
    }
    return bad;
}

size_t backward_misses(actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim, size_t inner,
                       const Buffer &x, const Buffer &dy, unsigned cluster = 1)
{
    const size_t n = outer * dim * inner;
    const long double eps = dtype == ACTK_F32 ? 0x1p-24L : dtype == ACTK_F16 ? 0x1p-11L : 0x1p-8L;
    Buffer y(dtype, n), got(dtype, n), want(dtype, n);
    EXPECT_EQ(actk_cpu_softmax_forward(kind, dtype, outer, dim, inner, x.data(), y.data()), ACTK_SUCCESS);
    EXPECT_EQ(actk_cpu_softmax_backward(kind, dtype, outer, dim, inner, y.data(), dy.data(), want.data()),
              ACTK_SUCCESS);
    if (dtype == ACTK_F32)
        strided_backward_replay<F32>(kind, outer, dim, inner, y, dy, got, StridedOrder::kTree, cluster);
    else
        strided_backward_replay<Half>(kind, outer, dim, inner, y, dy, got, StridedOrder::kTree, cluster);
    size_t bad = 0;
    for (size_t o = 0; o < outer; ++o)
        for (size_t i = 0; i < inner; ++i) {
            long double terms = 0;
            for (size_t d = 0; d < dim; ++d) {
                const size_t k = (o * dim + d) * inner + i;
                terms += kind == ACTK_SOFTMAX ? fabsl(dy.get(k) * y.get(k)) : fabsl(dy.get(k));
            }
            for (size_t d = 0; d < dim; ++d) {
                const size_t k = (o * dim + d) * inner + i;
                const long double scale = kind == ACTK_SOFTMAX ? fabsl(y.get(k)) * (fabsl(dy.get(k)) + terms)
                                                               : fabsl(dy.get(k)) + expl(y.get(k)) * terms;
                const bool ok = ulp_distance(dtype, got.get(k), want.get(k)) <= forward_bound(dtype) ||
                                fabsl(got.get(k) - want.get(k)) <= 4 * eps * scale;
                bad += !ok;
            }
        }
    return bad;
}

struct StridedShape {
    size_t outer, dim, inner;
};

/* An H100's facts as the dispatch sees them (for the cluster choice). */
const actk_device_facts kH100 = {0, 132, 9, 0, 227 * 1024, 1, 50 * 1024 * 1024};

} // namespace

/* The plan's thresholds (softmax_strided_plan.h). */
TEST(SoftmaxStridedOnHost, PlanShapes)
{
    const actk::StridedPlan nchw = actk::strided_plan(8, 256, 56 * 56);
    EXPECT_EQ(nchw.width, 32u);
    EXPECT_EQ(nchw.split, 8u);
    EXPECT_EQ(nchw.groups, 1u);
    EXPECT_EQ(nchw.threads, 256u);
    EXPECT_EQ(nchw.tiles, 8u * 98u);
    const actk::StridedPlan seven = actk::strided_plan(4, 128, 7);
    EXPECT_EQ(seven.width, 7u);
    EXPECT_EQ(seven.split, 36u);
    EXPECT_EQ(seven.split_pow2, 64u);
    EXPECT_EQ(seven.threads, 252u);
    const actk::StridedPlan short_columns = actk::strided_plan(1000, 3, 5); /* 3 x 5 per o: 17 o per block */
    EXPECT_EQ(short_columns.split, 3u);
    EXPECT_EQ(short_columns.groups, 17u);
    EXPECT_EQ(short_columns.threads, 255u);
    EXPECT_EQ(short_columns.blocks, (1000u + 16u) / 17u);
    const actk::StridedPlan ragged = actk::strided_plan(2, 50, 33); /* 33 = 32 + 1: two tiles per o */
    EXPECT_EQ(ragged.tiles_per_outer, 2u);
    EXPECT_EQ(ragged.tiles, 4u);
    /* the cluster choice (sm_90+, fewer blocks than SMs, long columns) */
    actk_device_facts no_clusters = kH100;
    no_clusters.cluster_launch = 0;
    EXPECT_EQ(actk::strided_cluster_blocks(actk::strided_plan(2, 20000, 3), 20000, kH100), 8u);
    EXPECT_EQ(actk::strided_cluster_blocks(actk::strided_plan(2, 20000, 3), 20000, no_clusters), 1u);
    EXPECT_EQ(actk::strided_cluster_blocks(actk::strided_plan(2, 300, 3), 300, kH100), 1u); /* 300 / (85 x 16) < 2 */
    EXPECT_EQ(actk::strided_cluster_blocks(actk::strided_plan(2, 1000, 64), 1000, kH100),
              7u); /* 4 blocks: 1000 / 128 */
    EXPECT_EQ(actk::strided_cluster_blocks(actk::strided_plan(8, 256, 3136), 256, kH100), 1u);     /* 784 blocks */
    EXPECT_EQ(actk::strided_cluster_blocks(actk::strided_plan(40, 20000, 33), 20000, kH100),
              2u); /* 80 blocks: 2 fill 132 SMs */
    for (size_t inner : {2u, 3u, 5u, 7u, 9u, 17u, 31u, 32u, 33u, 64u, 3136u})
        for (size_t dim : {1u, 2u, 5u, 64u, 300u, 20000u}) {
            const actk::StridedPlan p = actk::strided_plan(3, dim, inner);
            EXPECT_LE(p.threads, actk::kStridedBlockThreads);
            EXPECT_GE(p.split, 1u);
            EXPECT_LE(p.split, dim);
            EXPECT_GE(p.split_pow2, p.split);
            EXPECT_LT(p.split_pow2, 2 * p.split);
            EXPECT_EQ(p.threads, p.groups * p.split * p.width);
            EXPECT_GE(p.blocks * p.groups, p.tiles);
        }
}

/* Every dtype, both kinds, forward and backward, the row patterns, on the
 * issue's shapes (scaled down where only the column matters). */
TEST(SoftmaxStridedOnHost, KernelOrderMeetsTheBounds)
{
    std::mt19937_64 rng(1111);
    const StridedShape shapes[] = {{2, 300, 5}, {1, 450, 33}, {2, 128, 7}, {1, 20000, 3}, {3, 1000, 2},
                                   {2, 33, 9},  {5, 1, 4},    {4, 3, 5},   {1, 256, 64}, {1, 2000, 31}};
    for (actk_dtype dtype : {ACTK_F32, ACTK_F16, ACTK_BF16}) {
        long double worst = 0;
        for (const StridedShape &s : shapes)
            for (Pattern p :
                 {Pattern::kUniform, Pattern::kAscending, Pattern::kTies, Pattern::kWide, Pattern::kOffset}) {
                if (dtype != ACTK_F32 && (p == Pattern::kOffset || p == Pattern::kWide)) continue;
                SCOPED_TRACE(std::string(actk_dtype_name(dtype)) + " " + std::to_string(s.outer) + "x" +
                             std::to_string(s.dim) + "x" + std::to_string(s.inner) + " pattern " +
                             std::to_string((int)p));
                const size_t n = s.outer * s.dim * s.inner;
                Buffer x(dtype, n), dy(dtype, n);
                fill(x, s.outer, s.dim, s.inner, p, rng);
                std::uniform_real_distribution<double> g(-1, 1);
                for (size_t k = 0; k < n; ++k) dy.set(k, p == Pattern::kTies ? 0.25 : g(rng));
                /* the plain order, and the cluster order the few-tiles shapes take on an H100 (132 SMs) */
                const unsigned cluster =
                    actk::strided_cluster_blocks(actk::strided_plan(s.outer, s.dim, s.inner), s.dim, kH100);
                for (unsigned k : {1u, cluster}) {
                    for (actk_softmax_kind kind : {ACTK_SOFTMAX, ACTK_LOG_SOFTMAX}) {
                        EXPECT_EQ(forward_misses(kind, dtype, s.outer, s.dim, s.inner, x, false, StridedOrder::kTree,
                                                 &worst, k),
                                  0u)
                            << "cluster " << k;
                        EXPECT_EQ(backward_misses(kind, dtype, s.outer, s.dim, s.inner, x, dy, k), 0u)
                            << "cluster " << k;
                    }
                    if (cluster == 1) break;
                }
            }
        printf("  %s strided forward: worst %.0Lf ulp\n", actk_dtype_name(dtype), worst);
    }
}

/* The checks can fail: the f32 columns summed in plain float (the f16
 * policy's math) leave the 4-ULP bound, and a different merge order gives
 * different bits, so the GPU test's bit comparison with the replay
 * (test_gpu_structured.cpp) would notice a kernel that merges otherwise. */
TEST(SoftmaxStridedOnHost, PlainFloatAndOtherOrdersAreNoticed)
{
    std::mt19937_64 rng(2222);
    const size_t outer = 1, dim = 20000, inner = 3;
    Buffer x(ACTK_F32, outer * dim * inner);
    fill(x, outer, dim, inner, Pattern::kAscending, rng);
    EXPECT_EQ(forward_misses(ACTK_SOFTMAX, ACTK_F32, outer, dim, inner, x, false, StridedOrder::kTree), 0u);
    EXPECT_GT(forward_misses(ACTK_SOFTMAX, ACTK_F32, outer, dim, inner, x, true, StridedOrder::kTree), 0u)
        << "plain float sum within 4 ULP";

    /* bits: the column's sum in the tree vs a left-to-right merge vs one
     * serial thread. The outputs themselves rarely move (f32 sums in
     * float-float; halves round the output coarsely): the replay pins the
     * statistics, which the outputs are computed from. */
    const size_t columns = 200, column_dim = 450;
    const actk::StridedPlan plan = actk::strided_plan(1, column_dim, 7);
    size_t differ[2][2] = {{0, 0}, {0, 0}}; /* [f32 policy, plain float][linear, serial] */
    std::uniform_real_distribution<float> u(-15, 15);
    for (size_t c = 0; c < columns; ++c) {
        std::vector<float> v(column_dim);
        for (float &e : v) e = u(rng);
        const auto f32_tree = strided_column_stats<F32>(v, plan);
        const auto half_tree = strided_column_stats<Half>(v, plan);
        for (int k = 0; k < 2; ++k) {
            const StridedOrder order = k == 0 ? StridedOrder::kLinear : StridedOrder::kSerial;
            const auto f32_other = strided_column_stats<F32>(v, plan, order);
            const auto half_other = strided_column_stats<Half>(v, plan, order);
            differ[0][k] += f32_other.rest.hi != f32_tree.rest.hi || f32_other.rest.lo != f32_tree.rest.lo;
            differ[1][k] += half_other.sum != half_tree.sum;
        }
    }
    for (int policy = 0; policy < 2; ++policy) {
        EXPECT_GT(differ[policy][0], 0u) << (policy ? "plain float" : "f32")
                                         << ": a left-to-right merge gives the tree's bits";
        EXPECT_GT(differ[policy][1], 0u) << (policy ? "plain float" : "f32")
                                         << ": one serial thread gives the tree's bits";
        printf("  %s column sums (%zu columns of %zu, split %u): %zu differ from a left-to-right merge, %zu from one "
               "serial thread\n",
               policy ? "plain float" : "f32 float-float", columns, column_dim, plan.split, differ[policy][0],
               differ[policy][1]);
    }
}

/* Scale / temperature (x * f rounded as the kernels round it) and the LSE
 * in the strided order, against actk_cpu_softmax_forward_ex. */
TEST(SoftmaxStridedOnHost, ScaledColumnsAndLse)
{
    std::mt19937_64 rng(3333);
    const size_t outer = 2, dim = 300, inner = 5, n = outer * dim * inner, columns = outer * inner;
    for (actk_dtype dtype : {ACTK_F32, ACTK_F16, ACTK_BF16}) {
        Buffer x(dtype, n);
        fill(x, outer, dim, inner, Pattern::kUniform, rng);
        std::vector<float> temperature(columns), factors(columns);
        for (size_t c = 0; c < columns; ++c) {
            temperature[c] = 0.3f + 0.25f * (float)c;
            factors[c] = 0.7f / temperature[c];
        }
        for (actk_softmax_kind kind : {ACTK_SOFTMAX, ACTK_LOG_SOFTMAX}) {
            actk_softmax_options o = actk_softmax_options_default();
            o.scale = 0.7f;
            o.temperature = temperature.data();
            std::vector<float> want_lse(columns), got_lse(columns);
            o.lse = want_lse.data();
            Buffer want(dtype, n), got(dtype, n);
            ASSERT_EQ(actk_cpu_softmax_forward_ex(kind, dtype, outer, dim, inner, &o, x.data(), want.data()),
                      ACTK_SUCCESS);
            if (dtype == ACTK_F32)
                strided_forward_replay<F32>(kind, dtype, outer, dim, inner, x, got, StridedOrder::kTree, factors,
                                            &got_lse);
            else
                strided_forward_replay<Half>(kind, dtype, outer, dim, inner, x, got, StridedOrder::kTree, factors,
                                             &got_lse);
            size_t bad = 0;
            for (size_t k = 0; k < n; ++k) bad += ulp_distance(dtype, got.get(k), want.get(k)) > forward_bound(dtype);
            EXPECT_EQ(bad, 0u) << actk_dtype_name(dtype);
            for (size_t c = 0; c < columns; ++c) {
                const long double u = ulp_distance(ACTK_F32, got_lse[c], want_lse[c]);
                const long double allowance =
                    dtype == ACTK_F32 ? 0 : 0x1p-12L; /* the f16/bf16 policy sums in plain float */
                EXPECT_TRUE(u <= 4 || fabsl((long double)got_lse[c] - want_lse[c]) <= allowance)
                    << actk_dtype_name(dtype) << " column " << c << ": " << got_lse[c] << " vs " << want_lse[c];
            }
        }
    }
}
