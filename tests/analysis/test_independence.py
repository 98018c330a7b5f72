"""Query-independence: JS divergence by hand; the chunked recording version equals the one-pass version."""

from __future__ import annotations

import math

import pytest
import torch

from nlviz.analysis import js_divergence, pairwise_js, query_independence
from nlviz.analysis.independence import query_pairs
from nlviz.analysis.mass import row_mass


def test_js_of_identical_disjoint_and_a_hand_pair():
    p = torch.tensor([0.2, 0.3, 0.5])
    assert js_divergence(p, p).item() == 0
    assert js_divergence(torch.tensor([0.5, 0.5, 0, 0]), torch.tensor([0, 0, 0.3, 0.7])).item() == pytest.approx(1.0)
    m = (0.75, 0.25)  # p = (1, 0), q = (0.5, 0.5)
    js = 0.5 * math.log(1 / m[0]) + 0.5 * (0.5 * math.log(0.5 / m[0]) + 0.5 * math.log(0.5 / m[1]))
    assert js_divergence(torch.tensor([1.0, 0]), torch.tensor([0.5, 0.5])).item() == pytest.approx(js / math.log(2))


def test_pairs_all_or_seeded_sample():
    i, j = query_pairs(4, 100)
    assert list(zip(i.tolist(), j.tolist())) == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    a, b = query_pairs(1000, 64, seed=5)
    a2, b2 = query_pairs(1000, 64, seed=5)
    assert len(a) == 64 and (a != b).all() and torch.equal(a, a2) and torch.equal(b, b2)
    assert not torch.equal(a, query_pairs(1000, 64, seed=6)[0])
    with pytest.raises(ValueError, match="at least 2 queries"):
        query_pairs(1, 10)


def test_pairwise_js_of_hand_rows(make_aff):
    rows = torch.tensor([[0.5, 0.5, 0, 0], [0.5, 0.5, 0, 0], [0, 0, 0.5, 0.5]])  # pairs: 0, 1, 1
    aff = make_aff(rows, (1, 1, 3), (1, 2, 2), (1, 2, 6), [(0, 0, 0), (0, 0, 1), (0, 0, 2)])
    assert pairwise_js(aff).item() == pytest.approx(2 / 3)


def test_recording_version_is_chunked_and_equals_one_pass(recorded):
    _, _, rec = recorded
    for block in rec.blocks:
        full = rec.affinity(block)  # small grid: every row
        i, j = query_pairs(full.weights.shape[2], 300, seed=2)
        m = row_mass(full)
        expected = js_divergence(m[:, :, i], m[:, :, j]).mean(-1)
        got = query_independence(rec, block, pairs=300, seed=2, max_bytes=20_000)  # a few rows per chunk
        torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-12)
        assert got.shape == full.weights.shape[:2] and ((got > 0) & (got < 1)).all()
