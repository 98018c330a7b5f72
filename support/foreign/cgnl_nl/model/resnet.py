"""CGNL's plain non-local block ``SpatialNL`` (KaiyuYue/cgnl-network.pytorch ``model/resnet.py``, commit 2b76f38,
MIT), re-typed for the capture tests: same class, attribute names and forward math — bias-free ``t``, ``p``,
``g`` (C → planes), softmax over keys of tᵀp, divided by √planes (C') when ``use_scale`` (the repository's
ResNet builds it with ``use_scale=True``), then ``z`` (planes → C, no bias), ``bn`` and the residual.

Only this class of the file is copied (its CGNL blocks and ResNet are not needed here); the constructor's
``termcolor`` warning print is left out.
"""

import torch
import torch.nn as nn


class SpatialNL(nn.Module):
    """Spatial NL block for image classification (after facebookresearch/video-nonlocal-net)."""

    def __init__(self, inplanes, planes, use_scale=False):
        self.use_scale = use_scale
        super().__init__()
        self.t = nn.Conv2d(inplanes, planes, kernel_size=1, stride=1, bias=False)
        self.p = nn.Conv2d(inplanes, planes, kernel_size=1, stride=1, bias=False)
        self.g = nn.Conv2d(inplanes, planes, kernel_size=1, stride=1, bias=False)
        self.softmax = nn.Softmax(dim=2)
        self.z = nn.Conv2d(planes, inplanes, kernel_size=1, stride=1, bias=False)
        self.bn = nn.BatchNorm2d(inplanes)

    def forward(self, x):
        residual = x
        t, p, g = self.t(x), self.p(x), self.g(x)
        b, c, h, w = t.size()
        t = t.view(b, c, -1).permute(0, 2, 1)  # (b, N, C')
        p = p.view(b, c, -1)  # (b, C', N)
        g = g.view(b, c, -1).permute(0, 2, 1)  # (b, N, C')

        att = torch.bmm(t, p)  # (b, N, N)
        if self.use_scale:
            att = att.div(c**0.5)
        att = self.softmax(att)
        x = torch.bmm(att, g)  # (b, N, C')

        x = x.permute(0, 2, 1).contiguous().view(b, c, h, w)
        x = self.z(x)
        return self.bn(x) + residual
