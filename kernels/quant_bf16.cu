// SPDX-License-Identifier: MIT
/* quant_bf16.cu - FP8-output kernels for bf16 input (see quant_engine.cuh). */
#include "quant_launch.cuh"

namespace actk {
template cudaError_t launch_quant_typed<__nv_bfloat16>(const actk_quant_launch_args &, int, cudaStream_t);
}
