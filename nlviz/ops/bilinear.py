"""The BAT affinity math, one definition for nlviz's :class:`~nlviz.ops.bat.BAT` and the adapters of foreign BAT
blocks (timm, the official image and video code: :mod:`nlviz.extract.adapters`).

From the transform's embedding o = conv-BN-ReLU(x_l) (k channels): the s×s matrices P, Q (and the temporal
T), normalized so that rows of P, columns of Q and rows of T sum to 1 (``"sigmoid"``: sigmoid, then divide
by that sum; ``"softmax"``: softmax along that axis); their Kronecker upsampling P̃ = P ⊗ I_{H/s},
Q̃ = Q ⊗ I_{W/s}, T̃ = T ⊗ I_{T/ts}; and the exact rows w[(t, i, j) → (t', a, b)] = T̃[t, t']·P̃_t'[i, a]·Q̃_t'[b, j]
of the groups (the lcm(k, tk) channel blocks that share one spatial and one temporal matrix).

:class:`BilinearRows` is the shared :class:`~nlviz.ops.base.RowSource` part: a subclass only says how its
block makes x_l and the matrices (``affinity_inputs``, via :func:`bilinear_inputs`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nlviz.ops.base import OpInputs, RowSource, grid_of
from nlviz.ops.factors import RowFactors, bilinear_factors

NORMALIZATIONS = ("sigmoid", "softmax")


def kron_eye(m: Tensor, r: int) -> Tensor:
    """(..., s, s) → (..., s·r, s·r): m ⊗ I_r, i.e. out[I·r+u, A·r+v] = m[I, A]·δ(u, v)."""
    eye = torch.eye(r, dtype=m.dtype, device=m.device)
    s = m.shape[-1]
    return torch.einsum("...ia,uv->...iuav", m, eye).reshape(*m.shape[:-2], s * r, s * r)


def normalize(m: Tensor, axis: int, how: str) -> Tensor:
    """Normalize so that sums along ``axis`` are 1 (rows of P and T: -1, columns of Q: -2)."""
    if how == "softmax":
        return m.softmax(axis)
    m = m.sigmoid()
    return m / m.sum(axis, keepdim=True)


def spatial_matrices(
    o: Tensor, conv_p: nn.Module, conv_q: nn.Module, s: int, k: int, how: str
) -> tuple[Tensor, Tensor]:
    """Normalized P, Q (B, k, T, s, s) from o (B, k, H, W) (T = 1) or (B, k, T, H, W) (per frame).

    o is max-pooled to (s, 1) and (1, s) (per frame in 3D); ``conv_p``/``conv_q`` give s·s·k numbers per frame,
    output channel g·s·s + i·s + j being entry [i, j] of group g.
    """
    b = o.shape[0]
    if o.dim() == 4:
        p = conv_p(F.adaptive_max_pool2d(o, (s, 1))).view(b, k, 1, s, s)  # (B, k, 1, s, s)
        q = conv_q(F.adaptive_max_pool2d(o, (1, s))).view(b, k, 1, s, s)
    else:
        t = o.shape[2]
        p = conv_p(F.adaptive_max_pool3d(o, (t, s, 1)))  # (B, s·s·k, T, 1, 1)
        q = conv_q(F.adaptive_max_pool3d(o, (t, 1, s)))
        p = p.view(b, k, s, s, t).permute(0, 1, 4, 2, 3)  # (B, k, T, s, s)
        q = q.view(b, k, s, s, t).permute(0, 1, 4, 2, 3)
    return normalize(p, -1, how), normalize(q, -2, how)


def temporal_matrix(o: Tensor, conv_t: nn.Module, ts: int, tk: int, pool: str, how: str) -> Tensor:
    """Normalized T (B, tk, ts, ts) from o (B, k, T, H, W): o pooled to (ts, 1, 1) (``"avg"`` or ``"max"``)."""
    pooled = (F.adaptive_avg_pool3d if pool == "avg" else F.adaptive_max_pool3d)(o, (ts, 1, 1))  # (B, k, ts, 1, 1)
    return normalize(conv_t(pooled).view(o.shape[0], tk, ts, ts), -1, how)


def bilinear_inputs(xl: Tensor, p: Tensor, q: Tensor, t: Tensor | None = None) -> OpInputs:
    """The recorded inputs of one call: x_l, P̃ (B, G, T, H, H), Q̃ (B, G, T, W, W) (, T̃ (B, G, T, T)) and the
    small matrices, G = lcm(k, tk) groups. ``p``/``q``: (B, k, T, s, s); ``t``: (B, tk, ts, ts) or None.

    The matrices must tile the grid of x_l (s divides H and W, ts divides T): a ValueError says which does not.
    """
    frames, h, w = grid_of(xl)
    k = p.shape[1]
    g = math.lcm(k, t.shape[1]) if t is not None else k
    sp, sq = p.shape[-1], q.shape[-1]
    if h % sp or w % sq or (t is not None and frames % t.shape[-1]):
        raise ValueError(
            f"BAT matrices of size {sp}×{sp} (P), {sq}×{sq} (Q)"
            + (f", {t.shape[-1]}×{t.shape[-1]} (T)" if t is not None else "")
            + f" do not tile the feature map (T, H, W)={(frames, h, w)}: the sizes must divide H, W (and T)"
        )
    p, q = (m.repeat_interleave(g // k, dim=1) for m in (p, q))  # (B, G, T, s, s)
    tensors = {"x_l": xl, "P": kron_eye(p, h // sp), "Q": kron_eye(q, w // sq), "P_small": p, "Q_small": q}
    if t is not None:
        tm = t.repeat_interleave(g // t.shape[1], dim=1)  # (B, G, ts, ts)
        tensors |= {"T": kron_eye(tm, frames // tm.shape[-1]), "T_small": tm}
    return OpInputs(tensors=tensors, query_grid=(frames, h, w), key_grid=(frames, h, w))


def bilinear_rows(inputs: OpInputs, flat_queries: Tensor) -> Tensor:
    """w[(t, i, j) → (t', a, b)] = T̃[t, t'] · P̃_t'[i, a] · Q̃_t'[b, j] (elementwise, no sums): (B, G, Q, Nk)."""
    t, h, w = inputs.query_grid
    qt, qi, qj = flat_queries // (h * w), (flat_queries // w) % h, flat_queries % w
    rows_p = inputs["P"][:, :, :, qi, :].permute(0, 1, 3, 2, 4)  # (B, G, Q, T', H): P̃_t'[i, a]
    cols_q = inputs["Q"][:, :, :, :, qj].permute(0, 1, 4, 2, 3)  # (B, G, Q, T', W): Q̃_t'[b, j]
    if "T" in inputs.tensors:
        tw = inputs["T"][:, :, qt, :]  # (B, G, Q, T')
    else:
        tw = F.one_hot(qt, t).to(rows_p)[None, None]  # (1, 1, Q, T'): only t' = t
    wts = tw[..., None, None] * rows_p[..., :, None] * cols_q[..., None, :]  # (B, G, Q, T', H, W)
    return wts.flatten(3)


class BilinearRows(RowSource):
    """The BAT row source: rows, groups and extras from what :func:`bilinear_inputs` recorded.

    ``extras``: P, Q, P_small, Q_small (, T, T_small); for a 2D block (``dim = 2``) without their T axis:
    P (B, G, H, H), Q (B, G, W, W), P_small/Q_small (B, G, s, s).
    """

    family = "bat"
    kind = "bilinear"
    normalized = True
    #: 2 (images: extras without the T axis) or 3 (video)
    dim: int = 2

    def _rows(self, inputs: OpInputs, flat_queries: Tensor) -> Tensor:
        return bilinear_rows(inputs, flat_queries)

    def num_groups(self, inputs: OpInputs) -> int:
        return inputs["P"].shape[1]

    def row_factors(self, inputs: OpInputs) -> RowFactors:
        """P̃, Q̃ (, T̃): the row is their elementwise product, no sums."""
        return bilinear_factors(inputs.tensors, inputs.query_grid)

    def extras(self, inputs: OpInputs) -> dict[str, Tensor]:
        keys = ["P", "Q", "P_small", "Q_small"] + (["T", "T_small"] if "T" in inputs.tensors else [])
        out = {k: inputs[k] for k in keys}
        if self.dim == 2:
            for k in ("P", "Q", "P_small", "Q_small"):
                out[k] = out[k].squeeze(2)  # (B, G, H, H) / (B, G, s, s)
        return out
