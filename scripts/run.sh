#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job: build, then run bench_gpu (every op family: throughput
# against the memcpy limit and cuDNN, agreement with the CPU reference).
# Without arguments it runs `bench_gpu --quick`; any arguments go to bench_gpu
# (e.g. scripts/run.sh --ops gelu,softmax --dtypes bf16 --json out.json).
# Without a GPU, bench_gpu says so and times the CPU reference path.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh >/dev/null
if [ $# -eq 0 ]; then set -- --quick; fi
build/bench/bench_gpu "$@"
