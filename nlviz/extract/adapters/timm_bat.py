"""timm's BAT (``timm.layers.non_local_attn``): ``BilinearAttnTransform`` (the transform alone) and
``BatNonLocalAttn`` (the block; its ``ba`` transform is not listed separately).

The transform, on x_l (B, C_l, H, W): o = ``conv1`` (ConvNormAct, C_l → k), max pools to (s, 1) and (1, s),
``conv_p``/``conv_q`` (with biases) read as k s×s matrices, sigmoid, then rows of P and columns of Q divided by
their sums; P̃ = P ⊗ I_{H/s}, Q̃ = Q ⊗ I_{W/s} (``resize_mat``: non-square maps work, the forward asserts that s
divides H and W); y = ``conv2``(P̃ · x_l · Q̃). The block: x_l = ``conv1``(x), then the transform, ``conv2``,
dropout, + x. Rows (kind ``bilinear``, rows sum to 1): output (i, j) of group g reads input (a, b) of x_l with
weight P̃_g[i, a]·Q̃_g[b, j], on the grid of x_l (= the block's grid: the 1×1 convs keep it); ``extras`` P, Q,
P_small, Q_small as nlviz's ``bat`` op gives them.
"""

from __future__ import annotations

from torch import Tensor, nn

from nlviz.extract.adapters.bat_source import BATSource, Matrices, check_map
from nlviz.extract.blocks import register
from nlviz.ops.bilinear import spatial_matrices

MODULE = "timm.layers.non_local_attn"


def matrices(ba: nn.Module) -> Matrices:
    """P and Q of a ``BilinearAttnTransform`` from x_l, as its forward makes them (sigmoid normalization)."""

    def make(xl: Tensor) -> tuple[Tensor, Tensor, None]:
        check_map(xl, 2, "timm's BilinearAttnTransform")
        s = ba.block_size
        if xl.shape[-2] % s or xl.shape[-1] % s:
            raise ValueError(
                f"timm's BilinearAttnTransform: block_size={s} must divide H={xl.shape[-2]} and W={xl.shape[-1]} "
                "(its forward asserts it)"
            )
        return (*spatial_matrices(ba.conv1(xl), ba.conv_p, ba.conv_q, s, ba.groups, "sigmoid"), None)

    return make


@register(
    MODULE,
    "BilinearAttnTransform",
    requires=("conv1", "conv_p", "conv_q", "block_size", "groups"),
    library="timm",
    kinds="bilinear",
)
def adapt_transform(ba: nn.Module) -> BATSource:
    return BATSource(None, matrices(ba), dim=2)


@register(MODULE, "BatNonLocalAttn", requires=("conv1", "ba"), library="timm", kinds="bilinear")
def adapt_block(block: nn.Module) -> BATSource:
    return BATSource(block.conv1, matrices(block.ba), dim=2)
