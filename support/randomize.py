"""``randomize``: seeded random weights, so that no check passes on a trivial (zero or identity) init."""

from __future__ import annotations

import torch
from torch import nn


def randomize(
    module: nn.Module, *, seed: int | None = 0, std: float = 0.1, mean_std: float | None = None, add: bool = False
) -> nn.Module:
    """Give ``module`` random weights in place and return it in eval mode (so BatchNorm uses its statistics).

    ``add=False`` (replace): every floating-point entry of the state dict, in state-dict order, is drawn anew:
    BatchNorm running variances from U[0.5, 1.5], running means from N(0, ``mean_std``²) (``mean_std`` defaults
    to ``std``), everything else (weights, biases, zero-initialized norms included) from N(0, ``std``²).

    ``add=True`` (perturb): N(0, ``std``²) noise is added to every parameter, in ``parameters()`` order; buffers
    keep their values.

    ``seed``: the seed of a private generator; ``None`` draws from torch's global generator instead (continuing
    from wherever ``torch.manual_seed`` and the module's own init left it).
    """
    g = None if seed is None else torch.Generator().manual_seed(seed)
    mean_std = std if mean_std is None else mean_std
    with torch.no_grad():
        if add:
            for p in module.parameters():
                p.add_(torch.randn(p.shape, generator=g, dtype=p.dtype) * std)
        else:
            for name, t in module.state_dict().items():
                if not t.is_floating_point():
                    continue
                if name.endswith("running_var"):
                    t.copy_(torch.rand(t.shape, generator=g) + 0.5)
                else:
                    t.copy_(torch.randn(t.shape, generator=g) * (mean_std if name.endswith("running_mean") else std))
    module.eval()  # not ``return module.eval()``: mmaction2's ``train()`` returns None
    return module
