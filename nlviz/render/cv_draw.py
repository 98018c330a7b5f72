"""OpenCV drawing primitives of the image back end: text, arrows grouped by weight level, the query marker and
a horizontal colorbar band. Everything is deterministic (same inputs → same bytes) and works on RGB uint8."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from nlviz.render.layout import BACKGROUND, INK
from nlviz.render.scale import ColorScale, ascii_text, format_value

FONT_SCALE = 0.4
QUERY_OUTER = (255, 255, 255)
QUERY_INNER = (230, 20, 20)
#: canvas pixels between the query's center and a self-attention ring (plus twice the line width)
RING_RADIUS = 9


def _cv2():
    import cv2

    return cv2


def text(canvas: np.ndarray, s: str, org: tuple[int, int], *, max_width: int | None = None, color=INK) -> None:
    """Draw ``s`` (ASCII-fied) with its baseline at canvas (y, x); cut to ``max_width`` pixels if given."""
    cv2 = _cv2()
    s = ascii_text(s)
    if max_width is not None and max_width > 0:
        while s and cv2.getTextSize(s, cv2.FONT_HERSHEY_SIMPLEX, FONT_SCALE, 1)[0][0] > max_width:
            s = s[:-1]
    y, x = org
    cv2.putText(canvas, s, (int(x), int(y)), cv2.FONT_HERSHEY_SIMPLEX, FONT_SCALE, color, 1, cv2.LINE_AA)


def text_width(s: str) -> int:
    cv2 = _cv2()
    return cv2.getTextSize(ascii_text(s), cv2.FONT_HERSHEY_SIMPLEX, FONT_SCALE, 1)[0][0]


def _pt(y: float, x: float) -> tuple[int, int]:
    """Canvas point → cv2 (x, y) with 4 fractional bits (shift=4), so sub-pixel endpoints stay exact."""
    return int(round((x) * 16)), int(round((y) * 16))


def arrows(canvas: np.ndarray, arrow_set) -> None:
    """Draw an :class:`nlviz.render.arrows.ArrowSet`: one pass per weight level, weakest first, each level
    blended with its opacity (only inside the bounding box of its arrows)."""
    cv2 = _cv2()
    h, w = canvas.shape[:2]
    for level in arrow_set.draw_order():
        sel = np.flatnonzero(arrow_set.level == level)
        if not len(sel):
            continue
        thick = int(arrow_set.widths[level])
        pts = np.concatenate([arrow_set.ends[sel], arrow_set.start[None]], 0)
        pad = 4 * thick + 6
        y0, x0 = np.maximum(np.floor(pts.min(0)).astype(int) - pad, 0)
        y1, x1 = np.minimum(np.ceil(pts.max(0)).astype(int) + pad, (h, w))
        region = canvas[y0:y1, x0:x1]
        layer = region.copy()
        color = tuple(int(c) for c in arrow_set.colors[level])
        ring = arrow_set.ring if arrow_set.ring is not None else np.zeros(len(arrow_set.level), dtype=bool)
        for i in sel:
            (ey, ex), (sy, sx) = arrow_set.ends[i], arrow_set.start
            length = float(np.hypot(ey - sy, ex - sx))
            if ring[i] or length < 1.0:  # self-attention: a ring around the query, not a zero-length arrow
                radius = 16 * (RING_RADIUS + 2 * thick)
                cv2.circle(layer, _pt(sy - y0, sx - x0), radius, color, thick + 1, cv2.LINE_AA, 4)
                continue
            tip = min(0.5, (4.0 + 2 * thick) / length)
            cv2.arrowedLine(layer, _pt(sy - y0, sx - x0), _pt(ey - y0, ex - x0), color, thick, cv2.LINE_AA, 4, tip)
        a = int(round(255 * float(arrow_set.opacity[level])))
        mixed = (layer.astype(np.uint16) * a + region.astype(np.uint16) * (255 - a) + 127) // 255
        region[:] = mixed.astype(np.uint8)


def query_marker(canvas: np.ndarray, center: tuple[float, float], box: tuple[float, float, float, float]) -> None:
    """Outline the query cell (pixel edges ``box`` = y0, x0, y1, x1) and put a cross at its center."""
    cv2 = _cv2()
    y0, x0, y1, x1 = (int(round(v)) for v in box)
    cy, cx = center
    r = max(2.0, (x1 - x0) / 4)
    for dy, dx in ((r, r), (r, -r)):  # the cross first, so the outline stays crisp on top of it
        p, q = _pt(cy - dy, cx - dx), _pt(cy + dy, cx + dx)
        cv2.line(canvas, p, q, QUERY_OUTER, 3, cv2.LINE_AA, 4)
        cv2.line(canvas, p, q, QUERY_INNER, 1, cv2.LINE_AA, 4)
    cv2.rectangle(canvas, (x0 - 1, y0 - 1), (x1, y1), QUERY_OUTER, 3)
    cv2.rectangle(canvas, (x0 - 1, y0 - 1), (x1, y1), QUERY_INNER, 1)


def wrap(s: str, width: int) -> list[str]:
    """Split ``s`` into lines that fit ``width`` pixels (words kept whole when they fit)."""
    lines, cur = [], ""
    for word in ascii_text(s).split():
        cand = f"{cur} {word}".strip()
        if cur and text_width(cand) > width:
            lines.append(cur)
            cur = word
        else:
            cur = cand
    return lines + ([cur] if cur else [])


@lru_cache(maxsize=64)
def colorbar(width: int, scale: ColorScale) -> np.ndarray:
    """A band ``width`` wide: the color bar, its min/mid/max values under it, and the scale's label (wrapped).
    Cached (read-only array): the arrow plot and the heatmaps of one query share it."""
    x0, y0, bh, line = 8, 6, 12, 15
    bar_w = int(min(256, max(32, width - 2 * x0)))
    label = wrap(scale.label, width - 2 * x0)
    height = y0 + bh + 4 + line * (1 + len(label)) + 2
    band = np.empty((height, width, 3), dtype=np.uint8)
    band[:] = BACKGROUND
    ramp = scale.colors(np.linspace(scale.vmin, scale.vmax, bar_w))  # (bar_w, 3)
    band[y0 : y0 + bh, x0 : x0 + bar_w] = ramp[None]
    for v in scale.ticks(3):
        x = x0 + int(round((v - scale.vmin) / (scale.vmax - scale.vmin) * (bar_w - 1)))
        band[y0 + bh : y0 + bh + 3, x] = INK
        s = format_value(v)
        tx = min(max(0, x - text_width(s) // 2), width - text_width(s))
        text(band, s, (y0 + bh + line, tx))
    for i, s in enumerate(label):
        text(band, s, (y0 + bh + line * (i + 2), x0))
    band.setflags(write=False)
    return band
