"""Is a figure readable in print? :func:`layout_problems` draws a matplotlib figure and lists every text that is
cut off by the page, overlaps another text or a frame panel, or is set below the smallest print size.

    assert layout_problems(explore_paper(scene, width="single")) == []

Texts are the figure's own (``fig.text``), the axes' texts, titles, axis labels and the tick labels matplotlib
actually draws; their boxes come from the renderer (what a reader sees), not from estimates.
"""

from __future__ import annotations

from typing import Any

from nlviz.render.paper_size import MIN_FONT

TOLERANCE = 0.5  # pixels of the Agg renderer a box may cross an edge by (anti-aliasing, rounding)


def drawn_texts(fig: Any) -> list[Any]:
    """The visible, non-empty Text artists the figure draws."""
    found = list(fig.texts)
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        found += [*ax.texts, ax.title, ax._left_title, ax._right_title]
        if ax.axison:
            for axis in (ax.xaxis, ax.yaxis):
                found += [*axis.get_ticklabels(which="both"), axis.label, axis.get_offset_text()]
    return [t for t in dict.fromkeys(found) if t.get_visible() and t.get_text().strip()]


def _overlap(a: Any, b: Any) -> bool:
    return min(a.x1, b.x1) - max(a.x0, b.x0) > TOLERANCE and min(a.y1, b.y1) - max(a.y0, b.y0) > TOLERANCE


def layout_problems(fig: Any, min_font: float = MIN_FONT) -> list[str]:
    """Problems of ``fig`` as sentences (empty: none): text outside the figure, text overlapping text, text over an
    image panel it does not belong to, and fonts below ``min_font`` pt."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()
    fig.draw(renderer)
    page = fig.bbox
    texts = drawn_texts(fig)
    boxes = [t.get_window_extent(renderer) for t in texts]
    panels = [ax for ax in fig.axes if ax.images]
    problems = []
    for t, b in zip(texts, boxes):
        name = repr(t.get_text())
        if t.get_fontsize() < min_font:
            problems.append(f"{name} is set at {t.get_fontsize():.3g} pt, below {min_font} pt")
        if b.x0 < page.x0 - TOLERANCE or b.y0 < page.y0 - TOLERANCE or b.x1 > page.x1 + TOLERANCE:
            problems.append(f"{name} is cut off by the page edge")
        elif b.y1 > page.y1 + TOLERANCE:
            problems.append(f"{name} is cut off by the page edge")
        for ax in panels:
            if t.axes is not ax and _overlap(b, ax.get_window_extent(renderer)):
                problems.append(f"{name} covers a frame panel")
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            if _overlap(boxes[i], boxes[j]):
                problems.append(f"{texts[i].get_text()!r} overlaps {texts[j].get_text()!r}")
    return problems
