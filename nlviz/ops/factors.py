"""Row factors: the small arrays a client (the app's browser component) computes a block's exact rows from, so that
a row can follow the pointer without a round trip to Python.

A row is never sent; what is sent is what a row is made of, O(N·C) numbers for the whole block:

- ``softmax``:       ``theta`` (B, G, C, N_q), ``phi`` (B, G, C, N_k), ``scale``:  w_ij = softmax_j(s · θ_iᵀφ_j)
- ``dot_product``:   ``theta``, ``phi`` as above:                                 w_ij = θ_iᵀφ_j / N_k
- ``concatenation``: ``a`` (B, G, N_q) = w_θᵀθ_i + bias, ``b`` (B, G, N_k) = w_φᵀφ_j:  w_ij = ReLU(a_i + b_j) / N_k
- ``bilinear`` (BAT): ``P`` (B, G, T, H, H), ``Q`` (B, G, T, W, W) and, with a temporal transform, ``T`` (B, G, T, T):
  w[(t, i, j) → (t', a, b)] = T[t, t'] · P_t'[i, a] · Q_t'[b, j] (without ``T``: only t' = t)

G are the groups / heads of the Affinity (each its own row); queries and keys are flat row-major over the
(T, H, W) grids. ``frame_local``: a block run per frame inside a video net (:func:`per_frame`) sees only the keys
of the query's own frame (N_k counts those), and its row is zero in every other frame.

:meth:`RowFactors.rows` is the reference computation (numpy, float64): what the browser's JavaScript computes, and
what the tests compare with :meth:`nlviz.ops.base.RowSource.affinity`. The arrays are float32 — θ, φ, P, Q, T are
the block's own float32 tensors; a and b are rounded once from their float64 sums.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import Tensor

from nlviz.ops import pairwise

Grid = tuple[int, int, int]
KINDS = ("softmax", "dot_product", "concatenation", "bilinear")
#: the arrays each kind needs (``T`` is optional for ``bilinear``)
ARRAYS = {
    "softmax": ("theta", "phi"),
    "dot_product": ("theta", "phi"),
    "concatenation": ("a", "b"),
    "bilinear": ("P", "Q"),
}


@dataclass(frozen=True)
class RowFactors:
    """What the rows of one recorded block are made of (see the module docstring)."""

    kind: str
    query_grid: Grid
    key_grid: Grid
    arrays: dict[str, np.ndarray]
    scale: float = 1.0
    frame_local: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"row factors of kind {self.kind!r} are not known; allowed: {list(KINDS)}")
        missing = [k for k in ARRAYS[self.kind] if k not in self.arrays]
        if missing:
            raise ValueError(f"{self.kind} row factors need the arrays {list(ARRAYS[self.kind])}; missing {missing}")

    @property
    def batch(self) -> int:
        return next(iter(self.arrays.values())).shape[0]

    @property
    def groups(self) -> int:
        return next(iter(self.arrays.values())).shape[1]

    def item(self, b: int) -> RowFactors:
        """Batch item ``b`` alone (batch size 1)."""
        if not 0 <= b < self.batch:
            raise ValueError(f"batch item {b} out of range: the factors hold {self.batch}")
        return replace(self, arrays={k: v[b : b + 1] for k, v in self.arrays.items()})

    def rows(self, flat_queries: np.ndarray) -> np.ndarray:
        """Exact weights (B, G, Q, N_k) float64 of the flat query indices, from the factors alone."""
        q = np.asarray(flat_queries, dtype=np.int64).reshape(-1)
        if self.kind == "bilinear":
            return _bilinear(self, q)
        nk = math.prod(self.key_grid)
        out = np.zeros((self.batch, self.groups, len(q), nk))
        if not self.frame_local:
            out[:] = _pairwise(self, q, slice(None))
            return out
        per_q, per_k = math.prod(self.query_grid[1:]), math.prod(self.key_grid[1:])
        for i, t in enumerate(q // per_q):  # keys of the query's own frame only
            span = slice(int(t) * per_k, (int(t) + 1) * per_k)
            out[:, :, i : i + 1, span] = _pairwise(self, q[i : i + 1], span)
        return out


def _pairwise(f: RowFactors, q: np.ndarray, keys: slice) -> np.ndarray:
    """(B, G, Q, K) rows of the pairwise kinds against the keys ``keys``."""
    if f.kind == "concatenation":
        a, b = f.arrays["a"][:, :, q].astype(np.float64), f.arrays["b"][:, :, keys].astype(np.float64)
        return np.maximum(a[..., :, None] + b[..., None, :], 0.0) / b.shape[-1]
    theta = f.arrays["theta"][..., q].astype(np.float64)  # (B, G, C, Q)
    phi = f.arrays["phi"][..., keys].astype(np.float64)  # (B, G, C, K)
    logits = np.einsum("bgcq,bgck->bgqk", theta, phi)
    if f.kind == "dot_product":
        return logits / phi.shape[-1]
    z = f.scale * logits
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def _bilinear(f: RowFactors, q: np.ndarray) -> np.ndarray:
    t, h, w = f.query_grid
    qt, qi, qj = q // (h * w), (q // w) % h, q % w
    p = f.arrays["P"][:, :, :, qi, :].astype(np.float64)  # (B, G, T', Q, H)
    cq = f.arrays["Q"][:, :, :, :, qj].astype(np.float64)  # (B, G, T', W, Q)
    if "T" in f.arrays:
        tw = f.arrays["T"][:, :, qt, :].astype(np.float64)  # (B, G, Q, T')
    else:
        tw = np.eye(t)[qt][None, None]  # (1, 1, Q, T'): only t' = t
    rows = tw[..., None, None] * p.transpose(0, 1, 3, 2, 4)[..., :, None] * cq.transpose(0, 1, 4, 2, 3)[..., None, :]
    return rows.reshape(*rows.shape[:3], -1)  # (B, G, Q, T'·H·W)


def _f32(t: Tensor) -> np.ndarray:
    return np.ascontiguousarray(t.detach().cpu().to(torch.float32).numpy())


def pairwise_factors(
    kind: str,
    theta: Tensor,
    phi: Tensor,
    query_grid: Grid,
    key_grid: Grid,
    *,
    heads: int = 1,
    scale: float = 1.0,
    w_f: tuple[Tensor, Tensor] | None = None,
    bias: Tensor | None = None,
) -> RowFactors:
    """Factors of a pairwise block from its recorded θ (B, C, N_q) and φ (B, C, N_k) (:mod:`nlviz.ops.pairwise`).

    Args:
        kind: ``softmax``, ``dot_product`` or ``concatenation``.
        heads: θ and φ channels split into this many consecutive blocks, each its own row (the groups).
        scale: the softmax's logit scale.
        w_f: concatenation's (w_θ, w_φ), each (C/heads,); ``bias`` its bias (one number) if any.
    """
    if kind not in pairwise.KINDS:
        raise ValueError(f"pairwise kind {kind!r} is not known; allowed: {list(pairwise.KINDS)}")
    b, c, _ = theta.shape
    th = theta.reshape(b, heads, c // heads, -1)  # (B, G, C/G, Nq)
    ph = phi.reshape(b, heads, c // heads, -1)  # (B, G, C/G, Nk)
    if kind != "concatenation":
        return RowFactors(kind, query_grid, key_grid, {"theta": _f32(th), "phi": _f32(ph)}, scale=float(scale))
    if w_f is None:
        raise ValueError("concatenation row factors need the projection w_f = (w_θ, w_φ)")
    acc = pairwise.accumulation_dtype(phi)
    w_t, w_p = (w.to(acc) for w in w_f)
    a = torch.einsum("c,bgcq->bgq", w_t, th.to(acc))  # (B, G, Nq), as pairwise.concat_terms sums it
    if bias is not None:
        a = a + bias.reshape(()).to(acc)
    k = torch.einsum("c,bgck->bgk", w_p, ph.to(acc))  # (B, G, Nk)
    return RowFactors(kind, query_grid, key_grid, {"a": _f32(a), "b": _f32(k)})


def bilinear_factors(tensors: dict[str, Tensor], query_grid: Grid) -> RowFactors:
    """Factors of a BAT block from what :func:`nlviz.ops.bilinear.bilinear_inputs` recorded (P̃, Q̃, T̃)."""
    arrays = {k: _f32(tensors[k]) for k in ("P", "Q", "T") if k in tensors}
    return RowFactors("bilinear", query_grid, query_grid, arrays)


def per_frame(f: RowFactors, frames: int) -> RowFactors:
    """The factors of a block run frame by frame (its batch is b·T + t) on the video's (T, H, W) grid: rows only in
    the query's own frame (``frame_local``), as :meth:`nlviz.extract.Recording.affinity` presents them."""
    if f.batch % frames or f.query_grid[0] != 1:
        raise ValueError(f"per-frame factors need a batch that is a multiple of T={frames} and one-frame grids")
    vid = f.batch // frames

    def stack(x: np.ndarray, axis: int) -> np.ndarray:
        """(B·T, G, ..., N, ...) → (B, G, ..., T·N, ...) joining the frames along ``axis`` (of the input)."""
        y = x.reshape(vid, frames, *x.shape[1:])
        y = np.moveaxis(y, 1, axis)  # the T axis right before ``axis``
        return np.ascontiguousarray(y.reshape(*y.shape[:axis], frames * y.shape[axis + 1], *y.shape[axis + 2 :]))

    arrays = {k: stack(v, v.ndim - 1) for k, v in f.arrays.items()}  # the flat N axis is last
    if f.kind == "bilinear":  # P (B·T, G, 1, H, H): the frame axis is axis 2
        arrays = {k: stack(v, 2) for k, v in f.arrays.items() if k in ("P", "Q")}
    qg, kg = (frames, *f.query_grid[1:]), (frames, *f.key_grid[1:])
    return replace(f, query_grid=qg, key_grid=kg, arrays=arrays, frame_local=True)
