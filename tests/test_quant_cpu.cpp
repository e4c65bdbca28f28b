// SPDX-License-Identifier: MIT
/*
 * test_quant_cpu.cpp - the CPU FP8-output path (actk_cpu_*_quant) against
 * the f32 oracle under the agreement rule (quant_check.h), every mode x
 * family x input dtype x format, odd widths, strides, bias, edge rows
 * (zeros, one huge value, inf/NaN, tiny values); plus the documented rules
 * on hand-made rows, and that bad input writes nothing.
 */
#include "quant_check.h"

#include <gtest/gtest.h>

#include <cstdio>

using namespace actk_qtest;

namespace {

const actk_dtype kInputDtypes[] = {ACTK_F32, ACTK_F16, ACTK_BF16};
const actk_op kOps[] = {ACTK_OP_SILU, ACTK_OP_GELU, ACTK_OP_RELU, ACTK_OP_SIGMOID, ACTK_OP_GELU_TANH,
                        ACTK_OP_IDENTITY, ACTK_OP_TANH, ACTK_OP_SOFTPLUS, ACTK_OP_MISH, ACTK_OP_HARDSWISH};

actk_status run_cpu(const QuantCase &c, const QuantInputs &in, const actk_quant &q, QuantResult &r)
{
    const void *bias = c.bias ? in.bias.data() : nullptr;
    if (!c.gated)
        return actk_cpu_forward_2d_quant(c.act, c.dtype, c.rows, c.cols, in.x.data(), c.ldx, bias, &q, r.y_out(),
                                         c.ldy);
    return actk_cpu_gated_forward_quant(c.act, c.layout, c.gate, c.dtype, c.rows, c.cols, in.x.data(), c.ldx, bias, &q,
                                        r.y_out(), c.ldy);
}

TEST(QuantCpu, EveryModeFamilyDtypeAndFormatAgreesWithTheOracle)
{
    std::mt19937_64 rng(15);
    size_t total = 0, boundary = 0, scale_boundary = 0, k = 0;
    for (int gated = 0; gated < 2; ++gated)
        for (const ModeVariant mv : mode_variants())
            for (actk_dtype dtype : kInputDtypes)
                for (actk_fp8_format format : {ACTK_FP8_E4M3, ACTK_FP8_E5M2}) {
                    const bool grouped = mv.mode == ACTK_QUANT_PER_GROUP || mv.mode == ACTK_QUANT_MXFP8;
                    const size_t cols = grouped ? 256 : (k % 2 ? 131 : 300); /* odd widths, long rows */
                    QuantCase c{};
                    c.gated = gated;
                    c.act = actk_act_default(kOps[k % (sizeof kOps / sizeof kOps[0])]);
                    c.layout = k % 3 == 0 ? ACTK_GATED_INTERLEAVED : ACTK_GATED_CONCAT;
                    c.gate = k % 4 == 1 ? ACTK_GATE_SECOND : ACTK_GATE_FIRST;
                    c.dtype = dtype;
                    c.rows = 7;
                    c.cols = cols;
                    c.ldx = in_width(c) + (k % 2) * 5;
                    c.ldy = cols + (k % 3) * 3;
                    c.bias = k % 2 == 0;
                    c.format = format;
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
                    const actk_quant q = descriptor(c, r, &in.scale);
                    ASSERT_EQ(run_cpu(c, in, q, r), ACTK_SUCCESS) << describe(c) << ": " << actk_last_error();
                    const Agreement a = check(c, y, in.scale, amax_before, r);
                    EXPECT_EQ(a.failures, 0u) << describe(c) << ": " << a.first_failure;
                    total += a.elements;
                    boundary += a.boundary;
                    scale_boundary += a.scale_boundary;
                }
    std::printf("CPU FP8 path: %zu codes, %zu within the tolerance of a rounding boundary, %zu scales at an amax "
                "boundary\n",
                total, boundary, scale_boundary);
    EXPECT_GT(total, 100000u);
    /* the CPU path is the oracle: y rounded to f32 moves a value by 2^-24 at most */
    EXPECT_LE(boundary * 1000, total);
}

/* The documented rules on hand-made rows (identity, so y = x). */
TEST(QuantCpu, DocumentedRulesOnHandMadeRows)
{
    const actk_act id = actk_act_default(ACTK_OP_IDENTITY);
    /* row 0: zeros; row 1: 2, -1, inf, NaN (finite amax 2); */
    float x[2][32] = {};
    x[1][0] = 2.0f;
    x[1][1] = -1.0f;
    x[1][2] = INFINITY;
    x[1][3] = NAN;
    uint8_t y[64];
    float scales[2], inv[2];
    actk_quant q = actk_quant_default(ACTK_FP8_E4M3, ACTK_QUANT_PER_ROW);
    q.scales = scales;
    q.scale_inv = inv;
    ASSERT_EQ(actk_cpu_forward_2d_quant(id, ACTK_F32, 2, 32, x, 32, nullptr, &q, y, 32), ACTK_SUCCESS);
    EXPECT_EQ(scales[0], 1.0f); /* amax 0: scale 1, codes 0 */
    EXPECT_EQ(inv[0], 1.0f);
    for (int j = 0; j < 32; ++j) EXPECT_EQ(y[j], 0x00);
    EXPECT_EQ(scales[1], 224.0f); /* 448 / 2: inf and NaN do not set it */
    EXPECT_EQ(inv[1], 1.0f / 224.0f);
    EXPECT_EQ(y[32 + 0], 0x7E);  /* 2 * 224 = 448 */
    EXPECT_EQ(y[32 + 1], 0xF6);  /* -224 = -1.75 * 2^7 */
    EXPECT_EQ(y[32 + 2], 0x7E);  /* inf saturates in E4M3 */
    EXPECT_EQ(y[32 + 3] & 0x7F, 0x7F); /* NaN */

    /* E5M2 keeps inf */
    q.format = ACTK_FP8_E5M2;
    ASSERT_EQ(actk_cpu_forward_2d_quant(id, ACTK_F32, 2, 32, x, 32, nullptr, &q, y, 32), ACTK_SUCCESS);
    EXPECT_EQ(scales[1], 28672.0f);
    EXPECT_EQ(y[32 + 2], 0x7C);

    /* MXFP8: amax 2 -> X = 1 - 8 = -7, byte 120, elements y * 2^7 */
    uint8_t mx[2];
    actk_quant m = actk_quant_default(ACTK_FP8_E4M3, ACTK_QUANT_MXFP8);
    m.mx_scales = mx;
    ASSERT_EQ(actk_cpu_forward_2d_quant(id, ACTK_F32, 2, 32, x, 32, nullptr, &m, y, 32), ACTK_SUCCESS);
    EXPECT_EQ(mx[0], 127); /* an all-zero block: X = 0 */
    EXPECT_EQ(mx[1], 120);
    EXPECT_EQ(y[32 + 0], 0x78); /* 256 = 2^8 */

    /* per-group, power of two: amax 3 -> 448/3 = 149.33 -> 128 */
    float g[32] = {3.0f, 1.0f};
    actk_quant p = actk_quant_default(ACTK_FP8_E4M3, ACTK_QUANT_PER_GROUP);
    p.group_size = 32;
    p.scale_pow2 = 1;
    p.scales = scales;
    p.scale_inv = inv;
    ASSERT_EQ(actk_cpu_forward_2d_quant(id, ACTK_F32, 1, 32, g, 32, nullptr, &p, y, 32), ACTK_SUCCESS);
    EXPECT_EQ(scales[0], 128.0f);
    EXPECT_EQ(inv[0], 1.0f / 128.0f);
    EXPECT_EQ(y[0], 0x7C); /* 384 = 1.5 * 2^8 */

    /* per-tensor: the caller's scale, running amax, NaN above everything */
    float t[4] = {-5.0f, 1.0f, 0.5f, 2.0f};
    const float scale = 100.0f;
    float amax = 3.0f, sinv = 0.0f;
    actk_quant pt = actk_quant_default(ACTK_FP8_E4M3, ACTK_QUANT_PER_TENSOR);
    pt.scale = &scale;
    pt.amax = &amax;
    pt.scale_inv = &sinv;
    ASSERT_EQ(actk_cpu_forward_2d_quant(id, ACTK_F32, 1, 4, t, 4, nullptr, &pt, y, 4), ACTK_SUCCESS);
    EXPECT_EQ(amax, 5.0f);
    EXPECT_EQ(sinv, 1.0f / 100.0f);
    EXPECT_EQ(y[0], 0xFE); /* -500 saturates */
    EXPECT_EQ(y[1], 0x6C); /* 100 = 1.5625 * 2^6, a tie: to 1.5 * 2^6 (even) */
    t[2] = NAN;
    ASSERT_EQ(actk_cpu_forward_2d_quant(id, ACTK_F32, 1, 4, t, 4, nullptr, &pt, y, 4), ACTK_SUCCESS);
    EXPECT_TRUE(std::isnan(amax));
}

} // namespace
