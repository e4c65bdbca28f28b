#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs the GPU tests under compute-sanitizer's four tools (memcheck,
# racecheck, initcheck, synccheck) and prints one line per tool. Needs a
# CUDA device and compute-sanitizer (shipped with the CUDA toolkit).
# Usage: scripts/sanitize_gpu.sh [LOG_DIR]   (default: build/sanitize-logs)
set -uo pipefail
cd "$(dirname "$0")/.."
log_dir=${1:-build/sanitize-logs}
mkdir -p "$log_dir"
sanitizer=$(command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer)
[ -x "$sanitizer" ] || { echo "sanitize_gpu: compute-sanitizer not found"; exit 1; }
[ -x build/tests/test_gpu_structured ] || scripts/build.sh >/dev/null
# The huge cases (> 2^31 elements, rows of 4M) are slow under the sanitizer
# and add no coverage of other code paths, so they are left out here.
filter='--gtest_filter=Gpu.*:Concurrency.Gpu*:-Gpu.SizeAboveTwoToThe31:Gpu.SizeAboveTwoToThe32:Gpu.SoftmaxRowsOfFourMillion'
status=0
for tool in memcheck racecheck initcheck synccheck; do
  extra=""
  [ "$tool" = memcheck ] && extra="--leak-check full"
  for test_binary in build/tests/test_gpu_elementwise build/tests/test_gpu_structured build/tests/test_concurrency; do
    log="$log_dir/$(basename "$test_binary").$tool.log"
    # shellcheck disable=SC2086
    "$sanitizer" --tool "$tool" $extra --error-exitcode 99 "$test_binary" "$filter" >"$log" 2>&1
    rc=$?
    summary=$(grep -E "ERROR SUMMARY|RACECHECK SUMMARY|LEAK SUMMARY" "$log" | tail -n 1)
    echo "$tool $(basename "$test_binary"): exit $rc ${summary:-(no summary line)}"
    [ $rc -eq 0 ] || status=1
  done
done
exit $status
