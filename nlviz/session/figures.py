"""The plotly figures of the app's views, drawn from what the other session modules return (a front end shows
them as they are): the arrow plot, per-frame heatmaps and temporal profile of a :class:`QueryView`, comparison
grids, BA-Transform matrices, and the Analysis page's per-block charts."""

from __future__ import annotations

from typing import Any

from nlviz.session.views import QueryView


def arrows(view: QueryView, panel_size: int) -> Any:
    """The spacetime arrow plot (NL paper Fig. 3) of the view's query."""
    from nlviz.render import arrow_figure

    return arrow_figure(view.scene, panel_size=panel_size)


def heatmaps(view_or_scene: Any, panel_size: int) -> Any:
    """Per-frame heatmaps (hover shows the values) of a QueryView or of a Scene (e.g. an attribution map)."""
    from nlviz.render import heatmap_figure

    return heatmap_figure(getattr(view_or_scene, "scene", view_or_scene), panel_size=panel_size)


def profile(view: QueryView) -> Any:
    """The query's temporal profile (mass per key frame), the query's own key frame marked."""
    from nlviz.render import profile_figure

    return profile_figure(view.profile, query_frame=view.query_key_frame)


def comparison(compare_view: Any, panel_size: int) -> Any:
    """A comparison grid (:func:`nlviz.session.compare.compare`, attribution vs attention), wrapped into bands of
    the strip's frames per row so that it fits the page at ``panel_size``."""
    from nlviz.render import compare_figure
    from nlviz.session.strip import STRIP_COLS

    return compare_figure(compare_view, panel_size=panel_size, columns=STRIP_COLS)


def bat_matrices(bat_view: Any) -> Any:
    """The BA-Transform P̃, Q̃ (, T̃) per group and the effective map (:func:`nlviz.session.views.bat`)."""
    from nlviz.render import bat_figure

    return bat_figure(bat_view)


def block_charts(rows: list[dict[str, Any]]) -> Any:
    """Bar charts of distance, entropy and query independence per block (:func:`nlviz.session.summary.block_rows`)."""
    from nlviz.render import block_stats_figure
    from nlviz.session.summary import chart_stats

    return block_stats_figure(chart_stats(rows))


def block_profiles(rows: list[dict[str, Any]]) -> Any:
    """Each block's mean temporal profile (mass per key frame), one line per block."""
    from nlviz.render import profile_figure

    return profile_figure(
        {r["block"]: r["temporal profile"] for r in rows}, title="mean temporal profile", ylabel="mass per key frame"
    )


def dataset_chart(rep: Any, metric: str) -> Any:
    """One metric of a dataset report (:func:`nlviz.session.summary.dataset_report`): a bar per model × block
    with its 95 % interval, colored by model (the chart of report.html)."""
    from nlviz.export.report_text import chart
    from nlviz.render import interval_figure

    return interval_figure(chart(rep, metric))
