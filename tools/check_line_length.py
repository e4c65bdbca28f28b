#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Lists the lines longer than the house limit (120 columns, as in .clang-format)
in the C, C++, CUDA and CMake sources, and exits 1 when there is any.

    tools/check_line_length.py [--limit N] [--skip-listed FILE] [PATH ...]

Without PATHs it checks every tracked source file (git ls-files), or, outside a
git checkout, every such file under the repository except build folders.
--skip-listed FILE leaves out the paths FILE lists (one a line, # comments):
files whose wrapping is still pending; the ctest line_length_check passes
tools/line_length_pending.txt, which should shrink to nothing.
tools/wrap_long_lines.sh reformats exactly the lines this lists.
"""
import argparse
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOURCE_SUFFIXES = (".c", ".h", ".cpp", ".hpp", ".cc", ".cu", ".cuh", ".cmake")


def is_source(path):
    name = os.path.basename(path)
    return name.endswith(SOURCE_SUFFIXES) or name == "CMakeLists.txt"


def tracked_sources():
    try:
        out = subprocess.run(["git", "-C", ROOT, "ls-files"], check=True, capture_output=True, text=True).stdout
        paths = out.split("\n")
    except (OSError, subprocess.CalledProcessError):
        paths = []
        for folder, dirs, files in os.walk(ROOT):
            dirs[:] = [d for d in dirs if not d.startswith("build") and not d.startswith(".")]
            paths += [os.path.relpath(os.path.join(folder, f), ROOT) for f in files]
    return sorted(p for p in paths if p and is_source(p) and os.path.isfile(os.path.join(ROOT, p)))


def long_lines(path, limit):
    """(line number, width) of each line over the limit; width counts characters, not bytes."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            width = len(line.rstrip("\r\n").expandtabs(4))
            if width > limit:
                yield number, width


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=120)
    parser.add_argument("--ranges", action="store_true",
                        help="print PATH:FIRST:LAST runs of consecutive long lines (for wrap_long_lines.sh)")
    parser.add_argument("--skip-listed", metavar="FILE", help="leave out the paths FILE lists")
    parser.add_argument("paths", nargs="*")
    args = parser.parse_args()
    skipped = set()
    if args.skip_listed:
        with open(args.skip_listed, encoding="utf-8") as f:
            skipped = {line.split("#")[0].strip() for line in f} - {""}
    paths = args.paths or [os.path.join(ROOT, p) for p in tracked_sources() if p not in skipped]
    found = 0
    for path in paths:
        shown = os.path.relpath(path, ROOT) if os.path.isabs(path) else path
        hits = list(long_lines(path, args.limit))
        found += len(hits)
        if args.ranges:
            run = None
            for number, _ in hits:
                if run and number == run[1] + 1:
                    run[1] = number
                else:
                    if run:
                        print(f"{shown}:{run[0]}:{run[1]}")
                    run = [number, number]
            if run:
                print(f"{shown}:{run[0]}:{run[1]}")
        else:
            for number, width in hits:
                print(f"{shown}:{number}: {width} columns (limit {args.limit})")
    if found and not args.ranges:
        print(f"{found} line(s) over {args.limit} columns; tools/wrap_long_lines.sh wraps them", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
