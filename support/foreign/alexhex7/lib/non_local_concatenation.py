"""AlexHex7/Non-local_pytorch ``lib/non_local_concatenation.py`` (commit 0276c7b, Apache-2.0), re-typed for the
capture tests: its classes, attribute names and forward math — f = ReLU(conv([θ_i; φ_j])) / N with
``concat_project`` = (Conv2d(2C', 1, 1, bias=False), ReLU) applied to θ and φ repeated to (b, 2C', N, Nk) (a
Conv2d in 1D and 3D too), N = the key count. What the four files repeat is in ``_nd``; the
``__main__`` demo is left out.
"""

import torch
from torch import nn

from ._nd import construct, dimension_classes, output


def _concat_project(block, conv_nd):
    block.concat_project = nn.Sequential(nn.Conv2d(block.inter_channels * 2, 1, 1, 1, 0, bias=False), nn.ReLU())


class _NonLocalBlockND(nn.Module):
    def __init__(self, in_channels, inter_channels=None, dimension=3, sub_sample=True, bn_layer=True):
        super().__init__()
        construct(self, in_channels, inter_channels, dimension, sub_sample, bn_layer, extra=_concat_project)

    def forward(self, x, return_nl_map=False):
        batch_size = x.size(0)
        theta_x = self.theta(x).view(batch_size, self.inter_channels, -1, 1)  # (b, C', N, 1)
        phi_x = self.phi(x).view(batch_size, self.inter_channels, 1, -1)  # (b, C', 1, Nk)
        h, w = theta_x.size(2), phi_x.size(3)
        theta_x = theta_x.repeat(1, 1, 1, w)  # (b, C', N, Nk)
        phi_x = phi_x.repeat(1, 1, h, 1)  # (b, C', N, Nk)

        concat_feature = torch.cat([theta_x, phi_x], dim=1)  # (b, 2C', N, Nk)
        f = self.concat_project(concat_feature)  # (b, 1, N, Nk)
        b, _, h, w = f.size()
        f = f.view(b, h, w)
        N = f.size(-1)
        f_div_C = f / N
        return output(self, x, f_div_C, return_nl_map)


NONLocalBlock1D, NONLocalBlock2D, NONLocalBlock3D = dimension_classes(_NonLocalBlockND, __name__)
