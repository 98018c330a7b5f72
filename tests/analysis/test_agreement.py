"""Spearman ρ and top-k IoU on known vectors; attention vs an attribution map on the key grid."""

from __future__ import annotations

import math

import pytest
import torch
from scipy.stats import spearmanr

from nlviz.analysis import attribution_agreement, spearman, topk_iou
from nlviz.analysis.agreement import ranks


def test_ranks_and_spearman_on_known_vectors():
    assert ranks(torch.tensor([10.0, 20, 20, 30])).tolist() == [1, 2.5, 2.5, 4]
    a = torch.tensor([1.0, 2, 3, 4, 5])
    assert spearman(a, a) == pytest.approx(1.0)
    assert spearman(a, -a) == pytest.approx(-1.0)
    assert spearman(a, torch.tensor([1.0, 2, 3, 5, 4])) == pytest.approx(1 - 6 * 2 / (5 * 24))  # 1 − 6Σd²/(n(n²−1))
    b, c = torch.tensor([1.0, 2, 2, 3, 0, 7]), torch.tensor([1.0, 3, 2, 4, 4, 0])  # with ties
    assert spearman(b, c) == pytest.approx(spearmanr(b.numpy(), c.numpy()).statistic, abs=1e-12)
    assert math.isnan(spearman(torch.ones(4), a[:4]))
    with pytest.raises(ValueError, match="one grid"):
        spearman(a, a[:3])


def test_topk_iou_on_known_vectors():
    a, b = torch.tensor([0.0, 1, 2, 3]), torch.tensor([0.0, 2, 1, 3])
    assert topk_iou(a, b, 2) == pytest.approx(1 / 3)  # {3, 2} vs {3, 1}
    assert topk_iou(a, b, 4) == 1.0
    # ties go to the lower index: {0, 1} vs {2, 0}
    assert topk_iou(torch.tensor([1.0, 1, 1, 0]), torch.tensor([0.0, 0, 1, 0]), 2) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="between 1 and the number of cells"):
        topk_iou(a, b, 5)


def test_attention_against_an_attribution_on_the_key_grid(make_aff):
    aff = make_aff(torch.tensor([[0.1, 0.2, 0.3, 0.4]]), (1, 2, 2), (1, 2, 2), (1, 4, 4), [(0, 1, 1)])
    attr = torch.zeros(1, 4, 4)
    attr[0, :2, :2], attr[0, :2, 2:], attr[0, 2:, :2], attr[0, 2:, 2:] = 1, -2, 3, 4  # quadrant values
    attr[0, 0, 0] = 3  # quadrant mean (3 + 1 + 1 + 1) / 4 = 1.5
    r = attribution_agreement(aff, attr, k=2)
    assert r["spearman"] == pytest.approx(1.0) and r["topk_iou"] == 1.0 and r["grid"] == (1, 2, 2)
    signed = attribution_agreement(aff, attr, k=2, absolute=False)  # quadrant means (1.5, -2, 3, 4)
    assert signed["spearman"] == pytest.approx(0.8)  # ranks (2, 1, 3, 4) vs (1, 2, 3, 4): 1 − 6·2/60
    with pytest.raises(ValueError, match="not on the model-input grid"):
        attribution_agreement(aff, torch.zeros(1, 2, 2))
    with pytest.raises(ValueError, match="out of range"):
        attribution_agreement(aff, attr, query=1)
