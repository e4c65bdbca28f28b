// SPDX-License-Identifier: MIT
/*
 * bench_rows_gated_cuda.c - bench_gpu's gated rows (swiglu, geglu, ... from rows x 2cols
 * inputs) at --shapes, forward and backward, checked against the CPU
 * reference.
 */
#include "bench_gpu_cuda.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
    bench_gpu *g;
    const gated_kind *kind;
    int backward;
    actk_dtype dtype;
    size_t rows, cols;
    bench_rotation x, dy, out;
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
        return s->backward
                   ? actk_cuda_clamped_swiglu_backward(a, l, L, G, s->dtype, rows, c, x, w, dy, c, out, w, s->g->stream)
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
        const double bound = s->dtype == ACTK_F16 || s->dtype == ACTK_BF16 ? 1
                             : s->dtype == ACTK_F32                        ? (s->backward ? 4 : 2)
                                                                           : (s->backward ? 9 : 5);
        row->max_ulp = st == ACTK_SUCCESS ? worst : INFINITY;
        row->pass = row->max_ulp <= bound;
    }
    free(got);
    free(want);
}

/* Shapes: --shapes outer x dim gives rows = outer and cols = dim (x inner). */
int bench_gated(bench_gpu *g, const bench_options *o, bench_results *results)
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
                    const int copies = bench_copies_for(g, bytes);
                    if (bench_rotation_alloc(&s.x, 2 * n * elem, copies, h_x) ||
                        bench_rotation_alloc(&s.dy, n * elem, backward ? copies : 0, h_dy) ||
                        bench_rotation_alloc(&s.out, (backward ? 2 : 1) * n * elem, copies, NULL)) {
                        fprintf(stderr, "bench_gpu: out of device memory at %s\n", shape);
                        return -1;
                    }
                    bench_row row;
                    bench_init_row(&row, "gated", gated_kinds[k].name, backward ? "backward" : "forward", dtype, shape,
                                   bytes);
                    row.elements = n;
                    const double ms = bench_time_calls(g, enqueue_gated, &s, copies);
                    if (ms < 0) return -1;
                    bench_finish_row(g, &row, ms, -1);
                    if (o->check) check_gated(&s, h_x, h_dy, &row, (size_t)1 << 20);
                    bench_add(results, &row);
                    bench_print_row(&row, 1);
                    bench_rotation_free(&s.x);
                    bench_rotation_free(&s.dy);
                    bench_rotation_free(&s.out);
                }
                free(h_x);
                free(h_dy);
            }
        }
    }
    return 0;
}
