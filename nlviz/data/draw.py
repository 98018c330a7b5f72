"""Drawing for the synthetic tasks: precomputed boolean stamps pasted into a frame and its instance mask.

Shapes are hard-edged (no anti-aliasing), so every pixel of an object's mask has exactly one of that
object's colors. Later pastes cover earlier ones (painter's order): masks record what is visible.
"""

from __future__ import annotations

from functools import cache

import numpy as np


@cache
def disk(radius: int) -> np.ndarray:
    """Boolean (2r+1, 2r+1) stamp of the pixels with dy² + dx² ≤ r(r + 1), a round disk of radius ≈ r + ½."""
    yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    out = yy**2 + xx**2 <= radius * (radius + 1)
    out.flags.writeable = False
    return out


@cache
def ring(radius: int, width: int = 1) -> np.ndarray:
    """Boolean stamp (R = radius + width) of the band just outside ``disk(radius)``, ``width`` pixels wide."""
    r = radius + width
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    d2 = yy**2 + xx**2
    out = (d2 > radius * (radius + 1)) & (d2 <= r * (r + 1))
    out.flags.writeable = False
    return out


@cache
def square(half: int) -> np.ndarray:
    """Boolean (2h+1, 2h+1) stamp, all True."""
    out = np.ones((2 * half + 1, 2 * half + 1), dtype=bool)
    out.flags.writeable = False
    return out


def paste(
    image: np.ndarray, mask: np.ndarray, stamp: np.ndarray, cy: int, cx: int, color: np.ndarray, object_id: int
) -> None:
    """Paint ``stamp`` centered at pixel (cy, cx) into ``image`` (H, W, 3) with ``color`` and into ``mask``
    (H, W) with ``object_id``, clipped at the borders (in place)."""
    h, w = mask.shape
    r = stamp.shape[0] // 2
    y0, x0 = cy - r, cx - r
    sy0, sx0 = max(0, -y0), max(0, -x0)
    sy1, sx1 = min(stamp.shape[0], h - y0), min(stamp.shape[1], w - x0)
    if sy1 <= sy0 or sx1 <= sx0:
        return
    st = stamp[sy0:sy1, sx0:sx1]
    region = (slice(y0 + sy0, y0 + sy1), slice(x0 + sx0, x0 + sx1))
    image[region][st] = color
    mask[region][st] = object_id
