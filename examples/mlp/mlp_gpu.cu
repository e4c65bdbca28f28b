// SPDX-License-Identifier: MIT
/*
 * mlp_gpu.cu - the GPU path of the activation experiment (see mlp_gpu.h).
 *
 * Layout: row-major matrices as in mlp_model.h. cuBLAS is column-major, so
 * a row-major (r x c) matrix is passed as its column-major transpose:
 *   forward  pre(B x out) = in(B x in) W^T : gemm(T, N, out, B, in, W, in, in, in, pre, out)
 *   weights  dW(out x in) = dpre^T in      : gemm(N, T, in, out, B, in, in, dpre, out, dW, in)
 *   inputs   din(B x in)  = dpre W         : gemm(N, N, in, B, out, W, in, dpre, out, din, in)
 * The batch offset and Adam's step count live in device memory and are
 * advanced by a kernel at the end of each step, so one captured graph
 * serves every full batch; a final partial batch runs eagerly.
 */
#include "mlp_gpu.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <vector>

namespace {

#define GPU_CHECK(call)                                                                                        \
    do {                                                                                                       \
        const cudaError_t err_ = (call);                                                                       \
        if (err_ != cudaSuccess) {                                                                             \
            fprintf(stderr, "actk_mlp: %s failed: %s (%s:%d)\n", #call, cudaGetErrorString(err_), __FILE__, __LINE__); \
            return -1;                                                                                         \
        }                                                                                                      \
    } while (0)
#define BLAS_CHECK(call)                                                                                       \
    do {                                                                                                       \
        const cublasStatus_t st_ = (call);                                                                     \
        if (st_ != CUBLAS_STATUS_SUCCESS) {                                                                    \
            fprintf(stderr, "actk_mlp: %s failed: cuBLAS status %d (%s:%d)\n", #call, (int)st_, __FILE__, __LINE__); \
            return -1;                                                                                         \
        }                                                                                                      \
    } while (0)
#define ACTK_CHECK(call)                                                                                       \
    do {                                                                                                       \
        if ((call) != ACTK_SUCCESS) {                                                                          \
            fprintf(stderr, "actk_mlp: %s\n", actk_last_error());                                              \
            return -1;                                                                                         \
        }                                                                                                      \
    } while (0)

/* ---- this example's small kernels ------------------------------------------- */

/* xb[k] = X[order[step * batch + k]] for k < rows (the step comes from
 * device memory). `batch` is the full batch size even for the short last
 * batch of an epoch, whose rows start where the full batches end. */
__global__ void gather_batch_kernel(const float *images, const int *labels, const int *order, const int *step_in_epoch,
                                    int batch, int pixels, float *xb, int *yb)
{
    const int k = blockIdx.y;
    const int src = order[(size_t)*step_in_epoch * batch + k];
    for (int p = blockIdx.x * blockDim.x + threadIdx.x; p < pixels; p += gridDim.x * blockDim.x)
        xb[(size_t)k * pixels + p] = images[(size_t)src * pixels + p];
    if (blockIdx.x == 0 && threadIdx.x == 0) yb[k] = labels[src];
}

__global__ void bias_add_kernel(float *pre, const float *bias, int rows, int cols)
{
    const size_t n = (size_t)rows * cols;
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        pre[i] += bias[i % cols];
}

/* db[j] = sum over rows of dpre[r, j], in row order (deterministic). */
__global__ void bias_grad_kernel(const float *dpre, float *db, int rows, int cols)
{
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= cols) return;
    float sum = 0.0f;
    for (int r = 0; r < rows; ++r) sum += dpre[(size_t)r * cols + j];
    db[j] = sum;
}

/* One block: dlogp = -1/batch at the label, 0 elsewhere; losses[step] = mean NLL. */
__global__ void nll_grad_kernel(const float *logp, const int *labels, int batch, int classes, float *dlogp,
                                float *losses, const int *step_in_epoch)
{
    __shared__ float partial[256];
    float sum = 0.0f;
    for (int i = threadIdx.x; i < batch * classes; i += blockDim.x) {
        const int r = i / classes, c = i % classes;
        const bool hit = labels[r] == c;
        dlogp[i] = hit ? -1.0f / (float)batch : 0.0f;
        if (hit) sum -= logp[i];
    }
    partial[threadIdx.x] = sum;
    __syncthreads();
    for (int half = blockDim.x / 2; half > 0; half /= 2) {
        if ((int)threadIdx.x < half) partial[threadIdx.x] += partial[threadIdx.x + half];
        __syncthreads();
    }
    if (threadIdx.x == 0 && losses) losses[*step_in_epoch] = partial[0] / (float)batch;
}

/* Adam as mlp_adam_step, with the step count read from device memory. */
__global__ void adam_kernel(float *params, const float *grads, float *first, float *second, size_t n, float lr,
                            const int *global_step)
{
    const float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
    const float t = (float)(*global_step + 1);
    const float bc1 = 1.0f - powf(beta1, t), bc2 = 1.0f - powf(beta2, t);
    const float step = lr / bc1, root_bc2 = sqrtf(bc2);
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        const float g = grads[i];
        first[i] = beta1 * first[i] + (1.0f - beta1) * g;
        second[i] = beta2 * second[i] + (1.0f - beta2) * g * g;
        params[i] -= step * first[i] / (sqrtf(second[i]) / root_bc2 + eps);
    }
}

__global__ void advance_kernel(int *step_in_epoch, int *global_step)
{
    *step_in_epoch += 1;
    *global_step += 1;
}

__global__ void count_correct_kernel(const float *logp, const int *labels, int rows, int classes, int *correct,
                                     double *loss)
{
    const int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    int best = 0;
    for (int c = 1; c < classes; ++c)
        best = logp[(size_t)r * classes + c] > logp[(size_t)r * classes + best] ? c : best;
    if (best == labels[r]) atomicAdd(correct, 1); /* integer: order-independent */
    atomicAdd(loss, -(double)logp[(size_t)r * classes + labels[r]]);
}

unsigned blocks_for(size_t n) { return (unsigned)((n + 255) / 256 < 4096 ? (n + 255) / 256 : 4096); }

/* ---- the model on the device ------------------------------------------------ */

struct Gpu {
    int sizes[MLP_LAYERS + 1];
    size_t param_count;
    size_t weight_offset[MLP_LAYERS], bias_offset[MLP_LAYERS];
    int max_rows; /* rows the activation buffers hold */
    float *params = nullptr, *grads = nullptr, *first = nullptr, *second = nullptr;
    float *pre[MLP_LAYERS] = {}, *post[MLP_LAYERS] = {}, *grad_a = nullptr, *grad_b = nullptr;
    float *xb = nullptr;
    int *yb = nullptr;
    int *counters = nullptr; /* [0] step in epoch, [1] global step */
    cudaStream_t stream = nullptr;
    cublasHandle_t blas = nullptr;
    void *blas_workspace = nullptr;

    float *W(float *base, int l) const { return base + weight_offset[l]; }
    float *b(float *base, int l) const { return base + bias_offset[l]; }

    int init(const mlp_model &m, int rows)
    {
        memcpy(sizes, m.sizes, sizeof sizes);
        param_count = m.param_count;
        for (int l = 0; l < MLP_LAYERS; ++l) {
            weight_offset[l] = (size_t)(m.weight[l] - m.params);
            bias_offset[l] = (size_t)(m.bias[l] - m.params);
        }
        max_rows = rows;
        int widest = 0;
        for (int l = 0; l <= MLP_LAYERS; ++l) widest = sizes[l] > widest ? sizes[l] : widest;
        const size_t pbytes = param_count * sizeof(float);
        GPU_CHECK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
        GPU_CHECK(cudaMalloc((void **)&params, pbytes));
        GPU_CHECK(cudaMalloc((void **)&grads, pbytes));
        GPU_CHECK(cudaMalloc((void **)&first, pbytes));
        GPU_CHECK(cudaMalloc((void **)&second, pbytes));
        GPU_CHECK(cudaMemset(first, 0, pbytes));
        GPU_CHECK(cudaMemset(second, 0, pbytes));
        GPU_CHECK(cudaMemcpy(params, m.params, pbytes, cudaMemcpyHostToDevice));
        for (int l = 0; l < MLP_LAYERS; ++l) {
            GPU_CHECK(cudaMalloc((void **)&pre[l], (size_t)rows * sizes[l + 1] * sizeof(float)));
            GPU_CHECK(cudaMalloc((void **)&post[l], (size_t)rows * sizes[l + 1] * sizeof(float)));
        }
        GPU_CHECK(cudaMalloc((void **)&grad_a, (size_t)rows * widest * sizeof(float)));
        GPU_CHECK(cudaMalloc((void **)&grad_b, (size_t)rows * widest * sizeof(float)));
        GPU_CHECK(cudaMalloc((void **)&xb, (size_t)rows * sizes[0] * sizeof(float)));
        GPU_CHECK(cudaMalloc((void **)&yb, (size_t)rows * sizeof(int)));
        GPU_CHECK(cudaMalloc((void **)&counters, 2 * sizeof(int)));
        GPU_CHECK(cudaMemset(counters, 0, 2 * sizeof(int)));
        BLAS_CHECK(cublasCreate(&blas));
        BLAS_CHECK(cublasSetStream(blas, stream));
        /* a fixed workspace, so cuBLAS allocates nothing during graph capture */
        const size_t workspace_bytes = 32u << 20;
        GPU_CHECK(cudaMalloc(&blas_workspace, workspace_bytes));
        BLAS_CHECK(cublasSetWorkspace(blas, blas_workspace, workspace_bytes));
        return 0;
    }

    void release()
    {
        if (blas) cublasDestroy(blas);
        cudaFree(blas_workspace);
        cudaFree(params); cudaFree(grads); cudaFree(first); cudaFree(second);
        for (int l = 0; l < MLP_LAYERS; ++l) { cudaFree(pre[l]); cudaFree(post[l]); }
        cudaFree(grad_a); cudaFree(grad_b); cudaFree(xb); cudaFree(yb); cudaFree(counters);
        if (stream) cudaStreamDestroy(stream);
    }

    /* Linear layers with activations; log-probabilities end in post[2]. */
    int forward(actk_act act, const float *x, int rows)
    {
        const float one = 1.0f, zero = 0.0f;
        const float *in = x;
        for (int l = 0; l < MLP_LAYERS; ++l) {
            const int n_in = sizes[l], n_out = sizes[l + 1];
            BLAS_CHECK(cublasSgemm(blas, CUBLAS_OP_T, CUBLAS_OP_N, n_out, rows, n_in, &one, W(params, l), n_in, in,
                                   n_in, &zero, pre[l], n_out));
            bias_add_kernel<<<blocks_for((size_t)rows * n_out), 256, 0, stream>>>(pre[l], b(params, l), rows, n_out);
            GPU_CHECK(cudaGetLastError());
            if (l + 1 < MLP_LAYERS)
                ACTK_CHECK(actk_cuda_forward(act, ACTK_F32, (size_t)rows * n_out, pre[l], post[l], stream));
            else
                ACTK_CHECK(actk_cuda_softmax_forward(ACTK_LOG_SOFTMAX, ACTK_F32, (size_t)rows, (size_t)n_out, 1, pre[l],
                                                     post[l], stream));
            in = post[l];
        }
        return 0;
    }

    /* Backward from dlogp (in grad_a) into grads; x is the batch input. */
    int backward(actk_act act, const float *x, int rows)
    {
        const float one = 1.0f, zero = 0.0f;
        const int classes = sizes[MLP_LAYERS];
        ACTK_CHECK(actk_cuda_softmax_backward(ACTK_LOG_SOFTMAX, ACTK_F32, (size_t)rows, (size_t)classes, 1,
                                              post[MLP_LAYERS - 1], grad_a, grad_b, stream));
        float *d_pre = grad_b, *d_other = grad_a;
        for (int l = MLP_LAYERS - 1; l >= 0; --l) {
            const int n_in = sizes[l], n_out = sizes[l + 1];
            const float *in = l == 0 ? x : post[l - 1];
            BLAS_CHECK(cublasSgemm(blas, CUBLAS_OP_N, CUBLAS_OP_T, n_in, n_out, rows, &one, in, n_in, d_pre, n_out,
                                   &zero, W(grads, l), n_in));
            bias_grad_kernel<<<(n_out + 127) / 128, 128, 0, stream>>>(d_pre, b(grads, l), rows, n_out);
            GPU_CHECK(cudaGetLastError());
            if (l == 0) break;
            BLAS_CHECK(cublasSgemm(blas, CUBLAS_OP_N, CUBLAS_OP_N, n_in, rows, n_out, &one, W(params, l), n_in, d_pre,
                                   n_out, &zero, d_other, n_in));
            ACTK_CHECK(actk_cuda_backward(act, ACTK_F32, (size_t)rows * n_in, pre[l - 1], d_other, d_other, stream));
            float *t = d_pre;
            d_pre = d_other;
            d_other = t;
        }
        return 0;
    }

    /* One training step on rows of the shuffled training set: gather, forward,
     * loss gradient, backward, Adam, advance the counters. Graph-capturable. */
    /* `rows` <= `batch`: fewer for the last, short batch of an epoch. */
    int step(actk_act act, const float *images, const int *labels, const int *order, int rows, int batch, float lr,
             float *losses)
    {
        gather_batch_kernel<<<dim3(4, rows), 256, 0, stream>>>(images, labels, order, &counters[0], batch, sizes[0], xb,
                                                               yb);
        GPU_CHECK(cudaGetLastError());
        if (forward(act, xb, rows) != 0) return -1;
        nll_grad_kernel<<<1, 256, 0, stream>>>(post[MLP_LAYERS - 1], yb, rows, sizes[MLP_LAYERS], grad_a, losses,
                                               &counters[0]);
        GPU_CHECK(cudaGetLastError());
        if (backward(act, xb, rows) != 0) return -1;
        adam_kernel<<<blocks_for(param_count), 256, 0, stream>>>(params, grads, first, second, param_count, lr,
                                                                 &counters[1]);
        GPU_CHECK(cudaGetLastError());
        advance_kernel<<<1, 1, 0, stream>>>(&counters[0], &counters[1]);
        GPU_CHECK(cudaGetLastError());
        return 0;
    }
};

double now_seconds()
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

} // namespace

extern "C" int mlp_gpu_train(unsigned long long seed, int epochs, int batch, float lr, actk_act act,
                             const mlp_dataset *train, size_t train_count, const mlp_dataset *test, FILE *csv,
                             const char *name, double *accuracy, double *train_loss, double *seconds,
                             mlp_model *trained)
{
    const int sizes[MLP_LAYERS + 1] = {(int)train->pixels, 256, 128, 10};
    mlp_rng rng = {seed};
    mlp_model m;
    if (mlp_model_init(&m, sizes, &rng) != 0) return -1;
    const int eval_rows = 1000;
    Gpu g;
    int rc = g.init(m, batch > eval_rows ? batch : eval_rows);
    float *d_train_x = nullptr, *d_test_x = nullptr, *d_losses = nullptr;
    int *d_train_y = nullptr, *d_test_y = nullptr, *d_order = nullptr, *d_correct = nullptr;
    double *d_eval_loss = nullptr;
    const size_t steps = train_count / (size_t)batch, tail = train_count % (size_t)batch;
    auto setup = [&]() -> int {
        GPU_CHECK(cudaMalloc((void **)&d_train_x, train_count * train->pixels * sizeof(float)));
        GPU_CHECK(cudaMalloc((void **)&d_train_y, train_count * sizeof(int)));
        GPU_CHECK(cudaMalloc((void **)&d_test_x, test->count * test->pixels * sizeof(float)));
        GPU_CHECK(cudaMalloc((void **)&d_test_y, test->count * sizeof(int)));
        GPU_CHECK(cudaMalloc((void **)&d_order, train_count * sizeof(int)));
        GPU_CHECK(cudaMalloc((void **)&d_losses, (steps + 1) * sizeof(float)));
        GPU_CHECK(cudaMalloc((void **)&d_correct, sizeof(int)));
        GPU_CHECK(cudaMalloc((void **)&d_eval_loss, sizeof(double)));
        GPU_CHECK(
            cudaMemcpy(d_train_x, train->images, train_count * train->pixels * sizeof(float), cudaMemcpyHostToDevice));
        GPU_CHECK(cudaMemcpy(d_train_y, train->labels, train_count * sizeof(int), cudaMemcpyHostToDevice));
        GPU_CHECK(
            cudaMemcpy(d_test_x, test->images, test->count * test->pixels * sizeof(float), cudaMemcpyHostToDevice));
        GPU_CHECK(cudaMemcpy(d_test_y, test->labels, test->count * sizeof(int), cudaMemcpyHostToDevice));
        return 0;
    };
    if (rc == 0) rc = setup();

    cudaGraphExec_t graph_exec = nullptr;
    auto run = [&]() -> int {
        /* capture one full step once; replay it for every full batch */
        if (steps > 0) {
            cudaGraph_t graph;
            GPU_CHECK(cudaStreamBeginCapture(g.stream, cudaStreamCaptureModeThreadLocal));
            const int captured = g.step(act, d_train_x, d_train_y, d_order, batch, batch, lr, d_losses);
            cudaError_t end = cudaStreamEndCapture(g.stream, &graph);
            if (captured != 0) return -1;
            GPU_CHECK(end);
            GPU_CHECK(cudaGraphInstantiate(&graph_exec, graph, 0));
            GPU_CHECK(cudaGraphDestroy(graph));
        }
        std::vector<int> order(train_count);
        std::vector<float> losses(steps + 1);
        for (size_t i = 0; i < train_count; ++i) order[i] = (int)i;
        const double start = now_seconds();
        for (int epoch = 1; epoch <= epochs; ++epoch) {
            for (size_t i = train_count; i > 1; --i) { /* the CPU path's shuffle, same generator */
                const size_t j = mlp_rng_next(&rng) % i;
                const int t = order[i - 1];
                order[i - 1] = order[j];
                order[j] = t;
            }
            GPU_CHECK(
                cudaMemcpyAsync(d_order, order.data(), train_count * sizeof(int), cudaMemcpyHostToDevice, g.stream));
            GPU_CHECK(cudaMemsetAsync(&g.counters[0], 0, sizeof(int), g.stream));
            for (size_t s = 0; s < steps; ++s) GPU_CHECK(cudaGraphLaunch(graph_exec, g.stream));
            if (tail > 0 && g.step(act, d_train_x, d_train_y, d_order, (int)tail, batch, lr, d_losses) != 0) return -1;
            /* evaluation on the test set */
            GPU_CHECK(cudaMemsetAsync(d_correct, 0, sizeof(int), g.stream));
            GPU_CHECK(cudaMemsetAsync(d_eval_loss, 0, sizeof(double), g.stream));
            for (size_t r0 = 0; r0 < test->count; r0 += (size_t)eval_rows) {
                const int rows = (int)(test->count - r0 < (size_t)eval_rows ? test->count - r0 : (size_t)eval_rows);
                if (g.forward(act, d_test_x + r0 * test->pixels, rows) != 0) return -1;
                count_correct_kernel<<<(rows + 255) / 256, 256, 0, g.stream>>>(
                    g.post[MLP_LAYERS - 1], d_test_y + r0, rows, sizes[MLP_LAYERS], d_correct, d_eval_loss);
                GPU_CHECK(cudaGetLastError());
            }
            int correct = 0;
            double eval_loss = 0;
            GPU_CHECK(cudaMemcpyAsync(losses.data(), d_losses, (steps + (tail ? 1 : 0)) * sizeof(float),
                                      cudaMemcpyDeviceToHost, g.stream));
            GPU_CHECK(cudaMemcpyAsync(&correct, d_correct, sizeof(int), cudaMemcpyDeviceToHost, g.stream));
            GPU_CHECK(cudaMemcpyAsync(&eval_loss, d_eval_loss, sizeof(double), cudaMemcpyDeviceToHost, g.stream));
            GPU_CHECK(cudaStreamSynchronize(g.stream));
            double sum = 0;
            const size_t count = steps + (tail ? 1 : 0);
            for (size_t s = 0; s < count; ++s) sum += losses[s];
            *train_loss = count ? sum / (double)count : 0;
            *accuracy = 100.0 * correct / (double)test->count;
            *seconds = now_seconds() - start;
            mlp_report_epoch(csv, name, "gpu", epoch, epochs, *train_loss, eval_loss / (double)test->count, *accuracy,
                             *seconds);
        }
        if (trained)
            GPU_CHECK(cudaMemcpy(trained->params, g.params, m.param_count * sizeof(float), cudaMemcpyDeviceToHost));
        return 0;
    };
    if (rc == 0) rc = run();
    if (graph_exec) cudaGraphExecDestroy(graph_exec);
    cudaFree(d_train_x); cudaFree(d_train_y); cudaFree(d_test_x); cudaFree(d_test_y);
    cudaFree(d_order); cudaFree(d_losses); cudaFree(d_correct); cudaFree(d_eval_loss);
    g.release();
    mlp_model_free(&m);
    return rc;
}

extern "C" int mlp_gpu_gradients(const mlp_model *m, actk_act act, const float *x, const int *labels, int batch,
                                 mlp_model *grads, double *loss)
{
    Gpu g;
    float *d_losses = nullptr;
    int *d_labels = nullptr, *d_order = nullptr;
    auto body = [&]() -> int {
        if (g.init(*m, batch) != 0) return -1;
        GPU_CHECK(cudaMalloc((void **)&d_losses, sizeof(float)));
        GPU_CHECK(cudaMalloc((void **)&d_labels, batch * sizeof(int)));
        GPU_CHECK(cudaMalloc((void **)&d_order, batch * sizeof(int)));
        GPU_CHECK(cudaMemcpy(g.xb, x, (size_t)batch * m->sizes[0] * sizeof(float), cudaMemcpyHostToDevice));
        GPU_CHECK(cudaMemcpy(d_labels, labels, batch * sizeof(int), cudaMemcpyHostToDevice));
        if (g.forward(act, g.xb, batch) != 0) return -1;
        nll_grad_kernel<<<1, 256, 0, g.stream>>>(g.post[MLP_LAYERS - 1], d_labels, batch, m->sizes[MLP_LAYERS],
                                                 g.grad_a, d_losses, &g.counters[0]);
        GPU_CHECK(cudaGetLastError());
        if (g.backward(act, g.xb, batch) != 0) return -1;
        float l = 0;
        GPU_CHECK(
            cudaMemcpyAsync(grads->params, g.grads, m->param_count * sizeof(float), cudaMemcpyDeviceToHost, g.stream));
        GPU_CHECK(cudaMemcpyAsync(&l, d_losses, sizeof(float), cudaMemcpyDeviceToHost, g.stream));
        GPU_CHECK(cudaStreamSynchronize(g.stream));
        *loss = l;
        return 0;
    };
    const int rc = body();
    cudaFree(d_losses);
    cudaFree(d_labels);
    cudaFree(d_order);
    g.release();
    return rc;
}
