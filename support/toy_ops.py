"""Two toy operators and the per-operator options of the model tests (tests/models/conftest.py registers the
toys only during those tests).

The toys make the insertion machinery testable independently of the real operator files:
``toy`` supports dim 1/2/3, ``toy2d`` has no ``dim`` option (so video nets must wrap it per frame).
Both add a zero-initialized projection of the global mean, so they are the identity at init and,
once their weight is non-zero, mix every position of their input (like a non-local block).
"""

from __future__ import annotations

from torch import Tensor, nn

import nlviz.ops
from nlviz.ops.base import NonLocalOp, check_input

#: options that make each op valid on the tiny test inputs (BAT: block size must divide H and W)
TEST_OPTIONS = {"bat": {"block_size": 4}}
TOYS = ["toy", "toy2d"]
#: every registered operator plus the toys; real ops are tested the day they are registered
ALL_OPS = sorted(n for n in nlviz.ops.names() if n not in TOYS) + TOYS


class ToyOp(NonLocalOp):
    family = "toy"
    kind = "toy"
    identity_at_init = True

    def __init__(self, in_channels: int, *, dim: int = 2, gain: float = 0.0) -> None:
        super().__init__()
        if dim not in (1, 2, 3):
            raise ValueError(f"toy: dim={dim} not supported; allowed: [1, 2, 3]")
        self.in_channels, self.dim = in_channels, dim
        self.proj = nn.Linear(in_channels, in_channels)
        nn.init.constant_(self.proj.weight, gain)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: Tensor) -> Tensor:
        check_input(x, self.in_channels, self.dim, "toy")
        mean = x.flatten(2).mean(-1)  # (B, C)
        return x + self.proj(mean).view(*mean.shape, *[1] * self.dim)


class Toy2DOp(ToyOp):
    family = "toy2d"

    def __init__(self, in_channels: int, *, gain: float = 0.0) -> None:
        super().__init__(in_channels, dim=2, gain=gain)


def op_options(name: str, **extra) -> dict:
    return {**TEST_OPTIONS.get(name, {}), **extra}
