"""SlowFast's Nonlocal (a re-typed copy of ``slowfast/models/nonlocal_helper.py`` in support.foreign, both
published revisions) captured as it is: rows equal the weights its own forward builds for both instantiations,
with and without ``pool_size`` (x pooled before φ/g), every norm variant, odd non-square clips."""

from __future__ import annotations

import itertools

import pytest
import torch
from extract_helpers import assert_recorded, assert_rows_exact
from torch import nn

import nlviz
from nlviz.extract import block_names, known_classes
from support.foreign.slowfast.models import nonlocal_helper
from support.foreign.slowfast_bn.slowfast.models import nonlocal_helper as nonlocal_helper_bn
from support.randomize import randomize

SHAPES = [(2, 8, 3, 5, 7), (2, 8, 4, 7, 9)]
POOLS = [None, (1, 1, 1), (1, 2, 2), (2, 2, 2)]
#: (revision, norm): norm_type of the current revision; the earlier revision's BatchNorm3d ``bn``
NORMS = [("norm_type", "batchnorm"), ("norm_type", "layernorm"), ("norm_type", "none"), ("norm_module", "bn")]


def _block(instantiation: str, pool, norm: tuple[str, str], seed: int = 0) -> nn.Module:
    if norm[0] == "norm_module":
        block = nonlocal_helper_bn.Nonlocal(8, 4, pool_size=pool, instantiation=instantiation)
    else:
        block = nonlocal_helper.Nonlocal(8, 4, pool_size=pool, instantiation=instantiation, norm_type=norm[1])
    return randomize(block, seed=seed, std=0.3)


@pytest.mark.parametrize(
    "instantiation,pool,norm,shape",
    list(itertools.product(("softmax", "dot_product"), POOLS, NORMS, SHAPES)),
    ids=str,
)
def test_rows_equal_the_blocks_own_weights(instantiation, pool, norm, shape):
    block = _block(instantiation, pool, norm)
    assert block.use_pool == (pool is not None and max(pool) > 1)
    assert_rows_exact(block, torch.randn(*shape))


@pytest.mark.parametrize("module", [nonlocal_helper, nonlocal_helper_bn], ids=["norm_type", "norm_module"])
def test_class_key_matches_the_copy_by_its_module_suffix(module):
    cls = module.Nonlocal
    assert cls.__module__.endswith(".slowfast.models.nonlocal_helper")
    assert block_names(nn.Sequential(cls(8, 4))) == ["0"]


def test_kind_grids_and_names_follow_the_block():
    block = _block("dot_product", (1, 2, 2), ("norm_type", "batchnorm"))
    model = nn.Sequential(nn.Conv3d(3, 8, 1), nn.Sequential(nn.ReLU(), block)).eval()
    # x max-pooled 1×2×2 before φ/g: keys 3×2×3, floor on odd sizes
    assert_recorded(model, torch.randn(2, 3, 3, 5, 7), "1.1", kind="dot_product", grids=((3, 5, 7), (3, 2, 3)))


def test_softmax_is_normalized_and_scaled_by_dim_inner():
    model = nn.Sequential(_block("softmax", (2, 2, 2), ("norm_module", "bn"))).eval()
    rec = assert_recorded(model, torch.randn(1, 8, 5, 5, 7), "0", kind="softmax", grids=((5, 5, 7), (2, 2, 3)))
    torch.testing.assert_close(rec.affinity("0").rows().sum(-1), torch.ones(1, 1, 175))
    assert rec.record("0").op.scale_of(4) == 4**-0.5


def test_an_unknown_instantiation_is_an_error_naming_the_known_ones():
    block = nonlocal_helper.Nonlocal(8, 4)
    block.instantiation = "gaussian"
    with pytest.raises(ValueError, match=r"instantiation='gaussian'.*\['softmax', 'dot_product'\].*declare"):
        with nlviz.capture(nn.Sequential(block)):
            pass


def test_known_classes_lists_it():
    assert "SlowFast: slowfast.models.nonlocal_helper.Nonlocal (softmax | dot_product)" in (known_classes())
