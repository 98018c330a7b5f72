"""BA-Transform view: P and Q per group, and the effective map = P̃[i, :] ⊗ Q̃[:, j] of the query."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import nlviz
from nlviz.data import png_bytes
from nlviz.models import build_model
from nlviz.render.bat import bat_figure, bat_image, bat_view


def capture(arch: str, x: torch.Tensor, options: dict):
    m = build_model(
        arch, num_classes=4, widths=[8, 16, 32], blocks=[{"op": "bat", "stage": 2, "index": 0, "options": options}]
    ).eval()
    with torch.no_grad(), nlviz.capture(m) as rec:
        m(x)
    return rec


@pytest.mark.parametrize(
    ("arch", "shape", "options"),
    [
        ("tiny_resnet2d", (1, 3, 32, 32), {"block_size": 4, "groups": 2}),
        ("tiny_c2d", (1, 3, 2, 32, 32), {"block_size": 4, "groups": 2, "dim": 2}),  # per frame: (B, T, G, ...), T = G
        ("tiny_c2d", (1, 3, 2, 32, 32), {"block_size": 4, "groups": 2, "dim": 3}),  # (B, G, T, ...)
    ],
)
def test_effective_map_is_the_outer_product_of_p_row_and_q_column(arch, shape, options):
    rec = capture(arch, torch.randn(*shape), options)
    block = rec.blocks[0]
    t = shape[2] - 1 if len(shape) == 5 else 0
    aff = rec.affinity(block, [(t, 5, 2)])
    view = bat_view(aff, 0)
    assert view.groups == 2 and view.P.shape == (2, 16, 16) and view.Q.shape == (2, 16, 16) and view.T is None
    np.testing.assert_allclose(view.P.sum(-1), 1.0, atol=1e-5)  # rows of P sum to 1
    np.testing.assert_allclose(view.Q.sum(-2), 1.0, atol=1e-5)  # columns of Q sum to 1
    for g in range(2):
        np.testing.assert_allclose(view.effective[g], np.outer(view.P[g, 5], view.Q[g, :, 2]), atol=1e-6)
    assert view.marks(0) == ("row", 5, -1) and view.marks(1) == ("col", 2, -1) and view.marks(2) == ("cell", 5, 2)
    img = bat_image(view, tile=64)
    assert img.dtype == np.uint8 and png_bytes(img) == png_bytes(bat_image(bat_view(aff, 0), tile=64))
    fig = bat_figure(view)
    heat = [tr for tr in fig.data if tr.type == "heatmap"]
    assert len(heat) == 2 * 3 and {tr.coloraxis for tr in heat} == {"coloraxis", "coloraxis2"}
    assert len(fig.layout.shapes) == 2 * 3  # the query's row / column / cell outlined in every tile


def test_temporal_transform_is_shown_and_rows_sum_to_one():
    rec = capture(
        "tiny_c2d",
        torch.randn(1, 3, 4, 32, 32),
        {"block_size": 4, "groups": 2, "dim": 3, "temporal": True, "temporal_block_size": 2},
    )
    view = bat_view(rec.affinity(rec.blocks[0], [(1, 0, 3)]), 0)
    assert view.T is not None and view.T.shape == (2, 4, 4)
    np.testing.assert_allclose(view.T.sum(-1), 1.0, atol=1e-5)
    assert [c[0][0] for c in view.columns()] == ["P", "Q", "T", "e"] and view.marks(2) == ("row", 1, -1)


def test_a_block_without_matrices_is_refused():
    m = build_model(
        "tiny_resnet2d",
        num_classes=4,
        widths=[8, 16, 32],
        blocks=[{"op": "nonlocal", "stage": 2, "index": 0, "options": {"dim": 2}}],
    ).eval()
    with torch.no_grad(), nlviz.capture(m) as rec:
        m(torch.randn(1, 3, 16, 16))
    with pytest.raises(ValueError, match="has no BA-Transform matrices"):
        bat_view(rec.affinity(rec.blocks[0], [(0, 1, 1)]))
