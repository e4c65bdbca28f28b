// SPDX-License-Identifier: MIT
/*
 * bench_gpu_cuda.h - what the files of bench_gpu's GPU mode share: the device
 * state and timer (bench_timer_cuda.c), the cuDNN baseline
 * (bench_cudnn_cuda.c), the row families (bench_rows_*_cuda.c), and the one
 * services struct every feature bench in its own file is lent
 * (bench_gated_bias_cuda.c, bench_quant_cuda.c, bench_softmax_options_cuda.c,
 * bench_cross_entropy_cuda.c). bench_gpu_cuda.c holds the mode's main.
 */
#ifndef ACTK_BENCH_GPU_CUDA_H
#define ACTK_BENCH_GPU_CUDA_H

#include "bench_common.h"

#include <cuda_runtime_api.h>

#define BENCH_MAX_COPIES 32

/* Enqueues one call on buffer copy `copy`; nonzero on failure. */
typedef int (*bench_enqueue_fn)(void *ctx, int copy);

/* What a feature bench borrows from the GPU mode: its stream, timing loop,
 * memcpy reference and row helpers. Every function takes `gpu` back. */
typedef struct {
    void *gpu;           /* the mode's bench_gpu */
    cudaStream_t stream; /* every call is enqueued on it */
    size_t l2_bytes;
    int reps, trials;    /* back-to-back calls per trial, trials per median */
    /* median ms per call of fn over rotating copies (< 0: a call failed) */
    double (*time_calls)(void *gpu, bench_enqueue_fn fn, void *ctx, int copies);
    /* GB/s of a device-to-device memcpy moving `bytes` in all */
    double (*memcpy_gbps)(void *gpu, size_t bytes);
    /* copies so that one trial sweeps more than 3x L2 */
    int (*copies_for)(void *gpu, size_t bytes_per_call);
    /* fills the row's timing columns (GB/s, % of memcpy at the same bytes; no cuDNN) */
    void (*finish_row)(void *gpu, bench_row *row, double ms);
    void (*init_row)(bench_row *row, const char *family, const char *op, const char *dir, actk_dtype dtype,
                     const char *shape, size_t bytes);
} bench_gpu_services;

/* ---- device state and timer (bench_timer_cuda.c) ---- */

typedef struct {
    cudaStream_t stream;
    cudaEvent_t start, stop;
    size_t l2_bytes;
    int reps, trials;
    void *cudnn; /* cudnnHandle_t, NULL without cuDNN (bench_cudnn_cuda.c) */
    /* memcpy bandwidth measured at each byte count */
    size_t memcpy_bytes[256];
    double memcpy_gbps[256];
    int memcpy_count;
} bench_gpu;

/* `copies` device buffers of one role, rotated across calls. */
typedef struct {
    void *p[BENCH_MAX_COPIES];
    int copies;
    size_t bytes;
} bench_rotation;

int bench_rotation_alloc(bench_rotation *r, size_t bytes, int copies, const void *host);
void bench_rotation_free(bench_rotation *r);
int bench_copies_for(const bench_gpu *g, size_t bytes_per_call);
double bench_time_calls(bench_gpu *g, bench_enqueue_fn fn, void *ctx, int copies);
double bench_memcpy_gbps(bench_gpu *g, size_t bytes);
void bench_finish_row(bench_gpu *g, bench_row *row, double ms, double cudnn_ms);
void bench_init_row(bench_row *row, const char *family, const char *op, const char *dir, actk_dtype dtype,
                    const char *shape, size_t bytes);
bench_gpu_services bench_services_of(bench_gpu *g);

/* ---- cuDNN baseline (bench_cudnn_cuda.c; without BENCH_WITH_CUDNN every
 * time is -1, "cuDNN has no such op") ---- */

/* Opens the handle on g->stream and prints the device line; closes it. */
void bench_cudnn_open(bench_gpu *g, const struct cudaDeviceProp *prop, int l2_bytes);
void bench_cudnn_close(bench_gpu *g);
/* Median ms of cuDNN's activation (dir 0 forward, 1 backward) on the same
 * buffers, or -1 where cuDNN has no such op or call. */
double bench_cudnn_activation_ms(bench_gpu *g, actk_act act, actk_dtype dtype, size_t n, actk_direction dir,
                                 const bench_rotation *in0, const bench_rotation *in1, const bench_rotation *out,
                                 int copies);
double bench_cudnn_softmax_ms(bench_gpu *g, actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim,
                              size_t inner, int backward, const bench_rotation *in0, const bench_rotation *in1,
                              const bench_rotation *out, int copies);

/* ---- row families (each returns 0, or -1 if a call or an allocation failed) ---- */

/* Element indices checked against the CPU: all of them up to `limit`, else
 * an even spread plus the last elements. Returns the count. */
size_t bench_sample_indices(size_t n, size_t limit, size_t **out);
int bench_eltwise(bench_gpu *g, const bench_options *o, bench_results *results);    /* bench_rows_eltwise_cuda.c */
int bench_softmax(bench_gpu *g, const bench_options *o, bench_results *results);    /* bench_rows_structured_cuda.c */
int bench_structured(bench_gpu *g, const bench_options *o, bench_results *results); /* bench_rows_structured_cuda.c */
int bench_gated(bench_gpu *g, const bench_options *o, bench_results *results);      /* bench_rows_gated_cuda.c */

/* ---- feature benches in their own files ---- */

int bench_gated_bias(const bench_gpu_services *svc, const bench_options *o, bench_results *results);
int bench_quant(const bench_gpu_services *svc, const bench_options *o, bench_results *results);
int bench_softmax_options_rows(const bench_gpu_services *svc, const bench_options *o, bench_results *results);
int bench_cross_entropy_gpu(const bench_gpu_services *svc, const bench_options *o, bench_results *results);

#endif
