// SPDX-License-Identifier: MIT
/*
 * gated_dbias_engine.cuh - the backward pass of a gated activation with the
 * linear layer's bias fused in, and its dbias:
 *   (dgate, dup)(r, j) = fn.backward(gate(r, j) + bias_gate(j),
 *                                    up(r, j) + bias_up(j), dy(r, j)),
 * written into dx in x's layout, and dbias (2 * cols values in x's row
 * layout) = the column sums of the returned dx.
 *
 * Launch shape (as ew2d_backward_kernel): one thread per (output column j,
 * slice of rows); grid.x covers the columns, kGatedBlock threads per block,
 * consecutive columns per warp so every row access is coalesced (the
 * interleaved layout reads the two halves of a 64-value run); grid.y = the
 * host's `splits` (<= 65535) slices of `rows_per_split` rows. Each thread
 * keeps two double-word sums, one for the gate's bias column and one for the
 * up's, and stores them at their row positions, so dbias_slices_kernel
 * over 2 * cols columns writes dbias directly in x's layout
 * (dbias_reduce.cuh). The sums are kept even without dbias (a few adds
 * per element of a memory-bound loop) so the op is compiled once.
 * Preconditions (host): ld >= row width, element-aligned pointers, dx == x
 * only with lddx == ldx (each thread reads its gate and up of a row before
 * it writes them), dbias and the workspace disjoint from everything else.
 */
#ifndef ACTK_KERNELS_GATED_DBIAS_ENGINE_CUH
#define ACTK_KERNELS_GATED_DBIAS_ENGINE_CUH

#include "dbias_reduce.cuh"
#include "gated_engine.cuh"

namespace actk {

template <class S, class Fn>
__global__ void __launch_bounds__(kGatedBlock)
gated_bias_backward_kernel(Fn fn, const S *x, const S *bias, const S *dy, S *dx, GatedGeometry g, size_t cols,
                           size_t rows_per_split, typename DbiasAccumulator<S>::type *partials)
{
    using T = StorageTraits<S>;
    using C = typename T::Compute;
    using A = typename DbiasAccumulator<S>::type;
    const size_t j = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= cols) return;
    const size_t gate_at = g.step * j + g.gate_offset, up_at = g.step * j + g.up_offset;
    /* x + (-0) is x for every x, -0 included: no bias is a bias of -0 */
    const C bias_gate = bias ? T::load(bias[gate_at]) : -C(0);
    const C bias_up = bias ? T::load(bias[up_at]) : -C(0);
    const size_t begin = (size_t)blockIdx.y * rows_per_split;
    const size_t end = begin + rows_per_split < g.rows ? begin + rows_per_split : g.rows;
    Compensated<A> gate_sum = Compensated<A>::zero(), up_sum = Compensated<A>::zero();
    for (size_t r = begin; r < end; ++r) {
        const S *xr = x + r * g.ldx;
        C dgate, dup;
        fn.backward(T::load(xr[gate_at]) + bias_gate, T::load(xr[up_at]) + bias_up, T::load(dy[r * g.ldy + j]), &dgate,
                    &dup);
        const S stored_gate = T::store(dgate), stored_up = T::store(dup);
        S *dxr = dx + r * g.ldo;
        dxr[gate_at] = stored_gate;
        dxr[up_at] = stored_up;
        /* dbias sums what was returned (rounded to storage) */
        gate_sum = gate_sum.plus((A)T::load(stored_gate));
        up_sum = up_sum.plus((A)T::load(stored_up));
    }
    if (partials) {
        store_slice_sum(partials, 2 * cols, blockIdx.y, gate_at, gate_sum);
        store_slice_sum(partials, 2 * cols, blockIdx.y, up_at, up_sum);
    }
}

} // namespace actk

#endif
