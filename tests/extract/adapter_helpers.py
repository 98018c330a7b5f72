"""Helpers for the adapter tests of the non-softmax families (BAT, CGNL, Spatial Bias): a small named model around
a block, the Affinity nlviz.capture records for it, the comparison of two Affinities, the nlviz op built from a
block's converted weights, and the matrices a BAT block multiplies with inside its own forward."""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
from extract_helpers import operands
from torch import Tensor, nn

import nlviz
from nlviz import ops
from nlviz.io import convert_state_dict
from nlviz.ops.base import Affinity

#: the ``named_modules()`` name of the block inside :func:`wrap`
BLOCK = "body.nl"


def wrap(block: nn.Module) -> nn.Module:
    """The block inside a small model (``stem``, then ``body.nl``), in eval mode."""
    return nn.Sequential(OrderedDict(stem=nn.Identity(), body=nn.Sequential(OrderedDict(nl=block)))).eval()


def captured(model: nn.Module, x: Tensor, block: str = BLOCK) -> Affinity:
    """Every row of ``block`` as nlviz.capture records it while running ``model(x)``."""
    with torch.no_grad(), nlviz.capture(model) as rec:
        model(x)
    assert block in rec.blocks, rec.blocks
    return rec.affinity(block)


def converted_op(block: nn.Module, source: str, name: str, in_channels: int, **options) -> nn.Module:
    """nlviz's op ``name`` holding ``block``'s weights (``convert_state_dict(sd, source)``), in eval mode."""
    op = ops.create(name, in_channels, **options)
    op.load_state_dict(convert_state_dict(block.state_dict(), source), strict=True)
    return op.eval()


def assert_same_affinity(got: Affinity, want: Affinity, atol: float = 1e-5) -> float:
    """Same kind, flags, grids, groups, queries, geometry and extras, and weights within ``atol``; returns the
    largest weight difference."""
    assert (got.kind, got.normalized) == (want.kind, want.normalized)
    assert (got.query_grid, got.key_grid, got.groups) == (want.query_grid, want.key_grid, want.groups)
    assert torch.equal(got.queries, want.queries) and got.geometry == want.geometry
    torch.testing.assert_close(got.weights, want.weights, atol=atol, rtol=0)
    assert set(got.extras) == set(want.extras), (set(got.extras), set(want.extras))
    for k, v in want.extras.items():
        torch.testing.assert_close(got.extras[k], v, atol=atol, rtol=0, msg=k)
    return (got.weights - want.weights).abs().max().item()


# ---- BAT: the matrices the block's forward multiplies with ------------------------------------------------


def per_group(m: Tensor, groups: int) -> Tensor:
    """(B, C, ...) per-channel matrices → (B, G, ...), checking that the C/G channels of a group share one."""
    b, c = m.shape[:2]
    mg = m.reshape(b, groups, c // groups, *m.shape[2:])
    assert torch.equal(mg, mg[:, :, :1].expand_as(mg)), "channels of one group use different matrices"
    return mg[:, :, 0]


def spied_bilinear(block: nn.Module, x: Tensor, groups: int) -> tuple[Tensor, Tensor, Tensor | None]:
    """P̃ (B, G, T, H, H), Q̃ (B, G, T, W, W) and T̃ (B, G, T, T) or None, as they enter the forward's products
    ``p.matmul(x)``, ``y.matmul(q)`` (and ``tm.matmul(y)``, tm (B, C, H, W, T, T)); T = 1 for 2D blocks."""
    calls = operands(block, x, {torch.Tensor.matmul, torch.matmul})
    assert len(calls) in (2, 3), f"{len(calls)} matmuls inside {type(block).__name__}"
    p, q = calls[0][0], calls[1][1]
    if p.dim() == 4:
        p, q = p.unsqueeze(2), q.unsqueeze(2)
    t = None
    if len(calls) == 3:
        tm = calls[2][0]  # (B, C, H, W, T, T): one matrix for every cell
        assert torch.equal(tm, tm[:, :, :1, :1].expand_as(tm))
        t = per_group(tm[:, :, 0, 0], groups)
    return per_group(p, groups), per_group(q, groups), t


def bilinear_map(p: Tensor, q: Tensor, t: Tensor | None = None) -> Tensor:
    """The effective map w[(z, i, j), (y, a, c)] = T̃[z, y]·P̃_y[i, a]·Q̃_y[c, j] (T̃ = I without one): (B, G, N, N)."""
    b, g, frames, h, _ = p.shape
    w = q.shape[-1]
    if t is None:
        t = torch.eye(frames, dtype=p.dtype).expand(b, g, frames, frames)
    n = frames * h * w
    return torch.einsum("bgzy,bgyia,bgycj->bgzijyac", t, p, q).reshape(b, g, n, n)


def lcm(a: int, b: int) -> int:
    return math.lcm(a, b) if b > 0 else a
