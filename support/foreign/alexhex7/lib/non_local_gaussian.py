"""AlexHex7/Non-local_pytorch ``lib/non_local_gaussian.py`` (commit 0276c7b, Apache-2.0), re-typed for the capture
tests: its classes, attribute names and forward math — softmax_j(x_iᵀx_j) on the raw input (C channels, no
θ/φ convs, no scale); with ``sub_sample`` ``phi`` is the bare max pool and g is pooled after its conv, without
it ``phi`` does not exist. Left out: the ``__main__`` demo and the forward's ``if self.store_last_batch_nl_map:``
(at that commit an attribute no constructor sets, so the published forward raises AttributeError; upstream
later commented it out). What the four files repeat is in ``_nd``.
"""

import torch
from torch import nn
from torch.nn import functional as F

from ._nd import construct, dimension_classes, output


class _NonLocalBlockND(nn.Module):
    def __init__(self, in_channels, inter_channels=None, dimension=3, sub_sample=True, bn_layer=True):
        super().__init__()
        construct(self, in_channels, inter_channels, dimension, sub_sample, bn_layer, embedded=False)

    def forward(self, x, return_nl_map=False):
        batch_size = x.size(0)
        theta_x = x.view(batch_size, self.in_channels, -1).permute(0, 2, 1)  # (b, N, C)
        if self.sub_sample:
            phi_x = self.phi(x).view(batch_size, self.in_channels, -1)  # (b, C, Nk)
        else:
            phi_x = x.view(batch_size, self.in_channels, -1)  # (b, C, N)
        f = torch.matmul(theta_x, phi_x)  # (b, N, Nk)
        f_div_C = F.softmax(f, dim=-1)
        return output(self, x, f_div_C, return_nl_map)


NONLocalBlock1D, NONLocalBlock2D, NONLocalBlock3D = dimension_classes(_NonLocalBlockND, __name__)
