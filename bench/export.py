"""Export benchmark: clips per second of ``nlviz.export.run`` (arrow-plot PNGs, 4 queries) against a naive baseline that builds
the full N×N map and draws with matplotlib (one annotation per arrow), measured in the same run.

Input: 8-frame 112×112 H.264 clips (read and resized to the model's input as the export does). Model: a zoo model
(``--model``, default st_nl_embedded) or, when the zoo is not trained yet, a random model of the same recipe.

    python bench/export.py              # 20 clips each way, prints a markdown table
    python bench/export.py --clips 5 --workers 2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="st_nl_embedded")
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    from nlviz.export import run
    from nlviz.viewspec import ViewSpec

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        clips = make_clips(tmp, args.clips)
        model = model_path(args.model, tmp)
        spec = ViewSpec(models=(model,), queries={"mode": "grid", "n": 2}, formats=("png",), views=("arrows",))
        run(spec, clips[:1], tmp / "warm", progress=False)  # imports, first model load
        t0 = time.perf_counter()
        m = run(spec, clips, tmp / "ours", workers=args.workers, progress=False)
        ours = args.clips / (time.perf_counter() - t0)
        assert m["counts"]["done"] == args.clips, m["counts"]
        (tmp / "naive").mkdir()
        naive(model, clips[:1], tmp / "naive")  # warm-up
        t0 = time.perf_counter()
        naive(model, clips, tmp / "naive")
        base = args.clips / (time.perf_counter() - t0)
    print("| model | clips | workers | nlviz export (clips/s) | naive full map + matplotlib (clips/s) | ratio |")
    print("|---|---|---|---|---|---|")
    print(f"| {args.model} | {args.clips} | {args.workers} | {ours:.1f} | {base:.2f} | {ours / base:.1f}× |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
