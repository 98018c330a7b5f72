"""The official CGNL blocks (KaiyuYue/cgnl-network.pytorch ``model/resnet.py``): ``SpatialCGNL`` (dot-product
kernel) and ``SpatialCGNLx`` (Gaussian RBF, Taylor-expanded to ``order``).

The blocks: θ, φ, g = ``t``, ``p``, ``g`` (bias-free 1×1 convs), split into ``groups`` blocks of consecutive
channels (one block when groups is 1); per group y = s·θ with s = Σ φ ⊙ g (dot), or y = Σ_p α_p² θ^p ⟨φ^p, g⟩,
p = 0..order, α_p² = β (2γ)^p / p!, γ = 1e-4 and β = exp(−2γ) hard-coded in ``kernel`` (Gaussian);
``use_scale`` divides by √(C'/G · H · W); then ``z`` (grouped conv) and ``gn`` (GroupNorm), + x. The published
Gaussian kernel calls ``alpha.cuda()``; the adapter never touches a device: it runs the block's own convs on
whatever device they are on.

Rows (kind ``linear_contribution``, not normalized): the exact contribution of key cell j to the channel sum of
group g's y at query cell i, with ``extras["key_maps"]`` — :class:`nlviz.ops.cgnl.CompactRows`, the definition
of nlviz's ``cgnl`` op, so the Affinity is the op's for the converted weights (``convert_state_dict(sd, "cgnl")``,
``gamma=1e-4``, ``reduction`` = C / C').
"""

from __future__ import annotations

from torch import Tensor, nn

from nlviz.extract.blocks import register
from nlviz.ops.base import OpInputs, grid_of
from nlviz.ops.cgnl import CompactRows, kernel_terms

MODULE = "resnet"  # model/resnet.py: imported as model.resnet, or resnet from its folder
LIBRARY = "CGNL (KaiyuYue/cgnl-network.pytorch)"
#: γ of ``SpatialCGNLx.kernel`` (a constant there, not an attribute)
OFFICIAL_GAMMA = 1e-4


class OfficialCGNL(CompactRows):
    """Rows of one official CGNL block; ``kernel`` is ``"dot_product"`` (SpatialCGNL) or ``"gaussian"``."""

    def __init__(self, block: nn.Module, kernel: str) -> None:
        self.block, self.kernel = block, kernel

    @property
    def use_scale(self) -> bool:  # read at every use: the attribute the block's forward reads
        return bool(self.block.use_scale)

    @property
    def terms(self) -> list[tuple[int, float]]:
        order = self.block.order if self.kernel == "gaussian" else 1
        return kernel_terms(self.kernel, order, OFFICIAL_GAMMA)

    def affinity_inputs(self, x: Tensor) -> OpInputs:
        if x.dim() != 4:
            raise ValueError(f"{type(self.block).__name__} works on (B, C, H, W) maps, got shape {tuple(x.shape)}")
        groups = self.block.groups if self.block.groups and self.block.groups > 1 else 1
        theta, phi, g = (m(x) for m in (self.block.t, self.block.p, self.block.g))  # (B, C', H, W) each
        if theta.shape[1] % groups:
            raise ValueError(
                f"{type(self.block).__name__}: C'={theta.shape[1]} channels do not split into groups={groups}; "
                "its forward would drop channels"
            )
        split = (x.shape[0], groups, theta.shape[1] // groups, -1)
        grid = grid_of(x)
        tensors = {"theta": theta.reshape(split), "phi": phi.reshape(split), "g": g.reshape(split)}  # (B, G, Cg, N)
        return OpInputs(tensors, query_grid=grid, key_grid=grid)


@register(
    MODULE, "SpatialCGNL", requires=("t", "p", "g", "groups", "use_scale"), library=LIBRARY, kinds="linear_contribution"
)
def adapt_dot(block: nn.Module) -> OfficialCGNL:
    return OfficialCGNL(block, "dot_product")


@register(
    MODULE,
    "SpatialCGNLx",
    requires=("t", "p", "g", "groups", "use_scale", "order"),
    library=LIBRARY,
    kinds="linear_contribution",
)
def adapt_gaussian(block: nn.Module) -> OfficialCGNL:
    return OfficialCGNL(block, "gaussian")
