// SPDX-License-Identifier: MIT
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
 * CPU mode (--cpu, or no device: then it says why in one line; with
 * ACTK_REQUIRE_GPU=1 it fails (exit 1) instead): times the CPU reference
 * path, one warm-up call then the median of --reps timed calls per row,
 * element-wise ops at --sizes and the other families at --shapes (CPU
 * defaults, smaller than the GPU's, where an option is not given). Columns
 * it does not measure (memcpy, cuDNN, agreement) are null in JSON and CSV.
 */
#include "bench_common.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *direction_name(actk_direction dir)
{
    return dir == ACTK_DIR_FORWARD ? "forward" : dir == ACTK_DIR_BACKWARD ? "backward" : "from_y";
}

/* ============================ CPU mode ============================ */

/* One timed call of the CPU path: its family, what it runs and its buffers. */
typedef struct {
    enum { CPU_ELTWISE, CPU_SOFTMAX, CPU_PRELU, CPU_MAXOUT, CPU_RRELU, CPU_GATED } family;
    actk_act act;            /* element-wise op; the gate's op for gated */
    actk_direction dir;      /* backward from y: element-wise only */
    int variant;             /* softmax: the kind; gated: 1 = clamped SwiGLU */
    actk_gate_position gate; /* gated */
    actk_gated_layout layout;
    actk_dtype dtype;
    size_t n, outer, dim, inner, pieces;
    const void *x, *dy, *slope;
    void *out, *out2;
} cpu_call;

static actk_status run_cpu_call(const cpu_call *c)
{
    const int bwd = c->dir != ACTK_DIR_FORWARD;
    switch (c->family) {
    case CPU_ELTWISE:
        if (c->dir == ACTK_DIR_FORWARD) return actk_cpu_forward(c->act, c->dtype, c->n, c->x, c->out);
        if (c->dir == ACTK_DIR_BACKWARD) return actk_cpu_backward(c->act, c->dtype, c->n, c->x, c->dy, c->out);
        return actk_cpu_backward_from_y(c->act, c->dtype, c->n, c->x, c->dy, c->out);
    case CPU_SOFTMAX:
        /* backward takes the forward's output as y (out2 holds it, see cpu_shaped_rows) */
        return bwd ? actk_cpu_softmax_backward((actk_softmax_kind)c->variant, c->dtype, c->outer, c->dim, c->inner,
                                               c->out2, c->dy, c->out)
                   : actk_cpu_softmax_forward((actk_softmax_kind)c->variant, c->dtype, c->outer, c->dim, c->inner, c->x,
                                              c->out);
    case CPU_PRELU:
        return bwd ? actk_cpu_prelu_backward(c->dtype, c->outer, c->dim, c->inner, c->x, c->slope, c->dy, c->out,
                                             c->out2)
                   : actk_cpu_prelu_forward(c->dtype, c->outer, c->dim, c->inner, c->x, c->slope, c->out);
    case CPU_MAXOUT:
        return bwd ? actk_cpu_maxout_backward(c->dtype, c->outer, c->dim / c->pieces, c->pieces, c->inner, c->x, c->dy,
                                              c->out)
                   : actk_cpu_maxout_forward(c->dtype, c->outer, c->dim / c->pieces, c->pieces, c->inner, c->x, c->out);
    case CPU_RRELU: {
        actk_rrelu p = actk_rrelu_default();
        p.seed = 1234;
        return bwd ? actk_cpu_rrelu_backward(p, c->dtype, c->n, c->x, c->dy, c->out)
                   : actk_cpu_rrelu_forward(p, c->dtype, c->n, c->x, c->out);
    }
    case CPU_GATED: {
        const size_t rows = c->outer, cols = c->n / c->outer;
        if (c->variant)
            return bwd ? actk_cpu_clamped_swiglu_backward(ACTK_CLAMPED_SWIGLU_ALPHA, ACTK_CLAMPED_SWIGLU_LIMIT,
                                                          c->layout, c->gate, c->dtype, rows, cols, c->x, 2 * cols,
                                                          c->dy, cols, c->out, 2 * cols)
                       : actk_cpu_clamped_swiglu_forward(ACTK_CLAMPED_SWIGLU_ALPHA, ACTK_CLAMPED_SWIGLU_LIMIT,
                                                         c->layout, c->gate, c->dtype, rows, cols, c->x, 2 * cols,
                                                         c->out, cols);
        return bwd ? actk_cpu_gated_backward(c->act, c->layout, c->gate, c->dtype, rows, cols, c->x, 2 * cols, c->dy,
                                             cols, c->out, 2 * cols)
                   : actk_cpu_gated_forward(c->act, c->layout, c->gate, c->dtype, rows, cols, c->x, 2 * cols, c->out,
                                            cols);
    }
    }
    return ACTK_ERROR_INVALID_VALUE;
}

static int compare_doubles(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One warm-up call (page faults, caches, the oracle's first-touch costs), then
 * `reps` timed calls; the row's time is their median. Returns 0 or 1 (error
 * printed). */
static int time_cpu_call(const cpu_call *c, int reps, double *median_s)
{
    double *t = malloc((size_t)reps * sizeof *t);
    if (!t) return 1;
    if (run_cpu_call(c) != ACTK_SUCCESS) {
        fprintf(stderr, "bench_gpu: %s\n", actk_last_error());
        free(t);
        return 1;
    }
    for (int r = 0; r < reps; ++r) {
        const double t0 = bench_now();
        (void)run_cpu_call(c); /* the warm-up call succeeded with the same arguments */
        t[r] = bench_now() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, compare_doubles);
    *median_s = reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
    free(t);
    return 0;
}

/* Times `c` and adds the row: time and GB/s measured; memcpy, cuDNN and the
 * agreement check are not (the row leaves them unset, written as null). */
static int cpu_row(const bench_options *o, bench_results *results, const cpu_call *c, const char *family,
                   const char *op, const char *dir, const char *shape, size_t bytes, size_t elements)
{
    double seconds = 0;
    if (time_cpu_call(c, o->reps, &seconds) != 0) return 1;
    if (seconds <= 0) seconds = 1e-9; /* below the clock's resolution */
    bench_row row;
    memset(&row, 0, sizeof row);
    snprintf(row.family, sizeof row.family, "%s", family);
    snprintf(row.op, sizeof row.op, "%s", op);
    snprintf(row.direction, sizeof row.direction, "%s", dir);
    snprintf(row.dtype, sizeof row.dtype, "%s", actk_dtype_name(c->dtype));
    snprintf(row.shape, sizeof row.shape, "%s", shape);
    row.bytes = bytes;
    row.elements = elements;
    row.ms = seconds * 1e3;
    row.gbps = (double)bytes / seconds / 1e9;
    row.memcpy_gbps = -1; /* not measured */
    row.cudnn_ms = -1;
    row.max_ulp = -1;
    row.pass = 1;
    bench_add(results, &row);
    bench_print_row(&row, 0);
    return 0;
}

static const struct {
    const char *name;
    actk_op op;
    int clamped;
    actk_gate_position gate;
    actk_gated_layout layout;
} cpu_gated_kinds[] = {
    {"swiglu", ACTK_OP_SILU, 0, ACTK_GATE_FIRST, ACTK_GATED_CONCAT},
    {"geglu", ACTK_OP_GELU, 0, ACTK_GATE_FIRST, ACTK_GATED_CONCAT},
    {"geglu_tanh", ACTK_OP_GELU_TANH, 0, ACTK_GATE_FIRST, ACTK_GATED_CONCAT},
    {"reglu", ACTK_OP_RELU, 0, ACTK_GATE_FIRST, ACTK_GATED_CONCAT},
    {"glu", ACTK_OP_SIGMOID, 0, ACTK_GATE_SECOND, ACTK_GATED_CONCAT},
    {"clamped_swiglu", ACTK_OP_SILU, 1, ACTK_GATE_FIRST, ACTK_GATED_INTERLEAVED},
};

static int cpu_eltwise_rows(const bench_options *o, bench_results *results, actk_dtype dtype)
{
    const size_t elem = actk_dtype_size(dtype);
    for (int s = 0; s < o->n_sizes; ++s) {
        const size_t n = o->sizes[s];
        char shape[48];
        snprintf(shape, sizeof shape, "%zu", n);
        void *x = bench_random(dtype, n, -8, 8, 1), *dy = bench_random(dtype, n, -1, 1, 2), *out = malloc(n * elem);
        int rc = !x || !dy || !out;
        if (rc) fprintf(stderr, "bench_gpu: out of host memory at n = %zu\n", n);
        for (int op = 0; !rc && op < ACTK_OP_COUNT; ++op) {
            if (!bench_selected(o, actk_op_name((actk_op)op))) continue;
            cpu_call c;
            memset(&c, 0, sizeof c);
            c.family = CPU_ELTWISE;
            c.act = actk_act_default((actk_op)op);
            c.dtype = dtype;
            c.n = n;
            c.x = x;
            c.dy = dy;
            c.out = out;
            for (c.dir = ACTK_DIR_FORWARD; !rc && c.dir <= ACTK_DIR_BACKWARD_FROM_Y; ++c.dir) {
                if (c.dir == ACTK_DIR_BACKWARD_FROM_Y && !actk_op_has_backward_from_y(c.act.op)) continue;
                rc = cpu_row(o, results, &c, "eltwise", actk_op_name(c.act.op), direction_name(c.dir), shape,
                             n * elem * (c.dir == ACTK_DIR_FORWARD ? 2 : 3), n);
            }
        }
        free(x);
        free(dy);
        free(out);
        if (rc) return 1;
    }
    return 0;
}

/* softmax, log_softmax, prelu, maxout, rrelu and the gated ops on each of
 * --shapes (OUTERxDIM[xINNER]); bytes as the GPU mode counts them. */
static int cpu_shaped_rows(const bench_options *o, bench_results *results, actk_dtype dtype)
{
    const size_t elem = actk_dtype_size(dtype);
    for (int sh = 0; sh < o->n_shapes; ++sh) {
        const size_t outer = o->shapes[sh][0], dim = o->shapes[sh][1], inner = o->shapes[sh][2],
                     n = outer * dim * inner;
        char shape[48];
        if (inner > 1)
            snprintf(shape, sizeof shape, "%zux%zux%zu", outer, dim, inner);
        else
            snprintf(shape, sizeof shape, "%zux%zu", outer, dim);
        /* x holds 2n values for the gated ops (gate and up); y keeps softmax's forward output */
        void *x = bench_random(dtype, 2 * n, -4, 4, 31 + sh), *dy = bench_random(dtype, n, -1, 1, 32 + sh);
        void *slope = bench_random(dtype, dim, 0.1, 0.3, 33), *out = malloc(2 * n * elem), *y = malloc(n * elem);
        void *dslope = malloc(dim * elem);
        int rc = !x || !dy || !slope || !out || !y || !dslope;
        if (rc) fprintf(stderr, "bench_gpu: out of host memory at %s\n", shape);
        cpu_call c;
        memset(&c, 0, sizeof c);
        c.dtype = dtype;
        c.n = n;
        c.outer = outer;
        c.dim = dim;
        c.inner = inner;
        c.x = x;
        c.dy = dy;
        c.slope = slope;
        c.out = out;
        for (int kind = 0; !rc && kind < 2; ++kind) {
            const char *name = kind ? "log_softmax" : "softmax";
            if (!bench_selected(o, name)) continue;
            c.family = CPU_SOFTMAX;
            c.variant = kind;
            c.out2 = y;
            c.dir = ACTK_DIR_FORWARD;
            rc = actk_cpu_softmax_forward((actk_softmax_kind)kind, dtype, outer, dim, inner, x, y) != ACTK_SUCCESS;
            if (rc) fprintf(stderr, "bench_gpu: %s\n", actk_last_error());
            for (; !rc && c.dir <= ACTK_DIR_BACKWARD; ++c.dir)
                rc = cpu_row(o, results, &c, "softmax", name, direction_name(c.dir), shape, n * elem * (c.dir ? 3 : 2),
                             n);
        }
        if (!rc && bench_selected(o, "prelu") && dim <= ((size_t)1 << 20)) { /* channels, not rows of a million */
            c.family = CPU_PRELU;
            c.out2 = dslope;
            for (c.dir = ACTK_DIR_FORWARD; !rc && c.dir <= ACTK_DIR_BACKWARD; ++c.dir)
                rc = cpu_row(o, results, &c, "prelu", "prelu", direction_name(c.dir), shape,
                             (c.dir ? 3 * n + 2 * dim : 2 * n + dim) * elem, n);
        }
        if (!rc && bench_selected(o, "maxout")) {
            c.family = CPU_MAXOUT;
            c.pieces = dim % 4 == 0 ? 4 : dim % 2 == 0 ? 2 : 1;
            const size_t small = n / c.pieces; /* y and dy */
            for (c.dir = ACTK_DIR_FORWARD; !rc && c.dir <= ACTK_DIR_BACKWARD; ++c.dir)
                rc = cpu_row(o, results, &c, "maxout", "maxout", direction_name(c.dir), shape,
                             (c.dir ? 2 * n + small : n + small) * elem, n);
        }
        if (!rc && bench_selected(o, "rrelu")) {
            c.family = CPU_RRELU;
            for (c.dir = ACTK_DIR_FORWARD; !rc && c.dir <= ACTK_DIR_BACKWARD; ++c.dir)
                rc = cpu_row(o, results, &c, "rrelu", "rrelu", direction_name(c.dir), shape, (c.dir ? 3 : 2) * n * elem,
                             n);
        }
        /* gated: rows = outer, cols = dim x inner outputs per row (as the GPU mode) */
        char gated_shape[48];
        snprintf(gated_shape, sizeof gated_shape, "%zux%zu", outer, dim * inner);
        for (size_t k = 0; !rc && k < sizeof cpu_gated_kinds / sizeof cpu_gated_kinds[0]; ++k) {
            if (!bench_selected(o, cpu_gated_kinds[k].name)) continue;
            c.family = CPU_GATED;
            c.act = actk_act_default(cpu_gated_kinds[k].op);
            c.variant = cpu_gated_kinds[k].clamped;
            c.gate = cpu_gated_kinds[k].gate;
            c.layout = cpu_gated_kinds[k].layout;
            for (c.dir = ACTK_DIR_FORWARD; !rc && c.dir <= ACTK_DIR_BACKWARD; ++c.dir)
                rc = cpu_row(o, results, &c, "gated", cpu_gated_kinds[k].name, direction_name(c.dir), gated_shape,
                             (c.dir ? 5 : 3) * n * elem, n);
        }
        free(x);
        free(dy);
        free(slope);
        free(out);
        free(y);
        free(dslope);
        if (rc) return 1;
    }
    return 0;
}

static int run_cpu_mode(const bench_options *o, bench_results *results)
{
    printf(
        "CPU mode: timing the CPU reference path (long double oracle, one thread): one warm-up call, then the median\n"
        "of %d timed calls per row (--reps); element-wise at --sizes, the other families at --shapes\n\n",
        o->reps);
    bench_print_header(0);
    for (int t = 0; t < o->n_dtypes; ++t)
        if (cpu_eltwise_rows(o, results, o->dtypes[t]) != 0 || cpu_shaped_rows(o, results, o->dtypes[t]) != 0) return 1;
    return 0;
}

#ifdef BENCH_WITH_CUDA
int bench_run_gpu_mode(const bench_options *o, bench_results *results, char *device, size_t device_size);
#endif

int main(int argc, char **argv)
{
    bench_options o;
    if (!bench_parse_options(argc, argv, &o)) return 2;
    bench_set_print_rows(o.all_rows);
    bench_results results = {NULL, 0, 0};
    char device[256] = "cpu";
    int gpu = 0, rc = 0;
    printf("bench_gpu (actk %s)\n", actk_version_string());
#ifdef BENCH_WITH_CUDA
    gpu = !o.cpu && actk_cuda_device_count() > 0;
    if (gpu) rc = bench_run_gpu_mode(&o, &results, device, sizeof device);
#endif
    if (!gpu && !o.cpu) {
        /* why: no device, no driver, or CUDA's text (e.g. a driver older than the runtime) */
        (void)actk_cuda_forward(actk_act_default(ACTK_OP_RELU), ACTK_F32, 0, NULL, NULL, NULL);
        const char *required = getenv("ACTK_REQUIRE_GPU");
        if (required && *required && strcmp(required, "0") != 0) {
            fprintf(stderr, "bench_gpu: ACTK_REQUIRE_GPU is set and the GPU path cannot run: %s\n", actk_last_error());
            return 1;
        }
        printf("GPU path unavailable: %s\n", actk_last_error());
    }
    if (!gpu) {
        bench_use_cpu_defaults(&o);
        rc = run_cpu_mode(&o, &results);
    }
    if (rc != 0) return rc;
    const int failures = bench_print_summary(&results, gpu);
    if (o.json && bench_write_json(&results, &o, o.json, device, gpu) != 0) return 1;
    if (o.csv && bench_write_csv(&results, o.csv) != 0) return 1;
    free(results.rows);
    return failures ? 1 : 0;
}
