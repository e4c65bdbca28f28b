// SPDX-License-Identifier: MIT
/*
 * cross_entropy_check.h - the cross-entropy's accuracy rule, shared by the
 * host replay (test_cross_entropy_on_host.cpp) and the GPU test
 * (test_cross_entropy_gpu.cpp): outputs of one call against the long double
 * oracle (actk_cpu_cross_entropy_forward_backward) on the same inputs.
 *
 * Bounds (README "Cross-entropy"), eps = 2^-24:
 *  - lse within 4 ULP (f32), or 4 eps (|lse| + 1) absolutely;
 *  - the loss within 4 ULP or, where it cancels (a confident row), 4 eps
 *    (|lse| + 1) absolutely;
 *  - the gradient within 4 ULP (f32) / 1 ULP (f16, bf16), or where
 *    p - (1 - eps) cancels 4 u_dtype g (|1 + 2 z_loss lse| + 1)
 *    absolutely (g the row's gradient scale);
 *  - with the soft-cap the capped logit is itself rounded to float (eps
 *    |z|, |z| <= cap), so the loss and lse bound becomes 8 eps (min(|x|max,
 *    cap) + |lse| + 1) and the gradient's adds 8 eps g (|coeff| + 1);
 *  - SUM/MEAN: within 8 eps (sum of |row losses| (/ count) + 1) of the
 *    oracle's reduced loss.
 * Non-finite results must match exactly (NaN for NaN, inf of the same sign).
 */
#ifndef ACTK_TEST_CROSS_ENTROPY_CHECK_H
#define ACTK_TEST_CROSS_ENTROPY_CHECK_H

#include "actk/actk.h"
#include "test_util.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace actk_test {

/* Worst errors seen, for the report: ULP distances and the fraction of
 * the absolute bound used. */
struct CeWorst {
    long double loss_ulp = 0, lse_ulp = 0, grad_ulp = 0, loss_abs_rel = 0, grad_abs_rel = 0;
    void print(const char *name) const
    {
        std::printf(
            "%-34s worst: loss %4.0Lf ulp / %.3Lf of the absolute bound, lse %3.0Lf ulp, grad %4.0Lf ulp / %.3Lf of "
            "the absolute bound\n",
            name, loss_ulp, loss_abs_rel, lse_ulp, grad_ulp, grad_abs_rel);
    }
};

inline bool ce_same_special(long double a, long double b)
{
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
    if (std::isinf(a) || std::isinf(b)) return a == b;
    return true;
}

/* What a call produced: row_loss (NONE) or reduced (SUM, MEAN), lse per row
 * (may be empty: not checked), grad rows x classes dense (may be empty). */
struct CeOutputs {
    std::vector<float> row_loss, lse;
    Buffer grad;
    float reduced = 0;
    CeOutputs(actk_dtype dtype, size_t n) : grad(dtype, n) {}
};

/* Checks `got` against the oracle; targets as int64 (the oracle's targets
 * must be in range or ignore_index). Returns false after the first bad
 * gradient (with a failure recorded). */
inline bool ce_check(actk_cross_entropy_options o, actk_dtype dtype, size_t rows, size_t classes, const Buffer &x,
                     size_t ld, const std::vector<int64_t> &t, const CeOutputs &got, bool check_grad, CeWorst &worst,
                     const char *what)
{
    std::vector<float> loss(rows), lse(rows);
    Buffer grad(dtype, rows * classes);
    actk_cross_entropy_options none = o;
    none.reduction = ACTK_REDUCTION_NONE;
    EXPECT_EQ(actk_cpu_cross_entropy_forward_backward(none, dtype, rows, classes, x.data(), ld, ACTK_INDEX_I64,
                                                      t.data(), loss.data(), lse.data(), nullptr, classes),
              ACTK_SUCCESS)
        << actk_last_error();
    float reduced_oracle = 0;
    EXPECT_EQ(actk_cpu_cross_entropy_forward_backward(
                  o, dtype, rows, classes, x.data(), ld, ACTK_INDEX_I64, t.data(),
                  o.reduction == ACTK_REDUCTION_NONE ? loss.data() : &reduced_oracle, nullptr, grad.data(), classes),
              ACTK_SUCCESS)
        << actk_last_error();
    const long double eps = 0x1p-24L;
    const long double grad_u = dtype == ACTK_F32 ? eps : dtype == ACTK_F16 ? 0x1p-11L : 0x1p-8L;
    const long double grad_ulps = dtype == ACTK_F32 ? 4 : 1;
    unsigned long long count = 0;
    for (int64_t v : t) count += v != o.ignore_index;
    const long double scale =
        o.reduction == ACTK_REDUCTION_MEAN && count ? (long double)o.grad_scale / count : o.grad_scale;
    for (size_t r = 0; r < rows; ++r) {
        SCOPED_TRACE(testing::Message() << what << " " << actk_dtype_name(dtype) << " classes " << classes << " row "
                                        << r << " target " << t[r] << " eps " << o.label_smoothing << " z " << o.z_loss
                                        << " cap " << o.softcap << " reduction " << (int)o.reduction);
        long double xmax = 0;
        for (size_t j = 0; j < classes; ++j) xmax = std::max(xmax, std::fabs(x.get(r * ld + j)));
        const long double abs_lse = std::isfinite(lse[r]) ? std::fabs((long double)lse[r]) : 0;
        const long double slack = o.softcap > 0 ? 8 * eps * (std::min<long double>(xmax, o.softcap) + abs_lse + 1)
                                                : 4 * eps * (abs_lse + 1);
        if (o.reduction == ACTK_REDUCTION_NONE && !got.row_loss.empty()) {
            const long double ulp = ulp_distance(ACTK_F32, got.row_loss[r], loss[r]);
            const long double abs_err = std::fabs((long double)got.row_loss[r] - loss[r]);
            EXPECT_TRUE(ce_same_special(got.row_loss[r], loss[r])) << got.row_loss[r] << " vs " << loss[r];
            if (std::isfinite(loss[r])) {
                EXPECT_TRUE(ulp <= 4 || abs_err <= slack) << got.row_loss[r] << " vs " << loss[r];
                worst.loss_ulp = std::max(worst.loss_ulp, ulp);
                worst.loss_abs_rel = std::max(worst.loss_abs_rel, abs_err / slack);
            }
        }
        if (!got.lse.empty()) {
            const long double ulp = ulp_distance(ACTK_F32, got.lse[r], lse[r]);
            EXPECT_TRUE(ce_same_special(got.lse[r], lse[r])) << got.lse[r] << " vs " << lse[r];
            if (std::isfinite(lse[r])) {
                EXPECT_TRUE(ulp <= 4 || std::fabs((long double)got.lse[r] - lse[r]) <= slack)
                    << got.lse[r] << " vs " << lse[r];
                worst.lse_ulp = std::max(worst.lse_ulp, ulp);
            }
        }
        if (!check_grad) continue;
        const long double coeff = 1 + 2 * (long double)o.z_loss * abs_lse;
        const long double row_scale = o.row_grad ? (long double)o.row_grad[r] : scale;
        const long double terms = std::fabs(row_scale) * (std::fabs(coeff) + 1);
        const long double abs_slack = 4 * grad_u * terms + (o.softcap > 0 ? 8 * eps * terms : 0);
        for (size_t j = 0; j < classes; ++j) {
            const long double want = grad.get(r * classes + j), have = got.grad.get(r * classes + j);
            const long double ulp = ulp_distance(dtype, have, want);
            const bool ok = ce_same_special(have, want) &&
                            (!std::isfinite(want) || ulp <= grad_ulps || std::fabs(have - want) <= abs_slack);
            EXPECT_TRUE(ok) << "column " << j << ": " << (double)have << " vs " << (double)want << " (" << (double)ulp
                            << " ulp)";
            if (!ok) return false;
            if (std::isfinite(want)) {
                worst.grad_ulp = std::max(worst.grad_ulp, ulp);
                worst.grad_abs_rel = std::max(worst.grad_abs_rel, std::fabs(have - want) / abs_slack);
            }
        }
    }
    if (o.reduction != ACTK_REDUCTION_NONE) {
        long double magnitude = 0;
        for (float v : loss)
            if (std::isfinite(v)) magnitude += std::fabs((long double)v);
        const long double per_row = o.reduction == ACTK_REDUCTION_MEAN && count ? magnitude / count : magnitude;
        EXPECT_TRUE(ce_same_special(got.reduced, reduced_oracle)) << got.reduced << " vs " << reduced_oracle;
        if (std::isfinite(reduced_oracle)) {
            EXPECT_LE(std::fabs((long double)got.reduced - reduced_oracle), 8 * eps * (per_row + 1))
                << what << ": reduced " << got.reduced << " vs " << reduced_oracle;
        }
    }
    return true;
}

} // namespace actk_test

#endif
