"""Encoding frames for browsers and files: RGB uint8 images → PNG bytes, and frame lists → H.264 MP4.

PNG goes through OpenCV's encoder (the bytes depend only on the pixels). MP4 uses PyAV (libx264, yuv420p — what
browsers and ``st.video`` play; OpenCV's mp4v does not play in browsers, and its avc1 writer has no x264 in the
wheel); yuv420p needs even widths and heights.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np


def png_bytes(image: np.ndarray) -> bytes:
    """RGB (or gray) uint8 image → PNG bytes."""
    import cv2

    if image.dtype != np.uint8:
        raise ValueError(f"PNG images must be uint8, got {image.dtype}")
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    ok, buf = cv2.imencode(".png", bgr)
    if not ok:
        raise ValueError(f"OpenCV could not encode an image of shape {image.shape} as PNG")
    return buf.tobytes()


def encode_mp4(frames: list[np.ndarray], path: str | Path, fps: float = 4.0, crf: int = 20) -> Path:
    """Write RGB uint8 frames (equal, even sizes) as H.264 (libx264, yuv420p) MP4 at ``fps``."""
    import av

    if not frames:
        raise ValueError("encode_mp4: no frames")
    h, w = frames[0].shape[:2]
    if h % 2 or w % 2:
        raise ValueError(f"H.264 yuv420p needs even width and height, got {w}×{h}")
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.options = {"crf": str(crf), "preset": "veryfast", "threads": "1"}
        for image in frames:
            if image.shape[:2] != (h, w):
                raise ValueError(f"encode_mp4: frame of size {image.shape[:2]} differs from the first {(h, w)}")
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return Path(path)
