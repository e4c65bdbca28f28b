#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs actk_curves and plot_curves.py into a temporary folder and checks
# that every expected PNG exists and is a non-empty PNG file.
# Usage: plot_curves_test.sh ACTK_CURVES PYTHON PLOT_SCRIPT
set -eu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$1" --cpu-only --points 201 --out "$work/curves.csv"
"$2" "$3" "$work/curves.csv" "$work/out"
count=0
for png in "$work"/out/*.png; do
  [ -s "$png" ] || { echo "empty: $png"; exit 1; }
  head -c 8 "$png" | od -An -tx1 | grep -q "89 50 4e 47" || { echo "not a PNG: $png"; exit 1; }
  count=$((count + 1))
done
for name in all_ops family_relu_like family_sigmoid_tanh gelu relu sigmoid; do
  [ -s "$work/out/$name.png" ] || { echo "missing $name.png"; exit 1; }
done
echo "plot test: $count PNGs"
[ "$count" -ge 27 ]
