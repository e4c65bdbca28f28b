// SPDX-License-Identifier: MIT
/*
 * softmax_strided_replay.h - the strided softmax kernels' reduction order
 * (kernels/softmax_strided.cuh) replayed on the host with the kernels' own
 * math (softmax_math.cuh), so a test can compare with the oracle
 * (test_softmax_strided_on_host.cpp) and a GPU test can compare the
 * device's bits with the replay's (test_gpu_structured.cpp).
 *
 * Per column (o, i), with the plan's split S (strided_plan): thread ty sums
 * d = ty, ty + S, ... in increasing d (online max-and-rest forward, the
 * backward's row sum), then the tree: for h = split_pow2 / 2 .. 1, ty < h
 * merges ty + h (when below S) into itself, ty's value first. On the
 * few-tiles cluster path (K blocks per tile group) each rank does that over
 * its share of d and the ranks' results are merged in rank order.
 * `Order` lets a test replay a wrong order on purpose (to show the checks
 * notice): kSerial sums the column in one thread, kLinear merges the S
 * partial results left to right instead of the tree.
 */
#ifndef ACTK_TEST_SOFTMAX_STRIDED_REPLAY_H
#define ACTK_TEST_SOFTMAX_STRIDED_REPLAY_H

#include "softmax_math.cuh"
#include "softmax_strided_plan.h"
#include "test_util.h"

#include <vector>

namespace actk_test {

enum class StridedOrder { kTree, kSerial, kLinear };

/* Merges per-thread values in the kernel's tree (or a wrong order). */
template <class V, class Merge>
V strided_combine(std::vector<V> parts, const actk::StridedPlan &p, StridedOrder order, Merge merge)
{
    if (order == StridedOrder::kLinear) {
        for (size_t t = 1; t < parts.size(); ++t) parts[0] = merge(parts[0], parts[t]);
        return parts[0];
    }
    for (unsigned h = p.split_pow2 / 2; h >= 1; h /= 2)
        for (unsigned ty = 0; ty < h && ty + h < p.split; ++ty) parts[ty] = merge(parts[ty], parts[ty + h]);
    return parts[0];
}

/* A cluster of `cluster` blocks (the few-tiles path): thread ty of rank r
 * holds d = r split + ty + k cluster split; each rank's tree, then the
 * ranks merged in rank order. */
template <class V, class Merge>
V strided_clustered(const std::vector<V> &parts, const actk::StridedPlan &p, unsigned cluster, StridedOrder order,
                    Merge merge)
{
    V total = parts[0];
    for (unsigned r = 0; r < cluster; ++r) {
        const V rank = strided_combine(std::vector<V>(parts.begin() + (std::ptrdiff_t)r * p.split,
                                                      parts.begin() + (std::ptrdiff_t)(r + 1) * p.split),
                                       p, order, merge);
        total = r == 0 ? rank : merge(total, rank);
    }
    return total;
}

/* The column's statistics in the kernel's order. */
template <class M, class C = typename M::T>
actk::MaxSum<M> strided_column_stats(const std::vector<C> &v, const actk::StridedPlan &p,
                                     StridedOrder order = StridedOrder::kTree, unsigned cluster = 1)
{
    const size_t threads = order == StridedOrder::kSerial ? 1 : (size_t)p.split * cluster;
    std::vector<actk::MaxSum<M>> parts(threads, actk::MaxSum<M>::empty());
    for (size_t d = 0; d < v.size(); ++d) actk::online_add(parts[d % threads], v[d]);
    if (threads == 1) return parts[0];
    return strided_clustered(parts, p, cluster, order,
                             [](actk::MaxSum<M> a, actk::MaxSum<M> b) { return actk::merge(a, b); });
}

template <class M, bool kLog, class C = typename M::T>
typename actk::SoftmaxAcc<M>::type strided_column_sum(const std::vector<C> &y, const std::vector<C> &dy,
                                                      const actk::StridedPlan &p,
                                                      StridedOrder order = StridedOrder::kTree, unsigned cluster = 1)
{
    using Acc = typename actk::SoftmaxAcc<M>::type;
    const size_t threads = order == StridedOrder::kSerial ? 1 : (size_t)p.split * cluster;
    std::vector<Acc> parts(threads, actk::acc_zero<M>());
    for (size_t d = 0; d < y.size(); ++d)
        parts[d % threads] = actk::backward_term<M, kLog>(parts[d % threads], y[d], dy[d]);
    if (threads == 1) return parts[0];
    return strided_clustered(parts, p, cluster, order, [](Acc a, Acc b) { return actk::acc_add<M>(a, b); });
}

/* The forward of a whole (outer, dim, inner) tensor as the kernels compute
 * it, with the dtype's policy M (f16 and bf16 share theirs), x * factor per
 * column first when factors is not empty (scale / temperature, rounded as
 * the kernels round it). lse: per column, or null. */
template <class M>
void strided_forward_replay(actk_softmax_kind kind, actk_dtype dtype, size_t outer, size_t dim, size_t inner,
                            const Buffer &x, Buffer &y, StridedOrder order = StridedOrder::kTree,
                            const std::vector<float> &factors = {}, std::vector<float> *lse = nullptr,
                            unsigned cluster = 1)
{
    using C = typename M::T;
    (void)dtype;
    const actk::StridedPlan p = actk::strided_plan(outer, dim, inner);
    std::vector<C> v(dim);
    for (size_t o = 0; o < outer; ++o)
        for (size_t i = 0; i < inner; ++i) {
            const size_t column = o * inner + i;
            for (size_t d = 0; d < dim; ++d) {
                v[d] = (C)x.get((o * dim + d) * inner + i);
                if (!factors.empty()) v[d] = v[d] * (C)factors[column];
            }
            const actk::MaxSum<M> s = strided_column_stats<M>(v, p, order, cluster);
            if (lse) (*lse)[column] = (float)actk::row_lse(s);
            for (size_t d = 0; d < dim; ++d)
                y.set((o * dim + d) * inner + i, kind == ACTK_LOG_SOFTMAX
                                                     ? actk::softmax_value<true>(v[d], actk::row_scale<true>(s))
                                                     : actk::softmax_value<false>(v[d], actk::row_scale<false>(s)));
        }
}

template <class M>
void strided_backward_replay(actk_softmax_kind kind, size_t outer, size_t dim, size_t inner, const Buffer &y,
                             const Buffer &dy, Buffer &dx, StridedOrder order = StridedOrder::kTree,
                             unsigned cluster = 1)
{
    using C = typename M::T;
    const actk::StridedPlan p = actk::strided_plan(outer, dim, inner);
    std::vector<C> yv(dim), gv(dim);
    for (size_t o = 0; o < outer; ++o)
        for (size_t i = 0; i < inner; ++i) {
            for (size_t d = 0; d < dim; ++d) {
                yv[d] = (C)y.get((o * dim + d) * inner + i);
                gv[d] = (C)dy.get((o * dim + d) * inner + i);
            }
            if (kind == ACTK_LOG_SOFTMAX) {
                const auto sum = strided_column_sum<M, true>(yv, gv, p, order, cluster);
                for (size_t d = 0; d < dim; ++d)
                    dx.set((o * dim + d) * inner + i, actk::softmax_grad<M, true>(yv[d], gv[d], sum));
            } else {
                const auto sum = strided_column_sum<M, false>(yv, gv, p, order, cluster);
                for (size_t d = 0; d < dim; ++d)
                    dx.set((o * dim + d) * inner + i, actk::softmax_grad<M, false>(yv[d], gv[d], sum));
            }
        }
}

} // namespace actk_test

#endif
