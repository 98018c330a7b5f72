"""The class-per-folder dataset: classes, items, labels, batches and its errors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from nlviz.data import FolderDataset, InputError


def _video(path, n, level):
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 8.0, (40, 30))
    for _ in range(n):
        w.write(np.full((30, 40, 3), level, np.uint8))
    w.release()


def test_classes_items_and_batch(tmp_path):
    (tmp_path / "cats").mkdir()
    (tmp_path / "dogs").mkdir()
    (tmp_path / ".hidden").mkdir()
    _video(tmp_path / "cats" / "a.avi", 6, 40)
    cv2.imwrite(str(tmp_path / "cats" / "b.png"), np.full((30, 40, 3), 90, np.uint8))
    (tmp_path / "cats" / "readme.txt").write_text("skipped")
    frames = tmp_path / "dogs" / "clip1"
    frames.mkdir()
    for i in range(5):
        cv2.imwrite(str(frames / f"{i}.png"), np.full((30, 40, 3), 200, np.uint8))
    ds = FolderDataset(tmp_path, frames=4, size=16)
    assert ds.class_names == ("cats", "dogs") and ds.num_classes == 2 and len(ds) == 3
    assert [(p.name, label) for p, label in ds.items] == [("a.avi", 0), ("b.png", 0), ("clip1", 1)]
    clip, label = ds[2]
    assert label == 1 and clip.frames.shape == (4, 16, 16, 3) and clip.geometry.frame_indices == (0, 1, 3, 4)
    assert ds[1][0].geometry.padded == (False, True, True, True)  # an image repeated to T frames
    x, y = ds.batch([0, 1, 2])
    assert x.shape == (3, 3, 4, 16, 16) and y.tolist() == [0, 0, 1]
    red = (np.array([40, 90, 200]) / 255 - 0.485) / 0.229
    np.testing.assert_allclose(x[:, 0].mean((1, 2, 3)).numpy(), red, atol=0.05)  # MJPG is lossy


def test_errors(tmp_path):
    with pytest.raises(InputError, match="missing: file not found"):
        FolderDataset(tmp_path / "missing")
    with pytest.raises(InputError, match="has no class sub-folders"):
        FolderDataset(tmp_path)
    (tmp_path / "empty_class").mkdir()
    with pytest.raises(InputError, match="empty_class: class folder contains no videos"):
        FolderDataset(tmp_path)
    with pytest.raises(ValueError, match="pad='wrap'"):
        FolderDataset(tmp_path, pad="wrap")
