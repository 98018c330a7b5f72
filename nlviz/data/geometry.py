"""Where each model-input pixel came from: the sampled source frames, the resize scale and the crop box.

Conventions (shared by every method):

- **points** use pixel centers: integer ``y`` is the center of row ``y``, in the input and in the source;
- **boxes** use pixel edges ``(y0, x0, y1, x1)`` with the end excluded, so ``(0, 0, H, W)`` is a whole image.

A frame of source size (H0, W0) is resized to (Hr, Wr) (scale ``sy = Hr / H0``, ``sx = Wr / W0``) and then
cropped to ``crop_box`` in the resized frame. With cv2.resize's half-pixel convention the input point
``y`` comes from the source point ``(y + cy0 + 0.5) / sy - 0.5`` and an input edge ``e`` from the source edge
``(e + cy0) / sy``. Model-input frame ``t`` is source frame ``frame_indices[t]``; ``padded[t]`` marks frames
that repeat an earlier one because the source had too few frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

Box = tuple[float, float, float, float]


def plan_resize_crop(
    source_size: tuple[int, int], size: int | None
) -> tuple[tuple[int, int], tuple[int, int, int, int]]:
    """Resize the short side to ``size`` (aspect kept, long side rounded) and center-crop ``size``×``size``.

    Returns ``(resized_size, crop_box)``; ``size=None`` keeps the frame as it is.
    """
    h0, w0 = source_size
    if size is None:
        return (h0, w0), (0, 0, h0, w0)
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:
        raise ValueError(f"size={size!r} must be a positive integer (the side of the square model input) or None")
    if h0 <= w0:
        hr, wr = size, max(size, round(w0 * size / h0))
    else:
        hr, wr = max(size, round(h0 * size / w0)), size
    y0, x0 = (hr - size) // 2, (wr - size) // 2
    return (hr, wr), (y0, x0, y0 + size, x0 + size)


@dataclass(frozen=True)
class Geometry:
    """The record that maps model-input pixels (t, y, x) to source frames and pixels, and back.

    Attributes:
        frame_indices: source frame index of each model-input frame t (for a folder of frames: the index
            in its natural-sorted file list).
        source_size: (H0, W0) of the source frames.
        resized_size: (Hr, Wr) after the short-side resize.
        crop_box: (y0, x0, y1, x1) of the model input inside the resized frame.
        padded: per t, True when the frame repeats an earlier one because the source was too short.
    """

    frame_indices: tuple[int, ...]
    source_size: tuple[int, int]
    resized_size: tuple[int, int]
    crop_box: tuple[int, int, int, int]
    padded: tuple[bool, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "frame_indices", tuple(int(i) for i in self.frame_indices))
        object.__setattr__(self, "padded", tuple(bool(p) for p in self.padded) or (False,) * len(self.frame_indices))
        if len(self.padded) != len(self.frame_indices):
            raise ValueError(f"padded has {len(self.padded)} entries but there are {len(self.frame_indices)} frames")
        y0, x0, y1, x1 = self.crop_box
        hr, wr = self.resized_size
        if not (0 <= y0 < y1 <= hr and 0 <= x0 < x1 <= wr):
            raise ValueError(f"crop_box {self.crop_box} does not fit in the resized frame {self.resized_size}")

    # ------------------------------------------------------------------ constructors
    @classmethod
    def identity(cls, frames: int, height: int, width: int) -> Geometry:
        """Frames used as they are (synthetic clips): t ↔ frame t, pixel ↔ the same pixel."""
        return cls(tuple(range(frames)), (height, width), (height, width), (0, 0, height, width))

    @classmethod
    def for_resize(
        cls,
        frame_indices: tuple[int, ...],
        source_size: tuple[int, int],
        size: int | None,
        padded: tuple[bool, ...] = (),
    ) -> Geometry:
        """The record of a short-side resize to ``size`` and a center crop (see :func:`plan_resize_crop`)."""
        resized, crop = plan_resize_crop(source_size, size)
        return cls(tuple(frame_indices), tuple(source_size), resized, crop, tuple(padded))

    # ------------------------------------------------------------------ properties
    @property
    def num_frames(self) -> int:
        return len(self.frame_indices)

    @property
    def input_size(self) -> tuple[int, int]:
        """(H, W) of the model input."""
        y0, x0, y1, x1 = self.crop_box
        return (y1 - y0, x1 - x0)

    @property
    def scale(self) -> tuple[float, float]:
        """(sy, sx): resized pixels per source pixel."""
        return (self.resized_size[0] / self.source_size[0], self.resized_size[1] / self.source_size[1])

    @property
    def num_padded(self) -> int:
        return sum(self.padded)

    @property
    def source_box(self) -> Box:
        """The region of the source frame the model input covers, (y0, x0, y1, x1) in source pixel edges."""
        return self.box_to_source((0, 0, *self.input_size))

    # ------------------------------------------------------------------ input → source
    def to_source(self, t: Any, y: Any, x: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Input points (t, y, x) → (source frame index, source y, source x) as float pixel centers.

        Arguments are scalars or arrays of equal shape (broadcast); t, y, x must lie inside the input.
        """
        t, y, x = self._check_input_point(t, y, x)
        (sy, sx), (cy, cx) = self.scale, self.crop_box[:2]
        frames = np.asarray(self.frame_indices)[t]
        return frames, (y + cy + 0.5) / sy - 0.5, (x + cx + 0.5) / sx - 0.5

    def to_source_pixel(self, t: Any, y: Any, x: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Like :meth:`to_source` but rounded to the nearest source pixel (integer arrays)."""
        f, ys, xs = self.to_source(t, y, x)
        h0, w0 = self.source_size
        return (
            f,
            np.clip(np.floor(ys + 0.5), 0, h0 - 1).astype(np.int64),
            np.clip(np.floor(xs + 0.5), 0, w0 - 1).astype(np.int64),
        )

    def box_to_source(self, box: Box) -> Box:
        """An input box (y0, x0, y1, x1) in pixel edges → the source box it was resampled from."""
        y0, x0, y1, x1 = box
        (sy, sx), (cy, cx) = self.scale, self.crop_box[:2]
        return ((y0 + cy) / sy, (x0 + cx) / sx, (y1 + cy) / sy, (x1 + cx) / sx)

    def frames_to_source(self, t0: int, t1: int) -> tuple[int, ...]:
        """Source frame indices of the input frames t0 ≤ t < t1 (a feature cell's temporal extent)."""
        if not 0 <= t0 < t1 <= self.num_frames:
            raise ValueError(f"frame range [{t0}, {t1}) is not inside the {self.num_frames} input frames")
        return self.frame_indices[t0:t1]

    # ------------------------------------------------------------------ source → input
    def from_source(self, frame: Any, ys: Any, xs: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Source points (frame index, y, x) → input (t, y, x) as floats; t is the first input frame showing
        that source frame. A source frame that was not sampled is a ValueError; points outside the crop
        come back outside [0, H) × [0, W)."""
        frame = np.asarray(frame)
        first = {}
        for t, f in enumerate(self.frame_indices):
            first.setdefault(f, t)
        missing = sorted(set(np.unique(frame).tolist()) - set(first))
        if missing:
            raise ValueError(f"source frame(s) {missing} were not sampled; sampled frames: {sorted(first)}")
        t = np.vectorize(first.__getitem__, otypes=[np.int64])(frame) if frame.ndim else np.int64(first[int(frame)])
        (sy, sx), (cy, cx) = self.scale, self.crop_box[:2]
        return (
            t,
            (np.asarray(ys, dtype=float) + 0.5) * sy - 0.5 - cy,
            (np.asarray(xs, dtype=float) + 0.5) * sx - 0.5 - cx,
        )

    def from_source_pixel(self, frame: Any, ys: Any, xs: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Like :meth:`from_source` but rounded to input pixels; a point the crop cut away is a ValueError."""
        t, y, x = self.from_source(frame, ys, xs)
        y, x = np.floor(y + 0.5).astype(np.int64), np.floor(x + 0.5).astype(np.int64)
        h, w = self.input_size
        if np.any((y < 0) | (y >= h) | (x < 0) | (x >= w)):
            raise ValueError(
                f"source point(s) fall outside the model input: the crop keeps source box {self.source_box}"
            )
        return t, y, x

    def box_from_source(self, box: Box) -> Box:
        """A source box (y0, x0, y1, x1) in pixel edges → the input box (may extend beyond the crop)."""
        y0, x0, y1, x1 = box
        (sy, sx), (cy, cx) = self.scale, self.crop_box[:2]
        return (y0 * sy - cy, x0 * sx - cx, y1 * sy - cy, x1 * sx - cx)

    # ------------------------------------------------------------------ serialization
    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (lists, ints, bools)."""
        return {
            "frame_indices": list(self.frame_indices),
            "source_size": list(self.source_size),
            "resized_size": list(self.resized_size),
            "crop_box": list(self.crop_box),
            "padded": list(self.padded),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Geometry:
        return cls(
            tuple(d["frame_indices"]),
            tuple(d["source_size"]),
            tuple(d["resized_size"]),
            tuple(d["crop_box"]),
            tuple(d["padded"]),
        )

    def _check_input_point(self, t: Any, y: Any, x: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        t = np.asarray(t)
        y, x = np.asarray(y, dtype=float), np.asarray(x, dtype=float)
        h, w = self.input_size
        if t.dtype.kind not in "iu":
            raise ValueError(f"t must be integer frame indices, got dtype {t.dtype}")
        if np.any((t < 0) | (t >= self.num_frames)):
            raise ValueError(f"t={t.tolist()} outside the {self.num_frames} input frames")
        if np.any((y < -0.5) | (y > h - 0.5) | (x < -0.5) | (x > w - 0.5)):
            raise ValueError(f"point(s) outside the {h}×{w} model input")
        return t, y, x
