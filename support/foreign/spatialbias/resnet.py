"""GoJunHyeong/SpatialBias ``resnet.py``: the SB ``Bottleneck``, re-typed (see :mod:`support.foreign`).

The published forward, hazards included: the bias maps are upsampled with ``nn.Upsample(scale_factor=H / 10)``
on both axes (H = conv2's output height), so the concatenation with conv2's output works for square maps only;
the SB module itself fails at B=1. With ``gc_group=False`` it is a plain ResNet bottleneck.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from support.foreign.spatialbias.SB_module import Spatial_bias


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None, gc_group=False):
        super().__init__()
        self.gc_group = gc_group
        if self.gc_group:
            self.SB = Spatial_bias(planes)
            self.num_sb = 3
        else:
            self.num_sb = 0
        self.planes = planes
        self.inplanes = inplanes
        self.conv1 = nn.Conv2d(inplanes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes + self.num_sb)
        self.conv3 = nn.Conv2d(planes + self.num_sb, planes * Bottleneck.expansion, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * Bottleneck.expansion)
        self.relu = nn.ReLU(inplace=False)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x):
        residual = x
        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu(out)
        if self.gc_group:
            sb = self.SB(out)
        out = self.conv2(out)
        if self.gc_group:
            sb = nn.Upsample(scale_factor=out.shape[2] / 10, mode="bilinear", align_corners=False)(sb)
            out = torch.cat([out, sb], dim=1)
        out = self.bn2(out)
        out = self.relu(out)
        out = self.conv3(out)
        out = self.bn3(out)
        if self.downsample is not None:
            residual = self.downsample(x)
        out += residual
        return self.relu(out)
