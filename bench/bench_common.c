// SPDX-License-Identifier: MIT
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
            "                 [--reps N] [--quick] [--cpu] [--all] [--json FILE] [--csv FILE] [--no-check] [--help]\n"
            "Measures each op's throughput against the device-to-device memcpy bandwidth measured in the\n"
            "same run at the same byte count, against cuDNN where it has the op, and checks agreement with\n"
            "the CPU reference (max ULP, PASS/FAIL against the promised bounds). Exit status 1 if any\n"
            "agreement check fails.\n"
            "stdout shows a summary per family; --all prints every row as well (--json/--csv always hold\n"
            "every row).\n"
            "CPU mode (--cpu, or no CUDA device): times the CPU reference path, one warm-up call then the median\n"
            "of --reps calls per row (default 5, --quick 3), element-wise ops at --sizes (default 256K, --quick\n"
            "32K), the others at --shapes (default 256x1024, --quick 32x1024); nothing is checked and the\n"
            "memcpy, cuDNN and agreement columns are null in --json/--csv.\n");
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

/* Splits a comma list in place into items; -1 (message printed) if it has
 * more than `max` (none is dropped silently). */
static int split_list(char *s, const char **items, int max, const char *option)
{
    int n = 0;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) {
        if (n == max) {
            fprintf(stderr, "bench_gpu: %s takes at most %d items\n", option, max);
            return -1;
        }
        items[n++] = tok;
    }
    return n;
}

/* "OUTERxDIM" or "OUTERxDIMxINNER", each a positive integer, nothing else. */
static int parse_shape(const char *s, size_t out[3])
{
    out[2] = 1;
    for (int k = 0; k < 3; ++k) {
        char *end = NULL;
        if (*s < '0' || *s > '9') return 0;
        const unsigned long long v = strtoull(s, &end, 10);
        if (v == 0 || v > (unsigned long long)SIZE_MAX) return 0;
        out[k] = (size_t)v;
        if (*end == '\0') return k >= 1;
        if (*end != 'x' || k == 2) return 0;
        s = end + 1;
    }
    return 0;
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
        if (!strcmp(a, "--cpu")) {
            o->cpu = 1;
            continue;
        }
        if (!strcmp(a, "--all")) { o->all_rows = 1; continue; }
        if (!v) { fprintf(stderr, "bench_gpu: %s needs a value\n", a); usage(stderr); return 0; }
        ++i;
        if (!strcmp(a, "--ops")) ops = v;
        else if (!strcmp(a, "--dtypes")) dtypes = v;
        else if (!strcmp(a, "--sizes")) sizes = v;
        else if (!strcmp(a, "--shapes")) shapes = v;
        else if (!strcmp(a, "--reps")) {
            char *end = NULL;
            const long r = strtol(v, &end, 10);
            if (!end || *end || end == v || r < 1 || r > 1000000) {
                fprintf(stderr, "bench_gpu: --reps must be an integer in [1, 1000000], not %s\n", v);
                return 0;
            }
            o->reps = (int)r;
            reps_given = 1;
        } else if (!strcmp(a, "--json"))
            o->json = v;
        else if (!strcmp(a, "--csv")) o->csv = v;
        else { fprintf(stderr, "bench_gpu: unknown option %s\n", a); usage(stderr); return 0; }
    }
    o->reps_given = reps_given;
    o->sizes_given = sizes != NULL;
    o->shapes_given = shapes != NULL;
    if (o->quick) {
        o->trials = 3;
        if (!reps_given) o->reps = 10;
    }
    static char ops_buf[4096], dtypes_buf[256], sizes_buf[1024], shapes_buf[4096];
    if (ops && strcmp(ops, "all") != 0) {
        snprintf(ops_buf, sizeof ops_buf, "%s", ops);
        o->n_ops = split_list(ops_buf, o->ops, BENCH_MAX_LIST, "--ops");
        if (o->n_ops < 0) return 0;
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
    const int n_dt = split_list(dtypes_buf, dt, 4, "--dtypes");
    if (n_dt <= 0) {
        if (n_dt == 0) fprintf(stderr, "bench_gpu: --dtypes needs at least one dtype\n");
        return 0;
    }
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
    const int n_sz = split_list(sizes_buf, sz, BENCH_MAX_LIST, "--sizes");
    if (n_sz <= 0) {
        if (n_sz == 0) fprintf(stderr, "bench_gpu: --sizes needs at least one size\n");
        return 0;
    }
    for (int k = 0; k < n_sz; ++k) {
        int ok = 0;
        o->sizes[o->n_sizes++] = parse_size(sz[k], &ok);
        if (!ok || o->sizes[o->n_sizes - 1] == 0) { fprintf(stderr, "bench_gpu: bad size %s\n", sz[k]); return 0; }
    }
    /* default shapes: rows * cols = 2^26 (the anchors' size) at several row lengths, plus an NCHW-style inner axis */
    snprintf(shapes_buf, sizeof shapes_buf, "%s",
             shapes ? shapes
                    : (o->quick ? "16384x1024,512x32768,16x1048576,64x64x4096"
                                : "67108864x1,2097152x32,262144x256,65536x1024,8192x8192,2048x32768,512x131072,"
                                  "64x1048576,16x4194304,256x64x4096"));
    const char *sh[BENCH_MAX_LIST];
    const int n_sh = split_list(shapes_buf, sh, BENCH_MAX_LIST, "--shapes");
    if (n_sh <= 0) {
        if (n_sh == 0) fprintf(stderr, "bench_gpu: --shapes needs at least one shape\n");
        return 0;
    }
    for (int k = 0; k < n_sh; ++k) {
        size_t dims[3];
        if (!parse_shape(sh[k], dims) || dims[0] > SIZE_MAX / dims[1] / dims[2] / 2) {
            fprintf(stderr, "bench_gpu: bad shape %s (OUTERxDIM[xINNER], positive integers)\n", sh[k]);
            return 0;
        }
        o->shapes[o->n_shapes][0] = dims[0];
        o->shapes[o->n_shapes][1] = dims[1];
        o->shapes[o->n_shapes][2] = dims[2];
        ++o->n_shapes;
    }
    return 1;
}

void bench_use_cpu_defaults(bench_options *o)
{
    if (!o->reps_given) o->reps = o->quick ? 3 : 5;
    if (!o->sizes_given) {
        o->n_sizes = 1;
        o->sizes[0] = o->quick ? (size_t)1 << 15 : (size_t)1 << 18;
    }
    if (!o->shapes_given) {
        o->n_shapes = 1;
        o->shapes[0][0] = o->quick ? 32 : 256;
        o->shapes[0][1] = 1024;
        o->shapes[0][2] = 1;
    }
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

static int print_rows; /* --all */

void bench_set_print_rows(int on) { print_rows = on; }

void bench_print_header(int gpu)
{
    if (!print_rows) return;
    if (gpu)
        printf("%-8s %-14s %-10s %-5s %-18s %10s %9s %8s %10s %8s %10s %s\n", "family", "op", "direction", "dtype",
               "shape", "time_us", "GB/s", "%memcpy", "cudnn_us", "speedup", "max_ulp", "check");
    else
        printf("%-8s %-14s %-10s %-5s %-18s %10s %9s %10s\n", "family", "op", "direction", "dtype", "shape", "time_us",
               "GB/s", "Melem/s");
}

void bench_print_row(const bench_row *row, int gpu)
{
    if (!print_rows) return;
    char cudnn[16] = "-", speedup[16] = "-", ulp[16] = "-";
    if (row->cudnn_ms >= 0) {
        snprintf(cudnn, sizeof cudnn, "%.1f", row->cudnn_ms * 1e3);
        snprintf(speedup, sizeof speedup, "%.2fx", row->speedup);
    }
    if (row->max_ulp >= 0) snprintf(ulp, sizeof ulp, "%.0f", row->max_ulp);
    if (gpu)
        printf("%-8s %-14s %-10s %-5s %-18s %10.1f %9.1f %7.1f%% %10s %8s %10s %s\n", row->family, row->op,
               row->direction, row->dtype, row->shape, row->ms * 1e3, row->gbps, row->pct_memcpy, cudnn, speedup, ulp,
               row->max_ulp < 0 ? "-" : (row->pass ? "PASS" : "FAIL"));
    else
        printf("%-8s %-14s %-10s %-5s %-18s %10.1f %9.3f %10.2f\n", row->family, row->op, row->direction, row->dtype,
               row->shape, row->ms * 1e3, row->gbps, row->elements / (row->ms * 1e-3) / 1e6);
    fflush(stdout);
}

/* The families in the order their first row appears. */
static int collect_families(const bench_results *r, const char *names[], int max)
{
    int count = 0;
    for (size_t k = 0; k < r->count; ++k) {
        int seen = 0;
        for (int f = 0; f < count && !seen; ++f) seen = !strcmp(names[f], r->rows[k].family);
        if (!seen && count < max) names[count++] = r->rows[k].family;
    }
    return count;
}

static int row_checked(const bench_row *row) { return row->max_ulp >= 0; }
static int row_has_memcpy(const bench_row *row) { return row->memcpy_gbps > 0; }

int bench_print_summary(const bench_results *r, int gpu)
{
    const char *families[32];
    const int n_families = collect_families(r, families, 32);
    int failures = 0, checked = 0;
    if (gpu)
        printf("\nsummary (%% of the memcpy bandwidth measured in this run at the same byte count)\n"
               "  %-8s %5s %9s %9s  %-44s %9s %8s %8s\n",
               "family", "rows", "geomean", "worst", "worst row", "under 90%", "checked", "failures");
    else
        printf("\nsummary (CPU reference path; medians)\n  %-8s %5s %12s %12s  %s\n", "family", "rows", "geomean GB/s",
               "slowest GB/s", "slowest row");
    for (int f = 0; f < n_families; ++f) {
        double worst = 1e300, log_sum = 0;
        int count = 0, measured = 0, under = 0, fails = 0, family_checked = 0;
        const bench_row *worst_row = NULL;
        for (size_t k = 0; k < r->count; ++k) {
            const bench_row *row = &r->rows[k];
            if (strcmp(row->family, families[f]) != 0) continue;
            ++count;
            family_checked += row_checked(row);
            fails += row_checked(row) && !row->pass;
            if (gpu && !row_has_memcpy(row)) continue; /* no memcpy figure to compare with */
            const double v = gpu ? row->pct_memcpy : row->gbps;
            if (v < worst) { worst = v; worst_row = row; }
            log_sum += log(v > 1e-9 ? v : 1e-9);
            ++measured;
            under += gpu && row->pct_memcpy < 90.0;
        }
        failures += fails;
        checked += family_checked;
        char where[128] = "-", geomean[32] = "-", worst_text[32] = "-";
        if (measured) {
            snprintf(where, sizeof where, "%s %s %s %s", worst_row->op, worst_row->direction, worst_row->dtype,
                     worst_row->shape);
            snprintf(geomean, sizeof geomean, gpu ? "%.1f%%" : "%.3f", exp(log_sum / measured));
            snprintf(worst_text, sizeof worst_text, gpu ? "%.1f%%" : "%.3f", worst);
        }
        if (gpu)
            printf("  %-8s %5d %9s %9s  %-44s %9d %8d %8d\n", families[f], count, geomean, worst_text, where, under,
                   family_checked, fails);
        else
            printf("  %-8s %5d %12s %12s  %s\n", families[f], count, geomean, worst_text, where);
    }
    if (gpu) {
        printf("  rows under 90%% of memcpy:");
        int any = 0;
        for (size_t k = 0; k < r->count; ++k)
            if (row_has_memcpy(&r->rows[k]) && r->rows[k].pct_memcpy < 90.0) {
                printf("%s %s/%s/%s/%s %.0f%%", any ? "," : "", r->rows[k].op, r->rows[k].direction, r->rows[k].dtype,
                       r->rows[k].shape, r->rows[k].pct_memcpy);
                any = 1;
            }
        printf("%s\n", any ? "" : " none");
        printf("  agreement: %d of %zu rows checked, %d failure(s)\n", checked, r->count, failures);
    } else {
        printf("  not measured in CPU mode: memcpy bandwidth, cuDNN, agreement (the CPU path is the reference)\n");
    }
    return failures;
}

/* A number, or null when it was not measured (JSON and CSV alike). */
static void put_number(FILE *f, int measured, const char *format, double v)
{
    if (measured && isfinite(v))
        fprintf(f, format, v);
    else
        fputs("null", f);
}

/* The row's measured-or-null fields, in the column order both files share,
 * `sep` between them: memcpy_gbps, pct_memcpy, cudnn_us, speedup_vs_cudnn,
 * max_ulp, pass. */
static void put_optional_fields(FILE *f, const bench_row *row, const char *const names[6], int json)
{
    const int memcpy_ok = row_has_memcpy(row), cudnn_ok = row->cudnn_ms >= 0, checked = row_checked(row);
    const char *sep = json ? ", " : ",";
    for (int k = 0; k < 6; ++k) {
        fputs(sep, f);
        if (json) fprintf(f, "\"%s\": ", names[k]);
        switch (k) {
        case 0: put_number(f, memcpy_ok, "%.3f", row->memcpy_gbps); break;
        case 1: put_number(f, memcpy_ok, "%.2f", row->pct_memcpy); break;
        case 2: put_number(f, cudnn_ok, "%.3f", row->cudnn_ms * 1e3); break;
        case 3: put_number(f, cudnn_ok, "%.3f", row->speedup); break;
        case 4: put_number(f, checked, "%.1f", row->max_ulp); break; /* a failed call's INFINITY: null, pass false */
        default:
            if (!checked)
                fputs("null", f);
            else if (json)
                fputs(row->pass ? "true" : "false", f);
            else
                fputs(row->pass ? "1" : "0", f);
        }
    }
}

static const char *const optional_names[6] = {"memcpy_gbps",      "pct_memcpy", "cudnn_us",
                                              "speedup_vs_cudnn", "max_ulp",    "pass"};

int bench_write_json(const bench_results *r, const bench_options *o, const char *path, const char *device, int gpu)
{
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); return -1; }
    fprintf(f, "{\n  \"device\": \"%s\",\n  \"mode\": \"%s\",\n  \"actk_version\": \"%s\",\n", device,
            gpu ? "gpu" : "cpu", actk_version_string());
    if (gpu)
        fprintf(f,
                "  \"timing\": {\"statistic\": \"median over trials of (time of reps back-to-back calls) / reps\", "
                "\"reps\": %d, \"trials\": %d, \"warmup_calls\": 3},\n",
                o->reps, o->trials);
    else
        fprintf(f,
                "  \"timing\": {\"statistic\": \"median of reps single calls\", \"reps\": %d, \"trials\": null, "
                "\"warmup_calls\": 1},\n",
                o->reps);
    fprintf(f, "  \"rows\": [\n");
    for (size_t k = 0; k < r->count; ++k) {
        const bench_row *row = &r->rows[k];
        fprintf(f,
                "    {\"family\": \"%s\", \"op\": \"%s\", \"direction\": \"%s\", \"dtype\": \"%s\", \"shape\": \"%s\", "
                "\"bytes\": %zu, \"time_us\": %.3f, \"gbps\": %.3f",
                row->family, row->op, row->direction, row->dtype, row->shape, row->bytes, row->ms * 1e3, row->gbps);
        put_optional_fields(f, row, optional_names, 1);
        fprintf(f, "}%s\n", k + 1 < r->count ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
    return fclose(f) == 0 ? 0 : -1;
}

int bench_write_csv(const bench_results *r, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); return -1; }
    fprintf(f, "family,op,direction,dtype,shape,bytes,time_us,gbps");
    for (int k = 0; k < 6; ++k) fprintf(f, ",%s", optional_names[k]);
    fputc('\n', f);
    for (size_t k = 0; k < r->count; ++k) {
        const bench_row *row = &r->rows[k];
        fprintf(f, "%s,%s,%s,%s,%s,%zu,%.3f,%.3f", row->family, row->op, row->direction, row->dtype, row->shape,
                row->bytes, row->ms * 1e3, row->gbps);
        put_optional_fields(f, row, optional_names, 0);
        fputc('\n', f);
    }
    return fclose(f) == 0 ? 0 : -1;
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
