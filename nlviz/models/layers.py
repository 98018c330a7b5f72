"""Backbone building blocks shared by the model families: convs, residual blocks, coordinate channels.

Names follow torchvision's ResNet (``conv1, bn1, conv2, bn2[, conv3, bn3], downsample.0/.1``) so that
converters can map public checkpoints by renaming keys only.

Video kernels are written (kt, k) = (temporal, spatial) size: a C2D conv is (1, 3) i.e. 1×3×3, an inflated
I3D conv (3, 3) i.e. 3×3×3. Strides are spatial only: no model here downsamples time inside a block.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor, nn


def conv(dim: int, c_in: int, c_out: int, kernel: tuple[int, int], stride: int = 1) -> nn.Module:
    """A bias-free conv with 'same' padding: ``dim=2`` (k×k, ``kernel[0]`` must be 1) or ``dim=3`` (kt×k×k)."""
    kt, k = kernel
    if dim == 2:
        if kt != 1:
            raise ValueError(f"a 2D conv cannot have a temporal kernel; got kt={kt}")
        return nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, bias=False)
    return nn.Conv3d(c_in, c_out, (kt, k, k), stride=(1, stride, stride), padding=(kt // 2, k // 2, k // 2), bias=False)


def norm(dim: int, channels: int) -> nn.Module:
    return nn.BatchNorm2d(channels) if dim == 2 else nn.BatchNorm3d(channels)


def downsample(dim: int, c_in: int, c_out: int, stride: int) -> nn.Module | None:
    """The projection shortcut (1×1 conv with the block's spatial stride + BN), or None for identity."""
    if stride == 1 and c_in == c_out:
        return None
    return nn.Sequential(conv(dim, c_in, c_out, (1, 1), stride), norm(dim, c_out))


class BasicBlock(nn.Module):
    """Two 3×3 convs with a residual add, ReLU after the add (ResNet-18 style).

    ``kt`` is the temporal kernel of the *first* conv (1 = per-frame C2D; 3 = inflated I3D); the second conv
    is always per frame (1×3×3). In 2D (``dim=2``) both are 3×3.
    """

    def __init__(self, dim: int, c_in: int, c_out: int, stride: int = 1, kt: int = 1) -> None:
        super().__init__()
        self.conv1 = conv(dim, c_in, c_out, (kt, 3), stride)
        self.bn1 = norm(dim, c_out)
        self.conv2 = conv(dim, c_out, c_out, (1, 3))
        self.bn2 = norm(dim, c_out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample(dim, c_in, c_out, stride)

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)  # (B, C_out, [T,] H', W')
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class Bottleneck3d(nn.Module):
    """ResNet-50 bottleneck on video: 1×1×1 (or kt×1×1) → 1×3×3 → 1×1×1 (×4 channels), residual add, ReLU.

    ``kt = 3`` is the NL paper's I3D inflation (the first 1×1 kernel becomes 3×1×1; mmaction2's
    ``inflate_style='3x1x1'``). ``stride_in_1x1`` puts the spatial stride on conv1 (Caffe2/MSRA layout)
    instead of conv2 (torchvision/mmaction2 ``style='pytorch'``); the weights have the same shapes.
    """

    expansion = 4

    def __init__(self, c_in: int, planes: int, stride: int = 1, kt: int = 1, stride_in_1x1: bool = False) -> None:
        super().__init__()
        s1, s2 = (stride, 1) if stride_in_1x1 else (1, stride)
        c_out = planes * self.expansion
        self.conv1 = nn.Conv3d(c_in, planes, (kt, 1, 1), stride=(1, s1, s1), padding=(kt // 2, 0, 0), bias=False)
        self.bn1 = nn.BatchNorm3d(planes)
        self.conv2 = conv(3, planes, planes, (1, 3), s2)
        self.bn2 = nn.BatchNorm3d(planes)
        self.conv3 = nn.Conv3d(planes, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm3d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample(3, c_in, c_out, stride)

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)  # (B, 4p, T, H', W')
        out = self.relu(self.bn1(self.conv1(x)))  # (B, p, T, H or H', W or W')
        out = self.relu(self.bn2(self.conv2(out)))  # (B, p, T, H', W')
        out = self.bn3(self.conv3(out))  # (B, 4p, T, H', W')
        return self.relu(out + identity)


class AddCoords(nn.Module):
    """Append two channels y, x ∈ [-1, 1] (−1 at the top/left cell, +1 at the bottom/right; the same for
    every frame), so absolute position is decodable by convs. (B, C, [T,] H, W) → (B, C + 2, [T,] H, W)."""

    def forward(self, x: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        ys = torch.linspace(-1.0, 1.0, h, device=x.device, dtype=x.dtype)  # (H,)
        xs = torch.linspace(-1.0, 1.0, w, device=x.device, dtype=x.dtype)  # (W,)
        grid = torch.stack((ys[:, None].expand(h, w), xs[None, :].expand(h, w)))  # (2, H, W)
        lead = [1] * (x.dim() - 4)  # a T axis for video
        grid = grid.view(1, 2, *lead, h, w).expand(x.shape[0], 2, *x.shape[2:-2], h, w)
        return torch.cat((x, grid), dim=1)  # (B, C + 2, [T,] H, W)


def init_backbone(module: nn.Module) -> None:
    """torchvision's ResNet init: He-normal (fan_out) convs, BN γ=1 β=0, linear layers left at default.

    Apply it to backbone modules *before* operators are inserted: operators own their (zero) init.
    """
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.Conv3d)):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


def bottleneck_stages(
    make_block: Callable[[int, int, int, int, int], nn.Module], depths: Sequence[int], planes: Sequence[int]
) -> tuple[list[list[nn.Module]], list[int]]:
    """The residual blocks of a ResNet-50-style backbone after a 64-channel stem, in torchvision's pattern.

    Stage s has ``depths[s]`` blocks ``make_block(c_in, planes[s], stride, s, i)`` whose output has
    ``planes[s] · expansion`` channels (the block class's ``expansion``, 4 for bottlenecks); the first block of
    every stage but the first has spatial stride 2. Each stage's blocks get :func:`init_backbone` once all
    are built. Returns the blocks per stage and each stage's output channels (the last one feeds ``fc``).
    """
    blocks, channels, c = [], [], 64
    for s, (n, p) in enumerate(zip(depths, planes)):
        stage = []
        for i in range(n):
            stage.append(make_block(c, p, 2 if (s > 0 and i == 0) else 1, s, i))
            c = p * stage[-1].expansion
        for block in stage:
            init_backbone(block)
        blocks.append(stage)
        channels.append(c)
    return blocks, channels
