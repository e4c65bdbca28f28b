// SPDX-License-Identifier: MIT
/*
 * bench_gated_bias_cuda.c - bench_gpu rows for the gated backward with the
 * linear layer's bias fused in and its dbias (actk_cuda_gated_bias_backward,
 * actk_cuda_clamped_swiglu_bias_backward): direction "bias_backward" of
 * the gated rows swiglu, geglu_tanh and clamped_swiglu (the same --ops
 * names select them).
 *
 * Bytes: the minimal traffic, each element once: x (2n) and dy (n) read, dx
 * (2n) written, bias read and dbias written (2 cols each); the workspace
 * (at most 32 MiB, written and read once) is not counted, so %memcpy says
 * how close the whole call comes to moving only what it must.
 * Agreement (--check): a separate call on the first rows (up to 2^20
 * values) against the CPU oracle: dx within the element-wise bound (f32
 * 4 ULP, f16/bf16 1, f64 9), dbias within what that bound allows for a sum
 * of such values (bound * eps * sum|dx| per column, plus 2 ULP).
 */
#include "bench_gpu_cuda.h"

#include <cuda_runtime_api.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COPIES 32

typedef struct {
    const char *name;
    actk_op op;
    int clamped;
    actk_gated_layout layout;
} bias_kind;

static const bias_kind kinds[] = {
    {"swiglu", ACTK_OP_SILU, 0, ACTK_GATED_CONCAT},
    {"geglu_tanh", ACTK_OP_GELU_TANH, 0, ACTK_GATED_CONCAT},
    {"clamped_swiglu", ACTK_OP_SILU, 1, ACTK_GATED_INTERLEAVED},
};

typedef struct {
    const bench_gpu_services *svc;
    const bias_kind *kind;
    actk_dtype dtype;
    size_t rows, cols, ws_bytes;
    int copies;
    void *x[MAX_COPIES], *dy[MAX_COPIES], *dx[MAX_COPIES];
    void *bias, *dbias, *workspace;
} bias_ctx;

static actk_status call(const bias_ctx *s, int cpu, size_t rows, const void *x, const void *bias, const void *dy,
                        void *dx, void *dbias)
{
    const size_t c = s->cols, w = 2 * c;
    const actk_gate_position G = ACTK_GATE_FIRST;
    const actk_gated_layout L = s->kind->layout;
    const float a = ACTK_CLAMPED_SWIGLU_ALPHA, l = ACTK_CLAMPED_SWIGLU_LIMIT;
    const actk_act act = actk_act_default(s->kind->op);
    if (cpu)
        return s->kind->clamped
                   ? actk_cpu_clamped_swiglu_bias_backward(a, l, L, G, s->dtype, rows, c, x, w, bias, dy, c, dx, w,
                                                           dbias)
                   : actk_cpu_gated_bias_backward(act, L, G, s->dtype, rows, c, x, w, bias, dy, c, dx, w, dbias);
    cudaStream_t stream = (cudaStream_t)s->svc->stream;
    return s->kind->clamped ? actk_cuda_clamped_swiglu_bias_backward(a, l, L, G, s->dtype, rows, c, x, w, bias, dy, c,
                                                                     dx, w, dbias, s->workspace, s->ws_bytes, stream)
                            : actk_cuda_gated_bias_backward(act, L, G, s->dtype, rows, c, x, w, bias, dy, c, dx, w,
                                                            dbias, s->workspace, s->ws_bytes, stream);
}

static int enqueue(void *ctx, int copy)
{
    bias_ctx *s = ctx;
    const actk_status st = call(s, 0, s->rows, s->x[copy], s->bias, s->dy[copy], s->dx[copy], s->dbias);
    if (st != ACTK_SUCCESS) fprintf(stderr, "bench_gpu: %s\n", actk_last_error());
    return st != ACTK_SUCCESS;
}

static void free_ctx(bias_ctx *s)
{
    for (int c = 0; c < MAX_COPIES; ++c) {
        cudaFree(s->x[c]);
        cudaFree(s->dy[c]);
        cudaFree(s->dx[c]);
    }
    cudaFree(s->bias);
    cudaFree(s->dbias);
    cudaFree(s->workspace);
}

/* Storage epsilon (2^-p, p = significand bits - 1). */
static double storage_eps(actk_dtype dtype)
{
    return dtype == ACTK_F16 ? 0x1p-10 : dtype == ACTK_BF16 ? 0x1p-7 : dtype == ACTK_F32 ? 0x1p-23 : 0x1p-52;
}

/* The first rows (a separate call, so dbias covers the same rows) against
 * the CPU oracle. */
static void check(bias_ctx *s, const void *h_x, const void *h_bias, const void *h_dy, bench_row *row)
{
    const size_t elem = actk_dtype_size(s->dtype), w = 2 * s->cols;
    size_t rows = ((size_t)1 << 20) / w;
    if (rows < 1) rows = 1;
    if (rows > s->rows) rows = s->rows;
    const size_t count = rows * w;
    void *got = malloc(count * elem), *want = malloc(count * elem), *got_db = malloc(w * elem),
         *want_db = malloc(w * elem);
    row->pass = 0;
    row->max_ulp = INFINITY;
    if (got && want && got_db && want_db &&
        call(s, 0, rows, s->x[0], s->bias, s->dy[0], s->dx[0], s->dbias) == ACTK_SUCCESS &&
        cudaStreamSynchronize((cudaStream_t)s->svc->stream) == cudaSuccess &&
        cudaMemcpy(got, s->dx[0], count * elem, cudaMemcpyDeviceToHost) == cudaSuccess &&
        cudaMemcpy(got_db, s->dbias, w * elem, cudaMemcpyDeviceToHost) == cudaSuccess &&
        call(s, 1, rows, h_x, h_bias, h_dy, want, want_db) == ACTK_SUCCESS) {
        const double bound = s->dtype == ACTK_F16 || s->dtype == ACTK_BF16 ? 1 : s->dtype == ACTK_F32 ? 4 : 9;
        double worst = 0;
        for (size_t k = 0; k < count; ++k) {
            const double u = bench_ulp(s->dtype, bench_load(s->dtype, got, k), bench_load(s->dtype, want, k));
            if (u > worst) worst = u;
        }
        int dbias_ok = 1;
        for (size_t k = 0; k < w; ++k) {
            double abs_sum = 0;
            for (size_t r = 0; r < rows; ++r) abs_sum += fabs((double)bench_load(s->dtype, want, r * w + k));
            const double g = (double)bench_load(s->dtype, got_db, k), c = (double)bench_load(s->dtype, want_db, k);
            if (!(fabs(g - c) <= (bound + 1) * storage_eps(s->dtype) * abs_sum || bench_ulp(s->dtype, g, c) <= 2))
                dbias_ok = 0;
        }
        row->max_ulp = worst;
        row->pass = worst <= bound && dbias_ok;
    }
    free(got);
    free(want);
    free(got_db);
    free(want_db);
}

int bench_gated_bias(const bench_gpu_services *svc, const bench_options *o, bench_results *results)
{
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; ++k) {
        if (!bench_selected(o, kinds[k].name)) continue;
        for (int t = 0; t < o->n_dtypes; ++t) {
            const actk_dtype dtype = o->dtypes[t];
            const size_t elem = actk_dtype_size(dtype);
            for (int sh = 0; sh < o->n_shapes; ++sh) {
                bias_ctx s;
                memset(&s, 0, sizeof s);
                s.svc = svc;
                s.kind = &kinds[k];
                s.dtype = dtype;
                s.rows = o->shapes[sh][0];
                s.cols = o->shapes[sh][1] * (o->shapes[sh][2] ? o->shapes[sh][2] : 1);
                const size_t n = s.rows * s.cols, w = 2 * s.cols;
                char shape[48];
                snprintf(shape, sizeof shape, "%zux%zu", s.rows, s.cols);
                const size_t bytes = (5 * n + 2 * w) * elem;
                size_t copies = bytes ? (3 * svc->l2_bytes + bytes - 1) / bytes : 1;
                s.copies = copies < 1 ? 1 : copies > MAX_COPIES ? MAX_COPIES : (int)copies;
                s.ws_bytes = actk_cuda_gated_bias_backward_workspace_size(dtype, s.rows, s.cols);
                void *h_x = bench_random(dtype, 2 * n, -4, 4, 51 + sh), *h_dy = bench_random(dtype, n, -1, 1, 52 + sh);
                void *h_bias = bench_random(dtype, w, -0.5, 0.5, 53 + sh);
                int failed = !h_x || !h_dy || !h_bias;
                for (int c = 0; !failed && c < s.copies; ++c)
                    failed = cudaMalloc(&s.x[c], 2 * n * elem) != cudaSuccess ||
                             cudaMalloc(&s.dy[c], n * elem) != cudaSuccess ||
                             cudaMalloc(&s.dx[c], 2 * n * elem) != cudaSuccess ||
                             cudaMemcpy(s.x[c], h_x, 2 * n * elem, cudaMemcpyHostToDevice) != cudaSuccess ||
                             cudaMemcpy(s.dy[c], h_dy, n * elem, cudaMemcpyHostToDevice) != cudaSuccess;
                failed = failed || cudaMalloc(&s.bias, w * elem) != cudaSuccess ||
                         cudaMalloc(&s.dbias, w * elem) != cudaSuccess ||
                         cudaMalloc(&s.workspace, s.ws_bytes ? s.ws_bytes : 16) != cudaSuccess ||
                         cudaMemcpy(s.bias, h_bias, w * elem, cudaMemcpyHostToDevice) != cudaSuccess;
                if (failed) {
                    fprintf(stderr, "bench_gpu: out of memory at %s (gated bias backward)\n", shape);
                    free_ctx(&s);
                    free(h_x);
                    free(h_dy);
                    free(h_bias);
                    return -1;
                }
                bench_row row;
                memset(&row, 0, sizeof row);
                snprintf(row.family, sizeof row.family, "gated");
                snprintf(row.op, sizeof row.op, "%s", kinds[k].name);
                snprintf(row.direction, sizeof row.direction, "bias_backward");
                snprintf(row.dtype, sizeof row.dtype, "%s", actk_dtype_name(dtype));
                snprintf(row.shape, sizeof row.shape, "%s", shape);
                row.bytes = bytes;
                row.elements = n;
                row.cudnn_ms = -1;
                row.max_ulp = -1;
                row.pass = 1;
                const double ms = svc->time_calls(svc->gpu, enqueue, &s, s.copies);
                int rc = ms < 0 ? -1 : 0;
                if (rc == 0) {
                    row.ms = ms;
                    row.gbps = (double)bytes / (ms * 1e-3) / 1e9;
                    row.memcpy_gbps = svc->memcpy_gbps(svc->gpu, bytes);
                    row.pct_memcpy = row.memcpy_gbps > 0 ? 100.0 * row.gbps / row.memcpy_gbps : 0;
                    if (o->check) check(&s, h_x, h_bias, h_dy, &row);
                    bench_add(results, &row);
                    bench_print_row(&row, 1);
                }
                free_ctx(&s);
                free(h_x);
                free(h_dy);
                free(h_bias);
                if (rc != 0) return -1;
            }
        }
    }
    return 0;
}
