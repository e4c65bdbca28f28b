// SPDX-License-Identifier: MIT
/*
 * elementwise_launch.cuh - op x direction dispatch for one storage type.
 * Included by one .cu file per dtype (elementwise_f32.cu, ...) so the
 * instantiations compile in parallel.
 */
#ifndef ACTK_KERNELS_ELEMENTWISE_LAUNCH_CUH
#define ACTK_KERNELS_ELEMENTWISE_LAUNCH_CUH

#include "activation_math.cuh"
#include "direction.h"
#include "elementwise_engine.cuh"

#include <type_traits>

namespace actk {

/* The functors the engine calls: Op's math under policy M (compute type
 * C = M::T). */
template <class Op, class M, class C = typename M::T> struct ForwardFn {
    Params<C> p;
    __device__ __forceinline__ C operator()(C x, C) const { return Op::template forward<M>(x, p); }
};
template <class Op, class M, class C = typename M::T> struct BackwardFn {
    Params<C> p;
    __device__ __forceinline__ C operator()(C x, C dy) const { return Op::template backward<M>(x, dy, p); }
};
template <class Op, class M, class C = typename M::T> struct BackwardFromYFn {
    Params<C> p;
    __device__ __forceinline__ C operator()(C y, C dy) const { return Op::template backward_from_y<M>(y, dy, p); }
};

template <class S>
cudaError_t launch_elementwise_typed(actk_direction direction, actk_act act, size_t n, const void *in0, const void *in1,
                                     void *out, int sm_count, cudaStream_t stream)
{
    using C = typename StorageTraits<S>::Compute;
    using M = typename MathFor<StorageTraits<S>::kDtype>::type;
    static_assert(std::is_same_v<typename M::T, C>, "the policy computes in the storage type's compute type");
    const Params<C> p{C(act.alpha), C(act.beta)};
    const S *a = static_cast<const S *>(in0);
    const S *b = static_cast<const S *>(in1);
    S *y = static_cast<S *>(out);
    auto launch = [&](auto op) -> cudaError_t {
        using Op = decltype(op);
        switch (direction) {
        case ACTK_DIR_FORWARD:
            return launch_elementwise_kernel<1, S>(ForwardFn<Op, M>{p}, a, a, y, n, sm_count, stream);
        case ACTK_DIR_BACKWARD:
            return launch_elementwise_kernel<2, S>(BackwardFn<Op, M>{p}, a, b, y, n, sm_count, stream);
        case ACTK_DIR_BACKWARD_FROM_Y:
            if constexpr (Op::kHasFromY)
                return launch_elementwise_kernel<2, S>(BackwardFromYFn<Op, M>{p}, a, b, y, n, sm_count, stream);
            else
                return cudaErrorNotSupported;
        }
        return cudaErrorInvalidValue;
    };
    return visit_op<cudaError_t>(act.op, launch, cudaErrorInvalidValue);
}

} // namespace actk

#endif
