/*
 * test_softmax_math_on_host.cpp - the softmax kernels' math
 * (kernels/softmax_math.cuh) replayed on the host in the kernels' own
 * reduction orders: a warp per row (32 lanes with strided columns; the max
 * by a butterfly, then one term per element and butterfly sums), a block per row (512 threads, per-warp butterflies,
 * then warp 0 merges the warp results), a cluster per row (each of C blocks
 * reduces its chunk as a block does, then the block results are merged in
 * rank order) and the strided kernel (serial).
 * Each must match the long double reference within the promised bounds
 * (f32 4 ULP, f16/bf16 1 ULP), special rows included. Runs without a GPU.
 */
#include "agreement.h"
#include "softmax_math.cuh"

#include <gtest/gtest.h>

#include <algorithm>

using namespace actk_test;
using actk::MaxSum;

namespace {

/* M: the kernels' math policy for the dtype (actk::MathFor); C = M::T. */
template <class M> MaxSum<M> butterfly(std::vector<MaxSum<M>> lanes)
{
    for (int offset = 16; offset > 0; offset /= 2) {
        std::vector<MaxSum<M>> next(32);
        for (int l = 0; l < 32; ++l) next[l] = actk::merge(lanes[l], lanes[l ^ offset]);
        lanes = next;
    }
    return lanes[0];
}

template <class M, class C = typename M::T> MaxSum<M> reduce_row(const std::vector<C> &v, int threads)
{
    std::vector<MaxSum<M>> per_thread(threads, MaxSum<M>{C(-INFINITY), C(0)});
    for (size_t k = 0; k < v.size(); ++k) actk::online_add(per_thread[k % threads], v[k]);
    if (threads == 1) return per_thread[0];
    std::vector<MaxSum<M>> warp_results;
    for (int w = 0; w < threads / 32; ++w)
        warp_results.push_back(butterfly(std::vector<MaxSum<M>>(per_thread.begin() + 32 * w, per_thread.begin() + 32 * w + 32)));
    if (warp_results.size() == 1) return warp_results[0];
    warp_results.resize(32, MaxSum<M>{C(-INFINITY), C(0)}); /* lanes past the warp count */
    return butterfly(warp_results);
}

/* threads < 0: a cluster of -threads blocks of 512 threads, chunked as the
 * cluster kernel chunks the row. */
template <class M, class C = typename M::T> MaxSum<M> reduce_row_any(const std::vector<C> &v, int threads)
{
    if (threads > 0) return reduce_row<M>(v, threads);
    const size_t blocks = (size_t)-threads, chunk = (v.size() + blocks - 1) / blocks;
    MaxSum<M> total{C(-INFINITY), C(0)};
    for (size_t r = 0; r < blocks; ++r) {
        const size_t begin = r * chunk, end = std::min(v.size(), begin + chunk);
        const std::vector<C> part(v.begin() + (std::ptrdiff_t)std::min(begin, v.size()), v.begin() + (std::ptrdiff_t)end);
        total = actk::merge(total, reduce_row<M>(part, 512));
    }
    return total;
}

/* The warp kernel's two passes: lane l holds columns l, l + 32, ...; a
 * butterfly of nan_max (lane 0's result broadcast), then per lane the terms
 * in column order, then butterflies of the sums. Writes the outputs. */
template <class M, class C = typename M::T>
void warp_two_pass_row(actk_softmax_kind kind, const std::vector<C> &v, std::vector<C> &out)
{
    std::vector<C> lane_max(32, C(-INFINITY)), lane_rest(32, C(0));
    std::vector<int> lane_ties(32, 0);
    for (size_t d = 0; d < v.size(); ++d) lane_max[d % 32] = actk::nan_max(lane_max[d % 32], v[d]);
    for (int offset = 16; offset > 0; offset /= 2) {
        std::vector<C> next(32);
        for (int l = 0; l < 32; ++l) next[l] = actk::nan_max(lane_max[l], lane_max[l ^ offset]);
        lane_max = next;
    }
    const C m = lane_max[0];
    std::vector<C> e(v.size());
    for (size_t d = 0; d < v.size(); ++d) e[d] = actk::softmax_term<M>(v[d], m, lane_rest[d % 32], lane_ties[d % 32]);
    for (int offset = 16; offset > 0; offset /= 2) {
        std::vector<C> next_rest(32);
        std::vector<int> next_ties(32);
        for (int l = 0; l < 32; ++l) {
            next_rest[l] = lane_rest[l] + lane_rest[l ^ offset];
            next_ties[l] = lane_ties[l] + lane_ties[l ^ offset];
        }
        lane_rest = next_rest;
        lane_ties = next_ties;
    }
    const MaxSum<M> s = actk::two_pass_stats<M>(m, lane_rest[0], lane_ties[0]);
    out.resize(v.size());
    for (size_t d = 0; d < v.size(); ++d)
        out[d] = kind == ACTK_LOG_SOFTMAX ? actk::softmax_value_from_term<true>(v[d], e[d], actk::row_scale<true>(s))
                                          : actk::softmax_value_from_term<false>(v[d], e[d], actk::row_scale<false>(s));
}

/* Emulates the kernel for one dtype with its policy M (C = double for f32,
 * float for f16/bf16). threads == 32 is the warp kernel (two passes), the
 * rest the online reductions. */
template <class M, class C = typename M::T>
void emulate(actk_softmax_kind kind, int threads, size_t rows, size_t dim, const Buffer &x, Buffer &y)
{
    for (size_t r = 0; r < rows; ++r) {
        std::vector<C> v(dim);
        for (size_t d = 0; d < dim; ++d) v[d] = (C)x.get(r * dim + d);
        if (threads == 32) {
            std::vector<C> out;
            warp_two_pass_row<M>(kind, v, out);
            for (size_t d = 0; d < dim; ++d) y.set(r * dim + d, out[d]);
            continue;
        }
        const MaxSum<M> s = reduce_row_any<M>(v, threads);
        for (size_t d = 0; d < dim; ++d)
            y.set(r * dim + d, kind == ACTK_LOG_SOFTMAX ? actk::softmax_value<true>(v[d], actk::row_scale<true>(s))
                                                        : actk::softmax_value<false>(v[d], actk::row_scale<false>(s)));
    }
}

void check(actk_dtype dtype, int threads, size_t rows, size_t dim, const Buffer &x)
{
    for (actk_softmax_kind kind : {ACTK_SOFTMAX, ACTK_LOG_SOFTMAX}) {
        Buffer got(dtype, rows * dim), want(dtype, rows * dim);
        if (dtype == ACTK_F32)
            emulate<actk::MathFor<ACTK_F32>::type>(kind, threads, rows, dim, x, got);
        else
            emulate<actk::MathFor<ACTK_F16>::type>(kind, threads, rows, dim, x, got); /* bf16's is the same */
        ASSERT_EQ(actk_cpu_softmax_forward(kind, dtype, rows, dim, 1, x.data(), want.data()), ACTK_SUCCESS);
        const double bound = dtype == ACTK_F32 ? 4 : 1;
        size_t bad = 0;
        long double worst = 0;
        for (size_t k = 0; k < rows * dim; ++k) {
            const long double u = ulp_distance(dtype, got.get(k), want.get(k));
            if (u > bound && bad++ == 0)
                ADD_FAILURE() << actk_dtype_name(dtype) << (kind ? " log" : "") << " softmax threads " << threads << " dim " << dim
                              << " at " << k << ": " << (double)got.get(k) << " vs " << (double)want.get(k) << " (" << (double)u << " ulp)";
            if (u > worst && !std::isinf((double)u)) worst = u;
        }
        EXPECT_EQ(bad, 0u);
        printf("  %-5s %-11s threads %3d dim %6zu: max %.0Lf ulp\n", actk_dtype_name(dtype), kind ? "log_softmax" : "softmax",
               threads, dim, worst);
    }
}

} // namespace

TEST(SoftmaxMathOnHost, KernelReductionOrdersMeetTheBounds)
{
    std::mt19937_64 rng(77);
    for (actk_dtype dtype : {ACTK_F32, ACTK_F16, ACTK_BF16}) {
        for (size_t dim : {1u, 5u, 32u, 33u, 700u, 1024u, 1025u, 6000u, 16385u, 70000u, 300007u}) {
            /* warp per row, block per row, or (past 16384) a cluster of up to 8 blocks */
            const int threads = dim <= 1024 ? 32 : dim <= 16384 ? 512 : -(int)std::min<size_t>(8, (dim + 8191) / 8192);
            const size_t rows = dim > 10000 ? 1 : 4;
            if (dim > 100000 && dtype != ACTK_F32) continue; /* keep the run short */
            Buffer x(dtype, rows * dim);
            std::uniform_real_distribution<double> u(-15, 15);
            for (size_t k = 0; k < rows * dim; ++k) x.set(k, u(rng));
            check(dtype, threads, rows, dim, x);
            check(dtype, 1, rows, dim, x); /* the strided kernel's serial order */
        }
    }
}

TEST(SoftmaxMathOnHost, DominantClassAndSpecialRows)
{
    for (actk_dtype dtype : {ACTK_F32, ACTK_BF16}) {
        const float inf = INFINITY;
        const std::vector<float> rows = {
            60, 0, -5, 1, -3, 2, -1, 0.5f,                 /* one dominant logit: log p ~ -e^-58 */
            0, -inf, 0, 1, -inf, 2, -inf, 0,               /* -inf entries */
            -inf, -inf, -inf, -inf, -inf, -inf, -inf, -inf, /* all -inf: NaN */
            1, inf, 0, 0, 1, 2, 3, 4,                      /* +inf: NaN */
            NAN, 1, 2, 3, 4, 5, 6, 7,                      /* NaN: NaN */
            1e30f, -1e30f, 1e30f, 0, 5, 6, 7, 8,           /* huge logits (ties at the max) */
        };
        Buffer x(dtype, rows.size());
        for (size_t k = 0; k < rows.size(); ++k) x.set(k, rows[k]);
        check(dtype, 32, rows.size() / 8, 8, x);
        check(dtype, 1, rows.size() / 8, 8, x);
        check(dtype, -3, rows.size() / 8, 8, x); /* a cluster of 3 (chunks of 3, 3, 2) */
    }
}
