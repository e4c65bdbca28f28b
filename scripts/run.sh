#!/usr/bin/env bash
# The main job: build, then run every op on the GPU against the CPU
# reference (or on the CPU, with a clear line, when there is no GPU).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh >/dev/null
build/examples/actk_demo "$@"
