"""``Clip``: the model-input frames of one video, image or frame folder, with where they came from."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from torch import Tensor

from nlviz.data.geometry import Geometry
from nlviz.data.transforms import IMAGENET_MEAN, IMAGENET_STD, to_tensor


@dataclass
class Clip:
    """Model-input frames plus the record that maps them back to the source.

    Attributes:
        frames: uint8 (T, H, W, 3) RGB, after resize and crop (H = W = ``size`` when a size was given).
        geometry: source frame of every t, source size, resize scale and crop box (:class:`Geometry`).
        source: path of the video, image or frame folder.
        fps: frames per second of the source video; None when unknown (images, frame folders).
        source_frames: uint8 (T, H0, W0, 3) original frames when read with ``keep_source=True``, else None.
    """

    frames: np.ndarray
    geometry: Geometry
    source: str
    fps: float | None = None
    source_frames: np.ndarray | None = None

    def __post_init__(self) -> None:
        f = self.frames
        if f.dtype != np.uint8 or f.ndim != 4 or f.shape[-1] != 3:
            raise ValueError(f"Clip.frames must be uint8 (T, H, W, 3), got dtype {f.dtype} shape {f.shape}")
        if f.shape[0] != self.geometry.num_frames or f.shape[1:3] != self.geometry.input_size:
            raise ValueError(
                f"Clip.frames {f.shape[:3]} disagree with the geometry ({self.geometry.num_frames}, *{self.geometry.input_size})"
            )

    @property
    def num_frames(self) -> int:
        return self.frames.shape[0]

    @property
    def size(self) -> tuple[int, int]:
        """(H, W) of the model-input frames."""
        return self.frames.shape[1:3]

    def to_tensor(self, mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD) -> Tensor:
        """The video-model input: float32 (1, C, T, H, W), ``(x / 255 - mean) / std``; C = len(mean) (3 = RGB,
        1 = the frames' luma)."""
        return to_tensor(self.frames[None], mean, std)

    def image_tensor(
        self, t: int = 0, mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD
    ) -> Tensor:
        """The image-model input from frame ``t``: float32 (1, C, H, W), C = len(mean) as in :meth:`to_tensor`."""
        if not 0 <= t < self.num_frames:
            raise ValueError(f"t={t} outside the clip's {self.num_frames} frame(s)")
        return to_tensor(self.frames[t][None], mean, std)
