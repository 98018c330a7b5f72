"""KaiyuYue/cgnl-network.pytorch ``model/resnet.py``: ``SpatialCGNL`` and ``SpatialCGNLx``, re-typed.

MIT, Copyright (c) 2018 Kaiyu Yue; modified copy (see :mod:`support.foreign`): only these two classes; the
``alpha.cuda()`` of ``SpatialCGNLx.kernel`` is dropped (α is moved to the input's device instead), so the block
runs on the CPU; the ``termcolor`` console warnings of ``__init__`` are not printed; the forward and the
submodules, spelled out identically in both published classes, are written once (``_forward``, ``_build``).
The arithmetic is the published one: float32 γ = 1e-4 as a tensor, β = exp(−2γ), √α_p applied to both θ^p and
φ^p, the sums as bmm.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn


def _build(block, inplanes, planes, use_scale, groups):
    """The attributes and submodules both published blocks define: t (θ), p (φ), g, z (grouped), gn."""
    block.use_scale = use_scale
    block.groups = groups
    block.t = nn.Conv2d(inplanes, planes, kernel_size=1, stride=1, bias=False)
    block.p = nn.Conv2d(inplanes, planes, kernel_size=1, stride=1, bias=False)
    block.g = nn.Conv2d(inplanes, planes, kernel_size=1, stride=1, bias=False)
    block.z = nn.Conv2d(planes, inplanes, kernel_size=1, stride=1, groups=block.groups, bias=False)
    block.gn = nn.GroupNorm(num_groups=block.groups, num_channels=inplanes)


def _flat(t, p, g, b, c, h, w):
    """The views both published kernels start with: θ, φ as (b, 1, c·h·w) rows, g as a (b, c·h·w, 1) column."""
    return t.view(b, 1, c * h * w), p.view(b, 1, c * h * w), g.view(b, c * h * w, 1)


def _forward(block, x):
    """The forward both published blocks spell out: the kernel per group of consecutive channels, z, gn, + x."""
    residual = x
    t = block.t(x)
    p = block.p(x)
    g = block.g(x)
    b, c, h, w = t.size()
    if block.groups and block.groups > 1:
        _c = int(c / block.groups)
        ts = torch.split(t, split_size_or_sections=_c, dim=1)
        ps = torch.split(p, split_size_or_sections=_c, dim=1)
        gs = torch.split(g, split_size_or_sections=_c, dim=1)
        _t_sequences = [block.kernel(ts[i], ps[i], gs[i], b, _c, h, w) for i in range(block.groups)]
        x = torch.cat(_t_sequences, dim=1)
    else:
        x = block.kernel(t, p, g, b, c, h, w)
    x = block.z(x)
    return block.gn(x) + residual


class SpatialCGNL(nn.Module):
    """Spatial CGNL block with dot production kernel for image classfication."""

    def __init__(self, inplanes, planes, use_scale=False, groups=1):
        super().__init__()
        _build(self, inplanes, planes, use_scale, groups)

    def kernel(self, t, p, g, b, c, h, w):
        """The linear kernel (dot production) on one group: t, p, g are (b, c, h, w)."""
        t, p, g = _flat(t, p, g, b, c, h, w)
        att = torch.bmm(p, g)
        if self.use_scale:
            att = att.div((c * h * w) ** 0.5)
        x = torch.bmm(att, t)
        return x.view(b, c, h, w)

    def forward(self, x):
        return _forward(self, x)


class SpatialCGNLx(nn.Module):
    """Spatial CGNL block with Gaussian RBF kernel for image classification."""

    def __init__(self, inplanes, planes, use_scale=False, groups=1, order=2):
        super().__init__()
        _build(self, inplanes, planes, use_scale, groups)
        self.order = order

    def kernel(self, t, p, g, b, c, h, w):
        """The non-linear kernel (Gaussian RBF, Taylor terms 0..order) on one group."""
        t, p, g = _flat(t, p, g, b, c, h, w)
        gamma = torch.Tensor(1).fill_(1e-4)
        beta = torch.exp(-2 * gamma)  # the simplified β of the published code
        t_taylor = []
        p_taylor = []
        for order in range(self.order + 1):
            alpha = torch.mul(torch.div(torch.pow((2 * gamma), order), math.factorial(order)), beta)
            alpha = torch.sqrt(alpha.to(t.device))  # published: alpha.cuda()
            t_taylor.append(t.pow(order).mul(alpha))
            p_taylor.append(p.pow(order).mul(alpha))
        t_taylor = torch.cat(t_taylor, dim=1)
        p_taylor = torch.cat(p_taylor, dim=1)
        att = torch.bmm(p_taylor, g)
        if self.use_scale:
            att = att.div((c * h * w) ** 0.5)
        att = att.view(b, 1, int(self.order + 1))
        x = torch.bmm(att, t_taylor)
        return x.view(b, c, h, w)

    def forward(self, x):
        return _forward(self, x)
