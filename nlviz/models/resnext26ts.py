"""ResNeXt-26-TS in timm's ``byobnet`` layout, with an operator inside every bottleneck: timm's
``bat_resnext26ts`` (``bat_resnext26ts.ch_in1k``, the ImageNet model timm releases with BAT blocks).

Layout (module names are timm's, so its checkpoints map by renaming only the operator keys)::

    stem.conv1 (3×3, stride 2, 24 ch) → stem.conv2 (3×3, 32) → stem.conv3 (3×3, 64) → stem.pool (3×3 max, stride 2)
    stages.{0..3}: 2 bottlenecks each, out 256 / 512 / 1024 / 2048, stride 1 / 2 / 2 / 2, width 1/4 of out
        conv1_1x1 → conv2_kxk (3×3 grouped, 32 channels per group, the stride) → attn (the operator, on the
        bottleneck width) → conv3_1x1 (no activation) → + shortcut (1×1 conv + BN when shape changes) → SiLU
    global average pool → head.fc

Every conv is ``conv`` + ``bn`` (a ``ConvNormAct``, SiLU unless stated). ``attn=BAT_RESNEXT26TS`` is timm's
``BatNonLocalAttn`` as nlviz ``bat`` options: block size 8, 2 groups, bottleneck width
``make_divisible(width / 4, 8)``, bias-free 1×1 convs, sigmoid normalization, ReLU inside the block. A 256×256
input gives 64², 32², 16² and 8² maps: all multiples of the block size. Operators are ``stages.{s}.{i}.attn``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import Tensor, nn

from nlviz.models import checks
from nlviz.models.insert import build_stages, parse_blocks
from nlviz.ops.base import create

WIDTHS = (256, 512, 1024, 2048)
STRIDES = (1, 2, 2, 2)
DEPTH = 2
GROUP_SIZE = 32
#: the ``attn`` of timm's ``bat_resnext26ts`` (``BatNonLocalAttn`` defaults with ``block_size=8``)
BAT_RESNEXT26TS = {
    "op": "bat",
    "options": {"block_size": 8, "groups": 2, "normalize": "sigmoid", "bias": False, "dropout": 0.2},
}


def make_divisible(v: float, divisor: int = 8) -> int:
    """timm's rounding of channel counts: nearest multiple of ``divisor``, never below 90% of ``v``."""
    out = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return out + divisor if out < 0.9 * v else out


@dataclass
class ResNeXt26Config:
    """timm ``resnext26ts``; with ``attn=BAT_RESNEXT26TS`` timm's ``bat_resnext26ts``.

    Attributes:
        num_classes: head size (ImageNet 1000).
        in_channels: input channels.
        attn: ``{"op": name, "options": {...}}`` of the operator inside every bottleneck (None: no operator);
            for ``bat`` the ``reduced_channels`` are filled in per stage from the bottleneck width unless given.
        blocks: further operators *between* bottlenecks, as in the other archs (stage s = ``stages.{s-1}``,
            named ``stages.{s-1}.nl{i}``); none in timm's model.
    """

    num_classes: int = 1000
    in_channels: int = 3
    attn: dict[str, Any] | None = None
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        checks.positive_int("num_classes", self.num_classes)
        checks.positive_int("in_channels", self.in_channels)
        self.blocks = checks.spec_list(self.blocks)
        if self.attn is not None and (
            not isinstance(self.attn, dict) or set(self.attn) - {"op", "options"} or "op" not in self.attn
        ):
            raise ValueError(f"attn must be None or {{'op': name, 'options': {{...}}}}, got {self.attn!r}")


class ConvNormAct(nn.Sequential):
    """conv (no bias, 'same' padding) → BN → optional activation; keys ``conv.*``, ``bn.*``."""

    def __init__(self, c_in: int, c_out: int, k: int, stride: int = 1, groups: int = 1, act: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.act = nn.SiLU(inplace=True) if act else nn.Identity()


class Bottleneck(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int, attn: nn.Module | None) -> None:
        super().__init__()
        mid = c_out // 4
        self.shortcut = ConvNormAct(c_in, c_out, 1, stride, act=False) if (c_in != c_out or stride != 1) else None
        self.conv1_1x1 = ConvNormAct(c_in, mid, 1)
        self.conv2_kxk = ConvNormAct(mid, mid, 3, stride, groups=mid // GROUP_SIZE)
        self.attn = attn if attn is not None else nn.Identity()
        self.conv3_1x1 = ConvNormAct(mid, c_out, 1, act=False)
        self.act = nn.SiLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        shortcut = x if self.shortcut is None else self.shortcut(x)  # (B, C_out, H', W')
        y = self.attn(self.conv2_kxk(self.conv1_1x1(x)))  # (B, mid, H', W')
        return self.act(self.conv3_1x1(y) + shortcut)


class ResNeXt26(nn.Module):
    """timm's ResNeXt-26-TS with an operator in every bottleneck (see the module docstring). Input (B, 3, H, W)."""

    def __init__(self, config: ResNeXt26Config) -> None:
        super().__init__()
        self.config = config
        self.stem = nn.Sequential()
        self.stem.add_module("conv1", ConvNormAct(config.in_channels, 24, 3, 2))
        self.stem.add_module("conv2", ConvNormAct(24, 32, 3))
        self.stem.add_module("conv3", ConvNormAct(32, 64, 3))
        self.stem.add_module("pool", nn.MaxPool2d(3, stride=2, padding=1))
        stages, c = [], 64
        for width, stride in zip(WIDTHS, STRIDES):
            stages.append(
                [
                    Bottleneck(c if i == 0 else width, width, stride if i == 0 else 1, self._attn(width // 4))
                    for i in range(DEPTH)
                ]
            )
            c = width
        specs = parse_blocks(config.blocks, [DEPTH] * len(WIDTHS))
        self.stages = nn.Sequential(*build_stages(stages, WIDTHS, specs, video=False))
        self.head = nn.Sequential()
        self.head.add_module("fc", nn.Linear(c, config.num_classes))

    def _attn(self, width: int) -> nn.Module | None:
        if self.config.attn is None:
            return None
        options = dict(self.config.attn.get("options", {}))
        if self.config.attn["op"] == "bat":
            options.setdefault("reduced_channels", make_divisible(width / 4))
        return create(self.config.attn["op"], width, **options)

    def forward_features(self, x: Tensor) -> Tensor:
        """(B, 3, H, W) → (B, 2048, H/32, W/32)."""
        if x.dim() != 4 or x.shape[1] != self.config.in_channels:
            raise ValueError(
                f"ResNeXt26 expects (B, {self.config.in_channels}, H, W) images, got shape {tuple(x.shape)}"
            )
        return self.stages(self.stem(x))

    def forward(self, x: Tensor) -> Tensor:
        """(B, 3, H, W) → logits (B, num_classes)."""
        return self.head.fc(self.forward_features(x).mean(dim=(2, 3)))  # (B, num_classes)
