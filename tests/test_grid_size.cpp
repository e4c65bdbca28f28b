// SPDX-License-Identifier: MIT
/*
 * test_grid_size.cpp - the grid-sizing rule of the grid-stride launchers
 * (kernels/grid_size.cuh), on the host: one block per `block` items, at
 * least one, at most 32 waves of (2048 / block) blocks per SM.
 */
#include "grid_size.cuh"

#include <gtest/gtest.h>

#include <stddef.h>

TEST(GridSize, OneBlockPerBlockOfWorkAtLeastOne)
{
    EXPECT_EQ(actk::grid_for(0, 256, 132), 1u);
    EXPECT_EQ(actk::grid_for(1, 256, 132), 1u);
    EXPECT_EQ(actk::grid_for(256, 256, 132), 1u);
    EXPECT_EQ(actk::grid_for(257, 256, 132), 2u);
    EXPECT_EQ(actk::grid_for(1000 * 128, 128, 132), 1000u);
}

TEST(GridSize, CappedAtThirtyTwoWavesOfTheDevice)
{
    /* 132 SMs, 256 threads: 8 blocks per SM per wave, 32 waves */
    const size_t cap = 132 * 8 * 32;
    EXPECT_EQ(actk::grid_for(cap * 256, 256, 132), (unsigned)cap);
    EXPECT_EQ(actk::grid_for(cap * 256 + 1, 256, 132), (unsigned)cap);
    EXPECT_EQ(actk::grid_for((size_t)1 << 40, 256, 132), (unsigned)cap); /* beyond 2^32 items: still the cap */
    EXPECT_EQ(actk::grid_for((size_t)1 << 40, 1024, 40), 40u * 2 * 32);
    /* an unknown SM count counts as one SM */
    EXPECT_EQ(actk::grid_for((size_t)1 << 30, 256, 0), 8u * 32);
    EXPECT_EQ(actk::grid_for((size_t)1 << 30, 256, -5), 8u * 32);
}
