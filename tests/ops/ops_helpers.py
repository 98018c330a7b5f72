"""Helpers for the operator tests (pytest's prepend import mode puts ``tests/ops`` on ``sys.path``)."""

from __future__ import annotations

import torch
from torch import nn


def randomize(module: nn.Module, seed: int = 1) -> nn.Module:
    """Random weights N(0, 0.3²), BN running means N(0, 0.1²) and variances in [0.5, 1.5], in place, so no
    check passes on a trivial (zero or identity) init; returns the module in eval mode (BN uses the stats)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3)
        for name, b in module.named_buffers():
            if name.endswith("running_var"):
                b.copy_(torch.rand(b.shape, generator=g) + 0.5)
            elif name.endswith("running_mean"):
                b.copy_(torch.randn(b.shape, generator=g) * 0.1)
    return module.eval()
