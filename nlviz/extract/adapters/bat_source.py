"""The row source of a foreign BAT block (timm, the official image and video code): what differs between them is
only how x_l and the matrices are made; recording, rows and extras are :mod:`nlviz.ops.bilinear`, the
definition nlviz's own ``bat`` op uses, so a foreign block's Affinity is the op's for the same weights."""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor, nn

from nlviz.ops.base import OpInputs
from nlviz.ops.bilinear import BilinearRows, bilinear_inputs

#: x_l → (P (B, k, T, s, s), Q (B, k, T, s, s), T (B, tk, ts, ts) or None)
Matrices = Callable[[Tensor], tuple[Tensor, Tensor, Tensor | None]]


class BATSource(BilinearRows):
    """Rows of one foreign BAT block or transform.

    Args:
        reduce: the block's x → x_l module (``conv1``), or None for a transform alone (its input is x_l).
        matrices: the block's normalized matrices from x_l, computed with its own submodules.
        dim: 2 (images) or 3 (video).
    """

    def __init__(self, reduce: nn.Module | None, matrices: Matrices, dim: int) -> None:
        self.reduce, self.matrices, self.dim = reduce, matrices, dim

    def affinity_inputs(self, x: Tensor) -> OpInputs:
        xl = x if self.reduce is None else self.reduce(x)  # (B, C_l, [T,] H, W)
        return bilinear_inputs(xl, *self.matrices(xl))


def check_map(xl: Tensor, dim: int, what: str) -> None:
    """A ValueError unless x_l is a (B, C, H, W) (``dim=2``) or (B, C, T, H, W) (``dim=3``) map."""
    if xl.dim() != dim + 2:
        layout = "(B, C, H, W)" if dim == 2 else "(B, C, T, H, W)"
        raise ValueError(f"{what} works on {layout} feature maps, got shape {tuple(xl.shape)}")
