"""Feature-cell geometry: which model-input frames and pixels a block's grid cell covers, and back.

A block's grid (T, H, W) tiles the model input (T_in, H_in, W_in) evenly: cell (t, y, x) covers input frames
``[t·st, (t+1)·st)`` and pixels ``[y·sy, (y+1)·sy) × [x·sx, (x+1)·sx)`` with strides ``s = input / grid``
(floats when the input is not a multiple of the grid; edges then use the same proportional rule). Keys of a
subsampled block live on a coarser grid of their own, so an Affinity carries one geometry for queries and
one for keys. Composed with the clip's :class:`nlviz.data.Geometry` (resize, crop, sampled frames), a cell
maps to source frames and a source pixel box.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

Grid = tuple[int, int, int]


@dataclass(frozen=True)
class GridGeometry:
    """Maps cells of ``grid`` to the model input of size ``input_size`` (T_in, H_in, W_in) and back."""

    input_size: Grid
    grid: Grid

    def __post_init__(self) -> None:
        for n, g in zip(self.input_size, self.grid):
            if g < 1 or n < g:
                raise ValueError(f"grid {self.grid} cannot tile an input of size {self.input_size}")

    @property
    def stride(self) -> tuple[float, float, float]:
        return tuple(n / g for n, g in zip(self.input_size, self.grid))  # type: ignore[return-value]

    def cell_box(self, cells: Any) -> np.ndarray:
        """(Q, 3) cells → (Q, 6) boxes ``(t0, t1, y0, x0, y1, x1)`` in input frames/pixel edges (ends excluded)."""
        c = np.asarray(cells, dtype=np.float64).reshape(-1, 3)
        st, sy, sx = self.stride
        return np.stack(
            [c[:, 0] * st, (c[:, 0] + 1) * st, c[:, 1] * sy, c[:, 2] * sx, (c[:, 1] + 1) * sy, (c[:, 2] + 1) * sx],
            axis=1,
        )

    def cell_center(self, cells: Any) -> np.ndarray:
        """(Q, 3) cells → (Q, 3) centers (t, y, x) in input pixel coordinates (pixel centers at integers)."""
        b = self.cell_box(cells)
        return np.stack(
            [(b[:, 0] + b[:, 1]) / 2 - 0.5, (b[:, 2] + b[:, 4]) / 2 - 0.5, (b[:, 3] + b[:, 5]) / 2 - 0.5], 1
        )

    def cell_frames(self, t: int) -> range:
        """The input frames that cell time ``t`` covers."""
        st = self.stride[0]
        return range(int(np.floor(t * st)), max(int(np.floor(t * st)) + 1, int(np.ceil((t + 1) * st))))

    def cell_at(self, t: Any, y: Any, x: Any) -> np.ndarray:
        """Input pixel(s) (frame t, row y, column x) → the cell(s) (Q, 3) that contain them."""
        p = np.stack(np.broadcast_arrays(np.asarray(t), np.asarray(y), np.asarray(x)), -1).reshape(-1, 3)
        lim = np.asarray(self.input_size)
        if ((p < 0) | (p >= lim)).any():
            bad = tuple(p[((p < 0) | (p >= lim)).any(1)][0].tolist())
            raise ValueError(f"input pixel (t, y, x)={bad} is outside the model input {self.input_size}")
        cells = np.floor((p + 0.5) / np.asarray(self.stride)).astype(np.int64)
        return np.minimum(cells, np.asarray(self.grid) - 1)


@dataclass(frozen=True)
class AffinityGeometry:
    """Query and key geometry of one block, plus the clip's source geometry when known."""

    query: GridGeometry
    key: GridGeometry
    source: Any = None  # nlviz.data.Geometry of the clip (resize/crop/frames), or None

    def to_source_box(self, cells: Any, *, keys: bool = False) -> list[dict[str, Any]]:
        """Cells → their source frames and source pixel boxes (needs the clip geometry)."""
        if self.source is None:
            raise ValueError("this recording has no clip geometry: pass clip=... to nlviz.capture to map to the source")
        g = self.key if keys else self.query
        out = []
        for t0, t1, y0, x0, y1, x1 in g.cell_box(cells):
            frames = self.source.frames_to_source(int(np.floor(t0)), int(np.ceil(t1)))
            out.append(
                {"frames": list(frames), "box": tuple(float(v) for v in self.source.box_to_source((y0, x0, y1, x1)))}
            )
        return out

    def query_at_source(self, frame_t: int, y: float, x: float) -> tuple[int, int, int]:
        """A clicked source pixel (y, x) in model-input frame ``frame_t`` → the query cell of this block."""
        if self.source is None:
            return tuple(int(v) for v in self.query.cell_at(frame_t, y, x)[0])  # type: ignore[return-value]
        _, yi, xi = self.source.from_source(self.source.frame_indices[frame_t], y, x)
        h, w = self.query.input_size[1:]
        yi, xi = float(np.clip(yi, 0, h - 1)), float(np.clip(xi, 0, w - 1))
        return tuple(int(v) for v in self.query.cell_at(frame_t, yi, xi)[0])  # type: ignore[return-value]
