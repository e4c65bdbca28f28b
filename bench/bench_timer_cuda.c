// SPDX-License-Identifier: MIT
/*
 * bench_timer_cuda.c - bench_gpu's GPU timing: rotating device buffers, the median of
 * CUDA-event-timed trials, the memcpy bandwidth reference and the rows'
 * timing columns (see bench_gpu_cuda.h).
 */
#include "bench_gpu_cuda.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int bench_rotation_alloc(bench_rotation *r, size_t bytes, int copies, const void *host)
{
    memset(r, 0, sizeof *r);
    r->copies = copies;
    r->bytes = bytes;
    for (int c = 0; c < copies; ++c) {
        if (cudaMalloc(&r->p[c], bytes ? bytes : 1) != cudaSuccess) return -1;
        if (host && cudaMemcpy(r->p[c], host, bytes, cudaMemcpyHostToDevice) != cudaSuccess) return -1;
        if (!host && cudaMemset(r->p[c], 0, bytes) != cudaSuccess) return -1;
    }
    return 0;
}

void bench_rotation_free(bench_rotation *r)
{
    for (int c = 0; c < r->copies; ++c) cudaFree(r->p[c]);
    memset(r, 0, sizeof *r);
}

/* Enough copies that the calls of one trial sweep more than 3x L2. */
int bench_copies_for(const bench_gpu *g, size_t bytes_per_call)
{
    if (bytes_per_call == 0) return 1;
    size_t c = (3 * g->l2_bytes + bytes_per_call - 1) / bytes_per_call;
    return c < 1 ? 1 : c > BENCH_MAX_COPIES ? BENCH_MAX_COPIES : (int)c;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median over trials of the per-call time (ms), or -1 if a call failed. */
double bench_time_calls(bench_gpu *g, bench_enqueue_fn fn, void *ctx, int copies)
{
    for (int w = 0; w < 3; ++w)
        if (fn(ctx, w % copies) != 0) return -1;
    double per_call[64];
    const int trials = g->trials < 64 ? g->trials : 64;
    for (int t = 0; t < trials; ++t) {
        cudaEventRecord(g->start, g->stream);
        for (int r = 0; r < g->reps; ++r)
            if (fn(ctx, r % copies) != 0) return -1;
        cudaEventRecord(g->stop, g->stream);
        if (cudaEventSynchronize(g->stop) != cudaSuccess) return -1;
        float ms = 0;
        cudaEventElapsedTime(&ms, g->start, g->stop);
        per_call[t] = ms / g->reps;
    }
    qsort(per_call, (size_t)trials, sizeof per_call[0], cmp_double);
    return per_call[trials / 2];
}

typedef struct {
    bench_gpu *g;
    bench_rotation src, dst;
} memcpy_ctx;

static int enqueue_memcpy(void *ctx, int copy)
{
    memcpy_ctx *m = ctx;
    return cudaMemcpyAsync(m->dst.p[copy], m->src.p[copy], m->src.bytes, cudaMemcpyDeviceToDevice, m->g->stream) !=
           cudaSuccess;
}

/* GB/s of a device-to-device copy moving `bytes` in total (bytes/2 read,
 * bytes/2 written), measured once per byte count. */
double bench_memcpy_gbps(bench_gpu *g, size_t bytes)
{
    for (int k = 0; k < g->memcpy_count; ++k)
        if (g->memcpy_bytes[k] == bytes) return g->memcpy_gbps[k];
    memcpy_ctx m = {g, {{0}, 0, 0}, {{0}, 0, 0}};
    const int copies = bench_copies_for(g, bytes);
    double gbps = -1;
    if (bench_rotation_alloc(&m.src, bytes / 2, copies, NULL) == 0 &&
        bench_rotation_alloc(&m.dst, bytes / 2, copies, NULL) == 0) {
        const double ms = bench_time_calls(g, enqueue_memcpy, &m, copies);
        if (ms > 0) gbps = (double)(bytes / 2 * 2) / (ms * 1e-3) / 1e9;
    }
    bench_rotation_free(&m.src);
    bench_rotation_free(&m.dst);
    if (g->memcpy_count < 256) {
        g->memcpy_bytes[g->memcpy_count] = bytes;
        g->memcpy_gbps[g->memcpy_count++] = gbps;
    }
    return gbps;
}

void bench_finish_row(bench_gpu *g, bench_row *row, double ms, double cudnn_ms)
{
    row->ms = ms;
    row->gbps = (double)row->bytes / (ms * 1e-3) / 1e9;
    row->memcpy_gbps = bench_memcpy_gbps(g, row->bytes);
    row->pct_memcpy = row->memcpy_gbps > 0 ? 100.0 * row->gbps / row->memcpy_gbps : 0;
    row->cudnn_ms = cudnn_ms;
    row->speedup = cudnn_ms > 0 ? cudnn_ms / ms : 0;
}

void bench_init_row(bench_row *row, const char *family, const char *op, const char *dir, actk_dtype dtype,
                    const char *shape, size_t bytes)
{
    memset(row, 0, sizeof *row);
    snprintf(row->family, sizeof row->family, "%s", family);
    snprintf(row->op, sizeof row->op, "%s", op);
    snprintf(row->direction, sizeof row->direction, "%s", dir);
    snprintf(row->dtype, sizeof row->dtype, "%s", actk_dtype_name(dtype));
    snprintf(row->shape, sizeof row->shape, "%s", shape);
    row->bytes = bytes;
    row->cudnn_ms = -1;
    row->max_ulp = -1;
    row->pass = 1;
}

/* ---- what the feature benches in their own files borrow ------------------------ */

static double lend_time_calls(void *g, bench_enqueue_fn fn, void *ctx, int copies)
{
    return bench_time_calls(g, fn, ctx, copies);
}
static double lend_memcpy_gbps(void *g, size_t bytes) { return bench_memcpy_gbps(g, bytes); }
static int lend_copies_for(void *g, size_t bytes) { return bench_copies_for(g, bytes); }
static void lend_finish_row(void *g, bench_row *row, double ms) { bench_finish_row(g, row, ms, -1); }

bench_gpu_services bench_services_of(bench_gpu *g)
{
    const bench_gpu_services svc = {g,
                                    g->stream,
                                    g->l2_bytes,
                                    g->reps,
                                    g->trials,
                                    lend_time_calls,
                                    lend_memcpy_gbps,
                                    lend_copies_for,
                                    lend_finish_row,
                                    bench_init_row};
    return svc;
}
