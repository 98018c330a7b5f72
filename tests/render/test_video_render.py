"""MP4 output: H.264 that cv2 decodes back to the right number of frames and size."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest
import torch

from nlviz.data import encode_mp4
from nlviz.export.files import write_mp4
from nlviz.extract.geometry import AffinityGeometry, GridGeometry
from nlviz.ops.base import Affinity
from nlviz.render.scene import make_scene
from nlviz.render.video import video_frames


def test_h264_mp4_decodes_to_every_frame(tmp_path):
    frames = [np.full((34, 50, 3), 20 * i, np.uint8) for i in range(6)]
    path = write_mp4(tmp_path / "v.mp4", frames, fps=5)
    cap = cv2.VideoCapture(str(path))
    got = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        got.append(f)
    assert len(got) == 6 and got[0].shape == (34, 50, 3)
    assert abs(int(got[3].mean()) - 60) <= 3
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        assert s.codec_context.name == "h264" and s.codec_context.pix_fmt == "yuv420p"
        assert float(s.average_rate) == 5.0
    assert [p.name for p in tmp_path.iterdir()] == ["v.mp4"]  # no temp file left


def test_odd_sizes_are_refused(tmp_path):
    with pytest.raises(ValueError, match="even width and height"):
        encode_mp4([np.zeros((33, 50, 3), np.uint8)], tmp_path / "x.mp4")


def test_video_frames_one_per_input_frame_with_even_size():
    t, h, w = 3, 12, 12
    geo = AffinityGeometry(GridGeometry((t, h, w), (t, 3, 3)), GridGeometry((t, h, w), (t, 3, 3)))
    aff = Affinity(
        weights=torch.rand(1, 1, 2, t, 3, 3),
        queries=torch.tensor([[0, 0, 0], [2, 1, 1]]),
        query_grid=(t, 3, 3),
        key_grid=(t, 3, 3),
        normalized=True,
        kind="softmax",
        geometry=geo,
    )
    frames = np.zeros((t, h, w, 3), np.uint8)
    scenes = [make_scene(frames, aff, i) for i in range(2)]
    out = video_frames(scenes, title="x", panel_size=30)
    assert len(out) == t and all(o.shape == out[0].shape for o in out)
    assert out[0].shape[0] % 2 == 0 and out[0].shape[1] % 2 == 0
    assert not np.array_equal(out[0], out[1])  # each frame shows its own key frame's map
