// SPDX-License-Identifier: MIT
/*
 * test_gated_gpu.cpp - the gated kernels against the CPU oracle. Every op
 * (and clamped SwiGLU) x dtype x direction on random inputs led by the
 * special/tail values (f16/bf16: every gate value), then every layout x
 * gate position x dtype for a few ops on the packed path, odd widths (the
 * scalar path), row strides with padding, misaligned base pointers and
 * backward in place. Outputs are poisoned before each call; the padding
 * between strided rows and guard bands around every buffer must keep the
 * poison. Without a CUDA device every test is skipped with the reason.
 */
#include "activation_math.cuh" /* MathFor: the kernels' compute type per dtype */
#include "gated_util.h"
#include "gpu_util.h"

#include <cuda_runtime_api.h>
#include <gtest/gtest.h>

#include <cstring>

using namespace actk_test;

namespace {

ComputeRange range_for(actk_dtype dtype)
{
    switch (dtype) {
    case ACTK_F32: return compute_range<actk::MathFor<ACTK_F32>::type::T>(dtype);
    case ACTK_F16: return compute_range<actk::MathFor<ACTK_F16>::type::T>(dtype);
    case ACTK_BF16: return compute_range<actk::MathFor<ACTK_BF16>::type::T>(dtype);
    default: return compute_range<actk::MathFor<ACTK_F64>::type::T>(dtype);
    }
}

actk_status gated_cuda(const Gated &g, bool backward, actk_gated_layout layout, actk_gate_position gate,
                       actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx, const void *dy,
                       size_t lddy, void *out, size_t ldout, cudaStream_t stream = nullptr)
{
    if (g.clamped)
        return backward ? actk_cuda_clamped_swiglu_backward(g.act.alpha, g.act.beta, layout, gate, dtype, rows, cols,
                                                            x, ldx, dy, lddy, out, ldout, stream)
                        : actk_cuda_clamped_swiglu_forward(g.act.alpha, g.act.beta, layout, gate, dtype, rows, cols,
                                                           x, ldx, out, ldout, stream);
    return backward ? actk_cuda_gated_backward(g.act, layout, gate, dtype, rows, cols, x, ldx, dy, lddy, out, ldout,
                                               stream)
                    : actk_cuda_gated_forward(g.act, layout, gate, dtype, rows, cols, x, ldx, out, ldout, stream);
}

struct Shape {
    size_t rows, cols, ldx, ldy;  /* ldy: y (forward) and dy (backward) */
    size_t offset;                /* elements each base pointer is moved by */
    actk_gated_layout layout;
    actk_gate_position gate;
    bool in_place;                /* backward: dx over x */
};

size_t span(size_t rows, size_t width, size_t ld) { return rows == 0 || width == 0 ? 0 : (rows - 1) * ld + width; }

/* One call on the GPU and its check against the oracle. */
void check_shape(const Gated &g, actk_dtype dtype, bool backward, const Shape &s, std::mt19937_64 &rng)
{
    SCOPED_TRACE(describe(g, dtype) + (backward ? " backward" : " forward") + " rows " + std::to_string(s.rows) +
                 " cols " + std::to_string(s.cols) + " ldx " + std::to_string(s.ldx) + " ldy " +
                 std::to_string(s.ldy) + " offset " + std::to_string(s.offset) + " layout " + std::to_string(s.layout) +
                 " gate " + std::to_string(s.gate) + (s.in_place ? " in place" : ""));
    const size_t elem = actk_dtype_size(dtype);
    const size_t nx = span(s.rows, 2 * s.cols, s.ldx), ny = span(s.rows, s.cols, s.ldy);
    const size_t nout = backward ? nx : ny, ldout = backward ? s.ldx : s.ldy;
    /* inputs: specials first, then (f16/bf16) every bit pattern as gates, then random */
    Buffer x(dtype, nx), dy(dtype, ny), want(dtype, nout), got(dtype, nout), poison(dtype, nout);
    std::memset(x.data(), kPoison, x.bytes.size());
    std::memset(dy.data(), kPoison, dy.bytes.size());
    std::memset(poison.data(), kPoison, poison.bytes.size());
    const std::vector<long double> specials = special_values();
    std::uniform_real_distribution<double> grad(-3.0, 3.0);
    const bool half = dtype == ACTK_F16 || dtype == ACTK_BF16;
    size_t k = 0;
    for (size_t r = 0; r < s.rows; ++r)
        for (size_t j = 0; j < s.cols; ++j, ++k) {
            const size_t base = r * s.ldx;
            const size_t gp = base + gated_position(s.layout, s.gate, s.cols, j, 0);
            const size_t up = base + gated_position(s.layout, s.gate, s.cols, j, 1);
            if (k < specials.size()) x.set(gp, specials[k]);
            else if (half && k < specials.size() + 65536)
                reinterpret_cast<uint16_t *>(x.data())[gp] = (uint16_t)(k - specials.size());
            else x.set(gp, random_value(rng, dtype));
            x.set(up, (k % 3 == 0) ? specials[(7 * k) % specials.size()] : random_value(rng, dtype));
            dy.set(r * s.ldy + j, (k % 5 == 0) ? random_value(rng, dtype) : grad(rng));
        }
    std::memcpy(want.data(), poison.data(), want.bytes.size());
    ASSERT_EQ(gated_cpu(g, backward, s.layout, s.gate, dtype, s.rows, s.cols, x.data(), s.ldx, dy.data(), s.ldy,
                        want.data(), ldout),
              ACTK_SUCCESS)
        << actk_last_error();

    DeviceBuffer d_x(nx * elem, s.offset * elem), d_dy(ny * elem, s.offset * elem), d_out(nout * elem, s.offset * elem);
    ASSERT_TRUE(d_x.base && d_dy.base && d_out.base) << "cudaMalloc failed";
    d_x.upload(x.data());
    d_dy.upload(dy.data());
    DeviceBuffer &result = (backward && s.in_place) ? d_x : d_out;
    ASSERT_EQ(gated_cuda(g, backward, s.layout, s.gate, dtype, s.rows, s.cols, d_x.data(), s.ldx, d_dy.data(), s.ldy,
                         result.data(), ldout),
              ACTK_SUCCESS)
        << actk_last_error();
    CUDA_OK(cudaDeviceSynchronize());
    result.download(got.data());
    EXPECT_TRUE(result.guards_intact()) << "write outside the output's span";
    if (!s.in_place || !backward) {
        EXPECT_TRUE(d_x.guards_intact());
    }

    /* every value between rows (padding) keeps its bytes: poison, or x's own in place */
    const Buffer &pad_ref = (backward && s.in_place) ? x : poison;
    const size_t width = backward ? 2 * s.cols : s.cols;
    for (size_t r = 0; r + 1 < s.rows; ++r)
        ASSERT_EQ(0, std::memcmp((const char *)got.data() + (r * ldout + width) * elem,
                                 (const char *)pad_ref.data() + (r * ldout + width) * elem, (ldout - width) * elem))
            << "padding of row " << r << " written";

    GatedReport rep;
    const ComputeRange range = range_for(dtype);
    for (size_t r = 0; r < s.rows; ++r)
        for (size_t j = 0; j < s.cols; ++j) {
            const size_t gp = r * s.ldx + gated_position(s.layout, s.gate, s.cols, j, 0);
            const size_t up = r * s.ldx + gated_position(s.layout, s.gate, s.cols, j, 1);
            const long double gv = x.get(gp), uv = x.get(up), dv = dy.get(r * s.ldy + j);
            if (!backward) {
                check_gated_value(rep, g, dtype, 0, gv, uv, dv, got.get(r * s.ldy + j), want.get(r * s.ldy + j), range);
            } else {
                check_gated_value(rep, g, dtype, 1, gv, uv, dv, got.get(gp), want.get(gp), range);
                check_gated_value(rep, g, dtype, 2, gv, uv, dv, got.get(up), want.get(up), range);
            }
        }
    EXPECT_EQ(rep.failures, 0u) << rep.first_failure;
    ::testing::Test::RecordProperty(describe(g, dtype) + (backward ? " backward" : " forward") + " max_ulp",
                                    std::to_string((double)rep.max_ulp));
}

class GatedGpu : public Gpu {};

} // namespace

/* Every gated op, dtype and direction; concatenated, gate first, aligned:
 * the packed path (cols a multiple of every pack size). */
TEST_F(GatedGpu, EveryOpDtypeDirectionAgreesWithTheOracle)
{
    std::mt19937_64 rng(2024);
    for (const Gated &g : gated_under_test())
        for (const actk_dtype dtype : kAllDtypes)
            for (int backward = 0; backward < 2; ++backward) {
                const size_t cols = 1024, rows = dtype == ACTK_F16 || dtype == ACTK_BF16 ? 72 : 24;
                check_shape(g, dtype, backward,
                            {rows, cols, 2 * cols, cols, 0, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, false}, rng);
            }
}

/* Layouts, gate positions, packed and scalar paths, strides, misaligned
 * bases, in place. */
TEST_F(GatedGpu, LayoutsStridesAlignmentAndInPlace)
{
    std::mt19937_64 rng(77);
    const Gated some[] = {{actk_act_default(ACTK_OP_SILU), false}, {actk_act_default(ACTK_OP_GELU_TANH), false},
                          {actk_act_default(ACTK_OP_RELU), false}, {actk_act_default(ACTK_OP_SIGMOID), false},
                          {{ACTK_OP_SILU, 1.702f, 7.0f}, true}};
    for (const Gated &g : some)
        for (const actk_dtype dtype : kAllDtypes)
            for (const actk_gated_layout layout : {ACTK_GATED_CONCAT, ACTK_GATED_INTERLEAVED})
                for (const actk_gate_position gate : {ACTK_GATE_FIRST, ACTK_GATE_SECOND})
                    for (int backward = 0; backward < 2; ++backward) {
                        const Shape shapes[] = {
                            {33, 64, 128, 64, 0, layout, gate, false},   /* packed, contiguous */
                            {17, 64, 136, 72, 0, layout, gate, false},   /* packed, padded rows */
                            {9, 37, 74, 37, 0, layout, gate, false},     /* odd width: scalar */
                            {7, 64, 128, 64, 1, layout, gate, false},    /* misaligned bases: scalar */
                            {5, 40, 83, 45, 0, layout, gate, false},     /* odd strides: scalar */
                            {3, 1, 2, 1, 0, layout, gate, false},        /* one column */
                            {1, 300, 600, 300, 0, layout, gate, false},  /* one row */
                            {11, 64, 136, 72, 0, layout, gate, true},    /* in place, packed */
                            {6, 21, 50, 23, 1, layout, gate, true},      /* in place, scalar */
                        };
                        for (const Shape &s : shapes) {
                            if (s.in_place && !backward) continue;
                            check_shape(g, dtype, backward, s, rng);
                        }
                    }
}

/* Many rows of one column: the row loop of the grid (grid.y capped). */
TEST_F(GatedGpu, TallAndWideShapes)
{
    std::mt19937_64 rng(3);
    const Gated silu{actk_act_default(ACTK_OP_SILU), false};
    check_shape(silu, ACTK_F32, false, {300000, 1, 2, 1, 0, ACTK_GATED_INTERLEAVED, ACTK_GATE_FIRST, false}, rng);
    check_shape(silu, ACTK_BF16, true, {2, 200000, 400000, 200000, 0, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, false}, rng);
}

/* Non-default stream and CUDA-graph capture: same bits as the default stream. */
TEST_F(GatedGpu, StreamAndGraphCaptureGiveTheSameBits)
{
    const size_t rows = 16, cols = 256, n = rows * 2 * cols;
    std::vector<float> x(n), y1(rows * cols), y2(rows * cols, -1.0f);
    std::mt19937_64 rng(9);
    for (float &v : x) v = (float)random_value(rng, ACTK_F32, 8.0);
    float *d_x = nullptr, *d_y = nullptr;
    CUDA_OK(cudaMalloc(reinterpret_cast<void **>(&d_x), n * sizeof(float)));
    CUDA_OK(cudaMalloc(reinterpret_cast<void **>(&d_y), rows * cols * sizeof(float)));
    CUDA_OK(cudaMemcpy(d_x, x.data(), n * sizeof(float), cudaMemcpyHostToDevice));
    const actk_act silu = actk_act_default(ACTK_OP_SILU);
    ASSERT_EQ(actk_cuda_gated_forward(silu, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, ACTK_F32, rows, cols, d_x, 2 * cols,
                                      d_y, cols, nullptr),
              ACTK_SUCCESS);
    CUDA_OK(cudaMemcpy(y1.data(), d_y, y1.size() * sizeof(float), cudaMemcpyDeviceToHost));
    CUDA_OK(cudaMemset(d_y, 0, rows * cols * sizeof(float)));
    cudaStream_t stream;
    CUDA_OK(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    cudaGraph_t graph;
    cudaGraphExec_t exec;
    CUDA_OK(cudaStreamBeginCapture(stream, cudaStreamCaptureModeGlobal));
    const actk_status captured = actk_cuda_gated_forward(silu, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, ACTK_F32, rows, cols,
                                                         d_x, 2 * cols, d_y, cols, stream);
    CUDA_OK(cudaStreamEndCapture(stream, &graph));
    ASSERT_EQ(captured, ACTK_SUCCESS) << actk_last_error();
    CUDA_OK(cudaGraphInstantiate(&exec, graph, 0));
    CUDA_OK(cudaGraphLaunch(exec, stream));
    CUDA_OK(cudaStreamSynchronize(stream));
    CUDA_OK(cudaMemcpy(y2.data(), d_y, y2.size() * sizeof(float), cudaMemcpyDeviceToHost));
    EXPECT_EQ(0, std::memcmp(y1.data(), y2.data(), y1.size() * sizeof(float)));
    cudaGraphExecDestroy(exec);
    cudaGraphDestroy(graph);
    cudaStreamDestroy(stream);
    cudaFree(d_x);
    cudaFree(d_y);
}

TEST_F(GatedGpu, HostPointersAreRejectedAndNothingIsLaunched)
{
    std::vector<float> x(32, 1.0f), y(16, 5.0f);
    EXPECT_EQ(actk_cuda_gated_forward(actk_act_default(ACTK_OP_SILU), ACTK_GATED_CONCAT, ACTK_GATE_FIRST, ACTK_F32, 1,
                                      16, x.data(), 32, y.data(), 16, nullptr),
              ACTK_ERROR_INVALID_VALUE);
    EXPECT_NE(std::strstr(actk_last_error(), "host pointer"), nullptr) << actk_last_error();
    for (float v : y) EXPECT_EQ(v, 5.0f);
}

/* The fused bias (actk_cuda_gated_bias_forward) against the CPU oracle:
 * both layouts and gate positions, packed and scalar paths, every dtype. */
TEST_F(GatedGpu, FusedBiasForwardAgreesWithTheOracle)
{
    std::mt19937_64 rng(99);
    for (const actk_dtype dtype : kAllDtypes)
        for (const actk_gated_layout layout : {ACTK_GATED_CONCAT, ACTK_GATED_INTERLEAVED})
            for (const actk_gate_position gate : {ACTK_GATE_FIRST, ACTK_GATE_SECOND})
                for (const size_t cols : {(size_t)64, (size_t)37}) {
                    const Gated g{actk_act_default(ACTK_OP_SILU), false};
                    const size_t rows = 33, ldx = 2 * cols, ldy = cols, elem = actk_dtype_size(dtype);
                    Buffer x(dtype, rows * ldx), b(dtype, 2 * cols), want(dtype, rows * ldy), got(dtype, rows * ldy);
                    for (size_t i = 0; i < rows * ldx; ++i) x.set(i, random_value(rng, dtype, 8.0));
                    for (size_t i = 0; i < 2 * cols; ++i) b.set(i, random_value(rng, dtype, 2.0));
                    ASSERT_EQ(actk_cpu_gated_bias_forward(g.act, layout, gate, dtype, rows, cols, x.data(), ldx,
                                                          b.data(), want.data(), ldy),
                              ACTK_SUCCESS);
                    DeviceBuffer d_x(rows * ldx * elem, 0), d_b(2 * cols * elem, 0), d_y(rows * ldy * elem, 0);
                    ASSERT_TRUE(d_x.base && d_b.base && d_y.base);
                    d_x.upload(x.data());
                    d_b.upload(b.data());
                    ASSERT_EQ(actk_cuda_gated_bias_forward(g.act, layout, gate, dtype, rows, cols, d_x.data(), ldx,
                                                           d_b.data(), d_y.data(), ldy, nullptr),
                              ACTK_SUCCESS)
                        << actk_last_error();
                    CUDA_OK(cudaDeviceSynchronize());
                    d_y.download(got.data());
                    EXPECT_TRUE(d_y.guards_intact());
                    GatedReport rep;
                    const ComputeRange range = range_for(dtype);
                    for (size_t r = 0; r < rows; ++r)
                        for (size_t j = 0; j < cols; ++j) {
                            const size_t gp = gated_position(layout, gate, cols, j, 0),
                                         up = gated_position(layout, gate, cols, j, 1);
                            check_gated_value(rep, g, dtype, 0, x.get(r * ldx + gp) + b.get(gp),
                                              x.get(r * ldx + up) + b.get(up), 0, got.get(r * ldy + j),
                                              want.get(r * ldy + j), range);
                        }
                    EXPECT_EQ(rep.failures, 0u) << rep.first_failure;
                }
}
