"""Pieces every plotly figure here is made of: the canvas as an image, a colorbar, the query marker, arrows.

The canvas (frames side by side, titles) is embedded once as a PNG ``go.Image`` with pixel centers at integer
coordinates; every trace is placed in the same canvas coordinates the OpenCV back end draws at. plotly is
imported here only (``import nlviz`` does not import it).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import numpy as np

from nlviz.render import colormap
from nlviz.render.arrows import ArrowSet
from nlviz.render.scale import ColorScale, format_value


def go() -> Any:
    import plotly.graph_objects as go

    return go


def png_data_uri(image: np.ndarray) -> str:
    """RGB uint8 image → ``data:image/png;base64,...`` (deterministic bytes)."""
    from nlviz.data.encode import png_bytes

    return "data:image/png;base64," + base64.b64encode(png_bytes(image)).decode()


def image_trace(canvas: np.ndarray, name: str = "frames") -> Any:
    return go().Image(source=png_data_uri(canvas), x0=0, dx=1, y0=0, dy=1, name=name, hoverinfo="skip")


def new_figure(canvas: np.ndarray, title: str, *, extra_width: int = 140, traces: Sequence[Any] = ()) -> Any:
    """A figure showing ``canvas`` 1:1 (axes hidden, y down) with room on the right for a colorbar, and
    ``traces`` over it. Built in one constructor: plotly validates (and relays out) on every ``update_*`` and
    ``add_trace`` call, and a click's figures are on the path to the redraw."""
    h, w = canvas.shape[:2]
    layout = dict(
        title=dict(text=title, x=0.01, font=dict(size=13)),
        width=w + extra_width + 40,
        height=h + 150,
        margin=dict(l=10, r=extra_width, t=50, b=70),
        plot_bgcolor="white",
        paper_bgcolor="white",
        legend=dict(orientation="h", yanchor="top", y=-0.02, x=0),
        hovermode="closest",
        xaxis=dict(visible=False, range=[-0.5, w - 0.5], constrain="domain"),
        yaxis=dict(visible=False, range=[h - 0.5, -0.5], scaleanchor="x", constrain="domain"),
    )
    return go().Figure(data=[image_trace(canvas), *traces], layout=layout)


def wrap(text: str, width: int = 28) -> str:
    """Break a label into lines of about ``width`` characters (``<br>``): plotly does not wrap titles, and a long
    colorbar title runs past the figure's edge."""
    lines: list[str] = []
    cur = ""
    for word in text.split():
        if cur and len(cur) + 1 + len(word) > width:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}".strip()
    return "<br>".join([*lines, cur])


def colorscale(scale: ColorScale, alpha: float | None = None) -> list[list]:
    """``scale``'s colormap as a plotly colorscale; with ``alpha``, each stop's opacity is ``alpha`` × its
    strength (:meth:`ColorScale.strength`), as the OpenCV overlay blends: a frame under a near-zero weight stays
    clean, instead of under a uniform wash of the scale's low color."""
    stops = colormap.plotly_colorscale(scale.cmap)
    if alpha is None:
        return stops
    values = scale.vmin + np.array([p for p, _ in stops]) * (scale.vmax - scale.vmin)
    fade = alpha * scale.strength(values)
    return [[p, c.replace("rgb(", "rgba(").replace(")", f",{a:.3f})")] for (p, c), a in zip(stops, fade)]


def colorbar(scale: ColorScale, **extra: Any) -> dict:
    """A plotly colorbar for ``scale``: its label (what the weights are) and 3 formatted ticks."""
    ticks = scale.ticks(3)
    return dict(
        title=dict(text=wrap(scale.label, 30), side="right"),
        tickvals=ticks,
        ticktext=[format_value(t) for t in ticks],
        len=0.9,
        **extra,
    )


#: px of one band of horizontal colorbars (title lines above the bar, the bar, tick labels below)
BAR_BAND = 86
#: the narrowest a colorbar gets before :func:`colorbars_below` stacks them instead of placing them side by side
BAR_MIN = 300


def colorbars_below(fig: Any, axes: list[str]) -> None:
    """Lay the colorbars of the coloraxes ``axes`` out horizontally under the plot, each with its title above it,
    side by side when each gets :data:`BAR_MIN` px of the figure's width, else one under the other. Bars at the
    right of a narrowed figure crowd each other's titles and ticks; bars under it share the figure's width.
    Positions are pixels of the figure, which the page shows at its own size once it fits (written as fractions
    of the plot area: with ``xref="container"`` plotly.js 3 draws a horizontal bar's colors away from its frame)."""
    width, gap, edge = int(fig.layout.width), 100, 36  # room for the end ticks: half a label sticks out
    m = fig.layout.margin
    left, plot_w = (
        (m.l if m.l is not None else 80),
        width - (m.l if m.l is not None else 80) - (m.r if m.r is not None else 80),
    )
    side = (width - 2 * edge - gap * (len(axes) - 1)) / len(axes) >= BAR_MIN
    per = (width - 2 * edge - gap * (len(axes) - 1)) / len(axes) if side else width - 2 * edge
    bands = 1 if side else len(axes)
    height = int(fig.layout.height) + BAR_BAND * bands
    fig.update_layout(height=height, margin=dict(b=(fig.layout.margin.b or 0) + BAR_BAND * bands))
    for i, name in enumerate(axes):
        x = edge + (i * (per + gap) if side else 0)
        y = 8 + (0 if side else (bands - 1 - i) * BAR_BAND)
        fig.layout[name].colorbar.update(
            orientation="h",
            x=(x - left) / plot_w,
            xanchor="left",
            xref="paper",
            y=y / height,
            yanchor="bottom",
            yref="container",
            len=per,
            lenmode="pixels",
            thickness=12,
            title_side="top",
        )


def colorbar_trace(scale: ColorScale, *, x: float = 1.02, name: str = "scale") -> Any:
    """An invisible marker whose colorbar shows ``scale`` with its label (what the weights are)."""
    return go().Scatter(
        x=[None],
        y=[None],
        mode="markers",
        name=name,
        showlegend=False,
        hoverinfo="skip",
        marker=dict(
            color=[scale.vmin],
            cmin=scale.vmin,
            cmax=scale.vmax,
            colorscale=colormap.plotly_colorscale(scale.cmap),
            showscale=True,
            colorbar=colorbar(scale, x=x),
        ),
    )


def box_path(box: tuple[float, float, float, float]) -> tuple[list, list]:
    """A closed polygon (xs, ys) around canvas pixel edges (y0, x0, y1, x1), in point coordinates."""
    y0, x0, y1, x1 = (v - 0.5 for v in box)
    return [x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0]


def query_traces(center: tuple[float, float], box: tuple[float, float, float, float], label: str) -> list[Any]:
    """The query cell outline and a cross at its center (legend entry ``query``)."""
    g = go()
    xs, ys = box_path(box)
    return [
        g.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            line=dict(color="rgb(230,20,20)", width=2),
            name="query cell",
            hoverinfo="skip",
            showlegend=False,
        ),
        g.Scatter(
            x=[center[1]],
            y=[center[0]],
            mode="markers",
            name="query",
            marker=dict(symbol="x-thin", size=14, line=dict(width=3, color="rgb(230,20,20)")),
            hovertext=[label],
            hoverinfo="text",
        ),
    ]


def arrow_traces(arrows: ArrowSet) -> list[Any]:
    """One scatter trace per weight level: line segments (None-separated) with an arrow head at each end."""
    g = go()
    traces = []
    sy, sx = arrows.start
    ring = arrows.ring if arrows.ring is not None else np.zeros(len(arrows.level), dtype=bool)
    for lv in arrows.draw_order():
        sel = np.flatnonzero((arrows.level == lv) & ~ring)
        lo, hi = arrows.bounds[lv]
        r, gg, b = (int(c) for c in arrows.colors[lv])
        color = f"rgb({r},{gg},{b})"
        rank = int(1000 - 1000 * arrows.strength[lv])  # legend: strongest level first
        if len(sel):
            xs: list = []
            ys: list = []
            sizes: list = []
            text: list = []
            for i in sel:
                ey, ex = arrows.ends[i]
                t, y, x = (int(v) for v in arrows.cells[i])
                xs += [sx, ex, None]
                ys += [sy, ey, None]
                sizes += [0, 6 + 2 * int(arrows.widths[lv]), 0]
                hover = f"key cell (t,y,x)=({t},{y},{x})<br>weight {format_value(arrows.weights[i])}"
                text += [hover, hover, ""]
            traces.append(
                g.Scatter(
                    x=xs,
                    y=ys,
                    mode="lines+markers",
                    name=f"weight {format_value(lo)} – {format_value(hi)}",
                    line=dict(color=color, width=float(arrows.widths[lv])),
                    opacity=float(arrows.opacity[lv]),
                    marker=dict(symbol="arrow", size=sizes, angleref="previous", color=color),
                    hovertext=text,
                    hoverinfo="text",
                    legendrank=rank,
                    meta={"level": int(lv), "count": int(len(sel))},
                )
            )
        for i in np.flatnonzero((arrows.level == lv) & ring):  # self-attention: a ring around the query
            t, y, x = (int(v) for v in arrows.cells[i])
            traces.append(
                g.Scatter(
                    x=[sx],
                    y=[sy],
                    mode="markers",
                    name=f"self-attention {format_value(arrows.weights[i])}",
                    marker=dict(
                        symbol="circle-open",
                        size=22 + 4 * int(arrows.widths[lv]),
                        line=dict(color=color, width=1 + float(arrows.widths[lv])),
                    ),
                    opacity=float(arrows.opacity[lv]),
                    hovertext=[
                        f"the query's own cell (t,y,x)=({t},{y},{x})<br>weight {format_value(arrows.weights[i])}"
                    ],
                    hoverinfo="text",
                    legendrank=rank,
                    meta={"level": int(lv), "count": 1, "self": True},
                )
            )
    return traces
