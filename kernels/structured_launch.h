/*
 * structured_launch.h - the C entry into the softmax, PReLU, Maxout and
 * RReLU kernels, called by host/cuda_structured.c after validation.
 * Each returns the launch error (cudaSuccess if none).
 */
#ifndef ACTK_KERNELS_STRUCTURED_LAUNCH_H
#define ACTK_KERNELS_STRUCTURED_LAUNCH_H

#include "actk/actk.h"
#include "prelu_plan.h"

#include <cuda_runtime_api.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

cudaError_t actk_launch_softmax_forward(int log_softmax, actk_dtype dtype, size_t outer, size_t dim, size_t inner,
                                        const void *x, void *y, int sm_count, cudaStream_t stream);
cudaError_t actk_launch_softmax_backward(int log_softmax, actk_dtype dtype, size_t outer, size_t dim, size_t inner,
                                         const void *y, const void *dy, void *dx, int sm_count, cudaStream_t stream);
cudaError_t actk_launch_prelu_forward(actk_dtype dtype, size_t outer, size_t channels, size_t inner, const void *x,
                                      const void *slope, void *y, int sm_count, cudaStream_t stream);
/* plan: actk_prelu_make_plan's (prelu_plan.h); the workspace holds its
 * `partials` (hi, lo) pairs of the compute type (see prelu.cu). */
cudaError_t actk_launch_prelu_backward(actk_dtype dtype, size_t outer, size_t channels, size_t inner, const void *x,
                                       const void *slope, const void *dy, void *dx, void *dslope, void *workspace,
                                       const actk_prelu_plan *plan, int sm_count, cudaStream_t stream);
cudaError_t actk_launch_maxout(int backward, actk_dtype dtype, size_t outer, size_t units, size_t pieces, size_t inner,
                               const void *x, const void *dy, void *out, int sm_count, cudaStream_t stream);
cudaError_t actk_launch_rrelu(int backward, actk_rrelu params, actk_dtype dtype, size_t n, const void *x,
                              const void *dy, void *out, int sm_count, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
