// SPDX-License-Identifier: MIT
/* elementwise_f64.cu - element-wise kernels for f64 storage (see elementwise_engine.cuh). */
#include "elementwise_launch.cuh"

namespace actk {
template cudaError_t launch_elementwise_typed<double>(actk_direction, actk_act, size_t, const void *, const void *,
                                                      void *, int, cudaStream_t);
}
