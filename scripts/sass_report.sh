#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Static SASS instruction counts of the element-wise kernels, per op, dtype
# and direction, and of the structured kernels (tools/sass_cost.py), from the
# objects of a build made by scripts/build.sh. Only one architecture's SASS
# is read from the multi-architecture objects: sm_90 unless the arguments say
# --arch sm_XX. Extra arguments go to sass_cost.py (e.g. --csv FILE).
# Needs cuobjdump and nvdisasm: the CUDA toolkit's, or else NVIDIA's PyPI
# wheels, fetched once into build/cuobjdump (scripts/cuda_tools.sh). No GPU needed.
set -euo pipefail
cd "$(dirname "$0")/.."
PATH="$(scripts/cuda_tools.sh build/cuobjdump):$PATH"
objects=()
for name in elementwise_f32 elementwise_f16 elementwise_bf16 elementwise_f64 softmax prelu maxout rrelu; do
  objects+=("build/CMakeFiles/actk_objects.dir/kernels/$name.cu.o")
done
for o in "${objects[@]}"; do
  [ -f "$o" ] || { echo "sass_report.sh: $o not found; run scripts/build.sh first (CUDA build)" >&2; exit 1; }
done
python3 tools/sass_cost.py "${objects[@]}" "$@"
