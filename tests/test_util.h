// SPDX-License-Identifier: MIT
/*
 * test_util.h - helpers shared by the tests: typed buffers, ULP distance,
 * random inputs, and the accuracy bounds the library promises.
 */
#ifndef ACTK_TEST_UTIL_H
#define ACTK_TEST_UTIL_H

#include "actk/actk.h"
#include "storage.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace actk_test {

inline const actk_dtype kAllDtypes[] = {ACTK_F32, ACTK_F16, ACTK_BF16, ACTK_F64};

/* Element i of a typed buffer, widened exactly to long double. */
inline long double load(actk_dtype dtype, const void *p, size_t i) { return actk_load_element(dtype, p, i); }

/* Stores v rounded once (to nearest even) to the dtype. */
inline void store(actk_dtype dtype, void *p, size_t i, long double v) { actk_store_element(dtype, p, i, v); }

/* ULP distance between two values of the dtype (both NaN: 0; one NaN:
 * infinity); see actk_ulp_distance in host/storage.h. */
inline long double ulp_distance(actk_dtype dtype, long double a, long double b)
{
    return actk_ulp_distance(dtype, a, b);
}

/* A typed host buffer. */
struct Buffer {
    actk_dtype dtype;
    std::vector<unsigned char> bytes;
    Buffer(actk_dtype d, size_t n) : dtype(d), bytes(n * actk_dtype_size(d) + 16) {}
    void *data() { return bytes.data(); }
    const void *data() const { return bytes.data(); }
    size_t size() const { return (bytes.size() - 16) / actk_dtype_size(dtype); }
    long double get(size_t i) const { return load(dtype, data(), i); }
    void set(size_t i, long double v) { store(dtype, data(), i, v); }
};

/* Special and tail values every op is tested on. */
inline std::vector<long double> special_values()
{
    const long double inf = INFINITY;
    return {0.0L, -0.0L, inf, -inf, NAN, 1.0L, -1.0L, 0.5L, -0.5L, 3.0L, -3.0L, 6.0L, 20.0L, -20.0L,
            1e-30L, -1e-30L, 1e-40L, -1e-40L, 1e-300L, -1e-300L, 1e-320L, -1e-320L, 5.9e-8L, -5.9e-8L,
            -10.0L, -30.0L, -80.0L, -90.0L, -100.0L, 15.0L, 30.0L, 88.0L, 100.0L, 1e10L, -1e10L,
            3e38L, -3e38L, 65504.0L, -65504.0L, 1e300L, -1e300L, 0.75L, -0.75L, -0.7518L, -1.2785L,
            -1.1924L, 1e-4L, -1e-4L, 0.39L, -0.41L, 2.999L, -2.999L};
}

/* Random values over the whole range: half uniform in [-range, range],
 * half with a random exponent so tails and tiny values are covered. */
inline long double random_value(std::mt19937_64 &rng, actk_dtype dtype, double range = 12.0)
{
    std::uniform_real_distribution<double> uniform(-range, range);
    if (rng() & 1) return uniform(rng);
    const int max_exp = dtype == ACTK_F16 ? 15 : dtype == ACTK_F64 ? 1000 : 127;
    const int min_exp = dtype == ACTK_F16 ? -24 : dtype == ACTK_F64 ? -1070 : -148;
    std::uniform_int_distribution<int> exponent(min_exp, max_exp);
    std::uniform_real_distribution<double> mantissa(1.0, 2.0);
    const long double v = ldexpl(mantissa(rng), exponent(rng));
    return (rng() & 1) ? -v : v;
}

/* The promised bound, in ULP of the output type, for a GPU result. */
inline double ulp_bound(actk_dtype dtype, bool forward)
{
    switch (dtype) {
    case ACTK_F32: return forward ? 2.0 : 4.0;
    case ACTK_F16:
    case ACTK_BF16: return 1.0;
    /* f64 backward: 8, not 4. The derivatives of silu and mish are sums of
     * rounded terms of opposite sign; reaching 4 ULP would need
     * double-double exponentials (see README "Numerics"). */
    case ACTK_F64: return forward ? 4.0 : 8.0;
    case ACTK_DTYPE_MAX_ENUM: break;
    }
    return 0.0;
}

inline std::string describe(actk_act act, actk_dtype dtype)
{
    return std::string(actk_op_name(act.op)) + " alpha=" + std::to_string(act.alpha) + " beta=" +
           std::to_string(act.beta) + " " + actk_dtype_name(dtype);
}

} // namespace actk_test

#endif
