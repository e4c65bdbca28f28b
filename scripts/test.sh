#!/usr/bin/env bash
# Builds actk and runs every test with ctest. GPU tests skip, with the
# reason, when no CUDA device is present.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)"
