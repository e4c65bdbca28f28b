#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Wraps the C/C++/CUDA lines longer than 120 columns with clang-format and the
# repository's .clang-format, touching only those lines (clang-format -i
# --lines=a:b for each run of long lines that tools/check_line_length.py
# reports), so nothing else in a file moves. Long comments are reflowed too
# (ReflowComments on for these lines only). CMake files are listed, not
# changed: wrap them by hand.
#
#   tools/wrap_long_lines.sh [PATH ...]     (default: every tracked source)
#
# Needs clang-format 14 or later (Debian/Ubuntu: apt-get install clang-format;
# scripts/setup.sh installs it).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
clang_format="${CLANG_FORMAT:-clang-format}"
if ! command -v "$clang_format" > /dev/null; then
    echo "wrap_long_lines.sh: clang-format not found (apt-get install clang-format, or set CLANG_FORMAT)" >&2
    exit 2
fi

# The house style with comment reflow on: only lines given by --lines change.
style_dir="$(mktemp -d)"
trap 'rm -rf "$style_dir"' EXIT
sed 's/^ReflowComments: false/ReflowComments: true/' .clang-format > "$style_dir/.clang-format"

declare -A ranges=()
while IFS=: read -r path first last; do
    ranges["$path"]+=" --lines=$first:$last"
done < <(python3 tools/check_line_length.py --ranges "$@" || true)

status=0
for path in $(printf '%s\n' "${!ranges[@]}" | sort); do
    case "$path" in
    *.c | *.h | *.cpp | *.hpp | *.cc | *.cu | *.cuh)
        # shellcheck disable=SC2086 # the --lines options are meant to split
        "$clang_format" -i --style="file:$style_dir/.clang-format" ${ranges[$path]} "$path" ;;
    *)
        echo "wrap_long_lines.sh: $path: not C/C++/CUDA, wrap by hand:${ranges[$path]}" >&2
        status=1 ;;
    esac
done
# What clang-format could not wrap (long string literals, URLs, tokens).
python3 tools/check_line_length.py "$@" || status=1
exit $status
