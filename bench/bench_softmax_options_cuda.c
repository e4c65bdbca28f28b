// SPDX-License-Identifier: MIT
/*
 * bench_softmax_options_cuda.c - bench_gpu rows for the softmax options
 * (issue 16): attention-shaped softmax (batch x heads x q_len x k_len, the
 * rows = batch * heads * q_len, dim = k_len) with a scale, the causal
 * masks, padding, the LSE output and an additive mask, forward and the
 * causal backward, timed as the other rows (median of trials of
 * back-to-back calls, CUDA events) against cudaMemcpy at the same bytes.
 * Bytes are what the kernel must move: the unmasked x (forward) or y and
 * dy (backward) it reads, every output it writes, the mask rows and the
 * per-row arrays. A sample of (batch, head) slices is checked against the
 * CPU reference (actk_cpu_softmax_*_ex on the slice). Called once from
 * bench_gpu_cuda.c (bench_softmax_options_rows).
 */
#include "bench_gpu_cuda.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    int backward;
    float scale;
    actk_attention_mask causal;
    int padding, lse, additive;
} options_case;

static const options_case cases[] = {
    {"softmax scale", 0, 0.088388f, ACTK_ATTN_MASK_NO_MASK, 0, 0, 0},
    {"softmax causal", 0, 0.088388f, ACTK_ATTN_MASK_CAUSAL, 0, 0, 0},
    {"softmax causal_br+pad+lse", 0, 0.088388f, ACTK_ATTN_MASK_CAUSAL_BOTTOM_RIGHT, 1, 1, 0},
    {"softmax additive", 0, 0.088388f, ACTK_ATTN_MASK_NO_MASK, 0, 0, 1},
    {"softmax causal", 1, 0.088388f, ACTK_ATTN_MASK_CAUSAL, 0, 0, 0},
};

typedef struct {
    size_t batch, heads, q_len, k_len;
} attention_shape;

/* Unmasked keys of query q in batch b (every mask keeps a prefix). */
static size_t live_keys(const attention_shape *s, const actk_softmax_options *o, size_t b, size_t q)
{
    size_t live = s->k_len;
    if (o->causal == ACTK_ATTN_MASK_CAUSAL && q + 1 < live) live = q + 1;
    if (o->causal == ACTK_ATTN_MASK_CAUSAL_BOTTOM_RIGHT) {
        const size_t limit = q + 1 + s->k_len > s->q_len ? q + 1 + s->k_len - s->q_len : 0;
        if (limit < live) live = limit;
    }
    if (o->valid_length) {
        const int v = o->valid_length[b];
        const size_t limit = v < 0 ? 0 : (size_t)v;
        if (limit < live) live = limit;
    }
    return live;
}

typedef struct {
    cudaStream_t stream;
    const options_case *c;
    actk_dtype dtype;
    attention_shape s;
    actk_softmax_options device_options;
    void *x, *y, *dy, *dx;
} run_ctx;

static int enqueue(const run_ctx *r)
{
    const size_t rows = r->s.batch * r->s.heads * r->s.q_len;
    const actk_status st = r->c->backward
                               ? actk_cuda_softmax_backward_ex(ACTK_SOFTMAX, r->dtype, rows, r->s.k_len, 1,
                                                               &r->device_options, r->y, r->dy, r->dx, r->stream)
                               : actk_cuda_softmax_forward_ex(ACTK_SOFTMAX, r->dtype, rows, r->s.k_len, 1,
                                                              &r->device_options, r->x, r->y, r->stream);
    if (st != ACTK_SUCCESS) fprintf(stderr, "bench_gpu: %s\n", actk_last_error());
    return st != ACTK_SUCCESS;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double time_ms(const run_ctx *r, int reps, int trials)
{
    cudaEvent_t start, stop;
    if (cudaEventCreate(&start) != cudaSuccess || cudaEventCreate(&stop) != cudaSuccess) return -1;
    double per_call[64], result = -1;
    if (trials > 64) trials = 64;
    for (int w = 0; w < 2; ++w)
        if (enqueue(r)) goto done;
    for (int t = 0; t < trials; ++t) {
        cudaEventRecord(start, r->stream);
        for (int k = 0; k < reps; ++k)
            if (enqueue(r)) goto done;
        cudaEventRecord(stop, r->stream);
        if (cudaEventSynchronize(stop) != cudaSuccess) goto done;
        float ms = 0;
        cudaEventElapsedTime(&ms, start, stop);
        per_call[t] = ms / reps;
    }
    qsort(per_call, (size_t)trials, sizeof per_call[0], cmp_double);
    result = per_call[trials / 2];
done:
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    return result;
}

/* Fills a device buffer of n values by repeating a host block of random values. */
static int fill_device(void *d, actk_dtype dtype, size_t n, double lo, double hi, unsigned long long seed)
{
    const size_t block = n < ((size_t)1 << 22) ? n : ((size_t)1 << 22), elem = actk_dtype_size(dtype);
    void *h = bench_random(dtype, block, lo, hi, seed);
    if (!h) return -1;
    int rc = 0;
    for (size_t at = 0; at < n && rc == 0; at += block) {
        const size_t count = n - at < block ? n - at : block;
        rc = cudaMemcpy((unsigned char *)d + at * elem, h, count * elem, cudaMemcpyHostToDevice) != cudaSuccess;
    }
    free(h);
    return rc;
}

/* Checks the (batch, head) slices (0, 0) and (last, last) against the CPU
 * reference on that slice (its rows are one head's q_len queries). */
static void check_slices(const run_ctx *r, const actk_softmax_options *host_options, const void *h_mask, bench_row *row)
{
    const attention_shape *s = &r->s;
    const size_t elem = actk_dtype_size(r->dtype), slice = s->q_len * s->k_len;
    void *in0 = malloc(slice * elem), *in1 = malloc(slice * elem), *got = malloc(slice * elem),
         *want = malloc(slice * elem);
    int pass = in0 && in1 && got && want;
    double worst = 0;
    const double bound =
        bench_ulp_bound(r->dtype, !r->c->backward) > 4 ? bench_ulp_bound(r->dtype, !r->c->backward) : 4;
    for (int k = 0; k < 2 && pass; ++k) {
        const size_t b = k ? s->batch - 1 : 0, h = k ? s->heads - 1 : 0, offset = ((b * s->heads + h) * slice) * elem;
        const void *src0 = r->c->backward ? r->y : r->x;
        void *out = r->c->backward ? r->dx : r->y;
        if (cudaMemcpy(in0, (const unsigned char *)src0 + offset, slice * elem, cudaMemcpyDeviceToHost) !=
                cudaSuccess ||
            cudaMemcpy(got, (unsigned char *)out + offset, slice * elem, cudaMemcpyDeviceToHost) != cudaSuccess ||
            (r->c->backward && cudaMemcpy(in1, (const unsigned char *)r->dy + offset, slice * elem,
                                          cudaMemcpyDeviceToHost) != cudaSuccess)) {
            pass = 0;
            break;
        }
        actk_softmax_options o = *host_options; /* one head of one batch */
        o.heads = 1;
        o.lse = NULL;
        if (o.valid_length) o.valid_length += b;
        if (o.additive_mask) o.additive_mask = (const unsigned char *)h_mask + b * slice * elem;
        const actk_status st = r->c->backward
            ? actk_cpu_softmax_backward_ex(ACTK_SOFTMAX, r->dtype, s->q_len, s->k_len, 1, &o, in0, in1, want)
            : actk_cpu_softmax_forward_ex(ACTK_SOFTMAX, r->dtype, s->q_len, s->k_len, 1, &o, in0, want);
        if (st != ACTK_SUCCESS) {
            pass = 0;
            break;
        }
        for (size_t i = 0; i < slice; ++i) {
            const double u = bench_ulp(r->dtype, bench_load(r->dtype, got, i), bench_load(r->dtype, want, i));
            if (u > worst) worst = u;
            /* the backward: the ULP bound, or 2^-20 absolute where dy - sum cancels (a coarse screen) */
            if (u > bound &&
                !(r->c->backward && fabsl(bench_load(r->dtype, got, i) - bench_load(r->dtype, want, i)) < 0x1p-20L))
                pass = 0;
        }
    }
    row->max_ulp = worst;
    row->pass = pass;
    free(in0);
    free(in1);
    free(got);
    free(want);
}

int bench_softmax_options_rows(const bench_gpu_services *svc, const bench_options *o, bench_results *results)
{
    if (!bench_selected(o, "softmax_options")) return 0;
    cudaStream_t stream = svc->stream;
    /* 32 x 16 x 2048 x 2048 as the issue asks; --quick: 2 x 16 x 1024 x 1024 */
    const attention_shape shape =
        o->quick ? (attention_shape){2, 16, 1024, 1024} : (attention_shape){32, 16, 2048, 2048};
    for (int t = 0; t < o->n_dtypes; ++t) {
        const actk_dtype dtype = o->dtypes[t];
        if (dtype == ACTK_F64) continue; /* attention runs in f32/f16/bf16 */
        const size_t elem = actk_dtype_size(dtype), rows = shape.batch * shape.heads * shape.q_len,
                     n = rows * shape.k_len;
        const size_t mask_n = shape.batch * shape.q_len * shape.k_len;
        run_ctx r;
        memset(&r, 0, sizeof r);
        r.stream = stream;
        r.dtype = dtype;
        r.s = shape;
        void *d_mask = NULL, *d_valid = NULL, *d_lse = NULL, *h_mask = bench_random(dtype, mask_n, -2, 2, 77);
        int *valid = malloc(shape.batch * sizeof(int));
        int rc = 0;
        if (!h_mask || !valid || cudaMalloc(&r.x, n * elem) || cudaMalloc(&r.y, n * elem) ||
            cudaMalloc(&r.dy, n * elem) || cudaMalloc(&r.dx, n * elem) || cudaMalloc(&d_mask, mask_n * elem) ||
            cudaMalloc(&d_valid, shape.batch * sizeof(int)) || cudaMalloc(&d_lse, rows * sizeof(float)) ||
            fill_device(r.x, dtype, n, -30, 30, 31) || fill_device(r.dy, dtype, n, -1, 1, 32) ||
            cudaMemcpy(d_mask, h_mask, mask_n * elem, cudaMemcpyHostToDevice) != cudaSuccess) {
            /* a smaller GPU: say so and go on (the rows need 4 tensors of n elements) */
            printf("  softmax options %s: skipped, %zu MiB of device memory not available\n", actk_dtype_name(dtype),
                   (4 * n * elem + mask_n * elem) >> 20);
            (void)cudaGetLastError();
            rc = 1;
        }
        if (rc == 0) {
            for (size_t b = 0; b < shape.batch; ++b) valid[b] = (int)(shape.k_len - (b * 37) % (shape.k_len / 2));
            cudaMemcpy(d_valid, valid, shape.batch * sizeof(int), cudaMemcpyHostToDevice);
        }
        char shape_name[48];
        snprintf(shape_name, sizeof shape_name, "%zux%zux%zux%zu", shape.batch, shape.heads, shape.q_len, shape.k_len);
        for (size_t k = 0; k < sizeof cases / sizeof cases[0] && rc == 0; ++k) {
            const options_case *c = &cases[k];
            r.c = c;
            actk_softmax_options host = actk_softmax_options_default();
            host.scale = c->scale;
            host.causal = c->causal;
            host.q_len = shape.q_len;
            host.heads = shape.heads;
            host.valid_length = c->padding ? valid : NULL;
            host.additive_mask = c->additive ? h_mask : NULL;
            r.device_options = host;
            r.device_options.valid_length = c->padding ? d_valid : NULL;
            r.device_options.additive_mask = c->additive ? d_mask : NULL;
            r.device_options.lse = c->lse ? d_lse : NULL;
            if (c->backward) { /* y: the forward output of the same options */
                run_ctx forward = r;
                options_case fc = *c;
                fc.backward = 0;
                forward.c = &fc;
                if (enqueue(&forward) || cudaStreamSynchronize(stream) != cudaSuccess) { rc = -1; break; }
            }
            /* the bytes the kernel must move */
            size_t live = 0;
            for (size_t b = 0; b < shape.batch; ++b)
                for (size_t q = 0; q < shape.q_len; ++q) live += live_keys(&shape, &host, b, q) * shape.heads;
            size_t bytes = live * elem * (c->backward ? 2 : 1) + n * elem;
            if (c->additive) bytes += mask_n * elem; /* each mask row once (the heads share it through L2) */
            if (c->lse) bytes += rows * sizeof(float);
            if (c->padding) bytes += shape.batch * sizeof(int);
            bench_row row;
            memset(&row, 0, sizeof row);
            snprintf(row.family, sizeof row.family, "softmax_opt");
            snprintf(row.op, sizeof row.op, "%s", c->name + strlen("softmax "));
            snprintf(row.direction, sizeof row.direction, "%s", c->backward ? "backward" : "forward");
            snprintf(row.dtype, sizeof row.dtype, "%s", actk_dtype_name(dtype));
            snprintf(row.shape, sizeof row.shape, "%s", shape_name);
            row.bytes = bytes;
            row.elements = n;
            row.cudnn_ms = -1;
            row.max_ulp = -1;
            row.pass = 1;
            const double ms = time_ms(&r, o->reps, o->trials);
            if (ms <= 0) { rc = -1; break; }
            row.ms = ms;
            row.gbps = (double)bytes / (ms * 1e-3) / 1e9;
            row.memcpy_gbps = svc->memcpy_gbps(svc->gpu, bytes);
            row.pct_memcpy = row.memcpy_gbps > 0 ? 100.0 * row.gbps / row.memcpy_gbps : 0;
            if (o->check) {
                if (enqueue(&r) || cudaStreamSynchronize(stream) != cudaSuccess) row.pass = 0;
                else check_slices(&r, &host, h_mask, &row);
            }
            bench_add(results, &row);
            bench_print_row(&row, 1);
        }
        cudaFree(r.x);
        cudaFree(r.y);
        cudaFree(r.dy);
        cudaFree(r.dx);
        cudaFree(d_mask);
        cudaFree(d_valid);
        cudaFree(d_lse);
        free(h_mask);
        free(valid);
        if (rc < 0) return rc;
    }
    return 0;
}
