"""capture(fallback=True): attention that unknown modules build themselves is recorded (materialized softmax,
fused SDPA recomputed from q and k), with a cost warning; hooks go on every exit path."""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F
from extract_helpers import internal_weights
from torch import nn

import nlviz
from support.randomize import randomize


class TokenAttention(nn.Module):
    """ViT-style attention on a feature map: tokens (B, N, C), 2 heads; softmax explicit or fused."""

    def __init__(self, c: int = 8, heads: int = 2, fused: bool = False, causal: bool = False) -> None:
        super().__init__()
        self.qkv, self.heads, self.fused, self.causal = nn.Linear(c, 3 * c), heads, fused, causal

    def forward(self, x):
        b, c, h, w = x.shape
        q, k, v = self.qkv(x.flatten(2).transpose(1, 2)).reshape(b, h * w, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        if self.fused:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=self.causal)
        else:
            y = (q @ k.transpose(-1, -2) * q.shape[-1] ** -0.5).softmax(dim=-1) @ v
        return x + y.transpose(1, 2).reshape(b, h * w, c).transpose(1, 2).reshape(b, c, h, w)


def _model(**kw):
    return nn.Sequential(nn.Conv2d(3, 8, 1), randomize(TokenAttention(**kw), std=0.5)).eval()


def _hooks(model):
    return sum(len(m._forward_pre_hooks) + len(m._forward_hooks) for m in model.modules())


def _capture(model, x):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with torch.no_grad(), nlviz.capture(model, fallback=True) as rec:
            model(x)
    assert any("costs what those modules cost" in str(w.message) for w in caught)
    return rec


def test_a_materialized_softmax_is_recorded_as_it_is():
    model, x = _model(), torch.randn(2, 3, 5, 7)
    rec = _capture(model, x)
    assert rec.blocks == ["1"] and rec.grids("1") == ((1, 5, 7), (1, 5, 7))  # grid read from the module's input
    aff = rec.affinity("1", [(0, 2, 3), (0, 4, 6)])
    assert aff.kind == "materialized" and aff.groups == 2 and aff.geometry is not None
    ref = internal_weights(model[1], model[0](x), 35, 35)  # (B, H, N, N)
    torch.testing.assert_close(aff.rows(), ref[:, :, [2 * 7 + 3, 4 * 7 + 6]], atol=0, rtol=0)


@pytest.mark.parametrize("causal", [False, True])
def test_fused_attention_rows_are_recomputed_from_q_and_k(causal):
    torch.manual_seed(0)
    explicit, fused = _model(causal=causal), _model(fused=True, causal=causal)
    fused.load_state_dict(explicit.state_dict())
    x = torch.randn(2, 3, 4, 6)
    rec = _capture(fused, x)
    aff = rec.affinity("1")  # every row
    assert aff.kind == "softmax" and aff.normalized
    q, k, _ = fused[1].qkv(fused[0](x).flatten(2).transpose(1, 2)).reshape(2, 24, 3, 2, -1).permute(2, 0, 3, 1, 4)
    logits = q @ k.transpose(-1, -2) * q.shape[-1] ** -0.5
    if causal:
        logits = logits.masked_fill(torch.ones(24, 24, dtype=torch.bool).triu(1), float("-inf"))
    torch.testing.assert_close(aff.rows(), logits.softmax(-1), atol=1e-6, rtol=0)
    if not causal:  # the same block, explicit or fused: the same output
        torch.testing.assert_close(fused(x), explicit(x), atol=1e-5, rtol=0)


def test_known_blocks_are_recorded_exactly_and_not_twice():
    mmcv_nl = pytest.importorskip("mmcv.cnn.bricks.non_local")
    model = nn.Sequential(nn.Conv2d(3, 8, 1), randomize(mmcv_nl.NonLocal2d(8), std=0.3), TokenAttention()).eval()
    rec = _capture(model, torch.randn(1, 3, 4, 4))
    assert rec.blocks == ["1", "2"]  # mmcv's own softmax inside block 1 is not recorded a second time
    assert rec.affinity("1", [(0, 1, 1)]).kind == "softmax" and rec.affinity("2", [(0, 1, 1)]).kind == "materialized"


def test_no_hooks_remain_after_a_raising_forward_or_body():
    model = _model()
    with pytest.raises(RuntimeError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with nlviz.capture(model, fallback=True):
            assert _hooks(model) > 0
            model(torch.randn(1, 5, 4, 4))  # wrong channel count: the forward raises
    assert _hooks(model) == 0
    with pytest.raises(KeyError), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with nlviz.capture(model, fallback=True):
            raise KeyError("body")
    assert _hooks(model) == 0
    y = model(torch.randn(1, 3, 4, 4))  # and the module still runs normally, without the function mode
    assert y.shape == (1, 8, 4, 4)
