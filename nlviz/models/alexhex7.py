"""The MNIST network released with AlexHex7/Non-local_pytorch (``lib/network.py``, ``weights/net.pth``).

A small external model trained with two embedded-gaussian non-local blocks, whose author also published
the attention maps of one test image: the end-to-end check that our import and ``affinity`` are right.

Layout (28×28 grayscale in [0, 1], no normalization):
conv(1→32, 3×3, pad 1)+BN+ReLU+maxpool 2 → NL(32) → conv(32→64)+BN+ReLU+maxpool 2 → NL(64)
→ conv(64→128)+BN+ReLU+maxpool 2 → flatten 128·3·3 = 1152 → fc 256 → ReLU → dropout 0.5 → fc 10.
Each NL: C' = C/2, φ and g max-pooled 2×2 after their convs, no 1/√C' scale, W_z = conv + BN.
Feature grids: nl_1 works on 14×14 queries × 7×7 keys, nl_2 on 7×7 × 3×3.
The released ``net.pth`` loads through ``nlviz.load_model`` (its key map: :mod:`nlviz.io.layouts.alexhex7`).
"""

from __future__ import annotations

from torch import Tensor, nn

from nlviz.ops.base import create


def _stage(c_in: int, c_out: int) -> nn.Sequential:
    """conv 3×3 (pad 1) + BN + ReLU + maxpool 2; indices 0 and 1 carry the weights (as in the release)."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU(), nn.MaxPool2d(2))


class AlexHex7MNIST(nn.Module):
    """AlexHex7's MNIST network built from ``nlviz.ops`` (submodule names follow the release).

    Args:
        mode: the non-local instantiation of both blocks; the released weights are ``embedded_gaussian``
            (the repository also ships gaussian, dot_product and concatenation blocks for this network).
        num_classes: 10 for MNIST.
    """

    def __init__(self, *, mode: str = "embedded_gaussian", num_classes: int = 10) -> None:
        super().__init__()
        nl = {"mode": mode, "dim": 2, "sub_sample": True, "pool": "after_conv", "use_scale": False}
        self.conv_1 = _stage(1, 32)
        self.nl_1 = create("nonlocal", 32, **nl)
        self.conv_2 = _stage(32, 64)
        self.nl_2 = create("nonlocal", 64, **nl)
        self.conv_3 = _stage(64, 128)
        self.fc = nn.Sequential(nn.Linear(128 * 3 * 3, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, num_classes))

    def forward_features(self, x: Tensor) -> Tensor:
        """(B, 1, 28, 28) images in [0, 1] → the last feature map (B, 128, 3, 3)."""
        if x.dim() != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(
                f"AlexHex7MNIST expects (B, 1, 28, 28) grayscale images in [0, 1], got shape {tuple(x.shape)}"
            )
        x = self.nl_1(self.conv_1(x))  # (B, 32, 14, 14)
        x = self.nl_2(self.conv_2(x))  # (B, 64, 7, 7)
        return self.conv_3(x)  # (B, 128, 3, 3)

    def forward(self, x: Tensor) -> Tensor:
        """(B, 1, 28, 28) → class logits (B, 10)."""
        return self.fc(self.forward_features(x).flatten(1))  # (B, 10)
