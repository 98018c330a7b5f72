"""Where the synthetic tasks put things: center and corner boxes, straight-line paths, occluders."""

from __future__ import annotations

import numpy as np

from nlviz.data import draw
from nlviz.data.synthetic import OCCLUDER, ObjectInfo


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
