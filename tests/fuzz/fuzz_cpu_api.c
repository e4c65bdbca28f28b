/*
 * fuzz_cpu_api.c - libFuzzer harness over the CPU element-wise API.
 *
 * Input layout (missing bytes read as 0):
 *   [0] entry point: 0 forward, 1 backward, 2 backward from y
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
    case ACTK_BF16: { uint16_t h; memcpy(&h, p + 2 * i, 2); uint32_t b = (uint32_t)h << 16; float v; memcpy(&v, &b, 4); return v; }
    }
    return 0;
}

static actk_status call(int entry, actk_act act, actk_dtype dtype, size_t n, const void *in0, const void *in1, void *out)
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned char header[12] = {0};
    memcpy(header, data, size < 12 ? size : 12);
    const int entry = header[0] % 3;
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
