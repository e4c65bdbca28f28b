#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds actk and runs every test:
#   1. the CPU path built with AddressSanitizer + UndefinedBehaviorSanitizer, all tests;
#   2. the libFuzzer harness over the CPU API for ACTK_FUZZ_SECONDS (default 60) seconds,
#      starting from the seed corpus in tests/fuzz/corpus (needs clang);
#   3. the normal build (CUDA kernels when the toolkit is found, for every architecture of the
#      default list, sm_75 to sm_120: CI checks that each one builds, and the sass_check test
#      inspects their SASS), all tests with ctest. The sanitizer and fuzz builds stay CPU-only.
# GPU tests skip, with the reason, when no CUDA device is present.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
jobs=$(nproc)

echo "== 1/3: ASan + UBSan build of the CPU path, all tests"
cmake -S . -B build-asan -DACTK_WITH_CUDA=OFF -DACTK_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DACTK_WARNINGS_AS_ERRORS=ON >/dev/null
cmake --build build-asan -j "$jobs" >/dev/null
ctest --test-dir build-asan --no-tests=error --output-on-failure -j "$jobs" | grep -E "tests passed|tests failed|Failed|Error"

echo "== 2/3: fuzzing the CPU API for ${ACTK_FUZZ_SECONDS:-60} s"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DACTK_WITH_CUDA=OFF -DACTK_SANITIZE=ON -DACTK_BUILD_FUZZERS=ON \
      -DACTK_BUILD_TESTS=OFF -DACTK_BUILD_EXAMPLES=OFF -DACTK_BUILD_SHARED=OFF >/dev/null
cmake --build build-fuzz -j "$jobs" >/dev/null
mkdir -p build-fuzz/corpus
build-fuzz/tests/fuzz/fuzz_cpu_api -max_total_time="${ACTK_FUZZ_SECONDS:-60}" -print_final_stats=1 \
      -artifact_prefix=build-fuzz/ build-fuzz/corpus tests/fuzz/corpus 2>&1 | grep -E "^(Done|stat::number_of_executed_units)"

echo "== 3/3: normal build, all tests"
scripts/build.sh >/dev/null
ctest --test-dir build --no-tests=error --output-on-failure -j "$jobs"
