"""Non-local block: Wang, Girshick, Gupta, He, "Non-local Neural Networks", CVPR 2018.

z = x + norm(W_z y),  y_i = Σ_j w_ij g_j,  with θ, φ, g 1×1 convs C → C' (C' = C / reduction) and the
pairwise weights w_ij of one of four instantiations (N_k = number of keys, after subsampling):

- ``gaussian``:          softmax_j(x_iᵀ x_j)            on the raw input (no θ/φ, no scale)
- ``embedded_gaussian``: softmax_j(s · θ_iᵀ φ_j)        s = 1/√C' when ``use_scale`` else 1
- ``dot_product``:       θ_iᵀ φ_j / N_k
- ``concatenation``:     ReLU(w_fᵀ[θ_i; φ_j]) / N_k  =  ReLU(a_i + b_j) / N_k

Subsampling max-pools the key side (φ and g, never θ) by 2 (1D), 2×2 (2D) or 1×2×2 (3D), flooring odd
sizes, either after the φ/g convs (mmcv, AlexHex7) or on x before them (Caffe2, SlowFast, pytorchvideo).

The forward never holds more than 32 MB of (N_q, N_k) weights: softmax modes run two BLAS products up to
that size (faster on CPU) and the fused ``F.scaled_dot_product_attention`` above it; dot product uses
θ·(φᵀg)/N_k; concatenation runs ReLU(a_i + b_j) over query chunks. ``forward_reference`` builds the explicit
weights at any size (for tests only).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.autograd.function import once_differentiable

from nlviz.ops import pairwise
from nlviz.ops.base import OPS, NonLocalOp, OpInputs, check_input, grid_of, validate_choice
from nlviz.ops.factors import RowFactors, pairwise_factors

MODES = ("gaussian", "embedded_gaussian", "dot_product", "concatenation")
POOLS = ("after_conv", "before_conv")
NORMS = ("bn", None)
_KIND = {
    "gaussian": "softmax",
    "embedded_gaussian": "softmax",
    "dot_product": "dot_product",
    "concatenation": "concatenation",
}
_CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
_BN = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}
_POOL = {1: (nn.MaxPool1d, 2), 2: (nn.MaxPool2d, (2, 2)), 3: (nn.MaxPool3d, (1, 2, 2))}
#: bytes of weights one concatenation chunk may hold (forward and recomputed backward)
CONCAT_CHUNK_BYTES = 32 * 2**20
#: softmax modes materialize the (B, N_q, N_k) weights (two BLAS products, faster than the fused kernel on CPU:
#: 1.5–2× for gaussian mode's wide θ) up to this size, and use fused SDPA (no N×N tensor) above it
SOFTMAX_EXPLICIT_BYTES = 32 * 2**20


@OPS.register("nonlocal")
class NonLocalBlock(NonLocalOp):
    """The non-local block of Wang et al. (2018), all four instantiations, 1D/2D/3D.

    Args:
        in_channels: C of the input.
        mode: ``gaussian``, ``embedded_gaussian``, ``dot_product`` or ``concatenation``.
        dim: 1 (B, C, L), 2 (B, C, H, W) or 3 (B, C, T, H, W).
        sub_sample: max-pool the key side (φ and g) by 2 per spatial axis (never time).
        pool: ``after_conv`` (mmcv, AlexHex7) or ``before_conv`` (Caffe2, SlowFast, pytorchvideo).
        use_scale: multiply θᵀφ by 1/√C' before the softmax; only meaningful for ``embedded_gaussian``.
            Default ``None`` = on for ``embedded_gaussian`` (Caffe2, SlowFast, pytorchvideo and mmcv's
            default) and off otherwise; ``True`` with another mode is an error. AlexHex7 and mmaction2's
            I3D-NL configs need ``use_scale=False``.
        reduction: C' = max(C // reduction, 1).
        inter_channels: C' given directly (overrides ``reduction``), e.g. pytorchvideo's ``dim_inner``.
        norm: ``"bn"`` (BatchNorm after W_z, γ = β = 0 at init) or ``None`` (W_z zero-initialized).
            Either way the block is the identity map at init.
        zero_init: ``True`` (the paper): N(0, 0.01) convs and the last layer zeroed, so the block starts as
            the identity. ``False``: PyTorch's default init everywhere (BN γ = 1): the block starts active.
            Short from-scratch runs on small data learn with ``False`` and can stall with ``True`` (the zero
            γ gates every gradient to θ, φ, g); the zoo's cards record which was used.

    Parameters: ``theta``, ``phi`` (not in gaussian mode), ``g``, ``conv_out`` (W_z, with bias),
    ``norm`` and, for concatenation, ``concat_project`` (a bias-free 1×1 Conv2d 2C' → 1 holding w_f
    as [w_θ; w_φ], the layout of mmcv and AlexHex7 whatever ``dim``).
    """

    family = "nonlocal"

    def __init__(
        self,
        in_channels: int,
        *,
        mode: str = "embedded_gaussian",
        dim: int = 2,
        sub_sample: bool = False,
        pool: str = "after_conv",
        use_scale: bool | None = None,
        reduction: int = 2,
        inter_channels: int | None = None,
        norm: str | None = "bn",
        zero_init: bool = True,
    ) -> None:
        super().__init__()
        validate_choice("zero_init", zero_init, (False, True))
        validate_choice("mode", mode, MODES)
        validate_choice("dim", dim, (1, 2, 3))
        validate_choice("pool", pool, POOLS)
        validate_choice("norm", norm, NORMS)
        validate_choice("sub_sample", sub_sample, (False, True))
        validate_choice("use_scale", use_scale, (None, False, True))
        if use_scale and mode != "embedded_gaussian":
            raise ValueError(
                f"use_scale=True applies only to mode='embedded_gaussian' (1/√C' on θᵀφ); mode={mode!r} has no scale"
            )
        for name, value in (("in_channels", in_channels), ("reduction", reduction), ("inter_channels", inter_channels)):
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
                raise ValueError(f"{name}={value!r} must be a positive integer")
        self.in_channels, self.mode, self.dim, self.sub_sample, self.pool_order = (
            in_channels,
            mode,
            dim,
            sub_sample,
            pool,
        )
        self.inter_channels = inter_channels or max(in_channels // reduction, 1)
        self.use_scale = mode == "embedded_gaussian" if use_scale is None else use_scale
        self.scale = self.inter_channels**-0.5 if self.use_scale else 1.0
        self.kind = _KIND[mode]
        self.normalized = self.kind == "softmax"

        conv, c, ci = _CONV[dim], in_channels, self.inter_channels
        if mode != "gaussian":
            self.theta = conv(c, ci, 1)
            self.phi = conv(c, ci, 1)
        self.g = conv(c, ci, 1)
        if mode == "concatenation":
            self.concat_project = nn.Conv2d(2 * ci, 1, 1, bias=False)
        self.conv_out = conv(ci, c, 1)
        self.norm = _BN[dim](c) if norm == "bn" else None
        pool_cls, kernel = _POOL[dim]
        self.pool = pool_cls(kernel, stride=kernel) if sub_sample else nn.Identity()
        self.zero_init = zero_init
        self.identity_at_init = zero_init
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """N(0, 0.01) for θ, φ, g, W_z (the paper's init), then zero the last layer: identity at init.

        With ``zero_init=False``: PyTorch's default initialization of every layer instead.
        """
        if not self.zero_init:
            for m in self.modules():
                if m is not self and hasattr(m, "reset_parameters"):
                    m.reset_parameters()
            return
        for m in (getattr(self, "theta", None), getattr(self, "phi", None), self.g, self.conv_out):
            if m is not None:
                nn.init.normal_(m.weight, std=0.01)
                nn.init.zeros_(m.bias)
        last = self.norm if self.norm is not None else self.conv_out
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)

    def extra_repr(self) -> str:
        return (
            f"mode={self.mode}, dim={self.dim}, sub_sample={self.sub_sample}, pool={self.pool_order}, "
            f"scale={self.scale:.4g}, inter_channels={self.inter_channels}"
        )

    # ------------------------------------------------------------------ inputs of the weights
    def affinity_inputs(self, x: Tensor) -> OpInputs:
        """θ (B, Cq, N_q), φ (B, Cq, N_k), g (B, C', N_k), flattened row-major; Cq = C' (gaussian: θ = x, φ = pooled x, Cq = C)."""
        check_input(x, self.in_channels, self.dim, "nonlocal")
        if self.sub_sample and min(x.shape[-2:] if self.dim > 1 else x.shape[-1:]) < 2:
            raise ValueError(
                f"nonlocal with sub_sample=True needs spatial sizes >= 2 to max-pool by 2, got shape {tuple(x.shape)}"
            )
        before = self.pool_order == "before_conv"
        x_keys = self.pool(x) if before else x

        def key_side(conv: nn.Module) -> Tensor:
            return conv(x_keys) if before else self.pool(conv(x))

        if self.mode == "gaussian":
            theta, phi = x, self.pool(x)  # (B, C, *grid), (B, C, *key grid)
        else:
            theta, phi = self.theta(x), key_side(self.phi)  # (B, C', *grid), (B, C', *key grid)
        g = key_side(self.g)  # (B, C', *key grid)
        tensors = {"theta": theta.flatten(2), "phi": phi.flatten(2), "g": g.flatten(2)}
        return OpInputs(tensors=tensors, query_grid=grid_of(x), key_grid=grid_of(phi))

    # ------------------------------------------------------------------ weights (explicit)
    def _weights(self, inputs: OpInputs, theta_q: Tensor, *, explicit: bool = False) -> Tensor:
        """Weights (B, Q, N_k) of the queries whose θ columns are ``theta_q`` (B, Cq, Q)
        (:func:`nlviz.ops.pairwise.rows`). ``explicit`` builds concatenation's (B, 2C', Q, N_k) input to w_f
        literally (reference path only)."""
        phi = inputs["phi"]  # (B, Cq, Nk)
        nk = phi.shape[-1]
        if self.kind == "concatenation" and explicit:
            b, c, q = theta_q.shape
            pair = torch.cat((theta_q[..., None].expand(b, c, q, nk), phi[:, :, None].expand(b, c, q, nk)), 1)
            return F.relu(self.concat_project(pair)).squeeze(1) / nk  # (B, Q, Nk)
        # φ in the accumulation dtype is converted once per recording and cached (a benign race if two
        # threads fill it at once: both store the same tensor values)
        acc = pairwise.accumulation_dtype(phi)
        phi_acc = inputs.tensors.get("phi_acc")
        if phi_acc is None or phi_acc.dtype != acc:
            phi_acc = inputs.tensors["phi_acc"] = phi.to(acc)
        w_f = self._w_f() if self.kind == "concatenation" else None
        return pairwise.rows(self.kind, theta_q, phi, scale=self.scale, w_f=w_f, phi_acc=phi_acc)

    def _w_f(self) -> tuple[Tensor, Tensor]:
        return pairwise.split_projection(self.concat_project.weight, self.inter_channels)

    # ------------------------------------------------------------------ aggregate y (fast)
    def _aggregate(self, inputs: OpInputs) -> Tensor:
        """y = Σ_j w_ij g_j for every query, (B, C', N_q); the (N_q, N_k) weights exist whole only in softmax
        modes and only up to SOFTMAX_EXPLICIT_BYTES."""
        theta, phi, g = inputs["theta"], inputs["phi"], inputs["g"]  # (B, Cq, Nq), (B, Cq, Nk), (B, C', Nk)
        nk = phi.shape[-1]
        if self.kind == "softmax":
            if theta.shape[0] * theta.shape[-1] * nk * theta.element_size() <= SOFTMAX_EXPLICIT_BYTES:
                logits = torch.baddbmm(theta.new_empty(1, 1, 1), theta.transpose(1, 2), phi, beta=0, alpha=self.scale)
                return torch.bmm(g, logits.softmax(dim=-1).transpose(1, 2))  # (B, C', Nq)
            q, k, v = (t.transpose(1, 2).unsqueeze(1) for t in (theta, phi, g))  # (B, 1, N, d)
            d, dv = q.shape[-1], v.shape[-1]
            if dv < d:  # fused kernels need equal head dims: zero columns change no dot product
                v = F.pad(v, (0, d - dv))
            elif d < dv:
                q, k = F.pad(q, (0, dv - d)), F.pad(k, (0, dv - d))
            q, k, v = q.contiguous(), k.contiguous(), v.contiguous()  # unit stride or SDPA falls back to naive
            out = F.scaled_dot_product_attention(q, k, v, scale=self.scale)  # (B, 1, Nq, max(d, dv))
            return out[..., :dv].squeeze(1).transpose(1, 2)  # (B, C', Nq)
        if self.kind == "dot_product":
            phi_g = torch.einsum("bck,bvk->bcv", phi, g)  # (B, C', C')
            return torch.einsum("bcq,bcv->bvq", theta, phi_g) / nk  # (B, C', Nq)
        a, b = pairwise.concat_terms(*self._w_f(), theta, phi)  # (B, Nq), (B, Nk)
        chunk = max(1, CONCAT_CHUNK_BYTES // (a.shape[0] * nk * a.element_size()))
        return _ConcatAggregate.apply(a, b, g, chunk)  # (B, C', Nq)

    # ------------------------------------------------------------------ forward
    def forward(self, x: Tensor) -> Tensor:
        """z = x + norm(W_z y), same shape as x."""
        return self._output(x, self._aggregate(self.affinity_inputs(x)))

    def forward_reference(self, x: Tensor) -> Tensor:
        """The same z through the explicit (B, N_q, N_k) weights (slow; for tests)."""
        inputs = self.affinity_inputs(x)
        w = self._weights(inputs, inputs["theta"], explicit=True)  # (B, Nq, Nk)
        return self._output(x, torch.einsum("bqk,bck->bcq", w, inputs["g"]))

    def _output(self, x: Tensor, y: Tensor) -> Tensor:
        z = self.conv_out(y.reshape(x.shape[0], self.inter_channels, *x.shape[2:]))  # (B, C, *grid)
        return x + (self.norm(z) if self.norm is not None else z)

    # ------------------------------------------------------------------ affinity contract
    def _rows(self, inputs: OpInputs, flat_queries: Tensor) -> Tensor:
        """Exact weights of the given query rows: (B, 1, Q, N_k)."""
        theta_q = inputs["theta"][:, :, flat_queries.to(inputs["theta"].device)]  # (B, Cq, Q)
        return self._weights(inputs, theta_q).unsqueeze(1)

    def row_factors(self, inputs: OpInputs) -> RowFactors:
        """θ and φ (softmax with its scale, dot product), or concatenation's a_i + b_j terms."""
        w_f = self._w_f() if self.kind == "concatenation" else None
        grids = inputs.query_grid, inputs.key_grid
        return pairwise_factors(self.kind, inputs["theta"], inputs["phi"], *grids, scale=self.scale, w_f=w_f)

    def values(self, inputs: OpInputs) -> Tensor:
        """g on the key grid: (B, 1, C', N_k)."""
        return inputs["g"].unsqueeze(1)

    def aggregate(self, x: Tensor) -> Tensor:
        """y before W_z from the fast forward path: (B, 1, C', N_q)."""
        return self._aggregate(self.affinity_inputs(x)).unsqueeze(1)


class _ConcatAggregate(torch.autograd.Function):
    """y_i = Σ_j ReLU(a_i + b_j) / N_k · g_j over query chunks, a (B, N_q), b (B, N_k), g (B, C', N_k) → (B, C', N_q).

    Each chunk's (B, Q, N_k) weights are written into one reused buffer (two in backward, which recomputes them),
    so forward and backward hold one chunk, never (N_q, N_k). Reusing buffers also matters for the process's
    memory: a fresh 32 MB temporary per chunk, interleaved with the small long-lived chunk outputs, fragmented
    the heap until the peak RSS reached N_q·N_k floats (2.1 GB at N = 25,088 in eval, 5.3 GB with backward).
    """

    @staticmethod
    def forward(ctx: Any, a: Tensor, b: Tensor, g: Tensor, chunk: int) -> Tensor:
        ctx.save_for_backward(a, b, g)
        ctx.chunk = chunk
        nb, nq = a.shape
        gt = g.transpose(1, 2)  # (B, Nk, C')
        out = g.new_empty(nb, nq, g.shape[1])  # (B, Nq, C')
        buf = a.new_empty(nb, min(chunk, nq), b.shape[-1])
        for s, e in _spans(nq, chunk):
            w = buf[:, : e - s]
            torch.add(a[:, s:e, None], b[:, None, :], out=w)
            w.clamp_(min=0)
            for i in range(nb):
                torch.mm(w[i], gt[i], out=out[i, s:e])
        return out.div_(b.shape[-1]).transpose(1, 2)

    @staticmethod
    @once_differentiable
    def backward(ctx: Any, dy: Tensor) -> tuple[Tensor | None, ...]:
        a, b, g = ctx.saved_tensors
        nb, nq = a.shape
        dyt = dy.transpose(1, 2) / b.shape[-1]  # (B, Nq, C'), the 1/N_k folded in
        da, db, dgt = a.new_zeros(nb, nq), b.new_zeros(b.shape), g.new_zeros(nb, b.shape[-1], g.shape[1])
        buf_w, buf_d = (a.new_empty(nb, min(ctx.chunk, nq), b.shape[-1]) for _ in range(2))
        for s, e in _spans(nq, ctx.chunk):
            w, d = buf_w[:, : e - s], buf_d[:, : e - s]
            torch.add(a[:, s:e, None], b[:, None, :], out=w)
            w.clamp_(min=0)  # the chunk's ReLU(a_i + b_j), recomputed
            dgt.baddbmm_(w.transpose(1, 2), dyt[:, s:e])  # ∂/∂g_j += Σ_i w_ij dy_i
            torch.bmm(dyt[:, s:e], g, out=d)  # ∂/∂w_ij
            d.mul_(w.sign_())  # through the ReLU (0 where a_i + b_j ≤ 0)
            da[:, s:e] = d.sum(-1)
            db += d.sum(1)
        grads = (da, db, dgt.transpose(1, 2))
        return (*(gr if need else None for gr, need in zip(grads, ctx.needs_input_grad)), None)


def _spans(n: int, chunk: int) -> list[tuple[int, int]]:
    return [(s, min(s + chunk, n)) for s in range(0, n, chunk)]
