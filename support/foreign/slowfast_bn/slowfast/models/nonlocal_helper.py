"""SlowFast's ``Nonlocal``, the revision whose norm is ``bn`` (facebookresearch/SlowFast
``slowfast/models/nonlocal_helper.py``, commit 728d8f7, Apache-2.0), re-typed for the capture tests: same class,
attribute names and forward math. The norm is built from ``norm_module`` (BatchNorm3d, or SlowFast's sub-batch
norm) and always applied; the released SlowFast/Caffe2-converted checkpoints name it ``bn``. The forward up to
the norm is the same in both revisions: it is the later revision copy's :func:`aggregate`.
"""

import torch.nn as nn

from support.foreign.slowfast.models.nonlocal_helper import aggregate


class Nonlocal(nn.Module):
    """Non-local block (Wang et al., CVPR 2018) as SlowFast builds it: x is pooled before φ and g."""

    def __init__(
        self,
        dim,
        dim_inner,
        pool_size=None,
        instantiation="softmax",
        zero_init_final_conv=False,
        zero_init_final_norm=True,
        norm_eps=1e-5,
        norm_momentum=0.1,
        norm_module=nn.BatchNorm3d,
    ):
        super().__init__()
        self.dim = dim
        self.dim_inner = dim_inner
        self.pool_size = pool_size
        self.instantiation = instantiation
        self.use_pool = False if pool_size is None else any(size > 1 for size in pool_size)
        self.norm_eps = norm_eps
        self.norm_momentum = norm_momentum
        self._construct_nonlocal(zero_init_final_conv, zero_init_final_norm, norm_module)

    def _construct_nonlocal(self, zero_init_final_conv, zero_init_final_norm, norm_module):
        self.conv_theta = nn.Conv3d(self.dim, self.dim_inner, kernel_size=1, stride=1, padding=0)
        self.conv_phi = nn.Conv3d(self.dim, self.dim_inner, kernel_size=1, stride=1, padding=0)
        self.conv_g = nn.Conv3d(self.dim, self.dim_inner, kernel_size=1, stride=1, padding=0)
        self.conv_out = nn.Conv3d(self.dim_inner, self.dim, kernel_size=1, stride=1, padding=0)
        self.conv_out.zero_init = zero_init_final_conv
        self.bn = norm_module(num_features=self.dim, eps=self.norm_eps, momentum=self.norm_momentum)
        self.bn.transform_final_bn = zero_init_final_norm
        if self.use_pool:
            self.pool = nn.MaxPool3d(kernel_size=self.pool_size, stride=self.pool_size, padding=[0, 0, 0])

    def forward(self, x):
        return x + self.bn(aggregate(self, x))
