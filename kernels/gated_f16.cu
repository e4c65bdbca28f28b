// SPDX-License-Identifier: MIT
/* gated_f16.cu - gated kernels for f16 storage (see gated_engine.cuh). */
#include "gated_launch.cuh"

namespace actk {
template cudaError_t launch_gated_typed<__half>(const actk_gated_launch_args &, int, cudaStream_t);
}
