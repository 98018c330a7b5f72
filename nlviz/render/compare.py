"""The comparison grid: the same query in several models or blocks, one row each, plus difference rows.

Every entry is a :class:`Scene` of the same clip (same model-input frames); blocks may have different grids, so
maps are compared per model-input pixel (:func:`pixel_map`). With ``relative=True`` (default) each row is
divided by its total |weight| first — the share of the row each cell holds — so a softmax row and a dot
product ÷N row are comparable; the label says so. Difference rows are ``entry_i − entry_0`` on a symmetric
scale. Columns are the model-input frames shown by the first entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nlviz.render import cv_draw, plotly_parts
from nlviz.render.heatmap import ALPHA, coloraxis, overlay, pixel_map
from nlviz.render.layout import PanelGrid, compose, display_scale, stack
from nlviz.render.scale import ColorScale, make_scale
from nlviz.render.scene import Scene
from nlviz.render.spacetime import title_band


@dataclass
class CompareView:
    """``maps`` (E, F, H, W) per entry and shown input frame, ``diffs`` (E−1, F, H, W) = entry_i − entry_0."""

    frames: np.ndarray  # (T_in, H, W, 3)
    input_frames: tuple[int, ...]
    labels: list[str]
    maps: np.ndarray
    diffs: np.ndarray
    scale: ColorScale
    diff_scale: ColorScale
    queries: list[tuple[int, tuple[float, float, float, float]]]  # per entry: (column or -1, input box)
    title: str = ""


def compare_view(entries: list[tuple[str, Scene]], *, relative: bool = True, title: str = "") -> CompareView:
    """Build the grid from (label, Scene) pairs of one query on one clip (at least one entry)."""
    if not entries:
        raise ValueError("compare_view needs at least one (label, Scene) entry")
    first = entries[0][1]
    frames = first.frames
    _, h, w = frames.shape[:3]
    cols = first.input_frames
    maps = np.zeros((len(entries), len(cols), h, w))
    queries = []
    for e, (label, sc) in enumerate(entries):
        if sc.frames.shape != frames.shape:
            raise ValueError(f"entry {label!r}: frames {sc.frames.shape} differ from {frames.shape}; compare one clip")
        total = np.abs(sc.weights).sum() if relative else 1.0
        for c, f in enumerate(cols):
            kt = int(sc.geometry.key.cell_at(f, 0, 0)[0][0])
            maps[e, c] = pixel_map(sc.weights[kt], sc.geometry.key, h, w) / (total or 1.0)
        q_frame = sc.input_frames[sc.query_panel]
        queries.append((cols.index(q_frame) if q_frame in cols else -1, sc.query_box))
    diffs = maps[1:] - maps[:1]
    what = "share of the row's total |weight|" if relative else first.scale.label
    scale = make_scale(maps, what, cmap=first.scale.cmap if not first.scale.signed else "auto")
    diff_scale = make_scale(diffs, f"difference to {entries[0][0]} ({what})", signed=True)
    return CompareView(frames, tuple(cols), [lb for lb, _ in entries], maps, diffs, scale, diff_scale, queries, title)


def _grid(view: CompareView, panel_size: int) -> PanelGrid:
    _, h, w = view.frames.shape[:3]
    rows = len(view.labels) * 2 - 1
    left = max(60, min(200, max(cv_draw.text_width(s) for s in view.labels + ["minus"]) + 10))
    return PanelGrid(rows, len(view.input_frames), h, w, display_scale(h, w, panel_size), left=left)


def _row_labels(view: CompareView) -> list[str]:
    return view.labels + [f"{lb} minus {view.labels[0]}" for lb in view.labels[1:]]


def compare_image(view: CompareView, *, panel_size: int = 128, alpha: float = ALPHA) -> np.ndarray:
    """Rows: each entry's overlays, then the difference rows; two colorbars (maps, differences)."""
    grid = _grid(view, panel_size)
    panels, titles = {}, {}
    e_count = len(view.labels)
    for c, f in enumerate(view.input_frames):
        titles[(0, c)] = f"frame {f}"
        for e in range(e_count):
            panels[(e, c)] = overlay(view.frames[f], view.maps[e, c], view.scale, alpha)
        for d in range(e_count - 1):
            panels[(e_count + d, c)] = overlay(view.frames[f], view.diffs[d, c], view.diff_scale, 0.85)
    canvas = compose(grid, panels, titles, _row_labels(view))
    for e, (col, box) in enumerate(view.queries):
        if col >= 0:
            y0, x0, y1, x1 = grid.box_to_canvas(e, col, box)
            cy, cx = (y0 + y1) / 2 - 0.5, (x0 + x1) / 2 - 0.5
            cv_draw.query_marker(canvas, (cy, cx), (y0, x0, y1, x1))
    w = canvas.shape[1]
    bars = [cv_draw.colorbar(w, view.scale)] + ([cv_draw.colorbar(w, view.diff_scale)] if e_count > 1 else [])
    return stack([title_band(view.title or "comparison", w), canvas, *bars])


def compare_figure(view: CompareView, *, panel_size: int = 128, alpha: float = ALPHA) -> Any:
    """The same grid in plotly: the frames once per row, pixel-resolution heatmaps on two color axes."""
    go = plotly_parts.go()
    grid = _grid(view, panel_size)
    e_count = len(view.labels)
    panels = {(r, c): view.frames[f] for r in range(grid.rows) for c, f in enumerate(view.input_frames)}
    titles = {(0, c): f"frame {f}" for c, f in enumerate(view.input_frames)}
    canvas = compose(grid, panels, titles, _row_labels(view))
    fig = plotly_parts.new_figure(canvas, view.title or "comparison", extra_width=220)
    s = grid.scale
    for r in range(grid.rows):
        data, axis, a = (
            (view.maps[r], "coloraxis", alpha) if r < e_count else (view.diffs[r - e_count], "coloraxis2", 0.85)
        )
        for c in range(len(view.input_frames)):
            y0, x0 = grid.to_canvas(r, c, 0, 0)
            fig.add_trace(
                go.Heatmap(
                    z=data[c],
                    x0=float(x0),
                    dx=s,
                    y0=float(y0),
                    dy=s,
                    coloraxis=axis,
                    opacity=a,
                    zsmooth=False,
                    name=_row_labels(view)[r],
                    hovertemplate="%{z:.4g}<extra></extra>",
                )
            )
    for e, (col, box) in enumerate(view.queries):
        if col >= 0:
            y0, x0, y1, x1 = grid.box_to_canvas(e, col, box)
            for tr in plotly_parts.query_traces(
                ((y0 + y1) / 2 - 0.5, (x0 + x1) / 2 - 0.5), (y0, x0, y1, x1), f"query ({view.labels[e]})"
            ):
                tr.showlegend = False
                fig.add_trace(tr)
    ax2 = coloraxis(view.diff_scale)
    ax2["colorbar"] |= dict(x=1.22)  # right of the first colorbar's title, not over it
    fig.update_layout(coloraxis=coloraxis(view.scale), coloraxis2=ax2)
    return fig
