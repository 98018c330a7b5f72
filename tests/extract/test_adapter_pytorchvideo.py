"""pytorchvideo's NonLocal (built by create_nonlocal) captured as it is: rows equal the weights its own forward
builds for both instantiations, with and without the pool before φ/g and the norm, on odd non-square clips."""

from __future__ import annotations

import itertools

import pytest
import torch
from extract_helpers import assert_recorded, assert_rows_exact
from torch import nn

from nlviz.extract import known_classes
from support.randomize import randomize

nonlocal_net = pytest.importorskip("pytorchvideo.layers.nonlocal_net", reason="pytorchvideo (requirements-ref.txt)")

SHAPES = [(2, 8, 3, 5, 7), (2, 8, 4, 7, 9)]
POOLS = [None, (1, 2, 2), (2, 2, 2)]


def _block(instantiation: str, pool, norm: bool, seed: int = 0) -> nn.Module:
    block = nonlocal_net.create_nonlocal(
        dim_in=8, dim_inner=4, pool_size=pool, instantiation=instantiation, norm=nn.BatchNorm3d if norm else None
    )
    return randomize(block, seed=seed, std=0.3)


@pytest.mark.parametrize(
    "instantiation,pool,norm,shape",
    list(itertools.product(("softmax", "dot_product"), POOLS, (True, False), SHAPES)),
    ids=str,
)
def test_rows_equal_the_blocks_own_weights(instantiation, pool, norm, shape):
    block = _block(instantiation, pool, norm)
    assert (block.pool is None) == (pool is None) and (block.norm is None) == (not norm)
    assert_rows_exact(block, torch.randn(*shape))


def test_kind_grids_and_names_follow_the_block():
    model = nn.Sequential(nn.Conv3d(3, 8, 1), nn.Sequential(_block("dot_product", (1, 2, 2), True))).eval()
    # x max-pooled 1×2×2 before φ/g: keys 3×2×3, floor on odd sizes
    assert_recorded(model, torch.randn(2, 3, 3, 5, 7), "1.0", kind="dot_product", grids=((3, 5, 7), (3, 2, 3)))


def test_softmax_is_normalized_and_scaled_by_its_inner_channels():
    model = nn.Sequential(_block("softmax", (2, 2, 2), False)).eval()
    rec = assert_recorded(model, torch.randn(1, 8, 5, 5, 7), "0", kind="softmax", grids=((5, 5, 7), (2, 2, 3)))
    torch.testing.assert_close(rec.affinity("0").rows().sum(-1), torch.ones(1, 1, 175))
    assert rec.record("0").op.scale_of(4) == 4**-0.5  # dim_inner^-1/2


def test_known_classes_lists_it():
    assert "pytorchvideo: pytorchvideo.layers.nonlocal_net.NonLocal (softmax | dot_product)" in known_classes()
