// SPDX-License-Identifier: MIT
/*
 * mlp_data.h - loads MNIST-style IDX files (gzip) into float images scaled
 * to [0, 1] and int labels.
 */
#ifndef ACTK_MLP_DATA_H
#define ACTK_MLP_DATA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    size_t count;   /* images */
    size_t pixels;  /* per image (784) */
    float *images;  /* count * pixels, row-major */
    int *labels;    /* count */
} mlp_dataset;

/* Loads DIR/{prefix}-images-idx3-ubyte.gz and DIR/{prefix}-labels-idx1-ubyte.gz
 * (prefix "train" or "t10k"). Returns 0 on success; otherwise writes a
 * message into err (naming the file and the Debian package to install). */
int mlp_load_dataset(const char *dir, const char *prefix, mlp_dataset *out, char *err, size_t err_size);
void mlp_free_dataset(mlp_dataset *d);

#ifdef __cplusplus
}
#endif

#endif
