"""Spatial Bias: attention-free non-local bias maps (Go & Ryu, arXiv 2302.12505, 2023).

Official code: github.com/GoJunHyeong/SpatialBias (``SB_module.py``, ``resnet.py``). Inside a ResNet
bottleneck, from the post-conv1 feature a (B, p, H, W):

1. u = ReLU(BN(conv1x1(a))) with 5 channels; adaptive average pool to 10×10 → z (B, 5, 10, 10).
2. The 100 pooled positions are the *channels* of a Conv1d(100, 100, kernel 3, no padding, with bias) that
   slides over the 5 compressed channels: s (B, 100, 3). Every output mixes all 100 positions: this is the
   global (non-local) part.
3. Bias map k at coarse cell p = (py, px) is s[:, p, k] — a transpose of s, not a raw view of its memory
   (the official code does ``unsqueeze(2).permute(0, 3, 2, 1).reshape``) — then bilinear upsampling
   (align_corners=False) to conv2's output size.
4. The 3 bias maps are concatenated to conv2's output before bn2; bn2 and conv3 see planes + 3 channels.

Differences from the official code (same numbers where it runs): an explicit upsampling size instead of the
float ``scale_factor = H / 10`` (which also assumed square maps), and no ``.squeeze()`` (which dropped the
batch dimension at B=1). The official init (ResNet-wide) sets every BN γ to 1, bn3 included, so the block is
*not* an identity at init; ``zero_init_residual=True`` zeroes bn3's γ and β, making it relu(x) at init.

The affinity (``kind="linear_contribution"``): the bias maps are affine in u. With M = upsample ∘ transpose ∘
Conv1d ∘ avgpool (a fixed linear map of the weights), bias[k, i] = Σ_{c,j} M[k,i,c,j]·u[c,j] + β[k, i],
where β is the upsampled Conv1d bias (a constant attributed to no cell, exposed as ``extras["bias_offset"]``).
The weight of key cell j (input grid of a = input grid of x) on query cell i (conv2's output grid) for
bias map k is w[k, i, j] = Σ_c M[k,i,c,j]·u[c,j]: one group per bias map, values = 1, and
``aggregate`` = bias maps minus β, so aggregate[k, i] = Σ_j w[k, i, j] exactly. The BN+ReLU that make u
are the only non-linear part and are not unrolled (use a Jacobian method for end-to-end influence). The linear
map itself is :mod:`nlviz.ops.spatial_bias_map`, shared with the adapters of the official code.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nlviz.ops.base import OPS, NonLocalOp, OpInputs, check_input, grid_of
from nlviz.ops.spatial_bias_map import bias_offset, linear_rows


def _positive_int(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name}={value!r} must be a positive integer")


class SpatialBias(nn.Module):
    """The SB module alone: a feature map (B, C, H, W) → ``bias_channels`` global bias maps (B, K, Ho, Wo).

    Args:
        in_channels: channels C of the feature map.
        reduced_channels: channels of the compressed feature u (5 in the paper).
        pool_size: side S of the pooled grid; the Conv1d has S² channels (10 in the paper).
        kernel_size: Conv1d kernel over the compressed channels (3); the number of bias maps is
            ``reduced_channels - kernel_size + 1`` (3 in the paper).
        conv_bias: the Conv1d has a bias (True in the official code).
    """

    def __init__(
        self,
        in_channels: int,
        *,
        reduced_channels: int = 5,
        pool_size: int = 10,
        kernel_size: int = 3,
        conv_bias: bool = True,
    ) -> None:
        super().__init__()
        for name, value in [
            ("in_channels", in_channels),
            ("reduced_channels", reduced_channels),
            ("pool_size", pool_size),
            ("kernel_size", kernel_size),
        ]:
            _positive_int(name, value)
        if kernel_size > reduced_channels:
            raise ValueError(
                f"kernel_size={kernel_size} must be <= reduced_channels={reduced_channels} "
                "(the Conv1d slides over the compressed channels without padding)"
            )
        self.pool_size = pool_size
        self.bias_channels = reduced_channels - kernel_size + 1
        self.reduce = nn.Conv2d(in_channels, reduced_channels, 1, bias=False)
        self.reduce_bn = nn.BatchNorm2d(reduced_channels)
        self.mix = nn.Conv1d(pool_size**2, pool_size**2, kernel_size, bias=conv_bias)

    def compress(self, a: Tensor) -> Tensor:
        """u = ReLU(BN(conv1x1(a))): (B, C, H, W) → (B, R, H, W). The only non-linear step."""
        return F.relu(self.reduce_bn(self.reduce(a)))

    def from_compressed(self, u: Tensor, size: tuple[int, int]) -> Tensor:
        """Bias maps from u, affine in u: (B, R, H, W) → (B, K, *size)."""
        b, s = u.shape[0], self.pool_size
        z = F.adaptive_avg_pool2d(u, s)  # (B, R, S, S)
        z = z.flatten(2).transpose(1, 2)  # (B, S², R): pooled positions are the Conv1d channels
        maps = self.mix(z)  # (B, S², K)
        maps = maps.transpose(1, 2).reshape(b, self.bias_channels, s, s)  # (B, K, S, S): map k = column k
        return F.interpolate(maps, size=tuple(size), mode="bilinear", align_corners=False)  # (B, K, Ho, Wo)

    def forward(self, a: Tensor, size: tuple[int, int] | None = None) -> Tensor:
        """Bias maps (B, K, Ho, Wo) of a (B, C, H, W); ``size`` = (Ho, Wo), default (H, W)."""
        if a.dim() != 4 or a.shape[1] != self.reduce.in_channels:
            raise ValueError(
                f"SpatialBias expects a (B, {self.reduce.in_channels}, H, W) tensor, got shape {tuple(a.shape)}"
            )
        return self.from_compressed(self.compress(a), a.shape[-2:] if size is None else size)

    def offset(self, size: tuple[int, int], like: Tensor) -> Tensor:
        """The constant part β of every bias map (the upsampled Conv1d bias), (Ho, Wo); zeros without bias."""
        return bias_offset(self.mix.bias, self.pool_size, size, like)

    def rows(self, u: Tensor, size: tuple[int, int], flat_queries: Tensor) -> Tensor:
        """Exact linear contributions w[b, k, i, j] for flat query cells i of the (Ho, Wo) grid: (B, K, Q, H·W)
        (:func:`nlviz.ops.spatial_bias_map.linear_rows`)."""
        return linear_rows(u, self.mix.weight, self.pool_size, size, flat_queries)


@OPS.register("spatial_bias")
class SpatialBiasBottleneck(NonLocalOp):
    """The SB ResNet bottleneck: conv1x1 → SB maps ∥ conv3x3 → bn2 over planes + K → conv1x1 → + shortcut → ReLU.

    Args:
        in_channels: input channels C.
        planes: bottleneck width p (default C // 4, the ResNet expansion of 4).
        stride: conv2 stride; the output is (B, C_out, ⌈H/stride⌉, ⌈W/stride⌉) and the shortcut becomes a
            strided conv1x1 + BN. The "same shape" contract holds for stride 1 and out_channels == C.
        out_channels: output channels (default C); a different value also adds the projection shortcut
            (the first block of a stage in the official ResNet).
        reduced_channels, pool_size, kernel_size, conv_bias: the SB module (see :class:`SpatialBias`).
        zero_init_residual: zero bn3's γ and β so the block is relu(x) at init (the official init does not).
        dim: 2 only; for video, fold time into the batch and run the block per frame.
    """

    family = "spatial_bias"
    kind = "linear_contribution"
    normalized = False
    identity_at_init = False

    def __init__(
        self,
        in_channels: int,
        *,
        planes: int | None = None,
        stride: int = 1,
        out_channels: int | None = None,
        reduced_channels: int = 5,
        pool_size: int = 10,
        kernel_size: int = 3,
        conv_bias: bool = True,
        zero_init_residual: bool = False,
        dim: int = 2,
    ) -> None:
        super().__init__()
        if dim != 2:
            raise ValueError(
                f"spatial_bias supports dim=2 only, got dim={dim!r}; for video, fold T into the batch "
                "(B·T, C, H, W) and run the block per frame"
            )
        _positive_int("in_channels", in_channels)
        planes = in_channels // 4 if planes is None else planes
        out_channels = in_channels if out_channels is None else out_channels
        if not isinstance(planes, int) or isinstance(planes, bool) or planes < 1:
            raise ValueError(f"planes={planes!r} must be a positive integer (default in_channels // 4 needs C >= 4)")
        _positive_int("stride", stride)
        _positive_int("out_channels", out_channels)
        self.in_channels, self.out_channels, self.stride = in_channels, out_channels, stride
        self.sb = SpatialBias(
            planes, reduced_channels=reduced_channels, pool_size=pool_size, kernel_size=kernel_size, conv_bias=conv_bias
        )
        k = self.sb.bias_channels
        self.conv1 = nn.Conv2d(in_channels, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes + k)
        self.conv3 = nn.Conv2d(planes + k, out_channels, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.shortcut: nn.Module | None = None
        if stride != 1 or out_channels != in_channels:
            proj = nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False)
            self.shortcut = nn.Sequential(OrderedDict(conv=proj, bn=nn.BatchNorm2d(out_channels)))
        for m in self.modules():  # the official init: N(0, √(2 / (k·k·out))) for every Conv2d
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        if zero_init_residual:
            nn.init.zeros_(self.bn3.weight)
            nn.init.zeros_(self.bn3.bias)

    def _features(self, x: Tensor) -> Tensor:
        check_input(x, self.in_channels, 2, "spatial_bias")
        return F.relu(self.bn1(self.conv1(x)))  # (B, p, H, W): the feature a

    def out_size(self, h: int, w: int) -> tuple[int, int]:
        """conv2's output size (3×3, padding 1): the bias maps' grid = the query grid."""
        return (h - 1) // self.stride + 1, (w - 1) // self.stride + 1

    def forward(self, x: Tensor) -> Tensor:
        a = self._features(x)  # (B, p, H, W)
        out = self.conv2(a)  # (B, p, Ho, Wo)
        bias = self.sb(a, size=out.shape[-2:])  # (B, K, Ho, Wo)
        out = F.relu(self.bn2(torch.cat([out, bias], dim=1)))  # (B, p + K, Ho, Wo)
        out = self.bn3(self.conv3(out))  # (B, C_out, Ho, Wo)
        residual = x if self.shortcut is None else self.shortcut(x)  # (B, C_out, Ho, Wo)
        return F.relu(out + residual)

    # --- affinity contract -------------------------------------------------------------------------------

    def affinity_inputs(self, x: Tensor) -> OpInputs:
        u = self.sb.compress(self._features(x))  # (B, R, H, W)
        _, h, w = grid_of(x)
        return OpInputs({"u": u}, query_grid=(1, *self.out_size(h, w)), key_grid=(1, h, w))

    def num_groups(self, inputs: OpInputs) -> int:
        return self.sb.bias_channels

    def _rows(self, inputs: OpInputs, flat_queries: Tensor) -> Tensor:
        return self.sb.rows(inputs["u"], inputs.query_grid[1:], flat_queries)  # (B, K, Q, Nk)

    def values(self, inputs: OpInputs) -> Tensor:
        u = inputs["u"]
        return u.new_ones(u.shape[0], self.sb.bias_channels, 1, u.shape[-2] * u.shape[-1])  # (B, K, 1, Nk)

    def aggregate(self, x: Tensor) -> Tensor:
        """The bias maps of the forward path minus the Conv1d-bias constant β: (B, K, 1, Ho·Wo)."""
        a = self._features(x)  # (B, p, H, W)
        size = self.out_size(*a.shape[-2:])
        maps = self.sb(a, size=size) - self.sb.offset(size, a)  # (B, K, Ho, Wo)
        return maps.flatten(2).unsqueeze(2)  # (B, K, 1, Ho·Wo)

    def extras(self, inputs: OpInputs) -> dict[str, Tensor]:
        """``bias_offset`` (1, Ho, Wo): β, the part of every bias map no input cell accounts for."""
        return {"bias_offset": self.sb.offset(inputs.query_grid[1:], inputs["u"]).unsqueeze(0)}
