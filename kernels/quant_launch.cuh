// SPDX-License-Identifier: MIT
/*
 * quant_launch.cuh - op dispatch of the FP8-output kernel for one storage
 * type; included by one .cu file per dtype (quant_f32.cu, ...). One kernel
 * per (op, dtype, family: element-wise or gated); format, mode, group size,
 * strides and bias are run-time arguments.
 */
#ifndef ACTK_KERNELS_QUANT_LAUNCH_CUH
#define ACTK_KERNELS_QUANT_LAUNCH_CUH

#include "dtype_dispatch.cuh" /* grid_for */
#include "ew2d_launch.cuh"    /* Ew2dFn */
#include "gated_launch.cuh"   /* GatedFn, GatedProductOp */
#include "quant_engine.cuh"
#include "quant_launch.h"

namespace actk {

template <class S> cudaError_t launch_quant_typed(const actk_quant_launch_args &a, int sm_count, cudaStream_t stream)
{
    using M = typename MathFor<StorageTraits<S>::kDtype>::type;
    static_assert(std::is_same_v<typename M::T, float>, "FP8 outputs compute in float");
    if (a.rows == 0 || a.cols == 0) return cudaSuccess;
    QuantGeometry g{};
    g.rows = a.rows;
    g.cols = a.cols;
    g.ldy = a.ldy;
    g.format = (int)a.q.format;
    g.mode = (int)a.q.mode;
    g.pow2 = a.q.scale_pow2 != 0;
    switch (a.q.mode) {
    case ACTK_QUANT_PER_ROW: g.seg = a.cols; break;
    case ACTK_QUANT_PER_GROUP: g.seg = a.q.group_size; break;
    case ACTK_QUANT_MXFP8: g.seg = 32; break;
    default: g.seg = 32 * (size_t)kQuantRegs; break;
    }
    g.units_per_row = (a.cols + g.seg - 1) / g.seg;
    g.units = a.rows * g.units_per_row; /* <= rows * cols, which the host checked */
    g.groups = a.groups;
    QuantOutputs out{static_cast<uint8_t *>(a.y), a.q.scale, a.q.amax, a.q.scale_inv, a.q.scales, a.q.mx_scales};
    /* a warp per unit: 8 units per block, a few waves at most (the cap keeps units * 32 in range) */
    const size_t thread_work = (g.units < ((size_t)1 << 40) ? g.units : ((size_t)1 << 40)) * 32;
    const unsigned grid = grid_for(thread_work, kQuantBlock, sm_count);
    const Params<float> p{a.act.alpha, a.act.beta};
    const S *x = static_cast<const S *>(a.x), *bias = static_cast<const S *>(a.bias);
    auto launch = [&](auto op) -> cudaError_t {
        using Op = decltype(op);
        if (!a.gated) {
            using Src = Ew2dQuantSource<S, Ew2dFn<Op, M>>;
            quant_forward_kernel<S, Src>
                <<<grid, kQuantBlock, 0, stream>>>(Src{Ew2dFn<Op, M>{p}, x, bias, a.ldx}, g, out);
        } else {
            using Fn = GatedFn<GatedProductOp<Op>, M>;
            using Src = GatedQuantSource<S, Fn>;
            const bool interleaved = a.layout == ACTK_GATED_INTERLEAVED, gate_second = a.gate == ACTK_GATE_SECOND;
            const size_t second = interleaved ? 1 : a.cols;
            const Src src{
                Fn{p}, x, bias, a.ldx, interleaved ? 2u : 1u, gate_second ? second : 0, gate_second ? 0 : second};
            quant_forward_kernel<S, Src><<<grid, kQuantBlock, 0, stream>>>(src, g, out);
        }
        return cudaGetLastError();
    };
    return visit_op<cudaError_t>(a.act.op, launch, cudaErrorInvalidValue);
}

} // namespace actk

#endif
