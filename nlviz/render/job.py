"""Everything a ViewSpec asks for, for one input: read the clip, run each model under ``nlviz.capture``, resolve
the queries, render every view of every (model, block) and write the files. ``nlviz.export.run`` calls
:func:`render_input` once per input (in worker processes or inline); the app can call it for one clip.

Files, in ``OUT/<input id>/`` (``PAIR`` = ``<model>__<block>``, ``qNN`` = query index):

- png: ``PAIR_qNN_arrows.png``, ``PAIR_qNN_heatmap.png``, ``PAIR_qNN_bat.png`` (BAT blocks),
  ``PAIR_profile.png`` (temporal profiles), ``blocks.png`` (distance/entropy per block),
  ``compare_qNN.png`` (several models/blocks, when the queries are points: explicit pixels, grid or auto);
- mp4: ``PAIR.mp4`` (≤ 4 queries side by side; more → ``PAIR_partJ.mp4``);
- html: ``PAIR.html`` (and ``compare.html``), plotly.js from ``OUT/plotly.min.js`` or inline;
- json: ``PAIR.json`` (top-k) and ``PAIR.npz`` (full rows), ``blocks.json`` (the numbers of ``blocks.png``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from nlviz.render.scene import Scene, make_scene, shared_scale


def safe_name(name: str) -> str:
    """A file-name-safe version of a model or block name."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "x"


@dataclass
class LoadedModel:
    """A model with what reading inputs for it needs (from its card, overridden by the ViewSpec)."""

    name: str
    label: str
    model: Any
    video: bool
    frames: int
    size: int | None
    mean: tuple[float, ...]
    std: tuple[float, ...]
    task: dict[str, Any] | None
    seed: int
    blocks: list[str]


def describe_model(name: str, model: Any, spec: Any) -> LoadedModel:
    """Read the card: input kind, frames, size, normalization, synthetic task; pick the blocks to show."""
    from nlviz.data import IMAGENET_MEAN, IMAGENET_STD
    from nlviz.models import ARCHS, operator_blocks

    card = getattr(model, "card", None) or {}
    inp = card.get("input") or {}
    shape = inp.get("shape")  # (3, T, S, S) for video models, (3, S, S) for image models
    if shape:
        video = len(shape) == 4
    else:  # no recorded input: ask the arch registry (public checkpoints: assume video)
        video = ARCHS.get(card["arch"]).task == "video" if "arch" in card else True
    default_frames = (shape[1] if shape else 8) if video else 1
    frames = spec.input_frames or default_frames
    size = spec.input_size or (shape[-1] if shape else None)
    data = card.get("data") or {}
    seed = spec.seed if spec.seed is not None else data.get("eval_seed", card.get("metrics", {}).get("eval_seed", 1))
    names = [n for n, _ in operator_blocks(model)]
    label = safe_name(Path(name).stem if Path(name).suffix in (".json", ".safetensors", ".pth", ".pt") else name)
    if not names:
        raise ValueError(f"model {name!r} has no operator blocks to show (a baseline without non-local operators)")
    if spec.blocks == "all":
        blocks = names
    else:
        blocks = [b for b in names if b in spec.blocks]
        if not blocks:
            raise ValueError(
                f"ViewSpec field 'blocks': none of {list(spec.blocks)} is a block of model {name!r}; "
                f"its operator blocks: {names}"
            )
    return LoadedModel(
        name,
        label,
        model,
        video,
        frames if video else 1,
        size,
        tuple(inp.get("mean", IMAGENET_MEAN)),
        tuple(inp.get("std", IMAGENET_STD)),
        card.get("task"),
        int(seed),
        blocks,
    )


def read_input(source: str, lm: LoadedModel, task_model: LoadedModel) -> Any:
    """``synthetic:I`` (clip I of the first model's task), ``frames:DIR`` (a frame folder) or any file path."""
    from nlviz.data import make_task, read_clip, read_frames_folder

    if source.startswith("synthetic:"):
        if not task_model.task:
            raise ValueError(f"synthetic inputs need a model whose card names its task; {task_model.name!r} has none")
        task = make_task(task_model.task["name"], **task_model.task["params"])
        return task.sample(task_model.seed, int(source.split(":", 1)[1])).to_clip(source=source)
    if source.startswith("frames:"):
        return read_frames_folder(source.split(":", 1)[1], frames=lm.frames, size=lm.size)
    return read_clip(source, frames=lm.frames, size=lm.size)


def model_input(clip: Any, lm: LoadedModel) -> torch.Tensor:
    return clip.to_tensor(lm.mean, lm.std) if lm.video else clip.image_tensor(0, lm.mean, lm.std)


def resolve_points(spec: Any, clip: Any, rec: Any, block: str) -> np.ndarray | None:
    """Model-input points (Q, 3) of the spec's queries; None for ``all`` and ``explicit`` cells."""
    from nlviz.render import queries

    q = spec.queries
    size = (clip.num_frames, *clip.size)
    if q.mode == "explicit" and q.units == "pixels":
        return queries.source_points(list(q.points), clip.geometry)
    if q.mode == "grid":
        return queries.grid_points(q.n, q.frame, size)
    if q.mode == "auto":
        return queries.auto_points(rec, block, q.k, q.by)
    return None


def rescale_points(points: np.ndarray, src: tuple[int, int, int], dst: tuple[int, int, int]) -> np.ndarray:
    """Points of one model-input size → another (same place in the clip)."""
    if tuple(src) == tuple(dst):
        return points
    t = np.minimum(np.floor((points[:, 0] + 0.5) * dst[0] / src[0]), dst[0] - 1)
    ys = (points[:, 1] + 0.5) * dst[1] / src[1] - 0.5
    xs = (points[:, 2] + 0.5) * dst[2] / src[2] - 0.5
    return np.stack([t, ys, xs], 1)


def block_cells(spec: Any, points: np.ndarray | None, geo: Any, grid: tuple[int, int, int]) -> Any:
    from nlviz.ops.base import all_queries, as_queries
    from nlviz.render.queries import cells_at

    if spec.queries.mode == "all":
        return all_queries(grid)
    if points is None:  # explicit cells
        try:
            return as_queries([[int(v) for v in p] for p in spec.queries.points], grid)
        except ValueError as e:
            raise ValueError(f"ViewSpec field 'queries.points': {e}") from None
    return torch.as_tensor(cells_at(points, geo.query), dtype=torch.long)


def render_input(source: str, input_id: str, spec: Any, models: list[LoadedModel], out_dir: str | Path) -> list[str]:
    """Render and write every output of one input; returns the written paths relative to ``out_dir``."""
    import nlviz
    from nlviz.render import pair_outputs

    out_dir = Path(out_dir)
    folder = out_dir / input_id
    written: list[Path] = []
    clips: dict[tuple, Any] = {}
    points, ref_size = None, None
    pairs: list[tuple[str, list[Scene]]] = []
    stats: dict[str, dict[str, float]] = {}
    for lm in models:
        key = (lm.frames, lm.size, lm.video)
        if key not in clips:
            clips[key] = read_input(source, lm, models[0])
        clip = clips[key]
        with torch.no_grad(), nlviz.capture(lm.model, blocks=lm.blocks, clip=clip) as rec:
            lm.model(model_input(clip, lm))
        size = (clip.num_frames, *clip.size)
        for block in rec.blocks:
            if points is None and ref_size is None:
                points, ref_size = resolve_points(spec, clip, rec, block), size
            pts = None if points is None else rescale_points(points, ref_size, size)
            qgrid, _ = rec.grids(block)
            aff = rec.affinity(block, block_cells(spec, pts, rec.geometry(block), qgrid))
            pair = f"{lm.label}__{safe_name(block)}"
            scenes = make_scenes(spec, clip, aff, f"{lm.label} | {block} | {input_id}")
            written += pair_outputs.write_pair(
                folder,
                pair,
                spec,
                clip,
                aff,
                scenes,
                info={"model": lm.name, "block": block, "input": input_id, "source": source},
            )
            label = f"{lm.label} {block}"
            pairs.append((label, scenes))
            if scenes and "blocks" in spec.views:
                rows = [pair_outputs.scene_stats(s) for s in scenes]
                stats[label] = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    written += pair_outputs.write_input_level(folder, spec, pairs if points is not None else [], stats, input_id)
    return sorted(p.relative_to(out_dir).as_posix() for p in written)


def make_scenes(spec: Any, clip: Any, aff: Any, title: str) -> list[Scene]:
    fixed = spec.normalization if isinstance(spec.normalization, tuple) else None
    scale = None
    if spec.normalization == "shared" and aff.weights.shape[2]:
        scale = shared_scale(aff, spec.groups, cmap=spec.colormap)
    out = []
    for i in range(aff.weights.shape[2]):
        cell = "({},{},{})".format(*aff.queries[i].tolist())
        out.append(
            make_scene(
                clip.frames,
                aff,
                i,
                k=spec.k,
                show=spec.frames,
                groups=spec.groups,
                scale=scale,
                cmap=spec.colormap,
                fixed=fixed,
                title=f"{title} | query {i} cell {cell}",
            )
        )
    return out
