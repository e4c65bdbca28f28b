// SPDX-License-Identifier: MIT
/*
 * test_structured_cpu.cpp - softmax/log-softmax, PReLU, Maxout and RReLU on
 * the CPU path against independent checks: naive formulas at moderate
 * values, invariances (shift, layout), finite differences of a scalar loss,
 * the Philox4x32-10 known-answer vectors, slope statistics, and the
 * bad-input rules of every structured entry point.
 */
#include "philox.h"
#include "prelu_plan.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <numeric>

using namespace actk_test;

namespace {

std::vector<double> softmax_f64(actk_softmax_kind kind, size_t outer, size_t dim, size_t inner,
                                const std::vector<double> &x)
{
    std::vector<double> y(x.size(), -7.0);
    EXPECT_EQ(actk_cpu_softmax_forward(kind, ACTK_F64, outer, dim, inner, x.data(), y.data()), ACTK_SUCCESS)
        << actk_last_error();
    return y;
}

} // namespace

TEST(Softmax, MatchesNaiveFormulaAtModerateLogits)
{
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<double> u(-5, 5);
    for (size_t dim : {1u, 2u, 7u, 33u, 1000u}) {
        std::vector<double> x(3 * dim);
        for (double &v : x) v = u(rng);
        const std::vector<double> y = softmax_f64(ACTK_SOFTMAX, 3, dim, 1, x);
        const std::vector<double> ly = softmax_f64(ACTK_LOG_SOFTMAX, 3, dim, 1, x);
        for (size_t r = 0; r < 3; ++r) {
            long double sum = 0;
            for (size_t d = 0; d < dim; ++d) sum += expl(x[r * dim + d]);
            long double total = 0;
            for (size_t d = 0; d < dim; ++d) {
                const long double want = expl(x[r * dim + d]) / sum;
                EXPECT_LE(ulp_distance(ACTK_F64, y[r * dim + d], (double)want), 4) << dim;
                EXPECT_LE(ulp_distance(ACTK_F64, ly[r * dim + d], (double)logl(want)), 4) << dim;
                total += y[r * dim + d];
            }
            EXPECT_NEAR((double)total, 1.0, 1e-14);
        }
    }
}

TEST(Softmax, HugeLogitsAreShiftInvariantAndDominantLogProbIsAccurate)
{
    const std::vector<double> big = {1000.0, 1001.0, 999.5}, small = {0.0, 1.0, -0.5};
    const std::vector<double> a = softmax_f64(ACTK_SOFTMAX, 1, 3, 1, big),
                              b = softmax_f64(ACTK_SOFTMAX, 1, 3, 1, small);
    for (int i = 0; i < 3; ++i) EXPECT_LE(ulp_distance(ACTK_F64, a[i], b[i]), 2);
    /* one dominant logit: log p = -log(1 + e^-40 + e^-45) ~ -(e^-40 + e^-45) */
    const std::vector<double> x = {40.0, 0.0, -5.0};
    const std::vector<double> ly = softmax_f64(ACTK_LOG_SOFTMAX, 1, 3, 1, x);
    const long double want = -log1pl(expl(-40.0L) + expl(-45.0L));
    EXPECT_LE(ulp_distance(ACTK_F64, ly[0], (double)want), 2) << ly[0] << " vs " << (double)want;
    EXPECT_LT(ly[0], 0.0);
}

TEST(Softmax, SpecialRows)
{
    const double inf = INFINITY;
    /* -inf entries are probability 0 */
    std::vector<double> y = softmax_f64(ACTK_SOFTMAX, 1, 3, 1, {0.0, -inf, 0.0});
    EXPECT_EQ(y[1], 0.0);
    EXPECT_DOUBLE_EQ(y[0], 0.5);
    y = softmax_f64(ACTK_LOG_SOFTMAX, 1, 3, 1, {0.0, -inf, 0.0});
    EXPECT_EQ(y[1], -inf);
    /* dim = 1: softmax 1, log-softmax 0 */
    EXPECT_EQ(softmax_f64(ACTK_SOFTMAX, 4, 1, 1, {3.0, -1e300, 0.0, 7.0})[1], 1.0);
    EXPECT_EQ(softmax_f64(ACTK_LOG_SOFTMAX, 4, 1, 1, {3.0, -1e300, 0.0, 7.0})[3], 0.0);
    /* a row that is all -inf, or holds +inf or NaN, is NaN (as PyTorch); others unaffected */
    for (actk_softmax_kind kind : {ACTK_SOFTMAX, ACTK_LOG_SOFTMAX}) {
        y = softmax_f64(kind, 4, 2, 1, {-inf, -inf, 1.0, inf, NAN, 0.0, 1.0, 1.0});
        for (int i = 0; i < 6; ++i) EXPECT_TRUE(std::isnan(y[i])) << i;
        EXPECT_FALSE(std::isnan(y[6]));
    }
}

TEST(Softmax, InnerAxisEqualsRowwiseOnTheTransposedTensor)
{
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<double> u(-8, 8);
    const size_t outer = 3, dim = 11, inner = 7;
    std::vector<double> x(outer * dim * inner), rows(outer * inner * dim);
    for (double &v : x) v = u(rng);
    for (size_t o = 0; o < outer; ++o)
        for (size_t d = 0; d < dim; ++d)
            for (size_t i = 0; i < inner; ++i) rows[(o * inner + i) * dim + d] = x[(o * dim + d) * inner + i];
    for (actk_softmax_kind kind : {ACTK_SOFTMAX, ACTK_LOG_SOFTMAX}) {
        const std::vector<double> y = softmax_f64(kind, outer, dim, inner, x);
        const std::vector<double> yr = softmax_f64(kind, outer * inner, dim, 1, rows);
        for (size_t o = 0; o < outer; ++o)
            for (size_t d = 0; d < dim; ++d)
                for (size_t i = 0; i < inner; ++i)
                    EXPECT_EQ(y[(o * dim + d) * inner + i], yr[(o * inner + i) * dim + d]);
    }
}

/* d/dx of L = sum(dy * y(x)) by central differences, against backward(y, dy). */
TEST(Softmax, BackwardMatchesFiniteDifferences)
{
    std::mt19937_64 rng(9);
    std::uniform_real_distribution<double> u(-3, 3);
    const size_t outer = 2, dim = 6, inner = 3, n = outer * dim * inner;
    std::vector<double> x(n), dy(n), dx(n);
    for (size_t k = 0; k < n; ++k) { x[k] = u(rng); dy[k] = u(rng); }
    for (actk_softmax_kind kind : {ACTK_SOFTMAX, ACTK_LOG_SOFTMAX}) {
        const std::vector<double> y = softmax_f64(kind, outer, dim, inner, x);
        ASSERT_EQ(actk_cpu_softmax_backward(kind, ACTK_F64, outer, dim, inner, y.data(), dy.data(), dx.data()),
                  ACTK_SUCCESS);
        for (size_t k = 0; k < n; ++k) {
            auto loss = [&](double delta) {
                std::vector<double> xp = x;
                xp[k] += delta;
                const std::vector<double> yp = softmax_f64(kind, outer, dim, inner, xp);
                return std::inner_product(yp.begin(), yp.end(), dy.begin(), 0.0);
            };
            const double h = 1e-5, numeric = (loss(h) - loss(-h)) / (2 * h);
            EXPECT_NEAR(dx[k], numeric, 1e-8) << "kind " << kind << " element " << k;
        }
    }
}

TEST(Softmax, InPlaceAndEveryDtypeAgreeWithF64)
{
    std::mt19937_64 rng(11);
    for (actk_dtype dtype : kAllDtypes) {
        const size_t outer = 5, dim = 37, inner = 2, n = outer * dim * inner;
        Buffer x(dtype, n), y(dtype, n), dy(dtype, n), dx(dtype, n);
        for (size_t k = 0; k < n; ++k) {
            x.set(k, std::uniform_real_distribution<double>(-6, 6)(rng));
            dy.set(k, std::uniform_real_distribution<double>(-1, 1)(rng));
        }
        for (actk_softmax_kind kind : {ACTK_SOFTMAX, ACTK_LOG_SOFTMAX}) {
            ASSERT_EQ(actk_cpu_softmax_forward(kind, dtype, outer, dim, inner, x.data(), y.data()), ACTK_SUCCESS);
            Buffer in_place = x;
            ASSERT_EQ(actk_cpu_softmax_forward(kind, dtype, outer, dim, inner, in_place.data(), in_place.data()),
                      ACTK_SUCCESS);
            EXPECT_EQ(in_place.bytes, y.bytes);
            ASSERT_EQ(actk_cpu_softmax_backward(kind, dtype, outer, dim, inner, y.data(), dy.data(), dx.data()),
                      ACTK_SUCCESS);
            Buffer grad = dy;
            ASSERT_EQ(actk_cpu_softmax_backward(kind, dtype, outer, dim, inner, y.data(), grad.data(), grad.data()),
                      ACTK_SUCCESS);
            EXPECT_EQ(grad.bytes, dx.bytes);
            /* the narrow result is the f64 result rounded (within 1 ULP: two roundings) */
            std::vector<double> x64(n), y64(n);
            for (size_t k = 0; k < n; ++k) x64[k] = (double)x.get(k);
            ASSERT_EQ(actk_cpu_softmax_forward(kind, ACTK_F64, outer, dim, inner, x64.data(), y64.data()),
                      ACTK_SUCCESS);
            for (size_t k = 0; k < n; ++k)
                EXPECT_LE(ulp_distance(dtype, y.get(k), y64[k]), 1) << actk_dtype_name(dtype);
        }
    }
}

TEST(Prelu, ForwardBackwardAndSlopeGradient)
{
    std::mt19937_64 rng(13);
    std::uniform_real_distribution<double> u(-2, 2);
    for (size_t channels : {1u, 4u}) {
        const size_t outer = 3, inner = 5, n = outer * channels * inner;
        std::vector<double> x(n), dy(n), y(n), dx(n), slope(channels), dslope(channels);
        for (size_t k = 0; k < n; ++k) { x[k] = u(rng); dy[k] = u(rng); }
        for (double &a : slope) a = 0.1 + 0.2 * u(rng);
        ASSERT_EQ(actk_cpu_prelu_forward(ACTK_F64, outer, channels, inner, x.data(), slope.data(), y.data()),
                  ACTK_SUCCESS);
        for (size_t k = 0; k < n; ++k) EXPECT_EQ(y[k], x[k] > 0 ? x[k] : slope[(k / inner) % channels] * x[k]);
        ASSERT_EQ(actk_cpu_prelu_backward(ACTK_F64, outer, channels, inner, x.data(), slope.data(), dy.data(),
                                          dx.data(), dslope.data()),
                  ACTK_SUCCESS);
        auto loss = [&](const std::vector<double> &xs, const std::vector<double> &as) {
            std::vector<double> ys(n);
            EXPECT_EQ(actk_cpu_prelu_forward(ACTK_F64, outer, channels, inner, xs.data(), as.data(), ys.data()),
                      ACTK_SUCCESS);
            return std::inner_product(ys.begin(), ys.end(), dy.begin(), 0.0);
        };
        for (size_t c = 0; c < channels; ++c) {
            std::vector<double> ap = slope, am = slope;
            ap[c] += 1e-6;
            am[c] -= 1e-6;
            EXPECT_NEAR(dslope[c], (loss(x, ap) - loss(x, am)) / 2e-6, 1e-7) << "channel " << c;
        }
        for (size_t k = 0; k < n; ++k) EXPECT_EQ(dx[k], x[k] > 0 ? dy[k] : slope[(k / inner) % channels] * dy[k]);
    }
}

TEST(Maxout, ForwardBackwardTiesAndNan)
{
    /* outer 1, units 2, pieces 3, inner 2: x(o, u*3 + p, i) at (u*3 + p)*2 + i */
    const std::vector<double> x = {
        1,  9,   5,  9, 5,  2,  /* unit 0: i=0 -> 1,5,5 (first max p=1); i=1 -> 9,9,2 (p=0) */
        -1, NAN, -3, 4, -1, 8}; /* unit 1: i=0 -> -1,-3,-1 (p=0); i=1 -> NaN,4,8 (NaN, p=0) */
    std::vector<double> y(4), dy = {10, 20, 30, 40}, dx(12, -1);
    ASSERT_EQ(actk_cpu_maxout_forward(ACTK_F64, 1, 2, 3, 2, x.data(), y.data()), ACTK_SUCCESS);
    EXPECT_EQ(y[0], 5);
    EXPECT_EQ(y[1], 9);
    EXPECT_EQ(y[2], -1);
    EXPECT_TRUE(std::isnan(y[3]));
    ASSERT_EQ(actk_cpu_maxout_backward(ACTK_F64, 1, 2, 3, 2, x.data(), dy.data(), dx.data()), ACTK_SUCCESS);
    const std::vector<double> want = {0, 20, 10, 0, 0, 0, 30, 40, 0, 0, 0, 0};
    for (size_t k = 0; k < 12; ++k) EXPECT_EQ(dx[k], want[k]) << k;
    /* pieces = 0 with outputs to produce is an error; an empty shape is not */
    EXPECT_EQ(actk_cpu_maxout_forward(ACTK_F64, 1, 2, 0, 2, x.data(), y.data()), ACTK_ERROR_INVALID_VALUE);
    EXPECT_NE(std::strstr(actk_last_error(), "pieces"), nullptr);
    EXPECT_EQ(actk_cpu_maxout_forward(ACTK_F64, 0, 2, 0, 2, nullptr, nullptr), ACTK_SUCCESS);
}

TEST(Rrelu, PhiloxKnownAnswerVectors)
{
    /* Random123's kat_vectors for philox4x32-10 */
    const struct { uint32_t ctr[4], key[2], out[4];
    } kat[] = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff},
         {0xffffffff, 0xffffffff},
         {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344},
         {0xa4093822, 0x299f31d0},
         {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };
    for (const auto &k : kat) {
        actk_philox_block c = {{k.ctr[0], k.ctr[1], k.ctr[2], k.ctr[3]}};
        const actk_philox_block r = actk_philox4x32_10(c, k.key[0], k.key[1]);
        for (int w = 0; w < 4; ++w) EXPECT_EQ(r.v[w], k.out[w]) << "word " << w;
    }
}

TEST(Rrelu, SlopesAreUniformInRangeAndRegenerated)
{
    actk_rrelu p = actk_rrelu_default();
    p.seed = 0x1234567890abcdefull;
    p.offset = 77;
    const size_t n = 200003;
    std::vector<double> x(n), y(n), dy(n, 1.0), dx(n);
    for (size_t i = 0; i < n; ++i) x[i] = (i % 3 == 0) ? 1.5 : -2.0;
    ASSERT_EQ(actk_cpu_rrelu_forward(p, ACTK_F64, n, x.data(), y.data()), ACTK_SUCCESS);
    ASSERT_EQ(actk_cpu_rrelu_backward(p, ACTK_F64, n, x.data(), dy.data(), dx.data()), ACTK_SUCCESS);
    double sum = 0, sum_sq = 0;
    size_t negatives = 0;
    for (size_t i = 0; i < n; ++i) {
        if (x[i] > 0) {
            EXPECT_EQ(y[i], x[i]);
            EXPECT_EQ(dx[i], 1.0);
            continue;
        }
        const float a = actk_rrelu_slope(p, i);
        ASSERT_GE(a, p.lower);
        ASSERT_LE(a, p.upper);
        EXPECT_EQ(y[i], (double)a * x[i]);   /* the slope the API reports is the one used */
        EXPECT_EQ(dx[i], (double)a);         /* and the backward pass regenerates it */
        sum += a;
        sum_sq += (double)a * a;
        ++negatives;
    }
    /* uniform on [1/8, 1/3]: mean 0.229167, variance (5/24)^2/12 */
    const double mean = sum / negatives, var = sum_sq / negatives - mean * mean;
    const double want_mean = (1.0 / 8 + 1.0 / 3) / 2, want_var = (1.0 / 3 - 1.0 / 8) * (1.0 / 3 - 1.0 / 8) / 12;
    EXPECT_NEAR(mean, want_mean, 5 * std::sqrt(want_var / negatives));
    EXPECT_NEAR(var, want_var, 0.02 * want_var);
    /* another offset draws other slopes; evaluation mode uses the mean */
    actk_rrelu q = p;
    q.offset = 78;
    EXPECT_NE(actk_rrelu_slope(p, 5), actk_rrelu_slope(q, 5));
    q.training = 0;
    double one = -1.0, out = 0;
    ASSERT_EQ(actk_cpu_rrelu_forward(q, ACTK_F64, 1, &one, &out), ACTK_SUCCESS);
    EXPECT_EQ(out, -(double)((p.lower + p.upper) * 0.5f));
}

TEST(StructuredApi, BadInputIsRejectedAndNothingWritten)
{
    std::vector<float> a(64, 1.0f), b(64, 1.0f), out(64, 9.0f), s(4, 0.25f), ds(4, 9.0f);
    auto untouched = [&] {
        for (float v : out)
            if (v != 9.0f) return false;
        for (float v : ds)
            if (v != 9.0f) return false;
        return true;
    };
    struct Case { const char *needle; actk_status want; std::function<actk_status()> call; };
    const Case cases[] = {
        {"kind", ACTK_ERROR_INVALID_VALUE,
         [&] { return actk_cpu_softmax_forward((actk_softmax_kind)5, ACTK_F32, 4, 16, 1, a.data(), out.data()); }},
        {"x is NULL", ACTK_ERROR_INVALID_VALUE,
         [&] { return actk_cpu_softmax_forward(ACTK_SOFTMAX, ACTK_F32, 4, 16, 1, nullptr, out.data()); }},
        {"overflows", ACTK_ERROR_INVALID_VALUE,
         [&] { return actk_cpu_softmax_forward(ACTK_SOFTMAX, ACTK_F32, SIZE_MAX / 2, 4, 1, a.data(), out.data()); }},
        {"overlap partially", ACTK_ERROR_INVALID_VALUE,
         [&] { return actk_cpu_softmax_forward(ACTK_SOFTMAX, ACTK_F32, 4, 15, 1, out.data() + 1, out.data()); }},
        {"dtype", ACTK_ERROR_INVALID_VALUE,
         [&] {
             return actk_cpu_softmax_backward(ACTK_SOFTMAX, (actk_dtype)8, 4, 16, 1, a.data(), b.data(), out.data());
         }},
        {"dy is NULL", ACTK_ERROR_INVALID_VALUE,
         [&] {
             return actk_cpu_softmax_backward(ACTK_LOG_SOFTMAX, ACTK_F32, 4, 16, 1, a.data(), nullptr, out.data());
         }},
        {"slope is NULL", ACTK_ERROR_INVALID_VALUE,
         [&] { return actk_cpu_prelu_forward(ACTK_F32, 4, 4, 4, a.data(), nullptr, out.data()); }},
        {"outputs dslope and dx overlap", ACTK_ERROR_INVALID_VALUE,
         [&] {
             return actk_cpu_prelu_backward(ACTK_F32, 1, 4, 4, a.data(), s.data(), b.data(), out.data(),
                                            out.data() + 2);
         }},
        {"x and dx overlap partially", ACTK_ERROR_INVALID_VALUE,
         [&] {
             return actk_cpu_prelu_backward(ACTK_F32, 1, 4, 4, out.data(), s.data(), b.data(), out.data(), ds.data());
         }},
        {"pieces", ACTK_ERROR_INVALID_VALUE,
         [&] { return actk_cpu_maxout_forward(ACTK_F32, 1, 4, 0, 1, a.data(), out.data()); }},
        {"x and y overlap", ACTK_ERROR_INVALID_VALUE,
         [&] { return actk_cpu_maxout_forward(ACTK_F32, 1, 4, 4, 1, out.data(), out.data()); }},
        {"lower <= upper", ACTK_ERROR_INVALID_VALUE,
         [&] {
             actk_rrelu p = actk_rrelu_default();
             p.lower = 0.5f;
             p.upper = 0.1f;
             return actk_cpu_rrelu_forward(p, ACTK_F32, 64, a.data(), out.data());
         }},
        {"lower <= upper", ACTK_ERROR_INVALID_VALUE,
         [&] {
             actk_rrelu p = actk_rrelu_default();
             p.upper = NAN;
             return actk_cpu_rrelu_backward(p, ACTK_F32, 64, a.data(), b.data(), out.data());
         }},
        {"kind", ACTK_ERROR_INVALID_VALUE,
         [&] {
             return actk_cuda_softmax_forward((actk_softmax_kind)-1, ACTK_F32, 4, 16, 1, a.data(), out.data(), nullptr);
         }},
        {"pieces", ACTK_ERROR_INVALID_VALUE,
         [&] { return actk_cuda_maxout_backward(ACTK_F32, 1, 4, 0, 1, a.data(), b.data(), out.data(), nullptr); }},
        {"lower <= upper", ACTK_ERROR_INVALID_VALUE,
         [&] {
             actk_rrelu p = actk_rrelu_default();
             p.lower = -1;
             return actk_cuda_rrelu_forward(p, ACTK_F32, 64, a.data(), out.data(), nullptr);
         }},
    };
    for (const Case &c : cases) {
        EXPECT_EQ(c.call(), c.want) << c.needle << ": " << actk_last_error();
        EXPECT_NE(std::strstr(actk_last_error(), c.needle), nullptr) << actk_last_error();
        EXPECT_TRUE(untouched()) << c.needle;
    }
    /* in place is allowed where documented */
    std::vector<float> t(16, 0.5f);
    EXPECT_EQ(actk_cpu_softmax_forward(ACTK_SOFTMAX, ACTK_F32, 1, 16, 1, t.data(), t.data()), ACTK_SUCCESS);
    EXPECT_FLOAT_EQ(t[3], 1.0f / 16);
    /* the GPU PReLU backward says how much workspace it needs */
    EXPECT_EQ(actk_cuda_prelu_backward_workspace_size(ACTK_F32, 0, 4, 4), 0u);
    EXPECT_GE(actk_cuda_prelu_backward_workspace_size(ACTK_F32, 32, 64, 100), 64u * 100 * sizeof(double));
    /* (hi, lo) pairs: float-float for f32/f16/bf16, double-double for f64 */
    const actk_prelu_plan plan = actk_prelu_make_plan(1000, 300, 1);
    EXPECT_EQ(actk_cuda_prelu_backward_workspace_size(ACTK_F32, 1000, 300, 1), plan.partials * 2 * sizeof(float));
    EXPECT_EQ(actk_cuda_prelu_backward_workspace_size(ACTK_BF16, 1000, 300, 1), plan.partials * 2 * sizeof(float));
    EXPECT_EQ(actk_cuda_prelu_backward_workspace_size(ACTK_F64, 1000, 300, 1), plan.partials * 2 * sizeof(double));
    EXPECT_EQ(plan.partials, plan.splits * 300);
}
