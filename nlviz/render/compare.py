"""The comparison grid: the same query in several models or blocks, one row each, plus difference rows.

Every entry is a :class:`Scene` of the same clip (same model-input frames); blocks may have different grids, so
maps are compared per model-input pixel (:func:`pixel_map`). With ``relative=True`` (default) each row is read
as a distribution — every cell's |weight| divided by the row's total |weight| — so a softmax row and a dot
product ÷N row are comparable; these shares are ≥ 0 and drawn on a sequential scale from 0 (``relative=False``
keeps the raw weights: a signed kind then gets a diverging scale centred at 0). Difference rows are
``entry_i − entry_0`` on a diverging scale centred at 0 and fitted to their own largest |Δ| (not to the
attention's scale, so small differences stay visible).

``per_row=True`` gives every entry row (and every difference row) its own scale, fitted to its own maximum:
a sharp row no longer washes out a flat one. Columns are the model-input frames shown by the first entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from nlviz.render import cv_draw, plotly_parts
from nlviz.render.heatmap import ALPHA, coloraxis, overlay, pixel_map
from nlviz.render.layout import PanelGrid, compose, display_scale, stack
from nlviz.render.scale import ColorScale, format_value, make_scale
from nlviz.render.scene import Scene
from nlviz.render.spacetime import title_band

#: opacity of a difference overlay at the largest |Δ| (it falls with |Δ|, as the attention overlays do)
DIFF_ALPHA = 0.9


@dataclass
class CompareView:
    """``maps`` (E, F, H, W) per entry and shown input frame, ``diffs`` (E−1, F, H, W) = entry_i − entry_0;
    ``scales`` (E) and ``diff_scales`` (E−1) — all equal unless ``per_row``."""

    frames: np.ndarray  # (T_in, H, W, 3)
    input_frames: tuple[int, ...]
    labels: list[str]
    maps: np.ndarray
    diffs: np.ndarray
    scales: list[ColorScale]
    diff_scales: list[ColorScale]
    queries: list[tuple[int, tuple[float, float, float, float]]]  # per entry: (column or -1, input box)
    title: str = ""
    per_row: bool = False

    @property
    def scale(self) -> ColorScale:
        """The entry rows' scale (the first row's, when there is one per row)."""
        return self.scales[0]

    @property
    def diff_scale(self) -> ColorScale | None:
        return self.diff_scales[0] if self.diff_scales else None

    def row_labels(self) -> list[str]:
        """Entry labels, then "B − A" for the differences; with scales per row, each says its own maximum."""
        out = list(self.labels) + [f"{lb} − {self.labels[0]}" for lb in self.labels[1:]]
        if self.per_row:
            tops = [f"max {format_value(s.vmax)}" for s in self.scales] + [
                f"max |Δ| {format_value(s.vmax)}" for s in self.diff_scales
            ]
            out = [f"{lb} ({top})" for lb, top in zip(out, tops)]
        return out


def compare_view(
    entries: list[tuple[str, Scene]], *, relative: bool = True, per_row: bool = False, title: str = ""
) -> CompareView:
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
        row = np.abs(sc.weights) if relative else sc.weights
        total = row.sum() if relative else 1.0
        for c, f in enumerate(cols):
            kt = int(sc.geometry.key.cell_at(f, 0, 0)[0][0])
            maps[e, c] = pixel_map(row[kt], sc.geometry.key, h, w) / (total or 1.0)
        q_frame = sc.input_frames[sc.query_panel]
        queries.append((cols.index(q_frame) if q_frame in cols else -1, sc.query_box))
    diffs = maps[1:] - maps[:1]
    what = "share of the row's total |weight|" if relative else first.scale.label
    cmap = "auto" if relative or first.scale.signed else first.scale.cmap
    diff_what = f"difference to {entries[0][0]} ({what})"
    if per_row:
        scales = [make_scale(m, f"{what}, scale per row", cmap=cmap) for m in maps]
        diff_scales = [make_scale(d, f"{diff_what}, scale per row", signed=True) for d in diffs]
    else:
        scales = [make_scale(maps, what, cmap=cmap)] * len(entries)
        diff_scales = [make_scale(diffs, diff_what, signed=True)] * len(diffs) if len(diffs) else []
    return CompareView(
        frames, tuple(cols), [lb for lb, _ in entries], maps, diffs, scales, diff_scales, queries, title, per_row
    )


def grid_rows(view: CompareView) -> list[tuple[np.ndarray, ColorScale, float]]:
    """(maps (F, H, W), scale, opacity) of every grid row: the entries, then the differences."""
    return [(m, s, ALPHA) for m, s in zip(view.maps, view.scales)] + [
        (d, s, DIFF_ALPHA) for d, s in zip(view.diffs, view.diff_scales)
    ]


def _grid(view: CompareView, panel_size: int, labels: bool = True) -> PanelGrid:
    _, h, w = view.frames.shape[:3]
    rows = len(view.labels) * 2 - 1
    widest = max(cv_draw.text_width(s) for s in view.row_labels())
    left = max(60, min(220, widest + 10)) if labels else 0
    return PanelGrid(rows, len(view.input_frames), h, w, display_scale(h, w, panel_size), left=left)


def compare_image(view: CompareView, *, panel_size: int = 128) -> np.ndarray:
    """Rows: each entry's overlays, then the difference rows; colorbars for the maps and the differences."""
    grid = _grid(view, panel_size)
    panels, titles = {}, {}
    for c, f in enumerate(view.input_frames):
        titles[(0, c)] = f"frame {f}"
        for r, (data, scale, alpha) in enumerate(grid_rows(view)):
            panels[(r, c)] = overlay(view.frames[f], data[c], scale, alpha)
    canvas = compose(grid, panels, titles, view.row_labels())
    for e, (col, box) in enumerate(view.queries):
        if col >= 0:
            y0, x0, y1, x1 = grid.box_to_canvas(e, col, box)
            cy, cx = (y0 + y1) / 2 - 0.5, (x0 + x1) / 2 - 0.5
            cv_draw.query_marker(canvas, (cy, cx), (y0, x0, y1, x1))
    w = canvas.shape[1]
    bars = [cv_draw.colorbar(w, s) for s in dict.fromkeys([*view.scales, *view.diff_scales])]
    return stack([title_band(view.title or "comparison", w), canvas, *bars])


def compare_figure(view: CompareView, *, panel_size: int = 128, columns: int | None = None) -> Any:
    """The same grid in plotly: the frames once per row, pixel-resolution heatmaps, row labels and frame titles
    as text in the page font. One colorbar for the maps and one for the differences, side by side under the grid;
    with scales per row, rows are drawn as fractions of their own maximum (each row's label says that maximum).

    ``columns``: frames per band. With more frames than that, the grid wraps into bands (frames 0…columns−1 of
    every row, then the next frames of every row), so it keeps ``panel_size`` and fits a page instead of being
    shrunk by it. None: one band of all frames.
    """
    go = plotly_parts.go()
    _, h, w = view.frames.shape[:3]
    frames = len(view.input_frames)
    per = min(columns or frames, frames)
    bands = -(-frames // per)
    rows = len(grid_rows(view))
    grid = PanelGrid(rows * bands, per, h, w, display_scale(h, w, panel_size))

    def cell(r: int, c: int) -> tuple[int, int]:
        """Grid (row, column) of row ``r``'s panel of shown frame ``c``."""
        band, k = divmod(c, per)
        return band * rows + r, k

    left = 190  # px of the figure's left margin, where the row labels sit (a margin keeps its size when the page
    # narrows the figure; a band of the canvas would shrink under labels whose font does not)
    panels = {cell(r, c): view.frames[f] for r in range(rows) for c, f in enumerate(view.input_frames)}
    fig = plotly_parts.new_figure(compose(grid, panels), view.title or "comparison", extra_width=0)
    fig.update_layout(width=fig.layout.width + left, margin=dict(l=left, r=20))
    s = grid.scale
    labels = view.row_labels()
    e_count = len(view.labels)
    for r, (data, scale, _) in enumerate(grid_rows(view)):
        axis = "coloraxis2" if r >= e_count else "coloraxis"
        z = data / scale.vmax if view.per_row else data
        for c in range(frames):
            y0, x0 = grid.to_canvas(*cell(r, c), 0, 0)
            fig.add_trace(
                go.Heatmap(
                    z=z[c],
                    x0=float(x0),
                    dx=s,
                    y0=float(y0),
                    dy=s,
                    coloraxis=axis,
                    zsmooth=False,
                    name=labels[r],
                    customdata=data[c],
                    hovertemplate=f"{labels[r]}<br>%{{customdata:.3g}}<extra></extra>",
                )
            )
        for band in range(bands):
            oy, _ = grid.origin(band * rows + r, 0)
            fig.add_annotation(
                x=0,
                xref="paper",
                xshift=-8,
                y=oy + grid.panel_size[0] / 2,
                text=plotly_parts.wrap(labels[r], 26),
                showarrow=False,
                xanchor="right",
                yanchor="middle",
                align="right",
                font=dict(size=12),
            )
    for c, f in enumerate(view.input_frames):
        oy, ox = grid.origin(*cell(0, c))
        fig.add_annotation(
            x=ox, y=oy - 4, text=f"frame {f}", showarrow=False, xanchor="left", yanchor="bottom", font=dict(size=12)
        )
    for e, (col, box) in enumerate(view.queries):
        if col >= 0:
            y0, x0, y1, x1 = grid.box_to_canvas(*cell(e, col), box)
            for tr in plotly_parts.query_traces(
                ((y0 + y1) / 2 - 0.5, (x0 + x1) / 2 - 0.5), (y0, x0, y1, x1), f"query ({view.labels[e]})"
            ):
                tr.showlegend = False
                fig.add_trace(tr)
    fig.update_layout(coloraxis=_axis(view.scale, view.per_row, ALPHA))
    if view.diff_scales:
        fig.update_layout(coloraxis2=_axis(view.diff_scale, view.per_row, DIFF_ALPHA))
    plotly_parts.colorbars_below(fig, ["coloraxis", "coloraxis2"] if view.diff_scales else ["coloraxis"])
    return fig


def unit_scale(scale: ColorScale) -> ColorScale:
    """The colorbar of rows drawn each on its own scale: the fraction of the row's maximum (0…1 or −1…1)."""
    lo = -1.0 if scale.signed else 0.0
    return ColorScale(
        lo, 1.0, scale.cmap, scale.label.replace(", scale per row", "") + " ÷ the row's max", scale.signed
    )


def _axis(scale: ColorScale, per_row: bool, alpha: float) -> dict:
    """A coloraxis for ``scale`` fading with the weight; with scales per row, the fraction of each row's maximum
    (0…1 or −1…1)."""
    return coloraxis(unit_scale(scale) if per_row else scale, alpha)
