// SPDX-License-Identifier: MIT
/* gated_bf16.cu - gated kernels for bf16 storage (see gated_engine.cuh). */
#include "gated_launch.cuh"

namespace actk {
template cudaError_t launch_gated_typed<__nv_bfloat16>(const actk_gated_launch_args &, int, cudaStream_t);
}
