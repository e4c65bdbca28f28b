// SPDX-License-Identifier: MIT
/*
 * bench_cross_entropy_cuda.c - bench_gpu's rows for the fused softmax
 * cross-entropy (actk_cuda_cross_entropy_forward_backward): vocabularies of
 * 8K (two blocks per SM), 32K, 50257 (GPT-2's: rows not 4-aligned, so the
 * column-by-column layout), 128K and 256K classes, f32 and bf16, the
 * training call (MEAN,
 * label smoothing 0.1, gradient written in place over the logits). Bytes
 * counted: the logits read once and the gradient written once (2 x rows x
 * classes x element size; targets and the per-row outputs are noise), so
 * % of memcpy compares with a copy of the logits. Rows whose row does not
 * fit in shared memory (256K of f32) read the logits twice, which this
 * count does not charge: the figure shows the cost.
 * With --check, a sample of rows is compared with the CPU oracle (the
 * in-place gradient of the first call, before timing overwrote it).
 */
#include "bench_gpu_cuda.h"

#include <cuda_runtime_api.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    cudaStream_t stream;
    actk_cross_entropy_options options;
    actk_dtype dtype;
    size_t rows, classes;
    void *logits, *targets, *workspace;
    size_t workspace_bytes;
    float *loss, *lse;
} ce_ctx;

static int enqueue_ce(const ce_ctx *c)
{
    return actk_cuda_cross_entropy_forward_backward(c->options, c->dtype, c->rows, c->classes, c->logits, c->classes,
                                                    ACTK_INDEX_I64, c->targets, c->loss, c->lse, c->logits, c->classes,
                                                    NULL, c->workspace, c->workspace_bytes,
                                                    (actk_stream)c->stream) != ACTK_SUCCESS;
}

static int cmp_ms(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median over trials of the per-call time (ms) of fn; -1 if a call failed.
 * In place: every call rewrites the same buffer (the gradient of a gradient
 * is as costly as the first), so one buffer serves all calls. */
static double median_ms(cudaStream_t stream, int reps, int trials, int (*fn)(const void *), const void *ctx)
{
    cudaEvent_t start, stop;
    if (cudaEventCreate(&start) != cudaSuccess || cudaEventCreate(&stop) != cudaSuccess) return -1;
    double per_call[64];
    if (trials > 64) trials = 64;
    double result = -1;
    for (int w = 0; w < 2; ++w)
        if (fn(ctx) != 0) goto done;
    for (int t = 0; t < trials; ++t) {
        cudaEventRecord(start, stream);
        for (int r = 0; r < reps; ++r)
            if (fn(ctx) != 0) goto done;
        cudaEventRecord(stop, stream);
        if (cudaEventSynchronize(stop) != cudaSuccess) goto done;
        float ms = 0;
        cudaEventElapsedTime(&ms, start, stop);
        per_call[t] = ms / reps;
    }
    qsort(per_call, (size_t)trials, sizeof per_call[0], cmp_ms);
    result = per_call[trials / 2];
done:
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    return result;
}

static int call_ce(const void *ctx) { return enqueue_ce((const ce_ctx *)ctx); }

typedef struct {
    cudaStream_t stream;
    void *src, *dst;
    size_t bytes;
} copy_ctx;

static int call_copy(const void *ctx)
{
    const copy_ctx *c = ctx;
    return cudaMemcpyAsync(c->dst, c->src, c->bytes, cudaMemcpyDeviceToDevice, c->stream) != cudaSuccess;
}

/* Max ULP of the sampled rows' gradients against the oracle; -1 on failure. */
static double check_rows(const ce_ctx *c, const void *h_logits, const int64_t *h_targets, size_t sample)
{
    const size_t elem = actk_dtype_size(c->dtype), row_bytes = c->classes * elem;
    unsigned char *got = malloc(row_bytes * sample), *want = malloc(row_bytes * sample);
    float *loss = malloc(sizeof(float) * sample);
    double worst = -1;
    if (!got || !want || !loss) goto done;
    if (cudaMemcpy(got, c->logits, row_bytes * sample, cudaMemcpyDeviceToHost) != cudaSuccess) goto done;
    /* the oracle's gradient of these rows scaled as in the full batch:
     * MEAN over all rows, so grad_scale / rows per row (no row ignored) */
    actk_cross_entropy_options o = c->options;
    o.reduction = ACTK_REDUCTION_NONE;
    o.grad_scale = c->options.grad_scale / (float)c->rows;
    if (actk_cpu_cross_entropy_forward_backward(o, c->dtype, sample, c->classes, h_logits, c->classes, ACTK_INDEX_I64,
                                                h_targets, loss, NULL, want, c->classes) != ACTK_SUCCESS)
        goto done;
    worst = 0;
    for (size_t i = 0; i < sample * c->classes; ++i) {
        const long double a = bench_load(c->dtype, got, i), b = bench_load(c->dtype, want, i);
        /* where p - 1 cancels the rule is absolute: count those as in bound */
        const long double abs_bound = 4.0L * (c->dtype == ACTK_F32 ? 0x1p-24L : 0x1p-8L) * 2.0L / (long double)c->rows;
        const double ulp = fabsl(a - b) <= abs_bound ? 0 : bench_ulp(c->dtype, a, b);
        if (ulp > worst) worst = ulp;
    }
done:
    free(got);
    free(want);
    free(loss);
    return worst;
}

int bench_cross_entropy_gpu(const bench_gpu_services *svc, const bench_options *o, bench_results *results)
{
    if (!bench_selected(o, "cross_entropy")) return 0;
    cudaStream_t stream = svc->stream;
    const int reps = svc->reps, trials = svc->trials;
    static const size_t vocab[5] = {8192, 32768, 50257, 131072, 262144};
    static const actk_dtype dtypes[2] = {ACTK_BF16, ACTK_F32};
    const size_t tokens = o->quick ? 1024 : 8192; /* rows x classes at 32K: 8192 x 32768 = 2^28 */
    for (int d = 0; d < 2; ++d)
        for (int v = 0; v < 5; ++v) {
            ce_ctx c;
            memset(&c, 0, sizeof c);
            c.stream = stream;
            c.options = actk_cross_entropy_default();
            c.options.label_smoothing = 0.1f;
            c.dtype = dtypes[d];
            c.classes = vocab[v];
            c.rows = tokens * 32768 / vocab[v];
            const size_t elem = actk_dtype_size(c.dtype), n = c.rows * c.classes;
            void *h_logits = bench_random(c.dtype, n, -8.0, 8.0, 16 + v);
            int64_t *h_targets = malloc(sizeof(int64_t) * c.rows);
            if (!h_logits || !h_targets) return 1;
            for (size_t r = 0; r < c.rows; ++r) h_targets[r] = (int64_t)((r * 2654435761u) % c.classes);
            c.workspace_bytes = actk_cuda_cross_entropy_workspace_size(c.options.reduction, c.rows);
            copy_ctx copy = {stream, NULL, NULL, n * elem};
            int rc = cudaMalloc(&c.logits, n * elem) != cudaSuccess ||
                     cudaMalloc(&c.targets, 8 * c.rows) != cudaSuccess ||
                     cudaMalloc(&c.workspace, c.workspace_bytes) != cudaSuccess ||
                     cudaMalloc((void **)&c.loss, 4) != cudaSuccess ||
                     cudaMalloc((void **)&c.lse, 4 * c.rows) != cudaSuccess ||
                     cudaMalloc(&copy.src, n * elem) != cudaSuccess || cudaMalloc(&copy.dst, n * elem) != cudaSuccess;
            if (!rc)
                rc = cudaMemcpy(c.logits, h_logits, n * elem, cudaMemcpyHostToDevice) != cudaSuccess ||
                     cudaMemcpy(c.targets, h_targets, 8 * c.rows, cudaMemcpyHostToDevice) != cudaSuccess;
            bench_row row;
            memset(&row, 0, sizeof row);
            snprintf(row.family, sizeof row.family, "xent");
            snprintf(row.op, sizeof row.op, "cross_entropy");
            snprintf(row.direction, sizeof row.direction, "fwd+bwd");
            snprintf(row.dtype, sizeof row.dtype, "%s", actk_dtype_name(c.dtype));
            snprintf(row.shape, sizeof row.shape, "%zux%zu", c.rows, c.classes);
            row.bytes = 2 * n * elem;
            row.elements = n;
            row.cudnn_ms = -1;
            row.max_ulp = -1;
            row.pass = 1;
            if (!rc && o->check) {
                /* the first call's in-place gradient, against the oracle on a few rows */
                rc = enqueue_ce(&c) || cudaStreamSynchronize(stream) != cudaSuccess;
                if (!rc) {
                    row.max_ulp = check_rows(&c, h_logits, h_targets, 4);
                    row.pass = row.max_ulp >= 0 && row.max_ulp <= (c.dtype == ACTK_F32 ? 4 : 1);
                }
            }
            const double ms = rc ? -1 : median_ms(stream, reps, trials, call_ce, &c);
            const double copy_ms = rc ? -1 : median_ms(stream, reps, trials, call_copy, &copy);
            if (ms > 0 && copy_ms > 0) {
                row.ms = ms;
                row.gbps = (double)row.bytes / (ms * 1e-3) / 1e9;
                row.memcpy_gbps = (double)(2 * n * elem) / (copy_ms * 1e-3) / 1e9;
                row.pct_memcpy = 100.0 * row.gbps / row.memcpy_gbps;
                bench_print_row(&row, 1);
                bench_add(results, &row);
            } else {
                fprintf(stderr, "bench_gpu: cross_entropy %s %zux%zu failed: %s\n", row.dtype, c.rows, c.classes,
                        actk_last_error());
            }
            cudaFree(c.logits);
            cudaFree(c.targets);
            cudaFree(c.workspace);
            cudaFree(c.loss);
            cudaFree(c.lse);
            cudaFree(copy.src);
            cudaFree(copy.dst);
            free(h_logits);
            free(h_targets);
            if (ms <= 0) return 1;
        }
    return 0;
}
