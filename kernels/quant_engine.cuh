// SPDX-License-Identifier: MIT
/*
 * quant_engine.cuh - the FP8-output kernel: an activation value per output
 * (2-D element-wise with optional bias, or gated), scaled and encoded to
 * FP8 in the same pass, with the per-tensor amax or the per-row / per-group
 * / MXFP8 scales (rules: quant_math.cuh, README "FP8 outputs").
 *
 * Launch shape: 1-D grid of 256-thread blocks, a warp per unit, warps
 * grid-striding over the units (grid capped at a few waves, grid_for).
 * A unit is `seg` consecutive columns of one row: a group (PER_GROUP,
 * MXFP8: 32..128 columns), the whole row (PER_ROW), or 128 columns
 * (PER_TENSOR). A unit of at most 128 columns is read once: each lane keeps
 * its <= 4 values in registers (columns lane, lane + 32, ...: coalesced),
 * the warp reduces the amax with shuffles, then every lane encodes from
 * registers. A longer row (PER_ROW) is walked twice: amax first, then the
 * values are recomputed and encoded (the second read mostly hits L2).
 * PER_TENSOR keeps a running amax per lane, reduced per warp at the end
 * and folded into *amax with an integer atomicMax (on the bits of |y|, NaN
 * canonical and largest: any order gives the same bits), skipped when the
 * value already there is not smaller (so the grid's warps do not all
 * queue on one address).
 * Preconditions (host): validated arguments, f32/f16/bf16 storage,
 * element-aligned pointers, seg * units_per_row covering cols, outputs
 * disjoint from inputs. Indices are size_t; no shared memory; every
 * __shfl_xor_sync is reached by the whole warp (the unit loop is
 * warp-uniform).
 */
#ifndef ACTK_KERNELS_QUANT_ENGINE_CUH
#define ACTK_KERNELS_QUANT_ENGINE_CUH

#include "elementwise_engine.cuh" /* StorageTraits */
#include "quant_math.cuh"

namespace actk {

constexpr int kQuantBlock = 256;
constexpr int kQuantRegs = 4; /* values per lane kept in registers: units of <= 128 columns */

struct QuantGeometry {
    size_t rows, cols, ldy;
    size_t seg;           /* columns per unit */
    size_t units_per_row; /* ceil(cols / seg) */
    size_t units;         /* rows * units_per_row */
    size_t groups;        /* scales per row (PER_ROW: 1; PER_GROUP, MXFP8: units_per_row) */
    int format, mode, pow2;
};

struct QuantOutputs {
    uint8_t *y;
    const float *scale; /* PER_TENSOR */
    float *amax;        /* PER_TENSOR, may be NULL */
    float *scale_inv;   /* PER_TENSOR (may be NULL), PER_ROW, PER_GROUP */
    float *scales;      /* PER_ROW, PER_GROUP, may be NULL */
    uint8_t *mx_scales; /* MXFP8 */
};

/* y = act(x(r, c) + bias[c]) in the compute type (float). */
template <class S, class Fn> struct Ew2dQuantSource {
    Fn fn;
    const S *x, *bias;
    size_t ldx;
    __device__ __forceinline__ float operator()(size_t r, size_t c) const
    {
        using T = StorageTraits<S>;
        /* x + (-0) is x for every x, -0 included */
        return fn.forward(T::load(x[r * ldx + c]) + (bias ? T::load(bias[c]) : -0.0f));
    }
};

/* y = act(gate + bias_gate) * (up + bias_up) (gated_engine.cuh's layout). */
template <class S, class Fn> struct GatedQuantSource {
    Fn fn;
    const S *x, *bias;
    size_t ldx, step, gate_offset, up_offset;
    __device__ __forceinline__ float operator()(size_t r, size_t c) const
    {
        using T = StorageTraits<S>;
        const S *pair = x + r * ldx + step * c;
        const float bg = bias ? T::load(bias[step * c + gate_offset]) : -0.0f;
        const float bu = bias ? T::load(bias[step * c + up_offset]) : -0.0f;
        return fn.forward(T::load(pair[gate_offset]) + bg, T::load(pair[up_offset]) + bu);
    }
};

__device__ __forceinline__ uint32_t warp_max_u32(uint32_t v)
{
#pragma unroll
    for (int offset = 16; offset > 0; offset /= 2) v = quant_umax(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

/* The unit's factor from its finite amax (as bits); lane 0 writes its
 * scale outputs. */
__device__ __forceinline__ float quant_unit_factor(const QuantGeometry &g, const QuantOutputs &out, uint32_t amax_bits,
                                                   size_t r, size_t s, unsigned lane)
{
    const QuantUnitScale u = quant_unit_scale(g.mode, g.format, g.pow2, amax_bits);
    if (lane == 0) {
        const size_t slot = r * g.groups + s;
        if (g.mode == ACTK_QUANT_MXFP8) {
            out.mx_scales[slot] = u.mx_byte;
        } else {
            out.scale_inv[slot] = u.scale_inv;
            if (out.scales) out.scales[slot] = u.scale;
        }
    }
    return u.factor;
}

/* S (the storage type) leads the template arguments so that the kernel's
 * mangled name starts with it: tools/sass_cost.py classifies kernels by
 * their first type argument (FP64 check of tests/sass_check.py). */
template <class S, class Src>
__global__ void __launch_bounds__(kQuantBlock) quant_forward_kernel(Src src, QuantGeometry g, QuantOutputs out)
{
    const unsigned lane = threadIdx.x % 32;
    const size_t warp = ((size_t)blockIdx.x * blockDim.x + threadIdx.x) / 32;
    const size_t warps = (size_t)gridDim.x * blockDim.x / 32;
    const bool tensor = g.mode == ACTK_QUANT_PER_TENSOR;
    const float tensor_scale = tensor ? *out.scale : 1.0f;
    uint32_t tensor_amax = 0;
    for (size_t u = warp; u < g.units; u += warps) { /* warp-uniform */
        const size_t r = u / g.units_per_row, s = u - r * g.units_per_row;
        const size_t c0 = s * g.seg, c1 = c0 + g.seg < g.cols ? c0 + g.seg : g.cols;
        uint8_t *yr = out.y + r * g.ldy;
        if (c1 - c0 <= (size_t)(32 * kQuantRegs)) {
            float v[kQuantRegs];
            uint32_t amax = 0;
#pragma unroll
            for (int k = 0; k < kQuantRegs; ++k) {
                const size_t c = c0 + lane + 32 * (size_t)k;
                v[k] = c < c1 ? src(r, c) : 0.0f;
                amax = quant_umax(amax, tensor ? quant_amax_bits(v[k]) : quant_finite_abs_bits(v[k]));
            }
            float factor = tensor_scale;
            if (tensor) tensor_amax = quant_umax(tensor_amax, amax);
            else factor = quant_unit_factor(g, out, warp_max_u32(amax), r, s, lane);
#pragma unroll
            for (int k = 0; k < kQuantRegs; ++k) {
                const size_t c = c0 + lane + 32 * (size_t)k;
                if (c < c1) yr[c] = quant_encode(g.format, v[k], factor);
            }
        } else { /* PER_ROW over a long row: amax, then recompute and encode */
            uint32_t amax = 0;
            for (size_t c = c0 + lane; c < c1; c += 32) amax = quant_umax(amax, quant_finite_abs_bits(src(r, c)));
            const float factor = quant_unit_factor(g, out, warp_max_u32(amax), r, s, lane);
            for (size_t c = c0 + lane; c < c1; c += 32) yr[c] = quant_encode(g.format, src(r, c), factor);
        }
    }
    if (tensor) {
        tensor_amax = warp_max_u32(tensor_amax);
        /* read first: once the running max is above this warp's, no atomic (a stale read only costs one) */
        unsigned int *amax_bits = reinterpret_cast<unsigned int *>(out.amax);
        if (lane == 0 && out.amax && tensor_amax != 0 &&
            tensor_amax > *reinterpret_cast<volatile unsigned int *>(amax_bits))
            atomicMax(amax_bits, tensor_amax);
        if (blockIdx.x == 0 && threadIdx.x == 0 && out.scale_inv) *out.scale_inv = 1.0f / tensor_scale;
    }
}

} // namespace actk

#endif
