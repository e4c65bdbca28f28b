/*
 * test_op_traits.cpp - the C op table (host/ops.c: names, defaults,
 * backward-from-y support) and the kernels' op structs
 * (kernels/activation_math.cuh) describe the same ops. Adding an op touches
 * both; this fails when they drift apart.
 */
#include "activation_math.cuh"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <type_traits>

namespace {

/* Op structs with kHasFromY must have backward_from_y, and every op struct
 * has forward and backward (compile-time, for the compute types in use). */
template <class Op, class = void> struct has_from_y_method : std::false_type {};
template <class Op>
struct has_from_y_method<Op, std::void_t<decltype(Op::template backward_from_y<actk::LibmMath<double>>(
                                 0.0, 0.0, actk::Params<double>{}))>> : std::true_type {};

} // namespace

TEST(OpTraits, EveryOpHasAKernelStructAgreeingWithTheCTable)
{
    std::set<std::string> seen;
    for (int i = 0; i < (int)ACTK_OP_COUNT; ++i) {
        const actk_op op = (actk_op)i;
        const char *name = actk_op_name(op);
        ASSERT_NE(name, nullptr) << "op " << i << " has no name in host/ops.c";
        seen.insert(name);
        const int kernel_from_y = actk::visit_op<int>(
            op,
            [](auto s) {
                using Op = decltype(s);
                static_assert(Op::kHasFromY == has_from_y_method<Op>::value,
                              "kHasFromY must say whether backward_from_y exists");
                return Op::kHasFromY ? 1 : 0;
            },
            -1);
        ASSERT_NE(kernel_from_y, -1) << name << " has no op struct in kernels/activation_math.cuh visit_op";
        EXPECT_EQ(kernel_from_y, actk_op_has_backward_from_y(op))
            << name << ": host/ops.c from_y and the kernel struct's kHasFromY disagree";
        EXPECT_EQ(actk_act_validate(actk_act_default(op)), ACTK_SUCCESS) << name << ": default parameters invalid";
    }
    EXPECT_EQ(seen.size(), (size_t)ACTK_OP_COUNT) << "op names must be unique";
    EXPECT_EQ(actk::visit_op<int>(ACTK_OP_COUNT, [](auto) { return 0; }, -1), -1);
}
