"""Frame transforms: short-side resize + center crop (recorded by :class:`Geometry`), normalization, tensors.

Frames are uint8 RGB with channels last, ``(..., H, W, 3)``. Model inputs are float32, channels first:
``(B, C, T, H, W)`` for video, ``(B, C, H, W)`` for images, ``(x / 255 - mean) / std`` per channel, with C = 3
(RGB) or 1 (grayscale: the frames' luma, :func:`to_channels`).
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


def check_stats(
    mean: Sequence[float], std: Sequence[float], channels: int = 3
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Validate per-channel mean/std (``channels`` numbers each, std > 0) and return them as float tuples."""
    mean, std = tuple(float(m) for m in mean), tuple(float(s) for s in std)
    if len(mean) != channels or len(std) != channels or min(std) <= 0:
        names = "R, G, B" if channels == 3 else "gray" if channels == 1 else f"{channels} channels"
        count = f"{channels} numbers each" if channels > 1 else "1 number each"
        raise ValueError(f"mean={mean} and std={std} must be {count} ({names}) with std > 0")
    return mean, std


def to_channels(frames: np.ndarray, channels: int) -> np.ndarray:
    """uint8 RGB frames (..., 3) → (..., ``channels``): 3 keeps them, 1 takes the luma
    round(0.299 R + 0.587 G + 0.114 B) (ITU-R 601, as OpenCV's RGB2GRAY)."""
    if frames.dtype != np.uint8 or frames.shape[-1] != 3:
        raise ValueError(f"expected uint8 RGB frames (..., 3), got dtype {frames.dtype} shape {frames.shape}")
    if channels == 3:
        return frames
    if channels == 1:
        luma = frames.astype(np.float32) @ np.asarray([0.299, 0.587, 0.114], np.float32)  # (...,)
        return np.clip(np.rint(luma), 0, 255).astype(np.uint8)[..., None]
    raise ValueError(f"channels={channels}: frames convert to 3 (RGB) or 1 (grayscale) channels")


def normalize(
    frames: np.ndarray, mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD
) -> np.ndarray:
    """uint8 (..., C) frames → float32 (..., C): ``(x / 255 - mean) / std``, one mean/std per channel."""
    if frames.dtype != np.uint8 or frames.ndim < 1:
        raise ValueError(f"expected uint8 frames (..., C), got dtype {frames.dtype} shape {frames.shape}")
    mean, std = check_stats(mean, std, frames.shape[-1])
    scale = np.float32(1 / 255) / np.asarray(std, np.float32)  # (C,)
    shift = np.asarray(mean, np.float32) / np.asarray(std, np.float32)  # (C,)
    return frames.astype(np.float32) * scale - shift


def to_tensor(frames: np.ndarray, mean: Sequence[float] = IMAGENET_MEAN, std: Sequence[float] = IMAGENET_STD) -> Tensor:
    """Batched uint8 frames (B, ..., C) → normalized float32 (B, C, ...), channels moved to axis 1.

    (B, T, H, W, C) gives a video batch (B, C, T, H, W); (B, H, W, C) an image batch (B, C, H, W). C is the
    number of mean/std values: RGB frames are converted to it first (:func:`to_channels`).
    """
    if frames.ndim < 3:
        raise ValueError(f"to_tensor expects batched frames (B, ..., C), got shape {frames.shape}")
    channels = len(tuple(mean))
    if frames.shape[-1] == 3 and channels != 3:
        frames = to_channels(frames, channels)
    x = torch.from_numpy(normalize(frames, mean, std))  # (B, ..., C)
    return x.movedim(-1, 1).contiguous()  # (B, C, ...)
