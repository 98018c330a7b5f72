"""Mean attention distance of a query: how far, in input pixels and input frames, its attention mass sits.

For query i with mass m_ij over keys j (:func:`nlviz.analysis.mass.row_mass`; |w| normalized to sum 1 for
unnormalized kinds), with cell centers c = (t, y, x) in model-input coordinates (frames, pixels; from the
Affinity's geometry, so subsampled key grids and strided blocks are measured on the same ruler):

- spatial distance  = Σ_j m_ij · ‖(y_i, x_i) − (y_j, x_j)‖₂     (pixels; time ignored)
- temporal distance = Σ_j m_ij · |t_i − t_j|                     (frames)

This is the "mean attention distance" of Dosovitskiy et al. (ViT, 2021) extended to video. Averaged over
all queries, uniform attention over a W×W frame gives about 0.52·W pixels; a block that only looks at its
own cell gives 0.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from nlviz.analysis.mass import per_query, require_geometry, row_mass
from nlviz.ops.base import Affinity, all_queries


def _centers(aff: Affinity) -> tuple[Tensor, Tensor]:
    """Query centers (Q, 3) and key centers (Nk, 3), float64, as (t, y, x) in input frames/pixels."""
    geo = require_geometry(aff, "attention distance")
    q = torch.from_numpy(np.asarray(geo.query.cell_center(aff.queries.numpy())))  # (Q, 3)
    k = torch.from_numpy(np.asarray(geo.key.cell_center(all_queries(aff.key_grid).numpy())))  # (Nk, 3)
    return q.to(torch.float64), k.to(torch.float64)


def _spatial(aff: Affinity) -> Tensor:
    q, k = _centers(aff)
    d = torch.cdist(q[:, 1:], k[:, 1:])  # (Q, Nk) pixels
    return torch.einsum("bgqk,qk->bgq", row_mass(aff), d)


def _temporal(aff: Affinity) -> Tensor:
    q, k = _centers(aff)
    d = (q[:, :1] - k[None, :, 0]).abs()  # (Q, Nk) frames
    return torch.einsum("bgqk,qk->bgq", row_mass(aff), d)


def spatial_distance(aff: Affinity) -> Tensor:
    """(B, G, Q) mass-weighted mean spatial distance, in model-input pixels (NaN for an all-zero row)."""
    return per_query(aff, _spatial)


def temporal_distance(aff: Affinity) -> Tensor:
    """(B, G, Q) mass-weighted mean temporal distance, in model-input frames (NaN for an all-zero row)."""
    return per_query(aff, _temporal)
