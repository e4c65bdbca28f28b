// SPDX-License-Identifier: MIT
/*
 * actk_demo.c - runs every element-wise op forward and backward on the GPU
 * and checks each result against the CPU reference (max ULP error), or,
 * without a CUDA device, says so and runs the CPU reference path.
 *
 * Usage: actk_demo [n]   (default n = 1048576 f32 elements)
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime in strict C11 */
#include <actk/actk.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef ACTK_DEMO_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static float random_input(unsigned *state)
{
    *state = *state * 1664525u + 1013904223u;
    return ((float)(*state >> 8) / 16777216.0f) * 16.0f - 8.0f; /* uniform in [-8, 8) */
}

#ifdef ACTK_DEMO_WITH_CUDA
/* Distance in representable floats between a and b (NaN == NaN). */
static double ulp_distance_f32(float a, float b)
{
    if (a != a || b != b) return (a != a && b != b) ? 0.0 : 1e30;
    int32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    if (ia < 0) ia = (int32_t)(0x80000000u - (uint32_t)ia);
    if (ib < 0) ib = (int32_t)(0x80000000u - (uint32_t)ib);
    const double d = (double)ia - (double)ib;
    return d < 0 ? -d : d;
}

static int run_on_gpu(size_t n, const float *x, const float *dy)
{
    float *d_x = NULL, *d_dy = NULL, *d_out = NULL;
    float *gpu = malloc(n * sizeof(float)), *cpu = malloc(n * sizeof(float));
    if (!gpu || !cpu || cudaMalloc((void **)&d_x, n * 4) != cudaSuccess ||
        cudaMalloc((void **)&d_dy, n * 4) != cudaSuccess || cudaMalloc((void **)&d_out, n * 4) != cudaSuccess) {
        fprintf(stderr, "actk_demo: out of memory\n");
        return 1;
    }
    cudaMemcpy(d_x, x, n * 4, cudaMemcpyHostToDevice);
    cudaMemcpy(d_dy, dy, n * 4, cudaMemcpyHostToDevice);
    struct cudaDeviceProp prop;
    cudaGetDeviceProperties(&prop, 0);
    printf("GPU: %s; %zu f32 elements per op, inputs uniform in [-8, 8)\n\n", prop.name, n);
    printf("%-12s %12s %12s %14s %14s\n", "op", "fwd max ulp", "bwd max ulp", "fwd GB/s", "bwd GB/s");
    cudaEvent_t start, stop;
    cudaEventCreate(&start);
    cudaEventCreate(&stop);
    int failures = 0;
    for (int op = 0; op < ACTK_OP_COUNT; ++op) {
        const actk_act act = actk_act_default((actk_op)op);
        double max_ulp[2] = {0, 0}, gbps[2] = {0, 0};
        for (int dir = 0; dir < 2; ++dir) {
            actk_status s = dir == 0 ? actk_cuda_forward(act, ACTK_F32, n, d_x, d_out, NULL)
                                     : actk_cuda_backward(act, ACTK_F32, n, d_x, d_dy, d_out, NULL);
            if (s != ACTK_SUCCESS) {
                fprintf(stderr, "%s: %s\n", actk_status_string(s), actk_last_error());
                return 1;
            }
            const int reps = 20;
            cudaEventRecord(start, NULL);
            for (int r = 0; r < reps; ++r)
                s = dir == 0 ? actk_cuda_forward(act, ACTK_F32, n, d_x, d_out, NULL)
                             : actk_cuda_backward(act, ACTK_F32, n, d_x, d_dy, d_out, NULL);
            cudaEventRecord(stop, NULL);
            cudaEventSynchronize(stop);
            float ms = 0;
            cudaEventElapsedTime(&ms, start, stop);
            gbps[dir] = (double)n * 4 * (dir == 0 ? 2 : 3) * reps / (ms * 1e6);
            cudaMemcpy(gpu, d_out, n * 4, cudaMemcpyDeviceToHost);
            if (dir == 0) actk_cpu_forward(act, ACTK_F32, n, x, cpu);
            else actk_cpu_backward(act, ACTK_F32, n, x, dy, cpu);
            for (size_t i = 0; i < n; ++i) {
                const double u = ulp_distance_f32(gpu[i], cpu[i]);
                if (u > max_ulp[dir]) max_ulp[dir] = u;
            }
        }
        const int ok = max_ulp[0] <= 2 && max_ulp[1] <= 4;
        failures += !ok;
        printf("%-12s %12.0f %12.0f %14.1f %14.1f %s\n", actk_op_name((actk_op)op), max_ulp[0], max_ulp[1], gbps[0],
               gbps[1], ok ? "" : "  <-- outside the promised bound");
    }
    printf("\n%s\n", failures ? "SOME OPS DISAGREE WITH THE CPU REFERENCE" : "all ops agree with the CPU reference");
    cudaFree(d_x);
    cudaFree(d_dy);
    cudaFree(d_out);
    free(gpu);
    free(cpu);
    return failures ? 1 : 0;
}
#endif

static int run_on_cpu(size_t n, const float *x, const float *dy)
{
    float *out = malloc(n * sizeof(float));
    if (!out) return 1;
    printf("CPU reference path (long double, rounded once); %zu f32 elements per op\n\n", n);
    printf("%-12s %14s %14s %12s %12s\n", "op", "fwd Melem/s", "bwd Melem/s", "f(1)", "f'(1)");
    for (int op = 0; op < ACTK_OP_COUNT; ++op) {
        const actk_act act = actk_act_default((actk_op)op);
        double t0 = now_seconds();
        actk_cpu_forward(act, ACTK_F32, n, x, out);
        double t1 = now_seconds();
        actk_cpu_backward(act, ACTK_F32, n, x, dy, out);
        double t2 = now_seconds();
        const float one = 1.0f, unit = 1.0f;
        float f1 = 0, d1 = 0;
        actk_cpu_forward(act, ACTK_F32, 1, &one, &f1);
        actk_cpu_backward(act, ACTK_F32, 1, &one, &unit, &d1);
        printf("%-12s %14.1f %14.1f %12.6g %12.6g\n", actk_op_name((actk_op)op), n / (t1 - t0) / 1e6,
               n / (t2 - t1) / 1e6, f1, d1);
    }
    free(out);
    return 0;
}

int main(int argc, char **argv)
{
    size_t n = (size_t)1 << 20;
    if (argc > 1) n = (size_t)strtoull(argv[1], NULL, 10);
    if (n == 0) {
        fprintf(stderr, "usage: actk_demo [n > 0]\n");
        return 2;
    }
    printf("actk %s (built %s CUDA)\n", actk_version_string(), actk_built_with_cuda() ? "with" : "without");
    float *x = malloc(n * sizeof(float)), *dy = malloc(n * sizeof(float));
    if (!x || !dy) return 1;
    unsigned state = 12345u;
    for (size_t i = 0; i < n; ++i) {
        x[i] = random_input(&state);
        dy[i] = random_input(&state) / 8.0f;
    }
    int rc;
#ifdef ACTK_DEMO_WITH_CUDA
    if (actk_cuda_device_count() > 0) {
        rc = run_on_gpu(n, x, dy);
    } else
#endif
    {
        printf("no CUDA device: running the CPU reference path instead\n");
        rc = run_on_cpu(n < ((size_t)1 << 18) ? n : ((size_t)1 << 18), x, dy);
    }
    free(x);
    free(dy);
    return rc;
}
