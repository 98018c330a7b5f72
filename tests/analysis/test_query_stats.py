"""Per-query statistics against hand computations on tiny hand-built Affinities."""

from __future__ import annotations

import math

import pytest
import torch

from nlviz.analysis import (
    normalized_entropy,
    other_frame_mass,
    row_mass,
    same_frame_mass,
    spatial_distance,
    temporal_distance,
    temporal_profile,
    topk_mass,
)
from nlviz.analysis.mass import per_query
from nlviz.analysis.temporal import same_frame_table

GRID = (1, 3, 4)  # 12 keys
SIZE = (1, 3, 4)


def test_entropy_and_topk_mass_of_known_rows(make_aff):
    uniform = torch.full((12,), 1 / 12)
    onehot = torch.zeros(12)
    onehot[5] = 1
    two = torch.zeros(12)
    two[[0, 7]] = 0.5
    aff = make_aff(torch.stack([uniform, onehot, two]), GRID, GRID, SIZE, [(0, 0, 0)] * 3)
    ent = normalized_entropy(aff)[0, 0]
    torch.testing.assert_close(ent, torch.tensor([1.0, 0.0, math.log(2) / math.log(12)], dtype=torch.float64))
    torch.testing.assert_close(topk_mass(aff, 3)[0, 0], torch.tensor([0.25, 1.0, 1.0], dtype=torch.float64))
    torch.testing.assert_close(topk_mass(aff, 1)[0, 0], torch.tensor([1 / 12, 1.0, 0.5], dtype=torch.float64))
    with pytest.raises(ValueError, match="between 1 and the number of keys"):
        topk_mass(aff, 13)


def test_unnormalized_rows_use_abs_mass_and_zero_rows_are_nan(make_aff):
    rows = torch.zeros(2, 4)
    rows[0] = torch.tensor([-1.0, 1.0, 0.0, 2.0])  # mass [.25, .25, 0, .5]
    aff = make_aff(rows, (1, 1, 1), (1, 2, 2), (1, 2, 2), [(0, 0, 0)] * 2, normalized=False, kind="dot_product")
    torch.testing.assert_close(row_mass(aff)[0, 0, 0], torch.tensor([0.25, 0.25, 0, 0.5], dtype=torch.float64))
    h = normalized_entropy(aff)[0, 0]
    assert h[0].item() == pytest.approx((2 * 0.25 * math.log(4) + 0.5 * math.log(2)) / math.log(4), abs=1e-12)
    assert h[0].item() == pytest.approx(0.75, abs=1e-12)
    assert math.isnan(h[1].item())


def test_distances_on_a_strided_and_subsampled_grid(make_aff):
    """Input 2×8×8, query grid 2×4×4 (2 px cells), key grid 2×2×2 (4 px cells)."""
    rows = torch.zeros(3, 8)
    rows[0, 3] = 1  # key (0, 1, 1): center (5.5, 5.5)
    rows[1, 4] = 1  # key (1, 0, 0): center (1.5, 1.5), next frame
    rows[2, [3, 4]] = 0.5
    aff = make_aff(rows, (2, 4, 4), (2, 2, 2), (2, 8, 8), [(0, 0, 0)] * 3)  # query center (0.5, 0.5)
    far, near = math.hypot(5, 5), math.hypot(1, 1)
    torch.testing.assert_close(
        spatial_distance(aff)[0, 0], torch.tensor([far, near, (far + near) / 2], dtype=torch.float64)
    )
    torch.testing.assert_close(temporal_distance(aff)[0, 0], torch.tensor([0.0, 1.0, 0.5], dtype=torch.float64))
    torch.testing.assert_close(
        temporal_profile(aff)[0, 0], torch.tensor([[1.0, 0], [0, 1], [0.5, 0.5]], dtype=torch.float64)
    )
    torch.testing.assert_close(same_frame_mass(aff)[0, 0], torch.tensor([1.0, 0.0, 0.5], dtype=torch.float64))
    torch.testing.assert_close(other_frame_mass(aff)[0, 0], torch.tensor([0.0, 1.0, 0.5], dtype=torch.float64))
    # a query in frame 1 sees frame 1 as its own
    q1 = make_aff(rows, (2, 4, 4), (2, 2, 2), (2, 8, 8), [(1, 3, 3)] * 3)  # center (6.5, 6.5)
    torch.testing.assert_close(same_frame_mass(q1)[0, 0], torch.tensor([0.0, 1.0, 0.5], dtype=torch.float64))
    torch.testing.assert_close(spatial_distance(q1)[0, 0, 0], torch.tensor(math.hypot(1, 1), dtype=torch.float64))


def test_same_frame_table_with_a_coarser_key_time_axis(make_aff):
    aff = make_aff(torch.full((1, 2), 0.5), (4, 1, 1), (2, 1, 1), (4, 1, 1), [(3, 0, 0)])
    assert same_frame_table(aff).tolist() == [[True, False], [True, False], [False, True], [False, True]]
    assert same_frame_mass(aff).item() == pytest.approx(0.5)
    no_geo = make_aff(torch.full((1, 2), 0.5), (4, 1, 1), (2, 1, 1), (4, 1, 1), [(3, 0, 0)], geometry=False)
    with pytest.raises(ValueError, match="needs the Affinity's geometry"):
        same_frame_mass(no_geo)
    with pytest.raises(ValueError, match="needs cell geometry"):
        spatial_distance(no_geo)


def test_chunked_statistics_equal_one_pass(make_aff):
    g = torch.Generator().manual_seed(0)
    rows = torch.rand(2, 3, 50, 24, generator=g)  # (B, G, Q, Nk), unnormalized
    q = torch.stack([torch.zeros(50), torch.arange(50) // 10 % 2, torch.arange(50) % 4], 1).long()
    aff = make_aff(rows, (1, 2, 4), (2, 3, 4), (2, 6, 8), q, normalized=False, kind="concatenation")
    one = spatial_distance(aff)
    chunked = per_query(aff, lambda a: spatial_distance(a), max_bytes=2 * 3 * 24 * 8 * 3 * 7)  # 7 queries a chunk
    torch.testing.assert_close(chunked, one, rtol=0, atol=0)
    assert one.shape == (2, 3, 50)
