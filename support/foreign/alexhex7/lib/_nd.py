"""What AlexHex7's four ``lib/non_local_*.py`` files repeat word for word, written once for their copies here (not
an upstream file): the constructor of ``_NonLocalBlockND`` (``g``, ``W``, ``theta``, ``phi`` and the max pool
after the φ/g convs), the forward's common lines (g, θ, φ as matrices; y = f_div_C · g, W, + x) and the
``NONLocalBlock1D/2D/3D`` subclasses. Each copy defines its own ``_NonLocalBlockND`` whose forward computes its
file's ``f_div_C``, and gets the three subclasses *defined in its own module* (``__module__`` is the file's),
which is what nlviz's class-key matching reads.
"""

import torch
from torch import nn

DIMENSIONS = {1: "NONLocalBlock1D", 2: "NONLocalBlock2D", 3: "NONLocalBlock3D"}


def layers(dimension):
    """(conv, the sub-sampling max pool, batch norm) of a 1/2/3D block, as the files pick them."""
    if dimension == 3:
        return nn.Conv3d, nn.MaxPool3d(kernel_size=(1, 2, 2)), nn.BatchNorm3d
    if dimension == 2:
        return nn.Conv2d, nn.MaxPool2d(kernel_size=(2, 2)), nn.BatchNorm2d
    return nn.Conv1d, nn.MaxPool1d(kernel_size=2), nn.BatchNorm1d


def construct(block, in_channels, inter_channels, dimension, sub_sample, bn_layer, embedded=True, extra=None):
    """The shared ``__init__`` body: attributes, ``g``, ``W`` (conv [+ BN], zero-initialized as upstream),
    ``theta``/``phi`` convs when ``embedded`` (the gaussian file has none: with ``sub_sample`` its ``phi`` is the
    bare pool), ``extra(block, conv_nd)`` (concatenation's ``concat_project``), then the pools after φ and g."""
    assert dimension in [1, 2, 3]
    block.dimension, block.sub_sample, block.in_channels = dimension, sub_sample, in_channels
    block.inter_channels = inter_channels if inter_channels is not None else max(in_channels // 2, 1)
    conv_nd, max_pool_layer, bn = layers(dimension)
    c, ci = block.in_channels, block.inter_channels
    block.g = conv_nd(c, ci, kernel_size=1, stride=1, padding=0)
    if bn_layer:
        block.W = nn.Sequential(conv_nd(ci, c, kernel_size=1, stride=1, padding=0), bn(c))
        nn.init.constant_(block.W[1].weight, 0)
        nn.init.constant_(block.W[1].bias, 0)
    else:
        block.W = conv_nd(ci, c, kernel_size=1, stride=1, padding=0)
        nn.init.constant_(block.W.weight, 0)
        nn.init.constant_(block.W.bias, 0)
    if embedded:
        block.theta = conv_nd(c, ci, kernel_size=1, stride=1, padding=0)
        block.phi = conv_nd(c, ci, kernel_size=1, stride=1, padding=0)
    if extra is not None:
        extra(block, conv_nd)
    if sub_sample:
        block.g = nn.Sequential(block.g, max_pool_layer)
        block.phi = nn.Sequential(block.phi, max_pool_layer) if embedded else max_pool_layer


def g_matrix(block, x):
    """g(x) as (b, Nk, C')."""
    return block.g(x).view(x.size(0), block.inter_channels, -1).permute(0, 2, 1)


def theta_phi(block, x):
    """θ(x) as (b, N, C') and φ(x) as (b, C', Nk): the embedded files' operands."""
    theta_x = block.theta(x).view(x.size(0), block.inter_channels, -1).permute(0, 2, 1)
    return theta_x, block.phi(x).view(x.size(0), block.inter_channels, -1)


def output(block, x, f_div_C, return_nl_map):
    """z = W(f_div_C · g) + x, and the map too when ``return_nl_map`` (the files' flag-dependent return)."""
    y = torch.matmul(f_div_C, g_matrix(block, x)).permute(0, 2, 1).contiguous()  # (b, C', N)
    y = y.view(x.size(0), block.inter_channels, *x.size()[2:])
    z = block.W(y) + x
    if return_nl_map:
        return z, f_div_C
    return z


def dimension_classes(base, module):
    """``NONLocalBlock1D/2D/3D(in_channels, inter_channels=None, sub_sample=True, bn_layer=True)`` over ``base``,
    defined in ``module`` (the calling file's ``__name__``)."""
    out = []
    for dimension, name in DIMENSIONS.items():

        def __init__(self, in_channels, inter_channels=None, sub_sample=True, bn_layer=True, _d=dimension):
            base.__init__(self, in_channels, inter_channels, dimension=_d, sub_sample=sub_sample, bn_layer=bn_layer)

        out.append(type(name, (base,), {"__init__": __init__, "__module__": module, "__qualname__": name}))
    return tuple(out)
