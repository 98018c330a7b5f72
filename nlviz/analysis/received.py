"""How much weight each key cell receives, summed over many query rows of a recorded block.

received[j] = Σ_i |w_ij| over the query rows i (groups averaged first): the key cells a block attends to most
overall (``nlviz export --auto K`` starts from them). |w| is the raw weight, not the per-row mass, so rows that
carry more total weight (unnormalized kinds) count more; for softmax and BAT rows the two are the same.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from nlviz.analysis.rows import iter_rows, pick_queries
from nlviz.ops.base import DEFAULT_MAX_BYTES


def received_weight(
    rec: Any, block: str, queries: Any = None, *, batch: int = 0, max_bytes: int = DEFAULT_MAX_BYTES
) -> Tensor:
    """(N_k,) float64 Σ_i |w_ij| over ``queries`` (None = every query cell), keys row-major over the key grid."""
    q = pick_queries(rec, block, queries)
    _, kgrid = rec.grids(block)
    total = torch.zeros(math.prod(kgrid), dtype=torch.float64)
    for aff in iter_rows(rec, block, q, max_bytes=max_bytes):
        total += aff.weights[batch].double().abs().mean(0).flatten(1).sum(0)  # (Nk,)
    return total
