// SPDX-License-Identifier: MIT
/* elementwise_f16.cu - element-wise kernels for f16 storage (see elementwise_engine.cuh). */
#include "elementwise_launch.cuh"

namespace actk {
template cudaError_t launch_elementwise_typed<__half>(actk_direction, actk_act, size_t, const void *, const void *,
                                                      void *, int, cudaStream_t);
}
