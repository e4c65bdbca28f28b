// SPDX-License-Identifier: MIT
/*
 * reference_math.c - long double definitions of every op, its derivative
 * and its derivative from the output. This is the oracle the GPU results
 * are measured against, so each formula is chosen for accuracy, not speed:
 * no cancellation in the tails and a series where a difference cancels.
 */
#include "reference_math.h"

#include <math.h>

typedef long double real;

#define SQRT1_2_L 0.707106781186547524400844362104849039L   /* 1/sqrt(2)      */
#define INV_SQRT_2PI_L 0.398942280401432677939946059934381868L /* 1/sqrt(2 pi) */
#define SQRT_2_OVER_PI_L 0.797884560802865355879892119868763737L /* sqrt(2/pi) */
#define GELU_TANH_CUBIC_L 0.044715L
#define SELU_ALPHA_L 1.6732632423543772848170429916717L
#define SELU_SCALE_L 1.0507009873554804934193349852946L

static real sigmoid_l(real x)
{
    if (x >= 0) return 1.0L / (1.0L + expl(-x));
    const real e = expl(x);
    return e / (1.0L + e);
}

/* sigmoid'(x) = e^-|x| / (1 + e^-|x|)^2, which does not cancel in the tails. */
static real sigmoid_derivative_l(real x)
{
    const real e = expl(-fabsl(x));
    return e / ((1.0L + e) * (1.0L + e));
}

/* tanh'(x) = 1/cosh^2(x) = 4 e^-2|x| / (1 + e^-2|x|)^2 (1 - tanh^2 cancels). */
static real tanh_derivative_l(real x)
{
    const real e = expl(-2.0L * fabsl(x));
    return 4.0L * e / ((1.0L + e) * (1.0L + e));
}

/* log(1 + e^z) without overflow or cancellation. */
static real softplus_l(real z)
{
    return z > 0 ? z + log1pl(expl(-z)) : log1pl(expl(z));
}

/* x - tanh(x): a series near 0, where the difference cancels. */
static real tanhshrink_l(real x)
{
    if (fabsl(x) < 0.1L) {
        static const real c[] = {1.0L / 3, -2.0L / 15, 17.0L / 315, -62.0L / 2835, 1382.0L / 155925,
                                 -21844.0L / 6081075, 929569.0L / 638512875, -6404582.0L / 10854718875.0L};
        const real x2 = x * x;
        real s = 0;
        for (int i = (int)(sizeof c / sizeof c[0]) - 1; i >= 0; --i) s = s * x2 + c[i];
        return s * x2 * x;
    }
    return x - tanhl(x);
}

static real gelu_l(real x)
{
    if (isinf(x)) return x > 0 ? x : -0.0L;
    return 0.5L * x * erfcl(-x * SQRT1_2_L);
}

static real gelu_derivative_l(real x)
{
    if (isinf(x)) return x > 0 ? 1.0L : 0.0L;
    return 0.5L * erfcl(-x * SQRT1_2_L) + x * INV_SQRT_2PI_L * expl(-0.5L * x * x);
}

/* gelu_tanh(x) = 0.5 x (1 + tanh(u)) = x * sigmoid(2u). */
static real gelu_tanh_u_l(real x) { return SQRT_2_OVER_PI_L * x * (1.0L + GELU_TANH_CUBIC_L * x * x); }

static real gelu_tanh_l(real x)
{
    if (isinf(x)) return x > 0 ? x : -0.0L;
    return x * sigmoid_l(2.0L * gelu_tanh_u_l(x));
}

/* d/dx [x s(2u)] = s + 2 x s (1 - s) u', s = sigmoid(2u). */
static real gelu_tanh_derivative_l(real x)
{
    if (isinf(x)) return x > 0 ? 1.0L : 0.0L;
    const real two_u = 2.0L * gelu_tanh_u_l(x);
    const real du = SQRT_2_OVER_PI_L * (1.0L + 3.0L * GELU_TANH_CUBIC_L * x * x);
    const real ds = sigmoid_derivative_l(two_u);
    return ds == 0 ? sigmoid_l(two_u) : sigmoid_l(two_u) + 2.0L * x * ds * du;
}

/* silu(x) = x sigmoid(a x). */
static real silu_l(real x, real a)
{
    if (isinf(x)) return a == 0 ? x : (a * x > 0 ? x : copysignl(0.0L, x));
    return x * sigmoid_l(a * x);
}

/* silu'(x) = s (1 + a x (1 - s)), s = sigmoid(a x). */
static real silu_derivative_l(real x, real a)
{
    if (isinf(x)) return a == 0 ? 0.5L : (a * x > 0 ? 1.0L : 0.0L);
    return sigmoid_l(a * x) * (1.0L + a * x * sigmoid_l(-a * x));
}

static real mish_l(real x)
{
    if (isinf(x)) return x > 0 ? x : -0.0L;
    return x * tanhl(softplus_l(x));
}

/* mish'(x) = tanh(sp) + x sech^2(sp) sigmoid(x), sp = softplus(x). */
static real mish_derivative_l(real x)
{
    if (isinf(x)) return x > 0 ? 1.0L : 0.0L;
    const real sp = softplus_l(x);
    return tanhl(sp) + x * tanh_derivative_l(sp) * sigmoid_l(x);
}

real actk_ref_forward(actk_act act, real x)
{
    const real a = act.alpha, b = act.beta;
    switch (act.op) {
    case ACTK_OP_IDENTITY: return x;
    case ACTK_OP_STEP: return isnan(x) ? x : (x > 0 ? 1.0L : 0.0L);
    case ACTK_OP_SIGMOID: return sigmoid_l(x);
    case ACTK_OP_TANH: return tanhl(x);
    case ACTK_OP_RELU: return isnan(x) ? x : (x > 0 ? x : 0.0L);
    case ACTK_OP_LEAKY_RELU: return x > 0 ? x : a * x;
    case ACTK_OP_ELU: return x > 0 ? x : a * expm1l(x);
    case ACTK_OP_SELU: return x > 0 ? SELU_SCALE_L * x : SELU_SCALE_L * SELU_ALPHA_L * expm1l(x);
    case ACTK_OP_CELU: return x > 0 ? x : a * expm1l(x / a);
    case ACTK_OP_SOFTPLUS: return a * x > b ? x : softplus_l(a * x) / a;
    case ACTK_OP_SOFTSIGN: return isinf(x) ? copysignl(1.0L, x) : x / (1.0L + fabsl(x));
    case ACTK_OP_GELU: return gelu_l(x);
    case ACTK_OP_GELU_TANH: return gelu_tanh_l(x);
    case ACTK_OP_SILU: return silu_l(x, a);
    case ACTK_OP_MISH: return mish_l(x);
    case ACTK_OP_HARDTANH: return x < a ? a : (x > b ? b : x);
    case ACTK_OP_RELU6: return x < 0 ? 0.0L : (x > 6 ? 6.0L : x);
    case ACTK_OP_HARDSIGMOID: return x <= -3 ? 0.0L : (x >= 3 ? 1.0L : (x + 3.0L) / 6.0L);
    case ACTK_OP_HARDSWISH: return x <= -3 ? 0.0L : (x >= 3 ? x : x * (x + 3.0L) / 6.0L);
    case ACTK_OP_LOGSIGMOID: return (x < 0 ? x : 0.0L) - log1pl(expl(-fabsl(x)));
    case ACTK_OP_TANHSHRINK: return tanhshrink_l(x);
    case ACTK_OP_SOFTSHRINK: return x > a ? x - a : (x < -a ? x + a : (isnan(x) ? x : 0.0L));
    case ACTK_OP_HARDSHRINK: return (x > a || x < -a || isnan(x)) ? x : 0.0L;
    case ACTK_OP_THRESHOLD: return x <= a ? b : x;
    case ACTK_OP_COUNT:
    case ACTK_OP_MAX_ENUM: break;
    }
    return NAN;
}

/* The derivative f'(x); sets *flat when x lies on a piece where f is
 * constant by definition (dx is then 0 whatever dy is, as in PyTorch). */
static real derivative_l(actk_act act, real x, int *flat)
{
    const real a = act.alpha, b = act.beta;
    *flat = 0;
    switch (act.op) {
    case ACTK_OP_IDENTITY: return 1.0L;
    case ACTK_OP_STEP: *flat = 1; return 0.0L;
    case ACTK_OP_SIGMOID: return sigmoid_derivative_l(x);
    case ACTK_OP_TANH: return tanh_derivative_l(x);
    case ACTK_OP_RELU: *flat = !(x > 0); return 1.0L;
    case ACTK_OP_LEAKY_RELU: return x > 0 ? 1.0L : a;
    case ACTK_OP_ELU: return x > 0 ? 1.0L : a * expl(x);
    case ACTK_OP_SELU: return x > 0 ? SELU_SCALE_L : SELU_SCALE_L * SELU_ALPHA_L * expl(x);
    case ACTK_OP_CELU: return x > 0 ? 1.0L : expl(x / a);
    case ACTK_OP_SOFTPLUS: return a * x > b ? 1.0L : sigmoid_l(a * x);
    case ACTK_OP_SOFTSIGN: { const real d = 1.0L + fabsl(x); return 1.0L / (d * d); }
    case ACTK_OP_GELU: return gelu_derivative_l(x);
    case ACTK_OP_GELU_TANH: return gelu_tanh_derivative_l(x);
    case ACTK_OP_SILU: return silu_derivative_l(x, a);
    case ACTK_OP_MISH: return mish_derivative_l(x);
    case ACTK_OP_HARDTANH: *flat = !(x > a && x < b); return 1.0L;
    case ACTK_OP_RELU6: *flat = !(x > 0 && x < 6); return 1.0L;
    case ACTK_OP_HARDSIGMOID: *flat = !(x > -3 && x < 3); return 1.0L / 6.0L;
    case ACTK_OP_HARDSWISH:
        if (x < -3) { *flat = 1; return 0.0L; }
        return x <= 3 ? (2.0L * x + 3.0L) / 6.0L : 1.0L;
    case ACTK_OP_LOGSIGMOID: return sigmoid_l(-x);
    case ACTK_OP_TANHSHRINK: { const real t = tanhl(x); return t * t; }
    case ACTK_OP_SOFTSHRINK:
    case ACTK_OP_HARDSHRINK: *flat = !(x > a || x < -a); return 1.0L;
    case ACTK_OP_THRESHOLD: *flat = x <= a; return 1.0L;
    case ACTK_OP_COUNT:
    case ACTK_OP_MAX_ENUM: break;
    }
    return NAN;
}

real actk_ref_backward(actk_act act, real x, real dy)
{
    if (isnan(x)) return x;
    int flat;
    const real g = derivative_l(act, x, &flat);
    return flat ? 0.0L : dy * g;
}

/* f'(x) expressed through y = f(x); same flat convention. */
static real derivative_from_y_l(actk_act act, real y, int *flat)
{
    const real a = act.alpha, b = act.beta;
    *flat = 0;
    switch (act.op) {
    case ACTK_OP_IDENTITY: return 1.0L;
    case ACTK_OP_STEP: *flat = 1; return 0.0L;
    case ACTK_OP_SIGMOID: return y * (1.0L - y);
    case ACTK_OP_TANH: return (1.0L - y) * (1.0L + y);
    case ACTK_OP_RELU: *flat = !(y > 0); return 1.0L;
    case ACTK_OP_LEAKY_RELU: return y > 0 ? 1.0L : a;
    case ACTK_OP_ELU: return y > 0 ? 1.0L : y + a;
    case ACTK_OP_SELU: return y > 0 ? SELU_SCALE_L : y + SELU_SCALE_L * SELU_ALPHA_L;
    case ACTK_OP_CELU: return y > 0 ? 1.0L : y / a + 1.0L;
    /* e^(a y) = 1 + e^(a x), so sigmoid(a x) = 1 - e^(-a y). */
    case ACTK_OP_SOFTPLUS: return a * y > b ? 1.0L : -expm1l(-a * y);
    case ACTK_OP_SOFTSIGN: { const real d = 1.0L - fabsl(y); return d * d; }
    case ACTK_OP_HARDTANH: *flat = !(y > a && y < b); return 1.0L;
    case ACTK_OP_RELU6: *flat = !(y > 0 && y < 6); return 1.0L;
    case ACTK_OP_HARDSIGMOID: *flat = !(y > 0 && y < 1); return 1.0L / 6.0L;
    /* sigmoid(-x) = 1 - e^y. */
    case ACTK_OP_LOGSIGMOID: return -expm1l(y);
    case ACTK_OP_HARDSHRINK: *flat = y == 0; return 1.0L;
    default: break;
    }
    return NAN;
}

real actk_ref_backward_from_y(actk_act act, real y, real dy)
{
    if (isnan(y)) return y;
    int flat;
    const real g = derivative_from_y_l(act, y, &flat);
    return flat ? 0.0L : dy * g;
}
