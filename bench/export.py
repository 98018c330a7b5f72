"""Export benchmark: clips per second of ``nlviz.export.run`` (arrow-plot PNGs, 4 queries) against a naive
baseline that builds the full N×N map and draws with matplotlib (one annotation per arrow), measured in the same run.

Input: 8-frame 112×112 H.264 clips (read and resized to the model's input as the export does). Model: a zoo model
(``--model``, default st_nl_embedded) or, when the zoo is not trained yet, a random model of the same recipe.
Each side runs in its own fresh process (bench/harness.py): one clip as a warmup (imports, first model load),
then ``--repeats`` timed runs over all clips; clips/s of the median and of the p95 run time; ratio = naive time /
nlviz time (>1: nlviz is faster).

    python bench/export.py              # 20 clips each way, prints a markdown table
    python bench/export.py --clips 5 --workers 2
    python bench/export.py --quick      # 2 clips, 2 runs: a smoke run
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import harness


def make_clips(folder: Path, n: int) -> list[str]:
    import av
    import numpy as np

    out = []
    rng = np.random.default_rng(0)
    for i in range(n):
        path = folder / f"clip{i:03d}.mp4"
        with av.open(str(path), "w") as c:
            s = c.add_stream("libx264", rate=8)
            s.width, s.height, s.pix_fmt = 112, 112, "yuv420p"
            for _ in range(8):
                img = np.full((112, 112, 3), 16, np.uint8)
                y, x = rng.integers(10, 90, 2)
                img[y : y + 16, x : x + 16] = (230, 40, 40)
                for p in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                    c.mux(p)
            for p in s.encode():
                c.mux(p)
        out.append(str(path))
    return out


def model_path(name: str, folder: Path) -> str:
    from nlviz.io.checkpoint import zoo_cards

    if any(c["name"] == name for c in zoo_cards()):
        return name
    import torch

    from nlviz.io.checkpoint import save_checkpoint
    from nlviz.models import build_model
    from nlviz.train.zoo import RECIPES

    cfg = RECIPES[name]
    torch.manual_seed(0)
    model = build_model(cfg.arch, **cfg.args).eval()
    card = {
        "arch": cfg.arch,
        "args": cfg.args,
        "task": {"name": cfg.task, "params": cfg.task_params},
        "input": {"shape": [3, cfg.task_params["frames"], cfg.task_params["size"], cfg.task_params["size"]]},
    }
    save_checkpoint(model, card, folder / name)
    print(f"({name} is not in the zoo yet: a random model of its recipe)", file=sys.stderr)
    return str(folder / f"{name}.json")


def naive(model_name: str, clips: list[str], out: Path, k: int = 20) -> None:
    """Full N×N map per clip, matplotlib figure per query with one annotate() arrow per key cell."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    import torch

    import nlviz
    from nlviz.data import read_clip

    model = nlviz.load_model(model_name)
    t_in, size = model.card["input"]["shape"][1], model.card["input"]["shape"][-1]
    for ci, path in enumerate(clips):
        clip = read_clip(path, frames=t_in, size=size)
        with torch.no_grad(), nlviz.capture(model, clip=clip) as rec:
            model(clip.to_tensor())
        block = rec.blocks[0]
        full = rec.affinity(block).weights[0].mean(0)  # (N, Tk, Hk, Wk): the whole map
        qg, kg = rec.grids(block)
        geo = rec.geometry(block)
        for qi, q in enumerate(
            [(t_in // 2, y, x) for y in (qg[1] // 4, 3 * qg[1] // 4) for x in (qg[2] // 4, 3 * qg[2] // 4)]
        ):
            row = full[(q[0] * qg[1] + q[1]) * qg[2] + q[2]].numpy()
            fig, axes = plt.subplots(1, kg[0], figsize=(2 * kg[0], 2.4))
            for t, ax in enumerate(axes):
                ax.imshow(clip.frames[t])
                ax.axis("off")
            qc = geo.query.cell_center([q])[0]
            for idx in np.argsort(-row.ravel())[:k]:
                t, y, x = np.unravel_index(idx, kg)
                c = geo.key.cell_center([(t, y, x)])[0]
                axes[t].annotate(
                    "",
                    xy=(c[2], c[1]),
                    xycoords=axes[t].transData,
                    xytext=(qc[2], qc[1]),
                    textcoords=axes[q[0]].transData,
                    arrowprops=dict(arrowstyle="->", color="yellow"),
                )
            fig.savefig(out / f"{ci:03d}_q{qi}.png", dpi=80)
            plt.close(fig)


def worker(spec: dict) -> dict:
    """One side (``nlviz`` or ``naive``) over all clips, ``repeats`` times, after a one-clip warmup."""
    clips, model, out = spec["clips"], spec["model"], Path(spec["out"])
    if spec["impl"] == "nlviz":
        from nlviz.export import run
        from nlviz.viewspec import ViewSpec

        view = ViewSpec(models=(model,), queries={"mode": "grid", "n": 2}, formats=("png",), views=("arrows",))

        def once(i: int) -> None:  # a new folder each time: a run never finds earlier outputs
            m = run(view, clips[:1] if i < 0 else clips, out / f"nlviz{i}", workers=spec["workers"], progress=False)
            assert m["counts"]["done"] == (1 if i < 0 else len(clips)), m["counts"]
    else:

        def once(i: int) -> None:
            (out / f"naive{i}").mkdir(parents=True)
            naive(model, clips[:1] if i < 0 else clips, out / f"naive{i}")

    once(-1)  # warmup: one clip
    return harness.measure(once, spec["repeats"], warmups=0)


def clips_per_s(r: dict, clips: int) -> str:
    if "error" in r:
        return "fails"
    return f"{clips / r['median_s']:.2f} (p95 {clips / r['p95_s']:.2f})"


def main() -> int:
    ap = harness.argument_parser(__doc__)
    ap.add_argument("--model", default="st_nl_embedded")
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=3, help="timed runs over all clips, each side")
    ap.add_argument("--quick", action="store_true", help="2 clips, 2 runs (smoke run)")
    args = ap.parse_args()
    if args.worker:
        return harness.worker_main(worker, args.worker)
    if args.quick:
        args.clips, args.repeats = 2, 2
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clips = make_clips(tmp, args.clips)
        spec = {"clips": clips, "model": model_path(args.model, tmp), "workers": args.workers, "repeats": args.repeats}
        res = {
            impl: harness.in_fresh_process(__file__, {**spec, "impl": impl, "out": str(tmp / impl)})
            for impl in ("nlviz", "naive")
        }
    for impl, r in res.items():
        if "error" in r:
            print(f"# {impl} failed: {r['error']}", file=sys.stderr)
    columns = ["model", "clips", "workers", "nlviz export (clips/s)", "naive full map + matplotlib (clips/s)", "ratio"]
    ratio = harness.fmt_ratio(harness.speedup(res["naive"], res["nlviz"]))
    print(harness.table_header(columns))
    print(
        harness.table_row(
            [
                args.model,
                args.clips,
                args.workers,
                clips_per_s(res["nlviz"], args.clips),
                clips_per_s(res["naive"], args.clips),
                ratio,
            ]
        )
    )
    print(f"\nclips/s of the median run (of the p95 run), {args.repeats} runs each; ratio = naive / nlviz time.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
