"""CGNL — the compact generalized non-local block (Yue, Sun, Li, Zhou, Ding, Xu; NeurIPS 2018).

CGNL lets every (channel, position) element of a group attend to every other one of the same group.
With θ, φ, g the C' = C/reduction channel embeddings split into G groups of C'/G channels, one group's
output at element (c, i) is

    y_{c,i} = Σ_{c'∈group} Σ_j f(θ_{c,i}, φ_{c',j}) · g_{c',j}

for a kernel f on scalars. Both kernels are sums of separable terms, f(a, b) = Σ_k w_k · a^{p_k} · b^{p_k},
so the sum over (c', j) happens once per group and the block costs O(C'·N) instead of O(C'²·N²):

- ``dot_product``: f(a, b) = a·b (one term, p = 1): y_group = s · θ_group, s = Σ φ ⊙ g.
- ``gaussian``: the paper's RBF exp(−γ(a − b)²) = exp(−γa²)·exp(−γb²)·exp(2γab), with the prefactor
  simplified to the constant β = exp(−2γ) (as the official code does, "to ease training") and exp(2γab)
  Taylor-expanded to order P: f(a, b) = Σ_{p=0..P} α_p² a^p b^p, α_p² = β (2γ)^p / p!. The p = 0 term is
  kept (the official code loops ``range(order + 1)``): it adds β·Σ g, the same constant to every element.

``use_scale`` multiplies f by 1/√(C'/G · N) (the official code divides by √(c·h·w) of one group).
The output goes through a grouped 1×1 conv C'→C (groups=G, no bias) and GroupNorm(G) whose γ and β start at
zero, so the block is the identity at initialization; then the residual is added.

``forward`` uses the compact form; :meth:`CGNL.forward_explicit` evaluates f over every pair of elements
(memory (C'/G · N)² per group: tiny inputs only) and is the reference the tests compare against.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from nlviz.ops.base import OPS, NonLocalOp, OpInputs, RowSource, check_input, grid_of, validate_choice

KERNELS = ("dot_product", "gaussian")
_CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}


def kernel_terms(kernel: str, order: int, gamma: float) -> list[tuple[int, float]]:
    """The separable terms (p, w) of the kernel: f(a, b) = Σ w · a^p · b^p (scale not included)."""
    if kernel == "dot_product":
        return [(1, 1.0)]
    beta = math.exp(-2.0 * gamma)
    return [(p, beta * (2.0 * gamma) ** p / math.factorial(p)) for p in range(order + 1)]


def powers(x: Tensor, max_power: int) -> list[Tensor]:
    """[x^0, x^1, ..., x^max_power] by repeated products (x^0 = 1 everywhere, with a zero gradient)."""
    out = [torch.ones_like(x)]
    for _ in range(max_power):
        out.append(out[-1] * x)
    return out


def explicit_kernel(a: Tensor, b: Tensor, terms: list[tuple[int, float]]) -> Tensor:
    """f(a_m, b_n) for every pair: (..., M) × (..., N) → (..., M, N). Reference path only."""
    ab = a.unsqueeze(-1) * b.unsqueeze(-2)  # (..., M, N)
    return sum(w * ab**p for p, w in terms)


def kernel_scale(theta: Tensor, use_scale: bool) -> float:
    """1/√(C'/G · N) with ``use_scale`` (θ is (B, G, C'/G, N)), else 1."""
    return 1.0 / math.sqrt(theta.shape[2] * theta.shape[3]) if use_scale else 1.0


def factors(
    theta: Tensor, phi: Tensor, g: Tensor, terms: list[tuple[int, float]], use_scale: bool
) -> tuple[Tensor, Tensor]:
    """Per-term query factors Σ_c θ^p (B, G, K, Nq) and key maps w·scale·Σ_c φ^p g (B, G, K, Nk).

    θ, φ, g: (B, G, C'/G, N); ``terms``: the kernel's (p, w) (:func:`kernel_terms`); K = len(terms).
    """
    top = max(p for p, _ in terms)
    tp, pp = powers(theta, top), powers(phi, top)
    scale = kernel_scale(theta, use_scale)
    q = torch.stack([tp[p].sum(2) for p, _ in terms], 2)  # (B, G, K, Nq)
    k = torch.stack([(w * scale) * (pp[p] * g).sum(2) for p, w in terms], 2)  # (B, G, K, Nk)
    return q, k


class CompactRows(RowSource):
    """The CGNL row source: exact linear contributions from recorded θ, φ, g (B, G, C'/G, N) (see :class:`CGNL`).

    A subclass sets ``terms`` (:func:`kernel_terms`) and ``use_scale`` and records ``theta``, ``phi``, ``g`` in
    ``affinity_inputs``; rows, groups and ``extras["key_maps"]`` follow from them.
    """

    family = "cgnl"
    kind = "linear_contribution"
    normalized = False
    terms: list[tuple[int, float]]
    use_scale: bool

    def _rows(self, inputs: OpInputs, flat_queries: Tensor) -> Tensor:
        q, k = factors(inputs["theta"], inputs["phi"], inputs["g"], self.terms, self.use_scale)
        q = q[..., flat_queries.to(q.device)]  # (B, G, K, Q)
        w = q[:, :, 0, :, None] * k[:, :, 0, None, :]  # (B, G, Q, Nk)
        for t in range(1, q.shape[2]):  # fixed elementwise order: any query subset gives identical bits
            w = w + q[:, :, t, :, None] * k[:, :, t, None, :]
        return w

    def num_groups(self, inputs: OpInputs) -> int:
        return inputs["theta"].shape[1]

    def extras(self, inputs: OpInputs) -> dict[str, Tensor]:
        """``key_maps`` (B, G, K, Tk, Hk, Wk): the K query-independent maps every row is a mix of."""
        _, k = factors(inputs["theta"], inputs["phi"], inputs["g"], self.terms, self.use_scale)
        return {"key_maps": k.reshape(*k.shape[:3], *inputs.key_grid)}


@OPS.register("cgnl")
class CGNL(CompactRows, NonLocalOp):
    """Compact generalized non-local block.

    Args:
        in_channels: C, channels of the input (and output).
        kernel: ``"dot_product"`` or ``"gaussian"`` (Taylor-expanded RBF).
        groups: G; C' = C/reduction must be divisible by G (released models: 8).
        order: P, highest Taylor power of the gaussian kernel (terms p = 0..P; released models: 3).
        gamma: γ of the gaussian kernel (released models: 1e-4). Ignored by ``dot_product``.
        use_scale: multiply the kernel by 1/√(C'/G · N) (off in the released models).
        reduction: C' = C / reduction (default 2).
        dim: 1, 2 or 3 for (B, C, L), (B, C, H, W) or (B, C, T, H, W) inputs.
        zero_init: True (default) = GroupNorm γ = β = 0, the identity at init; False = GroupNorm γ = 1 (starts active).

    Affinity contract. CGNL has no softmax pairwise weights; ``affinity`` returns the exact linear
    contribution (``kind="linear_contribution"``, not normalized) of key position j to the *channel sum*
    of group g's aggregate at query position i:

        weights[b, g, i, j] = Σ_{c∈g} Σ_{c'∈g} f(θ_{c,i}, φ_{c',j}) · g_{c',j}
                            = Σ_k w_k · (Σ_{c∈g} θ_{c,i}^{p_k}) · (Σ_{c'∈g} φ_{c',j}^{p_k} g_{c',j}),

    with ``values`` = ones (B, G, 1, Nk) and ``aggregate`` = the per-group channel sum of y (B, G, 1, Nq),
    so ``aggregate[..., i] == Σ_j weights[..., i, j]``. Finding: for the dot kernel every query row is the
    same key map m_j = Σ_{c'} φ_{c',j} g_{c',j}, multiplied by the query's θ channel sum — the "attention"
    does not depend on where the query is, only its sign and size do. For the gaussian kernel every row lies
    in the span of the P + 1 key maps Σ_{c'} φ^p g (exposed as ``extras["key_maps"]``, weights w_k and scale
    included); with γ = 1e-4 the p = 0, 1 maps dominate, so rows are nearly the dot map plus a constant.

    Second finding: the output conv and GroupNorm use the same G contiguous channel groups as the kernel, so
    GroupNorm divides out the size of the per-group scalar. For the dot kernel the block output is
    x + GN(Z(sign(s_g)·θ_g)) up to GN's eps (which acts as eps/s_g²): φ and g reach the output only
    through the sign of s_g. The linear contribution above is exact for y; its overall magnitude is not.
    """

    identity_at_init = True

    def __init__(
        self,
        in_channels: int,
        *,
        kernel: str = "dot_product",
        groups: int = 8,
        order: int = 3,
        gamma: float = 1e-4,
        use_scale: bool = False,
        reduction: int = 2,
        dim: int = 2,
        zero_init: bool = True,
    ) -> None:
        super().__init__()
        validate_choice("cgnl zero_init", zero_init, (False, True))
        validate_choice("cgnl kernel", kernel, KERNELS)
        validate_choice("cgnl dim", dim, (1, 2, 3))
        for name, value in (("in_channels", in_channels), ("groups", groups), ("reduction", reduction)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"cgnl: {name}={value!r} must be a positive integer")
        if in_channels % reduction:
            raise ValueError(f"cgnl: in_channels={in_channels} is not divisible by reduction={reduction}")
        inter = in_channels // reduction
        if inter % groups:
            raise ValueError(
                f"cgnl: the bottleneck width in_channels/reduction={inter} is not divisible by groups={groups}; "
                f"valid groups divide {inter}"
            )
        if isinstance(order, bool) or not isinstance(order, int) or order < 1:
            raise ValueError(f"cgnl: order={order!r} must be an integer >= 1 (Taylor terms p = 0..order)")
        if not (isinstance(gamma, (int, float)) and math.isfinite(gamma) and gamma > 0):
            raise ValueError(f"cgnl: gamma={gamma!r} must be a finite number > 0")
        self.in_channels, self.inter_channels = in_channels, inter
        self.kernel, self.groups, self.order, self.gamma = kernel, groups, order, float(gamma)
        self.use_scale, self.reduction, self.dim = use_scale, reduction, dim
        self.terms = kernel_terms(kernel, order, self.gamma)
        conv = _CONV[dim]
        self.theta = conv(in_channels, inter, 1, bias=False)
        self.phi = conv(in_channels, inter, 1, bias=False)
        self.g = conv(in_channels, inter, 1, bias=False)
        self.conv_out = conv(inter, in_channels, 1, groups=groups, bias=False)
        self.norm = nn.GroupNorm(groups, in_channels)
        self.zero_init = self.identity_at_init = zero_init
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default conv init; GroupNorm γ = β = 0 so the block starts as the identity
        (``zero_init=False``: GroupNorm γ = 1, β = 0, the block starts active)."""
        for m in (self.theta, self.phi, self.g, self.conv_out):
            m.reset_parameters()
        if not self.zero_init:
            self.norm.reset_parameters()
            return
        nn.init.zeros_(self.norm.weight)
        nn.init.zeros_(self.norm.bias)

    def extra_repr(self) -> str:
        gauss = f", order={self.order}, gamma={self.gamma}" if self.kernel == "gaussian" else ""
        return f"kernel={self.kernel}, groups={self.groups}{gauss}, use_scale={self.use_scale}, dim={self.dim}"

    # ---- the embeddings -------------------------------------------------------------------------
    def _embed(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """θ, φ, g as (B, G, C'/G, N)."""
        check_input(x, self.in_channels, self.dim, "CGNL")
        b = x.shape[0]
        split = (b, self.groups, self.inter_channels // self.groups, -1)
        return tuple(m(x).reshape(split) for m in (self.theta, self.phi, self.g))  # 3 × (B, G, Cg, N)

    def _scale(self, theta: Tensor) -> float:
        return kernel_scale(theta, self.use_scale)

    def _mix(self, theta: Tensor, phi: Tensor, g: Tensor) -> Tensor:
        """Compact form: y = scale · Σ_k w_k θ^{p_k} ⟨φ^{p_k}, g⟩ over each group. (B, G, Cg, N)."""
        top = max(p for p, _ in self.terms)
        tp, pp = powers(theta, top), powers(phi, top)
        y = torch.zeros_like(theta)  # (B, G, Cg, N)
        for p, w in self.terms:
            s = torch.einsum("bgcn,bgcn->bg", pp[p], g)  # (B, G): one number per sample and group
            y = y + (w * self._scale(theta)) * s[:, :, None, None] * tp[p]
        return y

    def _mix_explicit(self, theta: Tensor, phi: Tensor, g: Tensor) -> Tensor:
        """Reference: f over all (element, element) pairs of a group, M = Cg·N. (B, G, Cg, N)."""
        f = explicit_kernel(theta.flatten(2), phi.flatten(2), self.terms)  # (B, G, M, M)
        y = torch.einsum("bgmn,bgn->bgm", f, g.flatten(2)) * self._scale(theta)  # (B, G, M)
        return y.reshape(theta.shape)

    def _out(self, x: Tensor, y: Tensor) -> Tensor:
        y = y.reshape(x.shape[0], self.inter_channels, *x.shape[2:])  # (B, C', *grid)
        return x + self.norm(self.conv_out(y))

    def forward(self, x: Tensor) -> Tensor:
        return self._out(x, self._mix(*self._embed(x)))

    def forward_explicit(self, x: Tensor) -> Tensor:
        """The same block through the explicit pairwise kernel (reference path for tests; tiny inputs)."""
        return self._out(x, self._mix_explicit(*self._embed(x)))

    # ---- affinity contract ----------------------------------------------------------------------
    def affinity_inputs(self, x: Tensor) -> OpInputs:
        theta, phi, g = self._embed(x)
        grid = grid_of(x)
        return OpInputs({"theta": theta, "phi": phi, "g": g}, query_grid=grid, key_grid=grid)

    def values(self, inputs: OpInputs) -> Tensor:
        b, g, _, n = inputs["g"].shape
        return inputs["g"].new_ones(b, g, 1, n)  # (B, G, 1, Nk)

    def aggregate(self, x: Tensor) -> Tensor:
        """Per-group channel sum of y (before the output conv), from the compact path: (B, G, 1, Nq)."""
        return self._mix(*self._embed(x)).sum(2, keepdim=True)
