"""Block-level means: chunked over the recording, equal to the per-query statistics of the full Affinity."""

from __future__ import annotations

import json
import math

import pytest
import torch

from nlviz.analysis import block_stats, iter_rows, pick_queries, query_stats


def test_block_means_equal_the_full_affinity(recorded):
    _, _, rec = recorded
    for block in rec.blocks:
        full = rec.affinity(block)
        per_query = query_stats(full, k=5)
        got = block_stats(rec, block, k=5, max_bytes=30_000)  # many small chunks
        assert got.queries == full.weights.shape[2] and got.kind == full.kind
        for name, v in per_query.items():
            torch.testing.assert_close(got.means[name], v.nanmean(-1), rtol=1e-9, atol=1e-12)
        assert got.profile.shape == (*full.weights.shape[:2], full.key_grid[0])
        torch.testing.assert_close(got.profile.sum(-1), torch.ones_like(got.profile[..., 0]))
        d = got.to_dict()
        json.dumps(d)
        assert d["entropy"] == pytest.approx(float(per_query["entropy"].nanmean()), rel=1e-9)
    sb = block_stats(rec, rec.blocks[1], k=5)  # per-frame block: nothing leaves the frame
    assert sb.means["same_frame_mass"].min().item() == pytest.approx(1.0)
    assert sb.means["temporal_distance"].abs().max().item() == 0


def test_sampled_queries_are_seeded_and_chunks_cover_them(recorded):
    _, _, rec = recorded
    block = rec.blocks[0]
    q = pick_queries(rec, block, sample=17, seed=4)
    assert len(q) == 17 and torch.equal(q, pick_queries(rec, block, sample=17, seed=4))
    parts = list(iter_rows(rec, block, q, max_bytes=4 * 8 * 64 * 5))  # 5 rows a chunk
    assert [p.weights.shape[2] for p in parts] == [5, 5, 5, 2]
    assert torch.equal(torch.cat([p.queries for p in parts]), q)
    s = block_stats(rec, block, sample=17, seed=4)
    assert s.queries == 17 and not math.isnan(s.to_dict()["spatial_distance"])
    with pytest.raises(ValueError, match="positive number of queries"):
        pick_queries(rec, block, sample=0)
