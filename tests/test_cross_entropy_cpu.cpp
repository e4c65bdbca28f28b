// SPDX-License-Identifier: MIT
/*
 * test_cross_entropy_cpu.cpp - the CPU oracle of the fused softmax
 * cross-entropy against values derived by hand for tiny rows and against
 * an independent direct formula (loss = -sum_j q_j log p_j with the
 * smoothed target distribution q; the gradient by central differences of
 * that formula), plus the contract: ignore_index, reductions, all-ignored
 * batches, bad targets, in place, strides, int32/int64 targets, extreme
 * logits.
 */
#include "actk/actk.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace {

using actk_test::Buffer;

typedef long double real;

actk_cross_entropy_options opts(actk_reduction reduction, float eps = 0, float z_loss = 0, float cap = 0)
{
    actk_cross_entropy_options o = actk_cross_entropy_default();
    o.reduction = reduction;
    o.label_smoothing = eps;
    o.z_loss = z_loss;
    o.softcap = cap;
    return o;
}

/* The direct formula of one row (long double): capped logits, log p_j =
 * z_j - log(sum exp z), loss = -sum q_j log p_j + z_loss lse^2 with
 * q_j = (1 - eps)[j == t] + eps / C. */
real direct_loss(const std::vector<real> &x, long long t, real eps, real zc, real cap, real *lse_out = nullptr)
{
    const size_t n = x.size();
    std::vector<real> z(n);
    for (size_t j = 0; j < n; ++j) z[j] = cap > 0 ? cap * std::tanh(x[j] / cap) : x[j];
    real m = z[0];
    for (real v : z) m = std::max(m, v);
    real s = 0;
    for (real v : z) s += std::exp(v - m);
    const real lse = m + std::log(s);
    if (lse_out) *lse_out = lse;
    real loss = 0;
    for (size_t j = 0; j < n; ++j) {
        const real q = ((long long)j == t ? 1 - eps : 0) + eps / (real)n;
        loss -= q * (z[j] - lse);
    }
    return loss + zc * lse * lse;
}

struct Case {
    float eps, z_loss, cap;
};

TEST(CrossEntropyCpu, HandDerivedTinyRows)
{
    /* rows: [0, 0] target 0; [0, ln 3] target 1 */
    const float x[4] = {0.0f, 0.0f, 0.0f, (float)std::log(3.0L)};
    const int32_t t[2] = {0, 1};
    float loss[2], lse[2], grad[4];
    ASSERT_EQ(actk_cpu_cross_entropy_forward_backward(opts(ACTK_REDUCTION_NONE), ACTK_F32, 2, 2, x, 2, ACTK_INDEX_I32,
                                                      t, loss, lse, grad, 2),
              ACTK_SUCCESS);
    const real ln3 = (real)x[3]; /* the stored value, so the check is exact in the hand formula */
    EXPECT_FLOAT_EQ(loss[0], (float)std::log(2.0L));
    EXPECT_FLOAT_EQ(lse[0], (float)std::log(2.0L));
    EXPECT_FLOAT_EQ(grad[0], -0.5f);
    EXPECT_FLOAT_EQ(grad[1], 0.5f);
    EXPECT_FLOAT_EQ(lse[1], (float)std::log(1 + std::exp(ln3)));
    EXPECT_FLOAT_EQ(loss[1], (float)(std::log(1 + std::exp(ln3)) - ln3));        /* ln(4/3) */
    EXPECT_NEAR(grad[2], 0.25f, 1e-7f);                                           /* 1/4 */
    EXPECT_NEAR(grad[3], -0.25f, 1e-7f);                                          /* 3/4 - 1 */

    /* smoothing eps = 0.5 on [0, 0], target 0: 0.5 ln2 + 0.5 (ln2 - 0) = ln2;
     * grad = [0.5 - 0.5 - 0.25, 0.5 - 0.25] */
    ASSERT_EQ(actk_cpu_cross_entropy_forward_backward(opts(ACTK_REDUCTION_NONE, 0.5f), ACTK_F32, 1, 2, x, 2,
                                                      ACTK_INDEX_I32, t, loss, lse, grad, 2),
              ACTK_SUCCESS);
    EXPECT_FLOAT_EQ(loss[0], (float)std::log(2.0L));
    EXPECT_FLOAT_EQ(grad[0], -0.25f);
    EXPECT_FLOAT_EQ(grad[1], 0.25f);

    /* z-loss 0.125 on [0, 0]: ln2 + ln2^2 / 8; grad = (1 + ln2 / 4) / 2 - [1, 0] */
    ASSERT_EQ(actk_cpu_cross_entropy_forward_backward(opts(ACTK_REDUCTION_NONE, 0, 0.125f), ACTK_F32, 1, 2, x, 2,
                                                      ACTK_INDEX_I32, t, loss, lse, grad, 2),
              ACTK_SUCCESS);
    const real l2 = std::log(2.0L);
    EXPECT_FLOAT_EQ(loss[0], (float)(l2 + l2 * l2 / 8));
    EXPECT_FLOAT_EQ(grad[0], (float)((1 + l2 / 4) / 2 - 1));
    EXPECT_FLOAT_EQ(grad[1], (float)((1 + l2 / 4) / 2));

    /* soft-cap 1 on [0, 0]: tanh(0) = 0, the same loss; sech^2(0) = 1 */
    ASSERT_EQ(actk_cpu_cross_entropy_forward_backward(opts(ACTK_REDUCTION_NONE, 0, 0, 1.0f), ACTK_F32, 1, 2, x, 2,
                                                      ACTK_INDEX_I32, t, loss, lse, grad, 2),
              ACTK_SUCCESS);
    EXPECT_FLOAT_EQ(loss[0], (float)l2);
    EXPECT_FLOAT_EQ(grad[0], -0.5f);

    /* MEAN of the two rows, grad_scale 2: each row's gradient times 2/2 */
    actk_cross_entropy_options mean = opts(ACTK_REDUCTION_MEAN);
    mean.grad_scale = 2.0f;
    ASSERT_EQ(
        actk_cpu_cross_entropy_forward_backward(mean, ACTK_F32, 2, 2, x, 2, ACTK_INDEX_I32, t, loss, nullptr, grad, 2),
        ACTK_SUCCESS);
    EXPECT_FLOAT_EQ(loss[0], (float)((l2 + std::log(1 + std::exp(ln3)) - ln3) / 2));
    EXPECT_FLOAT_EQ(grad[0], -0.5f);
    EXPECT_NEAR(grad[3], -0.25f, 1e-7f);
}

TEST(CrossEntropyCpu, MatchesDirectFormulaEveryOptionAndDtype)
{
    std::mt19937_64 rng(16);
    const Case cases[] = {{0, 0, 0}, {0.1f, 0, 0}, {1, 0, 0}, {0, 1e-3f, 0}, {0, 0, 5}, {0.2f, 1e-2f, 3}};
    const size_t class_counts[] = {1, 2, 7, 33, 300};
    for (actk_dtype dtype : {ACTK_F32, ACTK_F16, ACTK_BF16})
        for (const Case &c : cases)
            for (size_t classes : class_counts) {
                const size_t rows = 5, ld = classes + 3;
                Buffer x(dtype, rows * ld), grad(dtype, rows * classes);
                std::normal_distribution<double> normal(0.0, 4.0);
                for (size_t i = 0; i < rows * ld; ++i) x.set(i, normal(rng));
                std::vector<int64_t> t(rows);
                for (size_t r = 0; r < rows; ++r) t[r] = (int64_t)(rng() % classes);
                std::vector<float> loss(rows), lse(rows);
                ASSERT_EQ(actk_cpu_cross_entropy_forward_backward(
                              opts(ACTK_REDUCTION_NONE, c.eps, c.z_loss, c.cap), dtype, rows, classes, x.data(), ld,
                              ACTK_INDEX_I64, t.data(), loss.data(), lse.data(), grad.data(), classes),
                          ACTK_SUCCESS);
                for (size_t r = 0; r < rows; ++r) {
                    std::vector<real> row(classes);
                    for (size_t j = 0; j < classes; ++j) row[j] = x.get(r * ld + j);
                    real want_lse;
                    const real want = direct_loss(row, t[r], c.eps, c.z_loss, c.cap, &want_lse);
                    SCOPED_TRACE(testing::Message() << actk_dtype_name(dtype) << " eps " << c.eps << " z " << c.z_loss
                                                    << " cap " << c.cap << " classes " << classes << " row " << r);
                    EXPECT_NEAR(loss[r], (double)want, 1e-6 * (1 + std::fabs((double)want)));
                    EXPECT_NEAR(lse[r], (double)want_lse, 1e-6 * (1 + std::fabs((double)want_lse)));
                    /* the gradient: central differences of the direct formula */
                    for (size_t j = 0; j < classes; j += classes > 40 ? 37 : 1) {
                        const real h = 1e-4L * (1 + std::fabs(row[j]));
                        std::vector<real> up = row, down = row;
                        up[j] += h;
                        down[j] -= h;
                        const real fd = (direct_loss(up, t[r], c.eps, c.z_loss, c.cap) -
                                         direct_loss(down, t[r], c.eps, c.z_loss, c.cap)) / (2 * h);
                        const double tol = dtype == ACTK_F32 ? 1e-6 : dtype == ACTK_F16 ? 1e-3 : 8e-3;
                        EXPECT_NEAR((double)grad.get(r * classes + j), (double)fd, tol * (1 + std::fabs((double)fd)))
                            << "column " << j;
                    }
                }
            }
}

TEST(CrossEntropyCpu, IgnoreIndexAndReductions)
{
    const size_t rows = 6, classes = 5;
    std::vector<float> x(rows * classes);
    std::mt19937_64 rng(3);
    std::uniform_real_distribution<float> u(-3, 3);
    for (float &v : x) v = u(rng);
    /* -100 (the default ignore_index) twice; 3 is ignored by a custom index below */
    const int32_t t[rows] = {1, -100, 4, 3, -100, 0};
    std::vector<float> none(rows), lse(rows), grad_none(rows * classes);
    actk_cross_entropy_options o = opts(ACTK_REDUCTION_NONE, 0.1f);
    ASSERT_EQ(actk_cpu_cross_entropy_forward_backward(o, ACTK_F32, rows, classes, x.data(), classes, ACTK_INDEX_I32, t,
                                                      none.data(), lse.data(), grad_none.data(), classes),
              ACTK_SUCCESS);
    for (size_t r : {1, 4}) {
        EXPECT_EQ(none[r], 0.0f);
        EXPECT_TRUE(std::isfinite(lse[r])); /* still written */
        for (size_t j = 0; j < classes; ++j) EXPECT_EQ(grad_none[r * classes + j], 0.0f);
    }
    real sum = 0;
    for (size_t r = 0; r < rows; ++r) sum += none[r];
    float total;
    std::vector<float> grad(rows * classes);
    o.reduction = ACTK_REDUCTION_SUM;
    o.grad_scale = 0.5f;
    ASSERT_EQ(actk_cpu_cross_entropy_forward_backward(o, ACTK_F32, rows, classes, x.data(), classes, ACTK_INDEX_I32, t,
                                                      &total, nullptr, grad.data(), classes),
              ACTK_SUCCESS);
    EXPECT_NEAR(total, (double)sum, 1e-6 * (double)sum);
    for (size_t i = 0; i < rows * classes; ++i) EXPECT_NEAR(grad[i], 0.5 * grad_none[i], 1e-7);
    o.reduction = ACTK_REDUCTION_MEAN;
    ASSERT_EQ(actk_cpu_cross_entropy_forward_backward(o, ACTK_F32, rows, classes, x.data(), classes, ACTK_INDEX_I32, t,
                                                      &total, nullptr, grad.data(), classes),
              ACTK_SUCCESS);
    EXPECT_NEAR(total, (double)(sum / 4), 1e-6 * (double)sum); /* 4 rows not ignored */
    for (size_t i = 0; i < rows * classes; ++i) EXPECT_NEAR(grad[i], 0.5 / 4 * grad_none[i], 1e-7);
    /* a custom ignore_index inside the class range */
    o.ignore_index = 3;
    o.reduction = ACTK_REDUCTION_NONE;
    const int32_t t2[rows] = {1, 2, 4, 3, 0, 0};
    ASSERT_EQ(actk_cpu_cross_entropy_forward_backward(o, ACTK_F32, rows, classes, x.data(), classes, ACTK_INDEX_I32, t2,
                                                      none.data(), nullptr, grad.data(), classes),
              ACTK_SUCCESS);
    EXPECT_EQ(none[3], 0.0f);
    EXPECT_GT(none[2], 0.0f);
}

/* options.row_grad (NONE): row r's gradient is the row's gradient with
 * grad_scale = row_grad[r] (each row computed alone with that scale), the
 * losses and lse are unchanged, an ignored row's gradient stays 0 whatever
 * its row_grad, and a NaN row_grad makes that row's gradient NaN. */
TEST(CrossEntropyCpu, RowGradScalesEachRowAsItsGradScale)
{
    const size_t rows = 6, classes = 7;
    std::vector<float> x(rows * classes);
    std::mt19937_64 rng(16);
    std::uniform_real_distribution<float> u(-4, 4);
    for (float &v : x) v = u(rng);
    const int64_t t[rows] = {1, -100, 6, 0, 3, 2};
    const float row_grad[rows] = {0.25f, 5.0f, -3.0f, 0.0f, 1e-30f, NAN};
    for (float cap : {0.0f, 3.0f}) {
        actk_cross_entropy_options o = opts(ACTK_REDUCTION_NONE, 0.1f, 1e-3f, cap);
        std::vector<float> loss_plain(rows), loss(rows), lse(rows), grad(rows * classes);
        ASSERT_EQ(actk_cpu_cross_entropy_forward_backward(o, ACTK_F32, rows, classes, x.data(), classes, ACTK_INDEX_I64,
                                                          t, loss_plain.data(), nullptr, nullptr, classes),
                  ACTK_SUCCESS);
        o.row_grad = row_grad;
        ASSERT_EQ(actk_cpu_cross_entropy_forward_backward(o, ACTK_F32, rows, classes, x.data(), classes, ACTK_INDEX_I64,
                                                          t, loss.data(), lse.data(), grad.data(), classes),
                  ACTK_SUCCESS)
            << actk_last_error();
        for (size_t r = 0; r < rows; ++r) {
            EXPECT_EQ(loss[r], loss_plain[r]);
            actk_cross_entropy_options one = opts(ACTK_REDUCTION_NONE, 0.1f, 1e-3f, cap);
            std::vector<float> one_loss(1), one_grad(classes);
            if (std::isnan(row_grad[r])) { /* grad_scale must be finite: check NaN by hand */
                for (size_t j = 0; j < classes; ++j) EXPECT_TRUE(std::isnan(grad[r * classes + j]));
                continue;
            }
            one.grad_scale = row_grad[r];
            ASSERT_EQ(actk_cpu_cross_entropy_forward_backward(one, ACTK_F32, 1, classes, x.data() + r * classes,
                                                              classes, ACTK_INDEX_I64, t + r, one_loss.data(), nullptr,
                                                              one_grad.data(), classes),
                      ACTK_SUCCESS);
            for (size_t j = 0; j < classes; ++j) {
                EXPECT_EQ(grad[r * classes + j], one_grad[j]) << "row " << r << " column " << j;
                if (t[r] == -100) {
                    EXPECT_EQ(grad[r * classes + j], 0.0f);
                }
            }
        }
        /* forward only: row_grad is not read (a NaN pointer target would not matter) */
        EXPECT_EQ(actk_cpu_cross_entropy_forward_backward(o, ACTK_F32, rows, classes, x.data(), classes, ACTK_INDEX_I64,
                                                          t, loss.data(), nullptr, nullptr, classes),
                  ACTK_SUCCESS);
    }
}

TEST(CrossEntropyCpu, AllIgnoredBatch)
{
    const float x[6] = {1, 2, 3, 4, 5, 6};
    const int64_t t[2] = {-100, -100};
    float loss = 0, grad[6];
    for (float &g : grad) g = 7;
    ASSERT_EQ(actk_cpu_cross_entropy_forward_backward(opts(ACTK_REDUCTION_MEAN), ACTK_F32, 2, 3, x, 3, ACTK_INDEX_I64,
                                                      t, &loss, nullptr, grad, 3),
              ACTK_SUCCESS);
    EXPECT_TRUE(std::isnan(loss)) << "MEAN of no row is NaN, as PyTorch";
    for (float g : grad) EXPECT_EQ(g, 0.0f);
    ASSERT_EQ(actk_cpu_cross_entropy_forward_backward(opts(ACTK_REDUCTION_SUM), ACTK_F32, 2, 3, x, 3, ACTK_INDEX_I64, t,
                                                      &loss, nullptr, grad, 3),
              ACTK_SUCCESS);
    EXPECT_EQ(loss, 0.0f);
    /* no rows at all: SUM 0, MEAN NaN */
    loss = 7;
    ASSERT_EQ(actk_cpu_cross_entropy_forward_backward(opts(ACTK_REDUCTION_SUM), ACTK_F32, 0, 3, nullptr, 3,
                                                      ACTK_INDEX_I64, nullptr, &loss, nullptr, nullptr, 3),
              ACTK_SUCCESS);
    EXPECT_EQ(loss, 0.0f);
    ASSERT_EQ(actk_cpu_cross_entropy_forward_backward(opts(ACTK_REDUCTION_MEAN), ACTK_F32, 0, 3, nullptr, 3,
                                                      ACTK_INDEX_I64, nullptr, &loss, nullptr, nullptr, 3),
              ACTK_SUCCESS);
    EXPECT_TRUE(std::isnan(loss));
}

TEST(CrossEntropyCpu, BadTargetIsRejectedAndNothingWritten)
{
    const float x[6] = {1, 2, 3, 4, 5, 6};
    for (int32_t bad : {3, -1, -101, INT32_MAX}) {
        const int32_t t[2] = {0, bad};
        float loss[2] = {7, 7}, lse[2] = {7, 7}, grad[6] = {7, 7, 7, 7, 7, 7};
        EXPECT_EQ(actk_cpu_cross_entropy_forward_backward(opts(ACTK_REDUCTION_NONE), ACTK_F32, 2, 3, x, 3,
                                                          ACTK_INDEX_I32, t, loss, lse, grad, 3),
                  ACTK_ERROR_INVALID_VALUE);
        EXPECT_NE(std::string(actk_last_error()).find("targets[1]"), std::string::npos) << actk_last_error();
        for (float v : loss) EXPECT_EQ(v, 7.0f);
        for (float v : lse) EXPECT_EQ(v, 7.0f);
        for (float v : grad) EXPECT_EQ(v, 7.0f);
    }
}

TEST(CrossEntropyCpu, InPlaceStridedAndIndexTypesAgree)
{
    const size_t rows = 4, classes = 9, ld = 12;
    std::vector<float> x(rows * ld);
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<float> u(-6, 6);
    for (float &v : x) v = u(rng);
    const int32_t t32[rows] = {8, 0, -100, 4};
    const int64_t t64[rows] = {8, 0, -100, 4};
    const actk_cross_entropy_options o = opts(ACTK_REDUCTION_NONE, 0.05f, 1e-3f, 4.0f);
    std::vector<float> loss32(rows), loss64(rows), g32(rows * classes), g64(rows * classes);
    ASSERT_EQ(actk_cpu_cross_entropy_forward_backward(o, ACTK_F32, rows, classes, x.data(), ld, ACTK_INDEX_I32, t32,
                                                      loss32.data(), nullptr, g32.data(), classes),
              ACTK_SUCCESS);
    ASSERT_EQ(actk_cpu_cross_entropy_forward_backward(o, ACTK_F32, rows, classes, x.data(), ld, ACTK_INDEX_I64, t64,
                                                      loss64.data(), nullptr, g64.data(), classes),
              ACTK_SUCCESS);
    EXPECT_EQ(loss32, loss64);
    EXPECT_EQ(g32, g64);
    std::vector<float> in_place = x, loss_ip(rows);
    ASSERT_EQ(actk_cpu_cross_entropy_forward_backward(o, ACTK_F32, rows, classes, in_place.data(), ld, ACTK_INDEX_I32,
                                                      t32, loss_ip.data(), nullptr, in_place.data(), ld),
              ACTK_SUCCESS);
    EXPECT_EQ(loss_ip, loss32);
    for (size_t r = 0; r < rows; ++r) {
        for (size_t j = 0; j < classes; ++j) EXPECT_EQ(in_place[r * ld + j], g32[r * classes + j]);
        for (size_t j = classes; j < ld; ++j) EXPECT_EQ(in_place[r * ld + j], x[r * ld + j]) << "padding untouched";
    }
}

TEST(CrossEntropyCpu, ExtremeLogits)
{
    const float inf = INFINITY, nan = NAN;
    const size_t classes = 3;
    const float x[] = {
        1, inf, 2,          /* +inf: NaN */
        1, nan, 2,          /* NaN: NaN */
        -inf, -inf, -inf,   /* all -inf: NaN */
        -inf, 1, 2,         /* target's logit -inf: loss +inf, gradient finite */
        1e30f, -1e30f, 0,   /* huge: finite */
        -1e30f, 1e30f, 0,   /* huge, target far below: loss 2e30 */
    };
    const int32_t t[] = {0, 0, 0, 0, 0, 0};
    const size_t rows = 6;
    float loss[rows], lse[rows], grad[rows * classes];
    ASSERT_EQ(actk_cpu_cross_entropy_forward_backward(opts(ACTK_REDUCTION_NONE), ACTK_F32, rows, classes, x, classes,
                                                      ACTK_INDEX_I32, t, loss, lse, grad, classes),
              ACTK_SUCCESS);
    for (size_t r = 0; r < 3; ++r) {
        EXPECT_TRUE(std::isnan(loss[r])) << r;
        EXPECT_TRUE(std::isnan(lse[r])) << r;
        for (size_t j = 0; j < classes; ++j) EXPECT_TRUE(std::isnan(grad[r * classes + j])) << r;
    }
    EXPECT_EQ(loss[3], inf);
    EXPECT_FLOAT_EQ(grad[9], -1.0f);
    EXPECT_FLOAT_EQ(grad[10], (float)(1 / (1 + std::exp(1.0L))));
    EXPECT_EQ(loss[4], 0.0f);
    EXPECT_EQ(lse[4], 1e30f);
    EXPECT_FLOAT_EQ(loss[5], 2e30f);
    EXPECT_EQ(grad[15], -1.0f);
    EXPECT_EQ(grad[16], 1.0f);
    /* soft-cap makes +inf finite: cap * tanh(inf) = cap */
    ASSERT_EQ(actk_cpu_cross_entropy_forward_backward(opts(ACTK_REDUCTION_NONE, 0, 0, 2.0f), ACTK_F32, 1, classes, x,
                                                      classes, ACTK_INDEX_I32, t, loss, lse, grad, classes),
              ACTK_SUCCESS);
    EXPECT_TRUE(std::isfinite(loss[0]));
    EXPECT_EQ(grad[1], 0.0f); /* sech^2(inf) = 0 */
    /* one class: loss 0, gradient 0, with smoothing and z-loss 0 too */
    const float one[2] = {5, -3};
    const int32_t zero[2] = {0, 0};
    ASSERT_EQ(actk_cpu_cross_entropy_forward_backward(opts(ACTK_REDUCTION_NONE, 0.3f), ACTK_F32, 2, 1, one, 1,
                                                      ACTK_INDEX_I32, zero, loss, lse, grad, 1),
              ACTK_SUCCESS);
    EXPECT_EQ(loss[0], 0.0f);
    EXPECT_EQ(lse[0], 5.0f);
    EXPECT_EQ(grad[0], 0.0f);
    EXPECT_EQ(grad[1], 0.0f);
}

} // namespace
