"""Arrows from the query to its top-k key cells, in canvas coordinates, grouped into a few weight levels.

An arrow starts at the query cell's center (in the query's panel) and ends at the center of a key cell (in
that key's frame panel); a key cell at the query's own position (self-attention) is a ring around the query
instead (``ring``). Weights are binned into ``levels`` along the scene's color scale: each level has one
color (the colormap at the level's middle), one line width and one opacity, growing with |weight|. The OpenCV
back end draws one pass per level and plotly draws one scatter trace per level — a handful of traces, not
one annotation per arrow — so both show the same arrows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nlviz.render.layout import PanelGrid
from nlviz.render.scene import Scene

LEVELS = 4  # per sign


@dataclass
class ArrowSet:
    """``start`` (2,) and ``ends`` (k, 2) canvas points (y, x); ``cells`` (k, 3) key cells; ``weights`` (k,);
    ``level`` (k,) index into the per-level ``colors`` (L, 3) uint8, ``widths`` (L,) px, ``opacity`` (L,),
    ``bounds`` (L, 2) the weight interval of each level."""

    start: np.ndarray
    ends: np.ndarray
    cells: np.ndarray
    weights: np.ndarray
    level: np.ndarray
    colors: np.ndarray
    widths: np.ndarray
    opacity: np.ndarray
    bounds: np.ndarray
    strength: np.ndarray  # (L,) in (0, 1]: |weight| of the level's middle relative to the scale's max
    ring: np.ndarray | None = None  # (k,) bool: self-attention, drawn as a ring around the query

    def draw_order(self) -> list[int]:
        """Levels from the weakest to the strongest (strong arrows end up on top)."""
        return [int(i) for i in np.argsort(self.strength, kind="stable")]


def arrow_set(scene: Scene, grid: PanelGrid, row: int = 0, *, base_width: float | None = None) -> ArrowSet:
    """The arrows of ``scene`` drawn in row ``row`` of ``grid`` (panel c shows ``scene.key_frames[c]``)."""
    s = scene.scale
    n = 2 * LEVELS if s.signed else LEVELS
    edges = np.linspace(s.vmin, s.vmax, n + 1)
    mids = (edges[:-1] + edges[1:]) / 2
    top = max(abs(s.vmin), abs(s.vmax))
    strength = np.abs(mids) / top
    if base_width is None:
        base_width = max(1.0, grid.panel_size[1] / 96)
    widths = np.maximum(1, np.round(base_width * (0.5 + 2.5 * strength))).astype(int)
    opacity = np.round(0.35 + 0.65 * strength, 3)
    colors = s.colors(mids)  # (L, 3)
    v = s.normalize(scene.top_weights)
    level = np.minimum((v * n).astype(int), n - 1)
    centers = scene.geometry.key.cell_center(scene.top_cells)  # (k, 3) input (t, y, x)
    ends = np.empty((len(level), 2))
    for i, (cell, c) in enumerate(zip(scene.top_cells, centers)):
        ends[i] = grid.to_canvas(row, scene.panel_of(cell[0]), c[1], c[2])
    qc = scene.query_center
    start = np.array(grid.to_canvas(row, scene.query_panel, qc[1], qc[2]), dtype=float)
    return ArrowSet(
        start=start,
        ends=ends,
        cells=scene.top_cells.copy(),
        weights=scene.top_weights.copy(),
        level=level,
        colors=colors,
        widths=widths,
        opacity=opacity,
        bounds=np.stack([edges[:-1], edges[1:]], 1),
        strength=strength,
        ring=scene.self_key.copy() if scene.self_key is not None else np.zeros(len(level), dtype=bool),
    )
