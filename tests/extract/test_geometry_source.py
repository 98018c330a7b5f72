"""Geometry round trips composed with a real clip: a non-square video is read with resize + center crop,
a model is captured on it, and a clicked source pixel → query cell → source box contains that pixel."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import nlviz
from nlviz.data import read_clip
from nlviz.models import build_model
from support.videos import write_cv2, write_h264

H0, W0, N = 60, 100, 12  # landscape source: 60×100 → resized 32×53, center crop x0 = 10
MARK = 12  # bright square marker, side in source pixels


def marker(i: int) -> tuple[int, int]:
    """Top-left corner of the marker in source frame i (it moves, so frames are told apart)."""
    return 8 + 3 * i, 22 + 4 * i


def frame(i: int) -> np.ndarray:
    f = np.full((H0, W0, 3), 20, dtype=np.uint8)
    y, x = marker(i)
    f[y : y + MARK, x : x + MARK] = 250
    return f


@pytest.fixture(scope="module", params=["avi", "mp4"])
def captured(request, tmp_path_factory):
    d = tmp_path_factory.mktemp("geo")
    frames = [frame(i) for i in range(N)]
    path = write_cv2(d / "v.avi", frames) if request.param == "avi" else write_h264(d / "v.mp4", frames)
    clip = read_clip(path, frames=4, size=32)
    blocks = [
        {"op": "nonlocal", "stage": 2, "index": 0, "options": {"sub_sample": True}},
        {"op": "spatial_bias", "stage": 3, "index": 0},
    ]
    model = build_model("tiny_c2d", num_classes=4, widths=[8, 16, 32], blocks=blocks).eval()
    with torch.no_grad(), nlviz.capture(model, clip=clip) as rec:
        model(clip.to_tensor())
    return clip, rec


def _inside(px: float, py: float, box) -> bool:
    y0, x0, y1, x1 = box
    return y0 <= py + 0.5 < y1 and x0 <= px + 0.5 < x1  # the pixel's center, in edge coordinates


def _clicks(clip, n=40):
    """Seeded source pixels (t, frame, y, x) whose centers lie inside the crop, plus the crop's corners."""
    g = clip.geometry
    y0, x0, y1, x1 = g.source_box
    rng = np.random.default_rng(7)
    ys = rng.integers(int(np.ceil(y0)), int(y1 - 0.5), n)
    xs = rng.integers(int(np.ceil(x0 - 0.5)), int(x1 - 0.5), n)
    ts = rng.integers(0, g.num_frames, n)
    corners = [(0, int(np.ceil(y0)), int(np.ceil(x0 - 0.5))), (g.num_frames - 1, int(y1 - 1), int(x1 - 1))]
    return [(int(t), g.frame_indices[t], int(y), int(x)) for t, y, x in [*zip(ts, ys, xs), *corners]]


def test_clip_and_blocks_have_the_expected_geometry(captured):
    clip, rec = captured
    g = clip.geometry
    assert g.source_size == (H0, W0) and g.resized_size == (32, 53) and g.crop_box == (0, 10, 32, 42)
    nl, sb = rec.blocks
    assert rec.grids(nl) == ((4, 16, 16), (4, 8, 8))  # subsampled keys
    assert rec.grids(sb) == ((4, 8, 8), (4, 8, 8)) and sb.endswith(".op")  # per-frame block on the video grid


def test_clicked_pixel_round_trips_through_every_block(captured):
    clip, rec = captured
    for block in rec.blocks:
        geo = rec.geometry(block)
        for t, f, y, x in _clicks(clip):
            cell = geo.query_at_source(t, y, x)
            (q,) = geo.to_source_box([cell])
            assert f in q["frames"] and cell[0] == t, (block, t, y, x)
            assert _inside(x, y, q["box"]), (block, (y, x), cell, q["box"])
            # the key cell under the same pixel (a coarser grid for the subsampled block) contains it too,
            # and contains the query cell's whole box
            _, yi, xi = clip.geometry.from_source(f, y, x)
            key = geo.key.cell_at(t, np.clip(yi, 0, 31), np.clip(xi, 0, 31))[0]
            (k,) = geo.to_source_box([key], keys=True)
            assert f in k["frames"] and _inside(x, y, k["box"])
            ky0, kx0, ky1, kx1 = k["box"]
            qy0, qx0, qy1, qx1 = q["box"]
            assert ky0 <= qy0 + 1e-9 and kx0 <= qx0 + 1e-9 and qy1 <= ky1 + 1e-9 and qx1 <= kx1 + 1e-9


def test_clicked_marker_lands_on_the_marker_in_the_clip(captured):
    """Content check: clicking the marker's center in a source frame selects a cell whose input pixels show
    the marker in the model-input frame that came from that source frame."""
    clip, rec = captured
    for block in rec.blocks:
        geo = rec.geometry(block)
        for t, f in enumerate(clip.geometry.frame_indices):
            my, mx = marker(f)
            cell = geo.query_at_source(t, my + MARK / 2, mx + MARK / 2)
            _, _, y0, x0, y1, x1 = geo.query.cell_box([cell])[0]
            patch = clip.frames[t, int(y0) : int(np.ceil(y1)), int(x0) : int(np.ceil(x1))]
            assert patch.mean() > 200, (block, t, f, cell)
            far = geo.query_at_source(t, 2, 50)  # background near the top edge
            _, _, y0, x0, y1, x1 = geo.query.cell_box([far])[0]
            assert clip.frames[t, int(y0) : int(np.ceil(y1)), int(x0) : int(np.ceil(x1))].mean() < 60


def test_click_outside_the_crop_snaps_to_the_edge_cell(captured):
    clip, rec = captured
    geo = rec.geometry(rec.blocks[0])
    assert geo.query_at_source(0, 30, 2) == (0, geo.query_at_source(0, 30, 12)[1], 0)  # x=2 was cropped away
    assert geo.query_at_source(1, 30, 98)[2] == 15
