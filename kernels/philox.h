// SPDX-License-Identifier: MIT
/*
 * philox.h - Philox4x32-10 (Salmon et al., "Parallel random numbers: as
 * easy as 1, 2, 3", SC'11) and the RReLU slope drawn from it. One source
 * for the host (C) and the device (CUDA), so both paths produce the same
 * bits: integer arithmetic plus one explicit fmaf.
 */
#ifndef ACTK_KERNELS_PHILOX_H
#define ACTK_KERNELS_PHILOX_H

#include <math.h>
#include <stdint.h>

#if defined(__CUDACC__)
#define ACTK_PHILOX_FN static __host__ __device__ __forceinline__
#else
#define ACTK_PHILOX_FN static inline
#endif

typedef struct {
    uint32_t v[4];
} actk_philox_block;

ACTK_PHILOX_FN void actk_mul_hi_lo(uint32_t a, uint32_t b, uint32_t *hi, uint32_t *lo)
{
    const uint64_t product = (uint64_t)a * (uint64_t)b;
    *hi = (uint32_t)(product >> 32);
    *lo = (uint32_t)product;
}

/* Ten rounds of Philox4x32 on counter c with key (k0, k1). */
ACTK_PHILOX_FN actk_philox_block actk_philox4x32_10(actk_philox_block c, uint32_t k0, uint32_t k1)
{
    for (int round = 0; round < 10; ++round) {
        uint32_t hi0, lo0, hi1, lo1;
        actk_mul_hi_lo(0xD2511F53u, c.v[0], &hi0, &lo0);
        actk_mul_hi_lo(0xCD9E8D57u, c.v[2], &hi1, &lo1);
        actk_philox_block next;
        next.v[0] = hi1 ^ c.v[1] ^ k0;
        next.v[1] = lo1;
        next.v[2] = hi0 ^ c.v[3] ^ k1;
        next.v[3] = lo0;
        c = next;
        k0 += 0x9E3779B9u; /* Weyl sequence key schedule */
        k1 += 0xBB67AE85u;
    }
    return c;
}

/* The four random words for elements 4g .. 4g+3 of the stream (seed, offset). */
ACTK_PHILOX_FN actk_philox_block actk_rrelu_words(uint64_t seed, uint64_t offset, uint64_t group)
{
    actk_philox_block counter = {
        {(uint32_t)group, (uint32_t)(group >> 32), (uint32_t)offset, (uint32_t)(offset >> 32)}};
    return actk_philox4x32_10(counter, (uint32_t)seed, (uint32_t)(seed >> 32));
}

/* Slope in [lower, upper] from one random word: 24 random bits scaled
 * exactly, then one fused multiply-add (the same rounding on host and device). */
ACTK_PHILOX_FN float actk_rrelu_slope_from_word(uint32_t word, float lower, float upper)
{
    const float u = (float)(word >> 8) * 5.9604644775390625e-8f; /* 2^-24 */
    return fmaf(upper - lower, u, lower);
}

#endif
