// SPDX-License-Identifier: MIT
/*
 * test_dbias_reduction_on_host.cpp - the GPU's fused dbias reduction
 * (kernels/dbias_reduce.cuh, used by the 2-D element-wise and the gated
 * backward) replayed on the host in the kernels' order with their
 * arithmetic (compensated.cuh): per (column, slice of rows) a double-word
 * sum of the stored dx values, then the slices' double-words in slice
 * order, rounded once. The slices come from the library's own plan, read
 * back through the workspace size queries. Runs without a GPU.
 *
 * The promise (include/actk/actk.h, gated backward section):
 *   |dbias - sum| <= 1 ULP + 4 u^2 D sum|dx|,  D = rows_per_split + splits,
 * u = 2^-24 (f16, bf16, f32: float-float) or 2^-53 (f64: double-double);
 * an infinite sum stays infinite, inf - inf and NaN give NaN.
 * The same replay with a plain float/double sum is run as a control on a
 * column of small terms after a large one: it misses the bound, so the
 * test can see the defect it guards against.
 */
#include "compensated.cuh"
#include "test_util.h"

#include <gtest/gtest.h>

#include <functional>

using namespace actk_test;
using actk::Compensated;

namespace {

/* The GPU plan (slices) for a shape, from the workspace size query:
 * bytes = splits * width * 2 accumulators, width = 2 cols for gated. */
struct Plan {
    size_t splits, rows_per_split;
};
Plan plan_for(actk_dtype dtype, size_t rows, size_t cols, bool gated)
{
    const size_t acc = dtype == ACTK_F64 ? 8 : 4;
    const size_t bytes = gated ? actk_cuda_gated_bias_backward_workspace_size(dtype, rows, cols)
                               : actk_cuda_backward_2d_workspace_size(dtype, rows, cols);
    Plan p;
    p.splits = bytes / ((gated ? 2 : 1) * cols * 2 * acc);
    p.rows_per_split = p.splits ? (rows + p.splits - 1) / p.splits : 0;
    return p;
}

/* The kernels' order for one column of values v(r) (already rounded to
 * storage): compensated (the kernels) or plain (the control). */
template <class A>
long double replay(actk_dtype dtype, const std::function<long double(size_t)> &v, size_t rows, Plan p, bool compensated)
{
    Compensated<A> total = Compensated<A>::zero();
    A plain_total = 0;
    for (size_t s = 0; s < p.splits; ++s) {
        Compensated<A> slice = Compensated<A>::zero();
        A plain = 0;
        for (size_t r = s * p.rows_per_split; r < rows && r < (s + 1) * p.rows_per_split; ++r) {
            slice = slice.plus((A)v(r));
            plain += (A)v(r);
        }
        total = total.plus(slice);
        plain_total += plain;
    }
    Buffer out(dtype, 1);
    /* the kernel's two roundings for f16/bf16: to float, then to storage */
    out.set(0, (long double)(compensated ? total.value() : plain_total));
    return out.get(0);
}

long double replay_for(actk_dtype dtype, const std::function<long double(size_t)> &v, size_t rows, Plan p,
                       bool compensated)
{
    return dtype == ACTK_F64 ? replay<double>(dtype, v, rows, p, compensated)
                             : replay<float>(dtype, v, rows, p, compensated);
}

/* The exact sum (Neumaier in long double, 2^-64 of the sum and far below
 * the bound otherwise) and the sum of |v|. */
void exact_sum(const std::function<long double(size_t)> &v, size_t rows, long double *sum_out, long double *abs_out)
{
    long double sum = 0, comp = 0, abs_sum = 0;
    for (size_t r = 0; r < rows; ++r) {
        const long double x = v(r), t = sum + x;
        comp += fabsl(sum) >= fabsl(x) ? (sum - t) + x : (x - t) + sum;
        sum = t;
        abs_sum += fabsl(x);
    }
    *sum_out = std::isfinite((double)sum) ? sum + comp : sum;
    *abs_out = abs_sum;
}

/* The promise, with the exact sum moved toward got by the bound's second
 * term before the 1-ULP test. */
bool within_bound(actk_dtype dtype, long double got, long double exact, long double abs_sum, Plan p)
{
    if (std::isnan((double)exact)) return std::isnan((double)got);
    const long double u2x4 = dtype == ACTK_F64 ? ldexpl(1, -104) : ldexpl(1, -46);
    const long double tol = u2x4 * (long double)(p.rows_per_split + p.splits) * abs_sum;
    const long double moved = fabsl(got - exact) <= tol ? got : (got > exact ? exact + tol : exact - tol);
    return ulp_distance(dtype, got, moved) <= 1;
}

/* A value rounded to the dtype, as the kernel stores dx. */
long double rounded(actk_dtype dtype, long double v)
{
    Buffer b(dtype, 1);
    b.set(0, v);
    return b.get(0);
}

} // namespace

/* Random dx of both signs, many shapes (one slice of many rows, many slices
 * of one row, the 65535 cap), every dtype, 2-D and gated plans. */
TEST(DbiasReductionOnHost, RandomColumnsMeetTheBound)
{
    std::mt19937_64 rng(17);
    struct Shape {
        size_t rows, cols;
    } shapes[] = {{1, 8}, {3000, 67}, {1000, 2051}, {70000, 3}, {200000, 1u << 21}, {5, 1u << 22}};
    for (const actk_dtype dtype : kAllDtypes)
        for (const Shape &s : shapes)
            for (const bool gated : {false, true}) {
                const Plan p = plan_for(dtype, s.rows, s.cols, gated);
                ASSERT_GE(p.splits, 1u);
                ASSERT_LE(p.splits, 65535u);
                std::vector<long double> col(s.rows);
                std::uniform_real_distribution<double> u(-3.0, 3.0);
                for (long double &v : col) v = rounded(dtype, u(rng) * (rng() % 7 == 0 ? 1000.0 : 1.0));
                const auto at = [&](size_t r) { return col[r]; };
                long double exact, abs_sum;
                exact_sum(at, s.rows, &exact, &abs_sum);
                const long double got = replay_for(dtype, at, s.rows, p, true);
                EXPECT_TRUE(within_bound(dtype, got, exact, abs_sum, p))
                    << actk_dtype_name(dtype) << " rows " << s.rows << " cols " << s.cols << (gated ? " gated" : "")
                    << ": got " << (double)got << " exact " << (double)exact;
            }
}

/* One large value, then 2^20 terms each below half an ULP of it in the
 * accumulator's type, one slice: the compensated replay is within the
 * bound; the plain sum (the control) never moves from the large value and
 * misses by several ULP. */
TEST(DbiasReductionOnHost, SmallTermsAfterALargeOneNeedTheCompensatedSums)
{
    struct Case { actk_dtype dtype; long double big, term;
    } cases[] = {{ACTK_F16, 2048.0L, 0x1p-14L},
                 {ACTK_BF16, 0x1p16L, 0x1p-9L},
                 {ACTK_F32, 0x1p24L, 0.25L},
                 {ACTK_F64, 0x1p53L, 0.25L}};
    for (const Case &c : cases) {
        const size_t rows = (size_t)1 << 20, cols = (size_t)1 << 21; /* 2^21 columns: one slice */
        const Plan p = plan_for(c.dtype, rows, cols, true);
        ASSERT_EQ(p.splits, 1u);
        ASSERT_EQ(rounded(c.dtype, c.term), c.term);
        const auto at = [&](size_t r) { return r == 0 ? c.big : c.term; };
        long double exact, abs_sum;
        exact_sum(at, rows, &exact, &abs_sum);
        const long double got = replay_for(c.dtype, at, rows, p, true);
        EXPECT_TRUE(within_bound(c.dtype, got, exact, abs_sum, p))
            << actk_dtype_name(c.dtype) << ": got " << (double)got << " exact " << (double)exact;
        const long double plain = replay_for(c.dtype, at, rows, p, false);
        EXPECT_EQ(plain, c.big) << actk_dtype_name(c.dtype);
        EXPECT_FALSE(within_bound(c.dtype, plain, exact, abs_sum, p))
            << actk_dtype_name(c.dtype) << ": the control should miss";
    }
}

/* Non-finite columns: one +inf gives +inf (TwoSum alone would give NaN),
 * +inf and -inf give NaN, NaN stays NaN; across slices too. */
TEST(DbiasReductionOnHost, InfinitiesStayInfinite)
{
    for (const actk_dtype dtype : kAllDtypes)
        for (const size_t cols : {(size_t)3, (size_t)1 << 21}) {
            const size_t rows = 5000;
            const Plan p = plan_for(dtype, rows, cols, false);
            const long double inf = INFINITY;
            const auto one_inf = [&](size_t r) { return r == 1234 ? inf : 0.5L; };
            const auto both = [&](size_t r) { return r == 10 ? inf : r == 4000 ? -inf : 0.5L; };
            const auto nan = [&](size_t r) { return r == 7 ? (long double)NAN : 1.0L; };
            EXPECT_EQ(replay_for(dtype, one_inf, rows, p, true), inf)
                << actk_dtype_name(dtype) << " splits " << p.splits;
            EXPECT_TRUE(std::isnan((double)replay_for(dtype, both, rows, p, true))) << actk_dtype_name(dtype);
            EXPECT_TRUE(std::isnan((double)replay_for(dtype, nan, rows, p, true))) << actk_dtype_name(dtype);
        }
}
