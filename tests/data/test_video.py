"""Reading videos, images and frame folders into Clips, and every bad-input error."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from nlviz.data import InputError, input_kind, read_clip, read_frames_folder, read_image, read_video
from support import videos

H, W = 48, 64  # source frames: landscape, so the short-side resize and the center crop both act


def frame(i: int) -> np.ndarray:
    """RGB frame whose gray level encodes its index (12·i), with a bright 8×8 block at a fixed place."""
    f = np.full((H, W, 3), 12 * i, dtype=np.uint8)
    f[16:24, 40:48] = 255
    return f


def write_cv2(path: Path, n: int, fourcc: str = "MJPG") -> Path:
    return videos.write_cv2(path, [frame(i) for i in range(n)], fourcc)


def write_h264(path: Path, n: int) -> Path:
    return videos.write_h264(path, [frame(i) for i in range(n)])


def gray_levels(clip) -> list[int]:
    """Recover the source index of each clip frame from its gray level (away from the bright block)."""
    return [int(round(float(f[:6, :6].mean()) / 12)) for f in clip.frames]


@pytest.mark.parametrize("kind", ["avi", "webm", "mov", "mp4"])
def test_read_video_formats_uniform(tmp_path, kind):
    n = 16
    if kind == "avi":
        p = write_cv2(tmp_path / "v.avi", n)
    elif kind == "webm":
        p = write_cv2(tmp_path / "v.webm", n, "VP80")
    elif kind == "mov":
        p = write_cv2(tmp_path / "v.mov", n, "mp4v")
    else:
        p = write_h264(tmp_path / "v.mp4", n)
    clip = read_video(p, frames=4, size=24)
    assert clip.frames.shape == (4, 24, 24, 3) and clip.frames.dtype == np.uint8
    assert clip.geometry.frame_indices == (2, 6, 10, 14)
    assert gray_levels(clip) == [2, 6, 10, 14]
    assert clip.fps == pytest.approx(10.0)
    assert clip.source == str(p)
    assert clip.to_tensor().shape == (1, 3, 4, 24, 24)


def test_stride_keep_source_and_geometry_lands_on_the_block(tmp_path):
    p = write_cv2(tmp_path / "v.avi", 12)
    clip = read_clip(p, frames=3, stride=4, start=1, size=24, keep_source=True)
    assert clip.geometry.frame_indices == (1, 5, 9) and gray_levels(clip) == [1, 5, 9]
    assert clip.source_frames.shape == (3, H, W, 3)
    g = clip.geometry  # 48x64 → 24x32, crop x0 = 4
    assert g.resized_size == (24, 32) and g.crop_box == (0, 4, 24, 28)
    y0, x0, y1, x1 = (int(v) for v in g.box_from_source((16, 40, 24, 48)))
    assert (y0, x0, y1, x1) == (8, 16, 12, 20)
    inside = clip.frames[:, y0 + 1 : y1 - 1, x0 + 1 : x1 - 1].astype(int)
    assert inside.min() > 200  # the bright block, where the geometry says it is


def test_short_video_pad_policies(tmp_path):
    p = write_cv2(tmp_path / "short.avi", 3)
    clip = read_video(p, frames=5, size=16)
    assert clip.geometry.frame_indices == (0, 1, 2, 2, 2)
    assert clip.geometry.padded == (False, False, False, True, True)
    np.testing.assert_array_equal(clip.frames[4], clip.frames[2])
    with pytest.raises(InputError, match=r"short\.avi: has 3 frame\(s\) but 5 frames"):
        read_video(p, frames=5, pad="error")


def test_image_and_folder(tmp_path):
    png = tmp_path / "img.png"
    cv2.imwrite(str(png), cv2.cvtColor(frame(7), cv2.COLOR_RGB2BGR))
    clip = read_image(png, size=24)
    assert clip.frames.shape == (1, 24, 24, 3) and clip.fps is None
    assert clip.image_tensor().shape == (1, 3, 24, 24)
    assert read_clip(png, frames=4, size=24).geometry.padded == (False, True, True, True)
    with pytest.raises(InputError, match="img.png: has 1 frame"):
        read_clip(png, frames=4, pad="error")

    folder = tmp_path / "frames"
    folder.mkdir()
    for i in range(11):  # names sort naturally: f2 before f10
        cv2.imwrite(str(folder / f"f{i}.png"), cv2.cvtColor(frame(i), cv2.COLOR_RGB2BGR))
    (folder / "notes.txt").write_text("ignored")
    clip = read_frames_folder(folder, frames=None, stride=5, size=16)
    assert clip.geometry.frame_indices == (0, 5, 10) and gray_levels(clip) == [0, 5, 10]
    assert input_kind(folder) == "folder" and input_kind(png) == "image"
    assert read_clip(folder, frames=2, size=16).geometry.frame_indices == (2, 8)


def test_bad_inputs_name_the_file_and_problem(tmp_path):
    with pytest.raises(InputError, match="nope.mp4: file not found"):
        read_video(tmp_path / "nope.mp4")
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty.mp4: is empty \(0 bytes\)"):
        read_video(empty)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with pytest.raises(InputError, match="junk.mp4: cannot be opened as a video"):
        read_video(junk)
    zero = tmp_path / "zero.avi"
    cv2.VideoWriter(str(zero), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (W, H)).release()
    with pytest.raises(InputError, match=r"zero.avi: contains no frames \(zero-frame video\)"):
        read_video(zero)
    png = tmp_path / "img.png"
    cv2.imwrite(str(png), frame(1))
    with pytest.raises(InputError, match="img.png: is an image, but a video is required"):
        read_video(png)
    disguised = tmp_path / "disguised.mp4"
    disguised.write_bytes(png.read_bytes())
    with pytest.raises(InputError, match="disguised.mp4: is an image, but a video is required"):
        read_video(disguised)
    with pytest.raises(InputError, match="is a folder, but a video file is required"):
        read_video(tmp_path)
    bad_png = tmp_path / "bad.png"
    bad_png.write_bytes(png.read_bytes()[:20])
    with pytest.raises(InputError, match="bad.png: cannot be decoded as an image"):
        read_image(bad_png)


def test_truncated_video(tmp_path):
    p = write_cv2(tmp_path / "full.avi", 20)
    cut = tmp_path / "cut.avi"
    cut.write_bytes(p.read_bytes()[: p.stat().st_size * 4 // 5])  # header + about 12 of the 20 frames
    with pytest.raises(InputError, match=r"cut.avi: is truncated or corrupt: the container reports 20 frames"):
        read_video(cut, frames=4)
    clip = read_video(cut, frames=4, strict=False)  # uses the frames that decode
    assert len(clip.frames) == 4 and max(clip.geometry.frame_indices) < 17
    mp4 = write_h264(tmp_path / "full.mp4", 8)
    cut_mp4 = tmp_path / "cut.mp4"
    cut_mp4.write_bytes(mp4.read_bytes()[: mp4.stat().st_size // 2])
    with pytest.raises(InputError, match="cut.mp4: cannot be opened as a video"):
        read_video(cut_mp4)


def test_folder_errors(tmp_path):
    with pytest.raises(InputError, match="contains no image files"):
        read_frames_folder(tmp_path)
    for i, shape in enumerate([(8, 8, 3), (8, 9, 3)]):
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.zeros(shape, np.uint8))
    with pytest.raises(InputError, match=r"1.png: has size \(8, 9\) but 0.png has \(8, 8\)"):
        read_frames_folder(tmp_path, frames=2)
