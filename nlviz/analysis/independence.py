"""Query-independence of a block: do different queries attend differently at all?

Cao et al. (GCNet, 2019) observed that many trained non-local blocks give nearly the same attention map for
every query. We measure it as the mean Jensen–Shannon divergence between the rows (mass distributions,
:func:`nlviz.analysis.mass.row_mass`) of two *different* queries, normalized by log 2 so it lies in [0, 1]:

    JS(p, q) = ½ Σ_j p_j log(p_j / m_j) + ½ Σ_j q_j log(q_j / m_j),  m = (p + q) / 2,   reported as JS / log 2

0 = every query attends the same way (query-independent: a global context block would do); 1 = any two
queries attend to disjoint keys. When the number of distinct pairs Q(Q−1)/2 exceeds ``pairs``, ``pairs``
ordered pairs (i ≠ j) are drawn uniformly by a ``torch.Generator`` seeded with ``seed``; otherwise every
unordered pair is used once. Rows are taken in chunks: never more than ``max_bytes`` of rows at once.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from nlviz.analysis.mass import row_mass
from nlviz.analysis.rows import pick_queries, rows_per_chunk
from nlviz.ops.base import DEFAULT_MAX_BYTES, Affinity


def _entropy(p: Tensor) -> Tensor:
    """Shannon entropy in nats along the last axis (0·log 0 = 0; NaN for a NaN row)."""
    return -torch.xlogy(p, p).sum(-1)


def _js(h_mid: Tensor, h_p: Tensor, h_q: Tensor) -> Tensor:
    """JS / log 2 from the entropies of the midpoint and of the two distributions, clamped to [0, 1]."""
    return ((h_mid - (h_p + h_q) / 2) / math.log(2)).clamp(0, 1)


def js_divergence(p: Tensor, q: Tensor) -> Tensor:
    """Normalized JS divergence (÷ log 2, in [0, 1]) between distributions along the last axis (0·log 0 = 0; NaN
    where a row is NaN). Computed as H((p + q) / 2) − (H(p) + H(q)) / 2, the same quantity as the KL form."""
    p, q = p.to(torch.float64), q.to(torch.float64)
    return _js(_entropy((p + q) / 2), _entropy(p), _entropy(q))


def query_pairs(n: int, pairs: int, seed: int = 0) -> tuple[Tensor, Tensor]:
    """Index pairs (i, j), i ≠ j, among n queries: all unordered pairs, or ``pairs`` seeded random ones."""
    if n < 2:
        raise ValueError(f"query-independence needs at least 2 queries, got {n}")
    if not isinstance(pairs, int) or isinstance(pairs, bool) or pairs < 1:
        raise ValueError(f"pairs={pairs!r} must be a positive integer")
    if n * (n - 1) // 2 <= pairs:
        i, j = torch.triu_indices(n, n, offset=1)
        return i, j
    gen = torch.Generator().manual_seed(seed)
    i = torch.randint(0, n, (pairs,), generator=gen)
    j = torch.randint(0, n - 1, (pairs,), generator=gen)
    return i, j + (j >= i).long()


def pairwise_js(aff: Affinity, *, pairs: int = 4096, seed: int = 0) -> Tensor:
    """(B, G) mean normalized JS divergence between the rows of different queries of ``aff``."""
    i, j = query_pairs(aff.weights.shape[2], pairs, seed)
    m = row_mass(aff)  # (B, G, Q, Nk)
    h = _entropy(m)  # (B, G, Q): each row's entropy once, not once per pair
    return _js(_entropy((m[:, :, i] + m[:, :, j]) / 2), h[:, :, i], h[:, :, j]).nanmean(-1)


def query_independence(
    rec: Any,
    block: str,
    *,
    queries: Any = None,
    pairs: int = 4096,
    seed: int = 0,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Tensor:
    """(B, G) mean normalized JS divergence between rows of different queries of a recorded block.

    ``queries``: the candidate cells (None = the whole query grid); pairs are drawn among them.
    """
    q = pick_queries(rec, block, queries)
    i, j = query_pairs(len(q), pairs, seed)
    step = max(1, rows_per_chunk(rec, block, max_bytes) // 2)
    total, count = None, None
    for s in range(0, len(i), step):
        ii, jj = i[s : s + step], j[s : s + step]
        aff = rec.affinity(block, q[torch.cat([ii, jj])], max_bytes=max_bytes)
        m = row_mass(aff)  # (B, G, 2c, Nk)
        js = js_divergence(m[:, :, : len(ii)], m[:, :, len(ii) :])  # (B, G, c)
        ok = ~js.isnan()
        part, n = torch.where(ok, js, 0).sum(-1), ok.sum(-1)
        total, count = (part, n) if total is None else (total + part, count + n)
    return total / count


def js_spread(aff: Affinity) -> Tensor:
    """(B, G) mean normalized JS divergence between each query's mass and the mean mass of ``aff``'s queries
    (all-zero rows skipped)."""
    m = row_mass(aff)  # (B, G, Q, Nk)
    ok = ~m.isnan().any(-1)  # (B, G, Q)
    mean = torch.where(ok[..., None], m, 0).sum(2) / ok.sum(2, keepdim=True).clamp_min(1)  # (B, G, Nk)
    js = js_divergence(m, mean[:, :, None].expand_as(m))  # (B, G, Q)
    return torch.where(ok, js, torch.nan).nanmean(-1)


def mean_cosine_distance(v: Tensor) -> Tensor:
    """(..., Q, D) vectors → (...) mean of 1 − cos(v_i, v_j) over the pairs i < j (float64; vectors of norm 0 or
    NaN are skipped; NaN with fewer than 2 left)."""
    v = v.to(torch.float64)
    norm = v.norm(dim=-1, keepdim=True)  # (..., Q, 1)
    ok = (norm[..., 0] > 0) & ~v.isnan().any(-1)  # (..., Q)
    u = torch.where(ok[..., None], v / norm.clamp_min(1e-300), 0)  # unit vectors, 0 for skipped ones
    gram = u @ u.transpose(-1, -2)  # (..., Q, Q) cosines
    n = ok.sum(-1).to(torch.float64)  # (...)
    pairs = n * (n - 1) / 2
    cos_sum = (gram.sum((-1, -2)) - gram.diagonal(dim1=-2, dim2=-1).sum(-1)) / 2  # Σ_{i<j} cos_ij
    return torch.where(pairs > 0, 1 - cos_sum / pairs.clamp_min(1), torch.nan)


def cosine_independence(aff: Affinity) -> Tensor:
    """(B, G) GCNet's attention distance: :func:`mean_cosine_distance` of the queries' mass rows."""
    return mean_cosine_distance(row_mass(aff))
