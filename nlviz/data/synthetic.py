"""Shared parts of the synthetic tasks: the sample record, the task base class and the task registry.

A task is rebuilt from its *recipe* — ``{"task": name, "params": {...}}``, JSON-serializable — so a
checkpoint card records exactly which data a model saw: ``make_task(**recipe)`` or
``task_from_recipe(recipe)``. Samples are a pure function of ``(seed, index)``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from nlviz.data.clip import Clip
from nlviz.data.geometry import Geometry
from nlviz.data.transforms import check_stats, to_tensor
from nlviz.registry import Registry, check_options

TASKS = Registry("task")

#: Fill colors the tasks draw from (RGB). Ring, occluder and background colors are not in it.
PALETTE: dict[str, tuple[int, int, int]] = {
    "red": (230, 40, 40),
    "green": (40, 200, 70),
    "blue": (50, 100, 245),
    "yellow": (240, 220, 40),
    "magenta": (220, 60, 220),
    "cyan": (40, 215, 225),
    "orange": (245, 140, 30),
    "violet": (140, 80, 240),
}
RING = (255, 255, 255)
OCCLUDER = (128, 128, 128)
BACKGROUND = (16, 16, 16)
QUADRANTS = ("top-left", "top-right", "bottom-left", "bottom-right")


@dataclass(frozen=True)
class ObjectInfo:
    """One drawn object of a synthetic sample.

    Attributes:
        id: value of this object in the instance masks (≥ 1; 0 is background).
        role: ``cue`` (the marked object the label refers to), ``target`` (the object the cue points at),
            ``probe`` (a candidate that is not the target), ``decoy`` (a plain disk shown with the cue) or
            ``occluder`` (a moving gray square drawn over everything).
        shape: ``disk``, ``ringed_disk`` or ``square``.
        color: fill color name (a PALETTE key, or ``gray`` for occluders) and ``rgb`` its value.
        ring_rgb: color of the ring of a ``ringed_disk`` (None otherwise).
        radius: disk radius in pixels (half side for squares).
        frames: the frames t the object is drawn in; ``centers`` its integer (y, x) center in each.
        partner: id of the object it must be linked with (cue ↔ target), else None.
        quadrant: index into QUADRANTS of probes and the target, else None.
    """

    id: int
    role: str
    shape: str
    color: str
    rgb: tuple[int, int, int]
    radius: float
    frames: tuple[int, ...]
    centers: tuple[tuple[int, int], ...]
    ring_rgb: tuple[int, int, int] | None = None
    partner: int | None = None
    quadrant: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SyntheticClip:
    """One sample: ``frames`` uint8 (T, S, S, 3) RGB; ``masks`` int32 (T, S, S) object id per pixel
    (0 = background, visible pixels only); ``objects`` id → :class:`ObjectInfo`; ``label`` class index.
    Image tasks use T = 1 (the same (T, H, W) convention as feature grids)."""

    frames: np.ndarray
    masks: np.ndarray
    objects: dict[int, ObjectInfo]
    label: int

    def by_role(self, role: str) -> list[ObjectInfo]:
        return [o for o in self.objects.values() if o.role == role]

    def to_clip(self, source: str = "synthetic") -> Clip:
        """The frames as a :class:`Clip` with an identity geometry (pixel (t, y, x) is source (t, y, x))."""
        t, h, w = self.masks.shape
        return Clip(frames=self.frames, geometry=Geometry.identity(t, h, w), source=source)


class SyntheticTask:
    """Base class: subclasses set ``name``, ``dim``, ``class_names`` and implement ``_draw(rng)``."""

    name: ClassVar[str] = ""
    #: 3 = video input (B, 3, T, S, S); 2 = image input (B, 3, S, S)
    dim: ClassVar[int] = 3
    class_names: tuple[str, ...] = ()

    def __init__(self, *, size: int, frames: int, mean: Any, std: Any) -> None:
        self.size, self.frames = size, frames
        self.mean, self.std = check_stats(mean, std)
        self._params: dict[str, Any] = {}

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one model input without the batch axis: (3, T, S, S) or (3, S, S)."""
        s = self.size
        return (3, self.frames, s, s) if self.dim == 3 else (3, s, s)

    def params(self) -> dict[str, Any]:
        """The constructor arguments, JSON-ready (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self._params.items()}

    def recipe(self) -> dict[str, Any]:
        """``{"task": name, "params": {...}}``: enough to rebuild this task (``task_from_recipe``)."""
        return {"task": self.name, "params": self.params()}

    def sample(self, seed: int, index: int) -> SyntheticClip:
        """Sample ``index`` of the stream ``seed``; the same pair always gives identical arrays."""
        for what, v in (("seed", seed), ("index", index)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0:
                raise ValueError(f"{what}={v!r} must be a non-negative integer")
        return self._draw(np.random.default_rng([int(seed), int(index)]))

    def clips(self, seed: int, start: int, n: int) -> list[SyntheticClip]:
        return [self.sample(seed, i) for i in range(start, start + n)]

    def batch(self, seed: int, start: int, n: int) -> tuple[Tensor, Tensor]:
        """Samples ``start … start + n - 1``: x float32 (n, 3, T, S, S) (or (n, 3, S, S)) normalized with the
        task's mean/std, y int64 (n,) labels."""
        clips = self.clips(seed, start, n)
        frames = np.stack([c.frames for c in clips])  # (n, T, S, S, 3)
        if self.dim == 2:
            frames = frames[:, 0]  # (n, S, S, 3)
        y = torch.tensor([c.label for c in clips], dtype=torch.long)  # (n,)
        return to_tensor(frames, self.mean, self.std), y

    def _draw(self, rng: np.random.Generator) -> SyntheticClip:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


def make_task(name: str, **params: Any) -> SyntheticTask:
    """Build a registered task: ``make_task("spacetime", frames=8, size=32)``. Unknown names or parameters
    raise a ValueError listing the valid ones."""
    cls = TASKS.get(name)
    check_options(f"task {name!r}", params, cls.__init__)
    return cls(**params)


def task_from_recipe(recipe: dict[str, Any]) -> SyntheticTask:
    """Rebuild a task from ``task.recipe()`` (e.g. read back from a checkpoint card)."""
    if not isinstance(recipe, dict) or set(recipe) != {"task", "params"}:
        raise ValueError(f"a task recipe is {{'task': name, 'params': {{...}}}}, got {recipe!r}")
    return make_task(recipe["task"], **recipe["params"])


def check_int(name: str, value: Any, low: int, high: int | None = None) -> None:
    """Raise a ValueError unless ``low ≤ value (≤ high)`` is an int."""
    bad = not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high)
    if bad:
        allowed = f"an integer in [{low}, {high}]" if high is not None else f"an integer >= {low}"
        raise ValueError(f"{name}={value!r} must be {allowed}")


def palette_colors(count: int) -> tuple[list[str], np.ndarray]:
    """The first ``count`` palette names and their RGB rows (count, 3) uint8."""
    check_int("colors", count, 4, len(PALETTE))
    names = list(PALETTE)[:count]
    return names, np.array([PALETTE[n] for n in names], dtype=np.uint8)
