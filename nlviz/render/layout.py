"""Where things go on a figure: a grid of frame panels, and the map from model-input pixels to canvas pixels.

Both back ends draw on the same canvas: the OpenCV back end draws into it, the plotly back end shows it as an
image and puts its traces at the same coordinates. Conventions: canvas *points* have pixel centers at
integers (plotly's ``go.Image`` convention), so model-input pixel center ``y`` in panel (r, c) sits at
``top(r) + (y + 0.5)·scale − 0.5``; boxes use pixel edges, so input edge ``e`` sits at ``top(r) + e·scale − 0.5``
in point coordinates (and at ``top(r) + e·scale`` as an integer pixel edge).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BACKGROUND = (255, 255, 255)
INK = (20, 20, 20)


def display_scale(height: int, width: int, panel_size: int) -> int:
    """Integer upscale so that a frame of ``height``×``width`` shows at least ``panel_size`` px on its long side
    (never below 1: large frames are shown at their own size)."""
    return max(1, int(np.ceil(panel_size / max(height, width) - 1e-9)))


@dataclass(frozen=True)
class PanelGrid:
    """``rows``×``cols`` panels of one ``height``×``width`` frame each, upscaled ``scale`` times.

    ``header``: text band above every row (panel titles); ``left``: band left of every row (row labels);
    ``gap``: space between panels.
    """

    rows: int
    cols: int
    height: int
    width: int
    scale: int = 1
    gap: int = 8
    header: int = 18
    left: int = 0

    @property
    def panel_size(self) -> tuple[int, int]:
        """(height, width) of one panel in canvas pixels."""
        return self.height * self.scale, self.width * self.scale

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the whole canvas."""
        ph, pw = self.panel_size
        return (self.header + ph) * self.rows + self.gap * (self.rows - 1) + self.gap, (
            self.left + pw * self.cols + self.gap * (self.cols + 1)
        )

    def origin(self, r: int, c: int) -> tuple[int, int]:
        """Canvas pixel (y, x) of the top-left pixel of panel (r, c)."""
        if not (0 <= r < self.rows and 0 <= c < self.cols):
            raise ValueError(f"panel ({r}, {c}) outside the {self.rows}×{self.cols} grid")
        ph, pw = self.panel_size
        return r * (self.header + ph + self.gap) + self.header, self.left + self.gap + c * (pw + self.gap)

    def to_canvas(self, r: int, c: int, y: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Model-input pixel-center coordinates (y, x) in panel (r, c) → canvas point coordinates."""
        oy, ox = self.origin(r, c)
        s = self.scale
        return oy + (np.asarray(y, float) + 0.5) * s - 0.5, ox + (np.asarray(x, float) + 0.5) * s - 0.5

    def box_to_canvas(self, r: int, c: int, box: tuple[float, float, float, float]) -> tuple[float, ...]:
        """An input box (y0, x0, y1, x1) in pixel edges → canvas edges (y0, x0, y1, x1) (integer at integer input
        edges: the box covers canvas pixels y0 ≤ Y < y1)."""
        oy, ox = self.origin(r, c)
        y0, x0, y1, x1 = box
        s = self.scale
        return oy + y0 * s, ox + x0 * s, oy + y1 * s, ox + x1 * s


def upscale(image: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour upscale by an integer factor (every input pixel becomes a scale×scale block)."""
    if scale == 1:
        return image
    import cv2

    h, w = image.shape[:2]
    return cv2.resize(image, (w * scale, h * scale), interpolation=cv2.INTER_NEAREST_EXACT)


def compose(
    grid: PanelGrid,
    panels: dict[tuple[int, int], np.ndarray],
    titles: dict[tuple[int, int], str] | None = None,
    row_labels: list[str] | None = None,
) -> np.ndarray:
    """The canvas uint8 (H, W, 3): each (r, c) image (height×width×3, model-input pixels) upscaled into its
    panel, titles in the header band above it, row labels in the left band."""
    from nlviz.render import cv_draw

    h, w = grid.size
    canvas = np.empty((h, w, 3), dtype=np.uint8)
    canvas[:] = BACKGROUND
    ph, pw = grid.panel_size
    for (r, c), image in panels.items():
        if image.shape[:2] != (grid.height, grid.width):
            raise ValueError(
                f"panel ({r}, {c}) image is {image.shape[:2]}, the grid expects {(grid.height, grid.width)}"
            )
        oy, ox = grid.origin(r, c)
        canvas[oy : oy + ph, ox : ox + pw] = upscale(image, grid.scale)
    for (r, c), text in (titles or {}).items():
        oy, ox = grid.origin(r, c)
        cv_draw.text(canvas, text, (oy - 5, ox), max_width=pw)
    for r, text in enumerate(row_labels or []):
        oy, _ = grid.origin(r, 0)
        lines = cv_draw.wrap(text, grid.left - 6)
        for i, line in enumerate(lines):
            cv_draw.text(canvas, line, (oy + ph // 2 + 15 * (i - len(lines) // 2), 2), max_width=grid.left - 4)
    return canvas


def pad_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Pad (bottom/right, background color) to at least height×width."""
    h, w = image.shape[:2]
    if h >= height and w >= width:
        return image
    out = np.empty((max(h, height), max(w, width), 3), dtype=np.uint8)
    out[:] = BACKGROUND
    out[:h, :w] = image
    return out


def stack(images: list[np.ndarray], axis: int = 0) -> np.ndarray:
    """Stack canvases vertically (axis 0) or side by side (axis 1), padding the other side."""
    if axis == 0:
        w = max(i.shape[1] for i in images)
        return np.concatenate([pad_to(i, i.shape[0], w) for i in images], axis=0)
    h = max(i.shape[0] for i in images)
    return np.concatenate([pad_to(i, h, i.shape[1]) for i in images], axis=1)
