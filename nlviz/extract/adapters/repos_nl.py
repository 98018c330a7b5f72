"""The plain non-local blocks of two official repositories, both written after video-nonlocal-net with the same
``t, p, g, z, bn`` naming and conventions: CGNL's ``SpatialNL`` (KaiyuYue/cgnl-network.pytorch
``model/resnet.py``; the compact CGNL blocks of that file have an adapter of their own) and
BAT's ``NonLocal`` (BA-Transform/BAT-Image-Classification ``model_zoo/non_local.py``).

The block: ``t``, ``p``, ``g`` 1×1 convs C → C' (CGNL: ``planes``, bias-free; BAT: C/2, with bias), softmax over
keys of t_iᵀp_j, divided by √C' before the softmax when ``use_scale`` (CGNL's ResNet builds it with
``use_scale=True``; BAT's default), then ``z`` (C' → C), ``bn`` and the residual. No pooling; 2D inputs.
"""

from __future__ import annotations

from torch import nn

from nlviz.extract.blocks import register
from nlviz.extract.roles import NonLocalRoles, RolesAdapter, inv_sqrt_inner

REQUIRES = ("t", "p", "g", "z", "bn", "use_scale")


def roles(block: nn.Module) -> NonLocalRoles:
    """The roles of a ``t, p, g, z, bn`` block: 1/√C' when its ``use_scale`` is set."""
    scale = inv_sqrt_inner if block.use_scale else 1.0
    return NonLocalRoles(theta="t", phi="p", g="g", pairwise="softmax", scale=scale, out=("z", "bn"))


def adapt(block: nn.Module) -> RolesAdapter:
    return RolesAdapter(block, roles(block))


register("model.resnet", "SpatialNL", requires=REQUIRES, library="CGNL (official)", kinds="softmax")(adapt)
register("model_zoo.non_local", "NonLocal", requires=REQUIRES, library="BAT (official)", kinds="softmax")(adapt)
