#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Side by side with PyTorch on the same device tensors.

Loads libactk.so with ctypes and, for each op and dtype (and the gated ops
swiglu, geglu, reglu, glu against PyTorch's composites; the fused
cross-entropy against F.cross_entropy(..., label_smoothing=0.1) + backward),
times PyTorch's op
and actk's on the same CUDA tensors (CUDA events, median of trials, after a
warm-up), and reports the max difference of each result from a float64
reference computed by PyTorch on the GPU (in ULP of the dtype).

Usage: compare_torch.py [--lib build/libactk.so] [--n 67108864] [--rows 65536 --cols 1024]
                        [--dtypes f32,bf16] [--json out.json]
                        [--options [--attention 32,16,2048,2048]]
--options: only the softmax options (issue 16), actk_cuda_softmax_forward_ex
against PyTorch's composite (x*scale).masked_fill(mask, -inf).softmax(-1) on a
batch x heads x q_len x k_len attention tensor (causal, top-left and
bottom-right), and the scaled softmax without a mask.
Needs PyTorch with CUDA and a GPU; not part of CI.
"""
import argparse
import ctypes
import json
import statistics
import sys

import torch
import torch.nn.functional as F

DTYPES = {"f32": (0, torch.float32), "f16": (1, torch.float16), "bf16": (2, torch.bfloat16), "f64": (3, torch.float64)}
OPS = {  # actk op index (actk.h order) and PyTorch forward
    "sigmoid": (2, torch.sigmoid), "tanh": (3, torch.tanh), "relu": (4, torch.relu),
    "elu": (6, F.elu), "softplus": (9, F.softplus), "gelu": (11, F.gelu),
    "gelu_tanh": (12, lambda x: F.gelu(x, approximate="tanh")), "silu": (13, F.silu), "mish": (14, F.mish),
}


class Act(ctypes.Structure):
    _fields_ = [("op", ctypes.c_int), ("alpha", ctypes.c_float), ("beta", ctypes.c_float)]


class Quant(ctypes.Structure):  # actk_quant
    _fields_ = [("format", ctypes.c_int), ("mode", ctypes.c_int), ("group_size", ctypes.c_size_t), ("scale_pow2", ctypes.c_int),
                ("scale", ctypes.c_void_p), ("amax", ctypes.c_void_p), ("scale_inv", ctypes.c_void_p),
                ("scales", ctypes.c_void_p), ("mx_scales", ctypes.c_void_p)]
class CeOptions(ctypes.Structure):
    _fields_ = [("ignore_index", ctypes.c_longlong), ("label_smoothing", ctypes.c_float), ("z_loss", ctypes.c_float),
                ("softcap", ctypes.c_float), ("reduction", ctypes.c_int), ("grad_scale", ctypes.c_float),
                ("row_grad", ctypes.c_void_p)]


def load(path):
    lib = ctypes.CDLL(path)
    lib.actk_act_default.restype = Act
    lib.actk_act_default.argtypes = [ctypes.c_int]
    lib.actk_cuda_forward.argtypes = [Act, ctypes.c_int, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.actk_cuda_backward.argtypes = [Act, ctypes.c_int, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                       ctypes.c_void_p]
    for name in ("actk_cuda_softmax_forward",):
        getattr(lib, name).argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_size_t,
                                       ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.actk_cuda_softmax_backward.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_size_t,
                                               ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    size, ptr, i = ctypes.c_size_t, ctypes.c_void_p, ctypes.c_int
    lib.actk_cuda_gated_forward.argtypes = [Act, i, i, i, size, size, ptr, size, ptr, size, ptr]
    lib.actk_cuda_gated_backward.argtypes = [Act, i, i, i, size, size, ptr, size, ptr, size, ptr, size, ptr]
    lib.actk_cuda_forward_2d_quant.argtypes = [Act, i, size, size, ptr, size, ptr, ctypes.POINTER(Quant), ptr, size, ptr]
    lib.actk_cuda_gated_forward_quant.argtypes = [Act, i, i, i, size, size, ptr, size, ptr, ctypes.POINTER(Quant), ptr, size,
                                                  ptr]
    lib.actk_cross_entropy_default.restype = CeOptions
    lib.actk_cuda_cross_entropy_workspace_size.restype = size
    lib.actk_cuda_cross_entropy_workspace_size.argtypes = [i, size]
    lib.actk_cuda_cross_entropy_forward_backward.argtypes = [CeOptions, i, size, size, ptr, size, i, ptr, ptr, ptr, ptr, size,
                                                             ptr, ptr, size, ptr]
    lib.actk_last_error.restype = ctypes.c_char_p
    return lib


# Gated activations with a PyTorch composite: name, actk op, gate position
# (0 first, 1 second; layout concatenated) and the PyTorch forward on x.
GATED = {
    "swiglu": (13, 0, lambda x: F.silu(x.chunk(2, -1)[0]) * x.chunk(2, -1)[1]),
    "geglu": (11, 0, lambda x: F.gelu(x.chunk(2, -1)[0]) * x.chunk(2, -1)[1]),
    "reglu": (4, 0, lambda x: F.relu(x.chunk(2, -1)[0]) * x.chunk(2, -1)[1]),
    "glu": (2, 1, lambda x: F.glu(x, -1)),
}


class SoftmaxOptions(ctypes.Structure):
    _fields_ = [("scale", ctypes.c_float), ("temperature", ctypes.c_void_p), ("lse", ctypes.c_void_p), ("safe", ctypes.c_int),
                ("causal", ctypes.c_int), ("q_len", ctypes.c_size_t), ("heads", ctypes.c_size_t),
                ("valid_length", ctypes.c_void_p), ("additive_mask", ctypes.c_void_p)]


def compare_options(lib, args, stream):
    """The softmax options against PyTorch's masked composite (forward)."""
    lib.actk_softmax_options_default.restype = SoftmaxOptions
    lib.actk_cuda_softmax_forward_ex.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_size_t, ctypes.c_size_t, ctypes.c_size_t,
                                                 ctypes.POINTER(SoftmaxOptions), ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    b, h, q, k = (int(v) for v in args.attention.split(","))
    scale = 1.0 / 8.0
    rows = []
    print(f"{'softmax option':<22} {'dtype':<5} {'shape':<18} {'torch_us':>10} {'actk_us':>10} {'speedup':>8} {'torch_ulp':>10} {'actk_ulp':>10}")
    for dname in args.dtypes.split(","):
        code, dt = DTYPES[dname]
        x = (torch.rand(b, h, q, k, device="cuda", dtype=torch.float32) * 16 - 8).to(dt)
        y = torch.empty_like(x)
        qi = torch.arange(q, device="cuda").view(q, 1)
        ki = torch.arange(k, device="cuda").view(1, k)
        for name, causal, mask in (("scale", 0, None), ("causal", 1, ki > qi), ("causal_bottom_right", 2, ki > qi + (k - q))):
            opts = lib.actk_softmax_options_default()
            opts.scale = scale
            opts.causal = causal
            opts.q_len = q
            opts.heads = h

            def torch_fn():
                z = x * scale
                return (z.masked_fill(mask, float("-inf")) if mask is not None else z).softmax(-1)

            # the reference: scale rounded as actk defines it (in float), the softmax in float64
            z64 = (x.to(torch.float32) * scale).to(torch.float64)
            ref = (z64.masked_fill(mask, float("-inf")) if mask is not None else z64).softmax(-1)
            t_torch = timed(torch_fn)
            t_ours = timed(lambda: check(lib, lib.actk_cuda_softmax_forward_ex(0, code, b * h * q, k, 1, ctypes.byref(opts), x.data_ptr(),
                                                                               y.data_ptr(), stream), name))
            row = {"op": "softmax " + name, "dtype": dname, "direction": "forward", "shape": f"{b}x{h}x{q}x{k}",
                   "torch_us": t_torch * 1e3, "actk_us": t_ours * 1e3,
                   "torch_ulp": max_ulp(torch_fn(), ref, dt), "actk_ulp": max_ulp(y, ref, dt)}
            rows.append(row)
            print(f"{name:<22} {dname:<5} {row['shape']:<18} {row['torch_us']:>10.1f} {row['actk_us']:>10.1f} "
                  f"{row['torch_us'] / row['actk_us']:>7.2f}x {row['torch_ulp']:>10.1f} {row['actk_ulp']:>10.1f}")
        del x, y
    return rows


def timed(fn, reps=20, trials=7):
    fn()
    torch.cuda.synchronize()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    per_call = []
    for _ in range(trials):
        start.record()
        for _ in range(reps):
            fn()
        stop.record()
        stop.synchronize()
        per_call.append(start.elapsed_time(stop) / reps)
    return statistics.median(per_call)


def max_ulp(got, ref64, dtype):
    """Max distance in units of the dtype's spacing at the reference."""
    ref = ref64.to(dtype)
    spacing = (torch.nextafter(ref.abs().to(torch.float64), torch.tensor(float("inf"), device=ref.device, dtype=torch.float64))
               - ref.abs().to(torch.float64)) if dtype == torch.float64 else None
    if spacing is None:
        r = ref.to(torch.float32).abs()
        eps = {torch.float32: 2.0**-23, torch.float16: 2.0**-10, torch.bfloat16: 2.0**-7}[dtype]
        spacing = torch.clamp(r, min={torch.float32: 2.0**-126, torch.float16: 2.0**-14, torch.bfloat16: 2.0**-126}[dtype]) * eps
        spacing = torch.exp2(torch.floor(torch.log2(spacing.to(torch.float64))))
    err = (got.to(torch.float64) - ref64).abs()
    finite = torch.isfinite(ref64)
    return float((err[finite] / spacing[finite]).max().item())


def check(lib, status, what):
    if status != 0:
        raise SystemExit(f"{what}: {lib.actk_last_error().decode()}")


def fp8_rows(lib, args, rows, x, code, dname, stream):
    qrows = min(args.rows, args.n // (2 * args.cols))
    xq = x[: qrows * 2 * args.cols].view(qrows, 2 * args.cols)
    scale = torch.full((1,), 8.0, device="cuda", dtype=torch.float32)
    amax = torch.zeros(1, device="cuda", dtype=torch.float32)
    scale_inv = torch.zeros(qrows, device="cuda", dtype=torch.float32)
    out = torch.empty(qrows, args.cols, device="cuda", dtype=torch.uint8)
    silu_act = lib.actk_act_default(13)
    for gated in (False, True):
        xin = xq if gated else xq[:, : args.cols]
        ldx = 2 * args.cols
        fn = (lambda t: F.silu(t.chunk(2, -1)[0]) * t.chunk(2, -1)[1]) if gated else F.silu
        for mode, mname in ((0, "tensor"), (1, "row")):
            q = Quant(0, mode, 128, 0, scale.data_ptr(), amax.data_ptr(), scale_inv.data_ptr() if mode else None, None, None)

            def ours():
                amax.zero_()
                if gated:
                    st = lib.actk_cuda_gated_forward_quant(silu_act, 0, 0, code, qrows, args.cols, xin.data_ptr(), ldx, None,
                                                           ctypes.byref(q), out.data_ptr(), args.cols, stream)
                else:
                    st = lib.actk_cuda_forward_2d_quant(silu_act, code, qrows, args.cols, xin.data_ptr(), ldx, None,
                                                        ctypes.byref(q), out.data_ptr(), args.cols, stream)
                check(lib, st, "fp8")

            if mode == 0:
                def theirs():
                    return (fn(xin) * scale).clamp(-448, 448).to(torch.float8_e4m3fn)
            else:
                def theirs():
                    y = fn(xin).float()
                    s = 448.0 / y.abs().amax(dim=-1, keepdim=True).clamp(min=1e-30)
                    return (y * s).clamp(-448, 448).to(torch.float8_e4m3fn)
            t_torch, t_ours = timed(theirs), timed(ours)
            ours()
            differ = (theirs().view(torch.uint8) != out).float().mean().item() * 100
            name = ("swiglu" if gated else "silu") + "-fp8-" + mname
            rows.append({"op": name, "dtype": dname, "direction": "forward", "shape": f"{qrows}x{args.cols}",
                         "torch_us": t_torch * 1e3, "actk_us": t_ours * 1e3, "torch_ulp": -1, "actk_ulp": -1,
                         "codes_differ_pct": differ})
            r = rows[-1]
            print(f"{r['op']:<12} {r['dtype']:<5} {r['direction']:<8} {r['torch_us']:>10.1f} {r['actk_us']:>10.1f} "
                  f"{r['torch_us'] / r['actk_us']:>7.2f}x   codes differing from torch: {differ:.3f}%")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lib", default="build/libactk.so")
    parser.add_argument("--n", type=int, default=1 << 26)
    parser.add_argument("--rows", type=int, default=65536)
    parser.add_argument("--cols", type=int, default=1024)
    parser.add_argument("--dtypes", default="f32,bf16")
    parser.add_argument("--ce-tokens", type=int, default=4096, help="cross-entropy rows at vocab 32K (fewer for larger vocabularies)")
    parser.add_argument("--json")
    parser.add_argument("--options", action="store_true", help="only the softmax options against the masked composite")
    parser.add_argument("--attention", default="32,16,2048,2048", help="batch,heads,q_len,k_len for --options")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("compare_torch: no CUDA device")
        return 0
    lib = load(args.lib)
    stream = torch.cuda.current_stream().cuda_stream
    rows = []
    print(f"device: {torch.cuda.get_device_name()}  torch {torch.__version__}")
    if args.options:
        rows = compare_options(lib, args, stream)
        if args.json:
            with open(args.json, "w") as handle:
                json.dump({"device": torch.cuda.get_device_name(), "torch": torch.__version__, "rows": rows}, handle, indent=1)
        return 0
    print(f"{'op':<12} {'dtype':<5} {'dir':<8} {'torch_us':>10} {'actk_us':>10} {'speedup':>8} {'torch_ulp':>10} {'actk_ulp':>10}")
    for dname in args.dtypes.split(","):
        code, dt = DTYPES[dname]
        x = (torch.rand(args.n, device="cuda", dtype=torch.float32) * 16 - 8).to(dt)
        g = (torch.rand(args.n, device="cuda", dtype=torch.float32) * 2 - 1).to(dt)
        y = torch.empty_like(x)
        for name, (op, fn) in OPS.items():
            act = lib.actk_act_default(op)
            x64 = x.to(torch.float64).requires_grad_(True)
            ref = fn(x64)
            (dref,) = torch.autograd.grad(ref, x64, g.to(torch.float64))
            t_torch = timed(lambda: fn(x))
            t_ours = timed(lambda: check(lib, lib.actk_cuda_forward(act, code, args.n, x.data_ptr(), y.data_ptr(), stream), name))
            row = {"op": name, "dtype": dname, "direction": "forward", "torch_us": t_torch * 1e3, "actk_us": t_ours * 1e3,
                   "torch_ulp": max_ulp(fn(x), ref.detach(), dt), "actk_ulp": max_ulp(y, ref.detach(), dt)}
            rows.append(row)
            xt = x.detach().clone().requires_grad_(True)
            out = fn(xt)
            t_torch_b = timed(lambda: torch.autograd.grad(out, xt, g, retain_graph=True))
            dx = torch.empty_like(x)
            t_ours_b = timed(lambda: check(lib, lib.actk_cuda_backward(act, code, args.n, x.data_ptr(), g.data_ptr(), dx.data_ptr(), stream), name))
            (dtorch,) = torch.autograd.grad(out, xt, g)
            rows.append({"op": name, "dtype": dname, "direction": "backward", "torch_us": t_torch_b * 1e3, "actk_us": t_ours_b * 1e3,
                         "torch_ulp": max_ulp(dtorch, dref, dt), "actk_ulp": max_ulp(dx, dref, dt)})
            for r in rows[-2:]:
                print(f"{r['op']:<12} {r['dtype']:<5} {r['direction']:<8} {r['torch_us']:>10.1f} {r['actk_us']:>10.1f} "
                      f"{r['torch_us'] / r['actk_us']:>7.2f}x {r['torch_ulp']:>10.1f} {r['actk_ulp']:>10.1f}")
        # gated: rows x 2cols in, rows x cols out; PyTorch's composite (F.glu for glu)
        for name, (op, gate, fn) in GATED.items():
            act = lib.actk_act_default(op)
            grows = min(args.rows, args.n // (2 * args.cols))  # x holds n values: rows x 2cols must fit
            xg = x[: grows * 2 * args.cols].view(grows, 2 * args.cols)
            gg = g[: grows * args.cols].view(grows, args.cols)
            yg = torch.empty_like(gg)
            x64 = xg.to(torch.float64).requires_grad_(True)
            ref = fn(x64)
            (dref,) = torch.autograd.grad(ref, x64, gg.to(torch.float64))
            t_torch = timed(lambda: fn(xg))
            t_ours = timed(lambda: check(lib, lib.actk_cuda_gated_forward(act, 0, gate, code, grows, args.cols, xg.data_ptr(), 2 * args.cols,
                                                                          yg.data_ptr(), args.cols, stream), name))
            rows.append({"op": name, "dtype": dname, "direction": "forward", "shape": f"{grows}x{args.cols}",
                         "torch_us": t_torch * 1e3, "actk_us": t_ours * 1e3,
                         "torch_ulp": max_ulp(fn(xg), ref.detach(), dt), "actk_ulp": max_ulp(yg, ref.detach(), dt)})
            xt = xg.detach().clone().requires_grad_(True)
            out = fn(xt)
            t_torch_b = timed(lambda: torch.autograd.grad(out, xt, gg, retain_graph=True))
            dxg = torch.empty_like(xg)
            t_ours_b = timed(lambda: check(lib, lib.actk_cuda_gated_backward(act, 0, gate, code, grows, args.cols, xg.data_ptr(), 2 * args.cols,
                                                                             gg.data_ptr(), args.cols, dxg.data_ptr(), 2 * args.cols, stream), name))
            (dtorch,) = torch.autograd.grad(out, xt, gg)
            rows.append({"op": name, "dtype": dname, "direction": "backward", "shape": f"{grows}x{args.cols}",
                         "torch_us": t_torch_b * 1e3, "actk_us": t_ours_b * 1e3,
                         "torch_ulp": max_ulp(dtorch, dref, dt), "actk_ulp": max_ulp(dxg, dref, dt)})
            for r in rows[-2:]:
                print(f"{r['op']:<12} {r['dtype']:<5} {r['direction']:<8} {r['torch_us']:>10.1f} {r['actk_us']:>10.1f} "
                      f"{r['torch_us'] / r['actk_us']:>7.2f}x {r['torch_ulp']:>10.1f} {r['actk_ulp']:>10.1f}")
        # FP8 outputs (issue 15): silu and SwiGLU into E4M3, per tensor (the caller's scale) and per row
        # (scale = 448 / row amax), against PyTorch's composites; "ulp" columns: % of codes that differ
        if hasattr(torch, "float8_e4m3fn"):
            fp8_rows(lib, args, rows, x, code, dname, stream)
        # softmax / log-softmax, row-wise, forward and backward
        xs = x[: args.rows * args.cols].view(args.rows, args.cols)
        gs = g[: args.rows * args.cols].view(args.rows, args.cols)
        ys = torch.empty_like(xs)
        for kind, name, tfn in ((0, "softmax", torch.softmax), (1, "log_softmax", torch.log_softmax)):
            ref = tfn(xs.to(torch.float64), dim=1)
            t_torch = timed(lambda: tfn(xs, dim=1))
            t_ours = timed(lambda: check(lib, lib.actk_cuda_softmax_forward(kind, code, args.rows, args.cols, 1, xs.data_ptr(), ys.data_ptr(), stream), name))
            rows.append({"op": name, "dtype": dname, "direction": "forward", "shape": f"{args.rows}x{args.cols}",
                         "torch_us": t_torch * 1e3, "actk_us": t_ours * 1e3,
                         "torch_ulp": max_ulp(tfn(xs, dim=1), ref, dt), "actk_ulp": max_ulp(ys, ref, dt)})
            yt = tfn(xs, dim=1)
            backward_data = torch.ops.aten._log_softmax_backward_data if kind else torch.ops.aten._softmax_backward_data
            t_torch_b = timed(lambda: backward_data(gs, yt, 1, xs.dtype))
            dxs = torch.empty_like(xs)
            t_ours_b = timed(lambda: check(lib, lib.actk_cuda_softmax_backward(kind, code, args.rows, args.cols, 1, yt.data_ptr(), gs.data_ptr(), dxs.data_ptr(), stream), name))
            rows.append({"op": name, "dtype": dname, "direction": "backward", "shape": f"{args.rows}x{args.cols}",
                         "torch_us": t_torch_b * 1e3, "actk_us": t_ours_b * 1e3, "torch_ulp": -1, "actk_ulp": -1})
            for r in rows[-2:]:
                print(f"{r['op']:<12} {r['dtype']:<5} {r['direction']:<8} {r['torch_us']:>10.1f} {r['actk_us']:>10.1f} "
                      f"{r['torch_us'] / r['actk_us']:>7.2f}x {r['torch_ulp']:>10.1f} {r['actk_ulp']:>10.1f}")
        # fused cross-entropy: MEAN, label smoothing 0.1, gradient in place over the logits (actk) against
        # F.cross_entropy + backward (PyTorch writes a separate gradient); references in float64
        for vocab in (32768, 131072, 262144):
            crows = max(1, min(args.ce_tokens * 32768 // vocab, args.n // vocab))
            xc = x[: crows * vocab].view(crows, vocab)
            tc = torch.randint(0, vocab, (crows,), device="cuda", dtype=torch.int64)
            x64 = xc.to(torch.float64).requires_grad_(True)
            ref = F.cross_entropy(x64, tc, label_smoothing=0.1)
            (dref,) = torch.autograd.grad(ref, x64)

            def torch_ce():
                xt = xc.detach().requires_grad_(True)
                loss = F.cross_entropy(xt, tc, label_smoothing=0.1)
                (dx,) = torch.autograd.grad(loss, xt)
                return loss, dx

            opts = lib.actk_cross_entropy_default()
            opts.label_smoothing = 0.1
            ws = torch.empty(lib.actk_cuda_cross_entropy_workspace_size(2, crows) // 4 + 4, device="cuda", dtype=torch.float32)
            loss_ours = torch.empty(1, device="cuda", dtype=torch.float32)
            work = xc.clone()

            def ours(buf):
                check(lib, lib.actk_cuda_cross_entropy_forward_backward(opts, code, crows, vocab, buf.data_ptr(), vocab, 1, tc.data_ptr(),
                                                                        loss_ours.data_ptr(), None, buf.data_ptr(), vocab, None,
                                                                        ws.data_ptr(), ws.numel() * 4, stream), "cross_entropy")

            t_torch = timed(torch_ce)
            t_ours = timed(lambda: ours(work))
            work.copy_(xc)
            ours(work)  # the gradient of the original logits, in place
            loss_torch, dtorch = torch_ce()
            rows.append({"op": "cross_entropy", "dtype": dname, "direction": "fwd+bwd", "shape": f"{crows}x{vocab}",
                         "torch_us": t_torch * 1e3, "actk_us": t_ours * 1e3,
                         "torch_ulp": max_ulp(dtorch, dref, dt), "actk_ulp": max_ulp(work, dref, dt),
                         "torch_loss_err": abs(float(loss_torch) - float(ref)), "actk_loss_err": abs(float(loss_ours) - float(ref))})
            r = rows[-1]
            print(f"{r['op']:<12} {r['dtype']:<5} {r['direction']:<8} {r['torch_us']:>10.1f} {r['actk_us']:>10.1f} "
                  f"{r['torch_us'] / r['actk_us']:>7.2f}x {r['torch_ulp']:>10.1f} {r['actk_ulp']:>10.1f}  ({r['shape']}; "
                  f"loss error torch {r['torch_loss_err']:.2e}, actk {r['actk_loss_err']:.2e})")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump({"device": torch.cuda.get_device_name(), "torch": torch.__version__, "rows": rows}, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
