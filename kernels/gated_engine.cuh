// SPDX-License-Identifier: MIT
/*
 * gated_engine.cuh - the kernels behind every gated activation.
 *
 * Forward: y(r, j) = fn.forward(gate(r, j) + bias_gate(j), up(r, j) +
 * bias_up(j)), bias (optional) laid out as one row of x; backward:
 * (dgate, dup)(r, j) = fn.backward(gate, up, dy(r, j)), written in x's
 * layout. Storage is converted to the compute type C (StorageTraits) and
 * each result rounded once back to storage.
 *
 * Launch shape: 2-D grid-stride loops, rows over (grid.y, block.y) and
 * column units over (grid.x, block.x); 256 threads per block, block.x the
 * power of two that covers a row's units (at most 256) so short rows still
 * fill a block with several rows. The grid is capped at a few waves of the
 * device (grid_for), grid.y at 65535. No integer division per element.
 * A column unit is one 16-byte pack of outputs (P = 16 / sizeof(S) columns)
 * when `packed`, else one column. packed needs 16-byte aligned base
 * pointers and cols, and every leading dimension, multiples of P (the host
 * decides, gated_launch.cuh); then gate, up, y (and dy, dgate, dup) move as
 * 16-byte packs in both layouts: concatenated halves are one pack each,
 * interleaved pairs two packs per P columns. Otherwise every access is
 * scalar (coalesced along the row).
 * Layout, gate position, strides and packing are run-time arguments, so
 * each (op, dtype, direction) is one kernel.
 * Preconditions (checked by the host wrapper): element-aligned pointers,
 * ld >= row width, outputs disjoint from inputs except dx == x (same ld:
 * each thread reads its gate and up before writing them).
 */
#ifndef ACTK_KERNELS_GATED_ENGINE_CUH
#define ACTK_KERNELS_GATED_ENGINE_CUH

#include "dtype_dispatch.cuh" /* grid_for */
#include "elementwise_engine.cuh" /* StorageTraits, Pack */

namespace actk {

constexpr int kGatedBlock = 256;

struct GatedGeometry {
    size_t rows;
    size_t units;       /* column units per row: cols / P when packed, else cols */
    size_t ldx, ldy, ldo; /* x; y (forward) or dy (backward); dx (backward) */
    size_t step;        /* 1 concatenated, 2 interleaved */
    size_t gate_offset; /* row position of column 0's gate */
    size_t up_offset;   /* row position of column 0's up */
    int packed;
};

/* Column unit c's P gates and ups from 16-byte packs of one row. */
template <class S>
__device__ __forceinline__ void load_gate_up(const S *row, size_t c, const GatedGeometry &g, Pack<S> &gate, Pack<S> &up)
{
    constexpr int P = kPackSize<S>;
    const Pack<S> *packs = reinterpret_cast<const Pack<S> *>(row);
    if (g.step == 1) {
        gate = packs[g.gate_offset / P + c];
        up = packs[g.up_offset / P + c];
        return;
    }
    const Pack<S> a = packs[2 * c], b = packs[2 * c + 1];
    const bool gate_second = g.gate_offset != 0;
#pragma unroll
    for (int k = 0; k < P; ++k) {
        const Pack<S> &src = k < P / 2 ? a : b;
        const int i = 2 * (k % (P / 2));
        gate.v[k] = gate_second ? src.v[i + 1] : src.v[i];
        up.v[k] = gate_second ? src.v[i] : src.v[i + 1];
    }
}

/* The inverse of load_gate_up: column unit c's P gates and ups into a row. */
template <class S>
__device__ __forceinline__ void store_gate_up(S *row, size_t c, const GatedGeometry &g, const Pack<S> &gate,
                                              const Pack<S> &up)
{
    constexpr int P = kPackSize<S>;
    Pack<S> *packs = reinterpret_cast<Pack<S> *>(row);
    if (g.step == 1) {
        packs[g.gate_offset / P + c] = gate;
        packs[g.up_offset / P + c] = up;
        return;
    }
    Pack<S> a, b;
    const bool gate_second = g.gate_offset != 0;
#pragma unroll
    for (int k = 0; k < P; ++k) {
        Pack<S> &dst = k < P / 2 ? a : b;
        const int i = 2 * (k % (P / 2));
        dst.v[i] = gate_second ? up.v[k] : gate.v[k];
        dst.v[i + 1] = gate_second ? gate.v[k] : up.v[k];
    }
    packs[2 * c] = a;
    packs[2 * c + 1] = b;
}

/* 32 bytes of -0 in every storage type: the "bias" of an unbiased call.
 * x + (-0) is x for every x (-0 included), so the kernel always adds a
 * bias and holds one copy of the op (a branch on bias != NULL made the
 * compiler keep two). Static device data, not an allocation; 16-byte
 * aligned for the pack loads. */
alignas(16) static __device__ const unsigned int kNegativeZeroWords[8] = {
    0x80000000u, 0x80000000u, 0x80000000u, 0x80000000u, 0x80000000u, 0x80000000u, 0x80000000u, 0x80000000u};
alignas(16) static __device__ const unsigned long long kNegativeZeroDoubles[4] = {
    0x8000000000000000ull, 0x8000000000000000ull, 0x8000000000000000ull, 0x8000000000000000ull};
alignas(16) static __device__ const
    unsigned short kNegativeZeroHalves[16] = {0x8000, 0x8000, 0x8000, 0x8000, 0x8000, 0x8000, 0x8000, 0x8000,
                                              0x8000, 0x8000, 0x8000, 0x8000, 0x8000, 0x8000, 0x8000, 0x8000};
template <class S> __device__ __forceinline__ const S *negative_zeros()
{
    if constexpr (sizeof(S) == 8) return reinterpret_cast<const S *>(kNegativeZeroDoubles);
    else if constexpr (sizeof(S) == 4) return reinterpret_cast<const S *>(kNegativeZeroWords);
    else return reinterpret_cast<const S *>(kNegativeZeroHalves);
}

template <class S, class Fn>
__global__ void __launch_bounds__(kGatedBlock)
gated_forward_kernel(Fn fn, const S *x, const S *bias, S *y, GatedGeometry g)
{
    using T = StorageTraits<S>;
    constexpr int P = kPackSize<S>;
    /* without a bias: column 0 of a row of -0 for every column */
    const S *bias_row = bias ? bias : negative_zeros<S>();
    const size_t bias_step = bias ? 1 : 0;
    GatedGeometry gb = g;
    if (!bias) gb.gate_offset = gb.up_offset = 0;
    const size_t row_stride = (size_t)gridDim.y * blockDim.y, col_stride = (size_t)gridDim.x * blockDim.x;
    for (size_t r = (size_t)blockIdx.y * blockDim.y + threadIdx.y; r < g.rows; r += row_stride) {
        const S *xr = x + r * g.ldx;
        S *yr = y + r * g.ldy;
        for (size_t c = (size_t)blockIdx.x * blockDim.x + threadIdx.x; c < g.units; c += col_stride) {
            if (g.packed) {
                Pack<S> gate, up, bias_gate, bias_up, out;
                load_gate_up(xr, c, g, gate, up);
                load_gate_up(bias_row, c * bias_step, gb, bias_gate, bias_up);
#pragma unroll
                for (int k = 0; k < P; ++k)
                    out.v[k] = T::store(fn.forward(T::load(gate.v[k]) + T::load(bias_gate.v[k]),
                                                   T::load(up.v[k]) + T::load(bias_up.v[k])));
                reinterpret_cast<Pack<S> *>(yr)[c] = out;
            } else {
                const S *pair = xr + g.step * c, *bias_pair = bias_row + g.step * c * bias_step;
                yr[c] = T::store(fn.forward(T::load(pair[g.gate_offset]) + T::load(bias_pair[gb.gate_offset]),
                                            T::load(pair[g.up_offset]) + T::load(bias_pair[gb.up_offset])));
            }
        }
    }
}

template <class S, class Fn>
__global__ void __launch_bounds__(kGatedBlock)
gated_backward_kernel(Fn fn, const S *x, const S *dy, S *dx, GatedGeometry g)
{
    using T = StorageTraits<S>;
    using C = typename T::Compute;
    constexpr int P = kPackSize<S>;
    const size_t row_stride = (size_t)gridDim.y * blockDim.y, col_stride = (size_t)gridDim.x * blockDim.x;
    for (size_t r = (size_t)blockIdx.y * blockDim.y + threadIdx.y; r < g.rows; r += row_stride) {
        const S *xr = x + r * g.ldx;
        const S *dyr = dy + r * g.ldy;
        S *dxr = dx + r * g.ldo;
        for (size_t c = (size_t)blockIdx.x * blockDim.x + threadIdx.x; c < g.units; c += col_stride) {
            if (g.packed) {
                Pack<S> gate, up, dgate, dup;
                load_gate_up(xr, c, g, gate, up);
                const Pack<S> d = reinterpret_cast<const Pack<S> *>(dyr)[c];
#pragma unroll
                for (int k = 0; k < P; ++k) {
                    C dg, du;
                    fn.backward(T::load(gate.v[k]), T::load(up.v[k]), T::load(d.v[k]), &dg, &du);
                    dgate.v[k] = T::store(dg);
                    dup.v[k] = T::store(du);
                }
                store_gate_up(dxr, c, g, dgate, dup);
            } else {
                const S *pair = xr + g.step * c;
                C dg, du;
                fn.backward(T::load(pair[g.gate_offset]), T::load(pair[g.up_offset]), T::load(dyr[c]), &dg, &du);
                S *out = dxr + g.step * c;
                out[g.gate_offset] = T::store(dg);
                out[g.up_offset] = T::store(du);
            }
        }
    }
}

/* Block and grid for rows x units: block.x the power of two covering a
 * row's units (<= 256), block.y the rest of 256 threads; as many blocks as
 * the work needs, at most grid_for's few waves in all. */
inline void gated_launch_shape(size_t rows, size_t units, int sm_count, dim3 *grid, dim3 *block)
{
    unsigned bx = 1;
    while (bx < (unsigned)kGatedBlock && bx < units) bx *= 2;
    const unsigned by = (unsigned)kGatedBlock / bx;
    const size_t gx_need = (units + bx - 1) / bx, gy_need = (rows + by - 1) / by;
    size_t need = gx_need * gy_need; /* <= rows * units, which fits */
    const size_t limit = (size_t)1 << 40;
    if (need > limit) need = limit;
    const size_t total = grid_for(need * kGatedBlock, kGatedBlock, sm_count);
    const size_t gx = gx_need < total ? gx_need : total;
    size_t gy = total / gx;
    if (gy > gy_need) gy = gy_need;
    if (gy > 65535) gy = 65535;
    if (gy < 1) gy = 1;
    *block = dim3(bx, by, 1);
    *grid = dim3((unsigned)gx, (unsigned)gy, 1);
}

} // namespace actk

#endif
