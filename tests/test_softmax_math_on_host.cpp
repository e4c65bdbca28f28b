// SPDX-License-Identifier: MIT
/*
 * test_softmax_math_on_host.cpp - the softmax kernels' math
 * (kernels/softmax_math.cuh) replayed on the host in the kernels' own
 * reduction orders: a warp per row (32 lanes with strided columns; the max
 * by a butterfly, then one term per element and butterfly sums), rows of
 * dim <= 16 in one lane each (the same two passes, the sums in column
 * order), a block per row (512 threads, per-warp butterflies,
 * then warp 0 merges the warp results), a cluster per row (each of C blocks
 * reduces its chunk as a block does, then the block results are merged in
 * rank order) and the strided kernel (serial).
 * Forward and backward (the row sums in the same orders). Each must match
 * the long double reference within the promised bounds (forward f32 4 ULP,
 * f16/bf16 1 ULP; backward the same, or within 4 eps of the terms where
 * dy - sum cancels), special rows included. Runs without a GPU.
 */
#include "agreement.h"
#include "softmax_math.cuh"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

using namespace actk_test;
using actk::MaxSum;

namespace {

/* threads = kSubwarp + w: the warp kernel's two passes over a group of w
 * lanes (w = 1: the lane per row of dim <= 16, softmax.cu); threads = 32:
 * over a whole warp. */
constexpr int kSubwarp = 1000;
bool two_pass(int threads) { return threads == 32 || threads > kSubwarp; }
int two_pass_lanes(int threads) { return threads == 32 ? 32 : threads - kSubwarp; }

/* The next power of two >= dim: the values a lane holds for a row of dim
 * <= 16 (kCols in softmax.cu), and the group width of the earlier sub-warp
 * kernels (kept as a wrong order for the comparison below). */
size_t next_pow2(size_t dim)
{
    size_t p = 1;
    while (p < dim) p *= 2;
    return p;
}

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
    std::vector<MaxSum<M>> per_thread(threads, MaxSum<M>::empty());
    for (size_t k = 0; k < v.size(); ++k) actk::online_add(per_thread[k % threads], v[k]);
    if (threads == 1) return per_thread[0];
    std::vector<MaxSum<M>> warp_results;
    for (int w = 0; w < threads / 32; ++w)
        warp_results.push_back(
            butterfly(std::vector<MaxSum<M>>(per_thread.begin() + 32 * w, per_thread.begin() + 32 * w + 32)));
    if (warp_results.size() == 1) return warp_results[0];
    warp_results.resize(32, MaxSum<M>::empty()); /* lanes past the warp count */
    return butterfly(warp_results);
}

/* threads < 0: a cluster of -threads blocks of 512 threads, chunked as the
 * cluster kernel chunks the row. */
template <class M, class C = typename M::T> MaxSum<M> reduce_row_any(const std::vector<C> &v, int threads)
{
    if (threads > 0) return reduce_row<M>(v, threads);
    const size_t blocks = (size_t)-threads, chunk = (v.size() + blocks - 1) / blocks;
    MaxSum<M> total = MaxSum<M>::empty();
    for (size_t r = 0; r < blocks; ++r) {
        const size_t begin = r * chunk, end = std::min(v.size(), begin + chunk);
        const std::vector<C> part(v.begin() + (std::ptrdiff_t)std::min(begin, v.size()),
                                  v.begin() + (std::ptrdiff_t)end);
        total = actk::merge(total, reduce_row<M>(part, 512));
    }
    return total;
}

/* The warp kernel's two passes over `lanes` lanes (32, or a sub-warp group):
 * lane l holds columns l, l + lanes, ...; a butterfly of nan_max (lane 0's
 * result broadcast), then per lane the terms in column order, then
 * butterflies of the sums (offsets lanes/2 down to 1, or `ascending`: 1 up,
 * a wrong order kept to show the replay tells orders apart). Writes the
 * outputs. */
template <class M, class C = typename M::T>
void warp_two_pass_row(actk_softmax_kind kind, const std::vector<C> &v, std::vector<C> &out, int lanes = 32,
                       bool ascending = false)
{
    using Acc = typename actk::SoftmaxAcc<M>::type;
    const size_t L = (size_t)lanes;
    std::vector<int> offsets;
    for (int offset = lanes / 2; offset > 0; offset /= 2) offsets.push_back(offset);
    if (ascending) std::reverse(offsets.begin(), offsets.end());
    std::vector<C> lane_max(L, C(-INFINITY));
    std::vector<Acc> lane_rest(L, actk::acc_zero<M>());
    std::vector<int> lane_ties(L, 0);
    for (size_t d = 0; d < v.size(); ++d) lane_max[d % L] = actk::nan_max(lane_max[d % L], v[d]);
    for (int offset : offsets) {
        std::vector<C> next(L);
        for (size_t l = 0; l < L; ++l) next[l] = actk::nan_max(lane_max[l], lane_max[l ^ (size_t)offset]);
        lane_max = next;
    }
    const C m = lane_max[0];
    std::vector<typename actk::SoftmaxTerm<M>::type> e(v.size());
    for (size_t d = 0; d < v.size(); ++d) e[d] = actk::softmax_term<M>(v[d], m, lane_rest[d % L], lane_ties[d % L]);
    for (int offset : offsets) {
        std::vector<Acc> next_rest(L);
        std::vector<int> next_ties(L);
        for (size_t l = 0; l < L; ++l) {
            next_rest[l] = actk::acc_add<M>(lane_rest[l], lane_rest[l ^ (size_t)offset]);
            next_ties[l] = lane_ties[l] + lane_ties[l ^ (size_t)offset];
        }
        lane_rest = next_rest;
        lane_ties = next_ties;
    }
    const MaxSum<M> s = actk::two_pass_stats<M>(m, lane_rest[0], lane_ties[0]);
    out.resize(v.size());
    for (size_t d = 0; d < v.size(); ++d)
        out[d] = kind == ACTK_LOG_SOFTMAX
                     ? actk::softmax_value_from_term<true, M>(v[d], e[d], actk::row_scale<true>(s))
                     : actk::softmax_value_from_term<false, M>(v[d], e[d], actk::row_scale<false>(s));
}

/* Emulates the kernel for one dtype with its policy M (C = M::T: float for
 * f32, f16 and bf16). threads == 32 is the warp kernel (two passes),
 * kSubwarp + w its groups of w lanes (1: a lane per short row), the rest
 * the online reductions. */
template <class M, class C = typename M::T>
void emulate(actk_softmax_kind kind, int threads, size_t rows, size_t dim, const Buffer &x, Buffer &y)
{
    for (size_t r = 0; r < rows; ++r) {
        std::vector<C> v(dim);
        for (size_t d = 0; d < dim; ++d) v[d] = (C)x.get(r * dim + d);
        if (two_pass(threads)) {
            std::vector<C> out;
            warp_two_pass_row<M>(kind, v, out, two_pass_lanes(threads));
            for (size_t d = 0; d < dim; ++d) y.set(r * dim + d, out[d]);
            continue;
        }
        const MaxSum<M> s = reduce_row_any<M>(v, threads);
        for (size_t d = 0; d < dim; ++d)
            y.set(r * dim + d, kind == ACTK_LOG_SOFTMAX ? actk::softmax_value<true>(v[d], actk::row_scale<true>(s))
                                                        : actk::softmax_value<false>(v[d], actk::row_scale<false>(s)));
    }
}

/* ---- backward: the row sum in each kernel's order ---------------------------- */

/* A butterfly over lanes.size() lanes (a power of two), offsets halving. */
template <class M>
typename actk::SoftmaxAcc<M>::type butterfly_sum(std::vector<typename actk::SoftmaxAcc<M>::type> lanes)
{
    const size_t n = lanes.size();
    for (size_t offset = n / 2; offset > 0; offset /= 2) {
        std::vector<typename actk::SoftmaxAcc<M>::type> next(n);
        for (size_t l = 0; l < n; ++l) next[l] = actk::acc_add<M>(lanes[l], lanes[l ^ offset]);
        lanes = next;
    }
    return lanes[0];
}

/* A 512-thread block over [begin, end): per-thread strided sums, a butterfly
 * per warp, then warp 0's butterfly over the 16 warp sums (block_sum). */
template <class M, bool kLog, class C = typename M::T>
typename actk::SoftmaxAcc<M>::type block_row_sum(const std::vector<C> &y, const std::vector<C> &dy, size_t begin,
                                                 size_t end)
{
    using Acc = typename actk::SoftmaxAcc<M>::type;
    std::vector<Acc> threads(512, actk::acc_zero<M>()), warps(32, actk::acc_zero<M>());
    for (size_t t = 0; t < 512; ++t)
        for (size_t d = begin + t; d < end; d += 512)
            threads[t] = actk::backward_term<M, kLog>(threads[t], y[d], dy[d]);
    for (int w = 0; w < 16; ++w)
        warps[w] = butterfly_sum<M>(std::vector<Acc>(threads.begin() + 32 * w, threads.begin() + 32 * w + 32));
    return butterfly_sum<M>(warps);
}

/* threads: 32 the warp kernel (lane l holds columns l + 32 k, k below the
 * power of two the kernel unrolls, zeros beyond dim), kSubwarp + w its
 * groups of w lanes (the same with w for 32), 512 a block, < 0 a
 * cluster of -threads blocks (their sums added in rank order), 1 serial. */
template <class M, bool kLog, class C = typename M::T>
typename actk::SoftmaxAcc<M>::type row_sum(const std::vector<C> &y, const std::vector<C> &dy, int threads)
{
    using Acc = typename actk::SoftmaxAcc<M>::type;
    const size_t dim = y.size();
    if (threads == 1) {
        Acc a = actk::acc_zero<M>();
        for (size_t d = 0; d < dim; ++d) a = actk::backward_term<M, kLog>(a, y[d], dy[d]);
        return a;
    }
    if (two_pass(threads)) {
        const size_t width = (size_t)two_pass_lanes(threads);
        size_t cols = 1;
        while (cols * width < dim) cols *= 2;
        std::vector<Acc> lanes(width, actk::acc_zero<M>());
        for (size_t l = 0; l < width; ++l)
            for (size_t k = 0; k < cols; ++k) {
                const size_t col = l + width * k;
                lanes[l] = col < dim ? actk::backward_term<M, kLog>(lanes[l], y[col], dy[col])
                                     : actk::backward_term<M, kLog>(lanes[l], C(0), C(0));
            }
        return butterfly_sum<M>(lanes);
    }
    if (threads == 512) return block_row_sum<M, kLog>(y, dy, 0, dim);
    const size_t blocks = (size_t)-threads, chunk = (dim + blocks - 1) / blocks;
    Acc total = actk::acc_zero<M>();
    for (size_t r = 0; r < blocks; ++r)
        total = actk::acc_add<M>(
            total, block_row_sum<M, kLog>(y, dy, std::min(dim, r * chunk), std::min(dim, r * chunk + chunk)));
    return total;
}

template <class M, class C = typename M::T>
void emulate_backward(actk_softmax_kind kind, int threads, size_t rows, size_t dim, const Buffer &y, const Buffer &dy,
                      Buffer &dx)
{
    for (size_t r = 0; r < rows; ++r) {
        std::vector<C> yv(dim), gv(dim);
        for (size_t d = 0; d < dim; ++d) {
            yv[d] = (C)y.get(r * dim + d);
            gv[d] = (C)dy.get(r * dim + d);
        }
        if (kind == ACTK_LOG_SOFTMAX) {
            const auto sum = row_sum<M, true>(yv, gv, threads);
            for (size_t d = 0; d < dim; ++d) dx.set(r * dim + d, actk::softmax_grad<M, true>(yv[d], gv[d], sum));
        } else {
            const auto sum = row_sum<M, false>(yv, gv, threads);
            for (size_t d = 0; d < dim; ++d) dx.set(r * dim + d, actk::softmax_grad<M, false>(yv[d], gv[d], sum));
        }
    }
}

/* ---- checks ------------------------------------------------------------------ */

/* Results against the oracle, per dtype and direction over a test. */
struct Tally {
    size_t checked = 0, correctly_rounded = 0, bad = 0, by_allowance = 0;
    long double worst = 0, worst_absolute = 0; /* worst_absolute: of the values beyond the ULP bound */
    void print(const char *what) const
    {
        printf("  %-34s %9zu values: worst %.0Lf ulp, %.4f%% correctly rounded%s", what, checked, worst,
               checked ? 100.0 * (double)correctly_rounded / (double)checked : 100.0,
               by_allowance ? " (+ cancelling ones within 4 eps of the terms)" : "");
        if (worst_absolute > 0)
            printf(", beyond it at most %.3Lg (2^%.1f) absolute", worst_absolute, std::log2((double)worst_absolute));
        printf("\n");
    }
};

/* The kernel each row length takes (inner = 1): one lane per row up to 16,
 * a warp per row, a block per row, or past 16384 a cluster of up to 8
 * blocks (softmax.cu). */
int kernel_threads(size_t dim)
{
    return dim <= 16      ? kSubwarp + 1
           : dim <= 1024  ? 32
           : dim <= 16384 ? 512
                          : -(int)std::min<size_t>(8, (dim + 8191) / 8192);
}

double forward_bound(actk_dtype dtype) { return dtype == ACTK_F32 ? 4 : 1; }

/* tallies: one per kind (softmax, log-softmax), or null */
void check(actk_dtype dtype, int threads, size_t rows, size_t dim, const Buffer &x, Tally *tallies = nullptr)
{
    for (actk_softmax_kind kind : {ACTK_SOFTMAX, ACTK_LOG_SOFTMAX}) {
        Tally *tally = tallies ? &tallies[kind] : nullptr;
        Buffer got(dtype, rows * dim), want(dtype, rows * dim);
        if (dtype == ACTK_F32)
            emulate<actk::MathFor<ACTK_F32>::type>(kind, threads, rows, dim, x, got);
        else
            emulate<actk::MathFor<ACTK_F16>::type>(kind, threads, rows, dim, x, got); /* bf16's is the same */
        ASSERT_EQ(actk_cpu_softmax_forward(kind, dtype, rows, dim, 1, x.data(), want.data()), ACTK_SUCCESS);
        size_t bad = 0;
        for (size_t k = 0; k < rows * dim; ++k) {
            const long double u = ulp_distance(dtype, got.get(k), want.get(k));
            if (u > forward_bound(dtype) && bad++ == 0)
                ADD_FAILURE() << actk_dtype_name(dtype) << (kind ? " log" : "") << " softmax threads " << threads
                              << " dim " << dim << " at " << k << ": " << (double)got.get(k) << " vs "
                              << (double)want.get(k) << " (" << (double)u << " ulp)";
            if (tally) {
                ++tally->checked;
                tally->correctly_rounded += u == 0;
                if (u > tally->worst && !std::isinf((double)u)) tally->worst = u;
            }
        }
        EXPECT_EQ(bad, 0u);
        if (tally) tally->bad += bad;
    }
}

/* Backward from the oracle's y (as the GPU test does): within the ULP bound,
 * or where dy - sum cancels within 4 eps of the terms (README). */
void check_backward(actk_dtype dtype, int threads, size_t rows, size_t dim, const Buffer &x, const Buffer &dy,
                    Tally *tallies)
{
    const long double eps = dtype == ACTK_F32 ? 0x1p-24L : dtype == ACTK_F16 ? 0x1p-11L : 0x1p-8L;
    for (actk_softmax_kind kind : {ACTK_SOFTMAX, ACTK_LOG_SOFTMAX}) {
        Tally &tally = tallies[kind];
        Buffer y(dtype, rows * dim), got(dtype, rows * dim), want(dtype, rows * dim);
        ASSERT_EQ(actk_cpu_softmax_forward(kind, dtype, rows, dim, 1, x.data(), y.data()), ACTK_SUCCESS);
        ASSERT_EQ(actk_cpu_softmax_backward(kind, dtype, rows, dim, 1, y.data(), dy.data(), want.data()), ACTK_SUCCESS);
        if (dtype == ACTK_F32)
            emulate_backward<actk::MathFor<ACTK_F32>::type>(kind, threads, rows, dim, y, dy, got);
        else
            emulate_backward<actk::MathFor<ACTK_F16>::type>(kind, threads, rows, dim, y, dy, got);
        size_t bad = 0;
        for (size_t r = 0; r < rows; ++r) {
            long double terms = 0;
            for (size_t d = 0; d < dim; ++d) {
                const size_t k = r * dim + d;
                terms += kind == ACTK_SOFTMAX ? fabsl(dy.get(k) * y.get(k)) : fabsl(dy.get(k));
            }
            for (size_t d = 0; d < dim; ++d) {
                const size_t k = r * dim + d;
                const long double u = ulp_distance(dtype, got.get(k), want.get(k));
                const long double scale = kind == ACTK_SOFTMAX ? fabsl(y.get(k)) * (fabsl(dy.get(k)) + terms)
                                                               : fabsl(dy.get(k)) + expl(y.get(k)) * terms;
                const bool within_ulp = u <= forward_bound(dtype);
                const bool ok = within_ulp || fabsl(got.get(k) - want.get(k)) <= 4 * eps * scale;
                if (!ok && bad++ == 0)
                    ADD_FAILURE() << actk_dtype_name(dtype) << (kind ? " log" : "") << " softmax backward threads "
                                  << threads << " dim " << dim << " at " << k << ": " << (double)got.get(k) << " vs "
                                  << (double)want.get(k) << " (" << (double)u << " ulp)";
                ++tally.checked;
                tally.correctly_rounded += u == 0;
                tally.by_allowance += !within_ulp && ok;
                if (within_ulp && u > tally.worst) tally.worst = u;
            }
        }
        EXPECT_EQ(bad, 0u);
        tally.bad += bad;
    }
}

/* Row patterns: random logits, sorted rows (the online form rescales at
 * every element going up), ties, rows whose outputs reach the subnormals,
 * and logits far from 0. */
enum class Pattern { kUniform, kAscending, kDescending, kTies, kWide, kOffset };

void fill(Buffer &x, size_t rows, size_t dim, Pattern p, std::mt19937_64 &rng)
{
    std::uniform_real_distribution<double> u(-15, 15), wide(-110, 10);
    for (size_t r = 0; r < rows; ++r) {
        std::vector<double> v(dim);
        for (double &e : v) {
            switch (p) {
            case Pattern::kTies: e = (double)(rng() % 4); break; /* 0..3: the max repeats ~dim/4 times */
            case Pattern::kWide: e = wide(rng); break;
            case Pattern::kOffset: e = 1e5 + u(rng); break;
            default: e = u(rng); break;
            }
        }
        if (p == Pattern::kAscending) std::sort(v.begin(), v.end());
        if (p == Pattern::kDescending) std::sort(v.rbegin(), v.rend());
        for (size_t d = 0; d < dim; ++d) x.set(r * dim + d, v[d]);
    }
}

} // namespace

/* Every kernel order (the kernel the shape takes, and the strided kernel's
 * serial order) on every row pattern, forward and backward, against the
 * oracle. Prints the worst ULP and the share correctly rounded. */
TEST(SoftmaxMathOnHost, KernelReductionOrdersMeetTheBounds)
{
    std::mt19937_64 rng(77);
    for (actk_dtype dtype : {ACTK_F32, ACTK_F16, ACTK_BF16}) {
        Tally forward[2], backward[2];
        for (size_t dim : {1u, 5u, 32u, 33u, 700u, 1024u, 1025u, 6000u, 16384u, 16385u, 70000u, 300007u}) {
            const size_t rows = dim > 10000 ? 1 : 4;
            if (dim > 100000 && dtype != ACTK_F32) continue; /* keep the run short */
            for (Pattern p : {Pattern::kUniform, Pattern::kAscending, Pattern::kDescending, Pattern::kTies,
                              Pattern::kWide, Pattern::kOffset}) {
                if (dtype != ACTK_F32 && p != Pattern::kUniform && p != Pattern::kAscending) continue;
                if (dtype != ACTK_F32 && p == Pattern::kOffset) continue; /* 1e5 + x is coarse in f16/bf16 */
                SCOPED_TRACE(std::string(actk_dtype_name(dtype)) + " dim " + std::to_string(dim) + " pattern " +
                             std::to_string((int)p));
                Buffer x(dtype, rows * dim), dy(dtype, rows * dim);
                fill(x, rows, dim, p, rng);
                std::uniform_real_distribution<double> g(-1, 1);
                for (size_t k = 0; k < rows * dim; ++k)
                    dy.set(k, p == Pattern::kTies ? 0.25 : g(rng)); /* constant dy: dy - sum cancels */
                for (int threads : {kernel_threads(dim), 1}) {
                    check(dtype, threads, rows, dim, x, forward);
                    check_backward(dtype, threads, rows, dim, x, dy, backward);
                }
            }
        }
        const std::string name = actk_dtype_name(dtype);
        forward[0].print((name + " softmax forward").c_str());
        forward[1].print((name + " log_softmax forward").c_str());
        backward[0].print((name + " softmax backward").c_str());
        backward[1].print((name + " log_softmax backward").c_str());
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
            -3e38f, 3e38f, 0, 1, 2, 3, 4, 5,               /* v - max overflows to -inf: probability 0 */
            90, -13.5f, -14, -12, 0, 1, 2, 3,              /* outputs near the smallest subnormal (e^-103.3) */
        };
        Buffer x(dtype, rows.size());
        for (size_t k = 0; k < rows.size(); ++k) x.set(k, rows[k]);
        check(dtype, 32, rows.size() / 8, 8, x);
        check(dtype, kSubwarp + 1, rows.size() / 8, 8, x); /* the kernel's order for dim 8: one lane per row */
        check(dtype, 1, rows.size() / 8, 8, x);
        check(dtype, -3, rows.size() / 8, 8, x); /* a cluster of 3 (chunks of 3, 3, 2) */
    }
}

/* A row of equal values: every output is 1/n (log: -log n) correctly
 * rounded, in every order (the ties are counted exactly). */
TEST(SoftmaxMathOnHost, EqualValuesAreExact)
{
    for (size_t dim : {3u, 7u, 1000u, 5000u, 40000u}) {
        Buffer x(ACTK_F32, dim);
        for (size_t d = 0; d < dim; ++d) x.set(d, 2.5);
        Tally tally[2];
        for (int threads : {kernel_threads(dim), 1}) check(ACTK_F32, threads, 1, dim, x, tally);
        EXPECT_EQ(tally[0].correctly_rounded, tally[0].checked) << dim;
        EXPECT_EQ(tally[1].correctly_rounded, tally[1].checked) << dim;
    }
}

/* ---- the options: scaled logits and the LSE in every kernel order -------------- */

namespace {

/* The warp kernel's row statistics over `lanes` lanes, as warp_two_pass_row. */
template <class M, class C = typename M::T> MaxSum<M> warp_stats(const std::vector<C> &v, int lanes = 32)
{
    using Acc = typename actk::SoftmaxAcc<M>::type;
    const size_t L = (size_t)lanes;
    std::vector<C> lane_max(L, C(-INFINITY));
    for (size_t d = 0; d < v.size(); ++d) lane_max[d % L] = actk::nan_max(lane_max[d % L], v[d]);
    for (size_t offset = L / 2; offset > 0; offset /= 2) {
        std::vector<C> next(L);
        for (size_t l = 0; l < L; ++l) next[l] = actk::nan_max(lane_max[l], lane_max[l ^ offset]);
        lane_max = next;
    }
    const C m = lane_max[0];
    std::vector<Acc> rest(L, actk::acc_zero<M>());
    std::vector<int> ties(L, 0);
    for (size_t d = 0; d < v.size(); ++d) (void)actk::softmax_term<M>(v[d], m, rest[d % L], ties[d % L]);
    for (size_t offset = L / 2; offset > 0; offset /= 2) {
        std::vector<Acc> next_rest(L);
        std::vector<int> next_ties(L);
        for (size_t l = 0; l < L; ++l) {
            next_rest[l] = actk::acc_add<M>(rest[l], rest[l ^ offset]);
            next_ties[l] = ties[l] + ties[l ^ offset];
        }
        rest = next_rest;
        ties = next_ties;
    }
    return actk::two_pass_stats<M>(m, rest[0], ties[0]);
}

/* Rows of z = x * (scale / T) (rounded in float, as the kernels do) through
 * each kernel's order; y and the LSE against actk_cpu_softmax_forward_ex. */
template <class M>
void check_options(actk_dtype dtype, int threads, size_t rows, size_t dim, const Buffer &x,
                   const std::vector<float> &temperature, float scale, Tally &y_tally, Tally &lse_tally)
{
    for (actk_softmax_kind kind : {ACTK_SOFTMAX, ACTK_LOG_SOFTMAX}) {
        actk_softmax_options o = actk_softmax_options_default();
        o.scale = scale;
        o.temperature = temperature.data();
        std::vector<float> lse(rows);
        o.lse = lse.data();
        Buffer want(dtype, rows * dim);
        ASSERT_EQ(actk_cpu_softmax_forward_ex(kind, dtype, rows, dim, 1, &o, x.data(), want.data()), ACTK_SUCCESS);
        for (size_t r = 0; r < rows; ++r) {
            const float f = scale / temperature[r];
            std::vector<float> z(dim);
            float max = -INFINITY;
            for (size_t d = 0; d < dim; ++d) {
                z[d] = (float)x.get(r * dim + d) * f;
                max = actk::nan_max(max, z[d]);
            }
            const MaxSum<M> s =
                two_pass(threads) ? warp_stats<M>(z, two_pass_lanes(threads)) : reduce_row_any<M>(z, threads);
            const float got_lse = actk::row_lse(s);
            const long double u_lse = ulp_distance(ACTK_F32, got_lse, lse[r]);
            /* f32: 4 ULP, or 4 eps of the max where max + log(sum) cancels.
             * f16/bf16: their policy sums in plain float (all their outputs
             * need), so the LSE carries the float sum's error: 2^-12 absolute
             * (README; the tally prints the worst). */
            const long double allowance = dtype == ACTK_F32 ? 4 * 0x1p-24L * fabsl(max) : 0x1p-12L;
            const bool lse_ok = u_lse <= 4 || fabsl((long double)got_lse - lse[r]) <= allowance;
            if (!(u_lse <= 4) && fabsl((long double)got_lse - lse[r]) > lse_tally.worst_absolute)
                lse_tally.worst_absolute = fabsl((long double)got_lse - lse[r]);
            EXPECT_TRUE(lse_ok) << actk_dtype_name(dtype) << " threads " << threads << " dim " << dim << " lse "
                                << got_lse << " vs " << lse[r];
            ++lse_tally.checked;
            lse_tally.correctly_rounded += u_lse == 0;
            lse_tally.by_allowance += u_lse > 4 && lse_ok;
            if (u_lse <= 4 && u_lse > lse_tally.worst) lse_tally.worst = u_lse;
            std::vector<float> out(dim);
            if (two_pass(threads)) {
                warp_two_pass_row<M>(kind, z, out, two_pass_lanes(threads));
            } else {
                for (size_t d = 0; d < dim; ++d)
                    out[d] = kind == ACTK_LOG_SOFTMAX ? actk::softmax_value<true>(z[d], actk::row_scale<true>(s))
                                                      : actk::softmax_value<false>(z[d], actk::row_scale<false>(s));
            }
            Buffer got(dtype, dim);
            for (size_t d = 0; d < dim; ++d) got.set(d, out[d]);
            for (size_t d = 0; d < dim; ++d) {
                const long double u = ulp_distance(dtype, got.get(d), want.get(r * dim + d));
                EXPECT_LE((double)u, forward_bound(dtype))
                    << actk_dtype_name(dtype) << " threads " << threads << " dim " << dim;
                ++y_tally.checked;
                y_tally.correctly_rounded += u == 0;
                if (u > y_tally.worst && !std::isinf((double)u)) y_tally.worst = u;
            }
        }
    }
}

} // namespace

/* Scale and temperature (x * f rounded in float, then the plain math) and
 * the LSE output (row_lse) in every kernel order, against the reference. */
TEST(SoftmaxMathOnHost, ScaledLogitsAndLseInEveryKernelOrder)
{
    std::mt19937_64 rng(99);
    for (actk_dtype dtype : {ACTK_F32, ACTK_F16, ACTK_BF16}) {
        Tally y_tally, lse_tally;
        for (size_t dim : {1u, 7u, 33u, 1024u, 1025u, 16385u, 70000u}) {
            const size_t rows = dim > 10000 ? 2 : 6;
            for (Pattern p : {Pattern::kUniform, Pattern::kAscending, Pattern::kWide, Pattern::kTies}) {
                Buffer x(dtype, rows * dim);
                fill(x, rows, dim, p, rng);
                std::vector<float> temperature(rows);
                for (size_t r = 0; r < rows; ++r) temperature[r] = 0.3f + 0.7f * (float)r;
                for (int threads : {kernel_threads(dim), 1}) {
                    if (dtype == ACTK_F32)
                        check_options<actk::MathFor<ACTK_F32>::type>(dtype, threads, rows, dim, x, temperature, 0.7f,
                                                                     y_tally, lse_tally);
                    else
                        check_options<actk::MathFor<ACTK_F16>::type>(dtype, threads, rows, dim, x, temperature, 0.7f,
                                                                     y_tally, lse_tally);
                }
            }
        }
        const std::string name = actk_dtype_name(dtype);
        y_tally.print((name + " scaled forward").c_str());
        lse_tally.print((name + " lse (float)").c_str());
    }
}

/* ---- rows of dim <= 16: one lane per row ------------------------------------ */

/* Every row length of the sub-warp kernels (and the warp kernel's just past
 * them) in the kernel's order, forward and backward, on every row pattern,
 * within the bounds; many rows per length. */
TEST(SoftmaxMathOnHost, SubwarpGroupsMeetTheBounds)
{
    std::mt19937_64 rng(1216);
    for (actk_dtype dtype : {ACTK_F32, ACTK_F16, ACTK_BF16}) {
        Tally forward[2], backward[2];
        for (size_t dim = 1; dim <= 17; ++dim) {
            const size_t rows = 64;
            for (Pattern p : {Pattern::kUniform, Pattern::kAscending, Pattern::kDescending, Pattern::kTies,
                              Pattern::kWide, Pattern::kOffset}) {
                if (dtype != ACTK_F32 && p == Pattern::kOffset) continue; /* 1e5 + x is coarse in f16/bf16 */
                SCOPED_TRACE(std::string(actk_dtype_name(dtype)) + " dim " + std::to_string(dim) + " pattern " +
                             std::to_string((int)p));
                Buffer x(dtype, rows * dim), dy(dtype, rows * dim);
                fill(x, rows, dim, p, rng);
                std::uniform_real_distribution<double> g(-1, 1);
                for (size_t k = 0; k < rows * dim; ++k) dy.set(k, p == Pattern::kTies ? 0.25 : g(rng));
                check(dtype, kernel_threads(dim), rows, dim, x, forward);
                check_backward(dtype, kernel_threads(dim), rows, dim, x, dy, backward);
            }
        }
        const std::string name = actk_dtype_name(dtype) + std::string(" dim 1-17");
        forward[0].print((name + " softmax forward").c_str());
        forward[1].print((name + " log_softmax forward").c_str());
        backward[0].print((name + " softmax backward").c_str());
        backward[1].print((name + " log_softmax backward").c_str());
    }
}

namespace {

template <class V> bool same_bits(const V &a, const V &b) { return std::memcmp(&a, &b, sizeof(V)) == 0; }

/* The lane-per-row kernel (softmax_*_warp_kernel, kWidth = 1) transcribed:
 * kCols = next_pow2(dim) values, -inf past dim; the max over them, then the
 * terms in column order (reversed: a wrong order); the backward's sum over
 * kCols terms in column order, zeros past dim. */
template <class M, class C = typename M::T> MaxSum<M> in_lane_stats(const std::vector<C> &v, bool reversed = false)
{
    std::vector<C> cols(next_pow2(v.size()), C(-INFINITY));
    std::copy(v.begin(), v.end(), cols.begin());
    if (reversed) std::reverse(cols.begin(), cols.end());
    C m = C(-INFINITY);
    for (C c : cols) m = actk::nan_max(m, c);
    typename actk::SoftmaxAcc<M>::type rest = actk::acc_zero<M>();
    int ties = 0;
    for (C c : cols) (void)actk::softmax_term<M>(c, m, rest, ties);
    return actk::two_pass_stats<M>(m, rest, ties);
}

template <class M, class C = typename M::T>
typename actk::SoftmaxAcc<M>::type in_lane_sum(const std::vector<C> &y, const std::vector<C> &dy)
{
    typename actk::SoftmaxAcc<M>::type a = actk::acc_zero<M>();
    for (size_t k = 0; k < next_pow2(y.size()); ++k)
        a = k < y.size() ? actk::backward_term<M, false>(a, y[k], dy[k]) : actk::backward_term<M, false>(a, C(0), C(0));
    return a;
}

/* On random rows of each length 1..16: rows where the replay the bounds
 * tests run for the length (kernel_threads) differs in any bit from the
 * kernel's in-lane order, forward statistics or backward sum (differs[0]);
 * and rows where wrong orders differ from the in-lane order: the columns
 * reversed (1), the earlier groups of next_pow2(dim) lanes (2), the serial
 * online order (3), a warp of 32 lanes (4). */
template <class M> void compare_orders(size_t dim, size_t rows, std::mt19937_64 &rng, size_t differs[5])
{
    using C = typename M::T;
    std::uniform_real_distribution<double> u(-15, 15), g(-1, 1);
    const int threads = kernel_threads(dim);
    for (size_t r = 0; r < rows; ++r) {
        std::vector<C> v(dim), y(dim), dy(dim);
        for (size_t d = 0; d < dim; ++d) {
            v[d] = (C)u(rng);
            y[d] = (C)std::fabs(g(rng));
            dy[d] = (C)g(rng);
        }
        const MaxSum<M> lane = in_lane_stats<M>(v);
        const auto lane_sum = in_lane_sum<M>(y, dy);
        ASSERT_TRUE(two_pass(threads)) << "dim " << dim << " takes the warp kernel's two passes";
        differs[0] += !same_bits(lane, warp_stats<M>(v, two_pass_lanes(threads))) ||
                      !same_bits(lane_sum, row_sum<M, false>(y, dy, threads));
        differs[1] += !same_bits(lane, in_lane_stats<M>(v, true));
        differs[2] += !same_bits(lane, warp_stats<M>(v, (int)next_pow2(dim))) ||
                      !same_bits(lane_sum, row_sum<M, false>(y, dy, kSubwarp + (int)next_pow2(dim)));
        differs[3] += !same_bits(lane, reduce_row_any<M>(v, 1));
        differs[4] += !same_bits(lane, warp_stats<M>(v, 32)) || !same_bits(lane_sum, row_sum<M, false>(y, dy, 32));
    }
}

} // namespace

/* The bounds tests above replay rows of dim <= 16 in the kernel's order:
 * one lane holding the row, the max and the sums in column order over
 * next_pow2(dim) values (the padding adds exact zeros). The replay for
 * each length (kernel_threads) must give the bits of the kernel's loop
 * transcribed (in_lane_stats, in_lane_sum) on every row; the comparison
 * can tell orders apart: the columns reversed, the earlier sub-warp groups,
 * the serial online order and a warp of 32 lanes each give other bits on
 * some rows. */
TEST(SoftmaxMathOnHost, ShortRowsReplayTheInLaneOrder)
{
    std::mt19937_64 rng(4242);
    size_t f32[5] = {0, 0, 0, 0, 0}, half[5] = {0, 0, 0, 0, 0};
    for (size_t dim = 1; dim <= 16; ++dim) {
        compare_orders<actk::MathFor<ACTK_F32>::type>(dim, 2000, rng, f32);
        compare_orders<actk::MathFor<ACTK_F16>::type>(dim, 2000, rng, half);
    }
    printf("  rows differing from the in-lane order (of 32000): f32 replay %zu, reversed %zu, groups %zu, serial %zu, "
           "warp %zu; f16/bf16 policy replay %zu, reversed %zu, groups %zu, serial %zu, warp %zu\n",
           f32[0], f32[1], f32[2], f32[3], f32[4], half[0], half[1], half[2], half[3], half[4]);
    EXPECT_EQ(f32[0], 0u) << "the bounds tests replay another order than the kernel's";
    EXPECT_EQ(half[0], 0u) << "the bounds tests replay another order than the kernel's";
    for (int wrong = 1; wrong < 5; ++wrong)
        EXPECT_GT(f32[wrong] + half[wrong], 0u) << "wrong order " << wrong << " went unnoticed";
}
