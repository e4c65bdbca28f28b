#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
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
import math
import os
import sys
from collections import OrderedDict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

F_COLOR = "#1f5fa8"
DF_COLOR = "#d9641c"
DPI = 160

# Each op's definition, for the picture titles (matplotlib mathtext). The
# parameters come from the CSV (the values the curves were computed with).
FORMULAS = {
    "identity": lambda a, b: r"$x$",
    "step": lambda a, b: r"$1$ if $x>0$, else $0$",
    "sigmoid": lambda a, b: r"$\sigma(x)=1/(1+e^{-x})$",
    "tanh": lambda a, b: r"$\tanh(x)$",
    "relu": lambda a, b: r"$\max(0,x)$",
    "leaky_relu": lambda a, b: rf"$x$ if $x>0$, else ${a:g}\,x$",
    "elu": lambda a, b: rf"$x$ if $x>0$, else ${a:g}\,(e^x-1)$",
    "selu": lambda a, b: r"$\lambda x$ if $x>0$, else $\lambda\alpha(e^x-1)$;  $\lambda\approx1.0507,\ \alpha\approx1.6733$",
    "celu": lambda a, b: rf"$\max(0,x)+\min(0,\,{a:g}\,(e^{{x/{a:g}}}-1))$",
    "softplus": lambda a, b: rf"$\frac{{1}}{{{a:g}}}\log(1+e^{{{a:g}x}})$, linear above $\beta x>{b:g}$",
    "softsign": lambda a, b: r"$x/(1+|x|)$",
    "gelu": lambda a, b: r"$x\,\Phi(x)$",
    "gelu_tanh": lambda a, b: r"$\frac{x}{2}\,(1+\tanh(\sqrt{2/\pi}\,(x+0.044715x^3)))$",
    "silu": lambda a, b: rf"$x\,\sigma({a:g}x)$",
    "mish": lambda a, b: r"$x\tanh(\log(1+e^x))$",
    "hardtanh": lambda a, b: rf"$\min({b:g},\max({a:g},x))$",
    "relu6": lambda a, b: r"$\min(6,\max(0,x))$",
    "hardsigmoid": lambda a, b: r"$\min(1,\max(0,(x+3)/6))$",
    "hardswish": lambda a, b: r"$x\,\min(1,\max(0,(x+3)/6))$",
    "logsigmoid": lambda a, b: r"$\log\sigma(x)$",
    "tanhshrink": lambda a, b: r"$x-\tanh(x)$",
    "softshrink": lambda a, b: rf"$x\mp{a:g}$ if $|x|>{a:g}$, else $0$",
    "hardshrink": lambda a, b: rf"$x$ if $|x|>{a:g}$, else $0$",
    "threshold": lambda a, b: rf"$x$ if $x>{a:g}$, else ${b:g}$",
}


def read_curves(path):
    """Returns {op: {"x": [...], "f": [...], "df": [...], "f_ulp": [...], "df_ulp": [...]}}."""
    curves = OrderedDict()
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            c = curves.setdefault(row["op"], {"x": [], "f": [], "df": [], "f_ulp": [], "df_ulp": [],
                                              "alpha": float(row["alpha"]), "beta": float(row["beta"])})
            c["x"].append(float(row["x"]))
            c["f"].append(float(row["f_cpu"]))
            c["df"].append(float(row["df_cpu"]))
            if "f_ulp" in row and row["f_ulp"] not in (None, ""):
                c["f_ulp"].append(float(row["f_ulp"]))
                c["df_ulp"].append(float(row["df_ulp"]))
    if not curves:
        raise SystemExit(f"plot_curves: no rows in {path}")
    unknown = [n for n in curves if n not in FORMULAS]
    if unknown:  # a new op must come with its formula
        raise SystemExit(f"plot_curves: no formula for {', '.join(unknown)}: add it to FORMULAS")
    return curves


def formula(name, c):
    return FORMULAS[name](c["alpha"], c["beta"])


def short_decimal_rank(x):
    """How many decimals x needs (0 for 3.0, 1 for -0.5, 2 for 0.01): jumps sit on round numbers."""
    for digits in range(7):
        if abs(round(x, digits) - x) < 1e-9:
            return digits
    return 7


def pieces(xs, ys):
    """Splits a sampled curve at its jumps.

    Returns (segments, jumps): segments are (xs, ys) lists to draw as lines;
    jumps are (x0, attained, limit) with the value f takes at x0 (a closed
    dot) and the one-sided limit it does not take (an open dot). A jump is a
    step much larger than the curve's typical step; x0 is whichever of the
    two grid points is the rounder number, and the other side's limit is
    extrapolated linearly from its two nearest points.
    """
    n = len(xs)
    steps = [abs(ys[i + 1] - ys[i]) for i in range(n - 1)]
    finite = [y for y in ys if math.isfinite(y)]
    spread = (max(finite) - min(finite)) if finite else 0.0
    typical = sorted(steps)[len(steps) // 2] if steps else 0.0
    threshold = max(0.04 * spread, 8.0 * typical, 1e-6)
    segments, jumps = [], []
    seg_x, seg_y = [xs[0]], [ys[0]]
    for i in range(n - 1):
        if steps[i] > threshold:
            left_is_x0 = short_decimal_rank(xs[i]) <= short_decimal_rank(xs[i + 1])
            if left_is_x0:  # f(x0) continues the left piece; the right limit is open
                x0, attained = xs[i], ys[i]
                limit = ys[i + 1] - (ys[i + 2] - ys[i + 1]) if i + 2 < n else ys[i + 1]
                segments.append((seg_x, seg_y))
                seg_x, seg_y = [x0, xs[i + 1]], [limit, ys[i + 1]]
            else:  # f(x0) starts the right piece; the left limit is open
                x0, attained = xs[i + 1], ys[i + 1]
                limit = ys[i] + (ys[i] - ys[i - 1]) if i >= 1 else ys[i]
                seg_x.append(x0)
                seg_y.append(limit)
                segments.append((seg_x, seg_y))
                seg_x, seg_y = [x0], [attained]
                jumps.append((x0, attained, limit))
                continue
            jumps.append((x0, attained, limit))
        else:
            seg_x.append(xs[i + 1])
            seg_y.append(ys[i + 1])
    segments.append((seg_x, seg_y))
    return segments, jumps


def draw(ax, xs, ys, color, linewidth, linestyle="-", label=None, dot=16):
    """Draws a curve with its jumps as jumps: no vertical line, a closed dot
    at the value taken, an open dot at the limit not taken."""
    segments, jumps = pieces(xs, ys)
    for k, (sx, sy) in enumerate(segments):
        ax.plot(sx, sy, color=color, linewidth=linewidth, linestyle=linestyle, label=label if k == 0 else None)
    for x0, attained, limit in jumps:
        ax.scatter([x0], [attained], s=dot, color=color, zorder=3)
        ax.scatter([x0], [limit], s=dot, facecolors="white", edgecolors=color, linewidths=1.2, zorder=3)


def style(ax, title=None, fontsize=10):
    ax.axhline(0, color="#999999", linewidth=0.6)
    ax.axvline(0, color="#999999", linewidth=0.6)
    ax.grid(True, linewidth=0.3, alpha=0.6)
    if title:
        ax.set_title(title, fontsize=fontsize)


def plot_one(name, c, out_dir):
    """f beside f', the definition and parameters in the title."""
    fig, (ax_f, ax_df) = plt.subplots(1, 2, figsize=(8.4, 3.4), dpi=DPI)
    draw(ax_f, c["x"], c["f"], F_COLOR, 1.8)
    draw(ax_df, c["x"], c["df"], DF_COLOR, 1.6)
    style(ax_f, "f(x)")
    style(ax_df, "f\u2032(x)")
    for ax in (ax_f, ax_df):
        ax.set_xlabel("x")
        ax.tick_params(labelsize=9)
    if name == "leaky_relu":  # at slope 0.01 the negative side looks flat: show it
        inset = ax_f.inset_axes([0.08, 0.5, 0.38, 0.38])
        keep = [j for j, x in enumerate(c["x"]) if x <= 0.5]
        draw(inset, [c["x"][j] for j in keep], [c["f"][j] for j in keep], F_COLOR, 1.2, dot=8)
        inset.set_title(f"x < 0 magnified: slope {c['alpha']:g}", fontsize=7)
        inset.tick_params(labelsize=6)
        inset.grid(True, linewidth=0.3, alpha=0.6)
    fig.suptitle(f"{name}:  {formula(name, c)}", fontsize=11)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, f"{name}.png"))
    plt.close(fig)


def small_multiples(names, cols=6):
    """A grid of small axes, one per name (spare axes hidden): (fig, axes, [(ax, name)])."""
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 2.7, rows * 2.3), dpi=DPI, squeeze=False)
    for ax in axes.flat[len(names):]:
        ax.axis("off")
    return fig, axes, list(zip(axes.flat, names))


def plot_grid(curves, out_dir):
    fig, axes, cells = small_multiples(list(curves))
    for ax, name in cells:
        c = curves[name]
        draw(ax, c["x"], c["f"], F_COLOR, 1.4, label="f", dot=8)
        draw(ax, c["x"], c["df"], DF_COLOR, 1.0, linestyle="--", label="f\u2032", dot=8)
        style(ax, name, fontsize=10)
        ax.tick_params(labelsize=8)
    axes.flat[0].legend(fontsize=8, loc="upper left")
    fig.suptitle("Every actk activation (solid: f, dashed: f\u2032; dots: value taken and limit at a jump)", fontsize=12)
    fig.supxlabel("x", fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(out_dir, "all_ops.png"))
    plt.close(fig)


def plot_family(curves, names, title, filename, out_dir, labels=None, note=None, xlim=(-4, 3)):
    present = [n for n in names if n in curves]
    if not present:
        return
    labels = labels or {}
    styles = ["-", "--", "-.", ":"]
    fig, (ax_f, ax_df) = plt.subplots(1, 2, figsize=(10.5, 4.3), dpi=DPI)
    for i, n in enumerate(present):
        c = curves[n]
        keep = [j for j, x in enumerate(c["x"]) if xlim[0] <= x <= xlim[1]]
        xs = [c["x"][j] for j in keep]
        color = f"C{i}"
        draw(ax_f, xs, [c["f"][j] for j in keep], color, 1.7, linestyle=styles[i % 4], label=labels.get(n, n))
        draw(ax_df, xs, [c["df"][j] for j in keep], color, 1.7, linestyle=styles[i % 4], label=labels.get(n, n))
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
    fig, (ax_f, ax_df) = plt.subplots(1, 2, figsize=(10, 4), dpi=DPI)
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
