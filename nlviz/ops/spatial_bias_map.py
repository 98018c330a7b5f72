"""The Spatial Bias linear map, one definition for nlviz's ``spatial_bias`` op and the adapters of the official
SB code (:mod:`nlviz.extract.adapters.spatial_bias`).

From the compressed feature u (B, R, H, W) (after the SB's 1×1 conv, BN, ReLU), the bias maps are affine in u:
adaptive average pooling to S×S, a Conv1d whose S² channels are the pooled positions sliding over the R
compressed channels (kernel size κ, no padding: K = R − κ + 1 maps), map k at coarse cell p read as column k
of the Conv1d output, then bilinear upsampling (align_corners=False) to the query grid. Every step is written
here as the fixed matrix it is, so that the contribution of each input cell j to each query cell i is exact.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def pool_matrix(out_size: int, in_size: int) -> Tensor:
    """Adaptive average pooling along one axis as a (out_size, in_size) float64 matrix (PyTorch's bins)."""
    m = torch.zeros(out_size, in_size, dtype=torch.float64)
    for i in range(out_size):
        start, end = (i * in_size) // out_size, -((-(i + 1) * in_size) // out_size)
        m[i, start:end] = 1.0 / (end - start)
    return m


def bilinear_taps(out_size: int, in_size: int) -> tuple[Tensor, Tensor]:
    """Bilinear resize (align_corners=False) along one axis: source indices and weights, each (out_size, 2)."""
    idx = torch.zeros(out_size, 2, dtype=torch.long)
    lam = torch.zeros(out_size, 2, dtype=torch.float64)
    for o in range(out_size):
        src = max((o + 0.5) * in_size / out_size - 0.5, 0.0)
        i0 = min(int(src), in_size - 1)
        frac = src - i0
        idx[o] = torch.tensor([i0, min(i0 + 1, in_size - 1)])
        lam[o] = torch.tensor([1.0 - frac, frac])
    return idx, lam


def tap_matrix(weight: Tensor, bias_channels: int) -> Tensor:
    """The Conv1d as a matrix per bias map: T[k, p, c, q] = W[p, q, c - k] (0 outside the kernel).

    ``weight``: the Conv1d weight (S², S², κ): out position p, in position q, tap. Returns (K, S², R, S²):
    coarse output cell p of map k, compressed channel c (R = κ + K − 1), pooled position q.
    """
    taps = weight.shape[-1]
    t = weight.new_zeros(bias_channels, weight.shape[0], taps + bias_channels - 1, weight.shape[1])
    for k in range(bias_channels):
        for tap in range(taps):
            t[k, :, k + tap, :] = weight[:, :, tap]
    return t


def cell_contributions(u: Tensor, weight: Tensor, pool_size: int) -> Tensor:
    """h[b, k, p, j]: what input cell j adds to coarse cell p of map k (before upsampling).

    u (B, R, H, W), ``weight`` (S², S², κ) → (B, K, S², H·W); Σ_j h[b, k, p, j] is the coarse map minus the
    Conv1d bias.
    """
    s, (h, w) = pool_size, u.shape[-2:]
    py, px = (pool_matrix(s, n).to(u) for n in (h, w))  # (S, H), (S, W)
    t = tap_matrix(weight, u.shape[1] - weight.shape[-1] + 1).to(u).unflatten(-1, (s, s))  # (K, S², R, S, S)
    g = torch.einsum("kpcab,ay,bx->kpcyx", t, py, px)  # (K, S², R, H, W)
    return torch.einsum("kpcyx,bcyx->bkpyx", g, u).flatten(3)  # (B, K, S², H·W)


def linear_rows(u: Tensor, weight: Tensor, pool_size: int, size: tuple[int, int], flat_queries: Tensor) -> Tensor:
    """Exact linear contributions w[b, k, i, j] for flat query cells i of the ``size`` = (Ho, Wo) grid: (B, K, Q, H·W).

    Bilinear upsampling reads at most 2×2 coarse cells per query, so each row is a 4-term sum of
    :func:`cell_contributions` rows (elementwise: a row does not depend on which other rows are asked for).
    """
    s, (ho, wo) = pool_size, size
    contrib = cell_contributions(u, weight, pool_size)  # (B, K, S², N)
    iy, ly = bilinear_taps(ho, s)  # (Ho, 2), (Ho, 2)
    ix, lx = bilinear_taps(wo, s)  # (Wo, 2), (Wo, 2)
    yq, xq = flat_queries // wo, flat_queries % wo  # (Q,), (Q,)
    out = contrib.new_zeros(*contrib.shape[:2], len(flat_queries), contrib.shape[-1])  # (B, K, Q, N)
    for a in range(2):
        for b in range(2):
            lam = (ly[yq, a] * lx[xq, b]).to(u)[:, None]  # (Q, 1)
            out += lam * contrib[:, :, iy[yq, a] * s + ix[xq, b]]  # (B, K, Q, N)
    return out


def bias_offset(bias: Tensor | None, pool_size: int, size: tuple[int, int], like: Tensor) -> Tensor:
    """The constant part β of every bias map (the upsampled Conv1d ``bias``, (S²,)), (Ho, Wo); zeros without bias."""
    if bias is None:
        return like.new_zeros(tuple(size))
    beta = bias.to(like).reshape(1, 1, pool_size, pool_size)  # (1, 1, S, S)
    return F.interpolate(beta, size=tuple(size), mode="bilinear", align_corners=False)[0, 0]  # (Ho, Wo)
