"""ResNet-50/101/152 for images in torchvision's layout, the backbone of the released CGNL and BAT models.

Layout (He et al. 2016; torchvision ``resnet50``, stride on the 3×3 conv)::

    conv1 (7×7, stride 2) → bn1 → relu → maxpool (3×3, stride 2)    224² → 56×56
    layer1 = res2, 3 bottlenecks, 256 ch                               56×56
    layer2 = res3, 4 bottlenecks, 512 ch                               28×28
    layer3 = res4, 6 bottlenecks, 1024 ch  (23 for R-101, 36 for R-152) 14×14
    layer4 = res5, 3 bottlenecks, 2048 ch  (8 res3 blocks for R-152)     7×7
    global average pool → dropout → fc

State-dict names follow torchvision (``layer3.4.conv2.weight``, ``downsample.0/.1``), so public checkpoints map
by renaming keys; operators inserted by ``blocks`` are ``layer{s}.nl{i}`` (see :mod:`nlviz.models.insert`):
CGNL's released R-50 block is ``{"op": "cgnl", "stage": 3, "index": 4}`` (before the last res4 block), BAT's
five blocks are :func:`nlviz.models.paper_placement` ("5"). Parameters: 25,557,032 for R-50 with 1000 classes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import Tensor, nn

from nlviz.models import checks
from nlviz.models.insert import build_stages, parse_blocks
from nlviz.models.layers import bottleneck_stages, init_backbone

DEPTHS = {50: (3, 4, 6, 3), 101: (3, 4, 23, 3), 152: (3, 8, 36, 3)}
PLANES = (64, 128, 256, 512)


@dataclass
class R50ImageConfig:
    """ResNet for images.

    Attributes:
        num_classes: head size (ImageNet 1000, CUB-200 200).
        in_channels: input channels.
        depth: 50, 101 or 152 (bottlenecks per stage: ``DEPTHS``).
        dropout: dropout before fc (CGNL's released models: 0.5; torchvision and BAT: 0).
        blocks: operator insertion specs ``{"op", "stage", "index", "options"}``.
    """

    num_classes: int = 1000
    in_channels: int = 3
    depth: int = 50
    dropout: float = 0.0
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        checks.positive_int("num_classes", self.num_classes)
        checks.positive_int("in_channels", self.in_channels)
        if self.depth not in DEPTHS:
            raise ValueError(f"depth must be one of {sorted(DEPTHS)}, got {self.depth!r}")
        self.dropout = checks.probability("dropout", self.dropout)
        self.blocks = checks.spec_list(self.blocks)


class Bottleneck2d(nn.Module):
    """1×1 → 3×3 (stride here) → 1×1 (×4 channels), residual add, ReLU (torchvision's v1.5 bottleneck)."""

    expansion = 4

    def __init__(self, c_in: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        c_out = planes * self.expansion
        self.conv1 = nn.Conv2d(c_in, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, c_out, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = None
        if stride != 1 or c_in != c_out:
            self.downsample = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)  # (B, 4p, H', W')
        out = self.relu(self.bn1(self.conv1(x)))  # (B, p, H, W)
        out = self.relu(self.bn2(self.conv2(out)))  # (B, p, H', W')
        out = self.bn3(self.conv3(out))  # (B, 4p, H', W')
        return self.relu(out + identity)


class ImageResNet(nn.Module):
    """ResNet-50/101/152 for (B, C, H, W) images (see the module docstring)."""

    def __init__(self, config: R50ImageConfig) -> None:
        super().__init__()
        self.config = config
        self.conv1 = nn.Conv2d(config.in_channels, 64, 7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        init_backbone(self)
        depths = DEPTHS[config.depth]
        blocks, channels = bottleneck_stages(
            lambda c_in, planes, stride, s, i: Bottleneck2d(c_in, planes, stride), depths, PLANES
        )
        specs = parse_blocks(config.blocks, depths)
        for s, stage in enumerate(build_stages(blocks, channels, specs, video=False)):
            self.add_module(f"layer{s + 1}", stage)
        self.dropout = nn.Dropout(config.dropout)
        self.fc = nn.Linear(channels[-1], config.num_classes)

    def forward_features(self, x: Tensor) -> Tensor:
        """(B, C, H, W) → res5 features (B, 2048, H/32, W/32)."""
        if x.dim() != 4 or x.shape[1] != self.config.in_channels:
            raise ValueError(
                f"ResNet-{self.config.depth} (image) expects (B, {self.config.in_channels}, H, W) images, "
                f"got shape {tuple(x.shape)}"
            )
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # (B, 64, H/4, W/4)
        x = self.layer1(x)  # (B, 256, H/4, W/4)
        x = self.layer2(x)  # (B, 512, H/8, W/8)
        x = self.layer3(x)  # (B, 1024, H/16, W/16)
        return self.layer4(x)  # (B, 2048, H/32, W/32)

    def forward(self, x: Tensor) -> Tensor:
        """(B, C, H, W) → logits (B, num_classes)."""
        f = self.forward_features(x)
        return self.fc(self.dropout(f.mean(dim=(2, 3))))  # (B, num_classes)
