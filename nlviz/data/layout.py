"""Where the synthetic tasks put things: center and corner boxes, straight-line paths, the cue, the
corner probes and occluders."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nlviz.data import draw
from nlviz.data.synthetic import BACKGROUND, OCCLUDER, RING, ObjectInfo


def lerp_path(rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, steps: int) -> np.ndarray:
    """Integer (steps, 2) path from a uniform start to a uniform end inside the box [lo, hi] (inclusive)."""
    a, b = rng.integers(lo, hi + 1), rng.integers(lo, hi + 1)  # (2,), (2,)
    f = np.linspace(0.0, 1.0, steps)[:, None] if steps > 1 else np.zeros((1, 1))  # (steps, 1)
    return np.rint(a + f * (b - a)).astype(np.int64)  # (steps, 2)


def corner_box(size: int, radius: int, quadrant: int, reach: int) -> tuple[np.ndarray, np.ndarray]:
    """Inclusive (lo, hi) (y, x) box of disk centers in the outer corner of ``quadrant``: each coordinate
    within ``radius + 1 … reach`` pixels of that corner's two borders."""
    lo_hi = []
    for high in (quadrant >= 2, quadrant % 2 == 1):
        a, b = radius + 1, reach
        lo_hi.append((size - 1 - b, size - 1 - a) if high else (a, b))
    (y0, y1), (x0, x1) = lo_hi
    return np.array([y0, x0]), np.array([y1, x1])


def center_box(size: int, jitter: int) -> tuple[np.ndarray, np.ndarray]:
    """Inclusive (lo, hi) box of centers within about ``jitter`` pixels of the image center (S=32, 1: 14…17)."""
    c = (size - 1) / 2
    return np.array([int(np.floor(c - jitter))] * 2), np.array([int(np.ceil(c + jitter))] * 2)


def draw_occluders(
    rng: np.random.Generator, images: np.ndarray, masks: np.ndarray, count: int, half: int, first_id: int
) -> dict[int, ObjectInfo]:
    """Gray squares moving in straight lines between two uniform points over all frames (on top)."""
    t, s = masks.shape[:2]
    gray = np.array(OCCLUDER, dtype=np.uint8)
    out = {}
    for k in range(count):
        oid = first_id + k
        path = lerp_path(rng, np.array([0, 0]), np.array([s - 1, s - 1]), t)  # (T, 2)
        for f in range(t):
            draw.paste(images[f], masks[f], draw.square(half), path[f, 0], path[f, 1], gray, oid)
        out[oid] = ObjectInfo(oid, "occluder", "square", "gray", OCCLUDER, float(half), tuple(range(t)), pairs(path))
    return out


def pairs(path: np.ndarray) -> tuple[tuple[int, int], ...]:
    return tuple((int(y), int(x)) for y, x in path)


def rgb_tuple(row: np.ndarray) -> tuple[int, int, int]:
    return (int(row[0]), int(row[1]), int(row[2]))


def away_from(
    rng: np.random.Generator,
    other: np.ndarray,
    min_dist: float,
    lo: np.ndarray,
    hi: np.ndarray,
    steps: int,
    tries: int = 32,
) -> np.ndarray:
    """A ``lerp_path`` in [lo, hi] whose every point keeps ``min_dist`` from ``other`` (steps, 2); the last
    try is kept when none succeeds (the masks stay exact either way)."""
    for _ in range(tries):
        path = lerp_path(rng, lo, hi, steps)
        if np.all(np.hypot(*(path - other).T) >= min_dist):
            return path
    return path


@dataclass(frozen=True)
class Probes:
    """The colors of one sample's four corner disks: ``label`` (the target's quadrant), ``names[q]`` and
    ``rgb[q]`` (uint8 (4, 3)) the palette color of the disk in quadrant q. The cue has color ``label``."""

    label: int
    names: list[str]
    rgb: np.ndarray


def pick_probes(rng: np.random.Generator, names: list[str], rgb: np.ndarray) -> Probes:
    """A uniform label in 0…3 and four different palette colors (``names``, ``rgb`` rows) for the probes."""
    label = int(rng.integers(4))
    colors = rng.choice(len(rgb), size=4, replace=False)  # (4,) palette index of the probe in quadrant q
    return Probes(label, [names[i] for i in colors], rgb[colors])


def blank_frames(frames: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Background-filled frames uint8 (T, S, S, 3) and empty instance masks int32 (T, S, S)."""
    images = np.empty((frames, size, size, 3), dtype=np.uint8)
    images[:] = BACKGROUND
    return images, np.zeros((frames, size, size), dtype=np.int32)


def cue_box(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Inclusive (lo, hi) box of cue centers: within ±S/32 (at least 1) pixels of the image center."""
    return center_box(size, max(1, size // 32))


def draw_cue(
    rng: np.random.Generator,
    images: np.ndarray,
    masks: np.ndarray,
    frames: tuple[int, ...],
    radius: int,
    probes: Probes,
) -> tuple[np.ndarray, ObjectInfo]:
    """The cue (id 1): a ringed disk of the target's color drifting inside ``cue_box`` over ``frames``.
    Returns its path (len(frames), 2) and its record (partner: the target, id 2 + label)."""
    lo, hi = cue_box(masks.shape[1])
    path = lerp_path(rng, lo, hi, len(frames))  # (Tc, 2)
    name, rgb = probes.names[probes.label], probes.rgb[probes.label]
    for f, (y, x) in zip(frames, path):
        draw.paste(images[f], masks[f], draw.ring(radius), y, x, np.array(RING, np.uint8), 1)
        draw.paste(images[f], masks[f], draw.disk(radius), y, x, rgb, 1)
    info = ObjectInfo(
        1,
        "cue",
        "ringed_disk",
        name,
        rgb_tuple(rgb),
        float(radius),
        frames,
        pairs(path),
        ring_rgb=RING,
        partner=2 + probes.label,
    )
    return path, info


def draw_probes(
    rng: np.random.Generator,
    images: np.ndarray,
    masks: np.ndarray,
    frames: tuple[int, ...],
    radius: int,
    reach: int,
    probes: Probes,
) -> dict[int, ObjectInfo]:
    """One plain disk per quadrant q (id 2 + q) drifting over ``frames`` in ``corner_box(..., reach)``; the
    one in quadrant ``probes.label`` is the target (partner: the cue, id 1), the others are probes."""
    out = {}
    for q in range(4):
        oid = 2 + q
        lo, hi = corner_box(masks.shape[1], radius, q, reach)
        path = lerp_path(rng, lo, hi, len(frames))  # (Tp, 2)
        for f, (y, x) in zip(frames, path):
            draw.paste(images[f], masks[f], draw.disk(radius), y, x, probes.rgb[q], oid)
        target = q == probes.label
        out[oid] = ObjectInfo(
            oid,
            "target" if target else "probe",
            "disk",
            probes.names[q],
            rgb_tuple(probes.rgb[q]),
            float(radius),
            frames,
            pairs(path),
            partner=1 if target else None,
            quadrant=q,
        )
    return out
