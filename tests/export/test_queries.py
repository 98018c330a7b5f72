"""ViewSpec queries → model-input points → cells: source pixels, grids, auto (most attended / entropy)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import nlviz
from nlviz.data import Geometry
from nlviz.export.queries import auto_points, cells_at, grid_points, source_points
from nlviz.extract.geometry import GridGeometry
from nlviz.models import build_model


def test_source_pixels_go_through_the_resize_and_crop():
    # a 40×80 source, short side resized to 20 (→ 20×40) and center-cropped to 20×20 (x offset 10)
    geo = Geometry.for_resize((0, 5, 10, 15), (40, 80), 20)
    pts = source_points([(11, 20.5, 40.5)], geo)  # source frame 11 → nearest sampled frame 10 (t = 2)
    assert pts.tolist() == [[2, 10.0, 10.0]]  # (20.5+0.5)·0.5−0.5 = 10; (40.5+0.5)·0.5−0.5−10 = 10
    with pytest.raises(ValueError, match="outside the model input"):
        source_points([(0, 20, 5)], geo)  # x = 5 in the source lies left of the crop


def test_grid_points_tile_the_middle_frame():
    pts = grid_points(2, "middle", (5, 8, 12))
    assert pts.tolist() == [[2, 1.5, 2.5], [2, 1.5, 8.5], [2, 5.5, 2.5], [2, 5.5, 8.5]]
    with pytest.raises(ValueError, match="queries.frame=9"):
        grid_points(2, 9, (5, 8, 12))


def test_cells_at_maps_points_to_the_containing_cell():
    g = GridGeometry((4, 16, 16), (4, 4, 4))
    np.testing.assert_array_equal(cells_at(np.array([[3, 0.0, 15.0], [1, 7.9, 8.0]]), g), [[3, 0, 3], [1, 2, 2]])


def test_auto_points_pick_the_most_attended_and_highest_entropy_cells():
    m = build_model(
        "tiny_c2d",
        num_classes=4,
        widths=[8, 8, 8],
        blocks=[{"op": "nonlocal", "stage": 3, "index": 0, "options": {"mode": "dot_product"}}],
    ).eval()
    with torch.no_grad(), nlviz.capture(m) as rec:
        m(torch.randn(1, 3, 2, 16, 16))
    block = rec.blocks[0]
    aff = rec.affinity(block)  # every row: (1, 1, N, T, H, W)
    w = aff.weights[0, 0].abs().double().flatten(1)  # (Nq, Nk)
    geo = rec.geometry(block)
    pts = auto_points(rec, block, 3, "attended")
    best = torch.topk(w.sum(0), 3).indices
    expect = geo.key.cell_center(np.stack(np.unravel_index(best.numpy(), aff.key_grid), 1))
    np.testing.assert_allclose(pts[:, 1:], expect[:, 1:])
    np.testing.assert_array_equal(cells_at(pts, geo.key), np.stack(np.unravel_index(best.numpy(), aff.key_grid), 1))
    p = w / w.sum(1, keepdim=True)
    ent = -(p * p.clamp_min(1e-30).log()).sum(1)
    pts = auto_points(rec, block, 2, "entropy")
    expect = np.stack(np.unravel_index(torch.topk(ent, 2).indices.numpy(), aff.query_grid), 1)
    np.testing.assert_array_equal(cells_at(pts, geo.query), expect)
