"""Colormaps as 256-entry RGB lookup tables, shared by the OpenCV and the plotly back ends.

Both back ends color a value with the same table: OpenCV images index it directly, plotly figures get it as a
``colorscale`` sampled at :data:`PLOTLY_STOPS` stops, so a PNG and an HTML figure of one view agree. The
sequential maps come from OpenCV's built-in tables; ``rdbu`` is a diverging blue-white-red map for signed
weights (negative = blue, zero = white, positive = red).
"""

from __future__ import annotations

from functools import cache

import numpy as np

#: name → OpenCV COLORMAP_* constant name (None: defined here)
COLORMAPS = {
    "viridis": "COLORMAP_VIRIDIS",
    "magma": "COLORMAP_MAGMA",
    "inferno": "COLORMAP_INFERNO",
    "plasma": "COLORMAP_PLASMA",
    "cividis": "COLORMAP_CIVIDIS",
    "turbo": "COLORMAP_TURBO",
    "jet": "COLORMAP_JET",
    "hot": "COLORMAP_HOT",
    "gray": None,
    "rdbu": None,
}
PLOTLY_STOPS = 33

# Anchor colors of the diverging map, from -1 (blue) through 0 (white) to +1 (red).
_RDBU = np.array([(5, 48, 97), (67, 147, 195), (247, 247, 247), (214, 96, 77), (103, 0, 31)], dtype=np.float64)


def check_name(name: str) -> str:
    if name not in COLORMAPS:
        raise ValueError(f"colormap {name!r} is not known; valid: {sorted(COLORMAPS)}")
    return name


@cache
def lut(name: str) -> np.ndarray:
    """The (256, 3) uint8 RGB table of colormap ``name`` (entry 0 = lowest value)."""
    check_name(name)
    ramp = np.arange(256, dtype=np.uint8)
    if name == "gray":
        table = np.repeat(ramp[:, None], 3, axis=1)
    elif name == "rdbu":
        pos = np.linspace(0, len(_RDBU) - 1, 256)
        table = np.stack([np.interp(pos, np.arange(len(_RDBU)), _RDBU[:, c]) for c in range(3)], 1)
        table = np.floor(table + 0.5)
    else:
        import cv2

        bgr = cv2.applyColorMap(ramp[:, None], getattr(cv2, COLORMAPS[name]))  # (256, 1, 3) BGR
        table = bgr[:, 0, ::-1]
    out = np.ascontiguousarray(table, dtype=np.uint8)
    out.setflags(write=False)
    return out


def index(v01: np.ndarray) -> np.ndarray:
    """Values in [0, 1] (clipped) → table indices 0..255 (round half up)."""
    return np.clip(np.floor(np.asarray(v01, dtype=np.float64) * 255 + 0.5), 0, 255).astype(np.intp)


def apply(name: str, v01: np.ndarray) -> np.ndarray:
    """Colors (..., 3) uint8 of values already scaled to [0, 1]."""
    return lut(name)[index(v01)]


def plotly_colorscale(name: str, stops: int = PLOTLY_STOPS) -> list[list]:
    """The table as a plotly colorscale ``[[pos, "rgb(r,g,b)"], ...]`` with ``stops`` evenly spaced stops."""
    table = lut(name)
    pos = np.linspace(0, 1, stops)
    return [[float(p), "rgb({},{},{})".format(*table[i])] for p, i in zip(pos, index(pos))]
