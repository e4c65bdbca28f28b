// SPDX-License-Identifier: MIT
/*
 * test_softmax_options_gpu.cpp - the softmax options (scale, temperature,
 * LSE, safe rows, causal / padding / additive masks) on the GPU against the
 * CPU reference (actk_cpu_softmax_*_ex with the same options), on every
 * dispatch path (sub-warp, warp, block cached and uncached, cluster cached and
 * uncached, strided tiled and uncached), with clusters shown and hidden,
 * every dtype, forward and backward. Each options call must take the path
 * the plain call takes on that shape (cuda_test_hooks.h), and the test
 * asserts every path was reached. Inputs hold -inf rows, +-1e30, +inf and
 * NaN; masked entries of x (and of y, dy) are NaN, so a read of one shows;
 * outputs are poisoned and guarded. Bounds as the plain softmax (forward
 * f32 4 ULP, f16/bf16 1, f64 8; backward the same or 4 eps of the terms
 * times the factor); LSE 4 ULP of float (f64: 8 of double) or 4 eps of the
 * row's max (f16/bf16: or 2^-12 absolute). Skipped without a device.
 */
#include "cuda_test_hooks.h"
#include "gpu_util.h"
#include "test_util.h"

#include <algorithm>
#include <cstring>
#include <set>

using namespace actk_test;

namespace {

double eps_of(actk_dtype dtype)
{
    switch (dtype) {
    case ACTK_F32: return 0x1p-24;
    case ACTK_F16: return 0x1p-11;
    case ACTK_BF16: return 0x1p-8;
    default: return 0x1p-53;
    }
}

double bound_of(actk_dtype dtype) { return dtype == ACTK_F32 ? 4 : dtype == ACTK_F64 ? 8 : 1; }

struct Case {
    size_t outer, dim, inner;
    size_t heads, q_len; /* attention layout of the outer rows (inner == 1) */
};

/* Which options a run sets: each alone, then combinations. */
struct Combo {
    const char *name;
    bool scale, temperature, lse, safe;
    actk_attention_mask causal;
    bool padding, additive;
    bool masks() const { return causal != ACTK_ATTN_MASK_NO_MASK || padding || additive; }
};

const Combo kCombos[] = {
    {"scale", true, false, false, false, ACTK_ATTN_MASK_NO_MASK, false, false},
    {"temperature", false, true, false, false, ACTK_ATTN_MASK_NO_MASK, false, false},
    {"lse", false, false, true, false, ACTK_ATTN_MASK_NO_MASK, false, false},
    {"safe", false, false, false, true, ACTK_ATTN_MASK_NO_MASK, false, false},
    {"causal", false, false, false, false, ACTK_ATTN_MASK_CAUSAL, false, false},
    {"causal_bottom_right", false, false, false, false, ACTK_ATTN_MASK_CAUSAL_BOTTOM_RIGHT, false, false},
    {"padding", false, false, false, false, ACTK_ATTN_MASK_NO_MASK, true, false},
    {"additive", false, false, false, false, ACTK_ATTN_MASK_NO_MASK, false, true},
    {"scale+temperature+lse+safe", true, true, true, true, ACTK_ATTN_MASK_NO_MASK, false, false},
    {"causal+padding+additive+scale+safe+lse", true, false, true, true, ACTK_ATTN_MASK_CAUSAL, true, true},
    {"bottom_right+padding+temperature+lse", false, true, true, false, ACTK_ATTN_MASK_CAUSAL_BOTTOM_RIGHT, true, false},
};
constexpr int kComboCount = (int)(sizeof kCombos / sizeof kCombos[0]);

/* Host copies of the option arrays, and their device copies. */
struct OptionData {
    std::vector<float> temperature;
    std::vector<int> valid_length;
    Buffer mask;
    OptionData(actk_dtype dtype, size_t n) : mask(dtype, n) {}
};

/* Key k of row o is masked (the definition in actk.h). */
bool is_masked(const actk_softmax_options &o, const Case &c, size_t row, size_t k)
{
    if (o.q_len == 0) return false;
    const long long q = (long long)(row % c.q_len), kk = (long long)k;
    if (o.causal == ACTK_ATTN_MASK_CAUSAL && kk > q) return true;
    if (o.causal == ACTK_ATTN_MASK_CAUSAL_BOTTOM_RIGHT && kk > q + (long long)c.dim - (long long)c.q_len) return true;
    if (o.valid_length && kk >= o.valid_length[row / (c.q_len * c.heads)]) return true;
    return false;
}

std::set<actk_softmax_path> paths_seen;

void check_case(actk_softmax_kind kind, actk_dtype dtype, const Case &c, const Combo &combo, std::mt19937_64 &rng)
{
    const size_t n = c.outer * c.dim * c.inner, rows = c.outer * c.inner, elem = actk_dtype_size(dtype),
                 bytes = n * elem;
    const bool f64 = dtype == ACTK_F64;
    const size_t lse_elem = f64 ? 8 : 4;
    SCOPED_TRACE(std::string(kind == ACTK_SOFTMAX ? "softmax " : "log_softmax ") + actk_dtype_name(dtype) + " " +
                 std::to_string(c.outer) + "x" + std::to_string(c.dim) + "x" + std::to_string(c.inner) + " " +
                 combo.name);
    const size_t batch = c.inner == 1 ? c.outer / (c.q_len * c.heads) : 0;
    OptionData data(dtype, batch * c.q_len * c.dim + 1);
    actk_softmax_options o = actk_softmax_options_default(), d_o;
    std::uniform_real_distribution<double> u(-12, 12), t(0.25, 4);
    data.temperature.resize(rows);
    for (float &v : data.temperature) v = (float)t(rng);
    data.valid_length.resize(batch + 1);
    for (size_t b = 0; b < batch; ++b) data.valid_length[b] = (int)(rng() % (c.dim + 2)) - 1; /* -1 .. dim */
    for (size_t k = 0; k + 1 < data.mask.size(); ++k) data.mask.set(k, k % 11 == 4 ? -INFINITY : u(rng) * 0.5);
    if (combo.scale) o.scale = 0.088388f;
    if (combo.temperature) o.temperature = data.temperature.data();
    o.safe = combo.safe;
    o.causal = combo.causal;
    if (combo.padding) o.valid_length = data.valid_length.data();
    if (combo.additive) o.additive_mask = data.mask.data();
    if (combo.masks()) {
        o.q_len = c.q_len;
        o.heads = c.heads;
    }

    /* x: random logits, special rows, NaN at masked keys (never read) */
    Buffer x(dtype, n), y_ref(dtype, n), dy(dtype, n), dx_ref(dtype, n), y_gpu(dtype, n), dx_gpu(dtype, n);
    std::uniform_real_distribution<double> g(-1, 1);
    for (size_t oi = 0; oi < c.outer; ++oi)
        for (size_t d = 0; d < c.dim; ++d)
            for (size_t i = 0; i < c.inner; ++i) {
                const size_t k = (oi * c.dim + d) * c.inner + i, row = oi * c.inner + i;
                long double v = u(rng);
                if (row % 13 == 3) v = -INFINITY;                        /* all -inf: NaN, or 0 when safe */
                else if (row % 11 == 5 && d % 3 == 0) v = d % 2 ? 1e30 : -1e30; /* huge (inf in f16) */
                else if (row % 17 == 7 && d == c.dim / 2) v = NAN;
                else if (row % 19 == 9 && d == 0) v = INFINITY;
                else if (k % 97 == 13) v = -INFINITY;
                if (c.inner == 1 && is_masked(o, c, oi, d)) v = NAN;
                x.set(k, v);
                dy.set(k, g(rng));
            }
    std::vector<unsigned char> lse_ref(rows * lse_elem), lse_gpu(rows * lse_elem);
    if (combo.lse) o.lse = lse_ref.data();
    ASSERT_EQ(actk_cpu_softmax_forward_ex(kind, dtype, c.outer, c.dim, c.inner, &o, x.data(), y_ref.data()),
              ACTK_SUCCESS)
        << actk_last_error();
    /* the backward from the reference y, NaN in y and dy at masked keys */
    Buffer y_in(y_ref);
    for (size_t k = 0; k < n; ++k)
        if (c.inner == 1 && is_masked(o, c, k / c.dim, k % c.dim)) {
            y_in.set(k, NAN);
            dy.set(k, NAN);
        }
    ASSERT_EQ(
        actk_cpu_softmax_backward_ex(kind, dtype, c.outer, c.dim, c.inner, &o, y_in.data(), dy.data(), dx_ref.data()),
        ACTK_SUCCESS);

    DeviceBuffer d_x(bytes, 0), d_y(bytes, 0), d_yin(bytes, 0), d_dy(bytes, 0), d_dx(bytes, 0),
        d_lse(rows * lse_elem, 0), d_t(rows * 4, 0), d_valid((batch + 1) * 4, 0), d_mask(data.mask.size() * elem, 0);
    ASSERT_TRUE(d_x.base && d_y.base && d_yin.base && d_dy.base && d_dx.base && d_lse.base && d_t.base &&
                d_valid.base && d_mask.base);
    d_x.upload(x.data());
    d_yin.upload(y_in.data());
    d_dy.upload(dy.data());
    d_t.upload(data.temperature.data());
    d_valid.upload(data.valid_length.data());
    d_mask.upload(data.mask.data());
    d_o = o;
    if (combo.lse) d_o.lse = d_lse.data();
    if (o.temperature) d_o.temperature = static_cast<const float *>(d_t.data());
    if (o.valid_length) d_o.valid_length = static_cast<const int *>(d_valid.data());
    if (o.additive_mask) d_o.additive_mask = d_mask.data();

    /* the plain call's path for this shape, then the options call's */
    ASSERT_EQ(actk_cuda_softmax_forward(kind, dtype, c.outer, c.dim, c.inner, d_x.data(), d_y.data(), nullptr),
              ACTK_SUCCESS);
    const actk_softmax_path plain_forward = actk_internal_last_softmax_launch().path;
    d_y.poison_all();
    ASSERT_EQ(actk_cuda_softmax_forward_ex(kind, dtype, c.outer, c.dim, c.inner, &d_o, d_x.data(), d_y.data(), nullptr),
              ACTK_SUCCESS)
        << actk_last_error();
    const actk_softmax_path forward_path = actk_internal_last_softmax_launch().path;
    EXPECT_EQ(forward_path, plain_forward) << actk_internal_softmax_path_name(forward_path);
    ASSERT_EQ(actk_cuda_softmax_backward(kind, dtype, c.outer, c.dim, c.inner, d_yin.data(), d_dy.data(), d_dx.data(),
                                         nullptr),
              ACTK_SUCCESS);
    const actk_softmax_path plain_backward = actk_internal_last_softmax_launch().path;
    d_dx.poison_all();
    ASSERT_EQ(actk_cuda_softmax_backward_ex(kind, dtype, c.outer, c.dim, c.inner, &d_o, d_yin.data(), d_dy.data(),
                                            d_dx.data(), nullptr),
              ACTK_SUCCESS)
        << actk_last_error();
    const actk_softmax_path backward_path = actk_internal_last_softmax_launch().path;
    EXPECT_EQ(backward_path, plain_backward) << actk_internal_softmax_path_name(backward_path);
    paths_seen.insert(forward_path);
    paths_seen.insert(backward_path);
    CUDA_OK(cudaDeviceSynchronize());
    d_y.download(y_gpu.data());
    d_dx.download(dx_gpu.data());
    d_lse.download(lse_gpu.data());
    EXPECT_TRUE(d_y.guards_intact());
    EXPECT_TRUE(d_dx.guards_intact());
    EXPECT_TRUE(d_lse.guards_intact());
    if (!combo.lse) { /* no LSE asked for: none written */
        std::vector<unsigned char> poison(rows * lse_elem, kPoison);
        EXPECT_EQ(std::memcmp(lse_gpu.data(), poison.data(), poison.size()), 0);
    }

    size_t bad_y = 0, bad_dx = 0, bad_lse = 0;
    std::string first;
    const actk_dtype lse_dtype = f64 ? ACTK_F64 : ACTK_F32;
    for (size_t oi = 0; oi < c.outer; ++oi)
        for (size_t i = 0; i < c.inner; ++i) {
            const size_t row = oi * c.inner + i;
            const long double factor =
                f64 ? (long double)((double)o.scale / (o.temperature ? (double)o.temperature[row] : 1.0))
                    : (long double)(o.temperature ? o.scale / o.temperature[row] : o.scale);
            const long double lse_want = load(lse_dtype, lse_ref.data(), row),
                              lse_got = load(lse_dtype, lse_gpu.data(), row);
            long double max_y = -INFINITY, terms = 0;
            for (size_t d = 0; d < c.dim; ++d) {
                const size_t k = (oi * c.dim + d) * c.inner + i;
                if (!std::isnan((double)y_ref.get(k))) max_y = std::max(max_y, y_ref.get(k));
                if (c.inner == 1 && is_masked(o, c, oi, d)) continue;
                terms += kind == ACTK_SOFTMAX ? fabsl(dy.get(k) * y_ref.get(k)) : fabsl(dy.get(k));
            }
            /* the row's max scaled logit, from the reference: lse + max log y */
            const long double max_z = lse_want + (kind == ACTK_SOFTMAX ? logl(max_y) : max_y);
            /* f16/bf16 sum in plain float: their LSE has the float sum's error (2^-12 absolute) */
            const bool lse_ok = !combo.lse || ulp_distance(lse_dtype, lse_got, lse_want) <= (f64 ? 8 : 4) ||
                                fabsl(lse_got - lse_want) <= 4 * eps_of(lse_dtype) * fabsl(max_z) ||
                                ((dtype == ACTK_F16 || dtype == ACTK_BF16) && fabsl(lse_got - lse_want) <= 0x1p-12L);
            if (!lse_ok && bad_lse++ == 0)
                first += " lse row " + std::to_string(row) + ": " + std::to_string((double)lse_got) + " vs " +
                         std::to_string((double)lse_want);
            for (size_t d = 0; d < c.dim; ++d) {
                const size_t k = (oi * c.dim + d) * c.inner + i;
                if (ulp_distance(dtype, y_gpu.get(k), y_ref.get(k)) > bound_of(dtype) && bad_y++ == 0)
                    first += " y at " + std::to_string(k) + ": " + std::to_string((double)y_gpu.get(k)) + " vs " +
                             std::to_string((double)y_ref.get(k));
                const long double yv = y_in.get(k), gv = dy.get(k);
                const long double scale =
                    factor * (kind == ACTK_SOFTMAX ? fabsl(yv) * (fabsl(gv) + terms) : fabsl(gv) + expl(yv) * terms);
                const bool ok = ulp_distance(dtype, dx_gpu.get(k), dx_ref.get(k)) <= bound_of(dtype) ||
                                fabsl(dx_gpu.get(k) - dx_ref.get(k)) <= 4 * eps_of(dtype) * scale;
                if (!ok && bad_dx++ == 0)
                    first += " dx at " + std::to_string(k) + ": " + std::to_string((double)dx_gpu.get(k)) + " vs " +
                             std::to_string((double)dx_ref.get(k));
            }
        }
    EXPECT_EQ(bad_y, 0u) << first;
    EXPECT_EQ(bad_dx, 0u) << first;
    EXPECT_EQ(bad_lse, 0u) << first;
}

const Case kCases[] = {
    {40, 1, 1, 2,
     10}, /* sub-warp (a lane per row), rows of one (bottom-right causal with q_len > k_len: fully masked rows) */
    {42, 2, 1, 3, 7},    /* sub-warp, one lane holding the row's two values */
    {48, 10, 1, 2, 12},  /* sub-warp, a lane per row (16 values); causal rows of 1..10 live keys */
    {36, 4, 1, 3, 3},    /* sub-warp, a lane per row (32 rows per warp; the last warp's lanes partly past the end) */
    {70, 7, 1, 2, 5},    /* sub-warp, a lane per row holding 8 values (dims 5-8) */
    {64, 33, 1, 4, 8},   /* warp */
    {9, 1024, 1, 3, 3},  /* warp, the longest warp row */
    {5, 5000, 1, 1, 5},  /* block (clusters hidden) or cluster (few rows) */
    {2, 40000, 1, 1, 2}, /* cluster, chunks cached; block cached without clusters */
    {1, 300007, 1, 1,
     1}, /* cluster; f64 chunks (and the backward's) beyond shared memory; block uncached without clusters */
    {3, 7, 5, 0, 0},   /* strided, tiled */
    {4, 64, 49, 0, 0}, /* strided, tiled */
    {2, 300, 3, 0, 0}, /* strided (inner < 32: lanes over (d, i)) */
    {1, 40000, 3, 0,
     0}, /* strided, one tile group: a cluster (sm_90+); else the tile beyond shared memory: read twice */
};

} // namespace

TEST_F(Gpu, SoftmaxOptionsOnEveryPathAgreeWithTheReference)
{
    std::mt19937_64 rng(1616);
    paths_seen.clear();
    for (int hide = 0; hide < 2; ++hide) {
        actk_internal_softmax_disable_clusters(hide);
        for (const Case &c : kCases)
            for (actk_dtype dtype : kAllDtypes)
                for (actk_softmax_kind kind : {ACTK_SOFTMAX, ACTK_LOG_SOFTMAX})
                    for (int k = 0; k < kComboCount; ++k) {
                        if (kCombos[k].masks() && c.inner != 1) continue;
                        if (c.dim > 100000 && (kind == ACTK_LOG_SOFTMAX || k % 3))
                            continue; /* keep the reference's time short */
                        check_case(kind, dtype, c, kCombos[k], rng);
                    }
        actk_internal_softmax_disable_clusters(0);
    }
    int device = 0, major = 0, clusters = 0;
    cudaGetDevice(&device);
    cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device);
    cudaDeviceGetAttribute(&clusters, cudaDevAttrClusterLaunch, device);
    std::vector<actk_softmax_path> want = {ACTK_SOFTMAX_PATH_SUBWARP,       ACTK_SOFTMAX_PATH_WARP,
                                           ACTK_SOFTMAX_PATH_BLOCK_CACHED,  ACTK_SOFTMAX_PATH_BLOCK,
                                           ACTK_SOFTMAX_PATH_STRIDED_TILED, ACTK_SOFTMAX_PATH_STRIDED};
    if (major >= 9 && clusters) {
        want.push_back(ACTK_SOFTMAX_PATH_CLUSTER_CACHED);
        want.push_back(ACTK_SOFTMAX_PATH_CLUSTER);
        want.push_back(ACTK_SOFTMAX_PATH_STRIDED_CLUSTER); /* {1, 40000, 3}: one tile group */
    }
    for (actk_softmax_path p : want)
        EXPECT_TRUE(paths_seen.count(p)) << "never ran " << actk_internal_softmax_path_name(p);
}

/* Many more rows than the persistent grids hold, so each warp, block and
 * cluster does several rows and the barriers that guard shared state from
 * one row to the next run (review: no other case gives any block a second
 * row). Forward and backward via check_case, one option set without masks
 * and the combined masked one. */
TEST_F(Gpu, SoftmaxOptionsPersistentLoopsRunSeveralRows)
{
    std::mt19937_64 rng(2026);
    const Case big[] = {
        {20000, 64, 1, 8, 10},  /* warp: more rows than resident warps on any GPU today */
        {400000, 10, 1, 8, 10}, /* sub-warp, a lane per row (16 values): more rows than the resident lanes */
        {600000, 1, 1, 4, 6},   /* sub-warp, a lane per row */
        {2048, 1500, 1, 8, 16}, /* block (cached) */
        {300, 20000, 1, 3, 10}, /* cluster with many rows; block without clusters */
    };
    for (int hide = 0; hide < 2; ++hide) {
        actk_internal_softmax_disable_clusters(hide);
        for (const Case &c : big)
            for (actk_dtype dtype : {ACTK_F32, ACTK_BF16})
                for (int k : {kComboCount - 3, kComboCount - 2}) check_case(ACTK_SOFTMAX, dtype, c, kCombos[k], rng);
        actk_internal_softmax_disable_clusters(0);
    }
}

/* Non-NULL options at their defaults take the plain kernels: the same bits. */
TEST_F(Gpu, SoftmaxDefaultOptionsGiveThePlainBits)
{
    std::mt19937_64 rng(7);
    const actk_softmax_options d = actk_softmax_options_default();
    for (actk_dtype dtype : kAllDtypes) {
        const size_t outer = 6, dim = 3000, n = outer * dim, bytes = n * actk_dtype_size(dtype);
        Buffer x(dtype, n), a(dtype, n), b(dtype, n);
        for (size_t k = 0; k < n; ++k) x.set(k, random_value(rng, dtype, 20));
        DeviceBuffer d_x(bytes, 0), d_a(bytes, 0), d_b(bytes, 0);
        ASSERT_TRUE(d_x.base && d_a.base && d_b.base);
        d_x.upload(x.data());
        ASSERT_EQ(actk_cuda_softmax_forward(ACTK_LOG_SOFTMAX, dtype, outer, dim, 1, d_x.data(), d_a.data(), nullptr),
                  ACTK_SUCCESS);
        ASSERT_EQ(
            actk_cuda_softmax_forward_ex(ACTK_LOG_SOFTMAX, dtype, outer, dim, 1, &d, d_x.data(), d_b.data(), nullptr),
            ACTK_SUCCESS);
        CUDA_OK(cudaDeviceSynchronize());
        d_a.download(a.data());
        d_b.download(b.data());
        EXPECT_EQ(std::memcmp(a.data(), b.data(), bytes), 0) << actk_dtype_name(dtype);
    }
}
