"""Walk many query rows of a recorded block in chunks, so no more than a memory bound is ever held.

``Recording.affinity(block, None)`` returns every row at once — (B, G, N, N_k) floats, 2.4 GB at
N = N_k = 25088. Statistics over all queries instead take the rows chunk by chunk from here.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor

from nlviz.ops.base import DEFAULT_MAX_BYTES, Affinity, as_queries


def pick_queries(rec: Any, block: str, queries: Any = None, *, sample: int | None = None, seed: int = 0) -> Tensor:
    """(Q, 3) query cells: ``queries`` (None = every cell of the block's query grid), or ``sample`` of them
    drawn without replacement by a ``torch.Generator`` seeded with ``seed`` (kept in row-major order)."""
    qgrid, _ = rec.grids(block)
    q = as_queries(queries, qgrid)
    if sample is not None:
        if not isinstance(sample, int) or isinstance(sample, bool) or sample < 1:
            raise ValueError(f"sample={sample!r} must be a positive number of queries")
        if sample < len(q):
            gen = torch.Generator().manual_seed(seed)
            q = q[torch.randperm(len(q), generator=gen)[:sample].sort().values]
    return q


def rows_per_chunk(rec: Any, block: str, max_bytes: int, overhead: int = 4) -> int:
    """Query rows per chunk so that ``overhead`` float64-sized copies of a chunk's rows fit ``max_bytes``."""
    _, kgrid = rec.grids(block)
    r = rec.record(block)
    batch = r.inputs.batch // max(r.frames, 1)  # per-frame blocks fold T into the recorded batch
    per_row = batch * r.op.num_groups(r.inputs) * math.prod(kgrid) * 8 * overhead
    return max(1, max_bytes // per_row)


def iter_rows(
    rec: Any, block: str, queries: Tensor, *, max_bytes: int = DEFAULT_MAX_BYTES, overhead: int = 4
) -> Iterator[Affinity]:
    """Affinities of consecutive chunks of ``queries`` ((Q, 3) cells) from ``rec.affinity``."""
    step = rows_per_chunk(rec, block, max_bytes, overhead)
    for s in range(0, len(queries), step):
        yield rec.affinity(block, queries[s : s + step], max_bytes=max_bytes)
