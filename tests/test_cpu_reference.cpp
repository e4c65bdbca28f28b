// SPDX-License-Identifier: MIT
/*
 * test_cpu_reference.cpp - the CPU path (the oracle) checked against
 * independent facts: textbook formulas at moderate points, finite
 * differences of the forward pass, identities between ops, limits at
 * +-inf, asymptotic tails, special values, in-place use, and the
 * f16/bf16 rounding rules.
 */
#include "test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

using namespace actk_test;

namespace {

double f64_forward(actk_act act, double x)
{
    double y = NAN;
    EXPECT_EQ(actk_cpu_forward(act, ACTK_F64, 1, &x, &y), ACTK_SUCCESS) << actk_last_error();
    return y;
}

double f64_backward(actk_act act, double x, double dy = 1.0)
{
    double dx = NAN;
    EXPECT_EQ(actk_cpu_backward(act, ACTK_F64, 1, &x, &dy, &dx), ACTK_SUCCESS) << actk_last_error();
    return dx;
}

double f64_backward_from_y(actk_act act, double y, double dy = 1.0)
{
    double dx = NAN;
    EXPECT_EQ(actk_cpu_backward_from_y(act, ACTK_F64, 1, &y, &dy, &dx), ACTK_SUCCESS) << actk_last_error();
    return dx;
}

actk_act def(actk_op op) { return actk_act_default(op); }

/* Textbook definitions, evaluated naively in long double: accurate at the
 * moderate points where they are used (|x| <= 4, no deep tails). */
long double textbook(actk_op op, long double x)
{
    const long double sig = 1.0L / (1.0L + expl(-x));
    const long double sp = logl(1.0L + expl(x));
    const long double relu6_shift = fminl(fmaxl(x + 3.0L, 0.0L), 6.0L);
    switch (op) {
    case ACTK_OP_IDENTITY: return x;
    case ACTK_OP_STEP: return x > 0 ? 1 : 0;
    case ACTK_OP_SIGMOID: return sig;
    case ACTK_OP_TANH: return (expl(x) - expl(-x)) / (expl(x) + expl(-x));
    case ACTK_OP_RELU: return fmaxl(x, 0.0L);
    case ACTK_OP_LEAKY_RELU: return x >= 0 ? x : (long double)0.01f * x; /* alpha is a float */
    case ACTK_OP_ELU: return x > 0 ? x : expl(x) - 1.0L;
    case ACTK_OP_SELU:
        return 1.0507009873554804934193349852946L * (x > 0 ? x : 1.6732632423543772848170429916717L * (expl(x) - 1.0L));
    case ACTK_OP_CELU: return fmaxl(0.0L, x) + fminl(0.0L, expl(x) - 1.0L);
    case ACTK_OP_SOFTPLUS: return sp;
    case ACTK_OP_SOFTSIGN: return x / (1.0L + fabsl(x));
    case ACTK_OP_GELU: return 0.5L * x * (1.0L + erfl(x / sqrtl(2.0L)));
    case ACTK_OP_GELU_TANH:
        return 0.5L * x *
               (1.0L + tanhl(sqrtl(2.0L / 3.14159265358979323846264338327950288L) * (x + 0.044715L * x * x * x)));
    case ACTK_OP_SILU: return x * sig;
    case ACTK_OP_MISH: return x * tanhl(sp);
    case ACTK_OP_HARDTANH: return fminl(fmaxl(x, -1.0L), 1.0L);
    case ACTK_OP_RELU6: return fminl(fmaxl(x, 0.0L), 6.0L);
    case ACTK_OP_HARDSIGMOID: return relu6_shift / 6.0L;
    case ACTK_OP_HARDSWISH: return x * relu6_shift / 6.0L;
    case ACTK_OP_LOGSIGMOID: return logl(sig);
    case ACTK_OP_TANHSHRINK: return x - tanhl(x);
    case ACTK_OP_SOFTSHRINK: return x > 0.5L ? x - 0.5L : (x < -0.5L ? x + 0.5L : 0);
    case ACTK_OP_HARDSHRINK: return fabsl(x) > 0.5L ? x : 0;
    case ACTK_OP_THRESHOLD: return x > 0 ? x : 0;
    default: return NAN;
    }
}

} // namespace

TEST(CpuReference, MatchesTextbookFormulasAtModeratePoints)
{
    for (int op = 0; op < ACTK_OP_COUNT; ++op) {
        for (double x = -4.0; x <= 4.0; x += 0.0625 + 1.0 / 1024) {
            if (op == ACTK_OP_TANHSHRINK && std::fabs(x) < 0.5) continue; /* the textbook form cancels there */
            const long double want = textbook((actk_op)op, x);
            const double got = f64_forward(def((actk_op)op), x);
            EXPECT_LE(ulp_distance(ACTK_F64, got, (double)want), 4.0L)
                << actk_op_name((actk_op)op) << "(" << x << ") = " << got << ", textbook " << (double)want;
        }
    }
}

/* Richardson-extrapolated central differences of the f64 forward pass. */
static double numeric_derivative(actk_act act, double x)
{
    auto central = [&](double h) { return (f64_forward(act, x + h) - f64_forward(act, x - h)) / (2 * h); };
    const double h = 1e-3 * std::fmax(1.0, std::fabs(x));
    return (4 * central(h / 2) - central(h)) / 3;
}

TEST(CpuReference, BackwardMatchesFiniteDifferencesAwayFromKinks)
{
    std::vector<actk_act> acts;
    for (int op = 0; op < ACTK_OP_COUNT; ++op) acts.push_back(def((actk_op)op));
    acts.push_back({ACTK_OP_SOFTPLUS, 2.5f, 20.0f});
    acts.push_back({ACTK_OP_SILU, 1.702f, 0});
    acts.push_back({ACTK_OP_CELU, 0.6f, 0});
    const double kinks[] = {0.0, 0.5, -0.5, 1.0, -1.0, 3.0, -3.0, 6.0};
    for (const actk_act &act : acts) {
        for (double x = -7.3; x <= 7.3; x += 0.173) {
            bool near_kink = false;
            for (double k : kinks) near_kink |= std::fabs(x - k) < 0.01;
            if (near_kink) continue;
            const double want = numeric_derivative(act, x);
            const double got = f64_backward(act, x);
            EXPECT_NEAR(got, want, 1e-8 * std::fmax(1.0, std::fabs(want))) << describe(act, ACTK_F64) << " at " << x;
            /* dy scales the result */
            EXPECT_NEAR(f64_backward(act, x, -2.5), -2.5 * got, 1e-15 * std::fabs(got) + 1e-300);
        }
    }
}

TEST(CpuReference, BackwardFromYAgreesWithBackwardFromX)
{
    std::vector<actk_act> acts;
    for (int op = 0; op < ACTK_OP_COUNT; ++op)
        if (actk_op_has_backward_from_y((actk_op)op)) acts.push_back(def((actk_op)op));
    acts.push_back({ACTK_OP_ELU, 0.3f, 0});
    acts.push_back({ACTK_OP_CELU, 2.0f, 0});
    acts.push_back({ACTK_OP_SOFTPLUS, 0.5f, 8.0f});
    for (const actk_act &act : acts) {
        for (double x = -6.1; x <= 6.1; x += 0.37) {
            if (act.op == ACTK_OP_HARDSHRINK && std::fabs(std::fabs(x) - 0.5) < 1e-9) continue;
            const double y = f64_forward(act, x);
            EXPECT_NEAR(f64_backward_from_y(act, y, 1.5), f64_backward(act, x, 1.5), 1e-12)
                << describe(act, ACTK_F64) << " at x = " << x;
        }
    }
}

TEST(CpuReference, IdentitiesBetweenOps)
{
    for (double x = -12.0; x <= 12.0; x += 0.0931) {
        const double sig2x = f64_forward(def(ACTK_OP_SIGMOID), 2 * x);
        EXPECT_NEAR(f64_forward(def(ACTK_OP_TANH), x), 2 * sig2x - 1, 4e-16);
        EXPECT_NEAR(f64_forward(def(ACTK_OP_SOFTPLUS), x) - f64_forward(def(ACTK_OP_SOFTPLUS), -x), x, 1e-14);
        EXPECT_NEAR(f64_forward(def(ACTK_OP_LOGSIGMOID), x), -f64_forward(def(ACTK_OP_SOFTPLUS), -x), 1e-14);
        EXPECT_NEAR(f64_forward(def(ACTK_OP_SILU), x), x * f64_forward(def(ACTK_OP_SIGMOID), x), 1e-14);
        EXPECT_EQ(f64_forward(def(ACTK_OP_CELU), x), f64_forward(def(ACTK_OP_ELU), x));
        EXPECT_EQ(f64_forward(def(ACTK_OP_RELU6), x), f64_forward({ACTK_OP_HARDTANH, 0, 6}, x));
        EXPECT_NEAR(f64_forward(def(ACTK_OP_HARDSWISH), x), x * f64_forward(def(ACTK_OP_HARDSIGMOID), x), 1e-14);
        EXPECT_NEAR(f64_forward({ACTK_OP_SILU, 1.702f, 0}, x), x * f64_forward(def(ACTK_OP_SIGMOID), 1.702f * x),
                    1e-13);
        /* celu(x; a) = a * elu(x/a; 1) */
        EXPECT_NEAR(f64_forward({ACTK_OP_CELU, 2.0f, 0}, x), 2.0 * f64_forward(def(ACTK_OP_ELU), x / 2.0), 1e-14);
        /* sigmoid' = sigmoid (1 - sigmoid) */
        const double s = f64_forward(def(ACTK_OP_SIGMOID), x);
        EXPECT_NEAR(f64_backward(def(ACTK_OP_SIGMOID), x), s * (1 - s), 1e-16);
    }
}

TEST(CpuReference, LimitsAtInfinity)
{
    const double inf = INFINITY;
    const double selu_neg = -1.0507009873554804934 * 1.6732632423543772848;
    struct Limit { actk_op op; double at_minus, at_plus, d_minus, d_plus; } table[] = {
        {ACTK_OP_IDENTITY, -inf, inf, 1, 1},  {ACTK_OP_STEP, 0, 1, 0, 0},
        {ACTK_OP_SIGMOID, 0, 1, 0, 0},        {ACTK_OP_TANH, -1, 1, 0, 0},
        {ACTK_OP_RELU, 0, inf, 0, 1},         {ACTK_OP_LEAKY_RELU, -inf, inf, 0.01f, 1},
        {ACTK_OP_ELU, -1, inf, 0, 1},         {ACTK_OP_SELU, selu_neg, inf, 0, 1.0507009873554805},
        {ACTK_OP_CELU, -1, inf, 0, 1},        {ACTK_OP_SOFTPLUS, 0, inf, 0, 1},
        {ACTK_OP_SOFTSIGN, -1, 1, 0, 0},      {ACTK_OP_GELU, 0, inf, 0, 1},
        {ACTK_OP_GELU_TANH, 0, inf, 0, 1},    {ACTK_OP_SILU, 0, inf, 0, 1},
        {ACTK_OP_MISH, 0, inf, 0, 1},         {ACTK_OP_HARDTANH, -1, 1, 0, 0},
        {ACTK_OP_RELU6, 0, 6, 0, 0},          {ACTK_OP_HARDSIGMOID, 0, 1, 0, 0},
        {ACTK_OP_HARDSWISH, 0, inf, 0, 1},    {ACTK_OP_LOGSIGMOID, -inf, 0, 1, 0},
        {ACTK_OP_TANHSHRINK, -inf, inf, 1, 1}, {ACTK_OP_SOFTSHRINK, -inf, inf, 1, 1},
        {ACTK_OP_HARDSHRINK, -inf, inf, 1, 1}, {ACTK_OP_THRESHOLD, 0, inf, 0, 1},
    };
    static_assert(sizeof table / sizeof table[0] == ACTK_OP_COUNT, "one row per op");
    for (const Limit &l : table) {
        SCOPED_TRACE(actk_op_name(l.op));
        for (actk_dtype dtype : kAllDtypes) {
            Buffer x(dtype, 2), y(dtype, 2), dy(dtype, 2), dx(dtype, 2);
            x.set(0, -inf); x.set(1, inf); dy.set(0, 1); dy.set(1, 1);
            ASSERT_EQ(actk_cpu_forward(def(l.op), dtype, 2, x.data(), y.data()), ACTK_SUCCESS);
            ASSERT_EQ(actk_cpu_backward(def(l.op), dtype, 2, x.data(), dy.data(), dx.data()), ACTK_SUCCESS);
            EXPECT_LE(ulp_distance(dtype, y.get(0), l.at_minus), 1) << y.get(0);
            EXPECT_LE(ulp_distance(dtype, y.get(1), l.at_plus), 1) << y.get(1);
            Buffer want(dtype, 2);
            want.set(0, l.d_minus); want.set(1, l.d_plus);
            EXPECT_EQ(ulp_distance(dtype, dx.get(0), want.get(0)), 0) << dx.get(0) << " " << actk_dtype_name(dtype);
            EXPECT_EQ(ulp_distance(dtype, dx.get(1), want.get(1)), 0) << dx.get(1) << " " << actk_dtype_name(dtype);
        }
    }
}

TEST(CpuReference, NanInGivesNanOutEverywhere)
{
    for (int op = 0; op < ACTK_OP_COUNT; ++op) {
        for (actk_dtype dtype : kAllDtypes) {
            Buffer x(dtype, 1), out(dtype, 1), dy(dtype, 1);
            x.set(0, NAN);
            dy.set(0, 0.75L);
            ASSERT_EQ(actk_cpu_forward(def((actk_op)op), dtype, 1, x.data(), out.data()), ACTK_SUCCESS);
            EXPECT_TRUE(std::isnan((double)out.get(0))) << actk_op_name((actk_op)op) << " " << actk_dtype_name(dtype);
            ASSERT_EQ(actk_cpu_backward(def((actk_op)op), dtype, 1, x.data(), dy.data(), out.data()), ACTK_SUCCESS);
            EXPECT_TRUE(std::isnan((double)out.get(0))) << actk_op_name((actk_op)op) << " backward";
            if (actk_op_has_backward_from_y((actk_op)op)) {
                ASSERT_EQ(actk_cpu_backward_from_y(def((actk_op)op), dtype, 1, x.data(), dy.data(), out.data()),
                          ACTK_SUCCESS);
                EXPECT_TRUE(std::isnan((double)out.get(0))) << actk_op_name((actk_op)op) << " from y";
            }
        }
    }
}

TEST(CpuReference, TailsAreTinyButNotZero)
{
    /* independent asymptotic forms, f32 results within a few parts in 1e7 */
    auto f32_forward = [](actk_op op, float x) {
        float y = 0;
        EXPECT_EQ(actk_cpu_forward(def(op), ACTK_F32, 1, &x, &y), ACTK_SUCCESS);
        return (long double)y;
    };
    auto rel = [](long double got, long double want) { return fabsl(got - want) / fabsl(want); };
    const long double phi10 = expl(-50.0L) / sqrtl(2.0L * 3.14159265358979323846264338327950288L);
    /* Phi(-10) ~ phi(10)/10 (1 - 1/100 + 3/1e4 - 15/1e6 + 105/1e8) */
    const long double gelu_m10 = -10.0L * phi10 / 10.0L * (1 - 1e-2L + 3e-4L - 1.5e-5L + 1.05e-6L - 9.45e-8L);
    EXPECT_LT(rel(f32_forward(ACTK_OP_GELU, -10.0f), gelu_m10), 2e-7);
    EXPECT_LT(rel(f32_forward(ACTK_OP_SIGMOID, -80.0f), expl(-80.0L)), 2e-7);
    EXPECT_LT(rel(f32_forward(ACTK_OP_SILU, -90.0f), -90.0L * expl(-90.0L)), 2e-7);
    EXPECT_LT(rel(f32_forward(ACTK_OP_MISH, -30.0f), -30.0L * expl(-30.0L)), 2e-7);
    float x = 15.0f, dy = 1.0f, dx = 0.0f;
    ASSERT_EQ(actk_cpu_backward(def(ACTK_OP_TANH), ACTK_F32, 1, &x, &dy, &dx), ACTK_SUCCESS);
    const long double c = coshl(15.0L);
    EXPECT_LT(rel(dx, 1.0L / (c * c)), 2e-7);
    EXPECT_GT(dx, 0.0f);
}

TEST(CpuReference, SignedZeroAndSubnormalsAreKept)
{
    const double tiny = 1e-310; /* subnormal in f64 */
    EXPECT_EQ(f64_forward(def(ACTK_OP_IDENTITY), tiny), tiny);
    EXPECT_EQ(f64_forward(def(ACTK_OP_RELU), tiny), tiny);
    EXPECT_EQ(f64_forward(def(ACTK_OP_TANH), tiny), tiny);
    EXPECT_EQ(f64_forward(def(ACTK_OP_SOFTSIGN), -tiny), -tiny);
    EXPECT_EQ(f64_forward(def(ACTK_OP_GELU), tiny), tiny / 2);
    EXPECT_EQ(f64_forward(def(ACTK_OP_SILU), tiny), tiny / 2);
    EXPECT_NE(f64_forward(def(ACTK_OP_LEAKY_RELU), -tiny), 0.0);
    EXPECT_EQ(f64_forward(def(ACTK_OP_SIGMOID), tiny), 0.5);
    EXPECT_TRUE(std::signbit(f64_forward(def(ACTK_OP_IDENTITY), -0.0)));
    EXPECT_TRUE(std::signbit(f64_forward(def(ACTK_OP_TANH), -0.0)));
    EXPECT_FALSE(std::signbit(f64_forward(def(ACTK_OP_RELU), -0.0)));
    float sub = 1e-40f, out = 0; /* subnormal in f32: no flush to zero */
    ASSERT_EQ(actk_cpu_forward(def(ACTK_OP_TANH), ACTK_F32, 1, &sub, &out), ACTK_SUCCESS);
    EXPECT_EQ(out, sub);
}

TEST(CpuReference, DerivativeConventionsAtKinksFollowPyTorch)
{
    EXPECT_EQ(f64_backward(def(ACTK_OP_RELU), 0.0), 0.0);
    EXPECT_EQ(f64_backward(def(ACTK_OP_LEAKY_RELU), 0.0), 0.01f);
    EXPECT_EQ(f64_backward(def(ACTK_OP_HARDTANH), 1.0), 0.0);
    EXPECT_EQ(f64_backward(def(ACTK_OP_HARDTANH), -1.0), 0.0);
    EXPECT_EQ(f64_backward(def(ACTK_OP_RELU6), 6.0), 0.0);
    EXPECT_EQ(f64_backward(def(ACTK_OP_HARDSWISH), 3.0), 1.5);
    EXPECT_EQ(f64_backward(def(ACTK_OP_HARDSWISH), -3.0), -0.5);
    EXPECT_EQ(f64_backward(def(ACTK_OP_HARDSIGMOID), 3.0), 0.0);
    EXPECT_EQ(f64_backward(def(ACTK_OP_ELU), 0.0), 1.0);
    /* flat pieces give 0 even for an infinite or NaN dy (masking, as in PyTorch) */
    EXPECT_EQ(f64_backward(def(ACTK_OP_RELU), -2.0, INFINITY), 0.0);
    EXPECT_EQ(f64_backward(def(ACTK_OP_RELU), -2.0, NAN), 0.0);
    EXPECT_TRUE(std::isnan(f64_backward(def(ACTK_OP_RELU), 2.0, NAN)));
}

TEST(CpuReference, InPlaceEqualsOutOfPlaceAndOddSizes)
{
    std::mt19937_64 rng(7);
    for (actk_dtype dtype : kAllDtypes) {
        const size_t n = 1001;
        Buffer x(dtype, n), dy(dtype, n), y(dtype, n), dx(dtype, n);
        for (size_t i = 0; i < n; ++i) {
            x.set(i, random_value(rng, dtype, 8));
            dy.set(i, random_value(rng, dtype, 2));
        }
        for (int op = 0; op < ACTK_OP_COUNT; ++op) {
            const actk_act act = def((actk_op)op);
            Buffer inplace = x;
            ASSERT_EQ(actk_cpu_forward(act, dtype, n, x.data(), y.data()), ACTK_SUCCESS);
            ASSERT_EQ(actk_cpu_forward(act, dtype, n, inplace.data(), inplace.data()), ACTK_SUCCESS);
            EXPECT_EQ(std::memcmp(inplace.data(), y.data(), n * actk_dtype_size(dtype)), 0) << actk_op_name(act.op);
            Buffer grad = dy;
            ASSERT_EQ(actk_cpu_backward(act, dtype, n, x.data(), dy.data(), dx.data()), ACTK_SUCCESS);
            ASSERT_EQ(actk_cpu_backward(act, dtype, n, x.data(), grad.data(), grad.data()), ACTK_SUCCESS);
            EXPECT_EQ(std::memcmp(grad.data(), dx.data(), n * actk_dtype_size(dtype)), 0) << actk_op_name(act.op);
        }
    }
}

TEST(CpuReference, NothingWrittenPastN)
{
    std::vector<float> x(8, -1.5f), y(8, 42.0f);
    ASSERT_EQ(actk_cpu_forward(def(ACTK_OP_RELU), ACTK_F32, 5, x.data(), y.data()), ACTK_SUCCESS);
    for (int i = 0; i < 5; ++i) EXPECT_EQ(y[i], 0.0f);
    for (int i = 5; i < 8; ++i) EXPECT_EQ(y[i], 42.0f);
    ASSERT_EQ(actk_cpu_forward(def(ACTK_OP_RELU), ACTK_F32, 0, x.data(), y.data()), ACTK_SUCCESS);
    EXPECT_EQ(y[5], 42.0f);
}

TEST(HalfConversion, RoundsOnceToNearestEven)
{
    EXPECT_EQ(actk_f16_from_long_double(1.0L + 0x1p-11L), 0x3c00);          /* tie -> even (1.0) */
    EXPECT_EQ(actk_f16_from_long_double(1.0L + 3 * 0x1p-11L), 0x3c02);      /* tie -> even (up) */
    EXPECT_EQ(actk_f16_from_long_double(1.0L + 0x1p-11L + 0x1p-40L), 0x3c01); /* just above the tie */
    EXPECT_EQ(actk_f16_from_long_double(65504.0L), 0x7bff);
    EXPECT_EQ(actk_f16_from_long_double(65519.0L), 0x7bff);
    EXPECT_EQ(actk_f16_from_long_double(65520.0L), 0x7c00);                  /* rounds to inf */
    EXPECT_EQ(actk_f16_from_long_double(0x1p-24L), 0x0001);                  /* smallest subnormal */
    EXPECT_EQ(actk_f16_from_long_double(0x1p-25L), 0x0000);                  /* tie -> even (0) */
    EXPECT_EQ(actk_f16_from_long_double(3 * 0x1p-26L), 0x0001);
    EXPECT_EQ(actk_f16_from_long_double(-0.0L), 0x8000);
    EXPECT_EQ(actk_f16_from_long_double(0x1p-14L - 0x1p-25L), 0x0400);     /* rounds up to the smallest normal */
    EXPECT_EQ(actk_bf16_from_long_double(1.0L + 0x1p-8L), 0x3f80);
    EXPECT_EQ(actk_bf16_from_long_double(1.0L + 3 * 0x1p-8L), 0x3f82);
    EXPECT_EQ(actk_bf16_from_long_double(0x1p-133L), 0x0001);                /* bf16 subnormal */
    EXPECT_EQ(actk_bf16_from_long_double(3.4e38L), 0x7f80);                  /* overflow -> inf */
    for (uint32_t h = 0; h < 0x10000; ++h) {                                 /* every finite value round-trips */
        const float f16 = actk_f16_to_float((uint16_t)h), bf16 = actk_bf16_to_float((uint16_t)h);
        if (!std::isnan(f16)) {
            EXPECT_EQ(actk_f16_from_long_double(f16), h);
        }
        if (!std::isnan(bf16)) {
            EXPECT_EQ(actk_bf16_from_long_double(bf16), h);
        }
    }
}
