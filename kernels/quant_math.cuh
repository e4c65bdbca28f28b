// SPDX-License-Identifier: MIT
/*
 * quant_math.cuh - the scale rules of the FP8 outputs (README "FP8
 * outputs"), __host__ __device__ and float-only, so the host tests run the
 * kernels' exact arithmetic. Every rule works on float bit patterns or on
 * IEEE-exact float operations (one correctly rounded division), so host
 * and device agree bit for bit.
 *
 *  - amax of a row or group: the largest |y| over its finite values (inf
 *    and NaN are encoded as themselves and do not set the scale);
 *  - float scale: amax = 0 (or no finite value): 1; else fp8_max / amax
 *    rounded to float, capped at 2^127; power-of-two (UE8M0) scales round
 *    that down to a power of two (so amax * scale <= fp8_max up to the
 *    division's rounding, and saturation catches that);
 *  - scale_inv = 1 / scale rounded to float (exact for powers of two);
 *  - MXFP8 (OCP MX v1.0): shared exponent X = floor(log2(amax)) - emax_elem
 *    (emax_elem 8 for E4M3, 15 for E5M2), clamped to [-127, 127], X = 0 for
 *    amax = 0; the E8M0 byte is X + 127; elements are y * 2^-X encoded
 *    (values above the format's largest finite one saturate);
 *  - per-tensor amax (reported, not used for scaling): the largest |y| with
 *    NaN above everything (a NaN anywhere gives the canonical NaN
 *    0x7fffffff), reduced as unsigned integers, so any order gives the same
 *    bits.
 */
#ifndef ACTK_KERNELS_QUANT_MATH_CUH
#define ACTK_KERNELS_QUANT_MATH_CUH

#include "actk/actk.h"
#include "fp8_codec.cuh"

namespace actk {

/* |v|'s bits as an order key for the finite amax: non-finite values count as 0. */
ACTK_FP8_HD uint32_t quant_finite_abs_bits(float v)
{
    const uint32_t a = float_bits(v) & 0x7fffffffu;
    return a < 0x7f800000u ? a : 0u;
}

/* |v|'s bits as an order key for the per-tensor amax: NaN canonical and largest. */
ACTK_FP8_HD uint32_t quant_amax_bits(float v)
{
    const uint32_t a = float_bits(v) & 0x7fffffffu;
    return a > 0x7f800000u ? 0x7fffffffu : a;
}

ACTK_FP8_HD uint32_t quant_umax(uint32_t a, uint32_t b) { return a > b ? a : b; }

/* 2^k as a float, k in [-149, 127]. */
ACTK_FP8_HD float quant_pow2(int k)
{
    return k >= -126 ? float_from_bits((uint32_t)(k + 127) << 23) : float_from_bits(1u << (k + 149));
}

/* floor(log2(a)) for the bits of a positive finite float. */
ACTK_FP8_HD int quant_ilog2(uint32_t abits)
{
    const uint32_t e = abits >> 23;
    if (e != 0) return (int)e - 127;
#if defined(__CUDA_ARCH__)
    return (31 - __clz((int)abits)) - 149;
#else
    return (31 - __builtin_clz(abits)) - 149;
#endif
}

/* The float scale of a row or group from its finite amax (as bits). */
ACTK_FP8_HD float quant_scale_from_amax(int format, uint32_t amax_bits, int pow2)
{
    if (amax_bits == 0) return 1.0f;
    float s = fp8_max(format) / float_from_bits(amax_bits);
    if (s > 0x1p127f) s = 0x1p127f; /* also catches inf from a tiny amax */
    if (pow2) s = float_from_bits(float_bits(s) & 0x7f800000u); /* s is normal: keep the exponent */
    return s;
}

/* y * s rounded to float; a product that overflows although y and s are
 * finite becomes +-FLT_MAX, so the encoder saturates it (E5M2 would
 * otherwise give inf for a finite y). */
ACTK_FP8_HD float quant_product(float y, float s)
{
    const float p = y * s;
    const uint32_t pb = float_bits(p);
    const bool finite_factors =
        (float_bits(y) & 0x7fffffffu) < 0x7f800000u && (float_bits(s) & 0x7fffffffu) < 0x7f800000u;
    if ((pb & 0x7fffffffu) == 0x7f800000u && finite_factors) return float_from_bits((pb & 0x80000000u) | 0x7f7fffffu);
    return p;
}

/* The MXFP8 shared exponent X from the block's finite amax (as bits). */
ACTK_FP8_HD int quant_mx_exponent(int format, uint32_t amax_bits)
{
    if (amax_bits == 0) return 0;
    const int x = quant_ilog2(amax_bits) - (format == kFp8E4M3 ? 8 : 15);
    return x < -127 ? -127 : (x > 127 ? 127 : x);
}

/* The factor each element of an MX block is multiplied by: 2^-X. */
ACTK_FP8_HD float quant_mx_factor(int x) { return quant_pow2(-x); }

/* The FP8 code of y * factor (quant_product, then the encoder). */
ACTK_FP8_HD uint8_t quant_encode(int format, float y, float factor)
{
    const float p = quant_product(y, factor);
    return format == kFp8E4M3 ? fp8_encode<kFp8E4M3>(p) : fp8_encode<kFp8E5M2>(p);
}

/* A row's, group's or MX block's scaling from its finite amax (as bits):
 * the factor its values are multiplied by, and its scale outputs. */
struct QuantUnitScale {
    float factor;
    float scale, scale_inv; /* PER_ROW, PER_GROUP */
    uint8_t mx_byte;        /* MXFP8: X + 127 */
};

ACTK_FP8_HD QuantUnitScale quant_unit_scale(int mode, int format, int pow2, uint32_t amax_bits)
{
    QuantUnitScale u;
    if (mode == ACTK_QUANT_MXFP8) {
        const int e = quant_mx_exponent(format, amax_bits);
        u.mx_byte = (uint8_t)(e + 127);
        u.factor = quant_mx_factor(e);
        u.scale = u.scale_inv = 0.0f;
        return u;
    }
    u.scale = quant_scale_from_amax(format, amax_bits, mode == ACTK_QUANT_PER_GROUP && pow2);
    u.scale_inv = 1.0f / u.scale;
    u.factor = u.scale;
    u.mx_byte = 0;
    return u;
}

} // namespace actk

#endif
