"""ResNet-50 C2D and I3D for video, as in the NL paper (Wang et al., "Non-local Neural Networks", CVPR 2018).

Layout (module names follow torchvision so public checkpoints map by renaming keys)::

    conv1 (kt×7×7, stride t×2×2) → bn1 → relu → maxpool (1×3×3, stride t×2×2)   32×224² → 8×56×56
    layer1 = res2, 3 bottlenecks, 256 ch                                          8×56×56
    pool2  (2×1×1 max, stride 2×1×1)                                              4×56×56
    layer2 = res3, 4 bottlenecks, 512 ch                                          4×28×28
    layer3 = res4, 6 bottlenecks, 1024 ch                                         4×14×14
    layer4 = res5, 3 bottlenecks, 2048 ch                                         4×7×7
    global average pool → dropout → fc

Temporal strides: the defaults (``conv1_stride_t=2, pool1_stride_t=2``, plus ``pool2``) give the paper's
geometry for a 32-frame clip (Table 1: 32 → 16 → 8 → 4 frames; res3 4×28×28, res4 4×14×14), the same as
mmaction2's I3D configs. The paper's Table 1 pools with 3×3×3 / 3×1×1 kernels; mmaction2 and
video-nonlocal-net pool with 1×3×3 / 2×1×1 as here (no weights involved, same output sizes). For 8-frame
clips (SlowFast's and video-nonlocal-net's C2D/I3D 8×8 setting) use ``conv1_stride_t=1, pool1_stride_t=1``:
8 → 4 frames at res3. ``pool1_padding=0`` matches video-nonlocal-net's Caffe2 stem (112 → 55 → 28 …).

C2D: stem 1×7×7 and every bottleneck 1×1×1 / 1×3×3 / 1×1×1. I3D (the paper's I3D_3×1×1): stem 5×7×7 and the
first 1×1 conv of an *inflated* bottleneck becomes 3×1×1. Default inflation = the paper's "one kernel for
every 2 residual blocks", as released by video-nonlocal-net (``use_temp_convs``), SlowFast and mmaction2:
res2 all 3 blocks, res3 blocks 0 and 2, res4 blocks 0, 2, 4, res5 block 1.
That backbone has 27,223,872 parameters (mmaction2's ResNet3d: the same).

Non-local placements (:func:`paper_placement`): "1" = after res4 block 4 (right before its last block);
"5" = after res3 blocks 1, 3 and res4 blocks 1, 3, 5; "10" = after every res3 and res4 block.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from torch import Tensor, nn

from nlviz.models import checks
from nlviz.models.insert import build_stages, parse_blocks
from nlviz.models.layers import Bottleneck3d, bottleneck_stages, init_backbone

LAYERS = (3, 4, 6, 3)
PLANES = (64, 128, 256, 512)
PAPER_INFLATE = ((1, 1, 1), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 1, 0))
_PLACEMENTS = {
    "1": [(3, 4)],
    "5": [(2, 1), (2, 3), (3, 1), (3, 3), (3, 5)],
    "10": [(2, i) for i in range(4)] + [(3, i) for i in range(6)],
}


def paper_placement(blocks: str | int, op: str = "nonlocal", options: dict[str, Any] | None = None) -> list[dict]:
    """Block specs of the paper's 1-, 5- or 10-block ResNet-50 placements, with any operator."""
    key = str(blocks)
    if key not in _PLACEMENTS:
        raise ValueError(f"paper_placement: {blocks!r} is not a paper placement; valid: {list(_PLACEMENTS)}")
    return [{"op": op, "stage": s, "index": i, "options": dict(options or {})} for s, i in _PLACEMENTS[key]]


@dataclass
class R50C2DConfig:
    """ResNet-50 C2D.

    Attributes:
        num_classes: head size (Kinetics-400: 400).
        in_channels: input channels.
        conv1_stride_t: temporal stride of the stem conv.
        pool1_stride_t: temporal stride of the stem max pool.
        pool1_padding: spatial padding of the stem max pool (1 torchvision/mmaction2, 0 Caffe2).
        pool2: the 2×1×1 temporal max pool after res2.
        stride_in_1x1: spatial stride on each stage's first 1×1 conv (Caffe2) instead of the 3×3 (pytorch).
        dropout: dropout before fc (paper: 0.5).
        blocks: operator insertion specs (see :func:`paper_placement`).
    """

    num_classes: int = 400
    in_channels: int = 3
    conv1_stride_t: int = 2
    pool1_stride_t: int = 2
    pool1_padding: int = 1
    pool2: bool = True
    stride_in_1x1: bool = False
    dropout: float = 0.5
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        checks.positive_int("num_classes", self.num_classes)
        checks.positive_int("in_channels", self.in_channels)
        checks.positive_int("conv1_stride_t", self.conv1_stride_t)
        checks.positive_int("pool1_stride_t", self.pool1_stride_t)
        if self.pool1_padding not in (0, 1):
            raise ValueError(f"pool1_padding must be 0 or 1, got {self.pool1_padding!r}")
        for name in ("pool2", "stride_in_1x1"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}")
        self.dropout = checks.probability("dropout", self.dropout)
        self.blocks = checks.spec_list(self.blocks)

    def stem_kt(self) -> int:
        return 1

    def block_kts(self) -> list[list[int]]:
        return [[1] * n for n in LAYERS]


@dataclass
class R50I3DConfig(R50C2DConfig):
    """ResNet-50 I3D (the paper's I3D_3×1×1).

    Attributes:
        stem_kernel_t: temporal kernel of the stem conv (paper: 5).
        inflate: per stage, per block 0/1: bottlenecks whose first 1×1 conv becomes 3×1×1
            (None = the paper's pattern ``PAPER_INFLATE``).
    """

    stem_kernel_t: int = 5
    inflate: tuple[tuple[int, ...], ...] | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        checks.positive_int("stem_kernel_t", self.stem_kernel_t, odd=True)
        if self.inflate is not None:
            self.inflate = checks.pattern("inflate", self.inflate, LAYERS)

    def stem_kt(self) -> int:
        return self.stem_kernel_t

    def block_kts(self) -> list[list[int]]:
        return [[3 if on else 1 for on in row] for row in (self.inflate or PAPER_INFLATE)]


class VideoResNet50(nn.Module):
    """ResNet-50 C2D / I3D of the NL paper (see the module docstring). Input (B, 3, T, H, W)."""

    def __init__(self, config: R50C2DConfig) -> None:
        super().__init__()
        self.config = config
        kt = config.stem_kt()
        self.conv1 = nn.Conv3d(
            config.in_channels,
            64,
            (kt, 7, 7),
            stride=(config.conv1_stride_t, 2, 2),
            padding=(kt // 2, 3, 3),
            bias=False,
        )
        self.bn1 = nn.BatchNorm3d(64)
        self.relu = nn.ReLU(inplace=True)
        p = config.pool1_padding
        self.maxpool = nn.MaxPool3d((1, 3, 3), stride=(config.pool1_stride_t, 2, 2), padding=(0, p, p))
        self.pool2 = nn.MaxPool3d((2, 1, 1), stride=(2, 1, 1)) if config.pool2 else nn.Identity()
        init_backbone(self)
        kts = config.block_kts()
        blocks, channels = bottleneck_stages(
            lambda c_in, planes, stride, s, i: Bottleneck3d(c_in, planes, stride, kts[s][i], config.stride_in_1x1),
            LAYERS,
            PLANES,
        )
        specs = parse_blocks(config.blocks, LAYERS)
        for s, stage in enumerate(build_stages(blocks, channels, specs, video=True)):
            self.add_module(f"layer{s + 1}", stage)
        self.dropout = nn.Dropout(config.dropout)
        self.fc = nn.Linear(channels[-1], config.num_classes)

    def forward_features(self, x: Tensor) -> Tensor:
        """(B, 3, T, H, W) → res5 features (B, 2048, T/8, H/32, W/32) with the default strides."""
        if x.dim() != 5 or x.shape[1] != self.config.in_channels:
            raise ValueError(
                f"ResNet-50 video expects (B, {self.config.in_channels}, T, H, W) clips, got shape {tuple(x.shape)}"
            )
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))  # (B, 64, T/4, H/4, W/4)
        x = self.pool2(self.layer1(x))  # (B, 256, T/8, H/4, W/4)
        x = self.layer2(x)  # (B, 512, T/8, H/8, W/8)
        x = self.layer3(x)  # (B, 1024, T/8, H/16, W/16)
        return self.layer4(x)  # (B, 2048, T/8, H/32, W/32)

    def forward(self, x: Tensor) -> Tensor:
        """(B, 3, T, H, W) → logits (B, num_classes)."""
        f = self.forward_features(x)
        return self.fc(self.dropout(f.mean(dim=(2, 3, 4))))  # (B, num_classes)
