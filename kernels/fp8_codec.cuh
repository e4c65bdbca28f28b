// SPDX-License-Identifier: MIT
/*
 * fp8_codec.cuh - float <-> FP8 (OCP 8-bit floating point: E4M3 and E5M2)
 * by integer bit work, the same on host and device (__host__ __device__,
 * no FP64, no hardware cvt, so sm_75 and the host tests run the very code
 * the kernels run).
 *
 * Encoding rules (README "FP8 outputs"):
 *  - round to nearest, ties to even, with correct subnormals: E4M3
 *    subnormals are k * 2^-9 (k = 1..7), E5M2 k * 2^-16 (k = 1..3);
 *  - magnitudes that round above the largest finite value saturate to it
 *    (E4M3 448, E5M2 57344), as CUDA's __NV_SATFINITE and TransformerEngine;
 *  - +-inf: E4M3 has no infinity and gives +-448 (what PyTorch's
 *    x.clamp(-448, 448).to(torch.float8_e4m3fn) gives); E5M2 keeps +-inf;
 *  - NaN gives NaN with the input's sign (E4M3 S.1111.111, E5M2 S.11111.10);
 *  - the sign is kept for zeros and for values that round to zero.
 */
#ifndef ACTK_KERNELS_FP8_CODEC_CUH
#define ACTK_KERNELS_FP8_CODEC_CUH

#include <stdint.h>

#include "float_bits.cuh"

#if defined(__CUDACC__)
#define ACTK_FP8_HD __host__ __device__ __forceinline__
#else
#define ACTK_FP8_HD inline
#endif

namespace actk {

/* The two formats' constants. Values match actk_fp8_format. */
enum Fp8Format : int { kFp8E4M3 = 0, kFp8E5M2 = 1 };

/* Largest finite value: 448 (E4M3), 57344 (E5M2). */
ACTK_FP8_HD float fp8_max(int format) { return format == kFp8E4M3 ? 448.0f : 57344.0f; }

/* float -> FP8 code under the rules above. F is the format (template, so
 * each kernel holds one straight-line encoder). */
template <int F> ACTK_FP8_HD uint8_t fp8_encode(float v)
{
    constexpr int M = F == kFp8E4M3 ? 3 : 2;            /* mantissa bits */
    constexpr int B = F == kFp8E4M3 ? 7 : 15;           /* exponent bias */
    constexpr uint32_t kMaxCode = F == kFp8E4M3 ? 0x7Eu : 0x7Bu;
    constexpr uint32_t kNanCode = F == kFp8E4M3 ? 0x7Fu : 0x7Eu;
    constexpr uint32_t kInfCode = F == kFp8E4M3 ? kMaxCode : 0x7Cu;
    const uint32_t u = float_bits(v);
    const uint32_t sign = (u >> 24) & 0x80u;
    const uint32_t a = u & 0x7fffffffu;
    if (a > 0x7f800000u) return (uint8_t)(sign | kNanCode);
    if (a == 0x7f800000u) return (uint8_t)(sign | kInfCode);
    /* float biased exponent of the smallest FP8 normal, 2^(1-B) */
    constexpr uint32_t kMinNormalExp = (uint32_t)(127 + 1 - B);
    uint32_t code;
    if ((a >> 23) >= kMinNormalExp) {
        /* normal range: keep M mantissa bits, round the 23 - M dropped bits
         * to nearest even; a carry moves into the exponent by itself */
        constexpr int kDrop = 23 - M;
        const uint32_t rounded = a + ((1u << (kDrop - 1)) - 1u) + ((a >> kDrop) & 1u);
        const uint32_t shifted = rounded >> kDrop; /* float exponent and M bits */
        constexpr uint32_t kRebias = (uint32_t)(127 - B) << M;
        /* saturate before rebiasing; a beyond the FP8 range never wraps */
        code = shifted - kRebias;
        if (shifted > kRebias + kMaxCode) code = kMaxCode;
    } else {
        /* subnormal range: code = RNE(|v| / 2^(1-B-M)); k = 2^M is the
         * smallest normal's code, so a round-up needs no special case.
         * |v| = m * 2^(e - 150) with e the float's effective exponent. */
        const uint32_t e = (a >> 23) == 0 ? 1u : (a >> 23);
        const uint32_t m = (a >> 23) == 0 ? a : ((a & 0x7fffffu) | 0x800000u);
        const uint32_t shift = (uint32_t)(150 + 1 - B - M) - e; /* >= 24 - M > 0 */
        if (shift > 25) {
            code = 0; /* m * 2^-shift < 2^24 / 2^26: below half the quantum */
        } else {
            const uint32_t k = m >> shift, rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1);
            code = k + ((rem > half || (rem == half && (k & 1u))) ? 1u : 0u);
        }
    }
    return (uint8_t)(sign | code);
}

ACTK_FP8_HD uint8_t fp8_encode(int format, float v)
{
    return format == kFp8E4M3 ? fp8_encode<kFp8E4M3>(v) : fp8_encode<kFp8E5M2>(v);
}

/* FP8 code -> float (exact). */
template <int F> ACTK_FP8_HD float fp8_decode(uint8_t c)
{
    constexpr int M = F == kFp8E4M3 ? 3 : 2;
    constexpr int B = F == kFp8E4M3 ? 7 : 15;
    const uint32_t sign = (uint32_t)(c & 0x80u) << 24;
    const uint32_t mag = c & 0x7fu;
    const uint32_t exp = mag >> M, man = mag & ((1u << M) - 1u);
    if (F == kFp8E4M3 && mag == 0x7fu) return float_from_bits(sign | 0x7fc00000u);
    if (F == kFp8E5M2 && exp == 0x1fu) return float_from_bits(sign | (man == 0 ? 0x7f800000u : 0x7fc00000u));
    if (exp == 0) {
        /* man * 2^(1-B-M), exact in float */
        const float quantum = float_from_bits((uint32_t)(127 + 1 - B - M) << 23);
        return float_from_bits(sign | float_bits((float)man * quantum));
    }
    return float_from_bits(sign | ((exp + (uint32_t)(127 - B)) << 23) | (man << (23 - M)));
}

ACTK_FP8_HD float fp8_decode(int format, uint8_t c)
{
    return format == kFp8E4M3 ? fp8_decode<kFp8E4M3>(c) : fp8_decode<kFp8E5M2>(c);
}

} // namespace actk

#endif
