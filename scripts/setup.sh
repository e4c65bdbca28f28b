#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs what building and testing actk needs, if it is missing:
# a C/C++ toolchain, CMake (>= 3.25), pkg-config, GoogleTest and
# Debian's python3-matplotlib (for the pictures), clang with libFuzzer, and
# zlib + OpenBLAS + dataset-fashion-mnist (for the MLP example), clang-format
# (tools/wrap_long_lines.sh), and pip
# (to fetch NVIDIA's cuobjdump for the SASS check).
# The CUDA toolkit is optional and is not installed here.
set -euo pipefail

missing=()
command -v cc >/dev/null 2>&1 || missing+=(gcc)
command -v c++ >/dev/null 2>&1 || missing+=(g++)
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
[ -f /usr/include/gtest/gtest.h ] || missing+=(libgtest-dev)
# clang and its runtimes for the sanitizer build and libFuzzer
command -v clang >/dev/null 2>&1 || missing+=(clang)
compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" >/dev/null || missing+=(libclang-rt-dev)
# the MLP example: zlib, OpenBLAS (CBLAS) and the Fashion-MNIST data set
[ -f /usr/include/zlib.h ] || missing+=(zlib1g-dev)
{ compgen -G "/usr/include/x86_64-linux-gnu/openblas*/cblas.h" >/dev/null || [ -f /usr/include/cblas.h ]; } || missing+=(libopenblas-dev)
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || missing+=(dataset-fashion-mnist)
# clang-format for tools/wrap_long_lines.sh (the 120-column check itself is Python)
command -v clang-format >/dev/null 2>&1 || missing+=(clang-format)
# pip fetches NVIDIA's cuobjdump/nvdisasm wheels for the SASS check (scripts/cuda_tools.sh)
/usr/bin/python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
# matplotlib for the pictures (tools/plot_curves.py) and their test
/usr/bin/python3 -c "import matplotlib" >/dev/null 2>&1 || missing+=(python3-matplotlib)

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo_cmd apt-get update -qq
  $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# nvcc is usually not on PATH by default; the build finds it there.
if ! command -v nvcc >/dev/null 2>&1 && [ -x /usr/local/cuda/bin/nvcc ]; then
  echo "setup: CUDA toolkit found at /usr/local/cuda (add /usr/local/cuda/bin to PATH to use it)"
fi
