// SPDX-License-Identifier: MIT
/* ew2d_f16.cu - 2-D element-wise kernels (strides, fused bias, dbias) for f16 storage (see ew2d_engine.cuh). */
#include "ew2d_launch.cuh"

namespace actk {
template cudaError_t launch_2d_typed<__half>(const actk_2d_launch_args &, int, cudaStream_t);
}
