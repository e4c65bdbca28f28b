// SPDX-License-Identifier: MIT
/*
 * mlp_data.c - IDX (MNIST format) reader over zlib's gzip stream.
 * IDX: big-endian magic (0x0000 08 dims), then dims as big-endian u32,
 * then unsigned bytes.
 */
#include "mlp_data.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <zlib.h>

static int read_exact(gzFile f, void *buf, size_t n)
{
    unsigned char *p = buf;
    while (n > 0) {
        const unsigned chunk = n > (1u << 30) ? (1u << 30) : (unsigned)n;
        const int got = gzread(f, p, chunk);
        if (got <= 0) return -1;
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

static uint32_t big_endian(const unsigned char *b)
{
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | (uint32_t)b[3];
}

/* Reads an IDX file with `want_dims` dimensions; returns the bytes. */
static unsigned char *read_idx(const char *path, int want_dims, uint32_t dims[3], char *err, size_t err_size)
{
    gzFile f = gzopen(path, "rb");
    if (!f) {
        snprintf(err, err_size,
                 "cannot open %s (install Debian's dataset-fashion-mnist package, or pass --data DIR with the IDX .gz "
                 "files)",
                 path);
        return NULL;
    }
    unsigned char header[16];
    unsigned char *data = NULL;
    if (read_exact(f, header, 4) != 0 || header[0] != 0 || header[1] != 0 || header[2] != 0x08 ||
        header[3] != want_dims) {
        snprintf(err, err_size, "%s is not an IDX file of unsigned bytes with %d dimensions", path, want_dims);
        gzclose(f);
        return NULL;
    }
    size_t total = 1;
    if (read_exact(f, header + 4, 4u * (unsigned)want_dims) != 0) {
        snprintf(err, err_size, "%s: truncated header", path);
        gzclose(f);
        return NULL;
    }
    for (int d = 0; d < want_dims; ++d) {
        dims[d] = big_endian(header + 4 + 4 * d);
        total *= dims[d];
    }
    data = malloc(total ? total : 1);
    if (!data || read_exact(f, data, total) != 0) {
        snprintf(err, err_size, "%s: truncated data (%zu bytes expected)", path, total);
        free(data);
        data = NULL;
    }
    gzclose(f);
    return data;
}

int mlp_load_dataset(const char *dir, const char *prefix, mlp_dataset *out, char *err, size_t err_size)
{
    char path[4096];
    uint32_t image_dims[3] = {0}, label_dims[3] = {0};
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    unsigned char *pixels = read_idx(path, 3, image_dims, err, err_size);
    if (!pixels) return -1;
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    unsigned char *labels = read_idx(path, 1, label_dims, err, err_size);
    if (!labels) {
        free(pixels);
        return -1;
    }
    if (label_dims[0] != image_dims[0]) {
        snprintf(err, err_size, "%s: %u labels for %u images", path, label_dims[0], image_dims[0]);
        free(pixels);
        free(labels);
        return -1;
    }
    out->count = image_dims[0];
    out->pixels = (size_t)image_dims[1] * image_dims[2];
    out->images = malloc(out->count * out->pixels * sizeof(float));
    out->labels = malloc(out->count * sizeof(int));
    if (!out->images || !out->labels) {
        snprintf(err, err_size, "out of memory");
        free(pixels);
        free(labels);
        mlp_free_dataset(out);
        return -1;
    }
    for (size_t i = 0; i < out->count * out->pixels; ++i) out->images[i] = pixels[i] / 255.0f;
    for (size_t i = 0; i < out->count; ++i) out->labels[i] = labels[i];
    free(pixels);
    free(labels);
    return 0;
}

void mlp_free_dataset(mlp_dataset *d)
{
    free(d->images);
    free(d->labels);
    d->images = NULL;
    d->labels = NULL;
    d->count = 0;
}
