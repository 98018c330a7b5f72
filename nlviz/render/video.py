"""Heatmap videos: every model-input frame with the queries' weights overlaid, encoded as H.264 MP4.

Frame f of the video shows, for each query (side by side), input frame f with that query's row in the key
frame that covers f, on the query's color scale (shared by all frames of the video); the query cell is
outlined in the frames it covers. Encoding uses PyAV (libx264, yuv420p — what browsers play; OpenCV's mp4v
does not play in browsers), so width and height are padded to even numbers.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

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


def encode_mp4(frames: list[np.ndarray], path: str | Path, fps: float = 4.0, crf: int = 20) -> Path:
    """Write RGB uint8 frames (equal, even sizes) as H.264 (libx264, yuv420p) MP4 at ``fps``."""
    import av

    if not frames:
        raise ValueError("encode_mp4: no frames")
    h, w = frames[0].shape[:2]
    if h % 2 or w % 2:
        raise ValueError(f"H.264 yuv420p needs even width and height, got {w}×{h}")
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast", "threads": "1"}
        for image in frames:
            if image.shape[:2] != (h, w):
                raise ValueError(f"encode_mp4: frame of size {image.shape[:2]} differs from the first {(h, w)}")
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return Path(path)
