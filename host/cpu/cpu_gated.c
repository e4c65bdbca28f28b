// SPDX-License-Identifier: MIT
/*
 * cpu_gated.c - the actk_cpu_* gated entry points: validate, then evaluate
 * the long double reference per output and round once to the storage type.
 * This is the oracle the GPU gated kernels are measured against.
 *
 * Backward in place (dx == x) is safe: each column's gate and up are read
 * before its dgate and dup are written, and nothing else reads them; dbias
 * reads dx only after all of it is written.
 */
#include "gated_args.h"
#include "reference_math.h"
#include "storage.h"

#include <math.h>

typedef long double real;

/* The activation clamped SwiGLU applies to its clamped gate. */
static actk_act clamped_silu(actk_gated_desc d)
{
    const actk_act silu = {ACTK_OP_SILU, d.act.alpha, 0.0f};
    return silu;
}

static real clamp_gate(real g, real limit) { return g > limit ? limit : g; } /* NaN stays NaN */
static real clamp_up(real u, real limit) { return u < -limit ? -limit : (u > limit ? limit : u); }

static real gated_forward_l(actk_gated_desc d, real g, real u)
{
    if (!d.clamped) return actk_ref_forward(d.act, g) * u;
    const real limit = d.act.beta;
    return actk_ref_forward(clamped_silu(d), clamp_gate(g, limit)) * (clamp_up(u, limit) + 1.0L);
}

static void gated_backward_l(actk_gated_desc d, real g, real u, real dy, real *dgate, real *dup)
{
    if (!d.clamped) {
        *dup = dy * actk_ref_forward(d.act, g);
        *dgate = actk_ref_backward(d.act, g, dy * u);
        return;
    }
    const real limit = d.act.beta, gc = clamp_gate(g, limit), uc = clamp_up(u, limit);
    const actk_act silu = clamped_silu(d);
    /* clamp's gradient: the input itself inside [-limit, limit] (bounds
     * included, as PyTorch), 0 outside; NaN stays NaN */
    *dup = isnan(u) ? u : (u >= -limit && u <= limit ? dy * actk_ref_forward(silu, gc) : 0.0L);
    *dgate = isnan(g) ? g : (g <= limit ? actk_ref_backward(silu, gc, dy * (uc + 1.0L)) : 0.0L);
}

static actk_status gated_forward(const char *fn, actk_gated_desc d, actk_dtype dtype, size_t rows, size_t cols,
                                 const void *x, size_t ldx, void *y, size_t ldy)
{
    size_t elem;
    const actk_status s = actk_check_gated_args(fn, 0, d, dtype, rows, cols, x, ldx, NULL, 0, y, ldy, NULL, &elem);
    if (s != ACTK_SUCCESS) return s;
    const actk_gated_positions pos = actk_gated_positions_for(d.layout, d.gate, cols);
    for (size_t r = 0; r < rows; ++r)
        for (size_t j = 0; j < cols; ++j) {
            const size_t base = r * ldx + pos.step * j;
            real g = actk_load_element(dtype, x, base + pos.gate_offset);
            real u = actk_load_element(dtype, x, base + pos.up_offset);
            if (d.bias) { /* the fused linear layer's bias, in the row's layout */
                g += actk_load_element(dtype, d.bias, pos.step * j + pos.gate_offset);
                u += actk_load_element(dtype, d.bias, pos.step * j + pos.up_offset);
            }
            actk_store_element(dtype, y, r * ldy + j, gated_forward_l(d, g, u));
        }
    return ACTK_SUCCESS;
}

static actk_status gated_backward(const char *fn, actk_gated_desc d, actk_dtype dtype, size_t rows, size_t cols,
                                  const void *x, size_t ldx, const void *dy, size_t lddy, void *dx, size_t lddx,
                                  void *dbias)
{
    size_t elem;
    const actk_status s = actk_check_gated_args(fn, 1, d, dtype, rows, cols, x, ldx, dy, lddy, dx, lddx, dbias, &elem);
    if (s != ACTK_SUCCESS) return s;
    const actk_gated_positions pos = actk_gated_positions_for(d.layout, d.gate, cols);
    for (size_t r = 0; r < rows; ++r)
        for (size_t j = 0; j < cols; ++j) {
            const size_t in = r * ldx + pos.step * j, out = r * lddx + pos.step * j;
            real g = actk_load_element(dtype, x, in + pos.gate_offset);
            real u = actk_load_element(dtype, x, in + pos.up_offset);
            if (d.bias) { /* as the forward pass: the sums in long double */
                g += actk_load_element(dtype, d.bias, pos.step * j + pos.gate_offset);
                u += actk_load_element(dtype, d.bias, pos.step * j + pos.up_offset);
            }
            real dgate, dup;
            gated_backward_l(d, g, u, actk_load_element(dtype, dy, r * lddy + j), &dgate, &dup);
            actk_store_element(dtype, dx, out + pos.gate_offset, dgate);
            actk_store_element(dtype, dx, out + pos.up_offset, dup);
        }
    /* dbias: the column sums of the stored dx, in x's row layout (rows = 0: zeros) */
    if (dbias != NULL)
        for (size_t k = 0; k < 2 * cols; ++k)
            actk_store_element(dtype, dbias, k, actk_ref_column_sum(dtype, dx, k, rows, lddx));
    return ACTK_SUCCESS;
}

static actk_gated_desc plain(actk_act act, actk_gated_layout layout, actk_gate_position gate)
{
    const actk_gated_desc d = {0, act, layout, gate, NULL};
    return d;
}

static actk_gated_desc clamped(float alpha, float limit, actk_gated_layout layout, actk_gate_position gate)
{
    const actk_gated_desc d = {1, {ACTK_OP_SILU, alpha, limit}, layout, gate, NULL};
    return d;
}

actk_status actk_cpu_gated_forward(actk_act act, actk_gated_layout layout, actk_gate_position gate, actk_dtype dtype,
                                   size_t rows, size_t cols, const void *x, size_t ldx, void *y, size_t ldy)
{
    return gated_forward("actk_cpu_gated_forward", plain(act, layout, gate), dtype, rows, cols, x, ldx, y, ldy);
}

actk_status actk_cpu_gated_backward(actk_act act, actk_gated_layout layout, actk_gate_position gate, actk_dtype dtype,
                                    size_t rows, size_t cols, const void *x, size_t ldx, const void *dy, size_t lddy,
                                    void *dx, size_t lddx)
{
    return gated_backward("actk_cpu_gated_backward", plain(act, layout, gate), dtype, rows, cols, x, ldx, dy, lddy, dx,
                          lddx, NULL);
}

actk_status actk_cpu_gated_bias_forward(actk_act act, actk_gated_layout layout, actk_gate_position gate,
                                        actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx,
                                        const void *bias, void *y, size_t ldy)
{
    actk_gated_desc d = plain(act, layout, gate);
    d.bias = bias;
    return gated_forward("actk_cpu_gated_bias_forward", d, dtype, rows, cols, x, ldx, y, ldy);
}

actk_status actk_cpu_clamped_swiglu_forward(float alpha, float limit, actk_gated_layout layout,
                                            actk_gate_position gate, actk_dtype dtype, size_t rows, size_t cols,
                                            const void *x, size_t ldx, void *y, size_t ldy)
{
    return gated_forward("actk_cpu_clamped_swiglu_forward", clamped(alpha, limit, layout, gate), dtype, rows, cols, x,
                         ldx, y, ldy);
}

actk_status actk_cpu_clamped_swiglu_backward(float alpha, float limit, actk_gated_layout layout,
                                             actk_gate_position gate, actk_dtype dtype, size_t rows, size_t cols,
                                             const void *x, size_t ldx, const void *dy, size_t lddy, void *dx,
                                             size_t lddx)
{
    return gated_backward("actk_cpu_clamped_swiglu_backward", clamped(alpha, limit, layout, gate), dtype, rows, cols,
                          x, ldx, dy, lddy, dx, lddx, NULL);
}

actk_status actk_cpu_gated_bias_backward(actk_act act, actk_gated_layout layout, actk_gate_position gate,
                                         actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx,
                                         const void *bias, const void *dy, size_t lddy, void *dx, size_t lddx,
                                         void *dbias)
{
    actk_gated_desc d = plain(act, layout, gate);
    d.bias = bias;
    return gated_backward("actk_cpu_gated_bias_backward", d, dtype, rows, cols, x, ldx, dy, lddy, dx, lddx, dbias);
}

actk_status actk_cpu_clamped_swiglu_bias_forward(float alpha, float limit, actk_gated_layout layout,
                                                 actk_gate_position gate, actk_dtype dtype, size_t rows, size_t cols,
                                                 const void *x, size_t ldx, const void *bias, void *y, size_t ldy)
{
    actk_gated_desc d = clamped(alpha, limit, layout, gate);
    d.bias = bias;
    return gated_forward("actk_cpu_clamped_swiglu_bias_forward", d, dtype, rows, cols, x, ldx, y, ldy);
}

actk_status actk_cpu_clamped_swiglu_bias_backward(float alpha, float limit, actk_gated_layout layout,
                                                  actk_gate_position gate, actk_dtype dtype, size_t rows, size_t cols,
                                                  const void *x, size_t ldx, const void *bias, const void *dy,
                                                  size_t lddy, void *dx, size_t lddx, void *dbias)
{
    actk_gated_desc d = clamped(alpha, limit, layout, gate);
    d.bias = bias;
    return gated_backward("actk_cpu_clamped_swiglu_bias_backward", d, dtype, rows, cols, x, ldx, dy, lddy, dx, lddx,
                          dbias);
}
