"""The spacetime arrow plot (the NL paper's Fig. 3): the shown frames side by side, arrows from the query to its
top-k key cells across frames (width, opacity and color by weight), the query marked, and a colorbar that says
what the weights are. ``arrow_image`` (OpenCV, uint8 RGB) and ``arrow_figure`` (plotly) draw the same Scene.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nlviz.render import cv_draw, plotly_parts
from nlviz.render.arrows import arrow_set
from nlviz.render.layout import PanelGrid, compose, display_scale, stack
from nlviz.render.scene import Scene


def scene_grid(scene: Scene, panel_size: int = 160, rows: int = 1, left: int = 0) -> PanelGrid:
    """One row of panels (one per shown frame), frames upscaled to at least ``panel_size`` px."""
    _, h, w = scene.frames.shape[:3]
    return PanelGrid(rows, len(scene.key_frames), h, w, display_scale(h, w, panel_size), left=left)


def panel_titles(scene: Scene, row: int = 0) -> dict[tuple[int, int], str]:
    out = {}
    for c, f in enumerate(scene.input_frames):
        out[(row, c)] = f"frame {f}" + (" (query)" if c == scene.query_panel else "")
    return out


def query_text(scene: Scene) -> str:
    t, y, x = scene.query_cell
    return f"query cell (t,y,x)=({t},{y},{x})"


def frames_canvas(scene: Scene, grid: PanelGrid) -> np.ndarray:
    """The shown frames in one row with their titles (the part both back ends share as pixels)."""
    panels = {(0, c): scene.frames[f] for c, f in enumerate(scene.input_frames)}
    return compose(grid, panels, panel_titles(scene))


def query_canvas_marker(scene: Scene, grid: PanelGrid, row: int = 0) -> tuple[tuple[float, float], tuple]:
    """(center point, box edges) of the query on the canvas."""
    qc = scene.query_center
    center = grid.to_canvas(row, scene.query_panel, qc[1], qc[2])
    return (float(center[0]), float(center[1])), grid.box_to_canvas(row, scene.query_panel, scene.query_box)


def title_band(title: str, width: int) -> np.ndarray:
    band = np.full((22, width, 3), 255, dtype=np.uint8)
    cv_draw.text(band, title, (15, 8), max_width=width - 10)
    return band


def arrow_image(scene: Scene, *, panel_size: int = 160) -> np.ndarray:
    """The arrow plot as an RGB uint8 image: title, frames with arrows and the query marker, colorbar."""
    grid = scene_grid(scene, panel_size)
    canvas = frames_canvas(scene, grid)
    cv_draw.arrows(canvas, arrow_set(scene, grid))
    center, box = query_canvas_marker(scene, grid)
    cv_draw.query_marker(canvas, center, box)
    w = canvas.shape[1]
    title = scene.title or f"{query_text(scene)}, top {len(scene.top_weights)}"
    return stack([title_band(title, w), canvas, cv_draw.colorbar(w, scene.scale)])


def arrow_figure(scene: Scene, *, panel_size: int = 160) -> Any:
    """The arrow plot as a plotly figure: the same canvas, arrows as one scatter trace per weight level."""
    grid = scene_grid(scene, panel_size)
    canvas = frames_canvas(scene, grid)
    title = scene.title or f"{query_text(scene)}, top {len(scene.top_weights)}"
    center, box = query_canvas_marker(scene, grid)
    traces = [
        *plotly_parts.arrow_traces(arrow_set(scene, grid)),
        *plotly_parts.query_traces(center, box, query_text(scene)),
        plotly_parts.colorbar_trace(scene.scale),
    ]
    fig = plotly_parts.new_figure(canvas, title, traces=traces)
    return fig
