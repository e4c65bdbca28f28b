// SPDX-License-Identifier: MIT
/*
 * test_gated_cpu.cpp - the gated oracle (actk_cpu_gated_*, actk_cpu_clamped_
 * swiglu_*) against independent formulas: known values (SwiGLU, PyTorch's
 * F.glu convention, gpt-oss's clamped SwiGLU), the element-wise reference
 * composed by hand, central finite differences for the gradients, the
 * clamp's gradient at and beyond the bounds; and every layout, gate
 * position, dtype and stride giving the same bits, with the padding between
 * strided rows untouched, in place included.
 */
#include "gated_util.h"

#include <gtest/gtest.h>

#include <cstring>

using namespace actk_test;

namespace {

const actk_gated_layout kLayouts[] = {ACTK_GATED_CONCAT, ACTK_GATED_INTERLEAVED};
const actk_gate_position kGates[] = {ACTK_GATE_FIRST, ACTK_GATE_SECOND};

double silu(double x, double a) { return x / (1 + std::exp(-a * x)); }

} // namespace

TEST(GatedCpu, KnownValuesAndConventions)
{
    const actk_act silu_act = actk_act_default(ACTK_OP_SILU);
    /* vLLM silu_and_mul: [gate | up] -> silu(gate) * up */
    double x[4] = {1.0, -2.0, 2.0, 3.0}, y[2] = {0, 0};
    ASSERT_EQ(actk_cpu_gated_forward(silu_act, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, ACTK_F64, 1, 2, x, 4, y, 2),
              ACTK_SUCCESS);
    EXPECT_NEAR(y[0], silu(1.0, 1) * 2.0, 1e-15);
    EXPECT_NEAR(y[1], silu(-2.0, 1) * 3.0, 1e-15);
    /* PyTorch F.glu(x) = first * sigmoid(second): gate second, sigmoid */
    ASSERT_EQ(actk_cpu_gated_forward(actk_act_default(ACTK_OP_SIGMOID), ACTK_GATED_CONCAT, ACTK_GATE_SECOND, ACTK_F64,
                                     1, 2, x, 4, y, 2),
              ACTK_SUCCESS);
    EXPECT_NEAR(y[0], 1.0 / (1 + std::exp(-2.0)), 1e-15);
    EXPECT_NEAR(y[1], -2.0 / (1 + std::exp(-3.0)), 1e-15);
    /* interleaved pairs (1, -2), (2, 3), gate first */
    ASSERT_EQ(actk_cpu_gated_forward(silu_act, ACTK_GATED_INTERLEAVED, ACTK_GATE_FIRST, ACTK_F64, 1, 2, x, 4, y, 2),
              ACTK_SUCCESS);
    EXPECT_NEAR(y[0], silu(1.0, 1) * -2.0, 1e-15);
    EXPECT_NEAR(y[1], silu(2.0, 1) * 3.0, 1e-15);
    /* ReGLU: relu(gate) * up */
    ASSERT_EQ(actk_cpu_gated_forward(actk_act_default(ACTK_OP_RELU), ACTK_GATED_CONCAT, ACTK_GATE_FIRST, ACTK_F64, 1, 2,
                                     x, 4, y, 2),
              ACTK_SUCCESS);
    EXPECT_EQ(y[0], 2.0);
    EXPECT_EQ(y[1], 0.0);
}

/* gpt-oss: x_glu = x[..., ::2].clamp(max=limit), x_lin = x[..., 1::2].clamp(-limit, limit),
 * out = x_glu * sigmoid(alpha * x_glu) * (x_lin + 1). */
TEST(GatedCpu, ClampedSwigluMatchesGptOss)
{
    const double a = ACTK_CLAMPED_SWIGLU_ALPHA, limit = ACTK_CLAMPED_SWIGLU_LIMIT;
    const double pairs[][2] = {{1.5, 0.25}, {9.0, 3.0}, {-2.0, 12.0}, {7.0, -7.0}, {0.5, -30.0}, {-40.0, 2.0}};
    for (const auto &pr : pairs) {
        double x[2] = {pr[0], pr[1]}, y = 0;
        ASSERT_EQ(actk_cpu_clamped_swiglu_forward((float)a, (float)limit, ACTK_GATED_INTERLEAVED, ACTK_GATE_FIRST,
                                                  ACTK_F64, 1, 1, x, 2, &y, 1),
                  ACTK_SUCCESS);
        const double g = std::fmin(pr[0], limit), u = std::fmax(std::fmin(pr[1], limit), -limit);
        EXPECT_NEAR(y, silu(g, (float)a) * (u + 1), 1e-13 * std::fmax(1.0, std::fabs(y))) << pr[0] << " " << pr[1];
    }
}

/* The clamp's gradient as PyTorch autograd gives it: passes at the bound
 * itself, 0 beyond; NaN input gives NaN (documented difference). */
TEST(GatedCpu, ClampedSwigluGradientAtTheClamps)
{
    const float a = 1.702f, limit = 7.0f;
    auto grad = [&](double g, double u, double dy, double *dg, double *du) {
        double x[2] = {g, u}, dx[2] = {-1, -1};
        ASSERT_EQ(actk_cpu_clamped_swiglu_backward(a, limit, ACTK_GATED_INTERLEAVED, ACTK_GATE_FIRST, ACTK_F64, 1, 1, x,
                                                   2, &dy, 1, dx, 2),
                  ACTK_SUCCESS);
        *dg = dx[0];
        *du = dx[1];
    };
    double dg, du;
    grad(7.0, 7.0, 1.0, &dg, &du); /* both at the bound: gradients pass */
    const double s7 = 1 / (1 + std::exp(-(double)a * 7.0));
    EXPECT_NEAR(dg, 8.0 * s7 * (1 + a * 7.0 * (1 - s7)), 1e-12);
    EXPECT_NEAR(du, 7.0 * s7, 1e-12);
    grad(7.5, -7.0, 2.0, &dg, &du); /* gate beyond: 0; up at the lower bound: passes */
    EXPECT_EQ(dg, 0.0);
    EXPECT_NEAR(du, 2.0 * 7.0 * s7, 1e-12);
    grad(1.0, 7.25, 1.0, &dg, &du); /* up beyond: dup 0, dgate uses u = limit */
    EXPECT_EQ(du, 0.0);
    const double s1 = 1 / (1 + std::exp(-(double)a));
    EXPECT_NEAR(dg, 8.0 * s1 * (1 + a * (1 - s1)), 1e-12);
    grad(1.0, -9.0, 1.0, &dg, &du); /* up below: u = -limit */
    EXPECT_EQ(du, 0.0);
    EXPECT_NEAR(dg, -6.0 * s1 * (1 + a * (1 - s1)), 1e-12);
    grad(-1e6, 1.0, 1.0, &dg, &du); /* very negative gate: tiny, not NaN */
    EXPECT_EQ(dg, -0.0);
    grad(NAN, 1.0, 1.0, &dg, &du);
    EXPECT_TRUE(std::isnan(dg));
    EXPECT_TRUE(std::isnan(du)); /* silu(NaN) */
    grad(1.0, NAN, 1.0, &dg, &du);
    EXPECT_TRUE(std::isnan(dg));
    EXPECT_TRUE(std::isnan(du));
}

/* y = f(g) * u in f64 against the element-wise oracle f(g) times u, and the
 * gradients against central differences of the gated forward itself. */
TEST(GatedCpu, AgreesWithTheElementwiseOracleAndFiniteDifferences)
{
    std::mt19937_64 rng(5);
    std::uniform_real_distribution<double> dist(-6.0, 6.0);
    const actk_op smooth[] = {ACTK_OP_SIGMOID, ACTK_OP_TANH, ACTK_OP_GELU, ACTK_OP_GELU_TANH, ACTK_OP_SILU,
                              ACTK_OP_MISH, ACTK_OP_SOFTPLUS, ACTK_OP_ELU, ACTK_OP_SOFTSIGN, ACTK_OP_LOGSIGMOID};
    for (const actk_op op : smooth) {
        const actk_act act = actk_act_default(op);
        for (int t = 0; t < 200; ++t) {
            double x[2] = {dist(rng), dist(rng)}, y = 0, fg = 0, dy = dist(rng), dx[2];
            if (std::fabs(x[0]) < 1e-3) continue; /* elu, softsign: kink at 0 */
            ASSERT_EQ(actk_cpu_gated_forward(act, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, ACTK_F64, 1, 1, x, 2, &y, 1),
                      ACTK_SUCCESS);
            ASSERT_EQ(actk_cpu_forward(act, ACTK_F64, 1, &x[0], &fg), ACTK_SUCCESS);
            EXPECT_LE(ulp_distance(ACTK_F64, y, (long double)fg * x[1]), 1.0) << actk_op_name(op);
            ASSERT_EQ(
                actk_cpu_gated_backward(act, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, ACTK_F64, 1, 1, x, 2, &dy, 1, dx, 2),
                ACTK_SUCCESS);
            EXPECT_NEAR(dx[1], dy * fg, 1e-14 * std::fabs(dy * fg) + 1e-300);
            const double h = 1e-5 * std::fmax(1.0, std::fabs(x[0]));
            double xp[2] = {x[0] + h, x[1]}, xm[2] = {x[0] - h, x[1]}, yp, ym;
            actk_cpu_gated_forward(act, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, ACTK_F64, 1, 1, xp, 2, &yp, 1);
            actk_cpu_gated_forward(act, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, ACTK_F64, 1, 1, xm, 2, &ym, 1);
            const double fd = dy * (yp - ym) / (2 * h);
            EXPECT_NEAR(dx[0], fd, 1e-6 * std::fmax(1.0, std::fabs(fd))) << actk_op_name(op) << " at " << x[0];
        }
    }
}

/* Every layout x gate position x dtype, with leading dimensions larger than
 * the rows: the same bits as the contiguous concatenated gate-first call,
 * and the padding between rows untouched. Backward also in place. */
TEST(GatedCpu, LayoutsConventionsAndStridesGiveTheSameBits)
{
    std::mt19937_64 rng(11);
    const size_t rows = 5, cols = 13, pad = 3;
    for (const actk_dtype dtype : kAllDtypes) {
        for (const Gated &g :
             {Gated{actk_act_default(ACTK_OP_SILU), false}, Gated{actk_act_default(ACTK_OP_GELU), false},
              Gated{{ACTK_OP_SILU, 1.702f, 7.0f}, true}}) {
            /* the reference: contiguous, concatenated, gate first */
            Buffer x(dtype, rows * 2 * cols), dy(dtype, rows * cols), y(dtype, rows * cols), dx(dtype, rows * 2 * cols);
            for (size_t i = 0; i < rows * 2 * cols; ++i) x.set(i, random_value(rng, dtype, 10.0));
            for (size_t i = 0; i < rows * cols; ++i) dy.set(i, random_value(rng, dtype, 3.0));
            ASSERT_EQ(gated_cpu(g, false, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, dtype, rows, cols, x.data(), 2 * cols,
                                nullptr, 0, y.data(), cols),
                      ACTK_SUCCESS);
            ASSERT_EQ(gated_cpu(g, true, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, dtype, rows, cols, x.data(), 2 * cols,
                                dy.data(), cols, dx.data(), 2 * cols),
                      ACTK_SUCCESS);
            for (const actk_gated_layout layout : kLayouts)
                for (const actk_gate_position gate : kGates) {
                    SCOPED_TRACE(describe(g, dtype) + " layout " + std::to_string(layout) + " gate " +
                                 std::to_string(gate));
                    const size_t ldx = 2 * cols + pad, ldy = cols + pad;
                    Buffer xs(dtype, rows * ldx), dys(dtype, rows * ldy), ys(dtype, rows * ldy), dxs(dtype, rows * ldx);
                    std::memset(ys.data(), 0x5A, ys.bytes.size());
                    std::memset(dxs.data(), 0x5A, dxs.bytes.size());
                    for (size_t r = 0; r < rows; ++r)
                        for (size_t j = 0; j < cols; ++j) {
                            xs.set(r * ldx + gated_position(layout, gate, cols, j, 0), x.get(r * 2 * cols + j));
                            xs.set(r * ldx + gated_position(layout, gate, cols, j, 1), x.get(r * 2 * cols + cols + j));
                            dys.set(r * ldy + j, dy.get(r * cols + j));
                        }
                    const Buffer untouched_y = ys, untouched_dx = dxs;
                    ASSERT_EQ(gated_cpu(g, false, layout, gate, dtype, rows, cols, xs.data(), ldx, nullptr, 0,
                                        ys.data(), ldy),
                              ACTK_SUCCESS);
                    ASSERT_EQ(gated_cpu(g, true, layout, gate, dtype, rows, cols, xs.data(), ldx, dys.data(), ldy,
                                        dxs.data(), ldx),
                              ACTK_SUCCESS);
                    const size_t elem = actk_dtype_size(dtype);
                    for (size_t r = 0; r < rows; ++r) {
                        for (size_t j = 0; j < cols; ++j) {
                            ASSERT_EQ(0, std::memcmp((char *)ys.data() + (r * ldy + j) * elem,
                                                     (char *)y.data() + (r * cols + j) * elem, elem));
                            for (int which = 0; which < 2; ++which)
                                ASSERT_EQ(
                                    0, std::memcmp((char *)dxs.data() +
                                                       (r * ldx + gated_position(layout, gate, cols, j, which)) * elem,
                                                   (char *)dx.data() + (r * 2 * cols + which * cols + j) * elem, elem));
                        }
                        ASSERT_EQ(0, std::memcmp((char *)ys.data() + (r * ldy + cols) * elem,
                                                 (char *)untouched_y.data() + (r * ldy + cols) * elem, pad * elem));
                        ASSERT_EQ(0,
                                  std::memcmp((char *)dxs.data() + (r * ldx + 2 * cols) * elem,
                                              (char *)untouched_dx.data() + (r * ldx + 2 * cols) * elem, pad * elem));
                    }
                    /* in place: dx over x */
                    ASSERT_EQ(gated_cpu(g, true, layout, gate, dtype, rows, cols, xs.data(), ldx, dys.data(), ldy,
                                        xs.data(), ldx),
                              ACTK_SUCCESS);
                    for (size_t r = 0; r < rows; ++r)
                        ASSERT_EQ(0, std::memcmp((char *)xs.data() + r * ldx * elem,
                                                 (char *)dxs.data() + r * ldx * elem, 2 * cols * elem));
                }
        }
    }
}

TEST(GatedCpu, EmptyShapesDoNothing)
{
    const actk_act silu_act = actk_act_default(ACTK_OP_SILU);
    EXPECT_EQ(
        actk_cpu_gated_forward(silu_act, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, ACTK_F32, 0, 8, nullptr, 16, nullptr, 8),
        ACTK_SUCCESS);
    EXPECT_EQ(
        actk_cpu_gated_forward(silu_act, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, ACTK_F32, 8, 0, nullptr, 0, nullptr, 0),
        ACTK_SUCCESS);
    EXPECT_EQ(actk_cpu_gated_backward(silu_act, ACTK_GATED_INTERLEAVED, ACTK_GATE_SECOND, ACTK_F16, 0, 4, nullptr, 8,
                                      nullptr, 4, nullptr, 8),
              ACTK_SUCCESS);
    EXPECT_EQ(actk_cpu_clamped_swiglu_backward(1.702f, 7.0f, ACTK_GATED_INTERLEAVED, ACTK_GATE_FIRST, ACTK_BF16, 3, 0,
                                               nullptr, 0, nullptr, 0, nullptr, 0),
              ACTK_SUCCESS);
}

/* The fused bias: exactly representable sums (quarters), so the biased call
 * equals the plain call on x + bias in every layout, gate position and dtype;
 * bias is checked like every buffer. */
TEST(GatedCpu, FusedBiasEqualsAddingItFirst)
{
    const size_t rows = 4, cols = 9, ldx = 2 * cols + 2, ldy = cols + 1;
    for (const actk_dtype dtype : kAllDtypes)
        for (const actk_gated_layout layout : kLayouts)
            for (const actk_gate_position gate : kGates)
                for (const actk_op op : {ACTK_OP_SILU, ACTK_OP_GELU, ACTK_OP_RELU, ACTK_OP_SIGMOID}) {
                    const actk_act act = actk_act_default(op);
                    Buffer x(dtype, rows * ldx), xb(dtype, rows * ldx), b(dtype, 2 * cols), y(dtype, rows * ldy),
                        want(dtype, rows * ldy);
                    for (size_t i = 0; i < 2 * cols; ++i) b.set(i, (long double)((int)(i % 7) - 3) * 0.5L);
                    for (size_t r = 0; r < rows; ++r)
                        for (size_t i = 0; i < ldx; ++i) {
                            const long double v = (long double)((int)((r * 5 + i * 3) % 11) - 5) * 0.25L;
                            x.set(r * ldx + i, v);
                            xb.set(r * ldx + i, i < 2 * cols ? v + b.get(i) : v);
                        }
                    std::memset(y.data(), 0x5A, y.bytes.size());
                    std::memset(want.data(), 0x5A, want.bytes.size());
                    ASSERT_EQ(actk_cpu_gated_bias_forward(act, layout, gate, dtype, rows, cols, x.data(), ldx, b.data(),
                                                          y.data(), ldy),
                              ACTK_SUCCESS)
                        << actk_last_error();
                    ASSERT_EQ(
                        actk_cpu_gated_forward(act, layout, gate, dtype, rows, cols, xb.data(), ldx, want.data(), ldy),
                        ACTK_SUCCESS);
                    EXPECT_EQ(0, std::memcmp(y.data(), want.data(), rows * ldy * actk_dtype_size(dtype)))
                        << describe(act, dtype);
                }
    /* bias inside y, misaligned bias: rejected, nothing written */
    std::vector<float> x(64, 0.5f), y(16, 9.0f);
    const actk_act silu = actk_act_default(ACTK_OP_SILU);
    EXPECT_EQ(actk_cpu_gated_bias_forward(silu, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, ACTK_F32, 2, 4, x.data(), 8,
                                          y.data() + 2, y.data(), 4),
              ACTK_ERROR_INVALID_VALUE);
    EXPECT_NE(std::strstr(actk_last_error(), "bias"), nullptr) << actk_last_error();
    EXPECT_EQ(actk_cpu_gated_bias_forward(silu, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, ACTK_F32, 2, 4, x.data(), 8,
                                          reinterpret_cast<const char *>(x.data() + 40) + 1, y.data(), 4),
              ACTK_ERROR_INVALID_VALUE);
    EXPECT_NE(std::strstr(actk_last_error(), "bias is not aligned"), nullptr) << actk_last_error();
    for (float v : y) EXPECT_EQ(v, 9.0f);
    EXPECT_EQ(actk_cuda_gated_bias_forward(silu, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, ACTK_F32, 2, 4, x.data(), 8,
                                           y.data() + 2, y.data(), 4, nullptr),
              ACTK_ERROR_INVALID_VALUE);
}
