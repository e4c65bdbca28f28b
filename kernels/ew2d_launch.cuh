// SPDX-License-Identifier: MIT
/*
 * ew2d_launch.cuh - op dispatch of the 2-D element-wise kernels for one
 * storage type; included by one .cu file per dtype (ew2d_f32.cu, ...). One
 * forward and one backward kernel per (op, dtype); bias, dbias, strides
 * and packing are run-time arguments.
 */
#ifndef ACTK_KERNELS_EW2D_LAUNCH_CUH
#define ACTK_KERNELS_EW2D_LAUNCH_CUH

#include "activation_math.cuh"
#include "ew2d_engine.cuh"
#include "ew2d_launch.h"

#include <stdint.h>
#include <type_traits>

namespace actk {

template <class Op, class M, class C = typename M::T> struct Ew2dFn {
    Params<C> p;
    __device__ __forceinline__ C forward(C x) const { return Op::template forward<M>(x, p); }
    __device__ __forceinline__ C backward(C x, C dy) const { return Op::template backward<M>(x, dy, p); }
};

template <class S> cudaError_t launch_2d_typed(const actk_2d_launch_args &a, int sm_count, cudaStream_t stream)
{
    using C = typename StorageTraits<S>::Compute;
    using M = typename MathFor<StorageTraits<S>::kDtype>::type;
    using A = typename DbiasAccumulator<S>::type;
    static_assert(std::is_same_v<typename M::T, C>, "the policy computes in the storage type's compute type");
    constexpr size_t P = (size_t)kPackSize<S>;
    if (a.rows == 0 || a.cols == 0) return cudaSuccess;
    const Params<C> p{C(a.act.alpha), C(a.act.beta)};
    const S *x = static_cast<const S *>(a.x), *bias = static_cast<const S *>(a.bias),
            *dy = static_cast<const S *>(a.dy);
    S *out = static_cast<S *>(a.out);
    auto aligned = [](const void *q) { return (uintptr_t)q % 16 == 0; };
    auto launch = [&](auto op) -> cudaError_t {
        using Fn = Ew2dFn<decltype(op), M>;
        if (!a.backward) {
            Ew2dGeometry g{};
            g.rows = a.rows;
            g.ldx = a.ldx;
            g.ldy = a.ldy;
            g.packed = a.cols % P == 0 && a.ldx % P == 0 && a.ldy % P == 0 && aligned(a.x) && aligned(a.out) &&
                       (a.bias == nullptr || aligned(a.bias));
            g.units = g.packed ? a.cols / P : a.cols;
            dim3 grid, block;
            gated_launch_shape(g.rows, g.units, sm_count, &grid, &block);
            ew2d_forward_kernel<S, Fn><<<grid, block, 0, stream>>>(Fn{p}, x, bias, out, g);
            return cudaGetLastError();
        }
        A *partials = a.dbias ? static_cast<A *>(a.workspace) : nullptr;
        const dim3 grid((unsigned)((a.cols + kGatedBlock - 1) / kGatedBlock), (unsigned)a.splits, 1);
        ew2d_backward_kernel<S, Fn><<<grid, kGatedBlock, 0, stream>>>(Fn{p}, x, bias, dy, out, a.rows, a.cols, a.ldx,
                                                                     a.ldy, a.ldo, a.rows_per_split, partials);
        cudaError_t err = cudaGetLastError();
        if (err != cudaSuccess || !a.dbias) return err;
        return launch_dbias_slices<S>(partials, a.splits, a.cols, static_cast<S *>(a.dbias), stream);
    };
    return visit_op<cudaError_t>(a.act.op, launch, cudaErrorInvalidValue);
}

} // namespace actk

#endif
