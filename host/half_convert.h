// SPDX-License-Identifier: MIT
/*
 * half_convert.h - f16 and bf16 conversions for the host (C and C++).
 * Rounding from long double is done once, to nearest even, straight to the
 * target format (no double rounding through float). Subnormals are kept.
 */
#ifndef ACTK_HOST_HALF_CONVERT_H
#define ACTK_HOST_HALF_CONVERT_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float actk_bits_to_float(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline uint32_t actk_float_to_bits(float f)
{
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return bits;
}

static inline float actk_bf16_to_float(uint16_t h) { return actk_bits_to_float((uint32_t)h << 16); }

static inline float actk_f16_to_float(uint16_t h)
{
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exponent = (h >> 10) & 0x1fu;
    const uint32_t mantissa = h & 0x3ffu;
    if (exponent == 0x1f) return actk_bits_to_float(sign | 0x7f800000u | (mantissa << 13));
    if (exponent == 0) {
        /* zero or subnormal: mantissa * 2^-24, exact in float */
        const float v = ldexpf((float)mantissa, -24);
        return sign ? -v : v;
    }
    return actk_bits_to_float(sign | ((exponent + 112u) << 23) | (mantissa << 13));
}

/* Rounds |v| (finite, > 0) to a binary format with `precision` significand
 * bits and minimum normal exponent `emin`, to nearest even; the result is
 * exactly representable in float for both half formats. */
static inline long double actk_round_to_format(long double v, int precision, int emin)
{
    int e;
    frexpl(v, &e);            /* v = m * 2^e, m in [0.5, 1) */
    int exponent = e - 1;     /* v in [2^exponent, 2^(exponent+1)) */
    if (exponent < emin) exponent = emin; /* subnormal range: fixed quantum */
    const int quantum = exponent - (precision - 1);
    return ldexpl(nearbyintl(ldexpl(v, -quantum)), quantum);
}

static inline uint16_t actk_f16_from_long_double(long double v)
{
    if (isnan(v)) return (uint16_t)(signbit(v) ? 0xfe00u : 0x7e00u);
    const uint16_t sign = signbit(v) ? 0x8000u : 0;
    const long double a = fabsl(v);
    if (a == 0) return sign;
    const long double r = actk_round_to_format(a, 11, -14);
    if (r >= 65536.0L) return (uint16_t)(sign | 0x7c00u); /* overflow, or inf */
    if (r < 0x1p-14L) return (uint16_t)(sign | (uint16_t)(r * 0x1p24L)); /* subnormal or 0 */
    /* r is exact in float: reuse float's exponent and top mantissa bits. */
    const uint32_t bits = actk_float_to_bits((float)r);
    const uint32_t exponent = ((bits >> 23) & 0xffu) - 112u;
    return (uint16_t)(sign | (exponent << 10) | ((bits >> 13) & 0x3ffu));
}

static inline uint16_t actk_bf16_from_long_double(long double v)
{
    if (isnan(v)) return (uint16_t)(signbit(v) ? 0xffc0u : 0x7fc0u);
    const uint16_t sign = signbit(v) ? 0x8000u : 0;
    const long double a = fabsl(v);
    if (a == 0) return sign;
    const long double r = actk_round_to_format(a, 8, -126);
    if (r >= 0x1p128L) return (uint16_t)(sign | 0x7f80u);
    return (uint16_t)(sign | (actk_float_to_bits((float)r) >> 16));
}

#endif
