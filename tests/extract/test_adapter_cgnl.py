"""The official CGNL blocks captured as they are (support.foreign: ``model/resnet.py``'s SpatialCGNL and
SpatialCGNLx, on the CPU): no pairwise matrix exists, so rows are checked by the decomposition (Σ_j w_ij equals
the per-group channel sum of the y the block's own forward hands to ``z``), by brute force (the y the forward
makes when g is kept at one key cell only is that key's column), and against nlviz's ``cgnl`` op for the
converted weights — over groups, use_scale and the Taylor order, odd non-square shapes, B=2."""

from __future__ import annotations

import itertools

import pytest
import torch
from adapter_helpers import assert_same_affinity, captured, converted_op, wrap
from torch import Tensor, nn

import nlviz
from nlviz.extract.adapters.cgnl import OFFICIAL_GAMMA
from support.foreign.cgnl.model.resnet import SpatialCGNL, SpatialCGNLx
from support.randomize import randomize

OPTIONS = [  # (class, groups, use_scale, order)
    *((SpatialCGNL, g, scale, None) for g, scale in itertools.product((1, 2, 4), (False, True))),
    *((SpatialCGNLx, g, scale, order) for g, scale, order in itertools.product((1, 4), (False, True), (1, 2, 3))),
]
IDS = [f"{c.__name__}-g{g}-{'scale' if s else 'noscale'}" + (f"-p{o}" if o else "") for c, g, s, o in OPTIONS]


def _block(cls: type, c: int, groups: int, use_scale: bool, order: int | None, dtype=torch.float32) -> nn.Module:
    extra = {} if order is None else {"order": order}
    return randomize(cls(c, c // 2, use_scale=use_scale, groups=groups, **extra), seed=groups, std=0.3).to(dtype)


@torch.no_grad()
def _y(block: nn.Module, x: Tensor, key: int | None = None) -> Tensor:
    """The aggregate y (B, C', H, W) the block's forward hands to ``z``; with ``key``, g kept at that cell only."""
    seen = []
    hooks = [block.z.register_forward_pre_hook(lambda m, a: seen.append(a[0].clone()))]
    if key is not None:
        mask = x.new_zeros(x.shape[-2] * x.shape[-1])
        mask[key] = 1
        hooks.append(block.g.register_forward_hook(lambda m, a, out: out * mask.view(out.shape[-2:])))
    try:
        block(x)
    finally:
        for h in hooks:
            h.remove()
    return seen[0]


def _group_sums(y: Tensor, groups: int) -> Tensor:
    """(B, C', H, W) → (B, G, N): the channel sum of each group of consecutive channels."""
    return y.reshape(y.shape[0], groups, -1, y.shape[-2] * y.shape[-1]).sum(2)


@pytest.mark.parametrize("cls,groups,use_scale,order", OPTIONS, ids=IDS)
def test_rows_decompose_the_blocks_own_aggregate(cls, groups, use_scale, order):
    """In float64, so that the float32 rounding of a 35-term sum (≈1e-6 of its terms) does not hide an error."""
    block = _block(cls, 16, groups, use_scale, order, torch.float64)
    x = torch.randn(2, 16, 5, 7, dtype=torch.float64)
    aff = captured(wrap(block), x)
    agg = _group_sums(_y(block, x), groups)  # (B, G, N)
    torch.testing.assert_close(aff.rows().sum(-1), agg, atol=1e-5, rtol=1e-6)
    assert agg.abs().max() > 0.1  # a real aggregate, not zeros
    assert aff.kind == "linear_contribution" and not aff.normalized and aff.groups == groups
    assert aff.extras["key_maps"].shape == (2, groups, 1 if order is None else order + 1, 1, 5, 7)


@pytest.mark.parametrize("cls,groups,use_scale,order", OPTIONS[::2], ids=IDS[::2])
def test_every_column_is_what_one_key_cell_adds_to_the_forward(cls, groups, use_scale, order):
    """Brute force on a tiny input: y is linear in g, so the forward with g zero but at key j gives column j."""
    g = 2 if groups > 1 else 1
    block = _block(cls, 8, g, use_scale, order, torch.float64)
    x = torch.randn(2, 8, 2, 3, dtype=torch.float64)
    rows = captured(wrap(block), x).rows()  # (B, G, Nq, Nk)
    for j in range(6):
        torch.testing.assert_close(rows[..., j], _group_sums(_y(block, x, key=j), g), atol=1e-5, rtol=1e-6)


@pytest.mark.parametrize("cls,groups,use_scale,order", OPTIONS, ids=IDS)
def test_affinity_equals_the_converted_cgnl_op(cls, groups, use_scale, order):
    block = _block(cls, 16, groups, use_scale, order)
    kernel = {"kernel": "dot_product"} if order is None else {"kernel": "gaussian", "order": order}
    op = converted_op(block, "cgnl", "cgnl", 16, groups=groups, use_scale=use_scale, gamma=OFFICIAL_GAMMA, **kernel)
    x = torch.randn(2, 16, 5, 7)
    assert_same_affinity(captured(wrap(block), x), captured(wrap(op), x), atol=1e-5)


def test_the_adapter_never_picks_a_device():
    """The published Gaussian kernel calls .cuda(); the adapter runs the block's convs wherever they are."""
    block = _block(SpatialCGNLx, 16, 4, False, 3).to("meta")
    (found,) = nlviz.extract.find_blocks(wrap(block))
    aff = found.source.affinity(torch.empty(2, 16, 5, 7, device="meta"), [(0, 1, 2)])
    assert aff.weights.device.type == "meta" and aff.extras["key_maps"].device.type == "meta"
    assert aff.weights.shape == (2, 4, 1, 1, 5, 7)


def test_names_and_known_classes():
    model = nn.Sequential(nn.Conv2d(3, 16, 1), nn.Sequential(_block(SpatialCGNL, 16, 2, False, None)))
    model.append(_block(SpatialCGNLx, 16, 2, False, 3))
    assert nlviz.extract.block_names(model) == ["1.0", "2"]
    known = nlviz.extract.known_classes()
    for cls in ("SpatialCGNL", "SpatialCGNLx"):
        assert any(k.endswith(f": resnet.{cls} (linear_contribution)") for k in known), cls


def test_bad_inputs_are_actionable():
    model = wrap(_block(SpatialCGNL, 16, 2, False, None))
    with pytest.raises(ValueError, match=r"\(B, C, H, W\) maps, got shape \(2, 16, 5\)"), nlviz.capture(model):
        model(torch.randn(2, 16, 5))
