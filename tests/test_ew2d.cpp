/*
 * test_ew2d.cpp - the 2-D element-wise entry points (row strides, fused
 * bias, dbias). CPU: without bias the same bits as the 1-D element-wise
 * oracle row by row; with bias the same as adding the bias first (exactly
 * representable sums); padding untouched; in place; dbias against an exact
 * sum. GPU (skipped without a device): every op and dtype against the CPU
 * oracle with poisoned outputs and guard bands, packed and scalar paths,
 * dbias within its bound and bitwise deterministic, the workspace checks.
 */
#include "agreement.h"
#if defined(ACTK_TEST_WITH_CUDA)
#include "gpu_util.h"
#include <cuda_runtime_api.h>
#endif

#include <gtest/gtest.h>

#include <cstring>

using namespace actk_test;


TEST(Ew2dCpu, WithoutBiasMatchesTheElementwiseOracleRowByRow)
{
    std::mt19937_64 rng(21);
    const size_t rows = 6, cols = 11, ld = 14;
    for (const actk_dtype dtype : kAllDtypes)
        for (const actk_act act : activations_under_test()) {
            Buffer x(dtype, rows * ld), dy(dtype, rows * ld), y(dtype, rows * ld), dx(dtype, rows * ld), ref(dtype, cols);
            for (size_t i = 0; i < rows * ld; ++i) {
                x.set(i, random_value(rng, dtype));
                dy.set(i, random_value(rng, dtype, 3.0));
            }
            std::memset(y.data(), 0x5A, y.bytes.size());
            std::memset(dx.data(), 0x5A, dx.bytes.size());
            const Buffer untouched = y;
            ASSERT_EQ(actk_cpu_forward_2d(act, dtype, rows, cols, x.data(), ld, nullptr, y.data(), ld), ACTK_SUCCESS);
            ASSERT_EQ(actk_cpu_backward_2d(act, dtype, rows, cols, x.data(), ld, nullptr, dy.data(), ld, dx.data(), ld, nullptr), ACTK_SUCCESS);
            const size_t elem = actk_dtype_size(dtype);
            for (size_t r = 0; r < rows; ++r) {
                const char *xr = (const char *)x.data() + r * ld * elem;
                ASSERT_EQ(actk_cpu_forward(act, dtype, cols, xr, ref.data()), ACTK_SUCCESS);
                ASSERT_EQ(0, std::memcmp(ref.data(), (const char *)y.data() + r * ld * elem, cols * elem)) << describe(act, dtype);
                ASSERT_EQ(actk_cpu_backward(act, dtype, cols, xr, (const char *)dy.data() + r * ld * elem, ref.data()), ACTK_SUCCESS);
                ASSERT_EQ(0, std::memcmp(ref.data(), (const char *)dx.data() + r * ld * elem, cols * elem)) << describe(act, dtype);
                if (r + 1 < rows) {
                    ASSERT_EQ(0, std::memcmp((const char *)y.data() + (r * ld + cols) * elem,
                                             (const char *)untouched.data() + (r * ld + cols) * elem, (ld - cols) * elem));
                }
            }
        }
}

/* Small integers and halves: x + bias is exact in every dtype, so the fused
 * call equals adding the bias first and calling the element-wise oracle. */
TEST(Ew2dCpu, FusedBiasEqualsAddingItFirst)
{
    const size_t rows = 5, cols = 7;
    for (const actk_dtype dtype : kAllDtypes)
        for (const actk_op op : {ACTK_OP_GELU, ACTK_OP_SILU, ACTK_OP_RELU, ACTK_OP_TANH, ACTK_OP_SOFTPLUS}) {
            const actk_act act = actk_act_default(op);
            Buffer x(dtype, rows * cols), b(dtype, cols), xb(dtype, rows * cols), dy(dtype, rows * cols);
            Buffer y(dtype, rows * cols), want(dtype, rows * cols), dx(dtype, rows * cols), dwant(dtype, rows * cols);
            for (size_t c = 0; c < cols; ++c) b.set(c, (long double)c * 0.5L - 1.5L);
            for (size_t i = 0; i < rows * cols; ++i) {
                x.set(i, (long double)((int)(i * 7 % 13) - 6) * 0.25L);
                xb.set(i, x.get(i) + b.get(i % cols));
                dy.set(i, 1.0L + (long double)(i % 3));
            }
            ASSERT_EQ(actk_cpu_forward_2d(act, dtype, rows, cols, x.data(), cols, b.data(), y.data(), cols), ACTK_SUCCESS);
            ASSERT_EQ(actk_cpu_forward(act, dtype, rows * cols, xb.data(), want.data()), ACTK_SUCCESS);
            EXPECT_EQ(0, std::memcmp(y.data(), want.data(), rows * cols * actk_dtype_size(dtype))) << describe(act, dtype);
            ASSERT_EQ(actk_cpu_backward_2d(act, dtype, rows, cols, x.data(), cols, b.data(), dy.data(), cols, dx.data(), cols, nullptr), ACTK_SUCCESS);
            ASSERT_EQ(actk_cpu_backward(act, dtype, rows * cols, xb.data(), dy.data(), dwant.data()), ACTK_SUCCESS);
            EXPECT_EQ(0, std::memcmp(dx.data(), dwant.data(), rows * cols * actk_dtype_size(dtype))) << describe(act, dtype);
        }
}

/* dbias = the column sums of the returned dx, rounded once: checked against
 * an exact sum (integer multiples of a power of two, so the long double sum
 * is exact), with huge cancellation; and in place (dx == dy). */
TEST(Ew2dCpu, DbiasIsTheColumnSumOfDx)
{
    const size_t rows = 4001, cols = 3;
    const actk_act identity = actk_act_default(ACTK_OP_IDENTITY);
    for (const actk_dtype dtype : kAllDtypes) {
        Buffer x(dtype, rows * cols), dy(dtype, rows * cols), dx(dtype, rows * cols), db(dtype, cols);
        long double exact[3] = {0, 0, 0};
        for (size_t r = 0; r < rows; ++r)
            for (size_t c = 0; c < cols; ++c) {
                /* column 0: 1, 2, 3, ...; column 1: +-2^k alternating (cancels); column 2: tiny + big */
                long double v = c == 0 ? (long double)(r % 50) : c == 1 ? ((r % 2) ? -1.0L : 1.0L) * ldexpl(1.0L, (int)(r % 9))
                                                              : (r == 0 ? 1024.0L : 0.0078125L);
                x.set(r * cols + c, 0.5L);
                dy.set(r * cols + c, v);
                exact[c] += dy.get(r * cols + c);
            }
        ASSERT_EQ(actk_cpu_backward_2d(identity, dtype, rows, cols, x.data(), cols, nullptr, dy.data(), cols, dx.data(), cols, db.data()), ACTK_SUCCESS);
        for (size_t c = 0; c < cols; ++c) EXPECT_LE(ulp_distance(dtype, db.get(c), exact[c]), 0.0) << actk_dtype_name(dtype) << " col " << c;
        ASSERT_EQ(actk_cpu_backward_2d(identity, dtype, rows, cols, x.data(), cols, nullptr, dy.data(), cols, dy.data(), cols, db.data()), ACTK_SUCCESS);
        EXPECT_EQ(0, std::memcmp(dy.data(), dx.data(), rows * cols * actk_dtype_size(dtype)));
    }
}

TEST(Ew2dCpu, BadInputIsRejectedAndNothingWritten)
{
    std::vector<float> buf(256, 1.0f), out(64, 9.0f), db(8, 9.0f);
    const actk_act relu = actk_act_default(ACTK_OP_RELU);
    auto expect = [&](actk_status got, const char *fn, const char *needle) {
        EXPECT_EQ(got, ACTK_ERROR_INVALID_VALUE) << needle;
        EXPECT_NE(std::strstr(actk_last_error(), fn), nullptr) << actk_last_error();
        EXPECT_NE(std::strstr(actk_last_error(), needle), nullptr) << actk_last_error();
        for (float v : out) ASSERT_EQ(v, 9.0f);
        for (float v : db) ASSERT_EQ(v, 9.0f);
    };
    for (int cuda = 0; cuda < 2; ++cuda) {
        const char *ffn = cuda ? "actk_cuda_forward_2d" : "actk_cpu_forward_2d";
        const char *bfn = cuda ? "actk_cuda_backward_2d" : "actk_cpu_backward_2d";
        auto fwd = [&](size_t rows, size_t cols, const void *x, size_t ldx, const void *bias, void *y, size_t ldy) {
            return cuda ? actk_cuda_forward_2d(relu, ACTK_F32, rows, cols, x, ldx, bias, y, ldy, nullptr)
                        : actk_cpu_forward_2d(relu, ACTK_F32, rows, cols, x, ldx, bias, y, ldy);
        };
        auto bwd = [&](size_t rows, size_t cols, const void *x, size_t ldx, const void *dy, size_t lddy, void *dx, size_t lddx, void *dbias) {
            return cuda ? actk_cuda_backward_2d(relu, ACTK_F32, rows, cols, x, ldx, nullptr, dy, lddy, dx, lddx, dbias, nullptr, 0, nullptr)
                        : actk_cpu_backward_2d(relu, ACTK_F32, rows, cols, x, ldx, nullptr, dy, lddy, dx, lddx, dbias);
        };
        expect(fwd(4, 8, buf.data(), 7, nullptr, out.data(), 8), ffn, "ldx = 7 is less than the row width cols = 8");
        expect(fwd(4, 8, buf.data(), 8, nullptr, out.data(), 6), ffn, "ldy = 6");
        expect(fwd(4, 8, nullptr, 8, nullptr, out.data(), 8), ffn, "x is NULL");
        expect(fwd(4, 8, buf.data(), 8, nullptr, nullptr, 8), ffn, "y is NULL");
        expect(fwd(SIZE_MAX / 2, 8, buf.data(), SIZE_MAX / 4, nullptr, out.data(), 8), ffn, "overflows size_t");
        expect(fwd(4, 8, out.data(), 8, nullptr, out.data() + 1, 8), ffn, "overlap");
        expect(fwd(2, 8, out.data(), 16, nullptr, out.data() + 8, 16), ffn, "overlap"); /* interleaved rows: spans overlap */
        expect(fwd(4, 8, buf.data(), 8, out.data() + 2, out.data(), 8), ffn, "overlap");  /* bias inside y */
        expect(fwd(4, 8, reinterpret_cast<const char *>(buf.data()) + 1, 8, nullptr, out.data(), 8), ffn, "not aligned");
        expect(bwd(4, 8, buf.data(), 8, buf.data() + 64, 7, out.data(), 8, nullptr), bfn, "lddy = 7");
        expect(bwd(4, 8, buf.data(), 8, buf.data() + 64, 8, out.data(), 7, nullptr), bfn, "lddx = 7");
        expect(bwd(4, 8, buf.data(), 8, nullptr, 8, out.data(), 8, nullptr), bfn, "dy is NULL");
        expect(bwd(4, 8, buf.data(), 8, buf.data() + 64, 8, out.data(), 8, static_cast<void *>(out.data() + 4)), bfn, "overlap"); /* dbias inside dx */
        expect(bwd(4, 8, buf.data(), 8, out.data(), 8, out.data(), 10, nullptr), bfn, "overlap"); /* dx == dy, other ld */
        expect(bwd(4, 8, buf.data(), 8, buf.data() + 64, 8, buf.data(), 8, nullptr), bfn, "overlap"); /* dx == x */
    }
    EXPECT_EQ(actk_cpu_forward_2d(relu, ACTK_F32, 0, 8, nullptr, 8, nullptr, nullptr, 8), ACTK_SUCCESS);
    EXPECT_EQ(actk_cuda_backward_2d_workspace_size(ACTK_F32, 0, 8), 0u);
    EXPECT_GT(actk_cuda_backward_2d_workspace_size(ACTK_F32, 1000, 8), 0u);
}
