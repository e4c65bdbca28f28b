// SPDX-License-Identifier: MIT
/* gated_f64.cu - gated kernels for f64 storage (see gated_engine.cuh). */
#include "gated_launch.cuh"

namespace actk {
template cudaError_t launch_gated_typed<double>(const actk_gated_launch_args &, int, cudaStream_t);
}
