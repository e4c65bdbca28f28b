#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks (default) or adds (--fix) the SPDX licence line in every source file.

Source files: tracked (git ls-files) or, outside a git checkout, found under
the source tree: *.c *.h *.cu *.cuh *.cpp *.py *.sh, CMakeLists.txt, *.cmake,
*.cmake.in and .ci/run. The line must sit in the first three lines. --fix puts
it on line 1 (line 2 after a #! line) as a comment in the file's syntax.
Exit 0: every file has it; 1: some lack it (listed); --fix always exits 0.
"""
import os
import subprocess
import sys

TAG = "SPDX-License-Identifier: MIT"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SLASH = (".c", ".h", ".cu", ".cuh", ".cpp")
HASH = (".py", ".sh", ".cmake", ".cmake.in")


def style(path):
    name = os.path.basename(path)
    if name.endswith(SLASH):
        return "// "
    if name.endswith(HASH) or name == "CMakeLists.txt" or path.replace(os.sep, "/").endswith(".ci/run"):
        return "# "
    return None


def source_files():
    try:
        out = subprocess.run(["git", "-C", ROOT, "ls-files"], check=True, capture_output=True, text=True).stdout
        paths = out.split()
    except (OSError, subprocess.CalledProcessError):
        paths = []
        for d, dirs, files in os.walk(ROOT):
            dirs[:] = [x for x in dirs if not x.startswith("build") and x != ".git"]
            paths += [os.path.relpath(os.path.join(d, f), ROOT) for f in files]
    return [p for p in paths if style(p) and os.path.isfile(os.path.join(ROOT, p))]


def main():
    fix = "--fix" in sys.argv[1:]
    missing = []
    for rel in source_files():
        path = os.path.join(ROOT, rel)
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        if any(TAG in line for line in lines[:3]):
            continue
        missing.append(rel)
        if fix:
            at = 1 if lines and lines[0].startswith("#!") else 0
            lines.insert(at, style(rel) + TAG)
            with open(path, "w", encoding="utf-8") as f:
                f.write("\n".join(lines))
    if fix:
        print(f"added the SPDX line to {len(missing)} files")
        return 0
    for rel in missing:
        print(f"{rel}: no '{TAG}' in its first three lines")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
