// SPDX-License-Identifier: MIT
/*
 * actk.h - public C API of actk, a library of neural-network activation
 * kernels for CUDA GPUs with a CPU reference path.
 *
 * Pure C11; usable from C++ (extern "C"). Compiles without the CUDA toolkit:
 * streams are passed as `struct CUstream_st *`, which is what cudaStream_t is.
 *
 * Conventions
 *  - Every function returns an actk_status. On failure nothing is written to
 *    the outputs and actk_last_error() holds a message that names the
 *    function and the offending argument. The library never prints and never
 *    terminates the process.
 *  - Element-wise functions take `n` elements of contiguous storage of the
 *    given dtype. In-place use (y == x; dx == dy, dx == x or dx == y) is
 *    allowed; any other overlap between an input and an output is rejected.
 *    NULL pointers are allowed when n == 0.
 *  - Statuses: ACTK_ERROR_INVALID_VALUE for a bad argument (the message names
 *    it), ACTK_ERROR_NOT_SUPPORTED for a valid request the library cannot do,
 *    and for actk_cuda_* also ACTK_ERROR_NO_DEVICE (built without CUDA, or
 *    no usable GPU) and ACTK_ERROR_CUDA (the CUDA runtime failed, including
 *    every call after a kernel fault has corrupted the context). A function
 *    whose comment lists no statuses returns exactly these.
 *  - The actk_cuda_* functions take device pointers, enqueue work on `stream`
 *    (NULL = legacy default stream) and return without synchronising. They
 *    allocate nothing and never synchronise, so they can be captured in a
 *    CUDA graph. A stream handle CUDA rejects, and device memory the
 *    current device cannot reach (another GPU's without peer access), give
 *    ACTK_ERROR_INVALID_VALUE with nothing enqueued; any other CUDA failure,
 *    including a sticky fault left by an earlier kernel, gives
 *    ACTK_ERROR_CUDA with CUDA's text. A destroyed stream's handle is
 *    undefined behaviour, as everywhere in CUDA: it cannot be detected.
 *
 * Numerics (see README "Numerics"): the CPU path computes in long double
 * and rounds once to the output type; it is the oracle. GPU f32 results are
 * within 2 ULP (forward) / 4 ULP (backward) of it, f16/bf16 within 1 ULP,
 * f64 within 4 ULP (forward) / 8 ULP (backward). NaN in gives NaN out;
 * results are deterministic.
 *
 * Thread safety: every function may be called from any number of host
 * threads at once. actk_last_error() is per thread.
 */
#ifndef ACTK_ACTK_H
#define ACTK_ACTK_H

#include <stddef.h>

#define ACTK_VERSION_MAJOR 0
#define ACTK_VERSION_MINOR 1
#define ACTK_VERSION_PATCH 0
/* Encoded as MAJOR*10000 + MINOR*100 + PATCH, like zstd's ZSTD_VERSION_NUMBER. */
#define ACTK_VERSION_NUMBER \
    (ACTK_VERSION_MAJOR * 10000 + ACTK_VERSION_MINOR * 100 + ACTK_VERSION_PATCH)

#if defined(ACTK_STATIC_DEFINE)
#  define ACTK_API
#elif defined(_WIN32)
#  if defined(ACTK_BUILDING_LIBRARY)
#    define ACTK_API __declspec(dllexport)
#  else
#    define ACTK_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#  define ACTK_API __attribute__((visibility("default")))
#else
#  define ACTK_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* CUDA's stream handle; identical to cudaStream_t. */
struct CUstream_st;
typedef struct CUstream_st *actk_stream;

/* Status codes. The values are fixed and will not change. */
typedef enum {
    ACTK_SUCCESS = 0,
    ACTK_ERROR_INVALID_VALUE = 1, /* a bad argument; nothing was written   */
    ACTK_ERROR_NOT_SUPPORTED = 2, /* valid request the library cannot do    */
    ACTK_ERROR_CUDA = 3,          /* the CUDA runtime reported an error     */
    ACTK_ERROR_NO_DEVICE = 4,     /* built without CUDA, or no usable GPU   */
    ACTK_STATUS_MAX_ENUM = 0x7fffffff /* not a status: makes every int a valid
                                         value of the enum, also in C++ */
} actk_status;

/* Storage types. On the GPU f16, bf16 and f32 are computed in f32 (f32 with
 * float-float pairs where one float would not meet its bound), f64 in f64;
 * the CPU path computes everything in long double. Values are fixed. */
typedef enum {
    ACTK_F32 = 0,
    ACTK_F16 = 1,
    ACTK_BF16 = 2,
    ACTK_F64 = 3,
    ACTK_DTYPE_MAX_ENUM = 0x7fffffff /* not a dtype (see ACTK_STATUS_MAX_ENUM) */
} actk_dtype;

/* Element-wise operations. Values are fixed; new ops are appended.
 * Parameters (alpha, beta) per op, with PyTorch's defaults from
 * actk_act_default(); ops not listed here ignore both:
 *
 *  op                 formula                                   alpha / beta
 *  identity           x
 *  step               x > 0 ? 1 : 0 (Heaviside; derivative 0)
 *  sigmoid            1 / (1 + exp(-x))
 *  tanh               tanh(x)
 *  relu               max(0, x)
 *  leaky_relu         x > 0 ? x : alpha*x                       alpha = negative slope (0.01)
 *  elu                x > 0 ? x : alpha*(exp(x) - 1)            alpha (1)
 *  selu               scale*(x > 0 ? x : a*(exp(x) - 1)),
 *                     scale = 1.0507009873554804934, a = 1.6732632423543772848
 *  celu               max(0,x) + min(0, alpha*(exp(x/alpha)-1)) 2^-126 <= |alpha| <= 2^126 (1)
 *  softplus           beta_*x > thr ? x : log1p(exp(beta_*x))/beta_
 *                                                               alpha = beta_, 2^-126 <= |beta_| <= 2^126 (1),
 *                                                               beta = thr (20)
 *  softsign           x / (1 + |x|)
 *  gelu               x * Phi(x) (Phi = standard normal CDF)
 *  gelu_tanh          0.5*x*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x^3)))
 *  silu               x * sigmoid(alpha*x) (swish; alpha = 1.702: quick-gelu) alpha (1)
 *  mish               x * tanh(softplus(x))
 *  hardtanh           min(max(x, alpha), beta)                  alpha = min (-1), beta = max (1), min <= max
 *  relu6              min(max(x, 0), 6)
 *  hardsigmoid        x <= -3 ? 0 : x >= 3 ? 1 : x/6 + 1/2
 *  hardswish          x <= -3 ? 0 : x >= 3 ? x : x*(x + 3)/6
 *  logsigmoid         log(sigmoid(x))
 *  tanhshrink         x - tanh(x)
 *  softshrink         x > l ? x - l : x < -l ? x + l : 0        alpha = l >= 0 (0.5)
 *  hardshrink         |x| > l ? x : 0                           alpha = l >= 0 (0.5)
 *  threshold          x > t ? x : v                             alpha = t (0), beta = v (0)
 *
 * Derivatives at kinks follow PyTorch: the derivative of relu at 0 is 0,
 * hardtanh's is 0 at both ends, hardswish's is -0.5 at -3 and 1.5 at 3, etc.
 * Where the derivative is exactly 0 by definition (a flat piece), dx = 0
 * whatever dy holds; elsewhere dx = dy * f'(x) in IEEE arithmetic.
 */
typedef enum {
    ACTK_OP_IDENTITY = 0,
    ACTK_OP_STEP,
    ACTK_OP_SIGMOID,
    ACTK_OP_TANH,
    ACTK_OP_RELU,
    ACTK_OP_LEAKY_RELU,
    ACTK_OP_ELU,
    ACTK_OP_SELU,
    ACTK_OP_CELU,
    ACTK_OP_SOFTPLUS,
    ACTK_OP_SOFTSIGN,
    ACTK_OP_GELU,
    ACTK_OP_GELU_TANH,
    ACTK_OP_SILU,
    ACTK_OP_MISH,
    ACTK_OP_HARDTANH,
    ACTK_OP_RELU6,
    ACTK_OP_HARDSIGMOID,
    ACTK_OP_HARDSWISH,
    ACTK_OP_LOGSIGMOID,
    ACTK_OP_TANHSHRINK,
    ACTK_OP_SOFTSHRINK,
    ACTK_OP_HARDSHRINK,
    ACTK_OP_THRESHOLD,
    ACTK_OP_COUNT, /* number of ops; not an op */
    ACTK_OP_MAX_ENUM = 0x7fffffff /* not an op (see ACTK_STATUS_MAX_ENUM) */
} actk_op;

/* An activation: the op and its two parameters (meaning per op above). */
typedef struct {
    actk_op op;
    float alpha;
    float beta;
} actk_act;

/* ---- library information ------------------------------------------------ */

/* Run-time version, encoded like ACTK_VERSION_NUMBER. */
ACTK_API unsigned actk_version(void);
/* Run-time version as text, "MAJOR.MINOR.PATCH". */
ACTK_API const char *actk_version_string(void);
/* Static name of a status ("ACTK_SUCCESS", ...); "ACTK_UNKNOWN_STATUS" else. */
ACTK_API const char *actk_status_string(actk_status status);
/* Message of the last failed call on this thread ("" if none yet). The
 * pointer stays valid until the next actk call on the same thread. */
ACTK_API const char *actk_last_error(void);
/* 1 if the library was built with CUDA support, else 0. */
ACTK_API int actk_built_with_cuda(void);
/* Name of a dtype ("f32", "f16", "bf16", "f64"); NULL if out of range. */
ACTK_API const char *actk_dtype_name(actk_dtype dtype);
/* Bytes per element of a dtype; 0 if out of range. */
ACTK_API size_t actk_dtype_size(actk_dtype dtype);

/* ---- ops ----------------------------------------------------------------- */

/* Lower-case name of an op ("leaky_relu", "gelu_tanh", ...); NULL if out of
 * range. */
ACTK_API const char *actk_op_name(actk_op op);
/* Looks an op up by name (also accepts "swish" for silu). */
ACTK_API actk_status actk_op_from_name(const char *name, actk_op *op);
/* The op with PyTorch's default parameters. An out-of-range op gives
 * {op, 0, 0}, which every call then rejects. */
ACTK_API actk_act actk_act_default(actk_op op);
/* 1 if the op's derivative can be computed from its output y (so that
 * actk_*_backward_from_y is supported), else 0. Some ops need a parameter
 * condition too (leaky_relu and elu: alpha >= 0; celu: alpha > 0); the
 * backward_from_y calls check it. */
ACTK_API int actk_op_has_backward_from_y(actk_op op);
/* Checks an activation's op and parameters; ACTK_SUCCESS if usable. */
ACTK_API actk_status actk_act_validate(actk_act act);

/* ---- CPU reference path (host pointers) ---------------------------------- */

/* y[i] = f(x[i]). */
ACTK_API actk_status actk_cpu_forward(actk_act act, actk_dtype dtype, size_t n,
                                      const void *x, void *y);
/* dx[i] = dy[i] * f'(x[i]). */
ACTK_API actk_status actk_cpu_backward(actk_act act, actk_dtype dtype, size_t n,
                                       const void *x, const void *dy, void *dx);
/* dx[i] = dy[i] * f'(x[i]) computed from y[i] = f(x[i]). */
ACTK_API actk_status actk_cpu_backward_from_y(actk_act act, actk_dtype dtype,
                                              size_t n, const void *y,
                                              const void *dy, void *dx);

/* ---- GPU path (device pointers, asynchronous on `stream`) ---------------- */

/* Number of CUDA devices usable by the library (0 without CUDA, without a
 * GPU, or when the driver cannot serve the CUDA 13 runtime; the
 * actk_cuda_* calls then say which in their status and message). */
ACTK_API int actk_cuda_device_count(void);

/* The GPU forms of actk_cpu_forward / _backward / _backward_from_y: device
 * pointers of the current device (or of a peer with access enabled),
 * enqueued on `stream` (NULL: the legacy default stream). They return before
 * the work is done, never synchronise and never allocate (graph-capturable).
 * Results meet the GPU bounds above. Statuses as in the conventions. */
ACTK_API actk_status actk_cuda_forward(actk_act act, actk_dtype dtype, size_t n,
                                       const void *x, void *y,
                                       actk_stream stream);
ACTK_API actk_status actk_cuda_backward(actk_act act, actk_dtype dtype, size_t n,
                                        const void *x, const void *dy, void *dx,
                                        actk_stream stream);
ACTK_API actk_status actk_cuda_backward_from_y(actk_act act, actk_dtype dtype,
                                               size_t n, const void *y,
                                               const void *dy, void *dx,
                                               actk_stream stream);

/* ---- structured ops -------------------------------------------------------
 *
 * Shape convention: a contiguous tensor seen as (outer, dim, inner), element
 * (o, d, i) at index (o * dim + d) * inner + i; the op works along dim.
 * inner = 1 is the row-wise case (rows = outer); NCHW channel-wise is
 * outer = N, dim = C, inner = H * W. Sizes whose product is 0 are valid (no
 * work); products that overflow size_t are rejected. In place is allowed
 * where noted (exact aliasing only), partial overlap never.
 */

typedef enum {
    ACTK_SOFTMAX = 0,     /* y = exp(x - max) / sum(exp(x - max)) */
    ACTK_LOG_SOFTMAX = 1, /* y = x - max - log(sum(exp(x - max))) */
    ACTK_SOFTMAX_KIND_MAX_ENUM = 0x7fffffff
} actk_softmax_kind;

/* Softmax or log-softmax along dim. y may equal x.
 * Rows (dim-vectors) with -inf entries treat them as probability 0; a row
 * that is all -inf, or holds +inf or NaN, gives NaN everywhere (as PyTorch).
 * The CPU computes in long double; the GPU computes f64 in double and f32,
 * f16, bf16 in float (f32 with float-float pairs, no FP64), with a max-subtracted
 * single-pass (online) reduction; f32 results are within 4 ULP of the
 * reference. Deterministic. */
ACTK_API actk_status actk_cpu_softmax_forward(actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim,
                                              size_t inner, const void *x, void *y);
/* Gradient from the forward output y: softmax dx = y * (dy - sum(dy * y));
 * log-softmax dx = dy - exp(y) * sum(dy). dx may equal dy. */
ACTK_API actk_status actk_cpu_softmax_backward(actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim,
                                               size_t inner, const void *y, const void *dy, void *dx);
/* The GPU forms of the two above (device pointers, asynchronous on
 * `stream`, no allocation). The kernel is chosen by shape: a warp per row
 * (dim <= 1024), a block per row, a thread-block cluster per row on compute
 * capability 9.0 and newer for long rows or few rows, a block of columns
 * times threads along dim when inner > 1. Every path gives the same bounds
 * and is deterministic. */
ACTK_API actk_status actk_cuda_softmax_forward(actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim,
                                               size_t inner, const void *x, void *y, actk_stream stream);
ACTK_API actk_status actk_cuda_softmax_backward(actk_softmax_kind kind, actk_dtype dtype, size_t outer,
                                                size_t dim, size_t inner, const void *y, const void *dy, void *dx,
                                                actk_stream stream);

/* PReLU with learnable slopes along dim = channels: y = x > 0 ? x : slope[c] * x.
 * slope holds `channels` values of the same dtype (channels = 1: one shared
 * slope). y may equal x. */
ACTK_API actk_status actk_cpu_prelu_forward(actk_dtype dtype, size_t outer, size_t channels, size_t inner,
                                            const void *x, const void *slope, void *y);
/* dx = x > 0 ? dy : slope[c] * dy, and dslope[c] = sum over outer and inner
 * of (x > 0 ? 0 : x * dy), accumulated in long double (compensated) and
 * rounded once;
 * deterministic. dx may equal dy; dslope must not overlap anything. */
ACTK_API actk_status actk_cpu_prelu_backward(actk_dtype dtype, size_t outer, size_t channels, size_t inner,
                                             const void *x, const void *slope, const void *dy, void *dx,
                                             void *dslope);
/* The GPU form of actk_cpu_prelu_forward (device pointers, asynchronous). */
ACTK_API actk_status actk_cuda_prelu_forward(actk_dtype dtype, size_t outer, size_t channels, size_t inner,
                                             const void *x, const void *slope, void *y, actk_stream stream);
/* Bytes of device workspace actk_cuda_prelu_backward needs for this shape
 * (the dslope reduction is two deterministic passes through it; the library
 * never allocates, so the call stays graph-capturable). The GPU sums dslope
 * in double-word arithmetic (float-float for f32/f16/bf16, double-double for
 * f64), each product x * dy added exactly: within 1 ULP of the exact sum
 * unless it cancels (README "Numerics" gives the bound). The workspace must
 * be 8-byte aligned. */
ACTK_API size_t actk_cuda_prelu_backward_workspace_size(actk_dtype dtype, size_t outer, size_t channels,
                                                        size_t inner);
/* The GPU form of actk_cpu_prelu_backward: dslope through `workspace`
 * (device memory of at least the size above, 8-byte aligned), in a fixed
 * order, so the bits repeat run to run. ACTK_ERROR_INVALID_VALUE also for a
 * workspace that is NULL, too small or misaligned. */
ACTK_API actk_status actk_cuda_prelu_backward(actk_dtype dtype, size_t outer, size_t channels, size_t inner,
                                              const void *x, const void *slope, const void *dy, void *dx,
                                              void *dslope, void *workspace, size_t workspace_bytes,
                                              actk_stream stream);

/* Maxout along dim = units * pieces: y(o, u, i) = max over p < pieces of
 * x(o, u * pieces + p, i); y has shape (outer, units, inner). NaN wins the
 * max (NaN in gives NaN out). */
ACTK_API actk_status actk_cpu_maxout_forward(actk_dtype dtype, size_t outer, size_t units, size_t pieces,
                                             size_t inner, const void *x, void *y);
/* dx(o, u*pieces + p, i) = dy(o, u, i) at the first arg-max p (recomputed
 * from x; the first NaN if any), 0 at the other pieces. dx is fully written. */
ACTK_API actk_status actk_cpu_maxout_backward(actk_dtype dtype, size_t outer, size_t units, size_t pieces,
                                              size_t inner, const void *x, const void *dy, void *dx);
/* The GPU forms of the two above (device pointers, asynchronous). */
ACTK_API actk_status actk_cuda_maxout_forward(actk_dtype dtype, size_t outer, size_t units, size_t pieces,
                                              size_t inner, const void *x, void *y, actk_stream stream);
ACTK_API actk_status actk_cuda_maxout_backward(actk_dtype dtype, size_t outer, size_t units, size_t pieces,
                                               size_t inner, const void *x, const void *dy, void *dx,
                                               actk_stream stream);

/* RReLU (randomized leaky ReLU), element-wise over n elements.
 * Training: y = x > 0 ? x : a_i * x with a_i uniform in [lower, upper]
 * (as PyTorch; at x = 0 the derivative is a_i).
 * Evaluation (training = 0): a_i = (lower + upper) / 2.
 * a_i comes from Philox4x32-10 keyed by (seed, offset): element i takes word
 * i % 4 of Philox(counter = {i / 4 (64 bits), offset (64 bits)}, key = seed),
 * u = (word >> 8) * 2^-24, a_i = fmaf(upper - lower, u, lower) in float. The
 * CPU and GPU paths draw bit-identical slopes for the same key, and the
 * backward pass regenerates them, so nothing is stored. Defaults (PyTorch):
 * lower = 1/8, upper = 1/3. Needs finite 0 <= lower <= upper. */
typedef struct {
    float lower;
    float upper;
    int training;          /* nonzero: random slopes; zero: the mean slope */
    unsigned long long seed;
    unsigned long long offset;
} actk_rrelu;
ACTK_API actk_rrelu actk_rrelu_default(void);
/* The slope element i gets (training mode): for tests and for users who
 * want to see the noise. */
ACTK_API float actk_rrelu_slope(actk_rrelu params, unsigned long long i);
ACTK_API actk_status actk_cpu_rrelu_forward(actk_rrelu params, actk_dtype dtype, size_t n, const void *x, void *y);
/* dx = dy * (x > 0 ? 1 : a_i); dx may equal dy. */
ACTK_API actk_status actk_cpu_rrelu_backward(actk_rrelu params, actk_dtype dtype, size_t n, const void *x,
                                             const void *dy, void *dx);
/* The GPU forms of the two above: the same slopes, bit for bit (device
 * pointers, asynchronous). */
ACTK_API actk_status actk_cuda_rrelu_forward(actk_rrelu params, actk_dtype dtype, size_t n, const void *x, void *y,
                                             actk_stream stream);
ACTK_API actk_status actk_cuda_rrelu_backward(actk_rrelu params, actk_dtype dtype, size_t n, const void *x,
                                              const void *dy, void *dx, actk_stream stream);

/* ---- gated activations (SwiGLU, GeGLU, ReGLU, GLU, clamped SwiGLU) --------
 *
 * y(r, j) = act(gate(r, j)) * up(r, j) over rows x cols outputs, where input
 * row r (at x + r * ldx, in elements) holds 2 * cols values: cols gates and
 * cols ups. act is any element-wise op with its parameters: SwiGLU = silu,
 * GeGLU = gelu (or gelu_tanh), ReGLU = relu, GLU = sigmoid. Where the two
 * halves sit is given by two explicit arguments:
 *
 *  layout CONCAT:       row = [first half: cols values | second half: cols values]
 *  layout INTERLEAVED:  row = (first_0, second_0, first_1, second_1, ...)
 *  gate FIRST:          gate = first  (vLLM silu_and_mul, TransformerEngine, gpt-oss)
 *  gate SECOND:         gate = second (PyTorch F.glu(x) = first * sigmoid(second))
 *
 * Leading dimensions (row strides in elements): ldx >= 2 * cols for x and
 * dx, ldy >= cols for y and dy, always (also for rows <= 1); a view into a
 * larger buffer works without a copy. Every buffer is checked over its span,
 * ((rows - 1) * ld + width) elements from its pointer; rows * cols = 0 is
 * valid (no work; NULL pointers allowed). Spans of inputs and outputs must
 * not overlap, except that the backward pass may write dx over x (dx == x
 * and lddx == ldx: each element is read before it is written).
 *
 * Numerics: act(gate) * up is computed and rounded once in the compute
 * type (float for f16, bf16 and f32; double for f64), then rounded once to
 * the storage type, so the bounds of the element-wise ops hold (README
 * "Numerics", section "Gated"). One documented exception: where up is
 * +-inf and act(gate) underflows to 0 in the compute type, y is NaN
 * (0 * inf) where the long double oracle may give +-inf; the same holds
 * for dgate when dy * up is infinite.
 *
 * Statuses (every function below): ACTK_SUCCESS; ACTK_ERROR_INVALID_VALUE
 * for a bad op or parameter, layout, gate position or dtype, ld < row
 * width, a span that overflows size_t, a NULL or misaligned pointer with
 * work to do, or overlapping buffers (nothing is written, and
 * actk_last_error() names the function and the argument); the actk_cuda_*
 * forms add ACTK_ERROR_NO_DEVICE (no GPU, or a build without CUDA; checked
 * after the arguments) and ACTK_ERROR_CUDA (a CUDA call or launch failed).
 */
typedef enum {
    ACTK_GATED_CONCAT = 0,      /* [first half | second half] in each row     */
    ACTK_GATED_INTERLEAVED = 1, /* (first, second) pairs, column by column    */
    ACTK_GATED_LAYOUT_MAX_ENUM = 0x7fffffff /* not a layout */
} actk_gated_layout;

typedef enum {
    ACTK_GATE_FIRST = 0,  /* the first half (of each pair) is the gate     */
    ACTK_GATE_SECOND = 1, /* the second half (of each pair) is the gate    */
    ACTK_GATE_POSITION_MAX_ENUM = 0x7fffffff /* not a gate position */
} actk_gate_position;

/* y(r, j) = act(gate(r, j)) * up(r, j). x: rows x (2 cols) with row stride
 * ldx >= 2 cols; y: rows x cols with row stride ldy >= cols; y must not
 * overlap x. */
ACTK_API actk_status actk_cpu_gated_forward(actk_act act, actk_gated_layout layout, actk_gate_position gate,
                                            actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx,
                                            void *y, size_t ldy);
/* dup(r, j) = dy(r, j) * act(gate(r, j)) and
 * dgate(r, j) = dy(r, j) * up(r, j) * act'(gate(r, j)), written into dx in
 * x's layout (dx: rows x (2 cols), row stride lddx >= 2 cols; dy: rows x
 * cols, row stride lddy >= cols). On flat pieces of act, dgate = 0 whatever
 * dy * up holds (as the element-wise backward). dx may equal x (with lddx ==
 * ldx); no other overlap. */
ACTK_API actk_status actk_cpu_gated_backward(actk_act act, actk_gated_layout layout, actk_gate_position gate,
                                             actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx,
                                             const void *dy, size_t lddy, void *dx, size_t lddx);
ACTK_API actk_status actk_cuda_gated_forward(actk_act act, actk_gated_layout layout, actk_gate_position gate,
                                             actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx,
                                             void *y, size_t ldy, actk_stream stream);
ACTK_API actk_status actk_cuda_gated_backward(actk_act act, actk_gated_layout layout, actk_gate_position gate,
                                              actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx,
                                              const void *dy, size_t lddy, void *dx, size_t lddx,
                                              actk_stream stream);

/* y(r, j) = act(gate(r, j) + bias_gate(j)) * (up(r, j) + bias_up(j)): the
 * preceding linear layer's bias fused in. bias holds 2 * cols values laid
 * out as one row of x (same layout and gate position); the sums are formed
 * in the compute type. Otherwise as actk_*_gated_forward. Its backward
 * pass, with the fused dbias, is actk_*_gated_bias_backward (section
 * "gated backward with fused bias and dbias" below). */
ACTK_API actk_status actk_cpu_gated_bias_forward(actk_act act, actk_gated_layout layout, actk_gate_position gate,
                                                 actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx,
                                                 const void *bias, void *y, size_t ldy);
ACTK_API actk_status actk_cuda_gated_bias_forward(actk_act act, actk_gated_layout layout, actk_gate_position gate,
                                                  actk_dtype dtype, size_t rows, size_t cols, const void *x, size_t ldx,
                                                  const void *bias, void *y, size_t ldy, actk_stream stream);

/* Clamped SwiGLU as gpt-oss defines it (its defaults below; gpt-oss uses
 * layout INTERLEAVED, gate FIRST):
 *   g = min(gate, limit), u = min(max(up, -limit), limit),
 *   y = g * sigmoid(alpha * g) * (u + 1).
 * Needs a finite alpha and 0 <= limit (limit = +inf: no clamping).
 * Backward, as PyTorch autograd differentiates that formula (clamp passes
 * the gradient where the input lies inside the closed interval, the bound
 * itself included, and gives 0 outside):
 *   dgate = gate <= limit ? dy * (u + 1) * silu'(g) : 0,
 *   dup   = -limit <= up <= limit ? dy * g * sigmoid(alpha * g) : 0,
 * with silu'(g) = s (1 + alpha g (1 - s)), s = sigmoid(alpha g). Unlike
 * PyTorch (whose clamp gradient is 0 at NaN), a NaN gate gives NaN in
 * dgate and a NaN up gives NaN in dup. Layout, strides, aliasing and
 * statuses as for actk_*_gated_*. */
#define ACTK_CLAMPED_SWIGLU_ALPHA 1.702f
#define ACTK_CLAMPED_SWIGLU_LIMIT 7.0f
ACTK_API actk_status actk_cpu_clamped_swiglu_forward(float alpha, float limit, actk_gated_layout layout,
                                                     actk_gate_position gate, actk_dtype dtype, size_t rows,
                                                     size_t cols, const void *x, size_t ldx, void *y, size_t ldy);
ACTK_API actk_status actk_cpu_clamped_swiglu_backward(float alpha, float limit, actk_gated_layout layout,
                                                      actk_gate_position gate, actk_dtype dtype, size_t rows,
                                                      size_t cols, const void *x, size_t ldx, const void *dy,
                                                      size_t lddy, void *dx, size_t lddx);
ACTK_API actk_status actk_cuda_clamped_swiglu_forward(float alpha, float limit, actk_gated_layout layout,
                                                      actk_gate_position gate, actk_dtype dtype, size_t rows,
                                                      size_t cols, const void *x, size_t ldx, void *y, size_t ldy,
                                                      actk_stream stream);
ACTK_API actk_status actk_cuda_clamped_swiglu_backward(float alpha, float limit, actk_gated_layout layout,
                                                       actk_gate_position gate, actk_dtype dtype, size_t rows,
                                                       size_t cols, const void *x, size_t ldx, const void *dy,
                                                       size_t lddy, void *dx, size_t lddx, actk_stream stream);

/* ---- 2-D element-wise with row strides and an optional fused bias ---------
 *
 * The element-wise ops over a rows x cols matrix with leading dimensions
 * (ld >= cols, in elements), and optionally the bias of the preceding linear
 * layer fused in: y(r, c) = act(x(r, c) + bias[c]). bias (cols values of
 * the same dtype) may be NULL: no bias. x + bias is added in the compute
 * type (float for f16/bf16/f32, double for f64), not rounded to storage
 * first. Buffers are checked over their spans ((rows - 1) * ld + cols);
 * rows * cols = 0 is valid. In place: y == x (forward) and dx == dy
 * (backward) with equal leading dimensions; no other overlap.
 * Statuses: ACTK_SUCCESS; ACTK_ERROR_INVALID_VALUE (bad op or parameters,
 * dtype, ld < cols, overflowing spans, NULL or misaligned pointers with
 * work to do, overlaps, a workspace that is NULL or too small); the
 * actk_cuda_* forms add ACTK_ERROR_NO_DEVICE and ACTK_ERROR_CUDA. Nothing is
 * written on failure.
 */

/* y(r, c) = act(x(r, c) + bias[c]) (bias NULL: act(x(r, c))). */
ACTK_API actk_status actk_cpu_forward_2d(actk_act act, actk_dtype dtype, size_t rows, size_t cols, const void *x,
                                         size_t ldx, const void *bias, void *y, size_t ldy);
/* dx(r, c) = dy(r, c) * act'(x(r, c) + bias[c]) and, when dbias is not
 * NULL, dbias[c] = sum over r of dx(r, c): the sum of the stored (rounded)
 * dx values, accumulated in float-float (f16, bf16, f32) or double-double
 * (f64) and rounded once, so |dbias - sum dx| <= 1 ULP + 2^-46 * D *
 * sum |dx| (f64: 2^-104), D = ceil(rows / S) + S, S = min(rows, 65535,
 * max(1, floor(2^20 / cols))); an infinite sum stays infinite (GPU: a
 * partial sum may overflow where sum |dx| exceeds float's or double's
 * range); deterministic. dbias must not overlap anything. */
ACTK_API actk_status actk_cpu_backward_2d(actk_act act, actk_dtype dtype, size_t rows, size_t cols, const void *x,
                                          size_t ldx, const void *bias, const void *dy, size_t lddy, void *dx,
                                          size_t lddx, void *dbias);
ACTK_API actk_status actk_cuda_forward_2d(actk_act act, actk_dtype dtype, size_t rows, size_t cols, const void *x,
                                          size_t ldx, const void *bias, void *y, size_t ldy, actk_stream stream);
/* Bytes of device workspace actk_cuda_backward_2d needs to compute dbias
 * for this shape (0 when dbias is not wanted). The reduction runs in a fixed
 * order that depends on the shape only (no atomics), so results are the
 * same on every GPU and every run; the library never allocates. */
ACTK_API size_t actk_cuda_backward_2d_workspace_size(actk_dtype dtype, size_t rows, size_t cols);
ACTK_API actk_status actk_cuda_backward_2d(actk_act act, actk_dtype dtype, size_t rows, size_t cols, const void *x,
                                           size_t ldx, const void *bias, const void *dy, size_t lddy, void *dx,
                                           size_t lddx, void *dbias, void *workspace, size_t workspace_bytes,
                                           actk_stream stream);

/* ---- gated backward with fused bias and dbias; clamped SwiGLU with bias ---
 *
 * The backward pass of actk_*_gated_bias_forward (and of clamped SwiGLU
 * with a bias), with the linear layer's bias gradient fused in:
 *   (dgate, dup)(r, j) = the gated backward at gate(r, j) + bias_gate(j),
 *                        up(r, j) + bias_up(j)   (sums in the compute type),
 *   dbias[k] = sum over r of dx(r, k), k < 2 * cols,
 * dx and dbias in x's row layout (layout and gate position as for x).
 * bias (2 * cols values laid out as one row of x) may be NULL: no bias,
 * the plain gated backward. dbias may be NULL: not computed; with rows = 0
 * and cols > 0 it is set to zeros. dbias is the sum of the stored
 * (rounded) dx values, accumulated in float-float (f16, bf16, f32) or
 * double-double (f64) on the GPU (long double, compensated, on the CPU)
 * and rounded once (f16/bf16: via float), so
 *   |dbias - sum dx| <= 1 ULP + 2^-46 * D * sum |dx|   (f64: 2^-104),
 * D = ceil(rows / S) + S the longest chain of additions, S = min(rows,
 * 65535, max(1, floor(2^20 / cols))) the GPU's slices of rows (the same
 * bound as actk_*_backward_2d's dbias); an infinite sum stays infinite.
 * Where sum |dx| exceeds the accumulator's range (float for f16/bf16/f32,
 * double for f64), a partial sum may overflow and give +-inf or NaN on
 * the GPU. Deterministic: a fixed order that depends on the shape only, no
 * atomics.
 * Leading dimensions, spans and aliasing as for actk_*_gated_backward
 * (dx may equal x with lddx == ldx); bias must not overlap an output;
 * dbias and the workspace must not overlap anything. Statuses as for the
 * gated section, plus ACTK_ERROR_INVALID_VALUE for a dbias or workspace
 * problem (NULL, too small, misaligned, overlapping). Nothing is written
 * on failure.
 */
ACTK_API actk_status actk_cpu_gated_bias_backward(actk_act act, actk_gated_layout layout, actk_gate_position gate,
                                                  actk_dtype dtype, size_t rows, size_t cols, const void *x,
                                                  size_t ldx, const void *bias, const void *dy, size_t lddy, void *dx,
                                                  size_t lddx, void *dbias);
/* Bytes of device workspace the GPU gated backward with dbias needs for
 * this shape (actk_cuda_gated_bias_backward and
 * actk_cuda_clamped_swiglu_bias_backward; 0 when there is nothing to sum).
 * At most 32 * max(2^20, cols) bytes (f16, bf16, f32: half that), however
 * many rows. workspace must be 16-byte aligned; it is not read or written
 * without dbias (then it may be NULL). */
ACTK_API size_t actk_cuda_gated_bias_backward_workspace_size(actk_dtype dtype, size_t rows, size_t cols);
ACTK_API actk_status actk_cuda_gated_bias_backward(actk_act act, actk_gated_layout layout, actk_gate_position gate,
                                                   actk_dtype dtype, size_t rows, size_t cols, const void *x,
                                                   size_t ldx, const void *bias, const void *dy, size_t lddy,
                                                   void *dx, size_t lddx, void *dbias, void *workspace,
                                                   size_t workspace_bytes, actk_stream stream);
/* Clamped SwiGLU (as actk_*_clamped_swiglu_*) on gate + bias_gate and
 * up + bias_up, the clamps applied after the bias; bias as above (NULL: no
 * bias). The backward pass gives dx and dbias as actk_*_gated_bias_backward
 * (the clamps' zero gradients included in dbias). */
ACTK_API actk_status actk_cpu_clamped_swiglu_bias_forward(float alpha, float limit, actk_gated_layout layout,
                                                          actk_gate_position gate, actk_dtype dtype, size_t rows,
                                                          size_t cols, const void *x, size_t ldx, const void *bias,
                                                          void *y, size_t ldy);
ACTK_API actk_status actk_cpu_clamped_swiglu_bias_backward(float alpha, float limit, actk_gated_layout layout,
                                                           actk_gate_position gate, actk_dtype dtype, size_t rows,
                                                           size_t cols, const void *x, size_t ldx, const void *bias,
                                                           const void *dy, size_t lddy, void *dx, size_t lddx,
                                                           void *dbias);
ACTK_API actk_status actk_cuda_clamped_swiglu_bias_forward(float alpha, float limit, actk_gated_layout layout,
                                                           actk_gate_position gate, actk_dtype dtype, size_t rows,
                                                           size_t cols, const void *x, size_t ldx, const void *bias,
                                                           void *y, size_t ldy, actk_stream stream);
ACTK_API actk_status actk_cuda_clamped_swiglu_bias_backward(float alpha, float limit, actk_gated_layout layout,
                                                            actk_gate_position gate, actk_dtype dtype, size_t rows,
                                                            size_t cols, const void *x, size_t ldx, const void *bias,
                                                            const void *dy, size_t lddy, void *dx, size_t lddx,
                                                            void *dbias, void *workspace, size_t workspace_bytes,
                                                            actk_stream stream);

/* ---- FP8 outputs (E4M3, E5M2) with scales and amax ----------------------
 *
 * The 2-D element-wise forward (optional bias) and the gated forward can
 * write FP8 instead of the input dtype, with the scaling computed in the
 * same pass: one byte per output (OCP 8-bit floating point, E4M3 or E5M2),
 * row stride ldy in bytes (= elements), plus the scales the mode asks for.
 * Inputs f32, f16, bf16 (f64: ACTK_ERROR_NOT_SUPPORTED). The activation
 * value y is computed in float as the non-quantized kernels compute it
 * (not rounded to the input dtype first), multiplied by the scale in
 * float, then encoded:
 *
 *  q = encode(RN_float(y * scale)), encode rounding to nearest even with
 *  subnormals; finite magnitudes above the largest finite value saturate
 *  to it (E4M3 448, E5M2 57344); +-inf gives +-448 in E4M3 (no infinity:
 *  as x.clamp(-448, 448).to(torch.float8_e4m3fn)) and +-inf in E5M2; NaN
 *  gives NaN (E4M3 S.1111.111, E5M2 S.11111.10). Zeros keep their sign.
 *
 * Modes (G = groups per row = cols / group_size; scale arrays are dense,
 * row-major, rows x G floats, entry r * G + g):
 *  PER_TENSOR  scale: one float read from `scale` (device memory for the
 *              CUDA form, host for the CPU form; not read on the host by
 *              the CUDA form, so not validated: a non-finite or
 *              non-positive scale gives what the formula gives). amax (may
 *              be NULL): running maximum, *amax = max(*amax, max |y|) with
 *              NaN above +inf (a NaN y makes it the NaN 0x7fffffff); the
 *              caller sets *amax = 0 before the first call (the
 *              reduction is an integer max on the bits of |y|, so the
 *              result does not depend on the order; a negative initial
 *              value - including -0.0f, whose sign bit is set - counts
 *              as larger than every finite |y|: zero it with +0.0f or
 *              cudaMemset). scale_inv
 *              (may be NULL): 1 / scale rounded to float.
 *  PER_ROW     per row: amax = largest finite |y| in the row (inf and NaN
 *              are encoded as themselves but do not set the scale);
 *              scale = amax == 0 ? 1 : min(RN(fp8_max / amax), 2^127);
 *              scales[r] (may be NULL) = scale, scale_inv[r] = 1 / scale.
 *              Dequantize: y ~ decode(q) * scale_inv[r].
 *  PER_GROUP   the same per group of group_size (32, 64 or 128, dividing
 *              cols) consecutive columns; scale_pow2 != 0 rounds each
 *              scale down to a power of two (UE8M0-representable, DeepSeek
 *              style: amax * scale <= fp8_max).
 *  MXFP8       OCP MX v1.0 blocks of 32 columns (cols % 32 == 0): shared
 *              exponent X = floor(log2(amax)) - emax_elem (emax_elem 8 for
 *              E4M3, 15 for E5M2) over the block's finite |y|, clamped to
 *              [-127, 127], X = 0 for an all-zero block; mx_scales[r * G +
 *              g] = X + 127 (E8M0 byte); q = encode(y * 2^-X), saturating.
 *              Dequantize: y ~ decode(q) * 2^(mx_scales - 127).
 *
 * Pointers: scale, scale_inv, amax, scales 4-byte aligned; the ones the
 * mode uses must not be NULL (PER_TENSOR: scale; PER_ROW/PER_GROUP:
 * scale_inv; MXFP8: mx_scales); the ones it does not use are ignored. No
 * output may overlap an input or another output. rows * cols = 0: nothing
 * is read or written (NULL pointers allowed). For gated calls, as for
 * actk_*_gated_forward, up = +-inf with act(gate) = 0 in float gives NaN.
 *
 * Statuses: as the 2-D and gated calls, plus ACTK_ERROR_INVALID_VALUE for
 * a NULL q, a bad format or mode, a group size not in {32, 64, 128} or not
 * dividing cols, a missing or misaligned scale pointer, overlaps; and
 * ACTK_ERROR_NOT_SUPPORTED for f64 input. Nothing is written on failure.
 */
typedef enum {
    ACTK_FP8_E4M3 = 0, /* 1-4-3, bias 7, max 448, no infinity */
    ACTK_FP8_E5M2 = 1, /* 1-5-2, bias 15, max 57344, with infinity */
    ACTK_FP8_FORMAT_MAX_ENUM = 0x7fffffff /* not a format */
} actk_fp8_format;

typedef enum {
    ACTK_QUANT_PER_TENSOR = 0,
    ACTK_QUANT_PER_ROW = 1,
    ACTK_QUANT_PER_GROUP = 2,
    ACTK_QUANT_MXFP8 = 3,
    ACTK_QUANT_MODE_MAX_ENUM = 0x7fffffff /* not a mode */
} actk_quant_mode;

/* The FP8 output's description. */
typedef struct {
    actk_fp8_format format;
    actk_quant_mode mode;
    size_t group_size;         /* PER_GROUP: 32, 64 or 128; ignored otherwise */
    int scale_pow2;            /* PER_GROUP: nonzero rounds scales down to powers of two */
    const float *scale;        /* PER_TENSOR: in, one float */
    float *amax;               /* PER_TENSOR: in/out running max, or NULL */
    float *scale_inv;          /* PER_TENSOR: out (or NULL); PER_ROW/PER_GROUP: out, rows x G */
    float *scales;             /* PER_ROW/PER_GROUP: out, rows x G, or NULL */
    unsigned char *mx_scales;  /* MXFP8: out, rows x (cols / 32) E8M0 bytes */
} actk_quant;

/* A descriptor with the given format and mode, group_size 128 for
 * PER_GROUP (32 for MXFP8), float scales and every pointer NULL. */
ACTK_API actk_quant actk_quant_default(actk_fp8_format format, actk_quant_mode mode);

/* y(r, c) = act(x(r, c) + bias[c]) (bias NULL: no bias), quantized as q
 * says into the bytes y (row stride ldy >= cols). */
ACTK_API actk_status actk_cpu_forward_2d_quant(actk_act act, actk_dtype dtype, size_t rows, size_t cols, const void *x,
                                               size_t ldx, const void *bias, const actk_quant *q, void *y, size_t ldy);
ACTK_API actk_status actk_cuda_forward_2d_quant(actk_act act, actk_dtype dtype, size_t rows, size_t cols,
                                                const void *x, size_t ldx, const void *bias, const actk_quant *q,
                                                void *y, size_t ldy, actk_stream stream);
/* The gated forward (y = act(gate + bias_gate) * (up + bias_up), bias NULL
 * or 2 * cols values in a row's layout, as actk_*_gated_bias_forward),
 * quantized as q says into the bytes y (row stride ldy >= cols). */
ACTK_API actk_status actk_cpu_gated_forward_quant(actk_act act, actk_gated_layout layout, actk_gate_position gate,
                                                  actk_dtype dtype, size_t rows, size_t cols, const void *x,
                                                  size_t ldx, const void *bias, const actk_quant *q, void *y,
                                                  size_t ldy);
ACTK_API actk_status actk_cuda_gated_forward_quant(actk_act act, actk_gated_layout layout, actk_gate_position gate,
                                                   actk_dtype dtype, size_t rows, size_t cols, const void *x,
                                                   size_t ldx, const void *bias, const actk_quant *q, void *y,
                                                   size_t ldy, actk_stream stream);

/* ---- softmax options: scale, temperature, log-sum-exp, safe rows, masks -----
 *
 * The softmax and log-softmax above (same kind, dtype and (outer, dim, inner)
 * shape), with options. A NULL options pointer, or actk_softmax_options_default(),
 * gives exactly the plain functions (which are these with NULL options).
 *
 * A row is one dim-vector, r = o * inner + i (the layout of an (outer, inner)
 * tensor); per-row arrays (temperature, lse) hold outer * inner values.
 *
 * Forward, for each row r with factor f = scale / temperature[r] (scale when
 * temperature is NULL):
 *   z[d] = x[d] * f + additive_mask[...][d]      (the scaled logits)
 *   y = softmax(z) or log_softmax(z) along dim, over the unmasked entries.
 * Rounding of z is defined, as TransformerEngine's scaled softmax does it:
 * f = scale / temperature[r] and z = x * f, then z + mask, are each rounded
 * to the compute type (float for f32, f16 and bf16; double for f64, where
 * f = (double)scale / (double)temperature[r]); the softmax of those z is
 * then within the plain softmax's bounds (f32 4 ULP, f16/bf16 1 ULP) of the
 * long double reference. The additive mask is added after scaling (as
 * PyTorch's scaled_dot_product_attention adds attn_mask to q k^T * scale).
 *
 * Masks (attention layout; only with inner == 1, else INVALID_VALUE): the
 * rows are (batch, heads, q_len) and dim = k_len, outer = batch * heads *
 * q_len; row o is query q = o % q_len of head (o / q_len) % heads of batch
 * b = o / (q_len * heads). Key k of a row is masked when
 *   causal = ACTK_ATTN_MASK_CAUSAL:              k > q
 *   causal = ACTK_ATTN_MASK_CAUSAL_BOTTOM_RIGHT: k > q + (k_len - q_len)
 *   valid_length != NULL:                        k >= valid_length[b]
 * (TransformerEngine's "causal" and "causal_bottom_right"; a picture is in
 * the README). Masked entries are never read (x there may be anything,
 * even NaN) and count as z = -inf: y = 0 there (log-softmax: -inf), exactly
 * as PyTorch's x.masked_fill(mask, -inf).softmax(-1). A row with no
 * unmasked entry is all NaN, as that composite, unless `safe`.
 *
 * safe != 0: a row whose max scaled logit is -inf (all its entries masked
 * or -inf) gives y = 0 (log-softmax: -inf) everywhere instead of NaN (as
 * PyTorch's _safe_softmax). Rows holding NaN or +inf still give NaN.
 *
 * lse != NULL: lse[r] = log(sum over unmasked d of exp(z[d])), the
 * log-sum-exp of the scaled logits (the log of the softmax's denominator),
 * float for f32/f16/bf16 and double for f64; -inf for a row whose max is
 * -inf, +inf for a row with +inf and no NaN, NaN for a row with NaN.
 * f32: within 4 ULP of the long double reference, or 4 eps of the row's
 * max where max + log(1 + rest) cancels; f64: 8 ULP or 4 eps of the max.
 * f16/bf16: their softmax sums in plain float (all their outputs need), so
 * the LSE carries that sum's rounding: within 2^-12 absolute (host replays
 * of every kernel order up to 70000 keys: at most 2^-13.2).
 *
 * Backward (from the forward output y): the gradient with respect to x,
 * including the factor f:
 *   softmax:     dx = f * y * (dy - sum(dy * y))
 *   log-softmax: dx = f * (dy - exp(y) * sum(dy))
 * with the sums over the unmasked entries only; dx = 0 at masked entries
 * (y and dy are not read there). With safe, a row whose unmasked y are all
 * 0 (softmax) or all -inf (log-softmax), or that has no unmasked entry,
 * gives dx = 0 (its forward output did not depend on x). The backward uses
 * scale, temperature, safe, causal, q_len, heads and valid_length; it
 * ignores lse and additive_mask (the mask's entries of -inf make y = 0, and
 * the gradient through an addition is dy itself).
 *
 * Validation (INVALID_VALUE, nothing written): scale finite and > 0;
 * temperature, lse, valid_length aligned to their element size, additive_mask
 * to x's element size; lse, the output, may not overlap any input or y; a
 * mask needs inner == 1, q_len >= 1 dividing outer, and (valid_length or
 * additive_mask) heads >= 1 dividing outer / q_len; causal in the enum.
 * Device values cannot be checked on the host: a temperature that is not
 * finite and positive follows the formula (T = 0 makes f = inf: a NaN row,
 * or with safe a zero row when every x < 0);
 * valid_length values are clamped to [0, k_len].
 */
typedef enum {
    ACTK_ATTN_MASK_NO_MASK = 0,             /* no causal mask */
    ACTK_ATTN_MASK_CAUSAL = 1,              /* top-left aligned: key k masked when k > q */
    ACTK_ATTN_MASK_CAUSAL_BOTTOM_RIGHT = 2, /* bottom-right aligned: k > q + k_len - q_len */
    ACTK_ATTN_MASK_MAX_ENUM = 0x7fffffff
} actk_attention_mask;

typedef struct {
    float scale;                 /* > 0, finite; default 1 */
    const float *temperature;    /* per row, or NULL (default); device memory for actk_cuda_* */
    void *lse;                   /* per row output (float; double for f64), or NULL (default); forward only */
    int safe;                    /* default 0 */
    actk_attention_mask causal;  /* default ACTK_ATTN_MASK_NO_MASK */
    size_t q_len;                /* attention rows per (batch, head); needed by any mask */
    size_t heads;                /* heads per batch; needed by valid_length and additive_mask */
    const int *valid_length;     /* per batch (int: 32 bits on every CUDA platform), or NULL (default) */
    const void *additive_mask;   /* (batch, q_len, k_len) in x's dtype, or NULL (default); forward only */
} actk_softmax_options;

/* scale 1, everything else off: the plain softmax. */
ACTK_API actk_softmax_options actk_softmax_options_default(void);
ACTK_API actk_status actk_cpu_softmax_forward_ex(actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim,
                                                 size_t inner, const actk_softmax_options *options, const void *x,
                                                 void *y);
ACTK_API actk_status actk_cpu_softmax_backward_ex(actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim,
                                                  size_t inner, const actk_softmax_options *options, const void *y,
                                                  const void *dy, void *dx);
/* The GPU forms: every pointer in `options` is device memory. Every dispatch
 * path of the plain softmax takes the options (masks: the inner == 1 paths). */
ACTK_API actk_status actk_cuda_softmax_forward_ex(actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim,
                                                  size_t inner, const actk_softmax_options *options, const void *x,
                                                  void *y, actk_stream stream);
ACTK_API actk_status actk_cuda_softmax_backward_ex(actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim,
                                                   size_t inner, const actk_softmax_options *options, const void *y,
                                                   const void *dy, void *dx, actk_stream stream);

/* ---- fused softmax cross-entropy ------------------------------------------
 *
 * Loss and gradient of a classifier head in one pass over the logits, as
 * PyTorch's F.cross_entropy(logits, target, ignore_index=..., reduction=...,
 * label_smoothing=eps) plus two extensions (z-loss, logit soft-cap). Per row
 * r of `rows` (logits row at logits + r * ld, `classes` values, f32/f16/bf16),
 * with target t = targets[r]:
 *   z_j   = cap > 0 ? cap * tanh(x_j / cap) : x_j        (soft-cap)
 *   lse   = log(sum_j exp(z_j))
 *   loss  = (1 - eps) (lse - z_t) + eps (lse - mean_j z_j) + z_loss * lse^2
 *   dL/dx_j = g * ((1 + 2 z_loss lse) softmax(z)_j - (1 - eps) [j == t]
 *             - eps / classes) * (cap > 0 ? 1 - tanh^2(x_j / cap) : 1)
 * where g is grad_scale (the upstream gradient of the loss), divided by the
 * number of non-ignored rows for MEAN; with reduction NONE and
 * options.row_grad, g is row_grad[r] for row r (the upstream gradient of
 * each row's loss, as autograd passes to F.cross_entropy(reduction='none')'s
 * backward). A row whose target equals
 * ignore_index has loss 0 and gradient 0 (its lse is still written).
 * Reductions: NONE writes `rows` losses; SUM one value (0 for no rows);
 * MEAN one value, the sum over the non-ignored rows divided by their count
 * (as PyTorch); with every row ignored (or no rows) MEAN gives NaN, as
 * PyTorch does, and the gradient is 0. Sums run in a fixed order (the same
 * bits on every run and GPU).
 * Non-finite logits: a non-ignored row with NaN, with +inf, or with every
 * value -inf (after the soft-cap) has a NaN loss, lse and gradient (PyTorch's
 * loss is NaN there too); a target logit of -inf in an otherwise finite row
 * gives loss +inf and a finite gradient.
 * Targets out of range (t < 0 or t >= classes, and t != ignore_index): the
 * CPU path rejects the call (ACTK_ERROR_INVALID_VALUE naming the row,
 * nothing written). The GPU path cannot look at device targets without a
 * copy, so it gives that row loss NaN, lse as computed and gradient NaN
 * (so SUM/MEAN are NaN; MEAN counts the row), and, when error_flag is not
 * NULL, stores 1 to the int32 *error_flag in device memory; it never
 * stores 0 there: clear it before the call (cudaMemsetAsync) and read it
 * whenever convenient.
 * Outputs: loss (float, `rows` values for NONE, else 1), lse (float, rows
 * values, or NULL), grad (logits' dtype, row stride ldgrad >= classes, or
 * NULL: forward only). grad may equal logits with ldgrad == ld (in place:
 * the logits are replaced by the gradient); no other overlap is allowed.
 * Numerics: f32 is computed in float with float-float pairs, f16/bf16 the
 * same after their exact conversion to float; no FP64 (bounds: README "Fused
 * softmax cross-entropy").
 * Statuses as in the conventions; f64 logits give ACTK_ERROR_NOT_SUPPORTED.
 */
typedef enum {
    ACTK_REDUCTION_NONE = 0, /* one loss per row */
    ACTK_REDUCTION_SUM = 1,  /* the sum of the rows' losses */
    ACTK_REDUCTION_MEAN = 2, /* the sum over the non-ignored rows / their count */
    ACTK_REDUCTION_MAX_ENUM = 0x7fffffff
} actk_reduction;

typedef enum {
    ACTK_INDEX_I32 = 0, /* int32_t targets */
    ACTK_INDEX_I64 = 1, /* int64_t targets (PyTorch's long) */
    ACTK_INDEX_MAX_ENUM = 0x7fffffff
} actk_index_type;

typedef struct {
    long long ignore_index; /* rows with this target are skipped (-100, as PyTorch) */
    float label_smoothing;  /* eps in [0, 1] (0) */
    float z_loss;           /* finite coefficient >= 0 of lse^2 (0: off) */
    float softcap;          /* finite cap >= 0 of cap * tanh(x / cap) (0: off) */
    actk_reduction reduction; /* (MEAN, as PyTorch) */
    float grad_scale;       /* finite upstream gradient of the (reduced) loss (1) */
    /* NULL (default), or with reduction NONE and a gradient requested:
     * `rows` floats, the upstream gradient of each row's loss (host memory
     * for actk_cpu_, device memory for actk_cuda_; not overlapping any
     * output). grad_scale must then be 1. Used only when grad != NULL. */
    const float *row_grad;
} actk_cross_entropy_options;

/* PyTorch's defaults: ignore_index -100, no smoothing, no z-loss, no cap,
 * MEAN, grad_scale 1, no row_grad. */
ACTK_API actk_cross_entropy_options actk_cross_entropy_default(void);

/* The oracle: long double throughout, each output rounded once. */
ACTK_API actk_status actk_cpu_cross_entropy_forward_backward(actk_cross_entropy_options options, actk_dtype dtype,
                                                             size_t rows, size_t classes, const void *logits,
                                                             size_t ld, actk_index_type target_type,
                                                             const void *targets, float *loss, float *lse, void *grad,
                                                             size_t ldgrad);
/* Bytes of device workspace the GPU call needs: 0 for NONE, else a few
 * bytes per row (the rows' losses before the fixed-order sum). The library
 * never allocates. */
ACTK_API size_t actk_cuda_cross_entropy_workspace_size(actk_reduction reduction, size_t rows);
/* The GPU form (device pointers, asynchronous on `stream`): a block per
 * row, the row cached in shared memory (as floats) when it fits the device
 * (logits read once, gradient written once); longer rows cached across a
 * cluster of up to 8 blocks on sm_90+ where they fit, else read twice.
 * workspace: 16-byte aligned, at least actk_cuda_cross_entropy_workspace_size
 * bytes, not overlapping anything else. error_flag: see above (may be NULL). */
ACTK_API actk_status actk_cuda_cross_entropy_forward_backward(actk_cross_entropy_options options, actk_dtype dtype,
                                                              size_t rows, size_t classes, const void *logits,
                                                              size_t ld, actk_index_type target_type,
                                                              const void *targets, float *loss, float *lse,
                                                              void *grad, size_t ldgrad, int *error_flag,
                                                              void *workspace, size_t workspace_bytes,
                                                              actk_stream stream);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* ACTK_ACTK_H */
