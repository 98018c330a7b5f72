"""timm's ``bat_resnext26ts`` (its own ByobNet, random weights) saved as timm saves it, loaded through
``nlviz.load_model``: same logits, every BAT block recorded by ``nlviz.capture``, identical tensors exported back."""

from __future__ import annotations

import pytest
import torch

import nlviz
from nlviz.io import public
from nlviz.models import operator_blocks
from support.randomize import randomize
from support.refs import load_or_skip, timm_byobnet
from support.state_dicts import same_tensors

pytestmark = pytest.mark.ref


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    torch.manual_seed(0)
    ref = randomize(load_or_skip(timm_byobnet).bat_resnext26ts())
    path = tmp_path_factory.mktemp("timm") / "bat_resnext26ts_256-fa6fd595.pth"
    torch.save(ref.state_dict(), path)
    return ref, nlviz.load_model(path), path


def test_loads_with_timm_conventions(pair):
    ref, model, _ = pair
    assert model.card["format"] == "timm" and model.card["input"]["shape"] == [3, 256, 256]
    names = [n for n, _ in operator_blocks(model)]
    assert names == [f"stages.{s}.{i}.attn" for s in range(4) for i in range(2)]
    op = model.stages[2][0].attn
    assert (op.s, op.k, op.normalize, op.reduce.conv.bias) == (8, 2, "sigmoid", None)
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in ref.parameters()) == 10_731_200


def test_logits_match_timm(pair):
    ref, model, _ = pair
    x = torch.randn(1, 3, 256, 256)
    with torch.no_grad():
        want, got = ref(x), model(x)
    err = ((got - want).abs().max() / want.abs().max()).item()
    assert err <= 1e-5, f"relative error {err:.3g}"


def test_capture_and_round_trip(pair):
    ref, model, _ = pair
    with nlviz.capture(model) as rec, torch.no_grad():
        model(torch.randn(1, 3, 256, 256))
    assert len(rec.blocks) == 8
    aff = rec.affinity("stages.2.0.attn", queries=[(0, 3, 5)])  # 16×16 map, s = 8: 2×2 cells per P/Q entry
    assert aff.query_grid == aff.key_grid == (1, 16, 16) and aff.kind == "bilinear" and aff.groups == 2
    torch.testing.assert_close(aff.rows().sum(-1), torch.ones(1, 2, 1))
    assert same_tensors(public.export_state_dict(model, "timm"), ref.state_dict()) == []
