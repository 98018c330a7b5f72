"""SlowFast's ``Nonlocal`` (facebookresearch/SlowFast ``slowfast/models/nonlocal_helper.py``), the block of its
I3D/C2D/SlowFast NL models (converted from video-nonlocal-net's Caffe2 ones).

The block: ``conv_theta``, ``conv_phi``, ``conv_g`` (1×1×1 convs C → ``dim_inner``), with ``use_pool`` (some
``pool_size`` > 1) the max pool ``pool`` applied to x *before* the φ and g convs, then ``conv_out`` and the norm
and the residual. ``instantiation``: ``"softmax"`` is softmax_j(θ_iᵀφ_j · dim_inner^-1/2), ``"dot_product"``
θ_iᵀφ_j / N_k (N_k after pooling). The norm: revisions with ``norm_type`` name it ``norm`` (BatchNorm3d for
``"batchnorm"``, GroupNorm(1) for ``"layernorm"``, absent for ``"none"``); earlier ones build ``bn`` from
``norm_module`` and always apply it (the released checkpoints' ``bn`` keys).
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from nlviz.extract.blocks import register
from nlviz.extract.roles import NonLocalRoles, RolesAdapter

INSTANTIATIONS = ("softmax", "dot_product")


def dim_inner_scale(block: nn.Module, inner: int) -> float:
    """SlowFast's logit scale: its own ``dim_inner`` ** -0.5."""
    return block.dim_inner**-0.5


def _norm(block: nn.Module) -> str | None:
    if not hasattr(block, "norm_type"):
        return "bn"
    return None if block.norm_type == "none" else "norm"


def conv_roles(
    block: nn.Module, where: str, *, pool: str | None, norm: str | None, scale: Callable[[nn.Module, int], float]
) -> NonLocalRoles:
    """The roles of a ``conv_theta/conv_phi/conv_g/conv_out`` block pooled before φ and g, with ``instantiation``
    ``softmax`` (logits × ``scale``) or ``dot_product``: SlowFast's, and pytorchvideo's port of it."""
    kind = block.instantiation
    if kind not in INSTANTIATIONS:
        raise ValueError(
            f"{where}: instantiation={kind!r} is not one nlviz knows ({list(INSTANTIATIONS)}); "
            "declare the block by its roles with nlviz.extract.declare"
        )
    return NonLocalRoles(
        theta="conv_theta",
        phi="conv_phi",
        g="conv_g",
        pool=pool,
        pool_order="before_conv",
        pairwise=kind,
        scale=scale if kind == "softmax" else 1.0,
        out=("conv_out", norm) if norm else "conv_out",
    )


def roles(block: nn.Module) -> NonLocalRoles:
    """The roles of a SlowFast ``Nonlocal``, read from its ``instantiation``, ``use_pool`` and norm."""
    pool = "pool" if block.use_pool else None
    return conv_roles(block, "SlowFast Nonlocal", pool=pool, norm=_norm(block), scale=dim_inner_scale)


@register(
    "slowfast.models.nonlocal_helper",
    "Nonlocal",
    requires=("instantiation", "use_pool", "dim_inner", "conv_theta", "conv_phi", "conv_g", "conv_out"),
    library="SlowFast",
    kinds="softmax | dot_product",
)
def adapt(block: nn.Module) -> RolesAdapter:
    return RolesAdapter(block, roles(block))
