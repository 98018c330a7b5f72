"""Comparison grid (entries + differences) and the analysis plots (temporal profile, per-block stats)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nlviz.extract.geometry import AffinityGeometry, GridGeometry
from nlviz.ops.base import Affinity
from nlviz.render import chart
from nlviz.render.compare import compare_figure, compare_image, compare_view
from nlviz.render.plots import (
    block_stats_figure,
    block_stats_image,
    profile_figure,
    profile_image,
)
from nlviz.render.scene import make_scene

T, H, W = 2, 8, 8


def aff_of(weights: torch.Tensor, kg, kind="softmax") -> Affinity:
    geo = AffinityGeometry(GridGeometry((T, H, W), (T, 4, 4)), GridGeometry((T, H, W), kg))
    return Affinity(
        weights=weights,
        queries=torch.tensor([[0, 1, 1]]),
        query_grid=(T, 4, 4),
        key_grid=kg,
        normalized=kind == "softmax",
        kind=kind,
        geometry=geo,
    )


def test_difference_rows_are_pixel_maps_minus_the_first_entry():
    frames = np.zeros((T, H, W, 3), np.uint8)
    a = torch.zeros(1, 1, 1, T, 4, 4)
    a[0, 0, 0, 0, 0, 0] = 1.0  # all weight on one 2×2 px cell
    b = torch.full((1, 1, 1, T, 2, 2), 0.5)  # coarser grid (4×4 px cells), dot product: sums to 4
    sa = make_scene(frames, aff_of(a, (T, 4, 4)), 0)
    sb = make_scene(frames, aff_of(b, (T, 2, 2), "dot_product"), 0)
    view = compare_view([("A", sa), ("B", sb)])
    assert view.maps.shape == (2, 2, H, W) and view.diffs.shape == (1, 2, H, W)
    expect_a = np.zeros((2, H, W))
    expect_a[0, :2, :2] = 1.0
    np.testing.assert_allclose(view.maps[0], expect_a)
    np.testing.assert_allclose(view.maps[1], 0.5 / 4.0)  # relative: each of 8 cells holds 1/8 of |w|
    np.testing.assert_allclose(view.diffs[0], view.maps[1] - view.maps[0])
    assert view.scale.label == "share of the row's total |weight|" and view.scale.vmax == 1.0
    assert view.diff_scale.signed and view.diff_scale.vmax == pytest.approx(1 - 0.125)
    img = compare_image(view, panel_size=32)
    assert img.dtype == np.uint8 and img.shape[1] > 2 * 32
    fig = compare_figure(view, panel_size=32)
    heat = [t for t in fig.data if t.type == "heatmap"]
    assert len(heat) == 3 * 2 and sum(t.coloraxis == "coloraxis2" for t in heat) == 2
    assert fig.layout.coloraxis2.cmin == pytest.approx(-view.diff_scale.vmax)


def test_profile_plots_show_the_series_they_are_given():
    prof = np.array([[0.1, 0.2, 0.7], [0.5, 0.25, 0.25]])
    fig = profile_figure({"q0": prof[0], "q1": prof[1]}, query_frame=1)
    np.testing.assert_allclose(np.array([t.y for t in fig.data]), prof)
    img = profile_image({"q0": prof[0]}, query_frame=1)
    assert img.shape == (260, 560, 3)
    img = profile_image({"q0": np.array([np.nan, np.nan, np.nan])})  # an all-zero row: nothing to draw, no error
    assert img.shape == (260, 560, 3)


def test_line_chart_puts_points_where_the_area_maps_them():
    img, area = chart.line_chart({"s": np.array([0.0, 2.0, 1.0])}, ["a", "b", "c"], title="t")
    color = np.array(chart.PALETTE[0])
    for i, v in enumerate([0.0, 2.0, 1.0]):
        y, x = int(round(area.y(v))), int(round(area.x(i)))
        assert np.abs(img[y, x].astype(int) - color).max() <= 10  # a dot marker of the series color there
    assert area.y(area.ymin) == area.y1 - 1 and area.y(area.ymax) == area.y0


def test_block_stats_bars_have_heights_proportional_to_values():
    stats = {"layer2": {"entropy (nats)": 1.0, "distance": 3.0}, "layer3": {"entropy (nats)": 2.0}}
    img, area = chart.bar_chart({"layer2": 1.0, "layer3": 2.0}, title="entropy")
    heights = []
    for i in range(2):
        col = img[:, int(round(area.x(i)))]
        heights.append(int(np.all(col == chart.PALETTE[i], -1).sum()))
    assert heights[1] == pytest.approx(2 * heights[0], abs=2)
    stacked = block_stats_image(stats)
    assert stacked.shape[0] == 2 * 220  # one chart per metric
    fig = block_stats_figure(stats)
    bars = [t for t in fig.data if t.type == "bar"]
    assert [list(b.x) for b in bars] == [["layer2", "layer3"], ["layer2"]]
    assert list(bars[0].y) == [1.0, 2.0]


def test_a_signed_entry_is_compared_by_its_share_of_abs_weight_on_a_sequential_scale():
    frames = np.zeros((T, H, W, 3), np.uint8)
    a = torch.zeros(1, 1, 1, T, 4, 4)
    a[0, 0, 0, 0, 0, 0] = 1.0
    b = torch.zeros(1, 1, 1, T, 4, 4)
    b[0, 0, 0, 1, 2, 2], b[0, 0, 0, 1, 3, 3] = -3.0, 1.0  # a signed linear contribution
    sa = make_scene(frames, aff_of(a, (T, 4, 4)), 0)
    sb = make_scene(frames, aff_of(b, (T, 4, 4), "linear_contribution"), 0)
    view = compare_view([("A", sa), ("B", sb)])
    assert view.maps.min() == 0 and not view.scale.signed and view.scale.vmin == 0.0  # not a ±max scale
    assert view.maps[1].max() == pytest.approx(0.75)  # |−3| of 4
    assert view.diff_scale.signed and view.diff_scale.vmax == pytest.approx(1.0)  # fitted to max |Δ|, not to 0.75
    fig = compare_figure(view, panel_size=32)
    texts = [a.text for a in fig.layout.annotations]
    assert "A" in texts and "B − A" in texts and "frame 0" in texts  # row labels and titles as page-font text
    assert fig.layout.coloraxis.cmin == 0.0


def test_scales_per_row_fit_each_row_and_say_its_maximum():
    frames = np.zeros((T, H, W, 3), np.uint8)
    sharp = torch.zeros(1, 1, 1, T, 4, 4)
    sharp[0, 0, 0, 0, 1, 1] = 1.0
    flat = torch.full((1, 1, 1, T, 4, 4), 1 / 32)
    entries = [
        ("sharp", make_scene(frames, aff_of(sharp, (T, 4, 4)), 0)),
        ("flat", make_scene(frames, aff_of(flat, (T, 4, 4)), 0)),
    ]
    shared, per_row = compare_view(entries), compare_view(entries, per_row=True)
    assert shared.scales[0] is shared.scales[1] and shared.scale.vmax == 1.0
    assert per_row.scales[0].vmax == pytest.approx(1.0) and per_row.scales[1].vmax == pytest.approx(1 / 32)
    assert per_row.row_labels()[1] == "flat (max 0.0312)"
    fig = compare_figure(per_row, panel_size=32)
    flat_z = [t.z for t in fig.data if t.type == "heatmap" and t.name.startswith("flat (")]
    assert np.allclose(np.asarray(flat_z[0]), 1.0)  # drawn as fractions of its own maximum
    assert fig.layout.coloraxis.cmax == 1.0 and "row's max" in fig.layout.coloraxis.colorbar.title.text
