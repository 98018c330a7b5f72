"""timm's NonLocalAttn captured as it is: rows equal the weights its own forward builds, with its own logit scale
(``scale`` = 1/√C of the *input* channels, or 1 with use_scale=False), on odd, non-square maps."""

from __future__ import annotations

import itertools

import pytest
import torch
from extract_helpers import assert_recorded, assert_rows_exact
from torch import nn

from nlviz.extract import known_classes
from support.randomize import randomize
from support.refs import load_or_skip, timm_non_local_attn

SHAPES = [(2, 12, 7, 9), (2, 12, 5, 3), (2, 12, 1, 11)]


def _block(use_scale: bool, seed: int = 0) -> nn.Module:
    return randomize(
        load_or_skip(timm_non_local_attn).NonLocalAttn(12, use_scale=use_scale, rd_channels=6), seed=seed, std=0.3
    )


@pytest.mark.parametrize("use_scale,shape", list(itertools.product((True, False), SHAPES)), ids=str)
def test_rows_equal_the_blocks_own_weights(use_scale, shape):
    block = _block(use_scale)
    assert block.scale == (12**-0.5 if use_scale else 1.0)  # 1/√C, C the input channels (C' = 6)
    assert_rows_exact(block, torch.randn(*shape))


def test_kind_grids_scale_and_names_follow_the_block():
    model = nn.Sequential(nn.Conv2d(3, 12, 1), nn.Sequential(nn.ReLU(), _block(True))).eval()
    rec = assert_recorded(model, torch.randn(2, 3, 7, 9), "1.1", kind="softmax", grids=((1, 7, 9), (1, 7, 9)))
    torch.testing.assert_close(rec.affinity("1.1").rows().sum(-1), torch.ones(2, 1, 63))
    assert rec.record("1.1").op.scale_of(6) == 12**-0.5  # the block's own scale, not 1/√C'


def test_known_classes_lists_it():
    assert "timm: timm.layers.non_local_attn.NonLocalAttn (softmax)" in known_classes()
