// SPDX-License-Identifier: MIT
/*
 * actk_mlp.c - the activation experiment: the same MLP (784-256-128-10)
 * trained with different activations (Adam, lr 1e-3, batch 16, 3 epochs,
 * seed 16), reporting test accuracy for each. The GPU path uses cuBLAS and
 * actk's CUDA kernels (the whole step in a CUDA graph); the CPU path uses
 * CBLAS and actk's CPU path.
 *
 * Usage: actk_mlp [--act none|sigmoid|tanh|relu|<op>|all] [--data DIR] [--cpu]
 *                 [--epochs N] [--batch N] [--lr X] [--seed N] [--limit N]
 *                 [--csv FILE]
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include "mlp_data.h"
#include "mlp_model.h"
#ifdef ACTK_MLP_WITH_CUDA
#include "mlp_gpu.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
    const char *act;
    const char *data_dir;
    const char *csv;
    int cpu, epochs, batch, limit, blas_threads;
    float lr;
    unsigned long long seed;
} options;

#ifdef ACTK_MLP_HAVE_OPENBLAS_THREADS
void openblas_set_num_threads(int threads); /* OpenBLAS's own; not in every cblas.h */
#endif

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void usage(FILE *to)
{
    fprintf(to, "usage: actk_mlp [--act none|sigmoid|tanh|relu|<element-wise op>|all] [--data DIR] [--cpu]\n"
                "                [--epochs N] [--batch N] [--lr X] [--seed N] [--limit N] [--csv FILE]\n"
                "Defaults: --act all (none, sigmoid, tanh, relu), --data /usr/share/datasets/fashion-mnist,\n"
                "          --epochs 3 --batch 16 --lr 1e-3 --seed 16; the GPU when one is present.\n"
                "  --blas-threads N  OpenBLAS threads for the CPU path (default 1: with batch 16 the matrices\n"
                "                    are small, and more threads cost more in hand-offs than they save)\n");
}

static int parse(int argc, char **argv, options *o)
{
    *o = (options){"all", "/usr/share/datasets/fashion-mnist", NULL, 0, 3, 16, 0, 1, 1e-3f, 16};
    for (int i = 1; i < argc; ++i) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); exit(0); }
        if (!strcmp(a, "--cpu")) { o->cpu = 1; continue; }
        if (!v) { fprintf(stderr, "actk_mlp: %s needs a value\n", a); return 0; }
        ++i;
        if (!strcmp(a, "--act")) o->act = v;
        else if (!strcmp(a, "--data")) o->data_dir = v;
        else if (!strcmp(a, "--csv")) o->csv = v;
        else if (!strcmp(a, "--epochs")) o->epochs = atoi(v);
        else if (!strcmp(a, "--batch")) o->batch = atoi(v);
        else if (!strcmp(a, "--limit")) o->limit = atoi(v);
        else if (!strcmp(a, "--blas-threads")) o->blas_threads = atoi(v);
        else if (!strcmp(a, "--lr")) o->lr = strtof(v, NULL);
        else if (!strcmp(a, "--seed")) o->seed = strtoull(v, NULL, 10);
        else { fprintf(stderr, "actk_mlp: unknown option %s\n", a); return 0; }
    }
    if (o->epochs < 1 || o->batch < 1 || !(o->lr > 0) || o->limit < 0 || o->blas_threads < 1) {
        fprintf(stderr, "actk_mlp: need --epochs >= 1, --batch >= 1, --lr > 0, --limit >= 0, --blas-threads >= 1\n");
        return 0;
    }
    return 1;
}

typedef struct {
    char name[32];
    double accuracy, train_loss, seconds;
} result;

/* One model on the CPU path: returns 0 and fills r. */
static int train_cpu(const options *o, actk_act act, const mlp_dataset *train, size_t train_count,
                     const mlp_dataset *test, FILE *csv, result *r)
{
    const int sizes[MLP_LAYERS + 1] = {(int)train->pixels, 256, 128, 10};
    mlp_rng rng = {o->seed};
    mlp_model m;
    mlp_cpu_trainer t;
    size_t *order = malloc(train_count * sizeof(size_t));
    if (!order || mlp_model_init(&m, sizes, &rng) || mlp_cpu_trainer_init(&t, &m, train->pixels, o->batch)) {
        fprintf(stderr, "actk_mlp: out of memory\n");
        return -1;
    }
    for (size_t i = 0; i < train_count; ++i) order[i] = i;
    const double start = now_seconds();
    for (int epoch = 1; epoch <= o->epochs; ++epoch) {
        mlp_shuffle(&rng, order, train_count);
        if (mlp_cpu_train_epoch(&m, act, &t, train->images, train->labels, train->pixels, order, train_count, o->lr,
                                &r->train_loss) != ACTK_SUCCESS) {
            fprintf(stderr, "actk_mlp: %s\n", actk_last_error());
            return -1;
        }
        double test_loss = 0;
        int correct = 0;
        mlp_cpu_evaluate(&m, act, test->images, test->labels, (int)test->count, &t.scratch, &test_loss, &correct);
        r->accuracy = 100.0 * correct / (double)test->count;
        r->seconds = now_seconds() - start;
        mlp_report_epoch(csv, r->name, "cpu", epoch, o->epochs, r->train_loss, test_loss, r->accuracy,
                         r->seconds);
    }
    free(order);
    mlp_cpu_trainer_free(&t);
    mlp_model_free(&m);
    return 0;
}

int main(int argc, char **argv)
{
    options o;
    if (!parse(argc, argv, &o)) {
        usage(stderr);
        return 2;
    }
    /* the activations to compare */
    const char *all[] = {"none", "sigmoid", "tanh", "relu"};
    const char *single[1] = {o.act};
    const char **names = strcmp(o.act, "all") == 0 ? all : single;
    const int count = strcmp(o.act, "all") == 0 ? 4 : 1;
    actk_act acts[4];
    for (int i = 0; i < count; ++i) {
        actk_op op = ACTK_OP_IDENTITY;
        if (strcmp(names[i], "none") != 0 && actk_op_from_name(names[i], &op) != ACTK_SUCCESS) {
            fprintf(stderr, "actk_mlp: %s\n", actk_last_error());
            return 2;
        }
        acts[i] = actk_act_default(op);
    }

    char err[4200];
    mlp_dataset train, test;
    if (mlp_load_dataset(o.data_dir, "train", &train, err, sizeof err) ||
        mlp_load_dataset(o.data_dir, "t10k", &test, err, sizeof err)) {
        fprintf(stderr, "actk_mlp: %s\n", err);
        return 1;
    }
    const size_t train_count = o.limit > 0 && (size_t)o.limit < train.count ? (size_t)o.limit : train.count;

#ifdef ACTK_MLP_HAVE_OPENBLAS_THREADS
    openblas_set_num_threads(o.blas_threads);
#else
    if (o.blas_threads != 1) fprintf(stderr, "actk_mlp: this BLAS has no thread control; --blas-threads ignored\n");
#endif
    int use_gpu = 0;
#ifdef ACTK_MLP_WITH_CUDA
    use_gpu = !o.cpu && actk_cuda_device_count() > 0;
#endif
    if (!o.cpu && !use_gpu) printf("no CUDA device: training on the CPU path (CBLAS + actk CPU)\n");
    printf("MLP %zu-256-128-10, Adam lr %g, batch %d, %d epoch(s), seed %llu, %zu training / %zu test images, %s\n\n",
           train.pixels, o.lr, o.batch, o.epochs, o.seed, train_count, test.count,
           use_gpu ? "GPU (cuBLAS + actk CUDA)" : "CPU");
    FILE *csv = NULL;
    if (o.csv) {
        csv = fopen(o.csv, "w");
        if (!csv) { perror(o.csv); return 1; }
        fprintf(csv, "activation,device,epoch,train_loss,test_loss,test_accuracy,seconds\n");
    }
    result results[4];
    for (int i = 0; i < count; ++i) {
        snprintf(results[i].name, sizeof results[i].name, "%s", names[i]);
        int rc;
#ifdef ACTK_MLP_WITH_CUDA
        if (use_gpu)
            rc =
                mlp_gpu_train(o.seed, o.epochs, o.batch, o.lr, acts[i], &train, train_count, &test, csv,
                              results[i].name, &results[i].accuracy, &results[i].train_loss, &results[i].seconds, NULL);
        else
#endif
            rc = train_cpu(&o, acts[i], &train, train_count, &test, csv, &results[i]);
        if (rc != 0) return 1;
    }
    printf("| activation | test accuracy | final train loss | training seconds |\n|---|---|---|---|\n");
    for (int i = 0; i < count; ++i)
        printf("| %s | %.2f%% | %.4f | %.2f |\n", results[i].name, results[i].accuracy, results[i].train_loss,
               results[i].seconds);
    if (csv) fclose(csv);
    mlp_free_dataset(&train);
    mlp_free_dataset(&test);
    return 0;
}
