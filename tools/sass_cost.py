#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Static instruction counts of actk's kernels, from SASS.

Usage: sass_cost.py OBJ_OR_SASS [...] [--arch sm_90] [--csv FILE] [--kernels-csv FILE]

Each argument is an object, cubin or library (disassembled with
`cuobjdump -arch ARCH -sass`; cuobjdump and nvdisasm must be on PATH) or a
text file (.sass, .txt) that already holds cuobjdump's output. Only the SASS
of ARCH (default sm_90) is counted, so a multi-architecture build gives one
figure per kernel.

Element-wise kernels (elementwise_kernel): one row per op, direction and
storage type with the number of SASS instructions: all, FP64, MUFU (the
special-function unit: ex2, lg2, rcp, ...) and branches. The kernel holds
the op's code P + 1 times (a 16-byte pack of P elements, unrolled, plus the
scalar head/tail loop), so "per element" divides by P + 1. --csv writes
these rows.

Structured kernels (softmax, PReLU, Maxout, RReLU, cross-entropy; storage type taken from
the first type argument of the mangled name): one line per kernel and dtype
with its instantiations summed. --kernels-csv writes every kernel, both kinds.

FP32 (CSV only) counts the FP32 pipe's float and packed-half arithmetic.
FP64 counts every instruction of the FP64 pipe: D* arithmetic and compares
(DFMA, DADD, DMUL, DSETP, ...), conversions to or from 64-bit floats
(F2F.F64.F32, I2F.F64, F2I.*.F64, ...) and MUFU's 64-bit seeds (RCP64H,
RSQ64H).

These are static counts: rare paths (tails, NaN handling, slow division)
are counted as if always taken, so they bound the cost from above. They are
a prediction aid for compute-bound kernels, not a measurement of speed.
"""
import collections
import re
import subprocess
import sys

# Storage type as mangled (first type argument of a kernel template).
DTYPE = {"f": "f32", "d": "f64", "6__half": "f16", "13__nv_bfloat16": "bf16"}
ELEMENTS_PER_PACK = {"f32": 4, "f64": 2, "f16": 8, "bf16": 8}  # 16 bytes
DIRECTION = {"ForwardFn": "forward", "BackwardFn": "backward", "BackwardFromYFn": "from_y"}
ELEMENTWISE = re.compile(r"ILi\d+E(f|d|6__half|13__nv_bfloat16)NS_\d+(ForwardFn|BackwardFn|BackwardFromYFn)INS_\d+(\w+?)Op")
FIRST_TYPE_ARGUMENT = re.compile(r"I(?:L[^E]*E)*(f|d|6__half|13__nv_bfloat16)(?=[EL]|NS_|\d)")
STRUCTURED_FAMILIES = ("softmax", "prelu", "maxout", "rrelu", "cross_entropy")
# One instruction: address comment, optional predicate, mnemonic with its modifiers.
INSTRUCTION = re.compile(r"/\*[0-9a-f]{4,}\*/\s+(?:@!?U?P\w+\s+)?([A-Z][A-Z0-9_]*(?:\.[A-Z0-9_]+)*)")
# Instructions of the FP32 pipe (float and packed-half arithmetic), for GPUs
# whose FP32 pipe is narrower than the issue rate (sm_80: 64 lanes per SM).
FP32_PIPE = {"FFMA", "FADD", "FMUL", "FMNMX", "FSETP", "FSET", "FSWZADD", "HFMA2", "HADD2", "HMUL2", "HMNMX2",
             "HSETP2", "HSET2"}
CODE_FOR = re.compile(r"^\s*code for (sm_\w+)\s*$", re.M)


def is_fp64(mnemonic):
    """True for an instruction that runs on the FP64 pipe."""
    opcode, _, modifiers = mnemonic.partition(".")
    if opcode.startswith("D") and opcode != "DEPBAR":
        return True
    if opcode == "MUFU":
        return "64H" in modifiers
    return ".F64" in "." + modifiers


def sass_text(path, arch="sm_90"):
    if path.endswith(".sass") or path.endswith(".txt"):
        with open(path) as f:
            return f.read()
    result = subprocess.run(["cuobjdump", "-arch", arch, "-sass", path], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError("cuobjdump -arch %s -sass %s failed: %s" % (arch, path, result.stderr.strip()))
    return result.stdout


def mangled_parts(mangled):
    """(kernel name, rest of the mangled name) of _ZN<len><id>...<len><name>I...; None if not nested."""
    if not mangled.startswith("_ZN"):
        return None
    i, name = 3, None
    while i < len(mangled) and mangled[i].isdigit():
        j = i
        while mangled[j].isdigit():
            j += 1
        length = int(mangled[i:j])
        name = mangled[j:j + length]
        i = j + length
    return (name, mangled[i:]) if name else None


def classify(mangled):
    """The kernel's kind, name and storage type from its mangled name."""
    parts = mangled_parts(mangled)
    if not parts:
        return {"kind": "other", "kernel": mangled, "dtype": None}
    name, rest = parts
    m = ELEMENTWISE.match(rest) if name == "elementwise_kernel" else None
    if m:
        dtype = DTYPE[m.group(1)]
        return {"kind": "elementwise", "kernel": name, "dtype": dtype,
                "op": re.sub(r"(?<!^)(?=[A-Z])", "_", m.group(3)).lower(),
                "direction": DIRECTION[m.group(2)], "copies": ELEMENTS_PER_PACK[dtype] + 1}
    m = FIRST_TYPE_ARGUMENT.match(rest)
    if m and name.startswith(STRUCTURED_FAMILIES):
        return {"kind": "structured", "kernel": name, "dtype": DTYPE[m.group(1)],
                "family": next(f for f in STRUCTURED_FAMILIES if name.startswith(f))}
    return {"kind": "other", "kernel": name, "dtype": DTYPE[m.group(1)] if m else None}


def kernels(text, arch="sm_90"):
    """Every kernel of `arch` in cuobjdump -sass output, with its counts."""
    pieces = CODE_FOR.split(text)
    # pieces: [preamble, arch1, body1, arch2, body2, ...]; text without
    # "code for" lines (a single cubin's dump) is taken as `arch`.
    sections = list(zip(pieces[1::2], pieces[2::2])) if len(pieces) > 1 else [(arch, text)]
    for section_arch, section in sections:
        if section_arch != arch:
            continue
        for body in re.split(r"\n\s*Function : ", section)[1:]:
            mangled = body.split("\n", 1)[0].strip()
            mnemonics = [m for m in INSTRUCTION.findall(body) if m != "NOP"]
            opcodes = collections.Counter(m.split(".", 1)[0] for m in mnemonics)
            fp64 = collections.Counter(m for m in mnemonics if is_fp64(m))
            row = classify(mangled)
            row.update({"mangled": mangled, "arch": section_arch, "total": len(mnemonics),
                        "fp64": sum(fp64.values()), "fp64_mnemonics": fp64,
                        "fp32": sum(opcodes[o] for o in FP32_PIPE),
                        "mufu": opcodes["MUFU"], "branches": opcodes["BRA"]})
            yield row


def load(paths, arch="sm_90"):
    return [k for path in paths for k in kernels(sass_text(path, arch), arch)]


def main(argv):
    options = {"--csv": None, "--kernels-csv": None, "--arch": "sm_90"}
    for flag in options:
        if flag in argv:
            i = argv.index(flag)
            options[flag] = argv[i + 1]
            argv = argv[:i] + argv[i + 2:]
    if not argv or "-h" in argv or "--help" in argv:
        print(__doc__)
        return 0 if argv else 2
    arch = options["--arch"]
    try:
        rows = load(argv, arch)
    except RuntimeError as error:
        print("sass_cost.py: %s" % error, file=sys.stderr)
        return 1
    if not rows:
        print("sass_cost.py: no %s SASS in %s" % (arch, " ".join(argv)), file=sys.stderr)
        return 1
    elementwise = sorted((r for r in rows if r["kind"] == "elementwise"),
                         key=lambda r: (r["dtype"], r["op"], r["direction"]))
    if elementwise:
        print("%s, element-wise kernels" % arch)
        print("%-5s %-12s %-8s %7s %6s %6s %5s   %s" % ("dtype", "op", "dir", "instr", "fp64", "mufu", "bra",
                                                     "per element (instr/fp64)"))
        for r in elementwise:
            c = r["copies"]
            print("%-5s %-12s %-8s %7d %6d %6d %5d   %6.1f / %5.1f" % (
                r["dtype"], r["op"], r["direction"], r["total"], r["fp64"], r["mufu"], r["branches"],
                r["total"] / c, r["fp64"] / c))
    structured = collections.OrderedDict()
    for r in sorted((r for r in rows if r["kind"] == "structured"), key=lambda r: (r["dtype"], r["kernel"])):
        s = structured.setdefault((r["dtype"], r["kernel"]), [0, 0, 0, 0])
        s[0] += 1
        s[1] += r["total"]
        s[2] += r["fp64"]
        s[3] += r["mufu"]
    if structured:
        print("\n%s, structured kernels (instantiations summed)" % arch)
        print("%-5s %-34s %5s %7s %6s %6s" % ("dtype", "kernel", "inst", "instr", "fp64", "mufu"))
        for (dtype, kernel), (n, total, fp64, mufu) in structured.items():
            print("%-5s %-34s %5d %7d %6d %6d" % (dtype, kernel, n, total, fp64, mufu))
    if options["--csv"]:
        with open(options["--csv"], "w") as f:
            f.write("dtype,op,direction,instructions,fp64,mufu,branches,copies,fp32\n")
            for r in elementwise:
                f.write("%s,%s,%s,%d,%d,%d,%d,%d,%d\n" % (r["dtype"], r["op"], r["direction"], r["total"], r["fp64"],
                                                         r["mufu"], r["branches"], r["copies"], r["fp32"]))
    if options["--kernels-csv"]:
        with open(options["--kernels-csv"], "w") as f:
            f.write("arch,kind,kernel,dtype,op,direction,instructions,fp64,mufu,branches,mangled\n")
            for r in rows:
                f.write("%s,%s,%s,%s,%s,%s,%d,%d,%d,%d,%s\n" % (
                    r["arch"], r["kind"], r["kernel"], r["dtype"] or "", r.get("op", ""), r.get("direction", ""),
                    r["total"], r["fp64"], r["mufu"], r["branches"], r["mangled"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
