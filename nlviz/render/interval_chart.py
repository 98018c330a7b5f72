"""Means with 95 % intervals, one horizontal bar per row (model · block), as an OpenCV image or an SVG string.

Both back ends draw the same :class:`IntervalChart` layout: rows top to bottom in the order given, the row label
left of the plot, a bar from 0 to the mean colored by the row's group (its model), a whisker from ``lo`` to ``hi``
and the value text right of the plot. A row without a value (NaN: the metric is undefined for it) is labelled
"n/a" and has no bar. Deterministic: the same rows give the same bytes.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from nlviz.render.chart import PALETTE
from nlviz.render.layout import BACKGROUND, INK

#: characters of a row label the SVG shows (the tooltip has all of it; the PNG cuts at the label column)
LABEL_CHARS = 34


@dataclass(frozen=True)
class IntervalRow:
    """One bar: ``label`` (left of the plot), ``group`` (color index: its model), ``mean``, ``lo``, ``hi``, ``n``."""

    label: str
    group: int
    mean: float
    lo: float
    hi: float
    n: int


@dataclass(frozen=True)
class IntervalChart:
    """Pixel layout: label column [8, x0), plot [x0, x1), value column [x1 + 8, width); row i centered at
    ``y(i)``; values map linearly from [vmin, vmax] to [x0, x1]."""

    rows: tuple[IntervalRow, ...]
    title: str
    note: tuple[str, ...]
    width: int
    x0: int
    x1: int
    top: int
    row_h: int
    vmin: float
    vmax: float

    @property
    def height(self) -> int:
        return self.top + self.row_h * len(self.rows) + 44

    def y(self, i: int) -> float:
        return self.top + self.row_h * (i + 0.5)

    def x(self, v: float) -> float:
        v = min(max(v, self.vmin), self.vmax)
        return self.x0 + (v - self.vmin) / (self.vmax - self.vmin) * (self.x1 - self.x0)

    def ticks(self) -> list[float]:
        return nice_ticks(self.vmin, self.vmax)


def number_text(x: float) -> str:
    """3 significant digits; float round-off (|x| < 1e-9, e.g. 5e-16 for a query-independent map) shows as 0."""
    return "0" if abs(x) < 1e-9 else f"{x:.3g}"


def interval_text(mean: float, lo: float, hi: float) -> str:
    """``0.123 [0.101, 0.150]`` (3 significant digits), or ``n/a`` when the mean is undefined."""
    if not math.isfinite(mean):
        return "n/a"
    return f"{number_text(mean)} [{number_text(lo)}, {number_text(hi)}]"


def value_text(r: IntervalRow) -> str:
    return interval_text(r.mean, r.lo, r.hi)


def nice_ticks(vmin: float, vmax: float, target: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 × 10^k) inside [vmin, vmax], about ``target`` of them."""
    span = vmax - vmin
    raw = span / max(target - 1, 1)
    base = 10 ** math.floor(math.log10(raw))
    step = next(m * base for m in (1, 2, 2.5, 5, 10) if m * base >= raw)
    first = math.ceil(vmin / step - 1e-9) * step
    return [float(round(first + i * step, 12)) for i in range(int((vmax - first) / step + 1e-9) + 1)]


def interval_layout(
    rows: list[IntervalRow],
    *,
    title: str,
    note: str = "",
    bounds: tuple[float, float] | None = None,
    width: int = 760,
    label_width: int = 230,
) -> IntervalChart:
    """The chart's layout: the value range covers 0, every interval and ``bounds`` when given."""
    vals = [v for r in rows for v in (r.mean, r.lo, r.hi) if math.isfinite(v)]
    lo, hi = bounds if bounds is not None else (0.0, 0.0)
    lo, hi = min([lo, 0.0, *vals]), max([hi, 0.0, *vals])
    if hi <= lo:
        hi = lo + 1.0
    if bounds is None:
        hi += 0.04 * (hi - lo)
    lines = note_lines(note, width - 16)
    top = 34 + 16 * len(lines)
    return IntervalChart(tuple(rows), title, lines, width, label_width, width - 190, top, 22, lo, hi)


def note_lines(note: str, width: int, max_lines: int = 2) -> tuple[str, ...]:
    """``note`` wrapped to ``width`` pixels (about 6.5 px per character), at most ``max_lines`` lines."""
    per_line = max(20, int(width / 6.5))
    lines: list[str] = []
    for word in note.split():
        if lines and len(lines[-1]) + 1 + len(word) <= per_line:
            lines[-1] += " " + word
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: per_line - 1] + "…"
    return tuple(lines)


def interval_image(chart: IntervalChart) -> np.ndarray:
    """The chart as an RGB uint8 image."""
    import cv2

    from nlviz.render import cv_draw

    img = np.empty((chart.height, chart.width, 3), dtype=np.uint8)
    img[:] = BACKGROUND
    cv_draw.text(img, chart.title, (18, 8), max_width=chart.width - 16)
    for i, line in enumerate(chart.note):
        cv_draw.text(img, line, (36 + 16 * i, 8), max_width=chart.width - 16, color=(90, 90, 90))
    y_end = chart.top + chart.row_h * len(chart.rows)
    for v in chart.ticks():
        x = int(round(chart.x(v)))
        cv2.line(img, (x, chart.top - 2), (x, y_end), (225, 225, 225), 1)
        s = number_text(v)
        cv_draw.text(img, s, (y_end + 16, x - cv_draw.text_width(s) // 2))
    x_zero = int(round(chart.x(0.0)))
    cv2.line(img, (x_zero, chart.top - 2), (x_zero, y_end), INK, 1)
    for i, r in enumerate(chart.rows):
        yc = chart.y(i)
        cv_draw.text(img, r.label, (int(yc + 4), 8), max_width=chart.x0 - 16)
        cv_draw.text(img, value_text(r), (int(yc + 4), chart.x1 + 8), max_width=chart.width - chart.x1 - 10)
        if not math.isfinite(r.mean):
            continue
        color = PALETTE[r.group % len(PALETTE)]
        xa, xb = sorted((int(round(chart.x(0.0))), int(round(chart.x(r.mean)))))
        cv2.rectangle(img, (xa, int(yc - 6)), (max(xb, xa + 1), int(yc + 6)), color, -1)
        if math.isfinite(r.lo) and math.isfinite(r.hi):
            la, lb = int(round(chart.x(r.lo))), int(round(chart.x(r.hi)))
            cv2.line(img, (la, int(yc)), (lb, int(yc)), INK, 1)
            for xe in (la, lb):
                cv2.line(img, (xe, int(yc - 4)), (xe, int(yc + 4)), INK, 1)
    return img


def _rgb(c: tuple[int, int, int]) -> str:
    return f"rgb({c[0]},{c[1]},{c[2]})"


def interval_svg(chart: IntervalChart) -> str:
    """The chart as an inline ``<svg>`` element (hovering a bar shows its value and n as a tooltip)."""
    e = html.escape
    w, h = chart.width, chart.height
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
        'font-family="sans-serif" font-size="12">',
        f'<text x="8" y="18" font-size="14" font-weight="bold">{e(chart.title)}</text>',
    ]
    for i, line in enumerate(chart.note):
        out.append(f'<text x="8" y="{36 + 16 * i}" fill="#5a5a5a">{e(line)}</text>')
    y_end = chart.top + chart.row_h * len(chart.rows)
    for v in chart.ticks():
        x = chart.x(v)
        out.append(f'<line x1="{x:.1f}" y1="{chart.top - 2}" x2="{x:.1f}" y2="{y_end}" stroke="#e1e1e1"/>')
        out.append(f'<text x="{x:.1f}" y="{y_end + 16}" text-anchor="middle">{number_text(v)}</text>')
    xz = chart.x(0.0)
    out.append(f'<line x1="{xz:.1f}" y1="{chart.top - 2}" x2="{xz:.1f}" y2="{y_end}" stroke="{_rgb(INK)}"/>')
    for i, r in enumerate(chart.rows):
        yc = chart.y(i)
        tip = f"{r.label}: {value_text(r)}, n = {r.n} clips"
        out.append(f"<g><title>{e(tip)}</title>")
        label = r.label if len(r.label) <= LABEL_CHARS else r.label[: LABEL_CHARS - 1] + "…"
        out.append(
            f'<text x="8" y="{yc + 4:.1f}">{e(label)}</text>'
            f'<text x="{chart.x1 + 8}" y="{yc + 4:.1f}">{e(value_text(r))}</text>'
        )
        if math.isfinite(r.mean):
            xa, xb = sorted((chart.x(0.0), chart.x(r.mean)))
            color = _rgb(PALETTE[r.group % len(PALETTE)])
            out.append(
                f'<rect x="{xa:.1f}" y="{yc - 6:.1f}" width="{max(xb - xa, 1):.1f}" height="12" fill="{color}"/>'
            )
            if math.isfinite(r.lo) and math.isfinite(r.hi):
                la, lb = chart.x(r.lo), chart.x(r.hi)
                out.append(
                    f'<path d="M{la:.1f} {yc:.1f}H{lb:.1f}M{la:.1f} {yc - 4:.1f}V{yc + 4:.1f}'
                    f'M{lb:.1f} {yc - 4:.1f}V{yc + 4:.1f}" stroke="{_rgb(INK)}" fill="none"/>'
                )
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


def interval_figure(chart: IntervalChart) -> Any:
    """The chart as a plotly figure: the same rows top to bottom, bars colored by group, 95 % error bars, the
    value text in the hover."""
    from nlviz.render import plotly_parts

    go = plotly_parts.go()
    rows = list(chart.rows)
    ok = [math.isfinite(r.mean) for r in rows]
    fig = go.Figure(
        go.Bar(
            y=[r.label for r in rows],
            x=[r.mean if f else None for r, f in zip(rows, ok)],
            orientation="h",
            marker_color=[_rgb(PALETTE[r.group % len(PALETTE)]) for r in rows],
            error_x=dict(
                type="data",
                symmetric=False,
                array=[r.hi - r.mean if f else None for r, f in zip(rows, ok)],
                arrayminus=[r.mean - r.lo if f else None for r, f in zip(rows, ok)],
                color=_rgb(INK),
                thickness=1.2,
                width=4,
            ),
            text=[value_text(r) for r in rows],
            textposition="none",
            hovertemplate="%{y}: %{text}<extra></extra>",
        )
    )
    fig.update_layout(
        title=dict(text=chart.title, font=dict(size=14)),
        plot_bgcolor="white",
        height=90 + 28 * len(rows),
        margin=dict(l=10, r=20, t=50, b=30),
        showlegend=False,
    )
    fig.update_xaxes(range=[chart.vmin, chart.vmax], showline=True, linecolor="black", gridcolor="rgb(230,230,230)")
    fig.update_yaxes(autorange="reversed", automargin=True)
    return fig
