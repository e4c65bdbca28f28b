// SPDX-License-Identifier: MIT
/*
 * bench_quant_cuda.h - bench_gpu's FP8-output rows (bench_quant_cuda.c),
 * called from bench_gpu_cuda.c with its timing helpers.
 */
#ifndef ACTK_BENCH_QUANT_CUDA_H
#define ACTK_BENCH_QUANT_CUDA_H

#include "bench_common.h"

#include <cuda_runtime_api.h>

typedef struct {
    void *g; /* bench_gpu_cuda.c's device state */
    cudaStream_t stream;
    /* median per-call ms of enqueue(ctx, copy) over rotating copies; < 0 on failure */
    double (*time_calls)(void *g, int (*enqueue)(void *ctx, int copy), void *ctx, int copies);
    /* copies so that one trial sweeps more than 3x L2 */
    int (*copies_for)(void *g, size_t bytes_per_call);
    /* fills the row's timing columns (GB/s, % of memcpy at the same bytes) */
    void (*finish_row)(void *g, bench_row *row, double ms);
    void (*init_row)(bench_row *row, const char *family, const char *op, const char *dir, actk_dtype dtype,
                     const char *shape, size_t bytes);
} bench_gpu_hooks;

/* Rows "fp8": silu (2-D) and swiglu (gated) into E4M3 in every mode, for
 * the selected dtypes (f64 skipped) and shapes; selected with --ops fp8
 * (or all ops). Returns 0, or -1 on a failure. */
int bench_quant(const bench_gpu_hooks *h, const bench_options *o, bench_results *results);

#endif
