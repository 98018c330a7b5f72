"""How concentrated a query's attention is: normalized entropy and top-k mass.

With m_i the query's mass over the N_k keys (:func:`nlviz.analysis.mass.row_mass`):

- normalized entropy = −Σ_j m_ij log m_ij / log N_k ∈ [0, 1]: 1 for a uniform row, 0 for a one-hot row
  (0 · log 0 = 0). N_k counts every key cell of the key grid, including those a per-frame block cannot reach,
  so a per-frame row that is uniform within its frame has entropy log(H·W) / log(T·H·W).
- top-k mass = the sum of the k largest m_ij ∈ [k / N_k, 1]: k / N_k for a uniform row, 1 when the
  attention sits on at most k keys.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from nlviz.analysis.mass import per_query, row_mass
from nlviz.ops.base import Affinity


def _entropy(aff: Affinity) -> Tensor:
    m = row_mass(aff)  # (B, G, Q, Nk)
    nk = m.shape[-1]
    h = -torch.xlogy(m, m).sum(-1)  # (B, G, Q) nats; xlogy(0, 0) = 0
    return h / math.log(nk) if nk > 1 else torch.zeros_like(h)


def normalized_entropy(aff: Affinity) -> Tensor:
    """(B, G, Q) entropy of each query's mass divided by log N_k (NaN for an all-zero row)."""
    return per_query(aff, _entropy)


def topk_mass(aff: Affinity, k: int) -> Tensor:
    """(B, G, Q) share of each query's mass on its k heaviest keys (NaN for an all-zero row)."""
    nk = aff.rows().shape[-1]
    if not isinstance(k, int) or isinstance(k, bool) or not 1 <= k <= nk:
        raise ValueError(f"topk_mass: k={k!r} must be an integer between 1 and the number of keys ({nk})")
    return per_query(aff, lambda a: row_mass(a).topk(k, dim=-1).values.sum(-1))
