"""The per-frame adapter: equals a loop over frames, and cannot link frames."""

from __future__ import annotations

import pytest
import torch

from nlviz.models import PerFrame, build_model, is_per_frame
from nlviz.ops import create
from nlviz.ops.base import OPS
from support.randomize import randomize
from support.toy_ops import ALL_OPS, op_options


def _frame_op(name: str, channels: int = 16):
    """A 2D instance of ``name`` with random (non-identity) weights, in eval mode."""
    has_dim = "dim" in OPS.get(name).__init__.__code__.co_varnames
    op = create(name, channels, **op_options(name), **({"dim": 2} if has_dim else {}))
    return randomize(op)


@pytest.mark.parametrize("name", ALL_OPS)
def test_per_frame_equals_loop_over_frames(name):
    op = _frame_op(name)
    x = torch.randn(2, 16, 3, 8, 8)  # (B, C, T, H, W)
    with torch.no_grad():
        y = PerFrame(op)(x)
        loop = torch.stack([op(x[:, :, t]) for t in range(3)], dim=2)
    assert y.shape == loop.shape
    err = (y - loop).abs().max().item()
    assert err <= 1e-5, err


@pytest.mark.parametrize("name", ALL_OPS)
def test_per_frame_cannot_link_frames(name):
    op = _frame_op(name)
    x = torch.randn(1, 16, 3, 8, 8, requires_grad=True)
    PerFrame(op)(x)[:, :, 0].sum().backward()
    assert x.grad[:, :, 0].abs().sum() > 0
    assert torch.equal(x.grad[:, :, 1:], torch.zeros_like(x.grad[:, :, 1:]))


def test_unfold_batch_and_errors():
    y = torch.arange(12.0).view(6, 2)  # (B·T, 2) with B=2, T=3
    u = PerFrame.unfold_batch(y, 3)
    assert u.shape == (2, 3, 2) and torch.equal(u[1, 0], y[3])
    with pytest.raises(ValueError, match="not a multiple of T=4"):
        PerFrame.unfold_batch(y, 4)
    with pytest.raises(ValueError, match=r"expects a \(B, C, T, H, W\)"):
        PerFrame(OPS.get("toy2d")(8))(torch.randn(1, 8, 4, 4))


def test_is_per_frame():
    model = build_model("tiny_c2d", blocks=[{"op": "toy2d", "stage": 1, "index": 0}])
    assert is_per_frame(model, "layer1.nl0.op") and not is_per_frame(model, "layer1.0")
    assert not is_per_frame(model, "fc")
