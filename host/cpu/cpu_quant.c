// SPDX-License-Identifier: MIT
/*
 * cpu_quant.c - the actk_cpu_*_quant entry points: the FP8-output oracle.
 * Each activation value is evaluated in long double (reference_math.c;
 * gated: act(gate + bias) * (up + bias)); a value beyond float's range
 * counts as +-inf, as the kernels' float y would be. Amax and scales follow
 * the float rules of fp8_reference.c from the amax rounded to float; the
 * codes come from the slow encoder applied to the long double y times the
 * scale. Every group is evaluated twice (amax, then codes) rather than
 * buffered: the CPU path allocates nothing either.
 */
#include "fp8_reference.h"
#include "gated_args.h"
#include "quant_args.h"
#include "reference_math.h"
#include "storage.h"

#include <math.h>
#include <string.h>

typedef long double real;

/* Where the values come from: a 2-D element-wise call or a gated one. */
typedef struct {
    int gated;
    actk_act act;
    actk_gated_positions pos;
    actk_dtype dtype;
    const void *x;
    size_t ldx;
    const void *bias;
} source;

static real value_at(const source *src, size_t r, size_t c)
{
    real y;
    if (!src->gated) {
        real v = actk_load_element(src->dtype, src->x, r * src->ldx + c);
        if (src->bias) v += actk_load_element(src->dtype, src->bias, c);
        y = actk_ref_forward(src->act, v);
    } else {
        const size_t base = r * src->ldx + src->pos.step * c, bias_base = src->pos.step * c;
        real g = actk_load_element(src->dtype, src->x, base + src->pos.gate_offset);
        real u = actk_load_element(src->dtype, src->x, base + src->pos.up_offset);
        if (src->bias) {
            g += actk_load_element(src->dtype, src->bias, bias_base + src->pos.gate_offset);
            u += actk_load_element(src->dtype, src->bias, bias_base + src->pos.up_offset);
        }
        y = actk_ref_forward(src->act, g) * u;
    }
    if (isfinite(y) && isinf((float)y)) y = y > 0 ? INFINITY : -INFINITY; /* float's y would overflow */
    return y;
}

static uint32_t float_bits(float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

static float bits_float(uint32_t u)
{
    float v;
    memcpy(&v, &u, sizeof v);
    return v;
}

/* The largest finite |y| over columns [c0, c1) of row r, rounded to float. */
static float finite_amax(const source *src, size_t r, size_t c0, size_t c1)
{
    real amax = 0;
    for (size_t c = c0; c < c1; ++c) {
        const real a = fabsl(value_at(src, r, c));
        if (isfinite(a) && a > amax) amax = a;
    }
    return (float)amax;
}

static void quantize(const source *src, const actk_quant *q, size_t rows, size_t cols, size_t groups, uint8_t *y,
                     size_t ldy)
{
    const actk_fp8_format f = q->format;
    if (q->mode == ACTK_QUANT_PER_TENSOR) {
        const float scale = *q->scale;
        uint32_t amax_bits = q->amax ? float_bits(*q->amax) : 0;
        for (size_t r = 0; r < rows; ++r)
            for (size_t c = 0; c < cols; ++c) {
                const real v = value_at(src, r, c);
                const float a = (float)fabsl(v);
                const uint32_t bits = isnan(a) ? 0x7fffffffu : float_bits(a);
                if (bits > amax_bits) amax_bits = bits;
                y[r * ldy + c] = actk_fp8_ref_encode(f, v * (real)scale);
            }
        if (q->amax) *q->amax = bits_float(amax_bits);
        if (q->scale_inv) *q->scale_inv = 1.0f / scale;
        return;
    }
    const size_t width = cols / groups;
    for (size_t r = 0; r < rows; ++r)
        for (size_t g = 0; g < groups; ++g) {
            const size_t c0 = g * width, c1 = c0 + width;
            const float amax = finite_amax(src, r, c0, c1);
            real factor;
            if (q->mode == ACTK_QUANT_MXFP8) {
                const int e = actk_fp8_ref_mx_exponent(f, amax);
                q->mx_scales[r * groups + g] = (unsigned char)(e + 127);
                factor = ldexpl(1.0L, -e);
            } else {
                const float scale = actk_fp8_ref_scale(f, amax, q->mode == ACTK_QUANT_PER_GROUP && q->scale_pow2);
                q->scale_inv[r * groups + g] = 1.0f / scale;
                if (q->scales) q->scales[r * groups + g] = scale;
                factor = scale;
            }
            for (size_t c = c0; c < c1; ++c) y[r * ldy + c] = actk_fp8_ref_encode(f, value_at(src, r, c) * factor);
        }
}

actk_status actk_cpu_forward_2d_quant(actk_act act, actk_dtype dtype, size_t rows, size_t cols, const void *x,
                                      size_t ldx, const void *bias, const actk_quant *q, void *y, size_t ldy)
{
    size_t elem, groups;
    const actk_status s = actk_check_quant_args("actk_cpu_forward_2d_quant", 0, act, ACTK_GATED_CONCAT,
                                                ACTK_GATE_FIRST, dtype, rows, cols, x, ldx, bias, q, y, ldy, &elem,
                                                &groups);
    if (s != ACTK_SUCCESS || rows == 0 || cols == 0) return s;
    const source src = {0, act, {1, 0, 0}, dtype, x, ldx, bias};
    quantize(&src, q, rows, cols, groups, (uint8_t *)y, ldy);
    return ACTK_SUCCESS;
}

actk_status actk_cpu_gated_forward_quant(actk_act act, actk_gated_layout layout, actk_gate_position gate,
                                         actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx,
                                         const void *bias, const actk_quant *q, void *y, size_t ldy)
{
    size_t elem, groups;
    const actk_status s = actk_check_quant_args("actk_cpu_gated_forward_quant", 1, act, layout, gate, dtype, rows,
                                                cols, x, ldx, bias, q, y, ldy, &elem, &groups);
    if (s != ACTK_SUCCESS || rows == 0 || cols == 0) return s;
    const source src = {1, act, actk_gated_positions_for(layout, gate, cols), dtype, x, ldx, bias};
    quantize(&src, q, rows, cols, groups, (uint8_t *)y, ldy);
    return ACTK_SUCCESS;
}
