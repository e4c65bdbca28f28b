#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Checks bench_gpu's CPU mode: every option is honoured or rejected, and the
JSON/CSV hold null (never -1, 0 or "pass": true) for what was not measured.

Usage: bench_cpu_check.py BENCH_GPU WORK_DIR
Runs `bench_gpu --cpu` with tiny sizes and shapes, with and without --all
(stdout: the summary only by default, every row as well with --all; the
JSON/CSV hold every row either way), then checks the rows
against what was asked for (computed here from the options, not read back
from the program), and runs a list of bad options that must each be rejected
with exit status 2, a message on stderr and no output file.
"""
import csv
import json
import math
import os
import subprocess
import sys

OPS = ["relu", "gelu", "softmax", "prelu", "maxout", "swiglu"]
DTYPES = {"f32": 4, "bf16": 2}
SIZES = {"1000": 1000, "3K": 3072}
SHAPES = [(4, 64, 1), (2, 8, 16)]
REPS = 3
NOT_MEASURED = ["memcpy_gbps", "pct_memcpy", "cudnn_us", "speedup_vs_cudnn", "max_ulp", "pass"]

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)


def shape_text(s):
    return "x".join(str(v) for v in (s if s[2] > 1 else s[:2]))


def expected_rows():
    """(family, op, direction, dtype, shape) -> bytes, from the options alone."""
    rows = {}
    for dtype, elem in DTYPES.items():
        for n in SIZES.values():
            # relu has a backward from y, gelu does not
            for op, dirs in (("relu", ("forward", "backward", "from_y")), ("gelu", ("forward", "backward"))):
                for d in dirs:
                    rows[("eltwise", op, d, dtype, str(n))] = n * elem * (2 if d == "forward" else 3)
        for s in SHAPES:
            n = s[0] * s[1] * s[2]
            text = shape_text(s)
            rows[("softmax", "softmax", "forward", dtype, text)] = 2 * n * elem
            rows[("softmax", "softmax", "backward", dtype, text)] = 3 * n * elem
            rows[("prelu", "prelu", "forward", dtype, text)] = (2 * n + s[1]) * elem
            rows[("prelu", "prelu", "backward", dtype, text)] = (3 * n + 2 * s[1]) * elem
            pieces = 4 if s[1] % 4 == 0 else 2 if s[1] % 2 == 0 else 1
            rows[("maxout", "maxout", "forward", dtype, text)] = (n + n // pieces) * elem
            rows[("maxout", "maxout", "backward", dtype, text)] = (2 * n + n // pieces) * elem
            gated = f"{s[0]}x{s[1] * s[2]}"
            rows[("gated", "swiglu", "forward", dtype, gated)] = 3 * n * elem
            rows[("gated", "swiglu", "backward", dtype, gated)] = 5 * n * elem
    return rows


def run(bench, args):
    return subprocess.run([bench] + args, capture_output=True, text=True, timeout=600)


def row_lines(out, keys):
    """The keys (family, op, direction, dtype, shape) that stdout prints as table rows."""
    printed = set()
    for line in out.splitlines():
        words = tuple(line.split()[:5])
        if words in keys:
            printed.add(words)
    return printed


def check_good_run(bench, work, all_rows):
    json_path, csv_path = os.path.join(work, "cpu.json"), os.path.join(work, "cpu.csv")
    for p in (json_path, csv_path):
        if os.path.exists(p):
            os.remove(p)
    args = ["--cpu", "--ops", ",".join(OPS), "--dtypes", ",".join(DTYPES), "--sizes", ",".join(SIZES),
            "--shapes", ",".join(shape_text(s) for s in SHAPES), "--reps", str(REPS), "--json", json_path,
            "--csv", csv_path] + (["--all"] if all_rows else [])
    p = run(bench, args)
    check(p.returncode == 0, f"good run exit status {p.returncode}: {p.stderr.strip()}")
    if p.returncode != 0:
        return
    want = expected_rows()
    with open(json_path) as f:
        doc = json.load(f)
    check(doc.get("mode") == "cpu", f"mode {doc.get('mode')!r}, want 'cpu'")
    timing = doc.get("timing", {})
    check(timing.get("reps") == REPS, f"timing.reps {timing.get('reps')!r}, want {REPS} (--reps ignored?)")
    check(timing.get("warmup_calls", 0) >= 1, "no warm-up call recorded")
    got = {}
    for r in doc["rows"]:
        key = (r["family"], r["op"], r["direction"], r["dtype"], r["shape"])
        check(key not in got, f"duplicate row {key}")
        got[key] = r
    missing, extra = sorted(set(want) - set(got)), sorted(set(got) - set(want))
    check(not missing, f"rows asked for but missing: {missing[:6]}{' ...' if len(missing) > 6 else ''}")
    check(not extra, f"rows not asked for: {extra[:6]}{' ...' if len(extra) > 6 else ''}")
    for key, r in got.items():
        if key in want:
            check(r["bytes"] == want[key], f"{key}: bytes {r['bytes']}, want {want[key]}")
        t, g = r["time_us"], r["gbps"]
        check(isinstance(t, (int, float)) and t > 0, f"{key}: time_us {t!r} not a positive number")
        if isinstance(t, (int, float)) and t > 0 and isinstance(g, (int, float)):
            # gbps is printed to 3 decimals: compare with that rounding allowed
            check(abs(g - r["bytes"] / (t * 1e-6) / 1e9) <= 0.0006 + 1e-3 * g, f"{key}: gbps {g} disagrees with bytes/time")
        for field in NOT_MEASURED:
            check(field in r and r[field] is None, f"{key}: {field} is {r.get(field)!r}, want null (not measured)")
    with open(csv_path, newline="") as f:
        csv_rows = list(csv.DictReader(f))
    check(len(csv_rows) == len(doc["rows"]), f"CSV has {len(csv_rows)} rows, JSON {len(doc['rows'])}")
    for c in csv_rows:
        key = (c["family"], c["op"], c["direction"], c["dtype"], c["shape"])
        check(key in got, f"CSV row {key} not in the JSON")
        for field in NOT_MEASURED:
            check(c.get(field) == "null", f"CSV {key}: {field} is {c.get(field)!r}, want null")
        check(math.isfinite(float(c["time_us"])) and float(c["time_us"]) > 0, f"CSV {key}: time_us {c['time_us']!r}")
    # the summary table: one line per family with its row count
    out = p.stdout
    check("summary" in out, "no summary table on stdout")
    for family in ("eltwise", "softmax", "prelu", "maxout", "gated"):
        count = sum(1 for k in want if k[0] == family)
        check(any(line.split()[:2] == [family, str(count)] for line in out.splitlines() if line.strip()),
              f"summary has no line '{family} {count}'")
    printed = row_lines(out, set(want))
    if all_rows:
        missing = sorted(set(want) - printed)
        check(not missing, f"--all: rows not printed on stdout: {missing[:6]}{' ...' if len(missing) > 6 else ''}")
    else:
        check(not printed, f"rows printed without --all: {sorted(printed)[:6]}")
    check(f"median\nof {REPS} timed calls" in out or f"median of {REPS}" in out.replace("\n", " "),
          "stdout does not say the time is a median over --reps calls")


BAD = [
    (["--reps", "0"], "--reps"),
    (["--reps", "3x"], "--reps"),
    (["--sizes", "12Q"], "size"),
    (["--sizes", ","], "--sizes"),
    (["--shapes", "4x"], "shape"),
    (["--shapes", "4x0"], "shape"),
    (["--shapes", "4x8x2x2"], "shape"),
    (["--shapes", "4x8junk"], "shape"),
    (["--dtypes", "f8"], "dtype"),
    (["--ops", "relu,nope"], "nope"),
    (["--frobnicate"], "--frobnicate"),
    (["--reps"], "--reps"),
]


def check_rejections(bench, work):
    out_path = os.path.join(work, "rejected.json")
    for extra, needle in BAD:
        if os.path.exists(out_path):
            os.remove(out_path)
        p = run(bench, ["--cpu", "--quick", "--ops", "relu", "--json", out_path] + extra)
        check(p.returncode == 2, f"{extra}: exit status {p.returncode}, want 2 (rejected)")
        check(needle in p.stderr, f"{extra}: stderr does not name {needle!r}: {p.stderr.strip()!r}")
        check(not os.path.exists(out_path), f"{extra}: wrote {out_path} although the options were rejected")


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    bench, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    check_good_run(bench, work, all_rows=False)
    check_good_run(bench, work, all_rows=True)
    check_rejections(bench, work)
    for f in failures:
        print("FAIL:", f)
    print(f"bench_cpu_check: {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
