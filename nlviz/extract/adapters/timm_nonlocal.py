"""timm's ``NonLocalAttn`` (``timm.layers.non_local_attn``; ``timm.models.layers.non_local_attn`` before timm
0.9), the spatial non-local block of timm's image models (adapted there from BAT's ``NonLocal``).

The block: ``t``, ``p``, ``g`` (1×1 convs with bias, C → C' = ``rd_channels``), softmax over keys of
``scale`` · t_iᵀp_j, then ``z`` (C' → C), ``norm`` (BatchNorm) and the residual. Its scale is its own attribute
``scale``: 1/√C with C the block's *input* channels (not 1/√C' as in the NL paper) when ``use_scale``, else 1.
No pooling.
"""

from __future__ import annotations

from torch import nn

from nlviz.extract.blocks import register
from nlviz.extract.roles import NonLocalRoles, RolesAdapter

REQUIRES = ("t", "p", "g", "z", "norm", "scale")


def roles(block: nn.Module) -> NonLocalRoles:
    """The roles of a timm ``NonLocalAttn``: the logit scale is read from the block's ``scale``."""
    return NonLocalRoles(theta="t", phi="p", g="g", pairwise="softmax", scale="scale", out=("z", "norm"))


def adapt(block: nn.Module) -> RolesAdapter:
    return RolesAdapter(block, roles(block))


for _module in ("timm.layers.non_local_attn", "timm.models.layers.non_local_attn"):
    register(_module, "NonLocalAttn", requires=REQUIRES, library="timm", kinds="softmax")(adapt)
