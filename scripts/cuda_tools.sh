#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Usage: scripts/cuda_tools.sh [DIR]
# Prints a PATH prefix under which cuobjdump and nvdisasm (cuobjdump -sass runs
# nvdisasm) are found: the ones already on PATH, the CUDA toolkit's, or else
# NVIDIA's PyPI wheels (nvidia-cuda-cuobjdump, nvidia-cuda-nvdisasm, CUDA 13),
# fetched once with pip into DIR (default build/cuobjdump). No GPU needed.
# Callers: PATH="$(scripts/cuda_tools.sh DIR):$PATH".
# Used by scripts/sass_report.sh and tests/sass_check.py (ctest sass_check).
# Exit status 1, with the reason on stderr, when the tools can be neither
# found nor fetched.
set -euo pipefail
dir=${1:-"$(cd "$(dirname "$0")/.." && pwd)/build/cuobjdump"}

if command -v cuobjdump >/dev/null 2>&1 && command -v nvdisasm >/dev/null 2>&1; then
  echo "$(dirname "$(command -v cuobjdump)"):$(dirname "$(command -v nvdisasm)")"
  exit 0
fi
if [ -x /usr/local/cuda/bin/cuobjdump ] && [ -x /usr/local/cuda/bin/nvdisasm ]; then
  echo /usr/local/cuda/bin
  exit 0
fi

prefix=""
for package in cuobjdump nvdisasm; do
  tool=$(find "$dir" -name "$package" -type f 2>/dev/null | head -n 1 || true)
  if [ -z "$tool" ]; then
    if ! python3 -m pip --version >/dev/null 2>&1; then
      echo "cuda_tools.sh: $package is not on PATH nor in /usr/local/cuda/bin, and python3 has no pip" \
           "to fetch NVIDIA's wheel nvidia-cuda-$package (install python3-pip, or the toolkit's $package)" >&2
      exit 1
    fi
    rm -rf "$dir/wheel-$package"
    if ! python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$dir/wheel-$package" \
         "nvidia-cuda-$package==13.*" >&2; then
      echo "cuda_tools.sh: could not fetch nvidia-cuda-$package from PyPI with pip (network?);" \
           "$package is not on PATH nor in /usr/local/cuda/bin either" >&2
      exit 1
    fi
    python3 -m zipfile -e "$(ls "$dir/wheel-$package"/*.whl | head -n 1)" "$dir"
    tool=$(find "$dir" -name "$package" -type f | head -n 1)
    if [ -z "$tool" ]; then
      echo "cuda_tools.sh: the wheel nvidia-cuda-$package holds no $package binary" >&2
      exit 1
    fi
    chmod +x "$tool"
  fi
  prefix="${prefix:+$prefix:}$(cd "$(dirname "$tool")" && pwd)"
done
echo "$prefix"
