"""The pairwise functions of the non-local block as exact rows: the one definition every non-local block uses,
nlviz's own (:class:`nlviz.ops.nonlocal_block.NonLocalBlock`) and the foreign blocks capture recomputes
(:mod:`nlviz.extract.adapters`, declared custom blocks).

For query columns θ_q (B, Cq, Q) and keys φ (B, Cq, N_k):

- ``softmax``:       softmax_j(s · θ_iᵀ φ_j)                  (gaussian: θ = x, φ = x; embedded gaussian)
- ``dot_product``:   θ_iᵀ φ_j / N_k
- ``concatenation``: ReLU(w_θᵀ θ_i + w_φᵀ φ_j + b) / N_k       (w_f = [w_θ; w_φ], the 2C' → 1 projection)

Channel sums run in float64 (where the device has it) and are rounded once to the input dtype, so a row's
numbers do not depend on which other rows are computed with it (BLAS picks kernels by batch size).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

KINDS = ("softmax", "dot_product", "concatenation")


def accumulation_dtype(t: Tensor) -> torch.dtype:
    """float64, except on devices without it (MPS): the tensor's own dtype."""
    return t.dtype if t.device.type == "mps" else torch.float64


def concat_terms(w_theta: Tensor, w_phi: Tensor, theta: Tensor, phi: Tensor) -> tuple[Tensor, Tensor]:
    """w_fᵀ[θ_i; φ_j] = a_i + b_j: a = w_θᵀθ (B, N_q), b = w_φᵀφ (B, N_k); w_θ, w_φ (C',)."""
    return (
        torch.einsum("c,bcq->bq", w_theta.to(theta.dtype), theta),
        torch.einsum("c,bck->bk", w_phi.to(phi.dtype), phi),
    )


def rows(
    kind: str,
    theta_q: Tensor,
    phi: Tensor,
    *,
    scale: float = 1.0,
    w_f: tuple[Tensor, Tensor] | None = None,
    bias: Tensor | None = None,
    phi_acc: Tensor | None = None,
) -> Tensor:
    """Exact weights (B, Q, N_k) of the query columns ``theta_q`` (B, Cq, Q) against the keys ``phi`` (B, Cq, N_k).

    Args:
        kind: ``softmax``, ``dot_product`` or ``concatenation``.
        scale: the softmax's logit scale (1/√C' for a scaled embedded gaussian); unused by the other kinds.
        w_f: (w_θ, w_φ), each (C',), the concatenation projection; ``bias`` its bias (a 1-element tensor) if any.
        phi_acc: φ already converted to the accumulation dtype (a cache for many calls on one recording).
    """
    if kind not in KINDS:
        raise ValueError(f"pairwise kind {kind!r} is not known; allowed: {list(KINDS)}")
    nk, dtype = phi.shape[-1], phi.dtype
    acc = accumulation_dtype(phi)
    phi = phi_acc if phi_acc is not None and phi_acc.dtype == acc else phi.to(acc)
    theta_q = theta_q.to(acc)
    if kind == "softmax":
        w = (torch.einsum("bcq,bck->bqk", theta_q, phi) * scale).softmax(dim=-1)  # (B, Q, Nk)
    elif kind == "dot_product":
        w = torch.einsum("bcq,bck->bqk", theta_q, phi) / nk  # (B, Q, Nk)
    else:
        if w_f is None:
            raise ValueError("concatenation rows need the projection w_f = (w_θ, w_φ)")
        a, b = concat_terms(*w_f, theta_q, phi)  # (B, Q), (B, Nk)
        if bias is not None:
            a = a + bias.reshape(()).to(a.dtype)
        w = F.relu(a[:, :, None] + b[:, None, :]) / nk  # (B, Q, Nk)
    return w.to(dtype)


def split_projection(weight: Tensor, inner: int) -> tuple[Tensor, Tensor]:
    """A 2C' → 1 projection's weight (any conv/linear layout with 2C' inputs) → (w_θ, w_φ), each (C',)."""
    flat = weight.reshape(-1)
    if flat.numel() != 2 * inner:
        raise ValueError(
            f"the concatenation projection has {flat.numel()} weights; a 2C' → 1 projection with C' = {inner} has "
            f"{2 * inner}"
        )
    return flat[:inner], flat[inner:]
