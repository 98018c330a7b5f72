"""Read videos (any format OpenCV's FFmpeg reads: mp4, webm, avi, mov…), images and frame folders as a Clip.

Every reader samples T frames (see :mod:`nlviz.data.sampling` for stride / uniform sampling and the
``pad`` policy for short sources), resizes the short side to ``size`` and center-crops ``size``×``size``,
and records the geometry. Bad input raises :class:`InputError` naming the file and the problem: missing,
empty, unreadable, truncated, zero frames, an image where a video is required, frames of unequal size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nlviz.data.clip import Clip
from nlviz.data.errors import InputError
from nlviz.data.files import existing_file, input_kind, list_frame_files, looks_like_image
from nlviz.data.geometry import Geometry
from nlviz.data.sampling import check_sampling, sample_indices
from nlviz.data.transforms import resize_crop


def read_video(
    path: str | Path,
    *,
    frames: int | None = 8,
    stride: int | None = None,
    start: int = 0,
    size: int | None = None,
    pad: str = "repeat",
    strict: bool = True,
    keep_source: bool = False,
) -> Clip:
    """Read T frames of a video file.

    Args:
        frames, stride, start, pad: see :func:`nlviz.data.sampling.sample_indices`.
        size: short side resized to ``size`` then a center crop ``size``×``size``; None keeps the frames.
        strict: a video that decodes fewer frames than its container reports is an error ("truncated");
            with ``strict=False`` the frames that decode are used instead.
        keep_source: also keep the original sampled frames in ``Clip.source_frames``.
    """
    check_sampling(frames, stride, start, pad)
    p = existing_file(path, "video")
    if looks_like_image(p):
        raise InputError(p, "is an image, but a video is required (use read_image, or read_clip for any input)")
    cap = _open(p)
    try:
        fps = float(cap.get(_cv2().CAP_PROP_FPS)) or None
        reported = int(cap.get(_cv2().CAP_PROP_FRAME_COUNT))
    finally:
        cap.release()
    known = 0 < reported < 2**31
    total = reported if known else _count_frames(p)
    if total == 0:
        raise InputError(p, "contains no frames (zero-frame video)")
    indices, padded = sample_indices(total, frames, stride=stride, start=start, pad=pad, source=p)
    got, decoded = _decode(p, set(indices))
    if len(got) < len(set(indices)):
        if decoded == 0:
            raise InputError(p, "no frame could be decoded (corrupt or unsupported video)")
        if strict:
            raise InputError(
                p,
                f"is truncated or corrupt: the container reports {total} frames but decoding stopped after {decoded} "
                f"(strict=False uses the {decoded} readable frames)",
            )
        indices, padded = sample_indices(decoded, frames, stride=stride, start=start, pad=pad, source=p)
        got, _ = _decode(p, set(indices))
        if len(got) < len(set(indices)):
            raise InputError(p, "decodes differently on a second pass (corrupt video)")
    return _make_clip(p, [got[i] for i in indices], indices, padded, size, fps, keep_source)


def read_image(
    path: str | Path, *, size: int | None = None, frames: int = 1, pad: str = "repeat", keep_source: bool = False
) -> Clip:
    """Read one image (png, jpg, …) as a clip of ``frames`` frames (T = 1 by default; T > 1 repeats the
    image when ``pad="repeat"`` and is an InputError when ``pad="error"``)."""
    check_sampling(frames, None, 0, pad)
    p = existing_file(path, "image")
    indices, padded = sample_indices(1, frames, pad=pad, source=p)
    image = _read_image_file(p)
    return _make_clip(p, [image] * len(indices), indices, padded, size, None, keep_source)


def read_frames_folder(
    path: str | Path,
    *,
    frames: int | None = 8,
    stride: int | None = None,
    start: int = 0,
    size: int | None = None,
    pad: str = "repeat",
    keep_source: bool = False,
) -> Clip:
    """Read T frames from a folder of images, in natural file-name order (frame2 before frame10).

    ``Geometry.frame_indices`` index that sorted list (:func:`nlviz.data.files.list_frame_files`).
    """
    check_sampling(frames, stride, start, pad)
    files = list_frame_files(path)
    indices, padded = sample_indices(len(files), frames, stride=stride, start=start, pad=pad, source=path)
    cache = {i: _read_image_file(files[i]) for i in sorted(set(indices))}
    shapes = {i: im.shape for i, im in cache.items()}
    first = min(shapes)
    for i, shape in shapes.items():
        if shape != shapes[first]:
            raise InputError(
                files[i], f"has size {shape[:2]} but {files[first].name} has {shapes[first][:2]}; frames must match"
            )
    return _make_clip(Path(path), [cache[i] for i in indices], indices, padded, size, None, keep_source)


def read_clip(
    path: str | Path,
    *,
    frames: int | None = 8,
    stride: int | None = None,
    start: int = 0,
    size: int | None = None,
    pad: str = "repeat",
    strict: bool = True,
    keep_source: bool = False,
) -> Clip:
    """Read any input: a folder of frames, an image, or a video (dispatch on what the path is)."""
    kind = input_kind(path)
    if kind == "folder":
        return read_frames_folder(
            path, frames=frames, stride=stride, start=start, size=size, pad=pad, keep_source=keep_source
        )
    if kind == "image":
        return read_image(path, size=size, frames=frames or 1, pad=pad, keep_source=keep_source)
    return read_video(
        path, frames=frames, stride=stride, start=start, size=size, pad=pad, strict=strict, keep_source=keep_source
    )


# ---------------------------------------------------------------------- helpers
def _cv2():
    import cv2

    return cv2


def _open(p: Path):
    cap = _cv2().VideoCapture(str(p))
    if not cap.isOpened():
        cap.release()
        raise InputError(p, "cannot be opened as a video: unreadable, truncated, or a format FFmpeg does not know")
    return cap


def _count_frames(p: Path) -> int:
    """Decode-count the frames (for containers that do not report a count)."""
    cap = _open(p)
    try:
        n = 0
        while cap.grab():
            n += 1
        return n
    finally:
        cap.release()


def _decode(p: Path, wanted: set[int]) -> tuple[dict[int, np.ndarray], int]:
    """Decode sequentially up to max(wanted); returns {index: RGB frame} and how many frames decoded."""
    cv2 = _cv2()
    cap = _open(p)
    got: dict[int, np.ndarray] = {}
    n = 0
    try:
        while n <= max(wanted) and cap.grab():
            if n in wanted:
                ok, bgr = cap.retrieve()
                if not ok or bgr is None:
                    break
                got[n] = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            n += 1
    finally:
        cap.release()
    return got, n


def _read_image_file(p: Path) -> np.ndarray:
    """One image as uint8 RGB (H, W, 3); decodes from bytes so any path (unicode too) works."""
    cv2 = _cv2()
    p = existing_file(p, "image")
    data = np.fromfile(str(p), dtype=np.uint8)
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if bgr is None:
        raise InputError(p, "cannot be decoded as an image (corrupt, truncated or not an image)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _make_clip(
    p: Path,
    raw: list[np.ndarray],
    indices: tuple[int, ...],
    padded: tuple[bool, ...],
    size: int | None,
    fps: float | None,
    keep: bool,
) -> Clip:
    shape = raw[0].shape
    for f, i in zip(raw, indices):
        if f.shape != shape:
            raise InputError(
                p, f"frame {i} has size {f.shape[:2]} but frame {indices[0]} has {shape[:2]}; frames must match"
            )
    geometry = Geometry.for_resize(indices, shape[:2], size, padded)
    out = np.stack([resize_crop(f, geometry.resized_size, geometry.crop_box) for f in raw])  # (T, S, S, 3)
    source = np.stack(raw) if keep else None  # (T, H0, W0, 3)
    return Clip(frames=out, geometry=geometry, source=str(p), fps=fps, source_frames=source)
