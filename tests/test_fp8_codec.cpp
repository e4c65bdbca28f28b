// SPDX-License-Identifier: MIT
/*
 * test_fp8_codec.cpp - the kernels' FP8 codec (kernels/fp8_codec.cuh) and
 * scale rules (kernels/quant_math.cuh), compiled for the host, against the
 * independent oracle of host/cpu/fp8_reference.c: the nearest decoded code,
 * ties to even, found by search over the 256 codes in long double.
 *
 * The codec is checked, where FP8 has codes (float exponents 2^-27 to
 * 2^23, both signs), on every float whose low 8 bits are 0x00, 0x01 or
 * 0xff: every exact tie between two FP8 codes has low bits 0, and its
 * neighbours on either side are in the set. Outside that range (always 0
 * or saturated) every 256th such pattern, plus a random sample of all
 * floats and the special values.
 */
#include "fp8_codec.cuh"
#include "fp8_reference.h"
#include "quant_math.cuh"

#include <gtest/gtest.h>

#if defined(ACTK_TEST_CUDA_FP8_HEADER)
#include <cuda_fp8.h> /* NVIDIA's own (host) conversion: a second, independent encoder */
#endif

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>

namespace {

float from_bits(uint32_t u)
{
    float v;
    std::memcpy(&v, &u, sizeof v);
    return v;
}

uint32_t to_bits(float v)
{
    uint32_t u;
    std::memcpy(&u, &v, sizeof u);
    return u;
}

const actk_fp8_format kFormats[] = {ACTK_FP8_E4M3, ACTK_FP8_E5M2};

TEST(Fp8Codec, DecodeMatchesTheDefinitionForEveryCode)
{
    for (actk_fp8_format f : kFormats)
        for (int c = 0; c < 256; ++c) {
            const long double want = actk_fp8_ref_decode(f, (uint8_t)c);
            const float got = actk::fp8_decode((int)f, (uint8_t)c);
            if (std::isnan(want)) {
                EXPECT_TRUE(std::isnan(got)) << "format " << f << " code " << c;
            } else {
                EXPECT_EQ((long double)got, want) << "format " << f << " code " << c;
                EXPECT_EQ(std::signbit(got), (c & 0x80) != 0) << "format " << f << " code " << c;
            }
        }
}

TEST(Fp8Codec, KnownCodes)
{
    using actk::fp8_encode;
    EXPECT_EQ(fp8_encode(0, 448.0f), 0x7E);
    EXPECT_EQ(fp8_encode(0, 1e9f), 0x7E);
    EXPECT_EQ(fp8_encode(0, INFINITY), 0x7E);
    EXPECT_EQ(fp8_encode(0, -INFINITY), 0xFE);
    EXPECT_EQ(fp8_encode(0, NAN) & 0x7F, 0x7F);
    EXPECT_EQ(fp8_encode(0, 1.0f), 0x38);
    EXPECT_EQ(fp8_encode(0, 0x1p-9f), 0x01);  /* smallest E4M3 subnormal */
    EXPECT_EQ(fp8_encode(0, 0x1p-10f), 0x00); /* a tie with 0: even */
    EXPECT_EQ(fp8_encode(0, 0x1.8p-9f), 0x02); /* 1.5 quanta: tie, to 2 (even) */
    EXPECT_EQ(fp8_encode(0, -0.0f), 0x80);
    EXPECT_EQ(fp8_encode(1, 57344.0f), 0x7B);
    EXPECT_EQ(fp8_encode(1, 61440.0f), 0x7B); /* finite overflow saturates */
    EXPECT_EQ(fp8_encode(1, INFINITY), 0x7C);
    EXPECT_EQ(fp8_encode(1, -INFINITY), 0xFC);
    EXPECT_EQ(fp8_encode(1, 0x1p-16f), 0x01);
    EXPECT_EQ(fp8_encode(1, 1.0f), 0x3C);
    EXPECT_EQ(fp8_encode(1, NAN) & 0x7F, 0x7E);
}

void expect_same(actk_fp8_format f, float v, long &checked, long &mismatches)
{
    const uint8_t want = actk_fp8_ref_encode(f, (long double)v);
    const uint8_t got = actk::fp8_encode((int)f, v);
    ++checked;
    if (want != got && ++mismatches <= 20)
        ADD_FAILURE() << "format " << f << ": encode(" << v << " = 0x" << std::hex << to_bits(v) << ") = 0x"
                      << (int)got << ", oracle 0x" << (int)want;
}

TEST(Fp8Codec, EncodeMatchesTheOracleOnADenseSweep)
{
    for (actk_fp8_format f : kFormats) {
        long checked = 0, mismatches = 0;
        for (uint64_t high = 0; high < (1ull << 24); ++high) {
            const uint32_t exponent = (uint32_t)(high >> 15) & 0xffu;
            if ((exponent < 127 - 27 || exponent > 127 + 23) && high % 256 != 0) continue;
            for (uint32_t low : {0x00u, 0x01u, 0xffu})
                expect_same(f, from_bits((uint32_t)(high << 8) | low), checked, mismatches);
        }
        std::mt19937 rng(1234 + (int)f);
        for (int i = 0; i < 1000000; ++i) expect_same(f, from_bits((uint32_t)rng()), checked, mismatches);
        EXPECT_GT(checked, 3l * 2 * 51 * (1l << 15));
        EXPECT_EQ(mismatches, 0) << "format " << f;
    }
}

#if defined(ACTK_TEST_CUDA_FP8_HEADER)
/* The same sweep against __nv_cvt_float_to_fp8(..., __NV_SATFINITE, ...)
 * on the host: equal everywhere except E5M2's +-inf, which SATFINITE maps
 * to +-57344 where actk keeps inf (documented), and NaN's sign/payload. */
TEST(Fp8Codec, MatchesCudaFp8HeaderSatfinite)
{
    long mismatches = 0, checked = 0;
    for (int f = 0; f < 2; ++f)
        for (uint64_t high = 0; high < (1ull << 24); high += 3) {
            const float v = from_bits((uint32_t)(high << 8) | (uint32_t)(high & 0xff));
            if (std::isnan(v) || (f == 1 && std::isinf(v))) continue;
            const uint8_t ours = actk::fp8_encode(f, v);
            const uint8_t cuda = (uint8_t)__nv_cvt_float_to_fp8(v, __NV_SATFINITE, f == 0 ? __NV_E4M3 : __NV_E5M2);
            ++checked;
            if (ours != cuda && ++mismatches <= 10)
                ADD_FAILURE() << "format " << f << " v " << v << ": actk 0x" << std::hex << (int)ours << ", cuda_fp8 0x"
                              << (int)cuda;
        }
    EXPECT_EQ(mismatches, 0);
    EXPECT_GT(checked, 10000000);
}
#endif

/* The oracle itself must be able to fail: a deliberately wrong encoder
 * (truncation instead of rounding) disagrees with it. */
TEST(Fp8Codec, TheOracleCatchesTruncation)
{
    int differences = 0;
    for (float v = 1.0f; v < 2.0f; v += 1.0f / 64) {
        const uint8_t truncated = (uint8_t)(0x38 + (int)((v - 1.0f) * 8)); /* E4M3, exponent 0 */
        differences += actk_fp8_ref_encode(ACTK_FP8_E4M3, v) != truncated;
    }
    EXPECT_GT(differences, 10);
}

TEST(QuantMath, ScalesMatchTheReferenceRules)
{
    std::mt19937 rng(99);
    std::vector<float> amaxes = {0.0f, 1.0f, 448.0f, 57344.0f, 3.0f, 1e-45f, 1e-38f, 1e-36f, FLT_MAX, 0x1p-126f,
                                 0x1p-149f, 1.5f, 0.75f, 7.0f, 2.0f, 0.5f};
    for (int i = 0; i < 200000; ++i) {
        const float a = from_bits(rng() & 0x7fffffffu);
        if (std::isfinite(a)) amaxes.push_back(a);
    }
    for (actk_fp8_format f : kFormats)
        for (float a : amaxes)
            for (int pow2 = 0; pow2 < 2; ++pow2) {
                const float want = actk_fp8_ref_scale(f, a, pow2);
                const float got = actk::quant_scale_from_amax((int)f, to_bits(a), pow2);
                ASSERT_EQ(to_bits(got), to_bits(want)) << "format " << f << " amax " << a << " pow2 " << pow2;
                ASSERT_TRUE(std::isfinite(got) && got > 0.0f);
                if (pow2 && a != 0.0f && got < 0x1p127f) {
                    /* rounded down: amax * scale stays within the format's maximum up to the division's rounding */
                    EXPECT_LE((long double)a * got, (long double)actk_fp8_ref_max(f) * (1 + 0x1p-23L));
                }
                EXPECT_EQ(actk::quant_mx_exponent((int)f, to_bits(a)), actk_fp8_ref_mx_exponent(f, a))
                    << "format " << f << " amax " << a;
            }
}

TEST(QuantMath, AmaxKeysOrderNanAboveEverything)
{
    EXPECT_EQ(actk::quant_amax_bits(NAN), 0x7fffffffu);
    EXPECT_EQ(actk::quant_amax_bits(-NAN), 0x7fffffffu);
    EXPECT_GT(actk::quant_amax_bits(NAN), actk::quant_amax_bits(INFINITY));
    EXPECT_EQ(actk::quant_amax_bits(-3.0f), to_bits(3.0f));
    EXPECT_EQ(actk::quant_finite_abs_bits(INFINITY), 0u);
    EXPECT_EQ(actk::quant_finite_abs_bits(NAN), 0u);
    EXPECT_EQ(actk::quant_finite_abs_bits(-2.5f), to_bits(2.5f));
    for (int k = -149; k <= 127; ++k) EXPECT_EQ(actk::quant_pow2(k), std::ldexp(1.0f, k)) << k;
}

} // namespace
