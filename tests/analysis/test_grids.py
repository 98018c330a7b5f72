"""Grid-to-grid maps: overlap matrices by hand, mass preserved by spread, means by average."""

from __future__ import annotations

import pytest
import torch

from nlviz.analysis.grids import average, overlap_1d, spread, spread_matrices


def test_overlap_matrices_by_hand():
    assert overlap_1d(4, 2, 4).tolist() == [[1, 1, 0, 0], [0, 0, 1, 1]]
    assert overlap_1d(3, 3, 2).tolist() == [[1, 0], [0.5, 0.5], [0, 1]]  # cells of 1 vs 1.5 px
    with pytest.raises(ValueError, match="cannot tile"):
        overlap_1d(3, 4, 1)


def test_spread_keeps_mass_and_average_keeps_means():
    x = torch.zeros(1, 2, 2, dtype=torch.float64)
    x[0, 1, 0] = 1.0  # mass on the bottom-left key cell of a 2×2 grid over 4×4 pixels
    fine = spread(x, (1, 4, 4), (1, 2, 2), (1, 4, 4))
    assert fine[0, 2:, :2].tolist() == [[0.25, 0.25], [0.25, 0.25]] and fine.sum().item() == 1.0
    mt, my, mx = spread_matrices((1, 6, 6), (1, 3, 3), (1, 2, 2))
    torch.testing.assert_close(my, torch.tensor([[1, 0], [0.5, 0.5], [0, 1]], dtype=torch.float64))
    pixels = torch.arange(16, dtype=torch.float64).reshape(1, 4, 4)
    means = average(pixels, (1, 4, 4), (1, 4, 4), (1, 2, 2))
    assert means[0].tolist() == [[2.5, 4.5], [10.5, 12.5]]
    back = average(means, (1, 4, 4), (1, 2, 2), (1, 4, 4))  # piecewise constant upsampling
    assert back[0, 0].tolist() == [2.5, 2.5, 4.5, 4.5]
