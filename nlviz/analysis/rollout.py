"""Attention rollout across a model's operator blocks (Abnar & Zuidema, "Quantifying Attention Flow in
Transformers", ACL 2020), for a few query rows, without an N×N matrix.

Each block l becomes a row-stochastic map from its output cells to its input cells,

    Â_l = α · R_l + (1 − α) · A_l          (α = ``residual``, 0.5 as in the paper)

where A_l is the block's attention as mass (rows of |w| normalized to 1 for unnormalized kinds; groups
averaged, as the paper averages heads) with subsampled keys spread evenly over the input cells they pool,
and R_l is the identity residual (output cell i → input cell i; a strided block spreads cell i over the
input cells it covers). The block's input grid is the finer of its query and key grids. Between blocks,
a mass row moves from block l's input grid to block l−1's output grid by the same geometric spreading:
the backbone layers between operator blocks are not modelled (treated as position-preserving), which is
what "rollout across the operator blocks" means here.

A rollout row for query i of the last block is e_i · Â_L · S · Â_{L−1} · … · Â_1 — computed right to left
as a row vector: r · Â_l needs the rows of A_l only where r is non-zero, taken from the recording in chunks
(``max_bytes``). With ``top_k=None`` that is **exact** (the dense product of the matrices above, to float
rounding; tested on small grids). With ``top_k=k`` only the k largest entries of r (per batch item and
query) feed the attention term at each block; the identity term still uses all of r. Every Â is
row-stochastic and non-negative, hence non-expansive in L1, so the L1 distance to the exact row is at most
Σ_l (1 − α) · (mass dropped at block l), returned as ``extras["error_bound"]`` (B, Q).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from nlviz.analysis.grids import spread
from nlviz.analysis.mass import row_mass
from nlviz.analysis.rows import rows_per_chunk
from nlviz.extract.geometry import AffinityGeometry, GridGeometry
from nlviz.ops.base import DEFAULT_MAX_BYTES, Affinity, all_queries, as_queries


def input_grid(query_grid: tuple[int, int, int], key_grid: tuple[int, int, int]) -> tuple[int, int, int]:
    """A block's input grid: the finer of its query and key grids on each axis."""
    return tuple(max(q, k) for q, k in zip(query_grid, key_grid))  # type: ignore[return-value]


def _attend(rec: Any, block: str, r: Tensor, max_bytes: int) -> Tensor:
    """r (B, Q, N_q) float64 → r · A (B, Q, N_k): A's group-averaged mass rows, only where r ≠ 0."""
    qgrid, kgrid = rec.grids(block)
    cells = all_queries(qgrid)
    support = (r != 0).any(0).any(0).nonzero().flatten()  # query cells whose rows are needed
    out = r.new_zeros(*r.shape[:2], kgrid[0] * kgrid[1] * kgrid[2])
    step = rows_per_chunk(rec, block, max_bytes)
    for s in range(0, len(support), step):
        idx = support[s : s + step]
        mass = row_mass(rec.affinity(block, cells[idx], max_bytes=max_bytes)).nan_to_num(0).mean(1)  # (B, c, Nk)
        out += torch.einsum("bqc,bck->bqk", r[:, :, idx], mass)
    return out


def _truncate(r: Tensor, k: int | None) -> tuple[Tensor, Tensor]:
    """Keep the k largest entries of each row of r (B, Q, N); returns (kept, dropped mass (B, Q))."""
    if k is None or k >= r.shape[-1]:
        return r, r.new_zeros(r.shape[:2])
    vals, idx = r.topk(k, dim=-1)
    kept = torch.zeros_like(r).scatter_(-1, idx, vals)
    return kept, (r - kept).sum(-1)


def attention_rollout(
    rec: Any,
    queries: Any,
    *,
    blocks: list[str] | None = None,
    residual: float = 0.5,
    top_k: int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Affinity:
    """Rollout rows of ``queries`` ((t, y, x) cells of the last block's query grid) through ``blocks``
    (recorded block names in forward order; default all). Returns an Affinity of kind ``"rollout"``:
    weights (B, 1, Q, T, H, W) on the first block's input grid, rows summing to 1 (exact mode)."""
    names = list(rec.blocks) if blocks is None else list(blocks)
    if not names:
        raise ValueError("rollout needs at least one recorded block: run the model inside nlviz.capture")
    order = {b: i for i, b in enumerate(rec.blocks)}
    for b in names:
        rec.record(b)  # unknown block → ValueError listing the recorded ones
    if [order[b] for b in names] != sorted(order[b] for b in names):
        raise ValueError(f"blocks {names} must be in forward order: {[b for b in rec.blocks if b in names]}")
    if not 0 <= residual <= 1:
        raise ValueError(f"residual={residual!r} must be in [0, 1] (0.5 is Abnar & Zuidema's 0.5·A + 0.5·I)")
    if top_k is not None and (not isinstance(top_k, int) or top_k < 1):
        raise ValueError(f"top_k={top_k!r} must be a positive integer or None (exact)")
    if rec.input_size is None:
        raise ValueError("the recording has no input size: run the model inside nlviz.capture first")
    size = rec.input_size
    last_grid, _ = rec.grids(names[-1])
    q = as_queries(queries, last_grid)
    last = rec.record(names[-1])
    batch = last.inputs.batch // max(last.frames, 1)
    n = last_grid[0] * last_grid[1] * last_grid[2]
    flat = (q[:, 0] * last_grid[1] + q[:, 1]) * last_grid[2] + q[:, 2]
    r = torch.zeros(batch, len(q), n, dtype=torch.float64)
    r[:, torch.arange(len(q)), flat] = 1
    r = r.reshape(batch, len(q), *last_grid)  # (B, Q, T, H, W) on the last block's output grid
    grid, bound = last_grid, torch.zeros(batch, len(q), dtype=torch.float64)
    for name in reversed(names):
        qgrid, kgrid = rec.grids(name)
        ing = input_grid(qgrid, kgrid)
        r = spread(r, size, grid, qgrid)  # (B, Q, *qgrid)
        kept, dropped = _truncate(r.flatten(2), top_k)
        bound += (1 - residual) * dropped
        attn = _attend(rec, name, kept, max_bytes).reshape(batch, len(q), *kgrid)  # (B, Q, *kgrid)
        r = residual * spread(r, size, qgrid, ing) + (1 - residual) * spread(attn, size, kgrid, ing)
        grid = ing
    geo = AffinityGeometry(GridGeometry(size, last_grid), GridGeometry(size, grid), rec.source)
    return Affinity(
        weights=r.unsqueeze(1).to(torch.float32),
        queries=q,
        query_grid=last_grid,
        key_grid=grid,
        normalized=True,
        kind="rollout",
        geometry=geo,
        block=f"rollout({names[0]} … {names[-1]})" if len(names) > 1 else f"rollout({names[0]})",
        extras={"error_bound": bound},
    )
