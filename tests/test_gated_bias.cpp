// SPDX-License-Identifier: MIT
/*
 * test_gated_bias.cpp - the gated backward with fused bias and dbias
 * (actk_*_gated_bias_backward) and clamped SwiGLU with a bias
 * (actk_*_clamped_swiglu_bias_*).
 * CPU: without a bias the same bits as the plain gated calls; with a bias
 * the same bits as adding it first (values on a coarse grid, so every sum
 * is exact); dbias equal to an exact integer column sum (identity gate, so
 * every dx is an exact product), in x's layout, for every layout and gate
 * position, with strides, in place, rows = 1 and rows = 0 (zeros).
 * GPU (skipped without a device): every gated op and dtype through the
 * slice kernel against the oracle, random and special values; fused bias on
 * every layout, gate position, dtype, odd widths, strides, misaligned
 * bases, in place, rows = 1 and shapes whose slices hold several rows;
 * dbias within its documented bound of the exact sum of the returned dx;
 * two runs bit-identical; the workspace checks. Outputs are poisoned and
 * guarded.
 */
#include "gated_util.h"
#if defined(ACTK_TEST_WITH_CUDA)
#include "activation_math.cuh" /* MathFor: the kernels' compute type per dtype */
#include "gpu_util.h"
#include <cuda_runtime_api.h>
#endif

#include <gtest/gtest.h>

#include <cfloat>
#include <cstring>

using namespace actk_test;

namespace {

const actk_gated_layout kLayouts[] = {ACTK_GATED_CONCAT, ACTK_GATED_INTERLEAVED};
const actk_gate_position kGates[] = {ACTK_GATE_FIRST, ACTK_GATE_SECOND};

actk_status bias_backward_cpu(const Gated &g, actk_gated_layout layout, actk_gate_position gate, actk_dtype dtype,
                              size_t rows, size_t cols, const void *x, size_t ldx, const void *bias, const void *dy,
                              size_t lddy, void *dx, size_t lddx, void *dbias)
{
    if (g.clamped)
        return actk_cpu_clamped_swiglu_bias_backward(g.act.alpha, g.act.beta, layout, gate, dtype, rows, cols, x, ldx,
                                                     bias, dy, lddy, dx, lddx, dbias);
    return actk_cpu_gated_bias_backward(g.act, layout, gate, dtype, rows, cols, x, ldx, bias, dy, lddy, dx, lddx,
                                        dbias);
}

/* A value on the grid k / 8, |k| <= limit: sums of two such values are
 * exact in every dtype (|sum| < 16 needs 8 significant bits). */
long double on_grid(std::mt19937_64 &rng, int limit)
{
    std::uniform_int_distribution<int> k(-limit, limit);
    return (long double)k(rng) / 8.0L;
}

/* The exact column sum (Neumaier in long double: exact for the tests'
 * magnitudes up to 2^-64 of the sum of |v|) and the sum of |v|. */
void column_sum(const Buffer &m, size_t rows, size_t ld, size_t column, long double *sum_out, long double *abs_out)
{
    long double sum = 0, comp = 0, abs_sum = 0;
    for (size_t r = 0; r < rows; ++r) {
        const long double v = m.get(r * ld + column), t = sum + v;
        comp += fabsl(sum) >= fabsl(v) ? (sum - t) + v : (v - t) + sum;
        sum = t;
        abs_sum += fabsl(v);
    }
    *sum_out = std::isfinite((double)sum) ? sum + comp : sum;
    *abs_out = abs_sum;
}

/* dbias against the exact sum of the returned dx under the header's bound:
 * |dbias - sum| <= 1 ULP + 4 u^2 D sum|dx| (2^-46, f64 2^-104), D the
 * longest chain of the GPU's plan (chain = 0: the CPU, whose bound is far
 * tighter, is held to D = 1); non-finite sums exactly (inf stays inf, NaN
 * stays NaN), except where sum |dx| overflows the accumulator. Returns the
 * number of failures. */
size_t check_dbias(actk_dtype dtype, const Buffer &dx, size_t rows, size_t cols, size_t lddx, const Buffer &dbias,
                   size_t chain, std::string *first)
{
    size_t failures = 0;
    for (size_t k = 0; k < 2 * cols; ++k) {
        long double exact, abs_sum;
        column_sum(dx, rows, lddx, k, &exact, &abs_sum);
        const long double got = dbias.get(k);
        const long double tol =
            (dtype == ACTK_F64 ? ldexpl(1, -104) : ldexpl(1, -46)) * (long double)(chain ? chain : 1) * abs_sum;
        Buffer rounded(dtype, 1);
        rounded.set(0, exact);
        /* the documented exception: a partial sum beyond the accumulator's range (only
         * possible when sum |dx| is) gives +-inf or NaN */
        const long double acc_max = dtype == ACTK_F64 ? (long double)DBL_MAX : (long double)FLT_MAX;
        bool ok;
        if (abs_sum > acc_max && !std::isfinite((double)got)) ok = true;
        else if (std::isnan((double)exact)) ok = std::isnan((double)got);
        else if (std::isinf((double)rounded.get(0))) ok = got == rounded.get(0);
        else {
            /* move the exact sum toward got by the second term, then allow 1 ULP */
            const long double moved = fabsl(got - exact) <= tol ? got : (got > exact ? exact + tol : exact - tol);
            ok = ulp_distance(dtype, got, moved) <= 1;
        }
        if (!ok && failures++ == 0 && first)
            *first = "dbias[" + std::to_string(k) + "] = " + std::to_string((double)got) + ", exact " +
                     std::to_string((double)exact) + " " + actk_dtype_name(dtype);
    }
    return failures;
}

} // namespace

/* bias NULL and dbias NULL: the plain gated backward, bit for bit; the
 * clamped forms likewise against the plain clamped calls. */
TEST(GatedBiasCpu, WithoutBiasEqualsThePlainCalls)
{
    std::mt19937_64 rng(41);
    const size_t rows = 5, cols = 13, ldx = 29, lddy = 15;
    for (const Gated &g : gated_under_test())
        for (const actk_dtype dtype : kAllDtypes)
            for (const actk_gated_layout layout : kLayouts)
                for (const actk_gate_position gate : kGates) {
                    Buffer x(dtype, rows * ldx), dy(dtype, rows * lddy), got(dtype, rows * ldx),
                        want(dtype, rows * ldx);
                    for (size_t i = 0; i < rows * ldx; ++i) x.set(i, random_value(rng, dtype));
                    for (size_t i = 0; i < rows * lddy; ++i) dy.set(i, random_value(rng, dtype, 3.0));
                    std::memset(got.data(), 0x3C, got.bytes.size());
                    std::memset(want.data(), 0x3C, want.bytes.size());
                    ASSERT_EQ(bias_backward_cpu(g, layout, gate, dtype, rows, cols, x.data(), ldx, nullptr, dy.data(),
                                                lddy, got.data(), ldx, nullptr),
                              ACTK_SUCCESS)
                        << actk_last_error();
                    ASSERT_EQ(gated_cpu(g, true, layout, gate, dtype, rows, cols, x.data(), ldx, dy.data(), lddy,
                                        want.data(), ldx),
                              ACTK_SUCCESS);
                    ASSERT_EQ(0, std::memcmp(got.data(), want.data(), got.bytes.size())) << describe(g, dtype);
                    if (!g.clamped) continue;
                    ASSERT_EQ(actk_cpu_clamped_swiglu_bias_forward(g.act.alpha, g.act.beta, layout, gate, dtype, rows,
                                                                   cols, x.data(), ldx, nullptr, got.data(), lddy),
                              ACTK_SUCCESS);
                    ASSERT_EQ(gated_cpu(g, false, layout, gate, dtype, rows, cols, x.data(), ldx, nullptr, 0,
                                        want.data(), lddy),
                              ACTK_SUCCESS);
                    ASSERT_EQ(0, std::memcmp(got.data(), want.data(), got.bytes.size())) << describe(g, dtype);
                }
}

/* x and bias on a coarse grid, so x + bias is exact: the fused call equals
 * the plain call on x + bias (forward of clamped SwiGLU too), and the
 * padding between strided rows keeps its bytes. */
TEST(GatedBiasCpu, FusedBiasEqualsAddingItFirst)
{
    std::mt19937_64 rng(42);
    const size_t rows = 6, cols = 11, ldx = 25, lddy = 12;
    const Gated some[] = {{actk_act_default(ACTK_OP_SILU), false}, {actk_act_default(ACTK_OP_GELU), false},
                          {actk_act_default(ACTK_OP_RELU), false}, {actk_act_default(ACTK_OP_SIGMOID), false},
                          {{ACTK_OP_SILU, ACTK_CLAMPED_SWIGLU_ALPHA, ACTK_CLAMPED_SWIGLU_LIMIT}, true},
                          {{ACTK_OP_SILU, 1.0f, 2.5f}, true}};
    for (const Gated &g : some)
        for (const actk_dtype dtype : kAllDtypes)
            for (const actk_gated_layout layout : kLayouts)
                for (const actk_gate_position gate : kGates) {
                    SCOPED_TRACE(describe(g, dtype) + " layout " + std::to_string(layout) + " gate " +
                                 std::to_string(gate));
                    Buffer x(dtype, rows * ldx), b(dtype, 2 * cols), xb(dtype, rows * ldx), dy(dtype, rows * lddy);
                    Buffer dx(dtype, rows * ldx), want(dtype, rows * ldx), y(dtype, rows * lddy),
                        ywant(dtype, rows * lddy);
                    for (size_t k = 0; k < 2 * cols; ++k) b.set(k, on_grid(rng, 16));
                    for (size_t i = 0; i < rows * ldx; ++i) {
                        x.set(i, on_grid(rng, 56));
                        const size_t k = i % ldx;
                        xb.set(i, k < 2 * cols ? x.get(i) + b.get(k) : x.get(i)); /* exact */
                    }
                    for (size_t i = 0; i < rows * lddy; ++i) dy.set(i, random_value(rng, dtype, 3.0));
                    std::memset(dx.data(), 0x3C, dx.bytes.size());
                    std::memset(want.data(), 0x3C, want.bytes.size());
                    ASSERT_EQ(bias_backward_cpu(g, layout, gate, dtype, rows, cols, x.data(), ldx, b.data(), dy.data(),
                                                lddy, dx.data(), ldx, nullptr),
                              ACTK_SUCCESS)
                        << actk_last_error();
                    ASSERT_EQ(gated_cpu(g, true, layout, gate, dtype, rows, cols, xb.data(), ldx, dy.data(), lddy,
                                        want.data(), ldx),
                              ACTK_SUCCESS);
                    ASSERT_EQ(0, std::memcmp(dx.data(), want.data(), dx.bytes.size()));
                    std::memset(y.data(), 0x3C, y.bytes.size());
                    std::memset(ywant.data(), 0x3C, ywant.bytes.size());
                    const actk_status fs =
                        g.clamped
                            ? actk_cpu_clamped_swiglu_bias_forward(g.act.alpha, g.act.beta, layout, gate, dtype, rows,
                                                                   cols, x.data(), ldx, b.data(), y.data(), lddy)
                            : actk_cpu_gated_bias_forward(g.act, layout, gate, dtype, rows, cols, x.data(), ldx,
                                                          b.data(), y.data(), lddy);
                    ASSERT_EQ(fs, ACTK_SUCCESS) << actk_last_error();
                    ASSERT_EQ(gated_cpu(g, false, layout, gate, dtype, rows, cols, xb.data(), ldx, nullptr, 0,
                                        ywant.data(), lddy),
                              ACTK_SUCCESS);
                    ASSERT_EQ(0, std::memcmp(y.data(), ywant.data(), y.bytes.size()));
                }
}

/* act = identity: dup = dy * gate and dgate = dy * up are exact (small
 * integers), so dbias must equal the exact integer column sums, placed in
 * x's layout. Cancelling columns, 4001 rows, strides, rows = 1, in place
 * (dx == x) with the same bits, and rows = 0: dbias zeros. */
TEST(GatedBiasCpu, DbiasIsTheExactColumnSumInXsLayout)
{
    std::mt19937_64 rng(43);
    const actk_act identity = actk_act_default(ACTK_OP_IDENTITY);
    const Gated g{identity, false};
    for (const size_t rows : {(size_t)1, (size_t)4001})
        for (const actk_dtype dtype : kAllDtypes)
            for (const actk_gated_layout layout : kLayouts)
                for (const actk_gate_position gate : kGates) {
                    SCOPED_TRACE(std::string(actk_dtype_name(dtype)) + " rows " + std::to_string(rows) + " layout " +
                                 std::to_string(layout) + " gate " + std::to_string(gate));
                    const size_t cols = 5, ldx = 13, lddy = 7;
                    Buffer x(dtype, rows * ldx), b(dtype, 2 * cols), dy(dtype, rows * lddy), dx(dtype, rows * ldx),
                        db(dtype, 2 * cols);
                    std::uniform_int_distribution<int> small(-8, 8);
                    for (size_t k = 0; k < 2 * cols; ++k) b.set(k, small(rng));
                    for (size_t i = 0; i < rows * ldx; ++i) x.set(i, small(rng));
                    /* column 0 of dy alternates +-2^k (cancels), the others are small integers */
                    for (size_t r = 0; r < rows; ++r)
                        for (size_t j = 0; j < lddy; ++j)
                            dy.set(r * lddy + j, j == 0 ? ((r % 2) ? -1.0L : 1.0L) * ldexpl(1.0L, (int)(r % 5))
                                                        : (long double)small(rng));
                    long double exact[2 * cols] = {};
                    for (size_t r = 0; r < rows; ++r)
                        for (size_t j = 0; j < cols; ++j) {
                            const size_t gp = gated_position(layout, gate, cols, j, 0),
                                         up = gated_position(layout, gate, cols, j, 1);
                            const long double d = dy.get(r * lddy + j);
                            exact[gp] += d * (x.get(r * ldx + up) + b.get(up)); /* dgate = dy * (up + bias_up) */
                            exact[up] += d * (x.get(r * ldx + gp) + b.get(gp)); /* dup = dy * (gate + bias_gate) */
                        }
                    std::memset(dx.data(), 0x3C, dx.bytes.size());
                    std::memset(db.data(), 0x3C, db.bytes.size());
                    const Buffer dx_poison = dx;
                    ASSERT_EQ(actk_cpu_gated_bias_backward(identity, layout, gate, dtype, rows, cols, x.data(), ldx,
                                                           b.data(), dy.data(), lddy, dx.data(), ldx, db.data()),
                              ACTK_SUCCESS)
                        << actk_last_error();
                    for (size_t k = 0; k < 2 * cols; ++k) {
                        Buffer rounded(dtype, 1);
                        rounded.set(0, exact[k]);
                        EXPECT_EQ(db.get(k), rounded.get(0)) << "dbias[" << k << "]";
                    }
                    for (size_t r = 0; r + 1 < rows; ++r)
                        ASSERT_EQ(0, std::memcmp(
                                         (const char *)dx.data() + (r * ldx + 2 * cols) * actk_dtype_size(dtype),
                                         (const char *)dx_poison.data() + (r * ldx + 2 * cols) * actk_dtype_size(dtype),
                                         (ldx - 2 * cols) * actk_dtype_size(dtype)))
                            << "padding written";
                    /* in place: dx over x, the same dx and dbias bits */
                    Buffer db2(dtype, 2 * cols);
                    ASSERT_EQ(bias_backward_cpu(g, layout, gate, dtype, rows, cols, x.data(), ldx, b.data(), dy.data(),
                                                lddy, x.data(), ldx, db2.data()),
                              ACTK_SUCCESS)
                        << actk_last_error();
                    for (size_t r = 0; r < rows; ++r)
                        ASSERT_EQ(0, std::memcmp((const char *)x.data() + r * ldx * actk_dtype_size(dtype),
                                                 (const char *)dx.data() + r * ldx * actk_dtype_size(dtype),
                                                 2 * cols * actk_dtype_size(dtype)));
                    ASSERT_EQ(0, std::memcmp(db.data(), db2.data(), 2 * cols * actk_dtype_size(dtype)));
                }
    /* rows = 0: the empty sums, +0, written; dx untouched */
    float db[6], dx_sentinel = 9.0f;
    std::memset(db, 0x3C, sizeof db);
    ASSERT_EQ(actk_cpu_gated_bias_backward(identity, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, ACTK_F32, 0, 3, nullptr, 6,
                                           nullptr, nullptr, 3, nullptr, 6, db),
              ACTK_SUCCESS)
        << actk_last_error();
    for (float v : db) EXPECT_TRUE(v == 0.0f && !std::signbit(v));
    EXPECT_EQ(dx_sentinel, 9.0f);
}

/* Random gradients of a smooth op: dbias within the bound of the exact sum
 * of the returned dx (checked by an independent sum); an infinite dx makes
 * its dbias infinite, not NaN. */
TEST(GatedBiasCpu, DbiasOfRandomGradientsAndInfinities)
{
    std::mt19937_64 rng(44);
    const size_t rows = 300, cols = 7;
    for (const actk_dtype dtype : kAllDtypes) {
        const Gated g{actk_act_default(ACTK_OP_GELU), false};
        Buffer x(dtype, rows * 2 * cols), b(dtype, 2 * cols), dy(dtype, rows * cols), dx(dtype, rows * 2 * cols),
            db(dtype, 2 * cols);
        std::uniform_real_distribution<double> u(-4.0, 4.0);
        for (size_t i = 0; i < rows * 2 * cols; ++i) x.set(i, u(rng));
        for (size_t k = 0; k < 2 * cols; ++k) b.set(k, u(rng) / 4);
        for (size_t i = 0; i < rows * cols; ++i) dy.set(i, u(rng));
        x.set(5 * 2 * cols + cols + 2, INFINITY); /* up of column 2 in row 5: dgate(5, 2) = +-inf or NaN */
        dy.set(5 * cols + 2, 1.0L);
        x.set(5 * 2 * cols + 2, 2.0L);
        ASSERT_EQ(actk_cpu_gated_bias_backward(g.act, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, dtype, rows, cols, x.data(),
                                               2 * cols, b.data(), dy.data(), cols, dx.data(), 2 * cols, db.data()),
                  ACTK_SUCCESS);
        ASSERT_TRUE(std::isinf((double)dx.get(5 * 2 * cols + 2))) << "the test needs an infinite dgate";
        std::string first;
        EXPECT_EQ(check_dbias(dtype, dx, rows, cols, 2 * cols, db, 0, &first), 0u) << first;
        EXPECT_TRUE(std::isinf((double)db.get(2))) << (double)db.get(2);
    }
}

TEST(GatedBiasCpu, BadBiasAndDbiasAreRejectedAndNothingWritten)
{
    const size_t rows = 4, cols = 8;
    std::vector<float> x(rows * 2 * cols, 0.5f), dy(rows * cols, 1.0f), bias(2 * cols, 0.25f),
        dx(rows * 2 * cols, 9.0f), db(2 * cols, 9.0f);
    const actk_act silu = actk_act_default(ACTK_OP_SILU);
    auto expect = [&](actk_status got, const char *needle) {
        EXPECT_EQ(got, ACTK_ERROR_INVALID_VALUE) << needle;
        EXPECT_NE(std::strstr(actk_last_error(), "bias_backward"), nullptr) << actk_last_error();
        EXPECT_NE(std::strstr(actk_last_error(), needle), nullptr) << actk_last_error();
        for (float v : dx) ASSERT_EQ(v, 9.0f);
        for (float v : db) ASSERT_EQ(v, 9.0f);
    };
    const auto L = ACTK_GATED_CONCAT;
    const auto G = ACTK_GATE_FIRST;
    expect(actk_cpu_gated_bias_backward(silu, L, G, ACTK_F32, rows, cols, x.data(), 2 * cols, bias.data(), dy.data(),
                                        cols, dx.data(), 2 * cols, dx.data() + 3),
           "overlap"); /* dbias inside dx */
    expect(actk_cpu_gated_bias_backward(silu, L, G, ACTK_F32, rows, cols, x.data(), 2 * cols, dx.data(), dy.data(),
                                        cols, dx.data(), 2 * cols, db.data()),
           "overlap"); /* bias inside dx */
    expect(actk_cpu_gated_bias_backward(silu, L, G, ACTK_F32, rows, cols, x.data(), 2 * cols, bias.data(), dy.data(),
                                        cols, dx.data(), 2 * cols, bias.data()),
           "overlap"); /* dbias over bias */
    expect(actk_cpu_clamped_swiglu_bias_backward(1.702f, 7.0f, L, G, ACTK_F32, rows, cols, x.data(), 2 * cols,
                                                 bias.data(), dy.data(), cols, dx.data(), 2 * cols,
                                                 reinterpret_cast<char *>(db.data()) + 2),
           "not aligned");
    expect(actk_cpu_clamped_swiglu_bias_backward(1.702f, -1.0f, L, G, ACTK_F32, rows, cols, x.data(), 2 * cols,
                                                 bias.data(), dy.data(), cols, dx.data(), 2 * cols, db.data()),
           "limit >= 0");
    EXPECT_EQ(actk_cpu_clamped_swiglu_bias_forward(1.702f, 7.0f, L, G, ACTK_F32, rows, cols, x.data(), 2 * cols,
                                                   dx.data() + 1, dx.data(), cols),
              ACTK_ERROR_INVALID_VALUE); /* bias inside y */
    EXPECT_NE(std::strstr(actk_last_error(), "actk_cpu_clamped_swiglu_bias_forward"), nullptr) << actk_last_error();
    /* the workspace size: 0 without work, grows with the shape, SIZE_MAX for impossible widths */
    EXPECT_EQ(actk_cuda_gated_bias_backward_workspace_size(ACTK_F32, 0, 8), 0u);
    EXPECT_EQ(actk_cuda_gated_bias_backward_workspace_size(ACTK_F32, 1000, 8),
              2 * actk_cuda_backward_2d_workspace_size(ACTK_F32, 1000, 8));
    EXPECT_EQ(actk_cuda_gated_bias_backward_workspace_size(ACTK_F64, 1000, 8),
              2 * actk_cuda_gated_bias_backward_workspace_size(ACTK_F32, 1000, 8));
    EXPECT_LE(actk_cuda_gated_bias_backward_workspace_size(ACTK_F64, (size_t)1 << 40, 3), (size_t)40 << 20);
    EXPECT_EQ(actk_cuda_gated_bias_backward_workspace_size(ACTK_F32, 2, SIZE_MAX / 4), SIZE_MAX);
}

#if defined(ACTK_TEST_WITH_CUDA)

namespace {

class GatedBiasGpu : public Gpu {};

size_t span(size_t rows, size_t width, size_t ld) { return rows == 0 || width == 0 ? 0 : (rows - 1) * ld + width; }

/* D of the GPU plan for a gated shape, read back through the workspace size
 * (splits * 2 cols pairs of accumulators). */
size_t gpu_chain(actk_dtype dtype, size_t rows, size_t cols)
{
    const size_t bytes = actk_cuda_gated_bias_backward_workspace_size(dtype, rows, cols);
    const size_t splits = bytes / (2 * cols * 2 * (dtype == ACTK_F64 ? 8 : 4));
    return splits ? (rows + splits - 1) / splits + splits : 0;
}

ComputeRange range_for(actk_dtype dtype)
{
    switch (dtype) {
    case ACTK_F32: return compute_range<actk::MathFor<ACTK_F32>::type::T>(dtype);
    case ACTK_F16: return compute_range<actk::MathFor<ACTK_F16>::type::T>(dtype);
    case ACTK_BF16: return compute_range<actk::MathFor<ACTK_BF16>::type::T>(dtype);
    default: return compute_range<actk::MathFor<ACTK_F64>::type::T>(dtype);
    }
}

actk_status bias_backward_cuda(const Gated &g, actk_gated_layout layout, actk_gate_position gate, actk_dtype dtype,
                               size_t rows, size_t cols, const void *x, size_t ldx, const void *bias, const void *dy,
                               size_t lddy, void *dx, size_t lddx, void *dbias, void *ws, size_t ws_bytes)
{
    if (g.clamped)
        return actk_cuda_clamped_swiglu_bias_backward(g.act.alpha, g.act.beta, layout, gate, dtype, rows, cols, x, ldx,
                                                      bias, dy, lddy, dx, lddx, dbias, ws, ws_bytes, nullptr);
    return actk_cuda_gated_bias_backward(g.act, layout, gate, dtype, rows, cols, x, ldx, bias, dy, lddy, dx, lddx,
                                         dbias, ws, ws_bytes, nullptr);
}

struct Case {
    size_t rows, cols, ldx, lddy, offset;
    actk_gated_layout layout;
    actk_gate_position gate;
    bool in_place, with_bias, grid_values; /* grid_values: x and bias on the k/8 grid (exact sums) */
};

/* One backward call with dbias on the GPU (twice: the bits must repeat),
 * checked against the oracle: dx per value, dbias against the exact sum of
 * the returned dx, padding and guard bands untouched. */
void check_case(const Gated &g, actk_dtype dtype, const Case &c, std::mt19937_64 &rng)
{
    SCOPED_TRACE(describe(g, dtype) + " rows " + std::to_string(c.rows) + " cols " + std::to_string(c.cols) + " ldx " +
                 std::to_string(c.ldx) + " lddy " + std::to_string(c.lddy) + " offset " + std::to_string(c.offset) +
                 " layout " + std::to_string(c.layout) + " gate " + std::to_string(c.gate) +
                 (c.in_place ? " in place" : "") + (c.with_bias ? " bias" : ""));
    const size_t elem = actk_dtype_size(dtype), nx = span(c.rows, 2 * c.cols, c.ldx), ny = span(c.rows, c.cols, c.lddy);
    Buffer x(dtype, nx), b(dtype, 2 * c.cols), dy(dtype, ny), want(dtype, nx), got(dtype, nx), got2(dtype, nx);
    Buffer db(dtype, 2 * c.cols), db2(dtype, 2 * c.cols);
    std::memset(x.data(), kPoison, x.bytes.size());
    const std::vector<long double> specials = special_values();
    std::uniform_real_distribution<double> grad(-3.0, 3.0);
    for (size_t k = 0; k < 2 * c.cols; ++k) b.set(k, c.grid_values ? on_grid(rng, 16) : 0.0L);
    size_t k = 0;
    for (size_t r = 0; r < c.rows; ++r)
        for (size_t j = 0; j < c.cols; ++j, ++k) {
            const size_t gp = r * c.ldx + gated_position(c.layout, c.gate, c.cols, j, 0);
            const size_t up = r * c.ldx + gated_position(c.layout, c.gate, c.cols, j, 1);
            if (c.grid_values) {
                x.set(gp, on_grid(rng, 56));
                x.set(up, on_grid(rng, 56));
            } else {
                x.set(gp, k < specials.size() ? specials[k] : random_value(rng, dtype));
                x.set(up, k % 3 == 0 ? specials[(7 * k) % specials.size()] : random_value(rng, dtype));
            }
            dy.set(r * c.lddy + j, k % 5 == 0 ? random_value(rng, dtype) : grad(rng));
        }
    const void *bias_host = c.with_bias ? b.data() : nullptr;
    std::memset(want.data(), kPoison, want.bytes.size());
    ASSERT_EQ(bias_backward_cpu(g, c.layout, c.gate, dtype, c.rows, c.cols, x.data(), c.ldx, bias_host, dy.data(),
                                c.lddy, want.data(), c.ldx, nullptr),
              ACTK_SUCCESS)
        << actk_last_error();

    const size_t ws_bytes = actk_cuda_gated_bias_backward_workspace_size(dtype, c.rows, c.cols);
    DeviceBuffer d_x(nx * elem, c.offset * elem), d_dy(ny * elem, c.offset * elem), d_dx(nx * elem, c.offset * elem);
    DeviceBuffer d_b(2 * c.cols * elem, c.offset * elem), d_db(2 * c.cols * elem, c.offset * elem), d_ws(ws_bytes, 0);
    ASSERT_TRUE(d_x.base && d_dy.base && d_dx.base && d_b.base && d_db.base && d_ws.base) << "cudaMalloc failed";
    for (int run = 0; run < 2; ++run) {
        d_x.poison_all();
        d_dx.poison_all();
        d_db.poison_all();
        d_ws.poison_all();
        d_x.upload(x.data());
        d_dy.upload(dy.data());
        d_b.upload(b.data());
        DeviceBuffer &result = c.in_place ? d_x : d_dx;
        ASSERT_EQ(bias_backward_cuda(g, c.layout, c.gate, dtype, c.rows, c.cols, d_x.data(), c.ldx,
                                     c.with_bias ? d_b.data() : nullptr, d_dy.data(), c.lddy, result.data(), c.ldx,
                                     d_db.data(), d_ws.data(), ws_bytes),
                  ACTK_SUCCESS)
            << actk_last_error();
        CUDA_OK(cudaDeviceSynchronize());
        result.download(run == 0 ? got.data() : got2.data());
        d_db.download(run == 0 ? db.data() : db2.data());
        EXPECT_TRUE(result.guards_intact()) << "write outside dx's span";
        EXPECT_TRUE(d_db.guards_intact()) << "write outside dbias";
        if (!c.in_place) {
            EXPECT_TRUE(d_x.guards_intact());
        }
    }
    ASSERT_EQ(0, std::memcmp(got.data(), got2.data(), nx * elem)) << "dx differs between two runs";
    /* without dbias (no partial sums stored, no second kernel): the same dx */
    if (!c.in_place) {
        d_dx.poison_all();
        ASSERT_EQ(bias_backward_cuda(g, c.layout, c.gate, dtype, c.rows, c.cols, d_x.data(), c.ldx,
                                     c.with_bias ? d_b.data() : nullptr, d_dy.data(), c.lddy, d_dx.data(), c.ldx,
                                     nullptr, nullptr, 0),
                  ACTK_SUCCESS)
            << actk_last_error();
        CUDA_OK(cudaDeviceSynchronize());
        d_dx.download(got2.data());
        ASSERT_EQ(0, std::memcmp(got.data(), got2.data(), nx * elem)) << "dx differs without dbias";
    }
    ASSERT_EQ(0, std::memcmp(db.data(), db2.data(), 2 * c.cols * elem)) << "dbias differs between two runs";

    /* padding between rows: poison, or x's own bytes in place */
    const Buffer &pad_ref = c.in_place ? x : want;
    for (size_t r = 0; r + 1 < c.rows; ++r)
        ASSERT_EQ(0, std::memcmp((const char *)got.data() + (r * c.ldx + 2 * c.cols) * elem,
                                 (const char *)pad_ref.data() + (r * c.ldx + 2 * c.cols) * elem,
                                 (c.ldx - 2 * c.cols) * elem))
            << "padding of row " << r << " written";

    GatedReport rep;
    const ComputeRange range = range_for(dtype);
    for (size_t r = 0; r < c.rows; ++r)
        for (size_t j = 0; j < c.cols; ++j) {
            const size_t gk = gated_position(c.layout, c.gate, c.cols, j, 0),
                         uk = gated_position(c.layout, c.gate, c.cols, j, 1);
            /* the oracle's inputs: exact sums (grid values) or x itself */
            const long double gv = x.get(r * c.ldx + gk) + (c.with_bias ? b.get(gk) : 0.0L);
            const long double uv = x.get(r * c.ldx + uk) + (c.with_bias ? b.get(uk) : 0.0L);
            const long double dv = dy.get(r * c.lddy + j);
            check_gated_value(rep, g, dtype, 1, gv, uv, dv, got.get(r * c.ldx + gk), want.get(r * c.ldx + gk), range);
            check_gated_value(rep, g, dtype, 2, gv, uv, dv, got.get(r * c.ldx + uk), want.get(r * c.ldx + uk), range);
        }
    EXPECT_EQ(rep.failures, 0u) << rep.first_failure;
    std::string first;
    EXPECT_EQ(check_dbias(dtype, got, c.rows, c.cols, c.ldx, db, gpu_chain(dtype, c.rows, c.cols), &first), 0u)
        << first;
}

} // namespace

/* Every gated op and dtype through the slice kernel (no bias, dbias on):
 * random values led by the special and tail values. */
TEST_F(GatedBiasGpu, EveryOpDtypeAgreesWithTheOracle)
{
    std::mt19937_64 rng(2025);
    for (const Gated &g : gated_under_test())
        for (const actk_dtype dtype : kAllDtypes)
            check_case(g, dtype, {40, 256, 512, 256, 0, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, false, false, false}, rng);
}

/* The fused bias on every layout, gate position and dtype: odd widths,
 * strides, misaligned bases, in place, one row, and shapes whose slices
 * hold several rows (cols 2051: 511 slices; 1000 rows: 2 rows per slice). */
TEST_F(GatedBiasGpu, FusedBiasLayoutsStridesInPlaceAndSlices)
{
    std::mt19937_64 rng(2026);
    const Gated some[] = {{actk_act_default(ACTK_OP_SILU), false}, {actk_act_default(ACTK_OP_GELU_TANH), false},
                          {actk_act_default(ACTK_OP_RELU), false}, {{ACTK_OP_SILU, 1.702f, 7.0f}, true}};
    for (const Gated &g : some)
        for (const actk_dtype dtype : kAllDtypes)
            for (const actk_gated_layout layout : kLayouts)
                for (const actk_gate_position gate : kGates) {
                    const Case cases[] = {
                        {33, 64, 128, 64, 0, layout, gate, false, true, true},   /* contiguous */
                        {9, 37, 83, 45, 1, layout, gate, false, true, true},     /* odd width, strides, misaligned */
                        {6, 21, 50, 23, 0, layout, gate, true, true, true},      /* in place */
                        {1, 300, 600, 300, 0, layout, gate, false, true, true},  /* one row */
                        {5, 3, 6, 3, 0, layout, gate, false, false, true},       /* dbias without a bias */
                    };
                    for (const Case &c : cases) check_case(g, dtype, c, rng);
                }
    for (const actk_dtype dtype : kAllDtypes)
        check_case(some[0], dtype,
                   {1000, 2051, 4102, 2051, 0, ACTK_GATED_INTERLEAVED, ACTK_GATE_FIRST, false, true, true}, rng);
    check_case(some[3], ACTK_BF16, {3000, 700, 1400, 700, 0, ACTK_GATED_CONCAT, ACTK_GATE_SECOND, true, true, true},
               rng);
    /* narrow and tall: the plan's 65535 slices, grid.y at its limit (review) */
    for (const actk_dtype dtype : {ACTK_F32, ACTK_BF16})
        check_case(some[0], dtype, {70000, 3, 6, 3, 0, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, false, true, true}, rng);
}

/* Clamped SwiGLU's fused-bias forward against the oracle (grid values). */
TEST_F(GatedBiasGpu, ClampedSwigluBiasForwardAgreesWithTheOracle)
{
    std::mt19937_64 rng(2027);
    const Gated g{{ACTK_OP_SILU, ACTK_CLAMPED_SWIGLU_ALPHA, ACTK_CLAMPED_SWIGLU_LIMIT}, true};
    for (const actk_dtype dtype : kAllDtypes)
        for (const actk_gated_layout layout : kLayouts)
            for (const size_t cols : {(size_t)64, (size_t)37}) {
                const size_t rows = 17, ldx = 2 * cols, ldy = cols, elem = actk_dtype_size(dtype);
                Buffer x(dtype, rows * ldx), b(dtype, 2 * cols), want(dtype, rows * ldy), got(dtype, rows * ldy);
                for (size_t i = 0; i < rows * ldx; ++i) x.set(i, on_grid(rng, 80));
                for (size_t i = 0; i < 2 * cols; ++i) b.set(i, on_grid(rng, 16));
                ASSERT_EQ(actk_cpu_clamped_swiglu_bias_forward(g.act.alpha, g.act.beta, layout, ACTK_GATE_FIRST, dtype,
                                                               rows, cols, x.data(), ldx, b.data(), want.data(), ldy),
                          ACTK_SUCCESS);
                DeviceBuffer d_x(rows * ldx * elem, 0), d_b(2 * cols * elem, 0), d_y(rows * ldy * elem, 0);
                ASSERT_TRUE(d_x.base && d_b.base && d_y.base);
                d_x.upload(x.data());
                d_b.upload(b.data());
                ASSERT_EQ(actk_cuda_clamped_swiglu_bias_forward(g.act.alpha, g.act.beta, layout, ACTK_GATE_FIRST, dtype,
                                                                rows, cols, d_x.data(), ldx, d_b.data(), d_y.data(),
                                                                ldy, nullptr),
                          ACTK_SUCCESS)
                    << actk_last_error();
                CUDA_OK(cudaDeviceSynchronize());
                d_y.download(got.data());
                EXPECT_TRUE(d_y.guards_intact());
                GatedReport rep;
                for (size_t r = 0; r < rows; ++r)
                    for (size_t j = 0; j < cols; ++j) {
                        const size_t gk = gated_position(layout, ACTK_GATE_FIRST, cols, j, 0),
                                     uk = gated_position(layout, ACTK_GATE_FIRST, cols, j, 1);
                        check_gated_value(rep, g, dtype, 0, x.get(r * ldx + gk) + b.get(gk),
                                          x.get(r * ldx + uk) + b.get(uk), 0, got.get(r * ldy + j),
                                          want.get(r * ldy + j), range_for(dtype));
                    }
                EXPECT_EQ(rep.failures, 0u) << rep.first_failure;
            }
}

/* rows = 0 with dbias: zeros; the workspace checks: NULL, too small,
 * misaligned, overlapping dx; then success. */
TEST_F(GatedBiasGpu, EmptyRowsAndTheWorkspace)
{
    const size_t rows = 64, cols = 32;
    float *d = nullptr;
    CUDA_OK(cudaMalloc(reinterpret_cast<void **>(&d), (5 * rows * cols + 4 * cols) * sizeof(float) + 4096));
    float *x = d, *dy = d + 2 * rows * cols, *dx = d + 3 * rows * cols, *db = d + 5 * rows * cols;
    CUDA_OK(cudaMemset(db, 0x7B, 2 * cols * sizeof(float)));
    const actk_act silu = actk_act_default(ACTK_OP_SILU);
    const auto L = ACTK_GATED_INTERLEAVED;
    const auto G = ACTK_GATE_FIRST;
    ASSERT_EQ(actk_cuda_gated_bias_backward(silu, L, G, ACTK_F32, 0, cols, nullptr, 2 * cols, nullptr, nullptr, cols,
                                            nullptr, 2 * cols, db, nullptr, 0, nullptr),
              ACTK_SUCCESS)
        << actk_last_error();
    std::vector<float> host(2 * cols, 1.0f);
    CUDA_OK(cudaMemcpy(host.data(), db, host.size() * sizeof(float), cudaMemcpyDeviceToHost));
    for (float v : host) EXPECT_TRUE(v == 0.0f && !std::signbit(v));

    const size_t need = actk_cuda_gated_bias_backward_workspace_size(ACTK_F32, rows, cols);
    ASSERT_GT(need, 0u);
    void *ws = nullptr;
    CUDA_OK(cudaMalloc(&ws, need + 16));
    auto call = [&](void *w, size_t bytes) {
        return actk_cuda_gated_bias_backward(silu, L, G, ACTK_F32, rows, cols, x, 2 * cols, nullptr, dy, cols, dx,
                                             2 * cols, db, w, bytes, nullptr);
    };
    EXPECT_EQ(call(nullptr, need), ACTK_ERROR_INVALID_VALUE);
    EXPECT_NE(std::strstr(actk_last_error(), "actk_cuda_gated_bias_backward_workspace_size"), nullptr)
        << actk_last_error();
    EXPECT_EQ(call(ws, need - 1), ACTK_ERROR_INVALID_VALUE);
    EXPECT_EQ(call(static_cast<char *>(ws) + 4, need), ACTK_ERROR_INVALID_VALUE);
    EXPECT_NE(std::strstr(actk_last_error(), "16-byte"), nullptr) << actk_last_error();
    EXPECT_EQ(call(dx, need), ACTK_ERROR_INVALID_VALUE);
    EXPECT_NE(std::strstr(actk_last_error(), "overlap"), nullptr) << actk_last_error();
    EXPECT_EQ(call(ws, need), ACTK_SUCCESS) << actk_last_error();
    /* without dbias the workspace is not needed */
    EXPECT_EQ(actk_cuda_gated_bias_backward(silu, L, G, ACTK_F32, rows, cols, x, 2 * cols, nullptr, dy, cols, dx,
                                            2 * cols, nullptr, nullptr, 0, nullptr),
              ACTK_SUCCESS);
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    cudaFree(ws);
    cudaFree(d);
}

#endif
