// SPDX-License-Identifier: MIT
/*
 * fp8_reference.c - the FP8 oracle (see fp8_reference.h): decoding from the
 * format's definition, encoding by binary search over the decoded codes.
 * Deliberately written without the bit tricks of kernels/fp8_codec.cuh.
 */
#include "fp8_reference.h"

#include <math.h>

static int mantissa_bits(actk_fp8_format format) { return format == ACTK_FP8_E4M3 ? 3 : 2; }
static int exponent_bias(actk_fp8_format format) { return format == ACTK_FP8_E4M3 ? 7 : 15; }
/* the largest finite magnitude code */
static unsigned max_code(actk_fp8_format format) { return format == ACTK_FP8_E4M3 ? 0x7Eu : 0x7Bu; }

long double actk_fp8_ref_decode(actk_fp8_format format, uint8_t code)
{
    const int m = mantissa_bits(format), bias = exponent_bias(format);
    const int negative = (code & 0x80) != 0;
    const unsigned mag = code & 0x7Fu;
    const unsigned exp = mag >> m, man = mag & ((1u << m) - 1u);
    long double v;
    if (format == ACTK_FP8_E4M3 && mag == 0x7Fu) v = NAN;
    else if (format == ACTK_FP8_E5M2 && exp == 31u) v = man == 0 ? INFINITY : NAN;
    else if (exp == 0) v = ldexpl((long double)man, 1 - bias - m);
    else v = ldexpl(1.0L + (long double)man / (long double)(1u << m), (int)exp - bias);
    return negative ? -v : v;
}

uint8_t actk_fp8_ref_encode(actk_fp8_format format, long double v)
{
    const uint8_t sign = signbit(v) ? 0x80 : 0x00;
    if (isnan(v)) return (uint8_t)(sign | (format == ACTK_FP8_E4M3 ? 0x7F : 0x7E));
    if (isinf(v) && format == ACTK_FP8_E5M2) return (uint8_t)(sign | 0x7C);
    const long double a = fabsl(v);
    /* the largest magnitude code whose value is <= a (magnitudes increase with the code) */
    unsigned lo = 0, hi = max_code(format);
    if (a >= actk_fp8_ref_decode(format, (uint8_t)hi)) return (uint8_t)(sign | hi);
    while (hi - lo > 1) { /* invariant: decode(lo) <= a < decode(hi) */
        const unsigned mid = (lo + hi) / 2;
        if (actk_fp8_ref_decode(format, (uint8_t)mid) <= a) lo = mid;
        else hi = mid;
    }
    const long double below = a - actk_fp8_ref_decode(format, (uint8_t)lo);
    const long double above = actk_fp8_ref_decode(format, (uint8_t)hi) - a;
    unsigned code;
    if (below < above) code = lo;
    else if (above < below) code = hi;
    else code = (lo % 2 == 0) ? lo : hi; /* a tie: the even code */
    return (uint8_t)(sign | code);
}

float actk_fp8_ref_max(actk_fp8_format format) { return format == ACTK_FP8_E4M3 ? 448.0f : 57344.0f; }

float actk_fp8_ref_scale(actk_fp8_format format, float amax, int pow2)
{
    if (amax == 0.0f) return 1.0f;
    volatile float quotient = actk_fp8_ref_max(format) / amax; /* one float division, as the kernels */
    float s = quotient;
    if (s > ldexpf(1.0f, 127)) s = ldexpf(1.0f, 127);
    if (pow2) {
        int e;
        frexpf(s, &e); /* s = f * 2^e, f in [0.5, 1) */
        s = ldexpf(1.0f, e - 1);
    }
    return s;
}

int actk_fp8_ref_mx_exponent(actk_fp8_format format, float amax)
{
    if (amax == 0.0f) return 0;
    int e;
    frexpf(amax, &e);
    const int x = (e - 1) - (format == ACTK_FP8_E4M3 ? 8 : 15);
    return x < -127 ? -127 : (x > 127 ? 127 : x);
}
