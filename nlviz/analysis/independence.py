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


def js_divergence(p: Tensor, q: Tensor) -> Tensor:
    """Normalized JS divergence (÷ log 2, in [0, 1]) between distributions along the last axis (0·log 0 = 0)."""
    p, q = p.to(torch.float64), q.to(torch.float64)
    m = (p + q) / 2
    kl_p = torch.where(p > 0, p * (p.clamp_min(1e-300).log() - m.clamp_min(1e-300).log()), 0).sum(-1)
    kl_q = torch.where(q > 0, q * (q.clamp_min(1e-300).log() - m.clamp_min(1e-300).log()), 0).sum(-1)
    return ((kl_p + kl_q) / 2 / math.log(2)).clamp(0, 1)


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
    return js_divergence(m[:, :, i], m[:, :, j]).nanmean(-1)


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
