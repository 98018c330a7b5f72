"""SlowFast's ``Nonlocal`` (facebookresearch/SlowFast ``slowfast/models/nonlocal_helper.py``, commit 1739b74,
Apache-2.0), re-typed for the capture tests: same class, attribute names and forward math.

This revision picks the output norm by ``norm_type``: ``"batchnorm"`` (``norm`` = BatchNorm3d),
``"layernorm"`` (``norm`` = GroupNorm(1, dim, affine=False), Caffe2's LayerNorm) or ``"none"`` (no ``norm``).
The older revision with ``norm_module`` and the norm named ``bn`` is ``support.foreign.slowfast_bn``. The
forward up to the norm (the same in both) is the module function :func:`aggregate` here, a method upstream.
"""

import torch
import torch.nn as nn


class Nonlocal(nn.Module):
    """Non-local block (Wang et al., CVPR 2018) as SlowFast builds it: x is pooled before φ and g."""

    def __init__(
        self,
        dim,
        dim_inner,
        pool_size=None,
        instantiation="softmax",
        norm_type="batchnorm",
        zero_init_final_conv=False,
        zero_init_final_norm=True,
        norm_eps=1e-5,
        norm_momentum=0.1,
    ):
        super().__init__()
        self.dim = dim
        self.dim_inner = dim_inner
        self.pool_size = pool_size
        self.instantiation = instantiation
        self.norm_type = norm_type
        self.use_pool = False if pool_size is None else any(size > 1 for size in pool_size)
        self.norm_eps = norm_eps
        self.norm_momentum = norm_momentum
        self._construct_nonlocal(zero_init_final_conv, zero_init_final_norm)

    def _construct_nonlocal(self, zero_init_final_conv, zero_init_final_norm):
        self.conv_theta = nn.Conv3d(self.dim, self.dim_inner, kernel_size=1, stride=1, padding=0)
        self.conv_phi = nn.Conv3d(self.dim, self.dim_inner, kernel_size=1, stride=1, padding=0)
        self.conv_g = nn.Conv3d(self.dim, self.dim_inner, kernel_size=1, stride=1, padding=0)
        self.conv_out = nn.Conv3d(self.dim_inner, self.dim, kernel_size=1, stride=1, padding=0)
        self.conv_out.zero_init = zero_init_final_conv
        if self.norm_type == "batchnorm":
            self.norm = nn.BatchNorm3d(self.dim, eps=self.norm_eps, momentum=self.norm_momentum)
            self.norm.zero_init = zero_init_final_norm
        elif self.norm_type == "layernorm":
            self.norm = nn.GroupNorm(1, self.dim, eps=self.norm_eps, affine=False)
        elif self.norm_type != "none":
            raise NotImplementedError(f"Norm type {self.norm_type} is not supported")
        if self.use_pool:
            self.pool = nn.MaxPool3d(kernel_size=self.pool_size, stride=self.pool_size, padding=[0, 0, 0])

    def forward(self, x):
        p = aggregate(self, x)
        if self.norm_type != "none":
            p = self.norm(p)
        return x + p


def aggregate(block, x):
    """The forward up to the norm — θ, the pool before φ and g, the pairwise weights, y, ``conv_out`` — as both
    revisions write it (the other's copy, ``support.foreign.slowfast_bn``, reuses it)."""
    N, C, T, H, W = x.size()
    theta = block.conv_theta(x)
    if block.use_pool:  # pooled before the φ and g convs
        x = block.pool(x)
    phi = block.conv_phi(x)
    g = block.conv_g(x)

    theta = theta.view(N, block.dim_inner, -1)  # (N, C', THW)
    phi = phi.view(N, block.dim_inner, -1)  # (N, C', T'H'W')
    g = g.view(N, block.dim_inner, -1)  # (N, C', T'H'W')

    theta_phi = torch.einsum("nct,ncp->ntp", (theta, phi))  # (N, THW, T'H'W')
    if block.instantiation == "softmax":
        theta_phi = theta_phi * (block.dim_inner**-0.5)
        theta_phi = nn.functional.softmax(theta_phi, dim=2)
    elif block.instantiation == "dot_product":
        spatial_temporal_dim = theta_phi.shape[2]
        theta_phi = theta_phi / spatial_temporal_dim
    else:
        raise NotImplementedError(f"Unknown norm type {block.instantiation}")

    theta_phi_g = torch.einsum("ntg,ncg->nct", (theta_phi, g))  # (N, C', THW)
    theta_phi_g = theta_phi_g.view(N, block.dim_inner, T, H, W)
    return block.conv_out(theta_phi_g)
