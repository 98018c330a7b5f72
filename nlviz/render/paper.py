"""Vector figures for papers (SVG, PDF) of the Explore view, in the style of Fig. 3 of the Non-local paper
(Wang et al., "Non-local Neural Networks", CVPR 2018): the shown frames side by side, each with the query's
weights overlaid (opacity follows the weight, so the frame stays clean where attention is ~0), arrows from the
query ✕ to its strongest key cells (width and opacity by weight; links below the Scene's ``min_fraction`` are not
in the Scene), self-attention as a ring, frame labels, and a colorbar that says what the weights are.

    fig = explore_paper(scene, width="single")    # a matplotlib Figure, laid out to the exact width
    figure_bytes(fig, "pdf", title=scene.title)   # bytes; identical for identical input

The figure is drawn from the same :class:`Scene` as the PNG and plotly views (overlays from
:func:`nlviz.render.heatmap.overlay_panels`, arrow levels from :func:`nlviz.render.arrows.arrow_set`), laid out by
hand in inches: no tight bbox, so the page is exactly the column width asked for. Fonts: matplotlib's own DejaVu
Sans at ≥ 6 pt, embedded in PDFs as TrueType (Type 42); SVG text is drawn as paths (it looks the same in every
viewer). Output is deterministic: no dates in the metadata, fixed SVG ids (``svg.hashsalt``).
:func:`nlviz.render.paper_layout.layout_problems` checks a figure for clipped or overlapping text.
"""

from __future__ import annotations

import io
import threading
from typing import Any

import numpy as np

from nlviz.render.paper_size import FONT, SMALL_FONT, width_inches
from nlviz.render.scale import ColorScale, format_value
from nlviz.render.scene import Scene

FORMATS = ("svg", "pdf")
FAMILY = "DejaVu Sans"  # shipped with matplotlib: the same glyphs (and bytes) on every machine
RC = {"pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "path", "svg.hashsalt": "nlviz", "svg.id": None}
QUERY_COLOR, HALO = "#e61414", "white"
MARGIN, GAP = 0.04, 0.04  # inches: figure margin, gap between panels
BAR, BAR_GAP = 0.09, 0.07  # inches: colorbar height, space between the panels and the colorbar
MIN_PANEL, MAX_PANEL = 0.6, 2.0  # inches: narrower frames wrap onto more rows; an image is not a full page
IMAGE_PX = 256  # frames are upsampled (nearest) to at least this many pixels, so no viewer smooths a cell
_LOCK = threading.Lock()  # savefig reads matplotlib's global rcParams


def points(n: float) -> float:
    """``n`` points in inches."""
    return n / 72.0


def text_width(text: str, size: float = FONT, weight: str = "normal") -> float:
    """Width in inches of one line of ``text`` at ``size`` pt, as the Agg renderer draws it (hinted glyphs are a
    little wider than the PDF's outlines, so a layout that fits here fits everywhere)."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    prop = FontProperties(family=FAMILY, size=size, weight=weight)
    with _LOCK:
        return points(RendererAgg(1, 1, 72).get_text_width_height_descent(text, prop, ismath=False)[0])


def wrap(text: str, width: float, size: float = FONT) -> list[str]:
    """``text`` broken at spaces into lines no wider than ``width`` inches (a longer word stays whole)."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}", size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def line_height(size: float = FONT) -> float:
    return points(size * 1.25)


def new_figure(width: float, height: float) -> Any:
    """A white matplotlib Figure of ``width``×``height`` inches (no pyplot: no global figure state)."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), facecolor="white")


def add_axes(fig: Any, x: float, y: float, w: float, h: float) -> Any:
    """Axes at (x, y) from the figure's bottom-left, w×h, all in inches."""
    fw, fh = fig.get_size_inches()
    return fig.add_axes((x / fw, y / fh, w / fw, h / fh))


def text(fig: Any, x: float, y: float, s: str, size: float = FONT, **kw: Any) -> Any:
    """Text at (x, y) inches from the figure's bottom-left (never parsed as math)."""
    fw, fh = fig.get_size_inches()
    return fig.text(x / fw, y / fh, s, fontsize=size, family=FAMILY, parse_math=False, **kw)


def frame_axes(fig: Any, box: tuple[float, float, float, float], image: np.ndarray) -> Any:
    """A frame panel: ``image`` (H, W, 3) uint8 in axes whose data coordinates are its pixels (centers at
    integers, y down), upsampled without smoothing."""
    ax = add_axes(fig, *box)
    h, w = image.shape[:2]
    s = max(1, -(-IMAGE_PX // max(h, w)))
    ax.imshow(image.repeat(s, 0).repeat(s, 1), extent=(-0.5, w - 0.5, h - 0.5, -0.5), interpolation="none")
    ax.set_axis_off()
    return ax


def query_marker(fig: Any, ax: Any, box: tuple[float, float, float, float], zorder: float = 10) -> None:
    """The query cell's outline (input-pixel edges y0, x0, y1, x1) and a ✕ at its center, white-haloed, on top of
    everything (figure artists, so arrows do not cover it)."""
    from matplotlib import patheffects
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    y0, x0, y1, x1 = box
    halo = [patheffects.Stroke(linewidth=2.2, foreground=HALO), patheffects.Normal()]
    rect = Rectangle((x0 - 0.5, y0 - 0.5), x1 - x0, y1 - y0, fill=False, ec=QUERY_COLOR, lw=0.8, zorder=zorder)
    cy, cx = (y0 + y1) / 2 - 0.5, (x0 + x1) / 2 - 0.5
    cross = Line2D([cx], [cy], marker="x", ms=4.5, mew=1.1, color=QUERY_COLOR, zorder=zorder + 1)
    for artist in (rect, cross):
        artist.set_transform(ax.transData)
        artist.set_path_effects(halo)
        fig.add_artist(artist)


def colorbar(fig: Any, box: tuple[float, float, float, float], scale: ColorScale, label: str) -> Any:
    """A horizontal colorbar of ``scale`` in ``box`` (inches), min/middle/max ticks at 3 significant digits and
    ``label`` (may hold line breaks) under it."""
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import ListedColormap, Normalize

    from nlviz.render import colormap

    cax = add_axes(fig, *box)
    cmap = ListedColormap(colormap.lut(scale.cmap) / 255.0)
    bar = fig.colorbar(ScalarMappable(Normalize(scale.vmin, scale.vmax), cmap), cax=cax, orientation="horizontal")
    ticks = scale.ticks(3)
    bar.set_ticks(ticks, labels=[format_value(v) for v in ticks])
    cax.tick_params(labelsize=SMALL_FONT, length=2, width=0.5, pad=1.5)
    for t in cax.get_xticklabels():
        t.set_family(FAMILY)
    bar.outline.set_linewidth(0.5)
    bar.set_label(label, fontsize=FONT, family=FAMILY, labelpad=2, parse_math=False)
    return bar


def colorbar_height(lines: int) -> float:
    """Inches a colorbar with ``lines`` label lines takes: the bar, its tick labels, the label."""
    return BAR + points(2 + 1.5) + line_height(SMALL_FONT) + points(2) + lines * line_height(FONT)


def bar_width(scale: ColorScale, room: float, widest: float = 3.2) -> float:
    """A colorbar's width in ``room`` inches: at most ``widest``, leaving half an end tick label on each side."""
    ends = max(text_width(format_value(v), SMALL_FONT) for v in (scale.vmin, scale.vmax))
    return min(widest, room - ends - 0.02)


def panel_label(fig: Any, x: float, y: float, s: str, weight: str = "normal") -> Any:
    """A frame's label centered above (x, y) inches, on a white ground drawn over the arrows that cross it."""
    box = dict(boxstyle="square,pad=0.1", fc="white", ec="none", alpha=0.85)
    return text(fig, x, y, s, SMALL_FONT, ha="center", va="bottom", weight=weight, bbox=box, zorder=20)


def figure_bytes(fig: Any, fmt: str, *, title: str = "") -> bytes:
    """``fig`` as SVG or PDF bytes (deterministic: no dates, fixed ids; PDF fonts embedded as Type 42)."""
    import matplotlib

    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}: the vector formats are {list(FORMATS)}")
    meta = {"Creator": "nlviz", "Title": title}
    meta |= {"Date": None} if fmt == "svg" else {"CreationDate": None}
    buf = io.BytesIO()
    with _LOCK, matplotlib.rc_context(RC):
        fig.savefig(buf, format=fmt, metadata=meta, facecolor="white")
    return buf.getvalue()


def grid_shape(n: int, width: float, min_panel: float = MIN_PANEL) -> tuple[int, int]:
    """(rows, cols) for ``n`` panels across ``width`` inches: one row unless panels would be narrower than
    ``min_panel``, then as few balanced rows as keep them that wide."""
    cols = max(1, min(n, int((width + GAP) // (min_panel + GAP))))
    rows = -(-n // cols)
    return rows, -(-n // rows)


def frame_label(frame: int, query: bool, width: float) -> tuple[str, str]:
    """(text, weight) of a panel's label: the longest form that fits ``width`` inches."""
    forms = [f"frame {frame} (query)", f"frame {frame}"] if query else [f"frame {frame}"]
    for s in [*forms, f"t={frame}"]:
        if text_width(s, SMALL_FONT, "bold" if query else "normal") <= width:
            return s, "bold" if query else "normal"
    return str(frame), "bold" if query else "normal"


def explore_paper(scene: Scene, *, width: str | float = "double") -> Any:
    """The Explore view of ``scene`` as a matplotlib Figure ``width`` wide (see the module docstring)."""
    from nlviz.render.heatmap import overlay_panels

    fw = width_inches(width)
    h, w = scene.frames.shape[1:3]
    n = len(scene.input_frames)
    inner = fw - 2 * MARGIN
    rows, cols = grid_shape(n, inner)
    pw = min(MAX_PANEL, (inner - (cols - 1) * GAP) / cols)
    ph = pw * h / w
    head = line_height(SMALL_FONT) + points(1.5)
    bar_w = bar_width(scene.scale, inner)
    label = wrap(scene.scale.label, bar_w)
    note = wrap(legend_text(scene), inner, SMALL_FONT)
    y_bar = MARGIN + len(note) * line_height(SMALL_FONT) + 0.04 + colorbar_height(len(label)) - BAR
    bottom = y_bar + BAR + BAR_GAP
    fh = bottom + rows * (head + ph) + (rows - 1) * GAP + MARGIN
    fig = new_figure(fw, fh)
    axes = []
    for c, image in enumerate(overlay_panels(scene)):
        r, k = divmod(c, cols)
        x = MARGIN + (inner - (cols * pw + (cols - 1) * GAP)) / 2 + k * (pw + GAP)
        y = fh - MARGIN - (r + 1) * (head + ph) - r * GAP
        axes.append(frame_axes(fig, (x, y, pw, ph), image))
        s, weight = frame_label(scene.input_frames[c], c == scene.query_panel, pw)
        panel_label(fig, x + pw / 2, y + ph + points(1.5), s, weight)
    draw_arrows(fig, scene, axes)
    query_marker(fig, axes[scene.query_panel], scene.query_box)
    colorbar(fig, ((fw - bar_w) / 2, y_bar, bar_w, BAR), scene.scale, "\n".join(label))
    for i, line in enumerate(note):
        text(fig, fw / 2, MARGIN + (len(note) - 1 - i) * line_height(SMALL_FONT), line, SMALL_FONT, ha="center")
    return fig


def legend_text(scene: Scene) -> str:
    """What the marks mean, in one line under the colorbar."""
    k = len(scene.top_weights)
    rings = int(scene.self_key.sum()) if scene.self_key is not None else 0
    n = k - rings
    links = f"arrows: the {n} strongest key cells" if n != 1 else "arrow: the strongest key cell"
    if scene.min_fraction > 0:
        links += f" (≥ {scene.min_fraction:.0%} of the strongest)"
    parts = ["✕ query cell", links, "width and opacity by weight"]
    if rings:
        parts.append("○ the query itself")
    return " · ".join(parts)


def draw_arrows(fig: Any, scene: Scene, axes: list[Any]) -> list[Any]:
    """One arrow per top-k key cell from the query's center (a ring for the query itself), weakest first;
    color, opacity and width by the weight's level on the scene's scale. Returns the arrow artists."""
    from matplotlib import patheffects
    from matplotlib.patches import Circle, ConnectionPatch

    from nlviz.render.arrows import arrow_set
    from nlviz.render.spacetime import scene_grid

    arrows = arrow_set(scene, scene_grid(scene))
    qc = scene.query_center  # (t, y, x) input pixels
    centers = scene.geometry.key.cell_center(scene.top_cells) if len(scene.top_cells) else np.zeros((0, 3))
    q_ax = axes[scene.query_panel]
    cell = float(scene.geometry.key.stride[2])
    out = []
    for lv in arrows.draw_order():
        color = arrows.colors[lv] / 255.0
        lw = 0.4 + 1.2 * float(arrows.strength[lv])
        alpha = float(arrows.opacity[lv])
        halo = [patheffects.Stroke(linewidth=lw + 0.9, foreground=HALO, alpha=alpha), patheffects.Normal()]
        for i in np.flatnonzero(arrows.level == lv):
            if arrows.ring[i]:
                art = Circle((qc[2], qc[1]), 0.8 * cell, fill=False, ec=color, lw=lw + 0.3, alpha=alpha)
                art.set_transform(q_ax.transData)
            else:
                art = ConnectionPatch(
                    (qc[2], qc[1]),
                    (centers[i][2], centers[i][1]),
                    coordsA=q_ax.transData,
                    coordsB=axes[scene.panel_of(scene.top_cells[i][0])].transData,
                    arrowstyle="-|>",
                    mutation_scale=3 + 3 * lw,
                    shrinkA=0,
                    shrinkB=0.5,
                    color=color,
                    lw=lw,
                    alpha=alpha,
                )
            art.set_path_effects(halo)
            art.set_zorder(5 + float(arrows.strength[lv]))
            fig.add_artist(art)
            out.append(art)
    return out
