"""Operator benchmark: nlviz ops vs the reference implementations, measured in the same run.

Each (implementation, case, pass) runs in its own fresh process (bench/harness.py), so peak memory is that of
one measurement: the growth of the process's peak RSS over its RSS after building the module and input (the
working memory of the forward / forward+backward). Times: median and p95 of ``--repeats`` runs after one
warmup. Ratios (harness): time = reference / nlviz (>1: nlviz is faster), memory = nlviz / reference (<1: less).

    python bench/ops.py                 # full table (several minutes), prints markdown
    python bench/ops.py --quick         # small shapes, a smoke run
    python bench/ops.py --only large    # one case
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import harness

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

    def run(_):
        if backward:
            m.zero_grad(set_to_none=True)
            x.grad = None
            m(x).sum().backward()
        else:
            with torch.no_grad():
                m(x)

    return harness.measure(run, spec["repeats"])


def measure(impl, mode, pool, case, shape, pss, repeats) -> dict:
    if (impl, mode, case) in SKIP:
        return {"skipped": SKIP[(impl, mode, case)]}
    spec = {"impl": impl, "mode": mode, "pool": pool, "case": shape, "pass": pss, "repeats": repeats}
    return harness.in_fresh_process(__file__, spec)


def main() -> int:
    ap = harness.argument_parser(__doc__)
    ap.add_argument("--quick", action="store_true", help="small shapes (smoke run)")
    ap.add_argument("--only", choices=list(CASES), action="append", help="run only these cases")
    ap.add_argument("--passes", default="fwd,fwd+bwd", help="comma list of fwd, fwd+bwd")
    ap.add_argument("--repeats", type=int, default=3, help="timed runs per measurement (median and p95 reported)")
    ap.add_argument("--json", help="also write raw results to this file")
    args = ap.parse_args()
    if args.worker:
        return harness.worker_main(worker, args.worker)
    cases = QUICK if args.quick else CASES
    results = []
    print(harness.table_header(["case", "pass", "comparison", "nlviz", "reference", "ratio"]), flush=True)
    for case in args.only or list(cases):
        for pss in args.passes.split(","):
            for label, ours, ref in PAIRS:
                r_ours = measure(*ours, case, cases[case], pss, args.repeats)
                r_ref = measure(*ref, case, cases[case], pss, args.repeats)
                results.append({"case": case, "pass": pss, "label": label, "nlviz": r_ours, "reference": r_ref})
                note = r_ref.get("error") or r_ref.get("skipped") or ""
                cells = [case, pss, label, harness.fmt_measure(r_ours), harness.fmt_measure(r_ref)]
                row = harness.table_row([*cells, harness.ratio_cell(r_ref, r_ours)])
                print(row + (f" <!-- {note} -->" if note else ""), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
