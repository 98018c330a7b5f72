"""Query-extraction benchmark: one attention row from a recording vs the full map of the reference code.

Case: a non-local block, embedded gaussian (no 1/√C' scale, as AlexHex7), C = 256 (C' = 128), input
8×56×56 → N = N_k = 25088 (no subsampling), batch 1.

- ``nlviz row``: capture once (``nlviz.capture``), then time ``rec.affinity(block, [q]).topk(20)`` for
  different queries q;
- ``foreign row``: the same, for an mmcv ``NonLocal3d`` with the same weights captured in place (its rows are
  recomputed by nlviz's mmcv adapter from the block's own θ/φ convs: no conversion);
- ``reference row``: AlexHex7's ``return_nl_map`` path on the same θ, φ: ``f = θᵀφ`` (N×N), ``softmax``,
  take row q, top-20 (the convs are not timed on either side);
- ``nlviz all (chunked)``: top-20 of *every* query, rows computed in chunks under ``--max-bytes``;
- ``reference all``: the same top-20 of every row of the reference's full map.

Measured with bench/harness.py: each implementation in its own fresh process; median and p95 of the timed
runs; peak memory is the growth of the process's peak RSS during the timed runs only (the peak is reset after
the capture and warmup); ratios: time = reference / nlviz (>1: nlviz is faster), memory = nlviz / reference.
"Largest tensor" is the biggest tensor any torch op produced during one (untimed) run, recorded by a
``TorchDispatchMode``: it shows whether an N×N matrix was ever allocated.

    python bench/query.py                    # full case, 1 thread; writes its section of bench/README.md
    python bench/query.py --quick            # N = 2·14·14, a smoke run (prints only, like --no-readme)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import harness

SECTION = "## Query extraction (bench/query.py)"
CASES = {"full": (256, (8, 56, 56)), "quick": (32, (2, 14, 14))}
K = 20
IMPLS = ("nlviz-row", "foreign-row", "ref-row", "nlviz-all", "ref-all")


def largest_tensor(fn) -> int:
    """Run ``fn`` once and return the largest numel of any tensor a torch op produced."""
    import torch
    from torch.utils._python_dispatch import TorchDispatchMode

    class Track(TorchDispatchMode):
        biggest = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in out if isinstance(out, (tuple, list)) else (out,):
                if isinstance(t, torch.Tensor):
                    Track.biggest = max(Track.biggest, t.numel())
            return out

    with Track():
        fn()
    return Track.biggest


def setup(spec: dict):
    """The block, its input, and θ/φ as the reference builds them; nlviz also captures a recording."""
    import torch

    import nlviz
    from nlviz import ops

    torch.manual_seed(0)
    channels, grid = spec["case"]
    # zero_init=False: PyTorch's default init, so rows are peaked (the paper's N(0, 0.01) init gives
    # near-uniform rows, where a top-20 is decided by float rounding)
    nl = ops.create("nonlocal", channels, mode="embedded_gaussian", dim=3, use_scale=False, zero_init=False)
    block = torch.nn.Sequential(nl)
    x = torch.randn(1, channels, *grid)
    if spec["impl"] == "foreign-row":  # built after x: its init draws from the same generator
        block = torch.nn.Sequential(mmcv_twin(nl, channels))
    block.eval()
    rec = None
    with torch.no_grad():
        if spec["impl"].startswith(("nlviz", "foreign")):
            with nlviz.capture(block) as rec:
                block(x)
            theta = phi = None
        else:
            op = block[0]
            theta, phi = op.theta(x), op.phi(x)  # (1, C', T, H, W) each: the same θ, φ the block uses
    return block, x, rec, theta, phi


def mmcv_twin(nl, channels: int):
    """An mmcv ``NonLocal3d`` (embedded gaussian, no scale, no subsampling) holding ``nl``'s θ, φ, g and W_z."""
    from mmcv.cnn.bricks.non_local import NonLocal3d

    m = NonLocal3d(channels, mode="embedded_gaussian", use_scale=False, sub_sample=False)
    for ours, theirs in (("theta", m.theta.conv), ("phi", m.phi.conv), ("g", m.g.conv), ("conv_out", m.conv_out.conv)):
        theirs.load_state_dict(getattr(nl, ours).state_dict())
    return m


def queries(grid, n: int, seed: int = 0) -> list[tuple[int, int, int]]:
    """n query cells drawn uniformly with a seeded generator; a longer list extends a shorter one."""
    import torch

    t, h, w = grid
    flat = torch.randint(0, t * h * w, (n,), generator=torch.Generator().manual_seed(seed)).tolist()
    return [(f // (h * w), f // w % h, f % w) for f in flat]


def reference_map(theta, phi):
    """AlexHex7 ``NONLocalBlock`` (embedded gaussian) up to ``f_div_C``, the map ``return_nl_map`` returns."""
    import torch
    import torch.nn.functional as F

    b, c = theta.shape[:2]
    theta_x = theta.view(b, c, -1).permute(0, 2, 1)  # (B, N, C')
    phi_x = phi.view(b, c, -1)  # (B, C', N)
    f = torch.matmul(theta_x, phi_x)  # (B, N, N)
    return F.softmax(f, dim=-1)  # (B, N, N)


def worker(spec: dict) -> dict:
    import torch

    torch.set_num_threads(spec["threads"])
    block, x, rec, theta, phi = setup(spec)
    impl, grid = spec["impl"], tuple(spec["case"][1])
    n = grid[0] * grid[1] * grid[2]
    qs = queries(grid, spec["repeats"] + 1)
    flat = [(t * grid[1] + y) * grid[2] + xx for t, y, xx in qs]
    max_bytes = spec["max_bytes"]
    out: dict = {}

    if impl in ("nlviz-row", "foreign-row"):

        def run(i):
            return rec.affinity("0", [qs[i]]).topk(K)
    elif impl == "ref-row":

        def run(i):
            return reference_map(theta, phi)[0, flat[i]].topk(K)
    elif impl == "nlviz-all":
        from nlviz.ops.base import all_queries

        cells = all_queries(grid)
        step = max(1, max_bytes // (n * 4))  # rows of float32 weights per chunk

        def run(i):
            parts = [rec.affinity("0", cells[s : s + step], max_bytes=max_bytes).topk(K) for s in range(0, n, step)]
            return torch.cat([p.indices for p in parts], 2), torch.cat([p.weights for p in parts], 2)

        out["rows_per_chunk"] = step
    else:

        def run(i):
            return reference_map(theta, phi)[0].topk(K, dim=-1)

    with torch.no_grad():
        out["largest_tensor"] = largest_tensor(lambda: run(0))  # also the warmup
        out |= harness.measure(run, spec["repeats"], warmups=0)
        if impl in ("nlviz-row", "foreign-row", "ref-row"):  # parity check on the first query
            result = run(0)
            out["top_idx"] = result.indices.flatten().tolist()
            out["top_w"] = result.values.flatten().tolist() if impl == "ref-row" else result.weights.flatten().tolist()
    out["n"] = n
    return out


def measure(impl: str, case, repeats: int, threads: int, max_bytes: int) -> dict:
    spec = {"impl": impl, "case": case, "repeats": repeats, "threads": threads, "max_bytes": max_bytes}
    return harness.in_fresh_process(__file__, spec, threads=threads)


def row(label: str, r: dict, n: int) -> str:
    if "error" in r:
        return harness.table_row([label, f"fails: {r['error']}", "", "", "", ""])
    nxn = "yes" if r["largest_tensor"] >= n * n else "no"
    p95 = harness.fmt_time(r["p95_s"]) if "p95_s" in r else "—"  # not in a --from-json file of an older run
    times = [harness.fmt_time(r["median_s"]), p95]
    return harness.table_row([label, *times, f"{r['peak_mb']:.0f} MB", f"{r['largest_tensor']:,}", nxn])


def _cost(foreign: dict, own: dict) -> str:
    if "median_s" not in foreign or "median_s" not in own:
        return "(not measured)"
    return f"{foreign['median_s'] / own['median_s']:.2f}×"


def table(res: dict, case, threads: int, max_bytes: int, repeats: dict, note: str = "") -> str:
    channels, grid = case
    n = grid[0] * grid[1] * grid[2]
    lines = [
        "One query's exact attention row from a `nlviz.capture` recording, against building the full map the way",
        "the reference implementations expose it (AlexHex7's `forward(x, return_nl_map=True)` returns",
        "`softmax(θᵀφ)`, N×N), on the same θ and φ; the θ/φ convolutions are not timed on either side.",
        "Run: `python bench/query.py` (rewrites this section; `--quick` for a smoke run).",
        "",
        f"Case: embedded-gaussian NL block, C = {channels} (C' = {channels // 2}), input {grid[0]}×{grid[1]}×{grid[2]} "
        f"→ N = N_k = {n:,}, batch 1, float32, {threads} thread(s); top-{K}. Median and p95 of "
        f"{repeats['row']} (rows) / {repeats['all']} (all queries) timed runs after one warmup, each implementation "
        "in its own process (bench/harness.py). Ratios: time = reference / nlviz (>1: nlviz is faster), memory = "
        "nlviz / reference (<1: nlviz needs less).",
        "",
        harness.table_header(
            ["measurement", "median time", "p95 time", "peak memory", "largest tensor (elements)", "N×N allocated"]
        ),
        row("nlviz: one row + top-20 from a recording", res["nlviz-row"], n),
        row("nlviz: the same from a foreign mmcv `NonLocal3d` captured in place", res["foreign-row"], n),
        row("reference (AlexHex7 `return_nl_map`): full map, take the row, top-20", res["ref-row"], n),
        row(f"nlviz: top-20 of all {n:,} queries, chunks ≤ {max_bytes / 2**20:.0f} MB", res["nlviz-all"], n),
        row("reference: top-20 of every row of the full map", res["ref-all"], n),
        "",
        f"- one row: {harness.ratio_cell(res['ref-row'], res['nlviz-row'])};",
        f"- one row from the foreign mmcv block costs {_cost(res['foreign-row'], res['nlviz-row'])} the same row from "
        "nlviz's own op (median over median; issue 11 asks for the same cost, ≤ 5 ms, no N×N tensor);",
        f"- all queries: {harness.ratio_cell(res['ref-all'], res['nlviz-all'])}.",
    ]
    for label, impl in (("nlviz", "nlviz-row"), ("foreign mmcv block", "foreign-row")):
        a, b = res.get(impl, {}), res["ref-row"]
        if "top_idx" in a and "top_idx" in b:
            same = a["top_idx"] == b["top_idx"]
            err = max(abs(u - v) for u, v in zip(a["top_w"], b["top_w"]))
            lines.append(
                f"- parity, {label} vs reference (query {tuple(queries(grid, 1)[0])}): same top-{K} cells: "
                f"{'yes' if same else 'no'}, max |Δw| = {err:.1e}."
            )
    ours_all = res["nlviz-all"]
    if "largest_tensor" in ours_all:
        lines.append(
            f"- largest nlviz tensors: one row — φ in float64 (C'·N_k = {channels // 2 * n:,}); all queries — one "
            f"chunk of {ours_all['rows_per_chunk']} rows × N_k. nlviz accumulates θᵀφ in float64 so a row does not "
            "depend on which other rows are computed with it; that costs time against the reference's float32 GEMM "
            "when every row is wanted, but never an N×N buffer."
        )
    if note:
        lines.append(f"- {note}")
    if not all(r.get("clean_peak", True) for r in res.values()):
        lines.append("- peak memory could not be reset after setup on this system: figures include the setup.")
    return "\n".join(lines)


def main() -> int:
    ap = harness.argument_parser(__doc__)
    ap.add_argument("--quick", action="store_true", help="a small case (smoke run; implies --no-readme)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per measurement (default 1)")
    ap.add_argument("--repeats", type=int, default=50, help="timed single-row runs (median and p95 reported)")
    ap.add_argument("--repeats-all", type=int, default=2, help="timed all-queries runs")
    ap.add_argument("--max-bytes", type=int, default=64 * 2**20, help="memory bound of one chunk of rows")
    ap.add_argument("--readme", default=str(harness.README), help="README whose section to (re)write")
    ap.add_argument("--no-readme", action="store_true", help="only print the table")
    ap.add_argument("--json", help="also write raw results to this file")
    ap.add_argument("--note", default="", help="a line about the conditions of this run, added to the section")
    ap.add_argument("--from-json", help="re-render the table from a --json file of an earlier run (no measuring)")
    args = ap.parse_args()
    if args.worker:
        return harness.worker_main(worker, args.worker)
    case = CASES["quick" if args.quick else "full"]
    res = json.loads(Path(args.from_json).read_text()) if args.from_json else {}
    for impl in [] if args.from_json else IMPLS:
        reps = args.repeats if impl.endswith("row") else args.repeats_all
        if impl.startswith("ref"):
            reps = min(reps, 3)  # each reference run builds the whole N×N map
        res[impl] = measure(impl, case, reps, args.threads, args.max_bytes)
        print(
            f"# {impl}: {json.dumps({k: v for k, v in res[impl].items() if not k.startswith('top_')})}",
            file=sys.stderr,
            flush=True,
        )
    body = table(
        res,
        case,
        args.threads,
        args.max_bytes,
        {"row": f"{args.repeats} (nlviz) / {min(args.repeats, 3)} (reference)", "all": args.repeats_all},
        args.note,
    )
    print(body)
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=2))
    if not (args.no_readme or args.quick):  # a smoke run never replaces the recorded figures
        harness.write_section(Path(args.readme), SECTION, body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
