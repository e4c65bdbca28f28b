/*
 * bench_gpu.c - the library's main job: for every op, dtype and size, how
 * close is it to the memory-bandwidth limit and to cuDNN, and does the GPU
 * agree with the CPU reference.
 *
 * GPU mode (a CUDA device is present):
 *  - time = median over trials of (CUDA-event time of `reps` back-to-back
 *    calls) / reps, after a warm-up; inputs random (never zeros); buffers
 *    rotated so that the working set of consecutive calls exceeds 3x L2;
 *  - bytes = minimal traffic (each input read once, each output written
 *    once); the same byte count is moved by cudaMemcpyAsync device-to-device
 *    in the same run, and the row reports our GB/s as a % of memcpy's;
 *  - cuDNN (legacy API) side by side where it has the op;
 *  - agreement: the GPU output (all of it, or a sample for big tensors)
 *    against actk's CPU reference, max ULP, PASS/FAIL on the promised bound.
 *  Then host overhead per call and CUDA-graph figures. Exit 1 if any
 *  agreement check fails.
 * CPU mode (no device): says why in one line and times the CPU reference
 * path instead; with ACTK_REQUIRE_GPU=1 it fails (exit 1) instead.
 */
#include "bench_common.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *direction_name(int dir) { return dir == 0 ? "forward" : dir == 1 ? "backward" : "from_y"; }

/* ============================ CPU mode ============================ */

static actk_status cpu_elementwise(actk_act act, actk_dtype dtype, int dir, size_t n, const void *a, const void *b, void *out)
{
    if (dir == 0) return actk_cpu_forward(act, dtype, n, a, out);
    if (dir == 1) return actk_cpu_backward(act, dtype, n, a, b, out);
    return actk_cpu_backward_from_y(act, dtype, n, a, b, out);
}

static void cpu_row(bench_results *results, const char *family, const char *op, const char *dir, actk_dtype dtype,
                    const char *shape, size_t bytes, size_t elements, double seconds)
{
    bench_row row;
    memset(&row, 0, sizeof row);
    snprintf(row.family, sizeof row.family, "%s", family);
    snprintf(row.op, sizeof row.op, "%s", op);
    snprintf(row.direction, sizeof row.direction, "%s", dir);
    snprintf(row.dtype, sizeof row.dtype, "%s", actk_dtype_name(dtype));
    snprintf(row.shape, sizeof row.shape, "%s", shape);
    row.bytes = bytes;
    row.ms = seconds * 1e3;
    row.gbps = bytes / seconds / 1e9;
    row.elements = elements;
    row.cudnn_ms = -1;
    row.max_ulp = -1;
    row.pass = 1;
    bench_add(results, &row);
    bench_print_row(&row, 0);
}

static int run_cpu_mode(const bench_options *o, bench_results *results)
{
    printf("no CUDA device: timing the CPU reference path instead (long double oracle, one thread)\n\n");
    bench_print_header(0);
    const size_t n = o->quick ? (size_t)1 << 15 : (size_t)1 << 18;
    char shape[48];
    for (int t = 0; t < o->n_dtypes; ++t) {
        const actk_dtype dtype = o->dtypes[t];
        const size_t elem = actk_dtype_size(dtype);
        void *x = bench_random(dtype, n, -8, 8, 1), *dy = bench_random(dtype, n, -1, 1, 2), *out = malloc(n * elem);
        void *grad = malloc(n * elem);
        if (!x || !dy || !out || !grad) return 1;
        snprintf(shape, sizeof shape, "%zu", n);
        for (int op = 0; op < ACTK_OP_COUNT; ++op) {
            if (!bench_selected(o, actk_op_name((actk_op)op))) continue;
            const actk_act act = actk_act_default((actk_op)op);
            for (int dir = 0; dir < 3; ++dir) {
                if (dir == 2 && !actk_op_has_backward_from_y(act.op)) continue;
                const double t0 = bench_now();
                if (cpu_elementwise(act, dtype, dir, n, x, dy, out) != ACTK_SUCCESS) {
                    fprintf(stderr, "bench_gpu: %s\n", actk_last_error());
                    return 1;
                }
                cpu_row(results, "eltwise", act.op == ACTK_OP_COUNT ? "?" : actk_op_name(act.op), direction_name(dir), dtype,
                        shape, n * elem * (dir == 0 ? 2 : 3), n, bench_now() - t0);
            }
        }
        /* structured ops on one small shape */
        const size_t outer = n / 1024, dim = 1024;
        snprintf(shape, sizeof shape, "%zux%zu", outer, dim);
        for (int kind = 0; kind < 2; ++kind) {
            if (!bench_selected(o, kind ? "log_softmax" : "softmax")) continue;
            double t0 = bench_now();
            actk_cpu_softmax_forward((actk_softmax_kind)kind, dtype, outer, dim, 1, x, out);
            cpu_row(results, "softmax", kind ? "log_softmax" : "softmax", "forward", dtype, shape, 2 * n * elem, n, bench_now() - t0);
            t0 = bench_now();
            actk_cpu_softmax_backward((actk_softmax_kind)kind, dtype, outer, dim, 1, out, dy, grad);
            cpu_row(results, "softmax", kind ? "log_softmax" : "softmax", "backward", dtype, shape, 3 * n * elem, n, bench_now() - t0);
        }
        if (bench_selected(o, "prelu")) {
            void *slope = bench_random(dtype, dim, 0.1, 0.3, 3), *dslope = malloc(dim * elem);
            double t0 = bench_now();
            actk_cpu_prelu_forward(dtype, outer, dim, 1, x, slope, out);
            cpu_row(results, "prelu", "prelu", "forward", dtype, shape, 2 * n * elem, n, bench_now() - t0);
            t0 = bench_now();
            actk_cpu_prelu_backward(dtype, outer, dim, 1, x, slope, dy, out, dslope);
            cpu_row(results, "prelu", "prelu", "backward", dtype, shape, 3 * n * elem, n, bench_now() - t0);
            free(slope);
            free(dslope);
        }
        if (bench_selected(o, "maxout")) {
            double t0 = bench_now();
            actk_cpu_maxout_forward(dtype, outer, dim / 4, 4, 1, x, out);
            cpu_row(results, "maxout", "maxout", "forward", dtype, shape, n * elem + n / 4 * elem, n, bench_now() - t0);
            t0 = bench_now();
            actk_cpu_maxout_backward(dtype, outer, dim / 4, 4, 1, x, dy, out);
            cpu_row(results, "maxout", "maxout", "backward", dtype, shape, 2 * n * elem + n / 4 * elem, n, bench_now() - t0);
        }
        if (bench_selected(o, "rrelu")) {
            const actk_rrelu p = actk_rrelu_default();
            double t0 = bench_now();
            actk_cpu_rrelu_forward(p, dtype, n, x, out);
            cpu_row(results, "rrelu", "rrelu", "forward", dtype, shape, 2 * n * elem, n, bench_now() - t0);
            t0 = bench_now();
            actk_cpu_rrelu_backward(p, dtype, n, x, dy, out);
            cpu_row(results, "rrelu", "rrelu", "backward", dtype, shape, 3 * n * elem, n, bench_now() - t0);
        }
        free(x);
        free(dy);
        free(out);
        free(grad);
    }
    return 0;
}

#ifdef BENCH_WITH_CUDA
int bench_run_gpu_mode(const bench_options *o, bench_results *results, char *device, size_t device_size);
#endif

int main(int argc, char **argv)
{
    bench_options o;
    if (!bench_parse_options(argc, argv, &o)) return 2;
    bench_results results = {NULL, 0, 0};
    char device[256] = "cpu";
    int gpu = 0, rc = 0;
    printf("bench_gpu (actk %s)\n", actk_version_string());
#ifdef BENCH_WITH_CUDA
    gpu = actk_cuda_device_count() > 0;
    if (gpu) rc = bench_run_gpu_mode(&o, &results, device, sizeof device);
#endif
    if (!gpu) {
        /* why: no device, no driver, or CUDA's text (e.g. a driver older than the runtime) */
        (void)actk_cuda_forward(actk_act_default(ACTK_OP_RELU), ACTK_F32, 0, NULL, NULL, NULL);
        const char *required = getenv("ACTK_REQUIRE_GPU");
        if (required && *required && strcmp(required, "0") != 0) {
            fprintf(stderr, "bench_gpu: ACTK_REQUIRE_GPU is set and the GPU path cannot run: %s\n", actk_last_error());
            return 1;
        }
        printf("GPU path unavailable: %s\n", actk_last_error());
    }
    if (!gpu) rc = run_cpu_mode(&o, &results);
    if (rc != 0) return rc;
    const int failures = bench_print_summary(&results, gpu);
    if (o.json && bench_write_json(&results, o.json, device, gpu) != 0) return 1;
    if (o.csv && bench_write_csv(&results, o.csv) != 0) return 1;
    free(results.rows);
    return failures ? 1 : 0;
}
