"""The official Spatial Bias code (GoJunHyeong/SpatialBias): the ``Spatial_bias`` module (``SB_module.py``) and the
SB ``Bottleneck`` of its ``resnet.py`` (``gc_group=True``; the module inside is not listed separately).

``Spatial_bias``: ``feature_reduction`` = 1×1 conv (5 channels), BN, ReLU → u, then AdaptiveAvgPool2d(10); the
100 pooled positions are the channels of ``sb_conv`` (Conv1d(100, 100, 3), with bias) over the 5 compressed
channels; map k at coarse cell p = its output [p, k]: 3 maps of 10×10. The ``Bottleneck`` runs it on
a = relu(bn1(conv1(x))) and upsamples the maps with ``nn.Upsample(scale_factor=Ho / 10)`` (bilinear,
align_corners=False; Ho = conv2's output height) before concatenating them to conv2's output.

Rows (kind ``linear_contribution``, one group per bias map): the exact linear contribution of cell j of u (the
block's input grid) to bias map k at query cell i, ``extras["bias_offset"]`` the upsampled Conv1d bias —
:mod:`nlviz.ops.spatial_bias_map`, the definition of nlviz's ``spatial_bias`` op, so the Bottleneck's Affinity is
the op's for the converted weights (``convert_state_dict(sd, "spatialbias")``). Queries: conv2's output grid for
the Bottleneck, the 10×10 pooled grid for the module alone. The hazards of the published code are reported, not
recorded: ``.squeeze()`` drops the batch at B=1 (the module's forward then fails), and one scale factor for
both axes makes the Bottleneck's concatenation fail on non-square maps.
"""

from __future__ import annotations

from torch import Tensor, nn

from nlviz.extract.blocks import register
from nlviz.ops.base import OpInputs, RowSource, grid_of
from nlviz.ops.spatial_bias_map import bias_offset, linear_rows

LIBRARY = "Spatial Bias (GoJunHyeong/SpatialBias)"


def compress(sb: nn.Module, a: Tensor) -> Tensor:
    """u = ``feature_reduction`` without its final pool (conv, BN, ReLU): (B, C, H, W) → (B, 5, H, W)."""
    if a.dim() != 4:
        raise ValueError(f"Spatial_bias works on (B, C, H, W) maps, got shape {tuple(a.shape)}")
    if a.shape[0] < 2:
        raise ValueError(
            "the official Spatial_bias squeezes its batch dimension away at B=1 and its forward then fails: "
            "run it on batches of 2 or more (or convert it to nlviz's 'spatial_bias' op, which has no such limit)"
        )
    *layers, pool = sb.feature_reduction
    if not isinstance(pool, nn.AdaptiveAvgPool2d):
        raise ValueError(f"Spatial_bias.feature_reduction should end in AdaptiveAvgPool2d, not {type(pool).__name__}")
    for layer in layers:
        a = layer(a)
    return a


class SpatialBiasSource(RowSource):
    """Rows of a ``Spatial_bias`` module alone: queries on its S×S output grid."""

    family = "spatial_bias"
    kind = "linear_contribution"
    normalized = False

    def __init__(self, sb: nn.Module) -> None:
        self.sb = sb

    def query_size(self, a: Tensor) -> tuple[int, int]:
        """The grid of the bias maps the block uses: here the module's own S×S output."""
        return (self.sb.reduce_r, self.sb.reduce_r)

    def features(self, x: Tensor) -> Tensor:
        """The module's input a from the recorded input (the module alone: x itself)."""
        return x

    def affinity_inputs(self, x: Tensor) -> OpInputs:
        a = self.features(x)  # (B, C, H, W)
        size = self.query_size(a)
        return OpInputs({"u": compress(self.sb, a)}, query_grid=(1, *size), key_grid=grid_of(a))

    def num_groups(self, inputs: OpInputs) -> int:
        return inputs["u"].shape[1] - self.sb.sb_conv.weight.shape[-1] + 1

    def _rows(self, inputs: OpInputs, flat_queries: Tensor) -> Tensor:
        return linear_rows(inputs["u"], self.sb.sb_conv.weight, self.sb.reduce_r, inputs.query_grid[1:], flat_queries)

    def extras(self, inputs: OpInputs) -> dict[str, Tensor]:
        """``bias_offset`` (1, Ho, Wo): β, the part of every bias map no input cell accounts for."""
        size = inputs.query_grid[1:]
        return {"bias_offset": bias_offset(self.sb.sb_conv.bias, self.sb.reduce_r, size, inputs["u"]).unsqueeze(0)}


class BottleneckSource(SpatialBiasSource):
    """Rows of the SB ``Bottleneck``: the maps upsampled to conv2's output grid (square maps only, as published)."""

    def __init__(self, block: nn.Module) -> None:
        super().__init__(block.SB)
        self.block = block

    def features(self, x: Tensor) -> Tensor:
        return self.block.relu(self.block.bn1(self.block.conv1(x)))  # (B, planes, H, W)

    def query_size(self, a: Tensor) -> tuple[int, int]:
        conv = self.block.conv2
        ho, wo = (
            (n + 2 * pad - dil * (k - 1) - 1) // st + 1
            for n, pad, dil, k, st in zip(a.shape[-2:], conv.padding, conv.dilation, conv.kernel_size, conv.stride)
        )
        if ho != wo:
            raise ValueError(
                f"the official SB Bottleneck upsamples its bias maps by Ho / 10 on both axes, so it runs on square "
                f"maps only; conv2's output here is {ho}×{wo}. Convert it to nlviz's 'spatial_bias' op "
                "(nlviz.io.convert_state_dict(sd, 'spatialbias')) for other shapes"
            )
        return (ho, wo)


@register(
    "SB_module",
    "Spatial_bias",
    requires=("feature_reduction", "sb_conv", "reduce_r"),
    library=LIBRARY,
    kinds="linear_contribution",
)
def adapt_module(sb: nn.Module) -> SpatialBiasSource:
    return SpatialBiasSource(sb)


@register(
    "resnet",
    "Bottleneck",
    requires=("SB", "conv1", "bn1", "relu", "conv2"),
    library=LIBRARY,
    kinds="linear_contribution",
    when=lambda block: bool(getattr(block, "gc_group", False)),  # a plain bottleneck (torchvision's too) is none
)
def adapt_bottleneck(block: nn.Module) -> BottleneckSource:
    return BottleneckSource(block)
