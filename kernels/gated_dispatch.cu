// SPDX-License-Identifier: MIT
/* gated_dispatch.cu - dtype dispatch behind actk_launch_gated(). */
#include "gated_launch.cuh"

namespace actk {
extern template cudaError_t launch_gated_typed<float>(const actk_gated_launch_args &, int, cudaStream_t);
extern template cudaError_t launch_gated_typed<double>(const actk_gated_launch_args &, int, cudaStream_t);
extern template cudaError_t launch_gated_typed<__half>(const actk_gated_launch_args &, int, cudaStream_t);
extern template cudaError_t launch_gated_typed<__nv_bfloat16>(const actk_gated_launch_args &, int, cudaStream_t);
} // namespace actk

extern "C" cudaError_t actk_launch_gated(actk_dtype dtype, const actk_gated_launch_args *args, int sm_count,
                                         cudaStream_t stream)
{
    switch (dtype) {
    case ACTK_F32: return actk::launch_gated_typed<float>(*args, sm_count, stream);
    case ACTK_F64: return actk::launch_gated_typed<double>(*args, sm_count, stream);
    case ACTK_F16: return actk::launch_gated_typed<__half>(*args, sm_count, stream);
    case ACTK_BF16: return actk::launch_gated_typed<__nv_bfloat16>(*args, sm_count, stream);
    case ACTK_DTYPE_MAX_ENUM: break;
    }
    return cudaErrorInvalidValue;
}
