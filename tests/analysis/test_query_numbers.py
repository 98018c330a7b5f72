"""One query's plain numbers (query_numbers, query_profile): the values every view of a query shows."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nlviz.analysis import query_numbers, query_profile, query_stats
from nlviz.extract.geometry import AffinityGeometry, GridGeometry
from nlviz.ops.base import Affinity

T, H, W = 2, 8, 8


def aff_of(weights: torch.Tensor, kind: str = "softmax", normalized: bool = True) -> Affinity:
    geo = AffinityGeometry(GridGeometry((T, H, W), (T, 4, 4)), GridGeometry((T, H, W), (T, 4, 4)))
    return Affinity(
        weights=weights,
        queries=torch.tensor([[0, 1, 1]] * weights.shape[2]),
        query_grid=(T, 4, 4),
        key_grid=(T, 4, 4),
        normalized=normalized,
        kind=kind,
        geometry=geo,
    )


def test_a_one_hot_row_has_known_numbers():
    w = torch.zeros(1, 1, 1, T, 4, 4)
    w[0, 0, 0, 1, 3, 1] = 1.0  # query (0, 1, 1): center (0.5, 2.5, 2.5) → key center (1.5, 6.5, 2.5) px
    n = query_numbers(aff_of(w), k=3)
    assert n["spatial_distance"] == pytest.approx(4.0)
    assert n["temporal_distance"] == pytest.approx(1.0)
    assert n["entropy"] == 0.0 and n["topk_mass"] == 1.0 and n["same_frame_mass"] == 0.0
    np.testing.assert_array_equal(query_profile(aff_of(w)).numpy(), [0.0, 1.0])


def test_groups_are_averaged_after_each_group_is_read_as_a_distribution():
    w = torch.rand(1, 3, 2, T, 4, 4, generator=torch.Generator().manual_seed(0)) - 0.3  # signed rows
    aff = aff_of(w, kind="dot_product", normalized=False)
    mass = w.abs().double() / w.abs().double().sum((-3, -2, -1), keepdim=True)  # (1, G, Q, T, 4, 4)
    expect = mass[0, :, 1].sum((-1, -2)).mean(0)  # query 1: per-group mass per frame, groups averaged
    torch.testing.assert_close(query_profile(aff, 1), expect)
    torch.testing.assert_close(query_profile(aff, 1, group=2), mass[0, 2, 1].sum((-1, -2)))
    stats = query_stats(aff, k=5)
    for name, v in query_numbers(aff, 1, k=5).items():
        assert v == pytest.approx(float(stats[name][0, :, 1].mean()), abs=1e-12)
    assert query_numbers(aff, 1, k=5, group=0)["entropy"] == pytest.approx(float(stats["entropy"][0, 0, 1]))


def test_an_all_zero_row_has_undefined_numbers():
    n = query_numbers(aff_of(torch.zeros(1, 1, 1, T, 4, 4)))
    assert all(math.isnan(v) for v in n.values())
    assert torch.isnan(query_profile(aff_of(torch.zeros(1, 1, 1, T, 4, 4)))).all()
