#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Memory-level parallelism of actk's kernels, statically, from SASS.

Usage: mlp_audit.py OBJ_OR_SASS [...] [--arch sm_90] [--match REGEX]

For every kernel (demangled name matching REGEX, default all) and every
loop in its SASS (a backward branch: the body runs from the branch target to
the branch), prints the global loads (LDG) of the body and the most of them
outstanding at once in one pass over the body: a load is outstanding from
its issue until the first instruction that reads its destination register
(in-order issue: that instruction waits for it). The peak is the number of
loads, and of bytes, that one thread keeps in flight per iteration; times the
threads resident per SM it gives the bytes in flight per SM that Little's
law turns into a bandwidth bound (docs/PERF.md, memory-level parallelism
audit). Registers per thread come from `cuobjdump -res-usage`.

This is static analysis: a body with inner branches is read as one straight
line, and loads the hardware merges or caches are counted as issued. Needs
cuobjdump on PATH (scripts/cuda_tools.sh fetches it).
"""
import re
import subprocess
import sys

FUNCTION = re.compile(r"^\s*Function : (\S+)")
LINE = re.compile(r"/\*([0-9a-f]{4,})\*/\s+(@!?U?P\w+\s+)?([A-Z][A-Z0-9_]*(?:\.[A-Z0-9_]+)*)\s*([^;]*);")
REGISTER = re.compile(r"\bR(\d+)(\.64|\.128)?\b")
RES_USAGE = re.compile(r"Function (\S+):\s*REG:(\d+)\s+STACK:(\d+)\s+SHARED:(\d+)")
LOAD_BYTES = {"U8": 1, "S8": 1, "U16": 2, "S16": 2, "64": 8, "128": 16}
STORES = ("STG", "STS", "ST", "STL", "RED", "ATOM", "ATOMG", "ATOMS")


def load_width(mnemonic):
    """Bytes of one LDG (LDG.E is 4 bytes)."""
    for modifier in mnemonic.split(".")[1:]:
        if modifier in LOAD_BYTES:
            return LOAD_BYTES[modifier]
    return 4


def registers(operand, width=4):
    """Register numbers an operand names (a .64 pair, a .128 quad, or `width` bytes from a destination)."""
    found = set()
    for number, suffix in REGISTER.findall(operand):
        count = {".64": 2, ".128": 4}.get(suffix, max(1, width // 4))
        found.update(range(int(number), int(number) + count))
    return found


def loop_mlp(body):
    """(loads in the body, peak loads outstanding, peak bytes outstanding) over one pass of the body."""
    outstanding = {}  # register -> (load id, bytes)
    loads = peak = peak_bytes = 0
    for mnemonic, operands in body:
        opcode = mnemonic.split(".")[0]
        parts = [p.strip() for p in operands.split(",")]
        sources = parts if opcode in STORES or opcode.startswith("ST") else parts[1:]
        used = set()
        for operand in sources:
            used |= registers(operand)
        consumed = {outstanding[r][0] for r in used if r in outstanding}
        if consumed:
            outstanding = {r: v for r, v in outstanding.items() if v[0] not in consumed}
        if opcode == "LDG":
            loads += 1
            width = load_width(mnemonic)
            for r in registers(parts[0], width):
                outstanding[r] = (loads, width)
        live = {v for v in outstanding.values()}
        if len(live) > peak or (len(live) == peak and sum(b for _, b in live) > peak_bytes):
            peak, peak_bytes = len(live), sum(b for _, b in live)
    return loads, peak, peak_bytes


def disassemble(path, arch, what):
    if path.endswith((".sass", ".txt")):
        return open(path, encoding="utf-8").read()
    return subprocess.run(["cuobjdump", "-arch", arch, what, path], check=True, capture_output=True, text=True).stdout


def demangle(names):
    out = subprocess.run(["c++filt"], input="\n".join(names), check=True, capture_output=True, text=True).stdout
    return dict(zip(names, out.splitlines()))


def main(argv):
    arch, match, paths = "sm_90", ".", []
    it = iter(argv)
    for arg in it:
        if arg == "--arch":
            arch = next(it)
        elif arg == "--match":
            match = next(it)
        else:
            paths.append(arg)
    pattern = re.compile(match)
    for path in paths:
        regs = {}
        if not path.endswith((".sass", ".txt")):
            for name, reg, _stack, _shared in RES_USAGE.findall(disassemble(path, arch, "-res-usage")):
                regs[name] = int(reg)
        kernels, name = {}, None
        for line in disassemble(path, arch, "-sass").splitlines():
            m = FUNCTION.match(line)
            if m:
                name = m.group(1)
                kernels[name] = []
                continue
            m = LINE.search(line)
            if m and name:
                kernels[name].append((int(m.group(1), 16), m.group(3), m.group(4)))
        names = demangle(list(kernels))
        for mangled in sorted(kernels, key=lambda k: names[k]):
            if not pattern.search(names[mangled]):
                continue
            code = kernels[mangled]
            print(f"{names[mangled]}  REG:{regs.get(mangled, '?')}")
            for address, mnemonic, operands in code:
                if mnemonic.split(".")[0] != "BRA":
                    continue
                target = re.search(r"0x([0-9a-f]+)", operands)
                if not target or int(target.group(1), 16) >= address:
                    continue
                start = int(target.group(1), 16)
                body = [(mn, op) for a, mn, op in code if start <= a <= address]
                loads, peak, peak_bytes = loop_mlp(body)
                if loads:
                    print(f"  loop {start:#06x}-{address:#06x}: {loads} LDG, peak {peak} in flight = {peak_bytes} B")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
