// SPDX-License-Identifier: MIT
/*
 * f32_gelu_sweep.cpp - dense accuracy check of the float-only gelu and
 * gelu_tanh (kernels/f32_gelu.cuh) against long double references, on the
 * host: worst ULP distance and share of correctly rounded results.
 *
 * Usage: f32_gelu_sweep FUNCTION MODE [THREADS] [skewed]
 *   FUNCTION: gelu, gelu_bwd, gelu_tanh, gelu_tanh_bwd (backward with dy = 1)
 *   MODE: dense   - every float in [-16, 16] with |x| >= 2^-12 (the core),
 *                   every 7th float elsewhere (about 8.4e8 inputs)
 *         medium  - every 3rd float of the core, every 61st elsewhere (1.6e8)
 *         sample  - 4e6 random bit patterns plus 4e6 uniform in [-16, 16]
 *         all     - all 2^32 bit patterns
 *   skewed: the reciprocal is only faithful (SkewedRcp below), as MUFU.RCP
 *   may be.
 * Prints the worst case (input, result, reference) and counts. A measuring
 * tool for docs/PERF.md, "f32 gelu and gelu_tanh in float", not a test (the tests assert the bounds).
 */
#include "f32_gelu.cuh"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

const long double kSqrt1_2 = 0.70710678118654752440084436210484903928L;
const long double kInvSqrt2Pi = 0.39894228040143267793994605993438186848L;
const long double kSqrt2OverPi = 0.79788456080286535587989211986876373695L;

long double sigmoid_l(long double z)
{
    if (z >= 0) return 1.0L / (1.0L + expl(-z));
    const long double e = expl(z);
    return e / (1.0L + e);
}

long double reference(int function, float xf)
{
    const long double x = xf;
    if (std::isinf(xf)) {
        if (function == 0 || function == 2) return x > 0 ? x : -0.0L;
        return x > 0 ? 1.0L : 0.0L;
    }
    switch (function) {
    case 0: return 0.5L * x * erfcl(-x * kSqrt1_2);
    case 1: return 0.5L * erfcl(-x * kSqrt1_2) + x * kInvSqrt2Pi * expl(-0.5L * x * x);
    case 2: return x * sigmoid_l(2.0L * kSqrt2OverPi * x * (1.0L + 0.044715L * x * x));
    default: {
        const long double z = 2.0L * kSqrt2OverPi * x * (1.0L + 0.044715L * x * x);
        const long double du = kSqrt2OverPi * (1.0L + 3.0L * 0.044715L * x * x);
        const long double e = expl(-fabsl(z));
        const long double ds = e / ((1.0L + e) * (1.0L + e));
        return sigmoid_l(z) + 2.0L * x * ds * du;
    }
    }
}

/* MUFU.RCP stand-in that is only faithful: for about half of the inputs
 * (by a hash of the bits) the other float neighbour of 1/d, up to 1 ulp
 * off. The results must not depend on it (every reciprocal is corrected). */
struct SkewedRcp {
    static float rcp(float d)
    {
        const float r = 1.0f / d;
        uint32_t b;
        std::memcpy(&b, &d, 4);
        b *= 2654435761u;
        if (b >> 31) return r;
        const long double exact = 1.0L / d;
        return std::nextafter(r, (long double)r < exact ? INFINITY : -INFINITY);
    }
};

bool g_skewed = false;

template <class Hw> float compute_on(int function, float x)
{
    switch (function) {
    case 0: return actk::f32_gelu::gelu<Hw>(x);
    case 1: return actk::f32_gelu::gelu_backward<Hw>(x, 1.0f);
    case 2: return actk::f32_gelu::gelu_tanh<Hw>(x);
    default: return actk::f32_gelu::gelu_tanh_backward<Hw>(x, 1.0f);
    }
}

float compute(int function, float x)
{
    return g_skewed ? compute_on<SkewedRcp>(function, x) : compute_on<actk::F32Hardware>(function, x);
}

/* |got - exact| in units of the exact value's float ulp (2^-149 below 2^-126) */
double ulp_error(float got, long double exact)
{
    if (std::isnan(got) || std::isnan((double)exact)) return std::isnan(got) && std::isnan((double)exact) ? 0 : 1e30;
    if (std::isinf(got) || std::isinf((double)exact)) return got == exact ? 0 : 1e30;
    const long double m = fabsl(exact);
    int e;
    frexpl(m, &e);
    long double ulp = ldexpl(1.0L, e - 24);
    if (ulp < 0x1p-149L) ulp = 0x1p-149L;
    return (double)(fabsl((long double)got - exact) / ulp);
}

struct Stats {
    double worst = 0;
    float worst_x = 0;
    uint64_t count = 0, exact = 0, over1 = 0;
    void add(int function, float x)
    {
        const long double ref = reference(function, x);
        const float got = compute(function, x);
        const double err = ulp_error(got, ref);
        ++count;
        const float rounded = (float)ref;
        if (got == rounded || (std::isnan(got) && std::isnan(rounded))) ++exact;
        if (err > 1) ++over1;
        if (err > worst) {
            worst = err;
            worst_x = x;
        }
    }
    void merge(const Stats &o)
    {
        if (o.worst > worst) {
            worst = o.worst;
            worst_x = o.worst_x;
        }
        count += o.count;
        exact += o.exact;
        over1 += o.over1;
    }
};

float from_bits(uint32_t b)
{
    float f;
    std::memcpy(&f, &b, 4);
    return f;
}

} // namespace

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s gelu|gelu_bwd|gelu_tanh|gelu_tanh_bwd dense|sample|all [threads]\n", argv[0]);
        return 2;
    }
    const std::string name = argv[1], mode = argv[2];
    const int function = name == "gelu" ? 0 : name == "gelu_bwd" ? 1 : name == "gelu_tanh" ? 2 : 3;
    const int threads = argc > 3 ? atoi(argv[3]) : 1;
    g_skewed = argc > 4 && std::string(argv[4]) == "skewed";
    std::vector<Stats> stats(threads);
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            Stats &s = stats[t];
            if (mode == "all" || mode == "dense" || mode == "medium") {
                const uint64_t total = 1ull << 32;
                const uint64_t core_stride = mode == "medium" ? 3 : 1, rest_stride = mode == "medium" ? 61 : 7;
                for (uint64_t b = t; b < total; b += threads) {
                    const float x = from_bits((uint32_t)b);
                    if (mode != "all") {
                        const float ax = std::fabs(x);
                        const bool core = ax <= 16.0f && ax >= 0x1p-12f;
                        if (b % (core ? core_stride : rest_stride) != 0) continue;
                    }
                    s.add(function, x);
                }
            } else {
                std::mt19937_64 rng(99 + t);
                std::uniform_real_distribution<float> uniform(-16.0f, 16.0f);
                for (int i = 0; i < 4000000 / threads; ++i) {
                    s.add(function, from_bits((uint32_t)rng()));
                    s.add(function, uniform(rng));
                }
            }
        });
    }
    for (auto &th : pool) th.join();
    Stats total;
    for (const Stats &s : stats) total.merge(s);
    const float x = total.worst_x;
    printf("%s %s%s: %llu inputs, worst %.3f ulp at x = %.9g (got %.9g, want %.12Lg), %.4f%% correctly rounded, %llu "
           "over 1 ulp\n",
           name.c_str(), mode.c_str(), g_skewed ? " (skewed rcp)" : "", (unsigned long long)total.count, total.worst, x,
           compute(function, x), reference(function, x), 100.0 * (double)total.exact / (double)total.count,
           (unsigned long long)total.over1);
    return 0;
}
