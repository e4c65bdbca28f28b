// SPDX-License-Identifier: MIT
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
            Buffer x(dtype, rows * ld), dy(dtype, rows * ld), y(dtype, rows * ld), dx(dtype, rows * ld),
                ref(dtype, cols);
            for (size_t i = 0; i < rows * ld; ++i) {
                x.set(i, random_value(rng, dtype));
                dy.set(i, random_value(rng, dtype, 3.0));
            }
            std::memset(y.data(), 0x5A, y.bytes.size());
            std::memset(dx.data(), 0x5A, dx.bytes.size());
            const Buffer untouched = y;
            ASSERT_EQ(actk_cpu_forward_2d(act, dtype, rows, cols, x.data(), ld, nullptr, y.data(), ld), ACTK_SUCCESS);
            ASSERT_EQ(actk_cpu_backward_2d(act, dtype, rows, cols, x.data(), ld, nullptr, dy.data(), ld, dx.data(), ld,
                                           nullptr),
                      ACTK_SUCCESS);
            const size_t elem = actk_dtype_size(dtype);
            for (size_t r = 0; r < rows; ++r) {
                const char *xr = (const char *)x.data() + r * ld * elem;
                ASSERT_EQ(actk_cpu_forward(act, dtype, cols, xr, ref.data()), ACTK_SUCCESS);
                ASSERT_EQ(0, std::memcmp(ref.data(), (const char *)y.data() + r * ld * elem, cols * elem))
                    << describe(act, dtype);
                ASSERT_EQ(actk_cpu_backward(act, dtype, cols, xr, (const char *)dy.data() + r * ld * elem, ref.data()),
                          ACTK_SUCCESS);
                ASSERT_EQ(0, std::memcmp(ref.data(), (const char *)dx.data() + r * ld * elem, cols * elem))
                    << describe(act, dtype);
                if (r + 1 < rows) {
                    ASSERT_EQ(0,
                              std::memcmp((const char *)y.data() + (r * ld + cols) * elem,
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
            ASSERT_EQ(actk_cpu_forward_2d(act, dtype, rows, cols, x.data(), cols, b.data(), y.data(), cols),
                      ACTK_SUCCESS);
            ASSERT_EQ(actk_cpu_forward(act, dtype, rows * cols, xb.data(), want.data()), ACTK_SUCCESS);
            EXPECT_EQ(0, std::memcmp(y.data(), want.data(), rows * cols * actk_dtype_size(dtype)))
                << describe(act, dtype);
            ASSERT_EQ(actk_cpu_backward_2d(act, dtype, rows, cols, x.data(), cols, b.data(), dy.data(), cols, dx.data(),
                                           cols, nullptr),
                      ACTK_SUCCESS);
            ASSERT_EQ(actk_cpu_backward(act, dtype, rows * cols, xb.data(), dy.data(), dwant.data()), ACTK_SUCCESS);
            EXPECT_EQ(0, std::memcmp(dx.data(), dwant.data(), rows * cols * actk_dtype_size(dtype)))
                << describe(act, dtype);
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
                long double v = c == 0   ? (long double)(r % 50)
                                : c == 1 ? ((r % 2) ? -1.0L : 1.0L) * ldexpl(1.0L, (int)(r % 9))
                                         : (r == 0 ? 1024.0L : 0.0078125L);
                x.set(r * cols + c, 0.5L);
                dy.set(r * cols + c, v);
                exact[c] += dy.get(r * cols + c);
            }
        ASSERT_EQ(actk_cpu_backward_2d(identity, dtype, rows, cols, x.data(), cols, nullptr, dy.data(), cols, dx.data(),
                                       cols, db.data()),
                  ACTK_SUCCESS);
        for (size_t c = 0; c < cols; ++c)
            EXPECT_LE(ulp_distance(dtype, db.get(c), exact[c]), 0.0) << actk_dtype_name(dtype) << " col " << c;
        ASSERT_EQ(actk_cpu_backward_2d(identity, dtype, rows, cols, x.data(), cols, nullptr, dy.data(), cols, dy.data(),
                                       cols, db.data()),
                  ACTK_SUCCESS);
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
        auto bwd = [&](size_t rows, size_t cols, const void *x, size_t ldx, const void *dy, size_t lddy, void *dx,
                       size_t lddx, void *dbias) {
            return cuda ? actk_cuda_backward_2d(relu, ACTK_F32, rows, cols, x, ldx, nullptr, dy, lddy, dx, lddx, dbias,
                                                nullptr, 0, nullptr)
                        : actk_cpu_backward_2d(relu, ACTK_F32, rows, cols, x, ldx, nullptr, dy, lddy, dx, lddx, dbias);
        };
        expect(fwd(4, 8, buf.data(), 7, nullptr, out.data(), 8), ffn, "ldx = 7 is less than the row width cols = 8");
        expect(fwd(4, 8, buf.data(), 8, nullptr, out.data(), 6), ffn, "ldy = 6");
        expect(fwd(4, 8, nullptr, 8, nullptr, out.data(), 8), ffn, "x is NULL");
        expect(fwd(4, 8, buf.data(), 8, nullptr, nullptr, 8), ffn, "y is NULL");
        expect(fwd(SIZE_MAX / 2, 8, buf.data(), SIZE_MAX / 4, nullptr, out.data(), 8), ffn, "overflows size_t");
        expect(fwd(4, 8, out.data(), 8, nullptr, out.data() + 1, 8), ffn, "overlap");
        expect(fwd(2, 8, out.data(), 16, nullptr, out.data() + 8, 16), ffn,
               "overlap"); /* interleaved rows: spans overlap */
        expect(fwd(4, 8, buf.data(), 8, out.data() + 2, out.data(), 8), ffn, "overlap");  /* bias inside y */
        expect(fwd(4, 8, reinterpret_cast<const char *>(buf.data()) + 1, 8, nullptr, out.data(), 8), ffn,
               "not aligned");
        expect(bwd(4, 8, buf.data(), 8, buf.data() + 64, 7, out.data(), 8, nullptr), bfn, "lddy = 7");
        expect(bwd(4, 8, buf.data(), 8, buf.data() + 64, 8, out.data(), 7, nullptr), bfn, "lddx = 7");
        expect(bwd(4, 8, buf.data(), 8, nullptr, 8, out.data(), 8, nullptr), bfn, "dy is NULL");
        expect(bwd(4, 8, buf.data(), 8, buf.data() + 64, 8, out.data(), 8, static_cast<void *>(out.data() + 4)), bfn,
               "overlap"); /* dbias inside dx */
        expect(bwd(4, 8, buf.data(), 8, out.data(), 8, out.data(), 10, nullptr), bfn,
               "overlap"); /* dx == dy, other ld */
        expect(bwd(4, 8, buf.data(), 8, buf.data() + 64, 8, buf.data(), 8, nullptr), bfn, "overlap"); /* dx == x */
    }
    EXPECT_EQ(actk_cpu_forward_2d(relu, ACTK_F32, 0, 8, nullptr, 8, nullptr, nullptr, 8), ACTK_SUCCESS);
    EXPECT_EQ(actk_cuda_backward_2d_workspace_size(ACTK_F32, 0, 8), 0u);
    EXPECT_GT(actk_cuda_backward_2d_workspace_size(ACTK_F32, 1000, 8), 0u);
}

#if defined(ACTK_TEST_WITH_CUDA)

namespace {

class Ew2dGpu : public Gpu {};

/* Runs forward (dir 0) or backward (dir 1, with dbias) on the GPU over a
 * strided rows x cols view and returns the outputs' payloads. */
struct GpuRun {
    Buffer out, dbias;
    bool ok = false;
};

GpuRun run_gpu(actk_act act, actk_dtype dtype, int dir, size_t rows, size_t cols, size_t ld, size_t offset,
               const Buffer &x, const Buffer *bias, const Buffer &dy, bool want_dbias)
{
    const size_t elem = actk_dtype_size(dtype), n = (rows - 1) * ld + cols;
    GpuRun run{Buffer(dtype, n), Buffer(dtype, cols)};
    DeviceBuffer d_x(n * elem, offset * elem), d_dy(n * elem, offset * elem), d_out(n * elem, offset * elem);
    DeviceBuffer d_b(cols * elem, offset * elem), d_db(cols * elem, 0);
    const size_t ws_bytes = actk_cuda_backward_2d_workspace_size(dtype, rows, cols);
    DeviceBuffer d_ws(ws_bytes, 0);
    if (!d_x.base || !d_dy.base || !d_out.base || !d_b.base || !d_db.base || !d_ws.base) return run;
    d_x.upload(x.data());
    d_dy.upload(dy.data());
    if (bias) d_b.upload(bias->data());
    const void *b = bias ? d_b.data() : nullptr;
    actk_status s;
    if (dir == 0)
        s = actk_cuda_forward_2d(act, dtype, rows, cols, d_x.data(), ld, b, d_out.data(), ld, nullptr);
    else
        s = actk_cuda_backward_2d(act, dtype, rows, cols, d_x.data(), ld, b, d_dy.data(), ld, d_out.data(), ld,
                                  want_dbias ? d_db.data() : nullptr, d_ws.data(), ws_bytes, nullptr);
    EXPECT_EQ(s, ACTK_SUCCESS) << actk_last_error();
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    d_out.download(run.out.data());
    d_db.download(run.dbias.data());
    EXPECT_TRUE(d_out.guards_intact());
    EXPECT_TRUE(d_db.guards_intact());
    run.ok = s == ACTK_SUCCESS;
    return run;
}

} // namespace

/* Every op and dtype, no bias, contiguous and strided: the element-wise
 * bounds against the oracle (agreement.h), padding untouched. */
TEST_F(Ew2dGpu, EveryOpAgreesWithTheOracle)
{
    std::mt19937_64 rng(5);
    for (const actk_dtype dtype : kAllDtypes)
        for (const actk_act act : activations_under_test())
            for (const size_t ld : {(size_t)256, (size_t)261})
                for (int dir = 0; dir < 2; ++dir) {
                    const size_t rows = 40, cols = 256, n = (rows - 1) * ld + cols;
                    Buffer x(dtype, n), dy(dtype, n);
                    std::memset(x.data(), kPoison, x.bytes.size());
                    const std::vector<long double> sp = special_values();
                    std::uniform_real_distribution<double> grad(-3.0, 3.0);
                    for (size_t i = 0; i < n; ++i) {
                        x.set(i, i < sp.size() ? sp[i] : random_value(rng, dtype));
                        dy.set(i, grad(rng));
                    }
                    const GpuRun run = run_gpu(act, dtype, dir, rows, cols, ld, 0, x, nullptr, dy, false);
                    ASSERT_TRUE(run.ok);
                    const size_t elem = actk_dtype_size(dtype);
                    for (size_t r = 0; r < rows; ++r) {
                        const char *xr = (const char *)x.data() + r * ld * elem,
                                   *dyr = (const char *)dy.data() + r * ld * elem;
                        const AgreementReport rep =
                            compare_with_reference(act, dtype, dir, xr, dir ? dyr : nullptr,
                                                   (const char *)run.out.data() + r * ld * elem, cols);
                        ASSERT_EQ(rep.failures, 0u) << rep.first_failure << " ld " << ld;
                        if (r + 1 < rows) {
                            for (size_t c = cols; c < ld; ++c)
                                ASSERT_EQ(((const unsigned char *)run.out.data())[(r * ld + c) * elem], kPoison)
                                    << "padding written";
                        }
                    }
                }
}

/* Fused bias and dbias: forward and dx against the oracle applied to x +
 * bias (rounded to double for f64, as the kernel adds it), dbias against an
 * exact sum of the returned dx, bitwise deterministic, misaligned and
 * in-row-odd shapes (scalar path). */
TEST_F(Ew2dGpu, FusedBiasAndDeterministicDbias)
{
    std::mt19937_64 rng(8);
    for (const actk_dtype dtype : kAllDtypes)
        for (const actk_op op : {ACTK_OP_GELU, ACTK_OP_SILU, ACTK_OP_RELU, ACTK_OP_GELU_TANH, ACTK_OP_SIGMOID})
            for (const size_t offset : {(size_t)0, (size_t)1}) {
                const actk_act act = actk_act_default(op);
                const size_t rows = 3000, cols = 67, ld = 72, n = (rows - 1) * ld + cols;
                Buffer x(dtype, n), dy(dtype, n), b(dtype, cols), xb(dtype, n);
                std::uniform_real_distribution<double> u(-6.0, 6.0), grad(-3.0, 3.0);
                for (size_t c = 0; c < cols; ++c) b.set(c, u(rng));
                for (size_t i = 0; i < n; ++i) {
                    x.set(i, u(rng));
                    dy.set(i, grad(rng));
                    const long double sum = x.get(i) + b.get(i % ld < cols ? i % ld : 0);
                    xb.set(i, dtype == ACTK_F64 ? (long double)(double)sum : sum); /* the oracle's input */
                }
                for (int dir = 0; dir < 2; ++dir) {
                    const GpuRun run = run_gpu(act, dtype, dir, rows, cols, ld, offset, x, &b, dy, dir == 1);
                    ASSERT_TRUE(run.ok);
                    const size_t elem = actk_dtype_size(dtype);
                    for (size_t r = 0; r < rows; r += 7) {
                        /* f32/f16/bf16: the oracle on the exact sum differs from the rounded one by far less than an
                         * ULP */
                        const AgreementReport rep =
                            compare_with_reference(act, dtype, dir, (const char *)xb.data() + r * ld * elem,
                                                   dir ? (const char *)dy.data() + r * ld * elem : nullptr,
                                                   (const char *)run.out.data() + r * ld * elem, cols);
                        ASSERT_EQ(rep.failures, 0u) << rep.first_failure;
                    }
                    if (dir == 0) continue;
                    for (size_t c = 0; c < cols; ++c) {
                        long double sum = 0, abs_sum = 0, comp = 0;
                        for (size_t r = 0; r < rows; ++r) {
                            const long double v = run.out.get(r * ld + c), t = sum + v;
                            comp += fabsl(sum) >= fabsl(v) ? (sum - t) + v : (v - t) + sum;
                            sum = t;
                            abs_sum += fabsl(v);
                        }
                        const long double exact = sum + comp, got = run.dbias.get(c);
                        const long double tol = (dtype == ACTK_F64 ? ldexpl(1, -100) : ldexpl(1, -44)) * abs_sum;
                        EXPECT_TRUE(ulp_distance(dtype, got, exact) <= 2 || fabsl(got - exact) <= tol)
                            << "dbias col " << c << " got " << (double)got << " want " << (double)exact;
                    }
                    const GpuRun again = run_gpu(act, dtype, dir, rows, cols, ld, offset, x, &b, dy, true);
                    EXPECT_EQ(0, std::memcmp(run.dbias.data(), again.dbias.data(), cols * actk_dtype_size(dtype)))
                        << "dbias not deterministic";
                }
            }
}

TEST_F(Ew2dGpu, WorkspaceIsChecked)
{
    const size_t rows = 64, cols = 32;
    float *d = nullptr;
    CUDA_OK(cudaMalloc(reinterpret_cast<void **>(&d), 4 * rows * cols * sizeof(float) + 4096));
    float *x = d, *dy = d + rows * cols, *dx = d + 2 * rows * cols, *db = d + 3 * rows * cols;
    const size_t need = actk_cuda_backward_2d_workspace_size(ACTK_F32, rows, cols);
    const actk_act silu = actk_act_default(ACTK_OP_SILU);
    EXPECT_EQ(actk_cuda_backward_2d(silu, ACTK_F32, rows, cols, x, cols, nullptr, dy, cols, dx, cols, db, nullptr, need,
                                    nullptr),
              ACTK_ERROR_INVALID_VALUE);
    EXPECT_NE(std::strstr(actk_last_error(), "workspace"), nullptr);
    void *ws = nullptr;
    CUDA_OK(cudaMalloc(&ws, need));
    EXPECT_EQ(actk_cuda_backward_2d(silu, ACTK_F32, rows, cols, x, cols, nullptr, dy, cols, dx, cols, db, ws, need - 1,
                                    nullptr),
              ACTK_ERROR_INVALID_VALUE);
    EXPECT_EQ(
        actk_cuda_backward_2d(silu, ACTK_F32, rows, cols, x, cols, nullptr, dy, cols, dx, cols, db, dx, need, nullptr),
        ACTK_ERROR_INVALID_VALUE);
    EXPECT_NE(std::strstr(actk_last_error(), "overlap"), nullptr) << actk_last_error();
    EXPECT_EQ(
        actk_cuda_backward_2d(silu, ACTK_F32, rows, cols, x, cols, nullptr, dy, cols, dx, cols, db, ws, need, nullptr),
        ACTK_SUCCESS);
    EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    cudaFree(ws);
    cudaFree(d);
}

#endif

/* dx == dy (in place, documented) with dbias and its workspace: the
 * workspace check must not reject the legal aliasing (it once checked all
 * buffers together and called dx == dy an overlap). Without a GPU the call
 * gets as far as the device check. */
TEST(Ew2dCpu, CudaInPlaceWithDbiasPassesTheWorkspaceCheck)
{
    if (!actk_built_with_cuda() || actk_cuda_device_count() > 0)
        GTEST_SKIP() << "needs a CUDA build without a device (the GPU test covers the call with one)";
    const size_t rows = 64, cols = 32;
    std::vector<float> x(rows * cols, 0.5f), dy(rows * cols, 1.0f), db(cols, 9.0f);
    const size_t need = actk_cuda_backward_2d_workspace_size(ACTK_F32, rows, cols);
    std::vector<float> ws(need / sizeof(float) + 8);
    void *aligned = reinterpret_cast<void *>((reinterpret_cast<uintptr_t>(ws.data()) + 15) / 16 * 16);
    const actk_act silu = actk_act_default(ACTK_OP_SILU);
    EXPECT_EQ(actk_cuda_backward_2d(silu, ACTK_F32, rows, cols, x.data(), cols, nullptr, dy.data(), cols, dy.data(),
                                    cols, db.data(), aligned, need, nullptr),
              ACTK_ERROR_NO_DEVICE)
        << actk_last_error();
}

#if defined(ACTK_TEST_WITH_CUDA)
/* The same in place with dbias on a GPU: dx and dbias as out of place. */
TEST_F(Ew2dGpu, InPlaceWithDbiasMatchesOutOfPlace)
{
    const size_t rows = 300, cols = 40, n = rows * cols;
    std::vector<float> x(n), dy(n), dx1(n), dx2(n), db1(cols), db2(cols);
    std::mt19937_64 rng(12);
    for (size_t i = 0; i < n; ++i) {
        x[i] = (float)random_value(rng, ACTK_F32, 4.0);
        dy[i] = (float)random_value(rng, ACTK_F32, 2.0);
    }
    float *d = nullptr;
    const size_t need = actk_cuda_backward_2d_workspace_size(ACTK_F32, rows, cols);
    CUDA_OK(cudaMalloc(reinterpret_cast<void **>(&d), (3 * n + 2 * cols) * sizeof(float) + need + 256));
    float *d_x = d, *d_dy = d + n, *d_dx = d + 2 * n, *d_db = d + 3 * n;
    void *ws = reinterpret_cast<char *>(d) + ((3 * n + 2 * cols) * sizeof(float) + 255) / 256 * 256;
    const actk_act gelu = actk_act_default(ACTK_OP_GELU);
    CUDA_OK(cudaMemcpy(d_x, x.data(), n * sizeof(float), cudaMemcpyHostToDevice));
    CUDA_OK(cudaMemcpy(d_dy, dy.data(), n * sizeof(float), cudaMemcpyHostToDevice));
    ASSERT_EQ(actk_cuda_backward_2d(gelu, ACTK_F32, rows, cols, d_x, cols, nullptr, d_dy, cols, d_dx, cols, d_db, ws,
                                    need, nullptr),
              ACTK_SUCCESS)
        << actk_last_error();
    CUDA_OK(cudaMemcpy(dx1.data(), d_dx, n * sizeof(float), cudaMemcpyDeviceToHost));
    CUDA_OK(cudaMemcpy(db1.data(), d_db, cols * sizeof(float), cudaMemcpyDeviceToHost));
    ASSERT_EQ(actk_cuda_backward_2d(gelu, ACTK_F32, rows, cols, d_x, cols, nullptr, d_dy, cols, d_dy, cols, d_db, ws,
                                    need, nullptr),
              ACTK_SUCCESS)
        << actk_last_error();
    CUDA_OK(cudaMemcpy(dx2.data(), d_dy, n * sizeof(float), cudaMemcpyDeviceToHost));
    CUDA_OK(cudaMemcpy(db2.data(), d_db, cols * sizeof(float), cudaMemcpyDeviceToHost));
    EXPECT_EQ(0, std::memcmp(dx1.data(), dx2.data(), n * sizeof(float)));
    EXPECT_EQ(0, std::memcmp(db1.data(), db2.data(), cols * sizeof(float)));
    cudaFree(d);
}
#endif
