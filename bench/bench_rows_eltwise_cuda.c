// SPDX-License-Identifier: MIT
/*
 * bench_rows_eltwise_cuda.c - bench_gpu's element-wise rows: every selected op forward,
 * backward and backward from y at --sizes, with cuDNN's time where it has
 * the op and a check against the CPU reference.
 */
#include "bench_gpu_cuda.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- element-wise rows --------------------------------------------------------- */

typedef struct {
    bench_gpu *g;
    actk_act act;
    actk_dtype dtype;
    size_t n;
    actk_direction dir;
    bench_rotation in0, in1, out;
} eltwise_ctx;

static int enqueue_eltwise(void *ctx, int c)
{
    eltwise_ctx *e = ctx;
    actk_status s;
    if (e->dir == ACTK_DIR_FORWARD)
        s = actk_cuda_forward(e->act, e->dtype, e->n, e->in0.p[c], e->out.p[c], e->g->stream);
    else if (e->dir == ACTK_DIR_BACKWARD)
        s = actk_cuda_backward(e->act, e->dtype, e->n, e->in0.p[c], e->in1.p[c], e->out.p[c], e->g->stream);
    else s = actk_cuda_backward_from_y(e->act, e->dtype, e->n, e->in0.p[c], e->in1.p[c], e->out.p[c], e->g->stream);
    if (s != ACTK_SUCCESS) fprintf(stderr, "bench_gpu: %s\n", actk_last_error());
    return s != ACTK_SUCCESS;
}


size_t bench_sample_indices(size_t n, size_t limit, size_t **out)
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
    const size_t m = bench_sample_indices(e->n, sample_limit, &idx);
    void *a = malloc(m * elem), *b = malloc(m * elem), *want = malloc(m * elem);
    if (!got || !idx || !a || !b || !want ||
        cudaMemcpy(got, e->out.p[0], e->n * elem, cudaMemcpyDeviceToHost) != cudaSuccess) {
        row->pass = 0;
    } else {
        for (size_t k = 0; k < m; ++k) {
            bench_store(e->dtype, a, k, bench_load(e->dtype, h_in0, idx[k]));
            bench_store(e->dtype, b, k, bench_load(e->dtype, h_in1, idx[k]));
        }
        actk_status s = e->dir == ACTK_DIR_FORWARD ? actk_cpu_forward(e->act, e->dtype, m, a, want)
                      : e->dir == ACTK_DIR_BACKWARD ? actk_cpu_backward(e->act, e->dtype, m, a, b, want)
                                    : actk_cpu_backward_from_y(e->act, e->dtype, m, a, b, want);
        double worst = 0;
        for (size_t k = 0; s == ACTK_SUCCESS && k < m; ++k) {
            const double u = bench_ulp(e->dtype, bench_load(e->dtype, got, idx[k]), bench_load(e->dtype, want, k));
            if (u > worst) worst = u;
        }
        row->max_ulp = s == ACTK_SUCCESS ? worst : INFINITY;
        row->pass = row->max_ulp <= bench_ulp_bound(e->dtype, e->dir == ACTK_DIR_FORWARD);
    }
    free(got); free(idx); free(a); free(b); free(want);
}

int bench_eltwise(bench_gpu *g, const bench_options *o, bench_results *results)
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
                for (actk_direction dir = ACTK_DIR_FORWARD; dir <= ACTK_DIR_BACKWARD_FROM_Y; ++dir) {
                    eltwise_ctx e;
                    memset(&e, 0, sizeof e);
                    e.g = g;
                    e.act = actk_act_default((actk_op)op);
                    e.dtype = dtype;
                    e.n = n;
                    e.dir = dir;
                    if (dir == ACTK_DIR_BACKWARD_FROM_Y && !actk_op_has_backward_from_y(e.act.op)) continue;
                    const size_t bytes = n * elem * (dir == ACTK_DIR_FORWARD ? 2 : 3);
                    const int copies = bench_copies_for(g, bytes);
                    if (bench_rotation_alloc(&e.in0, n * elem, copies, h_x) ||
                        bench_rotation_alloc(&e.in1, n * elem, dir != ACTK_DIR_FORWARD ? copies : 0, h_dy) ||
                        bench_rotation_alloc(&e.out, n * elem, copies, NULL)) {
                        fprintf(stderr, "bench_gpu: out of device memory at n = %zu\n", n);
                        return -1;
                    }
                    bench_row row;
                    bench_init_row(&row, "eltwise", actk_op_name(e.act.op),
                                   dir == ACTK_DIR_FORWARD    ? "forward"
                                   : dir == ACTK_DIR_BACKWARD ? "backward"
                                                              : "from_y",
                                   dtype, shape, bytes);
                    const double ms = bench_time_calls(g, enqueue_eltwise, &e, copies);
                    if (ms < 0) return -1;
                    const double cudnn_ms =
                        bench_cudnn_activation_ms(g, e.act, dtype, n, dir, &e.in0, &e.in1, &e.out, copies);
                    bench_finish_row(g, &row, ms, cudnn_ms);
                    if (o->check) check_eltwise(&e, h_x, h_dy, &row, o->quick ? ((size_t)1 << 16) : ((size_t)1 << 20));
                    bench_add(results, &row);
                    bench_print_row(&row, 1);
                    bench_rotation_free(&e.in0);
                    bench_rotation_free(&e.in1);
                    bench_rotation_free(&e.out);
                }
            }
            free(h_x);
            free(h_dy);
        }
    }
    return 0;
}
