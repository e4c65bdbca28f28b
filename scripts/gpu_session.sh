#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Everything a session with a GPU should run, in one go, logs under
# ${OUT:-build/gpu-session}: device facts, build, every test (GPU ones
# included), compute-sanitizer (memcheck, racecheck, initcheck, synccheck),
# the static SASS counts (to set beside the measured % of memcpy),
# bench_gpu (quick, or full with FULL=1) with JSON/CSV, the PyTorch
# comparison when PyTorch is present, the charts, the MLP experiment on the
# GPU, and the curves with the GPU-vs-CPU ULP figure.
# Each step's status is printed; a failing step does not stop the rest.
set -uo pipefail
# A GPU session must not pass by skipping: a missing or unusable GPU fails
# the GPU tests and bench_gpu instead of falling back (tests/gpu_util.h).
export ACTK_REQUIRE_GPU=1
cd "$(dirname "$0")/.."
out=${OUT:-build/gpu-session}
mkdir -p "$out"
step() { # step NAME COMMAND...: run, log to $out/NAME.log, print the status
  local name=$1; shift
  local t0=$SECONDS
  "$@" >"$out/$name.log" 2>&1
  local rc=$?
  printf '%-16s exit %3d  %4ds  (%s)\n' "$name" "$rc" $((SECONDS - t0)) "$out/$name.log"
  return 0
}
python=""
for candidate in /usr/bin/python3 python3; do
  if "$candidate" -c "import matplotlib" 2>/dev/null; then python=$candidate; break; fi
done
step device      nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,clocks.max.mem --format=csv
step build       scripts/build.sh
step ctest       ctest --test-dir build --output-on-failure -j 4
step sanitize    scripts/sanitize_gpu.sh "$out/sanitize"
step sass        scripts/sass_report.sh --csv "$out/sass.csv"
if [ "${FULL:-0}" = 1 ]; then
  step bench     build/bench/bench_gpu --json "$out/bench.json" --csv "$out/bench.csv"
else
  step bench     build/bench/bench_gpu --quick --json "$out/bench.json" --csv "$out/bench.csv"
fi
if python3 -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; then
  step torch     python3 bench/compare_torch.py --lib build/libactk.so --json "$out/torch.json"
  step torch_options python3 bench/compare_torch.py --lib build/libactk.so --options --json "$out/torch_options.json"
fi
if [ -n "$python" ]; then
  torch_arg=()
  [ -f "$out/torch.json" ] && torch_arg=(--torch "$out/torch.json")
  step charts    "$python" bench/plot_bench.py "$out/bench.json" "$out/charts" "${torch_arg[@]}"
  step curves    build/tools/actk_curves --out "$out/curves_gpu.csv"
  step gallery   "$python" tools/plot_curves.py "$out/curves_gpu.csv" "$out/gallery"
fi
step mlp         build/examples/mlp/actk_mlp --act all --csv "$out/mlp.csv"
grep -hE "tests passed|tests failed" "$out/ctest.log" || true
grep -hE "^  (eltwise|softmax|prelu|maxout|rrelu)|agreement|host time|per call" "$out/bench.log" || true
grep -hE "^\| " "$out/mlp.log" || true
