// SPDX-License-Identifier: MIT
/* elementwise_bf16.cu - element-wise kernels for bf16 storage (see elementwise_engine.cuh). */
#include "elementwise_launch.cuh"

namespace actk {
template cudaError_t launch_elementwise_typed<__nv_bfloat16>(actk_direction, actk_act, size_t, const void *,
                                                             const void *, void *, int, cudaStream_t);
}
