"""The official Spatial Bias code captured as it is (support.foreign: ``SB_module.Spatial_bias`` and the SB
``resnet.Bottleneck``): no pairwise matrix exists, so rows are checked by the decomposition (Σ_j w_kij equals the
bias maps the block's own forward concatenates, minus β, the maps it makes from u = 0), by brute force (the maps
the forward makes from u kept at one cell, minus β, are that cell's column) and against nlviz's ``spatial_bias``
op for the converted weights — over strides, projection shortcuts, maps smaller and larger than the 10×10 pool,
odd sizes, B=2 and B=3; the published hazards (B=1, non-square maps) are actionable errors."""

from __future__ import annotations

import warnings

import pytest
import torch
from adapter_helpers import assert_same_affinity, captured, converted_op, wrap
from extract_helpers import operands
from torch import Tensor, nn

import nlviz
from support.foreign.spatialbias.resnet import Bottleneck
from support.foreign.spatialbias.SB_module import Spatial_bias
from support.randomize import randomize

CASES = [  # inplanes, planes, stride, projection shortcut, side, batch
    (16, 4, 1, False, 7, 2),  # maps smaller than the pool
    (8, 4, 1, True, 10, 3),  # the pool's own size; B=3
    (16, 8, 2, True, 13, 2),  # stride 2 on an odd side: 7×7 queries over 13×13 keys
    (16, 4, 2, True, 20, 2),  # queries on the 10×10 pool grid itself
]
IDS = [f"in{i}-p{p}-s{s}-{'proj' if d else 'id'}-{h}px-B{b}" for i, p, s, d, h, b in CASES]


def _block(inplanes: int, planes: int, stride: int, proj: bool, dtype=torch.float32) -> nn.Module:
    down = None
    if proj:
        down = nn.Sequential(nn.Conv2d(inplanes, planes * 4, 1, stride=stride, bias=False), nn.BatchNorm2d(planes * 4))
    block = Bottleneck(inplanes, planes, stride=stride, downsample=down, gc_group=True)
    return randomize(block, seed=inplanes + planes + stride, std=0.3).to(dtype)


@torch.no_grad()
def _maps(block: nn.Module, sb: nn.Module, x: Tensor, keep: Tensor | None = None) -> Tensor:
    """The bias maps (B, 3, Ho, Wo) the forward uses — those it concatenates (the Bottleneck) or returns (the
    module alone) — with u (the ReLU output inside ``feature_reduction``) multiplied by ``keep`` (H, W)."""
    hook = None
    if keep is not None:
        hook = sb.feature_reduction[2].register_forward_hook(lambda m, a, out: out * keep)
    try:
        if block is sb:
            return sb(x)
        (cat,) = operands(block, x, {torch.cat})
        return cat[1]  # torch.cat([out, sb]): the upsampled maps
    finally:
        if hook is not None:
            hook.remove()


def _check_decomposition_and_columns(block: nn.Module, sb: nn.Module, x: Tensor, columns: bool) -> None:
    aff = captured(wrap(block), x)
    beta = _maps(block, sb, x, keep=x.new_zeros(x.shape[-2:]))  # u = 0: the constant part
    torch.testing.assert_close(aff.extras["bias_offset"].expand_as(beta[0]), beta[0], atol=1e-6, rtol=0)
    maps = _maps(block, sb, x) - beta  # (B, 3, Ho, Wo)
    rows = aff.rows()  # (B, 3, Nq, Nk)
    torch.testing.assert_close(rows.sum(-1), maps.flatten(2), atol=1e-5, rtol=0)
    assert maps.abs().max() > 0.1 and aff.kind == "linear_contribution" and not aff.normalized
    if columns:
        for j in range(x.shape[-2] * x.shape[-1]):
            keep = x.new_zeros(x.shape[-2] * x.shape[-1])
            keep[j] = 1
            col = _maps(block, sb, x, keep=keep.view(x.shape[-2:])) - beta
            torch.testing.assert_close(rows[..., j], col.flatten(2), atol=1e-5, rtol=0)


@pytest.mark.parametrize("inplanes,planes,stride,proj,side,b", CASES, ids=IDS)
def test_bottleneck_rows_decompose_the_forwards_own_bias_maps(inplanes, planes, stride, proj, side, b):
    block = _block(inplanes, planes, stride, proj, torch.float64)
    x = torch.randn(b, inplanes, side, side, dtype=torch.float64)
    _check_decomposition_and_columns(block, block.SB, x, columns=side <= 7)


@pytest.mark.parametrize("shape", [(2, 8, 4, 4), (2, 8, 6, 9), (3, 8, 12, 11)])
def test_module_alone_rows_decompose_its_coarse_maps_even_on_non_square_maps(shape):
    sb = randomize(Spatial_bias(8), seed=1, std=0.3).double()
    x = torch.randn(shape, dtype=torch.float64)
    _check_decomposition_and_columns(sb, sb, x, columns=shape[-1] <= 4)
    assert captured(wrap(sb), x).query_grid == (1, 10, 10)


@pytest.mark.parametrize("inplanes,planes,stride,proj,side,b", CASES, ids=IDS)
def test_bottleneck_affinity_equals_the_converted_spatial_bias_op(inplanes, planes, stride, proj, side, b):
    block = _block(inplanes, planes, stride, proj)
    op = converted_op(
        block, "spatialbias", "spatial_bias", inplanes, planes=planes, stride=stride, out_channels=planes * 4
    )
    x = torch.randn(b, inplanes, side, side)
    got = captured(wrap(block), x)
    assert_same_affinity(got, captured(wrap(op), x), atol=1e-5)
    assert got.query_grid == (1, *op.out_size(side, side)) and got.key_grid == (1, side, side)


@pytest.mark.parametrize(
    "make,shape,match",
    [
        (lambda: _block(16, 4, 1, False), (1, 16, 7, 7), "B=1"),
        (lambda: randomize(Spatial_bias(8), std=0.3), (1, 8, 7, 7), "B=1"),
        (lambda: _block(16, 4, 1, False), (2, 16, 7, 9), r"square maps only; conv2's output here is 7×9"),
    ],
)
def test_the_published_hazards_are_actionable_errors(make, shape, match):
    block = make()
    x = torch.randn(shape)
    with pytest.raises(RuntimeError):
        block(x)  # the published forward fails on this input
    model = wrap(block)
    with pytest.raises(ValueError, match=match), nlviz.capture(model):
        model(x)


def test_only_the_sb_variant_of_a_bottleneck_is_a_block():
    plain = Bottleneck(16, 4, gc_group=False)
    lookalike = type("Bottleneck", (nn.Module,), {"__module__": "torchvision.models.resnet"})()  # not an SB block
    model = nn.Sequential(plain, nn.Sequential(_block(16, 4, 1, False)), lookalike)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a plain bottleneck is no near miss either
        assert nlviz.extract.block_names(model) == ["1.0"]  # 1.0.SB is inside a recorded block
    known = nlviz.extract.known_classes()
    for key in ("SB_module.Spatial_bias", "resnet.Bottleneck"):
        assert any(k.endswith(f": {key} (linear_contribution)") for k in known), key
