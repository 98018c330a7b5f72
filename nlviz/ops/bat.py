"""Grouped bilinear attentional transforms (BAT) — Chi, Yuan, Mu, Wang, "Non-Local Neural Networks With
Grouped Bilinear Attentional Transforms", CVPR 2020.

Block (``x`` is (B, C, H, W), or (B, C, T, H, W) with ``dim=3``; C_l = C / ``reduction``)::

    x_l = reduce(x)                      conv 1×1 C→C_l, BN, ReLU              (official ``conv1``)
    P, Q (, T) from x_l                  see below                             (``batransform.conv1/conv_p/q/t``)
    y   = T̃ · (P̃ · x_l · Q̃)              per group of C_l/k consecutive channels
    y   = mix(y)                         conv 1×1 C_l→C_l, BN, ReLU            (``batransform.conv2``)
    out = dropout(restore(y)) + x        conv 1×1 C_l→C, BN, ReLU; Dropout2d/3d (``conv2``)

The matrices, for k = ``groups`` and s = ``block_size``: o = conv-BN-ReLU(x_l → k channels) (``embed``);
adaptive *max* pool of o to (s, 1) and (1, s); a conv with kernel (s, 1) (``conv_p``) and one with (1, s)
(``conv_q``) each give s·s·k numbers, read as k matrices of s×s (output channel g·s·s + i·s + j is entry
[i, j] of group g). Normalization (the same axes in every variant): rows of P and columns of Q sum to 1.
``"sigmoid"`` (image code, timm): sigmoid, then divide by that sum; ``"softmax"`` (video code): softmax
along that axis. P̃ = P ⊗ I_{H/s} and Q̃ = Q ⊗ I_{W/s} (a Kronecker product with the identity, as the
official ``resize_mat``: P̃[I·r+u, A·r+v] = P[I, A]·δ(u, v); not a bilinear resize), so H and W must be
multiples of s; non-square maps use W/s for Q (the official image code used H/s for both).

``dim=3``: P and Q are computed per frame (the pools and the (1, s, 1)/(1, 1, s) Conv3d keep T), as in the
official video code. With ``temporal=True`` a temporal transform follows: o pooled to (ts, 1, 1) (adaptive
*average* pool by default, as the official video code; ``temporal_pool="max"`` is offered), a Conv3d with
kernel (ts, 1, 1) (``conv_t``) gives ts·ts·tk numbers (tk = ``temporal_groups``, default k; the released
3D-BAT used k=8, tk=4), normalized so that rows sum to 1, upsampled to T̃ = T ⊗ I_{T/ts}, and applied along
time after the spatial transform: y[t] = Σ_t' T̃[t, t'] · (P̃_t' x_l[t'] Q̃_t').

Effective attention (``kind="bilinear"``, rows sum to 1): output (t, i, j) of a channel in group g reads
input (t', a, b) with weight T̃_g[t, t'] · P̃_g,t'[i, a] · Q̃_g,t'[b, j] (without the temporal transform
T̃ is the identity: only t' = t). When tk ≠ k the affinity groups are the lcm(k, tk) channel blocks that
share one spatial and one temporal matrix. ``affinity_inputs`` keeps P̃ (B, G, T, H, H), Q̃ (B, G, T, W, W),
T̃ (B, G, T, T) and x_l — never an N×N matrix; ``extras`` exposes them (2D: without the T axis) and the
raw s×s (ts×ts) matrices as ``P_small``/``Q_small``/``T_small``. That math (matrices, upsampling, rows) is
:mod:`nlviz.ops.bilinear`, shared with the adapters of foreign BAT blocks.

``bias``: the 1×1 convs followed by BN (reduce, embed, mix, restore) have biases in the official code and
none in timm; ``conv_p``/``conv_q``/``conv_t`` always have biases (both implementations).

Not the identity at init: the official image code (``BATBlock.init_modules``), the video code
(``init_modules(zero_bn=False)``) and timm all start every BN at γ=1, β=0, and the restore branch ends in a
ReLU, so the block adds a non-zero, non-negative term from the start. We init the same way (Kaiming-normal
fan-out convs, zero conv biases, BN γ=1, β=0), hence ``identity_at_init = False``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nlviz.ops.base import OPS, NonLocalOp, OpInputs, check_input, grid_of, validate_choice
from nlviz.ops.bilinear import NORMALIZATIONS, BilinearRows, bilinear_inputs, spatial_matrices, temporal_matrix
from nlviz.ops.bilinear import kron_eye as kron_eye  # re-exported: the Kronecker upsampling lives in bilinear


class ConvBNReLU(nn.Module):
    """1×1(×1) conv, BatchNorm, ReLU (state-dict names ``conv.*``, ``bn.*``)."""

    def __init__(self, c_in: int, c_out: int, dim: int, bias: bool) -> None:
        super().__init__()
        conv, bn = (nn.Conv2d, nn.BatchNorm2d) if dim == 2 else (nn.Conv3d, nn.BatchNorm3d)
        self.conv = conv(c_in, c_out, 1, bias=bias)
        self.bn = bn(c_out)

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(self.bn(self.conv(x)))


@OPS.register("bat")
class BAT(BilinearRows, NonLocalOp):
    """Grouped BA-Transform block (see the module docstring for the math and conventions).

    Args:
        in_channels: C, channels in and out.
        reduction: C_l = C // reduction when ``reduced_channels`` is not given (paper: 2).
        block_size: s, side of the P and Q matrices; must divide H and W (paper: 7 at 224 px; timm: 8).
        groups: k, number of (P, Q) pairs; each serves C_l/k consecutive channels.
        normalize: ``"sigmoid"`` (image code, timm) or ``"softmax"`` (video code).
        bias: biases on the 1×1 convs followed by BN (official: True; timm: False).
        dropout: Dropout2d/3d probability on the restored branch (paper: 0.2).
        dim: 2 (images) or 3 (video; per-frame P, Q).
        temporal: add the temporal transform (``dim=3`` only).
        temporal_block_size: ts, side of the temporal matrix; must divide T (official: 4).
        temporal_groups: tk, number of temporal matrices (default: ``groups``).
        temporal_pool: ``"avg"`` (official video code) or ``"max"`` pooling of o to (ts, 1, 1).
        reduced_channels: C_l explicitly (timm's ``rd_channels``), overriding ``reduction``.
    """

    identity_at_init = False

    def __init__(
        self,
        in_channels: int,
        *,
        reduction: int = 2,
        block_size: int = 7,
        groups: int = 8,
        normalize: str = "sigmoid",
        bias: bool = True,
        dropout: float = 0.2,
        dim: int = 2,
        temporal: bool = False,
        temporal_block_size: int = 4,
        temporal_groups: int | None = None,
        temporal_pool: str = "avg",
        reduced_channels: int | None = None,
    ) -> None:
        super().__init__()
        validate_choice("bat: dim", dim, [2, 3])
        validate_choice("bat: normalize", normalize, list(NORMALIZATIONS))
        validate_choice("bat: temporal_pool", temporal_pool, ["avg", "max"])
        if temporal and dim != 3:
            raise ValueError("bat: temporal=True needs dim=3 (a (B, C, T, H, W) input)")
        if reduction < 1 or in_channels // reduction < 1:
            raise ValueError(f"bat: reduction={reduction} must be ≥ 1 and ≤ in_channels={in_channels}")
        c_l = reduced_channels if reduced_channels is not None else in_channels // reduction
        tk = temporal_groups if temporal_groups is not None else groups
        sizes = {"block_size": block_size, "groups": groups, "temporal_block_size": temporal_block_size}
        sizes |= {"temporal_groups": tk, "reduced_channels": c_l}
        for what, v in sizes.items():
            if v < 1:
                raise ValueError(f"bat: {what}={v} must be a positive integer")
        if c_l % groups or (temporal and c_l % tk):
            raise ValueError(
                f"bat: the reduced channels C_l={c_l} must be divisible by groups={groups}"
                + (f" and temporal_groups={tk}" if temporal else "")
            )
        self.in_channels, self.channels, self.dim = in_channels, c_l, dim
        self.s, self.k, self.normalize, self.temporal = block_size, groups, normalize, temporal
        self.ts, self.tk, self.temporal_pool = temporal_block_size, tk, temporal_pool
        s, conv = block_size, (nn.Conv2d if dim == 2 else nn.Conv3d)
        self.reduce = ConvBNReLU(in_channels, c_l, dim, bias)
        self.embed = ConvBNReLU(c_l, groups, dim, bias)
        kp, kq = ((s, 1), (1, s)) if dim == 2 else ((1, s, 1), (1, 1, s))
        self.conv_p = conv(groups, s * s * groups, kp)
        self.conv_q = conv(groups, s * s * groups, kq)
        if temporal:
            self.conv_t = nn.Conv3d(groups, self.ts * self.ts * tk, (self.ts, 1, 1))
        self.mix = ConvBNReLU(c_l, c_l, dim, bias)
        self.restore = ConvBNReLU(c_l, in_channels, dim, bias)
        self.dropout = (nn.Dropout2d if dim == 2 else nn.Dropout3d)(dropout)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Conv3d)):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    # ---- the transform -------------------------------------------------------------------------------

    def _check(self, xl: Tensor) -> None:
        t, h, w = grid_of(xl)
        if h % self.s or w % self.s:
            raise ValueError(
                f"bat: block_size={self.s} must divide the feature map's H={h} and W={w}; "
                f"use a block_size that divides both (or resize the input)"
            )
        if self.temporal and t % self.ts:
            raise ValueError(f"bat: temporal_block_size={self.ts} must divide the number of frames T={t}")

    def matrices(self, xl: Tensor) -> dict[str, Tensor]:
        """The s×s matrices from x_l: ``P``/``Q`` (B, k, T, s, s) (T=1 in 2D), ``T`` (B, tk, ts, ts)."""
        self._check(xl)
        o = self.embed(xl)  # (B, k, [T,] H, W)
        p, q = spatial_matrices(o, self.conv_p, self.conv_q, self.s, self.k, self.normalize)
        out = {"P": p, "Q": q}
        if self.temporal:
            out["T"] = temporal_matrix(o, self.conv_t, self.ts, self.tk, self.temporal_pool, self.normalize)
        return out

    def _bilinear(self, xl: Tensor, mats: dict[str, Tensor]) -> Tensor:
        """y = T̃ · (P̃ x_l Q̃) using the Kronecker structure (never builds P̃): same shape as x_l."""
        x5 = xl if self.dim == 3 else xl.unsqueeze(2)  # (B, C_l, T, H, W)
        b, c, t, h, w = x5.shape
        s, k = self.s, self.k
        xg = x5.reshape(b, k, c // k, t, s, h // s, w)  # H = (a, u): row a·r+u
        y = torch.einsum("ngtia,ngctauw->ngctiuw", mats["P"], xg).reshape(b, k, c // k, t, h, s, w // s)
        y = torch.einsum("ngcthbv,ngtbj->ngcthjv", y, mats["Q"]).reshape(b, c, t, h, w)  # W = (b, v)
        if self.temporal:
            tk, ts = self.tk, self.ts
            yt = y.reshape(b, tk, c // tk, ts, t // ts, h, w)  # T = (τ', u)
            y = torch.einsum("ngza,ngcauhw->ngczuhw", mats["T"], yt).reshape(b, c, t, h, w)
        return y if self.dim == 3 else y.squeeze(2)

    def transform(self, xl: Tensor) -> Tensor:
        """The BA transform on x_l (timm's ``BilinearAttnTransform``): mix(T̃ · P̃ x_l Q̃)."""
        return self.mix(self._bilinear(xl, self.matrices(xl)))

    def forward(self, x: Tensor) -> Tensor:
        check_input(x, self.in_channels, self.dim, "bat")
        y = self.restore(self.transform(self.reduce(x)))
        return self.dropout(y) + x

    # ---- the affinity contract -----------------------------------------------------------------------

    def _groups(self) -> int:
        return math.lcm(self.k, self.tk) if self.temporal else self.k

    def affinity_inputs(self, x: Tensor) -> OpInputs:
        check_input(x, self.in_channels, self.dim, "bat")
        xl = self.reduce(x)
        mats = self.matrices(xl)
        return bilinear_inputs(xl, mats["P"], mats["Q"], mats.get("T"))

    def values(self, inputs: OpInputs) -> Tensor:
        xl = inputs["x_l"]
        return xl.reshape(xl.shape[0], self._groups(), self.channels // self._groups(), -1)  # (B, G, C_l/G, Nk)

    def aggregate(self, x: Tensor) -> Tensor:
        check_input(x, self.in_channels, self.dim, "bat")
        xl = self.reduce(x)
        y = self._bilinear(xl, self.matrices(xl))  # (B, C_l, [T,] H, W)
        return y.reshape(y.shape[0], self._groups(), self.channels // self._groups(), -1)  # (B, G, C_l/G, Nq)
