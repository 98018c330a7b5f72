"""Frame transforms: short-side resize + center crop (recorded by :class:`Geometry`), normalization, tensors.

Frames are uint8 RGB with channels last, ``(..., H, W, 3)``. Model inputs are float32, channels first:
``(B, 3, T, H, W)`` for video, ``(B, 3, H, W)`` for images, ``(x / 255 - mean) / std`` per channel.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

#: ImageNet statistics of RGB values in [0, 1] (the convention of torchvision, timm, mmaction2 ×255).
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def resize_crop(frame: np.ndarray, resized_size: tuple[int, int], crop_box: tuple[int, int, int, int]) -> np.ndarray:
    """Resize one (H0, W0, 3) frame to ``resized_size`` (area filter when shrinking, bilinear when growing),
    then cut ``crop_box`` (y0, x0, y1, x1). Returns a contiguous uint8 array."""
    import cv2

    hr, wr = resized_size
    if frame.shape[:2] != (hr, wr):
        shrink = hr * wr < frame.shape[0] * frame.shape[1]
        frame = cv2.resize(frame, (wr, hr), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    y0, x0, y1, x1 = crop_box
    return np.ascontiguousarray(frame[y0:y1, x0:x1])


def check_stats(mean: Sequence[float], std: Sequence[float]) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Validate per-channel mean/std (3 numbers each, std > 0) and return them as float tuples."""
    mean, std = tuple(float(m) for m in mean), tuple(float(s) for s in std)
    if len(mean) != 3 or len(std) != 3 or min(std) <= 0:
        raise ValueError(f"mean={mean} and std={std} must be 3 numbers each (R, G, B) with std > 0")
    return mean, std


def normalize(
    frames: np.ndarray, mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD
) -> np.ndarray:
    """uint8 (..., 3) RGB → float32 (..., 3): ``(x / 255 - mean) / std``."""
    if frames.dtype != np.uint8 or frames.shape[-1] != 3:
        raise ValueError(f"expected uint8 RGB frames (..., 3), got dtype {frames.dtype} shape {frames.shape}")
    mean, std = check_stats(mean, std)
    scale = np.float32(1 / 255) / np.asarray(std, np.float32)  # (3,)
    shift = np.asarray(mean, np.float32) / np.asarray(std, np.float32)  # (3,)
    return frames.astype(np.float32) * scale - shift


def to_tensor(frames: np.ndarray, mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD) -> Tensor:
    """Batched uint8 frames (B, ..., 3) → normalized float32 (B, 3, ...), channels moved to axis 1.

    (B, T, H, W, 3) gives a video batch (B, 3, T, H, W); (B, H, W, 3) an image batch (B, 3, H, W).
    """
    if frames.ndim < 3:
        raise ValueError(f"to_tensor expects batched frames (B, ..., 3), got shape {frames.shape}")
    x = torch.from_numpy(normalize(frames, mean, std))  # (B, ..., 3)
    return x.movedim(-1, 1).contiguous()  # (B, 3, ...)
