"""Analysis plots: the temporal profile of queries, and per-block statistics (attention distance, entropy).

They take plain arrays and dicts, so any analysis code can feed them:

- ``profiles``: {series name: (Tk,) mass per key frame}, e.g. from :func:`nlviz.analysis.query_profile`;
- ``stats``: {block: {metric: value}}, e.g. {"layer3.0.nl": {"distance (px)": 9.1, "entropy (nats)": 3.2}}.

``*_image`` (OpenCV) and ``*_figure`` (plotly) show the same numbers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nlviz.render import chart, plotly_parts
from nlviz.render.layout import stack


def _rgb(c: tuple[int, int, int]) -> str:
    return "rgb({},{},{})".format(*c)


def profile_image(
    profiles: dict[str, np.ndarray],
    *,
    title: str = "temporal profile",
    ylabel: str = "mass per key frame",
    query_frame: int | None = None,
    width: int = 560,
    height: int = 260,
) -> np.ndarray:
    """Line chart of mass per key frame, one line per series; a dashed line marks ``query_frame``."""
    n = len(next(iter(profiles.values()))) if profiles else 0
    img, _ = chart.line_chart(
        profiles,
        [str(t) for t in range(n)],
        title=f"{title} ({ylabel})",
        xlabel="key frame t",
        width=width,
        height=height,
        marker_at=query_frame,
    )
    return img


def profile_figure(
    profiles: dict[str, np.ndarray],
    *,
    title: str = "temporal profile",
    ylabel: str = "mass per key frame",
    query_frame: int | None = None,
) -> Any:
    go = plotly_parts.go()
    traces = [
        go.Scatter(
            x=list(range(len(ys))),
            y=np.asarray(ys, float),
            mode="lines+markers",
            name=name,
            line=dict(color=_rgb(chart.PALETTE[k % len(chart.PALETTE)]), width=2),
        )
        for k, (name, ys) in enumerate(profiles.items())
    ]
    # the query's frame: what fig.add_vline draws, as a shape of the layout (one constructor, validated once)
    marks = (
        []
        if query_frame is None
        else [
            dict(
                type="line",
                x0=query_frame,
                x1=query_frame,
                xref="x",
                y0=0,
                y1=1,
                yref="y domain",
                line=dict(color="rgb(230,20,20)", dash="dash", width=1),
            )
        ]
    )
    layout = dict(
        title=title,
        plot_bgcolor="white",
        width=560,
        height=340,
        shapes=marks,
        xaxis=dict(title=dict(text="key frame t"), dtick=1, showline=True, linecolor="black"),
        yaxis=dict(
            title=dict(text=ylabel), rangemode="tozero", showline=True, linecolor="black", gridcolor="rgb(230,230,230)"
        ),
    )
    fig = go.Figure(data=traces, layout=layout)
    return fig


def _metrics(stats: dict[str, dict[str, float]]) -> list[str]:
    names: list[str] = []
    for row in stats.values():
        names += [m for m in row if m not in names]
    return names


def block_stats_image(stats: dict[str, dict[str, float]], *, width: int = 480, height: int = 220) -> np.ndarray:
    """One bar chart per metric (distance, entropy, ...), one bar per block; stacked vertically."""
    if not stats:
        raise ValueError("block_stats_image: no blocks given")
    charts = []
    for m in _metrics(stats):
        values = {b: row[m] for b, row in stats.items() if m in row}
        charts.append(chart.bar_chart(values, title=f"{m} per block", width=width, height=height)[0])
    return stack(charts)


def block_stats_figure(stats: dict[str, dict[str, float]]) -> Any:
    from plotly.subplots import make_subplots

    if not stats:
        raise ValueError("block_stats_figure: no blocks given")
    go = plotly_parts.go()
    metrics = _metrics(stats)
    fig = make_subplots(rows=len(metrics), cols=1, subplot_titles=[f"{m} per block" for m in metrics])
    for r, m in enumerate(metrics, 1):
        blocks = [b for b, row in stats.items() if m in row]
        fig.add_trace(
            go.Bar(
                x=blocks,
                y=[stats[b][m] for b in blocks],
                name=m,
                marker_color=[_rgb(chart.PALETTE[i % len(chart.PALETTE)]) for i in range(len(blocks))],
            ),
            row=r,
            col=1,
        )
        fig.update_yaxes(title_text=m, row=r, col=1)
    fig.update_layout(showlegend=False, plot_bgcolor="white", width=560, height=260 * len(metrics) + 60)
    return fig
