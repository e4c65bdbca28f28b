// SPDX-License-Identifier: MIT
/*
 * compensated.cuh - double-word ("float-float", "double-double") sums:
 * a value kept as an unevaluated sum hi + lo of two numbers of type T
 * (float or double), |lo| <= ulp(hi) / 2, so sums carry about twice T's
 * precision without a wider type. The f32/f16/bf16 kernels use it to sum
 * in float what they would otherwise sum in double (no FP64 instruction),
 * the f64 kernels to sum beyond double.
 *
 * Algorithms and bounds (u = 2^-24 for float, 2^-53 for double; Joldes,
 * Muller and Popescu, "Tight and rigorous error bounds for basic building
 * blocks of double-word arithmetic", ACM TOMS 44(2), 2017, with Muller and
 * Rideau's 2022 correction of the double-word sum's bound):
 *  - product(a, b): a * b exactly (FMA), unless it underflows (then an
 *    absolute error below the smallest subnormal's half) or overflows;
 *  - plus(double-word) (their AccurateDWPlusDW): relative error at most
 *    3u^2 + 13u^3 < 4u^2 of the exact sum of the two operands;
 *  - plus(T) (AccurateDWPlusFP): relative error at most 2u^2 / (1 - 2u);
 *  - value(): hi + lo rounded once to T (correctly rounded: both are T).
 * So a sum built by chains of at most D additions is within
 * 4u^2 * D * (sum of the |terms|) of the exact sum, before value()'s final
 * rounding. Every step is an IEEE add, multiply or FMA, so the host build
 * gives the same bits as the device (tests replay the kernels' orders).
 *
 * Non-finite values: the error-free transforms would turn an infinity
 * into NaN (inf - inf), so a sum whose leading part is not finite falls
 * back to the plain sum hi + hi (lo = 0): inf stays inf, inf - inf and NaN
 * give NaN, as a plain sum would.
 */
#ifndef ACTK_KERNELS_COMPENSATED_CUH
#define ACTK_KERNELS_COMPENSATED_CUH

#include "activation_math.cuh" /* ACTK_HD, m_fma */

namespace actk {

template <class T> struct Compensated {
    T hi, lo;

    ACTK_HD static Compensated zero() { return {T(0), T(0)}; }

    /* a * b as hi + lo: exact while the product neither overflows nor
     * underflows. */
    ACTK_HD static Compensated product(T a, T b)
    {
        const T p = a * b;
        return {p, m_fma(a, b, -p)};
    }

    /* this + y, the double-word sum (AccurateDWPlusDW). */
    ACTK_HD Compensated plus(Compensated y) const
    {
        T sh, sl, th, tl;
        two_sum(hi, y.hi, sh, sl);
        two_sum(lo, y.lo, th, tl);
        T vh, vl, zh, zl;
        fast_two_sum(sh, sl + th, vh, vl);
        fast_two_sum(vh, tl + vl, zh, zl);
        return finite(zh) ? Compensated{zh, zl} : Compensated{sh, T(0)};
    }

    /* this + y for a single T (AccurateDWPlusFP): half the work. */
    ACTK_HD Compensated plus(T y) const
    {
        T sh, sl, zh, zl;
        two_sum(hi, y, sh, sl);
        fast_two_sum(sh, lo + sl, zh, zl);
        return finite(zh) ? Compensated{zh, zl} : Compensated{sh, T(0)};
    }

    /* hi + lo rounded to T (lo is 0 once the sum is not finite). */
    ACTK_HD T value() const { return hi + lo; }

private:
    ACTK_HD static bool finite(T v) { return v - v == T(0); } /* false for +-inf and NaN */

    /* s + e == a + b exactly (Knuth; no condition on the magnitudes). */
    ACTK_HD static void two_sum(T a, T b, T &s, T &e)
    {
        s = a + b;
        const T b_virtual = s - a;
        e = (a - (s - b_virtual)) + (b - b_virtual);
    }

    /* s + e == a + b exactly when |a| >= |b| or a == 0 (Dekker). */
    ACTK_HD static void fast_two_sum(T a, T b, T &s, T &e)
    {
        s = a + b;
        e = b - (s - a);
    }
};

} // namespace actk

#endif
