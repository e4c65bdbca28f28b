// SPDX-License-Identifier: MIT
/*
 * ew2d_engine.cuh - element-wise ops over a strided rows x cols matrix with
 * an optional fused bias: y = act(x + bias[c]); backward dx = dy *
 * act'(x + bias[c]) and the deterministic column sums dbias[c] = sum_r dx.
 *
 * forward: 2-D grid-stride loops as the gated kernels (gated_launch_shape):
 * rows over (grid.y, block.y), column units over (grid.x, block.x), 256
 * threads. A unit is a 16-byte pack of P columns when x, y (and bias) are
 * 16-byte aligned and cols, ldx, ldy are multiples of P; else one column.
 * backward: one thread per (column, slice of rows): grid.x covers the
 * columns (256 per block, consecutive columns per warp, so every row access
 * is coalesced), grid.y the host's `splits` slices of `rows_per_split` rows.
 * With dbias each thread sums the dx values it stored as a double-word
 * and writes it to the workspace; dbias_slices_kernel then
 * adds the slices of each column in slice order (dbias_reduce.cuh). No
 * atomics: the same bits on every run and GPU.
 * Preconditions (host): ld >= cols, element-aligned pointers, y == x or dx
 * == dy only with equal ld, dbias and the workspace disjoint from the rest.
 */
#ifndef ACTK_KERNELS_EW2D_ENGINE_CUH
#define ACTK_KERNELS_EW2D_ENGINE_CUH

#include "dbias_reduce.cuh" /* DbiasAccumulator, Compensated, dbias_slices_kernel */
#include "gated_engine.cuh" /* gated_launch_shape, Pack, StorageTraits */

namespace actk {

struct Ew2dGeometry {
    size_t rows, units, ldx, ldy;
    int packed;
};

template <class S, class Fn>
__global__ void __launch_bounds__(kGatedBlock)
    ew2d_forward_kernel(Fn fn, const S *x, const S *bias, S *y, Ew2dGeometry g)
{
    using T = StorageTraits<S>;
    using C = typename T::Compute;
    constexpr int P = kPackSize<S>;
    /* x + (-0) is x for every x, -0 included: one addition, no second copy of the op for "no bias" */
    const C no_bias = -C(0);
    const size_t row_stride = (size_t)gridDim.y * blockDim.y, col_stride = (size_t)gridDim.x * blockDim.x;
    for (size_t r = (size_t)blockIdx.y * blockDim.y + threadIdx.y; r < g.rows; r += row_stride) {
        const S *xr = x + r * g.ldx;
        S *yr = y + r * g.ldy;
        for (size_t c = (size_t)blockIdx.x * blockDim.x + threadIdx.x; c < g.units; c += col_stride) {
            if (g.packed) {
                const Pack<S> v = reinterpret_cast<const Pack<S> *>(xr)[c];
                Pack<S> b{}, out;
                if (bias) b = reinterpret_cast<const Pack<S> *>(bias)[c];
#pragma unroll
                for (int k = 0; k < P; ++k)
                    out.v[k] = T::store(fn.forward(T::load(v.v[k]) + (bias ? T::load(b.v[k]) : no_bias)));
                reinterpret_cast<Pack<S> *>(yr)[c] = out;
            } else {
                yr[c] = T::store(fn.forward(T::load(xr[c]) + (bias ? T::load(bias[c]) : no_bias)));
            }
        }
    }
}

template <class S, class Fn>
__global__ void __launch_bounds__(kGatedBlock)
ew2d_backward_kernel(Fn fn, const S *x, const S *bias, const S *dy, S *dx, size_t rows, size_t cols, size_t ldx,
                     size_t lddy, size_t lddx, size_t rows_per_split, typename DbiasAccumulator<S>::type *partials)
{
    using T = StorageTraits<S>;
    using C = typename T::Compute;
    using A = typename DbiasAccumulator<S>::type;
    const size_t c = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= cols) return;
    const size_t begin = (size_t)blockIdx.y * rows_per_split;
    const size_t end = begin + rows_per_split < rows ? begin + rows_per_split : rows;
    const C b = bias ? T::load(bias[c]) : -C(0); /* x + (-0) is x, -0 included */
    Compensated<A> sum = Compensated<A>::zero();
    for (size_t r = begin; r < end; ++r) {
        const S d = T::store(fn.backward(T::load(x[r * ldx + c]) + b, T::load(dy[r * lddy + c])));
        dx[r * lddx + c] = d;
        if (partials) sum = sum.plus((A)T::load(d));
    }
    if (partials) store_slice_sum(partials, cols, blockIdx.y, c, sum);
}

} // namespace actk

#endif
