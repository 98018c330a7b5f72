"""The synthetic image task: link a marked disk at the center to the disk of the same color in a corner.

One S×S image (defaults S = 48, radius 4): a *ringed* disk of color c (the cue) within ±S/32 of the center;
four plain disks of four different colors, one in the outer corner of each quadrant; exactly one (the
*target*) has color c. Label = the quadrant of the target (4 classes; chance 25 %). Optional static gray
squares (occluders) are drawn on top; optional decoys are plain disks of non-target probe colors placed
midway along the image borders (between two corners), far from the cue.

Why it needs non-local links: the cue and the target are at least ~S/3 apart (center vs. outer corner),
so a CNN whose receptive field stays local (smaller than that gap) sees "ringed disk of color c" and
"color k in quadrant q" at different positions; a linear head on globally pooled features adds the two
facts but cannot bind them, so such a baseline stays at chance. A non-local block lets the target read
the cue (same color, ring) and coordinate channels make its quadrant decodable. The cue-to-target gap in
pixels is ``min_gap`` (cell centers) for the defaults: keep the baseline's receptive field below it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nlviz.data import draw
from nlviz.data.layout import blank_frames, cue_box, draw_cue, draw_probes, pick_probes, rgb_tuple
from nlviz.data.synthetic import (
    OCCLUDER,
    QUADRANTS,
    TASKS,
    ObjectInfo,
    SyntheticClip,
    SyntheticTask,
    check_int,
    palette_colors,
)
from nlviz.data.transforms import IMAGENET_MEAN, IMAGENET_STD


@TASKS.register("image")
class ImageTask(SyntheticTask):
    """Which corner disk has the color of the ringed disk at the center? (module docstring)

    Args:
        size: S (images are S×S); at least 10·radius.
        radius: disk radius in pixels.
        colors: palette size (4–8); the four probes take four different colors of it.
        occluders: static gray squares (half side radius - 1) drawn on top.
        decoys: plain disks (0–4) of non-target probe colors at the middle of the borders.
        mean, std: normalization of ``batch`` (RGB in [0, 1]).
    """

    name = "image"
    dim = 2
    class_names = QUADRANTS

    def __init__(
        self,
        *,
        size: int = 48,
        radius: int = 4,
        colors: int = 4,
        occluders: int = 0,
        decoys: int = 0,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
    ) -> None:
        check_int("radius", radius, 1)
        check_int("size", size, 10 * radius)
        check_int("occluders", occluders, 0, 8)
        check_int("decoys", decoys, 0, 4)
        super().__init__(size=size, frames=1, mean=mean, std=std)
        self.radius, self.occluders, self.decoys = radius, occluders, decoys
        self.color_names, self.rgb = palette_colors(colors)
        self._params = dict(
            size=size, radius=radius, colors=colors, occluders=occluders, decoys=decoys, mean=self.mean, std=self.std
        )

    @property
    def reach(self) -> int:
        """Probe centers lie within ``radius + 1 … reach`` pixels of their corner's borders."""
        return self.size // 4 - 1

    @property
    def min_gap(self) -> float:
        """Smallest distance in pixels between the cue's center and a probe's center (diagonal corner case)."""
        _, hi = cue_box(self.size)
        return float(np.sqrt(2) * (self.size - 1 - self.reach - hi[0]))

    def _draw(self, rng: np.random.Generator) -> SyntheticClip:
        s, r = self.size, self.radius
        images, masks = blank_frames(1, s)  # (1, S, S, 3), (1, S, S)
        image, mask = images[0], masks[0]
        probes = pick_probes(rng, self.color_names, self.rgb)
        _, cue = draw_cue(rng, images, masks, (0,), r, probes)
        objects = {1: cue, **draw_probes(rng, images, masks, (0,), r, self.reach, probes)}

        next_id = 6
        others = [q for q in range(4) if q != probes.label]
        sides = rng.permutation(4)  # top, right, bottom, left border midpoints
        for k in range(self.decoys):
            q = others[k % 3]
            y, x = _border_mid(s, r, int(sides[k]), rng)
            draw.paste(image, mask, draw.disk(r), y, x, probes.rgb[q], next_id)
            name, rgb = probes.names[q], rgb_tuple(probes.rgb[q])
            objects[next_id] = ObjectInfo(next_id, "decoy", "disk", name, rgb, float(r), (0,), ((y, x),))
            next_id += 1

        half = max(1, r - 1)
        for _ in range(self.occluders):
            y, x = (int(v) for v in rng.integers(0, s, size=2))
            draw.paste(image, mask, draw.square(half), y, x, np.array(OCCLUDER, np.uint8), next_id)
            objects[next_id] = ObjectInfo(next_id, "occluder", "square", "gray", OCCLUDER, float(half), (0,), ((y, x),))
            next_id += 1
        return SyntheticClip(frames=images, masks=masks, objects=objects, label=probes.label)


def _border_mid(size: int, radius: int, side: int, rng: np.random.Generator) -> tuple[int, int]:
    """A point near the middle of one border (0 top, 1 right, 2 bottom, 3 left), ±2 px along it."""
    along = (size - 1) // 2 + int(rng.integers(-2, 3))
    edge = radius + 1 if side in (0, 3) else size - 2 - radius
    return (edge, along) if side in (0, 2) else (along, edge)
