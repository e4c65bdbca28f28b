// SPDX-License-Identifier: MIT
/* quant_f16.cu - FP8-output kernels for f16 input (see quant_engine.cuh). */
#include "quant_launch.cuh"

namespace actk {
template cudaError_t launch_quant_typed<__half>(const actk_quant_launch_args &, int, cudaStream_t);
}
