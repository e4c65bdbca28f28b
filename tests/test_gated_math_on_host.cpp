// SPDX-License-Identifier: MIT
/*
 * test_gated_math_on_host.cpp - the gated kernels' math (kernels/
 * gated_math.cuh on top of activation_math.cuh) compiled for the host and
 * checked against the long double oracle (actk_cpu_gated_*) under the
 * promised bounds, for every op, clamped SwiGLU, dtype and direction.
 * Storage is converted and rounded exactly as the kernels do: each dtype
 * computes in its policy's type (MathFor<dtype>::type::T, the type the
 * engine's StorageTraits asserts) and rounds once to storage. f16 and bf16
 * gates take every one of their 65536 values.
 */
#include "gated_math.cuh"
#include "gated_util.h"

#include <gtest/gtest.h>

#include <limits>

using namespace actk_test;

namespace {

struct Inputs {
    Buffer x;  /* one row: gates then ups (concatenated, gate first) */
    Buffer dy;
    size_t n;
};

Inputs make_inputs(actk_dtype dtype, std::mt19937_64 &rng)
{
    const std::vector<long double> specials = special_values();
    const bool half = dtype == ACTK_F16 || dtype == ACTK_BF16;
    const size_t n = half ? 65536 : 60000 + specials.size() * specials.size() / 8;
    Inputs in{Buffer(dtype, 2 * n), Buffer(dtype, n), n};
    std::uniform_real_distribution<double> grad(-3.0, 3.0);
    for (size_t i = 0; i < n; ++i) {
        if (half) reinterpret_cast<uint16_t *>(in.x.data())[i] = (uint16_t)i;
        else if (i < specials.size() * specials.size() / 8) in.x.set(i, specials[i % specials.size()]);
        else in.x.set(i, random_value(rng, dtype));
        /* ups: the special set in a different order, then random; dy mostly
         * moderate, sometimes from the whole range (dy * up overflows) */
        const size_t k = i / specials.size() + 3 * i;
        in.x.set(n + i, (i % 3 == 0) ? specials[k % specials.size()] : random_value(rng, dtype));
        in.dy.set(i, (i % 4 == 0) ? random_value(rng, dtype) : grad(rng));
    }
    return in;
}

template <class GatedOp, class M>
void emulate(actk_act act, bool backward, const Inputs &in, Buffer &out)
{
    using C = typename M::T;
    const actk::Params<C> p{(C)act.alpha, (C)act.beta};
    for (size_t i = 0; i < in.n; ++i) {
        const C g = (C)in.x.get(i), u = (C)in.x.get(in.n + i);
        if (!backward) {
            out.set(i, GatedOp::template forward<M>(g, u, p));
        } else {
            C dg, du;
            GatedOp::template backward<M>(g, u, (C)in.dy.get(i), p, &dg, &du);
            out.set(i, dg);
            out.set(in.n + i, du);
        }
    }
}

/* M: the kernels' policy for D (a test may pass another, e.g. to try a
 * compute type before the kernels adopt it) */
template <actk_dtype D, class M = typename actk::MathFor<D>::type> void check_dtype_typed()
{
    using C = typename M::T;
    std::mt19937_64 rng(777 + D);
    const Inputs in = make_inputs(D, rng);
    for (const Gated &g : gated_under_test()) {
        for (int backward = 0; backward < 2; ++backward) {
            Buffer got(D, 2 * in.n), want(D, 2 * in.n);
            if (g.clamped) {
                emulate<actk::ClampedSwigluOp, M>(g.act, backward, in, got);
            } else {
                actk::visit_op<int>(
                    g.act.op,
                    [&](auto op) {
                        emulate<actk::GatedProductOp<decltype(op)>, M>(g.act, backward, in, got);
                        return 0;
                    },
                    0);
            }
            ASSERT_EQ(gated_cpu(g, backward, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, D, 1, in.n, in.x.data(), 2 * in.n,
                                in.dy.data(), in.n, want.data(), backward ? 2 * in.n : in.n),
                      ACTK_SUCCESS)
                << actk_last_error();
            GatedReport rep;
            const ComputeRange range = compute_range<C>(D);
            for (size_t i = 0; i < in.n; ++i) {
                const long double gate = in.x.get(i), up = in.x.get(in.n + i), dy = in.dy.get(i);
                if (!backward) {
                    check_gated_value(rep, g, D, 0, gate, up, dy, got.get(i), want.get(i), range);
                } else {
                    check_gated_value(rep, g, D, 1, gate, up, dy, got.get(i), want.get(i), range);
                    check_gated_value(rep, g, D, 2, gate, up, dy, got.get(in.n + i), want.get(in.n + i), range);
                }
            }
            printf("  %-44s %-8s max %5.2Lf ulp, %zu exempt, %zu by conditioning, %zu of %zu outside\n",
                   describe(g, D).c_str(), backward ? "backward" : "forward", rep.max_ulp, rep.exempt, rep.conditioned,
                   rep.failures, rep.checked);
            EXPECT_EQ(rep.failures, 0u) << rep.first_failure;
        }
    }
}

} // namespace

TEST(GatedMathOnHost, F32) { check_dtype_typed<ACTK_F32>(); }
TEST(GatedMathOnHost, F16EveryGateValue) { check_dtype_typed<ACTK_F16>(); }
TEST(GatedMathOnHost, Bf16EveryGateValue) { check_dtype_typed<ACTK_BF16>(); }
TEST(GatedMathOnHost, F64) { check_dtype_typed<ACTK_F64>(); }

/* dy * up out of the compute type's range: bf16 dy = up = 2^-100 gives
 * dy * up = 2^-200, 0 in float, yet dgate = 2^-200 * leaky_relu'(-1) with
 * slope 2^80 is 2^-120, a normal bf16. The gradient takes the product the
 * other way round there (gated_math.cuh); the oracle agrees. */
TEST(GatedMathOnHost, GateGradientSurvivesAnUnderflowingDyTimesUp)
{
    using M = actk::MathFor<ACTK_BF16>::type;
    using C = M::T;
    const actk::Params<C> p{C(0x1p80), 0};
    C dg = 0, du = 0;
    actk::GatedProductOp<actk::LeakyReluOp>::backward<M>(C(-1), C(0x1p-100), C(0x1p-100), p, &dg, &du);
    EXPECT_EQ(dg, C(0x1p-120));
    EXPECT_EQ(du, C(-0x1p-100 * 0x1p80));
    const Gated leaky{{ACTK_OP_LEAKY_RELU, 0x1p80f, 0}, false};
    double x[2] = {-1.0, 0x1p-100}, dy = 0x1p-100, dx[2] = {0, 0};
    ASSERT_EQ(gated_cpu(leaky, true, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, ACTK_F64, 1, 1, x, 2, &dy, 1, dx, 2),
              ACTK_SUCCESS);
    EXPECT_EQ(dx[0], 0x1p-120);
}
