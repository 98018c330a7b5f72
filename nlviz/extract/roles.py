"""Non-local blocks described by their roles: which submodules make θ, φ and g, how the key side is pooled,
the pairwise function, and (to check a declaration) the output. nlviz recomputes their exact rows from those
submodules, the same way for the foreign classes it knows and for a block of the user's own design:

    import nlviz

    nlviz.extract.declare(
        MyNonLocal,                        # the block's class: every instance in a model is recorded
        theta="query", phi="key", g="value",
        pool="downsample", pool_order="before_conv",
        pairwise="softmax", scale=64 ** -0.5,
        out=("proj", "bn"),                # only for nlviz.extract.check_declaration
    )

Roles (names of submodules, as ``block.get_submodule`` takes them):

- ``theta``, ``phi``: the query and key embeddings; None = the block's input itself (the gaussian instantiation).
- ``g``: the value embedding (its output is what the weights average; rows do not need it, checks do).
- ``pool``, ``pool_order``: a pooling of the key side (φ and g): ``"after_conv"`` applies it to φ(x) and g(x),
  ``"before_conv"`` to x before φ and g. Omit when the pooling sits inside ``phi``/``g`` already (a Sequential).
- ``pairwise``: ``"softmax"`` (softmax_j(scale · θ_iᵀφ_j)), ``"dot_product"`` (θ_iᵀφ_j / N_k) or
  ``"concatenation"`` (ReLU(w_fᵀ[θ_i; φ_j] + b) / N_k with ``concat`` the 2C' → 1 projection).
- ``scale``: the softmax's logit scale: a number, the name of an attribute of the block holding it, or a
  function of (block, C') such as :func:`inv_sqrt_inner` (1/√C').
- ``heads``: split θ/φ/g channels into this many heads, each with its own softmax (groups of the Affinity).
- ``out``, ``residual``: the output projection(s) applied to y = Σ_j w_ij g_j and whether x is added, so that
  :func:`check_declaration` can rebuild the block's output from the rows and compare it with its forward.

Inputs are channels-first feature maps (B, C, L), (B, C, H, W) or (B, C, T, H, W).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from nlviz.ops import pairwise
from nlviz.ops.base import OpInputs, RowSource, grid_of
from nlviz.ops.factors import RowFactors, pairwise_factors

POOL_ORDERS = ("after_conv", "before_conv")


def inv_sqrt_inner(block: nn.Module, inner: int) -> float:
    """1/√C', C' = the channels of θ (per head): the scale of a scaled embedded gaussian."""
    return inner**-0.5


@dataclass(frozen=True)
class NonLocalRoles:
    """The roles of a non-local block's submodules (see the module docstring)."""

    g: str
    theta: str | None = None
    phi: str | None = None
    pairwise: str = "softmax"
    scale: float | str | Callable[[nn.Module, int], float] = 1.0
    pool: str | None = None
    pool_order: str = "after_conv"
    concat: str | None = None
    heads: int = 1
    out: str | tuple[str, ...] | None = None
    residual: bool = True

    def __post_init__(self) -> None:
        if self.pairwise not in pairwise.KINDS:
            raise ValueError(f"pairwise={self.pairwise!r} is not known; allowed: {list(pairwise.KINDS)}")
        if self.pool_order not in POOL_ORDERS:
            raise ValueError(f"pool_order={self.pool_order!r}; allowed: {list(POOL_ORDERS)}")
        if (self.pairwise == "concatenation") != (self.concat is not None):
            raise ValueError("concat= (the 2C' → 1 projection) is needed by, and only by, pairwise='concatenation'")
        if not isinstance(self.heads, int) or isinstance(self.heads, bool) or self.heads < 1:
            raise ValueError(f"heads={self.heads!r} must be a positive integer")
        if isinstance(self.out, str):
            object.__setattr__(self, "out", (self.out,))

    def check(self, block: nn.Module, where: str) -> None:
        """Every named role must be a submodule (or, for ``scale``, an attribute) of ``block``."""
        names = [self.theta, self.phi, self.g, self.pool, self.concat, *(self.out or ())]
        missing = [n for n in names if n is not None and not _has_submodule(block, n)]
        if isinstance(self.scale, str) and not hasattr(block, self.scale):
            missing.append(f"attribute {self.scale!r} (scale)")
        if missing:
            have = [n for n, _ in block.named_children()]
            raise ValueError(f"{where}: {type(block).__name__} has no {missing}; its submodules: {have}")


def _has_submodule(block: nn.Module, name: str) -> bool:
    try:
        block.get_submodule(name)
    except AttributeError:
        return False
    return True


class RolesAdapter(RowSource):
    """Exact rows of one block instance described by :class:`NonLocalRoles`."""

    family = "nonlocal"

    def __init__(self, block: nn.Module, roles: NonLocalRoles) -> None:
        roles.check(block, "nlviz.extract")
        self.block, self.roles = block, roles
        self.kind = roles.pairwise
        self.normalized = roles.pairwise == "softmax"

    def _sub(self, name: str | None) -> Callable[[Tensor], Tensor]:
        return (lambda t: t) if name is None else self.block.get_submodule(name)

    @torch.no_grad()
    def embeddings(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """θ (B, Cq, *grid), φ (B, Cq, *key grid), g (B, C', *key grid) from the block's own submodules."""
        r = self.roles
        pool = self._sub(r.pool)
        x_keys = pool(x) if r.pool and r.pool_order == "before_conv" else x
        theta = self._sub(r.theta)(x)
        phi, g = self._sub(r.phi)(x_keys), self._sub(r.g)(x_keys)
        if r.pool and r.pool_order == "after_conv":
            phi, g = pool(phi), pool(g)
        return theta, phi, g

    def affinity_inputs(self, x: Tensor) -> OpInputs:
        theta, phi, g = self.embeddings(x)
        for what, t in (("θ", theta), ("φ", phi), ("g", g)):
            if t.dim() not in (3, 4, 5):
                raise ValueError(
                    f"nlviz.extract: {type(self.block).__name__}'s {what} is {tuple(t.shape)}; roles need "
                    "channels-first maps (B, C, L), (B, C, H, W) or (B, C, T, H, W)"
                )
        if theta.shape[1] != phi.shape[1] or theta.shape[1] % self.roles.heads:
            raise ValueError(
                f"nlviz.extract: {type(self.block).__name__}: θ has {theta.shape[1]} channels and φ {phi.shape[1]}; "
                f"they must be equal and divisible by heads={self.roles.heads}"
            )
        tensors = {"theta": theta.flatten(2), "phi": phi.flatten(2), "g": g.flatten(2)}
        return OpInputs(tensors, query_grid=grid_of(theta), key_grid=grid_of(phi))

    def scale_of(self, inner: int) -> float:
        s = self.roles.scale
        if isinstance(s, str):
            return float(getattr(self.block, s))
        if callable(s):
            return float(s(self.block, inner))
        return float(s)

    def _w_f(self, inner: int) -> tuple[tuple[Tensor, Tensor], Tensor | None]:
        proj = self.block.get_submodule(self.roles.concat)
        bias = getattr(proj, "bias", None)
        return pairwise.split_projection(proj.weight, inner), bias

    def num_groups(self, inputs: OpInputs) -> int:
        return self.roles.heads

    def row_factors(self, inputs: OpInputs) -> RowFactors:
        """θ and φ per head (softmax with the declared scale, dot product), or concatenation's a_i + b_j terms."""
        h, c = self.roles.heads, inputs["theta"].shape[1]
        w_f, bias = self._w_f(c // h) if self.kind == "concatenation" else (None, None)
        grids = inputs.query_grid, inputs.key_grid
        return pairwise_factors(
            self.kind, inputs["theta"], inputs["phi"], *grids, heads=h, scale=self.scale_of(c // h), w_f=w_f, bias=bias
        )

    def _rows(self, inputs: OpInputs, flat_queries: Tensor) -> Tensor:
        h = self.roles.heads
        theta, phi = inputs["theta"], inputs["phi"]  # (B, Cq, Nq), (B, Cq, Nk)
        b, c, _ = theta.shape
        theta_q = theta[:, :, flat_queries.to(theta.device)].reshape(b, h, c // h, -1)  # (B, H, Cq/H, Q)
        # φ in the accumulation dtype, converted once per recording (as NonLocalBlock does)
        acc = pairwise.accumulation_dtype(phi)
        phi_acc = inputs.tensors.get("phi_acc")
        if phi_acc is None or phi_acc.dtype != acc:
            phi_acc = inputs.tensors["phi_acc"] = phi.to(acc)
        phi, phi_acc = phi.reshape(b, h, c // h, -1), phi_acc.reshape(b, h, c // h, -1)  # (B, H, Cq/H, Nk)
        w_f, bias = self._w_f(c // h) if self.kind == "concatenation" else (None, None)
        scale = self.scale_of(c // h)
        out = [
            pairwise.rows(self.kind, theta_q[:, i], phi[:, i], scale=scale, w_f=w_f, bias=bias, phi_acc=phi_acc[:, i])
            for i in range(h)
        ]  # H × (B, Q, Nk)
        return torch.stack(out, 1)  # (B, H, Q, Nk)


def declare(
    cls: type,
    roles: NonLocalRoles | None = None,
    *,
    like: str | None = None,
    **role_names: Any,
) -> NonLocalRoles | None:
    """Have :func:`nlviz.capture` record every instance of ``cls`` (exactly this class).

    Give its roles (``theta=..., phi=..., g=..., pairwise=..., scale=...``: :class:`NonLocalRoles`), or
    ``like="NonLocal2d"`` to record a subclass of a known class the way its parent is recorded. Returns the roles.
    """
    from nlviz.extract.blocks import declare_source, find

    if like is not None:
        if roles is not None or role_names:
            raise ValueError("declare: give either like=... or the roles, not both")
        declare_source(cls, find(like).make)
        return None
    roles = roles if roles is not None else NonLocalRoles(**role_names)
    if role_names and roles is not None and not isinstance(roles, NonLocalRoles):
        raise TypeError("declare: roles must be a NonLocalRoles")
    declare_source(cls, lambda block: RolesAdapter(block, roles))
    return roles


@torch.no_grad()
def check_declaration(block: nn.Module, x: Tensor, roles: NonLocalRoles | None = None) -> float:
    """Rebuild ``block(x)`` from the recomputed rows — z = out(Σ_j w_ij g_j) (+ x) — and return the largest
    absolute difference to the block's own forward (0 up to float rounding when the roles are right).

    ``roles`` default to the block's declaration; ``out`` must be given in the roles.
    """
    from nlviz.extract.blocks import _match

    if roles is not None:
        adapter = RolesAdapter(block, roles)
    else:
        make, note = _match(block)
        adapter = make(block) if make is not None else None
        if not isinstance(adapter, RolesAdapter):
            raise ValueError(f"check_declaration: {type(block).__name__} is not declared by roles ({note or 'none'})")
    r = adapter.roles
    if not r.out:
        raise ValueError("check_declaration needs the output role: declare out='...' (the projection of y)")
    inputs = adapter.affinity_inputs(x)
    aff = adapter.affinity(inputs)  # (B, H, Nq, *key grid): every row (check on small inputs)
    w = aff.rows()  # (B, H, Nq, Nk)
    g = inputs["g"]  # (B, C', Nk)
    b, c, nk = g.shape
    y = torch.einsum("bhqk,bhck->bhcq", w, g.reshape(b, r.heads, c // r.heads, nk)).reshape(b, c, -1)  # (B, C', Nq)
    theta = adapter.embeddings(x)[0]
    y = y.reshape(b, c, *theta.shape[2:])
    for name in r.out:
        y = block.get_submodule(name)(y)
    z = x + y if r.residual else y
    ref = block(x)
    if z.shape != ref.shape:
        raise ValueError(f"check_declaration: rebuilt output {tuple(z.shape)} vs the block's {tuple(ref.shape)}")
    return float((z - ref).abs().max())
