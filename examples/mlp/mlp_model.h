// SPDX-License-Identifier: MIT
/*
 * mlp_model.h - the experiment's MLP (in - h1 - act - h2 - act - classes)
 * on the host: parameters, PyTorch-style initialisation, one training step
 * (CBLAS matrix products, actk's CPU path for the activations and the
 * log-softmax), Adam, and evaluation. The GPU path (mlp_gpu.h) uses the
 * same parameter layout.
 */
#ifndef ACTK_MLP_MODEL_H
#define ACTK_MLP_MODEL_H

#include <actk/actk.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define MLP_LAYERS 3

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int sizes[MLP_LAYERS + 1]; /* e.g. 784, 256, 128, 10 */
    /* layer l: weight[l] is sizes[l+1] x sizes[l] (row-major, PyTorch's
     * Linear layout), bias[l] has sizes[l+1] entries. All parameters live
     * in one array so Adam is one loop. */
    float *params;
    size_t param_count;
    float *weight[MLP_LAYERS], *bias[MLP_LAYERS];
} mlp_model;

/* Deterministic generator (splitmix64) for initialisation and shuffling. */
typedef struct {
    uint64_t state;
} mlp_rng;
uint64_t mlp_rng_next(mlp_rng *r);
float mlp_rng_uniform(mlp_rng *r, float lo, float hi);

/* Allocates and initialises like torch.nn.Linear: weight and bias uniform in
 * +-1/sqrt(fan_in) (kaiming_uniform with a = sqrt(5)). 0 on success. */
int mlp_model_init(mlp_model *m, const int sizes[MLP_LAYERS + 1], mlp_rng *rng);
void mlp_model_free(mlp_model *m);
/* Another model with the same shape (for gradients and Adam moments). */
int mlp_model_like(mlp_model *m, const mlp_model *shape);

/* Scratch for a batch on the CPU. */
typedef struct {
    int batch;
    float *pre[MLP_LAYERS];  /* pre-activations (layer outputs before act) */
    float *post[MLP_LAYERS]; /* post[0..1] activations; post[2] log-probs */
    float *grad_a, *grad_b;  /* gradient buffers, widest layer */
} mlp_cpu_scratch;
int mlp_cpu_scratch_init(mlp_cpu_scratch *s, const mlp_model *m, int batch);
void mlp_cpu_scratch_free(mlp_cpu_scratch *s);

/* Forward and backward on `batch` images (x: batch x sizes[0]) with labels;
 * fills grads (same layout as the model) and returns the mean cross-entropy
 * loss through *loss. act is the activation between the linear layers.
 * Returns an actk_status. */
actk_status mlp_cpu_forward_backward(const mlp_model *m, actk_act act, const float *x, const int *labels, int batch,
                                     mlp_cpu_scratch *s, mlp_model *grads, double *loss);
/* Forward only: the mean loss and the number of correct predictions. */
actk_status mlp_cpu_evaluate(const mlp_model *m, actk_act act, const float *x, const int *labels, int count,
                             mlp_cpu_scratch *s, double *loss, int *correct);

/* Adam (beta1 0.9, beta2 0.999, eps 1e-8, bias-corrected), step t >= 1. */
void mlp_adam_step(mlp_model *m, const mlp_model *grads, mlp_model *first, mlp_model *second, float lr, int t);

/* After each epoch: a progress line on stdout (flushed, so a long run shows
 * it is alive) and, when csv is not NULL, the CSV row
 * activation,device,epoch,train_loss,test_loss,test_accuracy,seconds. */
void mlp_report_epoch(FILE *csv, const char *name, const char *device, int epoch, int epochs, double train_loss,
                      double test_loss, double accuracy, double seconds);

/* The epoch's order: Fisher-Yates over order[0..count) with rng (the CPU
 * and GPU paths draw the same permutation from the same seed). */
void mlp_shuffle(mlp_rng *rng, size_t *order, size_t count);

/* Training state of the CPU path: the model, its gradients and Adam moments,
 * batch scratch, and Adam's step count. */
typedef struct {
    mlp_model grads, first, second;
    mlp_cpu_scratch scratch;
    float *xb;
    int *yb;
    int batch, step;
} mlp_cpu_trainer;
int mlp_cpu_trainer_init(mlp_cpu_trainer *t, const mlp_model *m, size_t pixels, int batch);
void mlp_cpu_trainer_free(mlp_cpu_trainer *t);

/* One epoch over images/labels in `order`: batches order[b * batch ...], the
 * last one short when count does not divide by batch; one Adam step each.
 * *mean_loss = the mean of the batches' losses. */
actk_status mlp_cpu_train_epoch(mlp_model *m, actk_act act, mlp_cpu_trainer *t, const float *images, const int *labels,
                                size_t pixels, const size_t *order, size_t count, float lr, double *mean_loss);

#ifdef __cplusplus
}
#endif

#endif
