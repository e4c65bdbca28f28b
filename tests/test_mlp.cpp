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
        ASSERT_EQ(mlp_cpu_forward_backward(&m, actk_act_default(ACTK_OP_RELU), x.data(), labels.data(), batch, &s, &g, &loss), ACTK_SUCCESS);
        if (step == 1) first_loss = loss;
        mlp_adam_step(&m, &g, &m1, &m2, 1e-2f, step);
    }
    EXPECT_LT(loss, 0.25 * first_loss);
    mlp_cpu_scratch_free(&s);
    mlp_model_free(&m); mlp_model_free(&g); mlp_model_free(&m1); mlp_model_free(&m2);
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
        ASSERT_EQ(mlp_cpu_forward_backward(&m, relu, train.images + (size_t)b0 * 784, train.labels + b0, batch, &s, &g, &loss), ACTK_SUCCESS);
        mlp_adam_step(&m, &g, &m1, &m2, 1e-3f, ++step);
    }
    int correct = 0;
    double test_loss = 0;
    ASSERT_EQ(mlp_cpu_evaluate(&m, relu, test.images, test.labels, (int)test.count, &s, &test_loss, &correct), ACTK_SUCCESS);
    const double accuracy = 100.0 * correct / test.count;
    printf("  relu, 5000 images, 1 epoch: test accuracy %.2f%%, test loss %.4f\n", accuracy, test_loss);
    EXPECT_GT(accuracy, 70.0);
    mlp_cpu_scratch_free(&s);
    mlp_model_free(&m); mlp_model_free(&g); mlp_model_free(&m1); mlp_model_free(&m2);
    mlp_free_dataset(&train);
    mlp_free_dataset(&test);
}

#ifdef ACTK_MLP_WITH_CUDA
#include "mlp_gpu.h"

/* The GPU path's gradients (cuBLAS + actk CUDA + this example's kernels)
 * equal the CPU path's up to summation order. */
TEST(MlpTraining, GpuGradientsMatchCpuGradients)
{
    if (actk_cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device on this machine";
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
        ASSERT_EQ(mlp_cpu_forward_backward(&m, actk_act_default(op), x.data(), labels.data(), batch, &s, &cpu, &cpu_loss), ACTK_SUCCESS);
        ASSERT_EQ(mlp_gpu_gradients(&m, actk_act_default(op), x.data(), labels.data(), batch, &gpu, &gpu_loss), 0);
        EXPECT_NEAR(gpu_loss, cpu_loss, 1e-5 * std::fabs(cpu_loss) + 1e-6);
        double max_abs = 0;
        for (size_t p = 0; p < m.param_count; ++p) max_abs = std::fmax(max_abs, std::fabs(cpu.params[p]));
        for (size_t p = 0; p < m.param_count; ++p)
            ASSERT_NEAR(gpu.params[p], cpu.params[p], 1e-3 * std::fabs(cpu.params[p]) + 1e-5 * max_abs) << "parameter " << p;
        mlp_cpu_scratch_free(&s);
        mlp_model_free(&m); mlp_model_free(&cpu); mlp_model_free(&gpu);
    }
}
#endif
