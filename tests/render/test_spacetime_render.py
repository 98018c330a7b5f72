"""The spacetime arrow plot: top-k cells, arrow endpoints at key-cell centers, both back ends, determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nlviz.data import png_bytes
from nlviz.extract.geometry import AffinityGeometry, GridGeometry
from nlviz.ops.base import Affinity
from nlviz.render.arrows import arrow_set
from nlviz.render.layout import PanelGrid
from nlviz.render.scene import make_scene
from nlviz.render.spacetime import arrow_figure, arrow_image, scene_grid

T, H, W = 4, 16, 16
QG, KG = (4, 8, 8), (4, 4, 4)  # key grid subsampled 2×2: key stride 4 px, query stride 2 px


def make_aff(weights: torch.Tensor, queries, kind: str = "softmax", normalized: bool = True) -> Affinity:
    geo = AffinityGeometry(GridGeometry((T, H, W), QG), GridGeometry((T, H, W), KG))
    return Affinity(
        weights=weights,
        queries=torch.tensor(queries),
        query_grid=QG,
        key_grid=KG,
        normalized=normalized,
        kind=kind,
        geometry=geo,
        block="blk",
    )


@pytest.fixture
def frames():
    return np.full((T, H, W, 3), 128, dtype=np.uint8)


@pytest.fixture
def aff():
    g = torch.Generator().manual_seed(1)
    w = torch.rand(1, 2, 2, *KG, generator=g)  # (B, G, Q, Tk, Hk, Wk), distinct values
    return make_aff(w / w.sum((-3, -2, -1), keepdim=True), [[1, 3, 5], [2, 0, 7]])


def test_topk_cells_are_the_largest_of_the_group_mean_among_shown_frames(frames, aff):
    sc = make_scene(frames, aff, 0, k=5, show=[0, 3])
    assert sc.key_frames == (0, 1, 3)  # query frame 1 always added
    row = aff.weights[0, :, 0].double().mean(0).numpy()  # (Tk, Hk, Wk)
    masked = np.full_like(row, -np.inf)
    masked[[0, 1, 3]] = row[[0, 1, 3]]
    order = np.argsort(-masked.ravel())[:5]
    expect = np.stack(np.unravel_index(order, KG), 1)
    np.testing.assert_array_equal(sc.top_cells, expect)
    np.testing.assert_allclose(sc.top_weights, masked.ravel()[order], rtol=0, atol=1e-12)
    assert sc.input_frames == (0, 1, 3) and sc.query_panel == 1


def test_arrow_endpoints_sit_at_the_key_cell_centers(frames, aff):
    sc = make_scene(frames, aff, 1, k=6)
    grid = scene_grid(sc, panel_size=64)  # scale 4
    assert grid.scale == 4
    arrows = arrow_set(sc, grid)
    ph, pw = grid.panel_size
    for (t, y, x), (ey, ex) in zip(sc.top_cells, arrows.ends):
        cy, cx = (y + 0.5) * 4 - 0.5, (x + 0.5) * 4 - 0.5  # key cell center in input pixels (stride 4)
        c = sc.key_frames.index(t)
        assert ey == pytest.approx(grid.header + (cy + 0.5) * 4 - 0.5)
        assert ex == pytest.approx(grid.gap + c * (pw + grid.gap) + (cx + 0.5) * 4 - 0.5)
    qt, qy, qx = 2, 0, 7  # query cell, stride 2: center (qy·2 + 0.5, qx·2 + 0.5) = (0.5, 14.5)
    cy, cx = qy * 2 + 0.5, qx * 2 + 0.5
    assert arrows.start == pytest.approx(
        [grid.header + (cy + 0.5) * 4 - 0.5, grid.gap + qt * (pw + grid.gap) + (cx + 0.5) * 4 - 0.5]
    )


def test_plotly_arrows_are_a_few_traces_with_the_same_endpoints(frames, aff):
    sc = make_scene(frames, aff, 0, k=20)
    fig = arrow_figure(sc, panel_size=64)
    arrows = arrow_set(sc, scene_grid(sc, 64))
    traces = [t for t in fig.data if t.meta and "level" in t.meta]
    assert 1 <= len(traces) <= 4 and sum(t.meta["count"] for t in traces) == 20
    ends = sorted((float(t.y[i]), float(t.x[i])) for t in traces for i in range(1, len(t.x), 3))
    assert np.allclose(ends, sorted(map(tuple, arrows.ends)))
    starts = {(float(t.y[i]), float(t.x[i])) for t in traces for i in range(0, len(t.x), 3)}
    assert starts == {tuple(arrows.start)}
    widths = {t.meta["level"]: t.line.width for t in traces}
    assert all(widths[a] <= widths[b] for a, b in zip(sorted(widths), sorted(widths)[1:]))
    query = next(t for t in fig.data if t.name == "query")
    assert (query.y[0], query.x[0]) == pytest.approx(tuple(arrows.start))
    bar = next(t for t in fig.data if t.name == "scale")
    assert (
        bar.marker.colorbar.title.text == "softmax weight (rows sum to<br>1), mean of 2 groups"
    )  # wrapped: never past the edge
    assert (bar.marker.cmin, bar.marker.cmax) == pytest.approx((0.0, sc.weights.max()))


def test_opencv_image_draws_the_strongest_arrow_in_its_level_color(frames, aff):
    sc = make_scene(frames, aff, 0, k=1, title="t")
    grid = scene_grid(sc, panel_size=64)
    arrows = arrow_set(sc, grid)
    img = arrow_image(sc, panel_size=64)
    top = 22  # title band
    assert img.shape[1] == grid.size[1] and img.shape[0] > top + grid.size[0]
    lv = arrows.level[0]
    mid = (arrows.start + arrows.ends[0]) / 2
    got = img[top + int(round(mid[0])), int(round(mid[1]))].astype(int)
    op = arrows.opacity[lv]
    expect = np.round(op * arrows.colors[lv] + (1 - op) * 128)
    assert np.abs(got - expect).max() <= 3
    # the query cell is outlined: its box edge pixels carry the marker colors
    y0, x0, y1, x1 = (int(v) for v in grid.box_to_canvas(0, sc.query_panel, sc.query_box))
    assert tuple(img[top + y0 - 1, (x0 + x1) // 2]) == (230, 20, 20)


def test_signed_weights_rank_by_magnitude_on_a_symmetric_scale(frames):
    w = torch.zeros(1, 1, 1, *KG)
    w[0, 0, 0, 0, 0, 0], w[0, 0, 0, 1, 2, 2], w[0, 0, 0, 2, 3, 3] = -0.9, 0.5, 0.1
    sc = make_scene(frames, make_aff(w, [[0, 0, 0]], "linear_contribution", False), 0, k=2)
    np.testing.assert_array_equal(sc.top_cells, [[0, 0, 0], [1, 2, 2]])
    np.testing.assert_allclose(sc.top_weights, [-0.9, 0.5])
    assert (sc.scale.vmin, sc.scale.vmax) == pytest.approx((-0.9, 0.9)) and sc.scale.cmap == "rdbu" and sc.scale.signed
    assert sc.scale.label == "linear contribution to y (signed, units of y)"
    arrows = arrow_set(sc, PanelGrid(1, 4, H, W, 2))
    assert arrows.strength[arrows.level[0]] == arrows.strength[arrows.level].max()  # |−0.9| is the strongest


def test_identical_inputs_give_identical_png_bytes(frames, aff):
    a = png_bytes(arrow_image(make_scene(frames, aff, 0, k=8)))
    b = png_bytes(arrow_image(make_scene(frames.copy(), aff, 0, k=8)))
    assert a == b and a[:8] == b"\x89PNG\r\n\x1a\n"


def test_frames_that_are_not_the_model_input_are_refused(aff):
    with pytest.raises(ValueError, match="not the model input"):
        make_scene(np.zeros((T, 8, 8, 3), np.uint8), aff, 0)
    with pytest.raises(ValueError, match="query index 5 out of range"):
        make_scene(np.zeros((T, H, W, 3), np.uint8), aff, 5)
    with pytest.raises(ValueError, match=r"frames \[9\] outside"):
        make_scene(np.zeros((T, H, W, 3), np.uint8), aff, 0, show=[9])


def test_weak_links_are_left_out_and_self_attention_is_a_ring(frames):
    w = torch.full((1, 1, 1, *KG), 1e-20)
    w[0, 0, 0, 1, 1, 2] = 0.6  # the key cell holding the query (1, 3, 5): input box y 6..8, x 10..12 in cell (1, 1, 2)
    w[0, 0, 0, 3, 0, 0] = 0.3
    w[0, 0, 0, 2, 3, 3] = 0.01  # below 5 % of the strongest
    sc = make_scene(frames, make_aff(w, [[1, 3, 5]]), 0, k=20, min_fraction=0.05)
    assert [tuple(c) for c in sc.top_cells] == [(1, 1, 2), (3, 0, 0)]  # 1e-20 and 0.01 dropped
    assert sc.self_key.tolist() == [True, False]
    grid = scene_grid(sc, 64)
    arrows = arrow_set(sc, grid)
    assert arrows.ring.tolist() == [True, False]
    fig = arrow_figure(sc, panel_size=64)
    rings = [t for t in fig.data if (t.meta or {}).get("self")]
    assert len(rings) == 1 and rings[0].marker.symbol == "circle-open" and rings[0].x == (arrows.start[1],)
    lines = [t for t in fig.data if t.meta and "level" in t.meta and not t.meta.get("self")]
    assert sum(t.meta["count"] for t in lines) == 1  # one arrow (to frame 3), no zero-length arrow
    by_level = sorted((t.meta["level"], t.legendrank) for t in fig.data if t.meta and "level" in t.meta)
    strength = {lv: arrows.strength[lv] for lv, _ in by_level}
    for (la, ra), (lb, rb) in zip(by_level, by_level[1:]):  # a stronger level is listed before a weaker one
        assert (strength[la] > strength[lb]) == (ra < rb) or strength[la] == strength[lb]


def test_a_frame_subset_keeps_the_query_frame_and_the_frames_with_most_mass(frames):
    w = torch.full((1, 1, 1, *KG), 0.001)
    w[0, 0, 0, 3] = 0.2  # frame 3 holds most of the row; the query is in frame 1
    w[0, 0, 0, 0] = 0.05
    sc = make_scene(frames, make_aff(w, [[1, 3, 5]]), 0, k=5, show=2)
    assert sc.key_frames == (1, 3) and sc.input_frames == (1, 3)
    assert "frames shown: 1, 3 of 4" in sc.frames_note and "the query's frame" in sc.frames_note
    assert make_scene(frames, make_aff(w, [[1, 3, 5]]), 0, show="all").frames_note == ""


def test_the_overlay_opacity_follows_the_weight():
    from nlviz.render.heatmap import overlay
    from nlviz.render.scale import make_scale

    frame = np.full((1, 3, 3), 100, dtype=np.uint8)
    values = np.array([[0.0, 0.5, 1.0]])
    out = overlay(frame, values, make_scale(values, "w"), alpha=0.8)
    assert out[0, 0].tolist() == [100, 100, 100]  # weight 0: the frame as it is
    d_half, d_full = np.abs(out[0, 1].astype(int) - 100).max(), np.abs(out[0, 2].astype(int) - 100).max()
    assert 0 < d_half < d_full
