// SPDX-License-Identifier: MIT
/*
 * bench_quant_cuda.c - bench_gpu rows for the FP8 outputs (issue 15):
 * silu over a 2-D tensor and SwiGLU, into E4M3, per-tensor, per-row,
 * per-group 128 (UE8M0) and MXFP8. Bytes per call = input read + 1 byte
 * per output + the scales written; "% of memcpy" compares with a
 * device-to-device copy of the same bytes. Agreement: the first rows'
 * codes against the CPU oracle (actk_cpu_*_quant on the same data):
 * max_ulp is the largest distance in FP8 steps; a code more than one step
 * away fails (one step: a value at a rounding boundary, or a scale the
 * GPU's float amax moved across one).
 */
#include "bench_gpu_cuda.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define QUANT_MAX_COPIES 32

typedef struct {
    const bench_gpu_services *h;
    int gated;
    actk_act act;
    actk_dtype dtype;
    size_t rows, cols;
    actk_quant q;
    void *x[QUANT_MAX_COPIES], *y[QUANT_MAX_COPIES];
    float *scale, *scale_inv;   /* scale_inv: rows * groups (or one) */
    unsigned char *mx;
    int copies;
} quant_ctx;

static actk_quant quant_mode(int m, float *scale, float *amax, float *scale_inv, unsigned char *mx, const char **name)
{
    actk_quant q = actk_quant_default(ACTK_FP8_E4M3, m == 0 ? ACTK_QUANT_PER_TENSOR : m == 1 ? ACTK_QUANT_PER_ROW
                                                       : m == 2 ? ACTK_QUANT_PER_GROUP : ACTK_QUANT_MXFP8);
    static const char *names[4] = {"fp8-tensor", "fp8-row", "fp8-g128-ue8m0", "fp8-mxfp8"};
    *name = names[m];
    q.group_size = 128;
    q.scale_pow2 = 1;
    q.scale = scale;
    q.amax = amax;
    q.scale_inv = scale_inv;
    q.mx_scales = mx;
    return q;
}

static actk_status quant_call(const quant_ctx *s, int cpu, size_t rows, const void *x, void *y, const actk_quant *q)
{
    const size_t w = s->gated ? 2 * s->cols : s->cols;
    if (s->gated)
        return cpu ? actk_cpu_gated_forward_quant(s->act, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, s->dtype, rows, s->cols,
                                                  x, w, NULL, q, y, s->cols)
                   : actk_cuda_gated_forward_quant(s->act, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, s->dtype, rows, s->cols,
                                                   x, w, NULL, q, y, s->cols, s->h->stream);
    return cpu ? actk_cpu_forward_2d_quant(s->act, s->dtype, rows, s->cols, x, w, NULL, q, y, s->cols)
               : actk_cuda_forward_2d_quant(s->act, s->dtype, rows, s->cols, x, w, NULL, q, y, s->cols, s->h->stream);
}

static int enqueue_quant(void *ctx, int c)
{
    quant_ctx *s = ctx;
    const actk_status st = quant_call(s, 0, s->rows, s->x[c], s->y[c], &s->q);
    if (st != ACTK_SUCCESS) fprintf(stderr, "bench_gpu: %s\n", actk_last_error());
    return st != ACTK_SUCCESS;
}

/* Position of an E4M3 code on the ordered line of values (NaN: kNanRank). */
enum { kNanRank = 1000 };
static int e4m3_rank(unsigned char c)
{
    if ((c & 0x7F) == 0x7F) return kNanRank;
    return (c & 0x80) ? -(int)(c & 0x7F) : (int)(c & 0x7F);
}

static void check_quant(quant_ctx *s, const void *h_x, bench_row *row)
{
    size_t rows = 64 < s->rows ? 64 : s->rows;
    const size_t count = rows * s->cols;
    const size_t groups = s->q.mode == ACTK_QUANT_PER_ROW ? 1 : s->q.mode == ACTK_QUANT_PER_GROUP ? s->cols / 128
                        : s->q.mode == ACTK_QUANT_MXFP8 ? s->cols / 32 : 0;
    unsigned char *got = malloc(count), *want = malloc(count), *mx = malloc(rows * groups + 1);
    float *inv = malloc((rows * groups + 1) * sizeof(float)), amax = 0, scale_inv = 0, scale = 1;
    if (!got || !want || !mx || !inv || enqueue_quant(s, 0) != 0 ||
        cudaStreamSynchronize(s->h->stream) != cudaSuccess ||
        cudaMemcpy(got, s->y[0], count, cudaMemcpyDeviceToHost) != cudaSuccess ||
        cudaMemcpy(&scale, s->scale, sizeof scale, cudaMemcpyDeviceToHost) != cudaSuccess) {
        row->pass = 0;
    } else {
        actk_quant q = s->q;
        q.scale = &scale;
        q.amax = &amax;
        q.scale_inv = q.mode == ACTK_QUANT_PER_TENSOR ? &scale_inv : inv;
        q.scales = NULL;
        q.mx_scales = mx;
        const actk_status st = quant_call(s, 1, rows, h_x, want, &q);
        int worst = 0;
        for (size_t k = 0; st == ACTK_SUCCESS && k < count; ++k) {
            const int a = e4m3_rank(got[k]), b = e4m3_rank(want[k]);
            const int d = (a == kNanRank) != (b == kNanRank) ? kNanRank : abs(a - b);
            if (d > worst) worst = d;
        }
        row->max_ulp = st == ACTK_SUCCESS ? worst : INFINITY;
        row->pass = row->max_ulp <= 1;
    }
    free(got);
    free(want);
    free(mx);
    free(inv);
}

int bench_quant(const bench_gpu_services *h, const bench_options *o, bench_results *results)
{
    if (!bench_selected(o, "fp8")) return 0;
    for (int gated = 0; gated < 2; ++gated)
        for (int t = 0; t < o->n_dtypes; ++t) {
            const actk_dtype dtype = o->dtypes[t];
            if (dtype == ACTK_F64) continue;
            const size_t elem = actk_dtype_size(dtype);
            for (int sh = 0; sh < o->n_shapes; ++sh) {
                quant_ctx s;
                memset(&s, 0, sizeof s);
                s.h = h;
                s.gated = gated;
                s.act = actk_act_default(ACTK_OP_SILU);
                s.dtype = dtype;
                s.rows = o->shapes[sh][0];
                s.cols = o->shapes[sh][1] * (o->shapes[sh][2] ? o->shapes[sh][2] : 1);
                if (s.cols % 128 != 0) continue; /* every mode needs whole groups */
                const size_t n = s.rows * s.cols, in_bytes = (gated ? 2 : 1) * n * elem;
                char shape[48];
                snprintf(shape, sizeof shape, "%zux%zu", s.rows, s.cols);
                void *h_x = bench_random(dtype, (gated ? 2 : 1) * n, -4, 4, 51 + sh);
                if (!h_x) return -1;
                const float one = 1.0f, zero = 0.0f;
                for (int m = 0; m < 4; ++m) {
                    const char *name;
                    const size_t groups = m == 0 ? 0 : m == 1 ? 1 : m == 2 ? s.cols / 128 : s.cols / 32;
                    const size_t scale_bytes = m == 3 ? s.rows * groups : s.rows * groups * sizeof(float);
                    const size_t bytes = in_bytes + n + scale_bytes;
                    s.copies = h->copies_for(h->gpu, bytes);
                    if (s.copies > QUANT_MAX_COPIES) s.copies = QUANT_MAX_COPIES;
                    int fail =
                        cudaMalloc((void **)&s.scale, 2 * sizeof(float)) != cudaSuccess ||
                        cudaMalloc((void **)&s.scale_inv, (s.rows * groups + 1) * sizeof(float)) != cudaSuccess ||
                        cudaMalloc((void **)&s.mx, s.rows * groups + 1) != cudaSuccess;
                    for (int c = 0; !fail && c < s.copies; ++c)
                        fail = cudaMalloc(&s.x[c], in_bytes) != cudaSuccess || cudaMalloc(&s.y[c], n) != cudaSuccess ||
                               cudaMemcpy(s.x[c], h_x, in_bytes, cudaMemcpyHostToDevice) != cudaSuccess;
                    if (fail || cudaMemcpy(s.scale, &one, sizeof one, cudaMemcpyHostToDevice) != cudaSuccess ||
                        cudaMemcpy(s.scale + 1, &zero, sizeof zero, cudaMemcpyHostToDevice) != cudaSuccess) {
                        fprintf(stderr, "bench_gpu: out of device memory at %s\n", shape);
                        return -1;
                    }
                    s.q = quant_mode(m, s.scale, s.scale + 1, s.scale_inv, s.mx, &name);
                    bench_row row;
                    h->init_row(&row, "fp8", gated ? "swiglu" : "silu", name, dtype, shape, bytes);
                    row.elements = n;
                    const double ms = h->time_calls(h->gpu, enqueue_quant, &s, s.copies);
                    if (ms < 0) return -1;
                    h->finish_row(h->gpu, &row, ms);
                    if (o->check) check_quant(&s, h_x, &row);
                    bench_add(results, &row);
                    bench_print_row(&row, 1);
                    for (int c = 0; c < s.copies; ++c) {
                        cudaFree(s.x[c]);
                        cudaFree(s.y[c]);
                    }
                    cudaFree(s.scale);
                    cudaFree(s.scale_inv);
                    cudaFree(s.mx);
                }
                free(h_x);
            }
        }
    return 0;
}
