"""The official BAT video code (BA-Transform/BAT-Video-Classification ``models/non_local.py``): the 3D
``BATransform`` (per-frame P, Q and, with ``tk > 0``, the temporal transform ``conv_t``) and ``BATBlock``.

The forward, on x_l (B, C_l, T, H, W): o = ``conv1``; the matrices have side m = H // (H // s) (``matrix_size``):

- m = s (s divides H): per frame, o max-pooled to (m, 1) and (1, m), ``conv_p``/``conv_q`` read as k s×s matrices;
- m ≠ s: the (1, s, 1)/(1, 1, s) convs slide over the m pooled cells and give m − s + 1 matrices each, placed
  along the diagonal of an m×m matrix and averaged where they overlap (cells none covers stay 0). The published
  Q path hard-codes 2 windows, so only m = s + 1 runs (s = 7 with H = 8, 16, 24 ...); other sizes fail there;
- softmax: rows of P, columns of Q; P̃ = P ⊗ I_{H/m}, Q̃ = Q ⊗ I_{W/m} (non-square maps work when m divides both);
- ``tk > 0``: T from o average-pooled to (ts, 1, 1) (``conv_t``, softmax over rows), T̃ = T ⊗ I_{T/ts}, applied
  along time after the spatial transform.

Rows: kind ``bilinear``, w = T̃[t, t']·P̃_t'[i, a]·Q̃_t'[b, j] over lcm(k, tk) channel groups; for m = s the
Affinity of nlviz's ``bat`` op (``dim=3``, ``normalize="softmax"``, ``temporal=tk > 0``, ``temporal_pool="avg"``)
for the converted weights. The m ≠ s matrices have no nlviz op counterpart; their rows are exact all the same.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from nlviz.extract.adapters.bat_source import BATSource, Matrices, check_map
from nlviz.extract.blocks import register
from nlviz.ops.bilinear import normalize, spatial_matrices, temporal_matrix

MODULE = "models.non_local"
LIBRARY = "BA-Transform (BAT-Video-Classification)"


def matrix_size(transform: nn.Module, h: int) -> int:
    """The published ``matrix_size`` = H // (H // s), with a ValueError where the forward cannot run."""
    s = transform.s
    if h < s:
        raise ValueError(f"the official video BATransform needs H >= s={s} (H // s is a divisor); got H={h}")
    m = h // (h // s)
    if m not in (s, s + 1):
        raise ValueError(
            f"the official video BATransform with s={s} and H={h} makes {m}×{m} matrices from {m - s + 1} "
            f"windows, but its Q path hard-codes 2: it runs only when H // (H // s) is s or s + 1"
        )
    return m


def diagonal_average(windows: Tensor, m: int) -> Tensor:
    """(B, k, s, s, T, L) windows → (B, k, T, m, m): window l put at rows and columns l..l+s-1, then the mean of
    the windows that cover each cell (0 where none does), as the published loop does."""
    s, n = windows.shape[2], windows.shape[-1]
    w = windows.permute(0, 1, 4, 5, 2, 3)  # (B, k, T, L, s, s)
    pads = [(lo, m - s - lo, lo, m - s - lo) for lo in range(n)]  # (left, right, top, bottom) of window lo
    total = sum(F.pad(w[:, :, :, lo], pad) for lo, pad in enumerate(pads))  # (B, k, T, m, m)
    count = sum(F.pad(w.new_ones(s, s), pad) for pad in pads)  # (m, m)
    return total / count.clamp(min=1)


def matrices(transform: nn.Module) -> Matrices:
    """P, Q (and T) of a video ``BATransform`` from x_l, as its forward makes them (softmax normalization)."""

    def make(xl: Tensor) -> tuple[Tensor, Tensor, Tensor | None]:
        check_map(xl, 3, "the official video BATransform")
        s, k, m = transform.s, transform.k, matrix_size(transform, xl.shape[-2])
        o = transform.conv1(xl)  # (B, k, T, H, W)
        if m == s:
            p, q = spatial_matrices(o, transform.conv_p, transform.conv_q, s, k, "softmax")
        else:
            b, t = o.shape[0], o.shape[2]
            p = transform.conv_p(F.adaptive_max_pool3d(o, (t, m, 1))).view(b, k, s, s, t, -1)  # (B, k, s, s, T, L)
            q = transform.conv_q(F.adaptive_max_pool3d(o, (t, 1, m))).view(b, k, s, s, t, -1)
            p, q = normalize(diagonal_average(p, m), -1, "softmax"), normalize(diagonal_average(q, m), -2, "softmax")
        tm = None
        if transform.tk > 0:
            tm = temporal_matrix(o, transform.conv_t, transform.ts, transform.tk, "avg", "softmax")
        return p, q, tm

    return make


@register(
    MODULE,
    "BATransform",
    requires=("conv1", "conv_p", "conv_q", "s", "k", "ts", "tk"),
    library=LIBRARY,
    kinds="bilinear",
)
def adapt_transform(transform: nn.Module) -> BATSource:
    return BATSource(None, matrices(transform), dim=3)


@register(MODULE, "BATBlock", requires=("conv1", "batransform"), library=LIBRARY, kinds="bilinear")
def adapt_block(block: nn.Module) -> BATSource:
    return BATSource(block.conv1, matrices(block.batransform), dim=3)
