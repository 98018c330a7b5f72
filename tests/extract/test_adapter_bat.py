"""The official BAT code captured as it is (support.foreign: the image ``model_zoo/non_local.py`` and the video
``models/non_local.py`` with its temporal transform): rows equal the effective map of the P, Q (and T) the block
multiplies with in its own forward, and the Affinity is nlviz's ``bat`` op's for the converted weights — over
block sizes, groups, temporal groups (none, fewer or more than k), the video code's averaged (s + 1)-sized
matrices, non-square and odd shapes, B=2; shapes the published forward cannot run are actionable errors."""

from __future__ import annotations

from collections import OrderedDict

import pytest
import torch
from adapter_helpers import (
    BLOCK,
    assert_same_affinity,
    bilinear_map,
    captured,
    converted_op,
    lcm,
    spied_bilinear,
    wrap,
)
from torch import nn

import nlviz
from support.foreign.bat.model_zoo import non_local as image
from support.foreign.bat_video.models import non_local as video
from support.randomize import randomize

IMAGE = [  # (B, C, H, W), s, k
    ((2, 16, 6, 6), 3, 2),
    ((2, 16, 4, 4), 2, 4),
    ((2, 16, 3, 3), 3, 1),  # H = s: no upsampling
    ((2, 24, 9, 9), 3, 3),  # odd side, three groups
]
VIDEO = [  # (B, C, T, H, W), s, k, ts, tk
    ((2, 16, 4, 6, 9), 3, 2, 2, 1),  # one temporal group, non-square, odd W
    ((2, 16, 3, 4, 6), 2, 4, 1, 0),  # no temporal transform, odd T
    ((2, 16, 4, 4, 4), 2, 2, 2, 4),  # tk > k: lcm(2, 4) = 4 groups
    ((2, 24, 6, 3, 6), 3, 3, 3, 2),  # lcm(3, 2) = 6 groups of 2 channels; H = s
]
WINDOWED = [  # matrix_size = H // (H // s) = s + 1: the average of two s×s windows
    ((2, 16, 2, 4, 8), 3, 2, 2, 2),
    ((2, 16, 3, 8, 4), 3, 2, 3, 1),
]
WHICH = ["block", "transform"]


def _models(block: nn.Module, which: str) -> tuple[nn.Module, nn.Module, str]:
    """(model, the module whose forward builds the weights, its name): the block, or conv1 → the transform."""
    if which == "block":
        return wrap(block), block, BLOCK
    return nn.Sequential(OrderedDict(reduce=block.conv1, t=block.batransform)).eval(), block.batransform, "t"


def _image(c: int, s: int, k: int) -> nn.Module:
    return randomize(image.BATBlock(c, r=2, s=s, k=k), seed=s + 10 * k, std=0.3, mean_std=0.1)


def _video(c: int, s: int, k: int, ts: int, tk: int) -> nn.Module:
    return randomize(video.BATBlock(c, r=2, s=s, ts=ts, k=k, tk=tk), seed=s + 10 * k + 100 * tk, std=0.3, mean_std=0.1)


def _check_rows(block: nn.Module, which: str, x: torch.Tensor, groups: int) -> None:
    model, inner, name = _models(block, which)
    aff = captured(model, x, name)
    x_inner = x if which == "block" else block.conv1(x).detach()
    p, q, t = spied_bilinear(inner, x_inner, groups)
    rows = aff.rows()
    torch.testing.assert_close(rows, bilinear_map(p, q, t), atol=1e-5, rtol=0)
    torch.testing.assert_close(rows.sum(-1), torch.ones(rows.shape[:3]), atol=1e-5, rtol=0)
    assert aff.kind == "bilinear" and aff.normalized and aff.groups == groups
    if t is not None:
        torch.testing.assert_close(aff.extras["T"], t, atol=1e-6, rtol=0)


def _check_op(block: nn.Module, which: str, x: torch.Tensor, **options) -> None:
    model, _, name = _models(block, which)
    op = converted_op(block, "bat", "bat", x.shape[1], reduction=2, bias=True, **options)
    op_model = wrap(op) if which == "block" else nn.Sequential(OrderedDict(t=op)).eval()
    assert_same_affinity(captured(model, x, name), captured(op_model, x, BLOCK if which == "block" else "t"))


@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize("shape,s,k", IMAGE)
def test_image_rows_equal_the_map_of_the_blocks_own_p_and_q(which, shape, s, k):
    _check_rows(_image(shape[1], s, k), which, torch.randn(shape), k)


@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize("shape,s,k", IMAGE)
def test_image_affinity_equals_the_converted_bat_op(which, shape, s, k):
    _check_op(_image(shape[1], s, k), which, torch.randn(shape), block_size=s, groups=k, normalize="sigmoid")


@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize("shape,s,k,ts,tk", VIDEO + WINDOWED)
def test_video_rows_equal_the_map_of_the_blocks_own_p_q_and_t(which, shape, s, k, ts, tk):
    _check_rows(_video(shape[1], s, k, ts, tk), which, torch.randn(shape), lcm(k, tk))


@pytest.mark.parametrize("which", WHICH)
@pytest.mark.parametrize("shape,s,k,ts,tk", VIDEO)
def test_video_affinity_equals_the_converted_bat_op(which, shape, s, k, ts, tk):
    temporal = {"temporal": True, "temporal_block_size": ts, "temporal_groups": tk} if tk else {}
    options = {"block_size": s, "groups": k, "normalize": "softmax", "dim": 3, **temporal}
    _check_op(_video(shape[1], s, k, ts, tk), which, torch.randn(shape), **options)


def test_windowed_matrices_are_s_plus_one_wide_and_uncovered_cells_keep_a_weight():
    block = _video(16, 3, 2, 2, 0)
    aff = captured(wrap(block), torch.randn(2, 16, 2, 8, 4), BLOCK)
    assert aff.extras["P_small"].shape == (2, 2, 2, 4, 4)  # (B, G, T, m, m), m = s + 1
    corner = aff.extras["P_small"][..., 0, 3]  # covered by no window: exp(0) / row sum, still > 0
    assert (corner > 0).all()


@pytest.mark.parametrize(
    "make,shape,match",
    [
        (lambda: _image(16, 2, 2), (2, 16, 4, 6), r"square maps .* s=2 divides; got H=4, W=6"),
        (lambda: _image(16, 2, 2), (2, 16, 5, 5), r"got H=5, W=5"),
        (lambda: _video(16, 3, 2, 2, 1), (2, 16, 2, 5, 5), r"s=3 and H=5 makes 5×5 matrices from 3 windows"),
        (lambda: _video(16, 3, 2, 2, 1), (2, 16, 2, 2, 3), r"needs H >= s=3"),
        (lambda: _video(16, 2, 2, 2, 1), (2, 16, 3, 4, 4), r"do not tile .*\(3, 4, 4\)"),  # ts=2 ∤ T=3
    ],
)
def test_shapes_the_published_forward_cannot_run_are_actionable_errors(make, shape, match):
    block = make()
    x = torch.randn(shape)
    with pytest.raises((RuntimeError, ZeroDivisionError, AssertionError)):
        block(x)  # the block itself fails on this shape
    model = wrap(block)
    with pytest.raises(ValueError, match=match), nlviz.capture(model):
        model(x)


def test_names_and_known_classes():
    blocks = nn.Sequential(_image(16, 2, 2), nn.Sequential(image.BATransform(8, 2, 2)))
    assert nlviz.extract.block_names(blocks) == ["0", "1.0"]  # 0.batransform is inside a recorded block
    assert nlviz.extract.block_names(nn.Sequential(_video(16, 2, 2, 2, 1))) == ["0"]
    known = nlviz.extract.known_classes()
    for key in ("model_zoo.non_local", "models.non_local"):
        for cls in ("BATransform", "BATBlock"):
            assert any(f": {key}.{cls} (bilinear)" in k for k in known), (key, cls)
