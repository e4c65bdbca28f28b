// SPDX-License-Identifier: MIT
/*
 * gated_launch.cuh - op x direction dispatch of the gated kernels for one
 * storage type. Included by one .cu file per dtype (gated_f32.cu, ...), so
 * the instantiations (24 ops + clamped SwiGLU, forward and backward) compile
 * in parallel. Layout, gate position, strides and packing stay run-time
 * arguments of one kernel per (op, dtype, direction); a backward call with
 * a fused bias or dbias runs the slice kernel of gated_dbias_engine.cuh.
 */
#ifndef ACTK_KERNELS_GATED_LAUNCH_CUH
#define ACTK_KERNELS_GATED_LAUNCH_CUH

#include "gated_dbias_engine.cuh"
#include "gated_engine.cuh"
#include "gated_launch.h"
#include "gated_math.cuh"

#include <stdint.h>
#include <type_traits>

namespace actk {

/* The functors the kernels call: a gated op's math under policy M. */
template <class GatedOp, class M, class C = typename M::T> struct GatedFn {
    Params<C> p;
    __device__ __forceinline__ C forward(C gate, C up) const { return GatedOp::template forward<M>(gate, up, p); }
    __device__ __forceinline__ void backward(C gate, C up, C dy, C *dgate, C *dup) const
    {
        GatedOp::template backward<M>(gate, up, dy, p, dgate, dup);
    }
};

template <class S> bool pack_aligned(const void *p) { return (uintptr_t)p % 16 == 0; }

template <class S>
cudaError_t launch_gated_typed(const actk_gated_launch_args &a, int sm_count, cudaStream_t stream)
{
    using C = typename StorageTraits<S>::Compute;
    using M = typename MathFor<StorageTraits<S>::kDtype>::type;
    static_assert(std::is_same_v<typename M::T, C>, "the policy computes in the storage type's compute type");
    constexpr size_t P = (size_t)kPackSize<S>;

    GatedGeometry g{};
    g.rows = a.rows;
    g.ldx = a.ldx;
    g.ldy = a.ldy;
    g.ldo = a.lddx;
    const bool interleaved = a.layout == ACTK_GATED_INTERLEAVED, gate_second = a.gate == ACTK_GATE_SECOND;
    const size_t second = interleaved ? 1 : a.cols;
    g.step = interleaved ? 2 : 1;
    g.gate_offset = gate_second ? second : 0;
    g.up_offset = gate_second ? 0 : second;
    g.packed = a.cols % P == 0 && a.ldx % P == 0 && a.ldy % P == 0 && pack_aligned<S>(a.x) && pack_aligned<S>(a.out) &&
               (a.bias == nullptr || pack_aligned<S>(a.bias)) &&
               (!a.backward || (a.lddx % P == 0 && pack_aligned<S>(a.dy)));
    g.units = g.packed ? a.cols / P : a.cols;
    if (g.rows == 0 || g.units == 0) return cudaSuccess;
    dim3 grid, block;
    gated_launch_shape(g.rows, g.units, sm_count, &grid, &block);

    const Params<C> p{C(a.act.alpha), C(a.act.beta)};
    const S *x = static_cast<const S *>(a.x);
    const S *dy = static_cast<const S *>(a.dy);
    S *out = static_cast<S *>(a.out);
    auto launch = [&](auto gated_op) -> cudaError_t {
        using Fn = GatedFn<decltype(gated_op), M>;
        if (a.backward && (a.bias || a.dbias)) {
            using A = typename DbiasAccumulator<S>::type;
            A *partials = a.dbias ? static_cast<A *>(a.workspace) : nullptr;
            const dim3 slices((unsigned)((a.cols + kGatedBlock - 1) / kGatedBlock), (unsigned)a.splits, 1);
            gated_bias_backward_kernel<S, Fn><<<slices, kGatedBlock, 0, stream>>>(
                Fn{p}, x, static_cast<const S *>(a.bias), dy, out, g, a.cols, a.rows_per_split, partials);
            const cudaError_t err = cudaGetLastError();
            if (err != cudaSuccess || !a.dbias) return err;
            return launch_dbias_slices<S>(partials, a.splits, 2 * a.cols, static_cast<S *>(a.dbias), stream);
        }
        if (a.backward)
            gated_backward_kernel<S, Fn><<<grid, block, 0, stream>>>(Fn{p}, x, dy, out, g);
        else
            gated_forward_kernel<S, Fn><<<grid, block, 0, stream>>>(Fn{p}, x, static_cast<const S *>(a.bias), out, g);
        return cudaGetLastError();
    };
    if (a.clamped) return launch(ClampedSwigluOp{});
    return visit_op<cudaError_t>(a.act.op, [&](auto op) { return launch(GatedProductOp<decltype(op)>{}); },
                                 cudaErrorInvalidValue);
}

} // namespace actk

#endif
