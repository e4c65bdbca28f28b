// SPDX-License-Identifier: MIT
/*
 * gated_util.h - helpers for the gated tests: the gated activations under
 * test, row packing in every layout, the oracle (actk_cpu_gated_*), and the
 * comparison under the promised bounds (README "Numerics", "Gated").
 */
#ifndef ACTK_TEST_GATED_UTIL_H
#define ACTK_TEST_GATED_UTIL_H

#include "agreement.h"

#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace actk_test {

/* A gated activation: act(gate) * up, or clamped SwiGLU (act = {silu,
 * alpha, limit}). */
struct Gated {
    actk_act act;
    bool clamped;
};

inline std::string describe(const Gated &g, actk_dtype dtype)
{
    if (g.clamped)
        return "clamped_swiglu alpha=" + std::to_string(g.act.alpha) + " limit=" + std::to_string(g.act.beta) + " " +
               actk_dtype_name(dtype);
    return "gated " + describe(g.act, dtype);
}

/* Every op (with the non-default parameter sets of the element-wise tests)
 * plus clamped SwiGLU with gpt-oss's constants and with others. */
inline std::vector<Gated> gated_under_test()
{
    std::vector<Gated> all;
    for (const actk_act act : activations_under_test()) all.push_back({act, false});
    all.push_back({{ACTK_OP_SILU, ACTK_CLAMPED_SWIGLU_ALPHA, ACTK_CLAMPED_SWIGLU_LIMIT}, true});
    all.push_back({{ACTK_OP_SILU, 1.0f, 3.5f}, true});
    all.push_back({{ACTK_OP_SILU, 1.702f, INFINITY}, true});
    return all;
}

inline actk_status gated_cpu(const Gated &g, bool backward, actk_gated_layout layout, actk_gate_position gate,
                             actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx, const void *dy,
                             size_t lddy, void *out, size_t ldout)
{
    if (g.clamped)
        return backward ? actk_cpu_clamped_swiglu_backward(g.act.alpha, g.act.beta, layout, gate, dtype, rows, cols,
                                                           x, ldx, dy, lddy, out, ldout)
                        : actk_cpu_clamped_swiglu_forward(g.act.alpha, g.act.beta, layout, gate, dtype, rows, cols, x,
                                                          ldx, out, ldout);
    return backward ? actk_cpu_gated_backward(g.act, layout, gate, dtype, rows, cols, x, ldx, dy, lddy, out, ldout)
                    : actk_cpu_gated_forward(g.act, layout, gate, dtype, rows, cols, x, ldx, out, ldout);
}

/* Index in a row of column j's gate (which = 0) or up (which = 1). */
inline size_t gated_position(actk_gated_layout layout, actk_gate_position gate, size_t cols, size_t j, int which)
{
    const bool first = (which == 0) == (gate == ACTK_GATE_FIRST);
    return layout == ACTK_GATED_INTERLEAVED ? 2 * j + (first ? 0 : 1) : j + (first ? 0 : cols);
}

/* The activation's value or derivative at the (clamped) gate, rounded to
 * double: where it lies below the compute type's normal range, the gated
 * product keeps only the bits it has (README "Gated": exempt outputs). */
inline double act_at(const Gated &g, bool derivative, long double gate)
{
    const actk_act act = g.clamped ? actk_act{ACTK_OP_SILU, g.act.alpha, 0} : g.act;
    double x = (double)gate, one = 1.0, out = 0;
    if (g.clamped && x > g.act.beta) x = g.act.beta;
    if (derivative) actk_cpu_backward(act, ACTK_F64, 1, &x, &one, &out);
    else actk_cpu_forward(act, ACTK_F64, 1, &x, &out);
    return out;
}

/* Per-output comparison state for one (gated op, dtype, direction). */
struct GatedReport {
    size_t checked = 0, failures = 0, exempt = 0, conditioned = 0;
    long double max_ulp = 0;
    std::string first_failure;
};

/* What the kernels' compute type can hold: its normal range, and how far
 * (relative) the gate may move within the compute type's accuracy: 4 ULP of
 * double, 2^-19 for float (HalfMath's stated accuracy). */
struct ComputeRange {
    double min_normal, max, gate_wobble;
    double extra_ulp; /* 1 where the compute type is the storage type: the product's own rounding */
};
template <class C> ComputeRange compute_range(actk_dtype dtype)
{
    return {(double)std::numeric_limits<C>::min(), (double)std::numeric_limits<C>::max(),
            sizeof(C) == sizeof(double) ? 0x1p-50 : 0x1p-19, sizeof(C) == actk_dtype_size(dtype) ? 1.0 : 0.0};
}

/* Checks one output value against the oracle. gate/up/dy: this column's
 * inputs; which: 0 y, 1 dgate, 2 dup. Beyond the ULP bound two documented
 * allowances (README "Gated"); the bound is the element-wise one, plus 1
 * ULP where the compute type is the storage type (f64), for the product's
 * own rounding in storage precision:
 *  - exempt: act(gate) (y, dup) or act'(gate) (dgate), evaluated in double,
 *    lies outside the compute type's normal range and the oracle is not 0:
 *    the factor has lost bits (or overflowed) before the product, which
 *    may bring the result back into range (0 * inf = NaN belongs here);
 *  - conditioning: no further from the oracle than the oracle moves when
 *    the gate moves by the compute type's accuracy (near a root of act'
 *    a large dy * up magnifies act''s absolute error), plus the bound. */
inline void check_gated_value(GatedReport &rep, const Gated &g, actk_dtype dtype, int which, long double gate,
                              long double up, long double dy, long double got, long double want,
                              const ComputeRange &range)
{
    ++rep.checked;
    const double bound = ulp_bound(dtype, which == 0) + range.extra_ulp;
    const long double ulp = ulp_distance(dtype, got, want);
    if (ulp <= bound) {
        if (ulp > rep.max_ulp) rep.max_ulp = ulp;
        return;
    }
    const double a = std::fabs(act_at(g, which == 1, gate));
    if ((a < range.min_normal || a > range.max) && (a != 0 || want != 0)) { ++rep.exempt; return; }
    bool ok = false;
    if (std::isfinite((double)want) && std::isfinite((double)got) && std::isfinite((double)gate)) {
        const double oracle = [&] {
            double row[2] = {(double)gate, (double)up}, d1 = (double)dy, out[2] = {0, 0};
            gated_cpu(g, which != 0, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, ACTK_F64, 1, 1, row, 2, &d1, 1, out,
                      which == 0 ? 1 : 2);
            return which == 2 ? out[1] : out[0];
        }();
        double spread = 0;
        for (double sign : {-1.0, 1.0}) {
            double row[2] = {(double)gate * (1 + sign * range.gate_wobble), (double)up}, d1 = (double)dy,
                   out[2] = {0, 0};
            if (row[0] == (double)gate) row[0] = std::nextafter(row[0], sign * INFINITY);
            if (gated_cpu(g, which != 0, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, ACTK_F64, 1, 1, row, 2, &d1, 1, out,
                          which == 0 ? 1 : 2) != ACTK_SUCCESS)
                continue;
            const double v = which == 2 ? out[1] : out[0];
            if (std::isfinite(v)) spread = std::fmax(spread, std::fabs(v - oracle));
        }
        const long double w = want;
        /* ULP of the storage type at want */
        long double step = 0;
        {
            Buffer up1(dtype, 1);
            up1.set(0, w);
            unsigned char *bytes = static_cast<unsigned char *>(up1.data());
            const size_t elem = actk_dtype_size(dtype);
            uint64_t bits = 0;
            std::memcpy(&bits, bytes, elem);
            bits += 1;
            std::memcpy(bytes, &bits, elem);
            step = fabsl(up1.get(0) - w);
        }
        ok = fabsl(got - want) <= spread + bound * step;
        if (ok) ++rep.conditioned;
    }
    if (ok) return;
    if (rep.failures++ == 0) {
        char text[320];
        snprintf(text, sizeof text, "%s %s: gate = %.17Lg up = %.17Lg dy = %.17Lg got %.17Lg want %.17Lg (%.3Lg ulp)",
                 describe(g, dtype).c_str(), which == 0 ? "y" : which == 1 ? "dgate" : "dup", gate, up, dy, got, want,
                 ulp);
        rep.first_failure = text;
    }
}

} // namespace actk_test

#endif
