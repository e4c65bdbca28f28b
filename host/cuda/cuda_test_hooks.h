// SPDX-License-Identifier: MIT
/*
 * cuda_test_hooks.h - internal functions the GPU tests use to see, and
 * steer, which softmax kernel a call takes, and to see how the
 * cross-entropy's row kernel was launched. Exported from the library
 * (the tests link the shared library) but not declared in the public
 * header and not part of the API. All state is per host thread.
 */
#ifndef ACTK_HOST_CUDA_TEST_HOOKS_H
#define ACTK_HOST_CUDA_TEST_HOOKS_H

#include "actk/actk.h"
#include "../kernels/structured_launch.h"
#include "../kernels/cross_entropy_launch.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The launch of this thread's last actk_cuda_softmax_* call (path NONE if
 * it launched nothing). */
ACTK_API actk_softmax_launch actk_internal_last_softmax_launch(void);
ACTK_API const char *actk_internal_softmax_path_name(actk_softmax_path path);
/* Non-zero: this thread's softmax and cross-entropy calls dispatch as on a
 * GPU without thread-block clusters (the paths of pre-Hopper GPUs, on any
 * GPU). */
ACTK_API void actk_internal_softmax_disable_clusters(int disable);

/* The row kernel's launch in this thread's last
 * actk_cuda_cross_entropy_forward_backward call: cached (the row's floats
 * in shared memory, logits read once) or not, grid and dynamic shared
 * memory (per block), and the cluster size (blocks per row) of the cluster
 * kernel, 0 for one block per row; all 0 when no row kernel was launched. */
ACTK_API actk_ce_launch actk_internal_last_cross_entropy_launch(void);

/* For the library itself. */
void actk_internal_record_softmax_launch(const actk_softmax_launch *launch);
int actk_internal_softmax_clusters_disabled(void);

#ifdef __cplusplus
}
#endif

#endif
