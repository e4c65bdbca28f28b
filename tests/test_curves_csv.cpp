// SPDX-License-Identifier: MIT
/*
 * test_curves_csv.cpp - runs the actk_curves tool and checks its CSV
 * against the CPU API: header, one row per op and grid point, the grid
 * itself, and f / f' equal to what actk_cpu_forward/backward return.
 */
#include "actk/actk.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#ifndef ACTK_CURVES_PATH
#error "ACTK_CURVES_PATH must name the actk_curves executable"
#endif

static std::vector<std::string> run_lines(const std::string &args)
{
    const std::string cmd = std::string(ACTK_CURVES_PATH) + " --cpu-only " + args;
    std::vector<std::string> lines;
    FILE *pipe = popen(cmd.c_str(), "r");
    if (!pipe) return lines;
    char buf[1024];
    while (fgets(buf, sizeof buf, pipe)) {
        std::string line(buf);
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
        lines.push_back(line);
    }
    EXPECT_EQ(pclose(pipe), 0) << cmd;
    return lines;
}

static std::vector<std::string> split(const std::string &line)
{
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) cells.push_back(cell);
    return cells;
}

TEST(CurvesTool, DefaultGridCoversEveryOpAndMatchesTheApi)
{
    const std::vector<std::string> lines = run_lines("");
    ASSERT_FALSE(lines.empty());
    EXPECT_EQ(lines[0], "op,alpha,beta,x,f_cpu,df_cpu");
    ASSERT_EQ(lines.size(), 1u + (size_t)ACTK_OP_COUNT * 1201u);
    for (size_t row = 1; row < lines.size(); ++row) {
        const std::vector<std::string> c = split(lines[row]);
        ASSERT_EQ(c.size(), 6u) << lines[row];
        const size_t op_index = (row - 1) / 1201, point = (row - 1) % 1201;
        ASSERT_EQ(c[0], actk_op_name((actk_op)op_index));
        const float x = std::strtof(c[3].c_str(), nullptr);
        EXPECT_FLOAT_EQ(x, (float)(-6.0 + 12.0 * (double)point / 1200.0));
        const actk_act act = actk_act_default((actk_op)op_index);
        float f = 0, df = 0, one = 1.0f;
        ASSERT_EQ(actk_cpu_forward(act, ACTK_F32, 1, &x, &f), ACTK_SUCCESS);
        ASSERT_EQ(actk_cpu_backward(act, ACTK_F32, 1, &x, &one, &df), ACTK_SUCCESS);
        /* %.9g round-trips a float exactly */
        EXPECT_EQ(std::strtof(c[4].c_str(), nullptr), f) << lines[row];
        EXPECT_EQ(std::strtof(c[5].c_str(), nullptr), df) << lines[row];
    }
}

TEST(CurvesTool, OptionsSelectOpParametersAndGrid)
{
    const std::vector<std::string> lines = run_lines("--op leaky_relu --alpha 0.25 --min -2 --max 2 --points 5");
    ASSERT_EQ(lines.size(), 6u);
    const std::vector<std::string> first = split(lines[1]);
    EXPECT_EQ(first[0], "leaky_relu");
    EXPECT_EQ(std::strtof(first[1].c_str(), nullptr), 0.25f);
    EXPECT_EQ(std::strtof(first[3].c_str(), nullptr), -2.0f);
    EXPECT_EQ(std::strtof(first[4].c_str(), nullptr), -0.5f); /* 0.25 * -2 */
    EXPECT_EQ(std::strtof(first[5].c_str(), nullptr), 0.25f);
    const int bad = std::system((std::string(ACTK_CURVES_PATH) + " --op nope > /dev/null 2>&1").c_str());
    EXPECT_NE(bad, 0);
}

/* Bad parameters are rejected before the output file is created: no
 * half-written CSV (a header with no rows) is left for a plot to read. */
TEST(CurvesTool, BadParametersWriteNothing)
{
    const std::string out = ::testing::TempDir() + "actk_curves_bad_params.csv";
    std::remove(out.c_str());
    const std::string cmd =
        std::string(ACTK_CURVES_PATH) + " --cpu-only --op celu --alpha 0 --out " + out + " 2> /dev/null";
    EXPECT_NE(std::system(cmd.c_str()), 0);
    FILE *f = std::fopen(out.c_str(), "r");
    EXPECT_EQ(f, nullptr) << "actk_curves created " << out << " before rejecting alpha = 0";
    if (f) std::fclose(f);
}
