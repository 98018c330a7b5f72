"""The ``input`` a converted model's card records: shape, normalization and sampling of what the model expects."""

from __future__ import annotations

import re
from typing import Any

from nlviz.io.layouts.records import Checkpoint
from nlviz.io.layouts.variants import config_value

IMAGENET_INPUT = {
    "shape": [3, 224, 224],
    "mean": [0.485, 0.456, 0.406],
    "std": [0.229, 0.224, 0.225],
    "channels": "RGB",
}


def image_input(num_classes: int) -> dict[str, Any]:
    """ImageNet normalization; 448×448 for the 200-class CUB-200 models of the CGNL release, else 224×224."""
    return {**IMAGENET_INPUT, "shape": [3, 448, 448] if num_classes == 200 else [3, 224, 224]}


def video_input(ckpt: Checkpoint, frames: int, mean: list[float], std: list[float], sampling: str) -> dict[str, Any]:
    """The card's ``input``: shape (3, T, 224, 224) with T from the file name (``32x2x1``, ``8x8``) or the stored
    config (``clip_len``, ``NUM_FRAMES``) when present; mean/std for ``(x / 255 - mean) / std``."""
    m = re.search(r"(?<![\dx])(\d+)x(\d+)(?:x\d+)?(?![\d])", ckpt.filename)
    stored = config_value(ckpt.text, "clip_len") or config_value(ckpt.text, "NUM_FRAMES")
    t = int(m[1]) if m else int(stored) if stored and stored.isdigit() else frames
    return {"shape": [3, t, 224, 224], "mean": mean, "std": std, "channels": "RGB", "sampling": sampling}
