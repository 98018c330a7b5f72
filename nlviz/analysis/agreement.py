"""Agreement between a query's attention and an attribution map: Spearman rank correlation and top-k IoU.

Both maps are compared on the Affinity's key grid (the coarser of the two, so no value is invented): the
attribution map, given on the model-input grid (T_in, H_in, W_in), is averaged over each key cell's input
pixels (:func:`nlviz.analysis.grids.average`); the attention is the query's mass (|w| / Σ|w| for
unnormalized kinds), groups averaged. ``absolute=True`` compares the attribution's magnitude.

- Spearman ρ: the Pearson correlation of the two rank vectors, tied values sharing their mean rank
  (as ``scipy.stats.spearmanr``); NaN when either map is constant.
- top-k IoU: |top_k(a) ∩ top_k(b)| / |top_k(a) ∪ top_k(b)|; ties at the k-th value are broken by the lower
  flat index, so the sets are always exactly k cells.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from nlviz.analysis.grids import average
from nlviz.analysis.mass import grid_mass, require_geometry
from nlviz.ops.base import Affinity


def ranks(x: Tensor) -> Tensor:
    """1-based ranks of a 1-D tensor, ties given their average rank (float64)."""
    vals, inverse, counts = torch.unique(x.flatten(), return_inverse=True, return_counts=True)
    ends = counts.cumsum(0).to(torch.float64)  # last rank of each distinct value
    return (ends - (counts.to(torch.float64) - 1) / 2)[inverse]


def spearman(a: Tensor, b: Tensor) -> float:
    """Spearman rank correlation of two equally sized maps (flattened)."""
    a, b = a.flatten(), b.flatten()
    if a.shape != b.shape:
        raise ValueError(f"spearman: maps of {a.numel()} and {b.numel()} values; put them on one grid first")
    ra, rb = ranks(a), ranks(b)
    ra, rb = ra - ra.mean(), rb - rb.mean()
    den = (ra.square().sum() * rb.square().sum()).sqrt()
    return float((ra * rb).sum() / den) if den > 0 else float("nan")


def _top(x: Tensor, k: int) -> set[int]:
    """Indices of the k largest values; a stable sort keeps the lower index first among ties."""
    return set(torch.sort(-x.to(torch.float64), stable=True).indices[:k].tolist())


def topk_iou(a: Tensor, b: Tensor, k: int) -> float:
    """IoU of the k highest cells of two equally sized maps (flattened; ties → lower index)."""
    a, b = a.flatten(), b.flatten()
    if a.shape != b.shape:
        raise ValueError(f"topk_iou: maps of {a.numel()} and {b.numel()} values; put them on one grid first")
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= a.numel():
        raise ValueError(f"topk_iou: k={k!r} must be an integer between 1 and the number of cells ({a.numel()})")
    sa, sb = _top(a, k), _top(b, k)
    return len(sa & sb) / len(sa | sb)


def attribution_on_keys(aff: Affinity, attribution: Tensor) -> Tensor:
    """An input-grid map (T_in, H_in, W_in) (or (H_in, W_in) for images) averaged onto the key grid."""
    geo = require_geometry(aff, "agreement")
    m = torch.as_tensor(attribution, dtype=torch.float64)
    if m.dim() == 2:
        m = m[None]
    size = tuple(geo.key.input_size)
    if tuple(m.shape) != size:
        raise ValueError(f"attribution map of shape {tuple(m.shape)} is not on the model-input grid (T, H, W)={size}")
    return average(m, size, size, aff.key_grid)


def attribution_agreement(
    aff: Affinity, attribution: Tensor, *, query: int = 0, batch: int = 0, k: int = 10, absolute: bool = True
) -> dict[str, Any]:
    """Spearman ρ and top-k IoU between query ``query`` of ``aff`` (batch item ``batch``) and an attribution
    map on the model-input grid, both on the key grid."""
    b, _, q = aff.weights.shape[:3]
    if not 0 <= query < q or not 0 <= batch < b:
        raise ValueError(f"query={query}, batch={batch} out of range: this Affinity has {q} queries, batch {b}")
    attention = grid_mass(aff)[batch, :, query].mean(0)  # (Tk, Hk, Wk)
    attr = attribution_on_keys(aff, attribution)
    if absolute:
        attr = attr.abs()
    return {
        "spearman": spearman(attention, attr),
        "topk_iou": topk_iou(attention, attr, k),
        "k": k,
        "grid": tuple(aff.key_grid),
        "query": tuple(aff.queries[query].tolist()),
    }
