"""The plain non-local blocks of the official CGNL (``SpatialNL``) and BAT (``NonLocal``) repositories (re-typed
copies in support.foreign) captured as they are: rows equal the weights their own forwards build, with and
without ``use_scale`` (1/√C'), on odd, non-square maps."""

from __future__ import annotations

import itertools

import pytest
import torch
from extract_helpers import assert_recorded, assert_rows_exact
from torch import nn

from nlviz.extract import known_classes
from support.foreign.bat_nl.model_zoo.non_local import NonLocal
from support.foreign.cgnl_nl.model.resnet import SpatialNL
from support.randomize import randomize

BUILD = {"cgnl": lambda scale: SpatialNL(12, 6, use_scale=scale), "bat": lambda scale: NonLocal(12, use_scale=scale)}
SHAPES = [(2, 12, 7, 9), (2, 12, 5, 3), (2, 12, 1, 11)]


def _block(repo: str, use_scale: bool, seed: int = 0) -> nn.Module:
    return randomize(BUILD[repo](use_scale), seed=seed, std=0.3)


@pytest.mark.parametrize("repo,use_scale,shape", list(itertools.product(BUILD, (True, False), SHAPES)), ids=str)
def test_rows_equal_the_blocks_own_weights(repo, use_scale, shape):
    assert_rows_exact(_block(repo, use_scale), torch.randn(*shape))


@pytest.mark.parametrize("repo", BUILD)
def test_kind_grids_scale_and_names_follow_the_block(repo):
    model = nn.Sequential(nn.Conv2d(3, 12, 1), nn.Sequential(nn.ReLU(), _block(repo, True))).eval()
    rec = assert_recorded(model, torch.randn(2, 3, 7, 9), "1.1", kind="softmax", grids=((1, 7, 9), (1, 7, 9)))
    assert rec.record("1.1").op.scale_of(6) == 6**-0.5  # 1/√C', C' = 6 (timm's NonLocalAttn: 1/√C)


@pytest.mark.parametrize(
    "cls,line",
    [
        (SpatialNL, "CGNL (official): model.resnet.SpatialNL (softmax)"),
        (NonLocal, "BAT (official): model_zoo.non_local.NonLocal (softmax)"),
    ],
)
def test_known_classes_list_them_and_the_key_matches_the_copy(cls, line):
    assert line in known_classes()
    assert cls.__module__.endswith("." + line.split(": ")[1].rpartition(".")[0])
