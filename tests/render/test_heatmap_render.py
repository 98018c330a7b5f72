"""Heatmap overlays: a one-hot row is hot exactly in its cell's pixel box; one color scale for all frames."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nlviz.extract.geometry import AffinityGeometry, GridGeometry
from nlviz.ops.base import Affinity
from nlviz.render import colormap
from nlviz.render.heatmap import heatmap_figure, heatmap_image, overlay_panels, pixel_map
from nlviz.render.scene import make_scene
from nlviz.render.spacetime import scene_grid

T, H, W = 2, 20, 20
KG = (2, 3, 3)  # stride 20/3 px: cells are not whole pixels


def aff_of(weights: torch.Tensor) -> Affinity:
    geo = AffinityGeometry(GridGeometry((T, H, W), KG), GridGeometry((T, H, W), KG))
    return Affinity(
        weights=weights,
        queries=torch.tensor([[0, 1, 1]]),
        query_grid=KG,
        key_grid=KG,
        normalized=True,
        kind="softmax",
        geometry=geo,
    )


def blend(frame_value: int, color: np.ndarray, alpha: float = 0.8) -> np.ndarray:
    a = round(255 * alpha)
    return (color.astype(int) * a + frame_value * (255 - a) + 127) // 255


def inside(geo: GridGeometry, cell) -> np.ndarray:
    """Pixels whose centers lie in the cell box (pixel edges)."""
    _, _, y0, x0, y1, x1 = geo.cell_box([cell])[0]
    yy, xx = np.meshgrid(np.arange(H) + 0.5, np.arange(W) + 0.5, indexing="ij")
    return (yy >= y0) & (yy < y1) & (xx >= x0) & (xx < x1)


@pytest.mark.parametrize("cell", [(1, 0, 0), (1, 1, 2), (1, 2, 1)])
def test_one_hot_row_is_hot_exactly_in_its_cell_box(cell):
    w = torch.zeros(1, 1, 1, *KG)
    w[(0, 0, 0, *cell)] = 1.0
    aff = aff_of(w)
    geo = aff.geometry.key
    frames = np.full((T, H, W, 3), 40, dtype=np.uint8)
    sc = make_scene(frames, aff, 0, k=1)
    hot = inside(geo, cell)
    assert hot.sum() in (36, 42, 49)  # 6 or 7 pixels per side
    np.testing.assert_array_equal(pixel_map(sc.weights[cell[0]], geo, H, W) == 1.0, hot)
    panel = overlay_panels(sc)[sc.key_frames.index(cell[0])]
    lut = colormap.lut("viridis")
    np.testing.assert_array_equal(panel[hot], np.broadcast_to(blend(40, lut[255]), (hot.sum(), 3)))
    # weight 0: no overlay at all (the opacity follows the weight), so the frame stays as it is
    np.testing.assert_array_equal(panel[~hot], np.full(((~hot).sum(), 3), 40, dtype=np.uint8))
    # the same box on the canvas of the full image (title band 22 px above the canvas)
    grid = scene_grid(sc, panel_size=60)
    img = heatmap_image(sc, panel_size=60)
    oy, ox = grid.origin(0, sc.key_frames.index(cell[0]))
    hy, hx = np.nonzero(hot)
    s = grid.scale
    ys, xs = np.nonzero(np.all(img[22 : 22 + grid.size[0]] == blend(40, lut[255]), -1))
    assert (ys.min(), ys.max() + 1) == (oy + hy.min() * s, oy + (hy.max() + 1) * s)
    assert (xs.min(), xs.max() + 1) == (ox + hx.min() * s, ox + (hx.max() + 1) * s)
    assert len(ys) == hot.sum() * s * s


def test_frames_share_one_color_scale():
    w = torch.zeros(1, 1, 1, *KG)
    w[0, 0, 0, 0, 0, 0], w[0, 0, 0, 1, 0, 0], w[0, 0, 0, 1, 2, 2] = 0.25, 0.25, 1.0
    sc = make_scene(np.zeros((T, H, W, 3), np.uint8), aff_of(w), 0)
    assert (sc.scale.vmin, sc.scale.vmax) == (0.0, 1.0)
    p0, p1 = overlay_panels(sc)
    np.testing.assert_array_equal(p0[0, 0], p1[0, 0])  # 0.25 has one color in both frames
    assert not np.array_equal(p1[0, 0], p1[-1, -1])
    fig = heatmap_figure(sc, panel_size=60)
    heat = [t for t in fig.data if t.type == "heatmap"]
    assert len(heat) == T and {t.coloraxis for t in heat} == {"coloraxis"}
    assert (fig.layout.coloraxis.cmin, fig.layout.coloraxis.cmax) == (0.0, 1.0)
    assert fig.layout.coloraxis.colorbar.title.text.replace("<br>", " ") == "softmax weight (rows sum to 1)"
    np.testing.assert_array_equal(heat[1].z, w[0, 0, 0, 1].numpy())


def test_plotly_heatmap_cells_cover_the_same_canvas_boxes():
    w = torch.rand(1, 1, 1, *KG, generator=torch.Generator().manual_seed(0))
    sc = make_scene(np.zeros((T, H, W, 3), np.uint8), aff_of(w), 0)
    grid = scene_grid(sc, panel_size=60)
    fig = heatmap_figure(sc, panel_size=60)
    heat = [t for t in fig.data if t.type == "heatmap"]
    geo = sc.geometry.key
    for c, tr in enumerate(heat):
        # cell (i, j) spans [x0 + (j - 0.5)·dx, x0 + (j + 0.5)·dx] in canvas point coordinates
        for i, j in [(0, 0), (2, 1)]:
            _, _, y0, x0, y1, x1 = geo.cell_box([(0, i, j)])[0]
            ey0, ex0, ey1, ex1 = (v - 0.5 for v in grid.box_to_canvas(0, c, (y0, x0, y1, x1)))
            assert tr.x0 + (j - 0.5) * tr.dx == pytest.approx(ex0)
            assert tr.x0 + (j + 0.5) * tr.dx == pytest.approx(ex1)
            assert tr.y0 + (i - 0.5) * tr.dy == pytest.approx(ey0)
            assert tr.y0 + (i + 0.5) * tr.dy == pytest.approx(ey1)
