// SPDX-License-Identifier: MIT
/*
 * bench_common.h - what bench_gpu's GPU and CPU modes share: options, the
 * result rows, typed host buffers, ULP distance, and output (table, JSON,
 * CSV, summary).
 */
#ifndef ACTK_BENCH_COMMON_H
#define ACTK_BENCH_COMMON_H

#include "../kernels/direction.h"
#include <actk/actk.h>

#include <stddef.h>
#include <stdio.h>

#define BENCH_MAX_LIST 64

typedef struct {
    int all_ops;
    int n_ops;
    const char *ops[BENCH_MAX_LIST];      /* element-wise op names and/or softmax, log_softmax, prelu, maxout, rrelu */
    int n_dtypes;
    actk_dtype dtypes[4];
    int n_sizes;
    size_t sizes[BENCH_MAX_LIST];         /* element-wise sizes */
    int n_shapes;
    size_t shapes[BENCH_MAX_LIST][3];     /* outer x dim [x inner] */
    int reps, trials, quick, check;
    int cpu;                                   /* --cpu: the CPU mode even where a GPU is present */
    int all_rows;                              /* --all: print every row, not only the summary per family */
    int sizes_given, shapes_given, reps_given; /* the user chose them (else the mode's defaults apply) */
    const char *json, *csv;
} bench_options;

typedef struct {
    char family[16], op[24], direction[16], dtype[8], shape[48];
    size_t bytes, elements;
    double ms, gbps, memcpy_gbps, pct_memcpy; /* pct_memcpy: our GB/s over memcpy's at the same byte count;
                                                 memcpy_gbps <= 0: not measured (both written as null) */
    double cudnn_ms, speedup;                 /* cudnn_ms < 0: cuDNN has no such op (null) */
    double max_ulp;                           /* < 0: not checked (max_ulp and pass null) */
    int pass;                                 /* agreement within the promised bound (1 if not checked) */
} bench_row;

typedef struct {
    bench_row *rows;
    size_t count, capacity;
} bench_results;

int bench_parse_options(int argc, char **argv, bench_options *o);
/* The CPU mode's defaults (the oracle is ~1000x slower than a GPU) for
 * --sizes, --shapes and --reps where the user gave none. */
void bench_use_cpu_defaults(bench_options *o);
/* 1 if `name` was selected (--ops), for an op or a structured family. */
int bench_selected(const bench_options *o, const char *name);
void bench_add(bench_results *r, const bench_row *row);
/* Rows go to stdout only after bench_set_print_rows(1) (--all); the summary
 * and the JSON/CSV files always cover every row. */
void bench_set_print_rows(int on);
void bench_print_header(int gpu);
void bench_print_row(const bench_row *row, int gpu);
/* Summary per family; returns the number of agreement failures. */
int bench_print_summary(const bench_results *r, int gpu);
/* Fields a mode did not measure are written as null. */
int bench_write_json(const bench_results *r, const bench_options *o, const char *path, const char *device, int gpu);
int bench_write_csv(const bench_results *r, const char *path);

/* Host data */
double bench_now(void);
/* n random values of the dtype, uniform in [lo, hi], deterministic by seed. */
void *bench_random(actk_dtype dtype, size_t n, double lo, double hi, unsigned long long seed);
long double bench_load(actk_dtype dtype, const void *p, size_t i);
void bench_store(actk_dtype dtype, void *p, size_t i, long double v);
/* ULP distance of two values stored in the dtype (both NaN: 0). */
double bench_ulp(actk_dtype dtype, long double a, long double b);
/* The library's promised bound for a direction (0 forward, else backward). */
double bench_ulp_bound(actk_dtype dtype, int forward);

#endif
