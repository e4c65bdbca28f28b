// SPDX-License-Identifier: MIT
/*
 * test_softmax_options_cpu.cpp - the softmax options (scale, temperature,
 * LSE, safe rows, causal / padding / additive masks) on the CPU path,
 * against definitions written out here independently of the library:
 * the scaled logits rounded as actk.h defines them, the masks as a boolean
 * tensor built by brute force from their one-line definitions, softmax and
 * log-sum-exp by a naive long double sum, the backward against finite
 * differences of the forward and against the written-out formula.
 * Masked inputs are poisoned with NaN, so a read of one shows.
 */
#include "test_util.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

using namespace actk_test;

namespace {

struct Attention {
    size_t batch, heads, q_len, k_len;
    size_t rows() const { return batch * heads * q_len; }
};

/* The mask by definition: key k of query q in batch b is masked when ... */
bool masked_key(const actk_softmax_options &o, const Attention &a, size_t b, size_t q, size_t k)
{
    const long long qq = (long long)q, kk = (long long)k, diagonal = (long long)a.k_len - (long long)a.q_len;
    if (o.causal == ACTK_ATTN_MASK_CAUSAL && kk > qq) return true;
    if (o.causal == ACTK_ATTN_MASK_CAUSAL_BOTTOM_RIGHT && kk > qq + diagonal) return true;
    if (o.valid_length && kk >= (long long)o.valid_length[b]) return true;
    return false;
}

/* The scaled logit as actk.h defines it (f32/f16/bf16: float; f64: double). */
long double scaled_logit(actk_dtype dtype, long double x, float scale, const float *temperature, size_t row,
                         const long double *mask)
{
    if (dtype == ACTK_F64) {
        const double f = temperature ? (double)scale / (double)temperature[row] : (double)scale;
        double z = (double)x * f;
        if (mask) z += (double)*mask;
        return z;
    }
    const float f = temperature ? scale / temperature[row] : scale;
    float z = (float)x * f;
    if (mask) z += (float)*mask;
    return z;
}

struct Expected {
    std::vector<long double> y, lse;
};

/* Softmax / log-softmax of the scaled logits over the unmasked keys, by a
 * naive long double sum after subtracting the max. */
Expected brute_force(actk_softmax_kind kind, actk_dtype dtype, const Attention &a, const actk_softmax_options &o,
                     const Buffer &x, const Buffer *mask)
{
    Expected e;
    e.y.assign(a.rows() * a.k_len, 0);
    e.lse.assign(a.rows(), 0);
    for (size_t b = 0; b < a.batch; ++b)
        for (size_t h = 0; h < a.heads; ++h)
            for (size_t q = 0; q < a.q_len; ++q) {
                const size_t row = (b * a.heads + h) * a.q_len + q;
                std::vector<long double> z(a.k_len, -INFINITY);
                std::vector<bool> m(a.k_len);
                long double max = -INFINITY;
                bool nan = false;
                for (size_t k = 0; k < a.k_len; ++k) {
                    m[k] = masked_key(o, a, b, q, k);
                    if (m[k]) continue;
                    long double mv = 0;
                    if (mask) mv = mask->get((b * a.q_len + q) * a.k_len + k);
                    z[k] = scaled_logit(dtype, x.get(row * a.k_len + k), o.scale, o.temperature, row,
                                        mask ? &mv : nullptr);
                    nan |= std::isnan((double)z[k]);
                    if (z[k] > max) max = z[k];
                }
                const bool bad = nan || !std::isfinite((double)max);
                /* log(sum) as log1p of the terms other than one maximal one:
                 * logl(1 + tiny) would lose the tiny terms' digits */
                long double rest = 0;
                bool skipped = false;
                for (size_t k = 0; k < a.k_len; ++k) {
                    if (bad) break;
                    if (!skipped && z[k] == max) skipped = true;
                    else rest += expl(z[k] - max);
                }
                const long double sum = 1 + rest, log_sum = log1pl(rest);
                e.lse[row] = nan ? NAN : bad ? max : max + log_sum;
                for (size_t k = 0; k < a.k_len; ++k) {
                    long double v;
                    if (bad && o.safe && !nan && max == -INFINITY) v = kind == ACTK_SOFTMAX ? 0.0L : -INFINITY;
                    else if (bad) v = NAN;
                    else v = kind == ACTK_SOFTMAX ? expl(z[k] - max) / sum : (z[k] - max) - log_sum;
                    e.y[row * a.k_len + k] = v;
                }
            }
    return e;
}

/* Same value, or both NaN, or within `ulps` of the dtype (the reference
 * rounds once; the brute force above is a few ulps of long double off). */
void expect_close(actk_dtype dtype, long double got, long double want, double ulps, const std::string &where)
{
    if (std::isnan((double)want)) {
        EXPECT_TRUE(std::isnan((double)got)) << where << ": " << (double)got;
        return;
    }
    EXPECT_LE((double)ulp_distance(dtype, got, want), ulps) << where << ": " << (double)got << " vs " << (double)want;
}

/* The LSE output: float per row, double for f64. */
std::vector<long double> lse_values(const std::vector<unsigned char> &raw, actk_dtype dtype, size_t rows)
{
    std::vector<long double> out(rows);
    for (size_t r = 0; r < rows; ++r) {
        if (dtype == ACTK_F64) {
            double v;
            std::memcpy(&v, raw.data() + 8 * r, 8);
            out[r] = v;
        } else {
            float v;
            std::memcpy(&v, raw.data() + 4 * r, 4);
            out[r] = v;
        }
    }
    return out;
}

/* Runs forward_ex and compares y and the LSE with the brute force. Masked
 * x entries hold NaN: reading one would make the row NaN. */
void check_forward(actk_softmax_kind kind, actk_dtype dtype, const Attention &a, actk_softmax_options o,
                   std::mt19937_64 &rng, bool additive)
{
    const size_t n = a.rows() * a.k_len;
    Buffer x(dtype, n), y(dtype, n), mask(dtype, a.batch * a.q_len * a.k_len);
    std::uniform_real_distribution<double> u(-8, 8);
    for (size_t b = 0; b < a.batch; ++b)
        for (size_t h = 0; h < a.heads; ++h)
            for (size_t q = 0; q < a.q_len; ++q)
                for (size_t k = 0; k < a.k_len; ++k) {
                    const size_t idx = ((b * a.heads + h) * a.q_len + q) * a.k_len + k;
                    x.set(idx, masked_key(o, a, b, q, k) ? (long double)NAN : (long double)u(rng));
                }
    for (size_t k = 0; k < mask.size(); ++k) mask.set(k, (k % 7 == 3) ? -INFINITY : u(rng) * 0.25);
    o.additive_mask = additive ? mask.data() : nullptr;
    std::vector<unsigned char> lse(a.rows() * 8 + 8, 0xA5);
    o.lse = lse.data();
    for (size_t k = 0; k < n; ++k) y.set(k, 12345); /* poison */
    ASSERT_EQ(actk_cpu_softmax_forward_ex(kind, dtype, a.rows(), a.k_len, 1, &o, x.data(), y.data()), ACTK_SUCCESS)
        << actk_last_error();
    const Expected e = brute_force(kind, dtype, a, o, x, additive ? &mask : nullptr);
    const std::vector<long double> got_lse = lse_values(lse, dtype, a.rows());
    const actk_dtype lse_dtype = dtype == ACTK_F64 ? ACTK_F64 : ACTK_F32;
    for (size_t k = 0; k < n; ++k) expect_close(dtype, y.get(k), e.y[k], 1, "y[" + std::to_string(k) + "]");
    for (size_t r = 0; r < a.rows(); ++r)
        expect_close(lse_dtype, got_lse[r], e.lse[r], 1, "lse[" + std::to_string(r) + "]");
    EXPECT_EQ(lse[a.rows() * (dtype == ACTK_F64 ? 8 : 4)], 0xA5) << "lse written past its rows";
}

} // namespace

TEST(SoftmaxOptions, DefaultsAreThePlainSoftmax)
{
    const actk_softmax_options d = actk_softmax_options_default();
    EXPECT_EQ(d.scale, 1.0f);
    EXPECT_EQ(d.temperature, nullptr);
    EXPECT_EQ(d.lse, nullptr);
    EXPECT_EQ(d.safe, 0);
    EXPECT_EQ(d.causal, ACTK_ATTN_MASK_NO_MASK);
    std::mt19937_64 rng(5);
    for (actk_dtype dtype : kAllDtypes)
        for (actk_softmax_kind kind : {ACTK_SOFTMAX, ACTK_LOG_SOFTMAX}) {
            const size_t outer = 3, dim = 11, inner = 2, n = outer * dim * inner;
            Buffer x(dtype, n), plain(dtype, n), with_null(dtype, n), with_default(dtype, n), dy(dtype, n),
                dx0(dtype, n), dx1(dtype, n);
            for (size_t k = 0; k < n; ++k) {
                x.set(k, random_value(rng, dtype, 20));
                dy.set(k, random_value(rng, dtype, 1));
            }
            ASSERT_EQ(actk_cpu_softmax_forward(kind, dtype, outer, dim, inner, x.data(), plain.data()), ACTK_SUCCESS);
            ASSERT_EQ(actk_cpu_softmax_forward_ex(kind, dtype, outer, dim, inner, nullptr, x.data(), with_null.data()),
                      ACTK_SUCCESS);
            ASSERT_EQ(actk_cpu_softmax_forward_ex(kind, dtype, outer, dim, inner, &d, x.data(), with_default.data()),
                      ACTK_SUCCESS);
            EXPECT_EQ(std::memcmp(plain.data(), with_null.data(), n * actk_dtype_size(dtype)), 0);
            EXPECT_EQ(std::memcmp(plain.data(), with_default.data(), n * actk_dtype_size(dtype)), 0);
            ASSERT_EQ(actk_cpu_softmax_backward(kind, dtype, outer, dim, inner, plain.data(), dy.data(), dx0.data()),
                      ACTK_SUCCESS);
            ASSERT_EQ(
                actk_cpu_softmax_backward_ex(kind, dtype, outer, dim, inner, &d, plain.data(), dy.data(), dx1.data()),
                ACTK_SUCCESS);
            EXPECT_EQ(std::memcmp(dx0.data(), dx1.data(), n * actk_dtype_size(dtype)), 0);
        }
}

/* Scale and a per-row temperature on (outer, dim, inner) with inner > 1 too:
 * the rows are o * inner + i. */
TEST(SoftmaxOptions, ScaleAndTemperatureScaleTheLogits)
{
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<double> u(-30, 30);
    for (actk_dtype dtype : kAllDtypes)
        for (actk_softmax_kind kind : {ACTK_SOFTMAX, ACTK_LOG_SOFTMAX})
            for (size_t inner : {1u, 3u}) {
                const size_t outer = 4, dim = 37, n = outer * dim * inner, rows = outer * inner;
                Buffer x(dtype, n), y(dtype, n);
                for (size_t k = 0; k < n; ++k) x.set(k, u(rng));
                std::vector<float> temperature(rows);
                for (size_t r = 0; r < rows; ++r) temperature[r] = 0.1f + 0.37f * (float)r;
                actk_softmax_options o = actk_softmax_options_default();
                o.scale = 0.125f;
                o.temperature = temperature.data();
                std::vector<double> lse64(rows);
                std::vector<float> lse32(rows);
                o.lse = dtype == ACTK_F64 ? (void *)lse64.data() : (void *)lse32.data();
                ASSERT_EQ(actk_cpu_softmax_forward_ex(kind, dtype, outer, dim, inner, &o, x.data(), y.data()),
                          ACTK_SUCCESS);
                for (size_t oi = 0; oi < outer; ++oi)
                    for (size_t i = 0; i < inner; ++i) {
                        const size_t row = oi * inner + i;
                        std::vector<long double> z(dim);
                        long double max = -INFINITY, sum = 0;
                        for (size_t d = 0; d < dim; ++d) {
                            z[d] = scaled_logit(dtype, x.get((oi * dim + d) * inner + i), o.scale, o.temperature, row,
                                                nullptr);
                            max = std::max(max, z[d]);
                        }
                        for (size_t d = 0; d < dim; ++d) sum += expl(z[d] - max);
                        for (size_t d = 0; d < dim; ++d) {
                            const long double want =
                                kind == ACTK_SOFTMAX ? expl(z[d] - max) / sum : z[d] - max - logl(sum);
                            expect_close(dtype, y.get((oi * dim + d) * inner + i), want, 1,
                                         "row " + std::to_string(row));
                        }
                        const long double lse = max + logl(sum);
                        if (dtype == ACTK_F64)
                            EXPECT_LE((double)ulp_distance(ACTK_F64, lse64[row], lse), 1);
                        else
                            EXPECT_LE((double)ulp_distance(ACTK_F32, lse32[row], lse), 1);
                    }
            }
}

/* Causal (both alignments), padding and the additive mask, alone and
 * combined, q_len below, equal to and above k_len, with safe on and off. */
TEST(SoftmaxOptions, MasksMatchTheirDefinitions)
{
    std::mt19937_64 rng(21);
    const Attention shapes[] = {{2, 3, 5, 5}, {2, 2, 3, 7}, {1, 2, 7, 3}, {3, 1, 1, 9}, {1, 1, 4, 1}};
    for (actk_dtype dtype : kAllDtypes)
        for (actk_softmax_kind kind : {ACTK_SOFTMAX, ACTK_LOG_SOFTMAX})
            for (const Attention &a : shapes)
                for (int causal = 0; causal < 3; ++causal)
                    for (int padding = 0; padding < 2; ++padding)
                        for (int additive = 0; additive < 2; ++additive)
                            for (int safe = 0; safe < 2; ++safe) {
                                SCOPED_TRACE(std::string(actk_dtype_name(dtype)) + (kind ? " log" : "") + " causal " +
                                             std::to_string(causal) + " padding " + std::to_string(padding) +
                                             " additive " + std::to_string(additive) + " safe " + std::to_string(safe) +
                                             " q " + std::to_string(a.q_len) + " k " + std::to_string(a.k_len));
                                actk_softmax_options o = actk_softmax_options_default();
                                o.causal = (actk_attention_mask)causal;
                                o.q_len = a.q_len;
                                o.heads = a.heads;
                                o.safe = safe;
                                o.scale = 0.5f;
                                std::vector<int> valid(a.batch);
                                for (size_t b = 0; b < a.batch; ++b)
                                    valid[b] = (int)((b * 5 + 2) % (a.k_len + 2)) - 1; /* -1 .. k_len */
                                if (padding) o.valid_length = valid.data();
                                check_forward(kind, dtype, a, o, rng, additive != 0);
                            }
}

/* Safe rows and extreme logits: all -inf, all masked, NaN, +inf, +-1e30. */
TEST(SoftmaxOptions, SafeRowsAndExtremeLogits)
{
    const double inf = INFINITY;
    const std::vector<double> rows = {
        -inf, -inf, -inf, -inf, /* safe: 0, LSE -inf; else NaN */
        1e30, -1e30, 0, 1e30,   /* huge: two ties share the mass */
        NAN, 0, 1, 2,           /* NaN stays NaN, safe or not */
        inf, 0, 1, 2,           /* +inf: NaN, LSE +inf */
        -inf, 3, -inf, -inf,    /* one finite: 1 */
    };
    for (int safe = 0; safe < 2; ++safe)
        for (actk_softmax_kind kind : {ACTK_SOFTMAX, ACTK_LOG_SOFTMAX}) {
            actk_softmax_options o = actk_softmax_options_default();
            o.safe = safe;
            std::vector<double> y(rows.size()), lse(5);
            o.lse = lse.data();
            ASSERT_EQ(actk_cpu_softmax_forward_ex(kind, ACTK_F64, 5, 4, 1, &o, rows.data(), y.data()), ACTK_SUCCESS);
            const double zero = kind == ACTK_SOFTMAX ? 0.0 : -inf;
            for (int d = 0; d < 4; ++d) {
                if (safe) EXPECT_EQ(y[d], zero);
                else EXPECT_TRUE(std::isnan(y[d]));
            }
            EXPECT_EQ(lse[0], -inf);
            EXPECT_DOUBLE_EQ(y[4], kind == ACTK_SOFTMAX ? 0.5 : -std::log(2.0));
            EXPECT_EQ(y[5], kind == ACTK_SOFTMAX ? 0.0 : -2e30);
            EXPECT_DOUBLE_EQ(lse[1], 1e30); /* 1e30 + log 2 rounds to 1e30 */
            for (int d = 8; d < 16; ++d) EXPECT_TRUE(std::isnan(y[d]));
            EXPECT_TRUE(std::isnan(lse[2]));
            EXPECT_EQ(lse[3], inf);
            EXPECT_EQ(y[17], kind == ACTK_SOFTMAX ? 1.0 : 0.0);
            EXPECT_EQ(y[16], zero);
            EXPECT_EQ(lse[4], 3.0);
        }
}

/* The backward is the derivative of the forward with the options: central
 * differences of L = sum(w * y(x)) in f64 against backward_ex, with scale,
 * temperature and masks (the masked x get a zero gradient). */
TEST(SoftmaxOptions, BackwardMatchesFiniteDifferences)
{
    std::mt19937_64 rng(31);
    std::uniform_real_distribution<double> u(-2, 2);
    const Attention a = {2, 2, 3, 6};
    for (actk_softmax_kind kind : {ACTK_SOFTMAX, ACTK_LOG_SOFTMAX})
        for (int causal = 0; causal < 3; ++causal) {
            SCOPED_TRACE(std::string(kind ? "log " : "") + "causal " + std::to_string(causal));
            const size_t rows = a.rows(), n = rows * a.k_len;
            std::vector<float> temperature(rows);
            for (size_t r = 0; r < rows; ++r) temperature[r] = 0.5f + 0.25f * (float)(r % 5);
            std::vector<int> valid = {5, 4};
            actk_softmax_options o = actk_softmax_options_default();
            o.scale = 0.75f;
            o.temperature = temperature.data();
            o.causal = (actk_attention_mask)causal;
            o.q_len = a.q_len;
            o.heads = a.heads;
            o.valid_length = valid.data();
            std::vector<double> x(n), w(n), y(n), dx(n, 7.0);
            for (size_t k = 0; k < n; ++k) {
                x[k] = u(rng);
                w[k] = u(rng);
            }
            ASSERT_EQ(actk_cpu_softmax_forward_ex(kind, ACTK_F64, rows, a.k_len, 1, &o, x.data(), y.data()),
                      ACTK_SUCCESS);
            std::vector<double> dy(w);
            for (size_t k = 0; k < n; ++k)
                if (std::isinf(y[k])) dy[k] = 0; /* masked log-softmax outputs are constant -inf: no loss term */
            ASSERT_EQ(
                actk_cpu_softmax_backward_ex(kind, ACTK_F64, rows, a.k_len, 1, &o, y.data(), dy.data(), dx.data()),
                ACTK_SUCCESS);
            auto loss = [&](const std::vector<double> &xs) {
                std::vector<double> ys(n);
                EXPECT_EQ(actk_cpu_softmax_forward_ex(kind, ACTK_F64, rows, a.k_len, 1, &o, xs.data(), ys.data()),
                          ACTK_SUCCESS);
                long double l = 0;
                for (size_t k = 0; k < n; ++k)
                    if (std::isfinite(ys[k])) l += (long double)dy[k] * ys[k];
                return l;
            };
            for (size_t k = 0; k < n; ++k) {
                const double h = 1e-6;
                std::vector<double> xp(x), xm(x);
                xp[k] += h;
                xm[k] -= h;
                const double numeric = (double)((loss(xp) - loss(xm)) / (2 * h));
                EXPECT_NEAR(dx[k], numeric, 1e-7) << "at " << k;
            }
        }
}

/* The backward's formula written out: f * y * (dy - sum) over the unmasked
 * keys, 0 at masked keys (whose y and dy are NaN here: never read), and the
 * safe rule (a row of y = 0 / -inf gives dx = 0). */
TEST(SoftmaxOptions, BackwardFormulaMasksAndSafeRows)
{
    std::mt19937_64 rng(41);
    std::uniform_real_distribution<double> u(-1, 1);
    for (actk_dtype dtype : kAllDtypes)
        for (actk_softmax_kind kind : {ACTK_SOFTMAX, ACTK_LOG_SOFTMAX})
            for (int safe = 0; safe < 2; ++safe) {
                const Attention a = {2, 1, 4, 5};
                const size_t rows = a.rows(), n = rows * a.k_len;
                std::vector<int> valid = {3, 0}; /* batch 1: every key masked */
                actk_softmax_options o = actk_softmax_options_default();
                o.scale = 2.0f;
                o.causal = ACTK_ATTN_MASK_CAUSAL_BOTTOM_RIGHT;
                o.q_len = a.q_len;
                o.heads = a.heads;
                o.valid_length = valid.data();
                o.safe = safe;
                Buffer y(dtype, n), dy(dtype, n), dx(dtype, n);
                for (size_t r = 0; r < rows; ++r)
                    for (size_t k = 0; k < a.k_len; ++k) {
                        const size_t idx = r * a.k_len + k;
                        const bool m = masked_key(o, a, r / a.q_len, r % a.q_len, k);
                        const long double p = 0.1L + 0.05L * (long double)k;
                        y.set(idx, m ? (long double)NAN
                                     : (r == 1 ? (kind == ACTK_SOFTMAX ? 0.0L : -(long double)INFINITY)
                                               : (kind == ACTK_SOFTMAX ? p : logl(p))));
                        dy.set(idx, m ? (long double)NAN : (long double)u(rng));
                        dx.set(idx, 99);
                    }
                ASSERT_EQ(
                    actk_cpu_softmax_backward_ex(kind, dtype, rows, a.k_len, 1, &o, y.data(), dy.data(), dx.data()),
                    ACTK_SUCCESS);
                for (size_t r = 0; r < rows; ++r) {
                    long double sum = 0;
                    bool live = false;
                    for (size_t k = 0; k < a.k_len; ++k) {
                        const size_t idx = r * a.k_len + k;
                        if (masked_key(o, a, r / a.q_len, r % a.q_len, k)) continue;
                        sum += kind == ACTK_SOFTMAX ? dy.get(idx) * y.get(idx) : dy.get(idx);
                        live |= kind == ACTK_SOFTMAX ? y.get(idx) != 0 : !std::isinf((double)y.get(idx));
                    }
                    for (size_t k = 0; k < a.k_len; ++k) {
                        const size_t idx = r * a.k_len + k;
                        long double want = 0;
                        if (!masked_key(o, a, r / a.q_len, r % a.q_len, k) && !(safe && !live))
                            want = 2.0L * (kind == ACTK_SOFTMAX ? y.get(idx) * (dy.get(idx) - sum)
                                                                : dy.get(idx) - expl(y.get(idx)) * sum);
                        expect_close(dtype, dx.get(idx), want, 1,
                                     "dx row " + std::to_string(r) + " key " + std::to_string(k));
                    }
                }
            }
}

/* Fields an option set does not use are neither validated nor read: heads
 * without a per-batch mask (here one whose product with q_len wraps to 0),
 * q_len without any mask, the additive mask in the backward. */
TEST(SoftmaxOptions, UnusedFieldsAreIgnored)
{
    const size_t outer = 4, dim = 6, n = outer * dim;
    std::vector<float> x(n, 0.5f), y(n, 9.0f), y_plain(n, 9.0f), dy(n, 0.25f), dx(n, 9.0f), dx_plain(n, 9.0f);
    for (size_t k = 0; k < n; ++k) x[k] = (float)(k % 5) * 0.3f;
    actk_softmax_options causal = actk_softmax_options_default();
    causal.causal = ACTK_ATTN_MASK_CAUSAL;
    causal.q_len = 2;
    causal.heads = (size_t)1 << (sizeof(size_t) * 8 - 1); /* q_len * heads wraps to 0 */
    ASSERT_EQ(actk_cpu_softmax_forward_ex(ACTK_SOFTMAX, ACTK_F32, outer, dim, 1, &causal, x.data(), y.data()),
              ACTK_SUCCESS)
        << actk_last_error();
    EXPECT_EQ(y[0], 1.0f); /* query 0 sees key 0 only */
    EXPECT_EQ(y[1], 0.0f);
    actk_softmax_options loose = actk_softmax_options_default();
    loose.q_len = 5; /* does not divide outer, but no mask uses it */
    loose.heads = 3;
    loose.scale = 2.0f;
    ASSERT_EQ(actk_cpu_softmax_forward_ex(ACTK_SOFTMAX, ACTK_F32, outer, dim, 1, &loose, x.data(), y.data()),
              ACTK_SUCCESS)
        << actk_last_error();
    loose.q_len = 0;
    loose.heads = 0;
    ASSERT_EQ(actk_cpu_softmax_forward_ex(ACTK_SOFTMAX, ACTK_F32, outer, dim, 1, &loose, x.data(), y_plain.data()),
              ACTK_SUCCESS);
    EXPECT_EQ(std::memcmp(y.data(), y_plain.data(), n * sizeof(float)), 0);
    actk_softmax_options backward = actk_softmax_options_default();
    backward.additive_mask =
        reinterpret_cast<const void *>(uintptr_t(1)); /* misaligned and bogus: ignored by the backward */
    backward.lse = reinterpret_cast<void *>(uintptr_t(3));
    ASSERT_EQ(
        actk_cpu_softmax_backward_ex(ACTK_SOFTMAX, ACTK_F32, outer, dim, 1, &backward, y.data(), dy.data(), dx.data()),
        ACTK_SUCCESS)
        << actk_last_error();
    ASSERT_EQ(actk_cpu_softmax_backward(ACTK_SOFTMAX, ACTK_F32, outer, dim, 1, y.data(), dy.data(), dx_plain.data()),
              ACTK_SUCCESS);
    EXPECT_EQ(std::memcmp(dx.data(), dx_plain.data(), n * sizeof(float)), 0);
}
