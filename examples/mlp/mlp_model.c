// SPDX-License-Identifier: MIT
/*
 * mlp_model.c - the experiment's MLP on the host (see mlp_model.h).
 * Matrix products: CBLAS sgemm, row-major. Activations, their gradients,
 * log-softmax and its gradient: actk's CPU path, as a user would call it.
 */
#include "mlp_model.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

uint64_t mlp_rng_next(mlp_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

float mlp_rng_uniform(mlp_rng *r, float lo, float hi)
{
    const float u = (float)(mlp_rng_next(r) >> 40) * 0x1p-24f;
    return lo + (hi - lo) * u;
}

static void set_views(mlp_model *m)
{
    float *p = m->params;
    for (int l = 0; l < MLP_LAYERS; ++l) {
        m->weight[l] = p;
        p += (size_t)m->sizes[l + 1] * m->sizes[l];
        m->bias[l] = p;
        p += m->sizes[l + 1];
    }
}

int mlp_model_like(mlp_model *m, const mlp_model *shape)
{
    memcpy(m->sizes, shape->sizes, sizeof m->sizes);
    m->param_count = shape->param_count;
    m->params = calloc(m->param_count, sizeof(float));
    if (!m->params) return -1;
    set_views(m);
    return 0;
}

int mlp_model_init(mlp_model *m, const int sizes[MLP_LAYERS + 1], mlp_rng *rng)
{
    memcpy(m->sizes, sizes, sizeof m->sizes);
    m->param_count = 0;
    for (int l = 0; l < MLP_LAYERS; ++l) m->param_count += (size_t)sizes[l + 1] * (sizes[l] + 1);
    m->params = malloc(m->param_count * sizeof(float));
    if (!m->params) return -1;
    set_views(m);
    for (int l = 0; l < MLP_LAYERS; ++l) {
        const float bound = 1.0f / sqrtf((float)sizes[l]);
        for (size_t i = 0; i < (size_t)sizes[l + 1] * sizes[l]; ++i)
            m->weight[l][i] = mlp_rng_uniform(rng, -bound, bound);
        for (int i = 0; i < sizes[l + 1]; ++i) m->bias[l][i] = mlp_rng_uniform(rng, -bound, bound);
    }
    return 0;
}

void mlp_model_free(mlp_model *m)
{
    free(m->params);
    m->params = NULL;
}

static int widest(const mlp_model *m)
{
    int w = 0;
    for (int l = 0; l <= MLP_LAYERS; ++l) w = m->sizes[l] > w ? m->sizes[l] : w;
    return w;
}

int mlp_cpu_scratch_init(mlp_cpu_scratch *s, const mlp_model *m, int batch)
{
    memset(s, 0, sizeof *s);
    s->batch = batch;
    int ok = 1;
    for (int l = 0; l < MLP_LAYERS; ++l) {
        s->pre[l] = malloc((size_t)batch * m->sizes[l + 1] * sizeof(float));
        s->post[l] = malloc((size_t)batch * m->sizes[l + 1] * sizeof(float));
        ok &= s->pre[l] && s->post[l];
    }
    s->grad_a = malloc((size_t)batch * widest(m) * sizeof(float));
    s->grad_b = malloc((size_t)batch * widest(m) * sizeof(float));
    ok &= s->grad_a && s->grad_b;
    if (!ok) mlp_cpu_scratch_free(s);
    return ok ? 0 : -1;
}

void mlp_cpu_scratch_free(mlp_cpu_scratch *s)
{
    for (int l = 0; l < MLP_LAYERS; ++l) {
        free(s->pre[l]);
        free(s->post[l]);
        s->pre[l] = s->post[l] = NULL;
    }
    free(s->grad_a);
    free(s->grad_b);
    s->grad_a = s->grad_b = NULL;
}

/* pre = in * W^T + b; then activation (or log-softmax on the last layer). */
static actk_status forward(const mlp_model *m, actk_act act, const float *x, int batch, mlp_cpu_scratch *s)
{
    const float *in = x;
    for (int l = 0; l < MLP_LAYERS; ++l) {
        const int n_in = m->sizes[l], n_out = m->sizes[l + 1];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, n_out, n_in, 1.0f, in, n_in, m->weight[l], n_in,
                    0.0f, s->pre[l], n_out);
        for (int r = 0; r < batch; ++r)
            for (int j = 0; j < n_out; ++j) s->pre[l][(size_t)r * n_out + j] += m->bias[l][j];
        actk_status st = l + 1 < MLP_LAYERS
                             ? actk_cpu_forward(act, ACTK_F32, (size_t)batch * n_out, s->pre[l], s->post[l])
                             : actk_cpu_softmax_forward(ACTK_LOG_SOFTMAX, ACTK_F32, (size_t)batch, (size_t)n_out, 1,
                                                        s->pre[l], s->post[l]);
        if (st != ACTK_SUCCESS) return st;
        in = s->post[l];
    }
    return ACTK_SUCCESS;
}

static double mean_nll(const mlp_model *m, const mlp_cpu_scratch *s, const int *labels, int batch, int *correct)
{
    const int classes = m->sizes[MLP_LAYERS];
    double loss = 0;
    for (int r = 0; r < batch; ++r) {
        const float *logp = s->post[MLP_LAYERS - 1] + (size_t)r * classes;
        loss -= logp[labels[r]];
        int best = 0;
        for (int c = 1; c < classes; ++c) best = logp[c] > logp[best] ? c : best;
        if (correct) *correct += best == labels[r];
    }
    return loss / batch;
}

actk_status mlp_cpu_forward_backward(const mlp_model *m, actk_act act, const float *x, const int *labels, int batch,
                                     mlp_cpu_scratch *s, mlp_model *grads, double *loss)
{
    actk_status st = forward(m, act, x, batch, s);
    if (st != ACTK_SUCCESS) return st;
    *loss = mean_nll(m, s, labels, batch, NULL);

    /* d loss / d logp: -1/batch at the label */
    const int classes = m->sizes[MLP_LAYERS];
    memset(s->grad_a, 0, (size_t)batch * classes * sizeof(float));
    for (int r = 0; r < batch; ++r) s->grad_a[(size_t)r * classes + labels[r]] = -1.0f / (float)batch;
    st = actk_cpu_softmax_backward(ACTK_LOG_SOFTMAX, ACTK_F32, (size_t)batch, (size_t)classes, 1,
                                   s->post[MLP_LAYERS - 1], s->grad_a, s->grad_b);
    if (st != ACTK_SUCCESS) return st;

    float *d_pre = s->grad_b, *d_other = s->grad_a; /* gradient w.r.t. the current layer's pre-activation */
    for (int l = MLP_LAYERS - 1; l >= 0; --l) {
        const int n_in = m->sizes[l], n_out = m->sizes[l + 1];
        const float *in = l == 0 ? x : s->post[l - 1];
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n_out, n_in, batch, 1.0f, d_pre, n_out, in, n_in, 0.0f,
                    grads->weight[l], n_in);
        for (int j = 0; j < n_out; ++j) {
            float sum = 0;
            for (int r = 0; r < batch; ++r) sum += d_pre[(size_t)r * n_out + j];
            grads->bias[l][j] = sum;
        }
        if (l == 0) break;
        /* d in = d_pre * W, then through the activation: d pre[l-1] */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, n_in, n_out, 1.0f, d_pre, n_out, m->weight[l],
                    n_in, 0.0f, d_other, n_in);
        st = actk_cpu_backward(act, ACTK_F32, (size_t)batch * n_in, s->pre[l - 1], d_other, d_other);
        if (st != ACTK_SUCCESS) return st;
        float *t = d_pre;
        d_pre = d_other;
        d_other = t;
    }
    return ACTK_SUCCESS;
}

actk_status mlp_cpu_evaluate(const mlp_model *m, actk_act act, const float *x, const int *labels, int count,
                             mlp_cpu_scratch *s, double *loss, int *correct)
{
    double total = 0;
    *correct = 0;
    for (int start = 0; start < count; start += s->batch) {
        const int b = count - start < s->batch ? count - start : s->batch;
        const actk_status st = forward(m, act, x + (size_t)start * m->sizes[0], b, s);
        if (st != ACTK_SUCCESS) return st;
        total += mean_nll(m, s, labels + start, b, correct) * b;
    }
    *loss = count ? total / count : 0;
    return ACTK_SUCCESS;
}

void mlp_adam_step(mlp_model *m, const mlp_model *grads, mlp_model *first, mlp_model *second, float lr, int t)
{
    const float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
    const float bc1 = 1.0f - powf(beta1, (float)t), bc2 = 1.0f - powf(beta2, (float)t);
    const float step = lr / bc1, root_bc2 = sqrtf(bc2);
    for (size_t i = 0; i < m->param_count; ++i) {
        const float g = grads->params[i];
        first->params[i] = beta1 * first->params[i] + (1.0f - beta1) * g;
        second->params[i] = beta2 * second->params[i] + (1.0f - beta2) * g * g;
        m->params[i] -= step * first->params[i] / (sqrtf(second->params[i]) / root_bc2 + eps);
    }
}

void mlp_report_epoch(FILE *csv, const char *name, const char *device, int epoch, int epochs, double train_loss,
                      double test_loss, double accuracy, double seconds)
{
    printf("  %-10s epoch %d/%d: train loss %.4f, test loss %.4f, test accuracy %.2f%%, %.1f s\n", name, epoch, epochs,
           train_loss, test_loss, accuracy, seconds);
    fflush(stdout);
    if (csv)
        fprintf(csv, "%s,%s,%d,%.6f,%.6f,%.4f,%.3f\n", name, device, epoch, train_loss, test_loss, accuracy, seconds);
}

void mlp_shuffle(mlp_rng *rng, size_t *order, size_t count)
{
    for (size_t i = count; i > 1; --i) {
        const size_t j = mlp_rng_next(rng) % i, t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
}

int mlp_cpu_trainer_init(mlp_cpu_trainer *t, const mlp_model *m, size_t pixels, int batch)
{
    memset(t, 0, sizeof *t);
    t->batch = batch;
    if (mlp_model_like(&t->grads, m) || mlp_model_like(&t->first, m) || mlp_model_like(&t->second, m) ||
        mlp_cpu_scratch_init(&t->scratch, m, batch))
        return -1;
    t->xb = malloc((size_t)batch * pixels * sizeof(float));
    t->yb = malloc((size_t)batch * sizeof(int));
    return t->xb && t->yb ? 0 : -1;
}

void mlp_cpu_trainer_free(mlp_cpu_trainer *t)
{
    mlp_model_free(&t->grads);
    mlp_model_free(&t->first);
    mlp_model_free(&t->second);
    mlp_cpu_scratch_free(&t->scratch);
    free(t->xb);
    free(t->yb);
}

actk_status mlp_cpu_train_epoch(mlp_model *m, actk_act act, mlp_cpu_trainer *t, const float *images, const int *labels,
                                size_t pixels, const size_t *order, size_t count, float lr, double *mean_loss)
{
    double loss_sum = 0;
    size_t batches = 0;
    for (size_t b0 = 0; b0 < count; b0 += (size_t)t->batch) {
        const int nb = (int)(count - b0 < (size_t)t->batch ? count - b0 : (size_t)t->batch);
        for (int k = 0; k < nb; ++k) {
            memcpy(t->xb + (size_t)k * pixels, images + order[b0 + k] * pixels, pixels * sizeof(float));
            t->yb[k] = labels[order[b0 + k]];
        }
        double loss = 0;
        const actk_status st = mlp_cpu_forward_backward(m, act, t->xb, t->yb, nb, &t->scratch, &t->grads, &loss);
        if (st != ACTK_SUCCESS) return st;
        mlp_adam_step(m, &t->grads, &t->first, &t->second, lr, ++t->step);
        loss_sum += loss;
        ++batches;
    }
    *mean_loss = batches ? loss_sum / (double)batches : 0;
    return ACTK_SUCCESS;
}
