// SPDX-License-Identifier: MIT
/*
 * activation_math.cuh - the math of every element-wise op, as small structs
 * that the element-wise engine (elementwise_engine.cuh) plugs in. This
 * header gathers three files, read in this order:
 *   math_policies.cuh        numerics: overloads, constants, the math
 *                            policies (LibmMath, F32Math, HalfMath) and their
 *                            fitted tables, MathFor (policy per dtype);
 *   math_building_blocks.cuh sigmoid, tanh', normal CDF/PDF, ... shared by
 *                            several ops;
 *   op_functors.cuh          one struct per op (forward, backward,
 *                            backward_from_y) and visit_op; the ops and their
 *                            traits come from op_list.h.
 *
 * Each op struct has
 *   template <class M> static C forward(C x, Params<C> p);
 *   template <class M> static C backward(C x, C dy, Params<C> p);
 *   template <class M> static C backward_from_y(C y, C dy, Params<C> p);  (kHasFromY)
 * where M is the math policy and C = M::T the compute type: double for f64
 * storage, float for f32, f16 and bf16. Everything here is __host__
 * __device__ and uses only <math.h> functions, so the same source also
 * compiles as plain C++ on the host; tests/test_device_math_on_host.cpp
 * checks it against the long double reference without a GPU.
 *
 * Accuracy rules followed throughout:
 *  - no formula that cancels in a tail (1 - tanh^2, 1 + erf, x*sigmoid(x)
 *    through 1 - sigmoid), and a series where x - tanh(x) cancels;
 *  - where the argument of exp/erfc is a rounded product a*x, the rounding
 *    error is recovered with an FMA and applied as a first-order correction
 *    (it would otherwise be amplified by |a*x| in the tail);
 *  - +-inf gives the mathematical limit, NaN in gives NaN out;
 *  - on pieces where f is constant by definition dx = 0 whatever dy is.
 */
#ifndef ACTK_KERNELS_ACTIVATION_MATH_CUH
#define ACTK_KERNELS_ACTIVATION_MATH_CUH

#include "math_policies.cuh"
#include "math_building_blocks.cuh"
#include "op_functors.cuh"

#endif
