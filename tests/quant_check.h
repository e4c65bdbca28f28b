// SPDX-License-Identifier: MIT
/*
 * quant_check.h - what the FP8-output tests share: the case description,
 * inputs with edge rows, the f32 oracle values, and the agreement rule of
 * issue 15 item 3.
 *
 * Oracle values: the activation of the (exactly widened) f32 copy of the
 * input through actk_cpu_forward_2d / actk_cpu_gated_*_forward, i.e. the
 * long double value rounded once to f32 (relative error 2^-24, far below
 * the tolerances).
 *
 * Agreement rule, per unit (row, group, MX block; per-tensor: the caller's
 * scale): the scale under test must be the rule's scale of the oracle's
 * finite amax, or the rule's scale of some amax within the relative
 * tolerance `tol` of it (a "scale boundary" case, counted). Each code must
 * equal encode(y * scale) computed from the oracle y with the scale under
 * test, or (a "boundary" case, counted) lie between the codes of
 * (y * scale)(1 -+ tol): the unrounded value sits within the activation's
 * error bound of a rounding boundary. Codes that decode to the same value
 * (+0 and -0) are equal. NaN must give a NaN code.
 */
#ifndef ACTK_TEST_QUANT_CHECK_H
#define ACTK_TEST_QUANT_CHECK_H

#include "fp8_reference.h"
#include "test_util.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace actk_qtest {

using actk_test::Buffer;

struct QuantCase {
    bool gated;
    actk_act act;
    actk_gated_layout layout;
    actk_gate_position gate;
    actk_dtype dtype;
    size_t rows, cols, ldx, ldy;
    bool bias;
    actk_fp8_format format;
    actk_quant_mode mode;
    size_t group_size; /* PER_GROUP */
    int pow2;          /* PER_GROUP */
};

inline const char *mode_name(actk_quant_mode m)
{
    switch (m) {
    case ACTK_QUANT_PER_TENSOR: return "per_tensor";
    case ACTK_QUANT_PER_ROW: return "per_row";
    case ACTK_QUANT_PER_GROUP: return "per_group";
    case ACTK_QUANT_MXFP8: return "mxfp8";
    default: return "?";
    }
}

inline std::string describe(const QuantCase &c)
{
    return std::string(c.gated ? "gated " : "") + actk_op_name(c.act.op) + " " + actk_dtype_name(c.dtype) + " " +
           (c.format == ACTK_FP8_E4M3 ? "e4m3 " : "e5m2 ") + mode_name(c.mode) +
           (c.mode == ACTK_QUANT_PER_GROUP ? " g" + std::to_string(c.group_size) + (c.pow2 ? " pow2" : "") : "") +
           " " + std::to_string(c.rows) + "x" + std::to_string(c.cols) + " ldx " + std::to_string(c.ldx) + " ldy " +
           std::to_string(c.ldy) + (c.bias ? " bias" : "") +
           (c.gated ? (c.layout == ACTK_GATED_INTERLEAVED ? " interleaved" : " concat") : "") +
           (c.gated ? (c.gate == ACTK_GATE_SECOND ? " gate2" : " gate1") : "");
}

inline size_t groups_of(const QuantCase &c)
{
    switch (c.mode) {
    case ACTK_QUANT_PER_ROW: return 1;
    case ACTK_QUANT_PER_GROUP: return c.cols / c.group_size;
    case ACTK_QUANT_MXFP8: return c.cols / 32;
    default: return 0;
    }
}

inline size_t in_width(const QuantCase &c) { return c.gated ? 2 * c.cols : c.cols; }
inline size_t x_span(const QuantCase &c) { return c.rows == 0 ? 0 : (c.rows - 1) * c.ldx + in_width(c); }
inline size_t y_span(const QuantCase &c) { return c.rows == 0 ? 0 : (c.rows - 1) * c.ldy + c.cols; }

/* The relative tolerance: the activation's error in float (f32 input: 2
 * ULP, the product's rounding, and x + bias rounded in float before the
 * op, which its condition number amplifies: up to ~2^-18 for sigmoid near
 * -88; f16/bf16: HalfMath's float error, 2^-19 typical, 2^-15 in far
 * tails). Still far below FP8's spacing (2^-3, 2^-2). */
inline long double tolerance(actk_dtype dtype) { return dtype == ACTK_F32 ? 0x1p-16L : 0x1p-13L; }

struct QuantInputs {
    Buffer x, bias;
    float scale; /* PER_TENSOR */
    QuantInputs(actk_dtype d, size_t xn, size_t bn) : x(d, xn), bias(d, bn), scale(1.0f) {}
};

/* Random inputs; with edge rows (rows >= 4): row 0 all zeros, row 1 one
 * huge value among zeros, row 2 with +-inf and NaN, row 3 tiny values. */
inline QuantInputs make_inputs(const QuantCase &c, std::mt19937_64 &rng, bool edge_rows)
{
    QuantInputs in(c.dtype, x_span(c) + 1, in_width(c) + 1);
    const long double huge = c.dtype == ACTK_F16 ? 60000.0L : 1e30L, tiny = c.dtype == ACTK_F16 ? 1e-6L : 1e-30L;
    for (size_t i = 0; i < x_span(c); ++i) in.x.set(i, actk_test::random_value(rng, c.dtype, 6.0));
    for (size_t r = 0; edge_rows && r < c.rows && r < 4; ++r)
        for (size_t j = 0; j < in_width(c); ++j) {
            const size_t i = r * c.ldx + j;
            switch (r) {
            case 0: in.x.set(i, 0.0L); break;
            case 1: in.x.set(i, j == in_width(c) / 3 ? huge : 0.0L); break;
            case 2:
                if (j % 7 == 0) in.x.set(i, INFINITY);
                else if (j % 7 == 3) in.x.set(i, -INFINITY);
                else if (j % 11 == 5) in.x.set(i, NAN);
                break;
            default: in.x.set(i, tiny * (long double)((int)(j % 9) - 4)); break;
            }
        }
    std::uniform_real_distribution<double> b(-0.5, 0.5);
    for (size_t j = 0; j < in_width(c); ++j) in.bias.set(j, c.bias ? b(rng) : 0.0);
    std::uniform_real_distribution<double> s(0.25, 64.0);
    in.scale = (float)s(rng);
    return in;
}

/* The oracle's y (rows x cols, dense) rounded once to f32. */
inline std::vector<float> oracle_y32(const QuantCase &c, const QuantInputs &in)
{
    std::vector<float> x32(x_span(c) + 1), b32(in_width(c) + 1), y(c.rows * c.cols + 1);
    for (size_t i = 0; i < x_span(c); ++i) x32[i] = (float)in.x.get(i);
    for (size_t j = 0; j < in_width(c); ++j) b32[j] = (float)in.bias.get(j);
    const float *bias = c.bias ? b32.data() : nullptr;
    actk_status s;
    if (!c.gated) s = actk_cpu_forward_2d(c.act, ACTK_F32, c.rows, c.cols, x32.data(), c.ldx, bias, y.data(), c.cols);
    else if (bias)
        s = actk_cpu_gated_bias_forward(c.act, c.layout, c.gate, ACTK_F32, c.rows, c.cols, x32.data(), c.ldx, bias,
                                        y.data(), c.cols);
    else
        s = actk_cpu_gated_forward(c.act, c.layout, c.gate, ACTK_F32, c.rows, c.cols, x32.data(), c.ldx, y.data(),
                                   c.cols);
    if (s != ACTK_SUCCESS) y.clear();
    y.resize(c.rows * c.cols);
    return y;
}

/* What a quantized call wrote (host copies), sized for the case, and the
 * bytes outside the outputs (guard bands) poisoned. */
constexpr uint8_t kPoisonByte = 0xA5;
constexpr size_t kGuard = 64;

struct QuantResult {
    std::vector<uint8_t> y;           /* kGuard + (y span) + kGuard bytes */
    std::vector<float> scales, scale_inv; /* kGuard + rows*G + kGuard floats */
    std::vector<uint8_t> mx;              /* kGuard + rows*G + kGuard bytes */
    float amax = 0.0f, tensor_scale_inv = 0.0f;
    explicit QuantResult(const QuantCase &c)
        : y(y_span(c) + 2 * kGuard, kPoisonByte), scales(c.rows * groups_of(c) + 2 * kGuard, NAN),
          scale_inv(c.rows * groups_of(c) + 2 * kGuard, NAN), mx(c.rows * groups_of(c) + 2 * kGuard, kPoisonByte)
    {
    }
    uint8_t *y_out() { return y.data() + kGuard; }
    float *scales_out() { return scales.data() + kGuard; }
    float *scale_inv_out() { return scale_inv.data() + kGuard; }
    uint8_t *mx_out() { return mx.data() + kGuard; }
};

/* The descriptor pointing at r's outputs (host pointers), amax and
 * scale_inv at the result's own fields. */
inline actk_quant descriptor(const QuantCase &c, QuantResult &r, const float *scale)
{
    actk_quant q = actk_quant_default(c.format, c.mode);
    q.group_size = c.group_size;
    q.scale_pow2 = c.pow2;
    q.scale = scale;
    if (c.mode == ACTK_QUANT_PER_TENSOR) {
        q.amax = &r.amax;
        q.scale_inv = &r.tensor_scale_inv;
    } else {
        q.scale_inv = r.scale_inv_out();
        q.scales = r.scales_out();
    }
    q.mx_scales = r.mx_out();
    return q;
}

struct Agreement {
    size_t elements = 0, boundary = 0, scale_boundary = 0, failures = 0;
    size_t gated_inf_nan = 0; /* gated: oracle +-inf, NaN written (documented 0 * inf) */
    std::string first_boundary;
    std::string first_failure;
    void fail(const std::string &what)
    {
        if (failures++ == 0) first_failure = what;
    }
};

inline uint32_t bits_of(float v)
{
    uint32_t u;
    std::memcpy(&u, &v, sizeof u);
    return u;
}

/* amax of y over columns [c0, c1) of row r: finite values only. */
inline float finite_amax(const QuantCase &c, const std::vector<float> &y, size_t r, size_t c0, size_t c1)
{
    float m = 0.0f;
    for (size_t j = c0; j < c1; ++j) {
        const float a = std::fabs(y[r * c.cols + j]);
        if (std::isfinite(a) && a > m) m = a;
    }
    return m;
}

inline float widen(float a, long double f) { return (float)((long double)a * f); }

/* Checks r (what the code under test wrote) against the oracle's y. */
inline Agreement check(const QuantCase &c, const std::vector<float> &y, float tensor_scale, float amax_before,
                       QuantResult &r)
{
    Agreement a;
    const long double tol = tolerance(c.dtype);
    const size_t G = groups_of(c);
    const size_t width = c.mode == ACTK_QUANT_PER_TENSOR ? c.cols : (G ? c.cols / G : 0);
    for (size_t k = 0; k < kGuard; ++k) {
        if (r.y[k] != kPoisonByte || r.y[r.y.size() - 1 - k] != kPoisonByte) a.fail("y guard band written");
        if (r.mx[k] != kPoisonByte || r.mx[r.mx.size() - 1 - k] != kPoisonByte) a.fail("mx_scales guard band written");
        if (!std::isnan(r.scales[k]) || !std::isnan(r.scales[r.scales.size() - 1 - k]))
            a.fail("scales guard band written");
        if (!std::isnan(r.scale_inv[k]) || !std::isnan(r.scale_inv[r.scale_inv.size() - 1 - k]))
            a.fail("scale_inv guard band written");
    }
    for (size_t row = 0; row + 1 < c.rows; ++row)
        for (size_t j = c.cols; j < c.ldy; ++j)
            if (r.y_out()[row * c.ldy + j] != kPoisonByte) a.fail("y written between rows (ld padding)");
    if (c.mode != ACTK_QUANT_MXFP8 && c.mode != ACTK_QUANT_PER_TENSOR)
        for (size_t i = 0; i < c.rows * G; ++i)
            if (r.mx_out()[i] != kPoisonByte) a.fail("mx_scales written in a float-scale mode");
    if (c.mode == ACTK_QUANT_PER_TENSOR && c.rows * c.cols > 0) {
        uint32_t want = bits_of(amax_before);
        for (float v : y) {
            const float m = std::fabs(v);
            const uint32_t b = std::isnan(m) ? 0x7fffffffu : bits_of(m);
            if (b > want) want = b;
        }
        const uint32_t got = bits_of(r.amax);
        float wantf;
        std::memcpy(&wantf, &want, sizeof wantf);
        const bool ok = want == got || (std::isfinite(wantf) && std::isfinite(r.amax) &&
                                        std::fabs((long double)r.amax - wantf) <= tol * wantf);
        if (!ok) a.fail("amax " + std::to_string(r.amax) + " expected " + std::to_string(wantf));
        if (bits_of(r.tensor_scale_inv) != bits_of(1.0f / tensor_scale)) a.fail("per-tensor scale_inv is not 1/scale");
    }
    const size_t units = c.mode == ACTK_QUANT_PER_TENSOR ? 1 : G;
    for (size_t row = 0; row < c.rows; ++row)
        for (size_t g = 0; g < units; ++g) {
            const size_t c0 = g * width, c1 = c0 + width;
            long double factor = tensor_scale;
            const std::string where = " at row " + std::to_string(row) + " group " + std::to_string(g);
            if (c.mode == ACTK_QUANT_PER_ROW || c.mode == ACTK_QUANT_PER_GROUP) {
                const float s = r.scales_out()[row * G + g], inv = r.scale_inv_out()[row * G + g];
                const float amax = finite_amax(c, y, row, c0, c1);
                const int pow2 = c.mode == ACTK_QUANT_PER_GROUP && c.pow2;
                const float want = actk_fp8_ref_scale(c.format, amax, pow2);
                if (bits_of(inv) != bits_of(1.0f / s)) a.fail("scale_inv != 1/scale" + where);
                if (bits_of(s) != bits_of(want)) {
                    /* the rule is decreasing in amax */
                    const float lo = actk_fp8_ref_scale(c.format, widen(amax, 1 + 2 * tol), pow2);
                    const float hi = actk_fp8_ref_scale(c.format, widen(amax, 1 - 2 * tol), pow2);
                    if (amax != 0.0f && s >= lo && s <= hi) ++a.scale_boundary;
                    else a.fail("scale " + std::to_string(s) + " expected " + std::to_string(want) + where);
                }
                factor = s;
            } else if (c.mode == ACTK_QUANT_MXFP8) {
                const int x = (int)r.mx_out()[row * G + g] - 127;
                const float amax = finite_amax(c, y, row, c0, c1);
                const int want = actk_fp8_ref_mx_exponent(c.format, amax);
                if (x != want) {
                    const int lo = actk_fp8_ref_mx_exponent(c.format, widen(amax, 1 - 2 * tol));
                    const int hi = actk_fp8_ref_mx_exponent(c.format, widen(amax, 1 + 2 * tol));
                    if (amax != 0.0f && x >= lo && x <= hi) ++a.scale_boundary;
                    else a.fail("MX exponent " + std::to_string(x) + " expected " + std::to_string(want) + where);
                }
                factor = ldexpl(1.0L, -x);
            }
            for (size_t j = c0; j < c1; ++j) {
                ++a.elements;
                const float yv = y[row * c.cols + j];
                const uint8_t got = r.y_out()[row * c.ldy + j];
                const long double gv = actk_fp8_ref_decode(c.format, got);
                const std::string at = " at row " + std::to_string(row) + " col " + std::to_string(j) + " (y " +
                                       std::to_string(yv) + ", code " + std::to_string(got) + ")";
                if (c.gated && std::isinf(yv) && std::isnan(gv)) {
                    /* documented: act(gate) underflows to 0 in float while up is +-inf: 0 * inf */
                    ++a.gated_inf_nan;
                    continue;
                }
                if (std::isnan(yv)) {
                    if (!std::isnan(gv)) a.fail("NaN y gave a number" + at);
                    continue;
                }
                const long double v = (long double)yv * factor;
                const uint8_t want = actk_fp8_ref_encode(c.format, v);
                const long double wv = actk_fp8_ref_decode(c.format, want);
                if (got == want || gv == wv) continue;
                if (std::isfinite(v) && !std::isnan(gv)) {
                    const long double d = tol * fabsl(v) + ldexpl(factor, -140);
                    const long double lo = actk_fp8_ref_decode(c.format, actk_fp8_ref_encode(c.format, v - d));
                    const long double hi = actk_fp8_ref_decode(c.format, actk_fp8_ref_encode(c.format, v + d));
                    if (gv >= lo && gv <= hi) {
                        if (a.boundary++ == 0)
                            a.first_boundary = "code " + std::to_string(got) + " oracle " + std::to_string(want) + at;
                        continue;
                    }
                }
                a.fail("code " + std::to_string(got) + " expected " + std::to_string(want) + at);
            }
        }
    return a;
}

/* Every (mode, group size, pow2) combination the tests cover. */
struct ModeVariant {
    actk_quant_mode mode;
    size_t group_size;
    int pow2;
};
inline std::vector<ModeVariant> mode_variants()
{
    return {{ACTK_QUANT_PER_TENSOR, 128, 0}, {ACTK_QUANT_PER_ROW, 128, 0},  {ACTK_QUANT_PER_GROUP, 32, 0},
            {ACTK_QUANT_PER_GROUP, 64, 1},   {ACTK_QUANT_PER_GROUP, 128, 0}, {ACTK_QUANT_PER_GROUP, 128, 1},
            {ACTK_QUANT_MXFP8, 32, 0}};
}

} // namespace actk_qtest

#endif
