"""Row factors (nlviz.ops.factors): the rows a client recomputes from them in numpy equal ``affinity`` rows to
1e-5 — every non-local mode, BAT with groups and temporal groups, odd and non-square shapes, sub-sampled keys
(pooled before or after the convs), batches of 2, blocks declared by their roles (heads, a biased concatenation),
foreign blocks, and blocks run per frame inside a video net. Families whose rows need more return None."""

from __future__ import annotations

import math
from collections import OrderedDict

import numpy as np
import pytest
import torch
from torch import nn

import nlviz
from nlviz import ops
from nlviz.extract import declare, inv_sqrt_inner, undeclare
from nlviz.models import build_model
from nlviz.ops.factors import RowFactors, per_frame
from support.randomize import randomize

ATOL = 1e-5
MODES = ["gaussian", "embedded_gaussian", "dot_product", "concatenation"]
NL = [  # (options, input shape)
    *[({"mode": m, "dim": 2}, (2, 16, 7, 5)) for m in MODES],  # odd, non-square
    *[({"mode": m, "dim": 2, "sub_sample": True}, (2, 16, 7, 9)) for m in MODES],  # keys 3×4 (odd sizes floored)
    *[({"mode": m, "dim": 3, "sub_sample": True, "pool": "before_conv"}, (1, 16, 3, 5, 6)) for m in MODES],
    *[({"mode": m, "dim": 1, "sub_sample": True}, (2, 16, 11)) for m in MODES],
    ({"mode": "embedded_gaussian", "use_scale": False, "dim": 3}, (2, 16, 2, 3, 4)),
    ({"mode": "embedded_gaussian", "reduction": 4, "dim": 2}, (1, 32, 6, 6)),
]
BAT = [  # (options, input shape)
    ({"block_size": 3, "groups": 2}, (2, 16, 6, 9)),  # non-square, odd W
    ({"block_size": 2, "groups": 4, "normalize": "softmax", "bias": False}, (1, 16, 4, 6)),
    ({"block_size": 2, "groups": 2, "dim": 3}, (2, 16, 3, 4, 6)),  # no temporal transform, odd T
    ({"block_size": 2, "groups": 2, "dim": 3, "temporal": True, "temporal_block_size": 2}, (2, 16, 4, 4, 6)),
    (  # tk ≠ k: lcm(2, 4) = 4 affinity groups
        {"block_size": 3, "groups": 2, "dim": 3, "temporal": True, "temporal_block_size": 3, "temporal_groups": 4},
        (1, 16, 6, 3, 6),
    ),
]


def assert_rows_match(factors: RowFactors, aff) -> float:
    """The numpy rows of every query from the factors equal the Affinity's rows; returns the max difference."""
    assert factors is not None
    assert (factors.query_grid, factors.key_grid) == (tuple(aff.query_grid), tuple(aff.key_grid))
    assert factors.groups == aff.groups and factors.batch == aff.weights.shape[0]
    assert all(v.dtype == np.float32 for v in factors.arrays.values())
    want = aff.rows().double().numpy()  # (B, G, N, Nk)
    got = factors.rows(np.arange(want.shape[2]))
    np.testing.assert_allclose(got, want, atol=ATOL, rtol=0)
    return float(np.abs(got - want).max())


def op_case(name: str, options: dict, shape: tuple[int, ...], seed: int):
    op = randomize(ops.create(name, shape[1], **options), seed=seed, std=0.3)
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(seed))
    inputs = op.affinity_inputs(x)
    return op, inputs


@pytest.mark.parametrize("options,shape", NL, ids=[f"{o}-{s}" for o, s in NL])
def test_nonlocal_rows_from_factors(options, shape):
    op, inputs = op_case("nonlocal", options, shape, seed=len(NL) + sum(shape))
    factors = op.row_factors(inputs)
    assert factors.kind == op.kind and factors.scale == pytest.approx(op.scale if op.kind == "softmax" else 1.0)
    aff = op.affinity(inputs)
    assert_rows_match(factors, aff)
    if op.kind == "concatenation":  # the ReLU cuts some pairs, not all: the test sees both sides of it
        assert (aff.weights == 0).any() and (aff.weights > 0).any()


def test_the_softmax_scale_is_the_ops():
    op, inputs = op_case("nonlocal", {"mode": "embedded_gaussian", "dim": 2}, (1, 16, 4, 4), seed=3)
    assert op.row_factors(inputs).scale == pytest.approx(8**-0.5)
    op, inputs = op_case("nonlocal", {"mode": "embedded_gaussian", "use_scale": False}, (1, 16, 4, 4), seed=3)
    assert op.row_factors(inputs).scale == 1.0


@pytest.mark.parametrize("options,shape", BAT, ids=[f"{o}-{s}" for o, s in BAT])
def test_bat_rows_from_factors(options, shape):
    op, inputs = op_case("bat", options, shape, seed=sum(shape))
    factors = op.row_factors(inputs)
    assert factors.kind == "bilinear" and ("T" in factors.arrays) == bool(options.get("temporal"))
    expected_groups = math.lcm(options["groups"], options.get("temporal_groups", options["groups"]))
    assert factors.groups == expected_groups
    assert_rows_match(factors, op.affinity(inputs))


@pytest.mark.parametrize(
    "name,options", [("cgnl", {"kernel": "gaussian", "order": 3, "groups": 2}), ("cgnl", {}), ("spatial_bias", {})]
)
def test_families_whose_rows_need_more_return_none(name, options):
    op, inputs = op_case(name, options, (1, 32, 8, 8), seed=1)
    assert op.row_factors(inputs) is None


def test_one_batch_item():
    op, inputs = op_case("nonlocal", {"mode": "dot_product"}, (2, 16, 5, 5), seed=4)
    factors, aff = op.row_factors(inputs), op.affinity(inputs)
    one = factors.item(1)
    assert one.batch == 1
    np.testing.assert_allclose(one.rows(np.arange(25))[0], aff.rows()[1].double().numpy(), atol=ATOL, rtol=0)
    with pytest.raises(ValueError, match="batch item 2 out of range"):
        factors.item(2)


def test_bad_factors_say_what_is_missing():
    with pytest.raises(ValueError, match=r"need the arrays \['theta', 'phi'\]; missing \['phi'\]"):
        RowFactors("softmax", (1, 1, 2), (1, 1, 2), {"theta": np.zeros((1, 1, 2, 2), np.float32)})
    with pytest.raises(ValueError, match="kind 'cosine' are not known"):
        RowFactors("cosine", (1, 1, 2), (1, 1, 2), {})


# ---- blocks nlviz does not own: declared by roles, foreign classes ------------------------------------------


class HeadsNL(nn.Module):
    """A research block: keys pooled 2×2 before their convs, 4 heads, a scaled softmax (declared by roles)."""

    def __init__(self, c: int = 16, inner: int = 8) -> None:
        super().__init__()
        self.query, self.key, self.value = (nn.Conv2d(c, inner, 1) for _ in range(3))
        self.down = nn.MaxPool2d(2)

    def forward(self, x):  # the output does not matter here: capture recomputes from the submodules
        return x


class BiasedConcat(nn.Module):
    """Concatenation with a biased w_f (a Linear layer), keys pooled after the convs, 1D."""

    def __init__(self, c: int = 8, inner: int = 4) -> None:
        super().__init__()
        self.t, self.p, self.g = (nn.Conv1d(c, inner, 1) for _ in range(3))
        self.pool = nn.MaxPool1d(2)
        self.wf = nn.Linear(2 * inner, 1)

    def forward(self, x):
        return x


def recorded(model: nn.Module, x: torch.Tensor, block: str):
    with torch.no_grad(), nlviz.capture(model) as rec:
        model(x)
    r = rec.record(block)
    return r.op.row_factors(r.inputs), rec.affinity(block)


def wrap(block: nn.Module) -> nn.Module:
    return nn.Sequential(OrderedDict(nl=block)).eval()


@pytest.fixture
def declared():
    declare(
        HeadsNL,
        theta="query",
        phi="key",
        g="value",
        pool="down",
        pool_order="before_conv",
        heads=4,
        scale=inv_sqrt_inner,
    )
    declare(BiasedConcat, theta="t", phi="p", g="g", pool="pool", pairwise="concatenation", concat="wf")
    yield
    for cls in (HeadsNL, BiasedConcat):
        undeclare(cls)


def test_declared_blocks_heads_and_a_biased_concatenation(declared):
    factors, aff = recorded(wrap(randomize(HeadsNL(), seed=1, std=0.4)), torch.randn(2, 16, 9, 11), "nl")
    assert factors.groups == 4 and aff.key_grid == (1, 4, 5)
    assert_rows_match(factors, aff)
    factors, aff = recorded(wrap(randomize(BiasedConcat(), seed=2, std=0.5)), torch.randn(2, 8, 13), "nl")
    assert factors.kind == "concatenation"
    assert_rows_match(factors, aff)


def test_mmcv_non_local_blocks():
    mmcv_nl = pytest.importorskip("mmcv.cnn.bricks.non_local")
    for i, mode in enumerate(MODES):
        block = randomize(mmcv_nl.NonLocal2d(16, mode=mode, sub_sample=True, use_scale=True), seed=i, std=0.3)
        assert_rows_match(*recorded(wrap(block), torch.randn(1, 16, 7, 6), "nl"))


def test_the_official_bat_video_block_with_averaged_windows():
    from support.foreign.bat_video.models import non_local as video

    block = randomize(video.BATBlock(16, r=2, s=3, k=2, ts=2, tk=2), seed=5, std=0.3, mean_std=0.1)
    factors, aff = recorded(wrap(block), torch.randn(2, 16, 2, 4, 8), "nl")  # H // (H // s) = 4: two windows
    assert_rows_match(factors, aff)


def test_the_official_cgnl_block_returns_none():
    from support.foreign.cgnl.model import resnet

    block = randomize(resnet.SpatialCGNL(16, 8, use_scale=False, groups=2), seed=6, std=0.3)
    factors, _ = recorded(wrap(block), torch.randn(1, 16, 4, 4), "nl")
    assert factors is None


# ---- blocks run per frame inside a video net -------------------------------------------------------------


@pytest.mark.parametrize(
    "op,options", [("bat", {"block_size": 4, "groups": 2, "dim": 2}), ("nonlocal", {"mode": "dot_product", "dim": 2})]
)
def test_per_frame_blocks_on_the_video_grid(op, options):
    blocks = [{"op": op, "stage": 3, "index": 0, "options": options}]
    model = randomize(build_model("tiny_c2d", num_classes=4, widths=[8, 8, 16], blocks=blocks), seed=7, std=0.2)
    x = torch.randn(1, 3, 4, 32, 32)
    with torch.no_grad(), nlviz.capture(model) as rec:
        model(x)
    (block,) = rec.blocks
    r = rec.record(block)
    assert r.frames == 4
    factors = per_frame(r.op.row_factors(r.inputs), r.frames)
    assert factors.frame_local and factors.batch == 1
    aff = rec.affinity(block)
    assert_rows_match(factors, aff)
    w = aff.weights[0, 0, 8 * 8 + 3]  # a query of frame 1: weight only in frame 1
    assert w[1].abs().sum() > 0 and w[[0, 2, 3]].abs().sum() == 0
