// SPDX-License-Identifier: MIT
/*
 * bench_gpu_cuda.c - bench_gpu's GPU mode (see bench_gpu.c for what it
 * measures and how): sets up the device state, runs the row families
 * (bench_rows_*_cuda.c) and the feature benches, then times the host
 * overhead. The timer is bench_timer_cuda.c, the cuDNN baseline
 * bench_cudnn_cuda.c (bench_gpu_cuda.h lists them all).
 */
#include "bench_gpu_cuda.h"

#include <stdio.h>
#include <string.h>

/* ---- host overhead and graphs ---------------------------------------------------- */

static void bench_overhead(bench_gpu *g)
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
    printf("  host time per actk_cuda_forward call (n = 4096, %d async launches): %.2f us (target <= 2 us)\n", calls,
           host_us);
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
            if (cudaStreamEndCapture(g->stream, &graph) == cudaSuccess &&
                cudaGraphInstantiate(&exec, graph, 0) == cudaSuccess) {
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
        printf("  n = %8zu: %.2f us per call back-to-back, %.2f us per call inside a CUDA graph\n", small_sizes[k],
               ms * 1e3 / reps, graph_ms >= 0 ? graph_ms * 1e3 / reps : -1.0);
    }
    cudaFree(x);
    cudaFree(y);
}

int bench_run_gpu_mode(const bench_options *o, bench_results *results, char *device, size_t device_size)
{
    bench_gpu g;
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
    if (cudaStreamCreateWithFlags(&g.stream, cudaStreamNonBlocking) != cudaSuccess ||
        cudaEventCreate(&g.start) != cudaSuccess || cudaEventCreate(&g.stop) != cudaSuccess)
        return 1;
    bench_cudnn_open(&g, &prop, l2);
    printf("time: median of %d trials x %d back-to-back calls; %%memcpy: our GB/s over cudaMemcpyAsync D2D at the same "
           "bytes\n\n",
           g.trials, g.reps);
    bench_print_header(1);
    int rc = bench_eltwise(&g, o, results);
    if (rc == 0) rc = bench_softmax(&g, o, results);
    if (rc == 0) rc = bench_structured(&g, o, results);
    if (rc == 0) rc = bench_gated(&g, o, results);
    const bench_gpu_services svc = bench_services_of(&g);
    if (rc == 0) rc = bench_gated_bias(&svc, o, results);
    if (rc == 0) rc = bench_quant(&svc, o, results);
    if (rc == 0) rc = bench_softmax_options_rows(&svc, o, results);
    if (rc == 0) rc = bench_cross_entropy_gpu(&svc, o, results);
    if (rc == 0) bench_overhead(&g);
    bench_cudnn_close(&g);
    cudaEventDestroy(g.start);
    cudaEventDestroy(g.stop);
    cudaStreamDestroy(g.stream);
    return rc == 0 ? 0 : 1;
}
