// SPDX-License-Identifier: MIT
/*
 * f32_rounding_survey.cpp - how often the f32 kernels' math (the ops of
 * kernels/activation_math.cuh under F32Math, kernels/f32_math.cuh,
 * compiled here for the host) misses the
 * correctly rounded result, per op and direction, on 2M values drawn from a
 * normal distribution (sigma 4, every fourth value sigma 24).
 *
 * Usage: f32_rounding_survey [COUNT]
 *
 * C++ because it instantiates the kernels' templates; it prints only the ops
 * with a miss and the largest ULP distance. The tests enforce the bound
 * (<= 0.01% misses on 100K values); this gives the figure for docs/PERF.md.
 */
#include "activation_math.cuh"
#include "actk/actk.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

static long long ulp_distance(float a, float b)
{
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b) ? 0 : 1LL << 40;
    int32_t ia, ib;
    std::memcpy(&ia, &a, sizeof ia);
    std::memcpy(&ib, &b, sizeof ib);
    const long long la = ia < 0 ? (long long)INT32_MIN - ia : ia, lb = ib < 0 ? (long long)INT32_MIN - ib : ib;
    return std::llabs(la - lb);
}

int main(int argc, char **argv)
{
    const size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2000000;
    std::mt19937_64 rng(11);
    std::normal_distribution<double> normal(0.0, 4.0);
    std::vector<float> x(n), dy(n, 1.0f), ref(n);
    for (size_t i = 0; i < n; ++i) x[i] = (float)(i % 4 == 0 ? 6 * normal(rng) : normal(rng));
    printf("f32 kernels' math against the reference on %zu values: ops with results not correctly rounded\n", n);
    int clean = 0;
    for (int op = 0; op < ACTK_OP_COUNT; ++op) {
        const actk_act act = actk_act_default((actk_op)op);
        for (int dir = 0; dir < 2; ++dir) {
            const actk_status status = dir == 0 ? actk_cpu_forward(act, ACTK_F32, n, x.data(), ref.data())
                                                : actk_cpu_backward(act, ACTK_F32, n, x.data(), dy.data(), ref.data());
            if (status != ACTK_SUCCESS) {
                fprintf(stderr, "reference failed: %s\n", actk_last_error());
                return 1;
            }
            long long worst = 0;
            size_t missed = 0;
            actk::visit_op<int>(
                act.op,
                [&](auto op_struct) {
                    using Op = decltype(op_struct);
                    using M = actk::MathFor<ACTK_F32>::type;
                    const actk::Params<float> p{act.alpha, act.beta};
                    for (size_t i = 0; i < n; ++i) {
                        const float v =
                            dir == 0 ? Op::template forward<M>(x[i], p) : Op::template backward<M>(x[i], 1.0f, p);
                        const long long d = ulp_distance(v, ref[i]);
                        missed += d != 0;
                        if (d > worst) worst = d;
                    }
                    return 0;
                },
                0);
            if (missed)
                printf("  %-12s %-8s %8zu missed (%.4f%%), max %lld ulp\n", actk_op_name(act.op),
                       dir ? "backward" : "forward", missed, 100.0 * (double)missed / (double)n, worst);
            else
                ++clean;
        }
    }
    printf("  the other %d op/direction pairs: every result correctly rounded\n", clean);
    return 0;
}
