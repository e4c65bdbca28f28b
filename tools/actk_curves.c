// SPDX-License-Identifier: MIT
/*
 * actk_curves.c - evaluates f(x) and f'(x) of element-wise ops on a grid,
 * through the CPU reference path and, when a CUDA device is present, the
 * GPU path, and writes CSV:
 *
 *   op,alpha,beta,x,f_cpu,df_cpu[,f_gpu,df_gpu,f_ulp,df_ulp]
 *
 * (f32 values; the ULP columns are the GPU-CPU distance in f32 ULP).
 *
 * Usage: actk_curves [--op NAME|all] [--alpha A] [--beta B] [--min X]
 *                    [--max X] [--points N] [--cpu-only] [--out FILE]
 */
#include <actk/actk.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef ACTK_CURVES_WITH_CUDA
#include <cuda_runtime_api.h>
#endif

typedef struct {
    const char *op_name; /* "all" or an op */
    int have_alpha, have_beta;
    float alpha, beta;
    double min, max;
    size_t points;
    int cpu_only;
    const char *out;
} options;

static void usage(FILE *to)
{
    fprintf(to,
            "usage: actk_curves [--op NAME|all] [--alpha A] [--beta B] [--min X] [--max X]\n"
            "                   [--points N] [--cpu-only] [--out FILE]\n"
            "Writes op,alpha,beta,x,f_cpu,df_cpu[,f_gpu,df_gpu,f_ulp,df_ulp] as CSV (default: stdout).\n"
            "Defaults: --op all, PyTorch's parameters, grid [-6, 6] with 1201 points.\n");
}

static int parse(int argc, char **argv, options *o)
{
    *o = (options){"all", 0, 0, 0.0f, 0.0f, -6.0, 6.0, 1201, 0, NULL};
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); exit(0); }
        else if (!strcmp(a, "--cpu-only")) o->cpu_only = 1;
        else if (!v) { fprintf(stderr, "actk_curves: %s needs a value\n", a); return 0; }
        else if (!strcmp(a, "--op")) { o->op_name = v; ++i; }
        else if (!strcmp(a, "--out")) { o->out = v; ++i; }
        else if (!strcmp(a, "--alpha")) { o->alpha = strtof(v, &end); o->have_alpha = 1; ++i; }
        else if (!strcmp(a, "--beta")) { o->beta = strtof(v, &end); o->have_beta = 1; ++i; }
        else if (!strcmp(a, "--min")) { o->min = strtod(v, &end); ++i; }
        else if (!strcmp(a, "--max")) { o->max = strtod(v, &end); ++i; }
        else if (!strcmp(a, "--points")) { o->points = (size_t)strtoull(v, &end, 10); ++i; }
        else { fprintf(stderr, "actk_curves: unknown option %s\n", a); return 0; }
        if (end && *end) { fprintf(stderr, "actk_curves: bad number for %s: %s\n", a, v); return 0; }
    }
    if (o->points < 2 || !(o->max > o->min)) {
        fprintf(stderr, "actk_curves: need --points >= 2 and --max > --min\n");
        return 0;
    }
    return 1;
}

static double ulp_distance_f32(float a, float b)
{
    if (a != a || b != b) return (a != a && b != b) ? 0.0 : INFINITY;
    int32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    if (ia < 0) ia = (int32_t)(0x80000000u - (uint32_t)ia);
    if (ib < 0) ib = (int32_t)(0x80000000u - (uint32_t)ib);
    return fabs((double)ia - (double)ib);
}

#ifdef ACTK_CURVES_WITH_CUDA
/* f and f' on the GPU; returns 0 on success. */
static int gpu_curves(actk_act act, size_t n, const float *x, float *f, float *df)
{
    float *d_x = NULL, *d_one = NULL, *d_out = NULL;
    float *ones = malloc(n * sizeof(float));
    int rc = 1;
    if (!ones) return 1;
    for (size_t i = 0; i < n; ++i) ones[i] = 1.0f;
    if (cudaMalloc((void **)&d_x, n * 4) == cudaSuccess && cudaMalloc((void **)&d_one, n * 4) == cudaSuccess &&
        cudaMalloc((void **)&d_out, n * 4) == cudaSuccess &&
        cudaMemcpy(d_x, x, n * 4, cudaMemcpyHostToDevice) == cudaSuccess &&
        cudaMemcpy(d_one, ones, n * 4, cudaMemcpyHostToDevice) == cudaSuccess &&
        actk_cuda_forward(act, ACTK_F32, n, d_x, d_out, NULL) == ACTK_SUCCESS &&
        cudaMemcpy(f, d_out, n * 4, cudaMemcpyDeviceToHost) == cudaSuccess &&
        actk_cuda_backward(act, ACTK_F32, n, d_x, d_one, d_out, NULL) == ACTK_SUCCESS &&
        cudaMemcpy(df, d_out, n * 4, cudaMemcpyDeviceToHost) == cudaSuccess)
        rc = 0;
    else
        fprintf(stderr, "actk_curves: GPU path failed: %s\n", actk_last_error());
    cudaFree(d_x);
    cudaFree(d_one);
    cudaFree(d_out);
    free(ones);
    return rc;
}
#endif

int main(int argc, char **argv)
{
    options o;
    if (!parse(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    int first = 0, last = ACTK_OP_COUNT - 1;
    if (strcmp(o.op_name, "all") != 0) {
        actk_op op;
        if (actk_op_from_name(o.op_name, &op) != ACTK_SUCCESS) {
            fprintf(stderr, "actk_curves: %s\n", actk_last_error());
            return 2;
        }
        first = last = (int)op;
    }
    /* validate every op's parameters before any output exists, so a bad
     * --alpha/--beta leaves no half-written CSV behind */
    for (int op = first; op <= last; ++op) {
        actk_act act = actk_act_default((actk_op)op);
        if (o.have_alpha) act.alpha = o.alpha;
        if (o.have_beta) act.beta = o.beta;
        if (actk_act_validate(act) != ACTK_SUCCESS) {
            fprintf(stderr, "actk_curves: %s\n", actk_last_error());
            return 2;
        }
    }
    int use_gpu = 0;
#ifdef ACTK_CURVES_WITH_CUDA
    use_gpu = !o.cpu_only && actk_cuda_device_count() > 0;
#endif
    if (!o.cpu_only && !use_gpu) fprintf(stderr, "actk_curves: no CUDA device: CPU path only\n");
    FILE *out = o.out ? fopen(o.out, "w") : stdout;
    if (!out) { perror(o.out); return 1; }

    const size_t n = o.points;
    float *x = malloc(n * 4), *ones = malloc(n * 4), *f = malloc(n * 4), *df = malloc(n * 4);
    float *gf = malloc(n * 4), *gdf = malloc(n * 4);
    if (!x || !ones || !f || !df || !gf || !gdf) return 1;
    for (size_t i = 0; i < n; ++i) {
        x[i] = (float)(o.min + (o.max - o.min) * (double)i / (double)(n - 1));
        ones[i] = 1.0f;
    }
    fprintf(out, "op,alpha,beta,x,f_cpu,df_cpu%s\n", use_gpu ? ",f_gpu,df_gpu,f_ulp,df_ulp" : "");
    int rc = 0;
    for (int op = first; op <= last && rc == 0; ++op) {
        actk_act act = actk_act_default((actk_op)op);
        if (o.have_alpha) act.alpha = o.alpha;
        if (o.have_beta) act.beta = o.beta;
        if (actk_cpu_forward(act, ACTK_F32, n, x, f) != ACTK_SUCCESS ||
            actk_cpu_backward(act, ACTK_F32, n, x, ones, df) != ACTK_SUCCESS) {
            fprintf(stderr, "actk_curves: %s\n", actk_last_error());
            rc = 2;
            break;
        }
#ifdef ACTK_CURVES_WITH_CUDA
        if (use_gpu && gpu_curves(act, n, x, gf, gdf) != 0) { rc = 1; break; }
#endif
        for (size_t i = 0; i < n; ++i) {
            fprintf(out, "%s,%.9g,%.9g,%.9g,%.9g,%.9g", actk_op_name(act.op), act.alpha, act.beta, x[i], f[i], df[i]);
            if (use_gpu)
                fprintf(out, ",%.9g,%.9g,%.0f,%.0f", gf[i], gdf[i], ulp_distance_f32(gf[i], f[i]),
                        ulp_distance_f32(gdf[i], df[i]));
            fputc('\n', out);
        }
    }
    if (out != stdout) fclose(out);
    free(x); free(ones); free(f); free(df); free(gf); free(gdf);
    return rc;
}
