// SPDX-License-Identifier: MIT
/* elementwise_dispatch.cu - dtype dispatch behind actk_launch_elementwise(). */
#include "elementwise_launch.cuh"
#include "elementwise_launch.h"

namespace actk {
extern template cudaError_t launch_elementwise_typed<float>(actk_direction, actk_act, size_t, const void *,
                                                            const void *, void *, int, cudaStream_t);
extern template cudaError_t launch_elementwise_typed<double>(actk_direction, actk_act, size_t, const void *,
                                                             const void *, void *, int, cudaStream_t);
extern template cudaError_t launch_elementwise_typed<__half>(actk_direction, actk_act, size_t, const void *,
                                                             const void *, void *, int, cudaStream_t);
extern template cudaError_t launch_elementwise_typed<__nv_bfloat16>(actk_direction, actk_act, size_t, const void *,
                                                                    const void *, void *, int, cudaStream_t);
} // namespace actk

extern "C" cudaError_t actk_launch_elementwise(actk_direction direction, actk_act act, actk_dtype dtype, size_t n,
                                               const void *in0, const void *in1, void *out, int sm_count,
                                               cudaStream_t stream)
{
    switch (dtype) {
    case ACTK_F32: return actk::launch_elementwise_typed<float>(direction, act, n, in0, in1, out, sm_count, stream);
    case ACTK_F64: return actk::launch_elementwise_typed<double>(direction, act, n, in0, in1, out, sm_count, stream);
    case ACTK_F16: return actk::launch_elementwise_typed<__half>(direction, act, n, in0, in1, out, sm_count, stream);
    case ACTK_BF16:
        return actk::launch_elementwise_typed<__nv_bfloat16>(direction, act, n, in0, in1, out, sm_count, stream);
    case ACTK_DTYPE_MAX_ENUM: break;
    }
    return cudaErrorInvalidValue;
}
