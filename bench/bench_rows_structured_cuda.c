// SPDX-License-Identifier: MIT
/*
 * bench_rows_structured_cuda.c - bench_gpu's structured rows at --shapes: softmax and
 * log_softmax (with cuDNN's time), PReLU, Maxout and RReLU, each checked
 * against the CPU reference.
 */
#include "bench_gpu_cuda.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- softmax rows ---------------------------------------------------------------- */

typedef struct {
    bench_gpu *g;
    actk_softmax_kind kind;
    actk_dtype dtype;
    size_t outer, dim, inner;
    int backward;
    bench_rotation in0, in1, out;
} softmax_ctx;

static int enqueue_softmax(void *ctx, int c)
{
    softmax_ctx *s = ctx;
    const actk_status st = s->backward ? actk_cuda_softmax_backward(s->kind, s->dtype, s->outer, s->dim, s->inner,
                                                                    s->in0.p[c], s->in1.p[c], s->out.p[c], s->g->stream)
                                       : actk_cuda_softmax_forward(s->kind, s->dtype, s->outer, s->dim, s->inner,
                                                                   s->in0.p[c], s->out.p[c], s->g->stream);
    if (st != ACTK_SUCCESS) fprintf(stderr, "bench_gpu: %s\n", actk_last_error());
    return st != ACTK_SUCCESS;
}


/* Checks a spread of whole (outer) slices against the CPU reference. */
static void check_softmax(softmax_ctx *s, const void *h_in0, const void *h_in1, bench_row *row, size_t sample_limit)
{
    const size_t elem = actk_dtype_size(s->dtype), slice = s->dim * s->inner, n = s->outer * slice;
    if (enqueue_softmax(s, 0) != 0 || cudaStreamSynchronize(s->g->stream) != cudaSuccess) { row->pass = 0; return; }
    void *got = malloc(n * elem), *want = malloc(slice * elem);
    if (!got || !want || cudaMemcpy(got, s->out.p[0], n * elem, cudaMemcpyDeviceToHost) != cudaSuccess) {
        row->pass = 0;
        free(got);
        free(want);
        return;
    }
    size_t slices = sample_limit / slice;
    if (slices < 1) slices = 1;
    if (slices > s->outer) slices = s->outer;
    const double bound = s->dtype == ACTK_F32 ? 4 : s->dtype == ACTK_F64 ? 8 : (s->backward ? 2 : 1);
    const double eps = s->dtype == ACTK_F32    ? 0x1p-24
                       : s->dtype == ACTK_F16  ? 0x1p-11
                       : s->dtype == ACTK_BF16 ? 0x1p-8
                                               : 0x1p-53;
    double worst = 0;
    int pass = 1;
    for (size_t k = 0; k < slices; ++k) {
        const size_t o = slices == 1 ? 0 : k * (s->outer - 1) / (slices - 1);
        const unsigned char *a = (const unsigned char *)h_in0 + o * slice * elem,
                            *b = (const unsigned char *)h_in1 + o * slice * elem;
        const actk_status st = s->backward
                                   ? actk_cpu_softmax_backward(s->kind, s->dtype, 1, s->dim, s->inner, a, b, want)
                                   : actk_cpu_softmax_forward(s->kind, s->dtype, 1, s->dim, s->inner, a, want);
        if (st != ACTK_SUCCESS) { pass = 0; break; }
        for (size_t i = 0; i < s->inner; ++i) {
            long double terms = 0; /* the row's sum scale, for the backward's cancellation allowance */
            for (size_t d = 0; s->backward && d < s->dim; ++d) {
                const size_t j = d * s->inner + i;
                terms += s->kind == ACTK_SOFTMAX ? fabsl(bench_load(s->dtype, b, j) * bench_load(s->dtype, a, j))
                                                 : fabsl(bench_load(s->dtype, b, j));
            }
            for (size_t d = 0; d < s->dim; ++d) {
                const size_t j = d * s->inner + i;
                const long double g = bench_load(s->dtype, got, o * slice + j), w = bench_load(s->dtype, want, j);
                const double u = bench_ulp(s->dtype, g, w);
                if (u > worst) worst = u;
                if (u <= bound) continue;
                if (s->backward) {
                    const long double yv = bench_load(s->dtype, a, j), dyv = bench_load(s->dtype, b, j);
                    const long double scale =
                        s->kind == ACTK_SOFTMAX ? fabsl(yv) * (fabsl(dyv) + terms) : fabsl(dyv) + expl(yv) * terms;
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

int bench_softmax(bench_gpu *g, const bench_options *o, bench_results *results)
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
                    const int copies = bench_copies_for(g, bytes);
                    /* the backward's y: the GPU forward output of x (computed on copy 0 below) */
                    const void *in0_host = backward ? h_y : h_x;
                    if (bench_rotation_alloc(&s.in0, n * elem, copies, in0_host) ||
                        bench_rotation_alloc(&s.in1, n * elem, backward ? copies : 0, h_dy) ||
                        bench_rotation_alloc(&s.out, n * elem, copies, NULL)) {
                        fprintf(stderr, "bench_gpu: out of device memory at %s\n", shape);
                        return -1;
                    }
                    bench_row row;
                    bench_init_row(&row, "softmax", kind ? "log_softmax" : "softmax", backward ? "backward" : "forward",
                                   dtype, shape, bytes);
                    const double ms = bench_time_calls(g, enqueue_softmax, &s, copies);
                    if (ms < 0) return -1;
                    const double cudnn_ms = bench_cudnn_softmax_ms(g, s.kind, dtype, s.outer, s.dim, s.inner, backward,
                                                                   &s.in0, &s.in1, &s.out, copies);
                    bench_finish_row(g, &row, ms, cudnn_ms);
                    if (o->check)
                        check_softmax(&s, in0_host, h_dy, &row, o->quick ? ((size_t)1 << 20) : ((size_t)1 << 22));
                    if (!backward) /* keep y = softmax(x) for the backward rows */
                        cudaMemcpy(h_y, s.out.p[0], n * elem, cudaMemcpyDeviceToHost);
                    bench_add(results, &row);
                    bench_print_row(&row, 1);
                    bench_rotation_free(&s.in0);
                    bench_rotation_free(&s.in1);
                    bench_rotation_free(&s.out);
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
    bench_gpu *g;
    int which; /* 0 prelu, 1 maxout, 2 rrelu */
    int backward;
    actk_dtype dtype;
    size_t outer, dim, inner, pieces;
    actk_rrelu rrelu;
    bench_rotation x, dy, out, slope, dslope, workspace;
} structured_ctx;

static int enqueue_structured(void *ctx, int c)
{
    structured_ctx *s = ctx;
    actk_status st = ACTK_SUCCESS;
    const size_t n = s->outer * s->dim * s->inner;
    switch (s->which) {
    case 0:
        st = s->backward ? actk_cuda_prelu_backward(s->dtype, s->outer, s->dim, s->inner, s->x.p[c], s->slope.p[0],
                                                    s->dy.p[c], s->out.p[c], s->dslope.p[0], s->workspace.p[0],
                                                    s->workspace.bytes, s->g->stream)
                         : actk_cuda_prelu_forward(s->dtype, s->outer, s->dim, s->inner, s->x.p[c], s->slope.p[0],
                                                   s->out.p[c], s->g->stream);
        break;
    case 1:
        st = s->backward ? actk_cuda_maxout_backward(s->dtype, s->outer, s->dim / s->pieces, s->pieces, s->inner,
                                                     s->x.p[c], s->dy.p[c], s->out.p[c], s->g->stream)
                         : actk_cuda_maxout_forward(s->dtype, s->outer, s->dim / s->pieces, s->pieces, s->inner,
                                                    s->x.p[c], s->out.p[c], s->g->stream);
        break;
    default:
        st = s->backward
                 ? actk_cuda_rrelu_backward(s->rrelu, s->dtype, n, s->x.p[c], s->dy.p[c], s->out.p[c], s->g->stream)
                 : actk_cuda_rrelu_forward(s->rrelu, s->dtype, n, s->x.p[c], s->out.p[c], s->g->stream);
    }
    if (st != ACTK_SUCCESS) fprintf(stderr, "bench_gpu: %s\n", actk_last_error());
    return st != ACTK_SUCCESS;
}

/* Agreement of the first outer slices (PReLU, Maxout) or a prefix (RReLU)
 * with the CPU path, which is run on the same data. */
static void check_structured(structured_ctx *s, const void *h_x, const void *h_dy, const void *h_slope, bench_row *row,
                             size_t limit)
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
            st = s->backward
                     ? actk_cpu_prelu_backward(s->dtype, slices, s->dim, s->inner, h_x, h_slope, h_dy, want, dslope)
                     : actk_cpu_prelu_forward(s->dtype, slices, s->dim, s->inner, h_x, h_slope, want);
        else if (s->which == 1)
            st = s->backward
                     ? actk_cpu_maxout_backward(s->dtype, slices, s->dim / s->pieces, s->pieces, s->inner, h_x, h_dy,
                                                want)
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

int bench_structured(bench_gpu *g, const bench_options *o, bench_results *results)
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
                    const int copies = bench_copies_for(g, bytes);
                    const size_t ws = which == 0 && backward
                                          ? actk_cuda_prelu_backward_workspace_size(dtype, s.outer, s.dim, s.inner)
                                          : 0;
                    const size_t out_elems = which == 1 && !backward ? small : n;
                    if (bench_rotation_alloc(&s.x, n * elem, copies, h_x) ||
                        bench_rotation_alloc(&s.dy, small * elem, backward ? copies : 0, h_dy) ||
                        bench_rotation_alloc(&s.out, out_elems * elem, copies, NULL) ||
                        bench_rotation_alloc(&s.slope, s.dim * elem, 1, h_slope) ||
                        bench_rotation_alloc(&s.dslope, s.dim * elem, 1, NULL) ||
                        bench_rotation_alloc(&s.workspace, ws, ws ? 1 : 0, NULL)) {
                        fprintf(stderr, "bench_gpu: out of device memory at %s\n", shape);
                        return -1;
                    }
                    bench_row row;
                    bench_init_row(&row, names[which], names[which], backward ? "backward" : "forward", dtype, shape,
                                   bytes);
                    const double ms = bench_time_calls(g, enqueue_structured, &s, copies);
                    if (ms < 0) return -1;
                    bench_finish_row(g, &row, ms, -1);
                    if (o->check) check_structured(&s, h_x, h_dy, h_slope, &row, (size_t)1 << 20);
                    bench_add(results, &row);
                    bench_print_row(&row, 1);
                    bench_rotation_free(&s.x); bench_rotation_free(&s.dy); bench_rotation_free(&s.out);
                    bench_rotation_free(&s.slope); bench_rotation_free(&s.dslope); bench_rotation_free(&s.workspace);
                }
                free(h_x);
                free(h_dy);
                free(h_slope);
            }
        }
    }
    return 0;
}
