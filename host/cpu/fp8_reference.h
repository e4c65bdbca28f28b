// SPDX-License-Identifier: MIT
/*
 * fp8_reference.h - the CPU oracle of the FP8 outputs: exact decoding of
 * every FP8 code to long double and a slow, independent encoder (the
 * nearest of the decoded codes, ties to the even code), plus the scale
 * rules in plain C. The kernels' codec (kernels/fp8_codec.cuh) and scale
 * rules (kernels/quant_math.cuh) are tested against these.
 */
#ifndef ACTK_HOST_FP8_REFERENCE_H
#define ACTK_HOST_FP8_REFERENCE_H

#include "actk/actk.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The exact value of an FP8 code (NaN for NaN codes, +-inf for E5M2's). */
long double actk_fp8_ref_decode(actk_fp8_format format, uint8_t code);
/* The code of v: NaN -> NaN (sign kept); E5M2 +-inf -> +-inf; otherwise the
 * finite code nearest to v (so finite overflow and E4M3's +-inf saturate),
 * ties to the code with an even mantissa; the sign of v is kept for zero. */
uint8_t actk_fp8_ref_encode(actk_fp8_format format, long double v);
/* The largest finite value (448, 57344). */
float actk_fp8_ref_max(actk_fp8_format format);
/* Float scale of a row or group from its finite amax (a float >= 0):
 * 1 for amax = 0, else RN(fp8_max / amax) capped at 2^127, rounded down to
 * a power of two when pow2. */
float actk_fp8_ref_scale(actk_fp8_format format, float amax, int pow2);
/* MXFP8 shared exponent X for a block's finite amax (0 for amax = 0). */
int actk_fp8_ref_mx_exponent(actk_fp8_format format, float amax);

#ifdef __cplusplus
}
#endif

#endif
