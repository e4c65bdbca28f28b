// SPDX-License-Identifier: MIT
/*
 * test_op_traits.cpp - the op list (kernels/op_list.h), the C op table
 * generated from it (host/ops.c: names, defaults, backward-from-y support),
 * the kernels' op structs and the header's formula table describe the same
 * ops: this fails when they drift apart (the enum order and each struct's
 * ListedOp are checked at compile time already, in ops.c and visit_op).
 */
#include "activation_math.cuh"
#include "op_list.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

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
        ASSERT_NE(kernel_from_y, -1) << name << " has no op struct in kernels/op_functors.cuh visit_op";
        EXPECT_EQ(kernel_from_y, actk_op_has_backward_from_y(op))
            << name << ": the C table's from_y and the kernel struct's kHasFromY disagree";
        EXPECT_EQ(actk_act_validate(actk_act_default(op)), ACTK_SUCCESS) << name << ": default parameters invalid";
    }
    EXPECT_EQ(seen.size(), (size_t)ACTK_OP_COUNT) << "op names must be unique";
    EXPECT_EQ(actk::visit_op<int>(ACTK_OP_COUNT, [](auto) { return 0; }, -1), -1);
}

namespace {

struct ListedEntry {
    actk_op op;
    const char *name;
    float alpha, beta;
    int from_y;
    const char *alpha_is, *beta_is, *formula;
    bool kernel_from_y;
    actk_op kernel_op;
};

#define ACTK_TEST_ENTRY(E, name, S, alpha, beta, from_y, alpha_is, beta_is, formula) \
    {ACTK_OP_##E, name, alpha, beta, from_y, alpha_is, beta_is, formula, actk::S::kHasFromY, actk::S::kOp},
const ListedEntry kListed[] = {ACTK_OP_LIST(ACTK_TEST_ENTRY)};
#undef ACTK_TEST_ENTRY

/* Forward and backward of one op (LibmMath<double>) at a grid of x, as bits:
 * whether a parameter changes any of them. */
template <class Op>
std::vector<double> op_values(double alpha, double beta)
{
    using M = actk::LibmMath<double>;
    const actk::Params<double> p{alpha, beta};
    std::vector<double> out;
    for (double x = -41.0; x <= 41.0; x += 0.0625 * 1.03125) {
        out.push_back(Op::template forward<M>(x, p));
        out.push_back(Op::template backward<M>(x, 0.75, p));
    }
    return out;
}

bool same_bits(const std::vector<double> &a, const std::vector<double> &b)
{
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (std::memcmp(&a[i], &b[i], sizeof a[i]) != 0) return false;
    return true;
}

} // namespace

TEST(OpTraits, TheListMatchesTheCApiAndTheKernelStructs)
{
    ASSERT_EQ(sizeof kListed / sizeof kListed[0], (size_t)ACTK_OP_COUNT);
    for (size_t k = 0; k < sizeof kListed / sizeof kListed[0]; ++k) {
        const ListedEntry &e = kListed[k];
        EXPECT_EQ((int)e.op, (int)k) << e.name << " is out of enum order in kernels/op_list.h";
        ASSERT_NE(actk_op_name(e.op), nullptr);
        EXPECT_STREQ(actk_op_name(e.op), e.name);
        actk_op parsed = ACTK_OP_COUNT;
        EXPECT_EQ(actk_op_from_name(e.name, &parsed), ACTK_SUCCESS);
        EXPECT_EQ(parsed, e.op);
        const actk_act d = actk_act_default(e.op);
        EXPECT_EQ(d.alpha, e.alpha) << e.name;
        EXPECT_EQ(d.beta, e.beta) << e.name;
        EXPECT_EQ(actk_op_has_backward_from_y(e.op), e.from_y) << e.name;
        EXPECT_EQ(e.kernel_from_y, e.from_y != 0) << e.name;
        EXPECT_EQ(e.kernel_op, e.op) << e.name;
    }
}

/* "" in the list's alpha_is / beta_is means the math ignores that parameter:
 * changing it must change no bit of forward or backward; a named parameter
 * must change some. Perturbation p -> 1.5 p + 0.25 keeps every default valid. */
TEST(OpTraits, ParametersTheListNamesAreTheOnesTheKernelsUse)
{
#define ACTK_PARAMETER_CHECK(E, name, S, alpha, beta, from_y, alpha_is, beta_is, formula)                              \
    {                                                                                                                  \
        const double a = alpha, b = beta, a2 = 1.5 * a + 0.25, b2 = 1.5 * b + 0.25;                                    \
        ASSERT_EQ(actk_act_validate(actk_act{ACTK_OP_##E, (float)a2, (float)b}), ACTK_SUCCESS) << name;                \
        ASSERT_EQ(actk_act_validate(actk_act{ACTK_OP_##E, (float)a, (float)b2}), ACTK_SUCCESS) << name;                \
        const std::vector<double> base = op_values<actk::S>(a, b);                                                     \
        EXPECT_EQ(same_bits(base, op_values<actk::S>(a2, b)), std::string(alpha_is).empty())                           \
            << name << ": alpha is listed as \"" << alpha_is << "\" in kernels/op_list.h";                            \
        EXPECT_EQ(same_bits(base, op_values<actk::S>(a, b2)), std::string(beta_is).empty())                            \
            << name << ": beta is listed as \"" << beta_is << "\" in kernels/op_list.h";                              \
    }
    ACTK_OP_LIST(ACTK_PARAMETER_CHECK)
#undef ACTK_PARAMETER_CHECK
}

/* The header documents every op in its formula table (" *  name   formula"),
 * with the list's formula text. */
TEST(OpTraits, TheHeaderFormulaTableHasEveryListedOp)
{
    std::ifstream in(ACTK_SOURCE_DIR "/include/actk/actk.h");
    ASSERT_TRUE(in.good()) << "cannot read include/actk/actk.h";
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    for (const ListedEntry &e : kListed) {
        const std::string start = std::string(" *  ") + e.name + " ";
        bool found = false;
        for (const std::string &line : lines)
            if (line.compare(0, start.size(), start) == 0 && line.find(e.formula) != std::string::npos) found = true;
        EXPECT_TRUE(found) << "include/actk/actk.h has no table line \"" << start << " ... " << e.formula << "\"";
    }
}

/* The README's ops table has a row for every op ("| `name` ..."), whose
 * last column ("backward from y") starts with yes or no as the list says. */
TEST(OpTraits, TheReadmeOpsTableHasEveryListedOp)
{
    std::ifstream in(ACTK_SOURCE_DIR "/README.md");
    ASSERT_TRUE(in.good()) << "cannot read README.md";
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    for (const ListedEntry &e : kListed) {
        const std::string start = std::string("| `") + e.name + "`";
        const std::string want = e.from_y ? "| yes" : "| no";
        int rows = 0;
        for (const std::string &line : lines) {
            if (line.compare(0, start.size(), start) != 0) continue;
            ++rows;
            const size_t last = line.rfind('|', line.size() >= 2 ? line.size() - 2 : 0);
            EXPECT_EQ(line.compare(last, want.size(), want), 0)
                << "README.md: " << e.name << "'s backward-from-y column should start with " << want.substr(2);
        }
        EXPECT_EQ(rows, 1) << "README.md should have one ops-table row for " << e.name;
    }
}
