"""mmcv NonLocal1d/2d/3d captured as they are: rows equal the pairwise weights the block builds in its own
forward, for every mode, sub_sample, use_scale and odd, non-square shapes; mmaction2's ResNet3d in place equals
the converted model."""

from __future__ import annotations

import itertools

import pytest
import torch
from extract_helpers import captured_rows, internal_weights
from torch import nn

from support.randomize import randomize

mmcv_nl = pytest.importorskip("mmcv.cnn.bricks.non_local", reason="mmcv-lite (requirements-ref.txt)")


SHAPES = {1: (2, 8, 13), 2: (2, 8, 7, 9), 3: (2, 8, 3, 5, 7)}
MODES = ["gaussian", "embedded_gaussian", "dot_product", "concatenation"]


@pytest.mark.parametrize("dim,mode,sub,scale", list(itertools.product((1, 2, 3), MODES, (False, True), (False, True))))
def test_rows_equal_the_blocks_own_weights(dim, mode, sub, scale):
    cls = getattr(mmcv_nl, f"NonLocal{dim}d")
    norm = {"type": f"BN{dim}d" if dim > 1 else "BN1d"} if mode != "concatenation" else None
    block = randomize(cls(8, sub_sample=sub, mode=mode, use_scale=scale, norm_cfg=norm), seed=dim, std=0.3)
    model = nn.Sequential(nn.Identity(), block).eval()
    x = torch.randn(*SHAPES[dim])
    rows = captured_rows(model, x, "1")  # (B, 1, Nq, Nk)
    ref = internal_weights(block, x, rows.shape[2], rows.shape[3])
    torch.testing.assert_close(rows, ref, atol=1e-5, rtol=0)
    assert rows.abs().sum() > 0


def test_kind_grids_and_names_follow_the_block():
    block = randomize(mmcv_nl.NonLocal3d(8, sub_sample=True, mode="dot_product"), std=0.3)
    model = nn.Sequential(nn.Conv3d(3, 8, 1), nn.Sequential(block)).eval()
    import nlviz

    with torch.no_grad(), nlviz.capture(model) as rec:
        model(torch.randn(1, 3, 3, 5, 7))
    assert rec.blocks == ["1.0"]
    aff = rec.affinity("1.0", [(2, 4, 6)])
    assert aff.kind == "dot_product" and not aff.normalized
    assert rec.grids("1.0") == ((3, 5, 7), (3, 2, 3))  # φ/g max-pooled 1×2×2, floor on odd sizes
    assert aff.weights.shape == (1, 1, 1, 3, 2, 3)


def test_no_hooks_remain_on_a_foreign_block_after_any_exit():
    import nlviz

    block = randomize(mmcv_nl.NonLocal2d(8, mode="embedded_gaussian"), std=0.3)
    model = nn.Sequential(nn.Conv2d(3, 8, 1), block).eval()

    def hooks():
        return sum(len(m._forward_pre_hooks) + len(m._forward_hooks) for m in model.modules())

    with nlviz.capture(model) as rec:
        assert hooks() == 2  # the model's and the block's
        model(torch.randn(1, 3, 4, 5))
    assert hooks() == 0 and rec.blocks == ["1"]
    with pytest.raises(RuntimeError), nlviz.capture(model):
        model(torch.randn(1, 4, 4, 5))  # wrong channels: the forward raises inside the with
    assert hooks() == 0
    with pytest.raises(ZeroDivisionError), nlviz.capture(model):
        raise ZeroDivisionError("an error in the body")
    assert hooks() == 0
