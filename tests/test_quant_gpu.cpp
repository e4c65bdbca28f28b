// SPDX-License-Identifier: MIT
/*
 * test_quant_gpu.cpp - the CUDA FP8-output kernels (actk_cuda_*_quant)
 * against the f32 oracle under the agreement rule (quant_check.h): every
 * op (with the extra parameter sets) x family (2-D element-wise, gated) x
 * mode x input dtype, both formats, odd widths, strides, bias, edge rows
 * (zeros, one huge value, inf/NaN, tiny values); long rows (the two-pass
 * path), many rows (grid-stride loop), the running per-tensor amax and its
 * determinism, device-pointer checks. Every output is poisoned with guard
 * bands before the call. Skips without a usable GPU.
 */
#include "gpu_util.h"
#include "quant_check.h"

#include "agreement.h" /* activations_under_test */

#include <gtest/gtest.h>

#include <cstdio>

using namespace actk_qtest;
using actk_test::Gpu;

namespace {

template <class T> struct Dev {
    T *p = nullptr;
    size_t n = 0;
    explicit Dev(size_t count) : n(count)
    {
        (void)cudaMalloc(reinterpret_cast<void **>(&p), (count ? count : 1) * sizeof(T));
    }
    ~Dev() { cudaFree(p); }
    Dev(const Dev &) = delete;
    Dev &operator=(const Dev &) = delete;
    void up(const T *h) { (void)cudaMemcpy(p, h, n * sizeof(T), cudaMemcpyHostToDevice); }
    void down(T *h) { (void)cudaMemcpy(h, p, n * sizeof(T), cudaMemcpyDeviceToHost); }
};

/* Runs the CUDA form on device copies of the inputs and of r's poisoned
 * outputs (guards included), then copies everything back into r. */
actk_status run_gpu(const QuantCase &c, const QuantInputs &in, QuantResult &r, actk_stream stream = nullptr)
{
    const size_t elem = actk_dtype_size(c.dtype);
    Dev<unsigned char> x(in.x.bytes.size()), bias(in.bias.bytes.size()), y(r.y.size()), mx(r.mx.size());
    Dev<float> scales(r.scales.size()), scale_inv(r.scale_inv.size()), tensor(3);
    x.up(in.x.bytes.data());
    bias.up(in.bias.bytes.data());
    y.up(r.y.data());
    mx.up(r.mx.data());
    scales.up(r.scales.data());
    scale_inv.up(r.scale_inv.data());
    const float t[3] = {in.scale, r.amax, r.tensor_scale_inv};
    tensor.up(t);
    actk_quant q = actk_quant_default(c.format, c.mode);
    q.group_size = c.group_size;
    q.scale_pow2 = c.pow2;
    q.scale = tensor.p;
    q.amax = tensor.p + 1;
    q.scale_inv = c.mode == ACTK_QUANT_PER_TENSOR ? tensor.p + 2 : scale_inv.p + kGuard;
    q.scales = scales.p + kGuard;
    q.mx_scales = mx.p + kGuard;
    const void *b = c.bias ? bias.p : nullptr;
    (void)elem;
    const actk_status s =
        c.gated ? actk_cuda_gated_forward_quant(c.act, c.layout, c.gate, c.dtype, c.rows, c.cols, x.p, c.ldx, b, &q,
                                                y.p + kGuard, c.ldy, stream)
                : actk_cuda_forward_2d_quant(c.act, c.dtype, c.rows, c.cols, x.p, c.ldx, b, &q, y.p + kGuard, c.ldy,
                                             stream);
    if (cudaDeviceSynchronize() != cudaSuccess) return ACTK_ERROR_CUDA;
    y.down(r.y.data());
    mx.down(r.mx.data());
    scales.down(r.scales.data());
    scale_inv.down(r.scale_inv.data());
    float back[3];
    tensor.down(back);
    r.amax = back[1];
    r.tensor_scale_inv = back[2];
    return s;
}

struct Totals {
    size_t codes = 0, boundary = 0, scale_boundary = 0, gated_inf_nan = 0;
    void add(const Agreement &a)
    {
        codes += a.elements;
        boundary += a.boundary;
        scale_boundary += a.scale_boundary;
        gated_inf_nan += a.gated_inf_nan;
    }
};

void run_and_check(const QuantCase &c, std::mt19937_64 &rng, Totals &totals, float amax_before = 0.0f)
{
    const QuantInputs in = make_inputs(c, rng, c.rows >= 4);
    const std::vector<float> y = oracle_y32(c, in);
    ASSERT_EQ(y.size(), c.rows * c.cols) << describe(c);
    QuantResult r(c);
    r.amax = amax_before;
    ASSERT_EQ(run_gpu(c, in, r), ACTK_SUCCESS) << describe(c) << ": " << actk_last_error();
    const Agreement a = check(c, y, in.scale, amax_before, r);
    EXPECT_EQ(a.failures, 0u) << describe(c) << ": " << a.first_failure;
    totals.add(a);
}

class QuantGpu : public Gpu {};

TEST_F(QuantGpu, EveryOpModeFamilyDtypeAgreesWithTheOracle)
{
    std::mt19937_64 rng(2015);
    Totals totals;
    size_t k = 0;
    for (const actk_act act : actk_test::activations_under_test())
        for (int gated = 0; gated < 2; ++gated)
            for (const ModeVariant mv : mode_variants())
                for (actk_dtype dtype : {ACTK_F32, ACTK_F16, ACTK_BF16}) {
                    const bool grouped = mv.mode == ACTK_QUANT_PER_GROUP || mv.mode == ACTK_QUANT_MXFP8;
                    QuantCase c{};
                    c.gated = gated;
                    c.act = act;
                    c.layout = k % 3 == 0 ? ACTK_GATED_INTERLEAVED : ACTK_GATED_CONCAT;
                    c.gate = k % 4 == 1 ? ACTK_GATE_SECOND : ACTK_GATE_FIRST;
                    c.dtype = dtype;
                    c.rows = 13;
                    c.cols = grouped ? (k % 2 ? 256 : 384) : (k % 2 ? 131 : 1); /* odd widths; a single column */
                    if (!grouped && k % 5 == 0) c.cols = 77;
                    c.ldx = in_width(c) + (k % 2) * 3;
                    c.ldy = c.cols + (k % 3);
                    c.bias = k % 2 == 1;
                    c.format = k % 5 < 3 ? ACTK_FP8_E4M3 : ACTK_FP8_E5M2;
                    c.mode = mv.mode;
                    c.group_size = mv.group_size;
                    c.pow2 = mv.pow2;
                    ++k;
                    run_and_check(c, rng, totals);
                    if (HasFatalFailure()) return;
                }
    std::printf("GPU FP8 outputs: %zu codes; %zu differ from the oracle within the tolerance of a rounding boundary; "
                "%zu scales at an amax boundary; %zu gated 0*inf NaNs\n",
                totals.codes, totals.boundary, totals.scale_boundary, totals.gated_inf_nan);
    EXPECT_LE(totals.boundary * 100, totals.codes);
}

TEST_F(QuantGpu, LongRowsManyRowsAndStrides)
{
    std::mt19937_64 rng(77);
    Totals totals;
    const struct {
        size_t rows, cols, pad;
    } shapes[] = {{3, 5000, 0}, {2, 4099, 7}, {3000, 64, 0}, {700, 128, 16}, {1, 1, 0}, {5, 33, 1}};
    for (const auto &sh : shapes)
        for (const ModeVariant mv : mode_variants())
            for (int gated = 0; gated < 2; ++gated) {
                QuantCase c{};
                c.gated = gated;
                c.act = actk_act_default(gated ? ACTK_OP_SILU : ACTK_OP_GELU);
                c.layout = ACTK_GATED_CONCAT;
                c.gate = ACTK_GATE_FIRST;
                c.dtype = sh.rows % 2 ? ACTK_BF16 : ACTK_F16;
                c.rows = sh.rows;
                c.cols = sh.cols;
                if ((mv.mode == ACTK_QUANT_PER_GROUP && c.cols % mv.group_size) ||
                    (mv.mode == ACTK_QUANT_MXFP8 && c.cols % 32))
                    continue;
                c.ldx = in_width(c) + sh.pad;
                c.ldy = c.cols + sh.pad;
                c.bias = gated == 0;
                c.format = ACTK_FP8_E4M3;
                c.mode = mv.mode;
                c.group_size = mv.group_size;
                c.pow2 = mv.pow2;
                run_and_check(c, rng, totals);
                if (HasFatalFailure()) return;
            }
    EXPECT_GT(totals.codes, 100000u);
}

TEST_F(QuantGpu, PerTensorAmaxIsARunningMaxAndDeterministic)
{
    std::mt19937_64 rng(5);
    QuantCase c{};
    c.act = actk_act_default(ACTK_OP_SILU);
    c.dtype = ACTK_F32;
    c.rows = 2000;
    c.cols = 1000;
    c.ldx = c.cols;
    c.ldy = c.cols;
    c.format = ACTK_FP8_E4M3;
    c.mode = ACTK_QUANT_PER_TENSOR;
    const QuantInputs in = make_inputs(c, rng, false);
    float first = 0.0f;
    for (int run = 0; run < 3; ++run) {
        QuantResult r(c);
        ASSERT_EQ(run_gpu(c, in, r), ACTK_SUCCESS) << actk_last_error();
        if (run == 0) first = r.amax;
        EXPECT_EQ(bits_of(r.amax), bits_of(first)) << "run " << run;
    }
    EXPECT_GT(first, 0.0f);
    QuantResult big(c);
    big.amax = 1e30f; /* larger than every |y|: stays */
    ASSERT_EQ(run_gpu(c, in, big), ACTK_SUCCESS);
    EXPECT_EQ(big.amax, 1e30f);
}

TEST_F(QuantGpu, RejectsHostPointersAndWritesNothing)
{
    Dev<float> x(64);
    Dev<unsigned char> y(64);
    const float host_scale = 1.0f;
    actk_quant q = actk_quant_default(ACTK_FP8_E4M3, ACTK_QUANT_PER_TENSOR);
    q.scale = &host_scale;
    EXPECT_EQ(actk_cuda_forward_2d_quant(actk_act_default(ACTK_OP_RELU), ACTK_F32, 1, 64, x.p, 64, nullptr, &q, y.p, 64,
                                         nullptr),
              ACTK_ERROR_INVALID_VALUE);
    EXPECT_NE(std::string(actk_last_error()).find("q->scale"), std::string::npos) << actk_last_error();
    EXPECT_EQ(actk_cuda_forward_2d_quant(actk_act_default(ACTK_OP_RELU), ACTK_F32, 0, 64, nullptr, 64, nullptr, &q,
                                         nullptr, 64, nullptr),
              ACTK_SUCCESS);
}

} // namespace
