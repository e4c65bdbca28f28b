// SPDX-License-Identifier: MIT
/*
 * bench_softmax_options.h - bench_gpu's rows for the softmax options
 * (bench_softmax_options_cuda.c), called once from bench_gpu_cuda.c.
 */
#ifndef ACTK_BENCH_SOFTMAX_OPTIONS_H
#define ACTK_BENCH_SOFTMAX_OPTIONS_H

#include "bench_common.h"

#include <cuda_runtime_api.h>

/* Times and checks the attention-shaped rows (selected by --ops
 * softmax_options, or by default); memcpy_gbps(ctx, bytes) is bench_gpu's
 * memcpy reference at a byte count. Returns 0, or -1 on a failed call. */
int bench_softmax_options_rows(const bench_options *o, bench_results *results, cudaStream_t stream,
                               double (*memcpy_gbps)(void *ctx, size_t bytes), void *memcpy_ctx);

#endif
