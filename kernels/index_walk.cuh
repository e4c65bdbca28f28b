// SPDX-License-Identifier: MIT
/*
 * index_walk.cuh - the coordinates of a loop index that advances by a fixed
 * step, kept up to date with adds and compares instead of a 64-bit divide
 * per element (a 64-bit / or % is a software routine of tens of
 * instructions on the GPU).
 *
 * For idx = (q * divisor + r) with q taken modulo `modulus` (SIZE_MAX: no
 * wrap), IndexWalk holds q and r; advance() moves idx by `step`. The
 * divisions happen once, in the constructor. Requires divisor >= 1 and
 * modulus >= 1.
 */
#ifndef ACTK_KERNELS_INDEX_WALK_CUH
#define ACTK_KERNELS_INDEX_WALK_CUH

#include "activation_math.cuh" /* ACTK_HD */

#include <stddef.h>
#include <stdint.h>

namespace actk {

struct IndexWalk {
    size_t q, r;
    size_t divisor, modulus, step_q, step_r;

    ACTK_HD IndexWalk(size_t idx, size_t step, size_t divisor_, size_t modulus_ = SIZE_MAX)
        : q((idx / divisor_) % modulus_), r(idx % divisor_), divisor(divisor_), modulus(modulus_),
          step_q((step / divisor_) % modulus_), step_r(step % divisor_)
    {
    }

    ACTK_HD void advance()
    {
        r += step_r;
        q += step_q; /* q, step_q < modulus: no overflow below SIZE_MAX */
        if (r >= divisor) {
            r -= divisor;
            ++q;
        }
        if (q >= modulus) q -= modulus; /* q < 2 * modulus here */
    }
};

} // namespace actk

#endif
