"""The files of one (model, block) on one input, and the input-level ones (comparison, block statistics).

Which files exist is decided by the ViewSpec's ``formats`` (see :mod:`nlviz.export.job` for the names). All
writes are atomic; PNG/JSON/NPZ bytes depend only on the inputs and the spec. Every number comes from
:mod:`nlviz.analysis` (temporal profiles, block statistics), the same definitions the app shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nlviz.export import files
from nlviz.render.scene import Scene

__all__ = ["BLOCK_STATS", "write_input_level", "write_pair"]

PROFILE_SERIES = 10  # lines in a profile plot (the first queries)
VIDEO_QUERIES = 4  # queries side by side in one mp4
#: the block statistics of ``blocks.png`` / ``blocks.json`` (:data:`nlviz.analysis.STATS` names)
BLOCK_STATS = ("spatial_distance", "temporal_distance", "entropy", "topk_mass", "same_frame_mass")
PAPER_FORMATS = ("svg", "pdf")  # vector figures for papers (nlviz.render.paper), ``spec.paper_width`` wide


def _plotlyjs(spec: Any) -> str:
    return "inline" if spec.plotlyjs == "inline" else f"../{files.PLOTLY_JS}"


def _group(groups: Any) -> int | None:
    """The group a statistic is read for: one index, or None (the mean over groups) for "mean" / "max"."""
    return groups if isinstance(groups, int) and not isinstance(groups, bool) else None


def _profiles(aff: Any, scenes: list[Scene], groups: Any) -> tuple[dict[str, Any], int | None]:
    from nlviz.analysis import query_profile

    g = _group(groups)
    series = {
        f"q{i} ({','.join(map(str, s.query_cell))})": query_profile(aff, i, group=g).numpy()
        for i, s in enumerate(scenes[:PROFILE_SERIES])
    }
    return series, (scenes[0].query_cell[0] if len(scenes) == 1 else None)


def write_pair(
    folder: Path, pair: str, spec: Any, clip: Any, aff: Any, scenes: list[Scene], info: dict[str, Any]
) -> list[Path]:
    """Write the spec's formats for one (model, block); returns the paths written."""
    from nlviz.render.bat import bat_figure, bat_image, bat_view
    from nlviz.render.heatmap import heatmap_figure, heatmap_image
    from nlviz.render.plots import profile_figure, profile_image
    from nlviz.render.spacetime import arrow_figure, arrow_image

    out: list[Path] = []
    is_bat = "P" in aff.extras and "Q" in aff.extras and "bat" in spec.views
    ps = spec.panel_size
    if "png" in spec.formats:
        for i, sc in enumerate(scenes):
            if "arrows" in spec.views:
                out.append(files.write_png(folder / f"{pair}_q{i:02d}_arrows.png", arrow_image(sc, panel_size=ps)))
            if "heatmap" in spec.views:
                out.append(files.write_png(folder / f"{pair}_q{i:02d}_heatmap.png", heatmap_image(sc, panel_size=ps)))
            if is_bat:
                view = bat_view(aff, i, cmap=spec.colormap, title=f"{sc.title} | BA-Transform")
                out.append(files.write_png(folder / f"{pair}_q{i:02d}_bat.png", bat_image(view)))
        if scenes and "profile" in spec.views:
            series, qf = _profiles(aff, scenes, spec.groups)
            img = profile_image(series, title=f"{pair}: mass per key frame", query_frame=qf)
            out.append(files.write_png(folder / f"{pair}_profile.png", img))
    if "mp4" in spec.formats and scenes:
        from nlviz.render.video import video_frames

        fps = spec.fps or clip.fps or 4.0
        chunks = [scenes[i : i + VIDEO_QUERIES] for i in range(0, len(scenes), VIDEO_QUERIES)]
        for j, chunk in enumerate(chunks):
            name = f"{pair}.mp4" if len(chunks) == 1 else f"{pair}_part{j}.mp4"
            frames = video_frames(chunk, title=pair, panel_size=ps)
            out.append(files.write_mp4(folder / name, frames, fps))
    if "html" in spec.formats and scenes:
        figs = []
        for i, sc in enumerate(scenes):
            cell = "({},{},{})".format(*sc.query_cell)
            if "arrows" in spec.views:
                figs.append(
                    (f"query {i} {cell}: arrows to the top {len(sc.top_weights)}", arrow_figure(sc, panel_size=ps))
                )
            if "heatmap" in spec.views:
                figs.append((f"query {i} {cell}: weights per frame", heatmap_figure(sc, panel_size=ps)))
            if is_bat:
                figs.append((f"query {i} {cell}: BA-Transform", bat_figure(bat_view(aff, i, cmap=spec.colormap))))
        if "profile" in spec.views:
            series, qf = _profiles(aff, scenes, spec.groups)
            figs.append(("temporal profile", profile_figure(series, query_frame=qf)))
        title = f"{info.get('model')} | {info.get('block')} | {info.get('input')}"
        if figs:
            out.append(files.write_html(folder / f"{pair}.html", figs, title=title, plotlyjs=_plotlyjs(spec)))
    vector = [f for f in spec.formats if f in PAPER_FORMATS]
    if vector and "arrows" in spec.views:
        from nlviz.render.paper import explore_paper, figure_bytes

        for i, sc in enumerate(scenes):
            fig = explore_paper(sc, width=spec.paper_width)
            for fmt in vector:
                out.append(
                    files.write_bytes(folder / f"{pair}_q{i:02d}_arrows.{fmt}", figure_bytes(fig, fmt, title=sc.title))
                )
    if "json" in spec.formats:
        from nlviz.export.records import affinity_arrays, affinity_record

        record = affinity_record(aff, scenes, k=spec.k, group=_group(spec.groups), **info, group_reduction=spec.groups)
        out.append(files.write_json(folder / f"{pair}.json", record))
        out.append(files.write_npz(folder / f"{pair}.npz", affinity_arrays(aff, scenes)))
    return out


def write_input_level(
    folder: Path, spec: Any, pairs: list[tuple[str, list[Scene]]], stats: dict[str, dict[str, float]], input_id: str
) -> list[Path]:
    """Comparison grids (when several (model, block) pairs share the queries) and the block statistics plot."""
    from nlviz.render.compare import compare_figure, compare_image, compare_view
    from nlviz.render.plots import block_stats_figure, block_stats_image

    out: list[Path] = []
    comparable = [p for p in pairs if p[1] and p[1][0].frames.shape == pairs[0][1][0].frames.shape] if pairs else []
    views = []
    from nlviz.analysis import stat_label

    stats = stats if "blocks" in spec.views else {}
    shown = {b: {stat_label(m, spec.k): v for m, v in row.items()} for b, row in stats.items()}
    if len(comparable) > 1 and "compare" in spec.views:
        n = min(len(scenes) for _, scenes in comparable)
        for i in range(n):
            entries = [(label, scenes[i]) for label, scenes in comparable]
            title = f"{input_id} | query {i}: {len(entries)} models/blocks"
            views.append(compare_view(entries, title=title, per_row=spec.compare_scale == "per_row"))
    if "png" in spec.formats:
        for i, v in enumerate(views):
            out.append(files.write_png(folder / f"compare_q{i:02d}.png", compare_image(v, panel_size=spec.panel_size)))
        if stats:
            out.append(files.write_png(folder / "blocks.png", block_stats_image(shown)))
    vector = [f for f in spec.formats if f in PAPER_FORMATS]
    if vector and views:
        from nlviz.render.paper import figure_bytes
        from nlviz.render.paper_compare import compare_paper

        for i, v in enumerate(views):
            fig = compare_paper(v, width=spec.paper_width)
            for fmt in vector:
                out.append(files.write_bytes(folder / f"compare_q{i:02d}.{fmt}", figure_bytes(fig, fmt, title=v.title)))
    if "html" in spec.formats and (views or stats):
        figs = [(v.title, compare_figure(v, panel_size=spec.panel_size)) for v in views]
        if stats:
            figs.append(("statistics per block (mean over the queries)", block_stats_figure(shown)))
        out.append(files.write_html(folder / "compare.html", figs, title=input_id, plotlyjs=_plotlyjs(spec)))
    if "json" in spec.formats and stats:
        from nlviz.export.records import num

        rounded = {b: {m: num(v) for m, v in row.items()} for b, row in stats.items()}
        out.append(files.write_json(folder / "blocks.json", {"input": input_id, "blocks": rounded}))
    return out
