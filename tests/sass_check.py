#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Static SASS checks of the built library (issue 11, item 4); no GPU needed.

Usage: sass_check.py --library LIB --cuda ON|OFF --archs "CMAKE_CUDA_ARCHITECTURES"
                     [--default-archs] [--rules tests/sass_budgets.txt] [--tools-dir DIR]

Fails (exit 1) when
  (a) an f32, f16 or bf16 kernel (element-wise or structured: softmax, PReLU,
      Maxout, RReLU), on any architecture in LIB, holds an FP64 instruction
      (tools/sass_cost.py's definition: D* arithmetic, 64-bit float
      conversions, MUFU.*64H);
  (b) an architecture the build was configured for is missing from
      `cuobjdump --list-elf LIB` (SASS) or `--list-ptx LIB` (PTX), no PTX at
      all is listed, or, for the default architecture list (--default-archs),
      one of the rules file's require_sass / require_ptx is missing;
  (c) an element-wise op's static instructions per element on sm_90 exceed
      the rules file's budget for its dtype and direction by more than the
      op's documented allowance.
Skips (exit 77) only when the build has no CUDA kernels (--cuda OFF).
cuobjdump and nvdisasm come from scripts/cuda_tools.sh (PATH, the toolkit, or
NVIDIA's PyPI wheels fetched into DIR); failing to get them is a failure.
"""
import argparse
import collections
import os
import re
import subprocess
import sys

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tools"))
import sass_cost  # noqa: E402

CHECKED_DTYPES = ("f32", "f16", "bf16")
SKIP = 77
BUDGET_ARCH = "sm_90"


def read_rules(path):
    rules = {"require_sass": set(), "require_ptx": set(), "budget": {}, "allow": {}}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            fields = line.split("#", 1)[0].split()
            if not fields:
                continue
            keyword, args = fields[0], fields[1:]
            if keyword in ("require_sass", "require_ptx"):
                rules[keyword].update(int(a) for a in args)
            elif keyword == "budget" and len(args) == 3:
                rules["budget"][(args[0], args[1])] = float(args[2])
            elif keyword == "allow" and len(args) == 4:
                rules["allow"][(args[0], args[1], args[2])] = float(args[3])
            else:
                raise SystemExit("sass_check: %s:%d: cannot read '%s'" % (path, number, line.strip()))
    return rules


def configured_archs(archs):
    """SASS and PTX architectures named by a CMAKE_CUDA_ARCHITECTURES value, or None if not plain numbers."""
    sass, ptx = set(), set()
    for entry in filter(None, re.split(r"[;,\s]+", archs)):
        m = re.fullmatch(r"(\d+)[a-z]?(-real|-virtual)?", entry)
        if not m:
            return None
        number = int(m.group(1))
        if m.group(2) != "-virtual":
            sass.add(number)
        if m.group(2) != "-real":
            ptx.add(number)
    return sass, ptx


def listed_archs(library, flag, suffix):
    result = subprocess.run(["cuobjdump", flag, library], capture_output=True, text=True)
    if result.returncode != 0 and "does not contain" not in result.stderr:
        raise SystemExit("sass_check: cuobjdump %s %s failed: %s" % (flag, library, result.stderr.strip()))
    return collections.Counter(int(a) for a in re.findall(r"\.sm_(\d+)[a-z]?\." + suffix + r"\b", result.stdout))


def check_archs(library, args, rules):
    """(b): problems, plus the SASS architectures found."""
    problems = []
    elf = listed_archs(library, "--list-elf", "cubin")
    ptx = listed_archs(library, "--list-ptx", "ptx")
    print("(b) SASS in %s: %s" % (os.path.basename(library),
                                  ", ".join("sm_%d (%d cubins)" % (a, n) for a, n in sorted(elf.items())) or "none"))
    print("    PTX: %s" % (", ".join("compute_%d (%d files)" % (a, n) for a, n in sorted(ptx.items())) or "none"))
    wanted_sass, wanted_ptx = set(), set()
    configured = configured_archs(args.archs)
    if configured is None:
        print("    CMAKE_CUDA_ARCHITECTURES=%s is not a list of numbers: checking only the rules' list" % args.archs)
    else:
        wanted_sass, wanted_ptx = configured
    if args.default_archs:
        wanted_sass |= rules["require_sass"]
        wanted_ptx |= rules["require_ptx"]
    else:
        print("    not the default architecture list: the rules' require_sass/require_ptx are not checked")
    for a in sorted(wanted_sass - set(elf)):
        problems.append("(b) no SASS for sm_%d in --list-elf" % a)
    for a in sorted(wanted_ptx - set(ptx)):
        problems.append("(b) no PTX for compute_%d in --list-ptx" % a)
    if not ptx and (args.default_archs or configured is None or wanted_ptx):
        problems.append("(b) --list-ptx lists no PTX: GPUs newer than the SASS list could not JIT the library")
    if elf and len(set(elf.values())) > 1:
        problems.append("(b) the architectures hold different numbers of cubins (%s): a kernel file was not "
                        "built for every architecture" % dict(sorted(elf.items())))
    return problems, sorted(elf)


def short_name(row):
    if row["kind"] == "elementwise":
        return "elementwise %s %s" % (row["op"], row["direction"])
    return row["kernel"]


def check_fp64(library, archs):
    """(a) on every architecture; returns problems and the sm_90 rows."""
    problems, budget_rows = [], None
    per_dtype = {}  # (dtype, kind) -> kernels with FP64 per architecture
    for arch in archs:
        name = "sm_%d" % arch
        rows = sass_cost.load([library], name)
        if name == BUDGET_ARCH:
            budget_rows = rows
        seen = collections.Counter((r["kind"], r["dtype"]) for r in rows)
        for kind in ("elementwise", "structured"):
            for dtype in CHECKED_DTYPES:
                if not seen[(kind, dtype)]:
                    problems.append("(a) %s: no %s %s kernel recognised in the SASS: the check would be empty "
                                    "(kernel names changed? update tools/sass_cost.py)" % (name, kind, dtype))
        families = collections.Counter((r["family"], r["dtype"]) for r in rows if r["kind"] == "structured")
        for family in sass_cost.STRUCTURED_FAMILIES:
            for dtype in CHECKED_DTYPES:
                if not families[(family, dtype)]:
                    problems.append("(a) %s: no %s %s kernel recognised in the SASS" % (name, family, dtype))
        offenders = [r for r in rows if r["dtype"] in CHECKED_DTYPES and r["fp64"] > 0]
        unclassified = [r for r in rows if r["dtype"] is None]
        by_kernel = collections.OrderedDict()
        for r in sorted(offenders, key=lambda r: (r["dtype"], short_name(r))):
            entry = by_kernel.setdefault((r["dtype"], short_name(r)), [0, 0, collections.Counter()])
            entry[0] += 1
            entry[1] += r["fp64"]
            entry[2].update(r["fp64_mnemonics"])
        print("(a) %s: %d kernels, %d of them f32/f16/bf16; %d hold FP64 instructions (%d in all)%s" % (
            name, len(rows), sum(1 for r in rows if r["dtype"] in CHECKED_DTYPES), len(offenders),
            sum(r["fp64"] for r in offenders),
            "; %d with no storage type in their name, not checked" % len(unclassified) if unclassified else ""))
        if name == BUDGET_ARCH or arch == archs[0]:
            for (dtype, kernel), (n, fp64, mnemonics) in by_kernel.items():
                top = ", ".join("%s %d" % kv for kv in mnemonics.most_common(3))
                print("      %-5s %-40s %3d inst. %6d FP64 (%s)" % (dtype, kernel, n, fp64, top))
        for r in offenders:
            per_dtype.setdefault((r["dtype"], r["kind"]), collections.Counter())[name] += 1
    for (dtype, kind), per_arch in sorted(per_dtype.items()):
        problems.append("(a) %s %s kernels hold FP64 instructions: %s" % (
            dtype, kind, ", ".join("%d on %s" % (n, a) for a, n in per_arch.items())))
    return problems, budget_rows


def check_budgets(rows, rules):
    """(c) on the sm_90 element-wise kernels."""
    problems, unneeded = [], []
    print("(c) %s instructions per element against the budget (+ allowance):" % BUDGET_ARCH)
    for r in sorted((r for r in rows if r["kind"] == "elementwise" and r["dtype"] in CHECKED_DTYPES),
                    key=lambda r: (r["dtype"], r["op"], r["direction"])):
        budget = rules["budget"].get((r["dtype"], r["direction"]))
        if budget is None:
            problems.append("(c) no budget for %s %s in the rules" % (r["dtype"], r["direction"]))
            continue
        allowance = rules["allow"].get((r["dtype"], r["op"], r["direction"]), 0.0)
        per_element = r["total"] / r["copies"]
        if per_element > budget + allowance:
            problems.append("(c) %s %s %s: %.1f instructions per element > budget %g + allowance %g" % (
                r["dtype"], r["op"], r["direction"], per_element, budget, allowance))
            print("      OVER  %-5s %-12s %-8s %6.1f > %g + %g" % (r["dtype"], r["op"], r["direction"], per_element,
                                                                  budget, allowance))
        elif allowance and per_element <= budget:
            unneeded.append("%s %s %s (%.1f <= %g)" % (r["dtype"], r["op"], r["direction"], per_element, budget))
    for key in rules["allow"]:
        if not any((r["dtype"], r["op"], r["direction"]) == key for r in rows if r["kind"] == "elementwise"):
            problems.append("(c) allowance for %s %s %s matches no kernel" % key)
    if unneeded:
        print("    allowances no longer needed (delete them from the rules): " + "; ".join(unneeded))
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--library", required=True)
    parser.add_argument("--cuda", required=True)
    parser.add_argument("--archs", default="")
    parser.add_argument("--default-archs", action="store_true")
    parser.add_argument("--rules", default=os.path.join(SOURCE_DIR, "tests", "sass_budgets.txt"))
    parser.add_argument("--tools-dir", default=os.path.join(SOURCE_DIR, "build", "cuobjdump"))
    args = parser.parse_args()
    if args.cuda.upper() in ("OFF", "0", "FALSE", "NO", ""):
        print("sass_check: SKIP: this build has no CUDA kernels (ACTK_CUDA_ENABLED is OFF)")
        return SKIP
    rules = read_rules(args.rules)
    tools = subprocess.run(["bash", os.path.join(SOURCE_DIR, "scripts", "cuda_tools.sh"), args.tools_dir],
                           capture_output=True, text=True)
    if tools.returncode != 0:
        print("sass_check: FAIL: cannot get cuobjdump/nvdisasm:\n" + tools.stderr, file=sys.stderr)
        return 1
    os.environ["PATH"] = tools.stdout.strip() + os.pathsep + os.environ["PATH"]
    print("sass_check: %s, CMAKE_CUDA_ARCHITECTURES=%s%s" % (args.library, args.archs,
                                                          " (default)" if args.default_archs else ""))

    problems, archs = check_archs(args.library, args, rules)
    if not archs:
        problems.append("(a) no SASS in the library at all")
    try:
        fp64_problems, budget_rows = check_fp64(args.library, archs)
    except RuntimeError as error:
        print("sass_check: FAIL: %s" % error, file=sys.stderr)
        return 1
    problems += fp64_problems
    if budget_rows is None:
        if args.default_archs:
            problems.append("(c) no %s SASS to check the budgets on" % BUDGET_ARCH)
        else:
            print("(c) not checked: this build has no %s SASS" % BUDGET_ARCH)
    else:
        problems += check_budgets(budget_rows, rules)

    if problems:
        print("\nsass_check: FAIL, %d problems:" % len(problems))
        for p in problems:
            print("  " + p)
        return 1
    print("\nsass_check: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
