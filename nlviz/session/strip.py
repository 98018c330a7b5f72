"""The clickable frame strip: every model-input frame with the current query's weights overlaid, and the map
from a click on it (display pixels) back to a model-input point (t, y, x).

Panels are laid out by :class:`nlviz.render.layout.PanelGrid` (``cols`` frames per row, each upscaled by an
integer factor); frame t sits in panel (t // cols, t % cols). Panel f shows input frame f with the query's row
in the key frame that covers f (as the heatmap video does), on the scene's color scale; the query cell is
outlined in the frames it covers. The layout depends only on the clip's shape and the panel size, so a click
can be mapped before the new strip is drawn.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from nlviz.render.layout import PanelGrid, display_scale

#: frames per row of the strip
STRIP_COLS = 4


def strip_layout(shape: tuple[int, int, int], panel_size: int = 96, cols: int = STRIP_COLS) -> PanelGrid:
    """The panel grid for a clip of model-input shape (T, H, W)."""
    t, h, w = shape
    cols = max(1, min(cols, t))
    return PanelGrid(math.ceil(t / cols), cols, h, w, display_scale(h, w, panel_size))


@dataclass(frozen=True)
class Strip:
    """``image`` (H, W, 3) uint8 RGB drawn on ``grid``; ``frames`` model-input frames, one per panel."""

    image: np.ndarray
    grid: PanelGrid
    frames: int


def click_strip(scene: Any, panel_size: int = 96, cols: int = STRIP_COLS) -> Strip:
    """Draw the strip for a Scene (its frames, row, color scale and query cell)."""
    from nlviz.render import cv_draw
    from nlviz.render.heatmap import overlay, pixel_map
    from nlviz.render.layout import compose

    frames = scene.frames
    t_in, h, w = frames.shape[:3]
    grid = strip_layout((t_in, h, w), panel_size, cols)
    key, query = scene.geometry.key, scene.geometry.query
    q_frames = set(query.cell_frames(scene.query_cell[0]))
    panels, titles = {}, {}
    for f in range(t_in):
        kt = int(key.cell_at(f, 0, 0)[0][0])
        rc = divmod(f, grid.cols)
        panels[rc] = overlay(frames[f], pixel_map(scene.weights[kt], key, h, w), scene.scale)
        titles[rc] = f"frame {f}" + (" (query)" if f in q_frames else "")
    canvas = compose(grid, panels, titles)
    for f in sorted(q_frames):
        if f < t_in:
            y0, x0, y1, x1 = grid.box_to_canvas(*divmod(f, grid.cols), scene.query_box)
            cv_draw.query_marker(canvas, ((y0 + y1) / 2 - 0.5, (x0 + x1) / 2 - 0.5), (y0, x0, y1, x1))
    return Strip(canvas, grid, t_in)


def data_uri(strip: Strip) -> str:
    """The strip's image as a PNG ``data:`` URI (what the app shows and the browser decodes once per click)."""
    from nlviz.render.plotly_parts import png_data_uri

    return png_data_uri(strip.image)


def strip_point(
    grid: PanelGrid, frames: int, x: float, y: float, shown_width: float, shown_height: float
) -> tuple[int, int, int] | None:
    """A click at display pixel (x, y) on the strip shown at ``shown_width``×``shown_height`` → the model-input
    point (t, y, x) under it, or None when the click is outside every frame (titles, gaps)."""
    ih, iw = grid.size
    if shown_width <= 0 or shown_height <= 0:
        raise ValueError(f"the strip's shown size {shown_width}×{shown_height} must be positive")
    cy, cx = y * ih / shown_height, x * iw / shown_width  # canvas pixel coordinates
    ph, pw = grid.panel_size
    for t in range(frames):
        oy, ox = grid.origin(*divmod(t, grid.cols))
        if oy <= cy < oy + ph and ox <= cx < ox + pw:
            return t, int((cy - oy) // grid.scale), int((cx - ox) // grid.scale)
    return None


def point_on_strip(grid: PanelGrid, point: tuple[int, int, int]) -> tuple[float, float]:
    """The canvas pixel center (x, y) of model-input point (t, y, x) on the strip (for tests and automation)."""
    t, y, x = point
    cy, cx = grid.to_canvas(*divmod(t, grid.cols), y, x)
    return float(cx), float(cy)
