// SPDX-License-Identifier: MIT
/*
 * bench_cudnn_cuda.c - bench_gpu's cuDNN baseline: the same activation and
 * softmax calls through cuDNN on the same buffers, timed with the same timer.
 * Built without BENCH_WITH_CUDNN (no cuDNN found), every time is -1 and the
 * rows' cuDNN columns stay null; this is the only file that sees cudnn.h.
 */
#include "bench_gpu_cuda.h"

#ifdef BENCH_WITH_CUDNN
#include <cudnn.h>
#endif

#include <stdint.h>
#include <stdio.h>
#include <string.h>

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

/* One cuDNN call on the rotating buffers of a row. */
typedef struct {
    cudnnHandle_t handle;
    actk_dtype dtype;
    int backward;
    const bench_rotation *in0, *in1, *out;
    cudnnTensorDescriptor_t tensor;
    cudnnActivationDescriptor_t act_desc; /* activation only */
    cudnnSoftmaxAlgorithm_t algo;         /* softmax only */
} cudnn_call;

static int enqueue_cudnn_activation(void *ctx, int c)
{
    const cudnn_call *e = ctx;
    const void *one, *zero;
    cudnn_scalars(e->dtype, &one, &zero);
    cudnnStatus_t s;
    if (!e->backward)
        s = cudnnActivationForward(e->handle, e->act_desc, one, e->tensor, e->in0->p[c], zero, e->tensor, e->out->p[c]);
    else /* cuDNN's backward reads y, dy and x: x stands in for y here */
        s = cudnnActivationBackward(e->handle, e->act_desc, one, e->tensor, e->in0->p[c], e->tensor, e->in1->p[c],
                                    e->tensor, e->in0->p[c], zero, e->tensor, e->out->p[c]);
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

static int enqueue_cudnn_softmax(void *ctx, int c)
{
    const cudnn_call *s = ctx;
    const void *one, *zero;
    cudnn_scalars(s->dtype, &one, &zero);
    const cudnnStatus_t st = s->backward
        ? cudnnSoftmaxBackward(s->handle, s->algo, CUDNN_SOFTMAX_MODE_CHANNEL, one, s->tensor, s->in0->p[c], s->tensor,
                               s->in1->p[c], zero, s->tensor, s->out->p[c])
        : cudnnSoftmaxForward(s->handle, s->algo, CUDNN_SOFTMAX_MODE_CHANNEL, one, s->tensor, s->in0->p[c], zero,
                              s->tensor, s->out->p[c]);
    return st != CUDNN_STATUS_SUCCESS;
}

void bench_cudnn_open(bench_gpu *g, const struct cudaDeviceProp *prop, int l2_bytes)
{
    cudnnHandle_t handle = NULL;
    if (cudnnCreate(&handle) != CUDNN_STATUS_SUCCESS || cudnnSetStream(handle, g->stream) != CUDNN_STATUS_SUCCESS) {
        fprintf(stderr, "bench_gpu: cuDNN unavailable; its columns stay empty\n");
        handle = NULL;
    }
    g->cudnn = handle;
    printf("device: %s, %d SMs, L2 %d MiB, cuDNN %zu\n", prop->name, prop->multiProcessorCount, l2_bytes >> 20,
           (size_t)cudnnGetVersion());
}

void bench_cudnn_close(bench_gpu *g)
{
    if (g->cudnn) cudnnDestroy((cudnnHandle_t)g->cudnn);
    g->cudnn = NULL;
}

double bench_cudnn_activation_ms(bench_gpu *g, actk_act act, actk_dtype dtype, size_t n, actk_direction dir,
                                 const bench_rotation *in0, const bench_rotation *in1, const bench_rotation *out,
                                 int copies)
{
    cudnnActivationMode_t mode;
    double coef, ms = -1;
    cudnn_call e = {(cudnnHandle_t)g->cudnn, dtype, dir == ACTK_DIR_BACKWARD, in0, in1, out, NULL, NULL,
                    CUDNN_SOFTMAX_ACCURATE};
    if (g->cudnn && dir != ACTK_DIR_BACKWARD_FROM_Y && cudnn_mode(act, &mode, &coef) && n % 1024 == 0 &&
        (e.tensor = cudnn_tensor(dtype, 1, n / 1024, 1024)) != NULL) {
        cudnnCreateActivationDescriptor(&e.act_desc);
        cudnnSetActivationDescriptor(e.act_desc, mode, CUDNN_PROPAGATE_NAN, coef);
        if (mode == CUDNN_ACTIVATION_SWISH) cudnnSetActivationDescriptorSwishBeta(e.act_desc, coef);
        if (enqueue_cudnn_activation(&e, 0) == 0) ms = bench_time_calls(g, enqueue_cudnn_activation, &e, copies);
        cudaGetLastError();
        cudnnDestroyActivationDescriptor(e.act_desc);
        cudnnDestroyTensorDescriptor(e.tensor);
    }
    return ms;
}

double bench_cudnn_softmax_ms(bench_gpu *g, actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim,
                              size_t inner, int backward, const bench_rotation *in0, const bench_rotation *in1,
                              const bench_rotation *out, int copies)
{
    double ms = -1;
    cudnn_call s = {(cudnnHandle_t)g->cudnn, dtype, backward, in0, in1, out, NULL, NULL,
                    kind == ACTK_LOG_SOFTMAX ? CUDNN_SOFTMAX_LOG : CUDNN_SOFTMAX_ACCURATE};
    if (g->cudnn && (s.tensor = cudnn_tensor(dtype, outer, dim, inner)) != NULL) {
        if (enqueue_cudnn_softmax(&s, 0) == 0) ms = bench_time_calls(g, enqueue_cudnn_softmax, &s, copies);
        cudaGetLastError();
        cudnnDestroyTensorDescriptor(s.tensor);
    }
    return ms;
}

#else /* built without cuDNN */

void bench_cudnn_open(bench_gpu *g, const struct cudaDeviceProp *prop, int l2_bytes)
{
    g->cudnn = NULL;
    printf("device: %s, %d SMs, L2 %d MiB (built without cuDNN)\n", prop->name, prop->multiProcessorCount,
           l2_bytes >> 20);
}

void bench_cudnn_close(bench_gpu *g) { g->cudnn = NULL; }

double bench_cudnn_activation_ms(bench_gpu *g, actk_act act, actk_dtype dtype, size_t n, actk_direction dir,
                                 const bench_rotation *in0, const bench_rotation *in1, const bench_rotation *out,
                                 int copies)
{
    (void)g, (void)act, (void)dtype, (void)n, (void)dir, (void)in0, (void)in1, (void)out, (void)copies;
    return -1;
}

double bench_cudnn_softmax_ms(bench_gpu *g, actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim,
                              size_t inner, int backward, const bench_rotation *in0, const bench_rotation *in1,
                              const bench_rotation *out, int copies)
{
    (void)g, (void)kind, (void)dtype, (void)outer, (void)dim, (void)inner, (void)backward, (void)in0, (void)in1;
    (void)out, (void)copies;
    return -1;
}

#endif
