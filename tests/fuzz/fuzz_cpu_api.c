// SPDX-License-Identifier: MIT
/*
 * fuzz_cpu_api.c - libFuzzer harness over the CPU element-wise API.
 *
 * Input layout (missing bytes read as 0):
 *   [0] entry point: 0 forward, 1 backward, 2 backward from y (element-wise);
 *       3/4 softmax fwd/bwd, 5/6 prelu fwd/bwd, 7/8 maxout fwd/bwd,
 *       9/10 rrelu fwd/bwd (structured: see fuzz_structured below)
 *       header[0] >= 0xF0: the gated entry points (see fuzz_gated at the end;
 *       bit 2: fuzz_2d, else bit 3: fuzz_gated_bias)
 *       header[0] in [0xD0, 0xE0): the cross-entropy (see fuzz_cross_entropy at the end)
 *   [1] op (values past the last op test the rejection path)
 *   [2] dtype (values past f64 likewise)
 *   [3] flags: bit 0 = raw parameters from [4..11] instead of PyTorch's
 *       defaults; bits 1-3 = aliasing mode (see below)
 *   [4..7] alpha, [8..11] beta (raw float bits)
 *   [12..] element values, as raw storage of the dtype
 * Aliasing modes: 0 separate buffers, 1 out == in0, 2 out == in1,
 * 3 out starts one element into in0 (partial overlap), 4 in0 NULL,
 * 5 out NULL, 6 in1 NULL, 7 n = 0 with NULL pointers.
 *
 * Checks: the status is one of the documented ones (never a CUDA status);
 * calls that must fail do fail, with a message naming the function, and
 * write nothing; successful calls satisfy the ops' invariants (ranges,
 * NaN in -> NaN out) and give the same bits in place and out of place.
 */
#include <actk/actk.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ELEMENTS 2048

static void check(int condition)
{
    if (!condition) abort(); /* the harness, not the library, stops the run */
}

static double load(actk_dtype dtype, const unsigned char *p, size_t i)
{
    switch (dtype) {
    case ACTK_F32: { float v; memcpy(&v, p + 4 * i, 4); return v; }
    case ACTK_F64: { double v; memcpy(&v, p + 8 * i, 8); return v; }
    case ACTK_F16: {
        uint16_t h; memcpy(&h, p + 2 * i, 2);
        const int e = (h >> 10) & 31, m = h & 1023;
        const double s = (h & 0x8000) ? -1.0 : 1.0;
        if (e == 31) return m ? NAN : s * INFINITY;
        return s * (e ? ldexp(1024 + m, e - 25) : ldexp(m, -24));
    }
    case ACTK_BF16: {
        uint16_t h;
        memcpy(&h, p + 2 * i, 2);
        uint32_t b = (uint32_t)h << 16;
        float v;
        memcpy(&v, &b, 4);
        return v;
    }
    case ACTK_DTYPE_MAX_ENUM: break;
    }
    return 0;
}

static actk_status call(int entry, actk_act act, actk_dtype dtype, size_t n, const void *in0, const void *in1,
                        void *out)
{
    switch (entry) {
    case 0: return actk_cpu_forward(act, dtype, n, in0, out);
    case 1: return actk_cpu_backward(act, dtype, n, in0, in1, out);
    default: return actk_cpu_backward_from_y(act, dtype, n, in0, in1, out);
    }
}

/* Range invariants of forward outputs, for finite parameters at defaults. */
static void check_forward_range(actk_op op, double x, double y)
{
    if (isnan(x)) { check(isnan(y)); return; }
    check(!isnan(y));
    switch (op) {
    case ACTK_OP_SIGMOID: case ACTK_OP_HARDSIGMOID: check(y >= 0 && y <= 1); break;
    case ACTK_OP_TANH: case ACTK_OP_SOFTSIGN: case ACTK_OP_HARDTANH: check(y >= -1 && y <= 1); break;
    case ACTK_OP_RELU: case ACTK_OP_SOFTPLUS: check(y >= 0); break;
    case ACTK_OP_RELU6: check(y >= 0 && y <= 6); break;
    case ACTK_OP_STEP: check(y == 0 || y == 1); break;
    case ACTK_OP_LOGSIGMOID: check(y <= 0); break;
    case ACTK_OP_ELU: case ACTK_OP_CELU: check(y >= -1); break;
    case ACTK_OP_IDENTITY: check(y == x || (x != x)); break;
    default: break;
    }
}

/* Structured ops. Header bytes: [2] dtype, [3] aliasing (bit 1: out == in0),
 * [4] outer % 5, [5] dim % 9 (maxout: units % 5), [6] inner % 4,
 * [7] bit 0: log-softmax / rrelu training, bit 1: softmax options,
 * [8] pieces % 4, [9], [10] rrelu lower/upper in 1/128 steps, [11] rrelu
 * seed (with softmax options: see below).
 * Checks: documented status; failures name the function and write
 * nothing; successes keep each op's invariants. */
static int fuzz_structured(int entry, const unsigned char *header, const uint8_t *values, size_t value_bytes)
{
    const actk_dtype dtype = (actk_dtype)(header[2] % 5);
    const int alias = (header[3] >> 1) & 1;
    const size_t outer = header[4] % 5, dim = header[5] % 9, inner = header[6] % 4, pieces = header[8] % 4;
    const size_t elem = actk_dtype_size(dtype) ? actk_dtype_size(dtype) : 4;
    static unsigned char a[(MAX_ELEMENTS + 1) * 8], b[(MAX_ELEMENTS + 1) * 8], out[(MAX_ELEMENTS + 1) * 8];
    static unsigned char s[64 * 8], ds[64 * 8], poison[(MAX_ELEMENTS + 1) * 8];
    memset(a, 0, sizeof a);
    memcpy(a, values, value_bytes < sizeof a ? value_bytes : sizeof a);
    for (size_t i = 0; i < sizeof b; ++i) b[i] = (unsigned char)(a[i] ^ 0x3C);
    for (size_t i = 0; i < sizeof s; ++i) s[i] = a[i % 16];
    memset(out, 0xA5, sizeof out);
    memset(ds, 0xA5, sizeof ds);
    memset(poison, 0xA5, sizeof poison);
    void *o = alias ? (void *)a : (void *)out;
    actk_rrelu rr = actk_rrelu_default();
    rr.lower = header[9] / 128.0f;
    rr.upper = header[10] / 128.0f;
    rr.training = header[7] & 1;
    rr.seed = header[11];
    const actk_softmax_kind kind = (header[7] & 1) ? ACTK_LOG_SOFTMAX : ACTK_SOFTMAX;
    const size_t total = outer * dim * inner, n_rrelu = outer * dim * inner;
    actk_status st = ACTK_SUCCESS;
    /* [7] bit 1: the softmax _ex forms with options from [9..11]: scale
     * (0 and 255 invalid), safe, causal (3 invalid), q_len, heads, a
     * valid_length array, the LSE (into ds) and an additive mask (s) */
    const int with_options = (header[7] >> 1) & 1;
    static int valid_length[8];
    for (int k = 0; k < 8; ++k) valid_length[k] = (int)(a[k] % 11) - 1;
    actk_softmax_options opt = actk_softmax_options_default();
    opt.scale = header[9] == 255 ? NAN : (float)header[9] / 16.0f;
    opt.safe = header[10] & 1;
    opt.causal = (actk_attention_mask)((header[10] >> 1) & 3);
    opt.valid_length = (header[10] & 8) ? valid_length : NULL;
    opt.additive_mask = (header[10] & 16) ? (const void *)s : NULL;
    opt.lse = (header[10] & 32) ? (void *)ds : NULL;
    opt.q_len = header[11] % 4;
    opt.heads = (header[11] >> 2) % 3;
    switch (entry) {
    case 3:
        st = with_options ? actk_cpu_softmax_forward_ex(kind, dtype, outer, dim, inner, &opt, a, o)
                          : actk_cpu_softmax_forward(kind, dtype, outer, dim, inner, a, o);
        break;
    case 4:
        st = with_options ? actk_cpu_softmax_backward_ex(kind, dtype, outer, dim, inner, &opt, a, b, o)
                          : actk_cpu_softmax_backward(kind, dtype, outer, dim, inner, a, b, o);
        break;
    case 5: st = actk_cpu_prelu_forward(dtype, outer, dim, inner, a, s, o); break;
    case 6: st = actk_cpu_prelu_backward(dtype, outer, dim, inner, a, s, b, o, ds); break;
    case 7: st = actk_cpu_maxout_forward(dtype, outer, dim, pieces, inner, a, o); break;
    case 8: st = actk_cpu_maxout_backward(dtype, outer, dim, pieces, inner, a, b, o); break;
    case 9: st = actk_cpu_rrelu_forward(rr, dtype, n_rrelu, a, o); break;
    default: st = actk_cpu_rrelu_backward(rr, dtype, n_rrelu, a, b, o); break;
    }
    check(st == ACTK_SUCCESS || st == ACTK_ERROR_INVALID_VALUE);
    if (st != ACTK_SUCCESS) {
        check(strstr(actk_last_error(), "actk_cpu_") != NULL);
        if (!alias) check(memcmp(out, poison, sizeof out) == 0);
        check(memcmp(ds, poison, sizeof ds) == 0);
        return 0;
    }
    if (alias || !actk_dtype_size(dtype)) return 0;
    if (entry == 3 && with_options) { /* softmax in [0, 1], log-softmax <= 0, or NaN */
        for (size_t k = 0; k < total; ++k) {
            const double y = load(dtype, out, k);
            if (y != y) continue;
            if (kind == ACTK_LOG_SOFTMAX) check(y <= 0);
            else check(y >= 0 && y <= 1);
        }
    } else if (entry == 3) { /* rows of finite logits sum to 1; log-softmax <= 0 */
        for (size_t r = 0; r < outer; ++r)
            for (size_t i = 0; i < inner; ++i) {
                double sum = 0;
                int finite = 1;
                for (size_t d = 0; d < dim; ++d) finite &= isfinite(load(dtype, a, (r * dim + d) * inner + i));
                for (size_t d = 0; d < dim; ++d) {
                    const double y = load(dtype, out, (r * dim + d) * inner + i);
                    if (!finite) continue;
                    if (kind == ACTK_LOG_SOFTMAX) check(y <= 0);
                    else { check(y >= 0 && y <= 1); sum += y; }
                }
                if (finite && dim > 0 && kind == ACTK_SOFTMAX) check(fabs(sum - 1) < 0.02);
            }
    } else if (entry == 7) { /* the max is at least every piece */
        for (size_t r = 0; r < outer; ++r)
            for (size_t u = 0; u < dim; ++u)
                for (size_t i = 0; i < inner; ++i) {
                    const double y = load(dtype, out, (r * dim + u) * inner + i);
                    for (size_t p = 0; p < pieces; ++p) {
                        const double v = load(dtype, a, ((r * dim + u) * pieces + p) * inner + i);
                        if (!isnan(y) && !isnan(v)) check(y >= v);
                    }
                }
    } else if (entry == 9) { /* x > 0: y = x; x < 0: y between upper*x and lower*x */
        for (size_t i = 0; i < n_rrelu; ++i) {
            const double x = load(dtype, a, i), y = load(dtype, out, i);
            if (isnan(x)) { check(isnan(y)); continue; }
            if (x > 0) {
                check(y == x);
            } else if (isfinite(x) && !isinf(y)) { /* inf: a * x beyond the dtype's range (slopes may exceed 1) */
                /* slack: 1% relative, plus f16's subnormal step (a*x may underflow) */
                check(y <= rr.lower * x * (1 - 1e-2) + 6e-8 && y >= rr.upper * x * (1 + 1e-2) - 6e-8);
            }
        }
    } else if (entry == 5) { /* y = x for x > 0 */
        for (size_t i = 0; i < total; ++i) {
            const double x = load(dtype, a, i), y = load(dtype, out, i);
            if (x > 0) check(y == x);
        }
    }
    (void)elem;
    return 0;
}

static int fuzz_gated(const unsigned char *header, const uint8_t *values, size_t value_bytes);
static int fuzz_quant(const unsigned char *header, const uint8_t *values, size_t value_bytes);
static int fuzz_cross_entropy(const unsigned char *header, const uint8_t *values, size_t value_bytes);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char header[12] = {0};
    memcpy(header, data, size < 12 ? size : 12);
    if (header[0] >= 0xF0) return fuzz_gated(header, data + (size > 12 ? 12 : size), size > 12 ? size - 12 : 0);
    if (header[0] >= 0xE0) return fuzz_quant(header, data + (size > 12 ? 12 : size), size > 12 ? size - 12 : 0);
    if (header[0] >= 0xD0) return fuzz_cross_entropy(header, data + (size > 12 ? 12 : size), size > 12 ? size - 12 : 0);
    if (header[0] % 11 >= 3)
        return fuzz_structured(header[0] % 11, header, data + (size > 12 ? 12 : size), size > 12 ? size - 12 : 0);
    const int entry = header[0] % 11;
    const actk_op op = (actk_op)(header[1] % (ACTK_OP_COUNT + 2));
    const actk_dtype dtype = (actk_dtype)(header[2] % 5);
    const int raw_params = header[3] & 1, aliasing = (header[3] >> 1) & 7;
    actk_act act = actk_act_default(op);
    if (raw_params) {
        memcpy(&act.alpha, header + 4, 4);
        memcpy(&act.beta, header + 8, 4);
    }
    const size_t elem = actk_dtype_size(dtype) ? actk_dtype_size(dtype) : 4;
    const size_t payload = size > 12 ? size - 12 : 0;
    size_t n = payload / elem;
    if (n > MAX_ELEMENTS) n = MAX_ELEMENTS;

    /* in0 | in1 | out, each with room for one extra element (aliasing mode 3) */
    static unsigned char in0[(MAX_ELEMENTS + 1) * 8], in1[(MAX_ELEMENTS + 1) * 8], out[(MAX_ELEMENTS + 1) * 8];
    static unsigned char poison[(MAX_ELEMENTS + 1) * 8];
    memset(in0, 0, sizeof in0);
    memcpy(in0, data + 12, n * elem);
    for (size_t i = 0; i < n * elem; ++i) in1[i] = (unsigned char)(data[12 + i] ^ 0x5A);
    memset(out, 0xA5, sizeof out);
    memset(poison, 0xA5, sizeof poison);

    const int dtype_ok = actk_dtype_size(dtype) != 0;
    const int op_ok = actk_act_validate(act) == ACTK_SUCCESS;
    const int has_from_y = actk_op_has_backward_from_y(op);
    const void *a = in0, *b = entry == 0 ? NULL : in1;
    void *o = out;
    size_t count = n;
    int must_fail = !dtype_ok || !op_ok;
    switch (aliasing) {
    case 1: o = in0; break;
    case 2: if (entry != 0) o = in1; break;
    case 3: o = in0 + elem; must_fail |= n > 1; break;
    case 4: a = NULL; must_fail |= n > 0; break;
    case 5: o = NULL; must_fail |= n > 0; break;
    case 6: if (entry != 0) { b = NULL; must_fail |= n > 0; } break;
    case 7: count = 0; a = NULL; b = NULL; o = NULL; break;
    default: break;
    }
    unsigned char before_in0[(MAX_ELEMENTS + 1) * 8];
    memcpy(before_in0, in0, sizeof before_in0);

    const actk_status s = call(entry, act, dtype, count, a, b, o);
    check(s == ACTK_SUCCESS || s == ACTK_ERROR_INVALID_VALUE || s == ACTK_ERROR_NOT_SUPPORTED);
    if (s != ACTK_SUCCESS) {
        check(strstr(actk_last_error(), "actk_cpu_") != NULL);
        /* nothing written: the output (wherever it points) is unchanged */
        if (o == out) check(memcmp(out, poison, sizeof out) == 0);
        if (o == in0 || o == in0 + elem) check(memcmp(in0, before_in0, sizeof in0) == 0);
        return 0;
    }
    check(!must_fail);
    check(!(entry == 2 && !has_from_y));
    if (count == 0 || aliasing != 0) return 0;

    /* Successful out-of-place call: invariants and in-place agreement. */
    if (entry == 0 && !raw_params)
        for (size_t i = 0; i < n; ++i) check_forward_range(op, load(dtype, in0, i), load(dtype, out, i));
    if (entry != 0 && !raw_params)
        for (size_t i = 0; i < n; ++i)
            if (isnan(load(dtype, in0, i))) check(isnan(load(dtype, out, i)));
    static unsigned char again[(MAX_ELEMENTS + 1) * 8];
    memcpy(again, entry == 0 ? in0 : in1, n * elem);
    const actk_status s2 = call(entry, act, dtype, n, entry == 0 ? (const void *)again : in0,
                                entry == 0 ? NULL : again, again);
    check(s2 == ACTK_SUCCESS);
    check(memcmp(again, out, n * elem) == 0);
    return 0;
}

/* Gated activations. Header bytes: [0] & 3: 0 gated forward, 1 gated
 * backward, 2 clamped SwiGLU forward, 3 clamped backward; [1] op; [2] dtype;
 * [3] bit 0 interleaved, bit 1 gate second, bits 2-4 mode: 0 separate
 * buffers, 1 out == x (legal for backward), 2 out one element into x,
 * 3 x NULL, 4 out NULL, 5 dy NULL, 6 ldx = 2*cols - 1, 7 an invalid layout
 * or gate; [4] rows % 5; [5] cols % 9; [6] row padding % 3; [7] clamped
 * alpha in 1/16 steps (signed); [8] clamped limit in 1/8 steps minus 1.
 * Checks: documented status; failures name the function and write
 * nothing; successes propagate NaN (gate or up NaN: y NaN), are
 * deterministic, and give the same bits in place (backward) as out of place. */
static actk_status call_gated(int entry, actk_act act, actk_gated_layout layout, actk_gate_position gate,
                              actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx, const void *dy,
                              size_t lddy, void *out, size_t ldout)
{
    switch (entry) {
    case 0: return actk_cpu_gated_forward(act, layout, gate, dtype, rows, cols, x, ldx, out, ldout);
    case 1: return actk_cpu_gated_backward(act, layout, gate, dtype, rows, cols, x, ldx, dy, lddy, out, ldout);
    case 2:
        return actk_cpu_clamped_swiglu_forward(act.alpha, act.beta, layout, gate, dtype, rows, cols, x, ldx, out,
                                               ldout);
    default:
        return actk_cpu_clamped_swiglu_backward(act.alpha, act.beta, layout, gate, dtype, rows, cols, x, ldx, dy, lddy,
                                                out, ldout);
    }
}

static int fuzz_2d(const unsigned char *header, const uint8_t *values, size_t value_bytes);
static int fuzz_gated_bias(const unsigned char *header, const uint8_t *values, size_t value_bytes);

static int fuzz_gated(const unsigned char *header, const uint8_t *values, size_t value_bytes)
{
    if (header[0] & 4) return fuzz_2d(header, values, value_bytes);
    if (header[0] & 8) return fuzz_gated_bias(header, values, value_bytes);
    const int entry = header[0] & 3, backward = entry & 1, clamped = entry >= 2;
    const actk_dtype dtype = (actk_dtype)(header[2] % 5);
    const int mode = (header[3] >> 2) & 7;
    actk_gated_layout layout = (header[3] & 1) ? ACTK_GATED_INTERLEAVED : ACTK_GATED_CONCAT;
    actk_gate_position gate = (header[3] & 2) ? ACTK_GATE_SECOND : ACTK_GATE_FIRST;
    if (mode == 7) {
        if (header[3] & 1) layout = (actk_gated_layout)(2 + header[6]);
        else gate = (actk_gate_position)(2 + header[6]);
    }
    const size_t rows = header[4] % 5, cols = header[5] % 9, pad = header[6] % 3;
    const size_t ldx = mode == 6 ? (cols ? 2 * cols - 1 : 0) : 2 * cols + pad, lddy = cols + pad, ldy = cols + pad;
    const size_t ldout = backward ? ldx : ldy;
    actk_act act = actk_act_default((actk_op)(header[1] % (ACTK_OP_COUNT + 2)));
    if (clamped) {
        act.op = ACTK_OP_SILU;
        act.alpha = (float)(signed char)header[7] / 16.0f;
        act.beta = header[8] / 8.0f - 1.0f;
    }
    const size_t elem = actk_dtype_size(dtype) ? actk_dtype_size(dtype) : 4;
    enum { BYTES = 80 * 8 }; /* the largest span, 3 * 18 + 16 elements, one element in, of f64 */
    static unsigned char x[BYTES], dy[BYTES], out[BYTES], poison[BYTES], first[BYTES], copy[BYTES];
    memset(x, 0, sizeof x);
    memcpy(x, values, value_bytes < sizeof x ? value_bytes : sizeof x);
    for (size_t i = 0; i < sizeof dy; ++i) dy[i] = (unsigned char)(x[(i * 7) % sizeof x] ^ 0x3C);
    memset(out, 0xA5, sizeof out);
    memset(poison, 0xA5, sizeof poison);
    const void *px = x, *pdy = dy;
    void *po = out;
    switch (mode) {
    case 1: po = x; break;
    case 2: po = x + elem; break;
    case 3: px = NULL; break;
    case 4: po = NULL; break;
    case 5: pdy = NULL; break;
    default: break;
    }
    const int has_work = rows > 0 && cols > 0;
    const int must_fail = mode == 7 || (mode == 6 && cols > 0) || (has_work && (mode == 2 || mode == 3 || mode == 4 ||
                                                                                 (mode == 5 && backward) ||
                                                                                 (mode == 1 && !backward)));
    memcpy(copy, x, sizeof x);
    const actk_status st = call_gated(entry, act, layout, gate, dtype, rows, cols, px, ldx, pdy, lddy, po, ldout);
    check(st == ACTK_SUCCESS || st == ACTK_ERROR_INVALID_VALUE);
    if (must_fail) check(st != ACTK_SUCCESS);
    if (st != ACTK_SUCCESS) {
        check(strstr(actk_last_error(), "actk_cpu_") != NULL);
        check(memcmp(out, poison, sizeof out) == 0);
        check(memcmp(x, copy, sizeof x) == 0);
        return 0;
    }
    if (mode != 0 || !has_work) return 0;
    /* NaN in gate or up: NaN out (forward) */
    if (!backward) {
        for (size_t r = 0; r < rows; ++r)
            for (size_t j = 0; j < cols; ++j) {
                const size_t second = layout == ACTK_GATED_INTERLEAVED ? 1 : cols,
                             step = layout == ACTK_GATED_INTERLEAVED ? 2 : 1;
                const double g = load(dtype, x, r * ldx + step * j + (gate == ACTK_GATE_FIRST ? 0 : second));
                const double u = load(dtype, x, r * ldx + step * j + (gate == ACTK_GATE_FIRST ? second : 0));
                if (isnan(g) || isnan(u)) check(isnan(load(dtype, out, r * ldy + j)));
            }
    }
    /* deterministic, and in place (backward) gives the same bits */
    memcpy(first, out, sizeof out);
    check(call_gated(entry, act, layout, gate, dtype, rows, cols, x, ldx, dy, lddy, out, ldout) == ACTK_SUCCESS);
    check(memcmp(first, out, sizeof out) == 0);
    if (backward) {
        check(call_gated(entry, act, layout, gate, dtype, rows, cols, x, ldx, dy, lddy, x, ldx) == ACTK_SUCCESS);
        for (size_t r = 0; r < rows; ++r)
            check(memcmp(x + r * ldx * elem, first + r * ldx * elem, 2 * cols * elem) == 0);
    }
    return 0;
}

/* 2-D element-wise with strides, fused bias and dbias (header[0] >= 0xF0
 * with bit 2 set). [0] & 1: backward; [0] & 2: with bias (and dbias);
 * [1] op; [2] dtype; [3] bits 2-4 mode: 0 separate, 1 in place (y == x,
 * dx == dy), 2 out one element into the input, 3 x NULL, 4 out NULL,
 * 5 ld below cols, 6 dbias at dx, 7 bias at the output; [4] rows % 5;
 * [5] cols % 9; [6] padding % 3. Checks: documented status; failures name
 * the function and write nothing; successes are deterministic, give the
 * same bits in place, and dbias is the column sum of dx (within a few ULP
 * plus 2^-20 of the sum of |dx|). */
static int fuzz_2d(const unsigned char *header, const uint8_t *values, size_t value_bytes)
{
    const int backward = header[0] & 1, with_bias = (header[0] >> 1) & 1;
    const actk_act act = actk_act_default((actk_op)(header[1] % (ACTK_OP_COUNT + 2)));
    const actk_dtype dtype = (actk_dtype)(header[2] % 5);
    const int mode = (header[3] >> 2) & 7;
    const size_t rows = header[4] % 5, cols = header[5] % 9,
                 ld = mode == 5 ? (cols ? cols - 1 : 0) : cols + header[6] % 3;
    const size_t elem = actk_dtype_size(dtype) ? actk_dtype_size(dtype) : 4;
    enum { BYTES = 48 * 8 }; /* spans up to 3 * 10 + 8 elements, one element in */
    static unsigned char x[BYTES], dy[BYTES], out[BYTES], bias[16 * 8], dbias[16 * 8], poison[BYTES], first[BYTES],
        first_db[16 * 8];
    memset(x, 0, sizeof x);
    memcpy(x, values, value_bytes < sizeof x ? value_bytes : sizeof x);
    for (size_t i = 0; i < sizeof dy; ++i) dy[i] = (unsigned char)(x[(i * 5) % sizeof x] ^ 0x5A);
    for (size_t i = 0; i < sizeof bias; ++i) bias[i] = x[(i * 3 + 1) % sizeof x];
    memset(out, 0xA5, sizeof out);
    memset(dbias, 0xA5, sizeof dbias);
    memset(poison, 0xA5, sizeof poison);
    const void *px = x, *pb = with_bias ? (const void *)bias : NULL;
    const void *pdy = dy;
    void *po = out, *pdb = (backward && with_bias) ? (void *)dbias : NULL;
    switch (mode) {
    case 1: po = backward ? (void *)dy : (void *)x; break;
    case 2: po = (backward ? dy : x) + elem; break;
    case 3: px = NULL; break;
    case 4: po = NULL; break;
    case 6: if (backward) pdb = out; break;
    case 7: if (with_bias) pb = out; break;
    default: break;
    }
    const int work = rows > 0 && cols > 0;
    const int spans_two = work && (rows - 1) * ld + cols > 1; /* out one element in overlaps the input */
    const int must_fail = (mode == 5 && cols > 0) || (mode == 2 && spans_two) ||
                          (work && (mode == 3 || mode == 4 || (mode == 6 && backward) || (mode == 7 && with_bias)));
    const actk_status st = backward ? actk_cpu_backward_2d(act, dtype, rows, cols, px, ld, pb, pdy, ld, po, ld, pdb)
                                    : actk_cpu_forward_2d(act, dtype, rows, cols, px, ld, pb, po, ld);
    check(st == ACTK_SUCCESS || st == ACTK_ERROR_INVALID_VALUE);
    if (must_fail) check(st != ACTK_SUCCESS);
    if (st != ACTK_SUCCESS) {
        check(strstr(actk_last_error(), "actk_cpu_") != NULL);
        check(memcmp(out, poison, sizeof out) == 0);
        check(memcmp(dbias, poison, sizeof dbias) == 0);
        return 0;
    }
    if (mode != 0 || !work) return 0;
    memcpy(first, out, sizeof out);
    memcpy(first_db, dbias, sizeof dbias);
    const actk_status again = backward ? actk_cpu_backward_2d(act, dtype, rows, cols, x, ld, pb, dy, ld, out, ld, pdb)
                                       : actk_cpu_forward_2d(act, dtype, rows, cols, x, ld, pb, out, ld);
    check(again == ACTK_SUCCESS);
    check(memcmp(first, out, sizeof out) == 0 && memcmp(first_db, dbias, sizeof dbias) == 0);
    if (backward && pdb) {
        for (size_t c = 0; c < cols; ++c) {
            double sum = 0, abs_sum = 0;
            for (size_t r = 0; r < rows; ++r) {
                const double v = load(dtype, out, r * ld + c);
                sum += v;
                abs_sum += fabs(v);
            }
            const double got = load(dtype, dbias, c);
            if (isfinite(abs_sum) && isfinite(got))
                check(fabs(got - sum) <= 0.02 * fabs(sum) + ldexp(abs_sum, -20) + 1e-300);
        }
    }
    /* in place gives the same bits */
    unsigned char *io = backward ? dy : x;
    if (act.op < ACTK_OP_COUNT && !backward) {
        check(actk_cpu_forward_2d(act, dtype, rows, cols, x, ld, pb, x, ld) == ACTK_SUCCESS);
        for (size_t r = 0; r < rows; ++r) check(memcmp(io + r * ld * elem, first + r * ld * elem, cols * elem) == 0);
    } else if (act.op < ACTK_OP_COUNT) {
        check(actk_cpu_backward_2d(act, dtype, rows, cols, x, ld, pb, dy, ld, dy, ld, NULL) == ACTK_SUCCESS);
        for (size_t r = 0; r < rows; ++r) check(memcmp(io + r * ld * elem, first + r * ld * elem, cols * elem) == 0);
    }
    return 0;
}

/* Gated calls with a fused bias and dbias (header[0] >= 0xF0, bit 2 clear,
 * bit 3 set). [0] & 3: 0 gated bias forward, 1 gated bias backward,
 * 2 clamped SwiGLU bias forward, 3 its backward; [1] op; [2] dtype;
 * [3] bit 0 interleaved, bit 1 gate second, bits 2-4 mode: 0 separate
 * buffers, 1 dx == x (backward), 2 bias NULL, 3 dbias NULL, 4 bias at the
 * output, 5 dbias inside dx, 6 dbias == bias (rows = 0: no bias is read,
 * so legal), 7 dbias misaligned;
 * [4] rows % 5; [5] cols % 9; [6] padding % 3; [7] clamped alpha in 1/16
 * steps (signed); [8] limit in 1/8 steps minus 1.
 * Checks: documented status; failures name the function and write nothing
 * (output and dbias); successes are deterministic, give the same bits in
 * place (backward), and dbias is the column sum of dx in x's layout
 * (within a few ULP plus 2^-20 of the sum of |dx|; zeros for rows = 0). */
static actk_status call_gated_bias(int entry, actk_act act, actk_gated_layout layout, actk_gate_position gate,
                                   actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx,
                                   const void *bias, const void *dy, size_t lddy, void *out, size_t ldout, void *dbias)
{
    switch (entry) {
    case 0: return actk_cpu_gated_bias_forward(act, layout, gate, dtype, rows, cols, x, ldx, bias, out, ldout);
    case 1:
        return actk_cpu_gated_bias_backward(act, layout, gate, dtype, rows, cols, x, ldx, bias, dy, lddy, out, ldout,
                                            dbias);
    case 2:
        return actk_cpu_clamped_swiglu_bias_forward(act.alpha, act.beta, layout, gate, dtype, rows, cols, x, ldx, bias,
                                                    out, ldout);
    default:
        return actk_cpu_clamped_swiglu_bias_backward(act.alpha, act.beta, layout, gate, dtype, rows, cols, x, ldx, bias,
                                                     dy, lddy, out, ldout, dbias);
    }
}

static int fuzz_gated_bias(const unsigned char *header, const uint8_t *values, size_t value_bytes)
{
    const int entry = header[0] & 3, backward = entry & 1, clamped = entry >= 2;
    const actk_dtype dtype = (actk_dtype)(header[2] % 5);
    const int mode = (header[3] >> 2) & 7;
    const actk_gated_layout layout = (header[3] & 1) ? ACTK_GATED_INTERLEAVED : ACTK_GATED_CONCAT;
    const actk_gate_position gate = (header[3] & 2) ? ACTK_GATE_SECOND : ACTK_GATE_FIRST;
    const size_t rows = header[4] % 5, cols = header[5] % 9, pad = header[6] % 3;
    const size_t ldx = 2 * cols + pad, lddy = cols + pad, ldy = cols + pad, ldout = backward ? ldx : ldy;
    actk_act act = actk_act_default((actk_op)(header[1] % (ACTK_OP_COUNT + 2)));
    if (clamped) {
        act.op = ACTK_OP_SILU;
        act.alpha = (float)(signed char)header[7] / 16.0f;
        act.beta = header[8] / 8.0f - 1.0f;
    }
    const size_t elem = actk_dtype_size(dtype) ? actk_dtype_size(dtype) : 4;
    enum { BYTES = 80 * 8, SMALL = 20 * 8 }; /* spans up to 3 * 18 + 16 elements; bias 16 elements; f64 */
    static unsigned char x[BYTES], dy[BYTES], out[BYTES], poison[BYTES], first[BYTES], copy[BYTES];
    static unsigned char bias[SMALL], dbias[SMALL], first_db[SMALL];
    memset(x, 0, sizeof x);
    memcpy(x, values, value_bytes < sizeof x ? value_bytes : sizeof x);
    for (size_t i = 0; i < sizeof dy; ++i) dy[i] = (unsigned char)(x[(i * 7) % sizeof x] ^ 0x3C);
    for (size_t i = 0; i < sizeof bias; ++i) bias[i] = x[(i * 3 + 5) % sizeof x];
    memset(out, 0xA5, sizeof out);
    memset(dbias, 0xA5, sizeof dbias);
    memset(poison, 0xA5, sizeof poison);
    const void *pb = bias;
    void *po = out, *pdb = backward ? (void *)dbias : NULL;
    switch (mode) {
    case 1: if (backward) po = x; break;
    case 2: pb = NULL; break;
    case 3: pdb = NULL; break;
    case 4: pb = out; break;
    case 5: if (backward) pdb = out + elem; break;
    case 6: if (backward) pdb = bias; break;
    case 7: if (backward) pdb = dbias + 1; break;
    default: break;
    }
    const int work = rows > 0 && cols > 0;
    const int must_fail = (work && mode == 4) || (backward && work && mode == 5) ||
                          (backward && work && mode == 6) || (backward && cols > 0 && mode == 7);
    memcpy(copy, x, sizeof x);
    const actk_status st =
        call_gated_bias(entry, act, layout, gate, dtype, rows, cols, x, ldx, pb, dy, lddy, po, ldout, pdb);
    check(st == ACTK_SUCCESS || st == ACTK_ERROR_INVALID_VALUE);
    if (must_fail) check(st != ACTK_SUCCESS);
    if (st != ACTK_SUCCESS) {
        check(strstr(actk_last_error(), "actk_cpu_") != NULL);
        check(memcmp(out, poison, sizeof out) == 0);
        check(memcmp(dbias, poison, sizeof dbias) == 0);
        check(memcmp(x, copy, sizeof x) == 0);
        return 0;
    }
    if (backward && pdb == dbias && cols > 0 && rows == 0)
        for (size_t k = 0; k < 2 * cols; ++k) check(load(dtype, dbias, k) == 0);
    if ((mode != 0 && mode != 2 && mode != 3) || !work) return 0;
    /* deterministic */
    memcpy(first, out, sizeof out);
    memcpy(first_db, dbias, sizeof dbias);
    check(call_gated_bias(entry, act, layout, gate, dtype, rows, cols, x, ldx, pb, dy, lddy, out, ldout, pdb) ==
          ACTK_SUCCESS);
    check(memcmp(first, out, sizeof out) == 0 && memcmp(first_db, dbias, sizeof dbias) == 0);
    if (!backward) return 0;
    /* dbias: the column sums of dx, in x's layout */
    if (pdb)
        for (size_t k = 0; k < 2 * cols; ++k) {
            double sum = 0, abs_sum = 0;
            for (size_t r = 0; r < rows; ++r) {
                const double v = load(dtype, out, r * ldx + k);
                sum += v;
                abs_sum += fabs(v);
            }
            const double got = load(dtype, dbias, k);
            if (isfinite(abs_sum) && isfinite(got))
                check(fabs(got - sum) <= 0.02 * fabs(sum) + ldexp(abs_sum, -20) + 1e-300);
        }
    /* in place: the same dx and dbias bits */
    check(call_gated_bias(entry, act, layout, gate, dtype, rows, cols, x, ldx, pb, dy, lddy, x, ldx, pdb) ==
          ACTK_SUCCESS);
    for (size_t r = 0; r < rows; ++r) check(memcmp(x + r * ldx * elem, first + r * ldx * elem, 2 * cols * elem) == 0);
    check(memcmp(first_db, dbias, sizeof dbias) == 0);
    return 0;
}

/* FP8 outputs (header[0] in [0xE0, 0xF0)). Header bytes: [1] op, [2]
 * dtype % 5, [3] format % 3 (2: invalid), [4] mode % 5 (4: invalid), [5]
 * group size from {32, 64, 128, 48}, [6] rows % 5, [7] cols from {0, 1, 32,
 * 33, 64, 96, 128, 256}, [8] bit 0 gated, bit 1 pow2, bit 2 bias, bits 3-6
 * pointer mode: 0 fine, 1 x NULL, 2 y NULL, 3 scale_inv NULL, 4 y inside x,
 * 5 scales == scale_inv, 6 scale_inv misaligned, 7 ldy = cols - 1, 8 q
 * NULL, 9 mx_scales NULL, 10 scale NULL. Checks: documented status;
 * failures name the function and write nothing; successes give positive
 * finite scales with scale_inv = 1 / scale, E8M0 bytes below 255, and the
 * same bytes on a second call (deterministic). */
static int fuzz_quant(const unsigned char *header, const uint8_t *values, size_t value_bytes)
{
    static const size_t col_table[8] = {0, 1, 32, 33, 64, 96, 128, 256};
    static const size_t group_table[4] = {32, 64, 128, 48};
    const actk_act act = actk_act_default((actk_op)(header[1] % (ACTK_OP_COUNT + 1)));
    const actk_dtype dtype = (actk_dtype)(header[2] % 5);
    const int gated = header[8] & 1, pointer_mode = (header[8] >> 3) & 15;
    const size_t rows = header[6] % 5, cols = col_table[header[7] % 8], width = gated ? 2 * cols : cols;
    static unsigned char x[8 * 512 * 8 + 16], bias[512 * 8];
    static unsigned char out[4096 + 4096], poison[4096 + 4096], again[4096];
    memset(x, 0, sizeof x);
    memcpy(x, values, value_bytes < sizeof x ? value_bytes : sizeof x);
    for (size_t i = 0; i < sizeof bias; ++i) bias[i] = (unsigned char)(x[i] ^ 0x21);
    memset(out, 0xA5, sizeof out);
    memset(poison, 0xA5, sizeof poison);
    /* out: y (up to 4 x 256 bytes) | scales (1024 bytes) | scale_inv (1024) | amax, scale_inv (tensor) */
    unsigned char *y = out;
    float *scales = (float *)(void *)(out + 1024), *scale_inv = (float *)(void *)(out + 2048);
    float *amax = (float *)(void *)(out + 4096);
    unsigned char *mx = out + 5120;
    const float scale = 3.0f;
    actk_quant q = actk_quant_default((actk_fp8_format)(header[3] % 3), (actk_quant_mode)(header[4] % 5));
    q.group_size = group_table[header[5] % 4];
    q.scale_pow2 = (header[8] >> 1) & 1;
    q.scale = &scale;
    q.amax = amax;
    q.scale_inv = q.mode == ACTK_QUANT_PER_TENSOR ? amax + 1 : scale_inv;
    q.scales = scales;
    q.mx_scales = mx;
    const void *px = x, *pb = (header[8] & 4) ? bias : NULL;
    void *py = y;
    size_t ldx = width, ldy = cols;
    const actk_quant *pq = &q;
    switch (pointer_mode) {
    case 1: px = NULL; break;
    case 2: py = NULL; break;
    case 3: q.scale_inv = NULL; break;
    case 4: py = x + 1; break; /* inside the first input element (every dtype's is >= 2 bytes): overlaps */
    case 5: q.scales = q.scale_inv; break;
    case 6: q.scale_inv = (float *)(void *)(out + 2050); break;
    case 7: ldy = cols ? cols - 1 : 0; break;
    case 8: pq = NULL; break;
    case 9: q.mx_scales = NULL; break;
    case 10: q.scale = NULL; break;
    default: break;
    }
    unsigned char x_before[sizeof x];
    memcpy(x_before, x, sizeof x);
    const actk_status st = gated ? actk_cpu_gated_forward_quant(act, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, dtype, rows,
                                                                cols, px, ldx, pb, pq, py, ldy)
                                 : actk_cpu_forward_2d_quant(act, dtype, rows, cols, px, ldx, pb, pq, py, ldy);
    check(st == ACTK_SUCCESS || st == ACTK_ERROR_INVALID_VALUE || st == ACTK_ERROR_NOT_SUPPORTED);
    if (st != ACTK_SUCCESS) {
        check(strstr(actk_last_error(), "actk_cpu_") != NULL);
        check(memcmp(out, poison, sizeof out) == 0);
        check(memcmp(x, x_before, sizeof x) == 0);
        return 0;
    }
    check(dtype != ACTK_F64 && actk_dtype_size(dtype) != 0);
    if (rows == 0 || cols == 0) {
        check(memcmp(out, poison, sizeof out) == 0);
        return 0;
    }
    /* the argument errors each pointer mode must have produced, unless the mode ignores that pointer */
    const int tensor = q.mode == ACTK_QUANT_PER_TENSOR, mxfp8 = q.mode == ACTK_QUANT_MXFP8;
    check(pointer_mode != 1 && pointer_mode != 2 && pointer_mode != 4 && pointer_mode != 7 && pointer_mode != 8);
    if (pointer_mode == 3 || pointer_mode == 5) check(tensor || mxfp8);
    if (pointer_mode == 6) check(mxfp8);
    if (pointer_mode == 9) check(!mxfp8);
    if (pointer_mode == 10) check(!tensor);
    const size_t groups = q.mode == ACTK_QUANT_PER_ROW ? 1 : q.mode == ACTK_QUANT_PER_GROUP ? cols / q.group_size
                        : q.mode == ACTK_QUANT_MXFP8 ? cols / 32 : 0;
    for (size_t i = 0; i < rows * groups; ++i) {
        if (q.mode == ACTK_QUANT_MXFP8) {
            check(mx[i] < 255);
        } else {
            check(isfinite(q.scale_inv[i]) && q.scale_inv[i] > 0);
            if (q.scales != q.scale_inv) check(q.scale_inv[i] == 1.0f / q.scales[i]);
        }
    }
    /* deterministic: a second call writes the same bytes */
    memcpy(again, y, sizeof again);
    const actk_status st2 = gated ? actk_cpu_gated_forward_quant(act, ACTK_GATED_CONCAT, ACTK_GATE_FIRST, dtype, rows,
                                                                 cols, px, ldx, pb, pq, py, ldy)
                                  : actk_cpu_forward_2d_quant(act, dtype, rows, cols, px, ldx, pb, pq, py, ldy);
    check(st2 == ACTK_SUCCESS);
    check(memcmp(again, y, sizeof again) == 0);
    return 0;
}

/* The fused cross-entropy (header[0] in [0xD0, 0xE0)). [0] & 3: reduction (3 is
 * not one); [1] bits 0-1: label smoothing 0 / 0.1 / 1 / 1.5 (rejected),
 * bit 2: z-loss 1e-3, bit 3: soft-cap [9] / 8 (0: off), bit 4: int32
 * targets; [2] dtype; [3] bits 2-4 mode: 0 separate, 1 in place, 2 no
 * gradient, 3 gradient one element into the logits, 4 logits NULL, 5 loss
 * NULL, 6 ld below classes, 7 an out-of-range target; [4] rows % 5;
 * [5] classes % 9; [6] padding % 3; [7] ignore_index: -100 or [7] % 9.
 * The first rows bytes of the payload are the targets ((int8) % 10, or
 * ignore_index when the byte is 0xFF), the rest the logits. Checks:
 * documented status; failures name the function and write nothing;
 * successes are deterministic, the same in place, give loss >= 0 (or NaN)
 * per row, loss 0 and gradient 0 on ignored rows. */
static int fuzz_cross_entropy(const unsigned char *header, const uint8_t *values, size_t value_bytes)
{
    static const float smoothing[4] = {0.0f, 0.1f, 1.0f, 1.5f};
    actk_cross_entropy_options o = actk_cross_entropy_default();
    o.reduction = (actk_reduction)(header[0] & 3);
    o.label_smoothing = smoothing[header[1] & 3];
    o.z_loss = (header[1] & 4) ? 1e-3f : 0.0f;
    o.softcap = (header[1] & 8) ? header[9] / 8.0f : 0.0f;
    o.ignore_index = header[7] & 0x80 ? -100 : header[7] % 9;
    static float row_grad[4] = {1.0f, -2.5f, 0.0f, 3e-20f}; /* a gradient per row: NONE only */
    if (header[3] & 1) o.row_grad = row_grad;
    const actk_index_type index = (header[1] & 16) ? ACTK_INDEX_I32 : ACTK_INDEX_I64;
    const actk_dtype dtype = (actk_dtype)(header[2] % 5);
    const int mode = (header[3] >> 2) & 7;
    const size_t rows = header[4] % 5, classes = header[5] % 9, pad = header[6] % 3;
    const size_t ld = mode == 6 && classes ? classes - 1 : classes + pad;
    const size_t elem = actk_dtype_size(dtype) ? actk_dtype_size(dtype) : 4;
    enum { BYTES = 64 * 8 }; /* the largest span, 3 * 10 + 8 elements, one element in, of f64 */
    static unsigned char x[BYTES], grad[BYTES], poison[BYTES], copy[BYTES], first[BYTES];
    static float loss[8], lse[8], loss_poison[8], loss_first[8];
    int64_t t64[4];
    int32_t t32[4];
    for (size_t r = 0; r < 4; ++r) {
        const uint8_t b = r < value_bytes ? values[r] : 0;
        t64[r] = b == 0xFF ? o.ignore_index : (signed char)b % 10;
        if (mode == 7 && r == 0) t64[r] = (int64_t)classes + (b & 1 ? 1000000 : 0);
        if (mode == 7 && r == 0 && o.ignore_index == t64[r]) t64[r] = -1;
        t32[r] = (int32_t)t64[r];
    }
    memset(x, 0, sizeof x);
    if (value_bytes > 4) memcpy(x, values + 4, value_bytes - 4 < sizeof x ? value_bytes - 4 : sizeof x);
    memset(grad, 0xA5, sizeof grad);
    memset(poison, 0xA5, sizeof poison);
    memset(loss, 0xA5, sizeof loss);
    memset(lse, 0xA5, sizeof lse);
    memset(loss_poison, 0xA5, sizeof loss_poison);
    const void *targets = index == ACTK_INDEX_I32 ? (const void *)t32 : (const void *)t64;
    const void *px = x;
    void *pg = grad;
    float *pl = loss;
    switch (mode) {
    case 1: pg = x; break;
    case 2: pg = NULL; break;
    case 3: pg = x + elem; break; /* overlaps the logits unless their span is one element */
    case 4: px = NULL; break;
    case 5: pl = NULL; break;
    default: break;
    }
    /* every target in range or ignored? (the CPU rejects the others) */
    int targets_ok = 1;
    for (size_t r = 0; r < rows; ++r)
        if (t64[r] != o.ignore_index && (t64[r] < 0 || t64[r] >= (int64_t)classes)) targets_ok = 0;
    const int bad_options = o.reduction > ACTK_REDUCTION_MEAN || o.label_smoothing > 1.0f || dtype > ACTK_F64;
    const int has_rows = rows > 0;
    const int must_fail =
        bad_options || dtype == ACTK_F64 || (has_rows && classes == 0) || (mode == 6 && classes > 0) ||
        (has_rows && classes > 0 && ((mode == 3 && (rows - 1) * ld + classes > 1) || mode == 4 || !targets_ok)) ||
        (mode == 5 && (has_rows || o.reduction != ACTK_REDUCTION_NONE)) ||
        (o.row_grad != NULL && o.reduction != ACTK_REDUCTION_NONE);
    memcpy(copy, x, sizeof x);
    const actk_status st =
        actk_cpu_cross_entropy_forward_backward(o, dtype, rows, classes, px, ld, index, targets, pl, lse, pg, ld);
    check(st == ACTK_SUCCESS || st == ACTK_ERROR_INVALID_VALUE || st == ACTK_ERROR_NOT_SUPPORTED);
    if (st == ACTK_ERROR_NOT_SUPPORTED) check(dtype == ACTK_F64);
    if (must_fail) check(st != ACTK_SUCCESS);
    if (st != ACTK_SUCCESS) {
        check(strstr(actk_last_error(), "actk_cpu_cross_entropy_forward_backward") != NULL);
        check(memcmp(grad, poison, sizeof grad) == 0);
        check(memcmp(loss, loss_poison, sizeof loss) == 0);
        check(memcmp(lse, loss_poison, sizeof lse) == 0);
        check(memcmp(x, copy, sizeof x) == 0);
        return 0;
    }
    if (mode != 0 || rows == 0) return 0;
    for (size_t r = 0; r < rows && o.reduction == ACTK_REDUCTION_NONE; ++r) {
        check(isnan(loss[r]) || loss[r] >= 0.0f);
        if (t64[r] == o.ignore_index) check(loss[r] == 0.0f);
    }
    for (size_t r = 0; r < rows; ++r)
        if (t64[r] == o.ignore_index)
            for (size_t j = 0; j < classes; ++j) check(load(dtype, grad, r * ld + j) == 0.0);
    /* deterministic, and in place gives the same bits */
    memcpy(first, grad, sizeof grad);
    memcpy(loss_first, loss, sizeof loss);
    check(actk_cpu_cross_entropy_forward_backward(o, dtype, rows, classes, x, ld, index, targets, loss, lse, grad,
                                                  ld) == ACTK_SUCCESS);
    check(memcmp(first, grad, sizeof grad) == 0);
    check(memcmp(loss_first, loss, sizeof loss) == 0);
    check(actk_cpu_cross_entropy_forward_backward(o, dtype, rows, classes, x, ld, index, targets, loss, lse, x, ld) ==
          ACTK_SUCCESS);
    for (size_t r = 0; r < rows; ++r) check(memcmp(x + r * ld * elem, first + r * ld * elem, classes * elem) == 0);
    check(memcmp(loss_first, loss, sizeof loss) == 0);
    return 0;
}
