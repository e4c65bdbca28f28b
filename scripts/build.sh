#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Configures and builds actk into build/ (Release). CUDA is used when nvcc
# is on PATH or in /usr/local/cuda/bin. Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
  export PATH="/usr/local/cuda/bin:$PATH"
fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DACTK_WARNINGS_AS_ERRORS=ON "$@"
cmake --build build -j "$(nproc)"
