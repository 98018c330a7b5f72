"""Per-frame heatmap overlays of one query's row, one color scale shared by every frame.

A key cell's weight paints exactly the model-input pixels of its box (nearest, no smoothing): pixel (y, x)
belongs to cell ``floor((y + 0.5) / stride)`` — the rule of :meth:`GridGeometry.cell_at`. The overlay is
``(1 − α)·frame + α·color`` in integer arithmetic (deterministic bytes), with α growing with the weight
(:meth:`ColorScale.strength`): the frame stays clean where attention is near zero. ``heatmap_image`` (OpenCV) and
``heatmap_figure`` (plotly: the frames plus one ``go.Heatmap`` per panel on a shared color axis) show the
same maps.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nlviz.extract.geometry import GridGeometry
from nlviz.render import cv_draw, plotly_parts
from nlviz.render.layout import compose, stack
from nlviz.render.scale import ColorScale
from nlviz.render.scene import Scene
from nlviz.render.spacetime import frames_canvas, panel_titles, query_canvas_marker, query_text, scene_grid, title_band

#: opacity of the overlay where the weight is at the top of the scale (it falls to 0 with the weight)
ALPHA = 0.8


def pixel_map(cell_values: np.ndarray, key: GridGeometry, height: int, width: int) -> np.ndarray:
    """(Hk, Wk) cell values → (height, width) per model-input pixel (each pixel takes its cell's value)."""
    hk, wk = cell_values.shape
    _, sy, sx = key.stride
    iy = np.minimum(np.floor((np.arange(height) + 0.5) / sy).astype(int), hk - 1)
    ix = np.minimum(np.floor((np.arange(width) + 0.5) / sx).astype(int), wk - 1)
    return cell_values[iy][:, ix]


def overlay(frame: np.ndarray, values: np.ndarray, scale: ColorScale, alpha: float = ALPHA) -> np.ndarray:
    """Blend the colors of ``values`` (H, W) over ``frame`` (H, W, 3) uint8, opacity ``alpha`` × the value's
    strength on the scale (0 at weight 0, ``alpha`` at the scale's largest |value|)."""
    a = np.rint(255 * alpha * scale.strength(values)).astype(np.uint16)[..., None]  # (H, W, 1)
    color = scale.colors(values).astype(np.uint16)  # (H, W, 3)
    mixed = (color * a + frame.astype(np.uint16) * (255 - a) + 127) // 255
    return mixed.astype(np.uint8)


def overlay_panels(scene: Scene, alpha: float = ALPHA) -> list[np.ndarray]:
    """One blended image per shown frame (model-input resolution)."""
    _, h, w = scene.frames.shape[:3]
    out = []
    for c, f in enumerate(scene.input_frames):
        values = pixel_map(scene.frame_map(c), scene.geometry.key, h, w)
        out.append(overlay(scene.frames[f], values, scene.scale, alpha))
    return out


def heatmap_image(scene: Scene, *, panel_size: int = 160, alpha: float = ALPHA) -> np.ndarray:
    """The shown frames with the query's weights overlaid (one shared scale), the query marked, a colorbar."""
    grid = scene_grid(scene, panel_size)
    panels = {(0, c): im for c, im in enumerate(overlay_panels(scene, alpha))}
    canvas = compose(grid, panels, panel_titles(scene))
    center, box = query_canvas_marker(scene, grid)
    cv_draw.query_marker(canvas, center, box)
    w = canvas.shape[1]
    title = scene.title or f"{query_text(scene)}: weights per frame"
    return stack([title_band(title, w), canvas, cv_draw.colorbar(w, scene.scale)])


def heatmap_traces(scene: Scene, grid: Any, row: int = 0, coloraxis: str = "coloraxis") -> list:
    """One ``go.Heatmap`` per shown frame, at cell resolution, placed over the frame's panel (its opacity comes
    from the coloraxis: :func:`coloraxis` with ``alpha``)."""
    go = plotly_parts.go()
    _, sy, sx = scene.geometry.key.stride
    traces = []
    for c, f in enumerate(scene.input_frames):
        m = scene.frame_map(c)  # (Hk, Wk)
        y0, x0 = grid.to_canvas(row, c, (sy - 1) / 2, (sx - 1) / 2)  # center of cell (0, 0)
        traces.append(
            go.Heatmap(
                z=m,
                x0=float(x0),
                dx=sx * grid.scale,
                y0=float(y0),
                dy=sy * grid.scale,
                coloraxis=coloraxis,
                zsmooth=False,
                name=f"frame {f}",
                hovertemplate=f"frame {f}, key cell (y,x)=(%{{customdata[0]}},%{{customdata[1]}})<br>weight %{{z:.4g}}<extra></extra>",
                customdata=np.stack(np.meshgrid(np.arange(m.shape[0]), np.arange(m.shape[1]), indexing="ij"), -1),
            )
        )
    return traces


def coloraxis(scale: ColorScale, alpha: float | None = None) -> dict:
    """A plotly ``coloraxis`` for ``scale`` (shared by several heatmaps: one colorbar); with ``alpha``, its
    colors fade with the weight (:func:`plotly_parts.colorscale`), for heatmaps drawn over frames."""
    return dict(
        colorscale=plotly_parts.colorscale(scale, alpha),
        cmin=scale.vmin,
        cmax=scale.vmax,
        colorbar=plotly_parts.colorbar(scale),
    )


def heatmap_figure(scene: Scene, *, panel_size: int = 160, alpha: float = ALPHA) -> Any:
    """The heatmap overlays as a plotly figure (hover shows each cell's weight)."""
    grid = scene_grid(scene, panel_size)
    canvas = frames_canvas(scene, grid)
    center, box = query_canvas_marker(scene, grid)
    traces = [*heatmap_traces(scene, grid), *plotly_parts.query_traces(center, box, query_text(scene))]
    fig = plotly_parts.new_figure(canvas, scene.title or f"{query_text(scene)}: weights per frame", traces=traces)
    fig.update_layout(coloraxis=coloraxis(scene.scale, alpha))
    return fig
