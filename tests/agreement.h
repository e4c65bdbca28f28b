// SPDX-License-Identifier: MIT
/*
 * agreement.h - compares a result buffer with the CPU reference (the
 * oracle) under the library's promised bounds:
 *   f32: forward <= 2 ULP, backward <= 4 ULP;  f16/bf16: <= 1 ULP;
 *   f64: <= 4 ULP forward, <= 8 ULP backward, or (where the function is ill-conditioned: near a root
 *        of f', in a cancelling difference) no further from the reference
 *        than the reference moves when its input moves by 4 ULP.
 * NaN must match NaN exactly.
 */
#ifndef ACTK_TEST_AGREEMENT_H
#define ACTK_TEST_AGREEMENT_H

#include "test_util.h"

#include <cstdio>
#include <iterator>
#include <vector>

namespace actk_test {

struct AgreementReport {
    size_t checked = 0;
    size_t failures = 0;
    long double max_ulp = 0;
    size_t inexact = 0; /* results not equal to the reference (not correctly rounded) */
    std::string first_failure;
};

/* Every op with its defaults, plus non-default parameters where they change
 * the code path (non-power-of-two scales exercise the FMA corrections).
 * Shared by the host-emulation and GPU tests. */
inline std::vector<actk_act> activations_under_test()
{
    std::vector<actk_act> acts;
    for (int op = 0; op < ACTK_OP_COUNT; ++op) acts.push_back(actk_act_default((actk_op)op));
    const actk_act extra[] = {
        {ACTK_OP_LEAKY_RELU, 0.2f, 0}, {ACTK_OP_ELU, 0.7f, 0},          {ACTK_OP_CELU, 0.7f, 0},
        {ACTK_OP_CELU, 2.5f, 0},       {ACTK_OP_SOFTPLUS, 0.7f, 20.0f}, {ACTK_OP_SOFTPLUS, 3.0f, 10.0f},
        {ACTK_OP_SILU, 1.702f, 0},     {ACTK_OP_HARDTANH, -2.0f, 0.5f}, {ACTK_OP_SOFTSHRINK, 1.3f, 0},
        {ACTK_OP_HARDSHRINK, 0.2f, 0}, {ACTK_OP_THRESHOLD, 0.3f, -2.0f}};
    acts.insert(acts.end(), std::begin(extra), std::end(extra));
    return acts;
}

/* Runs the CPU reference for direction dir (0 forward, 1 backward, 2 from y). */
inline actk_status reference(actk_act act, actk_dtype dtype, int dir, size_t n, const void *in0, const void *in1,
                             void *out)
{
    switch (dir) {
    case 0: return actk_cpu_forward(act, dtype, n, in0, out);
    case 1: return actk_cpu_backward(act, dtype, n, in0, in1, out);
    default: return actk_cpu_backward_from_y(act, dtype, n, in0, in1, out);
    }
}

/* |f(x') - f(x)| for x' 4 ULP either side of x (f64 only): how far the
 * reference moves under a 4-ULP perturbation of its first input. */
inline long double perturbation_spread(actk_act act, int dir, double a, double b, double ref)
{
    if (!std::isfinite(a)) return 0;
    double inputs[2] = {a, a}, out = 0, dy[1] = {b};
    for (int k = 0; k < 4; ++k) {
        inputs[0] = std::nextafter(inputs[0], -INFINITY);
        inputs[1] = std::nextafter(inputs[1], INFINITY);
    }
    long double spread = 0;
    for (double xi : inputs) {
        if (reference(act, ACTK_F64, dir, 1, &xi, dy, &out) != ACTK_SUCCESS) return 0;
        if (std::isfinite(out)) spread = std::fmax((double)spread, std::fabs(out - ref));
    }
    return spread;
}

inline AgreementReport compare_with_reference(actk_act act, actk_dtype dtype, int dir, const void *in0,
                                              const void *in1, const void *got, size_t n)
{
    AgreementReport report;
    Buffer ref(dtype, n);
    if (reference(act, dtype, dir, n, in0, in1, ref.data()) != ACTK_SUCCESS) {
        report.failures = n;
        report.first_failure = std::string("reference failed: ") + actk_last_error();
        return report;
    }
    const double bound = ulp_bound(dtype, dir == 0);
    for (size_t i = 0; i < n; ++i) {
        const long double r = ref.get(i), g = load(dtype, got, i);
        const long double ulp = ulp_distance(dtype, g, r);
        bool ok = ulp <= bound;
        if (!ok && dtype == ACTK_F64 && std::isfinite((double)r) && std::isfinite((double)g)) {
            const double rd = (double)r;
            const double ulp_size = std::nextafter(std::fabs(rd), INFINITY) - std::fabs(rd);
            const long double b = in1 ? load(dtype, in1, i) : 0.0L;
            const long double tol = perturbation_spread(act, dir, (double)load(dtype, in0, i), (double)b, rd);
            ok = fabsl(g - r) <= tol + bound * ulp_size;
        }
        ++report.checked;
        if (ulp != 0) ++report.inexact;
        if (ulp > report.max_ulp && !std::isinf((double)ulp)) report.max_ulp = ulp;
        if (!ok) {
            if (report.failures++ == 0) {
                char text[256];
                snprintf(text, sizeof text, "%s dir %d: in0 = %.17Lg in1 = %.17Lg got %.17Lg want %.17Lg (%.3Lg ulp)",
                         describe(act, dtype).c_str(), dir, load(dtype, in0, i), in1 ? load(dtype, in1, i) : 0.0L, g,
                         r, ulp);
                report.first_failure = text;
            }
        }
    }
    return report;
}

} // namespace actk_test

#endif
