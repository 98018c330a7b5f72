"""pytorchvideo's ``NonLocal`` (``pytorchvideo.layers.nonlocal_net``, built by ``create_nonlocal``), and every
pytorchvideo model that holds it.

The block: ``conv_theta``, ``conv_phi``, ``conv_g`` (1×1×1 convs C → C'), an optional ``pool`` (a max pool of
``pool_size``) applied to x *before* the φ and g convs (θ is never pooled), then ``conv_out`` (C' → C), an
optional ``norm`` and the residual. ``instantiation``: ``"softmax"`` is softmax_j(θ_iᵀφ_j / √C') with C' =
``conv_theta.out_channels`` (its ``dim_inner``); ``"dot_product"`` is θ_iᵀφ_j / N_k (N_k counted after pooling).
Inputs are (B, C, T, H, W) only (its forward unpacks five sizes). It is SlowFast's block ported (the roles are
:func:`nlviz.extract.adapters.slowfast.conv_roles`) with the scale from θ's channels and ``pool``/``norm``
modules or None.
"""

from __future__ import annotations

from torch import nn

from nlviz.extract.adapters.slowfast import conv_roles
from nlviz.extract.blocks import register
from nlviz.extract.roles import NonLocalRoles, RolesAdapter, inv_sqrt_inner


def roles(block: nn.Module) -> NonLocalRoles:
    """The roles of a pytorchvideo ``NonLocal``, read from its ``instantiation``, ``pool`` and ``norm``."""
    pool = "pool" if block.pool is not None else None
    norm = "norm" if block.norm is not None else None
    return conv_roles(block, "pytorchvideo NonLocal", pool=pool, norm=norm, scale=inv_sqrt_inner)


@register(
    "pytorchvideo.layers.nonlocal_net",
    "NonLocal",
    requires=("instantiation", "conv_theta", "conv_phi", "conv_g", "conv_out", "pool", "norm"),
    library="pytorchvideo",
    kinds="softmax | dot_product",
)
def adapt(block: nn.Module) -> RolesAdapter:
    return RolesAdapter(block, roles(block))
