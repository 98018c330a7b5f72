"""Operator benchmark: nlviz ops vs the reference implementations, measured in the same run.

Each (implementation, case, pass) runs in its own fresh process, so peak memory is that of one measurement:
we report the growth of the process's peak RSS over its RSS after building the module and input (i.e. the
working memory of the forward / forward+backward). Times are medians over ``--repeats`` runs after one warmup.
Ratios = reference / nlviz (time: >1 means nlviz is faster; memory: nlviz / reference, <1 means less).

    python bench/ops.py                 # full table (several minutes), prints markdown
    python bench/ops.py --quick         # small shapes, a smoke run
    python bench/ops.py --only large    # one case
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

# name: (channels, (T, H, W), sub_sample)
CASES = {
    "res3": (512, (4, 28, 28), True),
    "res4": (1024, (4, 14, 14), True),
    "large": (256, (8, 56, 56), False),
}
QUICK = {"res3": (64, (2, 14, 14), True), "res4": (128, (2, 7, 7), True), "large": (32, (2, 28, 28), False)}
MODES = ["embedded_gaussian", "gaussian", "dot_product", "concatenation"]
# Comparisons: (label, ours spec, reference spec). Conventions matched per pair (see OPERATORS.md).
PAIRS = [
    *[(f"NL {m} vs mmcv", ("nlviz", m, "after_conv"), ("mmcv", m, None)) for m in MODES],
    (
        "NL embedded_gaussian vs pytorchvideo",
        ("nlviz", "embedded_gaussian", "before_conv"),
        ("pytorchvideo", "softmax", None),
    ),
    ("NL dot_product vs pytorchvideo", ("nlviz", "dot_product", "before_conv"), ("pytorchvideo", "dot_product", None)),
    ("BAT vs timm BatNonLocalAttn", ("nlviz-bat", None, None), ("timm-bat", None, None)),
]
# mmcv's concatenation materializes (B, 2C', N, N_k): infeasible at the large shape (>300 GB).
SKIP = {("mmcv", "concatenation", "large"): "mmcv builds a (1, 256, 25088, 25088) tensor (>600 GB): not run"}


def build(impl: str, mode: str | None, pool: str | None, channels: int, grid, sub: bool):
    import torch

    t, h, w = grid
    if impl == "nlviz":
        from nlviz import ops

        scale = mode == "embedded_gaussian" and pool == "before_conv"  # pytorchvideo scales; mmcv pairs unscaled
        m = ops.create("nonlocal", channels, mode=mode, dim=3, sub_sample=sub, pool=pool, use_scale=scale)
        return m, torch.randn(1, channels, t, h, w)
    if impl == "mmcv":
        from mmcv.cnn.bricks.non_local import NonLocal3d

        m = NonLocal3d(channels, mode=mode, sub_sample=sub, use_scale=False)
        return m, torch.randn(1, channels, t, h, w)
    if impl == "pytorchvideo":
        from pytorchvideo.layers.nonlocal_net import create_nonlocal

        m = create_nonlocal(
            dim_in=channels, dim_inner=channels // 2, pool_size=(1, 2, 2) if sub else None, instantiation=mode
        )
        return m, torch.randn(1, channels, t, h, w)
    # BAT is 2D: the T frames of the clip form the batch (per-frame transform), block size 7.
    if impl == "nlviz-bat":
        from nlviz import ops

        m = ops.create(
            "bat", channels, block_size=7, groups=8, bias=False, dropout=0.0, reduction=4
        )  # timm: rd_ratio 1/4
        return m, torch.randn(t, channels, h, w)
    if impl == "timm-bat":
        from support.refs import import_timm_non_local_attn

        mod = import_timm_non_local_attn()
        m = mod.BatNonLocalAttn(channels, block_size=7, groups=8, drop_rate=0.0)
        return m, torch.randn(t, channels, h, w)
    raise ValueError(impl)


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def worker(spec: dict) -> dict:
    import torch

    torch.manual_seed(0)
    channels, grid, sub = spec["case"]
    m, x = build(spec["impl"], spec["mode"], spec["pool"], channels, tuple(grid), sub)
    backward = spec["pass"] == "fwd+bwd"
    if backward:
        x.requires_grad_(True)
    else:
        m.eval()

    def run():
        if backward:
            m.zero_grad(set_to_none=True)
            x.grad = None
            m(x).sum().backward()
        else:
            with torch.no_grad():
                m(x)

    base = rss_mb()
    times = []
    for i in range(spec["repeats"] + 1):
        t0 = time.perf_counter()
        run()
        if i:  # the first run is a warmup
            times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"median_s": statistics.median(times), "peak_mb": max(0.0, peak - base)}


def measure(impl, mode, pool, case, shape, pss, repeats) -> dict:
    if (impl, mode, case) in SKIP:
        return {"skipped": SKIP[(impl, mode, case)]}
    spec = {"impl": impl, "mode": mode, "pool": pool, "case": shape, "pass": pss, "repeats": repeats}
    proc = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)], capture_output=True, text=True)
    if proc.returncode:
        err = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"error": err[:160]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fmt(r: dict) -> str:
    if "skipped" in r:
        return "not run"
    if "error" in r:
        return "fails"
    return f"{r['median_s'] * 1e3:.0f} ms / {r['peak_mb']:.0f} MB"


def ratio(ref: dict, ours: dict) -> str:
    if "median_s" not in ref or "median_s" not in ours:
        return "—"
    mem = ours["peak_mb"] / ref["peak_mb"] if ref["peak_mb"] > 1 else float("nan")
    return f"{ref['median_s'] / ours['median_s']:.1f}× faster, {mem:.2f}× memory"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="small shapes (smoke run)")
    ap.add_argument("--only", choices=list(CASES), action="append", help="run only these cases")
    ap.add_argument("--passes", default="fwd,fwd+bwd", help="comma list of fwd, fwd+bwd")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per measurement (median reported)")
    ap.add_argument("--json", help="also write raw results to this file")
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0
    cases = QUICK if args.quick else CASES
    results = []
    print("| case | pass | comparison | nlviz | reference | ratio |\n|---|---|---|---|---|---|", flush=True)
    for case in args.only or list(cases):
        for pss in args.passes.split(","):
            for label, ours, ref in PAIRS:
                r_ours = measure(*ours, case, cases[case], pss, args.repeats)
                r_ref = measure(*ref, case, cases[case], pss, args.repeats)
                results.append({"case": case, "pass": pss, "label": label, "nlviz": r_ours, "reference": r_ref})
                note = r_ref.get("error") or r_ref.get("skipped") or ""
                print(
                    f"| {case} | {pss} | {label} | {fmt(r_ours)} | {fmt(r_ref)} | {ratio(r_ref, r_ours)} |"
                    + (f" <!-- {note} -->" if note else ""),
                    flush=True,
                )
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
