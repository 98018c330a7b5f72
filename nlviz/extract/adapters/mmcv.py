"""mmcv's ``NonLocal1d/2d/3d`` (``mmcv.cnn.bricks.non_local``): also every mmaction2 model that builds them
(``ResNet3d`` with ``non_local``, recognizers) and anything else built from mmcv.

The block (``_NonLocalNd``): ``theta``, ``phi``, ``g`` are ``ConvModule`` s (conv, no activation); with
``sub_sample`` a max pool follows inside ``phi`` and ``g`` (``nn.Sequential(conv, pool)``) or, in gaussian mode,
``phi`` *is* the pool and θ, φ are the raw input. ``mode`` picks the pairwise function: embedded gaussian scales
θᵀφ by 1/√C' when ``use_scale``; dot product and concatenation divide by N_k; concatenation's
``concat_project`` is a ``ConvModule`` (bias-free conv 2C' → 1, ReLU). Output: ``conv_out`` (conv + optional
norm), added to x.
"""

from __future__ import annotations

from torch import nn

from nlviz.extract.blocks import register
from nlviz.extract.roles import NonLocalRoles, RolesAdapter, inv_sqrt_inner

_PAIRWISE = {"gaussian": "softmax", "embedded_gaussian": "softmax", "dot_product": "dot_product"}


def roles(block: nn.Module) -> NonLocalRoles:
    """The roles of an mmcv non-local block, read from its ``mode``, ``use_scale`` and ``sub_sample``."""
    mode = block.mode
    if mode == "gaussian":
        return NonLocalRoles(g="g", phi="phi" if block.sub_sample else None, out="conv_out")
    if mode == "concatenation":
        return NonLocalRoles(
            theta="theta", phi="phi", g="g", pairwise="concatenation", concat="concat_project.conv", out="conv_out"
        )
    scale = inv_sqrt_inner if mode == "embedded_gaussian" and block.use_scale else 1.0
    return NonLocalRoles(theta="theta", phi="phi", g="g", pairwise=_PAIRWISE[mode], scale=scale, out="conv_out")


@register(
    "mmcv.cnn.bricks.non_local",
    ("NonLocal1d", "NonLocal2d", "NonLocal3d"),
    requires=("mode", "use_scale", "sub_sample", "g", "conv_out", "inter_channels"),
    library="mmcv",
    kinds="softmax | dot_product | concatenation",
)
def adapt(block: nn.Module) -> RolesAdapter:
    return RolesAdapter(block, roles(block))
