// SPDX-License-Identifier: MIT
/*
 * bench_gpu_cuda.c - bench_gpu's GPU mode (see bench_gpu.c for what it
 * measures and how). C with the CUDA runtime and, when found, cuDNN.
 */
#include "bench_common.h"
#include "bench_gated_bias_cuda.h"
#include "bench_quant_cuda.h"
#include "bench_softmax_options.h"

#include <cuda_runtime_api.h>
#ifdef BENCH_WITH_CUDNN
#include <cudnn.h>
#endif

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COPIES 32

typedef struct {
    cudaStream_t stream;
    cudaEvent_t start, stop;
    size_t l2_bytes;
    int reps, trials;
#ifdef BENCH_WITH_CUDNN
    cudnnHandle_t cudnn;
#endif
    /* memcpy bandwidth measured at each byte count */
    size_t memcpy_bytes[256];
    double memcpy_gbps[256];
    int memcpy_count;
} gpu;

/* `copies` device buffers of one role, rotated across calls. */
typedef struct {
    void *p[MAX_COPIES];
    int copies;
    size_t bytes;
} rotation;

static int rotation_alloc(rotation *r, size_t bytes, int copies, const void *host)
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

static void rotation_free(rotation *r)
{
    for (int c = 0; c < r->copies; ++c) cudaFree(r->p[c]);
    memset(r, 0, sizeof *r);
}

/* Enough copies that the calls of one trial sweep more than 3x L2. */
static int copies_for(const gpu *g, size_t bytes_per_call)
{
    if (bytes_per_call == 0) return 1;
    size_t c = (3 * g->l2_bytes + bytes_per_call - 1) / bytes_per_call;
    return c < 1 ? 1 : c > MAX_COPIES ? MAX_COPIES : (int)c;
}

typedef int (*enqueue_fn)(void *ctx, int copy);

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median over trials of the per-call time (ms), or -1 if a call failed. */
static double time_calls(gpu *g, enqueue_fn fn, void *ctx, int copies)
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
    gpu *g;
    rotation src, dst;
} memcpy_ctx;

static int enqueue_memcpy(void *ctx, int copy)
{
    memcpy_ctx *m = ctx;
    return cudaMemcpyAsync(m->dst.p[copy], m->src.p[copy], m->src.bytes, cudaMemcpyDeviceToDevice, m->g->stream) != cudaSuccess;
}

/* GB/s of a device-to-device copy moving `bytes` in total (bytes/2 read,
 * bytes/2 written), measured once per byte count. */
static double memcpy_gbps(gpu *g, size_t bytes)
{
    for (int k = 0; k < g->memcpy_count; ++k)
        if (g->memcpy_bytes[k] == bytes) return g->memcpy_gbps[k];
    memcpy_ctx m = {g, {{0}, 0, 0}, {{0}, 0, 0}};
    const int copies = copies_for(g, bytes);
    double gbps = -1;
    if (rotation_alloc(&m.src, bytes / 2, copies, NULL) == 0 && rotation_alloc(&m.dst, bytes / 2, copies, NULL) == 0) {
        const double ms = time_calls(g, enqueue_memcpy, &m, copies);
        if (ms > 0) gbps = (double)(bytes / 2 * 2) / (ms * 1e-3) / 1e9;
    }
    rotation_free(&m.src);
    rotation_free(&m.dst);
    if (g->memcpy_count < 256) {
        g->memcpy_bytes[g->memcpy_count] = bytes;
        g->memcpy_gbps[g->memcpy_count++] = gbps;
    }
    return gbps;
}

static void finish_row(gpu *g, bench_row *row, double ms, double cudnn_ms)
{
    row->ms = ms;
    row->gbps = (double)row->bytes / (ms * 1e-3) / 1e9;
    row->memcpy_gbps = memcpy_gbps(g, row->bytes);
    row->pct_memcpy = row->memcpy_gbps > 0 ? 100.0 * row->gbps / row->memcpy_gbps : 0;
    row->cudnn_ms = cudnn_ms;
    row->speedup = cudnn_ms > 0 ? cudnn_ms / ms : 0;
}

static void init_row(bench_row *row, const char *family, const char *op, const char *dir, actk_dtype dtype, const char *shape,
                     size_t bytes)
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

/* ---- cuDNN -------------------------------------------------------------------- */

#ifdef BENCH_WITH_CUDNN
static int cudnn_dtype(actk_dtype dtype, cudnnDataType_t *out)
{
    switch (dtype) {
    case ACTK_F32: *out = CUDNN_DATA_FLOAT; return 1;
    case ACTK_F16: *out = CUDNN_DATA_HALF; return 1;
    case ACTK_BF16: *out = CUDNN_DATA_BFLOAT16; return 1;
    case ACTK_F64: *out = CUDNN_DATA_DOUBLE; return 1;
    case ACTK_DTYPE_MAX_ENUM: break;
    }
    return 0;
}

/* cuDNN's alpha = 1 and beta = 0, as double for f64 and float otherwise. */
static void cudnn_scalars(actk_dtype dtype, const void **one, const void **zero)
{
    static const double one_d = 1.0, zero_d = 0.0;
    static const float one_f = 1.0f, zero_f = 0.0f;
    *one = dtype == ACTK_F64 ? (const void *)&one_d : (const void *)&one_f;
    *zero = dtype == ACTK_F64 ? (const void *)&zero_d : (const void *)&zero_f;
}

/* A 4-D descriptor N x C x H x 1 (int dimensions). */
static cudnnTensorDescriptor_t cudnn_tensor(actk_dtype dtype, size_t n, size_t c, size_t h)
{
    cudnnDataType_t t;
    cudnnTensorDescriptor_t d = NULL;
    if (!cudnn_dtype(dtype, &t) || n > INT32_MAX || c > INT32_MAX || h > INT32_MAX) return NULL;
    if (cudnnCreateTensorDescriptor(&d) != CUDNN_STATUS_SUCCESS) return NULL;
    if (cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, t, (int)n, (int)c, (int)h, 1) != CUDNN_STATUS_SUCCESS) {
        cudnnDestroyTensorDescriptor(d);
        return NULL;
    }
    return d;
}
#endif

/* ---- element-wise rows --------------------------------------------------------- */

typedef struct {
    gpu *g;
    actk_act act;
    actk_dtype dtype;
    size_t n;
    int dir;
    rotation in0, in1, out;
#ifdef BENCH_WITH_CUDNN
    cudnnActivationDescriptor_t act_desc;
    cudnnTensorDescriptor_t tensor;
#endif
} eltwise_ctx;

static int enqueue_eltwise(void *ctx, int c)
{
    eltwise_ctx *e = ctx;
    actk_status s;
    if (e->dir == 0) s = actk_cuda_forward(e->act, e->dtype, e->n, e->in0.p[c], e->out.p[c], e->g->stream);
    else if (e->dir == 1) s = actk_cuda_backward(e->act, e->dtype, e->n, e->in0.p[c], e->in1.p[c], e->out.p[c], e->g->stream);
    else s = actk_cuda_backward_from_y(e->act, e->dtype, e->n, e->in0.p[c], e->in1.p[c], e->out.p[c], e->g->stream);
    if (s != ACTK_SUCCESS) fprintf(stderr, "bench_gpu: %s\n", actk_last_error());
    return s != ACTK_SUCCESS;
}

#ifdef BENCH_WITH_CUDNN
static int enqueue_cudnn_activation(void *ctx, int c)
{
    eltwise_ctx *e = ctx;
    const void *one, *zero;
    cudnn_scalars(e->dtype, &one, &zero);
    cudnnStatus_t s;
    if (e->dir == 0)
        s = cudnnActivationForward(e->g->cudnn, e->act_desc, one, e->tensor, e->in0.p[c], zero, e->tensor, e->out.p[c]);
    else /* cuDNN's backward reads y, dy and x: x stands in for y here */
        s = cudnnActivationBackward(e->g->cudnn, e->act_desc, one, e->tensor, e->in0.p[c], e->tensor, e->in1.p[c], e->tensor,
                                    e->in0.p[c], zero, e->tensor, e->out.p[c]);
    return s != CUDNN_STATUS_SUCCESS;
}

/* cuDNN's activation mode for an op, or 0 if it has none. */
static int cudnn_mode(actk_act act, cudnnActivationMode_t *mode, double *coef)
{
    *coef = 0;
    switch (act.op) {
    case ACTK_OP_RELU: *mode = CUDNN_ACTIVATION_RELU; return 1;
    case ACTK_OP_SIGMOID: *mode = CUDNN_ACTIVATION_SIGMOID; return 1;
    case ACTK_OP_TANH: *mode = CUDNN_ACTIVATION_TANH; return 1;
    case ACTK_OP_ELU: *mode = CUDNN_ACTIVATION_ELU; *coef = act.alpha; return 1;
    case ACTK_OP_RELU6: *mode = CUDNN_ACTIVATION_CLIPPED_RELU; *coef = 6; return 1;
    case ACTK_OP_SILU: *mode = CUDNN_ACTIVATION_SWISH; *coef = act.alpha; return 1;
    case ACTK_OP_IDENTITY: *mode = CUDNN_ACTIVATION_IDENTITY; return 1;
    default: return 0;
    }
}
#endif

/* Element indices checked against the CPU: all of them up to `limit`, else
 * an even spread plus the last elements. Returns the count. */
static size_t sample_indices(size_t n, size_t limit, size_t **out)
{
    const size_t count = n <= limit ? n : limit;
    size_t *idx = malloc(count * sizeof *idx);
    if (!idx) return 0;
    if (count == n) {
        for (size_t i = 0; i < n; ++i) idx[i] = i;
    } else {
        const size_t tail = count / 16, spread = count - tail, stride = (n - tail) / spread;
        for (size_t k = 0; k < spread; ++k) idx[k] = k * stride + (k * 7919) % (stride ? stride : 1);
        for (size_t k = 0; k < tail; ++k) idx[spread + k] = n - tail + k;
    }
    *out = idx;
    return count;
}

static void check_eltwise(eltwise_ctx *e, const void *h_in0, const void *h_in1, bench_row *row, size_t sample_limit)
{
    const size_t elem = actk_dtype_size(e->dtype);
    /* run once on copy 0, whose inputs are the host arrays */
    if (enqueue_eltwise(e, 0) != 0 || cudaStreamSynchronize(e->g->stream) != cudaSuccess) { row->pass = 0; return; }
    void *got = malloc(e->n * elem);
    size_t *idx = NULL;
    const size_t m = sample_indices(e->n, sample_limit, &idx);
    void *a = malloc(m * elem), *b = malloc(m * elem), *want = malloc(m * elem);
    if (!got || !idx || !a || !b || !want || cudaMemcpy(got, e->out.p[0], e->n * elem, cudaMemcpyDeviceToHost) != cudaSuccess) {
        row->pass = 0;
    } else {
        for (size_t k = 0; k < m; ++k) {
            bench_store(e->dtype, a, k, bench_load(e->dtype, h_in0, idx[k]));
            bench_store(e->dtype, b, k, bench_load(e->dtype, h_in1, idx[k]));
        }
        actk_status s = e->dir == 0 ? actk_cpu_forward(e->act, e->dtype, m, a, want)
                      : e->dir == 1 ? actk_cpu_backward(e->act, e->dtype, m, a, b, want)
                                    : actk_cpu_backward_from_y(e->act, e->dtype, m, a, b, want);
        double worst = 0;
        for (size_t k = 0; s == ACTK_SUCCESS && k < m; ++k) {
            const double u = bench_ulp(e->dtype, bench_load(e->dtype, got, idx[k]), bench_load(e->dtype, want, k));
            if (u > worst) worst = u;
        }
        row->max_ulp = s == ACTK_SUCCESS ? worst : INFINITY;
        row->pass = row->max_ulp <= bench_ulp_bound(e->dtype, e->dir == 0);
    }
    free(got); free(idx); free(a); free(b); free(want);
}

static int bench_eltwise(gpu *g, const bench_options *o, bench_results *results)
{
    for (int t = 0; t < o->n_dtypes; ++t) {
        const actk_dtype dtype = o->dtypes[t];
        const size_t elem = actk_dtype_size(dtype);
        for (int s = 0; s < o->n_sizes; ++s) {
            const size_t n = o->sizes[s];
            void *h_x = bench_random(dtype, n, -8, 8, 11 + s), *h_dy = bench_random(dtype, n, -2, 2, 12 + s);
            if (!h_x || !h_dy) return -1;
            char shape[48];
            snprintf(shape, sizeof shape, "%zu", n);
            for (int op = 0; op < ACTK_OP_COUNT; ++op) {
                if (!bench_selected(o, actk_op_name((actk_op)op))) continue;
                for (int dir = 0; dir < 3; ++dir) {
                    eltwise_ctx e;
                    memset(&e, 0, sizeof e);
                    e.g = g;
                    e.act = actk_act_default((actk_op)op);
                    e.dtype = dtype;
                    e.n = n;
                    e.dir = dir;
                    if (dir == 2 && !actk_op_has_backward_from_y(e.act.op)) continue;
                    const size_t bytes = n * elem * (dir == 0 ? 2 : 3);
                    const int copies = copies_for(g, bytes);
                    if (rotation_alloc(&e.in0, n * elem, copies, h_x) || rotation_alloc(&e.in1, n * elem, dir ? copies : 0, h_dy) ||
                        rotation_alloc(&e.out, n * elem, copies, NULL)) {
                        fprintf(stderr, "bench_gpu: out of device memory at n = %zu\n", n);
                        return -1;
                    }
                    bench_row row;
                    init_row(&row, "eltwise", actk_op_name(e.act.op), dir == 0 ? "forward" : dir == 1 ? "backward" : "from_y",
                             dtype, shape, bytes);
                    const double ms = time_calls(g, enqueue_eltwise, &e, copies);
                    if (ms < 0) return -1;
                    double cudnn_ms = -1;
#ifdef BENCH_WITH_CUDNN
                    cudnnActivationMode_t mode;
                    double coef;
                    if (dir < 2 && cudnn_mode(e.act, &mode, &coef) && n % 1024 == 0 &&
                        (e.tensor = cudnn_tensor(dtype, 1, n / 1024, 1024)) != NULL) {
                        cudnnCreateActivationDescriptor(&e.act_desc);
                        cudnnSetActivationDescriptor(e.act_desc, mode, CUDNN_PROPAGATE_NAN, coef);
                        if (mode == CUDNN_ACTIVATION_SWISH) cudnnSetActivationDescriptorSwishBeta(e.act_desc, coef);
                        if (enqueue_cudnn_activation(&e, 0) == 0) cudnn_ms = time_calls(g, enqueue_cudnn_activation, &e, copies);
                        cudaGetLastError();
                        cudnnDestroyActivationDescriptor(e.act_desc);
                        cudnnDestroyTensorDescriptor(e.tensor);
                    }
#endif
                    finish_row(g, &row, ms, cudnn_ms);
                    if (o->check) check_eltwise(&e, h_x, h_dy, &row, o->quick ? ((size_t)1 << 16) : ((size_t)1 << 20));
                    bench_add(results, &row);
                    bench_print_row(&row, 1);
                    rotation_free(&e.in0);
                    rotation_free(&e.in1);
                    rotation_free(&e.out);
                }
            }
            free(h_x);
            free(h_dy);
        }
    }
    return 0;
}

/* ---- softmax rows ---------------------------------------------------------------- */

typedef struct {
    gpu *g;
    actk_softmax_kind kind;
    actk_dtype dtype;
    size_t outer, dim, inner;
    int backward;
    rotation in0, in1, out;
#ifdef BENCH_WITH_CUDNN
    cudnnTensorDescriptor_t tensor;
#endif
} softmax_ctx;

static int enqueue_softmax(void *ctx, int c)
{
    softmax_ctx *s = ctx;
    const actk_status st = s->backward
        ? actk_cuda_softmax_backward(s->kind, s->dtype, s->outer, s->dim, s->inner, s->in0.p[c], s->in1.p[c], s->out.p[c], s->g->stream)
        : actk_cuda_softmax_forward(s->kind, s->dtype, s->outer, s->dim, s->inner, s->in0.p[c], s->out.p[c], s->g->stream);
    if (st != ACTK_SUCCESS) fprintf(stderr, "bench_gpu: %s\n", actk_last_error());
    return st != ACTK_SUCCESS;
}

#ifdef BENCH_WITH_CUDNN
static int enqueue_cudnn_softmax(void *ctx, int c)
{
    softmax_ctx *s = ctx;
    const void *one, *zero;
    cudnn_scalars(s->dtype, &one, &zero);
    const cudnnSoftmaxAlgorithm_t algo = s->kind == ACTK_LOG_SOFTMAX ? CUDNN_SOFTMAX_LOG : CUDNN_SOFTMAX_ACCURATE;
    const cudnnStatus_t st = s->backward
        ? cudnnSoftmaxBackward(s->g->cudnn, algo, CUDNN_SOFTMAX_MODE_CHANNEL, one, s->tensor, s->in0.p[c], s->tensor, s->in1.p[c], zero, s->tensor, s->out.p[c])
        : cudnnSoftmaxForward(s->g->cudnn, algo, CUDNN_SOFTMAX_MODE_CHANNEL, one, s->tensor, s->in0.p[c], zero, s->tensor, s->out.p[c]);
    return st != CUDNN_STATUS_SUCCESS;
}
#endif

/* Checks a spread of whole (outer) slices against the CPU reference. */
static void check_softmax(softmax_ctx *s, const void *h_in0, const void *h_in1, bench_row *row, size_t sample_limit)
{
    const size_t elem = actk_dtype_size(s->dtype), slice = s->dim * s->inner, n = s->outer * slice;
    if (enqueue_softmax(s, 0) != 0 || cudaStreamSynchronize(s->g->stream) != cudaSuccess) { row->pass = 0; return; }
    void *got = malloc(n * elem), *want = malloc(slice * elem);
    if (!got || !want || cudaMemcpy(got, s->out.p[0], n * elem, cudaMemcpyDeviceToHost) != cudaSuccess) { row->pass = 0; free(got); free(want); return; }
    size_t slices = sample_limit / slice;
    if (slices < 1) slices = 1;
    if (slices > s->outer) slices = s->outer;
    const double bound = s->dtype == ACTK_F32 ? 4 : s->dtype == ACTK_F64 ? 8 : (s->backward ? 2 : 1);
    const double eps = s->dtype == ACTK_F32 ? 0x1p-24 : s->dtype == ACTK_F16 ? 0x1p-11 : s->dtype == ACTK_BF16 ? 0x1p-8 : 0x1p-53;
    double worst = 0;
    int pass = 1;
    for (size_t k = 0; k < slices; ++k) {
        const size_t o = slices == 1 ? 0 : k * (s->outer - 1) / (slices - 1);
        const unsigned char *a = (const unsigned char *)h_in0 + o * slice * elem, *b = (const unsigned char *)h_in1 + o * slice * elem;
        const actk_status st = s->backward ? actk_cpu_softmax_backward(s->kind, s->dtype, 1, s->dim, s->inner, a, b, want)
                                           : actk_cpu_softmax_forward(s->kind, s->dtype, 1, s->dim, s->inner, a, want);
        if (st != ACTK_SUCCESS) { pass = 0; break; }
        for (size_t i = 0; i < s->inner; ++i) {
            long double terms = 0; /* the row's sum scale, for the backward's cancellation allowance */
            for (size_t d = 0; s->backward && d < s->dim; ++d) {
                const size_t j = d * s->inner + i;
                terms += s->kind == ACTK_SOFTMAX ? fabsl(bench_load(s->dtype, b, j) * bench_load(s->dtype, a, j)) : fabsl(bench_load(s->dtype, b, j));
            }
            for (size_t d = 0; d < s->dim; ++d) {
                const size_t j = d * s->inner + i;
                const long double g = bench_load(s->dtype, got, o * slice + j), w = bench_load(s->dtype, want, j);
                const double u = bench_ulp(s->dtype, g, w);
                if (u > worst) worst = u;
                if (u <= bound) continue;
                if (s->backward) {
                    const long double yv = bench_load(s->dtype, a, j), dyv = bench_load(s->dtype, b, j);
                    const long double scale = s->kind == ACTK_SOFTMAX ? fabsl(yv) * (fabsl(dyv) + terms) : fabsl(dyv) + expl(yv) * terms;
                    if (fabsl(g - w) <= 4 * eps * scale) continue;
                }
                pass = 0;
            }
        }
    }
    row->max_ulp = worst;
    row->pass = pass;
    free(got);
    free(want);
}

static int bench_softmax(gpu *g, const bench_options *o, bench_results *results)
{
    for (int kind = 0; kind < 2; ++kind) {
        if (!bench_selected(o, kind ? "log_softmax" : "softmax")) continue;
        for (int t = 0; t < o->n_dtypes; ++t) {
            const actk_dtype dtype = o->dtypes[t];
            const size_t elem = actk_dtype_size(dtype);
            for (int sh = 0; sh < o->n_shapes; ++sh) {
                softmax_ctx s;
                memset(&s, 0, sizeof s);
                s.g = g;
                s.kind = (actk_softmax_kind)kind;
                s.dtype = dtype;
                s.outer = o->shapes[sh][0];
                s.dim = o->shapes[sh][1];
                s.inner = o->shapes[sh][2];
                const size_t n = s.outer * s.dim * s.inner;
                char shape[48];
                if (s.inner > 1) snprintf(shape, sizeof shape, "%zux%zux%zu", s.outer, s.dim, s.inner);
                else snprintf(shape, sizeof shape, "%zux%zu", s.outer, s.dim);
                void *h_x = bench_random(dtype, n, -10, 10, 21 + sh), *h_dy = bench_random(dtype, n, -1, 1, 22 + sh);
                void *h_y = malloc(n * elem);
                if (!h_x || !h_dy || !h_y) return -1;
                for (int backward = 0; backward < 2; ++backward) {
                    s.backward = backward;
                    const size_t bytes = n * elem * (backward ? 3 : 2);
                    const int copies = copies_for(g, bytes);
                    /* the backward's y: the GPU forward output of x (computed on copy 0 below) */
                    const void *in0_host = backward ? h_y : h_x;
                    if (rotation_alloc(&s.in0, n * elem, copies, in0_host) || rotation_alloc(&s.in1, n * elem, backward ? copies : 0, h_dy) ||
                        rotation_alloc(&s.out, n * elem, copies, NULL)) {
                        fprintf(stderr, "bench_gpu: out of device memory at %s\n", shape);
                        return -1;
                    }
                    bench_row row;
                    init_row(&row, "softmax", kind ? "log_softmax" : "softmax", backward ? "backward" : "forward", dtype, shape, bytes);
                    const double ms = time_calls(g, enqueue_softmax, &s, copies);
                    if (ms < 0) return -1;
                    double cudnn_ms = -1;
#ifdef BENCH_WITH_CUDNN
                    if ((s.tensor = cudnn_tensor(dtype, s.outer, s.dim, s.inner)) != NULL) {
                        if (enqueue_cudnn_softmax(&s, 0) == 0) cudnn_ms = time_calls(g, enqueue_cudnn_softmax, &s, copies);
                        cudaGetLastError();
                        cudnnDestroyTensorDescriptor(s.tensor);
                    }
#endif
                    finish_row(g, &row, ms, cudnn_ms);
                    if (o->check) check_softmax(&s, in0_host, h_dy, &row, o->quick ? ((size_t)1 << 20) : ((size_t)1 << 22));
                    if (!backward) /* keep y = softmax(x) for the backward rows */
                        cudaMemcpy(h_y, s.out.p[0], n * elem, cudaMemcpyDeviceToHost);
                    bench_add(results, &row);
                    bench_print_row(&row, 1);
                    rotation_free(&s.in0);
                    rotation_free(&s.in1);
                    rotation_free(&s.out);
                }
                free(h_x);
                free(h_dy);
                free(h_y);
            }
        }
    }
    return 0;
}

/* ---- PReLU, Maxout, RReLU rows ---------------------------------------------------- */

typedef struct {
    gpu *g;
    int which; /* 0 prelu, 1 maxout, 2 rrelu */
    int backward;
    actk_dtype dtype;
    size_t outer, dim, inner, pieces;
    actk_rrelu rrelu;
    rotation x, dy, out, slope, dslope, workspace;
} structured_ctx;

static int enqueue_structured(void *ctx, int c)
{
    structured_ctx *s = ctx;
    actk_status st = ACTK_SUCCESS;
    const size_t n = s->outer * s->dim * s->inner;
    switch (s->which) {
    case 0:
        st = s->backward ? actk_cuda_prelu_backward(s->dtype, s->outer, s->dim, s->inner, s->x.p[c], s->slope.p[0], s->dy.p[c], s->out.p[c],
                                                    s->dslope.p[0], s->workspace.p[0], s->workspace.bytes, s->g->stream)
                         : actk_cuda_prelu_forward(s->dtype, s->outer, s->dim, s->inner, s->x.p[c], s->slope.p[0], s->out.p[c], s->g->stream);
        break;
    case 1:
        st = s->backward ? actk_cuda_maxout_backward(s->dtype, s->outer, s->dim / s->pieces, s->pieces, s->inner, s->x.p[c], s->dy.p[c], s->out.p[c], s->g->stream)
                         : actk_cuda_maxout_forward(s->dtype, s->outer, s->dim / s->pieces, s->pieces, s->inner, s->x.p[c], s->out.p[c], s->g->stream);
        break;
    default:
        st = s->backward ? actk_cuda_rrelu_backward(s->rrelu, s->dtype, n, s->x.p[c], s->dy.p[c], s->out.p[c], s->g->stream)
                         : actk_cuda_rrelu_forward(s->rrelu, s->dtype, n, s->x.p[c], s->out.p[c], s->g->stream);
    }
    if (st != ACTK_SUCCESS) fprintf(stderr, "bench_gpu: %s\n", actk_last_error());
    return st != ACTK_SUCCESS;
}

/* Agreement of the first outer slices (PReLU, Maxout) or a prefix (RReLU)
 * with the CPU path, which is run on the same data. */
static void check_structured(structured_ctx *s, const void *h_x, const void *h_dy, const void *h_slope, bench_row *row, size_t limit)
{
    const size_t elem = actk_dtype_size(s->dtype), slice = s->dim * s->inner;
    const size_t out_slice = s->which == 1 && !s->backward ? slice / s->pieces : slice;
    size_t slices = limit / slice;
    if (slices < 1) slices = 1;
    if (slices > s->outer) slices = s->outer;
    if (enqueue_structured(s, 0) != 0 || cudaStreamSynchronize(s->g->stream) != cudaSuccess) { row->pass = 0; return; }
    const size_t count = slices * out_slice;
    void *got = malloc(count * elem), *want = malloc(count * elem), *dslope = malloc(s->dim * elem);
    if (!got || !want || !dslope || cudaMemcpy(got, s->out.p[0], count * elem, cudaMemcpyDeviceToHost) != cudaSuccess) {
        row->pass = 0;
    } else {
        actk_status st;
        if (s->which == 0)
            st = s->backward ? actk_cpu_prelu_backward(s->dtype, slices, s->dim, s->inner, h_x, h_slope, h_dy, want, dslope)
                             : actk_cpu_prelu_forward(s->dtype, slices, s->dim, s->inner, h_x, h_slope, want);
        else if (s->which == 1)
            st = s->backward ? actk_cpu_maxout_backward(s->dtype, slices, s->dim / s->pieces, s->pieces, s->inner, h_x, h_dy, want)
                             : actk_cpu_maxout_forward(s->dtype, slices, s->dim / s->pieces, s->pieces, s->inner, h_x, want);
        else
            st = s->backward ? actk_cpu_rrelu_backward(s->rrelu, s->dtype, count, h_x, h_dy, want)
                             : actk_cpu_rrelu_forward(s->rrelu, s->dtype, count, h_x, want);
        double worst = 0;
        for (size_t k = 0; st == ACTK_SUCCESS && k < count; ++k) {
            const double u = bench_ulp(s->dtype, bench_load(s->dtype, got, k), bench_load(s->dtype, want, k));
            if (u > worst) worst = u;
        }
        row->max_ulp = st == ACTK_SUCCESS ? worst : INFINITY;
        row->pass = row->max_ulp <= 1; /* element-wise results: one rounding apart at most */
    }
    free(got);
    free(want);
    free(dslope);
}

static int bench_structured(gpu *g, const bench_options *o, bench_results *results)
{
    const char *names[3] = {"prelu", "maxout", "rrelu"};
    for (int which = 0; which < 3; ++which) {
        if (!bench_selected(o, names[which])) continue;
        for (int t = 0; t < o->n_dtypes; ++t) {
            const actk_dtype dtype = o->dtypes[t];
            const size_t elem = actk_dtype_size(dtype);
            for (int sh = 0; sh < o->n_shapes; ++sh) {
                structured_ctx s;
                memset(&s, 0, sizeof s);
                s.g = g;
                s.which = which;
                s.dtype = dtype;
                s.outer = o->shapes[sh][0];
                s.dim = o->shapes[sh][1];
                s.inner = o->shapes[sh][2];
                s.pieces = s.dim % 4 == 0 ? 4 : s.dim % 2 == 0 ? 2 : 1;
                s.rrelu = actk_rrelu_default();
                s.rrelu.seed = 1234;
                const size_t n = s.outer * s.dim * s.inner;
                if (which == 0 && s.dim > ((size_t)1 << 20)) continue; /* PReLU: channels, not rows of a million */
                char shape[48];
                if (s.inner > 1) snprintf(shape, sizeof shape, "%zux%zux%zu", s.outer, s.dim, s.inner);
                else snprintf(shape, sizeof shape, "%zux%zu", s.outer, s.dim);
                void *h_x = bench_random(dtype, n, -4, 4, 31 + sh), *h_dy = bench_random(dtype, n, -1, 1, 32 + sh);
                void *h_slope = bench_random(dtype, s.dim, 0.1, 0.3, 33);
                if (!h_x || !h_dy || !h_slope) return -1;
                for (int backward = 0; backward < 2; ++backward) {
                    s.backward = backward;
                    const size_t small = which == 1 ? n / s.pieces : n; /* maxout's y and dy */
                    size_t bytes;
                    if (which == 0) bytes = (backward ? 3 * n + 2 * s.dim : 2 * n + s.dim) * elem;
                    else if (which == 1) bytes = (backward ? 2 * n + small : n + small) * elem;
                    else bytes = (backward ? 3 : 2) * n * elem;
                    const int copies = copies_for(g, bytes);
                    const size_t ws = which == 0 && backward ? actk_cuda_prelu_backward_workspace_size(dtype, s.outer, s.dim, s.inner) : 0;
                    const size_t out_elems = which == 1 && !backward ? small : n;
                    if (rotation_alloc(&s.x, n * elem, copies, h_x) || rotation_alloc(&s.dy, small * elem, backward ? copies : 0, h_dy) ||
                        rotation_alloc(&s.out, out_elems * elem, copies, NULL) || rotation_alloc(&s.slope, s.dim * elem, 1, h_slope) ||
                        rotation_alloc(&s.dslope, s.dim * elem, 1, NULL) || rotation_alloc(&s.workspace, ws, ws ? 1 : 0, NULL)) {
                        fprintf(stderr, "bench_gpu: out of device memory at %s\n", shape);
                        return -1;
                    }
                    bench_row row;
                    init_row(&row, names[which], names[which], backward ? "backward" : "forward", dtype, shape, bytes);
                    const double ms = time_calls(g, enqueue_structured, &s, copies);
                    if (ms < 0) return -1;
                    finish_row(g, &row, ms, -1);
                    if (o->check) check_structured(&s, h_x, h_dy, h_slope, &row, (size_t)1 << 20);
                    bench_add(results, &row);
                    bench_print_row(&row, 1);
                    rotation_free(&s.x); rotation_free(&s.dy); rotation_free(&s.out);
                    rotation_free(&s.slope); rotation_free(&s.dslope); rotation_free(&s.workspace);
                }
                free(h_x);
                free(h_dy);
                free(h_slope);
            }
        }
    }
    return 0;
}

/* ---- gated activations (rows x cols outputs from rows x 2cols inputs) ------------- */

typedef struct {
    const char *name;
    actk_op op;
    int clamped;
    actk_gate_position gate;
    actk_gated_layout layout;
} gated_kind;

/* The names users know them by (README "Gated activations"). */
static const gated_kind gated_kinds[] = {
    {"swiglu", ACTK_OP_SILU, 0, ACTK_GATE_FIRST, ACTK_GATED_CONCAT},
    {"geglu", ACTK_OP_GELU, 0, ACTK_GATE_FIRST, ACTK_GATED_CONCAT},
    {"geglu_tanh", ACTK_OP_GELU_TANH, 0, ACTK_GATE_FIRST, ACTK_GATED_CONCAT},
    {"reglu", ACTK_OP_RELU, 0, ACTK_GATE_FIRST, ACTK_GATED_CONCAT},
    {"glu", ACTK_OP_SIGMOID, 0, ACTK_GATE_SECOND, ACTK_GATED_CONCAT},
    {"clamped_swiglu", ACTK_OP_SILU, 1, ACTK_GATE_FIRST, ACTK_GATED_INTERLEAVED},
};

typedef struct {
    gpu *g;
    const gated_kind *kind;
    int backward;
    actk_dtype dtype;
    size_t rows, cols;
    rotation x, dy, out;
} gated_ctx;

static actk_status gated_call(const gated_ctx *s, int cpu, size_t rows, const void *x, const void *dy, void *out)
{
    const actk_act act = actk_act_default(s->kind->op);
    const size_t c = s->cols, w = 2 * s->cols;
    const float a = ACTK_CLAMPED_SWIGLU_ALPHA, l = ACTK_CLAMPED_SWIGLU_LIMIT;
    const actk_gated_layout L = s->kind->layout;
    const actk_gate_position G = s->kind->gate;
    if (s->kind->clamped) {
        if (cpu)
            return s->backward ? actk_cpu_clamped_swiglu_backward(a, l, L, G, s->dtype, rows, c, x, w, dy, c, out, w)
                               : actk_cpu_clamped_swiglu_forward(a, l, L, G, s->dtype, rows, c, x, w, out, c);
        return s->backward ? actk_cuda_clamped_swiglu_backward(a, l, L, G, s->dtype, rows, c, x, w, dy, c, out, w, s->g->stream)
                           : actk_cuda_clamped_swiglu_forward(a, l, L, G, s->dtype, rows, c, x, w, out, c, s->g->stream);
    }
    if (cpu)
        return s->backward ? actk_cpu_gated_backward(act, L, G, s->dtype, rows, c, x, w, dy, c, out, w)
                           : actk_cpu_gated_forward(act, L, G, s->dtype, rows, c, x, w, out, c);
    return s->backward ? actk_cuda_gated_backward(act, L, G, s->dtype, rows, c, x, w, dy, c, out, w, s->g->stream)
                       : actk_cuda_gated_forward(act, L, G, s->dtype, rows, c, x, w, out, c, s->g->stream);
}

static int enqueue_gated(void *ctx, int c)
{
    gated_ctx *s = ctx;
    const actk_status st = gated_call(s, 0, s->rows, s->x.p[c], s->backward ? s->dy.p[c] : NULL, s->out.p[c]);
    if (st != ACTK_SUCCESS) fprintf(stderr, "bench_gpu: %s\n", actk_last_error());
    return st != ACTK_SUCCESS;
}

/* The first rows against the CPU oracle on the same data; bound: the
 * element-wise one (f16/bf16 1 ULP, f32 2/4, f64 4/8 + 1). The oracle's
 * allowances (README "Gated") do not arise on these moderate inputs. */
static void check_gated(gated_ctx *s, const void *h_x, const void *h_dy, bench_row *row, size_t limit)
{
    const size_t elem = actk_dtype_size(s->dtype), out_w = s->backward ? 2 * s->cols : s->cols;
    size_t rows = limit / (2 * s->cols);
    if (rows < 1) rows = 1;
    if (rows > s->rows) rows = s->rows;
    if (enqueue_gated(s, 0) != 0 || cudaStreamSynchronize(s->g->stream) != cudaSuccess) { row->pass = 0; return; }
    const size_t count = rows * out_w;
    void *got = malloc(count * elem), *want = malloc(count * elem);
    if (!got || !want || cudaMemcpy(got, s->out.p[0], count * elem, cudaMemcpyDeviceToHost) != cudaSuccess) {
        row->pass = 0;
    } else {
        const actk_status st = gated_call(s, 1, rows, h_x, h_dy, want);
        double worst = 0;
        for (size_t k = 0; st == ACTK_SUCCESS && k < count; ++k) {
            const double u = bench_ulp(s->dtype, bench_load(s->dtype, got, k), bench_load(s->dtype, want, k));
            if (u > worst) worst = u;
        }
        const double bound = s->dtype == ACTK_F16 || s->dtype == ACTK_BF16 ? 1 : s->dtype == ACTK_F32 ? (s->backward ? 4 : 2)
                                                                                                   : (s->backward ? 9 : 5);
        row->max_ulp = st == ACTK_SUCCESS ? worst : INFINITY;
        row->pass = row->max_ulp <= bound;
    }
    free(got);
    free(want);
}

/* Shapes: --shapes outer x dim gives rows = outer and cols = dim (x inner). */
static int bench_gated(gpu *g, const bench_options *o, bench_results *results)
{
    for (size_t k = 0; k < sizeof gated_kinds / sizeof gated_kinds[0]; ++k) {
        if (!bench_selected(o, gated_kinds[k].name)) continue;
        for (int t = 0; t < o->n_dtypes; ++t) {
            const actk_dtype dtype = o->dtypes[t];
            const size_t elem = actk_dtype_size(dtype);
            for (int sh = 0; sh < o->n_shapes; ++sh) {
                gated_ctx s;
                memset(&s, 0, sizeof s);
                s.g = g;
                s.kind = &gated_kinds[k];
                s.dtype = dtype;
                s.rows = o->shapes[sh][0];
                s.cols = o->shapes[sh][1] * (o->shapes[sh][2] ? o->shapes[sh][2] : 1);
                const size_t n = s.rows * s.cols;
                char shape[48];
                snprintf(shape, sizeof shape, "%zux%zu", s.rows, s.cols);
                void *h_x = bench_random(dtype, 2 * n, -4, 4, 41 + sh), *h_dy = bench_random(dtype, n, -1, 1, 42 + sh);
                if (!h_x || !h_dy) return -1;
                for (int backward = 0; backward < 2; ++backward) {
                    s.backward = backward;
                    const size_t bytes = (backward ? 5 : 3) * n * elem; /* gate, up (, dy) in; y or dgate, dup out */
                    const int copies = copies_for(g, bytes);
                    if (rotation_alloc(&s.x, 2 * n * elem, copies, h_x) || rotation_alloc(&s.dy, n * elem, backward ? copies : 0, h_dy) ||
                        rotation_alloc(&s.out, (backward ? 2 : 1) * n * elem, copies, NULL)) {
                        fprintf(stderr, "bench_gpu: out of device memory at %s\n", shape);
                        return -1;
                    }
                    bench_row row;
                    init_row(&row, "gated", gated_kinds[k].name, backward ? "backward" : "forward", dtype, shape, bytes);
                    row.elements = n;
                    const double ms = time_calls(g, enqueue_gated, &s, copies);
                    if (ms < 0) return -1;
                    finish_row(g, &row, ms, -1);
                    if (o->check) check_gated(&s, h_x, h_dy, &row, (size_t)1 << 20);
                    bench_add(results, &row);
                    bench_print_row(&row, 1);
                    rotation_free(&s.x);
                    rotation_free(&s.dy);
                    rotation_free(&s.out);
                }
                free(h_x);
                free(h_dy);
            }
        }
    }
    return 0;
}

/* ---- what the feature benches in their own files borrow ------------------------ */

static double lend_time_calls(void *g, bench_enqueue_fn fn, void *ctx, int copies) { return time_calls(g, fn, ctx, copies); }
static double lend_memcpy_gbps(void *g, size_t bytes) { return memcpy_gbps(g, bytes); }

static bench_gpu_services services_of(gpu *g)
{
    const bench_gpu_services svc = {g, g->stream, g->l2_bytes, lend_time_calls, lend_memcpy_gbps};
    return svc;
}

/* ---- host overhead and graphs ---------------------------------------------------- */

static void bench_overhead(gpu *g)
{
    const size_t small_sizes[3] = {4096, 65536, 1 << 20};
    void *x = NULL, *y = NULL;
    if (cudaMalloc(&x, (1 << 20) * 4) != cudaSuccess || cudaMalloc(&y, (1 << 20) * 4) != cudaSuccess) return;
    cudaMemset(x, 0x3c, (1 << 20) * 4); /* 0x3c3c3c3c: ~0.0115, not zero */
    const actk_act relu = actk_act_default(ACTK_OP_RELU);
    printf("\nhost overhead and small sizes (relu, f32)\n");
    /* host time per asynchronous call */
    cudaStreamSynchronize(g->stream);
    const int calls = 10000;
    double t0 = bench_now();
    for (int k = 0; k < calls; ++k) actk_cuda_forward(relu, ACTK_F32, 4096, x, y, g->stream);
    const double host_us = (bench_now() - t0) / calls * 1e6;
    cudaStreamSynchronize(g->stream);
    printf("  host time per actk_cuda_forward call (n = 4096, %d async launches): %.2f us (target <= 2 us)\n", calls, host_us);
    for (int k = 0; k < 3; ++k) {
        const int reps = 1000;
        cudaEventRecord(g->start, g->stream);
        for (int r = 0; r < reps; ++r) actk_cuda_forward(relu, ACTK_F32, small_sizes[k], x, y, g->stream);
        cudaEventRecord(g->stop, g->stream);
        cudaEventSynchronize(g->stop);
        float ms = 0;
        cudaEventElapsedTime(&ms, g->start, g->stop);
        /* the same calls captured once in a graph */
        cudaGraph_t graph;
        cudaGraphExec_t exec;
        float graph_ms = -1;
        if (cudaStreamBeginCapture(g->stream, cudaStreamCaptureModeThreadLocal) == cudaSuccess) {
            for (int r = 0; r < reps; ++r) actk_cuda_forward(relu, ACTK_F32, small_sizes[k], x, y, g->stream);
            if (cudaStreamEndCapture(g->stream, &graph) == cudaSuccess && cudaGraphInstantiate(&exec, graph, 0) == cudaSuccess) {
                cudaGraphLaunch(exec, g->stream); /* warm-up */
                cudaEventRecord(g->start, g->stream);
                cudaGraphLaunch(exec, g->stream);
                cudaEventRecord(g->stop, g->stream);
                cudaEventSynchronize(g->stop);
                cudaEventElapsedTime(&graph_ms, g->start, g->stop);
                cudaGraphExecDestroy(exec);
                cudaGraphDestroy(graph);
            }
        }
        cudaGetLastError();
        printf("  n = %8zu: %.2f us per call back-to-back, %.2f us per call inside a CUDA graph\n", small_sizes[k], ms * 1e3 / reps,
               graph_ms >= 0 ? graph_ms * 1e3 / reps : -1.0);
    }
    cudaFree(x);
    cudaFree(y);
}

/* Adapters handing this file's helpers to the FP8 rows (bench_quant_cuda.c). */
static double hook_time_calls(void *g, int (*fn)(void *, int), void *ctx, int copies) { return time_calls(g, fn, ctx, copies); }
static int hook_copies_for(void *g, size_t bytes) { return copies_for(g, bytes); }
static void hook_finish_row(void *g, bench_row *row, double ms) { finish_row(g, row, ms, -1); }
/* bench_softmax_options_rows' view of memcpy_gbps */
static double memcpy_gbps_of(void *g, size_t bytes) { return memcpy_gbps((gpu *)g, bytes); }
/* bench_cross_entropy_cuda.c */
int bench_cross_entropy_gpu(const bench_options *o, bench_results *results, void *stream, int reps, int trials);

int bench_run_gpu_mode(const bench_options *o, bench_results *results, char *device, size_t device_size)
{
    gpu g;
    memset(&g, 0, sizeof g);
    g.reps = o->reps;
    g.trials = o->trials;
    int dev = 0, l2 = 0;
    struct cudaDeviceProp prop;
    if (cudaGetDevice(&dev) != cudaSuccess || cudaGetDeviceProperties(&prop, dev) != cudaSuccess) {
        fprintf(stderr, "bench_gpu: cannot query the CUDA device\n");
        return 1;
    }
    cudaDeviceGetAttribute(&l2, cudaDevAttrL2CacheSize, dev);
    g.l2_bytes = (size_t)l2;
    snprintf(device, device_size, "%s", prop.name);
    if (cudaStreamCreateWithFlags(&g.stream, cudaStreamNonBlocking) != cudaSuccess || cudaEventCreate(&g.start) != cudaSuccess ||
        cudaEventCreate(&g.stop) != cudaSuccess)
        return 1;
#ifdef BENCH_WITH_CUDNN
    if (cudnnCreate(&g.cudnn) != CUDNN_STATUS_SUCCESS || cudnnSetStream(g.cudnn, g.stream) != CUDNN_STATUS_SUCCESS) {
        fprintf(stderr, "bench_gpu: cuDNN unavailable; its columns stay empty\n");
        g.cudnn = NULL;
    }
    printf("device: %s, %d SMs, L2 %d MiB, cuDNN %zu\n", prop.name, prop.multiProcessorCount, l2 >> 20, (size_t)cudnnGetVersion());
#else
    printf("device: %s, %d SMs, L2 %d MiB (built without cuDNN)\n", prop.name, prop.multiProcessorCount, l2 >> 20);
#endif
    printf("time: median of %d trials x %d back-to-back calls; %%memcpy: our GB/s over cudaMemcpyAsync D2D at the same bytes\n\n",
           g.trials, g.reps);
    bench_print_header(1);
    int rc = bench_eltwise(&g, o, results);
    if (rc == 0) rc = bench_softmax(&g, o, results);
    if (rc == 0) rc = bench_structured(&g, o, results);
    if (rc == 0) rc = bench_gated(&g, o, results);
    if (rc == 0) {
        const bench_gpu_services svc = services_of(&g);
        rc = bench_gated_bias(&svc, o, results);
    }
    const bench_gpu_hooks hooks = {&g, g.stream, hook_time_calls, hook_copies_for, hook_finish_row, init_row};
    if (rc == 0) rc = bench_quant(&hooks, o, results);
    if (rc == 0) rc = bench_softmax_options_rows(o, results, g.stream, memcpy_gbps_of, &g);
    if (rc == 0) rc = bench_cross_entropy_gpu(o, results, g.stream, g.reps, g.trials);
    if (rc == 0) bench_overhead(&g);
#ifdef BENCH_WITH_CUDNN
    if (g.cudnn) cudnnDestroy(g.cudnn);
#endif
    cudaEventDestroy(g.start);
    cudaEventDestroy(g.stop);
    cudaStreamDestroy(g.stream);
    return rc == 0 ? 0 : 1;
}
