"""The Compare view as a vector figure for papers (SVG, PDF): one row per model/block with its overlays, then the
difference rows (entry − first entry) on a diverging scale, row labels, frame labels over the first row, the
query cell marked in every entry row, and one colorbar for the maps and one for the differences.

    fig = compare_paper(compare_view(entries, per_row=True), width="double")
    figure_bytes(fig, "svg")                      # nlviz.render.paper.figure_bytes

It draws the same rows as the PNG and plotly grids (:func:`nlviz.render.compare.grid_rows`: maps, scales and
opacities; a shared scale or one per row, whose labels then say each row's maximum and whose colorbar reads as a
fraction of it). Row labels sit left of the rows when the frames stay at least ``MIN_PANEL`` wide beside them,
else above each row. A view of one frame (an image model) has one panel per row: the rows are then tiled side by
side, entries on the first line(s) and differences below, each labelled above.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nlviz.render.compare import CompareView, grid_rows, unit_scale
from nlviz.render.heatmap import overlay
from nlviz.render.paper import (
    BAR,
    BAR_GAP,
    GAP,
    MARGIN,
    SMALL_FONT,
    bar_width,
    colorbar,
    colorbar_height,
    frame_axes,
    frame_label,
    line_height,
    new_figure,
    panel_label,
    points,
    query_marker,
    text,
    text_width,
    wrap,
)
from nlviz.render.paper_size import width_inches
from nlviz.render.scale import ColorScale

MIN_PANEL, MAX_PANEL = 0.45, 1.2  # inches: frame width with labels beside the rows; the widest a frame gets
MIN_TILE, MAX_TILE = 0.9, 1.6  # inches: the panel of a one-frame view, tiled
SPLIT = 0.06  # inches of extra space between the entry rows and the difference rows
LABEL_PAD = points(1.5)


@dataclass
class Bars:
    """The colorbars under the grid: scales, widths, wrapped labels, heights, side by side or stacked."""

    scales: list[ColorScale]
    widths: list[float]
    labels: list[list[str]]
    heights: list[float]
    side: bool
    room: float

    @property
    def height(self) -> float:
        return max(self.heights) if self.side else sum(self.heights) + GAP * (len(self.heights) - 1)


def plan_bars(view: CompareView, inner: float) -> Bars:
    scales = [unit_scale(s) if view.per_row else s for s in (view.scale, view.diff_scale) if s is not None]
    side = len(scales) == 2 and (inner - GAP) / 2 >= 1.6
    room = (inner - GAP) / 2 if side else inner
    widths = [bar_width(s, room, widest=2.8) for s in scales]
    labels = [wrap(s.label, bw) for s, bw in zip(scales, widths)]
    return Bars(scales, widths, labels, [colorbar_height(len(lb)) for lb in labels], side, room)


def draw_bars(fig: Any, bars: Bars) -> None:
    top = MARGIN + bars.height
    for i, (scale, bw, lb, bh) in enumerate(zip(bars.scales, bars.widths, bars.labels, bars.heights)):
        x0 = MARGIN + (i * (bars.room + GAP) if bars.side else 0.0)
        colorbar(fig, (x0 + (bars.room - bw) / 2, top - BAR, bw, BAR), scale, "\n".join(lb))
        if not bars.side:
            top -= bh + GAP


def label_band(labels: list[str], inner: float, cols: int) -> float:
    """Width (inches) of the row-label band left of the panels, 0 when the labels go above the rows instead."""
    widest = max(text_width(w, SMALL_FONT) for lb in labels for w in lb.split())
    band = min(max(text_width(lb, SMALL_FONT) for lb in labels), max(0.3 * inner, widest)) + GAP
    return band if (inner - band - (cols - 1) * GAP) / cols >= MIN_PANEL else 0.0


def compare_paper(view: CompareView, *, width: str | float = "double") -> Any:
    """The comparison grid of ``view`` as a matplotlib Figure ``width`` wide (see the module docstring)."""
    fw = width_inches(width)
    return tiled_figure(view, fw) if len(view.input_frames) == 1 else rows_figure(view, fw)


def rows_figure(view: CompareView, fw: float) -> Any:
    """One row of frames per entry and per difference."""
    inner = fw - 2 * MARGIN
    h, w = view.frames.shape[1:3]
    cols = len(view.input_frames)
    labels, rows, entries = view.row_labels(), grid_rows(view), len(view.labels)
    band = label_band(labels, inner, cols)
    pw = min(MAX_PANEL, (inner - band - (cols - 1) * GAP) / cols)
    ph = pw * h / w
    left = MARGIN + band + (inner - band - cols * pw - (cols - 1) * GAP) / 2
    wrapped = [wrap(lb, band - GAP if band else inner, SMALL_FONT) for lb in labels]
    heads = [0.0 if band else len(ls) * line_height(SMALL_FONT) + LABEL_PAD for ls in wrapped]
    frame_head = line_height(SMALL_FONT) + LABEL_PAD
    bars = plan_bars(view, inner)
    grid_h = frame_head + sum(heads) + len(rows) * ph + (len(rows) - 1) * GAP + (SPLIT if len(rows) > entries else 0)
    fh = MARGIN + bars.height + BAR_GAP + grid_h + MARGIN
    fig = new_figure(fw, fh)
    for c, f in enumerate(view.input_frames):  # over the first row (and over its label, when labels go above)
        s, weight = frame_label(f, False, pw)
        panel_label(fig, left + c * (pw + GAP) + pw / 2, fh - MARGIN - frame_head + LABEL_PAD, s, weight)
    y = fh - MARGIN - frame_head
    axes: list[list[Any]] = []
    for r, (data, scale, alpha) in enumerate(rows):
        y -= heads[r] + ph + (SPLIT if r == entries else 0.0)
        n = len(wrapped[r])
        for i, line in enumerate(wrapped[r]):
            if band:  # beside the row, centered on it
                yy = y + ph / 2 + ((n - 1) / 2 - i) * line_height(SMALL_FONT)
                text(fig, left - GAP, yy, line, SMALL_FONT, ha="right", va="center")
            else:  # above the row
                text(fig, MARGIN, y + ph + LABEL_PAD + (n - 1 - i) * line_height(SMALL_FONT), line, SMALL_FONT)
        boxes = [(left + c * (pw + GAP), y, pw, ph) for c in range(cols)]
        axes.append(
            [
                frame_axes(fig, b, overlay(view.frames[f], data[c], scale, alpha))
                for c, (b, f) in enumerate(zip(boxes, view.input_frames))
            ]
        )
        y -= GAP
    for e, (col, box) in enumerate(view.queries):
        if col >= 0:
            query_marker(fig, axes[e][col], box)
    draw_bars(fig, bars)
    return fig


def tiled_figure(view: CompareView, fw: float) -> Any:
    """A one-frame view: every row is one panel, tiled, with its label above it."""
    inner = fw - 2 * MARGIN
    h, w = view.frames.shape[1:3]
    labels, rows, entries = view.row_labels(), grid_rows(view), len(view.labels)
    per_line = max(1, min(len(rows), int((inner + GAP) // (MIN_TILE + GAP))))
    tw = min(MAX_TILE, (inner - (per_line - 1) * GAP) / per_line)
    th = tw * h / w
    groups = [list(range(entries)), list(range(entries, len(rows)))]
    lines = [g[i : i + per_line] for g in groups for i in range(0, len(g), per_line)]
    wrapped = [wrap(lb, tw, SMALL_FONT) for lb in labels]
    heads = [max(len(wrapped[r]) for r in line) * line_height(SMALL_FONT) + LABEL_PAD for line in lines]
    bars = plan_bars(view, inner)
    split = SPLIT if len(rows) > entries else 0.0
    fh = 2 * MARGIN + bars.height + BAR_GAP + sum(heads) + len(lines) * th + (len(lines) - 1) * GAP + split
    fig = new_figure(fw, fh)
    left = MARGIN + (inner - per_line * tw - (per_line - 1) * GAP) / 2
    y = fh - MARGIN
    axes: dict[int, Any] = {}
    for line, head in zip(lines, heads):
        y -= head + th + (split if line[0] == entries else 0.0)
        for k, r in enumerate(line):
            x = left + k * (tw + GAP)
            data, scale, alpha = rows[r]
            axes[r] = frame_axes(fig, (x, y, tw, th), overlay(view.frames[view.input_frames[0]], data[0], scale, alpha))
            n = len(wrapped[r])
            for i, s in enumerate(wrapped[r]):
                text(fig, x, y + th + LABEL_PAD + (n - 1 - i) * line_height(SMALL_FONT), s, SMALL_FONT)
        y -= GAP
    for e, (col, box) in enumerate(view.queries):
        if col >= 0:
            query_marker(fig, axes[e], box)
    draw_bars(fig, bars)
    return fig
