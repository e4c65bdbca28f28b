// SPDX-License-Identifier: MIT
/*
 * op_list.h - every element-wise op, named once. The C op table
 * (host/ops.c: names, defaults, backward-from-y support), the kernels' op
 * traits and dispatch (kernels/op_functors.cuh: Op::kHasFromY, visit_op)
 * and the tests are generated from this list; static assertions tie it to
 * the actk_op enum (values fixed in include/actk/actk.h) and to the kernel
 * structs, and tests/test_op_traits.cpp checks the rest (parameters that
 * the math really uses, the header's formula table).
 *
 * Plain preprocessor, no includes: usable from C, C++ and CUDA.
 *
 * ACTK_OP_LIST(X) expands X once per op, in actk_op enum order:
 *   X(ENUM, name, Struct, alpha, beta, from_y, alpha_is, beta_is, formula)
 *     ENUM      suffix of the enum value ACTK_OP_<ENUM>
 *     name      actk_op_name / actk_op_from_name
 *     Struct    the op struct in kernels/op_functors.cuh (forward, backward,
 *               backward_from_y when from_y)
 *     alpha, beta  PyTorch's defaults (actk_act_default)
 *     from_y    1 if the derivative is a function of y alone
 *               (actk_op_has_backward_from_y, actk_*_backward_from_y)
 *     alpha_is, beta_is  what the parameter means; "" = unused (the math
 *               ignores it)
 *     formula   the forward formula as the header's table writes it
 * Adding an op: docs/ADDING_AN_OP.md.
 */
#ifndef ACTK_KERNELS_OP_LIST_H
#define ACTK_KERNELS_OP_LIST_H

/* clang-format off */
#define ACTK_OP_LIST(X) \
    X(IDENTITY,    "identity",    IdentityOp,     0.0f,  0.0f, 1, "",               "", \
      "x") \
    X(STEP,        "step",        StepOp,         0.0f,  0.0f, 1, "",               "", \
      "x > 0 ? 1 : 0") \
    X(SIGMOID,     "sigmoid",     SigmoidOp,      0.0f,  0.0f, 1, "",               "", \
      "1 / (1 + exp(-x))") \
    X(TANH,        "tanh",        TanhOp,         0.0f,  0.0f, 1, "",               "", \
      "tanh(x)") \
    X(RELU,        "relu",        ReluOp,         0.0f,  0.0f, 1, "",               "", \
      "max(0, x)") \
    X(LEAKY_RELU,  "leaky_relu",  LeakyReluOp,    0.01f, 0.0f, 1, "negative slope", "", \
      "x > 0 ? x : alpha*x") \
    X(ELU,         "elu",         EluOp,          1.0f,  0.0f, 1, "alpha",          "", \
      "x > 0 ? x : alpha*(exp(x) - 1)") \
    X(SELU,        "selu",        SeluOp,         0.0f,  0.0f, 1, "",               "", \
      "scale*(x > 0 ? x : a*(exp(x) - 1))") \
    X(CELU,        "celu",        CeluOp,         1.0f,  0.0f, 1, "alpha",          "", \
      "max(0,x) + min(0, alpha*(exp(x/alpha)-1))") \
    X(SOFTPLUS,    "softplus",    SoftplusOp,     1.0f, 20.0f, 1, "beta",           "threshold", \
      "beta_*x > thr ? x : log1p(exp(beta_*x))/beta_") \
    X(SOFTSIGN,    "softsign",    SoftsignOp,     0.0f,  0.0f, 1, "",               "", \
      "x / (1 + |x|)") \
    X(GELU,        "gelu",        GeluOp,         0.0f,  0.0f, 0, "",               "", \
      "x * Phi(x)") \
    X(GELU_TANH,   "gelu_tanh",   GeluTanhOp,     0.0f,  0.0f, 0, "",               "", \
      "0.5*x*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x^3)))") \
    X(SILU,        "silu",        SiluOp,         1.0f,  0.0f, 0, "sigmoid scale",  "", \
      "x * sigmoid(alpha*x)") \
    X(MISH,        "mish",        MishOp,         0.0f,  0.0f, 0, "",               "", \
      "x * tanh(softplus(x))") \
    X(HARDTANH,    "hardtanh",    HardtanhOp,    -1.0f,  1.0f, 1, "min",            "max", \
      "min(max(x, alpha), beta)") \
    X(RELU6,       "relu6",       Relu6Op,        0.0f,  0.0f, 1, "",               "", \
      "min(max(x, 0), 6)") \
    X(HARDSIGMOID, "hardsigmoid", HardsigmoidOp,  0.0f,  0.0f, 1, "",               "", \
      "x <= -3 ? 0 : x >= 3 ? 1 : x/6 + 1/2") \
    X(HARDSWISH,   "hardswish",   HardswishOp,    0.0f,  0.0f, 0, "",               "", \
      "x <= -3 ? 0 : x >= 3 ? x : x*(x + 3)/6") \
    X(LOGSIGMOID,  "logsigmoid",  LogsigmoidOp,   0.0f,  0.0f, 1, "",               "", \
      "log(sigmoid(x))") \
    X(TANHSHRINK,  "tanhshrink",  TanhshrinkOp,   0.0f,  0.0f, 0, "",               "", \
      "x - tanh(x)") \
    X(SOFTSHRINK,  "softshrink",  SoftshrinkOp,   0.5f,  0.0f, 0, "lambda",         "", \
      "x > l ? x - l : x < -l ? x + l : 0") \
    X(HARDSHRINK,  "hardshrink",  HardshrinkOp,   0.5f,  0.0f, 1, "lambda",         "", \
      "|x| > l ? x : 0") \
    X(THRESHOLD,   "threshold",   ThresholdOp,    0.0f,  0.0f, 0, "threshold",      "value", \
      "x > t ? x : v")
/* clang-format on */

#endif /* ACTK_KERNELS_OP_LIST_H */
