"""A class-per-folder dataset of the user's own videos, images and frame folders.

Layout: ``root/<class name>/<item>``, where an item is a video file, an image file or a folder of frames.
Classes are the sub-folders of ``root`` in sorted order (label = position); items are sorted by name.
Hidden entries (starting with ".") and files of other types are skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor

from nlviz.data.clip import Clip
from nlviz.data.errors import InputError
from nlviz.data.files import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, existing, natural_key
from nlviz.data.sampling import check_sampling
from nlviz.data.transforms import IMAGENET_MEAN, IMAGENET_STD
from nlviz.data.video import read_clip


class FolderDataset:
    """``dataset[i]`` → (Clip, label), read on access with the reading options given here.

    Args:
        root: folder whose sub-folders are the classes.
        frames, stride, size, pad, strict: passed to :func:`nlviz.data.read_clip` (``size`` should be set
            so that every clip has the same S×S frames and ``batch`` can stack them).
        mean, std: normalization used by :meth:`batch`.
    """

    def __init__(
        self,
        root: str | Path,
        *,
        frames: int = 8,
        stride: int | None = None,
        size: int | None = 32,
        pad: str = "repeat",
        strict: bool = True,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
    ) -> None:
        check_sampling(frames, stride, 0, pad)
        self.root = existing(root)
        if not self.root.is_dir():
            raise InputError(self.root, "is not a folder (expected root/<class>/<video, image or frame folder>)")
        classes = sorted(
            (d for d in self.root.iterdir() if d.is_dir() and not d.name.startswith(".")), key=lambda d: d.name
        )
        if not classes:
            raise InputError(
                self.root, "has no class sub-folders (expected root/<class>/<video, image or frame folder>)"
            )
        self.class_names: tuple[str, ...] = tuple(d.name for d in classes)
        self.items: list[tuple[Path, int]] = []
        for label, d in enumerate(classes):
            found = [e for e in d.iterdir() if _is_item(e)]
            if not found:
                raise InputError(d, "class folder contains no videos, images or frame folders")
            self.items += [(e, label) for e in sorted(found, key=lambda e: natural_key(e.name))]
        self.frames, self.stride, self.size, self.pad, self.strict = frames, stride, size, pad, strict
        self.mean, self.std = tuple(mean), tuple(std)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> tuple[Clip, int]:
        path, label = self.items[i]
        clip = read_clip(path, frames=self.frames, stride=self.stride, size=self.size, pad=self.pad, strict=self.strict)
        return clip, label

    def batch(self, indices: Sequence[int]) -> tuple[Tensor, Tensor]:
        """x float32 (n, 3, T, S, S) normalized, y int64 (n,) for the items ``indices``."""
        pairs = [self[i] for i in indices]
        shapes = {c.frames.shape for c, _ in pairs}
        if len(shapes) > 1:
            raise ValueError(f"clips have different shapes {sorted(shapes)}; give FolderDataset a size=")
        x = torch.cat([c.to_tensor(self.mean, self.std) for c, _ in pairs])  # (n, 3, T, S, S)
        return x, torch.tensor([label for _, label in pairs], dtype=torch.long)


def _is_item(entry: Path) -> bool:
    if entry.name.startswith("."):
        return False
    if entry.is_dir():
        return any(f.suffix.lower() in IMAGE_EXTENSIONS for f in entry.iterdir())
    return entry.suffix.lower() in VIDEO_EXTENSIONS + IMAGE_EXTENSIONS
