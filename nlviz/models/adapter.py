"""Run a 2D operator on every frame of a video feature map (fold T into the batch, apply, unfold).

This is how 2D-only operators (Spatial Bias; BAT or any op built with ``dim=2``) are inserted into video
networks. Such a block mixes positions *within* a frame only: it **cannot link frames**. Comparing it with
the same operator in 3D is itself a result (see issue 3: per-frame operators on video).
"""

from __future__ import annotations

from torch import Tensor, nn


class PerFrame(nn.Module):
    """Wraps a 2D operator ``op`` (child name ``op``): (B, C, T, H, W) → op on (B·T, C, H, W) → (B, C', T, H', W').

    The wrapped operator sees batch index ``b * T + t`` for frame t of clip b: a capture hook on ``op``
    records (B·T, C, H, W) inputs, and ``unfold_batch`` maps a recorded batch axis back to (B, T).
    """

    def __init__(self, op: nn.Module) -> None:
        super().__init__()
        self.op = op

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 5:
            raise ValueError(f"PerFrame expects a (B, C, T, H, W) video feature map, got shape {tuple(x.shape)}")
        b, c, t, h, w = x.shape
        frames = x.transpose(1, 2).reshape(b * t, c, h, w)  # (B·T, C, H, W)
        y = self.op(frames)  # (B·T, C', H', W')
        return y.reshape(b, t, *y.shape[1:]).transpose(1, 2).contiguous()  # (B, C', T, H', W')

    @staticmethod
    def unfold_batch(y: Tensor, frames: int) -> Tensor:
        """(B·T, ...) → (B, T, ...): undo the fold for something the inner op computed."""
        if y.shape[0] % frames:
            raise ValueError(f"batch {y.shape[0]} is not a multiple of T={frames}")
        return y.reshape(y.shape[0] // frames, frames, *y.shape[1:])


def is_per_frame(model: nn.Module, name: str) -> bool:
    """True when the module called ``name`` in ``model`` runs inside a :class:`PerFrame` adapter."""
    parent = name.rpartition(".")[0]
    return bool(parent) and isinstance(model.get_submodule(parent), PerFrame)
