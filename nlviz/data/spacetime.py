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
from nlviz.data.layout import (
    away_from,
    blank_frames,
    draw_cue,
    draw_occluders,
    draw_probes,
    pairs,
    pick_probes,
    rgb_tuple,
)
from nlviz.data.synthetic import (
    QUADRANTS,
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
            frames=frames,
            size=size,
            radius=radius,
            colors=colors,
            cue_frames=cue_frames,
            probe_frames=probe_frames,
            occluders=occluders,
            decoys=decoys,
            mean=self.mean,
            std=self.std,
        )

    def _draw(self, rng: np.random.Generator) -> SyntheticClip:
        t_all, s, r = self.frames, self.size, self.radius
        images, masks = blank_frames(t_all, s)  # (T, S, S, 3), (T, S, S)
        probes = pick_probes(rng, self.color_names, self.rgb)
        cue_t = tuple(range(self.cue_frames))
        probe_t = tuple(range(t_all - self.probe_frames, t_all))

        # the cue: a ringed disk near the center
        cue_path, cue = draw_cue(rng, images, masks, cue_t, r, probes)  # (Tc, 2)
        objects = {1: cue}

        # decoys: plain disks of other probe colors with the cue, anywhere away from it
        next_id = 6
        others = [q for q in range(4) if q != probes.label]
        for k in range(self.decoys):
            q = others[k % 3]
            path = away_from(rng, cue_path, 2 * r + 3, np.array([r, r]), np.array([s - 1 - r] * 2), len(cue_t))
            for f, (y, x) in zip(cue_t, path):
                draw.paste(images[f], masks[f], draw.disk(r), y, x, probes.rgb[q], next_id)
            name, rgb = probes.names[q], rgb_tuple(probes.rgb[q])
            objects[next_id] = ObjectInfo(next_id, "decoy", "disk", name, rgb, float(r), cue_t, pairs(path))
            next_id += 1

        # probes: one plain disk per quadrant, drifting in its outer corner
        objects.update(draw_probes(rng, images, masks, probe_t, r, s // 4 + 1, probes))
        objects.update(draw_occluders(rng, images, masks, self.occluders, max(1, r - 1), next_id))
        return SyntheticClip(frames=images, masks=masks, objects=objects, label=probes.label)
