"""Everything a ViewSpec asks for, for one input: read the clip and run each model (:mod:`nlviz.run`), resolve
the queries, render every view of every (model, block) and write the files. ``nlviz.export.run`` calls
:func:`render_input` once per input (in worker processes or inline); the app calls it for one clip.

Files, in ``OUT/<input id>/`` (``PAIR`` = ``<model>__<block>``, ``qNN`` = query index):

- png: ``PAIR_qNN_arrows.png``, ``PAIR_qNN_heatmap.png``, ``PAIR_qNN_bat.png`` (BAT blocks),
  ``PAIR_profile.png`` (temporal profiles), ``blocks.png`` (distance/entropy per block),
  ``compare_qNN.png`` (several models/blocks, when the queries are points: explicit pixels, grid or auto);
- mp4: ``PAIR.mp4`` (≤ 4 queries side by side; more → ``PAIR_partJ.mp4``);
- html: ``PAIR.html`` (and ``compare.html``), plotly.js from ``OUT/plotly.min.js`` or inline;
- json: ``PAIR.json`` (top-k, per-query statistics) and ``PAIR.npz`` (full rows), ``blocks.json`` (the numbers of
  ``blocks.png``: :func:`nlviz.analysis.block_stats` over the exported queries of each block).
- svg, pdf: ``PAIR_qNN_arrows.svg`` / ``.pdf`` (the frames with the weights overlaid, the arrows and a colorbar, as
  one vector figure ``paper_width`` wide) and ``compare_qNN.svg`` / ``.pdf`` (the comparison grid).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from nlviz.render.scene import Scene, make_scene, shared_scale
from nlviz.run import LoadedModel, forward, read_input, safe_name


def resolve_points(spec: Any, clip: Any, rec: Any, block: str) -> np.ndarray | None:
    """Model-input points (Q, 3) of the spec's queries; None for ``all`` and ``explicit`` cells."""
    from nlviz.export import queries

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
    from nlviz.export.queries import cells_at
    from nlviz.ops.base import all_queries, as_queries

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
    from nlviz.analysis import block_stats
    from nlviz.export import outputs

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
        rec = forward(lm, clip, what=source).rec
        size = (clip.num_frames, *clip.size)
        for block in rec.blocks:
            if points is None and ref_size is None:
                points, ref_size = resolve_points(spec, clip, rec, block), size
            pts = None if points is None else rescale_points(points, ref_size, size)
            qgrid, _ = rec.grids(block)
            aff = rec.affinity(block, block_cells(spec, pts, rec.geometry(block), qgrid))
            pair = f"{lm.label}__{safe_name(block)}"
            scenes = make_scenes(spec, clip, aff, f"{lm.label} | {block} | {input_id}")
            written += outputs.write_pair(
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
                st = block_stats(rec, block, queries=aff.queries, k=spec.k).to_dict()
                stats[label] = {name: st[name] for name in outputs.BLOCK_STATS}
    written += outputs.write_input_level(folder, spec, pairs if points is not None else [], stats, input_id)
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
                min_fraction=spec.min_fraction,
                show=spec.frames,
                groups=spec.groups,
                scale=scale,
                cmap=spec.colormap,
                fixed=fixed,
                title=f"{title} | query {i} cell {cell}",
            )
        )
    return out
