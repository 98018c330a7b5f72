"""Export the current view: the ViewSpec that reproduces it with ``nlviz export``, the files the exporter writes
for it (PNG / MP4 / HTML / JSON / SVG / PDF, through :func:`nlviz.export.job.render_input` — the batch exporter's
own code), instant PNG/JSON bytes of the view on screen, and vector figures (SVG, PDF) of the Explore and Compare
views at paper column widths (:func:`paper_explore`, :func:`paper_compare`).

The spec names the model (zoo name, checkpoint path, or the factory entry of a model from code), the one block, the query as an explicit *cell* of that
block, and the view options; ``input_frames``/``input_size`` and ``seed`` are pinned to what the app read, so
the exported files show the same clip and numbers as the screen.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from nlviz.session.results import Result, query_cell
from nlviz.session.views import QueryView, ViewOptions


def view_spec(
    result: Result,
    block: str,
    point: Any,
    opts: ViewOptions,
    formats: list[str] | tuple[str, ...],
    paper_width: str | float = "double",
) -> Any:
    """The ViewSpec of the view of ``point`` on ``block`` (see the module docstring); ``paper_width`` is the
    width of its svg/pdf figures."""
    from nlviz.export.viewspec import ViewSpec

    lm = result.model
    cell = query_cell(result, block, point)
    norm = list(opts.normalization) if isinstance(opts.normalization, (list, tuple)) else opts.normalization
    return ViewSpec.from_dict(
        {
            "version": 1,
            "models": [lm.entry],
            "blocks": [block],
            "queries": {"mode": "explicit", "units": "cells", "points": [list(cell)]},
            "k": opts.k,
            "min_fraction": opts.min_fraction,
            "colormap": opts.colormap,
            "normalization": norm,
            "groups": opts.groups,
            "frames": list(opts.frames) if isinstance(opts.frames, (list, tuple)) else opts.frames,
            "formats": list(formats),
            "input_frames": lm.frames if lm.video else None,
            "input_size": lm.size,
            "seed": lm.seed,
            "panel_size": max(16, opts.panel_size),
            "plotlyjs": "inline",
            "paper_width": paper_width,
        }
    )


def input_id(result: Result) -> str:
    """The exporter's folder name for the result's input (``synthetic-3``, ``clip_mp4`` ...)."""
    from nlviz.export import expand_inputs

    src = result.data.source
    return src.replace(":", "-") if src.startswith("synthetic:") else expand_inputs([src])[0].id


def command_line(result: Result, spec_path: str = "view.json", out: str = "out/") -> str:
    """The ``nlviz export`` command that writes the same files (a synthetic clip I is input ``synthetic:I+1``,
    which exports clips 0…I; this one lands in ``out/synthetic-I/``)."""
    src = result.data.source
    arg = f"synthetic:{int(src.split(':', 1)[1]) + 1}" if src.startswith("synthetic:") else src
    return f"nlviz export --spec {spec_path} --input {arg} --out {out}"


def export(
    result: Result,
    block: str,
    point: Any,
    opts: ViewOptions,
    formats: list[str],
    out_dir: str | Path,
    paper_width: str | float = "double",
) -> list[Path]:
    """Write the view's files into ``out_dir/<input id>/`` with the batch exporter; returns their paths."""
    from nlviz.export.job import render_input

    if not formats:
        raise ValueError("choose at least one format to export (png, mp4, html, json, svg, pdf)")
    spec = view_spec(result, block, point, opts, formats, paper_width)
    lm = replace(result.model, blocks=[block])
    out = Path(out_dir)
    written = render_input(result.data.source, input_id(result), spec, [lm], out)
    return [out / p for p in written]


def png_views(view: QueryView, opts: ViewOptions) -> dict[str, bytes]:
    """PNG bytes of the arrow plot and the heatmaps of the view on screen (OpenCV back end)."""
    from nlviz.data import png_bytes
    from nlviz.render import arrow_image, heatmap_image

    size = max(16, opts.panel_size)
    return {
        "arrows.png": png_bytes(arrow_image(view.scene, panel_size=size)),
        "heatmap.png": png_bytes(heatmap_image(view.scene, panel_size=size)),
    }


def json_view(result: Result, view: QueryView, opts: ViewOptions | None = None) -> str:
    """The exporter's JSON record (top-k, centers, statistics, profile ...) of the view on screen."""
    from nlviz.export.files import json_text
    from nlviz.export.records import affinity_record
    from nlviz.session.views import stat_group

    opts = opts or ViewOptions()
    record = affinity_record(
        view.aff,
        [view.scene],
        k=opts.k,
        group=stat_group(opts),
        model=result.model.name,
        block=view.block,
        input=result.data.source,
    )
    return json_text(record)


def paper_widths() -> list[str]:
    """The paper width presets a front end offers (``single``: one column, ``double``: the text width)."""
    from nlviz.render.paper_size import PAPER_WIDTHS

    return list(PAPER_WIDTHS)


def width_caption(width: str) -> str:
    """``"single column (3.25 in)"`` for a preset's picker entry."""
    from nlviz.render.paper_size import PAPER_WIDTHS

    what = {"single": "single column", "double": "double column"}.get(width, width)
    return f"{what} ({PAPER_WIDTHS[width]} in)" if width in PAPER_WIDTHS else what


#: the file name (without extension) the exporter gives a comparison's vector figure of one query
PAPER_COMPARE_NAME = "compare_q00"


def paper_explore_name(result: Result, view: QueryView) -> str:
    """The file name (without extension) the exporter gives this view's vector figure (``MODEL__BLOCK_q00_arrows``)."""
    from nlviz.run import safe_name

    return f"{result.model.label}__{safe_name(view.block)}_q00_arrows"


def paper_explore(view: QueryView, fmt: str, width: str | float = "double") -> bytes:
    """The Explore view as a vector figure for a paper (``fmt`` svg or pdf, ``width`` a column preset or a length):
    the frames with the weights overlaid, the arrows, the query and the colorbar of the view on screen."""
    from nlviz.render.paper import explore_paper, figure_bytes

    return figure_bytes(explore_paper(view.scene, width=width), fmt, title=view.scene.title)


def paper_compare(compare_view: Any, fmt: str, width: str | float = "double") -> bytes:
    """The Compare grid (:func:`nlviz.session.compare.compare`) as a vector figure (file name
    :data:`PAPER_COMPARE_NAME`, as the exporter names it)."""
    from nlviz.render.paper import figure_bytes
    from nlviz.render.paper_compare import compare_paper

    return figure_bytes(compare_paper(compare_view, width=width), fmt, title=compare_view.title)
