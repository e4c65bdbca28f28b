#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Charts from bench_gpu --json output (and optionally compare_torch.py --json).

Usage: plot_bench.py BENCH.json OUT_DIR [--torch TORCH.json]

Writes:
  eltwise_pct_memcpy.png   % of memcpy per element-wise op and direction, one bar group per dtype
  softmax_vs_rowlength.png softmax forward/backward % of memcpy vs row length: actk vs cuDNN (and PyTorch)
"""
import argparse
import json
import os
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def row_length(shape):
    parts = [int(p) for p in shape.split("x")]
    return parts[1] if len(parts) >= 2 else parts[0]


def plot_eltwise(rows, out_dir, device):
    # null (None) where the run did not measure a figure
    rows = [r for r in rows if r["family"] == "eltwise" and r["pct_memcpy"] is not None]
    if not rows:
        return
    largest = max(r["bytes"] for r in rows)
    rows = [r for r in rows if r["bytes"] * 3 >= largest]  # the large-size rows
    ops = sorted({r["op"] for r in rows})
    dtypes = sorted({r["dtype"] for r in rows})
    fig, axes = plt.subplots(len(dtypes), 1, figsize=(14, 3.2 * len(dtypes)), dpi=90, squeeze=False)
    for ax, dtype in zip(axes[:, 0], dtypes):
        for k, direction in enumerate(("forward", "backward", "from_y")):
            xs, ys = [], []
            for i, op in enumerate(ops):
                match = [r for r in rows if r["op"] == op and r["dtype"] == dtype and r["direction"] == direction]
                if match:
                    xs.append(i + (k - 1) * 0.27)
                    ys.append(max(m["pct_memcpy"] for m in match))
            ax.bar(xs, ys, width=0.26, label=direction)
        ax.axhline(100, color="black", linewidth=0.8)
        ax.axhline(95, color="#c0392b", linewidth=0.8, linestyle="--", label="95% target")
        ax.set_xticks(range(len(ops)))
        ax.set_xticklabels(ops, rotation=45, ha="right", fontsize=8)
        ax.set_ylabel("% of memcpy")
        ax.set_title(f"{dtype}", fontsize=10)
        ax.set_ylim(0, 115)
        ax.grid(True, axis="y", linewidth=0.3)
    axes[0, 0].legend(fontsize=8, ncol=4, loc="lower right")
    fig.suptitle(f"actk element-wise throughput, % of same-run memcpy bandwidth ({device})", fontsize=11)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "eltwise_pct_memcpy.png"))
    plt.close(fig)


def plot_softmax(rows, out_dir, device, torch_rows):
    rows = [r for r in rows if r["family"] == "softmax" and r["shape"].count("x") == 1 and r["pct_memcpy"] is not None]
    if not rows:
        return
    groups = sorted({(r["op"], r["dtype"]) for r in rows})
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.5), dpi=90)
    for ax, direction in zip(axes, ("forward", "backward")):
        for op, dtype in groups:
            sel = sorted((r for r in rows if r["op"] == op and r["dtype"] == dtype and r["direction"] == direction),
                         key=lambda r: row_length(r["shape"]))
            if not sel:
                continue
            xs = [row_length(r["shape"]) for r in sel]
            line, = ax.plot(xs, [r["pct_memcpy"] for r in sel], marker="o", label=f"actk {op} {dtype}")
            # cuDNN's % of memcpy = ours / (cuDNN time / our time)
            cud = [(x, r["pct_memcpy"] / r["speedup_vs_cudnn"]) for x, r in zip(xs, sel)
                   if r["cudnn_us"] is not None and r["speedup_vs_cudnn"]]
            if cud:
                ax.plot([c[0] for c in cud], [c[1] for c in cud], marker="x", linestyle="--", color=line.get_color(),
                        label=f"cuDNN {op} {dtype}")
            # PyTorch at the shapes compare_torch.py measured: its % of memcpy is
            # ours x (our time / its time) on the same tensors
            by_shape = {r["shape"]: r for r in sel}
            pts = sorted((row_length(t["shape"]), by_shape[t["shape"]]["pct_memcpy"] * t["actk_us"] / t["torch_us"])
                         for t in torch_rows
                         if t.get("op") == op and t.get("dtype") == dtype and t.get("direction") == direction
                         and t.get("shape") in by_shape and t.get("torch_us", 0) > 0)
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="^", linestyle=":", color=line.get_color(),
                        label=f"PyTorch {op} {dtype}")
        ax.set_xscale("log", base=2)
        ax.axhline(90, color="#c0392b", linewidth=0.8, linestyle="--", label="90% target")
        ax.set_xlabel("row length (columns)")
        ax.set_ylabel("% of memcpy")
        ax.set_ylim(0, 110)
        ax.set_title(f"softmax family, {direction}", fontsize=10)
        ax.grid(True, linewidth=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"Softmax throughput vs row length ({device})", fontsize=11)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "softmax_vs_rowlength.png"))
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bench_json")
    parser.add_argument("out_dir")
    parser.add_argument("--torch")
    args = parser.parse_args()
    with open(args.bench_json) as handle:
        bench = json.load(handle)
    if bench.get("mode") != "gpu":
        print("plot_bench: this JSON is from the CPU mode; there is nothing to compare with memcpy")
        return 0
    torch_rows = []
    if args.torch:
        with open(args.torch) as handle:
            torch_rows = json.load(handle)["rows"]
    os.makedirs(args.out_dir, exist_ok=True)
    plot_eltwise(bench["rows"], args.out_dir, bench["device"])
    plot_softmax(bench["rows"], args.out_dir, bench["device"], torch_rows)
    print(f"plot_bench: wrote charts to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
