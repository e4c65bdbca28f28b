#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs the built library into a temporary prefix, then builds and runs a
# consumer program against it with find_package(actk) (shared and static)
# and with pkg-config. Usage: install_consumer_test.sh BUILD_DIR SOURCE_DIR
set -eu
build_dir=$1
source_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir/tests/consumer" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/consumer_shared"
"$work/build/consumer_static"
libdir=$(find "$work/prefix" -name actk.pc -exec dirname {} \; | head -n 1)
PKG_CONFIG_PATH=$libdir pkg-config --exists actk
# shellcheck disable=SC2046
cc -o "$work/consumer_pc" "$source_dir/tests/consumer/consumer.c" $(PKG_CONFIG_PATH=$libdir pkg-config --cflags --libs actk) \
   -Wl,-rpath,"$(PKG_CONFIG_PATH=$libdir pkg-config --variable=libdir actk)"
"$work/consumer_pc"
echo "install consumer test passed"
