"""Where in time a query's attention goes: mass per key frame, and same-frame vs other-frame mass.

- temporal profile: (B, G, Q, T_k) the query's mass (:func:`nlviz.analysis.mass.row_mass`) summed over each
  key-grid frame; it sums to 1 over T_k.
- same-frame mass: the mass on key frames that cover the query's own input frames (equal indices when query
  and key grids have the same T; otherwise overlap of the input-frame spans from the geometry);
  other-frame mass = 1 − same-frame mass. A per-frame block has same-frame mass 1 by construction.
"""

from __future__ import annotations

import torch
from torch import Tensor

from nlviz.analysis.grids import overlap_1d
from nlviz.analysis.mass import grid_mass, per_query
from nlviz.ops.base import Affinity


def same_frame_table(aff: Affinity) -> Tensor:
    """(T_q, T_k) bool: key frame k covers some input frame of query frame t."""
    tq, tk = aff.query_grid[0], aff.key_grid[0]
    if aff.geometry is None:
        if tq != tk:
            raise ValueError(
                f"query grid T={tq} and key grid T={tk} differ: same-frame mass needs the Affinity's geometry"
            )
        return torch.eye(tq, dtype=torch.bool)
    t_in = aff.geometry.query.input_size[0]
    return overlap_1d(t_in, tq, tk) > 0


def temporal_profile(aff: Affinity) -> Tensor:
    """(B, G, Q, T_k) float64 mass per key frame (NaN rows for all-zero weights)."""
    return per_query(aff, lambda a: grid_mass(a).sum((-2, -1)))


def same_frame_mass(aff: Affinity) -> Tensor:
    """(B, G, Q) float64 share of each query's mass in its own frame(s)."""
    table = same_frame_table(aff)  # (Tq, Tk)

    def stat(a: Affinity) -> Tensor:
        sel = table[a.queries[:, 0]].to(torch.float64)  # (Q, Tk)
        return torch.einsum("bgqt,qt->bgq", grid_mass(a).sum((-2, -1)), sel)

    return per_query(aff, stat)


def other_frame_mass(aff: Affinity) -> Tensor:
    """(B, G, Q) float64 share of each query's mass outside its own frame(s): 1 − same-frame mass."""
    return 1 - same_frame_mass(aff)
