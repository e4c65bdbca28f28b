// SPDX-License-Identifier: MIT
/* elementwise_f32.cu - element-wise kernels for f32 storage (see elementwise_engine.cuh). */
#include "elementwise_launch.cuh"

namespace actk {
template cudaError_t launch_elementwise_typed<float>(actk_direction, actk_act, size_t, const void *, const void *,
                                                     void *, int, cudaStream_t);
}
