"""BA-Transform/BAT-Image-Classification ``model_zoo/non_local.py``: ``BATransform`` and ``BATBlock``, re-typed.

Apache-2.0, Copyright 2020 Lu Chi; modified copy (only these classes and their base; see :mod:`support.foreign`).
The forward is the published one: sigmoid-normalized P and Q, both upsampled by H // s (so the block needs
square maps whose side s divides), y = P̃ · x · Q̃ per channel, then conv-BN-ReLU.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class NonLocalModule(nn.Module):
    def __init__(self, in_channels, **kwargs):
        super().__init__()

    def init_modules(self):
        for name, m in self.named_modules():
            if len(m._modules) > 0:
                continue
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if len(list(m.parameters())) > 1:
                    nn.init.constant_(m.bias, 0.0)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 0)
                nn.init.constant_(m.bias, 0)
            elif len(list(m.parameters())) > 0:
                raise ValueError("UNKOWN NONLOCAL LAYER TYPE:", name, m)


class BATransform(nn.Module):
    def __init__(self, in_channels, s, k):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(in_channels, k, 1), nn.BatchNorm2d(k), nn.ReLU(inplace=True))
        self.conv_p = nn.Conv2d(k, s * s * k, [s, 1])
        self.conv_q = nn.Conv2d(k, s * s * k, [1, s])
        self.conv2 = nn.Sequential(
            nn.Conv2d(in_channels, in_channels, 1), nn.BatchNorm2d(in_channels), nn.ReLU(inplace=True)
        )
        self.s = s
        self.k = k
        self.in_channels = in_channels

    def extra_repr(self):
        return "BATransform({in_channels}, s={s}, k={k})".format(**self.__dict__)

    def resize_mat(self, x, t):
        n, c, s, s1 = x.shape
        assert s == s1
        if t <= 1:
            return x
        x = x.view(n * c, -1, 1, 1)
        x = x * torch.eye(t, t, dtype=x.dtype, device=x.device)  # every entry times I_t
        x = x.view(n * c, s, s, t, t)
        x = torch.cat(torch.split(x, 1, dim=1), dim=3)  # rows: (entry row, t)
        x = torch.cat(torch.split(x, 1, dim=2), dim=4)  # columns: (entry column, t)
        return x.view(n, c, s * t, s * t)

    def forward(self, x):
        n, c = x.size(0), x.size(1)
        out = self.conv1(x)
        rp = F.adaptive_max_pool2d(out, (self.s, 1))
        cp = F.adaptive_max_pool2d(out, (1, self.s))
        p = torch.sigmoid(self.conv_p(rp).view(n, self.k, self.s, self.s))
        q = torch.sigmoid(self.conv_q(cp).view(n, self.k, self.s, self.s))
        p = p / p.sum(dim=3, keepdim=True)
        q = q / q.sum(dim=2, keepdim=True)
        p = p.view(n, self.k, 1, self.s, self.s).expand(n, self.k, c // self.k, self.s, self.s).contiguous()
        p = p.view(n, c, self.s, self.s)
        q = q.view(n, self.k, 1, self.s, self.s).expand(n, self.k, c // self.k, self.s, self.s).contiguous()
        q = q.view(n, c, self.s, self.s)
        p = self.resize_mat(p, x.size(2) // self.s)
        q = self.resize_mat(q, x.size(2) // self.s)  # H // s for Q too (square maps only)
        y = p.matmul(x)
        y = y.matmul(q)
        return self.conv2(y)


class BATBlock(NonLocalModule):
    def __init__(self, in_channels, r=2, s=4, k=4, dropout=0.2, **kwargs):
        super().__init__(in_channels)
        inter_channels = in_channels // r
        self.conv1 = nn.Sequential(
            nn.Conv2d(in_channels, inter_channels, 1), nn.BatchNorm2d(inter_channels), nn.ReLU(inplace=True)
        )
        self.batransform = BATransform(inter_channels, s, k)
        self.conv2 = nn.Sequential(
            nn.Conv2d(inter_channels, in_channels, 1), nn.BatchNorm2d(in_channels), nn.ReLU(inplace=True)
        )
        self.dropout = nn.Dropout2d(p=dropout)

    def forward(self, x):
        xl = self.conv1(x)
        y = self.batransform(xl)
        y = self.conv2(y)
        y = self.dropout(y)
        return y + x

    def init_modules(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
