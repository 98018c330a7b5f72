"""Geometry: resize/crop plans, input ↔ source round trips, boxes, frame ranges, serialization."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nlviz.data import Geometry, plan_resize_crop


def test_plan_resize_crop_landscape_and_portrait():
    assert plan_resize_crop((60, 80), 30) == ((30, 40), (0, 5, 30, 35))
    assert plan_resize_crop((90, 40), 20) == ((45, 20), (12, 0, 32, 20))
    assert plan_resize_crop((48, 64), None) == ((48, 64), (0, 0, 48, 64))
    with pytest.raises(ValueError, match="size=0"):
        plan_resize_crop((48, 64), 0)


@pytest.mark.parametrize("source_size,size", [((240, 320), 32), ((48, 64), 48), ((21, 37), 64), ((100, 100), 32)])
def test_point_round_trip_input_source_input(source_size, size):
    g = Geometry.for_resize((0, 3, 6, 9), source_size, size)
    t, y, x = np.meshgrid(np.arange(4), np.arange(size), np.arange(size), indexing="ij")
    f, ys, xs = g.to_source(t, y, x)
    assert f.shape == t.shape and set(np.unique(f)) == {0, 3, 6, 9}
    t2, y2, x2 = g.from_source(f, ys, xs)
    np.testing.assert_array_equal(t2, t)
    np.testing.assert_allclose(y2, y, atol=1e-9)
    np.testing.assert_allclose(x2, x, atol=1e-9)
    # every mapped point lies inside the source frame
    assert ys.min() >= -0.5 and ys.max() <= source_size[0] - 0.5
    assert xs.min() >= -0.5 and xs.max() <= source_size[1] - 0.5


def test_pixel_round_trip_when_downsampling():
    g = Geometry.for_resize((5, 6), (240, 320), 32)  # scale 32/240
    t, y, x = np.meshgrid(np.arange(2), np.arange(32), np.arange(32), indexing="ij")
    f, ys, xs = g.to_source_pixel(t, y, x)
    assert ys.dtype == np.int64 and ys.max() < 240 and xs.max() < 320
    t2, y2, x2 = g.from_source_pixel(f, ys, xs)
    np.testing.assert_array_equal(np.stack([t2, y2, x2]), np.stack([t, y, x]))


def test_known_numbers():
    g = Geometry.for_resize((0,), (60, 80), 30)  # resized 30x40, crop x0 = 5, scale 0.5
    assert g.scale == (0.5, 0.5) and g.input_size == (30, 30)
    assert g.source_box == (0.0, 10.0, 60.0, 70.0)
    f, ys, xs = g.to_source(0, 0, 0)
    assert (int(f), float(ys), float(xs)) == (0, 0.5, 10.5)  # center of the 2x2 source block (0..1, 10..11)
    assert g.box_to_source((2, 3, 4, 7)) == (4.0, 16.0, 8.0, 24.0)
    assert g.box_from_source((4.0, 16.0, 8.0, 24.0)) == (2.0, 3.0, 4.0, 7.0)


def test_box_round_trip_and_frames():
    g = Geometry.for_resize((2, 4, 6, 8), (37, 53), 16)
    box = (1.0, 2.0, 9.0, 15.0)
    np.testing.assert_allclose(g.box_from_source(g.box_to_source(box)), box, atol=1e-9)
    assert g.frames_to_source(1, 3) == (4, 6)
    with pytest.raises(ValueError, match=r"\[3, 5\)"):
        g.frames_to_source(3, 5)


def test_errors_name_the_problem():
    g = Geometry.for_resize((0, 2), (60, 80), 30)
    with pytest.raises(ValueError, match="not sampled"):
        g.from_source(1, 5, 5)
    with pytest.raises(ValueError, match="outside the model input"):
        g.from_source_pixel(0, 5, 2)  # source x = 2 lies left of the crop (x0 = 10 in source pixels)
    with pytest.raises(ValueError, match="outside the 2 input frames"):
        g.to_source(2, 0, 0)
    with pytest.raises(ValueError, match="outside the 30×30"):
        g.to_source(0, 31, 0)


def test_padding_and_serialization():
    g = Geometry.for_resize((0, 1, 1, 1), (10, 12), 8, padded=(False, False, True, True))
    assert g.num_padded == 2
    t, _, _ = g.from_source(1, 0.0, 0.0)
    assert int(t) == 1  # the first input frame that shows source frame 1
    back = Geometry.from_dict(json.loads(json.dumps(g.to_dict())))
    assert back == g
    ident = Geometry.identity(3, 5, 7)
    assert ident.frame_indices == (0, 1, 2) and ident.scale == (1.0, 1.0) and ident.padded == (False,) * 3
