// SPDX-License-Identifier: MIT
/* quant_f32.cu - FP8-output kernels for f32 input (see quant_engine.cuh). */
#include "quant_launch.cuh"

namespace actk {
template cudaError_t launch_quant_typed<float>(const actk_quant_launch_args &, int, cudaStream_t);
}
