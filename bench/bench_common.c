/*
 * bench_common.c - options, rows and output for bench_gpu (see bench_common.h).
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include "bench_common.h"

#include "half_convert.h"
#include "storage.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void usage(FILE *to)
{
    fprintf(to,
            "usage: bench_gpu [--ops relu,gelu,...,softmax,log_softmax,prelu,maxout,rrelu,\n"
            "                        swiglu,geglu,geglu_tanh,reglu,glu,clamped_swiglu,cross_entropy|all]\n"
            "                 [--dtypes f32,f16,bf16,f64] [--sizes 4K,1M,64M] [--shapes 65536x1024,256x64x4096]\n"
            "                 [--reps N] [--quick] [--json FILE] [--csv FILE] [--no-check] [--help]\n"
            "Measures each op's throughput against the device-to-device memcpy bandwidth measured in the\n"
            "same run at the same byte count, against cuDNN where it has the op, and checks agreement with\n"
            "the CPU reference (max ULP, PASS/FAIL against the promised bounds). Exit status 1 if any\n"
            "agreement check fails. Without a CUDA device it times the CPU reference path instead.\n");
}

static size_t parse_size(const char *s, int *ok)
{
    char *end = NULL;
    const double v = strtod(s, &end);
    double scale = 1;
    if (end && (*end == 'K' || *end == 'k')) scale = 1024, ++end;
    else if (end && (*end == 'M' || *end == 'm')) scale = 1024.0 * 1024, ++end;
    else if (end && (*end == 'G' || *end == 'g')) scale = 1024.0 * 1024 * 1024, ++end;
    *ok = end && *end == '\0' && v >= 0;
    return (size_t)(v * scale);
}

/* Splits a comma list in place into items. */
static int split_list(char *s, const char **items, int max)
{
    int n = 0;
    for (char *tok = strtok(s, ","); tok && n < max; tok = strtok(NULL, ",")) items[n++] = tok;
    return n;
}

int bench_parse_options(int argc, char **argv, bench_options *o)
{
    memset(o, 0, sizeof *o);
    o->all_ops = 1;
    o->reps = 20;
    o->trials = 7;
    o->check = 1;
    const char *ops = NULL, *dtypes = NULL, *sizes = NULL, *shapes = NULL;
    int reps_given = 0;
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); exit(0); }
        if (!strcmp(a, "--quick")) { o->quick = 1; continue; }
        if (!strcmp(a, "--no-check")) { o->check = 0; continue; }
        if (!v) { fprintf(stderr, "bench_gpu: %s needs a value\n", a); usage(stderr); return 0; }
        ++i;
        if (!strcmp(a, "--ops")) ops = v;
        else if (!strcmp(a, "--dtypes")) dtypes = v;
        else if (!strcmp(a, "--sizes")) sizes = v;
        else if (!strcmp(a, "--shapes")) shapes = v;
        else if (!strcmp(a, "--reps")) { o->reps = atoi(v); reps_given = 1; }
        else if (!strcmp(a, "--json")) o->json = v;
        else if (!strcmp(a, "--csv")) o->csv = v;
        else { fprintf(stderr, "bench_gpu: unknown option %s\n", a); usage(stderr); return 0; }
    }
    if (o->reps < 1) { fprintf(stderr, "bench_gpu: --reps must be >= 1\n"); return 0; }
    if (o->quick) {
        o->trials = 3;
        if (!reps_given) o->reps = 10;
    }
    static char ops_buf[4096], dtypes_buf[256], sizes_buf[1024], shapes_buf[4096];
    if (ops && strcmp(ops, "all") != 0) {
        snprintf(ops_buf, sizeof ops_buf, "%s", ops);
        o->n_ops = split_list(ops_buf, o->ops, BENCH_MAX_LIST);
        o->all_ops = 0;
        for (int k = 0; k < o->n_ops; ++k) {
            actk_op op;
            const char *n = o->ops[k];
            if (actk_op_from_name(n, &op) != ACTK_SUCCESS && strcmp(n, "softmax") && strcmp(n, "log_softmax") &&
                strcmp(n, "prelu") && strcmp(n, "maxout") && strcmp(n, "rrelu") && strcmp(n, "swiglu") &&
                strcmp(n, "geglu") && strcmp(n, "geglu_tanh") && strcmp(n, "reglu") && strcmp(n, "glu") &&
                strcmp(n, "clamped_swiglu") && strcmp(n, "cross_entropy")) {
                fprintf(stderr, "bench_gpu: unknown op %s\n", n);
                return 0;
            }
        }
    }
    snprintf(dtypes_buf, sizeof dtypes_buf, "%s", dtypes ? dtypes : "f32,f16,bf16");
    const char *dt[8];
    const int n_dt = split_list(dtypes_buf, dt, 8);
    for (int k = 0; k < n_dt; ++k) {
        const char *names[4] = {"f32", "f16", "bf16", "f64"};
        const actk_dtype values[4] = {ACTK_F32, ACTK_F16, ACTK_BF16, ACTK_F64};
        int found = 0;
        for (int j = 0; j < 4; ++j)
            if (!strcmp(dt[k], names[j]) && o->n_dtypes < 4) { o->dtypes[o->n_dtypes++] = values[j]; found = 1; }
        if (!found) { fprintf(stderr, "bench_gpu: unknown dtype %s\n", dt[k]); return 0; }
    }
    /* default sizes: 64M elements exceeds L2 for every dtype (128 MiB+ per tensor) */
    /* quick: 16M elements (64 MiB per f32 tensor, above H100's 50 MB L2) */
    snprintf(sizes_buf, sizeof sizes_buf, "%s", sizes ? sizes : (o->quick ? "16M" : "1M,64M"));
    const char *sz[BENCH_MAX_LIST];
    const int n_sz = split_list(sizes_buf, sz, BENCH_MAX_LIST);
    for (int k = 0; k < n_sz; ++k) {
        int ok = 0;
        o->sizes[o->n_sizes++] = parse_size(sz[k], &ok);
        if (!ok || o->sizes[o->n_sizes - 1] == 0) { fprintf(stderr, "bench_gpu: bad size %s\n", sz[k]); return 0; }
    }
    /* default shapes: rows * cols = 2^26 (the anchors' size) at several row lengths, plus an NCHW-style inner axis */
    snprintf(shapes_buf, sizeof shapes_buf, "%s",
             shapes ? shapes
                    : (o->quick ? "16384x1024,512x32768,16x1048576,64x64x4096"
                                : "67108864x1,2097152x32,262144x256,65536x1024,8192x8192,2048x32768,512x131072,64x1048576,16x4194304,256x64x4096"));
    const char *sh[BENCH_MAX_LIST];
    const int n_sh = split_list(shapes_buf, sh, BENCH_MAX_LIST);
    for (int k = 0; k < n_sh; ++k) {
        unsigned long long a = 0, b = 0, c = 1;
        const int got = sscanf(sh[k], "%llux%llux%llu", &a, &b, &c);
        if (got < 2 || a == 0 || b == 0 || c == 0) { fprintf(stderr, "bench_gpu: bad shape %s (OUTERxDIM[xINNER])\n", sh[k]); return 0; }
        o->shapes[o->n_shapes][0] = a;
        o->shapes[o->n_shapes][1] = b;
        o->shapes[o->n_shapes][2] = got == 3 ? c : 1;
        ++o->n_shapes;
    }
    return 1;
}

int bench_selected(const bench_options *o, const char *name)
{
    if (o->all_ops) return 1;
    for (int k = 0; k < o->n_ops; ++k)
        if (!strcmp(o->ops[k], name)) return 1;
    return 0;
}

void bench_add(bench_results *r, const bench_row *row)
{
    if (r->count == r->capacity) {
        r->capacity = r->capacity ? 2 * r->capacity : 64;
        bench_row *grown = realloc(r->rows, r->capacity * sizeof *grown);
        if (!grown) return;
        r->rows = grown;
    }
    r->rows[r->count++] = *row;
}

void bench_print_header(int gpu)
{
    if (gpu)
        printf("%-8s %-12s %-10s %-5s %-18s %10s %9s %8s %10s %8s %10s %s\n", "family", "op", "direction", "dtype", "shape",
               "time_us", "GB/s", "%memcpy", "cudnn_us", "speedup", "max_ulp", "check");
    else
        printf("%-8s %-12s %-10s %-5s %-18s %10s %9s %10s\n", "family", "op", "direction", "dtype", "shape", "time_us", "GB/s",
               "Melem/s");
}

void bench_print_row(const bench_row *row, int gpu)
{
    char cudnn[16] = "-", speedup[16] = "-", ulp[16] = "-";
    if (row->cudnn_ms >= 0) {
        snprintf(cudnn, sizeof cudnn, "%.1f", row->cudnn_ms * 1e3);
        snprintf(speedup, sizeof speedup, "%.2fx", row->speedup);
    }
    if (row->max_ulp >= 0) snprintf(ulp, sizeof ulp, "%.0f", row->max_ulp);
    if (gpu)
        printf("%-8s %-12s %-10s %-5s %-18s %10.1f %9.1f %7.1f%% %10s %8s %10s %s\n", row->family, row->op, row->direction,
               row->dtype, row->shape, row->ms * 1e3, row->gbps, row->pct_memcpy, cudnn, speedup, ulp,
               row->max_ulp < 0 ? "-" : (row->pass ? "PASS" : "FAIL"));
    else
        printf("%-8s %-12s %-10s %-5s %-18s %10.1f %9.3f %10.2f\n", row->family, row->op, row->direction, row->dtype,
               row->shape, row->ms * 1e3, row->gbps, row->elements / (row->ms * 1e-3) / 1e6);
    fflush(stdout);
}

int bench_print_summary(const bench_results *r, int gpu)
{
    const char *families[] = {"eltwise", "softmax", "prelu", "maxout", "rrelu", "xent"};
    int failures = 0;
    printf("\nsummary%s\n", gpu ? " (% of the memcpy bandwidth measured in this run at the same byte count)" : "");
    for (int f = 0; f < (int)(sizeof families / sizeof families[0]); ++f) {
        double worst = 1e300, log_sum = 0;
        int count = 0, under = 0, fails = 0;
        const bench_row *worst_row = NULL;
        for (size_t k = 0; k < r->count; ++k) {
            const bench_row *row = &r->rows[k];
            if (strcmp(row->family, families[f]) != 0) continue;
            const double v = gpu ? row->pct_memcpy : row->gbps;
            if (v < worst) { worst = v; worst_row = row; }
            log_sum += log(v > 1e-9 ? v : 1e-9);
            ++count;
            under += gpu && row->pct_memcpy < 90.0;
            fails += !row->pass;
        }
        if (!count) continue;
        failures += fails;
        if (gpu)
            printf("  %-8s %4d rows: geomean %5.1f%%, worst %5.1f%% (%s %s %s %s), %d under 90%%, %d agreement failures\n",
                   families[f], count, exp(log_sum / count), worst, worst_row->op, worst_row->direction, worst_row->dtype,
                   worst_row->shape, under, fails);
        else
            printf("  %-8s %4d rows: geomean %.3f GB/s, slowest %.3f GB/s (%s %s %s)\n", families[f], count,
                   exp(log_sum / count), worst, worst_row->op, worst_row->direction, worst_row->dtype);
    }
    if (gpu) {
        printf("  rows under 90%% of memcpy:");
        int any = 0;
        for (size_t k = 0; k < r->count; ++k)
            if (r->rows[k].pct_memcpy < 90.0) {
                printf("%s %s/%s/%s/%s %.0f%%", any ? "," : "", r->rows[k].op, r->rows[k].direction, r->rows[k].dtype,
                       r->rows[k].shape, r->rows[k].pct_memcpy);
                any = 1;
            }
        printf("%s\n", any ? "" : " none");
    }
    if (gpu)
        printf("  agreement: %d failure(s)\n", failures);
    else
        printf("  agreement: not checked in CPU mode (the CPU path is the reference)\n");
    return failures;
}

int bench_write_json(const bench_results *r, const char *path, const char *device, int gpu)
{
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); return -1; }
    fprintf(f, "{\n  \"device\": \"%s\",\n  \"mode\": \"%s\",\n  \"actk_version\": \"%s\",\n  \"rows\": [\n", device,
            gpu ? "gpu" : "cpu", actk_version_string());
    for (size_t k = 0; k < r->count; ++k) {
        const bench_row *row = &r->rows[k];
        fprintf(f,
                "    {\"family\": \"%s\", \"op\": \"%s\", \"direction\": \"%s\", \"dtype\": \"%s\", \"shape\": \"%s\", "
                "\"bytes\": %zu, \"time_us\": %.3f, \"gbps\": %.3f, \"memcpy_gbps\": %.3f, \"pct_memcpy\": %.2f, "
                "\"cudnn_us\": %.3f, \"speedup_vs_cudnn\": %.3f, \"max_ulp\": %.1f, \"pass\": %s}%s\n",
                row->family, row->op, row->direction, row->dtype, row->shape, row->bytes, row->ms * 1e3, row->gbps,
                row->memcpy_gbps, row->pct_memcpy, row->cudnn_ms >= 0 ? row->cudnn_ms * 1e3 : -1.0,
                row->cudnn_ms >= 0 ? row->speedup : -1.0, row->max_ulp, row->pass ? "true" : "false",
                k + 1 < r->count ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
    fclose(f);
    return 0;
}

int bench_write_csv(const bench_results *r, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); return -1; }
    fprintf(f, "family,op,direction,dtype,shape,bytes,time_us,gbps,memcpy_gbps,pct_memcpy,cudnn_us,speedup_vs_cudnn,max_ulp,pass\n");
    for (size_t k = 0; k < r->count; ++k) {
        const bench_row *row = &r->rows[k];
        fprintf(f, "%s,%s,%s,%s,%s,%zu,%.3f,%.3f,%.3f,%.2f,%.3f,%.3f,%.1f,%d\n", row->family, row->op, row->direction,
                row->dtype, row->shape, row->bytes, row->ms * 1e3, row->gbps, row->memcpy_gbps, row->pct_memcpy,
                row->cudnn_ms >= 0 ? row->cudnn_ms * 1e3 : -1.0, row->cudnn_ms >= 0 ? row->speedup : -1.0, row->max_ulp,
                row->pass);
    }
    fclose(f);
    return 0;
}

double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void *bench_random(actk_dtype dtype, size_t n, double lo, double hi, unsigned long long seed)
{
    void *p = malloc(n * actk_dtype_size(dtype) + 16);
    if (!p) return NULL;
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; ++i) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        const double u = (double)(s >> 11) * 0x1p-53;
        actk_store_element(dtype, p, i, lo + (hi - lo) * u);
    }
    return p;
}

long double bench_load(actk_dtype dtype, const void *p, size_t i) { return actk_load_element(dtype, p, i); }
void bench_store(actk_dtype dtype, void *p, size_t i, long double v) { actk_store_element(dtype, p, i, v); }

double bench_ulp(actk_dtype dtype, long double a, long double b) { return (double)actk_ulp_distance(dtype, a, b); }

double bench_ulp_bound(actk_dtype dtype, int forward)
{
    switch (dtype) {
    case ACTK_F32: return forward ? 2 : 4;
    case ACTK_F16:
    case ACTK_BF16: return 1;
    case ACTK_F64: return forward ? 4 : 8;
    case ACTK_DTYPE_MAX_ENUM: break;
    }
    return 0;
}
