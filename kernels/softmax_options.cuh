// SPDX-License-Identifier: MIT
/*
 * softmax_options.cuh - what the softmax options (actk.h: scale,
 * temperature, LSE, safe rows, attention masks) change in a row, as a
 * compile-time policy of the softmax kernels (softmax.cu):
 *  - PlainRows: no options. Every hook is the identity or a constant, so the
 *    plain kernels compile to what they were before the options existed;
 *  - OptionRows: the options, decided per row at run time (one instantiation
 *    per path and dtype, not one per combination of options).
 * Per row the kernels ask for a RowView: the factor f = scale / T (rounded
 * to the compute type, as the header defines it), the number of leading
 * unmasked keys `live` (causal and padding masks both keep the keys below a
 * limit, so a row's unmasked entries are always a prefix), and the additive
 * mask's row. Entries at or beyond `live` are never read; they count as
 * -inf (forward) and get dx = 0 (backward).
 */
#ifndef ACTK_KERNELS_SOFTMAX_OPTIONS_CUH
#define ACTK_KERNELS_SOFTMAX_OPTIONS_CUH

#include "elementwise_engine.cuh" /* StorageTraits */
#include "softmax_math.cuh"

#include "actk/actk.h"

namespace actk {

template <class S> struct PlainRows {
    using C = typename StorageTraits<S>::Compute;
    static constexpr bool kActive = false;
    struct RowView {
        __device__ __forceinline__ size_t live(size_t dim) const { return dim; }
        __device__ __forceinline__ C scaled(C v, size_t) const { return v; }
        __device__ __forceinline__ C scale_grad(C g) const { return g; }
    };
    __device__ __forceinline__ RowView row(size_t, size_t, size_t) const { return {}; }
    __device__ __forceinline__ bool safe() const { return false; }
    template <class M> __device__ __forceinline__ void write_lse(size_t, MaxSum<M>) const {}
};

template <class S> struct OptionRows {
    using T = StorageTraits<S>;
    using C = typename T::Compute;
    static constexpr bool kActive = true;

    float scale;
    const float *temperature; /* per row, or NULL */
    C *lse;                   /* per row, or NULL (forward only) */
    int safe_rows;
    int causal;               /* actk_attention_mask */
    size_t q_len;             /* 0: no mask at all */
    size_t heads;             /* 0: no per-batch mask */
    const int *valid_length;  /* per batch, or NULL */
    const S *additive_mask;   /* (batch, q_len, dim), or NULL (forward only) */

    struct RowView {
        C factor;
        size_t live_keys;
        const S *mask_row; /* NULL: no additive mask */
        __device__ __forceinline__ size_t live(size_t) const { return live_keys; }
        /* z = x * f, then + mask, each rounded (-fmad=false: no contraction) */
        __device__ __forceinline__ C scaled(C v, size_t col) const
        {
            const C z = v * factor;
            return mask_row ? z + T::load(mask_row[col]) : z;
        }
        __device__ __forceinline__ C scale_grad(C g) const { return factor * g; }
    };

    /* outer_index: the row's index along outer (the attention row when
     * inner == 1); row: o * inner + i, the per-row arrays' index. */
    __device__ RowView row(size_t outer_index, size_t row, size_t dim) const
    {
        RowView r = {temperature ? C(scale) / C(temperature[row]) : C(scale), dim, nullptr};
        if (q_len == 0) return r;
        const size_t q = outer_index % q_len;
        if (causal == ACTK_ATTN_MASK_CAUSAL && q + 1 < r.live_keys) r.live_keys = q + 1;
        if (causal == ACTK_ATTN_MASK_CAUSAL_BOTTOM_RIGHT) {
            const size_t limit = q + 1 + dim > q_len ? q + 1 + dim - q_len : 0; /* keys k <= q + dim - q_len */
            if (limit < r.live_keys) r.live_keys = limit;
        }
        if (heads == 0) return r;
        const size_t batch = outer_index / (q_len * heads);
        if (valid_length) {
            const int v = valid_length[batch];
            const size_t limit = v < 0 ? 0 : (size_t)v; /* clamped to [0, dim] */
            if (limit < r.live_keys) r.live_keys = limit;
        }
        if (additive_mask) r.mask_row = additive_mask + (batch * q_len + q) * dim;
        return r;
    }

    __device__ __forceinline__ bool safe() const { return safe_rows != 0; }

    template <class M> __device__ __forceinline__ void write_lse(size_t row, MaxSum<M> s) const
    {
        if (lse) lse[row] = row_lse(s);
    }
};

/* The kernel-side copy of the options for storage type S (lse: float, or
 * double for f64; the masks only when a mask is given). */
template <class S> OptionRows<S> option_rows(const actk_softmax_options &o, int backward)
{
    using C = typename StorageTraits<S>::Compute;
    const bool per_batch = o.valid_length != nullptr || (!backward && o.additive_mask != nullptr);
    const bool masked = per_batch || o.causal != ACTK_ATTN_MASK_NO_MASK;
    OptionRows<S> r;
    r.scale = o.scale;
    r.temperature = o.temperature;
    r.lse = backward ? nullptr : static_cast<C *>(o.lse);
    r.safe_rows = o.safe;
    r.causal = (int)o.causal;
    r.q_len = masked ? o.q_len : 0;
    r.heads = per_batch ? o.heads : 0;
    r.valid_length = o.valid_length;
    r.additive_mask = backward ? nullptr : static_cast<const S *>(o.additive_mask);
    return r;
}

} // namespace actk

#endif
