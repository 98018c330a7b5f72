"""Attention *mass*: every statistic in this package reads a row of weights as a distribution over keys.

For normalized kinds (``softmax``, ``bilinear``: rows are non-negative and sum to 1) the mass is the row
itself. For the other kinds (``dot_product``, ``concatenation``, ``linear_contribution``, ``jacobian``) the
mass is ``|w| / Σ|w|``: the share of the row's absolute weight each key carries. A row whose weights are
all zero has no distribution: its mass is NaN, and aggregates skip it (``nanmean``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import torch
from torch import Tensor

from nlviz.ops.base import Affinity


def row_mass(aff: Affinity) -> Tensor:
    """(B, G, Q, Nk) float64 distributions over keys (see the module docstring), keys row-major over (T, H, W)."""
    w = aff.rows().to(torch.float64)  # (B, G, Q, Nk)
    if not aff.normalized:
        w = w.abs()
    total = w.sum(-1, keepdim=True)  # (B, G, Q, 1)
    return torch.where(total > 0, w / total.clamp_min(torch.finfo(torch.float64).tiny), torch.nan)


def grid_mass(aff: Affinity) -> Tensor:
    """The same distributions shaped (B, G, Q, Tk, Hk, Wk)."""
    return row_mass(aff).reshape(aff.weights.shape)


def require_geometry(aff: Affinity, what: str) -> Any:
    """The Affinity's geometry, or a ValueError saying how to get one."""
    if aff.geometry is None:
        raise ValueError(
            f"{what} needs cell geometry (input pixels per cell): use an Affinity from Recording.affinity after "
            "running the model inside nlviz.capture, or set Affinity.geometry to an AffinityGeometry"
        )
    return aff.geometry


#: bytes of float64 temporaries one chunk of query rows may use inside a statistic
STAT_CHUNK_BYTES = 128 * 2**20


def query_chunks(aff: Affinity, max_bytes: int = STAT_CHUNK_BYTES) -> list[Affinity]:
    """``aff`` split along its queries so that one chunk's float64 rows (and a same-size temporary) fit
    ``max_bytes``; a statistic computed per chunk and concatenated along dim 2 equals the whole."""
    b, g, q = aff.weights.shape[:3]
    per_query = max(1, b * g * aff.rows().shape[-1] * 8 * 3)
    step = max(1, max_bytes // per_query)
    if q <= step:
        return [aff]
    return [
        replace(aff, weights=aff.weights[:, :, s : s + step], queries=aff.queries[s : s + step])
        for s in range(0, q, step)
    ]


def per_query(aff: Affinity, stat: Callable[[Affinity], Tensor], max_bytes: int = STAT_CHUNK_BYTES) -> Tensor:
    """Apply a per-query statistic ``stat(aff) -> (B, G, Q, ...)`` chunk by chunk and concatenate."""
    return torch.cat([stat(part) for part in query_chunks(aff, max_bytes)], dim=2)
