"""Heatmap videos: every model-input frame with the queries' weights overlaid, as a list of images.

Frame f of the video shows, for each query (side by side), input frame f with that query's row in the key
frame that covers f, on the query's color scale (shared by all frames of the video); the query cell is
outlined in the frames it covers. Width and height are padded to even numbers, so the frames can be encoded
as H.264 yuv420p (:func:`nlviz.data.encode_mp4`; the exporter writes them with ``write_mp4``).
"""

from __future__ import annotations

import numpy as np

from nlviz.render import cv_draw
from nlviz.render.heatmap import ALPHA, overlay, pixel_map
from nlviz.render.layout import PanelGrid, compose, display_scale, pad_to, stack
from nlviz.render.scene import Scene
from nlviz.render.spacetime import title_band


def video_frames(
    scenes: list[Scene], *, title: str = "", panel_size: int = 160, alpha: float = ALPHA
) -> list[np.ndarray]:
    """One RGB uint8 image per model-input frame (all of the same, even, size)."""
    if not scenes:
        raise ValueError("video_frames needs at least one Scene")
    frames = scenes[0].frames
    t_in, h, w = frames.shape[:3]
    grid = PanelGrid(1, len(scenes), h, w, display_scale(h, w, panel_size))
    titles = {(0, c): "query ({},{},{})".format(*sc.query_cell) for c, sc in enumerate(scenes)}
    pw = grid.panel_size[1] + grid.gap
    bars = stack([cv_draw.colorbar(pw, sc.scale) for sc in scenes], axis=1)
    out = []
    for f in range(t_in):
        panels = {}
        for c, sc in enumerate(scenes):
            kt = int(sc.geometry.key.cell_at(f, 0, 0)[0][0])
            panels[(0, c)] = overlay(frames[f], pixel_map(sc.weights[kt], sc.geometry.key, h, w), sc.scale, alpha)
        canvas = compose(grid, panels, titles)
        for c, sc in enumerate(scenes):
            if f in sc.geometry.query.cell_frames(sc.query_cell[0]):
                y0, x0, y1, x1 = grid.box_to_canvas(0, c, sc.query_box)
                cv_draw.query_marker(canvas, ((y0 + y1) / 2 - 0.5, (x0 + x1) / 2 - 0.5), (y0, x0, y1, x1))
        width = max(canvas.shape[1], bars.shape[1])
        image = stack([title_band(f"{title}  frame {f + 1}/{t_in}".strip(), width), canvas, bars])
        out.append(image)
    hh = max(i.shape[0] for i in out)
    ww = max(i.shape[1] for i in out)
    return [pad_to(i, hh + hh % 2, ww + ww % 2) for i in out]
