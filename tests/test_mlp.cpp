// SPDX-License-Identifier: MIT
/*
 * test_mlp.cpp - correctness of the MLP example's training: the analytic
 * gradients of the whole network (linear layers, actk activations and
 * log-softmax cross-entropy) against central finite differences on a tiny
 * model, for several activations; and a smoke test that the CPU path
 * learns Fashion-MNIST (> 70% test accuracy after one epoch on 5000 images
 * with relu). The data test skips with a reason when the data set
 * package is not installed.
 */
#include "mlp_data.h"
#include "mlp_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace {

/* Mean loss of the model on (x, labels), forward only. */
double loss_of(const mlp_model &m, actk_act act, const std::vector<float> &x, const std::vector<int> &labels, int batch)
{
    mlp_cpu_scratch s;
    EXPECT_EQ(mlp_cpu_scratch_init(&s, &m, batch), 0);
    double loss = 0;
    int correct = 0;
    EXPECT_EQ(mlp_cpu_evaluate(&m, act, x.data(), labels.data(), batch, &s, &loss, &correct), ACTK_SUCCESS);
    mlp_cpu_scratch_free(&s);
    return loss;
}

} // namespace

TEST(MlpTraining, GradientsMatchFiniteDifferences)
{
    const int sizes[MLP_LAYERS + 1] = {6, 5, 4, 3};
    const int batch = 4;
    for (actk_op op : {ACTK_OP_IDENTITY, ACTK_OP_TANH, ACTK_OP_SIGMOID, ACTK_OP_GELU, ACTK_OP_SOFTPLUS}) {
        SCOPED_TRACE(actk_op_name(op));
        const actk_act act = actk_act_default(op);
        mlp_rng rng = {7};
        mlp_model m, grads;
        ASSERT_EQ(mlp_model_init(&m, sizes, &rng), 0);
        ASSERT_EQ(mlp_model_like(&grads, &m), 0);
        std::vector<float> x(batch * sizes[0]);
        std::vector<int> labels = {0, 2, 1, 2};
        for (float &v : x) v = mlp_rng_uniform(&rng, -1.5f, 1.5f);
        mlp_cpu_scratch s;
        ASSERT_EQ(mlp_cpu_scratch_init(&s, &m, batch), 0);
        double loss = 0;
        ASSERT_EQ(mlp_cpu_forward_backward(&m, act, x.data(), labels.data(), batch, &s, &grads, &loss), ACTK_SUCCESS);
        EXPECT_NEAR(loss, loss_of(m, act, x, labels, batch), 1e-6);
        /* every parameter: central difference in float, h = 1e-2 (loss is smooth) */
        for (size_t p = 0; p < m.param_count; ++p) {
            const float keep = m.params[p], h = 1e-2f;
            m.params[p] = keep + h;
            const double up = loss_of(m, act, x, labels, batch);
            m.params[p] = keep - h;
            const double down = loss_of(m, act, x, labels, batch);
            m.params[p] = keep;
            const double numeric = (up - down) / (2.0 * h);
            EXPECT_NEAR(grads.params[p], numeric, 2e-3 + 2e-2 * std::fabs(numeric)) << "parameter " << p;
        }
        mlp_cpu_scratch_free(&s);
        mlp_model_free(&m);
        mlp_model_free(&grads);
    }
}

TEST(MlpTraining, AdamMovesAgainstTheGradientAndLossFalls)
{
    const int sizes[MLP_LAYERS + 1] = {8, 16, 16, 4};
    const int batch = 32;
    mlp_rng rng = {3};
    mlp_model m, g, m1, m2;
    ASSERT_EQ(mlp_model_init(&m, sizes, &rng), 0);
    ASSERT_EQ(mlp_model_like(&g, &m) | mlp_model_like(&m1, &m) | mlp_model_like(&m2, &m), 0);
    std::vector<float> x(batch * sizes[0]);
    std::vector<int> labels(batch);
    for (int r = 0; r < batch; ++r) { /* a learnable rule: label = argmax of the first 4 inputs */
        int best = 0;
        for (int c = 0; c < sizes[0]; ++c) x[r * sizes[0] + c] = mlp_rng_uniform(&rng, -1, 1);
        for (int c = 1; c < 4; ++c) best = x[r * sizes[0] + c] > x[r * sizes[0] + best] ? c : best;
        labels[r] = best;
    }
    mlp_cpu_scratch s;
    ASSERT_EQ(mlp_cpu_scratch_init(&s, &m, batch), 0);
    double first_loss = 0, loss = 0;
    for (int step = 1; step <= 300; ++step) {
        ASSERT_EQ(
            mlp_cpu_forward_backward(&m, actk_act_default(ACTK_OP_RELU), x.data(), labels.data(), batch, &s, &g, &loss),
            ACTK_SUCCESS);
        if (step == 1) first_loss = loss;
        mlp_adam_step(&m, &g, &m1, &m2, 1e-2f, step);
    }
    EXPECT_LT(loss, 0.25 * first_loss);
    mlp_cpu_scratch_free(&s);
    mlp_model_free(&m); mlp_model_free(&g); mlp_model_free(&m1); mlp_model_free(&m2);
}

/* A synthetic data set: `count` images of `pixels` values with labels that
 * follow a rule (so training moves the loss), deterministic. */
static mlp_dataset synthetic(size_t count, size_t pixels, unsigned long long seed, std::vector<float> &images,
                             std::vector<int> &labels)
{
    mlp_rng rng = {seed};
    images.resize(count * pixels);
    labels.resize(count);
    for (size_t i = 0; i < count; ++i) {
        for (size_t p = 0; p < pixels; ++p) images[i * pixels + p] = mlp_rng_uniform(&rng, 0, 1);
        labels[i] = (int)((images[i * pixels] * 10.0f)) % 10;
    }
    return mlp_dataset{count, pixels, images.data(), labels.data()};
}

/* One CPU epoch on a count that does not divide by the batch: 4 full
 * batches and a short one of the last 5 shuffled images, against the same
 * steps written out here. */
TEST(MlpTraining, CpuEpochTrainsEveryBatchIncludingTheShortLastOne)
{
    const size_t count = 37, pixels = 12;
    const int batch = 8;
    std::vector<float> images;
    std::vector<int> labels;
    const mlp_dataset data = synthetic(count, pixels, 5, images, labels);
    const int sizes[MLP_LAYERS + 1] = {(int)pixels, 256, 128, 10};
    const actk_act act = actk_act_default(ACTK_OP_TANH);
    mlp_rng rng = {11};
    mlp_model m, want, g, m1, m2;
    ASSERT_EQ(mlp_model_init(&m, sizes, &rng), 0);
    ASSERT_EQ(mlp_model_like(&want, &m) | mlp_model_like(&g, &m) | mlp_model_like(&m1, &m) | mlp_model_like(&m2, &m),
              0);
    std::copy(m.params, m.params + m.param_count, want.params);
    std::vector<size_t> order(count);
    for (size_t i = 0; i < count; ++i) order[i] = i;
    mlp_shuffle(&rng, order.data(), count);

    mlp_cpu_trainer t;
    ASSERT_EQ(mlp_cpu_trainer_init(&t, &m, pixels, batch), 0);
    double mean_loss = 0;
    ASSERT_EQ(
        mlp_cpu_train_epoch(&m, act, &t, data.images, data.labels, pixels, order.data(), count, 1e-3f, &mean_loss),
        ACTK_SUCCESS);
    EXPECT_EQ(t.step, 5);

    /* the same five steps by hand: images order[0..8), ..., order[32..37) */
    mlp_cpu_scratch s;
    ASSERT_EQ(mlp_cpu_scratch_init(&s, &want, batch), 0);
    double sum = 0;
    int step = 0;
    for (size_t first : {0, 8, 16, 24, 32}) {
        const int rows = first == 32 ? 5 : batch;
        std::vector<float> xb(rows * pixels);
        std::vector<int> yb(rows);
        for (int k = 0; k < rows; ++k) {
            std::copy(images.begin() + order[first + k] * pixels, images.begin() + (order[first + k] + 1) * pixels,
                      xb.begin() + k * pixels);
            yb[k] = labels[order[first + k]];
        }
        double loss = 0;
        ASSERT_EQ(mlp_cpu_forward_backward(&want, act, xb.data(), yb.data(), rows, &s, &g, &loss), ACTK_SUCCESS);
        mlp_adam_step(&want, &g, &m1, &m2, 1e-3f, ++step);
        sum += loss;
    }
    EXPECT_EQ(mean_loss, sum / 5);
    for (size_t p = 0; p < m.param_count; ++p) ASSERT_EQ(m.params[p], want.params[p]) << "parameter " << p;
    mlp_cpu_scratch_free(&s);
    mlp_cpu_trainer_free(&t);
    mlp_model_free(&m); mlp_model_free(&want); mlp_model_free(&g); mlp_model_free(&m1); mlp_model_free(&m2);
}

TEST(MlpTraining, CpuPathLearnsFashionMnist)
{
    char err[4200];
    mlp_dataset train, test;
    const char *dir = "/usr/share/datasets/fashion-mnist";
    if (mlp_load_dataset(dir, "train", &train, err, sizeof err) != 0) GTEST_SKIP() << err;
    ASSERT_EQ(mlp_load_dataset(dir, "t10k", &test, err, sizeof err), 0) << err;
    EXPECT_EQ(train.count, 60000u);
    EXPECT_EQ(test.count, 10000u);
    EXPECT_EQ(train.pixels, 784u);
    const int sizes[MLP_LAYERS + 1] = {784, 256, 128, 10};
    const int batch = 16, limit = 5000;
    const actk_act relu = actk_act_default(ACTK_OP_RELU);
    mlp_rng rng = {16};
    mlp_model m, g, m1, m2;
    ASSERT_EQ(mlp_model_init(&m, sizes, &rng), 0);
    ASSERT_EQ(mlp_model_like(&g, &m) | mlp_model_like(&m1, &m) | mlp_model_like(&m2, &m), 0);
    mlp_cpu_scratch s;
    ASSERT_EQ(mlp_cpu_scratch_init(&s, &m, batch), 0);
    double loss = 0;
    int step = 0;
    for (int b0 = 0; b0 < limit; b0 += batch) {
        ASSERT_EQ(mlp_cpu_forward_backward(&m, relu, train.images + (size_t)b0 * 784, train.labels + b0, batch, &s, &g,
                                           &loss),
                  ACTK_SUCCESS);
        mlp_adam_step(&m, &g, &m1, &m2, 1e-3f, ++step);
    }
    int correct = 0;
    double test_loss = 0;
    ASSERT_EQ(mlp_cpu_evaluate(&m, relu, test.images, test.labels, (int)test.count, &s, &test_loss, &correct),
              ACTK_SUCCESS);
    const double accuracy = 100.0 * correct / test.count;
    printf("  relu, 5000 images, 1 epoch: test accuracy %.2f%%, test loss %.4f\n", accuracy, test_loss);
    EXPECT_GT(accuracy, 70.0);
    mlp_cpu_scratch_free(&s);
    mlp_model_free(&m); mlp_model_free(&g); mlp_model_free(&m1); mlp_model_free(&m2);
    mlp_free_dataset(&train);
    mlp_free_dataset(&test);
}

#ifdef ACTK_MLP_WITH_CUDA
#include "gpu_util.h"
#include "mlp_gpu.h"

/* The GPU path's gradients (cuBLAS + actk CUDA + this example's kernels)
 * equal the CPU path's up to summation order. */
TEST(MlpTraining, GpuGradientsMatchCpuGradients)
{
    ACTK_REQUIRE_GPU_OR_SKIP();
    const int sizes[MLP_LAYERS + 1] = {784, 256, 128, 10};
    const int batch = 16;
    for (actk_op op : {ACTK_OP_IDENTITY, ACTK_OP_SIGMOID, ACTK_OP_TANH, ACTK_OP_RELU, ACTK_OP_GELU}) {
        SCOPED_TRACE(actk_op_name(op));
        mlp_rng rng = {16};
        mlp_model m, cpu, gpu;
        ASSERT_EQ(mlp_model_init(&m, sizes, &rng), 0);
        ASSERT_EQ(mlp_model_like(&cpu, &m) | mlp_model_like(&gpu, &m), 0);
        std::vector<float> x(batch * 784);
        std::vector<int> labels(batch);
        for (float &v : x) v = mlp_rng_uniform(&rng, 0, 1);
        for (int &l : labels) l = (int)(mlp_rng_next(&rng) % 10);
        mlp_cpu_scratch s;
        ASSERT_EQ(mlp_cpu_scratch_init(&s, &m, batch), 0);
        double cpu_loss = 0, gpu_loss = 0;
        ASSERT_EQ(
            mlp_cpu_forward_backward(&m, actk_act_default(op), x.data(), labels.data(), batch, &s, &cpu, &cpu_loss),
            ACTK_SUCCESS);
        ASSERT_EQ(mlp_gpu_gradients(&m, actk_act_default(op), x.data(), labels.data(), batch, &gpu, &gpu_loss), 0);
        EXPECT_NEAR(gpu_loss, cpu_loss, 1e-5 * std::fabs(cpu_loss) + 1e-6);
        double max_abs = 0;
        for (size_t p = 0; p < m.param_count; ++p) max_abs = std::fmax(max_abs, std::fabs(cpu.params[p]));
        for (size_t p = 0; p < m.param_count; ++p)
            ASSERT_NEAR(gpu.params[p], cpu.params[p], 1e-3 * std::fabs(cpu.params[p]) + 1e-5 * max_abs)
                << "parameter " << p;
        mlp_cpu_scratch_free(&s);
        mlp_model_free(&m); mlp_model_free(&cpu); mlp_model_free(&gpu);
    }
}
/* The GPU's training (graph-replayed full batches, then the short last
 * batch eagerly) against the CPU's on a count that does not divide by the
 * batch: same seed, so the same initialisation and shuffle. The short
 * batch once gathered order[step * rows + k] instead of
 * order[step * batch + k], i.e. the wrong images: its loss, and so the
 * epoch's mean loss and the final parameters, would then differ far beyond
 * summation-order effects. */
TEST(MlpTraining, GpuEpochMatchesCpuEpochOnANonDividingCount)
{
    ACTK_REQUIRE_GPU_OR_SKIP();
    const size_t count = 37, pixels = 12;
    const int batch = 8;
    const float lr = 1e-2f;
    const unsigned long long seed = 21;
    std::vector<float> images, test_images;
    std::vector<int> labels, test_labels;
    const mlp_dataset train = synthetic(count, pixels, 5, images, labels);
    const mlp_dataset test = synthetic(16, pixels, 6, test_images, test_labels);
    const int sizes[MLP_LAYERS + 1] = {(int)pixels, 256, 128, 10};
    const actk_act act = actk_act_default(ACTK_OP_TANH);

    mlp_rng rng = {seed};
    mlp_model cpu, gpu;
    ASSERT_EQ(mlp_model_init(&cpu, sizes, &rng), 0);
    ASSERT_EQ(mlp_model_like(&gpu, &cpu), 0);
    std::vector<size_t> order(count);
    for (size_t i = 0; i < count; ++i) order[i] = i;
    mlp_shuffle(&rng, order.data(), count);
    mlp_cpu_trainer t;
    ASSERT_EQ(mlp_cpu_trainer_init(&t, &cpu, pixels, batch), 0);
    double cpu_loss = 0;
    ASSERT_EQ(
        mlp_cpu_train_epoch(&cpu, act, &t, train.images, train.labels, pixels, order.data(), count, lr, &cpu_loss),
        ACTK_SUCCESS);

    double accuracy = 0, gpu_loss = 0, seconds = 0;
    ASSERT_EQ(mlp_gpu_train(seed, 1, batch, lr, act, &train, count, &test, nullptr, "tanh", &accuracy, &gpu_loss,
                            &seconds, &gpu),
              0);
    EXPECT_NEAR(gpu_loss, cpu_loss, 1e-4 * std::fabs(cpu_loss));
    /* Adam moves each parameter by about lr per step whatever the gradient's
     * size, so rounding differences stay far below lr on average */
    double mean_diff = 0;
    for (size_t p = 0; p < cpu.param_count; ++p) mean_diff += std::fabs(gpu.params[p] - cpu.params[p]);
    mean_diff /= (double)cpu.param_count;
    EXPECT_LT(mean_diff, 0.01 * lr);
    mlp_cpu_trainer_free(&t);
    mlp_model_free(&cpu);
    mlp_model_free(&gpu);
}
#endif
