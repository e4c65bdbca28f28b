// SPDX-License-Identifier: MIT
/*
 * test_quant_on_host.cpp - the FP8-output kernel's math on the host: the
 * activation in float under the kernels' policy (MathFor: F32Math for f32,
 * HalfMath for f16/bf16, gated through GatedProductOp), x + bias in float,
 * and the unit scaling and encoding of quant_math.cuh exactly as
 * quant_engine.cuh chains them (units of seg columns; amax keys; factor;
 * quant_encode). Checked against the f32 oracle under the agreement rule
 * (quant_check.h) for every op (with the extra parameter sets), every mode,
 * family, input dtype and format, with edge rows; the boundary counts are
 * printed (issue 15 item 3). HalfMath's MUFU functions are stood in for by
 * the C library here (as in test_device_math_on_host.cpp); the GPU test
 * covers the device itself.
 */
#include "activation_math.cuh"
#include "gated_math.cuh"
#include "quant_check.h"
#include "quant_math.cuh"

#include "agreement.h" /* activations_under_test */

#include <gtest/gtest.h>

#include <cstdio>

using namespace actk_qtest;

namespace {

template <class M, class Op>
float emulated_value(const QuantCase &c, const QuantInputs &in, actk::Params<float> p, size_t r, size_t j, Op)
{
    auto ld = [&](const Buffer &b, size_t i) { return (float)b.get(i); }; /* f16/bf16/f32 widen exactly */
    if (!c.gated) {
        const float b = c.bias ? ld(in.bias, j) : -0.0f;
        return Op::template forward<M>(ld(in.x, r * c.ldx + j) + b, p);
    }
    const bool interleaved = c.layout == ACTK_GATED_INTERLEAVED, second = c.gate == ACTK_GATE_SECOND;
    const size_t step = interleaved ? 2 : 1, other = interleaved ? 1 : c.cols;
    const size_t go = second ? other : 0, uo = second ? 0 : other;
    const float bg = c.bias ? ld(in.bias, step * j + go) : -0.0f, bu = c.bias ? ld(in.bias, step * j + uo) : -0.0f;
    return actk::GatedProductOp<Op>::template forward<M>(ld(in.x, r * c.ldx + step * j + go) + bg,
                                                         ld(in.x, r * c.ldx + step * j + uo) + bu, p);
}

/* What quant_forward_kernel writes, unit by unit. */
void emulate(const QuantCase &c, const QuantInputs &in, float tensor_scale, QuantResult &r)
{
    const actk::Params<float> p{c.act.alpha, c.act.beta};
    std::vector<float> y(c.rows * c.cols);
    actk::visit_op<int>(
        c.act.op,
        [&](auto op) {
            for (size_t row = 0; row < c.rows; ++row)
                for (size_t j = 0; j < c.cols; ++j)
                    y[row * c.cols + j] = c.dtype == ACTK_F32
                                              ? emulated_value<actk::MathFor<ACTK_F32>::type>(c, in, p, row, j, op)
                                              : emulated_value<actk::MathFor<ACTK_F16>::type>(c, in, p, row, j, op);
            return 0;
        },
        0);
    const size_t seg = c.mode == ACTK_QUANT_PER_ROW ? c.cols
                       : c.mode == ACTK_QUANT_PER_GROUP ? c.group_size
                       : c.mode == ACTK_QUANT_MXFP8 ? 32 : 128;
    const size_t units_per_row = (c.cols + seg - 1) / seg, G = groups_of(c);
    uint32_t tensor_amax = bits_of(r.amax);
    for (size_t row = 0; row < c.rows; ++row)
        for (size_t s = 0; s < units_per_row; ++s) {
            const size_t c0 = s * seg, c1 = std::min(c0 + seg, c.cols);
            float factor = tensor_scale;
            if (c.mode == ACTK_QUANT_PER_TENSOR) {
                for (size_t j = c0; j < c1; ++j)
                    tensor_amax = actk::quant_umax(tensor_amax, actk::quant_amax_bits(y[row * c.cols + j]));
            } else {
                uint32_t amax = 0;
                for (size_t j = c0; j < c1; ++j)
                    amax = actk::quant_umax(amax, actk::quant_finite_abs_bits(y[row * c.cols + j]));
                const actk::QuantUnitScale u = actk::quant_unit_scale((int)c.mode, (int)c.format, c.pow2, amax);
                if (c.mode == ACTK_QUANT_MXFP8) {
                    r.mx_out()[row * G + s] = u.mx_byte;
                } else {
                    r.scale_inv_out()[row * G + s] = u.scale_inv;
                    r.scales_out()[row * G + s] = u.scale;
                }
                factor = u.factor;
            }
            for (size_t j = c0; j < c1; ++j)
                r.y_out()[row * c.ldy + j] = actk::quant_encode((int)c.format, y[row * c.cols + j], factor);
        }
    if (c.mode == ACTK_QUANT_PER_TENSOR) {
        std::memcpy(&r.amax, &tensor_amax, sizeof r.amax);
        r.tensor_scale_inv = 1.0f / tensor_scale;
    }
}

TEST(QuantOnHost, KernelMathAgreesWithTheOracleForEveryOpModeFamilyDtypeAndFormat)
{
    std::mt19937_64 rng(1515);
    size_t total = 0, boundary = 0, scale_boundary = 0, k = 0;
    size_t per_dtype_total[3] = {}, per_dtype_boundary[3] = {};
    for (const actk_act act : actk_test::activations_under_test())
        for (int gated = 0; gated < 2; ++gated)
            for (const ModeVariant mv : mode_variants())
                for (int d = 0; d < 3; ++d) {
                    const actk_dtype dtype = d == 0 ? ACTK_F32 : d == 1 ? ACTK_F16 : ACTK_BF16;
                    const bool grouped = mv.mode == ACTK_QUANT_PER_GROUP || mv.mode == ACTK_QUANT_MXFP8;
                    QuantCase c{};
                    c.gated = gated;
                    c.act = act;
                    c.layout = k % 3 == 0 ? ACTK_GATED_INTERLEAVED : ACTK_GATED_CONCAT;
                    c.gate = k % 4 == 1 ? ACTK_GATE_SECOND : ACTK_GATE_FIRST;
                    c.dtype = dtype;
                    c.rows = 6;
                    c.cols = grouped ? 128 : (k % 2 ? 97 : 200);
                    c.ldx = in_width(c) + (k % 2);
                    c.ldy = c.cols + (k % 3);
                    c.bias = k % 2 == 1;
                    c.format = k % 5 < 3 ? ACTK_FP8_E4M3 : ACTK_FP8_E5M2;
                    c.mode = mv.mode;
                    c.group_size = mv.group_size;
                    c.pow2 = mv.pow2;
                    ++k;
                    const QuantInputs in = make_inputs(c, rng, true);
                    const std::vector<float> y = oracle_y32(c, in);
                    ASSERT_EQ(y.size(), c.rows * c.cols);
                    QuantResult r(c);
                    const float amax_before = 0.0f;
                    r.amax = amax_before;
                    emulate(c, in, in.scale, r);
                    const Agreement a = check(c, y, in.scale, amax_before, r);
                    EXPECT_EQ(a.failures, 0u) << describe(c) << ": " << a.first_failure;
                    if (getenv("ACTK_QUANT_VERBOSE") && a.boundary)
                        std::printf("%s: %zu boundary, first %s\n", describe(c).c_str(), a.boundary,
                                    a.first_boundary.c_str());
                    total += a.elements;
                    boundary += a.boundary;
                    scale_boundary += a.scale_boundary;
                    per_dtype_total[d] += a.elements;
                    per_dtype_boundary[d] += a.boundary;
                }
    std::printf("host-emulated FP8 kernel math: %zu codes, %zu within the tolerance of a rounding boundary "
                "(f32 %zu/%zu, f16 %zu/%zu, bf16 %zu/%zu), %zu scales at an amax boundary\n",
                total, boundary, per_dtype_boundary[0], per_dtype_total[0], per_dtype_boundary[1], per_dtype_total[1],
                per_dtype_boundary[2], per_dtype_total[2], scale_boundary);
    EXPECT_GT(total, 500000u);
    EXPECT_LE(boundary * 100, total); /* boundary cases are rare; a systematic error is not one */
}

} // namespace
