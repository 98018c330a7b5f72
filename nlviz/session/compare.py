"""One clicked point in several (model, block) pairs on the same clip: the comparison grid with difference rows,
and a divergence table that says where the variants disagree.

Each entry's row is read as a mass distribution (:func:`nlviz.analysis.mass.grid_mass`: the row itself for
softmax/BAT, |w| / Σ|w| otherwise; groups averaged). Entry i is compared with the first entry (the reference)
on the reference's key grid, moving its mass there with :func:`nlviz.analysis.grids.spread` when the grids
differ (totals are kept):

- ``JS divergence``: Jensen–Shannon divergence ÷ log 2 (0 = same distribution, 1 = disjoint);
- ``top-k overlap``: IoU of the k heaviest key cells (:func:`nlviz.analysis.topk_iou`);
- ``most different frame``: the reference key frame with the largest Σ|m_i − m_ref| (and that L1 share).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from nlviz.session.results import Result, clamp_point
from nlviz.session.views import QueryView, ViewOptions, explore


def mass_on(aff: Any, grid: tuple[int, int, int]) -> torch.Tensor:
    """The row's mass (Tk, Hk, Wk) float64, groups averaged, moved onto ``grid`` (same model input)."""
    from nlviz.analysis.grids import spread
    from nlviz.analysis.mass import grid_mass

    m = grid_mass(aff)[0, :, 0].mean(0)  # (Tk, Hk, Wk)
    return spread(m, tuple(aff.geometry.key.input_size), tuple(aff.key_grid), tuple(grid))


def divergence_rows(views: list[tuple[str, QueryView]], k: int) -> list[dict[str, Any]]:
    """The divergence table (see the module docstring): one row per entry after the first."""
    from nlviz.analysis import js_divergence, topk_iou

    ref_label, ref = views[0]
    grid = tuple(ref.aff.key_grid)
    m0 = mass_on(ref.aff, grid)
    kk = min(k, m0.numel())
    rows = []
    for label, v in views[1:]:
        m = mass_on(v.aff, grid)
        per_frame = (m - m0).abs().sum((-2, -1))  # (Tk,)
        worst = int(per_frame.argmax())
        rows.append(
            {
                "entry": label,
                "reference": ref_label,
                "JS divergence": float(js_divergence(m.flatten(), m0.flatten())),
                f"top-{kk} overlap (IoU)": topk_iou(m, m0, kk),
                "most different key frame": worst,
                "L1 mass difference there": float(per_frame[worst]),
            }
        )
    return rows


def compare(
    entries: list[tuple[str, Result, str]], point: Any, opts: ViewOptions | None = None, *, per_row: bool = False
) -> tuple[Any, list[tuple[str, QueryView]], list[dict[str, Any]]]:
    """(CompareView, per-entry QueryViews, divergence rows) of model-input ``point`` in each (label, result,
    block) entry. Every entry must read the clip at the same model-input shape. ``per_row``: every row on its
    own scale (:func:`nlviz.render.compare.compare_view`)."""
    from nlviz.render import compare_view

    opts = opts or ViewOptions()
    if not entries:
        raise ValueError("compare needs at least one (model, block) entry")
    first = entries[0][1].data
    for label, result, _ in entries[1:]:
        if result.data.shape != first.shape:
            raise ValueError(
                f"{label!r} reads the clip as (T, H, W)={result.data.shape} but {entries[0][0]!r} as "
                f"{first.shape}: compare models with the same input frames and size"
            )
        if result.data.key != first.key and not np.array_equal(result.data.clip.frames, first.clip.frames):
            raise ValueError(
                f"{label!r} was run on {result.data.description}, {entries[0][0]!r} on "
                f"{first.description}: compare one clip"
            )
    point = clamp_point(entries[0][1].data, point)
    views = [(label, explore(result, block, point, opts)) for label, result, block in entries]
    title = "query at (t,y,x)=({},{},{}) in {} models/blocks".format(*point, len(views))
    view = compare_view([(label, v.scene) for label, v in views], title=title, per_row=per_row)
    return view, views, divergence_rows(views, opts.k) if len(views) > 1 else []
