#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Regenerates every picture in docs/gallery/ from the library's own outputs:
# actk_curves evaluates f and f' of every op (CPU path, and the GPU path
# with a GPU-vs-CPU ULP figure when a CUDA device is present), then
# tools/plot_curves.py draws them.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh >/dev/null
python=""
for candidate in /usr/bin/python3 python3; do
  if "$candidate" -c "import matplotlib" 2>/dev/null; then python=$candidate; break; fi
done
[ -n "$python" ] || { echo "make_pictures: no Python with matplotlib (apt-get install python3-matplotlib)"; exit 1; }
build/tools/actk_curves --out build/curves.csv
"$python" tools/plot_curves.py build/curves.csv docs/gallery
