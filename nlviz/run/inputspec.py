"""``InputSpec``: what a model expects as input — video or image, frames, size, channels, normalization, classes.

Every model a run reads inputs for has one. It comes from the model's card (``card["input"]``, ``card["classes"]``;
public checkpoints record it when converted), from a small JSON file (``--input-spec spec.json``), or from flags;
fields given later override earlier ones (:meth:`InputSpec.override`).

A card's ``input.shape`` is ``[C, T, S, S]`` for video models and ``[C, S, S]`` for image models (C = 3 for RGB,
1 for grayscale). Frames are read as uint8 RGB and converted to ``channels`` when the model input is built
(:func:`nlviz.run.inputs.model_input`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

#: ImageNet statistics of RGB values in [0, 1] (the default when a card records none)
DEFAULT_MEAN = (0.485, 0.456, 0.406)
DEFAULT_STD = (0.229, 0.224, 0.225)
#: frames read for a video model whose card does not say (public checkpoints without an input record)
DEFAULT_FRAMES = 8
#: JSON field names of an input-spec file (``classes`` may also be a path to a text file, one name per line)
FIELDS = ("video", "frames", "size", "channels", "mean", "std", "classes")


@dataclass(frozen=True)
class InputSpec:
    """The input a model expects.

    Attributes:
        video: the model takes (B, C, T, H, W) clips; False: (B, C, H, W) images.
        frames: T (1 for image models).
        size: side S of the square model input (short-side resize, then center crop); None = the source's own
            size (no resize).
        channels: C: 3 (RGB) or 1 (grayscale, ITU-R 601 luma of the RGB frames).
        mean, std: per-channel statistics of pixel values in [0, 1]: the input is ``(x / 255 - mean) / std``;
            one number per channel.
        classes: class names in logit order, or None (logits are then named by their index).
    """

    video: bool = True
    frames: int = DEFAULT_FRAMES
    size: int | None = None
    channels: int = 3
    mean: tuple[float, ...] = DEFAULT_MEAN
    std: tuple[float, ...] = DEFAULT_STD
    classes: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        if not isinstance(self.video, bool):
            raise ValueError(f"input spec: video must be true or false, got {self.video!r}")
        for name in ("frames", "size", "channels"):
            v = getattr(self, name)
            if name == "size" and v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"input spec: {name} must be a positive integer, got {v!r}")
        if self.channels not in (1, 3):
            raise ValueError(f"input spec: channels must be 1 (grayscale) or 3 (RGB), got {self.channels}")
        if not self.video and self.frames != 1:
            set_(self, "frames", 1)
        for name in ("mean", "std"):
            v = getattr(self, name)
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                v = (v,) * self.channels
            if not isinstance(v, Sequence) or isinstance(v, str) or len(v) != self.channels:
                raise ValueError(
                    f"input spec: {name}={v!r} must be {self.channels} number(s), one per input channel "
                    f"({'gray' if self.channels == 1 else 'R, G, B'})"
                )
            v = tuple(float(x) for x in v)
            if not all(math.isfinite(x) for x in v) or (name == "std" and min(v) <= 0):
                raise ValueError(f"input spec: {name}={list(v)} must be finite" + (" and > 0" if name == "std" else ""))
            set_(self, name, v)
        if self.classes is not None:
            if isinstance(self.classes, str) or not isinstance(self.classes, Sequence):
                raise ValueError(f"input spec: classes must be a list of names, got {self.classes!r}")
            set_(self, "classes", tuple(str(c) for c in self.classes))

    @property
    def shape(self) -> tuple[int, ...]:
        """(C, T, S, S) for video models, (C, S, S) for image models: what a card's ``input.shape`` holds
        (S = -1 when the size is the source's own)."""
        s = -1 if self.size is None else self.size
        return (self.channels, self.frames, s, s) if self.video else (self.channels, s, s)

    def override(self, **changes: Any) -> InputSpec:
        """A copy with the given fields replaced (``None`` values are ignored), validated again.

        Changing ``channels`` without new ``mean``/``std`` adapts them: RGB → gray uses the mean of the three
        numbers, gray → RGB repeats the one.
        """
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"input spec: unknown field(s) {unknown}; valid: {sorted(known)}")
        changes = {k: v for k, v in changes.items() if v is not None}
        c = changes.get("channels", self.channels)
        for name in ("mean", "std"):
            if c != self.channels and name not in changes:
                old = getattr(self, name)
                changes[name] = (sum(old) / len(old),) * c
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, tuple):
                d[k] = list(v)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], where: str = "input spec") -> InputSpec:
        """From a JSON object with any of :data:`FIELDS` (an unknown field is an error naming it)."""
        if not isinstance(d, Mapping):
            raise ValueError(f"{where}: an input spec is a JSON object with fields {list(FIELDS)}, got {d!r}")
        unknown = sorted(set(d) - set(FIELDS))
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {unknown}; valid: {list(FIELDS)}")
        try:
            return cls().override(**dict(d))
        except (TypeError, ValueError) as e:
            raise ValueError(f"{where}: {str(e).removeprefix('input spec: ')}") from None

    @classmethod
    def load(cls, path: str | Path) -> InputSpec:
        """An input-spec JSON file (see :data:`FIELDS`); ``classes`` may name a text file beside it."""
        from nlviz.jsonfile import read_json

        p = Path(path)
        d = read_json(p, missing="input spec file not found")
        if isinstance(d, dict) and isinstance(d.get("classes"), str):
            d = {**d, "classes": read_class_names(p.parent / d["classes"])}
        return cls.from_dict(d, where=str(p))

    def to_card(self) -> dict[str, Any]:
        """The card's ``input`` record of this spec (``shape``, ``mean``, ``std``), as :meth:`from_card` reads it."""
        return {"shape": list(self.shape), "mean": list(self.mean), "std": list(self.std)}

    @classmethod
    def from_card(cls, card: Mapping[str, Any], *, video: bool | None = None) -> InputSpec:
        """The input a card records (``input.shape``, ``mean``, ``std``; ``classes``). What it does not record
        falls back to the defaults; ``video`` (from the arch registry) decides the kind when no shape is given."""
        inp = card.get("input") or {}
        shape = inp.get("shape")
        fields_: dict[str, Any] = {}
        if shape:
            fields_["video"] = len(shape) == 4
            fields_["channels"] = int(shape[0])
            fields_["size"] = int(shape[-1]) if int(shape[-1]) > 0 else None  # -1: the source's own size
            fields_["frames"] = int(shape[1]) if len(shape) == 4 else 1
        elif video is not None:
            fields_["video"] = video
        if "mean" in inp:
            fields_["mean"] = inp["mean"]
        if "std" in inp:
            fields_["std"] = inp["std"]
        classes = card.get("classes")
        if classes:
            fields_["classes"] = classes
        return cls().override(**fields_)


def read_class_names(path: str | Path) -> list[str]:
    """One class name per non-empty line of a text file."""
    p = Path(path)
    try:
        names = [line.strip() for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    except FileNotFoundError:
        raise ValueError(f"{p}: class-names file not found") from None
    if not names:
        raise ValueError(f"{p}: no class names in the file (one per line)")
    return names
