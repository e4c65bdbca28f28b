// SPDX-License-Identifier: MIT
/* quant_dispatch.cu - dtype dispatch behind actk_launch_quant() (FP8 outputs; f64 input is rejected by the host). */
#include "quant_launch.cuh"

namespace actk {
extern template cudaError_t launch_quant_typed<float>(const actk_quant_launch_args &, int, cudaStream_t);
extern template cudaError_t launch_quant_typed<__half>(const actk_quant_launch_args &, int, cudaStream_t);
extern template cudaError_t launch_quant_typed<__nv_bfloat16>(const actk_quant_launch_args &, int, cudaStream_t);
} // namespace actk

extern "C" cudaError_t actk_launch_quant(actk_dtype dtype, const actk_quant_launch_args *args, int sm_count,
                                         cudaStream_t stream)
{
    switch (dtype) {
    case ACTK_F32: return actk::launch_quant_typed<float>(*args, sm_count, stream);
    case ACTK_F16: return actk::launch_quant_typed<__half>(*args, sm_count, stream);
    case ACTK_BF16: return actk::launch_quant_typed<__nv_bfloat16>(*args, sm_count, stream);
    default: break;
    }
    return cudaErrorInvalidValue;
}
