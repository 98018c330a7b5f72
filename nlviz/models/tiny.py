"""Tiny ResNets for the zoo: C2D and I3D video nets and a 2D image net, sized to train on 2 CPU cores.

Layout (all three): [coords] → stem conv (3×3, or kt×3×3) + BN + ReLU → ``layer1..layerS`` of
:class:`~nlviz.models.layers.BasicBlock` (widths e.g. 16-32-64) → global average pool → dropout → ``fc``.
Video nets never downsample time: a (B, 3, T, H, W) clip keeps T frames down to ``forward_features``.

- C2D: every kernel is 1×3×3 (per-frame 2D convs); frames are linked only by inserted operators.
- I3D: the first conv of each *inflated* block is kt×3×3 (``temporal_kernel``, default 3), the stem is
  ``stem_kernel_t``×3×3; ``inflate`` chooses the blocks (default: every block).
- 2D: images (B, C, H, W); ``local=True`` keeps the receptive field small for the no-operator baseline.

Operators are inserted by ``blocks`` specs (see :mod:`nlviz.models.insert`); stage s is ``layer{s}`` with
``widths[s-1]`` channels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from torch import Tensor, nn

from nlviz.models import checks
from nlviz.models.insert import build_stages, parse_blocks
from nlviz.models.layers import AddCoords, BasicBlock, conv, init_backbone, norm


@dataclass
class _TinyConfig:
    """Shared fields.

    Attributes:
        num_classes: size of the linear head.
        in_channels: channels of the input (3 for RGB); coordinate channels are added inside the model.
        widths: channels of each stage (stage s = ``layer{s}``).
        depths: residual blocks per stage.
        strides: spatial stride of each stage's first block (None = 1 for the first stage, 2 after it).
        stem_stride: spatial stride of the stem conv.
        coords: append y, x ∈ [-1, 1] channels before the stem (inputs stay ``in_channels``).
        dropout: dropout probability before ``fc``.
        blocks: operator insertion specs ``{"op", "stage", "index", "options"}``.
    """

    video: ClassVar[bool] = True

    num_classes: int = 10
    in_channels: int = 3
    widths: tuple[int, ...] = (16, 32, 64)
    depths: tuple[int, ...] = (1, 1, 1)
    strides: tuple[int, ...] | None = None
    stem_stride: int = 1
    coords: bool = False
    dropout: float = 0.0
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        checks.positive_int("num_classes", self.num_classes)
        checks.positive_int("in_channels", self.in_channels)
        self.widths = checks.int_tuple("widths", self.widths)
        self.depths = checks.int_tuple("depths", self.depths, length=len(self.widths))
        if self.strides is not None:
            self.strides = checks.int_tuple("strides", self.strides, length=len(self.widths))
        checks.positive_int("stem_stride", self.stem_stride)
        if not isinstance(self.coords, bool):
            raise ValueError(f"coords must be true or false, got {self.coords!r}")
        self.dropout = checks.probability("dropout", self.dropout)
        self.blocks = checks.spec_list(self.blocks)

    def stage_strides(self) -> tuple[int, ...]:
        return self.strides or (1,) + (2,) * (len(self.widths) - 1)

    def stem_kt(self) -> int:
        return 1

    def block_kts(self) -> list[list[int]]:
        """Temporal kernel of the first conv of every block (1 = per frame)."""
        return [[1] * d for d in self.depths]


@dataclass
class TinyC2DConfig(_TinyConfig):
    """Tiny C2D video ResNet (all kernels 1×3×3). Input (B, in_channels, T, H, W), e.g. 3×8×32×32."""


@dataclass
class TinyI3DConfig(_TinyConfig):
    """Tiny I3D video ResNet.

    Attributes:
        temporal_kernel: kt of the first conv of inflated blocks (odd).
        stem_kernel_t: kt of the stem conv (odd).
        inflate: per stage, per block 0/1: which blocks are inflated (None = all).
    """

    temporal_kernel: int = 3
    stem_kernel_t: int = 3
    inflate: tuple[tuple[int, ...], ...] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        checks.positive_int("temporal_kernel", self.temporal_kernel, odd=True)
        checks.positive_int("stem_kernel_t", self.stem_kernel_t, odd=True)
        if self.inflate is not None:
            self.inflate = checks.pattern("inflate", self.inflate, self.depths)

    def stem_kt(self) -> int:
        return self.stem_kernel_t

    def block_kts(self) -> list[list[int]]:
        pattern = self.inflate or tuple((1,) * d for d in self.depths)
        return [[self.temporal_kernel if on else 1 for on in row] for row in pattern]


@dataclass
class TinyResNet2DConfig(_TinyConfig):
    """Tiny 2D ResNet for images (B, in_channels, H, W).

    Attributes:
        local: the no-operator baseline with a small receptive field: only the second stage downsamples
            (strides (1, 2, 1, ...), stem stride 1: total stride 2) and every conv is 3×3, so with the
            default depths a final cell sees ``receptive_field()`` = 21 px of the input.
    """

    video: ClassVar[bool] = False

    local: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.local, bool):
            raise ValueError(f"local must be true or false, got {self.local!r}")
        if self.local:
            fixed = self.local_strides()
            if (self.strides is not None and self.strides != fixed) or self.stem_stride != 1:
                raise ValueError(
                    f"local=True fixes strides={list(fixed)} and stem_stride=1; got strides={self.strides}, "
                    f"stem_stride={self.stem_stride}"
                )

    def local_strides(self) -> tuple[int, ...]:
        return tuple(2 if s == 1 else 1 for s in range(len(self.widths)))

    def stage_strides(self) -> tuple[int, ...]:
        return self.local_strides() if self.local else super().stage_strides()


class TinyResNet(nn.Module):
    """The tiny ResNet of any of the three configs (see the module docstring)."""

    def __init__(self, config: _TinyConfig) -> None:
        super().__init__()
        self.config = config
        self.video = config.video
        dim = 3 if self.video else 2
        c = config.widths[0]
        self.coords = AddCoords() if config.coords else nn.Identity()
        self.conv1 = conv(dim, config.in_channels + 2 * config.coords, c, (config.stem_kt(), 3), config.stem_stride)
        self.bn1 = norm(dim, c)
        self.relu = nn.ReLU(inplace=True)
        init_backbone(self)
        blocks = []
        for width, depth, stride, kts in zip(config.widths, config.depths, config.stage_strides(), config.block_kts()):
            stage = [
                BasicBlock(dim, c if i == 0 else width, width, stride if i == 0 else 1, kts[i]) for i in range(depth)
            ]
            for block in stage:
                init_backbone(block)
            blocks.append(stage)
            c = width
        specs = parse_blocks(config.blocks, config.depths)
        for s, stage in enumerate(build_stages(blocks, config.widths, specs, self.video)):
            self.add_module(f"layer{s + 1}", stage)
        self.dropout = nn.Dropout(config.dropout)
        self.fc = nn.Linear(c, config.num_classes)

    def _check(self, x: Tensor) -> None:
        rank, layout = (5, "(B, C, T, H, W)") if self.video else (4, "(B, C, H, W)")
        if x.dim() != rank or x.shape[1] != self.config.in_channels:
            raise ValueError(
                f"{type(self.config).__name__} expects {layout} inputs with C={self.config.in_channels}, "
                f"got shape {tuple(x.shape)}"
            )

    def forward_features(self, x: Tensor) -> Tensor:
        """(B, C_in, [T,] H, W) → the last feature map (B, widths[-1], [T,] H/stride, W/stride)."""
        self._check(x)
        x = self.relu(self.bn1(self.conv1(self.coords(x))))  # (B, widths[0], [T,] H/stem, W/stem)
        for s in range(len(self.config.widths)):
            x = getattr(self, f"layer{s + 1}")(x)
        return x

    def forward(self, x: Tensor) -> Tensor:
        """(B, C_in, [T,] H, W) → logits (B, num_classes): global average pool over ([T,] H, W), then fc."""
        f = self.forward_features(x)
        return self.fc(self.dropout(f.mean(dim=tuple(range(2, f.dim())))))  # (B, num_classes)

    def receptive_field(self) -> int:
        """Spatial receptive field (input pixels) of one final feature cell, ignoring inserted operators."""
        rf, jump = 1 + 2 * 1, self.config.stem_stride  # stem: one 3×3 conv
        for depth, stride in zip(self.config.depths, self.config.stage_strides()):
            for i in range(depth):
                rf += 2 * jump  # conv1 (3×3, stride s): its taps are `jump` px apart
                jump *= stride if i == 0 else 1
                rf += 2 * jump  # conv2 (3×3)
        return rf
