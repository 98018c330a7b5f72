"""The synthetic spacetime task: link a marked object early in the clip to its match late in the clip.

Timeline of a T-frame clip (defaults T = 8, S = 32):

- **cue frames** ``0 … cue_frames-1``: a *ringed* disk of color c (the cue) drifts near the center; optional
  *decoys* (plain disks of other probe colors) appear with it;
- **probe frames** (the last ``probe_frames``): four plain disks of four different colors, one per quadrant,
  drifting inside that quadrant's outer corner; exactly one of them (the *target*) has color c;
- **every frame**: ``occluders`` gray squares cross the frame in straight lines, drawn over everything.

Label = the quadrant of the target (4 classes; chance 25 %). Why it needs non-local links:

- the cue and the target are never in the same frame and never near each other (cue within ±S/32 of the
  center, targets in the outer corners): a per-frame network (C2D) sees "ringed disk of color c" in one
  frame and "color k in quadrant q" in another; after global average pooling a linear head adds the two
  facts but cannot bind them (the label is their conjunction), so a C2D baseline stays at chance;
- an attention block over all T·H·W positions lets the target's features read the cue's (same color,
  ring), after which "matched & in quadrant q" is a local feature; coordinate channels in the stem make the
  quadrant decodable;
- the ring, not the timing, marks the cue, so a frame-order-invariant model (C2D + NL + GAP) can learn it.

Masks give every object's visible pixels, so analysis can check whether a query on the target attends to
the cue (``ObjectInfo.partner``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from nlviz.data import draw
from nlviz.data.layout import away_from, center_box, corner_box, draw_occluders, lerp_path, pairs, rgb_tuple
from nlviz.data.synthetic import (
    BACKGROUND,
    QUADRANTS,
    RING,
    TASKS,
    ObjectInfo,
    SyntheticClip,
    SyntheticTask,
    check_int,
    palette_colors,
)
from nlviz.data.transforms import IMAGENET_MEAN, IMAGENET_STD


@TASKS.register("spacetime")
class SpacetimeTask(SyntheticTask):
    """Which quadrant holds the late disk whose color matches the early ringed disk? (module docstring)

    Args:
        frames: T.
        size: S (frames are S×S); at least 8·radius.
        radius: disk radius in pixels.
        colors: palette size (4–8); the four probes take four different colors of it.
        cue_frames: frames showing the cue, from t = 0.
        probe_frames: frames showing the probes, up to t = T-1; cue_frames + probe_frames ≤ T.
        occluders: moving gray squares (half side radius - 1) over all frames.
        decoys: plain disks of non-target probe colors shown with the cue.
        mean, std: normalization of ``batch`` (RGB in [0, 1]).
    """

    name = "spacetime"
    dim = 3
    class_names = QUADRANTS

    def __init__(
        self,
        *,
        frames: int = 8,
        size: int = 32,
        radius: int = 3,
        colors: int = 4,
        cue_frames: int = 2,
        probe_frames: int = 4,
        occluders: int = 1,
        decoys: int = 0,
        mean: Sequence[float] = IMAGENET_MEAN,
        std: Sequence[float] = IMAGENET_STD,
    ) -> None:
        check_int("radius", radius, 1)
        check_int("size", size, 8 * radius)
        check_int("frames", frames, 2)
        check_int("cue_frames", cue_frames, 1, frames - 1)
        check_int("probe_frames", probe_frames, 1, frames - cue_frames)
        check_int("occluders", occluders, 0, 8)
        check_int("decoys", decoys, 0, 3)
        super().__init__(size=size, frames=frames, mean=mean, std=std)
        self.radius, self.cue_frames, self.probe_frames = radius, cue_frames, probe_frames
        self.occluders, self.decoys = occluders, decoys
        self.color_names, self.rgb = palette_colors(colors)
        self._params = dict(
            frames=frames, size=size, radius=radius, colors=colors, cue_frames=cue_frames, probe_frames=probe_frames,
            occluders=occluders, decoys=decoys, mean=self.mean, std=self.std,
        )  # fmt: skip

    def _draw(self, rng: np.random.Generator) -> SyntheticClip:
        t_all, s, r = self.frames, self.size, self.radius
        images = np.empty((t_all, s, s, 3), dtype=np.uint8)
        images[:] = BACKGROUND
        masks = np.zeros((t_all, s, s), dtype=np.int32)
        label = int(rng.integers(4))
        colors = rng.choice(len(self.rgb), size=4, replace=False)  # color index of the probe in quadrant q
        objects: dict[int, ObjectInfo] = {}
        cue_t = tuple(range(self.cue_frames))
        probe_t = tuple(range(t_all - self.probe_frames, t_all))
        target_id = 2 + label

        # the cue: a ringed disk near the center
        lo, hi = center_box(s, max(1, s // 32))
        cue_path = lerp_path(rng, lo, hi, len(cue_t))  # (Tc, 2)
        c = colors[label]
        for f, (y, x) in zip(cue_t, cue_path):
            draw.paste(images[f], masks[f], draw.ring(r), y, x, np.array(RING, np.uint8), 1)
            draw.paste(images[f], masks[f], draw.disk(r), y, x, self.rgb[c], 1)
        objects[1] = ObjectInfo(
            1, "cue", "ringed_disk", self.color_names[c], rgb_tuple(self.rgb[c]), float(r), cue_t, pairs(cue_path),
            ring_rgb=RING, partner=target_id,
        )  # fmt: skip

        # decoys: plain disks of other probe colors with the cue, anywhere away from it
        next_id = 6
        others = [q for q in range(4) if q != label]
        for k in range(self.decoys):
            q = others[k % 3]
            path = away_from(rng, cue_path, 2 * r + 3, np.array([r, r]), np.array([s - 1 - r] * 2), len(cue_t))
            for f, (y, x) in zip(cue_t, path):
                draw.paste(images[f], masks[f], draw.disk(r), y, x, self.rgb[colors[q]], next_id)
            name, rgb = self.color_names[colors[q]], rgb_tuple(self.rgb[colors[q]])
            objects[next_id] = ObjectInfo(next_id, "decoy", "disk", name, rgb, float(r), cue_t, pairs(path))
            next_id += 1

        # probes: one plain disk per quadrant, drifting in its outer corner
        for q in range(4):
            oid = 2 + q
            lo, hi = corner_box(s, r, q, s // 4 + 1)
            path = lerp_path(rng, lo, hi, len(probe_t))  # (Tp, 2)
            for f, (y, x) in zip(probe_t, path):
                draw.paste(images[f], masks[f], draw.disk(r), y, x, self.rgb[colors[q]], oid)
            objects[oid] = ObjectInfo(
                oid, "target" if q == label else "probe", "disk", self.color_names[colors[q]], rgb_tuple(self.rgb[colors[q]]),
                float(r), probe_t, pairs(path), partner=1 if q == label else None, quadrant=q,
            )  # fmt: skip

        objects.update(draw_occluders(rng, images, masks, self.occluders, max(1, r - 1), next_id))
        return SyntheticClip(frames=images, masks=masks, objects=objects, label=label)
