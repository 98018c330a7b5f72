"""Which query cells a ViewSpec asks for, on a given clip and block.

Queries are resolved to *points of the model input* (t, y, x) first, then each block maps a point to the cell
that contains it, so "the same query" in several models or blocks means the same place in the clip:

- ``explicit`` + ``pixels``: (t, y, x) of the source video → the nearest sampled frame, and the source pixel
  mapped through the clip's resize and crop (a point the crop cut away is an error naming it);
- ``explicit`` + ``cells``: used as cells of every block directly (no points);
- ``grid``: n×n points at the centers of an even n×n tiling of model-input frame ``frame``;
- ``auto``: the k most attended key cells (``attended``: the largest total |weight| received over all query
  rows, groups averaged) or the k query rows with the highest normalized entropy (``entropy``), found on one
  block and turned into the centers of those cells;
- ``all``: every cell of each block (no points).
"""

from __future__ import annotations

import numpy as np
import torch

from nlviz.ops.base import all_queries


def source_points(points: list[tuple[float, float, float]], geometry) -> np.ndarray:
    """Source (frame, y, x) points → (Q, 3) model-input points (t, y, x), clipped to the input's pixel centers.

    ``geometry`` is the clip's :class:`nlviz.data.Geometry`.
    """
    idx = np.asarray(geometry.frame_indices)
    h, w = geometry.input_size
    out = []
    for i, (t, y, x) in enumerate(points):
        ti = int(np.argmin(np.abs(idx - int(t))))
        _, yi, xi = geometry.from_source(int(idx[ti]), float(y), float(x))
        yi, xi = float(yi), float(xi)
        if not (-0.5 <= yi <= h - 0.5 and -0.5 <= xi <= w - 0.5):
            raise ValueError(
                f"query {i} (t, y, x)={tuple(points[i])} is outside the model input: the resize and center crop "
                f"keep the source box (y0, x0, y1, x1)={tuple(round(v, 1) for v in geometry.source_box)}"
            )
        out.append((ti, min(max(yi, 0.0), h - 1.0), min(max(xi, 0.0), w - 1.0)))
    return np.asarray(out, dtype=np.float64).reshape(-1, 3)


def grid_points(n: int, frame: int | str, size: tuple[int, int, int]) -> np.ndarray:
    """n×n points (t, y, x) at the centers of an n×n tiling of input frame ``frame`` ("middle" = T // 2)."""
    t_in, h, w = size
    t = t_in // 2 if frame == "middle" else int(frame)
    if not 0 <= t < t_in:
        raise ValueError(f"queries.frame={frame} is outside the clip's {t_in} model-input frame(s)")
    ys = (np.arange(n) + 0.5) * h / n - 0.5
    xs = (np.arange(n) + 0.5) * w / n - 0.5
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    return np.stack([np.full(n * n, t, dtype=np.float64), yy.ravel(), xx.ravel()], 1)


def auto_points(rec, block: str, k: int, by: str) -> np.ndarray:
    """The centers (t, y, x) of the k most attended key cells (:func:`nlviz.analysis.received_weight`) or the k
    highest-entropy query cells (:func:`nlviz.analysis.normalized_entropy`, groups averaged) of ``block``."""
    from nlviz.analysis import iter_rows, normalized_entropy, received_weight

    qgrid, kgrid = rec.grids(block)
    geo = rec.geometry(block)
    if by == "attended":
        received = received_weight(rec, block)
        top = torch.topk(received, min(k, len(received))).indices
        _, hk, wk = kgrid
        chosen = torch.stack((top // (hk * wk), (top // wk) % hk, top % wk), 1).numpy()
        centers, grid = geo.key.cell_center(chosen), geo.key
    elif by == "entropy":
        cells = all_queries(qgrid)
        entropy = torch.cat([normalized_entropy(a)[0].nanmean(0) for a in iter_rows(rec, block, cells)])  # (N,)
        chosen = cells[torch.topk(entropy.nan_to_num(-1.0), min(k, len(entropy))).indices].numpy()
        centers, grid = geo.query.cell_center(chosen), geo.query
    else:
        raise ValueError(f"queries.by={by!r}; allowed: ['attended', 'entropy']")
    first = np.array([grid.cell_frames(int(t))[0] for t in chosen[:, 0]], dtype=np.float64)
    return np.stack([first, centers[:, 1], centers[:, 2]], 1)


def cells_at(points: np.ndarray, query_geometry) -> np.ndarray:
    """(Q, 3) input points → (Q, 3) cells of a block's query grid (order kept; duplicates kept)."""
    if len(points) == 0:
        return np.zeros((0, 3), dtype=np.int64)
    return query_geometry.cell_at(points[:, 0].astype(np.int64), points[:, 1], points[:, 2])
