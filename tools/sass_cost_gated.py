#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Static SASS instruction counts of actk's gated kernels (kernels/gated_*.cu).

Usage: sass_cost_gated.py OBJ_OR_SASS [...] [--csv FILE]

Like tools/sass_cost.py for the element-wise kernels: every
gated_forward_kernel / gated_backward_kernel / gated_bias_backward_kernel
instantiation with its op,
direction and storage type, and the number of SASS instructions: all, FP64,
MUFU and branches. The kernel holds the op's code P + 1 times (a 16-byte
pack of P outputs, unrolled, plus the scalar path), so "per output" divides
by P + 1. Static counts: rare paths (tails, NaN, range rescaling of
dy * up) are counted as if taken, so they bound the executed count from
above. Needs cuobjdump (and nvdisasm) on PATH for object files.
"""
import collections
import re
import subprocess
import sys

PACK = {"f": 4, "d": 2, "6__half": 8, "13__nv_bfloat16": 8}
DTYPE = {"f": "f32", "d": "f64", "6__half": "f16", "13__nv_bfloat16": "bf16"}
NAME = re.compile(r"gated_(forward|backward|bias_backward)_kernelI(f|d|6__half|13__nv_bfloat16)NS_\d+GatedFnINS_\d+"
                  r"(?:GatedProductOpINS_\d+(\w+?)Op|(ClampedSwiglu)Op)")
INSTRUCTION = re.compile(r"/\*[0-9a-f]{4,}\*/\s+(?:@!?U?P\w+\s+)?([A-Z][A-Z0-9_]*)")


def sass_text(path):
    if path.endswith(".sass") or path.endswith(".txt"):
        with open(path) as f:
            return f.read()
    return subprocess.run(["cuobjdump", "-sass", path], check=True, capture_output=True, text=True).stdout


def snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def kernels(text):
    for body in re.split(r"\n\s*Function : ", text)[1:]:
        mangled = body.split("\n", 1)[0].strip()
        m = NAME.search(mangled)
        if not m:
            continue
        ops = [o for o in INSTRUCTION.findall(body) if o != "NOP"]
        counts = collections.Counter(ops)
        yield {
            "op": snake(m.group(3) or m.group(4)),
            "direction": m.group(1),
            "dtype": DTYPE[m.group(2)],
            # the bias backward (gated_dbias_engine.cuh) holds the op once: one column per thread
            "copies": 1 if m.group(1) == "bias_backward" else PACK[m.group(2)] + 1,
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
    print("%-5s %-14s %-13s %7s %6s %6s %5s   %s" % ("dtype", "op", "dir", "instr", "fp64", "mufu", "bra",
                                                  "per output (instr/fp64)"))
    for r in rows:
        c = r["copies"]
        print("%-5s %-14s %-13s %7d %6d %6d %5d   %6.1f / %5.1f" % (r["dtype"], r["op"], r["direction"], r["total"],
                                                                 r["fp64"], r["mufu"], r["branches"], r["total"] / c,
                                                                 r["fp64"] / c))
    if csv_path:
        with open(csv_path, "w") as f:
            f.write("dtype,op,direction,instructions,fp64,mufu,branches,copies\n")
            for r in rows:
                f.write("%s,%s,%s,%d,%d,%d,%d,%d\n" % (r["dtype"], r["op"], r["direction"], r["total"], r["fp64"],
                                                      r["mufu"], r["branches"], r["copies"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
