// SPDX-License-Identifier: MIT
/*
 * bench_gated_bias_cuda.h - the gated backward with fused bias and dbias in
 * bench_gpu's GPU mode (bench_gated_bias_cuda.c), and what bench_gpu_cuda.c
 * lends it: its stream, timing loop and memcpy reference.
 */
#ifndef ACTK_BENCH_GATED_BIAS_CUDA_H
#define ACTK_BENCH_GATED_BIAS_CUDA_H

#include "bench_common.h"

/* Enqueues one call on buffer copy `copy`; nonzero on failure. */
typedef int (*bench_enqueue_fn)(void *ctx, int copy);

typedef struct {
    void *gpu;     /* bench_gpu_cuda.c's state, passed back to the functions below */
    void *stream;  /* the cudaStream_t every call is enqueued on */
    size_t l2_bytes;
    /* median ms per call of fn over rotating copies (< 0: a call failed) */
    double (*time_calls)(void *gpu, bench_enqueue_fn fn, void *ctx, int copies);
    /* GB/s of a device-to-device memcpy moving `bytes` in all */
    double (*memcpy_gbps)(void *gpu, size_t bytes);
} bench_gpu_services;

/* Rows "gated <kind> bias_backward" for swiglu, geglu_tanh and
 * clamped_swiglu (selected by --ops with those names) over --shapes.
 * Returns 0, or -1 if a call or an allocation failed. */
int bench_gated_bias(const bench_gpu_services *svc, const bench_options *o, bench_results *results);

#endif
