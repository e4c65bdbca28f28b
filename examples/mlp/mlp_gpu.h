// SPDX-License-Identifier: MIT
/*
 * mlp_gpu.h - the experiment's MLP on the GPU: cuBLAS for the matrix
 * products, actk's CUDA kernels for the activations and the log-softmax,
 * a few small kernels of this example's own (batch gather, bias add and
 * gradient, loss gradient, Adam), and the whole training step captured
 * once in a CUDA graph and replayed for every batch.
 */
#ifndef ACTK_MLP_GPU_H
#define ACTK_MLP_GPU_H

#include "mlp_data.h"
#include "mlp_model.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Trains one model (initialised and shuffled exactly as the CPU path with
 * the same seed) and evaluates it on `test` after each epoch. Writes CSV
 * rows (activation,device,epoch,...) when csv is not NULL; copies the
 * trained parameters into *trained (a model of the same shape) when it is
 * not NULL. 0 on success; on failure prints the reason to stderr. */
int mlp_gpu_train(unsigned long long seed, int epochs, int batch, float lr, actk_act act, const mlp_dataset *train,
                  size_t train_count, const mlp_dataset *test, FILE *csv, const char *name, double *accuracy,
                  double *train_loss, double *seconds, mlp_model *trained);

/* One forward and backward pass on the GPU for a host batch; fills the host
 * gradients (the model's layout) and the mean loss. For tests. 0 on success. */
int mlp_gpu_gradients(const mlp_model *m, actk_act act, const float *x, const int *labels, int batch, mlp_model *grads,
                      double *loss);

#ifdef __cplusplus
}
#endif

#endif
