"""Rendering: pure functions from (clip frames, Affinity, query, options) to images and figures.

Two back ends show the same content: OpenCV/numpy images (``*_image``: RGB uint8, fast, no browser,
deterministic bytes) and plotly figures (``*_figure``: interactive). Both draw from the same resolved data
(:class:`Scene`, :class:`BatView`, :class:`CompareView`), so a PNG and an HTML page of one view agree.

    scene = make_scene(clip.frames, rec.affinity(block, [(3, 4, 4)]), 0, k=20)
    arrow_image(scene); arrow_figure(scene)          # the spacetime arrow plot (NL paper Fig. 3)
    heatmap_image(scene); heatmap_figure(scene)      # per-frame overlays, one shared color scale
    bat_image(bat_view(aff)); bat_figure(...)        # BA-Transform P, Q (, T) per group + effective map
    compare_image(compare_view([(label, scene), ...]))  # one query in several models/blocks + differences
    profile_image({...}); block_stats_image({...})   # analysis plots from plain arrays / dicts (nlviz.analysis)
    interval_image(interval_layout(rows, title=...)) # means with 95 % intervals (nlviz report); _svg, _figure
    video_frames([scene, ...])                       # heatmap-video frames (nlviz.data.encode_mp4 writes them)
    figure_bytes(explore_paper(scene, width="single"), "pdf")  # vector figures for papers: SVG, PDF (matplotlib)
    figure_bytes(compare_paper(view), "svg"); layout_problems(fig)  # ... and the check for clipped/overlapping text

Modules: ``scene`` (what a view shows), ``layout`` (panels ↔ pixels), ``colormap`` and ``scale`` (colors and
what they mean), ``arrows``, ``spacetime``, ``heatmap``, ``bat``, ``compare``, ``plots`` + ``chart``, ``video``,
``interval_chart``, and the vector figures for papers: ``paper`` (Explore, saving), ``paper_compare``,
``paper_size`` (column widths, fonts), ``paper_layout`` (the text check).
Render only draws what it is given: statistics come from :mod:`nlviz.analysis`, files are written by
:mod:`nlviz.export`. Nothing here imports plotly, cv2 or matplotlib until a function needs it.
"""

from __future__ import annotations

from typing import Any

_LAZY = {
    "Scene": "nlviz.render.scene",
    "make_scene": "nlviz.render.scene",
    "query_row": "nlviz.render.scene",
    "ColorScale": "nlviz.render.scale",
    "make_scale": "nlviz.render.scale",
    "weight_label": "nlviz.render.scale",
    "arrow_set": "nlviz.render.arrows",
    "arrow_image": "nlviz.render.spacetime",
    "arrow_figure": "nlviz.render.spacetime",
    "heatmap_image": "nlviz.render.heatmap",
    "heatmap_figure": "nlviz.render.heatmap",
    "pixel_map": "nlviz.render.heatmap",
    "bat_view": "nlviz.render.bat",
    "bat_image": "nlviz.render.bat",
    "bat_figure": "nlviz.render.bat",
    "compare_view": "nlviz.render.compare",
    "compare_image": "nlviz.render.compare",
    "compare_figure": "nlviz.render.compare",
    "profile_image": "nlviz.render.plots",
    "profile_figure": "nlviz.render.plots",
    "block_stats_image": "nlviz.render.plots",
    "block_stats_figure": "nlviz.render.plots",
    "video_frames": "nlviz.render.video",
    "explore_paper": "nlviz.render.paper",
    "compare_paper": "nlviz.render.paper_compare",
    "figure_bytes": "nlviz.render.paper",
    "layout_problems": "nlviz.render.paper_layout",
    "width_inches": "nlviz.render.paper_size",
    "IntervalRow": "nlviz.render.interval_chart",
    "interval_layout": "nlviz.render.interval_chart",
    "interval_image": "nlviz.render.interval_chart",
    "interval_svg": "nlviz.render.interval_chart",
    "interval_figure": "nlviz.render.interval_chart",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'nlviz.render' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
