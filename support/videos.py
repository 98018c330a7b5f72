"""Test inputs: write RGB uint8 frames as a video file, through OpenCV (MJPG/VP80/mp4v …) or PyAV (H.264)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np
import pytest


def write_cv2(path: Path, frames: Iterable[np.ndarray], fourcc: str = "MJPG", fps: float = 10.0) -> Path:
    """``frames`` (each (H, W, 3) RGB uint8, equal sizes) with cv2.VideoWriter and ``fourcc``."""
    frames = list(frames)
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    assert writer.isOpened(), f"cv2 cannot write {fourcc}"
    for f in frames:
        writer.write(cv2.cvtColor(f, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def write_h264(path: Path, frames: Iterable[np.ndarray], fps: int = 10) -> Path:
    """``frames`` (each (H, W, 3) RGB uint8, equal even sizes) as H.264 (libx264, yuv420p) through PyAV."""
    av = pytest.importorskip("av")
    frames = list(frames)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path
