"""Minimal OpenCV charts (line and bar) for the analysis plots: axes, 3 y ticks, category/frame x labels.

``ChartArea`` maps data to pixels (exposed so tests can check where a value was drawn): x categories sit at
evenly spaced centers, y is linear from ``ymin`` (bottom edge) to ``ymax`` (top edge).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nlviz.render import cv_draw
from nlviz.render.layout import BACKGROUND, INK
from nlviz.render.scale import format_value

#: categorical colors (RGB) for series / bars
PALETTE = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
]


@dataclass(frozen=True)
class ChartArea:
    """Plot area in pixels [x0, x1) × [y0, y1) of a chart with ``n`` x categories and y range [ymin, ymax]."""

    x0: int
    y0: int
    x1: int
    y1: int
    n: int
    ymin: float
    ymax: float

    def x(self, i: float) -> float:
        step = (self.x1 - self.x0) / self.n
        return self.x0 + (i + 0.5) * step

    def y(self, v: float) -> float:
        return self.y1 - 1 - (v - self.ymin) / (self.ymax - self.ymin) * (self.y1 - 1 - self.y0)


def y_range(values: np.ndarray) -> tuple[float, float]:
    """[ymin, ymax] covering 0 and the finite values (NaN = undefined points, e.g. an all-zero row)."""
    values = values[np.isfinite(values)]
    lo = min(0.0, float(values.min())) if values.size else 0.0
    hi = max(0.0, float(values.max())) if values.size else 1.0
    if hi <= lo:
        hi = lo + 1.0
    return lo, hi + 0.05 * (hi - lo)


def axes(
    width: int,
    height: int,
    n: int,
    yr: tuple[float, float],
    xlabels: list[str],
    title: str,
    xlabel: str,
    right: int = 12,
) -> tuple[np.ndarray, ChartArea]:
    """A blank chart with its frame, ticks and labels (``right``: margin kept free, e.g. for a legend)."""
    import cv2

    img = np.empty((height, width, 3), dtype=np.uint8)
    img[:] = BACKGROUND
    area = ChartArea(58, 28, width - right, height - 40, n, *yr)
    cv_draw.text(img, title, (16, 8), max_width=width - 16)
    cv2.rectangle(img, (area.x0, area.y0), (area.x1 - 1, area.y1 - 1), INK, 1)
    for v in np.linspace(yr[0], yr[1], 3):
        y = int(round(area.y(v)))
        cv2.line(img, (area.x0 - 4, y), (area.x0, y), INK, 1)
        cv_draw.text(img, format_value(float(v)), (y + 4, 2), max_width=area.x0 - 6)
    if yr[0] < 0 < yr[1]:
        y0 = int(round(area.y(0.0)))
        cv2.line(img, (area.x0, y0), (area.x1 - 1, y0), (160, 160, 160), 1)
    slot = (area.x1 - area.x0) / max(n, 1)
    for i, s in enumerate(xlabels):
        cx = int(round(area.x(i)))
        cv2.line(img, (cx, area.y1 - 1), (cx, area.y1 + 3), INK, 1)
        tw = min(cv_draw.text_width(s), int(slot) - 2)
        cv_draw.text(img, s, (area.y1 + 15, cx - tw // 2), max_width=max(int(slot) - 2, 8))
    if xlabel:
        cv_draw.text(img, xlabel, (height - 6, (area.x0 + area.x1 - cv_draw.text_width(xlabel)) // 2), max_width=width)
    return img, area


def line_chart(
    series: dict[str, np.ndarray],
    xlabels: list[str],
    *,
    title: str,
    xlabel: str = "",
    width: int = 560,
    height: int = 260,
    marker_at: int | None = None,
) -> tuple[np.ndarray, ChartArea]:
    """Lines (one per series, same length as ``xlabels``) with dot markers; ``marker_at`` draws a dashed
    vertical line at that x (e.g. the query's frame). The legend sits right of the plot area."""
    import cv2

    values = np.concatenate([np.asarray(v, float).ravel() for v in series.values()]) if series else np.zeros(0)
    img, area = axes(width, height, len(xlabels), y_range(values), xlabels, title, xlabel, right=130)
    if marker_at is not None:
        x = int(round(area.x(marker_at)))
        for y in range(area.y0, area.y1, 6):
            cv2.line(img, (x, y), (x, min(y + 3, area.y1 - 1)), (230, 20, 20), 1)
    for k, (name, ys) in enumerate(series.items()):
        color = PALETTE[k % len(PALETTE)]
        ys = np.asarray(ys, float)
        pts = np.array([[area.x(i) * 16, area.y(v) * 16] for i, v in enumerate(ys) if np.isfinite(v)]).round()
        if len(pts):
            cv2.polylines(img, [pts.astype(np.int32)], False, color, 2, cv2.LINE_AA, 4)
        for p in pts.astype(int):
            cv2.circle(img, (int(p[0]), int(p[1])), 3 * 16, color, -1, cv2.LINE_AA, 4)
        ly = area.y0 + 10 + 15 * k
        cv2.line(img, (area.x1 + 8, ly - 4), (area.x1 + 22, ly - 4), color, 2)
        cv_draw.text(img, name, (ly, area.x1 + 26), max_width=width - area.x1 - 28)
    return img, area


def bar_chart(
    values: dict[str, float], *, title: str, xlabel: str = "", width: int = 480, height: int = 260
) -> tuple[np.ndarray, ChartArea]:
    """One bar per key (x label), filled rectangles from 0 to the value."""
    import cv2

    names = list(values)
    v = np.array([float(values[n]) for n in names])
    img, area = axes(width, height, len(names), y_range(v), names, title, xlabel)
    half = max(2, int((area.x1 - area.x0) / max(len(names), 1) * 0.3))
    for i, val in enumerate(v):
        if not np.isfinite(val):  # undefined (e.g. every query row all zero): no bar
            continue
        cx = int(round(area.x(i)))
        ya, yb = sorted((int(round(area.y(0.0))), int(round(area.y(val)))))
        cv2.rectangle(img, (cx - half, ya), (cx + half, yb), PALETTE[i % len(PALETTE)], -1)
    return img, area
