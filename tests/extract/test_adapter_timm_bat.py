"""timm's BilinearAttnTransform and BatNonLocalAttn captured as they are: rows equal the effective map P̃ᵢ⊗Q̃ⱼ of the
P, Q the block multiplies with in its own forward, and the Affinity is nlviz's ``bat`` op's for the converted
weights — for every block size and group count, non-square and odd shapes, B=2."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
from adapter_helpers import BLOCK, assert_same_affinity, bilinear_map, captured, converted_op, spied_bilinear, wrap
from torch import nn

import nlviz
from support.randomize import randomize
from support.refs import load_or_skip, timm_non_local_attn

pytestmark = pytest.mark.ref

CASES = [  # (B, C, H, W), block_size, groups, rd_channels
    ((2, 16, 6, 9), 3, 2, 8),  # non-square, odd W
    ((2, 16, 4, 4), 2, 4, 8),
    ((2, 24, 5, 10), 5, 3, 12),  # s = H: no upsampling along H; odd H
    ((2, 16, 8, 4), 4, 1, 8),  # one group, H > W
]
KINDS = ["block", "transform"]


def _block(c: int, s: int, k: int, rd: int) -> nn.Module:
    timm = load_or_skip(timm_non_local_attn)
    block = timm.BatNonLocalAttn(c, block_size=s, groups=k, rd_channels=rd)
    return randomize(block, seed=s * 10 + k, std=0.3, mean_std=0.1)


def _models(block: nn.Module, which: str) -> tuple[nn.Module, nn.Module, str]:
    """(model, the module whose forward builds the weights, its name): the block, or conv1 → the transform."""
    if which == "block":
        return wrap(block), block, BLOCK
    return nn.Sequential(OrderedDict(reduce=block.conv1, ba=block.ba)).eval(), block.ba, "ba"


@pytest.mark.parametrize("which", KINDS)
@pytest.mark.parametrize("shape,s,k,rd", CASES)
def test_rows_equal_the_map_of_the_blocks_own_p_and_q(which, shape, s, k, rd):
    block = _block(shape[1], s, k, rd)
    model, inner, name = _models(block, which)
    x = torch.randn(shape)
    aff = captured(model, x, name)
    x_inner = x if which == "block" else block.conv1(x).detach()
    p, q, t = spied_bilinear(inner, x_inner, k)
    assert t is None
    rows = aff.rows()
    torch.testing.assert_close(rows, bilinear_map(p, q), atol=1e-5, rtol=0)
    torch.testing.assert_close(aff.extras["P"], p[:, :, 0], atol=1e-6, rtol=0)
    torch.testing.assert_close(aff.extras["Q"], q[:, :, 0], atol=1e-6, rtol=0)
    torch.testing.assert_close(rows.sum(-1), torch.ones(rows.shape[:3]), atol=1e-5, rtol=0)
    assert aff.kind == "bilinear" and aff.normalized and aff.groups == k


@pytest.mark.parametrize("which", KINDS)
@pytest.mark.parametrize("shape,s,k,rd", CASES)
def test_affinity_equals_the_converted_bat_op(which, shape, s, k, rd):
    block = _block(shape[1], s, k, rd)
    model, _, name = _models(block, which)
    op = converted_op(block, "timm", "bat", shape[1], reduced_channels=rd, block_size=s, groups=k, bias=False)
    op_model = wrap(op) if which == "block" else nn.Sequential(OrderedDict(ba=op)).eval()
    x = torch.randn(shape)
    want = captured(op_model, x, BLOCK if which == "block" else "ba")
    assert_same_affinity(captured(model, x, name), want)


def test_names_classes_and_the_transform_inside_a_block():
    timm = load_or_skip(timm_non_local_attn)
    block = randomize(timm.BatNonLocalAttn(16, block_size=2, groups=2, rd_channels=8), std=0.3)
    alone = randomize(timm.BilinearAttnTransform(16, block_size=2, groups=4), seed=1, std=0.3)
    model = nn.Sequential(nn.Conv2d(3, 16, 1), nn.Sequential(block), alone).eval()
    assert nlviz.extract.block_names(model) == ["1.0", "2"]  # 1.0.ba is inside a recorded block
    with torch.no_grad(), nlviz.capture(model) as rec:
        model(torch.randn(2, 3, 4, 6))
    assert rec.blocks == ["1.0", "2"] and rec.grids("2") == ((1, 4, 6), (1, 4, 6))
    assert rec.affinity("2", [(0, 1, 2)]).groups == 4
    known = nlviz.extract.known_classes()
    for cls in ("BilinearAttnTransform", "BatNonLocalAttn"):
        assert f"timm: timm.layers.non_local_attn.{cls} (bilinear)" in known


def test_a_map_the_block_cannot_take_is_an_actionable_error():
    model = wrap(_block(16, 3, 2, 8))
    with pytest.raises(ValueError, match=r"block_size=3 must divide H=6 and W=8"), nlviz.capture(model):
        model(torch.randn(2, 16, 6, 8))
