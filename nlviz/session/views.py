"""What the Explore view shows for one clicked point: the Scene (arrows and heatmaps draw from it), the top-k
table, the per-query statistics and the temporal profile — all from one exact Affinity row.

Options mirror the ViewSpec fields of the same names (``k``, ``frames``, ``groups``, ``colormap``,
``normalization``, ``panel_size``), so the view can be exported as it is (:mod:`nlviz.session.exporting`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nlviz.session.results import Result, clamp_point, query_affinity, query_cell


def colormaps() -> list[str]:
    """The colormap names a view accepts (besides "auto")."""
    from nlviz.render.colormap import COLORMAPS

    return list(COLORMAPS)


@dataclass(frozen=True)
class ViewOptions:
    """How a query is shown (the ViewSpec fields of the same names).

    ``frames``: key-grid frames shown ("all", a count N, or a list); ``groups``: "mean", "max" or one group
    index; ``normalization``: "query" (the row's own color range) or a fixed (vmin, vmax); ``min_fraction``:
    arrows below this fraction of the strongest one are not drawn; ``values``: "weight" (what the block computes)
    or "share" (each key's share of the row's |weight|: the unit of linear contributions made comparable).
    """

    k: int = 20
    frames: Any = "all"
    groups: Any = "mean"
    colormap: str = "auto"
    normalization: Any = "query"
    panel_size: int = 160
    min_fraction: float = 0.05
    values: str = "weight"


def stat_group(opts: ViewOptions) -> int | None:
    """The group statistics are read for: the view's group index, or None (mean over groups) for "mean"/"max"."""
    g = opts.groups
    return g if isinstance(g, int) and not isinstance(g, bool) else None


@dataclass
class QueryView:
    """One query of one block: ``point`` (model-input pixel), ``cell`` (query cell), the Affinity row, the Scene,
    and the numbers beside the figures: ``numbers`` (statistic name → value, :func:`nlviz.analysis.query_numbers`),
    ``stats`` (the same, by display label), ``profile`` (mass per key frame, :func:`nlviz.analysis.query_profile`)."""

    block: str
    point: tuple[int, int, int]
    cell: tuple[int, int, int]
    aff: Any
    scene: Any
    topk: list[dict[str, Any]]
    stats: dict[str, float]
    profile: dict[str, np.ndarray]
    query_key_frame: int
    note: str | None = None  # shown above the figures, e.g. why there is nothing to draw
    numbers: dict[str, float] | None = None
    temporal: bool = True  # the input has several frames (an image has no temporal profile or distance)


def scene_of(result: Result, aff: Any, opts: ViewOptions, title: str) -> Any:
    """The Scene of query 0 of ``aff`` on the result's clip, with the options' k, frames, groups and scale."""
    from nlviz.render import make_scene

    fixed = tuple(opts.normalization) if isinstance(opts.normalization, (list, tuple)) else None
    if opts.values == "share":
        aff = as_shares(aff)
    return make_scene(
        result.data.clip.frames,
        aff,
        0,
        k=opts.k,
        show=opts.frames,
        groups=opts.groups,
        cmap=opts.colormap,
        fixed=fixed,
        title=title,
        min_fraction=opts.min_fraction,
    )


def as_shares(aff: Any) -> Any:
    """``aff`` with every row replaced by each key's share of the row's |weight| (:func:`nlviz.analysis.grid_mass`;
    kind ``share``): signed linear contributions become a distribution that sums to 1."""
    from dataclasses import replace

    from nlviz.analysis import grid_mass

    shares = grid_mass(aff).nan_to_num(0.0).to(aff.weights.dtype)
    return replace(aff, weights=shares, kind="share", normalized=True)


def topk_rows(scene: Any) -> list[dict[str, Any]]:
    """The Scene's top-k key cells, strongest first: rank, key cell, the input frame it starts at, its center
    (y, x) in input pixels, and its weight."""
    geo = scene.geometry.key
    centers = geo.cell_center(scene.top_cells) if len(scene.top_cells) else np.zeros((0, 3))
    return [
        {
            "rank": i + 1,
            "key cell (t,y,x)": "({},{},{})".format(*(int(v) for v in cell)),
            "frame": int(geo.cell_frames(int(cell[0]))[0]),
            "center (y,x) px": f"({c[1]:.1f}, {c[2]:.1f})",
            "weight": float(w),
        }
        for i, (cell, w, c) in enumerate(zip(scene.top_cells, scene.top_weights, centers))
    ]


def labelled(numbers: dict[str, float], k: int) -> dict[str, float]:
    """Statistic name → value as display label → value (:data:`nlviz.analysis.STAT_LABELS`)."""
    from nlviz.analysis import stat_label

    return {stat_label(name, k): v for name, v in numbers.items()}


def explore(result: Result, block: str, point: Any, opts: ViewOptions | None = None) -> QueryView:
    """Everything the Explore page shows for ``point`` (t, y, x) in model-input pixels on ``block``."""
    from nlviz.analysis import TEMPORAL_STATS, query_numbers, query_profile

    opts = opts or ViewOptions()
    point = clamp_point(result.data, point)
    cell = query_cell(result, block, point)
    aff = query_affinity(result, block, point)
    title = f"{result.model.label} | {block} | query cell (t,y,x)=({cell[0]},{cell[1]},{cell[2]})"
    scene = scene_of(result, aff, opts, title)
    group = stat_group(opts)
    numbers = query_numbers(aff, 0, k=opts.k, group=group)
    prof = query_profile(aff, 0, group=group).numpy()  # (Tk,)
    qk = scene.key_frames[scene.query_panel]
    k = min(opts.k, aff.rows().shape[-1])
    temporal = result.data.shape[0] > 1
    shown = {n: v for n, v in numbers.items() if temporal or n not in TEMPORAL_STATS}
    return QueryView(
        block,
        point,
        cell,
        aff,
        scene,
        topk_rows(scene),
        labelled(shown, k),
        {f"query {cell}": prof} if temporal else {},
        int(qk),
        zero_row_note(aff),
        numbers,
        temporal,
    )


def zero_row_note(aff: Any) -> str | None:
    """Why a query's figures are empty when every weight of its row is 0 (None otherwise)."""
    if bool(aff.rows()[0, :, 0].any()):
        return None
    note = (
        f"This query's row is all zero: {aff.block} gives it no weight on any key, so there are no arrows "
        "and its statistics are undefined (NaN)."
    )
    if aff.kind == "concatenation":
        note += (
            " For concatenation, ReLU(a_i + b_j) ≤ 0 for every key j. If every query looks like this, the "
            "block died in training (its ReLU never fires, so it never learned); see checkpoints/README.md."
        )
    return note


def bat_blocks(result: Result) -> list[str]:
    """The blocks of the result that are BA-Transforms (they expose P̃ and Q̃)."""
    return [b for b in result.blocks if result.rec.record(b).op.family == "bat"]


def bat(result: Result, block: str, point: Any, opts: ViewOptions | None = None) -> tuple[Any, list[dict[str, Any]]]:
    """(BatView, per-group check rows) of the query at ``point``: row i of P̃, column j of Q̃ (their sums), T̃[t, t]
    when there is a temporal transform, and max |effective − T̃[t,t]·P̃[i,:]⊗Q̃[:,j]| (0 up to rounding: the
    effective map of the query in its own frame is exactly that outer product)."""
    from nlviz.render import bat_view

    opts = opts or ViewOptions()
    if block not in bat_blocks(result):
        raise ValueError(f"block {block!r} is not a BA-Transform; BAT blocks of this model: {bat_blocks(result)}")
    aff = query_affinity(result, block, point)
    view = bat_view(aff, 0, cmap=opts.colormap)
    t, i, j = view.query_cell
    rows = []
    for g in range(view.groups):
        factor = float(view.T[g, t, t]) if view.T is not None else 1.0
        outer = factor * np.outer(view.P[g, i], view.Q[g, :, j])  # (Hk, Wk)
        row = {"group": g, "P̃ row i sum": float(view.P[g, i].sum()), "Q̃ column j sum": float(view.Q[g, :, j].sum())}
        if view.T is not None:
            row["T̃[t,t]"] = factor
        row |= {
            "effective map sum": float(view.effective[g].sum()),
            "max |effective − T̃·P̃ᵢ⊗Q̃ⱼ|": float(np.abs(view.effective[g] - outer).max()),
        }
        rows.append(row)
    return view, rows
