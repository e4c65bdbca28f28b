#!/usr/bin/env python3
"""Static instruction counts of actk's element-wise kernels, from SASS.

Usage: sass_cost.py OBJ_OR_SASS [...] [--csv FILE]

Each argument is an object/cubin (disassembled with `cuobjdump -sass`, which
must be on PATH) or a text file that already holds that output. For every
elementwise_kernel instantiation it prints the op, direction, storage type
and the number of SASS instructions: all, FP64 (D*), MUFU (the special-function
unit: ex2, lg2, rcp, ...) and branches. The kernel holds the op's code
P + 1 times (a 16-byte pack of P elements, unrolled, plus the scalar
head/tail loop), so "per element" divides by P + 1.

These are static counts: rare paths (tails, NaN handling, slow division)
are counted as if always taken, so they bound the cost from above. They are
a prediction aid for compute-bound kernels, not a measurement of speed.
"""
import collections
import re
import subprocess
import sys

PACK = {"f": 4, "d": 2, "6__half": 8, "13__nv_bfloat16": 8}
DTYPE = {"f": "f32", "d": "f64", "6__half": "f16", "13__nv_bfloat16": "bf16"}
DIRECTION = {"ForwardFn": "forward", "BackwardFn": "backward", "BackwardFromYFn": "from_y"}
NAME = re.compile(r"elementwise_kernelILi\dE(f|d|6__half|13__nv_bfloat16)NS_\d+(ForwardFn|BackwardFn|BackwardFromYFn)INS_\d+(\w+?)Op")
INSTRUCTION = re.compile(r"/\*[0-9a-f]{4,}\*/\s+(?:@!?U?P\w+\s+)?([A-Z][A-Z0-9_]*)")


def sass_text(path):
    if path.endswith(".sass") or path.endswith(".txt"):
        with open(path) as f:
            return f.read()
    return subprocess.run(["cuobjdump", "-sass", path], check=True, capture_output=True, text=True).stdout


def kernels(text):
    for body in re.split(r"\n\s*Function : ", text)[1:]:
        mangled = body.split("\n", 1)[0].strip()
        m = NAME.search(mangled)
        if not m:
            continue
        ops = [o for o in INSTRUCTION.findall(body) if o != "NOP"]
        counts = collections.Counter(ops)
        yield {
            "op": re.sub(r"(?<!^)(?=[A-Z])", "_", m.group(3)).lower(),
            "direction": DIRECTION[m.group(2)],
            "dtype": DTYPE[m.group(1)],
            "copies": PACK[m.group(1)] + 1,
            "total": len(ops),
            "fp64": sum(v for k, v in counts.items() if k.startswith("D") and k != "DEPBAR"),
            "mufu": counts["MUFU"],
            "branches": counts["BRA"],
        }


def main(argv):
    csv_path = None
    if "--csv" in argv:
        i = argv.index("--csv")
        csv_path = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    if not argv or "-h" in argv or "--help" in argv:
        print(__doc__)
        return 0 if argv else 2
    rows = [k for path in argv for k in kernels(sass_text(path))]
    rows.sort(key=lambda r: (r["dtype"], r["op"], r["direction"]))
    header = "%-5s %-12s %-8s %7s %6s %6s %5s   %s" % ("dtype", "op", "dir", "instr", "fp64", "mufu", "bra", "per element (instr/fp64)")
    print(header)
    for r in rows:
        c = r["copies"]
        print("%-5s %-12s %-8s %7d %6d %6d %5d   %6.1f / %5.1f" % (r["dtype"], r["op"], r["direction"], r["total"], r["fp64"],
                                                               r["mufu"], r["branches"], r["total"] / c, r["fp64"] / c))
    if csv_path:
        with open(csv_path, "w") as f:
            f.write("dtype,op,direction,instructions,fp64,mufu,branches,copies\n")
            for r in rows:
                f.write("%s,%s,%s,%d,%d,%d,%d,%d\n" % (r["dtype"], r["op"], r["direction"], r["total"], r["fp64"], r["mufu"],
                                                      r["branches"], r["copies"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
