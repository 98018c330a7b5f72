"""AlexHex7/Non-local_pytorch ``lib/non_local_dot_product.py`` (commit 0276c7b, Apache-2.0), re-typed for the
capture tests: its classes, attribute names and forward math — θ_iᵀφ_j / N (N = f.size(-1), the key count after
sub-sampling). What the four files repeat is in ``_nd``; the ``__main__`` demo is left out.
"""

import torch
from torch import nn

from ._nd import construct, dimension_classes, output, theta_phi


class _NonLocalBlockND(nn.Module):
    def __init__(self, in_channels, inter_channels=None, dimension=3, sub_sample=True, bn_layer=True):
        super().__init__()
        construct(self, in_channels, inter_channels, dimension, sub_sample, bn_layer)

    def forward(self, x, return_nl_map=False):
        theta_x, phi_x = theta_phi(self, x)  # (b, N, C'), (b, C', Nk)
        f = torch.matmul(theta_x, phi_x)  # (b, N, Nk)
        N = f.size(-1)
        f_div_C = f / N
        return output(self, x, f_div_C, return_nl_map)


NONLocalBlock1D, NONLocalBlock2D, NONLocalBlock3D = dimension_classes(_NonLocalBlockND, __name__)
