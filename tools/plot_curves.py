#!/usr/bin/env python3
"""Turns actk_curves CSV into PNG pictures.

Usage: plot_curves.py CURVES.csv OUT_DIR

Writes into OUT_DIR:
  <op>.png               f and f' of one op (one per op in the CSV)
  all_ops.png            every op in a grid
  family_relu_like.png   ReLU, LeakyReLU, ELU, SELU, CELU, GELU, SiLU, Mish and derivatives
  family_sigmoid_tanh.png  sigmoid vs tanh and their derivatives (vanishing gradients)
  gpu_cpu_ulp.png        GPU - CPU difference in ULP per op (only when the CSV has GPU columns)
"""
import csv
import os
import sys
from collections import OrderedDict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

F_COLOR = "#1f5fa8"
DF_COLOR = "#d9641c"


def read_curves(path):
    """Returns {op: {"x": [...], "f": [...], "df": [...], "f_ulp": [...], "df_ulp": [...]}}."""
    curves = OrderedDict()
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            c = curves.setdefault(row["op"], {"x": [], "f": [], "df": [], "f_ulp": [], "df_ulp": [],
                                              "alpha": row["alpha"], "beta": row["beta"]})
            c["x"].append(float(row["x"]))
            c["f"].append(float(row["f_cpu"]))
            c["df"].append(float(row["df_cpu"]))
            if "f_ulp" in row and row["f_ulp"] not in (None, ""):
                c["f_ulp"].append(float(row["f_ulp"]))
                c["df_ulp"].append(float(row["df_ulp"]))
    if not curves:
        raise SystemExit(f"plot_curves: no rows in {path}")
    return curves


def style(ax, title=None):
    ax.axhline(0, color="#999999", linewidth=0.6)
    ax.axvline(0, color="#999999", linewidth=0.6)
    ax.grid(True, linewidth=0.3, alpha=0.6)
    if title:
        ax.set_title(title, fontsize=10)


def plot_one(name, c, out_dir):
    fig, ax = plt.subplots(figsize=(4.2, 3.0), dpi=90)
    ax.plot(c["x"], c["f"], color=F_COLOR, linewidth=1.8, label="f(x)")
    ax.plot(c["x"], c["df"], color=DF_COLOR, linewidth=1.4, linestyle="--", label="f'(x)")
    style(ax, name)
    ax.set_xlabel("x")
    ax.set_ylabel("value")
    ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, f"{name}.png"))
    plt.close(fig)


def small_multiples(names, cols=6):
    """A grid of small axes, one per name (spare axes hidden): (fig, axes, [(ax, name)])."""
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 2.3, rows * 1.9), dpi=80, squeeze=False)
    for ax in axes.flat[len(names):]:
        ax.axis("off")
    return fig, axes, list(zip(axes.flat, names))


def plot_grid(curves, out_dir):
    fig, axes, cells = small_multiples(list(curves))
    for ax, name in cells:
        c = curves[name]
        ax.plot(c["x"], c["f"], color=F_COLOR, linewidth=1.4, label="f")
        ax.plot(c["x"], c["df"], color=DF_COLOR, linewidth=1.0, linestyle="--", label="f'")
        style(ax, name)
        ax.tick_params(labelsize=6)
    axes.flat[0].legend(fontsize=7, loc="upper left")
    fig.suptitle("Every actk activation (solid: f, dashed: f') on the CPU reference path", fontsize=11)
    fig.supxlabel("x", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "all_ops.png"))
    plt.close(fig)


def plot_family(curves, names, title, filename, out_dir, labels=None, note=None, xlim=(-4, 3)):
    present = [n for n in names if n in curves]
    if not present:
        return
    labels = labels or {}
    styles = ["-", "--", "-.", ":"]
    fig, (ax_f, ax_df) = plt.subplots(1, 2, figsize=(10.5, 4.3), dpi=90)
    for i, n in enumerate(present):
        c = curves[n]
        keep = [j for j, x in enumerate(c["x"]) if xlim[0] <= x <= xlim[1]]
        xs = [c["x"][j] for j in keep]
        line, = ax_f.plot(xs, [c["f"][j] for j in keep], linewidth=1.7, linestyle=styles[i % 4],
                          label=labels.get(n, n))
        ax_df.plot(xs, [c["df"][j] for j in keep], linewidth=1.7, linestyle=styles[i % 4],
                   color=line.get_color(), label=labels.get(n, n))
    style(ax_f, "f(x)")
    style(ax_df, "f'(x)")
    for ax in (ax_f, ax_df):
        ax.set_xlabel("x")
        ax.set_xlim(*xlim)
    ax_f.set_ylabel("f(x)")
    ax_df.set_ylabel("f'(x)")
    ax_f.legend(fontsize=8, loc="upper left")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    if note:  # a caption under both panels, clear of the curves
        fig.subplots_adjust(bottom=0.24)
        fig.text(0.5, 0.02, note, ha="center", va="bottom", fontsize=8.5)
    fig.savefig(os.path.join(out_dir, filename))
    plt.close(fig)


def plot_sigmoid_tanh(curves, out_dir):
    if "sigmoid" not in curves or "tanh" not in curves:
        return
    fig, (ax_f, ax_df) = plt.subplots(1, 2, figsize=(10, 4), dpi=90)
    for n, color in (("sigmoid", "#1f5fa8"), ("tanh", "#2a9d4b")):
        c = curves[n]
        ax_f.plot(c["x"], c["f"], color=color, linewidth=1.6, label=n)
        ax_df.plot(c["x"], c["df"], color=color, linewidth=1.6, label=f"{n}'")
    for ax in (ax_f, ax_df):
        style(ax)
        ax.axvspan(min(curves["tanh"]["x"]), -3, color="#f2c7c7", alpha=0.4)
        ax.axvspan(3, max(curves["tanh"]["x"]), color="#f2c7c7", alpha=0.4)
        ax.set_xlabel("x")
        ax.legend(fontsize=8, loc="upper left")
    ax_f.set_title("f(x): sigmoid is not zero-centred, tanh is", fontsize=10)
    ax_df.set_title("f'(x): at most 0.25 (sigmoid) and 1 (tanh)", fontsize=10)
    ax_df.text(0.98, 0.5, "shaded: |x| > 3,\nderivative < 0.05 (sigmoid)\nand < 0.01 (tanh):\ngradients vanish",
               transform=ax_df.transAxes, ha="right", va="center", fontsize=8,
               bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "#cccccc"})
    fig.suptitle("Why saturating activations make gradients vanish", fontsize=11)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "family_sigmoid_tanh.png"))
    plt.close(fig)


def plot_ulp(curves, out_dir):
    with_gpu = [n for n, c in curves.items() if c["f_ulp"]]
    if not with_gpu:
        print("plot_curves: CSV has no GPU columns; skipping gpu_cpu_ulp.png")
        return
    fig, axes, cells = small_multiples(with_gpu)
    for ax, name in cells:
        c = curves[name]
        ax.plot(c["x"], c["f_ulp"], ".", markersize=2, color=F_COLOR, label="f")
        ax.plot(c["x"], c["df_ulp"], ".", markersize=2, color=DF_COLOR, label="f'")
        ax.set_ylim(-0.2, max(4.2, max(c["f_ulp"] + c["df_ulp"]) + 0.2))
        style(ax, name)
        ax.tick_params(labelsize=6)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle("GPU vs CPU reference: |difference| in f32 ULP (bounds: 2 forward, 4 backward)", fontsize=11)
    fig.supxlabel("x", fontsize=9)
    fig.supylabel("ULP", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "gpu_cpu_ulp.png"))
    plt.close(fig)


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    curves = read_curves(argv[1])
    out_dir = argv[2]
    os.makedirs(out_dir, exist_ok=True)
    for name, c in curves.items():
        plot_one(name, c, out_dir)
    plot_grid(curves, out_dir)
    plot_family(curves, ["relu", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish"],
                "The ReLU family and its smooth successors (default parameters)", "family_relu_like.png", out_dir,
                labels={"leaky_relu": "leaky_relu (slope 0.01)", "celu": "celu (= elu at alpha 1)"},
                note="relu, leaky_relu: kink at 0, constant slope.   elu, selu, celu: saturate to a negative value.\n"
                     "gelu, silu, mish: smooth, dip below 0, slope a little above 1 past x = 1.")
    plot_sigmoid_tanh(curves, out_dir)
    plot_ulp(curves, out_dir)
    print(f"plot_curves: wrote {len(curves) + 3} pictures to {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
