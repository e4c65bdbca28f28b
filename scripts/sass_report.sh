#!/usr/bin/env bash
# Static SASS instruction counts of the element-wise kernels, per op, dtype
# and direction (tools/sass_cost.py), from the objects of a build made by
# scripts/build.sh. Extra arguments go to sass_cost.py (e.g. --csv FILE).
# Needs cuobjdump and nvdisasm: the CUDA toolkit's, or else NVIDIA's PyPI
# wheels, fetched once into build/cuobjdump. No GPU needed.
set -euo pipefail
cd "$(dirname "$0")/.."
# cuobjdump -sass runs nvdisasm, so both are needed.
if ! command -v cuobjdump >/dev/null 2>&1 || ! command -v nvdisasm >/dev/null 2>&1; then
  if [ -x /usr/local/cuda/bin/cuobjdump ] && [ -x /usr/local/cuda/bin/nvdisasm ]; then
    PATH="/usr/local/cuda/bin:$PATH"
  else
    dir=build/cuobjdump
    for package in cuobjdump nvdisasm; do
      tool=$(find "$dir" -name "$package" -type f 2>/dev/null | head -n 1 || true)
      if [ -z "$tool" ]; then
        python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$dir/wheel-$package" "nvidia-cuda-$package"
        python3 -m zipfile -e "$(ls "$dir/wheel-$package"/*.whl | head -n 1)" "$dir"
        tool=$(find "$dir" -name "$package" -type f | head -n 1)
        chmod +x "$tool"
      fi
      PATH="$(dirname "$tool"):$PATH"
    done
  fi
fi
objects=()
for dtype in f32 f16 bf16 f64; do
  objects+=("build/CMakeFiles/actk_objects.dir/kernels/elementwise_$dtype.cu.o")
done
for o in "${objects[@]}"; do
  [ -f "$o" ] || { echo "sass_report.sh: $o not found; run scripts/build.sh first (CUDA build)" >&2; exit 1; }
done
python3 tools/sass_cost.py "${objects[@]}" "$@"
