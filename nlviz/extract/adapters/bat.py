"""The official BAT image code (BA-Transform/BAT-Image-Classification ``model_zoo/non_local.py``):
``BATransform`` (the transform alone) and ``BATBlock`` (the block; its ``batransform`` is not listed separately).

As timm's (:mod:`nlviz.extract.adapters.timm_bat`), but with biases on every conv and one difference in the
forward: Q is upsampled by H // s too (``resize_mat(q, x.size(2) // self.s)``), so the block runs only on square
maps whose side s divides; the adapter says so instead of recording a map the forward cannot multiply.
Rows: kind ``bilinear`` (sigmoid-normalized P and Q), the Affinity of nlviz's ``bat`` op for the converted
weights (``convert_state_dict(sd, "bat")``, ``normalize="sigmoid"``).
"""

from __future__ import annotations

from torch import Tensor, nn

from nlviz.extract.adapters.bat_source import BATSource, Matrices, check_map
from nlviz.extract.blocks import register
from nlviz.ops.bilinear import spatial_matrices

MODULE = "model_zoo.non_local"
LIBRARY = "BA-Transform (BAT-Image-Classification)"


def matrices(transform: nn.Module) -> Matrices:
    """P and Q of an image ``BATransform`` from x_l, as its forward makes them."""

    def make(xl: Tensor) -> tuple[Tensor, Tensor, None]:
        check_map(xl, 2, "the official image BATransform")
        s, (h, w) = transform.s, xl.shape[-2:]
        if h != w or h % s:
            raise ValueError(
                f"the official image BATransform upsamples P and Q by H // s, so it runs on square maps whose "
                f"side s={s} divides; got H={h}, W={w}. Use timm's BatNonLocalAttn or nlviz's 'bat' op (same "
                "weights: nlviz.io.convert_state_dict(sd, 'bat')) for other shapes"
            )
        return (
            *spatial_matrices(transform.conv1(xl), transform.conv_p, transform.conv_q, s, transform.k, "sigmoid"),
            None,
        )

    return make


@register(MODULE, "BATransform", requires=("conv1", "conv_p", "conv_q", "s", "k"), library=LIBRARY, kinds="bilinear")
def adapt_transform(transform: nn.Module) -> BATSource:
    return BATSource(None, matrices(transform), dim=2)


@register(MODULE, "BATBlock", requires=("conv1", "batransform"), library=LIBRARY, kinds="bilinear")
def adapt_block(block: nn.Module) -> BATSource:
    return BATSource(block.conv1, matrices(block.batransform), dim=2)
