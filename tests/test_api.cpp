// SPDX-License-Identifier: MIT
/*
 * test_api.cpp - the C API's contract: names, defaults, version, status
 * strings, per-thread errors, and bad input rejected with the documented
 * status and message, with nothing written. Runs with or without a GPU
 * (the CUDA entry points validate before they look for a device).
 */
#include "test_util.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <set>
#include <thread>

using namespace actk_test;

TEST(Api, VersionMacrosMatchRuntime)
{
    EXPECT_EQ(actk_version(), (unsigned)ACTK_VERSION_NUMBER);
    const std::string expected = std::to_string(ACTK_VERSION_MAJOR) + "." + std::to_string(ACTK_VERSION_MINOR) + "." +
                                 std::to_string(ACTK_VERSION_PATCH);
    EXPECT_EQ(expected, actk_version_string());
}

TEST(Api, StatusStringsAreDistinctAndNamed)
{
    const actk_status all[] = {ACTK_SUCCESS, ACTK_ERROR_INVALID_VALUE, ACTK_ERROR_NOT_SUPPORTED, ACTK_ERROR_CUDA,
                               ACTK_ERROR_NO_DEVICE};
    std::set<std::string> names;
    for (actk_status s : all) names.insert(actk_status_string(s));
    EXPECT_EQ(names.size(), 5u);
    EXPECT_STREQ(actk_status_string(ACTK_ERROR_NO_DEVICE), "ACTK_ERROR_NO_DEVICE");
    EXPECT_STREQ(actk_status_string((actk_status)99), "ACTK_UNKNOWN_STATUS");
    /* the values are part of the ABI */
    EXPECT_EQ((int)ACTK_SUCCESS, 0);
    EXPECT_EQ((int)ACTK_ERROR_NO_DEVICE, 4);
}

TEST(Api, OpNamesRoundTripAndSwishIsSilu)
{
    std::set<std::string> names;
    for (int i = 0; i < ACTK_OP_COUNT; ++i) {
        const char *name = actk_op_name((actk_op)i);
        ASSERT_NE(name, nullptr);
        names.insert(name);
        actk_op op = ACTK_OP_COUNT;
        ASSERT_EQ(actk_op_from_name(name, &op), ACTK_SUCCESS) << name;
        EXPECT_EQ(op, (actk_op)i);
    }
    EXPECT_EQ(names.size(), (size_t)ACTK_OP_COUNT);
    actk_op op;
    ASSERT_EQ(actk_op_from_name("swish", &op), ACTK_SUCCESS);
    EXPECT_EQ(op, ACTK_OP_SILU);
    EXPECT_EQ(actk_op_from_name("gelu_tanh", &op), ACTK_SUCCESS);
    EXPECT_EQ(op, ACTK_OP_GELU_TANH);
    EXPECT_EQ(actk_op_from_name("LeakyReLU", &op), ACTK_ERROR_INVALID_VALUE);
    EXPECT_NE(std::strstr(actk_last_error(), "LeakyReLU"), nullptr);
    /* the message lists every valid name, so a typo can be fixed from it */
    for (int i = 0; i < ACTK_OP_COUNT; ++i) {
        const std::string quoted = std::string(actk_op_name((actk_op)i));
        EXPECT_NE(std::string(actk_last_error()).find(quoted), std::string::npos) << quoted;
    }
    EXPECT_EQ(actk_op_from_name(nullptr, &op), ACTK_ERROR_INVALID_VALUE);
    EXPECT_EQ(actk_op_name(ACTK_OP_COUNT), nullptr);
    EXPECT_EQ(actk_op_name((actk_op)-1), nullptr);
}

TEST(Api, DefaultsArePyTorchs)
{
    struct Expect { actk_op op; float alpha, beta; } table[] = {
        {ACTK_OP_LEAKY_RELU, 0.01f, 0}, {ACTK_OP_ELU, 1, 0},       {ACTK_OP_CELU, 1, 0},
        {ACTK_OP_SOFTPLUS, 1, 20},      {ACTK_OP_SILU, 1, 0},      {ACTK_OP_HARDTANH, -1, 1},
        {ACTK_OP_SOFTSHRINK, 0.5f, 0},  {ACTK_OP_HARDSHRINK, 0.5f, 0}, {ACTK_OP_THRESHOLD, 0, 0}};
    for (const Expect &e : table) {
        const actk_act act = actk_act_default(e.op);
        EXPECT_EQ(act.op, e.op);
        EXPECT_EQ(act.alpha, e.alpha) << actk_op_name(e.op);
        EXPECT_EQ(act.beta, e.beta) << actk_op_name(e.op);
    }
    for (int i = 0; i < ACTK_OP_COUNT; ++i) EXPECT_EQ(actk_act_validate(actk_act_default((actk_op)i)), ACTK_SUCCESS);
}

TEST(Api, DtypeInfo)
{
    EXPECT_STREQ(actk_dtype_name(ACTK_BF16), "bf16");
    EXPECT_EQ(actk_dtype_size(ACTK_F16), 2u);
    EXPECT_EQ(actk_dtype_size(ACTK_F64), 8u);
    EXPECT_EQ(actk_dtype_size((actk_dtype)7), 0u);
    EXPECT_EQ(actk_dtype_name((actk_dtype)7), nullptr);
}

TEST(Api, BackwardFromYSupportMatchesTheOpList)
{
    const actk_op with[] = {ACTK_OP_IDENTITY, ACTK_OP_STEP, ACTK_OP_SIGMOID, ACTK_OP_TANH, ACTK_OP_RELU,
                            ACTK_OP_LEAKY_RELU, ACTK_OP_ELU, ACTK_OP_SELU, ACTK_OP_CELU, ACTK_OP_SOFTPLUS,
                            ACTK_OP_RELU6, ACTK_OP_HARDTANH};
    for (actk_op op : with) EXPECT_TRUE(actk_op_has_backward_from_y(op)) << actk_op_name(op);
    const actk_op without[] = {ACTK_OP_GELU, ACTK_OP_GELU_TANH, ACTK_OP_SILU, ACTK_OP_MISH, ACTK_OP_HARDSWISH,
                               ACTK_OP_TANHSHRINK, ACTK_OP_SOFTSHRINK, ACTK_OP_THRESHOLD};
    for (actk_op op : without) EXPECT_FALSE(actk_op_has_backward_from_y(op)) << actk_op_name(op);
}

TEST(Api, InvalidParametersAreRejectedWithTheirName)
{
    struct Case { actk_act act; const char *needle; } cases[] = {
        {{ACTK_OP_LEAKY_RELU, NAN, 0}, "alpha"},
        {{ACTK_OP_ELU, INFINITY, 0}, "alpha"},
        {{ACTK_OP_CELU, 0.0f, 0}, "celu"},
        {{ACTK_OP_SOFTPLUS, 0.0f, 20}, "softplus"},
        {{ACTK_OP_SOFTPLUS, 1.0f, NAN}, "threshold"},
        {{ACTK_OP_HARDTANH, 2.0f, 1.0f}, "min <= max"},
        {{ACTK_OP_SOFTSHRINK, -0.5f, 0}, "lambda"},
        {{ACTK_OP_HARDSHRINK, NAN, 0}, "lambda"},
        {{ACTK_OP_THRESHOLD, NAN, 0}, "NaN"},
        {{(actk_op)ACTK_OP_COUNT, 0, 0}, "not an actk_op"},
        {{(actk_op)-3, 0, 0}, "not an actk_op"},
    };
    for (const Case &c : cases) {
        EXPECT_EQ(actk_act_validate(c.act), ACTK_ERROR_INVALID_VALUE) << c.needle;
        EXPECT_NE(std::strstr(actk_last_error(), c.needle), nullptr) << actk_last_error();
        EXPECT_NE(std::strstr(actk_last_error(), "actk_act_validate"), nullptr) << actk_last_error();
    }
}

/* ---- the bad-input matrix over the six element-wise entry points ------- */

struct EntryPoint {
    const char *name;
    int dir; /* 0 forward, 1 backward, 2 from y */
    bool cuda;
    std::function<actk_status(actk_act, actk_dtype, size_t, const void *, const void *, void *)> call;
};

static std::vector<EntryPoint> entry_points()
{
    return {
        {"actk_cpu_forward", 0, false,
         [](actk_act a, actk_dtype d, size_t n, const void *x, const void *, void *y) {
             return actk_cpu_forward(a, d, n, x, y);
         }},
        {"actk_cpu_backward", 1, false,
         [](actk_act a, actk_dtype d, size_t n, const void *x, const void *dy, void *dx) {
             return actk_cpu_backward(a, d, n, x, dy, dx);
         }},
        {"actk_cpu_backward_from_y", 2, false,
         [](actk_act a, actk_dtype d, size_t n, const void *y, const void *dy, void *dx) {
             return actk_cpu_backward_from_y(a, d, n, y, dy, dx);
         }},
        {"actk_cuda_forward", 0, true,
         [](actk_act a, actk_dtype d, size_t n, const void *x, const void *, void *y) {
             return actk_cuda_forward(a, d, n, x, y, nullptr);
         }},
        {"actk_cuda_backward", 1, true,
         [](actk_act a, actk_dtype d, size_t n, const void *x, const void *dy, void *dx) {
             return actk_cuda_backward(a, d, n, x, dy, dx, nullptr);
         }},
        {"actk_cuda_backward_from_y", 2, true,
         [](actk_act a, actk_dtype d, size_t n, const void *y, const void *dy, void *dx) {
             return actk_cuda_backward_from_y(a, d, n, y, dy, dx, nullptr);
         }},
    };
}

/* Calls `ep` with a bad argument set and checks status, message, and that
 * the output buffer was not touched. */
static void expect_rejected(const EntryPoint &ep, actk_status want, const char *needle, actk_act act,
                            actk_dtype dtype, size_t n, const void *in0, const void *in1, void *out,
                            const unsigned char *out_poison, size_t out_bytes)
{
    const actk_status got = ep.call(act, dtype, n, in0, in1, out);
    EXPECT_EQ(got, want) << ep.name << " " << needle << ": " << actk_last_error();
    EXPECT_NE(std::strstr(actk_last_error(), ep.name), nullptr) << actk_last_error();
    EXPECT_NE(std::strstr(actk_last_error(), needle), nullptr) << ep.name << ": " << actk_last_error();
    if (out && out_poison) {
        EXPECT_EQ(std::memcmp(out, out_poison, out_bytes), 0) << ep.name << " wrote on failure";
    }
}

TEST(Api, BadInputMatrixEveryEntryPoint)
{
    const size_t n = 64;
    std::vector<float> storage(4 * n + 8, 0.25f);
    float *in0 = storage.data(), *in1 = storage.data() + n, *out = storage.data() + 2 * n;
    const size_t out_bytes = n * sizeof(float);
    std::vector<unsigned char> poison(out_bytes, 0xA5);
    const actk_act relu = actk_act_default(ACTK_OP_RELU);
    for (const EntryPoint &ep : entry_points()) {
        SCOPED_TRACE(ep.name);
        const bool binary = ep.dir != 0;
        auto reset = [&] { std::memcpy(out, poison.data(), out_bytes); };
        reset();
        expect_rejected(ep, ACTK_ERROR_INVALID_VALUE, ep.dir == 2 ? "y is NULL but n = 64" : "x is NULL but n = 64",
                        relu, ACTK_F32, n, nullptr, in1, out, poison.data(), out_bytes);
        if (binary)
            expect_rejected(ep, ACTK_ERROR_INVALID_VALUE, "dy is NULL", relu, ACTK_F32, n, in0, nullptr, out,
                            poison.data(), out_bytes);
        expect_rejected(ep, ACTK_ERROR_INVALID_VALUE, "is NULL", relu, ACTK_F32, n, in0, in1, nullptr, nullptr, 0);
        expect_rejected(ep, ACTK_ERROR_INVALID_VALUE, "not an actk_op", {(actk_op)999, 0, 0}, ACTK_F32, n, in0, in1,
                        out, poison.data(), out_bytes);
        expect_rejected(ep, ACTK_ERROR_INVALID_VALUE, "not an actk_dtype", relu, (actk_dtype)9, n, in0, in1, out,
                        poison.data(), out_bytes);
        expect_rejected(ep, ACTK_ERROR_INVALID_VALUE, "alpha", {ACTK_OP_LEAKY_RELU, NAN, 0}, ACTK_F32, n, in0, in1, out,
                        poison.data(), out_bytes);
        expect_rejected(ep, ACTK_ERROR_INVALID_VALUE, "overflows size_t", relu, ACTK_F32, SIZE_MAX / 2, in0, in1, out,
                        poison.data(), out_bytes);
        /* partial overlap: output starts one element into the input */
        std::memcpy(in0 + 1, poison.data(), out_bytes);
        expect_rejected(ep, ACTK_ERROR_INVALID_VALUE, "overlap partially", relu, ACTK_F32, n, in0, in1, in0 + 1,
                        poison.data(), out_bytes);
        if (binary)
            expect_rejected(ep, ACTK_ERROR_INVALID_VALUE, "dy and dx overlap", relu, ACTK_F32, n, in0, out + 3, out,
                            poison.data(), out_bytes);
        /* a pointer not aligned to the element size */
        const void *misaligned = reinterpret_cast<const unsigned char *>(in0) + 1;
        expect_rejected(ep, ACTK_ERROR_INVALID_VALUE, "not aligned", relu, ACTK_F32, n, misaligned, in1, out,
                        poison.data(), out_bytes);
        if (ep.dir == 2) {
            expect_rejected(ep, ACTK_ERROR_NOT_SUPPORTED, "gelu", actk_act_default(ACTK_OP_GELU), ACTK_F32, n, in0, in1,
                            out, poison.data(), out_bytes);
            expect_rejected(ep, ACTK_ERROR_INVALID_VALUE, "alpha >= 0", {ACTK_OP_LEAKY_RELU, -0.1f, 0}, ACTK_F32, n,
                            in0, in1, out, poison.data(), out_bytes);
            expect_rejected(ep, ACTK_ERROR_INVALID_VALUE, "alpha > 0", {ACTK_OP_CELU, -1.0f, 0}, ACTK_F32, n, in0, in1,
                            out, poison.data(), out_bytes);
        }
        /* n == 0 with NULL pointers: nothing to do (CUDA without a device still says so) */
        const actk_status empty = ep.call(relu, ACTK_F32, 0, nullptr, nullptr, nullptr);
        if (ep.cuda && actk_cuda_device_count() == 0)
            EXPECT_EQ(empty, ACTK_ERROR_NO_DEVICE);
        else
            EXPECT_EQ(empty, ACTK_SUCCESS);
    }
}

/* Every out-of-domain parameter set, through every entry point. */
TEST(Api, InvalidParametersThroughEveryEntryPoint)
{
    const actk_act bad[] = {
        {ACTK_OP_LEAKY_RELU, NAN, 0},     {ACTK_OP_ELU, -INFINITY, 0},   {ACTK_OP_SILU, NAN, 0},
        {ACTK_OP_CELU, 0.0f, 0},           {ACTK_OP_CELU, INFINITY, 0},   {ACTK_OP_SOFTPLUS, 0.0f, 20},
        {ACTK_OP_SOFTPLUS, NAN, 20},       {ACTK_OP_SOFTPLUS, 1.0f, NAN}, {ACTK_OP_HARDTANH, 1.0f, -1.0f},
        {ACTK_OP_HARDTANH, NAN, 1.0f},     {ACTK_OP_SOFTSHRINK, -1.0f, 0}, {ACTK_OP_HARDSHRINK, INFINITY, 0},
        {ACTK_OP_THRESHOLD, 0.0f, NAN},    {(actk_op)ACTK_OP_COUNT, 0, 0}, {(actk_op)0x12345, 0, 0},
        /* 1/alpha must be a normal float (the GPU's f32 reciprocal flushes) */
        {ACTK_OP_CELU, 1e-39f, 0},         {ACTK_OP_CELU, -0x1p127f, 0},  {ACTK_OP_SOFTPLUS, 0x1p127f, 20},
        {ACTK_OP_SOFTPLUS, -1e-39f, 20},
    };
    const size_t n = 16;
    std::vector<float> in0(n, 0.5f), in1(n, 1.0f), out(n, 9.0f);
    for (const EntryPoint &ep : entry_points()) {
        for (const actk_act &act : bad) {
            EXPECT_EQ(ep.call(act, ACTK_F32, n, in0.data(), in1.data(), out.data()), ACTK_ERROR_INVALID_VALUE)
                << ep.name << " op " << (int)act.op;
            EXPECT_NE(std::strstr(actk_last_error(), ep.name), nullptr) << actk_last_error();
            for (float v : out) ASSERT_EQ(v, 9.0f) << ep.name << " wrote on failure";
        }
    }
}

TEST(Api, CudaEntryPointsWithoutDeviceSayNoDevice)
{
    if (actk_cuda_device_count() > 0) GTEST_SKIP() << "a CUDA device is present; covered by the GPU tests";
    std::vector<float> x(16, 1.0f), y(16, 7.0f);
    EXPECT_EQ(actk_cuda_forward(actk_act_default(ACTK_OP_RELU), ACTK_F32, 16, x.data(), y.data(), nullptr),
              ACTK_ERROR_NO_DEVICE);
    EXPECT_NE(std::strstr(actk_last_error(), "actk_cuda_forward"), nullptr);
    EXPECT_EQ(y[0], 7.0f);
}

TEST(Api, LastErrorIsPerThread)
{
    actk_op op;
    ASSERT_EQ(actk_op_from_name("not-an-op-main", &op), ACTK_ERROR_INVALID_VALUE);
    std::string other;
    std::thread worker([&] {
        other = actk_last_error(); /* fresh thread: empty */
        actk_op_from_name("not-an-op-worker", &op);
        other += "|";
        other += actk_last_error();
    });
    worker.join();
    EXPECT_EQ(other.substr(0, 1), "|");
    EXPECT_NE(other.find("not-an-op-worker"), std::string::npos);
    EXPECT_NE(std::string(actk_last_error()).find("not-an-op-main"), std::string::npos);
}

/* ---- gated activations: the bad-input matrix over all sixteen entry points ---- */

namespace {

struct GatedEntry {
    const char *name;
    bool backward, clamped, cuda;
    bool bias = false; /* the _bias forms: a bias, and dbias (backward) */
};

const GatedEntry kGatedEntries[] = {
    {"actk_cpu_gated_forward", false, false, false},
    {"actk_cpu_gated_backward", true, false, false},
    {"actk_cpu_clamped_swiglu_forward", false, true, false},
    {"actk_cpu_clamped_swiglu_backward", true, true, false},
    {"actk_cuda_gated_forward", false, false, true},
    {"actk_cuda_gated_backward", true, false, true},
    {"actk_cuda_clamped_swiglu_forward", false, true, true},
    {"actk_cuda_clamped_swiglu_backward", true, true, true},
    {"actk_cpu_gated_bias_forward", false, false, false, true},
    {"actk_cpu_gated_bias_backward", true, false, false, true},
    {"actk_cpu_clamped_swiglu_bias_forward", false, true, false, true},
    {"actk_cpu_clamped_swiglu_bias_backward", true, true, false, true},
    {"actk_cuda_gated_bias_forward", false, false, true, true},
    {"actk_cuda_gated_bias_backward", true, false, true, true},
    {"actk_cuda_clamped_swiglu_bias_forward", false, true, true, true},
    {"actk_cuda_clamped_swiglu_bias_backward", true, true, true, true},
};

/* The bias, dbias and workspace the _bias forms get (set by the test). */
struct GatedBiasArgs {
    const void *bias = nullptr;
    void *dbias = nullptr, *workspace = nullptr;
    size_t workspace_bytes = 0;
};
GatedBiasArgs g_bias_args;

actk_status call_gated_bias(const GatedEntry &e, actk_act act, actk_gated_layout layout, actk_gate_position gate,
                            actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx, const void *dy,
                            size_t lddy, void *out, size_t ldout)
{
    const GatedBiasArgs &b = g_bias_args;
    const float a = act.alpha, l = act.beta;
    if (!e.backward) {
        if (e.clamped)
            return e.cuda ? actk_cuda_clamped_swiglu_bias_forward(a, l, layout, gate, dtype, rows, cols, x, ldx, b.bias,
                                                                  out, ldout, nullptr)
                          : actk_cpu_clamped_swiglu_bias_forward(a, l, layout, gate, dtype, rows, cols, x, ldx, b.bias,
                                                                 out, ldout);
        return e.cuda ? actk_cuda_gated_bias_forward(act, layout, gate, dtype, rows, cols, x, ldx, b.bias, out, ldout,
                                                     nullptr)
                      : actk_cpu_gated_bias_forward(act, layout, gate, dtype, rows, cols, x, ldx, b.bias, out, ldout);
    }
    if (e.clamped)
        return e.cuda ? actk_cuda_clamped_swiglu_bias_backward(a, l, layout, gate, dtype, rows, cols, x, ldx, b.bias,
                                                               dy, lddy, out, ldout, b.dbias, b.workspace,
                                                               b.workspace_bytes, nullptr)
                      : actk_cpu_clamped_swiglu_bias_backward(a, l, layout, gate, dtype, rows, cols, x, ldx, b.bias, dy,
                                                              lddy, out, ldout, b.dbias);
    return e.cuda ? actk_cuda_gated_bias_backward(act, layout, gate, dtype, rows, cols, x, ldx, b.bias, dy, lddy, out,
                                                  ldout, b.dbias, b.workspace, b.workspace_bytes, nullptr)
                  : actk_cpu_gated_bias_backward(act, layout, gate, dtype, rows, cols, x, ldx, b.bias, dy, lddy, out,
                                                 ldout, b.dbias);
}

/* One call; `act` gives the op (plain) or alpha/limit (clamped). */
actk_status call_gated(const GatedEntry &e, actk_act act, actk_gated_layout layout, actk_gate_position gate,
                       actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx, const void *dy,
                       size_t lddy, void *out, size_t ldout)
{
    if (e.bias) return call_gated_bias(e, act, layout, gate, dtype, rows, cols, x, ldx, dy, lddy, out, ldout);
    if (e.clamped) {
        if (e.cuda)
            return e.backward ? actk_cuda_clamped_swiglu_backward(act.alpha, act.beta, layout, gate, dtype, rows, cols,
                                                                  x, ldx, dy, lddy, out, ldout, nullptr)
                              : actk_cuda_clamped_swiglu_forward(act.alpha, act.beta, layout, gate, dtype, rows, cols,
                                                                 x, ldx, out, ldout, nullptr);
        return e.backward ? actk_cpu_clamped_swiglu_backward(act.alpha, act.beta, layout, gate, dtype, rows, cols, x,
                                                             ldx, dy, lddy, out, ldout)
                          : actk_cpu_clamped_swiglu_forward(act.alpha, act.beta, layout, gate, dtype, rows, cols, x,
                                                            ldx, out, ldout);
    }
    if (e.cuda)
        return e.backward ? actk_cuda_gated_backward(act, layout, gate, dtype, rows, cols, x, ldx, dy, lddy, out, ldout,
                                                     nullptr)
                          : actk_cuda_gated_forward(act, layout, gate, dtype, rows, cols, x, ldx, out, ldout, nullptr);
    return e.backward ? actk_cpu_gated_backward(act, layout, gate, dtype, rows, cols, x, ldx, dy, lddy, out, ldout)
                      : actk_cpu_gated_forward(act, layout, gate, dtype, rows, cols, x, ldx, out, ldout);
}

} // namespace

TEST(Api, GatedBadInputMatrixEveryEntryPoint)
{
    const size_t rows = 4, cols = 8;
    std::vector<float> storage(1024, 0.25f);
    float *x = storage.data(), *dy = storage.data() + 128, *out = storage.data() + 256;
    const size_t out_floats = 256;
    std::vector<float> poison(out_floats);
    std::memset(poison.data(), 0xA5, out_floats * sizeof(float));
    const actk_act good = {ACTK_OP_SILU, 1.702f, 7.0f}; /* silu for plain calls; alpha/limit for clamped */
    /* the _bias forms: bias and dbias outside everything else, a large enough workspace */
    alignas(16) static float workspace[1024];
    float *bias = storage.data() + 640, *dbias = storage.data() + 768;
    ASSERT_LE(actk_cuda_gated_bias_backward_workspace_size(ACTK_F32, rows, cols), sizeof workspace);
    for (const GatedEntry &e : kGatedEntries) {
        SCOPED_TRACE(e.name);
        g_bias_args = GatedBiasArgs{};
        if (e.bias) g_bias_args = GatedBiasArgs{bias, e.backward ? dbias : nullptr, workspace, sizeof workspace};
        std::memcpy(dbias, poison.data(), 2 * cols * sizeof(float));
        const size_t ldout = e.backward ? 2 * cols : cols;
        auto expect = [&](actk_status want, const char *needle, actk_act act, actk_gated_layout layout,
                          actk_gate_position gate, actk_dtype dtype, size_t r, size_t c, const void *px, size_t ldx,
                          const void *pdy, size_t lddy, void *pout, size_t ldo) {
            std::memcpy(out, poison.data(), out_floats * sizeof(float));
            const actk_status got = call_gated(e, act, layout, gate, dtype, r, c, px, ldx, pdy, lddy, pout, ldo);
            EXPECT_EQ(got, want) << needle << ": " << actk_last_error();
            EXPECT_NE(std::strstr(actk_last_error(), e.name), nullptr) << actk_last_error();
            EXPECT_NE(std::strstr(actk_last_error(), needle), nullptr) << actk_last_error();
            EXPECT_EQ(std::memcmp(out, poison.data(), out_floats * sizeof(float)), 0)
                << e.name << " wrote on failure (" << needle << ")";
            EXPECT_EQ(std::memcmp(dbias, poison.data(), 2 * cols * sizeof(float)), 0)
                << e.name << " wrote dbias on failure (" << needle << ")";
        };
        const auto L = ACTK_GATED_CONCAT;
        const auto G = ACTK_GATE_FIRST;
        expect(ACTK_ERROR_INVALID_VALUE, "x is NULL", good, L, G, ACTK_F32, rows, cols, nullptr, 2 * cols, dy, cols,
               out, ldout);
        expect(ACTK_ERROR_INVALID_VALUE, e.backward ? "dx is NULL" : "y is NULL", good, L, G, ACTK_F32, rows, cols, x,
               2 * cols, dy, cols, nullptr, ldout);
        if (e.backward)
            expect(ACTK_ERROR_INVALID_VALUE, "dy is NULL", good, L, G, ACTK_F32, rows, cols, x, 2 * cols, nullptr, cols,
                   out, ldout);
        if (e.clamped) {
            expect(ACTK_ERROR_INVALID_VALUE, "finite alpha", {ACTK_OP_SILU, NAN, 7.0f}, L, G, ACTK_F32, rows, cols, x,
                   2 * cols, dy, cols, out, ldout);
            expect(ACTK_ERROR_INVALID_VALUE, "limit >= 0", {ACTK_OP_SILU, 1.0f, -1.0f}, L, G, ACTK_F32, rows, cols, x,
                   2 * cols, dy, cols, out, ldout);
            expect(ACTK_ERROR_INVALID_VALUE, "limit >= 0", {ACTK_OP_SILU, 1.0f, NAN}, L, G, ACTK_F32, rows, cols, x,
                   2 * cols, dy, cols, out, ldout);
        } else {
            expect(ACTK_ERROR_INVALID_VALUE, "not an actk_op", {(actk_op)999, 0, 0}, L, G, ACTK_F32, rows, cols, x,
                   2 * cols, dy, cols, out, ldout);
            expect(ACTK_ERROR_INVALID_VALUE, "alpha", {ACTK_OP_LEAKY_RELU, NAN, 0}, L, G, ACTK_F32, rows, cols, x,
                   2 * cols, dy, cols, out, ldout);
        }
        expect(ACTK_ERROR_INVALID_VALUE, "not an actk_gated_layout", good, (actk_gated_layout)2, G, ACTK_F32, rows,
               cols, x, 2 * cols, dy, cols, out, ldout);
        expect(ACTK_ERROR_INVALID_VALUE, "not an actk_gate_position", good, L, (actk_gate_position)-1, ACTK_F32, rows,
               cols, x, 2 * cols, dy, cols, out, ldout);
        expect(ACTK_ERROR_INVALID_VALUE, "not an actk_dtype", good, L, G, (actk_dtype)7, rows, cols, x, 2 * cols, dy,
               cols, out, ldout);
        /* leading dimensions below the row width */
        expect(ACTK_ERROR_INVALID_VALUE, "ldx = 15 is less than the row width 2*cols = 16", good, L, G, ACTK_F32, rows,
               cols, x, 15, dy, cols, out, ldout);
        if (e.backward) {
            expect(ACTK_ERROR_INVALID_VALUE, "lddy = 7 is less than the row width cols = 8", good, L, G, ACTK_F32, rows,
                   cols, x, 16, dy, 7, out, ldout);
            expect(ACTK_ERROR_INVALID_VALUE, "lddx = 15 is less than", good, L, G, ACTK_F32, rows, cols, x, 16, dy,
                   cols, out, 15);
        } else {
            expect(ACTK_ERROR_INVALID_VALUE, "ldy = 7 is less than the row width cols = 8", good, L, G, ACTK_F32, rows,
                   cols, x, 16, dy, cols, out, 7);
        }
        /* ld < width also with one row (the halves would overlap the next row's) */
        expect(ACTK_ERROR_INVALID_VALUE, "ldx = 0", good, L, G, ACTK_F32, 1, cols, x, 0, dy, cols, out, ldout);
        /* sizes that overflow */
        expect(ACTK_ERROR_INVALID_VALUE, "overflows size_t", good, L, G, ACTK_F32, SIZE_MAX / 4, cols, x, SIZE_MAX / 8,
               dy, SIZE_MAX / 8, out, SIZE_MAX / 8);
        expect(ACTK_ERROR_INVALID_VALUE, "2 * cols", good, L, G, ACTK_F32, 1, SIZE_MAX / 2 + 1, x, SIZE_MAX, dy,
               SIZE_MAX, out, SIZE_MAX);
        expect(ACTK_ERROR_INVALID_VALUE, "overflows size_t", good, L, G, ACTK_F32, 2, SIZE_MAX / 4, x, SIZE_MAX / 2, dy,
               SIZE_MAX / 4, out, SIZE_MAX / 2);
        /* overlaps: output inside x (also y == x: forward is never in place) */
        std::memcpy(x + 1, poison.data(), 4); /* keep the poison check simple: out is checked, x may change */
        expect(ACTK_ERROR_INVALID_VALUE, "overlap", good, L, G, ACTK_F32, rows, cols, out, 2 * cols, dy, cols, out + 1,
               ldout);
        if (!e.backward)
            expect(ACTK_ERROR_INVALID_VALUE, "overlap", good, L, G, ACTK_F32, rows, cols, out, 2 * cols, dy, cols, out,
                   ldout);
        if (e.backward) {
            expect(ACTK_ERROR_INVALID_VALUE, "overlap", good, L, G, ACTK_F32, rows, cols, x, 2 * cols, out + 3, cols,
                   out, ldout);
            /* dx == x with a different leading dimension is not in place */
            expect(ACTK_ERROR_INVALID_VALUE, "overlap", good, L, G, ACTK_F32, rows, cols, out, 2 * cols, dy, cols, out,
                   2 * cols + 2);
        }
        /* strided views whose spans interleave are rejected too (spans are checked) */
        expect(ACTK_ERROR_INVALID_VALUE, "overlap", good, L, G, ACTK_F32, 2, cols, out, 4 * cols, dy, cols,
               out + 2 * cols, 4 * cols);
        /* misaligned pointer */
        expect(ACTK_ERROR_INVALID_VALUE, "not aligned", good, L, G, ACTK_F32, rows, cols,
               reinterpret_cast<const char *>(x) + 2, 2 * cols, dy, cols, out, ldout);
        if (e.bias) {
            /* bias: misaligned, inside the output */
            g_bias_args.bias = reinterpret_cast<const char *>(bias) + 1;
            expect(ACTK_ERROR_INVALID_VALUE, "bias is not aligned", good, L, G, ACTK_F32, rows, cols, x, 2 * cols, dy,
                   cols, out, ldout);
            g_bias_args.bias = out + 4;
            expect(ACTK_ERROR_INVALID_VALUE, "overlap", good, L, G, ACTK_F32, rows, cols, x, 2 * cols, dy, cols, out,
                   ldout);
            g_bias_args.bias = bias;
        }
        if (e.bias && e.backward) {
            /* dbias: inside dx, over the bias, over x, misaligned */
            for (void *bad : {static_cast<void *>(out + 2), static_cast<void *>(bias), static_cast<void *>(x)}) {
                g_bias_args.dbias = bad;
                expect(ACTK_ERROR_INVALID_VALUE, "overlap", good, L, G, ACTK_F32, rows, cols, x, 2 * cols, dy, cols,
                       out, ldout);
            }
            g_bias_args.dbias = reinterpret_cast<char *>(dbias) + 2;
            expect(ACTK_ERROR_INVALID_VALUE, "dbias is not aligned", good, L, G, ACTK_F32, rows, cols, x, 2 * cols, dy,
                   cols, out, ldout);
            g_bias_args.dbias = dbias;
        }
        if (e.bias && e.backward && e.cuda) {
            /* the workspace: NULL, too small, misaligned, overlapping (checked in every build) */
            const size_t need = actk_cuda_gated_bias_backward_workspace_size(ACTK_F32, rows, cols);
            g_bias_args.workspace = nullptr;
            expect(ACTK_ERROR_INVALID_VALUE, "workspace needs", good, L, G, ACTK_F32, rows, cols, x, 2 * cols, dy, cols,
                   out, ldout);
            g_bias_args.workspace = workspace;
            g_bias_args.workspace_bytes = need - 1;
            expect(ACTK_ERROR_INVALID_VALUE, "actk_cuda_gated_bias_backward_workspace_size", good, L, G, ACTK_F32, rows,
                   cols, x, 2 * cols, dy, cols, out, ldout);
            g_bias_args.workspace = workspace + 1;
            g_bias_args.workspace_bytes = need;
            expect(ACTK_ERROR_INVALID_VALUE, "workspace is not 16-byte aligned", good, L, G, ACTK_F32, rows, cols, x,
                   2 * cols, dy, cols, out, ldout);
            g_bias_args.workspace = out;
            expect(ACTK_ERROR_INVALID_VALUE, "overlap", good, L, G, ACTK_F32, rows, cols, x, 2 * cols, dy, cols, out,
                   ldout);
            g_bias_args.workspace = workspace;
            g_bias_args.workspace_bytes = sizeof workspace;
        }
        /* nothing to do: NULL pointers are fine (dbias too; rows = 0 with a dbias is tested with the entry points) */
        g_bias_args.dbias = nullptr;
        const actk_status empty =
            call_gated(e, good, L, G, ACTK_F16, 0, cols, nullptr, 2 * cols, nullptr, cols, nullptr, ldout);
        if (e.cuda && actk_cuda_device_count() == 0)
            EXPECT_EQ(empty, ACTK_ERROR_NO_DEVICE);
        else
            EXPECT_EQ(empty, ACTK_SUCCESS) << actk_last_error();
        /* a valid call on host memory: CPU succeeds; CUDA says no device (or rejects host pointers) */
        if (e.bias && e.backward) g_bias_args.dbias = dbias;
        const actk_status valid = call_gated(e, good, L, G, ACTK_F32, rows, cols, x, 2 * cols, dy, cols, out, ldout);
        if (!e.cuda) EXPECT_EQ(valid, ACTK_SUCCESS) << actk_last_error();
        else if (actk_cuda_device_count() == 0) EXPECT_EQ(valid, ACTK_ERROR_NO_DEVICE);
        else EXPECT_EQ(valid, ACTK_ERROR_INVALID_VALUE);
    }
}

/* FP8 outputs (issue 15): every bad descriptor and argument through the
 * four entry points, with the documented status, a message naming the
 * function and the argument, and nothing written. */
TEST(Api, QuantBadInputMatrixEveryEntryPoint)
{
    struct Call {
        actk_act act;
        actk_gated_layout layout;
        actk_dtype dtype;
        size_t rows, cols, ldx, ldy;
        const void *x;
        void *y;
        actk_quant q;
        bool null_q;
    };
    alignas(16) static unsigned char arena[1 << 16];
    float *x = reinterpret_cast<float *>(arena);            /* 4 x 256 floats: 4096 bytes */
    unsigned char *out = arena + 8192;                     /* y, scales, scale_inv, amax live here */
    const size_t out_bytes = sizeof arena - 8192;
    float *scales = reinterpret_cast<float *>(out + 4096), *scale_inv = reinterpret_cast<float *>(out + 8192);
    float *amax = reinterpret_cast<float *>(out + 12288);
    unsigned char *mx = out + 16384;
    const float scale = 2.0f;
    for (int gated = 0; gated < 2; ++gated)
        for (int cuda = 0; cuda < 2; ++cuda) {
            const char *name = gated ? (cuda ? "actk_cuda_gated_forward_quant" : "actk_cpu_gated_forward_quant")
                                     : (cuda ? "actk_cuda_forward_2d_quant" : "actk_cpu_forward_2d_quant");
            SCOPED_TRACE(name);
            auto run = [&](const Call &c) {
                const actk_quant *q = c.null_q ? nullptr : &c.q;
                if (gated)
                    return cuda ? actk_cuda_gated_forward_quant(c.act, c.layout, ACTK_GATE_FIRST, c.dtype, c.rows,
                                                                c.cols, c.x, c.ldx, nullptr, q, c.y, c.ldy, nullptr)
                                : actk_cpu_gated_forward_quant(c.act, c.layout, ACTK_GATE_FIRST, c.dtype, c.rows,
                                                               c.cols, c.x, c.ldx, nullptr, q, c.y, c.ldy);
                return cuda ? actk_cuda_forward_2d_quant(c.act, c.dtype, c.rows, c.cols, c.x, c.ldx, nullptr, q, c.y,
                                                         c.ldy, nullptr)
                            : actk_cpu_forward_2d_quant(c.act, c.dtype, c.rows, c.cols, c.x, c.ldx, nullptr, q, c.y,
                                                        c.ldy);
            };
            const size_t w = gated ? 2 : 1;
            auto good = [&](actk_quant_mode mode) {
                Call c{actk_act_default(ACTK_OP_SILU), ACTK_GATED_CONCAT, ACTK_F32, 4, 128, 128 * w, 128, x, out,
                       actk_quant_default(ACTK_FP8_E4M3, mode), false};
                c.q.scale = &scale;
                c.q.amax = amax;
                c.q.scale_inv = scale_inv;
                c.q.scales = scales;
                c.q.mx_scales = mx;
                return c;
            };
            auto expect = [&](actk_status want, const char *needle, const Call &c) {
                std::memset(out, 0xA5, out_bytes);
                EXPECT_EQ(run(c), want) << needle << ": " << actk_last_error();
                EXPECT_NE(std::strstr(actk_last_error(), name), nullptr) << actk_last_error();
                EXPECT_NE(std::strstr(actk_last_error(), needle), nullptr) << actk_last_error();
                for (size_t i = 0; i < out_bytes; ++i)
                    if (out[i] != 0xA5) {
                        ADD_FAILURE() << "wrote on failure (" << needle << ") at byte " << i;
                        break;
                    }
            };
            Call c = good(ACTK_QUANT_PER_ROW);
            c.null_q = true;
            expect(ACTK_ERROR_INVALID_VALUE, "q (the actk_quant descriptor) is NULL", c);
            c = good(ACTK_QUANT_PER_ROW);
            c.q.format = (actk_fp8_format)7;
            expect(ACTK_ERROR_INVALID_VALUE, "not an actk_fp8_format", c);
            c = good(ACTK_QUANT_PER_ROW);
            c.q.mode = (actk_quant_mode)9;
            expect(ACTK_ERROR_INVALID_VALUE, "not an actk_quant_mode", c);
            c = good(ACTK_QUANT_PER_GROUP);
            c.q.group_size = 48;
            expect(ACTK_ERROR_INVALID_VALUE, "group_size = 48 is not 32, 64 or 128", c);
            c = good(ACTK_QUANT_PER_GROUP);
            c.cols = 96;
            c.q.group_size = 64;
            expect(ACTK_ERROR_INVALID_VALUE, "does not divide cols = 96", c);
            c = good(ACTK_QUANT_MXFP8);
            c.cols = 40;
            expect(ACTK_ERROR_INVALID_VALUE, "divisible by 32", c);
            c = good(ACTK_QUANT_PER_ROW);
            c.dtype = ACTK_F64;
            expect(ACTK_ERROR_NOT_SUPPORTED, "not f64", c);
            c.dtype = (actk_dtype)9;
            expect(ACTK_ERROR_INVALID_VALUE, "not an actk_dtype", c);
            c = good(ACTK_QUANT_PER_ROW);
            c.act = {(actk_op)999, 0, 0};
            expect(ACTK_ERROR_INVALID_VALUE, "not an actk_op", c);
            if (gated) {
                c = good(ACTK_QUANT_PER_ROW);
                c.layout = (actk_gated_layout)5;
                expect(ACTK_ERROR_INVALID_VALUE, "not an actk_gated_layout", c);
            }
            c = good(ACTK_QUANT_PER_ROW);
            c.x = nullptr;
            expect(ACTK_ERROR_INVALID_VALUE, "x is NULL", c);
            c = good(ACTK_QUANT_PER_ROW);
            c.y = nullptr;
            expect(ACTK_ERROR_INVALID_VALUE, "y is NULL", c);
            c = good(ACTK_QUANT_PER_GROUP);
            c.q.scale_inv = nullptr;
            expect(ACTK_ERROR_INVALID_VALUE, "q->scale_inv is NULL", c);
            c = good(ACTK_QUANT_PER_TENSOR);
            c.q.scale = nullptr;
            expect(ACTK_ERROR_INVALID_VALUE, "q->scale is NULL", c);
            c = good(ACTK_QUANT_MXFP8);
            c.q.mx_scales = nullptr;
            expect(ACTK_ERROR_INVALID_VALUE, "q->mx_scales is NULL", c);
            c = good(ACTK_QUANT_PER_ROW);
            c.q.scale_inv = reinterpret_cast<float *>(out + 8194);
            expect(ACTK_ERROR_INVALID_VALUE, "q->scale_inv is not aligned", c);
            c = good(ACTK_QUANT_PER_TENSOR);
            c.q.amax = reinterpret_cast<float *>(out + 12289);
            expect(ACTK_ERROR_INVALID_VALUE, "q->amax is not aligned", c);
            c = good(ACTK_QUANT_PER_ROW);
            c.x = arena + 2;
            expect(ACTK_ERROR_INVALID_VALUE, "x is not aligned", c);
            c = good(ACTK_QUANT_PER_ROW);
            c.ldy = 127;
            expect(ACTK_ERROR_INVALID_VALUE, "ldy = 127 is less than the row width 128", c);
            c = good(ACTK_QUANT_PER_ROW);
            c.ldx = 128 * w - 1;
            expect(ACTK_ERROR_INVALID_VALUE, "ldx", c);
            c = good(ACTK_QUANT_PER_ROW);
            c.rows = SIZE_MAX / 8;
            c.ldx = c.ldy = 1024;
            expect(ACTK_ERROR_INVALID_VALUE, "overflows size_t", c);
            /* overlaps: y over x; scales over y; scale_inv == scales; amax inside scale_inv */
            c = good(ACTK_QUANT_PER_ROW);
            c.y = arena + 100;
            expect(ACTK_ERROR_INVALID_VALUE, "overlap", c);
            c = good(ACTK_QUANT_PER_ROW);
            c.q.scales = reinterpret_cast<float *>(out + 64);
            expect(ACTK_ERROR_INVALID_VALUE, "overlap", c);
            c = good(ACTK_QUANT_PER_GROUP);
            c.q.scales = c.q.scale_inv;
            expect(ACTK_ERROR_INVALID_VALUE, "overlap", c);
            c = good(ACTK_QUANT_PER_TENSOR);
            c.q.amax = c.q.scale_inv;
            expect(ACTK_ERROR_INVALID_VALUE, "overlap", c);
            c = good(ACTK_QUANT_MXFP8);
            c.q.mx_scales = out + 3;
            expect(ACTK_ERROR_INVALID_VALUE, "overlap", c);
            /* pointers the mode does not use are ignored, however bad */
            c = good(ACTK_QUANT_MXFP8);
            c.q.scale_inv = reinterpret_cast<float *>(out + 1);
            c.q.scale = nullptr;
            const actk_status ignored = run(c);
            if (cuda) EXPECT_NE(ignored, ACTK_SUCCESS); /* host memory or no device */
            else EXPECT_EQ(ignored, ACTK_SUCCESS) << actk_last_error();
            /* nothing to do: NULL pointers are fine */
            c = good(ACTK_QUANT_PER_ROW);
            c.rows = 0;
            c.x = nullptr;
            c.y = nullptr;
            c.q.scale_inv = nullptr;
            const actk_status empty = run(c);
            if (cuda && actk_cuda_device_count() == 0) EXPECT_EQ(empty, ACTK_ERROR_NO_DEVICE);
            else EXPECT_EQ(empty, ACTK_SUCCESS) << actk_last_error();
        }
}

/* ---- softmax options (actk_*_softmax_*_ex): every bad option, every entry point ---- */

TEST(Api, SoftmaxOptionsBadInputMatrix)
{
    /* outer 4 = batch 1 x heads 2 x q_len 2, dim 8 */
    const size_t outer = 4, dim = 8, n = outer * dim;
    std::vector<float> storage(4 * n + 64, 0.25f);
    float *x = storage.data(), *dy = storage.data() + n, *out = storage.data() + 2 * n;
    float *scratch = storage.data() + 3 * n; /* per-row arrays: temperature, lse */
    std::vector<int> valid(4, 3);
    std::vector<unsigned char> poison(n * sizeof(float), 0xA5);
    using Call = std::function<actk_status(const actk_softmax_options *, size_t inner)>;
    struct Entry {
        const char *name;
        bool backward;
        Call call;
    };
    const Entry entries[] = {
        {"actk_cpu_softmax_forward_ex", false,
         [&](const actk_softmax_options *o, size_t inner) {
             return actk_cpu_softmax_forward_ex(ACTK_SOFTMAX, ACTK_F32, outer / inner, dim, inner, o, x, out);
         }},
        {"actk_cpu_softmax_backward_ex", true,
         [&](const actk_softmax_options *o, size_t inner) {
             return actk_cpu_softmax_backward_ex(ACTK_LOG_SOFTMAX, ACTK_F32, outer / inner, dim, inner, o, x, dy, out);
         }},
        {"actk_cuda_softmax_forward_ex", false,
         [&](const actk_softmax_options *o, size_t inner) {
             return actk_cuda_softmax_forward_ex(ACTK_SOFTMAX, ACTK_F32, outer / inner, dim, inner, o, x, out, nullptr);
         }},
        {"actk_cuda_softmax_backward_ex", true,
         [&](const actk_softmax_options *o, size_t inner) {
             return actk_cuda_softmax_backward_ex(ACTK_SOFTMAX, ACTK_F32, outer / inner, dim, inner, o, x, dy, out,
                                                  nullptr);
         }},
    };
    struct Bad {
        const char *needle;
        bool forward_only; /* lse and additive_mask are forward options; the backward ignores them */
        size_t inner;
        std::function<void(actk_softmax_options &)> set;
    };
    const unsigned char *bytes = reinterpret_cast<const unsigned char *>(scratch);
    const Bad bad[] = {
        {"scale must be finite and > 0", false, 1, [](actk_softmax_options &o) { o.scale = NAN; }},
        {"scale must be finite and > 0", false, 1, [](actk_softmax_options &o) { o.scale = 0.0f; }},
        {"scale must be finite and > 0", false, 1, [](actk_softmax_options &o) { o.scale = -1.0f; }},
        {"scale must be finite and > 0", false, 1, [](actk_softmax_options &o) { o.scale = INFINITY; }},
        {"not an actk_attention_mask", false, 1,
         [](actk_softmax_options &o) {
             o.causal = (actk_attention_mask)7;
             o.q_len = 2;
         }},
        {"inner == 1", false, 2,
         [](actk_softmax_options &o) {
             o.causal = ACTK_ATTN_MASK_CAUSAL;
             o.q_len = 1;
         }},
        {"q_len = 0", false, 1, [](actk_softmax_options &o) { o.causal = ACTK_ATTN_MASK_CAUSAL_BOTTOM_RIGHT; }},
        {"q_len = 3", false, 1,
         [](actk_softmax_options &o) {
             o.causal = ACTK_ATTN_MASK_CAUSAL;
             o.q_len = 3;
         }},
        {"heads = 0", false, 1,
         [&](actk_softmax_options &o) {
             o.valid_length = valid.data();
             o.q_len = 2;
         }},
        {"heads = 3", true, 1,
         [&](actk_softmax_options &o) {
             o.additive_mask = x;
             o.q_len = 2;
             o.heads = 3;
         }},
        {"options->temperature is not aligned", false, 1,
         [&](actk_softmax_options &o) { o.temperature = reinterpret_cast<const float *>(bytes + 2); }},
        {"options->lse is not aligned", true, 1, [&](actk_softmax_options &o) { o.lse = (void *)(bytes + 1); }},
        {"options->valid_length is not aligned", false, 1,
         [&](actk_softmax_options &o) {
             o.valid_length = reinterpret_cast<const int *>(bytes + 2);
             o.q_len = 2;
             o.heads = 2;
         }},
        {"options->additive_mask is not aligned", true, 1,
         [&](actk_softmax_options &o) {
             o.additive_mask = bytes + 2;
             o.q_len = 2;
             o.heads = 2;
         }},
        {"overlap", true, 1, [&](actk_softmax_options &o) { o.lse = out + 3; }}, /* the LSE over the output */
        {"x and options->lse overlap", true, 1, [&](actk_softmax_options &o) { o.lse = x; }}, /* over an input */
        {"options->temperature and", false, 1,
         [&](actk_softmax_options &o) { o.temperature = out + 1; }}, /* an input over the output */
    };
    for (const Entry &e : entries) {
        SCOPED_TRACE(e.name);
        for (const Bad &b : bad) {
            if (b.forward_only && e.backward) continue;
            actk_softmax_options o = actk_softmax_options_default();
            b.set(o);
            std::memcpy(out, poison.data(), poison.size());
            std::memset(scratch, 0x5A, 4 * sizeof(float));
            const std::vector<unsigned char> scratch_before(bytes, bytes + 4 * sizeof(float));
            EXPECT_EQ(e.call(&o, b.inner), ACTK_ERROR_INVALID_VALUE) << b.needle << ": " << actk_last_error();
            EXPECT_NE(std::strstr(actk_last_error(), e.name), nullptr) << actk_last_error();
            EXPECT_NE(std::strstr(actk_last_error(), b.needle), nullptr) << b.needle << " vs " << actk_last_error();
            EXPECT_EQ(std::memcmp(out, poison.data(), poison.size()), 0) << b.needle << ": wrote on failure";
            EXPECT_EQ(std::memcmp(bytes, scratch_before.data(), scratch_before.size()), 0)
                << b.needle << ": wrote the LSE on failure";
        }
        /* a valid set of every option: the CPU runs it; CUDA runs it or says why not */
        actk_softmax_options o = actk_softmax_options_default();
        o.scale = 0.5f;
        o.safe = 1;
        o.causal = ACTK_ATTN_MASK_CAUSAL;
        o.q_len = 2;
        o.heads = 2;
        o.valid_length = valid.data();
        const bool cuda = std::strstr(e.name, "cuda") != nullptr;
        const actk_status s = e.call(&o, 1);
        if (!cuda) EXPECT_EQ(s, ACTK_SUCCESS) << actk_last_error();
        else if (actk_cuda_device_count() == 0) EXPECT_EQ(s, ACTK_ERROR_NO_DEVICE) << actk_last_error();
        else EXPECT_EQ(s, ACTK_ERROR_INVALID_VALUE) << actk_last_error(); /* host pointers */
    }
}

/* ---- fused cross-entropy: the bad-input matrix over both entry points ---- */

namespace {

actk_status call_ce(bool cuda, actk_cross_entropy_options o, actk_dtype dtype, size_t rows, size_t classes,
                    const void *logits, size_t ld, actk_index_type index, const void *targets, float *loss, float *lse,
                    void *grad, size_t ldgrad, int *flag, void *ws, size_t ws_bytes)
{
    if (cuda)
        return actk_cuda_cross_entropy_forward_backward(o, dtype, rows, classes, logits, ld, index, targets, loss, lse,
                                                        grad, ldgrad, flag, ws, ws_bytes, nullptr);
    return actk_cpu_cross_entropy_forward_backward(o, dtype, rows, classes, logits, ld, index, targets, loss, lse, grad,
                                                   ldgrad);
}

} // namespace

TEST(Api, CrossEntropyDefaultsArePyTorchs)
{
    const actk_cross_entropy_options o = actk_cross_entropy_default();
    EXPECT_EQ(o.ignore_index, -100);
    EXPECT_EQ(o.label_smoothing, 0.0f);
    EXPECT_EQ(o.z_loss, 0.0f);
    EXPECT_EQ(o.softcap, 0.0f);
    EXPECT_EQ(o.reduction, ACTK_REDUCTION_MEAN);
    EXPECT_EQ(o.grad_scale, 1.0f);
    EXPECT_EQ(o.row_grad, nullptr);
    EXPECT_EQ(actk_cuda_cross_entropy_workspace_size(ACTK_REDUCTION_NONE, 1000), 0u);
    EXPECT_GE(actk_cuda_cross_entropy_workspace_size(ACTK_REDUCTION_MEAN, 1000), 1000 * sizeof(float));
}

TEST(Api, CrossEntropyBadInputMatrixEveryEntryPoint)
{
    const size_t rows = 4, classes = 8;
    alignas(16) static float storage[1024];
    for (float &v : storage) v = 0.25f;
    float *x = storage, *loss = storage + 128, *lse = storage + 256, *grad = storage + 384;
    alignas(16) static unsigned char ws[4096];
    const int64_t targets[rows] = {0, 1, 7, -100};
    const size_t out_floats = 1024 - 128;
    std::vector<float> poison(out_floats);
    std::memset(poison.data(), 0xA5, out_floats * sizeof(float));
    const actk_cross_entropy_options good = actk_cross_entropy_default();
    for (bool cuda : {false, true}) {
        const char *name =
            cuda ? "actk_cuda_cross_entropy_forward_backward" : "actk_cpu_cross_entropy_forward_backward";
        SCOPED_TRACE(name);
        auto expect = [&](actk_status want, const char *needle, actk_cross_entropy_options o, actk_dtype dtype,
                          size_t r, size_t c, const void *px, size_t ld, actk_index_type index, const void *pt,
                          float *pl, float *plse, void *pg, size_t ldg, int *flag = nullptr,
                          size_t ws_bytes = sizeof ws) {
            std::memcpy(storage + 128, poison.data(), out_floats * sizeof(float));
            const actk_status got =
                call_ce(cuda, o, dtype, r, c, px, ld, index, pt, pl, plse, pg, ldg, flag, ws, ws_bytes);
            EXPECT_EQ(got, want) << needle << ": " << actk_last_error();
            EXPECT_NE(std::strstr(actk_last_error(), name), nullptr) << actk_last_error();
            EXPECT_NE(std::strstr(actk_last_error(), needle), nullptr) << actk_last_error();
            EXPECT_EQ(std::memcmp(storage + 128, poison.data(), out_floats * sizeof(float)), 0)
                << "wrote on failure (" << needle << ")";
        };
        const auto I64 = ACTK_INDEX_I64;
        actk_cross_entropy_options o = good;
        o.reduction = (actk_reduction)3;
        expect(ACTK_ERROR_INVALID_VALUE, "not an actk_reduction", o, ACTK_F32, rows, classes, x, classes, I64, targets,
               loss, lse, grad, classes);
        for (float eps : {-0.1f, 1.5f, NAN}) {
            o = good;
            o.label_smoothing = eps;
            expect(ACTK_ERROR_INVALID_VALUE, "label_smoothing", o, ACTK_F32, rows, classes, x, classes, I64, targets,
                   loss, lse, grad, classes);
        }
        for (float z : {-1.0f, INFINITY, NAN}) {
            o = good;
            o.z_loss = z;
            expect(ACTK_ERROR_INVALID_VALUE, "z_loss", o, ACTK_F32, rows, classes, x, classes, I64, targets, loss, lse,
                   grad, classes);
        }
        for (float cap : {-1.0f, INFINITY, NAN, 1e-30f}) {
            o = good;
            o.softcap = cap;
            expect(ACTK_ERROR_INVALID_VALUE, "softcap", o, ACTK_F32, rows, classes, x, classes, I64, targets, loss, lse,
                   grad, classes);
        }
        o = good;
        o.grad_scale = INFINITY;
        expect(ACTK_ERROR_INVALID_VALUE, "grad_scale", o, ACTK_F32, rows, classes, x, classes, I64, targets, loss, lse,
               grad, classes);
        /* a gradient per row: NONE only, grad_scale 1, aligned, not overlapping an output */
        const float *row_grad = storage + 1000;
        o = good;
        o.row_grad = row_grad;
        expect(ACTK_ERROR_INVALID_VALUE, "needs reduction NONE", o, ACTK_F32, rows, classes, x, classes, I64, targets,
               loss, lse, grad, classes);
        o.reduction = ACTK_REDUCTION_NONE;
        o.grad_scale = 2.0f;
        expect(ACTK_ERROR_INVALID_VALUE, "must be 1 with options.row_grad", o, ACTK_F32, rows, classes, x, classes,
               I64, targets, loss, lse, grad, classes);
        o.grad_scale = 1.0f;
        o.row_grad = reinterpret_cast<const float *>(reinterpret_cast<const char *>(row_grad) + 2);
        expect(ACTK_ERROR_INVALID_VALUE, "options.row_grad is not aligned", o, ACTK_F32, rows, classes, x, classes,
               I64, targets, loss, lse, grad, classes);
        o.row_grad = lse + 1; /* an input overlapping the lse output */
        expect(ACTK_ERROR_INVALID_VALUE, "overlap", o, ACTK_F32, rows, classes, x, classes, I64, targets, loss, lse,
               grad, classes);
        expect(ACTK_ERROR_INVALID_VALUE, "not an actk_dtype", good, (actk_dtype)9, rows, classes, x, classes, I64,
               targets, loss, lse, grad, classes);
        expect(ACTK_ERROR_NOT_SUPPORTED, "f64", good, ACTK_F64, rows, classes, x, classes, I64, targets, loss, lse,
               grad, classes);
        expect(ACTK_ERROR_INVALID_VALUE, "not an actk_index_type", good, ACTK_F32, rows, classes, x, classes,
               (actk_index_type)2, targets, loss, lse, grad, classes);
        expect(ACTK_ERROR_INVALID_VALUE, "classes = 0", good, ACTK_F32, rows, 0, x, classes, I64, targets, loss, lse,
               grad, classes);
        expect(ACTK_ERROR_INVALID_VALUE, "ld = 7 is less than classes = 8", good, ACTK_F32, rows, classes, x, 7, I64,
               targets, loss, lse, grad, classes);
        expect(ACTK_ERROR_INVALID_VALUE, "ldgrad = 7 is less than", good, ACTK_F32, rows, classes, x, classes, I64,
               targets, loss, lse, grad, 7);
        expect(ACTK_ERROR_INVALID_VALUE, "overflows size_t", good, ACTK_F32, 3, classes, x, SIZE_MAX / 2, I64, targets,
               loss, lse, grad, classes);
        expect(ACTK_ERROR_INVALID_VALUE, "logits is NULL", good, ACTK_F32, rows, classes, nullptr, classes, I64,
               targets, loss, lse, grad, classes);
        expect(ACTK_ERROR_INVALID_VALUE, "targets is NULL", good, ACTK_F32, rows, classes, x, classes, I64, nullptr,
               loss, lse, grad, classes);
        expect(ACTK_ERROR_INVALID_VALUE, "loss is NULL", good, ACTK_F32, rows, classes, x, classes, I64, targets,
               nullptr, lse, grad, classes);
        expect(ACTK_ERROR_INVALID_VALUE, "loss is NULL", good, ACTK_F32, 0, classes, nullptr, classes, I64, nullptr,
               nullptr, nullptr, nullptr, classes);
        expect(ACTK_ERROR_INVALID_VALUE, "not aligned", good, ACTK_F32, rows, classes, reinterpret_cast<char *>(x) + 2,
               classes, I64, targets, loss, lse, grad, classes);
        expect(ACTK_ERROR_INVALID_VALUE, "targets is not aligned", good, ACTK_F32, rows, classes, x, classes, I64,
               reinterpret_cast<const char *>(targets) + 4, loss, lse, grad, classes);
        expect(ACTK_ERROR_INVALID_VALUE, "lse is not aligned", good, ACTK_F32, rows, classes, x, classes, I64, targets,
               loss, reinterpret_cast<float *>(reinterpret_cast<char *>(lse) + 1), grad, classes);
        /* overlaps: grad over part of the logits; in place with another ld; outputs overlapping */
        expect(ACTK_ERROR_INVALID_VALUE, "overlap", good, ACTK_F32, rows, classes, grad, classes, I64, targets, loss,
               lse, grad + 1, classes);
        expect(ACTK_ERROR_INVALID_VALUE, "in place", good, ACTK_F32, rows, classes, grad, classes, I64, targets, loss,
               lse, grad, classes + 1);
        expect(ACTK_ERROR_INVALID_VALUE, "overlap", good, ACTK_F32, rows, classes, x, classes, I64, targets, loss, loss,
               grad, classes);
        expect(ACTK_ERROR_INVALID_VALUE, "overlap", good, ACTK_F32, rows, classes, x, classes, I64, targets, loss,
               lse + 2, lse, classes);
        if (cuda) {
            expect(ACTK_ERROR_INVALID_VALUE, "workspace needs", good, ACTK_F32, rows, classes, x, classes, I64, targets,
                   loss, lse, grad, classes, nullptr, 8);
            expect(ACTK_ERROR_INVALID_VALUE, "error_flag is not aligned", good, ACTK_F32, rows, classes, x, classes,
                   I64, targets, loss, lse, grad, classes,
                   reinterpret_cast<int *>(reinterpret_cast<char *>(storage + 1000) + 2));
        } else {
            /* the CPU path rejects an out-of-range target before writing */
            const int64_t bad[rows] = {0, 8, 1, 2};
            expect(ACTK_ERROR_INVALID_VALUE, "targets[1] = 8 is out of range", good, ACTK_F32, rows, classes, x,
                   classes, I64, bad, loss, lse, grad, classes);
        }
        /* a valid call on host memory: CPU succeeds; CUDA says no device (or rejects host pointers) */
        const actk_status valid = call_ce(cuda, good, ACTK_F32, rows, classes, x, classes, I64, targets, loss, lse,
                                          grad, classes, nullptr, ws, sizeof ws);
        if (!cuda) EXPECT_EQ(valid, ACTK_SUCCESS) << actk_last_error();
        else if (actk_cuda_device_count() == 0) EXPECT_EQ(valid, ACTK_ERROR_NO_DEVICE);
        else EXPECT_EQ(valid, ACTK_ERROR_INVALID_VALUE);
    }
}
