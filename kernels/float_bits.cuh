// SPDX-License-Identifier: MIT
/*
 * float_bits.cuh - a float's IEEE-754 bit pattern and back, the same on host
 * and device: the one place the library reinterprets a float (the f32 math's
 * exponent work in f32_math.cuh, the FP8 codec and scale rules in
 * fp8_codec.cuh and quant_math.cuh). Device: the register move intrinsics;
 * host: memcpy (no aliasing through pointers).
 */
#ifndef ACTK_KERNELS_FLOAT_BITS_CUH
#define ACTK_KERNELS_FLOAT_BITS_CUH

#include <stdint.h>
#include <string.h>

#ifndef ACTK_HD
#if defined(__CUDACC__)
#define ACTK_HD __host__ __device__ __forceinline__
#else
#define ACTK_HD inline
#endif
#endif

namespace actk {

/* The bits as an unsigned word (the FP8 code works on these). */
ACTK_HD uint32_t float_bits(float v)
{
#if defined(__CUDA_ARCH__)
    return __float_as_uint(v);
#else
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    return u;
#endif
}

ACTK_HD float float_from_bits(uint32_t u)
{
#if defined(__CUDA_ARCH__)
    return __uint_as_float(u);
#else
    float v;
    memcpy(&v, &u, sizeof v);
    return v;
#endif
}

namespace f32 {

/* The same bits as a signed int, for the f32 math's exponent arithmetic
 * (differences of bit patterns, (k + 127) << 23). The conversion of words
 * with the sign bit set wraps modulo 2^32 (two's complement): defined by
 * C++20 and by every compiler this builds with (gcc, clang, nvcc). */
ACTK_HD int bits_of(float v) { return (int)float_bits(v); }

ACTK_HD float from_bits(int b) { return float_from_bits((uint32_t)b); }

} // namespace f32
} // namespace actk

#endif
